// The seed's human-in-the-loop flow end to end through the official TS SDK, with the real agent.
//
// `tandem serve` runs with TANDEM_LLM_PROVIDER=openai pointed at a scripted model
// (support/model.mjs, the one stand-in) that also hosts the fixture pages. The script reads the
// state text the agent sends and picks the `[index]` of the line it wants, or navigates, so
// perception, actions and the loop run for real in Chromium. When the state is not what the
// task needs (another page, a lost earlier result), the script throws and the task fails.
//
// As in the seed, two `client.run(task, { sessionId })` share one session, and between them a
// human picks a product in the browser: Puppeteer, connected through the session's cdpUrl,
// clicks it with real input, as the live view would, then disconnects.

import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { BrowserUse } from "browser-use-sdk/v3";
import puppeteer from "puppeteer-core";
import { z } from "zod";
import { TandemServer, browserWSEndpoint } from "../support/harness.mjs";
import { USAGE, elementLines, indexOf, lineWith, startModel, stateOf } from "../support/model.mjs";

const COUNT_TASK = (shop) => `Open the shop at ${shop} and tell me how many products it lists`;
const PICKED_TASK = "Get the details of the selected product: name and price";
const BROWSE_TASK = (shop) => `Open the shop at ${shop} and find the price of the Walnut side table`;
const VALID_TASK = (product) => `Open ${product} and give me the offer`;
const INVALID_TASK = (product) => `Sloppily give me the offer at ${product}`;
// Bounds a run that hangs: the SDK's own default is four hours.
const RUN = { timeout: 60_000 };

// A nested schema; the id puts Price in `$defs`, as pydantic's models do in the Python suite.
const Price = z.object({ amount: z.number(), currency: z.string() }).meta({ id: "Price" });
const Offer = z.object({ product: z.object({ name: z.string(), price: Price }) });

/** The task of a state message, exactly as the agent was given it. */
function taskOf(state) {
  const match = /^<task>\n([\s\S]*?)\n<\/task>/.exec(state);
  if (!match) throw new Error("the state has no <task>");
  return match[1];
}

/** Decides each reply from the request, like a model reading the page would. */
function script(shop, product) {
  return (body) => {
    const state = stateOf(body);
    const url = lineWith(state, "url: ").slice("url: ".length);
    const task = taskOf(state);
    const title = () => lineWith(state, "title: ").slice("title: ".length);
    const report = () => ["done", { text: `${title()}: ${lineWith(state, "Price: $")}`, success: true }];
    switch (task) {
      case COUNT_TASK(shop): {
        if (!url.endsWith("/shop.html")) return ["browser_navigate", { url: shop }];
        const products = elementLines(state).filter((l) => l.includes(" link "));
        return ["done", { text: `The shop lists ${products.length} products`, success: true }];
      }
      case PICKED_TASK:
        // The follow-up starts where the human left the browser, and knows the first result.
        if (!url.includes("/product.html")) {
          throw new Error(`the follow-up started on ${url}, not on the human's pick`);
        }
        lineWith(state, "result: The shop lists 3 products");
        return report();
      case BROWSE_TASK(shop):
        if (url.includes("/product.html")) return report();
        if (!url.endsWith("/shop.html")) return ["browser_navigate", { url: shop }];
        return ["browser_click", { index: indexOf(lineWith(state, 'link "Walnut side table"')) }];
      case VALID_TASK(product):
      case INVALID_TASK(product): {
        const done = body.tools?.find((t) => t.function?.name === "done")?.function?.parameters;
        if (!done?.$defs?.Price?.properties?.currency || !done?.properties?.data?.properties?.product) {
          throw new Error(`the done tool does not carry the zod schema: ${JSON.stringify(done)}`);
        }
        if (!url.includes("/product.html")) return ["browser_navigate", { url: product }];
        const amount = Number(lineWith(state, "Price: $").slice("Price: $".length));
        // The invalid task gives the price as a bare number every time, the corrective retry included.
        const price = task === VALID_TASK(product) ? { amount, currency: "USD" } : amount;
        return ["done", { data: { product: { name: title(), price } }, success: true }];
      }
      default:
        throw new Error(`unexpected task ${JSON.stringify(task)}`);
    }
  };
}

/** A human in the shop clicks the link `product` with real input through CDP, then leaves the
 * browser to the agent (disconnect, not close); returns the title of the page it opened. */
