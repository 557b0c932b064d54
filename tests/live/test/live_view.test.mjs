// The live view end to end: a real `tandem serve`, a real session browser, and the viewer page
// in Playwright's headless Chromium. Every effect is checked in the session's browser, through
// reports its fixture pages send to this test's own page server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startTandem, startFixtures, launchChromium, waitForPicture, waitForFrame, pictureCentre, goTo,
  remotePoint, waitForClipboard, typeAndCopy, clipboardViewer,
} from '../support.mjs';

let tandem;
let fixtures;
let chromium;
let session;
let context;
let viewer;

before(async () => {
  [tandem, fixtures, chromium] = await Promise.all([startTandem(), startFixtures(), launchChromium()]);
  const created = await tandem.api('POST', '/sessions', {});
  assert.equal(created.status, 200);
  session = created.json;
  ({ context, viewer } = await clipboardViewer(chromium, tandem, session));
});

after(async () => {
  if (chromium) await chromium.close();
  if (fixtures) await fixtures.close();
  if (tandem) await tandem.stop();
});

async function clickRemote(x, y, options) {
  const p = await remotePoint(viewer, x, y);
  const target = await viewer.evaluate(([x, y]) => {
    const el = document.elementFromPoint(x, y);
    return el && (el.id || el.tagName);
  }, [p.x, p.y]);
  assert.equal(target, 'screen', 'nothing of the viewer covers the picture');
  await viewer.mouse.click(p.x, p.y, options);
}

