// Tandem live viewer: draws the session browser's JPEG frames and forwards the human's input.
// Protocol: crates/server/src/live/protocol.rs. No build step, no dependencies.
import {
  fit, toFraction, fromRemote, modifiers, keyModifiers, shortcut, backoff, closeMeaning, endedText,
} from './geometry.js';

const params = new URLSearchParams(location.search);
const token = params.get('token') || '';
const root = document.documentElement;
root.dataset.theme = params.get('theme') === 'light' ? 'light' : 'dark';
if (params.get('ui') === 'false') root.dataset.ui = 'false';
const mac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

const $ = (id) => document.getElementById(id);
const stage = $('stage');
const canvas = $('screen');
const ctx = canvas.getContext('2d');
const keys = $('keys');

// State, also readable by tests and embedding apps (window.tandemLive).
const state = {
  connected: false, mode: null, frames: 0, lastFrame: null, tabs: [], active: null,
  ended: null, dialog: null, chooser: null, downloads: [], bytes: 0,
  // What the agent does: {running, human}; human is the API's humanInput (or null).
  agent: { running: false, human: null },
  // Called after each frame is drawn, with the canvas; for measurements (benches/live_view.mjs).
  onframe: null,
  reconnects: 0,
  // Drops the connection as a network failure would; the viewer reconnects with backoff, or
  // after `after` ms when given (an outage of that length).
  reconnect(after) {
    holdReconnect = typeof after === 'number' ? after : null;
    if (socket) socket.close();
  },
};
window.tandemLive = state;

let socket = null;
let attempt = 0;
let holdReconnect = null;
let bitmap = null; // the frame on screen
let decoding = false;
let nextBlob = null; // newest frame waiting for the decoder: older ones are dropped
let rect = { x: 0, y: 0, w: 0, h: 0 };
let clockOffset = 0;
let clock = { idle: null, ends: null };

function control() { return state.mode === 'control'; }

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

// ---- frames ----------------------------------------------------------------------------

function layout() {
  const dpr = window.devicePixelRatio || 1;
  const w = stage.clientWidth;
  const h = stage.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  rect = bitmap ? fit(w, h, bitmap.width, bitmap.height) : { x: 0, y: 0, w: 0, h: 0 };
  draw();
}

function draw() {
  const dpr = window.devicePixelRatio || 1;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!bitmap) return;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, rect.x * dpr, rect.y * dpr, rect.w * dpr, rect.h * dpr);
}

async function showFrame(blob) {
  if (decoding) { nextBlob = blob; return; }
  decoding = true;
  try {
    let current = blob;
    while (current) {
      nextBlob = null;
      try {
        const image = await createImageBitmap(current);
        if (bitmap) bitmap.close();
        bitmap = image;
        state.frames += 1;
        state.lastFrame = { w: image.width, h: image.height, at: performance.now(), bytes: current.size };
        rect = fit(stage.clientWidth, stage.clientHeight, image.width, image.height);
        draw();
        if (typeof state.onframe === 'function') state.onframe(canvas);
      } catch (e) { /* a broken frame: skip it */ }
      current = nextBlob;
    }
  } finally {
    decoding = false;
  }
}

new ResizeObserver(() => { layout(); sendViewport(); }).observe(stage);
let viewportTimer = null;
function sendViewport() {
  clearTimeout(viewportTimer);
  viewportTimer = setTimeout(() => {
    send({ t: 'viewport', w: stage.clientWidth, h: stage.clientHeight, dpr: window.devicePixelRatio || 1 });
    sendResize();
  }, 150);
}

// The picture area's size, for a browser created with `allowResizing` to take as its
// viewport (the server ignores it otherwise, and from a view-only link).
function sendResize() {
  send({ t: 'resize', w: stage.clientWidth, h: stage.clientHeight });
}

