//! End-to-end tests of `/api/v3/browsers` and of `cdpUrl` against a real server with real
//! Chromium: create, list and its filters, get, stop, errors; the CDP proxy with a raw
//! WebSocket client (version rewrite, several clients, `Browser.close` not ending the
//! browser, refused tokens); an agent session's browser under `/browsers`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{
    LiveMessage, LiveSocket, RawCdp, TestServer, cdp_socket_url, next_live, open_live,
    process_gone, viewport_through_cdp, wait_gone,
};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// Checks a browser against the Python SDK's `BrowserSessionView`.
fn check_browser(b: &Value) {
    uuid::Uuid::parse_str(b["id"].as_str().expect("id")).expect("uuid");
    let status = b["status"].as_str().expect("status");
    assert!(["active", "stopped"].contains(&status), "{status}");
    for key in ["timeoutAt", "startedAt"] {
        let t = b[key].as_str().unwrap_or_else(|| panic!("{key}: {b}"));
        assert!(t.ends_with('Z'), "{key} {t}");
        chrono::DateTime::parse_from_rfc3339(t).unwrap();
    }
    for key in ["proxyUsedMb", "proxyCost", "browserCost"] {
        assert_eq!(b[key], "0", "{key}");
    }
    assert!(b["metadata"].is_object());
    assert_eq!(b["extensions"], json!([]));
    let active = status == "active";
    assert_eq!(
        b["cdpUrl"].is_string(),
        active,
        "cdpUrl only while active: {b}"
    );
    assert_eq!(
        b["liveUrl"].is_string(),
        active,
        "liveUrl only while active: {b}"
    );
    assert_eq!(
        b["finishedAt"].is_string(),
        !active,
        "finishedAt once stopped: {b}"
    );
}

async fn create(server: &TestServer, body: Value) -> Value {
    let reply = server
        .call("POST", "/api/v3/browsers", Some(&body.to_string()))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    check_browser(&reply.json);
    reply.json
}

async fn list(server: &TestServer, query: &str) -> Value {
    let reply = server
        .call("GET", &format!("/api/v3/browsers?{query}"), None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    for item in reply.json["items"].as_array().unwrap() {
        check_browser(item);
    }
    reply.json
}

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(id).collect()
}

fn pid_of(server: &TestServer, browser: &Value) -> u32 {
    server.browser_pid(&id(browser))
}

