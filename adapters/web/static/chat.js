// The chat page in the widget's iframe (/chat, our own origin, strict CSP). Plain JavaScript, no build step.
// Message text reaches the DOM only as text nodes; links only for http, https and mailto.
'use strict';
(() => {
  const API = '/api/v1';
  const KEY = 'coachbot.session.v1';
  const ALERTS = {
    emergency: ['!', 'Emergency: act now'],
    urgent: ['!', 'Urgent: see a doctor today'],
    see_professional: ['i', 'See a professional'],
  };
  const STATUS = {
    bot: 'Automated assistant \u00b7 a coach can join',
    waiting_for_coach: 'Waiting for a coach: they will reply right here',
    coach: 'A coach is in this chat',
  };
  const NAMES = {user: 'You', bot: 'Coachbot', coach: 'Coach', system: 'Notice'};
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const embedded = window.parent !== window;
  const host = embedded ? hostOrigin() : null;

  let session = null;        // {id, token}
  let starting = null;       // promise of a start in progress
  const shown = new Map();   // message id -> element: each message is shown once
  let lastId = 0;            // highest id shown: `after=` for catch-up and the stream
  const outbox = [];         // runner messages not yet matched to a stored id
  let sending = 0;
  let events = null;
  let polling = false;
  let streamPause = 30000;   // long-poll this long before trying a refused stream again
  let open = !embedded;
  let unread = 0;
  let retry = null;          // what "Try again" does

  class ApiError extends Error {
    constructor(status, code, retryAfter) {
      super(code || 'HTTP ' + status);
      Object.assign(this, {status, code, retryAfter});
    }
  }
  class Unreachable extends Error {}

  function hostOrigin() {
    // ancestorOrigins cannot be forged by the embedding page; `host` is the fallback for browsers without it.
    // Either way the server's frame-ancestors decides who may embed us at all.
    const ancestors = location.ancestorOrigins;
    if (ancestors && ancestors.length && ancestors[0] !== 'null') return ancestors[0];
    try {
      return new URL(params.get('host')).origin;
    } catch (e) {
      return null;
    }
  }

  function tellHost(type, extra) {
    if (host && host !== 'null') parent.postMessage(Object.assign({source: 'coachbot', type}, extra), host);
  }

  function randomId() {
    if (crypto.randomUUID) return crypto.randomUUID();  // secure contexts only
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function stored() {
    try {
      const value = JSON.parse(localStorage.getItem(KEY));
      if (value && typeof value.id === 'string' && typeof value.token === 'string') return value;
    } catch (e) {
      // Storage blocked or corrupt: a first visit.
    }
    return null;
  }

  function store(value) {
    try {
      if (value) localStorage.setItem(KEY, JSON.stringify(value));
      else localStorage.removeItem(KEY);
    } catch (e) {
      // Without storage the chat works but does not survive a reload.
    }
  }

  async function api(method, path, body) {
    const headers = {Accept: 'application/json'};
    if (session) headers.Authorization = 'Bearer ' + session.token;
    if (body) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(API + path, {method, headers, body: body && JSON.stringify(body), cache: 'no-store'});
    } catch (e) {
      throw new Unreachable(e.message);
    }
    if (response.status >= 502 && response.status <= 504) throw new Unreachable(response.status);
    const payload = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      throw new ApiError(response.status, payload && payload.error && payload.error.code,
                         Number(response.headers.get('Retry-After')) || 0);
    }
    return payload;
  }

  const path = (suffix) => '/sessions/' + encodeURIComponent(session.id) + suffix;
  const gone = (error) => error instanceof ApiError && (error.status === 401 || error.status === 404);

  function start() {
    if (!starting) starting = begin().finally(() => (starting = null));
    return starting;
  }

  async function begin() {
    hideAlert();
    try {
      session = session || stored();
      if (session) {
        try {
          await catchUp();
        } catch (error) {
          if (!gone(error)) throw error;
          forgetLocally();
          notice('Your earlier conversation is no longer available, so here is a fresh one.');
        }
      }
      if (!session) {
        const created = await api('POST', '/sessions', {});
        session = {id: String(created.session_id), token: String(created.token)};
        store(session);
        await catchUp();
      }
      connect();
      return true;
    } catch (error) {
      fail(error, start);
      return false;
    }
  }

  /// Every stored message after the newest shown: the transcript on reload, and gaps after a dropped stream.
  async function catchUp() {
    for (let page = 0; page < 100; ++page) {
      const result = await api('GET', path('/messages?after=' + lastId));
      const before = lastId;
      result.messages.forEach((message) => add(message, false));
      setStatus(result.status);
      if (!result.has_more || lastId === before) break;
    }
    quickReplies();
  }

  function connect() {
    if (!session) return;
    if (events) events.close();
    if (!window.EventSource) return poll();
    // `after` starts past what is shown; on reconnects EventSource sends Last-Event-ID itself.
    const source = new EventSource(
        API + path('/events?token=' + encodeURIComponent(session.token) + '&after=' + lastId));
    events = source;
    source.addEventListener('message', (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      add(message, true);
      if (message.status) setStatus(message.status);
      quickReplies();
    });
    source.addEventListener('open', () => {
      streamPause = 30000;
      if (retry === recover && !outbox.some((entry) => entry.failed)) hideAlert();
    });
    source.addEventListener('error', () => {
      if (source !== events) return;
      // A catch-up tells "the server refused the stream" (closed: long-poll instead) from "the server is
      // gone" (the retry state), and fills any gap meanwhile.
      const closed = source.readyState === EventSource.CLOSED;
      if (closed) events = null;
      catchUp().then(() => closed && poll(), (error) => (gone(error) ? restartFresh() : fail(error, recover)));
    });
  }

  async function poll() {
    if (polling) return;
    polling = true;
    const until = Date.now() + streamPause;
    streamPause = Math.min(streamPause * 2, 300000);
    try {
      while (session && !events && Date.now() < until) {
        const result = await api('GET', path('/messages?after=' + lastId + '&wait=25'));
        result.messages.forEach((message) => add(message, true));
        setStatus(result.status);
        quickReplies();
      }
    } catch (error) {
      polling = false;
      return gone(error) ? restartFresh() : fail(error, recover);
    }
    polling = false;
    if (session && !events) connect();
  }

  /// "Try again": catch up, resend what failed, reopen the stream.
  async function recover() {
    hideAlert();
    if (!session) return start();
    try {
      await catchUp();
    } catch (error) {
      return gone(error) ? restartFresh() : fail(error, recover);
    }
    if (!polling && (!events || events.readyState === EventSource.CLOSED)) connect();
    outbox.filter((entry) => entry.failed).forEach(deliver);
  }

  /// The stored session is gone (401/404): start over, keeping any unsent text in the input.
  function restartFresh() {
    const unsent = outbox.filter((entry) => !entry.delivered).map((entry) => entry.text);
    forgetLocally();
    clearLog();
    notice('Your earlier conversation is no longer available, so here is a fresh one.');
    if (unsent.length && !$('message-input').value) $('message-input').value = unsent.join('\n');
    start();
  }

  function forgetLocally() {
    if (events) events.close();
    events = null;
    session = null;
    store(null);
  }

  function clearLog() {
    shown.clear();
    outbox.length = 0;
    lastId = 0;
    $('log').textContent = '';
    quickReplies();
    setStatus('bot');
  }

  function send(text, label) {
    if (!text.trim()) return;
    const element = render({author: 'user', text: label || text, kind: 'normal'});
    const entry = {id: randomId(), text, element, stored: null, delivered: false, failed: false};
    outbox.push(entry);
    place(element, Infinity);
    quickReplies();
    deliver(entry);
  }

  async function deliver(entry) {
    entry.failed = false;
    entry.element.classList.remove('failed');
    entry.element.classList.add('pending');
    sending += 1;
    typing();
    try {
      if (!session && !(await start())) throw new Unreachable();
      const result = await api('POST', path('/messages'), {text: entry.text, client_message_id: entry.id});
      entry.delivered = true;
      entry.element.classList.remove('pending');
      if (entry.stored === null) {
        // Stored just before its replies: sit there until the stream tells its id.
        const first = Math.min(...result.replies.map((reply) => Number(reply.id)));
        place(entry.element, Number.isFinite(first) ? first - 0.5 : lastId + 0.5);
      }
      result.replies.forEach((reply) => add(Object.assign({author: 'bot'}, reply), true));
      setStatus(result.status);
      if (retry === recover && !outbox.some((other) => other.failed)) hideAlert();
    } catch (error) {
      if (gone(error)) return restartFresh();
      entry.failed = true;
      entry.element.classList.remove('pending');
      entry.element.classList.add('failed');
      fail(error, recover);
    } finally {
      sending -= 1;
      typing();
      quickReplies();
    }
  }

  /// Shows a stored message unless it is shown already (POST replies, transcript and stream overlap).
  function add(message, live) {
    const id = Number(message.id);
    if (!Number.isFinite(id) || shown.has(id)) return;
    lastId = Math.max(lastId, id);
    const author = NAMES[message.author] ? message.author : 'bot';
    const text = String(message.text || '');
    const mine = author === 'user' && outbox.find((entry) => entry.stored === null && entry.text === text);
    let element;
    if (mine) {
      mine.stored = id;
      outbox.splice(outbox.indexOf(mine), 1);
      element = mine.element;
      element.classList.remove('pending', 'failed');
    } else {
      const record = {id, author, text, kind: String(message.kind || 'normal'),
                      replies: Array.isArray(message.quick_replies) ? message.quick_replies : []};
      if (author === 'user') record.text = labelFor(id, text);
      element = render(record);
      element.record = record;
    }
    element.dataset.id = id;
    shown.set(id, element);
    place(element, id);
    if (live && author !== 'user' && !open) tellHost('unread', {count: ++unread});
  }

  /// A quick reply is stored as its value; a replay shows the label the runner clicked.
  function labelFor(id, text) {
    let previous = null;
    shown.forEach((element, other) => {
      const record = element.record;
      if (other < id && record && record.author !== 'user' && (!previous || other > previous.id)) previous = record;
    });
    const match = previous && previous.replies.find((reply) => reply && reply.value === text);
    return match ? String(match.label) : text;
  }

  function render(record) {
    const element = document.createElement('div');
    const kind = /^[a-z_]{1,32}$/.test(record.kind) ? record.kind : 'normal';
    element.className = 'message from-' + record.author + ' kind-' + kind;
    element.dataset.author = record.author;
    element.dataset.kind = kind;
    const alert = record.author !== 'user' && ALERTS[kind];
    const label = document.createElement(alert ? 'div' : 'span');
    if (alert) {
      if (kind === 'emergency') element.setAttribute('role', 'alert');
      const icon = document.createElement('span');
      icon.className = 'escalation-icon';
      icon.setAttribute('aria-hidden', 'true');
      icon.textContent = alert[0];
      label.className = 'escalation-label';
      label.append(icon, alert[1]);
    } else if (record.author === 'coach' || record.author === 'system') {
      label.className = 'message-author';
      label.textContent = NAMES[record.author];
    } else {
      label.className = 'visually-hidden';
      label.textContent = NAMES[record.author] + ': ';
    }
    const body = document.createElement('span');
    body.className = 'message-text';
    linkify(body, record.text);
    element.append(label, body);
    return element;
  }

  /// Text as text nodes (append(string) never parses HTML); only http, https and mailto become links.
  function linkify(parent, text) {
    let at = 0;
    for (const match of text.matchAll(/\b(?:https?:\/\/|mailto:)[^\s<>"'`]+/gi)) {
      const candidate = match[0].replace(/[).,;:!?\]}]+$/, '');
      let url;
      try {
        url = new URL(candidate);
      } catch (e) {
        continue;
      }
      if (!['http:', 'https:', 'mailto:'].includes(url.protocol)) continue;
      const link = document.createElement('a');
      Object.assign(link, {href: url.href, target: '_blank', rel: 'noopener noreferrer nofollow'});
      link.textContent = candidate;
      parent.append(text.slice(at, match.index), link);
      at = match.index + candidate.length;
    }
    parent.append(text.slice(at));
  }

  /// Keeps the log in id order; messages still on their way sort last.
  function place(element, order) {
    element.order = order;
    const log = $('log');
    const before = Array.from(log.children).find((child) => child !== element && !(child.order <= order));
    if (element.parentNode !== log || element.nextSibling !== (before || null)) log.insertBefore(element, before);
    log.scrollTop = log.scrollHeight;
  }

  function notice(text) {
    const element = render({author: 'system', text, kind: 'system'});
    element.order = lastId + 0.25;
    $('log').append(element);
  }

  /// Quick replies belong to the newest message, and hide while an answer is unsent.
  function quickReplies() {
    const box = $('quick-replies');
    box.textContent = '';
    const newest = shown.get(Math.max(...shown.keys()));
    const record = newest && newest.record;
    if (record && record.author !== 'user' && !outbox.some((entry) => !entry.delivered)) {
      record.replies.forEach((reply) => {
        if (!reply || typeof reply.label !== 'string') return;
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'quick-reply';
        button.textContent = reply.label;
        button.addEventListener('click', () => {
          send(typeof reply.value === 'string' && reply.value ? reply.value : reply.label, reply.label);
          $('message-input').focus();
        });
        box.append(button);
      });
    }
    box.hidden = !box.children.length;
  }

  function typing() {
    $('typing').hidden = sending === 0;
    $('log').scrollTop = $('log').scrollHeight;
  }

  function setStatus(status) {
    $('chat-status').textContent = STATUS[status] || STATUS.bot;
  }

  function fail(error, action) {
    let text = 'We can\u2019t reach the chat server right now. Check your connection, then try again.';
    if (error instanceof ApiError) {
      text = error.status === 429 ? 'You are sending messages faster than we can answer. Please wait ' +
                                        (error.retryAfter || 'a few') + ' seconds, then try again.' :
             error.status === 413 ? 'That message is too long to send. Please shorten it.' :
                                    'Something went wrong on our side (' + error.message + '). Please try again.';
    }
    $('connection-message').textContent = text;
    retry = action;
    $('connection-alert').hidden = false;
  }

  function hideAlert() {
    $('connection-alert').hidden = true;
    retry = null;
  }

  async function exportData() {
    const result = $('data-result');
    result.textContent = '';
    if (!session) return (result.textContent = 'There is no stored conversation yet.');
    try {
      const data = await api('GET', path('/export'));
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], {type: 'application/json'}));
      link.download = 'coachbot-conversation-' + new Date().toISOString().slice(0, 10) + '.json';
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 60000);
      result.textContent = 'Your data was downloaded as a JSON file.';
    } catch (error) {
      result.textContent = gone(error) ? 'This conversation no longer exists.' : 'The download failed. Try again.';
    }
  }

  async function forgetMe() {
    $('forget-confirm').hidden = true;
    if (session) {
      try {
        await api('DELETE', path(''));
      } catch (error) {
        if (!gone(error)) return ($('data-result').textContent = 'We could not erase it just now. Try again.');
      }
    }
    forgetLocally();
    clearLog();
    notice('Your conversation was erased from our server and from this browser.');
    const again = document.createElement('button');
    again.type = 'button';
    again.className = 'restart-button';
    again.textContent = 'Start a new conversation';
    again.addEventListener('click', () => {
      clearLog();
      start().then(() => $('message-input').focus());
    });
    $('log').append(again);
    panel(false);
    again.focus();
  }

  function panel(show) {
    $('data-panel').hidden = !show;
    $('data-button').setAttribute('aria-expanded', String(show));
    $('forget-confirm').hidden = true;
    $('data-result').textContent = '';
  }

  function opened() {
    open = true;
    unread = 0;
    tellHost('unread', {count: 0});
    if (!session) start();
    $('message-input').focus();
  }

  function theme() {
    const title = (params.get('title') || '').trim().slice(0, 80);
    if (title) $('chat-title').textContent = document.title = title;
    const accent = params.get('accent') || '';
    if (/^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(accent)) {
      const hex = accent.length === 4 ? accent.replace(/[0-9a-f]/gi, '$&$&') : accent;
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      document.documentElement.style.setProperty('--accent', accent);
      // Dark text on light brand colours keeps the header readable.
      if (0.299 * r + 0.587 * g + 0.114 * b > 170) document.documentElement.style.setProperty('--on-accent', '#111');
    }
    if (!embedded) $('close-button').hidden = true;
  }

  function bind() {
    const input = $('message-input');
    const on = (id, handler) => $(id).addEventListener('click', handler);
    $('composer').addEventListener('submit', (event) => {
      event.preventDefault();
      const text = input.value;
      input.value = '';
      input.style.height = '';
      send(text);
    });
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $('composer').requestSubmit();
      }
    });
    input.addEventListener('input', () => {
      input.style.height = 'auto';
      input.style.height = Math.min(input.scrollHeight + 2, 140) + 'px';
    });
    on('retry-button', () => (retry || recover)());
    on('close-button', () => tellHost('close'));
    on('data-button', () => panel($('data-panel').hidden));
    on('export-button', exportData);
    on('forget-button', () => {
      $('forget-confirm').hidden = false;
      $('forget-confirm-button').focus();
    });
    on('forget-cancel-button', () => {
      $('forget-confirm').hidden = true;
      $('forget-button').focus();
    });
    on('forget-confirm-button', forgetMe);
    document.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      if ($('data-panel').hidden) return tellHost('close');
      panel(false);
      $('data-button').focus();
    });
    addEventListener('message', (event) => {
      // Only the page that embeds us, from its own origin, may open or close the chat.
      const data = event.data;
      if (!embedded || event.source !== parent || event.origin !== host || !data || data.source !== 'coachbot-host') {
        return;
      }
      if (data.type === 'open') opened();
      if (data.type === 'close') open = false;
    });
  }

  function init() {
    bind();
    theme();
    setStatus('bot');
    // A returning runner connects at once, so a coach's reply raises the unread badge while the chat is closed;
    // a first visit creates nothing until the runner opens the chat.
    if (!embedded || stored()) start();
    tellHost('ready');
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