/** A token signed with the server's key from its data directory, as the server would. */
function sign(claims) {
  const key = Buffer.from(readFileSync(join(tandem.dataDir, 'secret'), 'utf8').trim(), 'base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const mac = createHmac('sha256', key).update(payload).digest('base64url');
  return `${payload}.${mac}`;
}

test('the first frame comes at once and the page is embeddable', async () => {
  // A fresh session shows about:blank: a still, white page, drawn over the whole picture.
  await waitForFrame(viewer);
  const [r, g, b] = await pictureCentre(viewer);
  assert.ok(r > 245 && g > 245 && b > 245, `the picture is the blank page: ${[r, g, b]}`);
  const res = await fetch(session.liveUrl);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-frame-options'), null);
  assert.equal(session.viewUrl.startsWith(`${tandem.base}/live/${session.id}?token=`), true);
});

test('the page runs under its Content-Security-Policy: frames and its scripts, no violation', async () => {
  const res = await fetch(session.liveUrl);
  const csp = res.headers.get('content-security-policy');
  assert.match(csp, /script-src 'self';/);
  assert.match(csp, /frame-ancestors \*/);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  const strict = await chromium.strictContext({ viewport: { width: 1280, height: 860 } });
  try {
    const page = await strict.newPage();
    const violations = [];
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
    await page.goto(session.viewUrl);
    // Polled from here: `evaluate` is not string evaluation inside the page.
    const deadline = Date.now() + 20000;
    while (!(await page.evaluate(() => window.tandemLive && window.tandemLive.frames > 0))) {
      assert.ok(Date.now() < deadline, 'a frame under the policy');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(violations, []);
  } finally {
    await strict.close();
  }
});

test('a click reaches the page in the session browser', async () => {
  await goTo(viewer, fixtures.url('/live-button.html'));
  await waitForPicture(viewer);
  const since = Date.now();
  await clickRemote(250, 160);
  const report = await fixtures.waitFor((r) => r.event === 'click', { since });
  assert.equal(report.n, 1);
  // The tab strip shows the title the click set.
  await viewer.waitForFunction(() => document.querySelector('.tab.active .title').textContent === 'pressed 1');
});

test('fast typing neither drops nor doubles characters; Ctrl+A and Backspace clear it', async () => {
  await goTo(viewer, fixtures.url('/live-input.html'));
  await clickRemote(400, 75);
  const text = 'The quick brown fox jumps over the lazy dog 0123456789 !@#';
  const since = Date.now();
  await viewer.keyboard.type(text, { delay: 0 });
  const typed = await fixtures.waitFor((r) => r.event === 'input' && r.value.length >= text.length, { since });
  assert.equal(typed.value, text);
  const cleared = Date.now();
  await viewer.keyboard.press('Control+A');
  await viewer.keyboard.press('Backspace');
  const empty = await fixtures.waitFor((r) => r.event === 'input' && r.value === '', { since: cleared });
  assert.equal(empty.value, '');
});

/** Sends the key events a real keyboard of another layout would produce, to the viewer's key
 * target: Playwright's own keyboard has the US layout only. */
async function layoutKey(page, init) {
  await page.evaluate((init) => {
    const keys = document.getElementById('keys');
    keys.focus();
    for (const type of ['keydown', 'keyup']) {
      keys.dispatchEvent(new KeyboardEvent(type, { bubbles: true, cancelable: true, ...init }));
    }
  }, init);
}

test('AltGr and Option characters are typed, not taken for shortcuts', async () => {
  await goTo(viewer, fixtures.url('/live-input.html'));
  await clickRemote(400, 75);
  const since = Date.now();
  await viewer.keyboard.type('me', { delay: 0 });
  // Windows reports AltGr as Ctrl+Alt: "@" is AltGr+Q on a German layout, "ą" AltGr+A on a
  // Polish one.
  await layoutKey(viewer, { key: '@', code: 'KeyQ', ctrlKey: true, altKey: true, modifierAltGraph: true });
  await viewer.keyboard.type('x.pl', { delay: 0 });
  await layoutKey(viewer, { key: 'ą', code: 'KeyA', ctrlKey: true, altKey: true, modifierAltGraph: true });
  const typed = await fixtures.waitFor((r) => r.event === 'input' && r.value.length >= 8, { since });
  assert.equal(typed.value, 'me@x.plą');
  // A German Mac: Option+L is "@" (no Cmd, no Ctrl).
  const mac = await context.newPage();
  try {
    await mac.addInitScript(() => Object.defineProperty(Navigator.prototype, 'platform', { get: () => 'MacIntel' }));
    await mac.goto(session.liveUrl);
    await waitForPicture(mac);
    const p = await remotePoint(mac, 400, 75);
    await mac.mouse.click(p.x, p.y);
    const at = Date.now();
    await mac.keyboard.press('End');
    await layoutKey(mac, { key: '@', code: 'KeyL', altKey: true });
    const more = await fixtures.waitFor((r) => r.event === 'input' && r.value === 'me@x.plą@', { since: at });
    assert.equal(more.value, 'me@x.plą@');
  } finally {
    await mac.close();
  }
  // Clear the field for the clipboard test.
  const cleared = Date.now();
  await clickRemote(400, 75);
  await viewer.keyboard.press('Control+A');
  await viewer.keyboard.press('Backspace');
  await fixtures.waitFor((r) => r.event === 'input' && r.value === '', { since: cleared });
});

test('Enter and the arrow keys edit and submit as on a real keyboard', async () => {
  await goTo(viewer, fixtures.url('/live-keys.html'));
  await clickRemote(300, 100);
  let since = Date.now();
  await viewer.keyboard.type('ac', { delay: 0 });
  await viewer.keyboard.press('ArrowLeft');
  await viewer.keyboard.type('b', { delay: 0 });
  await viewer.keyboard.press('End');
  await viewer.keyboard.press('Enter');
  await viewer.keyboard.type('d', { delay: 0 });
  // Up from the end of "d" lands after "a" on the first line.
  await viewer.keyboard.press('ArrowUp');
  await viewer.keyboard.type('X', { delay: 0 });
  const edited = await fixtures.waitFor((r) => r.event === 'textarea' && r.value.includes('X'), { since });
  assert.equal(edited.value, 'aXbc\nd');
  since = Date.now();
  await clickRemote(200, 270);
  await viewer.keyboard.type('search words', { delay: 0 });
  await viewer.keyboard.press('Enter');
  const submitted = await fixtures.waitFor((r) => r.event === 'submit', { since });
  assert.equal(submitted.value, 'search words');
});

test('paste goes in and copy comes out through the clipboard', async () => {
  await goTo(viewer, fixtures.url('/live-input.html'));
  await clickRemote(400, 75);
  await viewer.evaluate(() => navigator.clipboard.writeText('pasted words'));
  const since = Date.now();
  await viewer.keyboard.press('Control+V');
  const pasted = await fixtures.waitFor((r) => r.event === 'input' && r.value === 'pasted words', { since });
  assert.equal(pasted.value, 'pasted words');
  await viewer.evaluate(() => navigator.clipboard.writeText(''));
  await viewer.keyboard.press('Control+A');
  await viewer.keyboard.press('Control+C');
  await waitForClipboard(viewer, 'pasted words');
});

test('cut takes the text out of the page into the clipboard, and paste puts it back', async () => {
  await viewer.evaluate(() => navigator.clipboard.writeText('something else'));
  let since = Date.now();
  await viewer.keyboard.press('Control+A');
  await viewer.keyboard.press('Control+X');
  const emptied = await fixtures.waitFor((r) => r.event === 'input' && r.value === '', { since });
  assert.equal(emptied.value, '', 'the cut removed the text in the page');
  await waitForClipboard(viewer, 'pasted words');
  since = Date.now();
  await viewer.keyboard.press('Control+V');
  const back = await fixtures.waitFor((r) => r.event === 'input' && r.value === 'pasted words', { since });
  assert.equal(back.value, 'pasted words');
});

test('copying an empty selection leaves the human clipboard alone', async () => {
  await viewer.keyboard.press('End'); // the caret after the text, nothing selected
  await viewer.evaluate(() => navigator.clipboard.writeText('keep me'));
  await viewer.keyboard.press('Control+C');
  // Input is replayed in order: once a key typed after the copy arrived, the copy is done.
  const since = Date.now();
  await viewer.keyboard.type('!', { delay: 0 });
  await fixtures.waitFor((r) => r.event === 'input' && r.value === 'pasted words!', { since });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await viewer.evaluate(() => navigator.clipboard.readText()), 'keep me');
});

test('the wheel scrolls the page', async () => {
  await goTo(viewer, fixtures.url('/live-scroll.html'));
  const p = await remotePoint(viewer, 600, 300);
  await viewer.mouse.move(p.x, p.y);
  const since = Date.now();
  await viewer.mouse.wheel(0, 900);
  const scrolled = await fixtures.waitFor((r) => r.event === 'scroll' && r.y > 0, { since });
  assert.ok(scrolled.y >= 300, `scrolled to ${scrolled.y}`);
});

test('double click, drag with the button held, and right click', async () => {
  await goTo(viewer, fixtures.url('/live-mouse.html'));
  let since = Date.now();
  const a = await remotePoint(viewer, 300, 200);
  await viewer.mouse.dblclick(a.x, a.y);
  const dbl = await fixtures.waitFor((r) => r.event === 'dblclick', { since });
  assert.equal(dbl.detail, 2);
  since = Date.now();
  const b = await remotePoint(viewer, 500, 250);
  await viewer.mouse.move(a.x, a.y);
  await viewer.mouse.down();
  await viewer.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 4 });
  await viewer.mouse.move(b.x, b.y, { steps: 4 });
  await viewer.mouse.up();
  const drag = await fixtures.waitFor((r) => r.event === 'drag', { since });
  assert.ok(Math.abs(drag.dx - 200) <= 3 && Math.abs(drag.dy - 50) <= 3, JSON.stringify(drag));
  assert.ok(Number(drag.moved) > 0, 'mousemove events carried the held button');
  since = Date.now();
  await viewer.mouse.click(a.x, a.y, { button: 'right' });
  const right = await fixtures.waitFor((r) => r.event === 'contextmenu', { since });
  assert.equal(right.button, 2);
});

