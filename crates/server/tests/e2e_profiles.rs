//! End-to-end tests of `/api/v3/profiles` and of profiles in use: a session logs in to a
//! local site, ends (stop, timeout), and the next session or browser with the profile is still
//! logged in, with its local storage.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{RawCdp, TestServer, cdp_socket_url};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

fn check_profile(p: &Value) {
    uuid::Uuid::parse_str(p["id"].as_str().expect("id")).unwrap();
    for key in ["createdAt", "updatedAt"] {
        assert!(p[key].as_str().unwrap().ends_with('Z'), "{key}: {p}");
    }
    assert!(p["lastUsedAt"].is_null() || p["lastUsedAt"].as_str().unwrap().ends_with('Z'));
    assert!(p["cookieDomains"].is_null() || p["cookieDomains"].is_array());
}

async fn profile(server: &TestServer, pid: &str) -> Value {
    let reply = server
        .call("GET", &format!("/api/v3/profiles/{pid}"), None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    check_profile(&reply.json);
    reply.json
}

/// Opens the login page through `cdp_url`, optionally logs in, and returns what it says.
async fn login_page(cdp_url: &str, url: &str, log_in: bool) -> Value {
    let mut client = RawCdp::connect(&cdp_socket_url(cdp_url).await)
        .await
        .unwrap();
    let tab = client.open(url).await;
    if log_in {
        client
            .eval(&tab, "document.getElementById('login').click()")
            .await;
    }
    let status = client
        .eval(&tab, "document.getElementById('status').textContent")
        .await;
    client.call("Browser.close", json!({}), None).await;
    status
}

const LOGGED_IN: &str = "Logged in as alice; theme dark";

/// Opens the cart page through `cdp_url`, optionally puts `item` in the cart (IndexedDB), and
/// returns what the cart holds.
async fn cart_page(cdp_url: &str, url: &str, item: Option<&str>) -> Value {
    let mut client = RawCdp::connect(&cdp_socket_url(cdp_url).await)
        .await
        .unwrap();
    let tab = client.open(url).await;
    if let Some(item) = item {
        let saved = client
            .eval(&tab, &format!("saveCart({})", json!(item)))
            .await;
        assert_eq!(saved, "saved");
    }
    let held = client.eval(&tab, "readCart()").await;
    client.call("Browser.close", json!({}), None).await;
    held
}

/// A new profile, and a session started from it that logged in at `login`.
async fn profile_with_login(server: &TestServer, login: &str) -> (String, Value) {
    let created = server.call("POST", "/api/v3/profiles", None).await;
    let pid = id(&created.json);
    let session = server.create(json!({"profileId": pid})).await;
    assert_eq!(
        login_page(session["cdpUrl"].as_str().unwrap(), login, true).await,
        LOGGED_IN
    );
    (pid, session)
}

/// `POST /browsers` from the profile `pid`: the new browser.
async fn browser_from(server: &TestServer, pid: &str) -> Value {
    let browser = server
        .call(
            "POST",
            "/api/v3/browsers",
            Some(&json!({ "profileId": pid }).to_string()),
        )
        .await;
    assert_eq!(browser.status, 201, "{}", browser.text);
    browser.json
}

/// `PATCH /browsers/{id} {"action":"stop"}`: the stopped browser.
async fn stop_browser(server: &TestServer, browser: &Value) -> Value {
    let stopped = server
        .call(
            "PATCH",
            &format!("/api/v3/browsers/{}", id(browser)),
            Some(r#"{"action":"stop"}"#),
        )
        .await;
    assert_eq!(stopped.json["status"], "stopped", "{}", stopped.text);
    stopped.json
}

async fn stop_session(server: &TestServer, session: &Value) -> Value {
    let stopped = server
        .call(
            "POST",
            &format!("/api/v3/sessions/{}/stop", id(session)),
            None,
        )
        .await;
    assert_eq!(stopped.status, 200, "{}", stopped.text);
    stopped.json
}

#[tokio::test]
async fn profiles_are_created_listed_renamed_and_deleted() {
    let server = TestServer::start(|c| c.pool_size = 0);
    let created = server
        .call(
            "POST",
            "/api/v3/profiles",
            Some(r#"{"name":"Shop login","userId":"u-1"}"#),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    check_profile(&created.json);
    assert_eq!(created.json["name"], "Shop login");
    assert_eq!(created.json["userId"], "u-1");
    assert_eq!(created.json["cookieDomains"], Value::Null);
    let empty = server.call("POST", "/api/v3/profiles", None).await;
    assert_eq!(empty.status, 201, "a bodyless create is fine");

    let page = server
        .call("GET", "/api/v3/profiles?query=shop", None)
        .await;
    assert_eq!(page.json["totalItems"], 1);
    assert_eq!(page.json["items"][0]["id"], created.json["id"]);
    // Python sends pageNumber/pageSize, TS page/page_size.
    for query in ["pageNumber=2&pageSize=1", "page=2&page_size=1"] {
        let page = server
            .call("GET", &format!("/api/v3/profiles?{query}"), None)
            .await;
        assert_eq!(page.status, 200);
        assert_eq!(page.json["totalItems"], 2);
        assert_eq!(page.json["pageNumber"], 2);
        assert_eq!(page.json["pageSize"], 1);
        assert_eq!(
            page.json["items"][0]["id"], created.json["id"],
            "newest first"
        );
    }

    let pid = id(&created.json);
    let renamed = server
        .call(
            "PATCH",
            &format!("/api/v3/profiles/{pid}"),
            Some(r#"{"name":"Renamed"}"#),
        )
        .await;
    assert_eq!(renamed.status, 200);
    assert_eq!(renamed.json["name"], "Renamed");
    assert_eq!(renamed.json["userId"], "u-1", "untouched fields stay");

    let long = json!({ "name": "x".repeat(101) }).to_string();
    let reply = server.call("POST", "/api/v3/profiles", Some(&long)).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.json["detail"][0]["loc"], json!(["body", "name"]));
    let reply = server.call("GET", "/api/v3/profiles/nope", None).await;
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.json["detail"][0]["loc"],
        json!(["path", "profile_id"])
    );

    let deleted = server
        .call("DELETE", &format!("/api/v3/profiles/{pid}"), None)
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(deleted.text, "");
    for (method, body) in [("GET", None), ("PATCH", Some("{}")), ("DELETE", None)] {
        let reply = server
            .call(method, &format!("/api/v3/profiles/{pid}"), body)
            .await;
        assert_eq!(reply.status, 404, "{method}");
        assert_eq!(reply.json["detail"], "Profile not found");
    }
    let reply = server
        .call(
            "POST",
            "/api/v3/sessions",
            Some(&json!({"profileId": pid}).to_string()),
        )
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json["detail"], "Profile not found");
    let sessions = server.call("GET", "/api/v3/sessions", None).await;
    assert_eq!(sessions.json["total"], 0, "nothing was created");
}

#[tokio::test]
async fn a_profile_keeps_a_login_across_sessions_and_browsers() {
    let server = TestServer::start(|c| c.pool_size = 1);
    let pages = testkit::FixtureServer::start().await;
    let login = pages.url("/login.html");
    let cart = pages.url("/profile-store.html");
    let created = server
        .call("POST", "/api/v3/profiles", Some(r#"{"name":"shop"}"#))
        .await;
    let pid = id(&created.json);

    let first = server.create(json!({"profileId": pid})).await;
    assert_eq!(first["profileId"], pid.as_str());
    let cdp = first["cdpUrl"].as_str().unwrap();
    assert_eq!(
        login_page(cdp, &login, false).await,
        "Logged out; theme none"
    );
    assert_eq!(login_page(cdp, &login, true).await, LOGGED_IN);
    assert_eq!(cart_page(cdp, &cart, None).await, "empty");
    assert_eq!(
        cart_page(cdp, &cart, Some("walnut table")).await,
        "walnut table"
    );
    let stopped = server
        .call(
            "POST",
            &format!("/api/v3/sessions/{}/stop", id(&first)),
            None,
        )
        .await;
    assert_eq!(stopped.json["status"], "stopped");
    let saved = profile(&server, &pid).await;
    assert_eq!(saved["cookieDomains"], json!(["127.0.0.1"]));
    assert!(saved["lastUsedAt"].is_string());
    assert_eq!(saved["lastSaveError"], Value::Null);

    let second = server.create(json!({"profileId": pid})).await;
    let cdp = second["cdpUrl"].as_str().unwrap();
    assert_eq!(login_page(cdp, &login, false).await, LOGGED_IN);
    assert_eq!(
        cart_page(cdp, &cart, None).await,
        "walnut table",
        "IndexedDB comes back"
    );
    server
        .call(
            "POST",
            &format!("/api/v3/sessions/{}/stop", id(&second)),
            None,
        )
        .await;

    // A standalone browser with the profile, stopped through /browsers, saves it too.
    let browser = browser_from(&server, &pid).await;
    let cdp = browser["cdpUrl"].as_str().unwrap();
    assert_eq!(login_page(cdp, &login, false).await, LOGGED_IN);
    let stopped = stop_browser(&server, &browser).await;
    assert_eq!(stopped["profileError"], Value::Null);

    // Another profile is a different jar.
    let other = server.call("POST", "/api/v3/profiles", None).await;
    let third = server.create(json!({"profileId": id(&other.json)})).await;
    let cdp = third["cdpUrl"].as_str().unwrap();
    assert_eq!(
        login_page(cdp, &login, false).await,
        "Logged out; theme none"
    );
}

#[tokio::test]
async fn a_session_that_times_out_saves_its_profile() {
    let server = TestServer::start(|c| {
        c.pool_size = 0;
        c.idle_timeout = Duration::from_secs(3);
    });
    let pages = testkit::FixtureServer::start().await;
    let login = pages.url("/login.html");
    let (pid, first) = profile_with_login(&server, &login).await;
    server
        .wait_status(&id(&first), &["timed_out"], Duration::from_secs(30))
        .await;
    assert_eq!(
        profile(&server, &pid).await["cookieDomains"],
        json!(["127.0.0.1"])
    );
    let second = server.create(json!({"profileId": pid})).await;
    assert_eq!(
        login_page(second["cdpUrl"].as_str().unwrap(), &login, false).await,
        LOGGED_IN
    );
}

#[tokio::test]
async fn two_sessions_on_one_profile_keep_both_logins() {
    let server = TestServer::start(|c| c.pool_size = 0);
    let pages = testkit::FixtureServer::start().await;
    let shop = pages.url("/login.html");
    // Another site: the same page under another host name.
    let forum = shop.replacen("127.0.0.1", "localhost", 1);
    let created = server.call("POST", "/api/v3/profiles", None).await;
    let pid = id(&created.json);

    // Both start from the same (empty) profile and log in to different sites.
    let a = server.create(json!({"profileId": pid})).await;
    let b = server.create(json!({"profileId": pid})).await;
    assert!(
        login_page(a["cdpUrl"].as_str().unwrap(), &shop, true)
            .await
            .as_str()
            .unwrap()
            .starts_with("Logged in as alice")
    );
    assert!(
        login_page(b["cdpUrl"].as_str().unwrap(), &forum, true)
            .await
            .as_str()
            .unwrap()
            .starts_with("Logged in as alice")
    );
    stop_session(&server, &a).await;
    stop_session(&server, &b).await;
    let saved = profile(&server, &pid).await;
    assert_eq!(saved["cookieDomains"], json!(["127.0.0.1", "localhost"]));
    assert_eq!(saved["lastSaveError"], Value::Null);

    // B ended last, yet A's login is still there: both sites are logged in.
    let c = server.create(json!({"profileId": pid})).await;
    let cdp = c["cdpUrl"].as_str().unwrap();
    for site in [&shop, &forum] {
        let status = login_page(cdp, site, false).await;
        assert!(
            status.as_str().unwrap().starts_with("Logged in as alice"),
            "{site}: {status}"
        );
    }
}

#[tokio::test]
async fn a_failed_save_is_reported_on_the_profile_the_session_and_the_browser() {
    let server = TestServer::start(|c| c.pool_size = 0);
    let pages = testkit::FixtureServer::start().await;
    let login = pages.url("/login.html");
    let (pid, session) = profile_with_login(&server, &login).await;
    let browser = browser_from(&server, &pid).await;

    // The profiles' folder becomes a file: no save can be written, even as root.
    let profiles = server.data_dir.join("profiles");
    if profiles.exists() {
        std::fs::remove_dir_all(&profiles).unwrap();
    }
    std::fs::write(&profiles, b"in the way").unwrap();

    let stopped = stop_session(&server, &session).await;
    assert_eq!(stopped["status"], "stopped");
    let record = profile(&server, &pid).await;
    let error = record["lastSaveError"].as_str().expect("lastSaveError");
    assert!(error.contains("cannot create"), "{error}");
    let view = server
        .call("GET", &format!("/api/v3/browsers/{}", id(&session)), None)
        .await;
    assert_eq!(
        view.json["profileError"],
        format!("The profile was not saved: {error}"),
        "the session's browser shows it"
    );
    let feed = server.messages(&id(&session), "limit=100").await;
    let reported = feed["messages"].as_array().unwrap().iter().any(|m| {
        m["summary"]
            .as_str()
            .unwrap()
            .starts_with(&format!("The browser profile {pid} was not saved: "))
    });
    assert!(reported, "the feed says so: {feed}");

    let stopped = stop_browser(&server, &browser).await;
    let error = stopped["profileError"].as_str().expect("profileError");
    assert!(
        error.starts_with("The profile was not saved: ") && error.contains("cannot create"),
        "{error}"
    );

    // Once saving works again, a good save clears the error.
    std::fs::remove_file(&profiles).unwrap();
    let again = server.create(json!({"profileId": pid})).await;
    stop_session(&server, &again).await;
    assert_eq!(profile(&server, &pid).await["lastSaveError"], Value::Null);
    let view = server
        .call("GET", &format!("/api/v3/browsers/{}", id(&again)), None)
        .await;
    assert_eq!(view.json["profileError"], Value::Null);
}
