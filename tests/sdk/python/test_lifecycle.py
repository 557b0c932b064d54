"""create -> get -> list -> messages -> stop(task) -> stop -> delete, as a user of the SDK sees it."""

from __future__ import annotations

import asyncio
from uuid import UUID

import pytest
from browser_use_sdk.v3 import AsyncBrowserUse, BrowserUse, BrowserUseError

from conftest import wait_status

LIVE = {"created", "idle"}


def test_lifecycle_sync(client: BrowserUse) -> None:
    # create: a new idle session, its live view URL available at once
    session = client.sessions.create()
    assert isinstance(session.id, UUID)
    assert session.status.value in LIVE
    assert session.live_url, "liveUrl must be in the create response"
    assert session.output is None
    assert session.is_task_successful is None
    assert session.created_at.tzinfo is not None

    # get: the same session; it becomes idle once its browser is ready
    got = client.sessions.get(session.id)
    assert got.id == session.id
    assert got.status.value in LIVE
    assert got.live_url == session.live_url
    idle = wait_status(client, session.id, {"idle"})
    assert idle.live_url == session.live_url

    # list: newest first, with the page fields the SDK requires
    second = client.sessions.create()
    listed = client.sessions.list(page_size=100)
    ids = [s.id for s in listed.sessions]
    assert session.id in ids and second.id in ids
    assert ids.index(second.id) < ids.index(session.id), "sessions must be listed newest first"
    assert listed.total >= 2
    assert listed.page == 1
    assert listed.page_size == 100
    one = client.sessions.list(page=1, page_size=1)
    assert len(one.sessions) == 1
    assert one.page_size == 1
    assert one.total == listed.total

    # messages: a session that ran no task has an empty feed, not a 404
    messages = client.sessions.messages(session.id)
    assert messages.messages == []
    assert messages.has_more is False
    latest = client.sessions.messages(session.id, limit=1)
    assert latest.messages == []

    # stop(strategy=task) on an idle session: nothing to stop, the session stays usable
    task_stopped = client.sessions.stop(session.id, strategy="task")
    assert task_stopped.id == session.id
    assert task_stopped.status.value == "idle"
    assert task_stopped.live_url == session.live_url

    # stop: the session ends and its live view goes away
    stopped = client.sessions.stop(session.id)
    assert stopped.id == session.id
    assert stopped.status.value == "stopped"
    assert stopped.live_url is None
    assert client.sessions.get(session.id).status.value == "stopped"
    assert client.sessions.get(session.id).live_url is None
    # stopping again is harmless
    assert client.sessions.stop(session.id).status.value == "stopped"

    # delete: gone for good
    assert client.sessions.delete(session.id) is None
    with pytest.raises(BrowserUseError) as err:
        client.sessions.get(session.id)
    assert err.value.status_code == 404
    assert session.id not in [s.id for s in client.sessions.list(page_size=100).sessions]

    # delete also stops a live session first
    client.sessions.delete(second.id)
    with pytest.raises(BrowserUseError) as err:
        client.sessions.get(second.id)
    assert err.value.status_code == 404


async def test_lifecycle_async(async_client: AsyncBrowserUse) -> None:
    client = async_client
    session = await client.sessions.create()
    assert session.status.value in LIVE
    assert session.live_url

    got = await client.sessions.get(str(session.id))
    assert got.id == session.id
    for _ in range(120):
        if got.status.value == "idle":
            break
        await asyncio.sleep(0.25)
        got = await client.sessions.get(session.id)
    assert got.status.value == "idle"

    listed = await client.sessions.list()
    assert listed.sessions[0].id == session.id, "newest first"
    assert listed.page == 1 and listed.page_size == 20

    messages = await client.sessions.messages(session.id, limit=100)
    assert messages.messages == [] and messages.has_more is False

    task_stopped = await client.sessions.stop(session.id, strategy="task")
    assert task_stopped.status.value == "idle"
    assert task_stopped.live_url

    stopped = await client.sessions.stop(session.id, strategy="session")
    assert stopped.status.value == "stopped"
    assert stopped.live_url is None

    await client.sessions.delete(session.id)
    with pytest.raises(BrowserUseError) as err:
        await client.sessions.get(session.id)
    assert err.value.status_code == 404
