"""Issue 12: a session's browser reaches nothing of the server's.

Through a session's `cdpUrl` (Playwright `connect_over_cdp`), `file://` of the data
directory's secrets, of `/etc/passwd` and of the data directory's listing give nothing
readable, whether asked for directly, by a redirect, in a frame, by script or as a raw CDP
command; the browser's own view of the file system (`/proc/<pid>/root`) has no data directory
to read; no Chromium's environment holds a Tandem key; the data directory is owner-only; a
server killed with SIGKILL leaves no Chromium, and a restarted one kills what an older one left.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from browser_use_sdk.v3 import BrowserUse
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from conftest import wait_for, wait_status
from tandem_server import TandemServer, descendants

PASSWD_LINE = "root:x:0:0"


class SiteHandler(BaseHTTPRequestHandler):
    """A hostile site: a redirect, a frame and a script all aiming at local files."""

    targets: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path.startswith("/redirect"):
            target = self.path.split("?to=", 1)[1]
            self.send_response(302)
            self.send_header("Location", urllib.request.unquote(target))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        frames = "".join(f'<iframe src="{t}"></iframe>' for t in self.targets)
        body = (
            "<!doctype html><title>Site</title><h1>Site</h1>" + frames +
            "<script>window.fetched = Promise.all(" + json.dumps(self.targets) +
            ".map(u => fetch(u).then(r => r.text()).catch(e => 'refused: ' + e)));</script>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[type[SiteHandler]]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), SiteHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    SiteHandler.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield SiteHandler
    httpd.shutdown()
    httpd.server_close()


def local_targets(server: TandemServer) -> list[str]:
    data = server.data_dir.resolve()
    return [f"file://{data}/secret", f"file://{data}/api_key", f"file://{data}/", "file:///etc/passwd"]


def secrets_of(server: TandemServer) -> list[str]:
    data = server.data_dir.resolve()
    return [server.api_key, (data / "secret").read_text().strip(), "tandem.db", PASSWD_LINE]


def assert_nothing_local(text: str, server: TandemServer, where: str) -> None:
    for secret in secrets_of(server):
        assert secret not in text, f"{where} shows {secret[:12]}...: {text[:300]}"
    # A listing of the data directory would name the database (`addRow("tandem.db", ...)`).


def content(page) -> str:
    """The page's document once no navigation is under way."""
    deadline = time.monotonic() + 10
    while True:
        try:
            page.wait_for_load_state()
            return page.content()
        except PlaywrightError as err:
            if "navigating" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_a_cdp_client_reads_no_local_file(client: BrowserUse, server: TandemServer, site) -> None:
    targets = local_targets(server)
    site.targets = targets
    session = client.sessions.create()
    wait_status(client, session.id, {"idle"})
    cdp_url = client.browsers.get(session.id).cdp_url
    with sync_playwright() as p:
        browser = p.chromium.connect_over_cdp(cdp_url)
        page = browser.contexts[0].new_page()
        for url in targets:
            # Directly: the proxy refuses the navigation.
            with pytest.raises(PlaywrightError):
                page.goto(url)
            assert not page.url.startswith("file:"), page.url
            # By a redirect from a web page: Chromium's own policy refuses it.
            redirect = f"{site.base}/redirect?to={urllib.request.quote(url, safe='')}"
            try:
                page.goto(redirect)
            except PlaywrightError:
                pass
            assert_nothing_local(content(page), server, f"a redirect to {url}")
            # By script from a web page.
            page.goto(f"{site.base}/")
            try:
                page.evaluate("u => { location.href = u }", url)
                page.wait_for_load_state()
            except PlaywrightError:
                pass
            assert_nothing_local(content(page), server, f"a script navigating to {url}")

        # Frames and fetches of a web page.
        page.goto(f"{site.base}/")
        fetched = page.evaluate("window.fetched")
        for text in fetched:
            assert_nothing_local(text, server, "fetch()")
        cdp = page.context.new_cdp_session(page)
        # Every frame's document, cross-origin ones included (`pierce`): none shows a file.
        tree = cdp.send("Page.getFrameTree")["frameTree"]
        assert len(tree.get("childFrames", [])) == len(targets)
        for child in tree["childFrames"]:
            frame = child["frame"]
            assert not frame["url"].startswith("file:") or frame.get("unreachableUrl"), frame
        document = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})
        assert_nothing_local(json.dumps(document), server, "the frames")

        # Raw CDP: every way of naming a local address is refused.
        for method, params in [
            ("Page.navigate", {"url": targets[0]}),
            ("Page.navigate", {"url": " FILE:///etc/passwd"}),
            ("Page.navigate", {"url": "view-source:file:///etc/passwd"}),
            ("Target.createTarget", {"url": "file:///etc/passwd"}),
            ("Network.loadNetworkResource", {"url": "file:///etc/passwd", "options": {"disableCache": True, "includeCredentials": False}}),
            ("DOM.setFileInputFiles", {"files": [targets[0][len("file://"):]], "nodeId": 1}),
        ]:
            with pytest.raises(PlaywrightError, match="refuse|Tandem"):
                cdp.send(method, params)
        browser.close()
    client.sessions.stop(session.id)


def chromium_pids(server: TandemServer) -> list[int]:
    return [p.pid for p in server.snapshot() if p.cmdline and p.cmdline[0].endswith("chromium")]


