// Pure helpers of the live viewer: letterboxing, pointer mapping, modifiers, shortcuts,
// what the server's close codes mean.
// No DOM access here, so that node --test can check them (tests/live/test/geometry.test.mjs).

/** Where an image of imgW×imgH is drawn inside a box of boxW×boxH, scaled to fit and centred
 * (letterboxed): the drawn rectangle in box coordinates. */
export function fit(boxW, boxH, imgW, imgH) {
  if (!(boxW > 0 && boxH > 0 && imgW > 0 && imgH > 0)) return { x: 0, y: 0, w: 0, h: 0 };
  const scale = Math.min(boxW / imgW, boxH / imgH);
  const w = imgW * scale;
  const h = imgH * scale;
  return { x: (boxW - w) / 2, y: (boxH - h) / 2, w, h };
}

/** A point of the box (CSS px, relative to the box) as fractions of the drawn image, or null
 * when it falls on the letterbox bars. `clamp` keeps drags that leave the image on its edge. */
export function toFraction(px, py, rect, clamp = false) {
  if (!(rect.w > 0 && rect.h > 0)) return null;
  let fx = (px - rect.x) / rect.w;
  let fy = (py - rect.y) / rect.h;
  if (clamp) {
    fx = Math.min(1, Math.max(0, fx));
    fy = Math.min(1, Math.max(0, fy));
  } else if (fx < 0 || fx > 1 || fy < 0 || fy > 1) {
    return null;
  }
  return { x: fx, y: fy };
}

/** The inverse of toFraction: where a remote CSS-pixel point of a viewport of vw×vh shows
 * in the box. */
export function fromRemote(x, y, vw, vh, rect) {
  return { x: rect.x + (x / vw) * rect.w, y: rect.y + (y / vh) * rect.h };
}

/** CDP modifier bits of a DOM event: Alt 1, Ctrl 2, Meta 4, Shift 8. On a Mac, Cmd acts as
 * Ctrl, since the remote browser runs on Linux where shortcuts use Ctrl. */
export function modifiers(e, mac = false) {
  let m = 0;
  if (e.altKey) m |= 1;
  if (e.ctrlKey || (mac && e.metaKey)) m |= 2;
  if (e.metaKey && !mac) m |= 4;
  if (e.shiftKey) m |= 8;
  return m;
}

/** Whether a key press types a character of the human's keyboard layout rather than being a
 * shortcut: a single printable `key` with no Ctrl, Alt or Meta; or with AltGr, which Windows
 * reports as Ctrl+Alt (getModifierState('AltGraph') tells them apart: "@" is AltGr+Q on a
 * German layout, "ą" AltGr+A on a Polish one); or, on a Mac, with Option but neither Cmd nor
 * Ctrl (Option+L is "@" on a German Mac). */
export function typesCharacter(e, mac = false) {
  const key = e.key || '';
  if ([...key].length !== 1 || /[\u0000-\u001f\u007f]/.test(key)) return false;
  if (!e.ctrlKey && !e.altKey && !e.metaKey) return true;
  if (typeof e.getModifierState === 'function' && e.getModifierState('AltGraph')) return true;
  return mac && e.altKey && !e.ctrlKey && !e.metaKey;
}

/** The modifier bits a key event goes out with: a typed character keeps Shift only, so the
 * page gets "@" typed, not a Ctrl+Alt shortcut that types nothing. */
export function keyModifiers(e, mac = false) {
  const m = modifiers(e, mac);
  return typesCharacter(e, mac) ? m & 8 : m;
}

/** What a key press means to the viewer itself rather than the page: "paste" (let the local
 * paste event deliver the clipboard), "copy" or "cut" (fetch the selection before the key
 * goes out, since a cut empties it), or null (just forward the key). */
export function shortcut(e, mac = false) {
  if (typesCharacter(e, mac)) return null;
  const ctrl = e.ctrlKey || (mac && e.metaKey);
  if (!ctrl || e.altKey) return null;
  const k = (e.key || '').toLowerCase();
  if (k === 'v' || e.code === 'KeyV') return 'paste';
  if (k === 'c' || e.code === 'KeyC') return 'copy';
  if (k === 'x' || e.code === 'KeyX') return 'cut';
  return null;
}

/** What the close code of the viewer's socket means: "ended" (the session is over),
 * "expired" (this link no longer opens it), or "retry" (anything else: reconnect). The codes
 * are crates/server/src/live/viewer.rs's. */
export function closeMeaning(code) {
  if (code === 4000) return 'ended';
  if (code === 4001) return 'expired';
  return 'retry';
}

/** The sentences the viewer shows once it cannot show the session: a headline and a detail.
 * `reason` is the server's (for an ended session), shown as a sentence of its own. */
export function endedText(kind, reason) {
  if (kind === 'expired') {
    return { headline: 'This link has expired.', detail: 'Ask for a new link to the session.' };
  }
  let detail = (reason || '').trim();
  if (detail) {
    detail = detail[0].toUpperCase() + detail.slice(1);
    if (!/[.!?]$/.test(detail)) detail += '.';
  }
  return { headline: 'This session has ended.', detail };
}

/** Reconnect delay after `attempt` failures: 0.5 s doubling to 10 s, with ±20 % jitter. */
export function backoff(attempt, random = Math.random) {
  const base = Math.min(10000, 500 * 2 ** Math.max(0, attempt));
  return Math.round(base * (0.8 + 0.4 * random()));
}
