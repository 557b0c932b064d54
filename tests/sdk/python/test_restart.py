"""A restart keeps sessions and messages; sessions whose browser was lost end with a reason."""

from __future__ import annotations

import signal

from browser_use_sdk.v3 import BrowserUse

from conftest import wait_status

FINAL = {"stopped", "error"}


def populate(client: BrowserUse):
    live = client.sessions.create()
    wait_status(client, live.id, {"idle"})
    finished = client.sessions.create()
    client.sessions.stop(finished.id)
    failed = client.run("a task before the restart", session_id=client.sessions.create().id)
    return live, finished, failed


def check_after_restart(client: BrowserUse, live, finished, failed) -> None:
    after = client.sessions.get(live.id)
    assert after.status.value in FINAL, f"a session without a browser must not be {after.status.value}"
    assert after.live_url is None
    assert after.last_step_summary, "the session must say why it ended"

    assert client.sessions.get(finished.id).status.value == "stopped"

    again = client.sessions.get(failed.id)
    assert again.status.value == "error"
    assert again.last_step_summary == failed.last_step_summary
    feed = client.sessions.messages(failed.id, limit=100).messages
    assert feed and feed[0].role == "user" and "a task before the restart" in feed[0].data

    ids = {s.id for s in client.sessions.list(page_size=100).sessions}
    assert {live.id, finished.id, failed.id} <= ids

    # The restarted server works as usual.
    fresh = client.sessions.create()
    assert fresh.live_url
    client.sessions.stop(fresh.id)


def test_restart_after_sigterm(start_server, tmp_path) -> None:
    data = tmp_path / "data"
    first = start_server("--pool-size", "1", data_dir=data)
    with BrowserUse(api_key=first.api_key, base_url=first.base_url) as client:
        sessions = populate(client)
    assert first.browsers(), "the server should be running browsers"
    # SIGTERM: a clean shutdown; stop() fails if any Chromium it started survives.
    first.stop(signal.SIGTERM)

    second = start_server("--pool-size", "1", data_dir=data, api_key=first.api_key)
    with BrowserUse(api_key=second.api_key, base_url=second.base_url) as client:
        check_after_restart(client, *sessions)


def test_restart_after_crash(start_server, tmp_path) -> None:
    data = tmp_path / "data"
    first = start_server("--pool-size", "1", data_dir=data)
    with BrowserUse(api_key=first.api_key, base_url=first.base_url) as client:
        sessions = populate(client)
    # SIGKILL: no chance to clean up. Its orphaned browsers are ended here, by pid.
    first.stop(signal.SIGKILL, check=False)
    first.kill_leftovers()

    second = start_server("--pool-size", "1", data_dir=data, api_key=first.api_key)
    with BrowserUse(api_key=second.api_key, base_url=second.base_url) as client:
        check_after_restart(client, *sessions)
