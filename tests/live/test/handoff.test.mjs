// Handoff inside a task: the agent asks the human, the human takes control and hands it back,
// approvals; in the live view (Playwright) and through the API. The agent is Tandem's real
// agent driving the session's real Chromium; only the model is scripted (startScriptedLlm):
// it reads the state text the agent sends and decides, so every answer below depends on what
// the page really shows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startTandem, startFixtures, launchChromium, startScriptedLlm, indexOf, waitForSession,
  waitForFrame, remotePoint,
} from '../support.mjs';

let tandem;
let quick; // a server whose tasks wait 2 s for a human
let fixtures;
let chromium;
let llm;

before(async () => {
  [fixtures, chromium, llm] = await Promise.all([startFixtures(), launchChromium(), startScriptedLlm()]);
  [tandem, quick] = await Promise.all([
    startTandem({ env: llm.env }),
    startTandem({ env: { ...llm.env, TANDEM_HUMAN_WAIT: '2s' } }),
  ]);
});

after(async () => {
  if (chromium) await chromium.close();
  for (const server of [tandem, quick]) if (server) await server.stop();
  if (fixtures) await fixtures.close();
  if (llm) await llm.close();
});

const checkout = () => fixtures.url('/agent/checkout.html');
const onCheckout = (state) => state.includes('/agent/checkout.html');
const navigate = () => ({ name: 'browser_navigate', arguments: { url: checkout() } });
const done = (text) => ({ name: 'done', arguments: { text, success: true } });

/** Runs `task` in a new keep-alive session; returns the session. */
async function dispatch(server, task, extra = {}) {
  const created = await server.api('POST', '/sessions', { task, keepAlive: true, ...extra });
  assert.equal(created.status, 200, JSON.stringify(created.json));
  return created.json;
}

async function openViewer(session) {
  const page = await chromium.newPage({ viewport: { width: 1280, height: 860 } });
  await page.goto(session.liveUrl);
  try {
    await waitForFrame(page);
  } catch (e) {
    const seen = await page.evaluate(() => {
      const s = window.tandemLive;
      return { frames: s.frames, lastFrame: s.lastFrame, tabs: s.tabs, active: s.active, connected: s.connected, agent: s.agent };
    });
    throw new Error(`${e.message}; the viewer saw ${JSON.stringify(seen)}`);
  }
  return page;
}

async function feedSummaries(server, id) {
  const feed = await server.api('GET', `/sessions/${id}/messages?limit=100`);
  return feed.json.messages.map((m) => `[${m.role}] ${m.summary}`);
}

test('ask_human: the viewer shows the question, the answer goes to the agent', async () => {
  llm.next = async (state) => {
    if (!onCheckout(state)) return navigate();
    const answered = state.match(/The human answered: (\w+)/);
    if (state.includes('Order placed, size')) return done(state.match(/Order placed, size \w+/)[0]);
    if (answered) return { name: 'browser_type', arguments: { index: indexOf(state, 'Size'), text: answered[1], submit: true } };
    return { name: 'ask_human', arguments: { question: 'Which size do you want?' } };
  };
  const session = await dispatch(tandem, 'Order the shirt in the size the human wants');
  const page = await openViewer(session);
  await page.locator('#agent[data-kind="question"]').waitFor({ timeout: 30000 });
  assert.match(await page.locator('#agenttext').textContent(), /Which size do you want\?/);
  const waiting = (await tandem.api('GET', `/sessions/${session.id}`)).json;
  assert.equal(waiting.status, 'running', 'the status stays running while the agent waits');
  assert.equal(waiting.humanInput.type, 'question');
  assert.equal(waiting.humanInput.question, 'Which size do you want?');
  assert.ok(Date.parse(waiting.humanInput.requestedAt) > 0);

  await page.fill('#agentanswer', 'M');
  await page.click('#agentdone');
  const finished = await waitForSession(tandem, session.id, (s) => s.status === 'idle', { what: 'the end of the task' });
  assert.equal(finished.output, 'Order placed, size M');
  assert.equal(finished.isTaskSuccessful, true);
  assert.equal(finished.humanInput, null);
  await page.locator('#agent').waitFor({ state: 'hidden' });
  const feed = await feedSummaries(tandem, session.id);
  assert.ok(feed.some((m) => m === '[user] The human answered in the live view: M'), feed.join('\n'));
  await page.close();
  await tandem.api('POST', `/sessions/${session.id}/stop`, {});
});

