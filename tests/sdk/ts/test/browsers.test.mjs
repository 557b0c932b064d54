// Puppeteer (puppeteer-core: no browser download) drives a session's browser through its
// cdpUrl; the TS SDK's browsers and profiles calls.

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, it } from "node:test";
import { BrowserUse, BrowserUseError } from "browser-use-sdk/v3";
import puppeteer from "puppeteer-core";
import { TandemServer, browserWSEndpoint, waitStatus } from "../support/harness.mjs";

describe("CDP access and browsers (TS SDK, Puppeteer)", () => {
  let server;
  let client;
  let site;
  let siteUrl;

  before(async () => {
    server = await new TandemServer().start();
    client = new BrowserUse({ apiKey: server.apiKey, baseUrl: server.baseUrl });
    site = createServer((req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end("<!doctype html><title>Shop</title><h1>Shop</h1><p id=status>open</p>");
    });
    await new Promise((resolve) => site.listen(0, "127.0.0.1", resolve));
    siteUrl = `http://127.0.0.1:${site.address().port}/`;
  });

  after(async () => {
    site?.close();
    await server?.stop();
  });

  it("connects to a session, reads the DOM, closes, and the session lives on", async () => {
    const session = await client.sessions.create();
    await waitStatus(client, session.id, ["idle"]);
    const view = await client.browsers.get(session.id);
    assert.equal(view.agentSessionId, session.id);
    assert.equal(view.status, "active");
    const endpoint = await browserWSEndpoint(view.cdpUrl);

    const browser = await puppeteer.connect({ browserWSEndpoint: endpoint, defaultViewport: null });
    const page = await browser.newPage();
    await page.goto(siteUrl);
    assert.equal(await page.$eval("h1", (h) => h.textContent), "Shop");
    assert.equal(await page.title(), "Shop");
    // close() sends Browser.close: Tandem ends only this connection.
    await browser.close();

    assert.equal((await client.sessions.get(session.id)).status, "idle");
    const again = await puppeteer.connect({ browserWSEndpoint: endpoint, defaultViewport: null });
    const pages = await again.pages();
    assert.ok(pages.some((p) => p.url() === siteUrl), "the page is still open");
    await again.disconnect();
    assert.equal((await client.browsers.get(session.id)).status, "active");

    await client.sessions.stop(session.id);
    assert.equal((await client.browsers.get(session.id)).status, "stopped");
  });

  it("creates, lists and stops a standalone browser", async () => {
    const created = await client.browsers.create({ timeout: 10, metadata: { suite: "ts" } });
    assert.equal(created.status, "active");
    assert.ok(created.cdpUrl && created.liveUrl);
    const listed = await client.browsers.list({ metadata: ["suite=ts"], filterBy: "active" });
    assert.deepEqual(listed.items.map((b) => b.id), [created.id]);

    const browser = await puppeteer.connect({
      browserWSEndpoint: await browserWSEndpoint(created.cdpUrl),
      defaultViewport: null,
    });
    const page = await browser.newPage();
    await page.goto(siteUrl);
    assert.equal(await page.$eval("#status", (p) => p.textContent), "open");
    await browser.disconnect();

    const stopped = await client.browsers.stop(created.id);
    assert.equal(stopped.status, "stopped");
    assert.ok(stopped.finishedAt);
    await assert.rejects(client.browsers.create({ timeout: 241 }), (err) => {
      assert.ok(err instanceof BrowserUseError);
      assert.equal(err.statusCode, 403);
      return true;
    });
  });

  it("manages profiles with the TS list parameters", async () => {
    const profile = await client.profiles.create({ name: "ts profile" });
    assert.equal(profile.name, "ts profile");
    const listed = await client.profiles.list({ query: "ts profile", page: 1, page_size: 5 });
    assert.deepEqual(listed.items.map((p) => p.id), [profile.id]);
    assert.equal(listed.pageSize, 5);
    const renamed = await client.profiles.update(profile.id, { name: "renamed" });
    assert.equal(renamed.name, "renamed");
    await client.profiles.delete(profile.id);
    await assert.rejects(client.profiles.get(profile.id), (err) => err.statusCode === 404);
  });
});
