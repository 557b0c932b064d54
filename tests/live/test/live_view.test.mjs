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
  remotePoint,
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
  context = await chromium.newContext({ viewport: { width: 1280, height: 860 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: tandem.base });
  viewer = await context.newPage();
  await viewer.goto(session.liveUrl);
  await viewer.waitForFunction(() => window.tandemLive && window.tandemLive.frames > 0, null, { timeout: 20000 });
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

test('paste goes in and copy comes out through the clipboard', async () => {
  await viewer.evaluate(() => navigator.clipboard.writeText('pasted words'));
  const since = Date.now();
  await viewer.keyboard.press('Control+V');
  const pasted = await fixtures.waitFor((r) => r.event === 'input' && r.value === 'pasted words', { since });
  assert.equal(pasted.value, 'pasted words');
  await viewer.evaluate(() => navigator.clipboard.writeText(''));
  await viewer.keyboard.press('Control+A');
  await viewer.keyboard.press('Control+C');
  await viewer.waitForFunction(async () => (await navigator.clipboard.readText()) === 'pasted words', null, { timeout: 10000 });
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

test('downloads are listed with a link Tandem serves', async () => {
  await goTo(viewer, fixtures.url('/live-download.html'));
  await clickRemote(200, 125);
  const link = viewer.locator('#dllist a', { hasText: 'report.txt' });
  await link.waitFor({ state: 'attached', timeout: 15000 });
  const href = await link.evaluate((a) => a.href);
  const res = await fetch(href);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'quarterly figures\n');
  const bad = await fetch(href.replace(/token=[^&]+/, 'token=nope'));
  assert.equal(bad.status, 401);
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

test('bad, expired and foreign tokens are refused with a detail', async () => {
  const page = `${tandem.base}/live/${session.id}`;
  const missing = await fetch(page);
  assert.equal(missing.status, 401);
  assert.ok((await missing.json()).detail);
  const token = new URL(session.liveUrl).searchParams.get('token');
  const tampered = await fetch(`${page}?token=${token.slice(0, -2)}xx`);
  assert.equal(tampered.status, 401);
  const expired = sign({ sid: session.id, mode: 'control', exp: Math.floor(Date.now() / 1000) - 5 });
  const old = await fetch(`${page}?token=${expired}`);
  assert.equal(old.status, 401);
  assert.match((await old.json()).detail, /expired/);
  const other = await tandem.api('POST', '/sessions', {});
  const foreign = await fetch(`${tandem.base}/live/${other.json.id}?token=${token}`);
  assert.equal(foreign.status, 403);
  assert.ok((await foreign.json()).detail);
  await tandem.api('POST', `/sessions/${other.json.id}/stop`, {});
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
  await viewer.evaluate(() => window.tandemLive.reconnect());
  await viewer.waitForFunction(() => window.tandemLive.reconnects === 1 && window.tandemLive.connected, null, { timeout: 15000 });
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

test('when the session ends, the page says so', async () => {
  const stopped = await tandem.api('POST', `/sessions/${session.id}/stop`, {});
  assert.equal(stopped.status, 200);
  await viewer.locator('#ended').waitFor({ state: 'visible', timeout: 15000 });
  assert.match(await viewer.locator('#endedtext').textContent(), /ended/);
});