test('take control mid-task: the agent pauses, and goes on from the page the human left', async () => {
  let tookControl;
  const humanHasControl = new Promise((resolve) => { tookControl = resolve; });
  let planned = 0;
  llm.next = async (state) => {
    if (!onCheckout(state)) return navigate();
    if (state.includes('Order placed, size')) {
      const coupon = state.includes('Coupon applied') ? 'yes' : 'no';
      return done(`${state.match(/Order placed, size \w+/)[0]}; coupon: ${coupon}`);
    }
    if (state.includes('A human took control')) {
      return { name: 'browser_click', arguments: { index: indexOf(state, 'Place order') } };
    }
    planned += 1;
    if (planned === 1) {
      // The human takes over while the model "thinks": this click is planned on a page the
      // human is about to change, and must not run.
      await humanHasControl;
      return { name: 'browser_click', arguments: { index: indexOf(state, 'Apply coupon') } };
    }
    throw new Error('the agent went on without waiting for the human');
  };
  const first = llm.requests.length;
  const session = await dispatch(tandem, 'Place the order');
  const page = await openViewer(session);
  await page.locator('#agent[data-kind="working"]').waitFor({ timeout: 30000 });
  const planning = () => llm.requests.length > first && onCheckout(llm.state(llm.requests.length - 1));
  await waitUntil(planning, 'the model to be asked on the checkout page');

  // A click in the page takes the control.
  const blank = await remotePoint(page, 1200, 500);
  await page.mouse.click(blank.x, blank.y);
  await page.locator('#agent[data-kind="control"]').waitFor({ timeout: 10000 });
  const held = (await tandem.api('GET', `/sessions/${session.id}`)).json;
  assert.equal(held.status, 'running');
  assert.equal(held.humanInput.type, 'control');
  // The human fills the size in the page itself.
  await page.keyboard.press('Tab');
  await page.keyboard.type('L');
  tookControl();
  // The agent waits: no new model call while the human has control.
  const calls = llm.requests.length;
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(llm.requests.length, calls, 'no model call while the human has control');
  assert.equal((await tandem.api('GET', `/sessions/${session.id}`)).json.humanInput.type, 'control');

  await page.click('#agentback');
  const finished = await waitForSession(tandem, session.id, (s) => s.status === 'idle', { what: 'the end of the task' });
  assert.equal(finished.output, 'Order placed, size L; coupon: no', 'the stale click was skipped and the human\'s input kept');
  const feed = await feedSummaries(tandem, session.id);
  assert.ok(feed.includes('[user] The human took control in the live view'), feed.join('\n'));
  assert.ok(feed.includes('[user] The human handed control back in the live view'), feed.join('\n'));
  await page.close();
  await tandem.api('POST', `/sessions/${session.id}/stop`, {});
});

test('a rejected approval skips that action', async () => {
  llm.next = async (state) => {
    if (!onCheckout(state)) return navigate();
    if (state.includes('rejected by the human')) {
      return done(state.includes('Not ordered') ? 'Not ordered: the human said no' : 'ordered anyway');
    }
    return { name: 'browser_click', arguments: { index: indexOf(state, 'Place order') } };
  };
  const session = await dispatch(tandem, 'Place the order', { requireApproval: ['purchase'] });
  const page = await openViewer(session);
  await page.locator('#agent[data-kind="approval"]').waitFor({ timeout: 30000 });
  assert.match(await page.locator('#agenttext').textContent(), /Place order.*\(purchase\)/);
  const waiting = (await tandem.api('GET', `/sessions/${session.id}`)).json;
  assert.equal(waiting.humanInput.type, 'approval');
  assert.equal(waiting.humanInput.kind, 'purchase');
  await page.click('#agentreject');
  const finished = await waitForSession(tandem, session.id, (s) => s.status === 'idle', { what: 'the end of the task' });
  assert.equal(finished.output, 'Not ordered: the human said no');
  const feed = await feedSummaries(tandem, session.id);
  assert.ok(feed.some((m) => m.startsWith('[assistant] Waiting for approval (purchase)')), feed.join('\n'));
  assert.ok(feed.some((m) => m.startsWith('[user] The human rejected in the live view (purchase)')), feed.join('\n'));
  await page.close();
  await tandem.api('POST', `/sessions/${session.id}/stop`, {});
});

