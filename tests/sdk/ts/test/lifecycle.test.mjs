// create -> get -> list -> messages -> stop(task) -> stop -> delete, through the official TS SDK.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BrowserUse, BrowserUseError } from "browser-use-sdk/v3";
import { TandemServer, waitStatus } from "../support/harness.mjs";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

describe("session lifecycle (TS SDK)", () => {
  let server;
  let client;

  before(async () => {
    server = await new TandemServer().start();
    client = new BrowserUse({ apiKey: server.apiKey, baseUrl: server.baseUrl });
  });

  after(async () => {
    await server?.stop();
  });

  it("creates, reads, lists, stops and deletes a session", async () => {
    const session = await client.sessions.create();
    assert.match(session.id, UUID);
    assert.ok(["created", "idle"].includes(session.status), session.status);
    assert.equal(typeof session.liveUrl, "string", "liveUrl must be in the create response");
    assert.ok(session.liveUrl.length > 0);
    assert.equal(session.output ?? null, null);

    const got = await client.sessions.get(session.id);
    assert.equal(got.id, session.id);
    assert.equal(got.liveUrl, session.liveUrl);
    const idle = await waitStatus(client, session.id, ["idle"]);
    assert.equal(idle.liveUrl, session.liveUrl);

    const second = await client.sessions.create();
    const listed = await client.sessions.list({ page_size: 100 });
    const ids = listed.sessions.map((s) => s.id);
    assert.ok(ids.includes(session.id) && ids.includes(second.id));
    assert.ok(ids.indexOf(second.id) < ids.indexOf(session.id), "newest first");
    assert.equal(listed.page, 1);
    assert.equal(listed.pageSize, 100);
    assert.ok(listed.total >= 2);
    const one = await client.sessions.list({ page: 1, page_size: 1 });
    assert.equal(one.sessions.length, 1);
    assert.equal(one.total, listed.total);

    const messages = await client.sessions.messages(session.id);
    assert.deepEqual(messages, { messages: [], hasMore: false });
    const latest = await client.sessions.messages(session.id, { limit: 1 });
    assert.deepEqual(latest.messages, []);

    const taskStopped = await client.sessions.stop(session.id, { strategy: "task" });
    assert.equal(taskStopped.id, session.id);
    assert.equal(taskStopped.status, "idle");
    assert.equal(taskStopped.liveUrl, session.liveUrl);

    // No body at all: the SDK's plain stop() sends a bodyless POST.
    const stopped = await client.sessions.stop(session.id);
    assert.equal(stopped.status, "stopped");
    assert.equal(stopped.liveUrl, null);
    assert.equal((await client.sessions.get(session.id)).liveUrl, null);
    assert.equal((await client.sessions.stop(session.id, { strategy: "session" })).status, "stopped");

    // DELETE must answer 204 with no body (a 200 with an empty body throws in this SDK).
    assert.equal(await client.sessions.delete(session.id), undefined);
    await assert.rejects(client.sessions.get(session.id), (err) => {
      assert.ok(err instanceof BrowserUseError, String(err));
      assert.equal(err.statusCode, 404);
      return true;
    });
    const after = await client.sessions.list({ page_size: 100 });
    assert.ok(!after.sessions.some((s) => s.id === session.id));

    await client.sessions.delete(second.id);
    await assert.rejects(client.sessions.get(second.id), { statusCode: 404 });
  });
});