async function humanPicks(cdpUrl, product) {
  const endpoint = await browserWSEndpoint(cdpUrl);
  const browser = await puppeteer.connect({ browserWSEndpoint: endpoint, defaultViewport: null });
  try {
    const shop = (await browser.pages()).find((p) => p.url().endsWith("/shop.html"));
    assert.ok(shop, "the agent left the shop open");
    await shop.bringToFront();
    await Promise.all([shop.waitForNavigation(), shop.click(`::-p-aria([name="${product}"][role="link"])`)]);
    return await shop.title();
  } finally {
    await browser.disconnect();
  }
}

/** The tool call an assistant step's message carries. */
const toolCall = (message) => JSON.parse(message.data).tool_calls[0];
/** The text of a message (its `data` is a JSON chat message). */
const contentOf = (message) => JSON.parse(message.data).content;

describe("the agent through the TS SDK, with a human between tasks", () => {
  let model;
  let server;
  let client;
  let shop;
  let product;

  before(async () => {
    model = await startModel();
    shop = `${model.pagesUrl}/shop.html`;
    product = `${model.pagesUrl}/product.html?id=1`;
    model.reply = script(shop, product);
    server = new TandemServer(["--pool-size", "1"], {
      env: { TANDEM_LLM_PROVIDER: "openai", TANDEM_LLM_BASE_URL: model.baseUrl },
    });
    await server.start();
    client = new BrowserUse({ apiKey: server.apiKey, baseUrl: server.baseUrl });
  });

  beforeEach(() => {
    model.requests.length = 0;
    model.errors.length = 0;
  });

  after(async () => {
    try {
      await server?.stop();
    } finally {
      await model?.close();
    }
  });

  it("run() without a session navigates, answers with done and ends the session", async () => {
    const result = await client.run(COUNT_TASK(shop), RUN);
    assert.deepEqual(model.errors, []);
    // Without a session the SDK sends no keepAlive: the finished task stops its session.
    assert.equal(result.status, "stopped", result.lastStepSummary);
    assert.equal(result.output, "The shop lists 3 products");
    assert.equal(result.isTaskSuccessful, true);
    assert.equal(result.lastStepSummary, "Done: The shop lists 3 products");
    // One step per model call: navigate, then done.
    const calls = model.requests.length;
    assert.equal(calls, 2);
    assert.equal(result.stepCount, calls);
    assert.equal(result.totalInputTokens, calls * USAGE.prompt_tokens);
    assert.equal(result.totalOutputTokens, calls * USAGE.completion_tokens);
    assert.ok(Number(result.llmCostUsd) > 0, `llmCostUsd ${result.llmCostUsd}`);
    assert.ok(Number(result.totalCostUsd) >= Number(result.llmCostUsd), `total ${result.totalCostUsd}`);

    const feed = (await client.sessions.messages(result.id, { limit: 100 })).messages;
    const steps = feed.filter((m) => m.type === "browser_action");
    assert.deepEqual(steps.map((m) => toolCall(m).function.name), ["browser_navigate", "done"]);
    assert.equal(steps[0].summary, `Navigating to ${shop}`);
    assert.deepEqual(JSON.parse(toolCall(steps[0]).function.arguments), { url: shop });
    assert.equal(feed.at(-1).type, "completion");
    assert.equal(contentOf(feed.at(-1)), "The shop lists 3 products");
  });

  it("two runs in one session, the human picking a product between them", async () => {
    const session = await client.sessions.create();
    assert.ok(session.liveUrl);
    const first = await client.run(COUNT_TASK(shop), { sessionId: session.id, ...RUN });
    assert.deepEqual(model.errors, []);
    assert.equal(first.id, session.id);
    assert.equal(first.status, "idle", first.lastStepSummary);
    assert.equal(first.output, "The shop lists 3 products");
    assert.equal(first.isTaskSuccessful, true);
    assert.equal(first.stepCount, 2);

    const { cdpUrl } = await client.browsers.get(session.id);
    assert.equal(await humanPicks(cdpUrl, "Linen armchair"), "Linen armchair");
    const handedBack = await client.sessions.get(session.id);
    assert.equal(handedBack.status, "idle", "the human's disconnect ends nothing");

    const second = await client.run(PICKED_TASK, { sessionId: session.id, ...RUN });
    assert.deepEqual(model.errors, []);
    assert.equal(second.status, "idle", second.lastStepSummary);
    assert.equal(second.output, "Linen armchair: Price: $349.00");
    assert.equal(second.isTaskSuccessful, true);
    assert.equal(second.stepCount, 1, "the follow-up answered from where the human left it");
    // Usage is summed over the session: three model calls.
    assert.equal(model.requests.length, 3);
    assert.equal(second.totalInputTokens, 3 * USAGE.prompt_tokens);
    assert.equal(second.totalOutputTokens, 3 * USAGE.completion_tokens);
    assert.ok(Number(second.llmCostUsd) > Number(first.llmCostUsd));

    const feed = (await client.sessions.messages(session.id, { limit: 100 })).messages;
    const tasks = feed.filter((m) => m.role === "user").map(contentOf);
    assert.deepEqual(tasks, [COUNT_TASK(shop), PICKED_TASK]);
    const actions = feed.filter((m) => m.type === "browser_action").map((m) => toolCall(m).function.name);
    assert.deepEqual(actions, ["browser_navigate", "done", "done"], "only the first task navigated");
    await client.sessions.stop(session.id);
  });

  it("a zod schema: fitting data comes back parsed, data that never fits as null", async () => {
    const session = await client.sessions.create();
    const good = await client.run(VALID_TASK(product), { sessionId: session.id, schema: Offer, ...RUN });
    assert.deepEqual(model.errors, []);
    assert.equal(good.status, "idle", good.lastStepSummary);
    assert.equal(good.isTaskSuccessful, true, good.lastStepSummary);
    assert.deepEqual(good.output, {
      product: { name: "Brass desk lamp", price: { amount: 24.99, currency: "USD" } },
    });
    assert.deepEqual(good.outputSchema, z.toJSONSchema(Offer), "the session keeps the schema the SDK sent");

    // Data that never matches, the corrective retry included: the SDK does not throw (it
    // parses `output` with the schema only when there is one), and the user sees the failure.
    const bad = await client.run(INVALID_TASK(product), { sessionId: session.id, schema: Offer, ...RUN });
    assert.deepEqual(model.errors, []);
    assert.equal(bad.status, "idle");
    assert.equal(bad.isTaskSuccessful, false);
    assert.equal(bad.output, null);
    assert.match(bad.lastStepSummary, /does not match the output schema/);
    const completions = (await client.sessions.messages(session.id, { limit: 100 })).messages.filter(
      (m) => m.type === "completion",
    );
    assert.match(contentOf(completions.at(-1)), /does not match the output schema/);
    await client.sessions.stop(session.id);
  });

  it("iterating run() in a session yields this task's feed, in order, and ends", async () => {
    const session = await client.sessions.create();
    await client.run(COUNT_TASK(shop), { sessionId: session.id, ...RUN });
    const earlier = (await client.sessions.messages(session.id, { limit: 100 })).messages.length;

    const run = client.run(BROWSE_TASK(shop), { sessionId: session.id, ...RUN });
    const seen = [];
    for await (const msg of run) seen.push(msg);
    assert.deepEqual(model.errors, []);
    assert.equal(run.result.status, "idle", run.result.lastStepSummary);
    assert.equal(run.result.output, "Walnut side table: Price: $129.50");
    assert.equal(run.result.isTaskSuccessful, true);

    // Exactly the messages the session's feed holds after the earlier task, in its order.
    const feed = (await client.sessions.messages(session.id, { limit: 100 })).messages;
    assert.deepEqual(
      seen.map((m) => m.id),
      feed.slice(earlier).map((m) => m.id),
    );
    assert.deepEqual(
      seen.map((m) => [m.role, m.type]),
      [
        ["user", "user_message"],
        ["assistant", "browser_action"],
        ["tool", "browser_action_result"],
        ["assistant", "browser_action"],
        ["tool", "browser_action_result"],
        ["assistant", "completion"],
      ],
    );
    assert.equal(contentOf(seen[0]), BROWSE_TASK(shop));
    // The earlier task left the shop open: the agent clicks the product there, then is done.
    const calls = seen.filter((m) => m.type === "browser_action").map(toolCall);
    assert.deepEqual(calls.map((c) => c.function.name), ["browser_click", "done"]);
    const results = seen.filter((m) => m.role === "tool").map((m) => JSON.parse(m.data).tool_call_id);
    assert.deepEqual(results, calls.map((c) => c.id), "each action's result follows it");
    assert.equal(contentOf(seen.at(-1)), run.result.output);
    await client.sessions.stop(session.id);
  });
});
