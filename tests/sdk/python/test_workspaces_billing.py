"""Workspaces through the official SDK's helpers (signed upload and download links, no API
key on them), a session's browser downloads landing in its workspace, and the account view."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from browser_use_sdk.v3 import BrowserUse, BrowserUseError
from playwright.sync_api import sync_playwright


def test_upload_list_download_and_delete(client: BrowserUse, tmp_path: Path) -> None:
    workspace = client.workspaces.create(name="reports")
    assert workspace.name == "reports"
    bare = client.workspaces.create()
    assert bare.name is None

    local = tmp_path / "q3 numbers.csv"
    local.write_text("region,total\nnorth,42\n")
    paths = client.workspaces.upload(workspace.id, local)
    assert paths == ["uploads/q3 numbers.csv"]
    client.workspaces.upload(workspace.id, local, prefix="archive/2026")

    listed = client.workspaces.files(workspace.id)
    assert [f.path for f in listed.files] == ["archive/2026/q3 numbers.csv", "uploads/q3 numbers.csv"]
    assert listed.files[0].size == local.stat().st_size
    shallow = client.workspaces.files(workspace.id, shallow=True)
    assert shallow.folders == ["archive", "uploads"]

    copy = client.workspaces.download(workspace.id, "uploads/q3 numbers.csv", to=tmp_path / "copy.csv")
    assert copy.read_text() == local.read_text()
    everything = client.workspaces.download_all(workspace.id, to=tmp_path / "all")
    assert sorted(p.relative_to(tmp_path / "all").as_posix() for p in everything) == [
        "archive/2026/q3 numbers.csv",
        "uploads/q3 numbers.csv",
    ]
    assert client.workspaces.size(workspace.id) == {"sizeBytes": 2 * local.stat().st_size, "fileCount": 2}

    client.workspaces.delete_file(workspace.id, path="archive/2026/q3 numbers.csv")
    assert [f.path for f in client.workspaces.files(workspace.id).files] == ["uploads/q3 numbers.csv"]
    with pytest.raises(BrowserUseError) as err:
        client.workspaces.delete_file(workspace.id, path="../../tandem.db")
    assert err.value.status_code == 422

    renamed = client.workspaces.update(workspace.id, name="q3")
    assert renamed.name == "q3"
    assert workspace.id in [w.id for w in client.workspaces.list(page_size=100).items]
    client.workspaces.delete(workspace.id)
    with pytest.raises(BrowserUseError) as err:
        client.workspaces.get(workspace.id)
    assert err.value.status_code == 404


def test_a_session_s_downloads_land_in_its_workspace(client: BrowserUse) -> None:
    workspace = client.workspaces.create()
    session = client.sessions.create(workspace_id=str(workspace.id))
    assert session.workspace_id == workspace.id
    cdp_url = client.browsers.get(session.id).cdp_url
    with sync_playwright() as p:
        browser = p.chromium.connect_over_cdp(cdp_url)
        page = browser.contexts[0].new_page()
        page.set_content("<a download='notes.txt' href='data:text/plain,remember the milk'>get</a>")
        page.click("a")
        browser.close()

    deadline = time.monotonic() + 20
    while not client.browsers.downloads(session.id).files:
        assert time.monotonic() < deadline, "the download never appeared"
        time.sleep(0.2)
    downloads = client.browsers.downloads(session.id, include_urls=True)
    assert [f.path for f in downloads.files] == ["notes.txt"]
    assert downloads.files[0].url
    files = client.workspaces.files(workspace.id, prefix="downloads/")
    assert [f.path for f in files.files] == ["downloads/notes.txt"]
    client.sessions.stop(session.id)


def test_the_account_view_validates(client: BrowserUse) -> None:
    account = client.billing.account()
    assert account.concurrent_session_limit >= 1
    assert account.active_session_count >= 0
    assert account.plan_info.plan_name == "self-hosted"
    assert client.billing.account().project_id == account.project_id
