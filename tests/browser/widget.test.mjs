// The chat widget in a real browser against a real `coachbot serve`: the demo page, a conversation to a plan,
// reload, XSS, emergency styling, a pushed coach message, keyboard only, phone width, and the unreachable state.
// Run: node --test tests/browser/   (COACHBOT_BINARY=path/to/coachbot, default build/coachbot)
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {after, before, describe, test} from 'node:test';

import {launchBrowser, recordDialogs, recordErrors, saveScreenshot, startHostPage, startServer} from './harness.mjs';

const STORAGE_KEY = 'coachbot.session.v1';
const DESKTOP = {
  width: 1280,
  height: 800
};
// Generous, as the machine may be busy compiling. Every wait is for a condition: this only bounds a failure.
const WAIT_LIMIT_MS = 60000;
const XSS_PAYLOAD = '<img src=x onerror=alert(1)>';
const EMERGENCY_MESSAGE = 'I can\'t feel anything when I wipe and I can\'t pee';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  server?.removeDatabase();
});

/// A fresh browser context (fresh localStorage and cookies) with the suite's wait limit.
async function newContext(options) {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(WAIT_LIMIT_MS);
  return context;
}

/// A fresh browser context (fresh localStorage) on the demo page.
async function openDemo({viewport = DESKTOP, ...options} = {}) {
  const context = await newContext({viewport, ...options});
  const page = await context.newPage();
  const dialogs = recordDialogs(page);
  const errors = recordErrors(page);
  await page.goto(server.url + '/');
  return {context, page, dialogs, errors};
}

/// The chat page's frame, once the loader has created it and it has loaded.
async function chatFrame(page) {
  const handle = await page.locator('#coachbot-frame').elementHandle();
  const frame = await handle.contentFrame();
  await frame.waitForLoadState('domcontentloaded');
  return frame;
}

async function openWidget(page) {
  await page.locator('#coachbot-launcher').click();
  const frame = await chatFrame(page);
  await frame.locator('#log .message.from-bot').first().waitFor();
  return frame;
}

/// Highest message id shown so far.
function newestId(frame) {
  return frame.evaluate(
      () => Math.max(
          0,
          ...Array.from(document.querySelectorAll('#log .message[data-id]'), (element) => Number(element.dataset.id))));
}

/// Waits until a bot or coach message newer than `afterId` is shown and nothing is still on its way.
async function waitForReply(frame, afterId) {
  await frame.waitForFunction((previous) => {
    const newer = Array.from(document.querySelectorAll('#log .message[data-id]'))
                      .some((element) => Number(element.dataset.id) > previous && element.dataset.author !== 'user');
    return newer && document.getElementById('typing').hidden && !document.querySelector('#log .pending');
  }, afterId);
}

async function typeAndSend(frame, text) {
  const before = await newestId(frame);
  await frame.locator('#message-input').fill(text);
  await frame.locator('#message-input').press('Enter');
  await waitForReply(frame, before);
}

/// Prefers "No" on screening questions, otherwise the first option, until a plan arrives (bounded steps).
async function clickThroughToPlan(frame) {
  const preferences = [/^no\b/i, /back hurts/i];
  const clicked = [];
  for (let step = 0; step < 40; ++step) {
    if (await frame.locator('#log .message.kind-plan').count() > 0) return clicked;
    const buttons = frame.locator('#quick-replies .quick-reply');
    await buttons.first().waitFor();
    const labels = await buttons.allTextContents();
    const preferred =
        preferences.map((pattern) => labels.findIndex((label) => pattern.test(label))).find((index) => index >= 0);
    const choice = preferred ?? 0;
    const before = await newestId(frame);
    clicked.push(labels[choice]);
    await buttons.nth(choice).click();
    await waitForReply(frame, before);
  }
  assert.fail(`no plan after 40 quick replies; clicked: ${clicked.join(' | ')}`);
}

function transcriptTexts(frame) {
  return frame.locator('#log .message[data-id]')
      .evaluateAll(
          (elements) => elements.map(
              (element) => `${element.dataset.author}/${element.dataset.kind}: ` +
                  element.querySelector('.message-text').textContent));
}