test('the remote pointer leaves when the human pointer leaves the picture', async () => {
  await goTo(viewer, fixtures.url('/live-hover.html'));
  let since = Date.now();
  const p = await remotePoint(viewer, 250, 160);
  await viewer.mouse.move(p.x - 30, p.y);
  await viewer.mouse.move(p.x, p.y, { steps: 3 });
  await fixtures.waitFor((r) => r.event === 'hover' && r.on === true, { since });
  since = Date.now();
  // Straight out of the picture onto the viewer's own address bar: no move over the page's
  // other parts comes in between.
  const bar = await viewer.locator('#address').boundingBox();
  await viewer.mouse.move(bar.x + 40, bar.y + bar.height / 2);
  const left = await fixtures.waitFor((r) => r.event === 'hover' && r.on === false, { since });
  assert.equal(left.on, false);
});

test('a target=_blank link opens a tab that the viewer follows and can close', async () => {
  await goTo(viewer, fixtures.url('/live-blank.html'));
  const before = await viewer.evaluate(() => window.tandemLive.tabs.length);
  const since = Date.now();
  await clickRemote(150, 120);
  await fixtures.waitFor((r) => r.event === 'popup', { since });
  await viewer.waitForFunction((n) => {
    const s = window.tandemLive;
    const active = s.tabs.find((t) => t.id === s.active);
    return s.tabs.length === n + 1 && active && active.title === 'Popup page';
  }, before, { timeout: 15000 });
  await viewer.locator('.tab.active .close').click();
  await viewer.waitForFunction((n) => window.tandemLive.tabs.length === n, before, { timeout: 15000 });
});

