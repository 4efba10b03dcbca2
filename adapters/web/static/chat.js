// The chat page inside the widget's iframe (served at /chat from coachbot's own origin, under a strict CSP).
// Plain JavaScript, no build step. Message text only ever reaches the DOM through text nodes.
'use strict';

(function () {
  const API = '/api/v1';
  const STORAGE_KEY = 'coachbot.session.v1';
  const DEFAULT_TITLE = 'Chat with our coaching assistant';
  const ESCALATION_LABELS = {
    emergency: {icon: '!', text: 'Emergency: act now'},
    urgent: {icon: '!', text: 'Urgent: see a doctor today'},
    see_professional: {icon: 'i', text: 'See a professional'},
  };
  const STATUS_LINES = {
    bot: 'Automated assistant \u00b7 a coach can join',
    waiting_for_coach: 'Waiting for a coach: they will reply right here',
    coach: 'A coach is in this chat',
  };
  const AUTHOR_NAMES = {user: 'You', bot: 'Coachbot', coach: 'Coach', system: 'Notice'};

  const elements = {};
  const params = new URLSearchParams(window.location.search);
  const embedded = window.parent !== window;
  const hostOrigin = embedded ? findHostOrigin() : null;

  let session = null;          // {id, token}
  let starting = null;         // the promise of a start in progress
  const shown = new Map();     // message id -> element; each message is shown once
  let lastId = 0;              // highest message id seen: `after=` for catch-up
  const outbox = [];           // runner messages not yet matched to a stored message id
  let sendsInFlight = 0;
  let events = null;           // the EventSource
  let eventsBackoffMs = 30000;  // how long to long-poll before trying a refused event stream again
  let polling = false;
  let isOpen = !embedded;
  let unread = 0;
  let alertAction = null;

  /// Error from the API: `status` is the HTTP status, `retryAfter` seconds for 429.
  class ApiError extends Error {
    constructor(status, code, message, retryAfter) {
      super(message || code || ('HTTP ' + status));
      this.status = status;
      this.code = code;
      this.retryAfter = retryAfter;
    }
  }

  /// The network itself failed (server down, connection refused): the runner gets the retry state.
  class UnreachableError extends Error {}

  function findHostOrigin() {
    // ancestorOrigins cannot be forged by the embedding page; the `host` parameter is the fallback for
    // browsers without it. Either way the server's frame-ancestors decides who may embed us at all.
    const ancestors = window.location.ancestorOrigins;
    if (ancestors && ancestors.length > 0 && ancestors[0] !== 'null') return ancestors[0];
    try {
      return new URL(params.get('host') || '').origin;
    } catch (error) {
      return null;
    }
  }

  function postToHost(message) {
    if (hostOrigin && hostOrigin !== 'null') {
      window.parent.postMessage(Object.assign({source: 'coachbot'}, message), hostOrigin);
    }
  }

  function randomId() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') return window.crypto.randomUUID();
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  // ---- storage (inside our own origin; the host page cannot read it) ----

  function loadStoredSession() {
    try {
      const stored = JSON.parse(window.localStorage.getItem(STORAGE_KEY) || 'null');
      if (stored && typeof stored.id === 'string' && typeof stored.token === 'string') return stored;
    } catch (error) {
      // Storage blocked or corrupt: behave as a first visit.
    }
    return null;
  }

  function storeSession(value) {
    try {
      if (value) {
        window.localStorage.setItem(STORAGE_KEY, JSON.stringify(value));
      } else {
        window.localStorage.removeItem(STORAGE_KEY);
      }
    } catch (error) {
      // Without storage the chat still works; it just will not survive a reload.
    }
  }

  // ---- HTTP ----

  async function api(method, path, body) {
    const headers = {Accept: 'application/json'};
    if (session) headers.Authorization = 'Bearer ' + session.token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(API + path, {
        method: method,
        headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch (error) {
      throw new UnreachableError(error.message);
    }
    if (response.status === 204) return null;
    let payload = null;
    try {
      payload = await response.json();
    } catch (error) {
      payload = null;
    }
    if (!response.ok) {
      const detail = (payload && payload.error) || {};
      const retryAfter = Number(response.headers.get('Retry-After')) || 0;
      if (response.status >= 502 && response.status <= 504) throw new UnreachableError('HTTP ' + response.status);
      throw new ApiError(response.status, detail.code, detail.message, retryAfter);
    }
    return payload;
  }

  function sessionPath(suffix) {
    return '/sessions/' + encodeURIComponent(session.id) + suffix;
  }

  function isSessionGone(error) {
    return error instanceof ApiError && (error.status === 401 || error.status === 404);
  }

  // ---- session lifecycle ----

  function start() {
    if (!starting) {
      starting = startSession().finally(() => {
        starting = null;
      });
    }
    return starting;
  }

  async function startSession() {
    hideAlert();
    try {
      if (!session) session = loadStoredSession();
      if (session) {
        try {
          await catchUp();
        } catch (error) {
          if (!isSessionGone(error)) throw error;
          forgetLocally();
          addNotice('Your earlier conversation is no longer available, so here is a fresh one.');
        }
      }
      if (!session) {
        const created = await api('POST', '/sessions', {});
        session = {id: String(created.session_id), token: String(created.token)};
        storeSession(session);
        await catchUp();
      }
      connectEvents();
      return true;
    } catch (error) {
      showFailure(error, start);
      return false;
    }
  }

  /// Fetches every stored message after the last one shown (the transcript on reload, gaps after a drop).
  async function catchUp() {
    for (let page = 0; page < 100; ++page) {
      const result = await api('GET', sessionPath('/messages?after=' + lastId));
      const messages = (result && result.messages) || [];
      if (result && result.status) setStatus(result.status);
      const before = lastId;
      messages.forEach((message) => addMessage(message, {live: false}));
      if (messages.length === 0 || lastId === before) break;
    }
    refreshQuickReplies();
  }

  function connectEvents() {
    if (!session || typeof window.EventSource !== 'function') return;
    if (events) events.close();
    // `after` starts the stream past what is shown; on reconnects EventSource's Last-Event-ID takes over.
    const url = API + sessionPath('/events?token=' + encodeURIComponent(session.token) + '&after=' + lastId);
    const source = new EventSource(url);
    events = source;
    source.addEventListener('message', (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      addMessage(message, {live: true});
      if (message.status) setStatus(message.status);
      refreshQuickReplies();
    });
    source.addEventListener('open', () => {
      eventsBackoffMs = 30000;
      if (alertAction === recover && outbox.every((entry) => !entry.failed)) hideAlert();
    });
    source.addEventListener('error', () => {
      if (source !== events) return;
      // EventSource reconnects by itself (sending Last-Event-ID) unless the server refused the stream.
      // A catch-up request tells the two apart from "the server is gone" and fills any gap meanwhile.
      const closed = source.readyState === EventSource.CLOSED;
      if (closed) events = null;
      catchUp().then(
          () => {
            if (closed) pollForMessages();
          },
          (error) => {
            if (isSessionGone(error)) {
              sessionGone();
            } else {
              showFailure(error, recover);
            }
          });
    });
  }

  /// The server may refuse a stream (all stream slots busy, or a proxy that buffers): long-poll the transcript
  /// instead, and try a stream again after a while.
  async function pollForMessages() {
    if (polling) return;
    polling = true;
    const retryStreamAt = Date.now() + eventsBackoffMs;
    eventsBackoffMs = Math.min(eventsBackoffMs * 2, 300000);
    try {
      while (session && !events && Date.now() < retryStreamAt) {
        const result = await api('GET', sessionPath('/messages?after=' + lastId + '&wait=25'));
        ((result && result.messages) || []).forEach((message) => addMessage(message, {live: true}));
        if (result && result.status) setStatus(result.status);
        refreshQuickReplies();
      }
    } catch (error) {
      polling = false;
      if (isSessionGone(error)) sessionGone();
      else showFailure(error, recover);
      return;
    }
    polling = false;
    if (session && !events) connectEvents();
  }

  /// The retry button: catch up, resend what failed, reopen the event stream.
  async function recover() {
    hideAlert();
    if (!session) {
      await start();
      return;
    }
    try {
      await catchUp();
    } catch (error) {
      if (isSessionGone(error)) {
        sessionGone();
      } else {
        showFailure(error, recover);
      }
      return;
    }
    if ((!events || events.readyState === EventSource.CLOSED) && !polling) connectEvents();
    outbox.filter((entry) => entry.failed).forEach(deliver);
  }

  function sessionGone() {
    const unsent = outbox.filter((entry) => !entry.delivered).map((entry) => entry.text);
    forgetLocally();
    clearTranscript();
    addNotice('Your earlier conversation is no longer available, so here is a fresh one.');
    if (unsent.length > 0 && !elements.input.value) elements.input.value = unsent.join('\n');
    start();
  }

  function forgetLocally() {
    if (events) events.close();
    events = null;
    session = null;
    storeSession(null);
  }

  function clearTranscript() {
    shown.clear();
    outbox.length = 0;
    lastId = 0;
    elements.log.textContent = '';
    refreshQuickReplies();
    setStatus('bot');
  }

  // ---- sending ----

  function send(text, label) {
    if (!text || !text.trim()) return;
    const entry = {
      clientMessageId: randomId(),
      text: text,
      element: renderMessage({author: 'user', text: label || text, kind: 'normal'}),
      order: Infinity,
      id: null,
      delivered: false,
      failed: false,
    };
    outbox.push(entry);
    placeElement(entry.element, entry.order);
    scrollToEnd();
    refreshQuickReplies();
    deliver(entry);
  }

  async function deliver(entry) {
    entry.failed = false;
    entry.element.classList.add('pending');
    entry.element.classList.remove('failed');
    sendsInFlight += 1;
    updateTyping();
    try {
      if (!session && !(await start())) throw new UnreachableError('no session');
      const result = await api('POST', sessionPath('/messages'),
                               {text: entry.text, client_message_id: entry.clientMessageId});
      entry.delivered = true;
      entry.element.classList.remove('pending');
      const replies = (result && result.replies) || [];
      if (entry.id === null) {
        // The runner's message was stored just before its replies; place it there until its id arrives.
        const firstReply = replies.reduce((min, reply) => Math.min(min, Number(reply.id)), Infinity);
        entry.order = Number.isFinite(firstReply) ? firstReply - 0.5 : lastId + 0.5;
        placeElement(entry.element, entry.order);
      }
      replies.forEach((reply) => addMessage(Object.assign({author: 'bot'}, reply), {live: true}));
      if (result && result.status) setStatus(result.status);
      if (alertAction === recover && outbox.every((other) => !other.failed)) hideAlert();
    } catch (error) {
      if (isSessionGone(error)) {
        entry.delivered = false;
        sessionGone();
        return;
      }
      entry.failed = true;
      entry.element.classList.remove('pending');
      entry.element.classList.add('failed');
      showFailure(error, recover);
    } finally {
      sendsInFlight -= 1;
      updateTyping();
      refreshQuickReplies();
      scrollToEnd();
    }
  }

  // ---- rendering ----

  /// Adds a stored message unless it is already shown (POST replies, the transcript and SSE overlap).
  function addMessage(message, options) {
    const id = Number(message.id);
    if (!Number.isFinite(id) || shown.has(id)) return;
    lastId = Math.max(lastId, id);
    const author = AUTHOR_NAMES[message.author] ? message.author : 'bot';
    if (author === 'user') {
      const mine = outbox.find((entry) => entry.id === null && entry.text === message.text);
      if (mine) {
        mine.id = id;
        mine.order = id;
        mine.delivered = true;
        mine.element.classList.remove('pending', 'failed');
        mine.element.dataset.id = String(id);
        shown.set(id, mine.element);
        placeElement(mine.element, id);
        outbox.splice(outbox.indexOf(mine), 1);
        return;
      }
    }
    const record = {
      id: id,
      author: author,
      text: typeof message.text === 'string' ? message.text : '',
      kind: typeof message.kind === 'string' ? message.kind : 'normal',
      quick_replies: Array.isArray(message.quick_replies) ? message.quick_replies : [],
    };
    if (author === 'user') record.text = labelForAnswer(id, record.text);
    const element = renderMessage(record);
    element.dataset.id = String(id);
    element.coachbotRecord = record;
    shown.set(id, element);
    placeElement(element, id);
    scrollToEnd();
    if (options.live && author !== 'user' && !isOpen) {
      unread += 1;
      postToHost({type: 'unread', count: unread});
    }
  }

  /// A quick reply is stored as its value; on replay show the label the runner clicked.
  function labelForAnswer(id, text) {
    let previous = null;
    shown.forEach((element, otherId) => {
      if (otherId < id && element.coachbotRecord && element.coachbotRecord.author !== 'user' &&
          (!previous || otherId > previous.id)) {
        previous = element.coachbotRecord;
      }
    });
    if (!previous) return text;
    const match = previous.quick_replies.find((reply) => reply && reply.value === text);
    return match && typeof match.label === 'string' ? match.label : text;
  }

  function renderMessage(record) {
    const element = document.createElement('div');
    element.className = 'message from-' + record.author + ' kind-' + safeClass(record.kind);
    element.dataset.author = record.author;
    element.dataset.kind = record.kind;
    const escalation = ESCALATION_LABELS[record.kind];
    if (escalation && record.author !== 'user') {
      if (record.kind === 'emergency') element.setAttribute('role', 'alert');
      const label = document.createElement('div');
      label.className = 'escalation-label';
      const icon = document.createElement('span');
      icon.className = 'escalation-icon';
      icon.setAttribute('aria-hidden', 'true');
      icon.textContent = escalation.icon;
      label.append(icon, document.createTextNode(escalation.text));
      element.append(label);
    } else if (record.author === 'coach' || record.author === 'system') {
      const author = document.createElement('span');
      author.className = 'message-author';
      author.textContent = AUTHOR_NAMES[record.author];
      element.append(author);
    } else {
      const author = document.createElement('span');
      author.className = 'visually-hidden';
      author.textContent = AUTHOR_NAMES[record.author] + ': ';
      element.append(author);
    }
    const body = document.createElement('span');
    body.className = 'message-text';
    appendLinkified(body, record.text);
    element.append(body);
    return element;
  }

  function safeClass(kind) {
    return /^[a-z_]{1,32}$/.test(kind) ? kind : 'normal';
  }

  const LINK_PATTERN = /\b(?:https?:\/\/|mailto:)[^\s<>"'`]+/gi;

  /// Text as text nodes; only http, https and mailto links become anchors.
  function appendLinkified(parent, text) {
    let position = 0;
    for (const match of text.matchAll(LINK_PATTERN)) {
      const candidate = match[0].replace(/[).,;:!?\]}]+$/, '');
      const href = safeHref(candidate);
      if (!href) continue;
      parent.append(document.createTextNode(text.slice(position, match.index)));
      const link = document.createElement('a');
      link.href = href;
      link.target = '_blank';
      link.rel = 'noopener noreferrer nofollow';
      link.textContent = candidate;
      parent.append(link);
      position = match.index + candidate.length;
    }
    parent.append(document.createTextNode(text.slice(position)));
  }

  function safeHref(candidate) {
    try {
      const url = new URL(candidate);
      if (url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'mailto:') return url.href;
    } catch (error) {
      // Not a URL after all: it stays text.
    }
    return null;
  }

  /// Keeps the log in message-id order; runner messages still on their way sort last.
  function placeElement(element, order) {
    element.coachbotOrder = order;
    const log = elements.log;
    let before = null;
    for (const child of log.children) {
      if (child !== element && (child.coachbotOrder === undefined || child.coachbotOrder > order)) {
        before = child;
        break;
      }
    }
    if (element.parentNode === log && element.nextSibling === before) return;
    log.insertBefore(element, before);
  }

  function addNotice(text) {
    const element = renderMessage({author: 'system', text: text, kind: 'system'});
    element.coachbotOrder = lastId + 0.25;
    elements.log.append(element);
  }

  /// Quick replies belong to the newest message only, and vanish while the runner's answer is on its way.
  function refreshQuickReplies() {
    const container = elements.quickReplies;
    container.textContent = '';
    let newest = null;
    let newestId = -Infinity;
    shown.forEach((element, id) => {
      if (id > newestId) {
        newestId = id;
        newest = element.coachbotRecord || null;
      }
    });
    const waiting = outbox.some((entry) => !entry.delivered);
    if (!newest || newest.author === 'user' || waiting || newest.quick_replies.length === 0) {
      container.hidden = true;
      return;
    }
    newest.quick_replies.forEach((reply) => {
      if (!reply || typeof reply.label !== 'string') return;
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'quick-reply';
      button.textContent = reply.label;
      const value = typeof reply.value === 'string' && reply.value ? reply.value : reply.label;
      button.addEventListener('click', () => {
        send(value, reply.label);
        elements.input.focus();
      });
      container.append(button);
    });
    container.hidden = container.children.length === 0;
  }

  function updateTyping() {
    elements.typing.hidden = sendsInFlight === 0;
    if (sendsInFlight > 0) scrollToEnd();
  }

  function setStatus(status) {
    elements.status.textContent = STATUS_LINES[status] || STATUS_LINES.bot;
    elements.chat.dataset.status = STATUS_LINES[status] ? status : 'bot';
  }

  function scrollToEnd() {
    elements.log.scrollTop = elements.log.scrollHeight;
  }

  // ---- the unreachable / error state ----

  function showFailure(error, action) {
    let text;
    if (error instanceof ApiError && error.status === 429) {
      const wait = error.retryAfter > 0 ? ' Please wait ' + error.retryAfter + ' seconds, then try again.' :
                                          ' Please wait a moment, then try again.';
      text = 'You are sending messages faster than we can answer.' + wait;
    } else if (error instanceof ApiError && error.status === 413) {
      text = 'That message is too long to send. Please shorten it.';
    } else if (error instanceof ApiError) {
      text = 'Something went wrong on our side (' + (error.code || error.status) + '). Please try again.';
    } else {
      text = 'We can\u2019t reach the chat server right now. Check your connection, then try again.';
    }
    elements.alertMessage.textContent = text;
    alertAction = action;
    elements.alert.hidden = false;
  }

  function hideAlert() {
    elements.alert.hidden = true;
    alertAction = null;
  }

  // ---- your data: export and forget me ----

  async function exportData() {
    elements.dataResult.textContent = '';
    if (!session) {
      elements.dataResult.textContent = 'There is no stored conversation yet.';
      return;
    }
    try {
      const data = await api('GET', sessionPath('/export'));
      const blob = new Blob([JSON.stringify(data, null, 2)], {type: 'application/json'});
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = 'coachbot-conversation-' + new Date().toISOString().slice(0, 10) + '.json';
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 60000);
      elements.dataResult.textContent = 'Your data was downloaded as a JSON file.';
    } catch (error) {
      elements.dataResult.textContent = isSessionGone(error) ? 'This conversation no longer exists.' :
                                                               'The download failed. Please try again.';
    }
  }

  async function forgetMe() {
    elements.forgetConfirm.hidden = true;
    elements.dataResult.textContent = '';
    if (session) {
      try {
        await api('DELETE', sessionPath(''));
      } catch (error) {
        if (!isSessionGone(error)) {
          elements.dataResult.textContent = 'We could not erase it just now. Please try again.';
          return;
        }
      }
    }
    forgetLocally();
    clearTranscript();
    addNotice('Your conversation was erased from our server and from this browser.');
    const restart = document.createElement('button');
    restart.type = 'button';
    restart.className = 'restart-button';
    restart.textContent = 'Start a new conversation';
    restart.addEventListener('click', () => {
      clearTranscript();
      start().then(() => elements.input.focus());
    });
    elements.log.append(restart);
    elements.dataResult.textContent = 'Erased.';
    toggleDataPanel(false);
    restart.focus();
  }

  function toggleDataPanel(open) {
    elements.dataPanel.hidden = !open;
    elements.dataButton.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (!open) elements.forgetConfirm.hidden = true;
  }

  // ---- open / close (the loader on the host page owns the launcher) ----

  function opened() {
    isOpen = true;
    unread = 0;
    postToHost({type: 'unread', count: 0});
    if (!session && !starting) start();
    elements.input.focus();
  }

  function requestClose() {
    if (embedded) postToHost({type: 'close'});
  }

  function applyTheme() {
    const title = (params.get('title') || '').trim().slice(0, 80) || DEFAULT_TITLE;
    elements.title.textContent = title;
    document.title = title;
    const accent = params.get('accent') || '';
    if (/^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(accent)) {
      const root = document.documentElement.style;
      root.setProperty('--accent', accent);
      root.setProperty('--accent-contrast', isLight(accent) ? '#111111' : '#ffffff');
    }
    if (!embedded) elements.closeButton.hidden = true;
  }

  function isLight(hex) {
    const full = hex.length === 4 ? '#' + hex[1] + hex[1] + hex[2] + hex[2] + hex[3] + hex[3] : hex;
    const channel = (offset) => {
      const value = parseInt(full.slice(offset, offset + 2), 16) / 255;
      return value <= 0.03928 ? value / 12.92 : Math.pow((value + 0.055) / 1.055, 2.4);
    };
    const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    return luminance > 0.4;
  }

  function bind() {
    const byId = (id) => document.getElementById(id);
    Object.assign(elements, {
      chat: byId('chat'),
      title: byId('chat-title'),
      status: byId('chat-status'),
      log: byId('log'),
      typing: byId('typing'),
      quickReplies: byId('quick-replies'),
      composer: byId('composer'),
      input: byId('message-input'),
      alert: byId('connection-alert'),
      alertMessage: byId('connection-message'),
      retryButton: byId('retry-button'),
      closeButton: byId('close-button'),
      dataButton: byId('data-button'),
      dataPanel: byId('data-panel'),
      dataResult: byId('data-result'),
      exportButton: byId('export-button'),
      forgetButton: byId('forget-button'),
      forgetConfirm: byId('forget-confirm'),
      forgetConfirmButton: byId('forget-confirm-button'),
      forgetCancelButton: byId('forget-cancel-button'),
    });

    elements.composer.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = elements.input.value;
      if (!text.trim()) return;
      elements.input.value = '';
      resizeInput();
      send(text);
    });
    elements.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        elements.composer.requestSubmit();
      }
    });
    elements.input.addEventListener('input', resizeInput);
    elements.retryButton.addEventListener('click', () => {
      const action = alertAction || recover;
      hideAlert();
      action();
    });
    elements.closeButton.addEventListener('click', requestClose);
    elements.dataButton.addEventListener('click', () => toggleDataPanel(elements.dataPanel.hidden));
    elements.exportButton.addEventListener('click', exportData);
    elements.forgetButton.addEventListener('click', () => {
      elements.forgetConfirm.hidden = false;
      elements.forgetConfirmButton.focus();
    });
    elements.forgetCancelButton.addEventListener('click', () => {
      elements.forgetConfirm.hidden = true;
      elements.forgetButton.focus();
    });
    elements.forgetConfirmButton.addEventListener('click', forgetMe);
    document.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      if (!elements.dataPanel.hidden) {
        toggleDataPanel(false);
        elements.dataButton.focus();
      } else {
        requestClose();
      }
    });
    window.addEventListener('message', (event) => {
      if (!embedded || event.source !== window.parent || event.origin !== hostOrigin) return;
      const data = event.data;
      if (!data || data.source !== 'coachbot-host') return;
      if (data.type === 'open') opened();
      if (data.type === 'close') isOpen = false;
    });
  }

  function resizeInput() {
    const input = elements.input;
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight + 2, 140) + 'px';
  }

  function init() {
    bind();
    applyTheme();
    setStatus('bot');
    // A returning runner's conversation connects at once, so that a coach's reply raises the unread badge
    // while the panel is closed; a first visit creates nothing until the runner opens the chat.
    if (!embedded || loadStoredSession()) start();
    postToHost({type: 'ready'});
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
