"""Inactivity and maximum-duration limits end a session `timed_out` and stop its browser."""

from __future__ import annotations

from browser_use_sdk.v3 import BrowserUse

from conftest import wait_for, wait_status


def browser_count_settles(server, want: int):
    return lambda: len(server.browsers()) == want


def test_idle_timeout_ends_session(start_server) -> None:
    server = start_server("--pool-size", "1", "--idle-timeout", "2s")
    with BrowserUse(api_key=server.api_key, base_url=server.base_url) as client:
        # One pooled browser, plus one for the session once the pool has refilled.
        session = client.sessions.create()
        assert session.live_url
        wait_for(browser_count_settles(server, 2), 20, "the session's browser and a refilled pool")

        ended = wait_status(client, session.id, {"timed_out"}, timeout=20)
        assert ended.live_url is None
        # The session's browser is gone; the pool's stays.
        wait_for(browser_count_settles(server, 1), 10, "the session's browser to exit")

        listed = {s.id: s for s in client.sessions.list().sessions}
        assert listed[session.id].status.value == "timed_out"


def test_max_session_duration_ends_session(start_server) -> None:
    server = start_server("--pool-size", "1", "--max-session-duration", "3s")
    with BrowserUse(api_key=server.api_key, base_url=server.base_url) as client:
        session = client.sessions.create()
        assert wait_status(client, session.id, {"idle"}).status.value == "idle"
        ended = wait_status(client, session.id, {"timed_out"}, timeout=20)
        assert ended.live_url is None