test('a confirm() dialog is shown and answered by the human', async () => {
  await goTo(viewer, fixtures.url('/live-confirm.html'));
  const since = Date.now();
  await clickRemote(250, 160);
  await viewer.locator('#dialog').waitFor({ state: 'visible' });
  assert.match(await viewer.locator('#dialogmessage').textContent(), /Really delete everything/);
  await viewer.locator('#dialogok').click();
  const answered = await fixtures.waitFor((r) => r.event === 'confirm', { since });
  assert.equal(answered.result, true);
});

test('a dialog answered elsewhere while a viewer was away is gone when it comes back', async () => {
  const other = await context.newPage();
  try {
    await other.goto(session.liveUrl);
    await waitForPicture(other);
    await clickRemote(250, 160);
    await viewer.locator('#dialog').waitFor({ state: 'visible' });
    await other.locator('#dialog').waitFor({ state: 'visible' });
    const reconnects = await viewer.evaluate(() => window.tandemLive.reconnects);
    // The viewer is cut off for three seconds; meanwhile the other viewer answers.
    await viewer.evaluate(() => window.tandemLive.reconnect(3000));
    await viewer.waitForFunction(() => !window.tandemLive.connected);
    const since = Date.now();
    await other.locator('#dialogcancel').click();
    const answered = await fixtures.waitFor((r) => r.event === 'confirm', { since });
    assert.equal(answered.result, false);
    await viewer.waitForFunction((n) => window.tandemLive.connected && window.tandemLive.reconnects > n, reconnects, { timeout: 15000 });
    await viewer.locator('#dialog').waitFor({ state: 'hidden', timeout: 5000 });
    assert.equal(await viewer.evaluate(() => window.tandemLive.dialog), null);
  } finally {
    await other.close();
  }
});

test('a file chooser becomes an upload from the human machine', async () => {
  await goTo(viewer, fixtures.url('/live-file.html'));
  const since = Date.now();
  await clickRemote(300, 150);
  await viewer.locator('#chooser').waitFor({ state: 'visible' });
  await viewer.locator('#fileinput').setInputFiles({
    name: 'hello.txt', mimeType: 'text/plain', buffer: Buffer.from('hello from the human\n'),
  });
  const uploaded = await fixtures.waitFor((r) => r.event === 'file', { since });
  assert.equal(uploaded.name, 'hello.txt');
  assert.equal(uploaded.text, 'hello from the human\n');
});

test('a native select opens in the viewer and the choice lands in the page', async () => {
  await goTo(viewer, fixtures.url('/live-select.html'));
  await clickRemote(250, 120);
  await viewer.locator('#select').waitFor({ state: 'visible' });
  const since = Date.now();
  await viewer.locator('#select div', { hasText: 'Cherry' }).click();
  const chosen = await fixtures.waitFor((r) => r.event === 'select', { since });
  assert.equal(chosen.value, 'cherry');
});