// ---- connection --------------------------------------------------------------------------

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const url = `${scheme}//${location.host}${location.pathname.replace(/\/$/, '')}/ws?token=${encodeURIComponent(token)}`;
  socket = new WebSocket(url);
  socket.binaryType = 'blob';
  socket.onopen = () => {
    state.connected = true;
    attempt = 0;
    hideNotice('reconnect');
    send({ t: 'viewport', w: stage.clientWidth, h: stage.clientHeight, dpr: window.devicePixelRatio || 1 });
    sendResize();
  };
  socket.onmessage = (event) => {
    if (typeof event.data !== 'string') {
      state.bytes += event.data.size;
      // Frames in flight are capped by these acks: on a slow link the next frame leaves the
      // server only once this one is here, so what is shown is never seconds old.
      send({ t: 'ack' });
      showFrame(event.data);
      return;
    }
    let message;
    try { message = JSON.parse(event.data); } catch { return; }
    handle(message);
  };
  socket.onclose = (event) => {
    state.connected = false;
    if (state.ended) return;
    const meaning = closeMeaning(event.code);
    if (meaning !== 'retry') {
      showEnded(meaning === 'expired' ? 'expired' : 'session', null);
      return;
    }
    const delay = holdReconnect !== null ? holdReconnect : backoff(attempt++);
    holdReconnect = null;
    state.reconnects += 1;
    showNotice('reconnect', event.code === 1011
      ? 'The live view could not start; retrying\u2026'
      : 'Connection lost; reconnecting\u2026');
    setTimeout(connect, delay);
  };
}

/** The session cannot be shown any more: say why, once, and stop. */
function showEnded(kind, reason) {
  const text = endedText(kind, reason);
  state.ended = kind === 'expired' ? text.headline : (reason || text.headline);
  $('endedtext').textContent = text.headline;
  $('endedwhy').textContent = text.detail;
  $('ended').hidden = false;
  $('agent').hidden = true;
  clearOverlays();
  hideNotice('reconnect');
  hideNotice('clock');
}

/** Drops every overlay of the page's state (dialog, file chooser, select list): on `hello`
 * the server sends its current state next, which draws again those still open. */
function clearOverlays() {
  state.dialog = null;
  $('dialog').hidden = true;
  state.chooser = null;
  $('chooser').hidden = true;
  closeSelect();
}

function handle(m) {
  switch (m.t) {
    case 'hello':
      clearOverlays();
      state.mode = m.mode;
      root.dataset.mode = m.mode;
      $('badge').textContent = m.mode === 'view' ? 'view only' : '';
      break;
    case 'tabs': renderTabs(m.tabs, m.active); break;
    case 'location':
      if (document.activeElement !== $('address')) $('address').value = m.url === 'about:blank' ? '' : m.url;
      $('back').disabled = !m.back;
      $('forward').disabled = !m.forward;
      break;
    case 'dialog': openDialog(m); break;
    case 'dialogClosed': closeDialog(); break;
    case 'fileChooser': openChooser(m.multiple); break;
    case 'fileChooserClosed': closeChooser(); break;
    case 'select': openSelect(m); break;
    case 'selectClosed': if (selectShown === m.id) closeSelect(); break;
    case 'downloads': renderDownloads(m.items); break;
    case 'clipboard': copyOut(m.text); break;
    case 'clock':
      clockOffset = m.now - Date.now();
      clock = { idle: m.idleDeadline, ends: m.endsAt };
      checkClock();
      break;
    case 'ended': showEnded('session', m.reason); break;
    case 'agent': renderAgent(m.running, m.human); break;
    case 'tabCrashed':
      if (m.crashed) showNotice('crash', 'This tab crashed. Press Reload (\u21bb) to bring it back.', 0);
      else hideNotice('crash');
      break;
    case 'error': showNotice('error', m.detail, 4000); break;
    default: break;
  }
}

// ---- the agent bar: questions, approvals, control --------------------------------------

