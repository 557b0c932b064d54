// Every 4xx a user can hit through the TS SDK: BrowserUseError with the right statusCode.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { BrowserUse, BrowserUseError } from "browser-use-sdk/v3";
import { TandemServer } from "../support/harness.mjs";

async function rejectsWith(statuses, promise) {
  const want = Array.isArray(statuses) ? statuses : [statuses];
  let error;
  try {
    await promise;
  } catch (err) {
    error = err;
  }
  assert.ok(error instanceof BrowserUseError, `expected BrowserUseError ${want}, got ${error}`);
  assert.ok(want.includes(error.statusCode), `expected ${want}, got ${error.statusCode}: ${error.message}`);
  assert.ok(error.message && !/^HTTP \d+$/.test(error.message), `error body needs a detail: ${error.message}`);
  assert.ok(error.detail && "detail" in error.detail, "error body must be {detail: ...}");
  return error;
}

describe("error paths (TS SDK)", () => {
  let server;
  let client;

  before(async () => {
    server = await new TandemServer().start();
    client = new BrowserUse({ apiKey: server.apiKey, baseUrl: server.baseUrl });
  });

  after(async () => {
    await server?.stop();
  });

  it("a wrong API key is 401", async () => {
    const bad = new BrowserUse({ apiKey: "bu_wrong", baseUrl: server.baseUrl });
    await rejectsWith(401, bad.sessions.list());
    await rejectsWith(401, bad.sessions.create());
  });

  it("an unknown session is 404", async () => {
    const missing = randomUUID();
    const err = await rejectsWith(404, client.sessions.get(missing));
    assert.equal(err.message, "Session not found");
    await rejectsWith(404, client.sessions.stop(missing));
    await rejectsWith(404, client.sessions.delete(missing));
    await rejectsWith(404, client.sessions.messages(missing));
    await rejectsWith(404, client.sessions.create({ task: "a task", sessionId: missing }));
    // run() checks the feed first: it fails at once instead of polling.
    await rejectsWith(404, client.run("a task", { sessionId: missing, timeout: 10_000 }));
  });

  it("sessionId without task is 422", async () => {
    const session = await client.sessions.create();
    const err = await rejectsWith(422, client.sessions.create({ sessionId: session.id }));
    assert.match(err.message, /task/i);
  });

  it("malformed values are 422", async () => {
    await rejectsWith(422, client.sessions.get("not-a-uuid"));
    await rejectsWith(422, client.sessions.create({ task: "a task", sessionId: "not-a-uuid" }));
    const session = await client.sessions.create();
    await rejectsWith(422, client.sessions.messages(session.id, { limit: 0 }));
    await rejectsWith(422, client.sessions.stop(session.id, { strategy: "everything" }));
  });

  it("a task to a busy or finished session is refused", async () => {
    const session = await client.sessions.create();
    await client.sessions.create({ task: "first task", sessionId: session.id, keepAlive: true });
    await rejectsWith([409, 422], client.sessions.create({ task: "second task", sessionId: session.id }));

    const stopped = await client.sessions.create();
    await client.sessions.stop(stopped.id);
    await rejectsWith([409, 422], client.sessions.create({ task: "a task", sessionId: stopped.id }));
  });
});

describe("concurrent-session limit (TS SDK)", () => {
  let server;

  before(async () => {
    server = await new TandemServer(["--pool-size", "1", "--max-sessions", "1"]).start();
  });

  after(async () => {
    await server?.stop();
  });

  it("past --max-sessions a create is 429 and creates nothing", async () => {
    const client = new BrowserUse({ apiKey: server.apiKey, baseUrl: server.baseUrl });
    const first = await client.sessions.create();
    // The SDK retries a 429 three times (1 s, 2 s, 4 s) before throwing.
    const started = Date.now();
    await rejectsWith(429, client.sessions.create());
    assert.ok(Date.now() - started < 30_000);
    const listed = await client.sessions.list();
    assert.equal(listed.total, 1, "a refused create must not create anything");

    await client.sessions.stop(first.id);
    const second = await client.sessions.create();
    assert.ok(["created", "idle"].includes(second.status));
  });
});
