"""Browsers, profiles and CDP access through the official SDK and Playwright.

Playwright's `connect_over_cdp` drives a session's browser through its `cdpUrl` (no browser
download: it connects to Tandem's Chromium); `browser.close()` ends only Playwright's
connection. A local site on 127.0.0.1 logs a user in with a session cookie; a profile keeps
that login for the next session.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from browser_use_sdk.v3 import BrowserUse, BrowserUseError
from playwright.sync_api import sync_playwright

from conftest import wait_status


class ShopHandler(BaseHTTPRequestHandler):
    """`/` says who is logged in (from the Cookie header); `/login` sets the cookie."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        cookies = self.headers.get("Cookie", "")
        user = next(
            (c.split("=", 1)[1] for c in cookies.split("; ") if c.startswith("user=")), None
        )
        extra = []
        if self.path == "/login":
            user = "alice"
            # No Max-Age: a session cookie, like most logins.
            extra.append(("Set-Cookie", "user=alice; Path=/; HttpOnly"))
        body = (
            "<!doctype html><title>Shop</title><h1>Shop</h1>"
            f"<p id=status>{'Logged in as ' + user if user else 'Logged out'}</p>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def shop() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), ShopHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def read_status(cdp_url: str, url: str) -> str:
    """Opens `url` through Playwright over CDP, reads the page, and closes Playwright."""
    with sync_playwright() as p:
        browser = p.chromium.connect_over_cdp(cdp_url)
        context = browser.contexts[0]
        page = context.new_page()
        page.goto(url)
        status = page.locator("#status").text_content()
        page.close()
        browser.close()
    return status or ""


def test_playwright_drives_a_session_and_the_session_lives_on(client: BrowserUse, shop: str) -> None:
    session = client.sessions.create()
    wait_status(client, session.id, {"idle"})
    view = client.browsers.get(session.id)
    assert view.agent_session_id == session.id
    assert view.status.value == "active"
    assert view.cdp_url

    with sync_playwright() as p:
        browser = p.chromium.connect_over_cdp(view.cdp_url)
        page = browser.contexts[0].new_page()
        page.goto(f"{shop}/")
        assert page.locator("h1").text_content() == "Shop"
        assert page.title() == "Shop"
        # A second client at the same time.
        other = p.chromium.connect_over_cdp(view.cdp_url)
        urls = [pg.url for ctx in other.contexts for pg in ctx.pages]
        assert f"{shop}/" in urls
        other.close()
        browser.close()

    # The session survived both clients' close() and takes another one.
    assert client.sessions.get(session.id).status.value == "idle"
    assert client.browsers.get(session.id).status.value == "active"
    assert read_status(view.cdp_url, f"{shop}/") == "Logged out"

    client.sessions.stop(session.id)
    stopped = client.browsers.get(session.id)
    assert stopped.status.value == "stopped"
    assert stopped.cdp_url is None


def test_standalone_browsers_through_the_sdk(client: BrowserUse, shop: str) -> None:
    created = client.browsers.create(timeout=5, metadata={"suite": "sdk"})
    assert created.status.value == "active"
    assert (created.timeout_at - created.started_at).total_seconds() == 300
    assert created.live_url and created.cdp_url
    listed = client.browsers.list(metadata=["suite=sdk"], filter_by="active")
    assert [b.id for b in listed.items] == [created.id]
    assert listed.total_items == 1

    assert read_status(created.cdp_url, f"{shop}/") == "Logged out"
    assert client.browsers.get(created.id).status.value == "active"

    stopped = client.browsers.stop(created.id)
    assert stopped.status.value == "stopped"
    assert stopped.finished_at is not None
    assert [b.id for b in client.browsers.list(filter_by="stopped").items] == [created.id]

    with pytest.raises(BrowserUseError) as err:
        client.browsers.create(timeout=241)
    assert err.value.status_code == 403
    assert "240 minutes" in str(err.value)


def test_a_profile_keeps_a_login_for_the_next_session(client: BrowserUse, shop: str) -> None:
    profile = client.profiles.create(name="shop login", user_id="alice")
    assert profile.cookie_domains is None
    assert [p.id for p in client.profiles.list(query="shop login").items] == [profile.id]

    first = client.sessions.create(profile_id=str(profile.id))
    cdp_url = client.browsers.get(first.id).cdp_url
    assert read_status(cdp_url, f"{shop}/") == "Logged out"
    assert read_status(cdp_url, f"{shop}/login") == "Logged in as alice"
    client.sessions.stop(first.id)

    saved = client.profiles.get(profile.id)
    assert saved.cookie_domains == ["127.0.0.1"]
    assert saved.last_used_at is not None

    second = client.sessions.create(profile_id=str(profile.id))
    assert second.profile_id == profile.id
    assert read_status(client.browsers.get(second.id).cdp_url, f"{shop}/") == "Logged in as alice"
    client.sessions.stop(second.id)

    renamed = client.profiles.update(profile.id, name="renamed")
    assert renamed.name == "renamed"
    client.profiles.delete(profile.id)
    with pytest.raises(BrowserUseError) as err:
        client.profiles.get(profile.id)
    assert err.value.status_code == 404
    with pytest.raises(BrowserUseError) as err:
        client.sessions.create(profile_id=str(profile.id))
    assert err.value.status_code == 404