test('with several viewers, one pick or one dismissal closes the list on every screen', async () => {
  await goTo(viewer, fixtures.url('/live-select.html'));
  const other = await context.newPage();
  try {
    await other.goto(session.liveUrl);
    await waitForPicture(other);
    await clickRemote(250, 120);
    await viewer.locator('#select').waitFor({ state: 'visible' });
    await other.locator('#select').waitFor({ state: 'visible' });
    let since = Date.now();
    await other.locator('#select div', { hasText: 'Banana' }).click();
    const chosen = await fixtures.waitFor((r) => r.event === 'select', { since });
    assert.equal(chosen.value, 'banana');
    await viewer.locator('#select').waitFor({ state: 'hidden', timeout: 5000 });

    await clickRemote(250, 120);
    await viewer.locator('#select').waitFor({ state: 'visible' });
    await other.locator('#select').waitFor({ state: 'visible' });
    since = Date.now();
    await viewer.keyboard.press('Escape');
    await other.locator('#select').waitFor({ state: 'hidden', timeout: 5000 });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(fixtures.reports.filter((r) => r.at >= since && r.event === 'select').length, 0,
      'a dismissed list changes nothing');
  } finally {
    await other.close();
  }
});

test('a native select inside a same-origin iframe: its list shows under it and the choice lands in it', async () => {
  await goTo(viewer, fixtures.url('/live-frame.html'));
  // The iframe's content starts at (55, 205) (left/top 50/200 plus a 5 px border); its select
  // at (30, 120), 300×40, so at (85, 325) in the page.
  await clickRemote(200, 345);
  const popup = viewer.locator('#select');
  await popup.waitFor({ state: 'visible' });
  assert.deepEqual(await popup.locator('div').allTextContents(), ['Apple', 'Banana', 'Cherry']);
  const box = await popup.boundingBox();
  const under = await remotePoint(viewer, 85, 365);
  assert.ok(Math.abs(box.x - under.x) <= 3 && Math.abs(box.y - under.y) <= 3,
    `list at ${box.x},${box.y}, the select's bottom left at ${under.x},${under.y}`);
  const since = Date.now();
  await popup.locator('div', { hasText: 'Cherry' }).click();
  const chosen = await fixtures.waitFor((r) => r.event === 'select', { since });
  assert.deepEqual([chosen.frame, chosen.value], ['inner', 'cherry']);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(fixtures.reports.filter((r) => r.at >= since && r.frame === 'outer').length, 0, 'the page select is untouched');
});

test('a select opened from the keyboard shows its list too', async () => {
  // Tab from the iframe's text field to its select, then Space, as a keyboard user does.
  await clickRemote(200, 245);
  await viewer.keyboard.press('Tab');
  await viewer.keyboard.press('Space');
  const popup = viewer.locator('#select');
  await popup.waitFor({ state: 'visible' });
  const since = Date.now();
  await popup.locator('div', { hasText: 'Banana' }).click();
  const chosen = await fixtures.waitFor((r) => r.event === 'select', { since });
  assert.deepEqual([chosen.frame, chosen.value], ['inner', 'banana']);
});

test('copy reads the selection inside a same-origin iframe', async () => {
  await clickRemote(200, 245);
  await typeAndCopy(viewer, fixtures, 'words in a frame', (r) => r.frame === 'inner');
});

