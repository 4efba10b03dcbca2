// coachbot's embed loader (docs/widget.md): a launcher button plus an iframe with the chat from coachbot's own
// origin, out of the host page's reach. Styles go through the CSSOM, which a host page's CSP allows, with
// !important so that host CSS cannot restyle them.
(function() {
'use strict';
if (window.CoachbotWidget) return;  // embedded twice: keep the first
var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
if (!script) return;
var origin = new URL(script.src, location.href).origin;
var settings = window.CoachbotSettings || {};
var option = function(name) {
  return script.getAttribute('data-' + name) || settings[name] || '';
};
var title = String(option('title') || 'Chat with our coaching assistant').slice(0, 80);
var accent = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(option('accent')) ? option('accent') : '#0f766e';
var side = option('position') === 'left' ? 'left' : 'right';
var phone = matchMedia('(max-width: 640px)');
var launcher, badge, frame;
var isOpen = false, ready = false, unread = 0;

function css(element, text) { element.style.cssText = text.replace(/;/g, ' !important;'); }

function icon(path) {
  var svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  var shape = svg.appendChild(document.createElementNS(svg.namespaceURI, 'path'));
  [[svg, 'viewBox', '0 0 24 24'], [svg, 'width', 28], [svg, 'height', 28], [svg, 'aria-hidden', true],
   [svg, 'focusable', false], [shape, 'fill', 'currentColor'], [shape, 'd', path]]
      .forEach(function(a) { a[0].setAttribute(a[1], a[2]); });
  return svg;
}
var CHAT = 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8.5L4 21.5V18a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z';
var CLOSE = 'M18.3 5.7 12 12l6.3 6.3-1.4 1.4-6.3-6.3-6.3 6.3-1.4-1.4L9.2 12 2.9 5.7l1.4-1.4 6.3 6.3 6.3-6.3z';

function render() {
  var full = phone.matches;
  launcher.setAttribute('aria-expanded', String(isOpen));
  launcher.setAttribute(
      'aria-label',
      (isOpen ? 'Close chat: ' : 'Open chat: ') + title + (!isOpen && unread ? ' (' + unread + ' unread)' : ''));
  launcher.replaceChild(icon(isOpen ? CLOSE : CHAT), launcher.firstChild);
  badge.textContent = unread > 9 ? '9+' : String(unread);
  badge.style.setProperty('display', !isOpen && unread ? 'block' : 'none', 'important');
  // On a phone the open chat fills the screen and shows its own close button.
  launcher.style.setProperty('display', isOpen && full ? 'none' : 'flex', 'important');
  css(frame,
      'position:fixed;z-index:2147483646;border:0;margin:0;padding:0;background:#fff;color-scheme:light;' +
          'display:' + (isOpen ? 'block' : 'none') + ';' +
          (full ? 'inset:0;width:100%;height:100%;max-height:none;border-radius:0;' :
                  'bottom:96px;' + side + ':24px;width:380px;height:600px;max-width:calc(100vw - 48px);' +
                   'max-height:calc(100vh - 120px);border-radius:14px;' +
                   'box-shadow:0 12px 40px rgba(16,24,40,.28);'));
}

function tell(type) {
  if (ready) frame.contentWindow.postMessage({source: 'coachbot-host', type: type}, origin);
}

function open() {
  if (isOpen) return;
  isOpen = true;
  unread = 0;
  render();
  frame.focus();
  tell('open');
}

function close() {
  if (!isOpen) return;
  isOpen = false;
  render();
  tell('close');
  launcher.focus();
}

function build() {
  launcher = document.createElement('button');
  launcher.type = 'button';
  launcher.id = 'coachbot-launcher';
  launcher.setAttribute('aria-controls', 'coachbot-frame');
  launcher.appendChild(icon(CHAT));
  css(launcher,
      'position:fixed;bottom:24px;' + side + ':24px;z-index:2147483647;width:60px;height:60px;' +
          'margin:0;padding:0;border:0;border-radius:50%;background:' + accent + ';color:#fff;' +
          'cursor:pointer;align-items:center;justify-content:center;' +
          'box-shadow:0 6px 20px rgba(16,24,40,.3);');
  badge = document.createElement('span');
  badge.setAttribute('aria-hidden', 'true');
  badge.setAttribute('data-coachbot-badge', '');
  css(badge,
      'position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 5px;' +
          'box-sizing:border-box;border:2px solid #fff;border-radius:11px;background:#b00020;color:#fff;' +
          'font:700 12px/18px system-ui,sans-serif;text-align:center;');
  launcher.appendChild(badge);

  frame = document.createElement('iframe');
  frame.id = 'coachbot-frame';
  frame.title = title;
  frame.src = origin + '/chat?' + new URLSearchParams({title: title, accent: accent, host: location.origin});
  // No top navigation from the chat; links open in new tabs, the export downloads.
  frame.setAttribute(
      'sandbox',
      'allow-scripts allow-same-origin allow-forms allow-popups ' +
          'allow-popups-to-escape-sandbox allow-downloads');
  frame.setAttribute('referrerpolicy', 'no-referrer');

  launcher.addEventListener('click', function() { isOpen ? close() : open(); });
  document.addEventListener('click', function(event) {
    if (event.target.closest && event.target.closest('[data-coachbot-open]')) {
      event.preventDefault();
      open();
    }
  });
  addEventListener('message', function(event) {
    // Only our own iframe, from our own origin, may drive the launcher.
    var data = event.data;
    if (event.origin !== origin || event.source !== frame.contentWindow || !data || data.source !== 'coachbot') {
      return;
    }
    if (data.type === 'ready') {
      ready = true;
      if (isOpen) tell('open');
    } else if (data.type === 'close') {
      close();
    } else if (data.type === 'unread') {
      unread = isOpen ? 0 : Math.max(0, Math.min(Math.floor(Number(data.count)) || 0, 999));
      render();
    }
  });
  (phone.addEventListener ? phone.addEventListener.bind(phone, 'change') : phone.addListener.bind(phone))(render);
  render();
  document.body.appendChild(frame);
  document.body.appendChild(launcher);
}

window.CoachbotWidget = {
  open: function() {
    if (launcher) open();
  },
  close: function() {
    if (launcher) close();
  },
};
if (document.body)
  build();
else
  document.addEventListener('DOMContentLoaded', build);
})();
