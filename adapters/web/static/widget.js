// coachbot's embed loader: <script src="https://coach.example/widget.js" data-title="..." data-accent="#..." defer>.
// It adds a launcher button and an iframe with the chat served from coachbot's own origin, so the host page's
// CSS and scripts cannot reach the conversation. Styles are set through the CSSOM (no <style> element), which
// keeps the loader working on host pages whose CSP forbids inline styles.
(function () {
  'use strict';
  if (window.CoachbotWidget) return;  // embedded twice: keep the first

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  if (!script || !script.src) return;
  var chatOrigin = new URL(script.src, window.location.href).origin;
  var settings = window.CoachbotSettings || {};
  var title = String(script.getAttribute('data-title') || settings.title || 'Chat with our coaching assistant')
                  .slice(0, 80);
  var accentRaw = String(script.getAttribute('data-accent') || settings.accent || '#0f766e');
  var accent = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(accentRaw) ? accentRaw : '#0f766e';
  var position = (script.getAttribute('data-position') || settings.position) === 'left' ? 'left' : 'right';
  var phone = window.matchMedia('(max-width: 640px)');

  var launcher;
  var badge;
  var frame;
  var isOpen = false;
  var frameReady = false;
  var unread = 0;

  function applyStyles(element, styles) {
    Object.keys(styles).forEach(function (name) {
      element.style.setProperty(name, styles[name], 'important');
    });
  }

  function svg(pathData) {
    var ns = 'http://www.w3.org/2000/svg';
    var icon = document.createElementNS(ns, 'svg');
    icon.setAttribute('viewBox', '0 0 24 24');
    icon.setAttribute('width', '28');
    icon.setAttribute('height', '28');
    icon.setAttribute('aria-hidden', 'true');
    icon.setAttribute('focusable', 'false');
    var path = document.createElementNS(ns, 'path');
    path.setAttribute('d', pathData);
    path.setAttribute('fill', 'currentColor');
    icon.appendChild(path);
    return icon;
  }

  var CHAT_ICON = 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8.5L4 21.5V18a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 ' +
                  '1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z';
  var CLOSE_ICON = 'M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7l-1.4-1.4L9.2 12 2.9 5.7l1.4-1.4 6.3 6.3 ' +
                   '6.3-6.3z';

  function launcherLabel() {
    var label = (isOpen ? 'Close chat: ' : 'Open chat: ') + title;
    if (!isOpen && unread > 0) label += ' (' + unread + ' unread)';
    return label;
  }

  function renderLauncher() {
    launcher.setAttribute('aria-expanded', isOpen ? 'true' : 'false');
    launcher.setAttribute('aria-label', launcherLabel());
    launcher.replaceChild(svg(isOpen ? CLOSE_ICON : CHAT_ICON), launcher.firstChild);
    badge.textContent = unread > 9 ? '9+' : String(unread);
    applyStyles(badge, {display: !isOpen && unread > 0 ? 'flex' : 'none'});
    // On a phone the open chat fills the screen and has its own close button.
    applyStyles(launcher, {display: isOpen && phone.matches ? 'none' : 'flex'});
  }

  function layoutFrame() {
    var side = position === 'left' ? 'left' : 'right';
    var common = {
      position: 'fixed',
      border: '0',
      margin: '0',
      padding: '0',
      background: '#ffffff',
      'z-index': '2147483646',
      display: isOpen ? 'block' : 'none',
      'color-scheme': 'light',
    };
    if (phone.matches) {
      applyStyles(frame, Object.assign(common, {
        top: '0', left: '0', right: '0', bottom: '0', width: '100%', height: '100%',
        'max-width': 'none', 'max-height': 'none', 'border-radius': '0', 'box-shadow': 'none',
      }));
    } else {
      var styles = Object.assign(common, {
        top: 'auto', bottom: '96px', width: '380px', height: '600px',
        'max-width': 'calc(100vw - 48px)', 'max-height': 'calc(100vh - 120px)', 'border-radius': '14px',
        'box-shadow': '0 12px 40px rgba(16, 24, 40, 0.28)',
      });
      styles[side] = '24px';
      styles[side === 'left' ? 'right' : 'left'] = 'auto';
      applyStyles(frame, styles);
    }
  }

  function tell(type) {
    if (frameReady && frame.contentWindow) {
      frame.contentWindow.postMessage({source: 'coachbot-host', type: type}, chatOrigin);
    }
  }

  function open() {
    if (isOpen) return;
    isOpen = true;
    unread = 0;
    layoutFrame();
    renderLauncher();
    frame.focus();
    tell('open');
  }

  function close() {
    if (!isOpen) return;
    isOpen = false;
    layoutFrame();
    renderLauncher();
    tell('close');
    launcher.focus();
  }

  function onMessage(event) {
    // Only our own iframe, from our own origin, may drive the launcher.
    if (event.origin !== chatOrigin || !frame || event.source !== frame.contentWindow) return;
    var data = event.data;
    if (!data || typeof data !== 'object' || data.source !== 'coachbot') return;
    if (data.type === 'ready') {
      frameReady = true;
      if (isOpen) tell('open');
    } else if (data.type === 'close') {
      close();
    } else if (data.type === 'unread') {
      var count = Number(data.count);
      unread = isOpen || !(count >= 0) ? 0 : Math.min(Math.floor(count), 999);
      renderLauncher();
    }
  }

  function build() {
    var side = position === 'left' ? 'left' : 'right';
    launcher = document.createElement('button');
    launcher.type = 'button';
    launcher.id = 'coachbot-launcher';
    launcher.setAttribute('aria-controls', 'coachbot-frame');
    launcher.setAttribute('aria-haspopup', 'dialog');
    launcher.appendChild(svg(CHAT_ICON));
    var launcherStyles = {
      position: 'fixed', bottom: '24px', width: '60px', height: '60px', 'border-radius': '50%', border: '0',
      margin: '0', padding: '0', background: accent, color: '#ffffff', cursor: 'pointer',
      'align-items': 'center', 'justify-content': 'center', 'z-index': '2147483647',
      'box-shadow': '0 6px 20px rgba(16, 24, 40, 0.3)',
    };
    launcherStyles[side] = '24px';
    applyStyles(launcher, launcherStyles);

    badge = document.createElement('span');
    badge.setAttribute('aria-hidden', 'true');
    badge.setAttribute('data-coachbot-badge', '');
    applyStyles(badge, {
      position: 'absolute', top: '-4px', right: '-4px', 'min-width': '22px', height: '22px', padding: '0 5px',
      'box-sizing': 'border-box', 'border-radius': '11px', background: '#b00020', color: '#ffffff',
      font: '700 12px/22px system-ui, sans-serif', 'align-items': 'center', 'justify-content': 'center',
      border: '2px solid #ffffff',
    });
    launcher.appendChild(badge);

    var query = new URLSearchParams({title: title, accent: accent, host: window.location.origin});
    frame = document.createElement('iframe');
    frame.id = 'coachbot-frame';
    frame.title = title;
    frame.src = chatOrigin + '/chat?' + query.toString();
    frame.setAttribute('sandbox',
                       'allow-scripts allow-same-origin allow-forms allow-popups ' +
                           'allow-popups-to-escape-sandbox allow-downloads');
    frame.setAttribute('referrerpolicy', 'no-referrer');
    frame.setAttribute('allow', 'clipboard-write');

    launcher.addEventListener('click', function () {
      if (isOpen) close();
      else open();
    });
    window.addEventListener('message', onMessage);
    document.addEventListener('click', function (event) {
      var trigger = event.target && event.target.closest ? event.target.closest('[data-coachbot-open]') : null;
      if (trigger) {
        event.preventDefault();
        open();
      }
    });
    var relayout = function () {
      layoutFrame();
      renderLauncher();
    };
    if (phone.addEventListener) phone.addEventListener('change', relayout);
    else phone.addListener(relayout);

    layoutFrame();
    document.body.appendChild(frame);
    document.body.appendChild(launcher);
    renderLauncher();
  }

  window.CoachbotWidget = {
    open: function () { if (launcher) open(); },
    close: function () { if (launcher) close(); },
    toggle: function () { if (launcher) (isOpen ? close : open)(); },
  };

  if (document.body) build();
  else document.addEventListener('DOMContentLoaded', build);
})();
