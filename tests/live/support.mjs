// Shared by the live-view tests and benches/live_view.mjs: a real `tandem serve`, a fixture
// page server on 127.0.0.1 that records what pages report, and Playwright's Chromium.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = join(here, '..', '..');
const pages = join(repo, 'crates', 'testkit', 'pages');
export const API_KEY = 'tk_live_view_tests';

/** Starts `tandem serve` on a free loopback port with a fresh data directory. */
export async function startTandem({ binary = process.env.TANDEM_BIN || join(repo, 'target', 'debug', 'tandem'), env = {}, poolSize = 1 } = {}) {
  if (!existsSync(binary)) throw new Error(`${binary} missing: run cargo build -p tandem first`);
  const dataDir = mkdtempSync(join(tmpdir(), 'tandem-live-test-'));
  const child = spawn(binary, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--pool-size', String(poolSize)], {
    env: { ...process.env, TANDEM_API_KEY: API_KEY, RUST_LOG: process.env.RUST_LOG || 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const base = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`tandem did not start: ${out}`)), 30000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/tandem: listening on (http:\/\/\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`tandem exited (${code}): ${out}`)); });
  });
  return {
    base,
    dataDir,
    /** The server's Chromium browsers (their main processes, not their helpers). */
    browserPids() {
      return descendants(child.pid).filter((pid) => {
        const cmd = readCmdline(pid);
        return cmd.some((a) => a.startsWith('--remote-debugging-port')) && !cmd.some((a) => a.startsWith('--type='));
      });
    },
    async api(method, path, body) {
      const res = await fetch(`${base}/api/v3${path}`, {
        method,
        headers: { 'X-Browser-Use-API-Key': API_KEY, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : null };
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function readCmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** Every live process below `root`, from /proc. */
function descendants(root) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z') continue;
    const parent = Number(rest[1]);
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(Number(entry));
  }
  const found = [];
  const todo = [...(children.get(root) ?? [])];
  while (todo.length) {
    const pid = todo.pop();
    found.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** Serves crates/testkit/pages on 127.0.0.1 and records the reports pages POST to /report. */
export async function startFixtures() {
  const reports = [];
  const waiters = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (req.method === 'POST' && url.pathname === '/report') {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        try { reports.push({ at: Date.now(), ...JSON.parse(body) }); } catch { /* ignore */ }
        for (const w of [...waiters]) w();
        res.writeHead(204).end();
      });
      return;
    }
    if (url.pathname === '/download/report.txt') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-disposition': 'attachment; filename="report.txt"' });
      res.end('quarterly figures\n');
      return;
    }
    const file = normalize(join(pages, url.pathname === '/' ? 'index.html' : url.pathname));
    if (!file.startsWith(pages) || !existsSync(file)) { res.writeHead(404).end('no such fixture'); return; }
    res.writeHead(200, { 'content-type': file.endsWith('.html') ? 'text/html; charset=utf-8' : 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    reports,
    /** Resolves with the first report (from now or earlier, after `since`) matching `pred`. */
    waitFor(pred, { timeout = 15000, since = 0 } = {}) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = reports.find((r) => r.at >= since && pred(r));
          if (hit) { cleanup(); resolve(hit); return true; }
          return false;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching report within ${timeout} ms; got ${JSON.stringify(reports.slice(-5))}`));
        }, timeout);
        const cleanup = () => { clearTimeout(timer); const i = waiters.indexOf(check); if (i >= 0) waiters.splice(i, 1); };
        if (!check()) waiters.push(check);
      });
    },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}

/**
 * Playwright's headless Chromium: Debian's, since downloading browsers is impossible here.
 * Its contexts and pages bypass the live page's Content-Security-Policy, which forbids the
 * string evaluation Playwright's `waitForFunction` polls with; `strictContext` opens one
 * under the policy, as a real viewer is (see live_view.test.mjs, "runs under its policy").
 */
export async function launchChromium() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  const newContext = browser.newContext.bind(browser);
  const newPage = browser.newPage.bind(browser);
  browser.strictContext = (options = {}) => newContext(options);
  browser.newContext = (options = {}) => newContext({ bypassCSP: true, ...options });
  browser.newPage = (options = {}) => newPage({ bypassCSP: true, ...options });
  return browser;
}

/**
 * Runs in the viewer page: the drawn picture, sampled every 4th pixel inside the rectangle
 * the frame is drawn in (the letterbox bars around it are left out: they are transparent and
 * would make any white frame look varied). Null before the first frame.
 */
function pictureNow() {
  const s = window.tandemLive;
  if (!s || s.frames < 1 || !s.lastFrame) return null;
  const c = document.getElementById('screen');
  const scale = Math.min(c.width / s.lastFrame.w, c.height / s.lastFrame.h);
  const w = Math.floor(s.lastFrame.w * scale);
  const h = Math.floor(s.lastFrame.h * scale);
  if (w < 16 || h < 16) return null;
  // Two pixels in from the edges, which the scaling may blend with the bars.
  const x0 = Math.ceil((c.width - w) / 2) + 2;
  const y0 = Math.ceil((c.height - h) / 2) + 2;
  const d = c.getContext('2d').getImageData(x0, y0, w - 4, h - 4);
  const samples = [];
  let opaque = true;
  let min = 765;
  let max = 0;
  for (let y = 0; y < d.height; y += 4) {
    for (let x = 0; x < d.width; x += 4) {
      const i = (y * d.width + x) * 4;
      if (d.data[i + 3] !== 255) opaque = false;
      const v = d.data[i] + d.data[i + 1] + d.data[i + 2];
      samples.push(v);
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return { opaque, min, max, samples, width: d.width };
}

/** Runs in the viewer page: whether the picture is drawn and, with `varied`, shows more than
 * one flat colour; with `changed`, that it came after the viewer learnt of the navigation
 * goTo started and differs from the picture markPicture kept (the previous page). */
function pictureReady(varied, changed) {
  const now = (PICTURE_NOW)();
  if (!now || !now.opaque) return false;
  if (varied && now.max - now.min <= 30) return false;
  if (!changed) return true;
  const nav = window.__tandemTestNav;
  if (!nav || nav.frames === null || window.tandemLive.frames <= nav.frames) return false;
  const before = window.__tandemTestPicture;
  if (!before) return true;
  if (before.width !== now.width || before.samples.length !== now.samples.length) return true;
  let differing = 0;
  for (let i = 0; i < now.samples.length; i += 1) {
    // 45 of 765: a light tint (#dde on white is 85) counts, JPEG noise does not.
    if (Math.abs(now.samples[i] - before.samples[i]) > 45) differing += 1;
  }
  return differing >= 20;
}

function inPage(fn, ...args) {
  const source = fn.toString().replace('PICTURE_NOW', pictureNow.toString());
  return `(${source})(${args.map((a) => JSON.stringify(a)).join(', ')})`;
}

/** Keeps the viewer's current picture, for waitForPicture's `changed`. */
export async function markPicture(page) {
  await page.evaluate(inPage(function mark() { window.__tandemTestPicture = (PICTURE_NOW)(); }));
}

/**
 * Waits until the viewer has drawn a frame that shows something (not one flat colour) in its
 * picture area; with `changed`, one that differs from the picture markPicture kept (a page
 * that a navigation brought, not the previous page's last frame).
 */
export async function waitForPicture(page, { timeout = 15000, changed = false } = {}) {
  await page.waitForFunction(inPage(pictureReady, true, changed), null, { timeout, polling: 100 });
}

/** Waits until the viewer has drawn a frame over its whole picture area, whatever it shows
 * (a blank page is a flat white picture). */
export async function waitForFrame(page, { timeout = 15000 } = {}) {
  await page.waitForFunction(inPage(pictureReady, false, false), null, { timeout, polling: 100 });
}

/** The colour (r, g, b) at the centre of the viewer's picture. */
export async function pictureCentre(page) {
  return page.evaluate(() => {
    const c = document.getElementById('screen');
    const d = c.getContext('2d').getImageData(Math.floor(c.width / 2), Math.floor(c.height / 2), 1, 1).data;
    return [d[0], d[1], d[2]];
  });
}

/** Navigates the session's browser through the live view's own address bar, and waits until
 * the viewer shows the new page (not the last frame of the previous one). On the page already
 * it does nothing: Enter in the address bar would reload it, and a click sent during the
 * reload would land on the old document. */
export async function goTo(page, url) {
  const current = await page.evaluate(() => {
    const s = window.tandemLive;
    const tab = s && s.tabs.find((t) => t.id === s.active);
    return tab ? tab.url : null;
  });
  if (current === url) {
    await waitForPicture(page);
    return;
  }
  await markPicture(page);
  // How many frames the viewer had drawn when it learnt the tab's new address: the new page is
  // in the frames after those.
  await page.evaluate((u) => {
    const s = window.tandemLive;
    const nav = { url: u, frames: null };
    window.__tandemTestNav = nav;
    const observer = new MutationObserver(() => {
      const tab = s.tabs.find((t) => t.id === s.active);
      if (nav.frames === null && tab && tab.url === u) {
        nav.frames = s.frames;
        observer.disconnect();
      }
    });
    observer.observe(document.getElementById('tablist'), { childList: true, subtree: true });
  }, url);
  await page.fill('#address', url);
  await page.press('#address', 'Enter');
  await page.waitForFunction((u) => {
    const s = window.tandemLive;
    const tab = s.tabs.find((t) => t.id === s.active);
    return tab && tab.url === u;
  }, url, { timeout: 15000 });
  await waitForPicture(page, { changed: true });
}

/** Waits until the clipboard `page` reads holds `text`. Polled from here: Playwright's
 * waitForFunction does not await a predicate's promise (a promise is truthy), so an async
 * predicate there would pass at once. */
export async function waitForClipboard(page, text, { timeout = 10000 } = {}) {
  const deadline = Date.now() + timeout;
  let now;
  for (;;) {
    now = await page.evaluate(() => navigator.clipboard.readText());
    if (now === text) return;
    if (Date.now() > deadline) throw new Error(`the clipboard holds ${JSON.stringify(now)}, not ${JSON.stringify(text)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Types `text` into the focused field of the remote page through the viewer `page`, waits
 * until the fixture server `fixtures` heard the field take it (a report matching `where` as
 * well), selects it all and copies it through the viewer; resolves with the field's report
 * once the human's clipboard holds the text. */
export async function typeAndCopy(page, fixtures, text, where = () => true) {
  const since = Date.now();
  await page.keyboard.type(text, { delay: 0 });
  const typed = await fixtures.waitFor((r) => r.event === 'input' && r.value === text && where(r), { since });
  await page.evaluate(() => navigator.clipboard.writeText(''));
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Control+C');
  await waitForClipboard(page, text);
  return typed;
}

/** A viewer of `session` (a created session's JSON) in a fresh 1280×860 context of
 * `chromium` that may use the clipboard of `tandem`'s pages; resolves with the context and
 * the page once it drew a first frame. */
export async function clipboardViewer(chromium, tandem, session) {
  const context = await chromium.newContext({ viewport: { width: 1280, height: 860 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: tandem.base });
  const viewer = await context.newPage();
  await viewer.goto(session.liveUrl);
  await waitForFrame(viewer, { timeout: 20000 });
  return { context, viewer };
}

/** The viewer-page point (CSS px) showing a remote viewport point (CSS px). */
export async function remotePoint(page, x, y) {
  return page.evaluate(([x, y]) => {
    const c = document.getElementById('screen').getBoundingClientRect();
    const s = window.tandemLive;
    const iw = s.lastFrame.w;
    const ih = s.lastFrame.h;
    const scale = Math.min(c.width / iw, c.height / ih);
    const w = iw * scale;
    const h = ih * scale;
    // The frame shows the remote viewport, 1280 CSS px wide, at any pixel density.
    const cssW = 1280;
    const cssH = (cssW * ih) / iw;
    return { x: c.left + (c.width - w) / 2 + (x / cssW) * w, y: c.top + (c.height - h) / 2 + (y / cssH) * h };
  }, [x, y]);
}

/**
 * A scripted model: an OpenAI-compatible chat-completions server on 127.0.0.1, the one
 * stand-in the tests allow. `llm.next = async (state, n) => ({ name, arguments })` decides
 * each reply from the state text the agent sent (the last user message), like a model reading
 * the page would; a thrown error becomes a 400 the agent reports.
 */
export async function startScriptedLlm() {
  const llm = {
    requests: [],
    errors: [],
    next: null,
    base: null,
    /** The state text of request `i` (0-based). */
    state(i) { return stateOf(llm.requests[i]); },
    close: null,
  };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', async () => {
      let parsed;
      try { parsed = JSON.parse(body); } catch { res.writeHead(400).end('bad json'); return; }
      llm.requests.push(parsed);
      const n = llm.requests.length;
      try {
        if (!llm.next) throw new Error('no script');
        const { name, arguments: args } = await llm.next(stateOf(parsed), n);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({
          id: `chatcmpl-${n}`, object: 'chat.completion', created: 0, model: 'scripted',
          choices: [{
            index: 0,
            message: { role: 'assistant', content: null, tool_calls: [{ id: `call_${n}`, type: 'function', function: { name, arguments: JSON.stringify(args) } }] },
            finish_reason: 'tool_calls',
          }],
          usage: { prompt_tokens: 1000, completion_tokens: 50, total_tokens: 1050 },
        }));
      } catch (e) {
        llm.errors.push(`${e.message}\n--- state ---\n${stateOf(parsed)}`);
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `test script: ${e.message}` } }));
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  llm.base = `http://127.0.0.1:${server.address().port}/v1`;
  llm.close = () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); });
  /** The environment that points `tandem serve` at this model. */
  llm.env = { TANDEM_LLM_PROVIDER: 'openai', TANDEM_LLM_BASE_URL: llm.base, TANDEM_LLM_API_KEY: 'sk-test', TANDEM_LLM_MODEL: 'scripted' };
  return llm;
}

function stateOf(body) {
  const messages = (body && body.messages) || [];
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const m = messages[i];
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    return (m.content || []).map((p) => p.text || '').join('\n');
  }
  return '';
}

/** The `[index]` of the first element line of `state` containing `needle`. */
export function indexOf(state, needle) {
  const line = state.split('\n').find((l) => l.startsWith('[') && l.includes(needle));
  if (!line) throw new Error(`no element line containing ${JSON.stringify(needle)}`);
  return Number(line.slice(1, line.indexOf(']')));
}

/** Polls the session until `pred(session)` holds; returns it. */
export async function waitForSession(tandem, id, pred, { timeout = 30000, what = 'the session' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = (await tandem.api('GET', `/sessions/${id}`)).json;
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come within ${timeout} ms; last: ${JSON.stringify(last)}`);
}