test('downloads are announced without covering the page, and listed with a link Tandem serves', async () => {
  await goTo(viewer, fixtures.url('/live-download.html'));
  await clickRemote(200, 125);
  const link = viewer.locator('#dllist a', { hasText: 'report.txt' });
  await link.waitFor({ state: 'attached', timeout: 15000 });
  // Announced by the bar's button, not pushed in front of the page.
  await viewer.locator('#dlbutton').waitFor({ state: 'visible' });
  assert.equal(await viewer.locator('#dlcount').textContent(), '1');
  assert.equal(await viewer.locator('#downloads').isVisible(), false);
  await viewer.locator('#dlbutton').click();
  await link.waitFor({ state: 'visible' });
  const href = await link.evaluate((a) => a.href);
  const res = await fetch(href);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'quarterly figures\n');
  const bad = await fetch(href.replace(/token=[^&]+/, 'token=nope'));
  assert.equal(bad.status, 401);
  await viewer.locator('#dlclose').click();
  assert.equal(await viewer.locator('#downloads').isVisible(), false);
  // A reconnect lists the download again, and opens nothing.
  const reconnects = await viewer.evaluate(() => window.tandemLive.reconnects);
  await viewer.evaluate(() => window.tandemLive.reconnect());
  await viewer.waitForFunction((n) => window.tandemLive.connected && window.tandemLive.reconnects > n, reconnects, { timeout: 15000 });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await viewer.locator('#downloads').isVisible(), false);
  await clickRemote(600, 400); // nothing covers the picture

  // Without the bar (ui=false), a small chip in a corner says so; it opens the list or goes.
  for (const close of ['#dlclose', '#dldismiss']) {
    const bare = await context.newPage();
    try {
      await bare.goto(`${session.liveUrl}&ui=false`);
      await bare.locator('#dlchip').waitFor({ state: 'visible' });
      assert.match(await bare.locator('#dlopen').textContent(), /report\.txt/);
      assert.equal(await bare.locator('#downloads').isVisible(), false);
      if (close === '#dlclose') {
        await bare.locator('#dlopen').click();
        await bare.locator('#dllist a', { hasText: 'report.txt' }).waitFor({ state: 'visible' });
      }
      await bare.locator(close).click();
      assert.equal(await bare.locator('#downloads').isVisible(), false);
      assert.equal(await bare.locator('#dlchip').isVisible(), false, `${close} puts the indicator away`);
    } finally {
      await bare.close();
    }
  }
});

test('a view link watches but its input changes nothing', async () => {
  await goTo(viewer, fixtures.url('/live-button.html'));
  const watcher = await context.newPage();
  try {
    await watcher.goto(session.viewUrl);
    await waitForPicture(watcher);
    assert.equal(await watcher.evaluate(() => window.tandemLive.mode), 'view');
    const since = Date.now();
    // Straight to the socket, as a hostile page would, past the page's own guards.
    await watcher.evaluate(() => new Promise((resolve) => {
      const ws = new WebSocket(`${location.origin}${location.pathname}/ws${location.search}`.replace(/^http/, 'ws'));
      ws.onopen = () => {
        for (const kind of ['down', 'up']) {
          ws.send(JSON.stringify({ t: 'mouse', kind, x: 0.195, y: 0.25, button: 0, buttons: kind === 'down' ? 1 : 0, clicks: 1 }));
        }
        ws.send(JSON.stringify({ t: 'nav', action: 'go', url: 'http://127.0.0.1:9/' }));
        setTimeout(() => { ws.close(); resolve(); }, 500);
      };
    }));
    const p = await remotePoint(watcher, 250, 160);
    await watcher.mouse.click(p.x, p.y);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(fixtures.reports.filter((r) => r.at >= since && r.event === 'click').length, 0);
    const tabs = await viewer.evaluate(() => window.tandemLive.tabs.map((t) => t.url));
    assert.ok(!tabs.includes('http://127.0.0.1:9/'));
    // Both viewers watch at once; the control one still works.
    await clickRemote(250, 160);
    await fixtures.waitFor((r) => r.event === 'click', { since });
  } finally {
    await watcher.close();
  }
});