describe('chat widget on the demo page', () => {
  test('talks through to a plan with quick replies, and the history survives a reload', async () => {
    const {context, page, dialogs, errors} = await openDemo();
    try {
      assert.match(await page.locator('h1').textContent(), /running/i);
      assert.match(await page.locator('#embed pre').textContent(), /<script src=".*widget\.js"/);
      const launcher = page.locator('#coachbot-launcher');
      assert.equal(await launcher.getAttribute('aria-expanded'), 'false');
      assert.ok((await launcher.getAttribute('aria-label')).length > 0);

      const frame = await openWidget(page);
      assert.equal(await launcher.getAttribute('aria-expanded'), 'true');
      const log = frame.locator('#log');
      assert.equal(await log.getAttribute('role'), 'log');
      assert.equal(await log.getAttribute('aria-live'), 'polite');
      assert.equal(await log.getAttribute('aria-relevant'), 'additions');
      assert.match(await frame.locator('.disclaimer').textContent(), /not medical advice/i);

      const clicked = await clickThroughToPlan(frame);
      assert.ok(clicked.length >= 3, `expected a real conversation, clicked only ${clicked}`);
      const plan = frame.locator('#log .message.kind-plan').first();
      assert.ok((await plan.textContent()).length > 20);
      // The runner's answers show the labels they clicked, not the values sent.
      const userTexts = await frame.locator('#log .message.from-user .message-text').allTextContents();
      assert.deepEqual(userTexts, clicked);
      await plan.evaluate((element) => element.scrollIntoView({block: 'start'}));
      await saveScreenshot(page, 'widget-desktop', {publish: true});

      const beforeReload = await transcriptTexts(frame);
      await page.reload();
      const reloaded = await openWidget(page);
      await reloaded.waitForFunction(
          (count) => document.querySelectorAll('#log .message[data-id]').length >= count, beforeReload.length);
      assert.deepEqual(await transcriptTexts(reloaded), beforeReload);
      assert.deepEqual(dialogs, []);
      assert.deepEqual(errors.filter((error) => /Content.Security.Policy|pageerror/i.test(error)), []);
    } finally {
      await context.close();
    }
  });

  test('markup in a message is shown as text and never runs', async () => {
    const {context, page, dialogs} = await openDemo();
    try {
      const frame = await openWidget(page);
      await typeAndSend(frame, XSS_PAYLOAD);
      const mine = frame.locator('#log .message.from-user .message-text').last();
      assert.equal(await mine.textContent(), XSS_PAYLOAD);
      assert.equal(await frame.locator('#log img').count(), 0);
      assert.equal(await page.locator('img[src="x"]').count(), 0);
      // After a reload the stored text comes back from the server and is still only text.
      await page.reload();
      const reloaded = await openWidget(page);
      await reloaded.locator('#log .message.from-user').first().waitFor();
      assert.equal(await reloaded.locator('#log .message.from-user .message-text').first().textContent(), XSS_PAYLOAD);
      assert.equal(await reloaded.locator('#log img').count(), 0);
      assert.deepEqual(dialogs, []);
    } finally {
      await context.close();
    }
  });

  test('an emergency reply is styled as an emergency and announced as an alert', async () => {
    const {context, page} = await openDemo();
    try {
      const frame = await openWidget(page);
      await typeAndSend(frame, EMERGENCY_MESSAGE);
      const emergency = frame.locator('#log .message.kind-emergency').first();
      await emergency.waitFor();
      assert.equal(await emergency.getAttribute('role'), 'alert');
      assert.match(await emergency.locator('.escalation-label').textContent(), /emergency/i);
      assert.match(await emergency.textContent(), /999|911|112|emergency/i);
      const styles = await emergency.evaluate((element) => {
        const style = getComputedStyle(element);
        return {border: style.borderTopColor, width: style.borderTopWidth, background: style.backgroundColor};
      });
      const ordinary = await frame.locator('#log .message.from-bot.kind-normal')
                           .first()
                           .evaluate((element) => getComputedStyle(element).backgroundColor);
      assert.equal(styles.border, 'rgb(176, 0, 32)');
      assert.notEqual(styles.width, '0px');
      assert.notEqual(styles.background, ordinary);
      await saveScreenshot(page, 'widget-emergency', {publish: true});
    } finally {
      await context.close();
    }
  });

  test('a coach message pushed by the server appears without a reload, with an unread badge when closed', async () => {
    const {context, page} = await openDemo();
    try {
      const frame = await openWidget(page);
      const session = await frame.evaluate((key) => JSON.parse(localStorage.getItem(key)), STORAGE_KEY);
      assert.ok(session && session.id && session.token);

      // Coach text is untrusted too: markup stays text, only http(s) and mailto become links.
      await pushCoachMessage(
          session,
          'Hi, this is Sam, your coach. Read https://example.com/stretches, ' +
              'not javascript:alert(1) <b>bold</b>');
      const first = frame.locator('#log .message.from-coach', {hasText: 'this is Sam'});
      await first.waitFor();
      assert.equal(await first.count(), 1);
      assert.match(await first.textContent(), /not javascript:alert\(1\) <b>bold<\/b>$/);
      const links = await first.locator('a').evaluateAll(
          (anchors) => anchors.map((anchor) => ({href: anchor.href, target: anchor.target, rel: anchor.rel})));
      assert.deepEqual(
          links, [{href: 'https://example.com/stretches', target: '_blank', rel: 'noopener noreferrer nofollow'}]);
      assert.equal(await first.locator('b').count(), 0);

      await frame.locator('#message-input').press('Escape');
      const launcher = page.locator('#coachbot-launcher');
      await page.waitForFunction(
          () => document.getElementById('coachbot-launcher').getAttribute('aria-expanded') === 'false');
      await pushCoachMessage(session, 'Sam again: try the walk-run plan tomorrow.');
      const badge = page.locator('#coachbot-launcher [data-coachbot-badge]');
      await badge.waitFor({state: 'visible'});
      assert.equal(await badge.textContent(), '1');
      assert.match(await launcher.getAttribute('aria-label'), /1 unread/);

      await launcher.click();
      await frame.locator('#log .message.from-coach', {hasText: 'Sam again'}).waitFor();
      await badge.waitFor({state: 'hidden'});
      // Each pushed message is shown exactly once, however many ways it arrived.
      assert.equal(await frame.locator('#log .message.from-coach').count(), 2);
      const ids = await frame.locator('#log .message[data-id]')
                      .evaluateAll((elements) => elements.map((element) => element.dataset.id));
      assert.equal(new Set(ids).size, ids.length);
    } finally {
      await context.close();
    }
  });

  test('"forget me" downloads the runner\'s data, then erases it on the server and in the browser', async () => {
    const {context, page} = await openDemo();
    try {
      const frame = await openWidget(page);
      await typeAndSend(frame, 'Is a lumbar belt a good idea?');
      const session = await frame.evaluate((key) => JSON.parse(localStorage.getItem(key)), STORAGE_KEY);

      await frame.locator('#data-button').click();
      const download = page.waitForEvent('download');
      await frame.locator('#export-button').click();
      const file = await (await download).path();
      const exported = readFileSync(file, 'utf8');
      assert.match(exported, /lumbar belt/);
      JSON.parse(exported);

      await frame.locator('#forget-button').click();
      await frame.locator('#forget-confirm-button').click();
      await frame.locator('#log .message.from-system', {hasText: 'erased'}).waitFor();
      assert.equal(await frame.locator('#log .message[data-id]').count(), 0);
      assert.equal(await frame.evaluate((key) => localStorage.getItem(key), STORAGE_KEY), null);
      const gone = await fetch(
          `${server.url}/api/v1/sessions/${session.id}/messages?after=0`,
          {headers: {Authorization: `Bearer ${session.token}`}});
      assert.ok(gone.status === 401 || gone.status === 404, `erased session answered ${gone.status}`);

      await frame.locator('.restart-button').click();
      await frame.locator('#log .message.from-bot').first().waitFor();
      const fresh = await frame.evaluate((key) => JSON.parse(localStorage.getItem(key)), STORAGE_KEY);
      assert.notEqual(fresh.id, session.id);
    } finally {
      await context.close();
    }
  });

  test('falls back to long-polling when the server refuses the event stream', async () => {
    const {context, page} = await openDemo();
    try {
      // The server answers 503 when all stream slots are busy; here the browser gets that answer for every stream.
      let refused = 0;
      await context.route('**/api/v1/sessions/*/events*', (route) => {
        refused += 1;
        return route.fulfill({
          status: 503,
          contentType: 'application/json',
          headers: {'Retry-After': '30'},
          body: '{"error":{"code":"too_many_streams","message":"busy"}}'
        });
      });
      const waiting = page.waitForRequest((request) => /\/messages\?after=\d+&wait=/.test(request.url()));
      const frame = await openWidget(page);
      const session = await frame.evaluate((key) => JSON.parse(localStorage.getItem(key)), STORAGE_KEY);
      await waiting;
      await pushCoachMessage(session, 'Sam here, replying while streams are busy.');
      await frame.locator('#log .message.from-coach', {hasText: 'streams are busy'}).waitFor();
      assert.ok(refused >= 1);
      assert.equal(await frame.locator('#connection-alert').isVisible(), false);
    } finally {
      await context.close();
    }
  });

  test('shows a typing indicator while a reply is on its way', async () => {
    const {context, page} = await openDemo();
    try {
      const frame = await openWidget(page);
      // Hold the runner's message at the network layer until the indicator has been seen: no clocks involved.
      let release;
      const held = new Promise((resolve) => (release = resolve));
      let arrived;
      const intercepted = new Promise((resolve) => (arrived = resolve));
      await context.route('**/api/v1/sessions/*/messages', async (route) => {
        if (route.request().method() !== 'POST') return route.continue();
        arrived();
        await held;
        return route.continue();
      });
      const before = await newestId(frame);
      await frame.locator('#message-input').fill('I want a plan');
      await frame.locator('#message-input').press('Enter');
      await intercepted;
      await frame.locator('#typing').waitFor({state: 'visible'});
      assert.equal(await frame.locator('#quick-replies').isVisible(), false);
      assert.equal(await frame.locator('#log .message.from-user.pending').count(), 1);
      release();
      await waitForReply(frame, before);
      assert.equal(await frame.locator('#typing').isVisible(), false);
    } finally {
      await context.close();
    }
  });

  test('works with the keyboard alone', async () => {
    const {context, page} = await openDemo();
    try {
      const onLauncher = () => page.evaluate(() => document.activeElement?.id === 'coachbot-launcher');
      let presses = 0;
      while (!(await onLauncher()) && presses < 60) {
        await page.keyboard.press('Tab');
        presses += 1;
      }
      assert.ok(await onLauncher(), 'Tab never reached the launcher');
      await page.keyboard.press('Enter');
      const frame = await chatFrame(page);
      await frame.waitForFunction(() => document.activeElement?.id === 'message-input');
      await frame.locator('#log .message.from-bot').first().waitFor();

      const before = await newestId(frame);
      await page.keyboard.type('My back hurts');
      await page.keyboard.press('Shift+Enter');
      await page.keyboard.type('after long runs');
      assert.equal(await frame.locator('#message-input').inputValue(), 'My back hurts\nafter long runs');
      await page.keyboard.press('Enter');
      await waitForReply(frame, before);
      assert.equal(
          await frame.locator('#log .message.from-user .message-text').last().textContent(),
          'My back hurts\nafter long runs');
      assert.equal(await frame.locator('#message-input').inputValue(), '');

      await page.keyboard.press('Escape');
      await page.waitForFunction(() => document.activeElement?.id === 'coachbot-launcher');
      assert.equal(await page.locator('#coachbot-launcher').getAttribute('aria-expanded'), 'false');
      assert.equal(await page.locator('#coachbot-frame').isVisible(), false);
    } finally {
      await context.close();
    }
  });

  test('fills the screen at phone width with a 16px input', async () => {
    const phone = {width: 390, height: 844};
    const {context, page} = await openDemo({viewport: phone, isMobile: true, hasTouch: true, deviceScaleFactor: 2});
    try {
      const frame = await openWidget(page);
      const box = await page.locator('#coachbot-frame').boundingBox();
      assert.deepEqual(box, {x: 0, y: 0, width: phone.width, height: phone.height});
      const fontSize =
          await frame.locator('#message-input').evaluate((element) => parseFloat(getComputedStyle(element).fontSize));
      assert.ok(fontSize >= 16, `input font ${fontSize}px`);
      const buttons = frame.locator('#quick-replies .quick-reply');
      await buttons.first().waitFor();
      const before = await newestId(frame);
      await buttons.first().click();
      await waitForReply(frame, before);
      await saveScreenshot(page, 'widget-phone', {publish: true});

      await frame.locator('#close-button').click();
      await page.locator('#coachbot-launcher').waitFor({state: 'visible'});
      assert.equal(await page.locator('#coachbot-frame').isVisible(), false);
    } finally {
      await context.close();
    }
  });
});

