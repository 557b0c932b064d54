// Live-view benchmark: click-to-frame latency, frame rate and frame size, measured end to end
// in a real viewer (Playwright's headless Chromium) against a real `tandem serve` on loopback.
//
//   node benches/live_view.mjs            (needs tests/live/node_modules: tests/live/run.sh or
//                                          npm ci in tests/live; TANDEM_BIN picks the binary)
//
// Click-to-frame: from the viewer's mousedown to the first drawn frame whose pixels show the
// click's effect (a 200×200 square flips black/white on mousedown), on a page that is still
// otherwise, so that every frame after the click is caused by it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  repo, startTandem, startFixtures, launchChromium, waitForPicture, goTo, remotePoint,
} from '../tests/live/support.mjs';

const CLICKS = Number(process.env.BENCH_CLICKS || 40);
const FPS_SECONDS = Number(process.env.BENCH_FPS_SECONDS || 5);
const release = join(repo, 'target', 'release', 'tandem');
const binary = process.env.TANDEM_BIN || (existsSync(release) ? release : join(repo, 'target', 'debug', 'tandem'));

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

// BENCH_DPR=2: the browsers render at 2 device pixels per CSS pixel and the viewer is a DPR-2
// screen, so frames are in device pixels (the sharp HiDPI setting).
const DPR = Number(process.env.BENCH_DPR || 1);
const tandem = await startTandem({ binary, env: { TANDEM_DEVICE_SCALE_FACTOR: String(DPR) } });
const fixtures = await startFixtures();
const chromium = await launchChromium();
try {
  const session = (await tandem.api('POST', '/sessions', {})).json;
  const page = await chromium.newPage({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: DPR });
  await page.goto(session.liveUrl);
  await page.waitForFunction(() => window.tandemLive && window.tandemLive.frames > 0);

  // --- click-to-frame -------------------------------------------------------------------
  await goTo(page, fixtures.url('/live-animated.html?still'));
  await waitForPicture(page);
  await new Promise((r) => setTimeout(r, 500));
  const probe = await remotePoint(page, 100, 100);
  await page.evaluate(([x, y]) => {
    const canvas = document.getElementById('screen');
    const box = canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const px = Math.round((x - box.left) * dpr);
    const py = Math.round((y - box.top) * dpr);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const dark = () => ctx.getImageData(px, py, 1, 1).data[0] < 128;
    window.bench = { t0: null, want: null, results: [] };
    canvas.addEventListener('mousedown', () => {
      window.bench.t0 = performance.now();
      window.bench.want = !dark();
    }, true);
    window.tandemLive.onframe = () => {
      const b = window.bench;
      if (b.t0 !== null && dark() === b.want) {
        b.results.push(performance.now() - b.t0);
        b.t0 = null;
      }
    };
  }, [probe.x, probe.y]);
  await page.mouse.move(probe.x, probe.y);
  for (let i = 0; i < CLICKS; i += 1) {
    await page.mouse.down();
    await page.mouse.up();
    await page.waitForFunction((n) => window.bench.results.length > n, i, { timeout: 10000 });
    await new Promise((r) => setTimeout(r, 150 + Math.random() * 150));
  }
  const latencies = await page.evaluate(() => window.bench.results);

  // --- frame rate and size on an animated page -------------------------------------------
  await goTo(page, fixtures.url('/live-animated.html'));
  await waitForPicture(page);
  await new Promise((r) => setTimeout(r, 1000));
  const start = await page.evaluate(() => ({ frames: window.tandemLive.frames, bytes: window.tandemLive.bytes, at: performance.now() }));
  await new Promise((r) => setTimeout(r, FPS_SECONDS * 1000));
  const end = await page.evaluate(() => ({ frames: window.tandemLive.frames, bytes: window.tandemLive.bytes, at: performance.now(), size: window.tandemLive.lastFrame }));
  const frames = end.frames - start.frames;
  const seconds = (end.at - start.at) / 1000;

  const figures = {
    binary: binary.includes('release') ? 'release' : 'debug',
    settings: `JPEG q70, every frame, ack once a viewer took the frame (max wait 250 ms), viewer 1280x860 CSS px at DPR ${DPR}, browser device scale factor ${DPR}`,
    frame: `${end.size.w}x${end.size.h}`,
    clickToFrameMs: {
      n: latencies.length,
      p50: Number(pct(latencies, 50).toFixed(1)),
      p95: Number(pct(latencies, 95).toFixed(1)),
      min: Number(Math.min(...latencies).toFixed(1)),
      max: Number(Math.max(...latencies).toFixed(1)),
    },
    animatedFps: Number((frames / seconds).toFixed(1)),
    bytesPerFrameKB: Number((((end.bytes - start.bytes) / Math.max(1, frames)) / 1024).toFixed(1)),
  };
  console.log(JSON.stringify(figures, null, 2));
} finally {
  await chromium.close();
  await fixtures.close();
  await tandem.stop();
}
