"""Wire details the SDKs depend on without showing them: checked with plain HTTP."""

from __future__ import annotations

import re

import httpx
import pytest

from tandem_server import TandemServer

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")


@pytest.fixture
def http(server: TandemServer):
    with httpx.Client(base_url=server.base_url, headers={"X-Browser-Use-API-Key": server.api_key}) as client:
        yield client


def test_session_json_shape(http: httpx.Client) -> None:
    # Unknown keys are ignored: both SDKs forward extra arguments verbatim.
    created = http.post("/sessions", json={"someFutureField": 1})
    assert created.status_code == 200, created.text
    body = created.json()
    assert ISO_Z.match(body["createdAt"]) and ISO_Z.match(body["updatedAt"])
    for key in ("totalCostUsd", "llmCostUsd", "proxyCostUsd", "browserCostUsd", "proxyUsedMb"):
        assert body.get(key) is None or isinstance(body[key], str), f"{key} must be a decimal string"
    assert body.get("recordingUrls") == []


def test_stop_accepts_no_body_and_null(http: httpx.Client) -> None:
    first = http.post("/sessions", json={}).json()
    # The SDKs' plain stop() sends a POST with no body and no Content-Type.
    bare = http.post(f"/sessions/{first['id']}/stop")
    assert bare.status_code == 200, bare.text
    assert bare.json()["status"] == "stopped"
    second = http.post("/sessions", json={}).json()
    null = http.post(f"/sessions/{second['id']}/stop", content=b"null", headers={"Content-Type": "application/json"})
    assert null.status_code == 200, null.text
    assert null.json()["status"] == "stopped"


def test_delete_is_204_without_body(http: httpx.Client) -> None:
    session = http.post("/sessions", json={}).json()
    deleted = http.delete(f"/sessions/{session['id']}")
    assert deleted.status_code == 204
    assert deleted.content == b"", "the TS SDK parses any non-204 2xx body as JSON"


def test_missing_key_and_unknown_route(server: TandemServer) -> None:
    with httpx.Client(base_url=server.base_url) as anonymous:
        missing = anonymous.get("/sessions")
        assert missing.status_code == 401
        assert isinstance(missing.json()["detail"], str)
    with httpx.Client(base_url=server.base_url, headers={"X-Browser-Use-API-Key": server.api_key}) as http:
        unknown = http.get("/no-such-route")
        assert unknown.status_code == 404
        assert "detail" in unknown.json()


def test_openapi_document(http: httpx.Client) -> None:
    doc = http.get("/openapi.json")
    assert doc.status_code == 200, doc.text
    spec = doc.json()
    assert str(spec.get("openapi", "")).startswith("3.")
    paths = spec["paths"]
    assert any(p.endswith("/sessions") for p in paths), sorted(paths)
    assert any(p.endswith("/sessions/{session_id}/messages") for p in paths), sorted(paths)