describe('chat widget when the server goes away', () => {
  test('shows the unreachable state with a retry that recovers', async () => {
    let own = await startServer();
    let context = null;
    try {
      context = await newContext({viewport: DESKTOP});
      const page = await context.newPage();
      await page.goto(own.url + '/');
      const frame = await openWidget(page);
      const port = own.port;
      await own.stop('SIGKILL');

      await frame.locator('#message-input').fill('Are you still there?');
      await frame.locator('#message-input').press('Enter');
      const alert = frame.locator('#connection-alert');
      await alert.waitFor({state: 'visible'});
      assert.equal(await alert.getAttribute('role'), 'alert');
      assert.match(await alert.textContent(), /can.t reach/i);
      assert.ok(await frame.locator('#retry-button').isVisible());
      await saveScreenshot(page, 'widget-unreachable');

      own =
          await startServer({port, databaseDir: own.databaseDir, adminToken: own.adminToken, extraArgs: own.extraArgs});
      const before = await newestId(frame);
      await frame.locator('#retry-button').click();
      await waitForReply(frame, before);
      await alert.waitFor({state: 'hidden'});
      assert.equal(await frame.locator('#log .message.failed').count(), 0);
    } finally {
      await context?.close();
      await own.stop();
      own.removeDatabase();
    }
  });
});

