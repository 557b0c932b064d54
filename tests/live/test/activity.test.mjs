// Activity: a human using the live view keeps the session alive, and the viewer warns a minute
// before the inactivity timeout. Runs its own server with a 65 s inactivity timeout, so that
// the warning is due 5 s after the last activity.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTandem, launchChromium } from '../support.mjs';

let tandem;
let chromium;

before(async () => {
  [tandem, chromium] = await Promise.all([
    startTandem({ env: { TANDEM_IDLE_TIMEOUT: '65s' } }),
    launchChromium(),
  ]);
});

after(async () => {
  if (chromium) await chromium.close();
  if (tandem) await tandem.stop();
});

test('the viewer warns before the timeout and human input postpones it', async () => {
  const session = (await tandem.api('POST', '/sessions', {})).json;
  const page = await chromium.newPage();
  await page.goto(session.liveUrl);
  await page.waitForFunction(() => window.tandemLive && window.tandemLive.frames > 0);
  await page.locator('#notice').waitFor({ state: 'visible', timeout: 20000 });
  assert.match(await page.locator('#noticetext').textContent(), /time out for inactivity in \d+ s/);
  // A click in the page is activity: the deadline moves and the warning goes away.
  const box = await page.locator('#screen').boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.locator('#notice').waitFor({ state: 'hidden', timeout: 10000 });
  // It comes back, and the Stay button postpones it too.
  await page.locator('#stay').waitFor({ state: 'visible', timeout: 20000 });
  await page.locator('#stay').click();
  await page.locator('#notice').waitFor({ state: 'hidden', timeout: 10000 });
  const alive = await tandem.api('GET', `/sessions/${session.id}`);
  assert.equal(alive.json.status, 'idle');
  await tandem.api('POST', `/sessions/${session.id}/stop`, {});
});
