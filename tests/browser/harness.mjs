// Shared set-up for the browser tests: a real `coachbot serve` child process on an ephemeral port and Debian's
// chromium driven by playwright-core. Nothing here waits on a clock: every wait is for an event or a condition.
import {spawn} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {once} from 'node:events';
import {copyFileSync, mkdirSync, mkdtempSync, rmSync} from 'node:fs';
import {createServer} from 'node:http';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {createInterface} from 'node:readline';
import {fileURLToPath} from 'node:url';
import {chromium} from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const projectRoot = path.resolve(here, '..', '..');
export const artifactsDir = path.join(here, 'artifacts');
export const screenshotsDir = path.join(projectRoot, 'docs', 'screenshots');

// Every server this process started; none may outlive the test run, even when a test fails half-way.
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

const binary = path.resolve(projectRoot, process.env.COACHBOT_BINARY || 'build/coachbot');

/// Starts `coachbot serve` and resolves once it printed its listening line.
/// `port` 0 lets the kernel choose; a test that restarts a server passes the previous port and database.
export async function startServer({port = 0, databaseDir = null, adminToken = null, extraArgs = []} = {}) {
  const dir = databaseDir || mkdtempSync(path.join(tmpdir(), 'coachbot-browser-'));
  const token = adminToken || randomBytes(24).toString('hex');
  const args = [
    'serve', '--host', '127.0.0.1', '--port', String(port), '--db', path.join(dir, 'db'), '--rate-limit', '0',
    '--admin-token', token, ...extraArgs
  ];
  const child = spawn(binary, args, {cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe']});
  children.add(child);
  child.on('exit', () => children.delete(child));
  const stderr = [];
  child.stderr.on('data', (chunk) => {
    stderr.push(chunk);
  });
  const lines = createInterface({input: child.stdout});
  const exited = once(child, 'exit').then(([code, signal]) => {
    throw new Error(
        `coachbot serve exited (code ${code}, signal ${signal}) before listening:\n` +
        Buffer.concat(stderr).toString().slice(-4000));
  });
  const listening = (async () => {
    for await (const line of lines) {
      const match = /coachbot listening on (http:\/\/[^\s:]+:(\d+))/.exec(line);
      if (match) return {url: match[1].replace('0.0.0.0', '127.0.0.1'), port: Number(match[2])};
    }
    throw new Error('coachbot serve closed stdout before printing its listening line');
  })();
  const {url, port: boundPort} = await Promise.race([listening, exited]);
  exited.catch(() => {});
  child.stdout.resume();
  return {
    url,
    port: boundPort,
    extraArgs,
    databaseDir: dir,
    adminToken: token,
    process: child,
    /// Ends the server; `kill` (SIGKILL) simulates a crash, the default is a graceful SIGTERM.
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = once(child, 'exit');
      child.kill(signal);
      await gone;
    },
    removeDatabase() { rmSync(dir, {recursive: true, force: true}); },
  };
}

/// Debian's chromium, headless, with a fresh temporary profile (playwright's launch never reuses one).
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: [
      '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'
    ],
  });
}

/// Saves a screenshot under tests/browser/artifacts/. With `publish` and COACHBOT_PUBLISH_SCREENSHOTS=1 it is also
/// copied to docs/screenshots/ (opt-in, so that `make test` does not rewrite tracked files on every run).
export async function saveScreenshot(page, name, {publish = false} = {}) {
  mkdirSync(artifactsDir, {recursive: true});
  const file = path.join(artifactsDir, `${name}.png`);
  await page.screenshot({path: file});
  if (publish && process.env.COACHBOT_PUBLISH_SCREENSHOTS === '1') {
    mkdirSync(screenshotsDir, {recursive: true});
    copyFileSync(file, path.join(screenshotsDir, `${name}.png`));
  }
  return file;
}

/// Records every JavaScript dialog (alert, confirm, prompt) any frame of the page opens, and dismisses it.
export function recordDialogs(page) {
  const dialogs = [];
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  return dialogs;
}

/// Collects uncaught page errors and console errors of the page and its frames (CSP violations among them).
export function recordErrors(page) {
  const errors = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  return errors;
}

/// Another website (its own origin) that embeds the widget from `widgetOrigin()` with the documented snippet.
export async function startHostPage(widgetOrigin) {
  const server = createServer((request, response) => {
    const snippet = `<script src="${widgetOrigin()}/widget.js" data-title="Partner club chat" ` +
        `data-accent="#7c3aed" defer></script>`;
    response.writeHead(200, {'Content-Type': 'text/html; charset=utf-8'});
    response.end(
        `<!doctype html><html lang="en"><head><title>Partner club</title>${snippet}</head>` +
        `<body><h1>Partner running club</h1><a href="#top">Top</a></body></html>`);
  });
  server.listen(0, '127.0.0.1');
  server.unref();  // a failed test must not keep the run alive
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    url: origin + '/',
    async stop() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
