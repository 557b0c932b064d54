// Sharp frames on HiDPI screens: with TANDEM_DEVICE_SCALE_FACTOR=2 the session's browser
// renders two device pixels per CSS pixel, a viewer on a DPR-2 screen gets frames in device
// pixels (wider than the 1280-CSS-pixel viewport), and its clicks still land on CSS pixels.
// A DPR-1 viewer of the same session gets CSS-sized frames.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTandem, startFixtures, launchChromium, waitForPicture, goTo, remotePoint } from '../support.mjs';

let tandem;
let fixtures;
let chromium;

before(async () => {
  [tandem, fixtures, chromium] = await Promise.all([
    startTandem({ env: { TANDEM_DEVICE_SCALE_FACTOR: '2' } }),
    startFixtures(),
    launchChromium(),
  ]);
});

after(async () => {
  if (chromium) await chromium.close();
  if (tandem) await tandem.stop();
  if (fixtures) await fixtures.close();
});

test('a HiDPI viewer gets device-pixel frames and its clicks land on CSS pixels', async () => {
  const session = (await tandem.api('POST', '/sessions', {})).json;
  const hidpi = await chromium.newContext({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 2 });
  try {
    const page = await hidpi.newPage();
    await page.goto(session.liveUrl);
    await goTo(page, fixtures.url('/live-button.html'));
    await waitForPicture(page);
    await page.waitForFunction(() => window.tandemLive.lastFrame.w > 1280, null, { timeout: 15000 });
    const frame = await page.evaluate(() => window.tandemLive.lastFrame);
    assert.ok(frame.w >= 2000, `frame ${frame.w}x${frame.h} is in device pixels`);
    const since = Date.now();
    const p = await remotePoint(page, 250, 160);
    await page.mouse.click(p.x, p.y);
    await fixtures.waitFor((r) => r.event === 'click', { since });
  } finally {
    await hidpi.close();
  }
  await tandem.api('POST', `/sessions/${session.id}/stop`, {});
});