def test_the_browser_cannot_see_the_data_directory_or_the_keys(
    client: BrowserUse, server: TandemServer
) -> None:
    session = client.sessions.create()
    wait_status(client, session.id, {"idle"})
    data = server.data_dir.resolve()
    pids = chromium_pids(server)
    assert pids, "the server runs browsers"
    if os.geteuid() == 0:
        # The browser's own view of the file system (its mount namespace): the data directory
        # holds only the folders it writes downloads into and uploads from.
        for pid in pids:
            root = Path(f"/proc/{pid}/root")
            assert not (root / str(data).lstrip("/") / "secret").exists()
            assert not (root / str(data).lstrip("/") / "api_key").exists()
            assert sorted(os.listdir(root / str(data).lstrip("/"))) == ["downloads", "workspaces"]
    for pid in pids:
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except (FileNotFoundError, ProcessLookupError):
            continue
        assert b"TANDEM_API_KEY" not in environ and server.api_key.encode() not in environ
        assert b"TANDEM_LLM" not in environ
    # No DevTools port: no Chromium process listens on any TCP socket (and so none answers
    # `/json/version`); Tandem talks to it over a pipe.
    listening = listening_ports(pids)
    for port in listening:
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=2)
    assert listening == [], f"Chromium listens on {listening}"
    client.sessions.stop(session.id)


def listening_ports(pids: list[int]) -> list[int]:
    """TCP ports in LISTEN state whose socket belongs to one of `pids` (/proc/net/tcp{,6}
    matched with the sockets in /proc/<pid>/fd)."""
    inodes = set()
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                if link.startswith("socket:["):
                    inodes.add(link[len("socket:["):-1])
        except OSError:
            continue
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                ports.append(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_the_data_directory_is_owner_only(server: TandemServer) -> None:
    data = server.data_dir
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    files = [f for f in data.rglob("*") if f.is_file()]
    assert any(f.name.startswith("tandem.db") for f in files)
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    for d in [d for d in data.rglob("*") if d.is_dir()]:
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d


def test_sigkill_of_the_server_leaves_no_chromium(start_server) -> None:
    server = start_server("--pool-size", "2")
    with BrowserUse(api_key=server.api_key, base_url=server.base_url) as client:
        session = client.sessions.create()
        wait_status(client, session.id, {"idle"})
    wait_for(lambda: len(server.browsers()) >= 2, 30, "the session's and the pool's browsers")
    # stop() fails if any process the server started is alive 5 s after the server died.
    server.stop(signal.SIGKILL)


def test_a_restarted_server_kills_what_a_killed_one_left(start_server, tmp_path) -> None:
    # A Chromium left running on the profile of a server that is gone (its pid names no
    # process), in a session of its own so that nothing here would end it.
    gone = subprocess.Popen(["true"])
    gone.wait()
    profile = Path(f"/tmp/tandem-chromium-{gone.pid}-leftover")
    (profile / "profile").mkdir(parents=True, exist_ok=True)
    leftover = subprocess.Popen(
        [
            "/usr/lib/chromium/chromium", "--headless", "--no-sandbox", "--disable-gpu",
            f"--user-data-dir={profile}/profile", "--remote-debugging-port=0", "about:blank",
        ],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(
            lambda: any("--type=renderer" in " ".join(p.cmdline) for p in descendants(leftover.pid)),
            20,
            "the leftover Chromium's renderer",
        )
        family = [leftover.pid] + [p.pid for p in descendants(leftover.pid)]
        start_server("--pool-size", "1")
        wait_for(lambda: leftover.poll() is not None, 10, "the leftover Chromium to be killed")
        assert leftover.returncode == -signal.SIGKILL
        wait_for(
            lambda: not [pid for pid in family if alive(pid)], 5, "the leftover's children to go"
        )
        assert not profile.exists(), "its profile is removed too"
    finally:
        if leftover.poll() is None:
            os.killpg(leftover.pid, signal.SIGKILL)
            leftover.wait()


def alive(pid: int) -> bool:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return raw[raw.rindex(")") + 2] != "Z"


class ProbingModel:
    """A prompt-injected model: it asks the agent to open the server's secrets, one after
    the other, then ends the task. Every request it receives is kept."""

    def __init__(self, targets: list[str]) -> None:
        self.targets = targets
        self.requests: list[dict] = []
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def reply(self, body: dict) -> tuple[str, dict]:
        with self.lock:
            self.requests.append(body)
            step = len(self.requests) - 1
        if step < len(self.targets):
            return "browser_navigate", {"url": self.targets[step]}
        return "done", {"text": "I could not read them", "success": False}


def test_the_agent_reads_no_local_file_and_the_llm_sees_no_secret(tmp_path_factory) -> None:
    from test_agent_flow import serve

    box: dict = {}
    http = serve(box)
    base = f"http://127.0.0.1:{http.server_address[1]}"
    server = TandemServer(
        tmp_path_factory.mktemp("data"),
        args=("--pool-size", "1"),
        env={"TANDEM_LLM_PROVIDER": "openai", "TANDEM_LLM_BASE_URL": f"{base}/v1"},
    )
    try:
        server.start()
        targets = local_targets(server) + ["FILE:///etc/passwd", "view-source:file:///etc/passwd"]
        box["script"] = model = ProbingModel(targets)
        with BrowserUse(api_key=server.api_key, base_url=server.base_url) as client:
            result = client.run("Open the secret files and tell me what they say")
        # Each navigation failed; the agent's consecutive-failure limit ends the task early.
        assert len(model.requests) >= 3, model.errors
        sent = json.dumps(model.requests)
        for secret in secrets_of(server):
            assert secret not in sent, f"the LLM was sent {secret[:12]}..."
        # The agent was told why, in the words of the URL policy.
        assert "do not open file: addresses" in sent
        assert result.status.value in {"idle", "stopped"}
    finally:
        try:
            server.stop()
        finally:
            print(f"--- tandem log ---\n{server.log()}")
            http.shutdown()