function renderAgent(running, human) {
  state.agent = { running, human: human || null };
  const bar = $('agent');
  const kind = human ? human.type : (running ? 'working' : null);
  bar.hidden = !kind || state.ended;
  bar.dataset.kind = kind || '';
  const show = (id, on) => { $(id).hidden = !on; };
  let text = '';
  if (kind === 'question') text = `The agent asks: ${human.question}`;
  else if (kind === 'approval') text = `The agent asks for approval: ${human.action} (${human.kind})`;
  else if (kind === 'control') text = 'You have control. The agent waits until you hand it back.';
  else if (kind === 'working') text = 'The agent is working. Click or type to take control.';
  $('agenttext').textContent = text;
  const answer = $('agentanswer');
  if (kind !== 'question') answer.value = '';
  show('agentanswer', kind === 'question');
  show('agentdone', kind === 'question');
  show('agentapprove', kind === 'approval');
  show('agentreject', kind === 'approval');
  show('agenttake', kind === 'working');
  show('agentback', kind === 'control');
  layout();
}
$('agentform').onsubmit = (e) => {
  e.preventDefault();
  const answer = $('agentanswer').value.trim();
  send({ t: 'resume', answer: answer || null });
  $('agentanswer').value = '';
};
$('agentapprove').onclick = () => send({ t: 'resume', approve: true });
$('agentreject').onclick = () => send({ t: 'resume', approve: false });
$('agenttake').onclick = () => send({ t: 'takeControl' });
$('agentback').onclick = () => { send({ t: 'resume' }); focusKeys(); };

// ---- notices and the inactivity warning --------------------------------------------------

let noticeKind = null;
let noticeTimer = null;
function showNotice(kind, text, ttl, stay = false) {
  noticeKind = kind;
  $('noticetext').textContent = text;
  $('stay').hidden = !stay || !control();
  $('notice').hidden = false;
  clearTimeout(noticeTimer);
  if (ttl) noticeTimer = setTimeout(() => hideNotice(kind), ttl);
}
function hideNotice(kind) {
  if (noticeKind === kind) { $('notice').hidden = true; noticeKind = null; }
}
function checkClock() {
  if (state.ended) return;
  const now = Date.now() + clockOffset;
  const deadlines = [clock.idle, clock.ends].filter((d) => typeof d === 'number');
  if (!deadlines.length) { hideNotice('clock'); return; }
  const left = Math.min(...deadlines) - now;
  if (left <= 60000 && left > 0) {
    // "Stay" only helps against the inactivity timeout; the maximum duration is final.
    const idle = clock.idle !== null && Math.min(...deadlines) === clock.idle;
    const why = idle ? ' for inactivity' : '';
    showNotice('clock', `This session will time out${why} in ${Math.ceil(left / 1000)} s.`, 0, idle);
  } else {
    hideNotice('clock');
  }
}
setInterval(checkClock, 1000);
$('stay').onclick = () => send({ t: 'touch' });

// ---- tabs, address bar, downloads ----------------------------------------------------------

function renderTabs(tabs, active) {
  state.tabs = tabs;
  state.active = active;
  const list = $('tablist');
  list.replaceChildren(...tabs.map((tab) => {
    const el = document.createElement('div');
    el.className = 'tab' + (tab.id === active ? ' active' : '');
    el.setAttribute('role', 'tab');
    el.dataset.id = tab.id;
    el.title = tab.url;
    const title = document.createElement('span');
    title.className = 'title';
    title.textContent = tab.title || tab.url || 'New tab';
    const close = document.createElement('button');
    close.className = 'close control';
    close.textContent = '\u00d7';
    close.title = 'Close tab';
    close.onclick = (e) => { e.stopPropagation(); send({ t: 'tab', action: 'close', id: tab.id }); };
    el.append(title, close);
    el.onclick = () => send({ t: 'tab', action: 'activate', id: tab.id });
    return el;
  }));
  const current = tabs.find((t) => t.id === active);
  document.title = current && current.title ? `${current.title} \u2013 Tandem` : 'Tandem live view';
}
$('newtab').onclick = () => send({ t: 'tab', action: 'new' });
$('back').onclick = () => send({ t: 'nav', action: 'back' });
$('forward').onclick = () => send({ t: 'nav', action: 'forward' });
$('reload').onclick = () => send({ t: 'nav', action: 'reload' });
$('go').onsubmit = (e) => {
  e.preventDefault();
  send({ t: 'nav', action: 'go', url: $('address').value });
  $('address').blur();
  focusKeys();
};

