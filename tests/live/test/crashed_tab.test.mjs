// A tab whose renderer crashes (as a heavy page can make it) under a watching viewer: the live
// view says so and offers its Reload, the Reload brings the tab back, and the browser stays up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium as playwright } from 'playwright-core';
import { startTandem, startFixtures, launchChromium, waitForPicture, goTo } from '../support.mjs';

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

test('a crashed tab: the live view says so, its Reload brings the tab back, the browser stays up', async () => {
  const created = await tandem.api('POST', '/browsers', {});
  assert.equal(created.status, 201);
  const page = await chromium.newPage();
  const client = await playwright.connectOverCDP(created.json.cdpUrl);
  try {
    await page.goto(created.json.liveUrl);
    const url = fixtures.url('/live-size.html');
    await goTo(page, url);
    await waitForPicture(page);

    const remote = client.contexts()[0].pages().find((p) => p.url() === url);
    assert.ok(remote, 'the CDP client sees the tab the viewer watches');
    const cdp = await remote.context().newCDPSession(remote);
    // The renderer dies before it can answer.
    cdp.send('Page.crash').catch(() => {});

    await page.locator('#notice').waitFor({ state: 'visible', timeout: 10000 });
    assert.match(await page.locator('#noticetext').textContent(), /crashed/);
    const during = await tandem.api('GET', `/browsers/${created.json.id}`);
    assert.equal(during.json.status, 'active');

    await page.locator('#reload').click();
    await page.locator('#notice').waitFor({ state: 'hidden', timeout: 15000 });
    await waitForPicture(page, { changed: true });
    const after = await tandem.api('GET', `/browsers/${created.json.id}`);
    assert.equal(after.json.status, 'active');
  } finally {
    await client.close().catch(() => {});
    await page.close();
    await tandem.api('PATCH', `/browsers/${created.json.id}`, { action: 'stop' });
  }
});
