"""The seed's human-in-the-loop flow end to end with the official SDK and the real agent.

`tandem serve` runs with `TANDEM_LLM_PROVIDER=openai` pointed at a scripted model: a small
HTTP server in this test that speaks the OpenAI chat-completions wire protocol (the one
stand-in these tests allow). The same server hosts the fixture pages. The script never knows
an element id: it reads the state text the agent sends and picks the `[index]` of the line it
wants, so the test runs perception, actions and the loop for real, in Chromium.

As in the seed (`AsyncBrowserUse`), two `client.run(task, session_id=...)` calls share one
session, and between them a human picks a product in the browser: Playwright, connected
through the session's `cdpUrl`, clicks it with real input as the live view would. The
follow-up starts where the human left the browser (without navigating), knows the first
task's result, and reports what the human picked.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from browser_use_sdk.v3 import AsyncBrowserUse, BrowserUse
from playwright.async_api import async_playwright
from pydantic import BaseModel

from tandem_server import REPO, TandemServer

PAGES = REPO / "crates" / "testkit" / "pages" / "agent"
FIRST_TASK = "Open the shop at {shop} and tell me how many products it lists"
SECOND_TASK = "Get the details of the selected product: name and price"
HANDOFF_TASK = "Ask the human which product they like"
VALID_TASK = "Open {product} and give me the offer"
INVALID_TASK = "Sloppily give me the offer at {product}"


class Price(BaseModel):
    amount: float
    currency: str


class Product(BaseModel):
    name: str
    price: Price


class Offer(BaseModel):
    """A nested model: pydantic's schema refers to Product and Price through `$defs`."""

    product: Product


def state_of(body: dict) -> str:
    """The text of the last user message: the state the agent showed the model."""
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            return "\n".join(p.get("text", "") for p in content or [] if isinstance(p, dict))
    return ""


def element_lines(state: str) -> list[str]:
    return [line for line in state.splitlines() if line.startswith("[")]


def index_of(line: str) -> int:
    return int(line[1 : line.index("]")])


def line_with(state: str, needle: str) -> str:
    for line in state.splitlines():
        if needle in line:
            return line.strip()
    raise LookupError(f"no line containing {needle!r}")


class Script:
    """Decides each reply from the request, like a model reading the page would."""

    def __init__(self, shop_url: str) -> None:
        self.shop_url = shop_url
        self.product_url = shop_url.replace("shop.html", "product.html?id=1")
        self.requests: list[dict] = []
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def reply(self, body: dict) -> tuple[str, dict]:
        with self.lock:
            self.requests.append(body)
        state = state_of(body)
        url = line_with(state, "url: ").removeprefix("url: ")
        if "<task>\n" + FIRST_TASK.format(shop=self.shop_url) in state:
            if not url.endswith("/shop.html"):
                return "browser_navigate", {"url": self.shop_url}
            products = [l for l in element_lines(state) if " link " in l]
            return "done", {"text": f"The shop lists {len(products)} products", "success": True}
        if "<task>\n" + SECOND_TASK in state:
            # The follow-up starts where the human left the browser, and knows the first
            # task's result.
            if "/product.html" not in url:
                raise LookupError(f"the follow-up started on {url}, not on the human's pick")
            line_with(state, "result: The shop lists 3 products")
            name = line_with(state, "title: ").removeprefix("title: ")
            price = line_with(state, "Price: $")
            return "done", {"text": f"{name}: {price}", "success": True}
        for task in (VALID_TASK, INVALID_TASK):
            if "<task>\n" + task.format(product=self.product_url) + "\n</task>" not in state:
                continue
            if "/product.html" not in url:
                return "browser_navigate", {"url": self.product_url}
            name = line_with(state, "title: ").removeprefix("title: ")
            amount = float(line_with(state, "Price: $").removeprefix("Price: $"))
            price = {"amount": amount, "currency": "USD"}
            if task == INVALID_TASK:
                # The price as a bare number, every time, the corrective retry included.
                price = amount
            return "done", {"data": {"product": {"name": name, "price": price}}, "success": True}
        if "<task>\n" + HANDOFF_TASK in state:
            for line in state.splitlines():
                if "The human answered: " in line:
                    choice = line.split("The human answered: ", 1)[1].split(" The human", 1)[0]
                    return "done", {"text": f"The human likes {choice}", "success": True}
            return "ask_human", {"question": "Which product do you like?"}
        raise LookupError("unexpected task")


