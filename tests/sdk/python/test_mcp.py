"""Tandem's MCP server through the official MCP Python SDK (`mcp`), as Claude Code or Cursor
would use it: over streamable HTTP at `/v3/mcp` with the key in `x-browser-use-api-key`, and
over stdio through `tandem mcp --server`.

`tandem serve` runs the real agent against a scripted model (the one stand-in: a small HTTP
server here speaking the OpenAI chat-completions protocol, which also serves the fixture
pages), so every tool drives real sessions in real Chromium. The script reads the state the
agent shows it and answers as a model would.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anyio
import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tandem_server import INHERITED_CONFIG, REPO, TANDEM_BIN, TandemServer

PAGES = REPO / "crates" / "testkit" / "pages" / "agent"
SHOP_TASK = "Open the shop at {shop} and tell me how many products it lists"
FOLLOW_UP = "Tell me the title of the page you are on"
ASK_TASK = "Ask the human which product they like"
WORK_TASK = "Keep working until the human hands the browser back"

TOOLS = {
    "run_session",
    "get_session",
    "send_task",
    "stop_session",
    "get_session_messages",
    "list_sessions",
    "list_browser_profiles",
    "resume_session",
    "take_control",
}


def state_of(body: dict) -> str:
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            return "\n".join(p.get("text", "") for p in content or [] if isinstance(p, dict))
    return ""


def line_with(state: str, needle: str) -> str:
    for line in state.splitlines():
        if needle in line:
            return line.strip()
    raise LookupError(f"no line containing {needle!r}")


class Script:
    """Answers each step from the state text, like a model reading the page would."""

    def __init__(self, shop_url: str) -> None:
        self.shop_url = shop_url
        self.errors: list[str] = []
        self.calls = 0

    def reply(self, body: dict) -> tuple[str, dict]:
        self.calls += 1
        state = state_of(body)
        url = line_with(state, "url: ").removeprefix("url: ")
        if "<task>\n" + SHOP_TASK.format(shop=self.shop_url) in state:
            if not url.endswith("/shop.html"):
                return "browser_navigate", {"url": self.shop_url}
            products = [l for l in state.splitlines() if l.startswith("[") and " link " in l]
            return "done", {"text": f"The shop lists {len(products)} products", "success": True}
        if "<task>\n" + FOLLOW_UP in state:
            title = line_with(state, "title: ").removeprefix("title: ")
            return "done", {"text": f"The page is {title}", "success": True}
        if "<task>\n" + ASK_TASK in state:
            for line in state.splitlines():
                if "The human answered: " in line:
                    choice = line.split("The human answered: ", 1)[1].split(" The human", 1)[0]
                    return "done", {"text": f"The human likes {choice}", "success": True}
            return "ask_human", {"question": "Which product do you like?"}
        if "<task>\n" + WORK_TASK in state:
            if "has handed it back" in state:
                return "done", {"text": "Went on after the hand-back", "success": True}
            return "browser_wait", {"seconds": 1}
        raise LookupError("unexpected task")


def completion(name: str, arguments: dict, n: int) -> dict:
    call = {"id": f"call_{n}", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
    return {
        "id": f"chatcmpl-{n}",
        "object": "chat.completion",
        "created": 0,
        "model": "scripted",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": None, "tool_calls": [call]},
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 50, "total_tokens": 1050},
    }


def serve(box: dict) -> ThreadingHTTPServer:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            name = self.path.split("?")[0].removeprefix("/pages/")
            path = PAGES / name
            if "/" in name or not path.is_file():
                self.send(404, b"not found", "text/plain")
                return
            self.send(200, path.read_bytes(), "text/html; charset=utf-8")

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            script: Script = box["script"]
            with lock:
                try:
                    name, arguments = script.reply(body)
                except LookupError as err:
                    script.errors.append(f"{err}\n--- state ---\n{state_of(body)}")
                    self.send(400, json.dumps({"error": {"message": str(err)}}).encode(), "application/json")
                    return
                reply = completion(name, arguments, script.calls)
            self.send(200, json.dumps(reply).encode(), "application/json")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def scripted(tmp_path_factory: pytest.TempPathFactory):
    box: dict = {}
    http = serve(box)
    base = f"http://127.0.0.1:{http.server_address[1]}"
    box["script"] = Script(f"{base}/pages/shop.html")
    server = TandemServer(
        tmp_path_factory.mktemp("data"),
        args=("--pool-size", "1"),
        env={"TANDEM_LLM_PROVIDER": "openai", "TANDEM_LLM_BASE_URL": f"{base}/v1"},
    )
    try:
        server.start()
        yield server, box["script"]
    finally:
        try:
            server.stop()
        finally:
            print(f"--- tandem log ---\n{server.log()}")
            http.shutdown()


def http_client(server: TandemServer, headers: dict[str, str] | None = None, **kwargs) -> Client:
    """An MCP client over streamable HTTP, configured as Claude Code's `-H` flag does."""
    headers = {"x-browser-use-api-key": server.api_key} if headers is None else headers
    transport = streamable_http_client(
        f"{server.url}/v3/mcp", http_client=httpx2.AsyncClient(headers=headers, timeout=30)
    )
    return Client(transport, **kwargs)