test('a view-only viewer does not size the frames, and its resizing never stalls typing', async () => {
  await goTo(viewer, fixtures.url('/live-input.html'));
  await viewer.setViewportSize({ width: 700, height: 600 });
  const frameWidth = (page) => page.evaluate(() => window.tandemLive.lastFrame.w);
  try {
    // A focused field's caret keeps the screencast sending frames at the size asked for.
    await clickRemote(400, 75);
    await viewer.waitForFunction(() => window.tandemLive.lastFrame.w <= 700, null, { timeout: 15000 });
    const watcher = await chromium.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await watcher.goto(session.viewUrl);
      await waitForPicture(watcher);
      const text = 'typing on while a watcher resizes 0123456789';
      const since = Date.now();
      const resizing = (async () => {
        for (const width of [1300, 1500, 1200, 1600, 1400, 1350]) {
          await watcher.setViewportSize({ width, height: 900 });
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      await viewer.keyboard.type(text, { delay: 30 });
      await resizing;
      const typed = await fixtures.waitFor((r) => r.event === 'input' && r.value.length >= text.length, { since });
      assert.equal(typed.value, text);
      await new Promise((r) => setTimeout(r, 1500));
      assert.ok(await frameWidth(viewer) <= 700, `frames are sized for the control viewer: ${await frameWidth(viewer)}`);
      assert.ok(await frameWidth(watcher) <= 700, 'the watcher gets the same frames');
    } finally {
      await watcher.close();
    }
  } finally {
    await viewer.setViewportSize({ width: 1280, height: 860 });
  }
  await viewer.waitForFunction(() => window.tandemLive.lastFrame.w >= 1280, null, { timeout: 15000 });
  await clickRemote(400, 75);
  await viewer.keyboard.press('Control+A');
  await viewer.keyboard.press('Backspace');
});

test('bad and foreign tokens are refused with a detail; an expired link says so in the page', async () => {
  const page = `${tandem.base}/live/${session.id}`;
  const missing = await fetch(page);
  assert.equal(missing.status, 401);
  assert.ok((await missing.json()).detail);
  const token = new URL(session.liveUrl).searchParams.get('token');
  const tampered = await fetch(`${page}?token=${token.slice(0, -2)}xx`);
  assert.equal(tampered.status, 401);
  assert.ok((await tampered.json()).detail);
  const other = await tandem.api('POST', '/sessions', {});
  const foreign = await fetch(`${tandem.base}/live/${other.json.id}?token=${token}`);
  assert.equal(foreign.status, 403);
  assert.ok((await foreign.json()).detail);
  const past = Math.floor(Date.now() / 1000) - 5;
  const expiredForeign = sign({ sid: other.json.id, mode: 'control', exp: past });
  const oldForeign = await fetch(`${page}?token=${expiredForeign}`);
  assert.equal(oldForeign.status, 401);
  assert.match((await oldForeign.json()).detail, /expired/);
  await tandem.api('POST', `/sessions/${other.json.id}/stop`, {});
  // A genuine link of this session that expired: still refused (401), but what a human
  // sees is the viewer saying so, not an error body.
  const expired = sign({ sid: session.id, mode: 'control', exp: past });
  const old = await fetch(`${page}?token=${expired}`);
  assert.equal(old.status, 401);
  assert.match(old.headers.get('content-type'), /^text\/html/);
  const tab = await context.newPage();
  try {
    await tab.goto(`${page}?token=${expired}`);
    await tab.locator('#ended').waitFor({ state: 'visible' });
    assert.equal(await tab.locator('#endedtext').textContent(), 'This link has expired.');
    assert.equal(await tab.evaluate(() => window.tandemLive.frames), 0);
  } finally {
    await tab.close();
  }
  // Its socket is let in only to hear so, with a close code the viewer understands.
  const code = await viewer.evaluate((url) => new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.onclose = (e) => resolve(e.code);
  }), `${page.replace(/^http/, 'ws')}/ws?token=${expired}`);
  assert.equal(code, 4001);
  // The WebSocket is refused too.
  const refused = await viewer.evaluate((url) => new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.onopen = () => resolve('open');
    ws.onerror = () => resolve('refused');
  }), `${page.replace(/^http/, 'ws')}/ws?token=forged.token`);
  assert.equal(refused, 'refused');
});

test('theme and ui parameters are honoured, unknown ones ignored', async () => {
  const page = await context.newPage();
  try {
    await page.goto(`${session.liveUrl}&theme=light&ui=false&whatever=1`);
    await page.waitForFunction(() => window.tandemLive && window.tandemLive.frames > 0);
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
    assert.equal(await page.locator('#chrome').isVisible(), false);
  } finally {
    await page.close();
  }
});

