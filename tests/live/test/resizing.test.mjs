// allowResizing: a control viewer of a browser created with it sizes the browser's viewport to
// its own picture area (and follows it when its window changes); without it the viewport stays
// as created whatever the viewer's window.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTandem, startFixtures, launchChromium, waitForPicture, goTo, remotePoint } from '../support.mjs';

let tandem;
let fixtures;
let chromium;

before(async () => {
  [tandem, fixtures, chromium] = await Promise.all([startTandem(), startFixtures(), launchChromium()]);
});

after(async () => {
  if (chromium) await chromium.close();
  if (tandem) await tandem.stop();
  if (fixtures) await fixtures.close();
});

/** Opens the live view, recording the `resize` messages the viewer sends. */
async function openViewer(liveUrl, width, height) {
  const context = await chromium.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  const sent = [];
  page.on('websocket', (ws) => ws.on('framesent', ({ payload }) => {
    if (typeof payload !== 'string') return;
    try {
      const m = JSON.parse(payload);
      if (m.t === 'resize') sent.push(m);
    } catch { /* not JSON */ }
  }));
  await page.goto(liveUrl);
  return { context, page, sent };
}

/** Waits until the viewer has sent a `resize` for a picture `width` wide (after a resize of
 * its window) and returns it. */
async function resizeSent(viewer, pred) {
  const start = Date.now();
  while (Date.now() - start < 15000) {
    const hit = viewer.sent.find(pred);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no matching resize message: ${JSON.stringify(viewer.sent)}`);
}

/** Waits until the remote page's latest reported size is the viewer's latest `resize`
 * request (one matching `pred`), and returns that request. */
async function pageFollows(viewer, pred) {
  const start = Date.now();
  while (Date.now() - start < 15000) {
    const asked = viewer.sent[viewer.sent.length - 1];
    const sizes = fixtures.reports.filter((r) => r.event === 'size');
    const now = sizes[sizes.length - 1];
    if (asked && now && pred(asked) && now.w === asked.w && now.h === asked.h) return asked;
    await new Promise((r) => setTimeout(r, 50));
  }
  const sizes = fixtures.reports.filter((r) => r.event === 'size');
  throw new Error(`the page did not follow: asked ${JSON.stringify(viewer.sent)}, page ${JSON.stringify(sizes)}`);
}

test('with allowResizing the page follows the viewer\'s window', async () => {
  const created = await tandem.api('POST', '/browsers', { allowResizing: true });
  assert.equal(created.status, 201);
  const viewer = await openViewer(created.json.liveUrl, 1000, 700);
  try {
    await goTo(viewer.page, fixtures.url('/live-size.html'));
    await waitForPicture(viewer.page);
    const first = await pageFollows(viewer, (m) => m.w > 900 && m.w <= 1000);

    await viewer.page.setViewportSize({ width: 820, height: 600 });
    const second = await pageFollows(viewer, (m) => m.w < 900);
    assert.ok(second.h < first.h, `${JSON.stringify(second)} after ${JSON.stringify(first)}`);
  } finally {
    await viewer.context.close();
  }
  await tandem.api('PATCH', `/browsers/${created.json.id}`, { action: 'stop' });
});

test('without allowResizing the viewport stays as created', async () => {
  const created = await tandem.api('POST', '/browsers', { browserScreenWidth: 1280, browserScreenHeight: 720 });
  assert.equal(created.status, 201);
  const viewer = await openViewer(created.json.liveUrl, 1000, 700);
  try {
    await goTo(viewer.page, fixtures.url('/live-size.html'));
    await waitForPicture(viewer.page);
    await fixtures.waitFor((r) => r.event === 'size' && r.w === 1280 && r.h === 720);

    await viewer.page.setViewportSize({ width: 820, height: 600 });
    const asked = await resizeSent(viewer, (m) => m.w < 900);
    // The viewer's messages are handled in order: a click sent after the resize request is
    // seen by the page after the request was dealt with.
    const since = Date.now();
    const p = await remotePoint(viewer.page, 300, 300);
    await viewer.page.mouse.click(p.x, p.y);
    const after = await fixtures.waitFor((r) => r.event === 'size' && r.why === 'click', { since });
    assert.deepEqual([after.w, after.h], [1280, 720], `the viewer asked for ${asked.w}x${asked.h}`);
    assert.ok(!fixtures.reports.some((r) => r.event === 'size' && r.why === 'resize' && r.at >= since));
  } finally {
    await viewer.context.close();
  }
  await tandem.api('PATCH', `/browsers/${created.json.id}`, { action: 'stop' });
});