test('the API answers too: resume with an answer, approve, and clear errors', async () => {
  llm.next = async (state) => {
    if (!onCheckout(state)) return navigate();
    if (state.includes('Order placed, size')) return done(state.match(/Order placed, size \w+/)[0]);
    if (/"Size" value=S\b/.test(state)) {
      return { name: 'browser_click', arguments: { index: indexOf(state, 'Place order') } };
    }
    const answered = state.match(/The human answered: (\w+)/);
    if (answered) return { name: 'browser_type', arguments: { index: indexOf(state, 'Size'), text: answered[1] } };
    return { name: 'ask_human', arguments: { question: 'Size?' } };
  };
  const session = await dispatch(tandem, 'Order in the size the human wants', { requireApproval: ['submit'] });
  await waitForSession(tandem, session.id, (s) => s.humanInput && s.humanInput.type === 'question');
  const bad = await tandem.api('POST', `/sessions/${session.id}/resume`, { answer: 42 });
  assert.equal(bad.status, 422, 'a non-string answer is refused');
  const answered = await tandem.api('POST', `/sessions/${session.id}/resume`, { answer: 'S' });
  assert.equal(answered.status, 200, JSON.stringify(answered.json));
  assert.equal(answered.json.humanInput, null);
  // "Place order" submits the form: an approval, which needs approve true or false.
  const approval = await waitForSession(tandem, session.id, (s) => s.humanInput && s.humanInput.type === 'approval');
  assert.equal(approval.humanInput.kind, 'submit');
  const missing = await tandem.api('POST', `/sessions/${session.id}/resume`, {});
  assert.equal(missing.status, 422);
  assert.match(missing.json.detail, /approve/);
  const approved = await tandem.api('POST', `/sessions/${session.id}/resume`, { approve: true });
  assert.equal(approved.status, 200);
  const finished = await waitForSession(tandem, session.id, (s) => s.status === 'idle');
  assert.equal(finished.output, 'Order placed, size S');
  const idle = await tandem.api('POST', `/sessions/${session.id}/resume`, {});
  assert.equal(idle.status, 409);
  assert.equal(idle.json.detail, 'The session is not waiting for a human');
  const noTask = await tandem.api('POST', `/sessions/${session.id}/take-control`);
  assert.equal(noTask.status, 409);
  const unknown = await tandem.api('POST', '/sessions/00000000-0000-7000-8000-000000000000/resume', {});
  assert.equal(unknown.status, 404);
  await tandem.api('POST', `/sessions/${session.id}/stop`, {});
});

test('a handoff nobody answers ends the task with a clear message', async () => {
  llm.next = async (state) => {
    if (!onCheckout(state)) return navigate();
    return { name: 'ask_human', arguments: { question: 'Please log in for me' } };
  };
  const session = await dispatch(quick, 'Log in and order');
  const finished = await waitForSession(quick, session.id, (s) => s.status === 'idle', { what: 'the end of the task' });
  assert.equal(finished.isTaskSuccessful, false);
  assert.equal(finished.output, 'No answer from the human within 2s to: Please log in for me');
  assert.equal(finished.humanInput, null);
  const feed = await feedSummaries(quick, session.id);
  assert.ok(feed.includes('[assistant] No human answered within 2s'), feed.join('\n'));
  await quick.api('POST', `/sessions/${session.id}/stop`, {});
});

async function waitUntil(pred, what, timeout = 30000) {
  const deadline = Date.now() + timeout;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; model errors: ${llm.errors.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