test('embedded in an iframe of another app: clicks, typing and the clipboard get through', async () => {
  const host = await chromium.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const app = new URL(fixtures.url('/')).origin;
    for (const origin of [app, tandem.base]) {
      await host.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    }
    await goTo(viewer, fixtures.url('/live-button.html'));
    const page = await host.newPage();
    await page.goto(fixtures.url(`/live-host.html?live=${encodeURIComponent(session.liveUrl)}`));
    const element = page.locator('iframe');
    assert.equal(await element.getAttribute('allow'), 'clipboard-read; clipboard-write; autoplay');
    const frame = await (await element.elementHandle()).contentFrame();
    await waitForPicture(frame);
    const box = await element.boundingBox();
    const at = async (x, y) => {
      const p = await remotePoint(frame, x, y);
      return { x: box.x + p.x, y: box.y + p.y };
    };
    let since = Date.now();
    let p = await at(250, 160);
    await page.mouse.click(p.x, p.y);
    await fixtures.waitFor((r) => r.event === 'click', { since });

    await goTo(viewer, fixtures.url('/live-input.html'));
    await waitForPicture(frame);
    since = Date.now();
    p = await at(400, 75);
    await page.mouse.click(p.x, p.y);
    await page.keyboard.type('typed in a frame', { delay: 0 });
    await fixtures.waitFor((r) => r.event === 'input' && r.value === 'typed in a frame', { since });

    // The allow attribute lets paste in and copy out.
    await frame.evaluate(() => navigator.clipboard.writeText(', pasted'));
    since = Date.now();
    await page.keyboard.press('Control+V');
    await fixtures.waitFor((r) => r.event === 'input' && r.value === 'typed in a frame, pasted', { since });
    await frame.evaluate(() => navigator.clipboard.writeText(''));
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Control+C');
    await waitForClipboard(frame, 'typed in a frame, pasted');
    await page.keyboard.press('Backspace');
  } finally {
    await host.close();
  }
});

test('a HiDPI viewer in a smaller, differently shaped box: clicks still land on CSS pixels', async () => {
  // DPR 2 and a 1000×700 window: the frame is scaled and letterboxed, and the viewer maps
  // points back through both.
  const hidpi = await chromium.newContext({ viewport: { width: 1000, height: 700 }, deviceScaleFactor: 2 });
  try {
    const page = await hidpi.newPage();
    await goTo(viewer, fixtures.url('/live-button.html'));
    await page.goto(session.liveUrl);
    await waitForPicture(page);
    const since = Date.now();
    const p = await remotePoint(page, 250, 160);
    await page.mouse.click(p.x, p.y);
    await fixtures.waitFor((r) => r.event === 'click', { since });
  } finally {
    await hidpi.close();
  }
});

test('the viewer reconnects after the socket drops', async () => {
  const frames = await viewer.evaluate(() => window.tandemLive.frames);
  const reconnects = await viewer.evaluate(() => window.tandemLive.reconnects);
  await viewer.evaluate(() => window.tandemLive.reconnect());
  await viewer.waitForFunction((n) => window.tandemLive.reconnects === n + 1 && window.tandemLive.connected, reconnects, { timeout: 15000 });
  await viewer.waitForFunction((n) => window.tandemLive.frames > n, frames, { timeout: 15000 });
  const since = Date.now();
  await clickRemote(250, 160);
  try {
    await fixtures.waitFor((r) => r.event === 'click', { since });
  } catch (e) {
    const s = await viewer.evaluate(() => ({ reconnects: window.tandemLive.reconnects, connected: window.tandemLive.connected, frames: window.tandemLive.frames }));
    throw new Error(`${e.message}; viewer ${JSON.stringify(s)}`);
  }
});

test('when the session ends, the page says so once, stops, and says so again on reload', async () => {
  const stopped = await tandem.api('POST', `/sessions/${session.id}/stop`, {});
  assert.equal(stopped.status, 200);
  const says = async () => {
    await viewer.locator('#ended').waitFor({ state: 'visible', timeout: 15000 });
    assert.equal(await viewer.locator('#endedtext').textContent(), 'This session has ended.');
    assert.match(await viewer.locator('#endedwhy').textContent(), /^Stopped by the client\.$/);
  };
  await says();
  const reconnects = await viewer.evaluate(() => window.tandemLive.reconnects);
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(await viewer.evaluate(() => [window.tandemLive.connected, window.tandemLive.reconnects]), [false, reconnects]);
  await viewer.reload();
  await says();
  assert.equal(await viewer.evaluate(() => window.tandemLive.frames), 0);
});
