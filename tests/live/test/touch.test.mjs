// The live view on a phone: a touch screen viewer (390×844 CSS px at DPR 3, touch only) of a
// 1280×720 session browser. A tap clicks; a one-finger drag scrolls the page under the finger
// by as much as the picture moved, however small the picture is shown; a drag is no click.
// Touches are real touch input to the viewer (CDP Input.dispatchTouchEvent on its page).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTandem, startFixtures, launchChromium, waitForPicture, goTo, remotePoint } from '../support.mjs';

let tandem;
let fixtures;
let chromium;
let phone;
let viewer;
let touch;

before(async () => {
  [tandem, fixtures, chromium] = await Promise.all([startTandem(), startFixtures(), launchChromium()]);
  const session = (await tandem.api('POST', '/sessions', {})).json;
  phone = await chromium.newContext({
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true,
  });
  viewer = await phone.newPage();
  await viewer.goto(session.liveUrl);
  touch = await phone.newCDPSession(viewer);
});

after(async () => {
  if (chromium) await chromium.close();
  if (tandem) await tandem.stop();
  if (fixtures) await fixtures.close();
});

const finger = (type, points) => touch.send('Input.dispatchTouchEvent', {
  type, touchPoints: points.map(([x, y]) => ({ x, y })),
});

/** Drags one finger from `from` to `to` (viewer CSS px) in `steps` moves, as a swipe does. */
async function drag(from, to, steps = 10) {
  await finger('touchStart', [from]);
  for (let i = 1; i <= steps; i++) {
    const f = i / steps;
    await finger('touchMove', [[from[0] + (to[0] - from[0]) * f, from[1] + (to[1] - from[1]) * f]]);
    await new Promise((r) => setTimeout(r, 16));
  }
  await finger('touchEnd', []);
}

test('a tap on the phone clicks in the session browser', async () => {
  await goTo(viewer, fixtures.url('/live-button.html'));
  await waitForPicture(viewer);
  const p = await remotePoint(viewer, 250, 160);
  const since = Date.now();
  await viewer.touchscreen.tap(p.x, p.y);
  const report = await fixtures.waitFor((r) => r.event === 'click', { since });
  assert.equal(report.n, 1);
});

test('a one-finger drag scrolls the page under the finger, and is no click', async () => {
  await goTo(viewer, fixtures.url('/live-scroll.html'));
  await waitForPicture(viewer);
  // The picture: 1280 CSS px of the remote page across 390 of the phone's.
  const top = await remotePoint(viewer, 640, 600);
  const bottom = await remotePoint(viewer, 640, 100);
  const moved = top.y - bottom.y; // the finger moves up by 500 remote CSS px' worth
  const since = Date.now();
  await drag([top.x, top.y], [bottom.x, bottom.y]);
  const scrolled = await fixtures.waitFor((r) => r.event === 'scroll' && r.y >= 400, { since, timeout: 5000 });
  assert.ok(scrolled.y <= 600, `scrolled to ${scrolled.y} for a drag over ${moved} phone px (500 remote px)`);
  // The viewer page itself did not pan or scroll, and nothing was clicked.
  assert.deepEqual(await viewer.evaluate(() => [scrollX, scrollY]), [0, 0]);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(fixtures.reports.filter((r) => r.at >= since && r.event === 'click').length, 0,
    'a drag is no click');
  // A tap on the same page still is.
  const p = await remotePoint(viewer, 640, 300);
  const tapped = Date.now();
  await viewer.touchscreen.tap(p.x, p.y);
  await fixtures.waitFor((r) => r.event === 'click', { since: tapped });
});