def completion(name: str, arguments: dict, n: int) -> dict:
    return {
        "id": f"chatcmpl-{n}",
        "object": "chat.completion",
        "created": 0,
        "model": "scripted",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": f"call_{n}",
                            "type": "function",
                            "function": {"name": name, "arguments": json.dumps(arguments)},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 50, "total_tokens": 1050},
    }


def serve(script_box: dict) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep pytest output readable
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
            script: Script = script_box["script"]
            try:
                name, arguments = script.reply(body)
            except LookupError as err:
                script.errors.append(f"{err}\n--- state ---\n{state_of(body)}")
                self.send(400, json.dumps({"error": {"message": str(err)}}).encode(), "application/json")
                return
            reply = completion(name, arguments, len(script.requests))
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


def session_cdp_url(server: TandemServer, session_id: str) -> str:
    """Tandem's `cdpUrl` of a session (the SDK's model has no field for it)."""
    url = raw(server, "GET", f"/sessions/{session_id}")["cdpUrl"]
    assert url, "an active session has a cdpUrl"
    return url


async def human_picks(cdp_url: str, product: str) -> str:
    """A human in the shop clicks `product`, with real input through CDP, as in the live
    view; returns the title of the page it opens."""
    async with async_playwright() as p:
        browser = await p.chromium.connect_over_cdp(cdp_url)
        try:
            pages = [page for context in browser.contexts for page in context.pages]
            shop = next(page for page in pages if page.url.endswith("/shop.html"))
            await shop.bring_to_front()
            async with shop.expect_navigation():
                await shop.get_by_role("link", name=product).click()
            return await shop.title()
        finally:
            await browser.close()


async def test_two_tasks_with_a_human_between_them(scripted) -> None:
    server, script = scripted
    client = AsyncBrowserUse(api_key=server.api_key, base_url=server.base_url)
    try:
        session = await client.sessions.create()
        assert session.live_url
        first = await client.run(FIRST_TASK.format(shop=script.shop_url), session_id=session.id)
        assert not script.errors, script.errors
        assert first.id == session.id
        assert first.status.value == "idle", first.last_step_summary
        assert first.output == "The shop lists 3 products"
        assert first.is_task_successful is True
        assert first.step_count == 2

        # The human picks a product in the session's browser.
        picked = await human_picks(session_cdp_url(server, str(session.id)), "Linen armchair")
        assert picked == "Linen armchair"

        second = await client.run(SECOND_TASK, session_id=session.id)
        assert not script.errors, script.errors
        assert second.status.value == "idle", second.last_step_summary
        assert second.output == "Linen armchair: Price: $349.00"
        assert second.is_task_successful is True
        assert second.step_count == 1
        assert second.last_step_summary.startswith("Done: Linen armchair")
        # Three LLM calls of 1000 + 50 tokens, summed over the session.
        assert second.total_input_tokens == 3000
        assert second.total_output_tokens == 150
        assert float(second.llm_cost_usd) > 0

        feed = (await client.sessions.messages(session.id, limit=100)).messages
        roles = [(m.role, m.type) for m in feed]
        assert roles.count(("user", "user_message")) == 2
        assert roles.count(("assistant", "completion")) == 2
        navigations = [m for m in feed if m.role == "assistant" and m.summary.startswith("Navigating to")]
        assert len(navigations) == 1, "the follow-up did not navigate"
        call = json.loads(navigations[0].data)["tool_calls"][0]
        assert call["type"] == "function" and call["function"]["name"] == "browser_navigate"
        results = [m for m in feed if m.role == "tool"]
        assert results and all(m.type == "browser_action_result" for m in results)
        assert any(json.loads(m.data)["tool_call_id"] == call["id"] for m in results)

        # Step screenshots: the latest on the session, one per assistant step in the feed,
        # served as JPEG through a signed link that needs no API key, and only with its token.
        latest = await client.sessions.get(session.id)
        assert latest.screenshot_url, "GET one carries the latest screenshot"
        with urllib.request.urlopen(latest.screenshot_url, timeout=10) as shot:
            assert shot.headers["Content-Type"] == "image/jpeg"
            assert shot.read(3) == b"\xff\xd8\xff"
        assert all(m.screenshot_url for m in feed if m.role == "assistant" and m.type == "browser_action")
        forged = latest.screenshot_url.replace("token=", "token=x")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(forged, timeout=10)
        assert refused.value.code == 404
        listed = (await client.sessions.list()).sessions
        assert all(s.screenshot_url is None for s in listed), "only GET one carries it"

        await client.sessions.stop(session.id)
    finally:
        await client.close()


