// Dispatching a task to a server with no LLM provider configured: the agent cannot run, so a
// task must end `error`, quickly and clearly. The agent itself is in agent_flow.test.mjs.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BrowserUse } from "browser-use-sdk/v3";
import { TandemServer } from "../support/harness.mjs";

const TASK = "Open the page and read its title";
const RUN_BOUND_MS = 30_000;

function assertEndedInError(result, id) {
  if (id) assert.equal(result.id, id);
  assert.equal(result.status, "error");
  assert.equal(typeof result.lastStepSummary, "string", "lastStepSummary must say why the task failed");
  assert.ok(result.lastStepSummary.trim().length > 0);
  assert.equal(result.output, null);
  assert.ok(result.isTaskSuccessful == null || result.isTaskSuccessful === false);
}

describe("task dispatch without an LLM provider (TS SDK)", () => {
  let server;
  let client;

  before(async () => {
    server = await new TandemServer().start();
    client = new BrowserUse({ apiKey: server.apiKey, baseUrl: server.baseUrl });
  });

  after(async () => {
    await server?.stop();
  });

  it("run() in an existing session returns with status error", async () => {
    const session = await client.sessions.create();
    const result = await client.run(TASK, { sessionId: session.id, timeout: RUN_BOUND_MS });
    assertEndedInError(result, session.id);

    const feed = await client.sessions.messages(session.id, { limit: 100 });
    assert.equal(feed.hasMore, false);
    assert.ok(feed.messages.length >= 2, "the feed must hold the task and the error");
    assert.equal(feed.messages[0].role, "user");
    assert.equal(typeof feed.messages[0].data, "string");
    assert.ok(feed.messages[0].data.includes(TASK));
    const ids = feed.messages.map((m) => m.id);
    const latest = await client.sessions.messages(session.id, { limit: 1 });
    assert.deepEqual(latest.messages.map((m) => m.id), ids.slice(-1));
    const rest = await client.sessions.messages(session.id, { after: ids[0], limit: 100 });
    assert.deepEqual(rest.messages.map((m) => m.id), ids.slice(1));

    await assert.rejects(client.sessions.create({ task: TASK, sessionId: session.id }), (err) => {
      assert.ok([409, 422].includes(err.statusCode), `got ${err.statusCode}`);
      return true;
    });
  });

  it("a dispatch is never answered with idle", async () => {
    const session = await client.sessions.create();
    const dispatched = await client.sessions.create({ task: TASK, sessionId: session.id, keepAlive: true });
    assert.equal(dispatched.id, session.id);
    assert.ok(["created", "running", "error"].includes(dispatched.status), dispatched.status);
  });

  it("run() without a session creates one and returns with status error", async () => {
    const result = await client.run(TASK, { timeout: RUN_BOUND_MS });
    assertEndedInError(result);
  });

  it("iterating run() yields the feed and ends", async () => {
    const session = await client.sessions.create();
    const run = client.run(TASK, { sessionId: session.id, timeout: RUN_BOUND_MS });
    const seen = [];
    for await (const msg of run) seen.push(msg);
    assertEndedInError(run.result, session.id);
    assert.ok(seen.length >= 1);
    assert.equal(seen[0].role, "user");
  });
});