// Downloads are announced, never pushed in front of the page: the bar's button (or, without
// the bar, a small chip in a corner) shows them; the list opens on a click.
const dlSeen = new Set();
function renderDownloads(items) {
  state.downloads = items;
  const panelOpen = !$('downloads').hidden;
  if (panelOpen) for (const d of items) dlSeen.add(d.id);
  const fresh = items.filter((d) => !dlSeen.has(d.id));
  $('dlbutton').hidden = items.length === 0;
  $('dlbutton').classList.toggle('fresh', fresh.length > 0);
  $('dlcount').textContent = items.length ? String(items.length) : '';
  $('dlchip').hidden = fresh.length === 0 || root.dataset.ui !== 'false';
  if (fresh.length) {
    const last = fresh[fresh.length - 1];
    $('dlopen').textContent = `\u2193 ${last.name || 'Download'}${fresh.length > 1 ? ` +${fresh.length - 1}` : ''}`;
  }
  $('dllist').replaceChildren(...items.map((d) => {
    const li = document.createElement('li');
    if (d.status === 'completed' && control()) {
      const a = document.createElement('a');
      a.href = `${location.pathname.replace(/\/$/, '')}/downloads/${encodeURIComponent(d.id)}?token=${encodeURIComponent(token)}`;
      a.textContent = d.name || d.id;
      a.setAttribute('download', d.name || '');
      li.append(a);
    } else {
      li.textContent = `${d.name || d.id} (${d.status === 'completed' ? 'done' : d.status === 'canceled' ? 'cancelled' : 'downloading'})`;
    }
    return li;
  }));
}
function showDownloads(open) {
  $('downloads').hidden = !open;
  renderDownloads(state.downloads);
}
function dismissDownloads() {
  for (const d of state.downloads) dlSeen.add(d.id);
  renderDownloads(state.downloads);
}
$('dlbutton').onclick = () => showDownloads($('downloads').hidden);
$('dlopen').onclick = () => showDownloads(true);
$('dldismiss').onclick = dismissDownloads;
$('dlclose').onclick = () => showDownloads(false);

// ---- dialogs, file choosers, selects -------------------------------------------------------

function openDialog(m) {
  state.dialog = m;
  $('dialogmessage').textContent = m.kind === 'beforeunload'
    ? 'This page asks whether you want to leave it.' + (m.message ? `\n\n${m.message}` : '')
    : m.message;
  $('dialoginput').hidden = m.kind !== 'prompt';
  $('dialoginput').value = m.defaultPrompt || '';
  $('dialogcancel').hidden = m.kind === 'alert';
  $('dialogok').hidden = !control();
  $('dialogcancel').disabled = !control();
  $('dialog').hidden = false;
  (m.kind === 'prompt' ? $('dialoginput') : $('dialogok')).focus();
}
function closeDialog() { state.dialog = null; $('dialog').hidden = true; focusKeys(); }
$('dialogform').onsubmit = (e) => {
  e.preventDefault();
  const prompt = state.dialog && state.dialog.kind === 'prompt';
  send({ t: 'dialog', accept: true, text: prompt ? $('dialoginput').value : null });
  closeDialog();
};
$('dialogcancel').onclick = () => { send({ t: 'dialog', accept: false }); closeDialog(); };

function openChooser(multiple) {
  state.chooser = { multiple };
  if (!control()) return;
  $('fileinput').multiple = !!multiple;
  $('fileinput').value = '';
  $('chooser').hidden = false;
}
function closeChooser() { state.chooser = null; $('chooser').hidden = true; }
/** Bytes of a file per `chunk` message: the server bounds a message to 4 MiB. */
const UPLOAD_CHUNK = 1 << 20;
/** Upload ids, unique on this page. */
let uploadsSent = 0;
$('fileinput').onchange = async () => {
  const chosen = [...$('fileinput').files];
  closeChooser();
  const uploads = [];
  const sent = socket;
  for (const f of chosen) {
    const id = ++uploadsSent;
    uploads.push(id);
    send({ t: 'upload', id, name: f.name, size: f.size });
    for (let offset = 0; offset < f.size; offset += UPLOAD_CHUNK) {
      const data = await base64(f.slice(offset, offset + UPLOAD_CHUNK));
      // Keep a few chunks at most in the socket's buffer; a reconnect loses the upload
      // (the server then says so when the files are handed over).
      while (socket === sent && sent.readyState === WebSocket.OPEN && sent.bufferedAmount > 4 * UPLOAD_CHUNK) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      send({ t: 'chunk', id, offset, data });
    }
  }
  send({ t: 'files', uploads });
};
$('choosercancel').onclick = () => { send({ t: 'files', uploads: [] }); closeChooser(); };
function base64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/** The id of the `<select>` whose list is open here, if any. */
let selectShown = null;
function openSelect(m) {
  if (!control()) return;
  const popup = $('select');
  const [vw, vh] = m.viewport;
  const [x, y, w, h] = m.rect;
  const at = fromRemote(x, y + h, vw || 1, vh || 1, rect);
  const width = (w / (vw || 1)) * rect.w;
  popup.style.left = `${at.x}px`;
  popup.style.top = `${at.y}px`;
  popup.style.minWidth = `${Math.max(120, width)}px`;
  popup.replaceChildren(...m.options.map((o, index) => {
    const el = document.createElement('div');
    el.textContent = o.label;
    el.className = (o.selected ? 'selected' : '') + (o.disabled ? ' disabled' : '');
    el.setAttribute('role', 'option');
    if (!o.disabled) {
      el.onmousedown = (e) => {
        e.preventDefault();
        send({ t: 'select', id: m.id, index });
        closeSelect();
      };
    }
    return el;
  }));
  popup.hidden = false;
  selectShown = m.id;
}
function closeSelect() {
  $('select').hidden = true;
  selectShown = null;
}
/** The human closed the list without a choice (a click elsewhere, Escape): the page's select
 * is closed for every viewer, as a native popup would be. */
