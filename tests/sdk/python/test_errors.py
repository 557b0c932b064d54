"""Every 4xx a user can hit through the SDK, with the SDK's own error class and status code."""

from __future__ import annotations

import time
import uuid

import pytest
from browser_use_sdk.v3 import AsyncBrowserUse, BrowserUse, BrowserUseError

from tandem_server import TandemServer


def raises(status: int | tuple[int, ...], call, *args, **kwargs) -> BrowserUseError:
    statuses = status if isinstance(status, tuple) else (status,)
    with pytest.raises(BrowserUseError) as err:
        call(*args, **kwargs)
    assert err.value.status_code in statuses, f"got {err.value.status_code}: {err.value.message}"
    assert isinstance(err.value.message, str) and err.value.message
    assert isinstance(err.value.detail, dict) and "detail" in err.value.detail, (
        f"error body must be {{'detail': ...}}, got {err.value.detail!r}"
    )
    return err.value


def assert_validation_shape(err: BrowserUseError) -> None:
    """422 for a malformed value: FastAPI's {"detail": [{"loc", "msg", "type"}]}."""
    detail = err.detail["detail"]
    assert isinstance(detail, list) and detail, f"expected a list of errors, got {detail!r}"
    for item in detail:
        assert {"loc", "msg", "type"} <= set(item), item


def test_wrong_api_key_is_401(server: TandemServer) -> None:
    with BrowserUse(api_key="bu_wrong", base_url=server.base_url) as bad:
        raises(401, bad.sessions.list)
        raises(401, bad.sessions.create)
        raises(401, bad.sessions.get, uuid.uuid4())


def test_unknown_session_is_404(client: BrowserUse) -> None:
    missing = uuid.uuid4()
    err = raises(404, client.sessions.get, missing)
    assert err.message == "Session not found"
    raises(404, client.sessions.stop, missing)
    raises(404, client.sessions.stop, missing, strategy="task")
    raises(404, client.sessions.delete, missing)
    raises(404, client.sessions.messages, missing)
    raises(404, client.sessions.create, "a task", session_id=missing)


def test_session_id_without_task_is_422(client: BrowserUse) -> None:
    session = client.sessions.create()
    err = raises(422, client.sessions.create, session_id=session.id)
    assert "task" in err.message.lower()


def test_malformed_values_are_422(client: BrowserUse) -> None:
    assert_validation_shape(raises(422, client.sessions.get, "not-a-uuid"))
    assert_validation_shape(raises(422, client.sessions.create, "a task", session_id="not-a-uuid"))
    session = client.sessions.create()
    assert_validation_shape(raises(422, client.sessions.messages, session.id, limit=0))
    assert_validation_shape(raises(422, client.sessions.messages, session.id, limit=101))
    assert_validation_shape(raises(422, client.sessions.stop, session.id, strategy="everything"))


def test_task_to_a_busy_or_finished_session_is_refused(client: BrowserUse) -> None:
    session = client.sessions.create()
    client.sessions.create("first task", session_id=session.id, keep_alive=True)
    # The first task is running or has already failed (no agent yet): either way, no second one.
    err = raises((409, 422), client.sessions.create, "second task", session_id=session.id)
    assert err.message

    stopped = client.sessions.create()
    client.sessions.stop(stopped.id)
    raises((409, 422), client.sessions.create, "a task", session_id=stopped.id)


def test_too_many_sessions_is_429_and_creates_nothing(start_server) -> None:
    server = start_server("--pool-size", "1", "--max-sessions", "1")
    with BrowserUse(api_key=server.api_key, base_url=server.base_url, max_retries=0) as client:
        first = client.sessions.create()
        err = raises(429, client.sessions.create)
        assert isinstance(err.retry_after, int), "429 must carry an integer Retry-After"
        raises(429, client.sessions.create, "a task")
        assert client.sessions.list().total == 1

    # The default client retries the POST (honouring Retry-After) and then gives up.
    with BrowserUse(api_key=server.api_key, base_url=server.base_url) as client:
        started = time.monotonic()
        raises(429, client.sessions.create)
        assert time.monotonic() - started < 60
        assert client.sessions.list().total == 1, "a refused create must not create anything"

        # Stopping the session frees the slot.
        client.sessions.stop(first.id)
        second = client.sessions.create()
        assert second.status.value in ("created", "idle")


async def test_async_client_errors(server: TandemServer) -> None:
    bad = AsyncBrowserUse(api_key="bu_wrong", base_url=server.base_url)
    with pytest.raises(BrowserUseError) as err:
        await bad.sessions.list()
    assert err.value.status_code == 401
    await bad.close()

    good = AsyncBrowserUse(api_key=server.api_key, base_url=server.base_url)
    with pytest.raises(BrowserUseError) as err:
        await good.sessions.get(uuid.uuid4())
    assert err.value.status_code == 404
    session = await good.sessions.create()
    with pytest.raises(BrowserUseError) as err:
        await good.sessions.create(session_id=session.id)
    assert err.value.status_code == 422
    # run() on an unknown session fails on its first request instead of polling forever.
    with pytest.raises(BrowserUseError) as err:
        await good.run("a task", session_id=uuid.uuid4())
    assert err.value.status_code == 404
    await good.close()
