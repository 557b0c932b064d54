"""Dispatching a task. There is no agent yet, so a task must end `error`, quickly and clearly."""

from __future__ import annotations

import asyncio
import time

import pytest
from browser_use_sdk.v3 import AsyncBrowserUse, BrowserUse, BrowserUseError

from conftest import wait_status

TASK = "Open the page and read its title"
# Generous: the point is "returns", not "is fast"; the SDK polls every 2 s.
RUN_BOUND_S = 30.0


def assert_ended_in_error(result, session_id=None) -> None:
    if session_id is not None:
        assert result.id == session_id
    assert result.status.value == "error"
    assert isinstance(result.last_step_summary, str) and result.last_step_summary.strip(), (
        "lastStepSummary must say why the task failed"
    )
    assert result.output is None
    assert result.is_task_successful in (None, False)


def test_run_in_existing_session_ends_error(client: BrowserUse) -> None:
    session = client.sessions.create()
    started = time.monotonic()
    result = client.run(TASK, session_id=session.id)
    assert time.monotonic() - started < RUN_BOUND_S
    assert_ended_in_error(result, session.id)
    assert result.live_url is None or isinstance(result.live_url, str)

    # The feed starts with the task as a `user` message, and the failure is in it too.
    feed = client.sessions.messages(session.id, limit=100)
    assert feed.has_more is False
    assert len(feed.messages) >= 2, "the feed must hold the task and the error"
    first = feed.messages[0]
    assert first.role == "user"
    assert TASK in first.data
    assert all(m.session_id == session.id for m in feed.messages)
    stamps = [m.created_at for m in feed.messages]
    assert stamps == sorted(stamps), "messages must be in ascending order"

    # Cursor semantics the SDK relies on: no cursor = the latest N, ascending.
    ids = [m.id for m in feed.messages]
    assert [m.id for m in client.sessions.messages(session.id, limit=1).messages] == ids[-1:]
    after_first = client.sessions.messages(session.id, after=str(ids[0]), limit=100)
    assert [m.id for m in after_first.messages] == ids[1:]
    before_last = client.sessions.messages(session.id, before=str(ids[-1]), limit=100)
    assert [m.id for m in before_last.messages] == ids[:-1]
    page = client.sessions.messages(session.id, after=str(ids[0]), limit=1)
    assert [m.id for m in page.messages] == ids[1:2]
    assert page.has_more is (len(ids) > 2)

    # `error` is final: the session takes no further task.
    with pytest.raises(BrowserUseError) as err:
        client.sessions.create(TASK, session_id=session.id)
    assert err.value.status_code in (409, 422)


def test_dispatch_response_is_never_idle(client: BrowserUse) -> None:
    session = client.sessions.create()
    dispatched = client.sessions.create(TASK, session_id=session.id, keep_alive=True)
    assert dispatched.id == session.id
    # `idle` here would make every SDK's run() return at once with no result.
    assert dispatched.status.value in ("created", "running", "error")
    assert dispatched.output is None
    final = wait_status(client, session.id, {"error"}, timeout=RUN_BOUND_S)
    assert_ended_in_error(final)


def test_run_without_session_creates_one(client: BrowserUse) -> None:
    result = client.run(TASK)
    assert_ended_in_error(result)
    assert client.sessions.get(result.id).status.value == "error"


def test_stream_yields_the_feed_and_ends(client: BrowserUse) -> None:
    session = client.sessions.create()
    stream = client.stream(TASK, session_id=session.id)
    messages = list(stream)
    assert stream.result is not None
    assert_ended_in_error(stream.result, session.id)
    assert messages and messages[0].role == "user" and TASK in messages[0].data


async def test_async_run_ends_error(async_client: AsyncBrowserUse) -> None:
    client = async_client
    session = await client.sessions.create()
    result = await asyncio.wait_for(client.run(TASK, session_id=session.id), RUN_BOUND_S)
    assert_ended_in_error(result, session.id)

    run = client.run(TASK)
    seen = [msg async for msg in run]
    assert run.result is not None
    assert_ended_in_error(run.result)
    assert seen and seen[0].role == "user"