def stdio_client(server: TandemServer, key: str) -> Client:
    """An MCP client that launches `tandem mcp`, as Claude Desktop's `command` servers do."""
    env = {k: v for k, v in os.environ.items() if not INHERITED_CONFIG.match(k)}
    env["TANDEM_API_KEY"] = key
    params = StdioServerParameters(command=str(TANDEM_BIN), args=["mcp", "--server", server.url], env=env)
    return Client(params)


async def call(client: Client, tool: str, **arguments) -> dict:
    """Calls a tool that must succeed; returns its structured result."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, f"{tool} failed: {result.content}"
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


async def wait_session(client: Client, session_id: str, until, what: str, timeout: float = 60.0) -> dict:
    """Polls `get_session` until `until(session)` holds, as a model following `next` would."""
    deadline = time.monotonic() + timeout
    while True:
        session = await call(client, "get_session", session_id=session_id)
        if until(session):
            return session
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {session}"
        await anyio.sleep(0.1)


def idle(session: dict) -> bool:
    return session["status"] != "running"


def leaves(error: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


def raw(server: TandemServer, method: str, path: str, body: dict | None = None) -> dict:
    response = httpx2.request(
        method,
        f"{server.base_url}{path}",
        json=body,
        headers={"X-Browser-Use-API-Key": server.api_key},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


async def test_the_browser_use_tools_over_streamable_http(scripted) -> None:
    server, script = scripted
    profile = raw(server, "POST", "/profiles", {"name": "Shop login"})
    async with http_client(server) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == TOOLS
        run = (await client.list_tools()).tools
        schema = next(t for t in run if t.name == "run_session").input_schema
        assert {"task", "keep_alive", "model", "output_schema", "profile_id"} <= set(schema["properties"])
        assert schema["required"] == ["task"]

        # run_session answers at once, with what a human needs to watch.
        started = await call(client, "run_session", task=SHOP_TASK.format(shop=script.shop_url), keep_alive=True)
        sid = started["session_id"]
        assert started["status"] == "running"
        assert started["live_url"].startswith(f"{server.url}/live/{sid}")
        assert "get_session" in started["next"]

        done = await wait_session(client, sid, idle, "the first task")
        assert not script.errors, script.errors
        assert done["status"] == "idle", done
        assert done["output"] == "The shop lists 3 products"
        assert done["is_task_successful"] is True
        assert done["step_count"] == 2
        assert done["cost"]["total_input_tokens"] == 2000
        assert float(done["cost"]["total_cost_usd"]) > 0
        assert "send_task" in done["next"]

        # A follow-up in the same browser.
        followed = await call(client, "send_task", session_id=sid, task=FOLLOW_UP)
        assert followed["status"] == "running"
        assert followed["live_url"]
        second = await wait_session(client, sid, idle, "the follow-up")
        assert second["status"] == "idle", second
        assert second["output"] == "The page is Shop"

        feed = await call(client, "get_session_messages", session_id=sid, limit=100)
        assert feed["has_more"] is False
        tasks = [json.loads(m["data"])["content"] for m in feed["messages"] if m["type"] == "user_message"]
        assert tasks == [SHOP_TASK.format(shop=script.shop_url), FOLLOW_UP]
        assert any(m["summary"].startswith("Navigating to") for m in feed["messages"])
        # Reading on from a message gives only what came after it.
        first_id = feed["messages"][0]["id"]
        rest = await call(client, "get_session_messages", session_id=sid, after=first_id, limit=100)
        assert [m["id"] for m in rest["messages"]] == [m["id"] for m in feed["messages"][1:]]

        listed = await call(client, "list_sessions")
        assert [s["session_id"] for s in listed["sessions"]] == [sid]
        assert listed["sessions"][0]["status"] == "idle"
        profiles = await call(client, "list_browser_profiles")
        assert [(p["profile_id"], p["name"]) for p in profiles["profiles"]] == [(profile["id"], "Shop login")]

        stopped = await call(client, "stop_session", session_id=sid)
        assert stopped["status"] == "stopped"
        assert stopped["live_url"] is None

        # The API's refusals reach the model as tool errors in the API's words.
        missing = await client.call_tool("get_session", {"session_id": "0193a4f2-0000-7000-8000-000000000001"})
        assert missing.is_error
        assert "not found" in missing.content[0].text.lower() and "404" in missing.content[0].text
        bad = await client.call_tool("get_session", {"session_id": "../billing/account"})
        assert bad.is_error and "UUID" in bad.content[0].text
        empty = await client.call_tool("run_session", {"task": " "})
        assert empty.is_error and "task must not be empty" in empty.content[0].text
        late = await client.call_tool("send_task", {"session_id": sid, "task": FOLLOW_UP})
        assert late.is_error and "(HTTP 4" in late.content[0].text
    assert not script.errors, script.errors


async def test_the_handoff_tools_with_a_handshake_client(scripted) -> None:
    """`resume_session` and `take_control`, with the initialize handshake older clients use."""
    server, script = scripted
    async with http_client(server, mode="legacy") as client:
        asked = await call(client, "run_session", task=ASK_TASK, keep_alive=True)
        sid = asked["session_id"]
        waiting = await wait_session(client, sid, lambda s: s["human_input"] or idle(s), "the question")
        assert waiting["status"] == "running"
        assert waiting["human_input"]["type"] == "question"
        assert waiting["human_input"]["question"] == "Which product do you like?"
        assert "resume_session" in waiting["next"] and "Which product do you like?" in waiting["next"]
        # take_control is refused while the agent waits for an answer: the API's 409.
        refused = await client.call_tool("take_control", {"session_id": sid})
        assert refused.is_error and "(HTTP 409)" in refused.content[0].text

        answered = await call(client, "resume_session", session_id=sid, answer="the walnut table")
        assert answered["human_input"] is None
        done = await wait_session(client, sid, idle, "the answered task")
        assert done["output"] == "The human likes the walnut table", done

        # A human takes the browser from a working agent, then hands it back.
        working = await call(client, "send_task", session_id=sid, task=WORK_TASK)
        assert working["status"] == "running"
        taken = await call(client, "take_control", session_id=sid)
        assert taken["status"] == "running"
        assert taken["human_input"]["type"] == "control"
        assert "Hand it back" in taken["next"] and taken["live_url"]
        held = await call(client, "get_session", session_id=sid)
        assert held["human_input"]["type"] == "control"
        handed = await call(client, "resume_session", session_id=sid)
        assert handed["human_input"] is None
        done = await wait_session(client, sid, idle, "the handed-back task")
        assert done["output"] == "Went on after the hand-back", done
        summaries = [m["summary"] for m in (await call(client, "get_session_messages", session_id=sid, limit=100))["messages"]]
        assert "The human took control through the API" in summaries
        assert "The human handed control back through the API" in summaries

        # stop_session's two strategies: the task only, then the session.
        await call(client, "send_task", session_id=sid, task=WORK_TASK)
        task_stopped = await call(client, "stop_session", session_id=sid, strategy="task")
        assert task_stopped["status"] == "idle"
        ended = await call(client, "stop_session", session_id=sid, strategy="session")
        assert ended["status"] == "stopped"
    assert not script.errors, script.errors


async def test_a_wrong_or_missing_key_is_refused(server: TandemServer) -> None:
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    accept = {"Accept": "application/json, text/event-stream"}
    for headers, detail in [
        ({}, "X-Browser-Use-API-Key header is required"),
        ({"x-browser-use-api-key": "tk_wrong"}, "Invalid API key"),
        ({"Authorization": "Bearer tk_wrong"}, "Invalid API key"),
    ]:
        response = httpx2.post(f"{server.url}/v3/mcp", json=initialize, headers={**accept, **headers}, timeout=10)
        assert response.status_code == 401, response.text
        assert response.json() == {"detail": detail}

    with pytest.raises(BaseException) as refused:
        async with http_client(server, headers={"x-browser-use-api-key": "tk_wrong"}) as client:
            await client.list_tools()
    # The SDK turns the 401 into an error on the first request; nothing is served.
    assert any(isinstance(e, MCPError) for e in leaves(refused.value)), repr(refused.value)

    # The key as a bearer token works too (what generic MCP clients send).
    async with http_client(server, headers={"Authorization": f"Bearer {server.api_key}"}) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == TOOLS
        assert (await call(client, "list_sessions"))["sessions"] == []


async def test_the_tools_over_stdio(scripted) -> None:
    server, script = scripted
    async with stdio_client(server, server.api_key) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == TOOLS
        started = await call(client, "run_session", task=SHOP_TASK.format(shop=script.shop_url), keep_alive=True)
        sid = started["session_id"]
        assert started["status"] == "running"
        assert started["live_url"].startswith(f"{server.url}/live/{sid}")
        done = await wait_session(client, sid, idle, "the task")
        assert done["output"] == "The shop lists 3 products", done
        await call(client, "send_task", session_id=sid, task=FOLLOW_UP)
        second = await wait_session(client, sid, idle, "the follow-up")
        assert second["output"] == "The page is Shop", second
        feed = await call(client, "get_session_messages", session_id=sid, limit=100)
        assert [m["type"] for m in feed["messages"]].count("user_message") == 2
        assert (await call(client, "stop_session", session_id=sid))["status"] == "stopped"
    assert not script.errors, script.errors


def test_tandem_mcp_refuses_to_start_with_a_wrong_key(server: TandemServer) -> None:
    env = {k: v for k, v in os.environ.items() if not INHERITED_CONFIG.match(k)}
    env["TANDEM_API_KEY"] = "tk_wrong"
    done = subprocess.run(
        [str(TANDEM_BIN), "mcp", "--server", server.url],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode != 0
    assert "refused the API key" in done.stderr and "Invalid API key" in done.stderr, done.stderr
    assert "tk_wrong" not in done.stderr
    assert done.stdout == "", "stdout is the MCP channel"

    del env["TANDEM_API_KEY"]
    env.pop("BROWSER_USE_API_KEY", None)
    missing = subprocess.run(
        [str(TANDEM_BIN), "mcp", "--server", server.url],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert missing.returncode != 0 and "no API key" in missing.stderr, missing.stderr


async def test_tandem_mcp_reports_a_server_that_is_down() -> None:
    """A server not up yet is no reason to fail the client's start; each tool says what is wrong."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not INHERITED_CONFIG.match(k)}
    env["TANDEM_API_KEY"] = "tk_secret_value"
    params = StdioServerParameters(
        command=str(TANDEM_BIN), args=["mcp", "--server", f"http://127.0.0.1:{port}"], env=env
    )
    async with Client(params) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == TOOLS
        result = await client.call_tool("list_sessions", {})
        assert result.is_error
        text = result.content[0].text
        assert text.startswith(f"cannot reach the Tandem server at http://127.0.0.1:{port}/api/v3/sessions"), text
        assert "tk_secret_value" not in text
