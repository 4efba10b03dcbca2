// The chat page in the widget's iframe (/chat: our own origin, strict CSP). Plain JavaScript, no build step.
// Message text reaches the DOM only as text nodes; links only for http, https and mailto.
'use strict';
(() => {
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
  const FRESH = 'Your earlier conversation is no longer available, so here is a fresh one.';
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const embedded = parent !== window;
  const host = embedded ? hostOrigin() : null;
  const log = $('log');
  const input = $('message-input');

  let session = null;       // {id, token}
  let starting = null;      // the start in progress
  const shown = new Map();  // message id -> element: each message is shown once
  let lastId = 0;           // newest id shown: `after=` for catch-up and the stream
  const outbox = [];        // runner messages whose stored id is not known yet
  let sending = 0;
  let events = null;
  let polling = false;
  let streamPause = 30000;    // long-poll this long before trying a refused stream again
  let reconnectPause = 2000;  // wait before reopening a stream the browser gave up on
  let open = !embedded;
  let unread = 0;
  let retry = null;  // what "Try again" does

  /// An API failure; status 0 means the server could not be reached at all.
  class ApiError extends Error {
    constructor(status, code, wait) {
      super(code || 'HTTP ' + status);
      Object.assign(this, {status, wait});
    }
  }

  function hostOrigin() {
    // ancestorOrigins cannot be forged by the embedding page; `host` is the fallback where it is missing.
    // Either way the server's frame-ancestors decides who may embed us at all.
    const ancestors = location.ancestorOrigins;
    if (ancestors && ancestors.length && ancestors[0] !== 'null') return ancestors[0];
    try {
      return new URL(params.get('host')).origin;
    } catch (e) {
      return null;
    }
  }

  function tellHost(type, count) {
    if (host && host !== 'null') parent.postMessage({source: 'coachbot', type, count}, host);
  }

  function stored() {
    try {
      const value = JSON.parse(localStorage.getItem(KEY));
      if (typeof value.id === 'string' && typeof value.token === 'string') return value;
    } catch (e) {
      // Storage blocked, empty or corrupt: a first visit.
    }
    return null;
  }

  function store(value) {
    try {
      value ? localStorage.setItem(KEY, JSON.stringify(value)) : localStorage.removeItem(KEY);
    } catch (e) {
      // Without storage the chat still works; it just does not survive a reload.
    }
  }

  async function api(method, suffix, body) {
    const headers = {Accept: 'application/json'};
    if (session) headers.Authorization = 'Bearer ' + session.token;
    if (body) headers['Content-Type'] = 'application/json';
    const url = '/api/v1/sessions' + (session && suffix !== null ? '/' + encodeURIComponent(session.id) : '');
    let response;
    try {
      response =
          await fetch(url + (suffix || ''), {method, headers, body: body && JSON.stringify(body), cache: 'no-store'});
    } catch (e) {
      throw new ApiError(0);
    }
    if (response.status >= 502 && response.status <= 504) throw new ApiError(0);
    const payload = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      throw new ApiError(
          response.status, payload && payload.error && payload.error.code, response.headers.get('Retry-After'));
    }
    return payload;
  }

  const gone = (error) => error.status === 401 || error.status === 404;

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
          notice(FRESH);
        }
      }
      if (!session) {
        const created = await api('POST', null, {});
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
  async function catchUp(wait) {
    for (let page = 0; page < 100; ++page) {
      const result = await api('GET', '/messages?after=' + lastId + (wait ? '&wait=' + wait : ''));
      const before = lastId;
      result.messages.forEach((message) => add(message, wait));
      setStatus(result.status);
      if (!result.has_more || lastId === before) break;
    }
    quickReplies();
  }

  function connect() {
    if (events) events.close();
    events = null;
    if (!session) return;
    if (!window.EventSource) return poll();
    // `after` starts past what is shown; on reconnects EventSource sends Last-Event-ID itself.
    const source = new EventSource(
        '/api/v1/sessions/' + encodeURIComponent(session.id) + '/events?token=' + encodeURIComponent(session.token) +
        '&after=' + lastId);
    events = source;
    source.addEventListener('message', (event) => {
      const message = JSON.parse(event.data);
      add(message, true);
      if (message.status) setStatus(message.status);
      quickReplies();
    });
    source.addEventListener('open', () => {
      streamPause = 30000;
      reconnectPause = 2000;
      if (retry === recover && !outbox.some((entry) => entry.failed)) hideAlert();
    });
    source.addEventListener('error', () => {
      if (source !== events) return;
      // A catch-up tells a refused stream (closed: long-poll instead) from a server that is gone (the retry
      // state), and fills any gap meanwhile.
      const closed = source.readyState === EventSource.CLOSED;
      if (closed) events = null;
      catchUp().then(() => closed && poll(), (error) => {
        problem(error);
        // EventSource gives up after a failed reconnect: keep trying quietly, so the chat heals by itself.
        if (closed && session && !gone(error))
          setTimeout(() => session && !events && !polling && connect(), reconnectPause);
        reconnectPause = Math.min(reconnectPause * 2, 30000);
      });
    });
  }

  async function poll() {
    if (polling) return;
    polling = true;
    const until = Date.now() + streamPause;
    streamPause = Math.min(streamPause * 2, 300000);
    try {
      while (session && !events && Date.now() < until) await catchUp(25);
      if (session && !events) connect();
    } catch (error) {
      problem(error);
    }
    polling = false;
  }

  function problem(error) { gone(error) ? restartFresh() : fail(error, recover); }

  /// "Try again": catch up, resend what failed, reopen the stream.
  async function recover() {
    hideAlert();
    if (!session) return start();
    try {
      await catchUp();
    } catch (error) {
      return problem(error);
    }
    if (!polling && (!events || events.readyState === EventSource.CLOSED)) connect();
    outbox.filter((entry) => entry.failed).forEach(deliver);
  }

  /// The stored session is gone (401/404): start over, keeping unsent text in the input.
  function restartFresh() {
    const unsent = outbox.filter((entry) => !entry.delivered).map((entry) => entry.text);
    forgetLocally();
    clearLog();
    notice(FRESH);
    if (unsent.length && !input.value) input.value = unsent.join('\n');
    start();
  }

  function forgetLocally() {
    session = null;
    connect();
    store(null);
  }

  function clearLog() {
    shown.clear();
    outbox.length = 0;
    lastId = 0;
    log.textContent = '';
    quickReplies();
    setStatus();
  }

  function send(text, label) {
    if (!text.trim()) return;
    const element = render({author: 'user', text: label || text});
    const entry = {
      key: crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2) + Date.now(),
      text,
      element,
      stored: false,
      delivered: false,
      failed: false
    };
    outbox.push(entry);
    place(element, Infinity);
    quickReplies();
    deliver(entry);
  }

  async function deliver(entry) {
    const classes = entry.element.classList;
    entry.failed = false;
    classes.remove('failed');
    classes.add('pending');
    sending += 1;
    typing();
    try {
      if (!session && !(await start())) throw new ApiError(0);
      const result = await api('POST', '/messages', {text: entry.text, client_message_id: entry.key});
      entry.delivered = true;
      classes.remove('pending');
      if (!entry.stored) {
        // Stored just before its replies: it sits there until the stream tells its id.
        const first = Math.min(...result.replies.map((reply) => reply.id));
        place(entry.element, first < Infinity ? first - 0.5 : lastId + 0.5);
      }
      result.replies.forEach((reply) => add(Object.assign({author: 'bot'}, reply), true));
      setStatus(result.status);
      if (retry === recover && !outbox.some((other) => other.failed)) hideAlert();
    } catch (error) {
      if (gone(error)) return restartFresh();
      entry.failed = true;
      classes.remove('pending');
      classes.add('failed');
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
    if (!(id > 0) || shown.has(id)) return;
    lastId = Math.max(lastId, id);
    const author = NAMES[message.author] ? message.author : 'bot';
    const text = String(message.text || '');
    const mine = author === 'user' && outbox.find((entry) => !entry.stored && entry.text === text);
    let element;
    if (mine) {
      mine.stored = true;
      outbox.splice(outbox.indexOf(mine), 1);
      element = mine.element;
      element.classList.remove('pending', 'failed');
    } else {
      const record = {
        id,
        author,
        text,
        kind: message.kind,
        replies: Array.isArray(message.quick_replies) ? message.quick_replies : []
      };
      if (author === 'user') record.text = labelFor(id, text);
      element = render(record);
      element.record = record;
    }
    element.dataset.id = id;
    shown.set(id, element);
    place(element, id);
    if (live && author !== 'user' && !open) tellHost('unread', ++unread);
  }

  /// A quick reply is stored as its value; a replay shows the label the runner clicked.
  function labelFor(id, text) {
    let previous = null;
    shown.forEach((element, other) => {
      const record = element.record;
      if (other < id && record && record.author !== 'user' && !(previous && previous.id > other)) previous = record;
    });
    const match = previous && previous.replies.find((reply) => reply && reply.value === text);
    return match ? String(match.label) : text;
  }

  function render(record) {
    const element = document.createElement('div');
    const kind = /^[a-z_]{1,32}$/.test(record.kind || '') ? record.kind : 'normal';
    const alert = record.author !== 'user' && ALERTS[kind];
    const label = document.createElement(alert ? 'div' : 'span');
    const body = document.createElement('span');
    element.className = 'message from-' + record.author + ' kind-' + kind;
    element.dataset.author = record.author;
    element.dataset.kind = kind;
    if (alert) {
      if (kind === 'emergency') element.setAttribute('role', 'alert');
      const icon = document.createElement('span');
      icon.className = 'escalation-icon';
      icon.setAttribute('aria-hidden', 'true');
      icon.textContent = alert[0];
      label.className = 'escalation-label';
      label.append(icon, alert[1]);
    } else {
      // Coach and notices are labelled for everyone; the rest only for screen readers.
      const visible = record.author === 'coach' || record.author === 'system';
      label.className = visible ? 'message-author' : 'visually-hidden';
      label.textContent = NAMES[record.author] + (visible ? '' : ': ');
    }
    body.className = 'message-text';
    linkify(body, record.text);
    element.append(label, body);
    return element;
  }

  /// Text as text nodes (append(string) never parses HTML); only http, https and mailto become links.
  function linkify(parent, text) {
    let at = 0;
    for (const match of text.matchAll(/\b(https?:\/\/|mailto:)[^\s<>"'`]+/gi)) {
      const candidate = match[0].replace(/[).,;:!?\]}]+$/, '');
      const link = document.createElement('a');
      try {
        link.href = new URL(candidate).href;
      } catch (e) {
        continue;
      }
      if (!['http:', 'https:', 'mailto:'].includes(link.protocol)) continue;
      link.target = '_blank';
      link.rel = 'noopener noreferrer nofollow';
      link.textContent = candidate;
      parent.append(text.slice(at, match.index), link);
      at = match.index + candidate.length;
    }
    parent.append(text.slice(at));
  }

  /// Keeps the log in id order; messages still on their way sort last.
  function place(element, order) {
    element.order = order;
    const before = Array.from(log.children).find((child) => child !== element && !(child.order <= order));
    if (element.parentNode !== log || element.nextSibling !== (before || null)) log.insertBefore(element, before);
    log.scrollTop = log.scrollHeight;
  }

  function notice(text) {
    const element = render({author: 'system', text, kind: 'system'});
    element.order = lastId + 0.25;
    log.append(element);
  }

  /// Quick replies belong to the newest message, and hide while an answer is unsent.
  function quickReplies() {
    const box = $('quick-replies');
    const newest = shown.get(Math.max(...shown.keys()));
    const record = newest && newest.record;
    box.textContent = '';
    if (record && record.author !== 'user' && outbox.every((entry) => entry.delivered)) {
      record.replies.forEach((reply) => {
        if (!reply || typeof reply.label !== 'string') return;
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'quick-reply';
        button.textContent = reply.label;
        button.addEventListener('click', () => {
          send(String(reply.value || reply.label), reply.label);
          input.focus();
        });
        box.append(button);
      });
    }
    box.hidden = !box.children.length;
  }

  function typing() {
    $('typing').hidden = !sending;
    log.scrollTop = log.scrollHeight;
  }

  function setStatus(status) { $('chat-status').textContent = STATUS[status] || STATUS.bot; }

  function fail(error, action) {
    $('connection-message').textContent = error.status === 429 ?
        'You are sending messages faster than we can answer. Please wait ' + (error.wait || 'a few') +
            ' seconds, then try again.' :
        error.status === 413 ? 'That message is too long to send. Please shorten it.' :
        error.status         ? 'Something went wrong on our side (' + error.message + '). Please try again.' :
                               'We can\u2019t reach the chat server right now. Check your connection, then try again.';
    retry = action;
    $('connection-alert').hidden = false;
  }

  function hideAlert() {
    $('connection-alert').hidden = true;
    retry = null;
  }

  async function exportData() {
    const result = $('data-result');
    try {
      if (!session) throw new ApiError(404);
      const data = await api('GET', '/export');
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], {type: 'application/json'}));
      link.download = 'coachbot-conversation.json';
      document.body.append(link);
      link.click();
      link.remove();
      result.textContent = 'Your data was downloaded as a JSON file.';
    } catch (error) {
      result.textContent = gone(error) ? 'There is no stored conversation.' : 'The download failed. Try again.';
    }
  }

  async function forgetMe() {
    try {
      if (session) await api('DELETE', '');
    } catch (error) {
      if (!gone(error)) return ($('data-result').textContent = 'We could not erase it just now. Try again.');
    }
    forgetLocally();
    clearLog();
    panel(false);
    notice('Your conversation was erased from our server and from this browser.');
    const again = document.createElement('button');
    again.type = 'button';
    again.className = 'restart-button';
    again.textContent = 'Start a new conversation';
    again.addEventListener('click', () => {
      clearLog();
      start().then(() => input.focus());
    });
    log.append(again);
    again.focus();
  }

  function panel(show) {
    $('data-panel').hidden = !show;
    $('data-button').setAttribute('aria-expanded', show);
    confirmForget(false);
    $('data-result').textContent = '';
  }

  function confirmForget(ask) { $('forget-confirm').hidden = !ask; }

  function theme() {
    const title = (params.get('title') || '').trim().slice(0, 80);
    const accent = params.get('accent') || '';
    const style = document.documentElement.style;
    if (title) $('chat-title').textContent = document.title = title;
    if (/^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(accent)) {
      const hex = accent.length === 4 ? accent.replace(/\w/g, '$&$&') : accent;
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      style.setProperty('--accent', accent);
      // Dark text on a light brand colour keeps the header and the runner's bubbles readable.
      if (0.299 * r + 0.587 * g + 0.114 * b > 170) style.setProperty('--on-accent', '#111');
    }
    $('close-button').hidden = !embedded;
  }

  function bind() {
    const actions = {
      'retry-button': () => (retry || recover)(),
      'close-button': () => tellHost('close'),
      'data-button': () => panel($('data-panel').hidden),
      'export-button': exportData,
      'forget-button': () => {
        confirmForget(true);
        $('forget-confirm-button').focus();
      },
      'forget-cancel-button': () => {
        confirmForget(false);
        $('forget-button').focus();
      },
      'forget-confirm-button': forgetMe,
    };
    Object.keys(actions).forEach((id) => $(id).addEventListener('click', actions[id]));
    $('composer').addEventListener('submit', (event) => {
      event.preventDefault();
      send(input.value);
      input.value = '';
      input.style.height = '';
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
    document.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      if ($('data-panel').hidden) return tellHost('close');
      panel(false);
      $('data-button').focus();
    });
    addEventListener('message', (event) => {
      // Only the page that embeds us, from its own origin, may open or close the chat.
      const data = event.data;
      if (event.source !== parent || event.origin !== host || !data || data.source !== 'coachbot-host') return;
      open = data.type === 'open';
      if (!open) return;
      unread = 0;
      tellHost('unread', 0);
      if (!session) start();
      input.focus();
    });
  }

  bind();
  theme();
  setStatus();
  // A returning runner connects at once, so a coach's reply raises the unread badge while the chat is closed;
  // a first visit creates nothing until the runner opens the chat.
  if (!embedded || stored()) start();
  tellHost('ready');
})();
