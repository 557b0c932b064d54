// The end of a session as a viewer lives it, on a server whose sessions last 20 s at most:
// the maximum-duration warning (which "Stay" cannot postpone), a viewer that is away when the
// session ends (its link expires with it), and what a reload shows afterwards; and, on a
// server of its own, a browser that crashes under a watching viewer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTandem, launchChromium, waitForFrame, waitForSession } from '../support.mjs';

const MAX = 20000;
let tandem;
let chromium;

before(async () => {
  [tandem, chromium] = await Promise.all([
    startTandem({ env: { TANDEM_MAX_SESSION_DURATION: `${MAX / 1000}s` } }),
    launchChromium(),
  ]);
});

after(async () => {
  if (chromium) await chromium.close();
  if (tandem) await tandem.stop();
});

test('the maximum-duration warning has no Stay; a viewer away at the end hears it ended and stops', async () => {
  const session = (await tandem.api('POST', '/sessions', {})).json;
  const ends = Date.parse(session.createdAt) + MAX;
  const page = await chromium.newPage();
  try {
    await page.goto(session.liveUrl);
    await waitForFrame(page);
    await page.locator('#notice').waitFor({ state: 'visible', timeout: 10000 });
    assert.match(await page.locator('#noticetext').textContent(), /^This session will time out in \d+ s\.$/);
    assert.equal(await page.locator('#stay').isVisible(), false, 'Stay cannot postpone the maximum duration');

    // The viewer loses its connection until after the end, when its link has expired too.
    const away = Math.max(0, ends - Date.now()) + 3000;
    await page.evaluate((ms) => window.tandemLive.reconnect(ms), away);
    await waitForSession(tandem, session.id, (s) => s.status === 'timed_out', { timeout: MAX + 10000 });
    await page.locator('#ended').waitFor({ state: 'visible', timeout: away + 15000 });
    const says = async () => {
      assert.equal(await page.locator('#endedtext').textContent(), 'This session has ended.');
      assert.match(await page.locator('#endedwhy').textContent(), /^Session reached its maximum duration of 20s\.$/);
    };
    await says();
    // It does not try again.
    const reconnects = await page.evaluate(() => window.tandemLive.reconnects);
    await new Promise((r) => setTimeout(r, 2000));
    assert.deepEqual(await page.evaluate(() => [window.tandemLive.connected, window.tandemLive.reconnects]), [false, reconnects]);

    // A reload shows the same page saying so, not an error body (the link expired: 401).
    const res = await fetch(session.liveUrl);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('content-type'), /^text\/html/);
    await page.reload();
    await page.locator('#ended').waitFor({ state: 'visible' });
    await says();
    assert.equal(await page.evaluate(() => window.tandemLive.frames), 0);
  } finally {
    await page.close();
  }
});

test('a browser that crashes under a watching viewer: the page says so, and the API agrees', async () => {
  const own = await startTandem({ poolSize: 0 });
  const page = await chromium.newPage();
  try {
    const session = (await own.api('POST', '/sessions', {})).json;
    await page.goto(session.liveUrl);
    await waitForFrame(page);
    const [pid] = own.browserPids();
    assert.ok(pid, 'the session has its browser');
    process.kill(pid, 'SIGKILL');
    await page.locator('#ended').waitFor({ state: 'visible', timeout: 10000 });
    assert.equal(await page.locator('#endedtext').textContent(), 'This session has ended.');
    const why = await page.locator('#endedwhy').textContent();
    assert.match(why, /browser exited unexpectedly: killed by SIGKILL/);
    // The same words as the API's.
    const seen = await own.api('GET', `/sessions/${session.id}`);
    assert.equal(seen.json.status, 'error');
    assert.equal(seen.json.liveUrl, null);
    assert.equal(why.replace(/\.$/, ''), seen.json.lastStepSummary);
    assert.deepEqual(own.browserPids(), []);
  } finally {
    await page.close();
    await own.stop();
  }
});