function dismissSelect() {
  if (selectShown !== null) send({ t: 'select', id: selectShown, index: null });
  closeSelect();
}

// ---- clipboard -----------------------------------------------------------------------------

async function copyOut(text) {
  // An empty selection copies nothing: the human's clipboard keeps what it had.
  if (!text) return;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Without clipboard-write permission (an iframe without allow=), fall back to a copy
    // command on the hidden textarea.
    keys.value = text;
    keys.select();
    try { document.execCommand('copy'); } catch { /* nothing more to try */ }
    keys.value = '';
  }
}

// ---- input ---------------------------------------------------------------------------------

function focusKeys() { keys.focus({ preventScroll: true }); }

function point(e, clamp) {
  const box = canvas.getBoundingClientRect();
  return toFraction(e.clientX - box.left, e.clientY - box.top, rect, clamp);
}

let dragging = false;
let pendingMove = null;
let inside = false; // the pointer is over the picture (the remote page has it hovering)
function mouse(kind, e, p) {
  send({
    t: 'mouse', kind, x: p.x, y: p.y, button: e.button, buttons: e.buttons,
    clickCount: kind === 'down' || kind === 'up' ? Math.max(1, e.detail || 1) : 0, modifiers: modifiers(e, mac),
  });
}
canvas.addEventListener('mousedown', (e) => {
  e.preventDefault();
  focusKeys();
  dismissSelect();
  if (!control()) return;
  const p = point(e, false);
  if (!p) return;
  // A move still waiting for its animation frame goes first: events keep their order.
  flushMove();
  dragging = true;
  inside = true;
  mouse('down', e, p);
});
window.addEventListener('mouseup', (e) => {
  if (!dragging || !control()) return;
  dragging = false;
  flushMove();
  const p = point(e, true);
  if (p) mouse('up', e, p);
});
window.addEventListener('mousemove', (e) => {
  if (!control()) return;
  if (!dragging && e.target !== canvas) return;
  const p = point(e, dragging);
  if (!p) { leave(); return; }
  inside = true;
  // Coalesce moves to one per animation frame; clicks are never delayed.
  const first = pendingMove === null;
  pendingMove = { e, p };
  if (first) requestAnimationFrame(flushMove);
});
function flushMove() {
  if (!pendingMove) return;
  const { e, p } = pendingMove;
  pendingMove = null;
  mouse('move', e, p);
}
// The pointer left the picture (off the canvas, or onto the letterbox bars): the remote
// pointer leaves too, so hover menus and tooltips close as they would.
function leave() {
  if (!inside || dragging || !control()) return;
  inside = false;
  pendingMove = null;
  send({ t: 'mouse', kind: 'leave', x: 0, y: 0, button: 0, buttons: 0, clickCount: 0, modifiers: 0 });
}
canvas.addEventListener('mouseleave', leave);
canvas.addEventListener('wheel', (e) => {
  e.preventDefault();
  if (!control()) return;
  const p = point(e, false);
  if (!p) return;
  flushMove();
  const unit = e.deltaMode === 1 ? 40 : e.deltaMode === 2 ? stage.clientHeight : 1;
  send({
    t: 'mouse', kind: 'wheel', x: p.x, y: p.y, button: 0, buttons: e.buttons, clickCount: 0,
    modifiers: modifiers(e, mac), deltaX: e.deltaX * unit, deltaY: e.deltaY * unit,
  });
}, { passive: false });
canvas.addEventListener('contextmenu', (e) => e.preventDefault());

