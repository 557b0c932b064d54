// The one stand-in these tests allow: a scripted model speaking the OpenAI chat-completions
// wire protocol, on a 127.0.0.1 server that also hosts the fixture pages it sends the agent to
// (crates/testkit/pages/agent). A test sets `model.reply(body)`: it reads the state text the
// agent sent and returns the tool call to make, `[name, arguments]`. It never knows an element
// id, only the `[index]` lines of the state, so perception, actions and the loop run for real
// in Chromium. A reply that throws is answered with HTTP 400 and kept in `errors`.

import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const PAGES = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../crates/testkit/pages/agent");
/** What every scripted call costs, in the usage of its reply. */
export const USAGE = { prompt_tokens: 1000, completion_tokens: 50, total_tokens: 1050 };

/** The text of the last user message: the state the agent showed the model. */
export function stateOf(body) {
  for (const message of [...(body.messages ?? [])].reverse()) {
    if (message.role !== "user") continue;
    if (typeof message.content === "string") return message.content;
    return (message.content ?? []).map((part) => part?.text ?? "").join("\n");
  }
  return "";
}

/** The first line of `state` containing `needle`, trimmed; throws if there is none. */
export function lineWith(state, needle) {
  const line = state.split("\n").find((l) => l.includes(needle));
  if (line === undefined) throw new Error(`no line containing ${JSON.stringify(needle)}`);
  return line.trim();
}

/** The element lines of the state: `[index] role "name" ...`. */
export const elementLines = (state) => state.split("\n").filter((l) => l.startsWith("["));

/** The index of an element line. */
export const indexOf = (line) => Number(line.slice(1, line.indexOf("]")));

/** Starts the model; resolves to {pagesUrl, baseUrl, reply, requests, errors, close}. */
export async function startModel() {
  const model = {
    requests: [],
    errors: [],
    reply: () => {
      throw new Error("no script set");
    },
  };
  const server = createServer(async (req, res) => {
    const send = (status, body, type) => {
      res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
      res.end(body);
    };
    const path = new URL(req.url, "http://x").pathname;
    if (req.method === "GET" && path.startsWith("/pages/")) {
      const name = path.slice("/pages/".length);
      try {
        if (name.includes("/") || name.includes("..")) throw new Error("not a fixture");
        send(200, await readFile(join(PAGES, name)), "text/html; charset=utf-8");
      } catch {
        send(404, "not found", "text/plain");
      }
      return;
    }
    if (req.method !== "POST" || path !== "/v1/chat/completions") {
      send(404, "not found", "text/plain");
      return;
    }
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    model.requests.push(body);
    let call;
    try {
      call = model.reply(body);
    } catch (err) {
      model.errors.push(`${err.message}\n--- state ---\n${stateOf(body)}`);
      send(400, JSON.stringify({ error: { message: err.message } }), "application/json");
      return;
    }
    send(200, JSON.stringify(completion(call, model.requests.length)), "application/json");
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${server.address().port}`;
  model.pagesUrl = `${base}/pages`;
  model.baseUrl = `${base}/v1`;
  model.close = () => {
    const closed = new Promise((r) => server.close(r));
    server.closeAllConnections();
    return closed;
  };
  return model;
}

function completion([name, args], n) {
  return {
    id: `chatcmpl-${n}`,
    object: "chat.completion",
    created: 0,
    model: "scripted",
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: `call_${n}`, type: "function", function: { name, arguments: JSON.stringify(args) } },
          ],
        },
        finish_reason: "tool_calls",
      },
    ],
    usage: USAGE,
  };
}
