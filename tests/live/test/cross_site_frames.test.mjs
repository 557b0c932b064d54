// Native selects, copy, dialogs and file choosers inside cross-site iframes: a page of
// 127.0.0.1 embeds a frame of localhost (another site, so Chromium runs it in its own
// process: an out-of-process iframe, as a payment provider's card or country form is), which
// embeds one of sub.localhost (a third site). Headless Chromium paints no select popup, so
// the viewer must draw the list, in the right place, and the choice must land in the frame;
// copy must read the frame's selection; a file chooser the frame opens must reach the human,
// whose files land in the frame. Every effect is checked in the session's browser through the
// frames' reports.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startTandem, startFixtures, launchChromium, startScriptedLlm, indexOf, waitForSession,
  waitForFrame, typeAndCopy, clipboardViewer, goTo, remotePoint,
} from '../support.mjs';

let tandem;
let fixtures;
let otherOrigin; // the same pages on another port: another origin of the same site
let chromium;
let llm;
let session;
let context;
let viewer;

// live-oopif.html: the frame's content box starts at (70, 160) (left/top 60/150, a 7 px border,
// 3 px padding). Inside it the country select is at (40, 110), 300×40; the nested frame's
// content starts at (34, 194) (left/top 30/190, a 4 px border), its size select at (50, 60),
// 250×40.
const COUNTRY = { x: 110, y: 270, w: 300, h: 40 };
const FIELD = { x: 90, y: 180, w: 400, h: 40 };
const SIZE = { x: 70 + 34 + 50, y: 160 + 194 + 60, w: 250, h: 40 };
const centre = (b) => [b.x + b.w / 2, b.y + b.h / 2];

before(async () => {
  [fixtures, otherOrigin, chromium, llm] = await Promise.all([
    startFixtures(), startFixtures(), launchChromium(), startScriptedLlm(),
  ]);
  tandem = await startTandem({ env: llm.env });
  const created = await tandem.api('POST', '/sessions', { keepAlive: true });
  assert.equal(created.status, 200);
  session = created.json;
  ({ context, viewer } = await clipboardViewer(chromium, tandem, session));
});

after(async () => {
  if (chromium) await chromium.close();
  if (tandem) await tandem.stop();
  for (const server of [fixtures, otherOrigin]) if (server) await server.close();
  if (llm) await llm.close();
});

let opened = 0;
/** Opens a fresh live-oopif.html in the session's browser through the viewer, and waits until
 * both frames ran; returns its URL. */
async function openPage(query = '') {
  const since = Date.now();
  opened += 1;
  const url = fixtures.url(`/live-oopif.html?visit=${opened}${query}`);
  await goTo(viewer, url);
  await fixtures.waitFor((r) => r.frame === 'cross' && r.event === 'ready', { since });
  await fixtures.waitFor((r) => r.frame === 'nested' && r.event === 'ready', { since });
  return url;
}

async function clickRemote(x, y) {
  const p = await remotePoint(viewer, x, y);
  await viewer.mouse.click(p.x, p.y);
}

/** Waits for the viewer's select list, checks it shows `labels` under the select's box `b`,
 * picks `option` in it, and resolves with the report (to `reports`) of the select that
 * changed. */
async function chooseUnder(b, labels, option, reports = fixtures) {
  const popup = viewer.locator('#select');
  await popup.waitFor({ state: 'visible', timeout: 10000 });
  assert.deepEqual(await popup.locator('div').allTextContents(), labels);
  const box = await popup.boundingBox();
  const under = await remotePoint(viewer, b.x, b.y + b.h);
  assert.ok(Math.abs(box.x - under.x) <= 3 && Math.abs(box.y - under.y) <= 3,
    `list at ${box.x},${box.y}, the select's bottom left at ${under.x},${under.y}`);
  const since = Date.now();
  await popup.locator('div', { hasText: option }).click();
  return reports.waitFor((r) => r.event === 'select', { since });
}

const COUNTRIES = ['France', 'Germany', 'Italy'];
const SIZES = ['Small', 'Medium', 'Large'];

test('a native select inside a cross-site iframe: its list shows under it and the choice lands in it', async () => {
  await openPage();
  await clickRemote(...centre(COUNTRY));
  const since = Date.now();
  const chosen = await chooseUnder(COUNTRY, COUNTRIES, 'Italy');
  assert.deepEqual([chosen.frame, chosen.value], ['cross', 'it']);
  assert.match(chosen.origin, /^http:\/\/localhost:/);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(fixtures.reports.filter((r) => r.at >= since && r.frame === 'top').length, 0, 'the page select is untouched');
});

test('a select inside a cross-site iframe opened from the keyboard shows its list too', async () => {
  await openPage();
  // Tab from the frame's text field to its select, then Space, as a keyboard user does.
  await clickRemote(...centre(FIELD));
  await viewer.keyboard.press('Tab');
  await viewer.keyboard.press('Space');
  const chosen = await chooseUnder(COUNTRY, COUNTRIES, 'Germany');
  assert.deepEqual([chosen.frame, chosen.value], ['cross', 'de']);
});