// Touch screens: a tap is a click (the browser's own compatibility mouse events above); a
// one-finger drag scrolls the page under it, so the content follows the finger as it would on
// the phone itself (the CSS keeps the viewer page from panning; pinch zoom stays the viewer's).
let swipe = null;
canvas.addEventListener('touchstart', (e) => {
  const t = e.touches.length === 1 ? e.touches[0] : null;
  swipe = t ? { x: t.clientX, y: t.clientY, moved: false } : null;
}, { passive: true });
canvas.addEventListener('touchmove', (e) => {
  if (!swipe || e.touches.length !== 1 || !control()) return;
  const t = e.touches[0];
  const dx = swipe.x - t.clientX;
  const dy = swipe.y - t.clientY;
  // A finger never holds still: a tap that wobbles a few pixels stays a tap.
  if (!swipe.moved && Math.hypot(dx, dy) < 8) return;
  e.preventDefault();
  swipe = { x: t.clientX, y: t.clientY, moved: true };
  const p = point(t, true);
  if (!p || !(rect.w > 0 && rect.h > 0)) return;
  flushMove();
  send({
    t: 'mouse', kind: 'wheel', x: p.x, y: p.y, button: 0, buttons: 0, clickCount: 0, modifiers: 0,
    deltaX: dx / rect.w, deltaY: dy / rect.h, picture: true,
  });
}, { passive: false });
canvas.addEventListener('touchend', (e) => {
  // A drag is not a tap: no click at the spot where the finger let go.
  if (swipe && swipe.moved) e.preventDefault();
  swipe = null;
}, { passive: false });
canvas.addEventListener('touchcancel', () => { swipe = null; });

// Keys go to a hidden textarea, which also receives pastes and IME compositions.
let composing = false;
keys.addEventListener('keydown', (e) => {
  if (!control()) { e.preventDefault(); return; }
  if (e.isComposing || composing || e.keyCode === 229) return;
  const special = shortcut(e, mac);
  if (special === 'paste') return; // the paste event below delivers the clipboard
  e.preventDefault();
  if (e.key === 'Escape') dismissSelect();
  // Input is replayed in order: the selection is read before the key goes out, which a cut
  // would empty first.
  if (special === 'copy' || special === 'cut') send({ t: 'copy' });
  send({ t: 'key', down: true, key: e.key, code: e.code, modifiers: keyModifiers(e, mac), repeat: e.repeat });
});
keys.addEventListener('keyup', (e) => {
  if (!control() || e.isComposing || composing || e.keyCode === 229) return;
  if (shortcut(e, mac) === 'paste') return;
  e.preventDefault();
  send({ t: 'key', down: false, key: e.key, code: e.code, modifiers: keyModifiers(e, mac), repeat: false });
});
keys.addEventListener('paste', (e) => {
  e.preventDefault();
  if (!control()) return;
  const text = e.clipboardData ? e.clipboardData.getData('text/plain') : '';
  if (text) send({ t: 'text', text });
});
keys.addEventListener('compositionstart', () => { composing = true; });
keys.addEventListener('compositionend', (e) => {
  composing = false;
  if (control() && e.data) send({ t: 'text', text: e.data });
  keys.value = '';
});
keys.addEventListener('input', (e) => {
  // Text that came without usable key events (virtual keyboards): insert it as is.
  if (composing || e.isComposing) return;
  if (control() && keys.value) send({ t: 'text', text: keys.value });
  keys.value = '';
});

if (root.dataset.ended) {
  // The server rendered the page of an ended session (or an expired link): nothing to join.
  showEnded(root.dataset.ended, root.dataset.reason || null);
} else {
  connect();
}
layout();
