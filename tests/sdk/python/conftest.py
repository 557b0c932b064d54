"""Fixtures: real `tandem serve` processes and official SDK clients pointed at them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from browser_use_sdk.v3 import AsyncBrowserUse, BrowserUse

from tandem_server import TandemServer

# A small pool keeps each server light on a 2-core machine.
DEFAULT_ARGS = ("--pool-size", "1")

StartServer = Callable[..., TandemServer]


def _stop_all(servers: list[TandemServer]) -> None:
    failures = []
    for server in servers:
        try:
            server.stop()
        except AssertionError as err:
            failures.append(str(err))
        finally:
            print(f"--- tandem log ({server.data_dir}) ---\n{server.log()}")
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)


@pytest.fixture
def start_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartServer]:
    """Start servers for one test; each is stopped, and checked for leftovers, at teardown."""
    servers: list[TandemServer] = []

    def start(*args: str, data_dir=None, api_key: str | None = None) -> TandemServer:
        server = TandemServer(data_dir or tmp_path_factory.mktemp("data"), args=args or DEFAULT_ARGS)
        if api_key is not None:
            server.api_key = api_key
        servers.append(server)
        return server.start()

    yield start
    _stop_all(servers)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TandemServer]:
    """One server shared by the tests of a module."""
    server = TandemServer(tmp_path_factory.mktemp("data"), args=DEFAULT_ARGS)
    try:
        server.start()
    except Exception:
        print(server.log())
        raise
    yield server
    _stop_all([server])


@pytest.fixture
def client(server: TandemServer) -> Iterator[BrowserUse]:
    with BrowserUse(api_key=server.api_key, base_url=server.base_url) as client:
        yield client


@pytest.fixture
async def async_client(server: TandemServer):
    client = AsyncBrowserUse(api_key=server.api_key, base_url=server.base_url)
    yield client
    await client.close()


def wait_for(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.25):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}", pytrace=False)
        time.sleep(interval)


def wait_status(client: BrowserUse, session_id, statuses: set[str], timeout: float = 30.0):
    """GET the session until its status is one of `statuses`; return it."""
    last = {}

    def check():
        last["s"] = client.sessions.get(session_id)
        return last["s"] if last["s"].status.value in statuses else None

    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(
                f"session {session_id} still {last['s'].status.value} after {timeout}s "
                f"(waiting for {sorted(statuses)})",
                pytrace=False,
            )
        time.sleep(0.25)