test('a select in a cross-site iframe nested in another one is placed and picked too', async () => {
  await openPage();
  await clickRemote(...centre(SIZE));
  const chosen = await chooseUnder(SIZE, SIZES, 'Large');
  assert.deepEqual([chosen.frame, chosen.value], ['nested', 'xl']);
  assert.match(chosen.origin, /^http:\/\/sub\.localhost:/);
});

test('copy reads the selection inside a cross-site iframe', async () => {
  await openPage();
  await clickRemote(...centre(FIELD));
  const typed = await typeAndCopy(viewer, fixtures, 'words across sites', (r) => r.frame === 'cross');
  assert.match(typed.origin, /^http:\/\/localhost:/);
});

/** Opens live-oopif.html with a frame of another origin of the same site, in the page's own
 * process; returns that origin's port. The frame's content starts at (700, 150). */
async function openWithSameSiteFrame() {
  const since = Date.now();
  const port = new URL(otherOrigin.url('/')).port;
  await openPage(`&other=${port}`);
  await otherOrigin.waitFor((r) => r.frame === 'cross' && r.event === 'ready', { since });
  return port;
}

test('a dialog and a file chooser inside a cross-site iframe reach the human', async () => {
  await openPage();
  // The frame's Ask button at (360, 110), 150×40, and its file input at (430, 20), 120×40.
  let since = Date.now();
  await clickRemote(70 + 360 + 75, 160 + 110 + 20);
  await viewer.locator('#dialog').waitFor({ state: 'visible', timeout: 10000 });
  assert.match(await viewer.locator('#dialogmessage').textContent(), /Pay from the card frame/);
  await viewer.locator('#dialogok').click();
  const answered = await fixtures.waitFor((r) => r.frame === 'cross' && r.event === 'confirm', { since });
  assert.equal(answered.result, true);
  await viewer.locator('#dialog').waitFor({ state: 'hidden' });

  since = Date.now();
  await clickRemote(70 + 430 + 60, 160 + 20 + 20);
  await viewer.locator('#chooser').waitFor({ state: 'visible', timeout: 10000 });
  await viewer.locator('#fileinput').setInputFiles({
    name: 'card.txt', mimeType: 'text/plain', buffer: Buffer.from('from the human, into the frame\n'),
  });
  const uploaded = await fixtures.waitFor((r) => r.frame === 'cross' && r.event === 'file', { since });
  assert.deepEqual([uploaded.name, uploaded.text], ['card.txt', 'from the human, into the frame\n']);
});

test('a select in a frame of another origin in the page\'s own process is placed under it too', async () => {
  const port = await openWithSameSiteFrame();
  const select = { x: 700 + 40, y: 150 + 110, w: 300, h: 40 };
  await clickRemote(...centre(select));
  const chosen = await chooseUnder(select, COUNTRIES, 'Germany', otherOrigin);
  assert.deepEqual([chosen.origin, chosen.value], [`http://127.0.0.1:${port}`, 'de']);
});

test('copy reads the selection inside a frame of another origin in the page\'s own process', async () => {
  const port = await openWithSameSiteFrame();
  // Its text field is at (20, 20), 400×40.
  await clickRemote(920, 190);
  const typed = await typeAndCopy(viewer, otherOrigin, 'same site, other origin');
  assert.equal(typed.origin, `http://127.0.0.1:${port}`);
});

test('a viewer that opens on a page already showing cross-site frames gets their selects too', async () => {
  await openPage();
  // The last viewer leaving detaches the live view from the tab; the next one attaches anew,
  // to frames that loaded long before.
  await viewer.close();
  viewer = await context.newPage();
  await viewer.goto(session.liveUrl);
  await waitForFrame(viewer);
  await clickRemote(...centre(SIZE));
  const chosen = await chooseUnder(SIZE, SIZES, 'Medium');
  assert.deepEqual([chosen.frame, chosen.value], ['nested', 'm']);
});

test('the agent works in the cross-site iframe while the viewer is attached, and the human after it', async () => {
  const page = await openPage();
  let picked = false;
  llm.next = async (state) => {
    if (!state.includes('Italy')) throw new Error('the agent does not see the cross-site frame');
    if (picked) return { name: 'done', arguments: { text: 'picked', success: true } };
    picked = true;
    return { name: 'browser_select', arguments: { index: indexOf(state, 'France'), option: 'Italy' } };
  };
  const since = Date.now();
  const dispatched = await tandem.api('POST', '/sessions', { sessionId: session.id, task: `On ${page}, choose Italy`, keepAlive: true });
  assert.equal(dispatched.status, 200, JSON.stringify(dispatched.json));
  const byAgent = await fixtures.waitFor((r) => r.event === 'select', { since, timeout: 30000 });
  assert.deepEqual([byAgent.frame, byAgent.value], ['cross', 'it']);
  await waitForSession(tandem, session.id, (s) => s.status === 'idle', { what: 'the task to end' });
  assert.deepEqual(llm.errors, []);
  // The viewer's own sessions in the frames survived the agent's.
  await clickRemote(...centre(COUNTRY));
  const byHuman = await chooseUnder(COUNTRY, COUNTRIES, 'France');
  assert.deepEqual([byHuman.frame, byHuman.value], ['cross', 'fr']);
});