#[tokio::test]
async fn browsers_are_created_listed_filtered_read_and_stopped() {
    let server = TestServer::start(|c| c.pool_size = 1);
    let plain = create(&server, json!({})).await;
    assert_eq!(plain["status"], "active");
    assert_eq!(plain["agentSessionId"], Value::Null);
    let started =
        chrono::DateTime::parse_from_rfc3339(plain["startedAt"].as_str().unwrap()).unwrap();
    let timeout =
        chrono::DateTime::parse_from_rfc3339(plain["timeoutAt"].as_str().unwrap()).unwrap();
    assert_eq!(
        (timeout - started).num_minutes(),
        60,
        "default timeout is 60 minutes"
    );
    let live = plain["liveUrl"].as_str().unwrap();
    assert!(
        live.starts_with(&format!("{}/live/{}?token=", server.base, id(&plain))),
        "{live}"
    );
    let cdp = plain["cdpUrl"].as_str().unwrap();
    assert!(cdp.starts_with(&format!("{}/cdp/", server.base)), "{cdp}");

    let labelled = create(
        &server,
        json!({"timeout": 5, "metadata": {"team": "red", "run": "7"}, "proxyCountryCode": "DE",
               "browserScreenWidth": 1024, "browserScreenHeight": 768, "solveCaptchas": true}),
    )
    .await;
    assert_eq!(labelled["metadata"], json!({"team": "red", "run": "7"}));
    assert_eq!(
        viewport_through_cdp(labelled["cdpUrl"].as_str().unwrap(), [1024, 768]).await,
        json!([1024, 768]),
        "pages see the screen size asked for"
    );
    assert_eq!(
        viewport_through_cdp(cdp, [1280, 720]).await,
        json!([1280, 720]),
        "and 1280x720 without one"
    );
    let started =
        chrono::DateTime::parse_from_rfc3339(labelled["startedAt"].as_str().unwrap()).unwrap();
    let timeout =
        chrono::DateTime::parse_from_rfc3339(labelled["timeoutAt"].as_str().unwrap()).unwrap();
    assert_eq!((timeout - started).num_minutes(), 5);

    let all = list(&server, "").await;
    assert_eq!(ids(&all), vec![id(&labelled), id(&plain)], "newest first");
    assert_eq!(all["totalItems"], 2);
    assert_eq!(all["pageNumber"], 1);
    assert_eq!(all["pageSize"], 10);
    let page = list(&server, "pageSize=1&pageNumber=2").await;
    assert_eq!(ids(&page), vec![id(&plain)]);
    assert_eq!(page["totalItems"], 2);
    assert_eq!(
        ids(&list(&server, "metadata=team=red").await),
        vec![id(&labelled)]
    );
    assert_eq!(
        ids(&list(&server, "metadata=team&metadata=run=7").await),
        vec![id(&labelled)]
    );
    assert_eq!(
        ids(&list(&server, "metadata=team=blue").await),
        Vec::<String>::new()
    );

    let got = server
        .call("GET", &format!("/api/v3/browsers/{}", id(&plain)), None)
        .await;
    assert_eq!(got.status, 200);
    check_browser(&got.json);
    assert_eq!(got.json["id"], plain["id"]);

    let pid = pid_of(&server, &plain);
    let stopped = server
        .call(
            "PATCH",
            &format!("/api/v3/browsers/{}", id(&plain)),
            Some(r#"{"action":"stop"}"#),
        )
        .await;
    assert_eq!(stopped.status, 200, "{}", stopped.text);
    check_browser(&stopped.json);
    assert_eq!(stopped.json["status"], "stopped");
    assert!(process_gone(pid), "the browser is gone when stop answers");
    // Stopping again is harmless.
    let again = server
        .call(
            "PATCH",
            &format!("/api/v3/browsers/{}", id(&plain)),
            Some(r#"{"action":"stop"}"#),
        )
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json["finishedAt"], stopped.json["finishedAt"]);

    assert_eq!(
        ids(&list(&server, "filterBy=active").await),
        vec![id(&labelled)]
    );
    assert_eq!(
        ids(&list(&server, "filterBy=stopped").await),
        vec![id(&plain)]
    );
    let other_pid = pid_of(&server, &labelled);
    server.stop();
    assert!(
        wait_gone(other_pid, Duration::from_secs(5)).await,
        "shutdown stops browsers"
    );
}

#[tokio::test]
async fn bad_browser_requests_get_the_cloud_s_answers() {
    let server = TestServer::start(|c| c.pool_size = 0);
    let too_long = server
        .call("POST", "/api/v3/browsers", Some(r#"{"timeout": 241}"#))
        .await;
    assert_eq!(too_long.status, 403, "{}", too_long.text);
    assert_eq!(
        too_long.json["detail"],
        "Maximum session timeout is 4 hours (240 minutes)."
    );
    let unknown_profile = server
        .call(
            "POST",
            "/api/v3/browsers",
            Some(&json!({"profileId": uuid::Uuid::now_v7()}).to_string()),
        )
        .await;
    assert_eq!(unknown_profile.status, 404, "{}", unknown_profile.text);
    assert_eq!(unknown_profile.json["detail"], "Profile not found");
    for (body, field) in [
        (r#"{"timeout": "long"}"#, "timeout"),
        (r#"{"timeout": 0}"#, "timeout"),
        (r#"{"browserScreenWidth": 100}"#, "browserScreenWidth"),
        (r#"{"profileId": "nope"}"#, "profileId"),
        (r#"{"metadata": {"a": 1}}"#, "metadata"),
    ] {
        let reply = server.call("POST", "/api/v3/browsers", Some(body)).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text);
        assert_eq!(reply.json["detail"][0]["loc"][1], field, "{body}");
    }
    let too_many: Value = (0..11)
        .map(|i| (format!("k{i}"), json!("v")))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let reply = server
        .call(
            "POST",
            "/api/v3/browsers",
            Some(&json!({"metadata": too_many}).to_string()),
        )
        .await;
    assert_eq!(reply.status, 422);
    for query in [
        "filterBy=gone",
        "pageSize=0",
        "pageSize=101",
        "agentSessionId=x",
    ] {
        let reply = server
            .call("GET", &format!("/api/v3/browsers?{query}"), None)
            .await;
        assert_eq!(reply.status, 422, "{query}: {}", reply.text);
    }
    let missing = uuid::Uuid::now_v7();
    let reply = server
        .call("GET", &format!("/api/v3/browsers/{missing}"), None)
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json["detail"], "Session not found");
    let reply = server
        .call(
            "PATCH",
            &format!("/api/v3/browsers/{missing}"),
            Some(r#"{"action":"stop"}"#),
        )
        .await;
    assert_eq!(reply.status, 404);
    let reply = server
        .call("GET", "/api/v3/browsers/not-a-uuid", None)
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.json["detail"][0]["loc"],
        json!(["path", "session_id"])
    );
    let reply = server
        .call(
            "PATCH",
            &format!("/api/v3/browsers/{missing}"),
            Some(r#"{"action":"pause"}"#),
        )
        .await;
    assert_eq!(reply.status, 422);
    let reply = server
        .call_with_key("GET", "/api/v3/browsers", None, None)
        .await;
    assert_eq!(reply.status, 401);
    let reply = server.call("GET", "/api/v3/browsers", None).await;
    assert_eq!(
        reply.json["items"],
        json!([]),
        "a refused create made nothing"
    );
}

#[tokio::test]
async fn cdp_url_serves_version_and_independent_sockets_that_browser_close_does_not_end() {
    let server = TestServer::start(|c| c.pool_size = 1);
    let pages = testkit::FixtureServer::start().await;
    let browser = create(&server, json!({})).await;
    let cdp_url = browser["cdpUrl"].as_str().unwrap().to_string();
    let pid = pid_of(&server, &browser);

    // Playwright asks for `json/version/` with a slash, other clients without.
    for path in ["/json/version", "/json/version/"] {
        let version: Value = reqwest::get(format!("{cdp_url}{path}"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            version["Browser"].as_str().unwrap().contains("Chrome"),
            "{version}"
        );
        assert!(version["Protocol-Version"].is_string());
        assert!(version["User-Agent"].is_string());
        let ws = version["webSocketDebuggerUrl"].as_str().unwrap();
        let expected = format!(
            "{}/devtools/browser",
            cdp_url.replacen("http://", "ws://", 1)
        );
        assert_eq!(ws, expected, "rewritten to the proxy");
    }
    let socket = cdp_socket_url(&cdp_url).await;

    let mut first = RawCdp::connect(&socket).await.unwrap();
    let mut second = RawCdp::connect(&socket).await.unwrap();
    let version = first
        .call("Browser.getVersion", json!({}), None)
        .await
        .unwrap();
    assert!(
        version["result"]["product"]
            .as_str()
            .unwrap()
            .contains("Chrome"),
        "{version}"
    );

    // A client navigates and reads the DOM while another is connected.
    let tab = first.open(&pages.url("/login.html")).await;
    assert_eq!(
        first
            .eval(&tab, "document.querySelector('h1').textContent")
            .await,
        "Shop"
    );
    let targets = second
        .call("Target.getTargets", json!({}), None)
        .await
        .unwrap();
    let urls: Vec<&str> = targets["result"]["targetInfos"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["url"].as_str())
        .collect();
    assert!(urls.iter().any(|u| u.ends_with("/login.html")), "{urls:?}");
    let tabs: Value = reqwest::get(format!("{cdp_url}/json/list"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        tabs.as_array().unwrap().iter().any(|t| t["url"]
            .as_str()
            .unwrap_or("")
            .ends_with("/login.html")
            && t["webSocketDebuggerUrl"]
                .as_str()
                .unwrap_or("")
                .contains("/cdp/")),
        "{tabs}"
    );

    // `Browser.close` ends that client's connection only.
    let closed = first.call("Browser.close", json!({}), None).await.unwrap();
    assert_eq!(closed["result"], json!({}));
    assert!(first.closed_by_server().await);
    assert!(!process_gone(pid), "the browser still runs");
    let crash = second.call("Browser.crash", json!({}), None).await.unwrap();
    assert!(crash["error"].is_object(), "{crash}");
    let still = second
        .call("Browser.getVersion", json!({}), None)
        .await
        .unwrap();
    assert!(
        still["result"].is_object(),
        "the other client is unaffected: {still}"
    );
    let got = server
        .call("GET", &format!("/api/v3/browsers/{}", id(&browser)), None)
        .await;
    assert_eq!(got.json["status"], "active");
    // A new client connects after another closed.
    let mut third = RawCdp::connect(&socket).await.unwrap();
    assert!(
        third
            .call("Browser.getVersion", json!({}), None)
            .await
            .unwrap()["result"]
            .is_object()
    );
    // The page-level socket of a tab works too.
    let page_socket = tabs
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["url"].as_str().unwrap_or("").ends_with("/login.html"))
        .and_then(|t| t["webSocketDebuggerUrl"].as_str())
        .unwrap()
        .to_string();
    let mut page = RawCdp::connect(&page_socket).await.unwrap();
    let title = page
        .call(
            "Runtime.evaluate",
            json!({"expression": "document.title", "returnByValue": true}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(title["result"]["result"]["value"], "Login");

    // Stopping the browser ends the clients and the URL.
    server
        .call(
            "PATCH",
            &format!("/api/v3/browsers/{}", id(&browser)),
            Some(r#"{"action":"stop"}"#),
        )
        .await;
    assert!(second.closed_by_server().await);
    let gone = reqwest::get(format!("{cdp_url}/json/version"))
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn an_escaped_or_unreadable_browser_close_does_not_end_the_browser() {
    let server = TestServer::start(|c| c.pool_size = 1);
    let browser = create(&server, json!({})).await;
    let pid = pid_of(&server, &browser);
    let socket = cdp_socket_url(browser["cdpUrl"].as_str().unwrap()).await;

    // `\u0042rowser.close` is `Browser.close` to Chromium: answered here, ending this client.
    let mut escaped = RawCdp::connect(&socket).await.unwrap();
    let answer = escaped
        .send_raw(r#"{"id":1,"method":"\u0042rowser.close"}"#, Some(1))
        .await
        .expect("answered");
    assert_eq!(answer, json!({"id": 1, "result": {}}));
    assert!(escaped.closed_by_server().await);
    // A message that is not plain JSON, or names the method twice, is refused, not relayed.
    let mut other = RawCdp::connect(&socket).await.unwrap();
    for (id, text) in [
        (None, r#"{"id":2,/* hi */"method":"Browser.close"}"#),
        (
            Some(3),
            r#"{"id":3,"method":"Browser.getVersion","method":"Browser.close"}"#,
        ),
    ] {
        let answer = other.send_raw(text, id).await.expect("answered");
        assert!(answer["error"]["message"].is_string(), "{answer}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!process_gone(pid), "the browser still runs");
    let version = other
        .call("Browser.getVersion", json!({}), None)
        .await
        .expect("the client that was refused goes on");
    assert!(version["result"]["product"].is_string(), "{version}");
    let got = server
        .call("GET", &format!("/api/v3/browsers/{}", id(&browser)), None)
        .await;
    assert_eq!(got.json["status"], "active");
}

/// `GET url` as JSON, with the `Host` header given (as a reverse proxy would send it).
async fn get_json(url: &str, host: Option<&str>) -> Value {
    let mut request = reqwest::Client::new().get(url);
    if let Some(host) = host {
        request = request.header("host", host);
    }
    request.send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn behind_a_public_url_cdp_sockets_keep_its_scheme_host_and_path() {
    let server = TestServer::start(|c| {
        c.pool_size = 1;
        c.public_url = Some("https://tandem.example/tandem".into());
    });
    let browser = create(&server, json!({})).await;
    let cdp_url = browser["cdpUrl"].as_str().unwrap();
    let token = cdp_url
        .strip_prefix("https://tandem.example/tandem/cdp/")
        .unwrap_or_else(|| panic!("cdpUrl keeps the public URL: {cdp_url}"));
    // The reverse proxy forwards to the bound address, with its own Host.
    let local = format!("{}/cdp/{token}", server.base);
    let version = get_json(&format!("{local}/json/version"), None).await;
    assert_eq!(
        version["webSocketDebuggerUrl"],
        format!("wss://tandem.example/tandem/cdp/{token}/devtools/browser")
    );
    let tabs = get_json(&format!("{local}/json/list"), None).await;
    let page = tabs[0]["webSocketDebuggerUrl"].as_str().unwrap();
    assert!(
        page.starts_with(&format!(
            "wss://tandem.example/tandem/cdp/{token}/devtools/page/"
        )),
        "{tabs}"
    );

    // Without a public URL the socket follows the host the client used.
    let plain = TestServer::start(|c| c.pool_size = 0);
    let browser = create(&plain, json!({})).await;
    let cdp_url = browser["cdpUrl"].as_str().unwrap();
    let token = cdp_url.rsplit('/').next().unwrap();
    let port = plain.base.rsplit(':').next().unwrap();
    let host = format!("box.lan:{port}");
    let version = get_json(&format!("{cdp_url}/json/version"), Some(&host)).await;
    assert_eq!(
        version["webSocketDebuggerUrl"],
        format!("ws://box.lan:{port}/cdp/{token}/devtools/browser")
    );
}

#[tokio::test]
async fn bad_cdp_tokens_are_refused() {
    let server = TestServer::start(|c| c.pool_size = 1);
    let browser = create(&server, json!({})).await;
    let cdp_url = browser["cdpUrl"].as_str().unwrap().to_string();
    let token = cdp_url.rsplit('/').next().unwrap().to_string();
    let status = |url: String| async move { reqwest::get(url).await.unwrap().status().as_u16() };

    // A character in the middle of the signature: one at its end may only hit padding bits,
    // which is refused as malformed rather than as a bad signature.
    let middle = token.len() - 20;
    let mut tampered = token.clone().into_bytes();
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let refused = reqwest::get(format!("{}/cdp/{tampered}/json/version", server.base))
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["detail"],
        "Invalid CDP token: invalid token signature"
    );
    assert_eq!(
        status(format!("{}/cdp/garbage/json/version", server.base)).await,
        401
    );
    let signer = server::links::Signer::load_or_create(&server.data_dir).unwrap();
    let browser_id = uuid::Uuid::parse_str(&id(&browser)).unwrap();
    let expired = signer.sign(&server::links::Claims::new(
        browser_id,
        server::links::Mode::Cdp,
        chrono::Utc::now().timestamp() - 1,
    ));
    assert_eq!(
        status(format!("{}/cdp/{expired}/json/version", server.base)).await,
        401
    );
    // The live-view token of the same browser is not a CDP token.
    let live = browser["liveUrl"].as_str().unwrap();
    let live_token = live.split("token=").nth(1).unwrap();
    assert_eq!(
        status(format!("{}/cdp/{live_token}/json/version", server.base)).await,
        403
    );
    // A CDP token of another (unknown) browser opens nothing.
    let foreign = signer.sign(&server::links::Claims::new(
        uuid::Uuid::now_v7(),
        server::links::Mode::Cdp,
        chrono::Utc::now().timestamp() + 600,
    ));
    assert_eq!(
        status(format!("{}/cdp/{foreign}/json/version", server.base)).await,
        404
    );
    // A CDP token does not open the live view.
    let reply = reqwest::get(format!(
        "{}/live/{}?token={token}",
        server.base,
        id(&browser)
    ))
    .await
    .unwrap();
    assert_eq!(reply.status().as_u16(), 403);
    // A WebSocket with a bad token is refused before the upgrade.
    let refused = RawCdp::connect(&format!(
        "{}/cdp/{tampered}/devtools/browser",
        server.base.replacen("http://", "ws://", 1)
    ))
    .await;
    assert!(refused.is_err());
    // The good one still works.
    let mut ok = RawCdp::connect(&cdp_socket_url(&cdp_url).await)
        .await
        .unwrap();
    assert!(
        ok.call("Browser.getVersion", json!({}), None)
            .await
            .unwrap()["result"]
            .is_object()
    );
}

#[tokio::test]
async fn an_agent_session_s_browser_is_reachable_under_the_session_s_id() {
    let server = TestServer::start(|c| c.pool_size = 1);
    let pages = testkit::FixtureServer::start().await;
    let session = server.create(json!({})).await;
    let sid = id(&session);
    let cdp_url = session["cdpUrl"]
        .as_str()
        .expect("sessions carry cdpUrl")
        .to_string();

    let got = server
        .call("GET", &format!("/api/v3/browsers/{sid}"), None)
        .await;
    assert_eq!(got.status, 200, "{}", got.text);
    check_browser(&got.json);
    assert_eq!(got.json["agentSessionId"], sid.as_str());
    assert_eq!(got.json["status"], "active");
    let page = list(&server, &format!("agentSessionId={sid}")).await;
    assert_eq!(ids(&page), vec![sid.clone()]);
    assert_eq!(page["totalItems"], 1);
    let none = list(&server, &format!("agentSessionId={}", uuid::Uuid::now_v7())).await;
    assert_eq!(none["totalItems"], 0);

    // A CDP client drives the session's browser; the session lives on after it closes.
    let mut client = RawCdp::connect(&cdp_socket_url(&cdp_url).await)
        .await
        .unwrap();
    let tab = client.open(&pages.url("/login.html")).await;
    assert_eq!(client.eval(&tab, "document.title").await, "Login");
    client.call("Browser.close", json!({}), None).await;
    assert!(client.closed_by_server().await);
    assert_eq!(server.session(&sid).await["status"], "idle");

    let pid = server.browser_pid(&sid);
    let stopped = server
        .call(
            "PATCH",
            &format!("/api/v3/browsers/{sid}"),
            Some(r#"{"action":"stop"}"#),
        )
        .await;
    assert_eq!(stopped.status, 200, "{}", stopped.text);
    check_browser(&stopped.json);
    assert_eq!(stopped.json["status"], "stopped");
    assert_eq!(server.session(&sid).await["status"], "stopped");
    assert!(process_gone(pid));
}

#[tokio::test]
async fn a_cdp_client_s_commands_keep_an_idle_agent_session_alive() {
    let server = TestServer::start(|c| {
        c.pool_size = 0;
        c.idle_timeout = Duration::from_secs(2);
    });
    let session = server.create(json!({})).await;
    let sid = id(&session);
    let cdp_url = session["cdpUrl"].as_str().unwrap().to_string();
    let mut client = RawCdp::connect(&cdp_socket_url(&cdp_url).await)
        .await
        .unwrap();
    let tab = client.open("about:blank").await;

    // A script working in the browser for twice the inactivity limit, between tasks.
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(4) {
        assert_eq!(client.eval(&tab, "1 + 1").await, 2);
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    assert_eq!(server.session(&sid).await["status"], "idle");

    // Connected but quiet: the clock runs again, and the session ends as usual.
    let ended = server
        .wait_status(&sid, &["timed_out"], Duration::from_secs(6))
        .await;
    assert!(
        ended["lastStepSummary"]
            .as_str()
            .unwrap()
            .contains("inactivity")
    );
    assert!(client.closed_by_server().await);
}

// Multi-threaded: the browser's owner runs on this test's runtime, and the server's shutdown
// (on drop, blocking this thread) must still be able to reach it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_times_out_and_stops_cleanly() {
    // The API takes whole minutes; the domain takes any duration, so drive it directly.
    let server = TestServer::start(|c| c.pool_size = 0);
    let browsers = server::browsers::Browsers::new(
        server.sessions.owners().clone(),
        server::profiles::Profiles::new(
            server.sessions.store().clone(),
            server.data_dir.join("profiles"),
        ),
    );
    let record = browsers
        .create(server::browsers::NewBrowser {
            timeout: Duration::from_secs(2),
            ..Default::default()
        })
        .await
        .unwrap();
    let id = record.id.to_string();
    let pid = server.browser_pid(&id);
    let start = std::time::Instant::now();
    let stopped = loop {
        let got = server
            .call("GET", &format!("/api/v3/browsers/{id}"), None)
            .await;
        if got.json["status"] == "stopped" {
            break got.json;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "never timed out");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    check_browser(&stopped);
    assert!(
        wait_gone(pid, Duration::from_secs(5)).await,
        "Chromium is gone"
    );
    let stored = server
        .sessions
        .store()
        .browser(record.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.end_reason.as_deref(),
        Some("the browser reached its timeout")
    );
}

#[tokio::test]
async fn browsers_and_sessions_share_the_concurrent_limit_and_the_live_view() {
    let server = TestServer::start(|c| {
        c.pool_size = 0;
        c.max_sessions = 1;
    });
    let browser = create(&server, json!({})).await;
    // Its liveUrl opens the live view like a session's.
    let page = reqwest::get(browser["liveUrl"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let refused = server.call("POST", "/api/v3/browsers", Some("{}")).await;
    assert_eq!(refused.status, 429, "{}", refused.text);
    assert!(refused.headers.get("retry-after").is_some());
    let refused = server.call("POST", "/api/v3/sessions", Some("{}")).await;
    assert_eq!(refused.status, 429);
    let account = server.call("GET", "/api/v3/billing/account", None).await;
    assert_eq!(account.json["activeSessionCount"], 1);
    assert_eq!(account.json["concurrentSessionLimit"], 1);
    server
        .call(
            "PATCH",
            &format!("/api/v3/browsers/{}", id(&browser)),
            Some(r#"{"action":"stop"}"#),
        )
        .await;
    server.create(json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_stops_the_browsers_it_lost() {
    let dir = tempfile::tempdir().unwrap();
    let no_agent = || std::sync::Arc::new(agent::NoAgent);
    let first = TestServer::start_with(support::config(dir.path().to_path_buf()), no_agent());
    let browser = create(&first, json!({})).await;
    let browser_id = uuid::Uuid::parse_str(&id(&browser)).unwrap();
    first.stop();
    // As after a SIGKILL: the record still says active.
    {
        use store::Store;
        let db = store::SqliteStore::open(dir.path()).await.unwrap();
        let mut record = db.browser(browser_id).await.unwrap().unwrap();
        assert_eq!(record.end_reason.as_deref(), Some("Tandem shut down"));
        record.status = store::BrowserStatus::Active;
        record.finished_at = None;
        record.end_reason = None;
        db.save_browser(&record).await.unwrap();
        db.close().await.unwrap();
    }
    let second = TestServer::start_with(support::config(dir.path().to_path_buf()), no_agent());
    let got = second
        .call("GET", &format!("/api/v3/browsers/{browser_id}"), None)
        .await;
    assert_eq!(got.json["status"], "stopped");
    check_browser(&got.json);
    let stored = second
        .sessions
        .store()
        .browser(browser_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.end_reason.as_deref(),
        Some(server::browsers::RESTART_REASON)
    );
}

/// Reads the live view until it shows `url` in its address bar, then until a frame arrives
/// that differs from `before`; returns that frame.
async fn live_shows(socket: &mut LiveSocket, url: &str, before: Option<&[u8]>) -> Vec<u8> {
    let start = Instant::now();
    let mut located = false;
    loop {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the live view never showed {url}"
        );
        match next_live(socket).await {
            LiveMessage::Json(m) if m["t"] == "location" => located = m["url"] == url,
            LiveMessage::Json(_) => {}
            LiveMessage::Frame(jpeg) => {
                assert!(jpeg.starts_with(&[0xFF, 0xD8, 0xFF]), "a JPEG frame");
                if located && before != Some(jpeg.as_slice()) {
                    return jpeg;
                }
            }
        }
    }
}

#[tokio::test]
async fn the_live_view_streams_while_a_cdp_client_drives() {
    let server = TestServer::start(|c| c.pool_size = 1);
    let pages = testkit::FixtureServer::start().await;
    let browser = create(&server, json!({})).await;
    let mut client = RawCdp::connect(&cdp_socket_url(browser["cdpUrl"].as_str().unwrap()).await)
        .await
        .unwrap();
    let first = pages.url("/index.html");
    let tab = client.open(&first).await;

    // A viewer opens the live view with its link's token while the client stays connected.
    let mut viewer = open_live(browser["liveUrl"].as_str().unwrap()).await;
    let shown = live_shows(&mut viewer, &first, None).await;

    // The client navigates its tab: the viewer follows, with frames of the new page.
    let second = pages.url("/login.html");
    let navigated = client
        .call("Page.navigate", json!({ "url": second }), Some(&tab))
        .await
        .unwrap();
    assert!(navigated["result"]["frameId"].is_string(), "{navigated}");
    live_shows(&mut viewer, &second, Some(&shown)).await;
    assert_eq!(client.eval(&tab, "document.title").await, "Login");
}