async def test_structured_output_through_the_sdk(scripted) -> None:
    server, script = scripted
    client = AsyncBrowserUse(api_key=server.api_key, base_url=server.base_url)
    try:
        session = await client.sessions.create()
        # A nested pydantic model: valid data comes back as the model.
        good = await client.run(
            VALID_TASK.format(product=script.product_url), session_id=session.id, output_schema=Offer
        )
        assert not script.errors, script.errors
        assert good.is_task_successful is True, good.last_step_summary
        assert good.output == Offer(product=Product(name="Brass desk lamp", price=Price(amount=24.99, currency="USD")))

        # Data that never matches, the corrective retry included: the SDK must not raise
        # (it validates `output` against the model), and the user sees the failure.
        bad = await client.run(
            INVALID_TASK.format(product=script.product_url), session_id=session.id, output_schema=Offer
        )
        assert not script.errors, script.errors
        assert bad.status.value == "idle"
        assert bad.is_task_successful is False
        assert bad.output is None
        assert "does not match the output schema" in bad.last_step_summary
        completions = [
            m for m in (await client.sessions.messages(session.id, limit=100)).messages if m.type == "completion"
        ]
        assert "does not match the output schema" in json.loads(completions[-1].data)["content"]
        await client.sessions.stop(session.id)
    finally:
        await client.close()


def raw(server: TandemServer, method: str, path: str, body: dict | None = None) -> dict:
    """A plain HTTP call, for what the SDK has no method for (Tandem's handoff routes)."""
    request = urllib.request.Request(
        f"{server.base_url}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"X-Browser-Use-API-Key": server.api_key, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_a_task_waiting_for_the_human_stays_valid_for_the_sdk(scripted) -> None:
    server, script = scripted
    with BrowserUse(api_key=server.api_key, base_url=server.base_url) as client:
        # Tandem's own field goes through the SDK's extra keyword arguments, verbatim.
        session = client.sessions.create(HANDOFF_TASK, keep_alive=True, requireApproval=["purchase"])
        deadline = time.monotonic() + 30
        while not raw(server, "GET", f"/sessions/{session.id}")["humanInput"]:
            assert time.monotonic() < deadline, "the agent never asked"
            time.sleep(0.1)
        waiting = client.sessions.get(session.id)
        assert waiting.status.value == "running", "the SDK's status enum is unchanged"
        assert raw(server, "GET", f"/sessions/{session.id}")["humanInput"]["question"] == "Which product do you like?"

        answered = raw(server, "POST", f"/sessions/{session.id}/resume", {"answer": "the walnut table"})
        assert answered["humanInput"] is None
        while client.sessions.get(session.id).status.value == "running":
            assert time.monotonic() < deadline, "the task did not finish"
            time.sleep(0.1)
        assert not script.errors, script.errors
        done = client.sessions.get(session.id)
        assert done.output == "The human likes the walnut table"
        assert done.is_task_successful is True
        summaries = [m.summary for m in client.sessions.messages(session.id, limit=100).messages]
        assert "The human answered through the API: the walnut table" in summaries
        client.sessions.stop(session.id)