describe('chat widget when the event stream drops', () => {
  test('reconnects by itself with Last-Event-ID and shows each message once', async () => {
    let own = await startServer();
    let context = null;
    try {
      context = await newContext({viewport: DESKTOP});
      const page = await context.newPage();
      await page.goto(own.url + '/');
      const frame = await openWidget(page);
      await typeAndSend(frame, 'I have a question');
      const session = await frame.evaluate((key) => JSON.parse(localStorage.getItem(key)), STORAGE_KEY);
      const shownBefore = await newestId(frame);
      const port = own.port;
      await own.stop('SIGKILL');
      await frame.locator('#connection-alert').waitFor({state: 'visible'});

      // The first stream answered after the restart must resume where the transcript stood: from Last-Event-ID
      // when the browser reconnected by itself, or from `after=` when the widget reopened the stream.
      const resumed = page.waitForResponse((response) => /\/events\?/.test(response.url()) && response.ok());
      own = await startServer({port, databaseDir: own.databaseDir, adminToken: own.adminToken});
      const request = (await resumed).request();
      const lastEventId = (await request.allHeaders())['last-event-id'];
      const resumeFrom = lastEventId ?? new URL(request.url()).searchParams.get('after');
      assert.equal(Number(resumeFrom), shownBefore);
      await frame.locator('#connection-alert').waitFor({state: 'hidden'});

      await pushCoachMessage(session, 'Back online: Sam here.', own);
      await frame.locator('#log .message.from-coach', {hasText: 'Back online'}).waitFor();
      const ids = await frame.locator('#log .message[data-id]')
                      .evaluateAll((elements) => elements.map((element) => element.dataset.id));
      assert.equal(new Set(ids).size, ids.length);
      assert.equal(await frame.locator('#log .message.from-coach').count(), 1);
    } finally {
      await context?.close();
      await own.stop();
      own.removeDatabase();
    }
  });
});

