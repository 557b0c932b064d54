// Start and stop a real `tandem serve` for the SDK tests, and account for its processes.
//
// Each server runs on 127.0.0.1:0 with its own temporary data dir and a random API key
// (TANDEM_API_KEY); its address comes from the stdout line `tandem: listening on http://...`.
// stop() sends SIGTERM, waits up to 10 s, then SIGKILLs; it then checks that every process the
// server started (its Chromium browsers and their children) is gone too.

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const TANDEM_BIN = process.env.TANDEM_BIN ?? join(REPO, "target", "debug", "tandem");
const LISTENING = /tandem: listening on (http:\/\/\S+)/;
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
// Settings of the developer's shell that would configure the server (its LLM provider among
// them, with a real key): each test says what it runs with instead.
const INHERITED_CONFIG = /^(TANDEM_|(OPENAI|ANTHROPIC|GEMINI|GOOGLE)_(API_KEY|BASE_URL)$)/;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** [ppid, state, starttime] of a process, or null once it is gone. */
function readStat(pid) {
  let raw;
  try {
    raw = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  const rest = raw.slice(raw.lastIndexOf(")") + 2).split(" ");
  return [Number(rest[1]), rest[0], rest[19]];
}

function alive({ pid, start }) {
  const stat = readStat(pid);
  return stat !== null && stat[2] === start && stat[1] !== "Z";
}

/** Every live process below `root` in the process tree, as {pid, start, cmd}. */
function descendants(root) {
  const children = new Map();
  const stats = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (!stat) continue;
    stats.set(Number(entry), stat);
    if (!children.has(stat[0])) children.set(stat[0], []);
    children.get(stat[0]).push(Number(entry));
  }
  const found = [];
  const todo = [...(children.get(root) ?? [])];
  while (todo.length) {
    const pid = todo.pop();
    const [, state, start] = stats.get(pid);
    if (state !== "Z") {
      let cmd = "";
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
      } catch {
        // gone meanwhile
      }
      found.push({ pid, start, cmd });
    }
    todo.push(...(children.get(pid) ?? []));
  }
  return found;
}

export class TandemServer {
  /** `env`: extra variables for the server, e.g. TANDEM_LLM_* pointing at a scripted model. */
  constructor(args = ["--pool-size", "1"], { env = {} } = {}) {
    this.args = args;
    this.env = env;
    this.apiKey = `tk_${randomBytes(16).toString("hex")}`;
    this.dataDir = mkdtempSync(join(tmpdir(), "tandem-sdk-ts-"));
    this.lines = [];
    this.seen = new Map();
    this.url = "";
  }

  get baseUrl() {
    return `${this.url}/api/v3`;
  }

  async start() {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !INHERITED_CONFIG.test(k)));
    env.TANDEM_API_KEY = this.apiKey;
    Object.assign(env, this.env);
    env.RUST_LOG ??= "info";
    const args = ["serve", "--listen", "127.0.0.1:0", "--data-dir", this.dataDir, ...this.args];
    const proc = spawn(TANDEM_BIN, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    this.proc = proc;
    const exited = new Promise((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal })));
    this.exited = exited;
    const listening = new Promise((resolve) => {
      for (const stream of [proc.stdout, proc.stderr]) {
        createInterface({ input: stream }).on("line", (line) => {
          this.lines.push(line);
          const match = stream === proc.stdout ? LISTENING.exec(line) : null;
          if (match && !this.url) {
            this.url = match[1].replace(/\/+$/, "");
            resolve();
          }
        });
      }
    });
    let timer;
    const outcome = await Promise.race([
      listening.then(() => "listening"),
      exited.then(() => "exited"),
      spawnError(proc),
      new Promise((resolve) => (timer = setTimeout(() => resolve("timeout"), START_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (outcome !== "listening") {
      await this.stop({ check: false });
      throw new Error(`tandem did not start (${outcome}), binary ${TANDEM_BIN}:\n${this.log()}`);
    }
    this.snapshot();
    return this;
  }

  snapshot() {
    for (const p of descendants(this.proc.pid)) this.seen.set(`${p.pid}:${p.start}`, p);
  }

  log(tail = 200) {
    return this.lines.slice(-tail).join("\n");
  }

  /** Stop with SIGTERM (SIGKILL after 10 s); throw if the server left any process behind. */
  async stop({ check = true } = {}) {
    const proc = this.proc;
    if (!proc) return;
    this.proc = null;
    if (proc.exitCode === null && proc.signalCode === null) {
      for (const p of descendants(proc.pid)) this.seen.set(`${p.pid}:${p.start}`, p);
      proc.kill("SIGTERM");
      let timer;
      const stopped = await Promise.race([
        this.exited.then(() => true),
        new Promise((resolve) => (timer = setTimeout(() => resolve(false), STOP_GRACE_MS))),
      ]);
      clearTimeout(timer);
      if (!stopped) {
        proc.kill("SIGKILL");
        await this.exited;
        this.killSurvivors();
        if (check) throw new Error(`tandem ignored SIGTERM for ${STOP_GRACE_MS} ms:\n${this.log()}`);
      }
    }
    let survivors = [];
    for (let i = 0; i < 50; i++) {
      survivors = [...this.seen.values()].filter(alive);
      if (!survivors.length) break;
      await sleep(100);
    }
    this.killSurvivors();
    rmSync(this.dataDir, { recursive: true, force: true });
    if (check && survivors.length) {
      const names = survivors.map((p) => `  ${p.pid}: ${p.cmd.slice(0, 160)}`).join("\n");
      throw new Error(`tandem left ${survivors.length} process(es) behind:\n${names}`);
    }
  }

  killSurvivors() {
    for (const p of this.seen.values()) {
      if (alive(p)) {
        try {
          process.kill(p.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    this.seen.clear();
  }
}

function spawnError(proc) {
  return new Promise((resolve) => proc.once("error", (err) => resolve(`spawn error: ${err.message}`)));
}

/** `webSocketDebuggerUrl` of a cdpUrl: Puppeteer's `browserURL` would drop the token path. */
export async function browserWSEndpoint(cdpUrl) {
  const version = await (await fetch(`${cdpUrl}/json/version`)).json();
  return version.webSocketDebuggerUrl;
}

/** Poll `fn` until it returns something truthy; throw after `timeoutMs`. */
export async function waitFor(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

/** GET the session until its status is in `statuses`; return it. */
export async function waitStatus(client, id, statuses, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const session = await client.sessions.get(id);
    if (statuses.includes(session.status)) return session;
    if (Date.now() > deadline) {
      throw new Error(`session ${id} still ${session.status} after ${timeoutMs} ms (want ${statuses.join("|")})`);
    }
    await sleep(250);
  }
}