describe('chat widget embedded on another website', () => {
  test('works on an allowed origin, cannot be read by it, and is refused on other origins', async () => {
    let own = null;
    let context = null;
    const allowed = await startHostPage(() => own.url);
    const stranger = await startHostPage(() => own.url);
    try {
      own = await startServer({extraArgs: ['--allowed-origins', allowed.origin]});
      context = await newContext({viewport: DESKTOP});
      const page = await context.newPage();
      await page.goto(allowed.url);
      const frame = await openWidget(page);
      assert.equal(await frame.locator('#chat-title').textContent(), 'Partner club chat');
      // The host page's scripts cannot look inside the conversation.
      assert.equal(await page.evaluate(() => document.getElementById('coachbot-frame').contentDocument), null);
      await typeAndSend(frame, 'I have a question');
      await frame.locator('#message-input').press('Escape');
      await page.waitForFunction(() => document.activeElement?.id === 'coachbot-launcher');
      assert.equal(await page.locator('#coachbot-launcher').getAttribute('aria-expanded'), 'false');

      const refused = await context.newPage();
      const violation =
          refused.waitForEvent('console', {predicate: (message) => /frame-ancestors/.test(message.text())});
      await refused.goto(stranger.url);
      await refused.locator('#coachbot-launcher').click();
      await violation;
      const blocked = await (await refused.locator('#coachbot-frame').elementHandle()).contentFrame();
      assert.equal(await blocked.locator('#log').count(), 0);
    } finally {
      await context?.close();
      await own?.stop();
      own?.removeDatabase();
      await allowed.stop();
      await stranger.stop();
    }
  });
});

/// Pushes a coach message the way the coach console does: the admin route with the admin token.
async function pushCoachMessage(session, text, target = server) {
  const response =
      await fetch(`${target.url}/api/v1/admin/conversations/${encodeURIComponent(session.id)}/coach-messages`, {
        method: 'POST',
        headers: {'Content-Type': 'application/json', Authorization: `Bearer ${target.adminToken}`},
        body: JSON.stringify({text, coach_name: 'Sam'}),
      });
  assert.ok(response.ok, `admin push failed: ${response.status} ${await response.text()}`);
}
