//! Proxies end to end: `customProxy` on `POST /browsers` and `proxyCountryCode` on sessions
//! and browsers, against a real server, real Chromium and a real forward proxy on loopback
//! (`testkit::proxy`) that requires Basic auth and alone knows where `shop.test` is.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{RawCdp, TestServer, cdp_socket_url, wait_gone};
use testkit::FixtureServer;
use testkit::proxy::TestProxy;

const PASSWORD: &str = "s3cret-pw";

async fn shop_proxy(pages: &FixtureServer) -> TestProxy {
    let origin = pages.url("").trim_start_matches("http://").parse().unwrap();
    TestProxy::start("alice", PASSWORD, &[("shop.test", origin)]).await
}

/// Nothing a client sees may hold the proxy's password or username.
fn no_credentials(text: &str) {
    assert!(!text.contains(PASSWORD), "the password leaked: {text}");
    assert!(!text.contains("alice"), "the username leaked: {text}");
    assert!(!text.contains("wr0ng"), "the wrong password leaked: {text}");
}

async fn post(server: &TestServer, path: &str, body: Value) -> support::Reply {
    let reply = server.call("POST", path, Some(&body.to_string())).await;
    no_credentials(&reply.text);
    reply
}

async fn get(server: &TestServer, path: &str) -> Value {
    let reply = server.call("GET", path, None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    no_credentials(&reply.text);
    reply.json
}

/// Loads `http://shop.test/index.html` through the browser's `cdpUrl`: only the proxy knows
/// that name, so an answer of 42 proves the traffic went through it.
async fn load_shop(cdp_url: &str) {
    let mut cdp = RawCdp::connect(&cdp_socket_url(cdp_url).await)
        .await
        .unwrap();
    let tab = cdp.open("http://shop.test/index.html").await;
    let answer = cdp
        .eval(&tab, "document.getElementById('answer').textContent")
        .await;
    assert_eq!(answer, json!("42"));
}

fn megabytes(view: &Value, key: &str) -> f64 {
    view[key].as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_with_a_custom_proxy_reaches_a_name_only_the_proxy_knows() {
    let pages = FixtureServer::start().await;
    let proxy = shop_proxy(&pages).await;
    let server = TestServer::start(|_| {});
    let created = post(
        &server,
        "/api/v3/browsers",
        json!({"customProxy": {"host": "127.0.0.1", "port": proxy.addr().port(),
                               "username": "alice", "password": PASSWORD}}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json["id"].as_str().unwrap().to_string();
    assert_eq!(created.json["proxyCountryCode"], Value::Null);
    // Whatever Chromium fetched on its own since launch went through the proxy too.
    let at_start = megabytes(&created.json, "proxyUsedMb");
    let pid = server.browser_pid(&id);

    load_shop(created.json["cdpUrl"].as_str().unwrap()).await;
    let seen = proxy.requests();
    let page = seen
        .iter()
        .find(|r| r.target == "http://shop.test/index.html")
        .unwrap_or_else(|| panic!("the proxy logged no request for the page: {seen:?}"));
    assert_eq!(page.username.as_deref(), Some("alice"));
    assert!(
        page.authorized,
        "the relay answered with the right password"
    );

    let live = get(&server, &format!("/api/v3/browsers/{id}")).await;
    let used = megabytes(&live, "proxyUsedMb");
    assert!(used > at_start, "proxyUsedMb counts the page: {live}");
    assert_eq!(live["proxyCost"], "0", "no price configured");

    let stopped = server
        .call(
            "PATCH",
            &format!("/api/v3/browsers/{id}"),
            Some(r#"{"action":"stop"}"#),
        )
        .await;
    assert_eq!(stopped.status, 200, "{}", stopped.text);
    assert!(wait_gone(pid, Duration::from_secs(5)).await);
    let kept = get(&server, &format!("/api/v3/browsers/{id}")).await;
    assert_eq!(kept["status"], "stopped");
    assert!(
        megabytes(&kept, "proxyUsedMb") >= used,
        "the figure is kept once the browser stopped: {kept}"
    );
    no_credentials(&get(&server, "/api/v3/browsers").await.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_a_clear_error_with_nothing_created() {
    let pages = FixtureServer::start().await;
    let proxy = shop_proxy(&pages).await;
    let port = proxy.addr().port();
    let server = TestServer::start(|c| {
        c.proxies.table.insert(
            "fr".into(),
            browser::proxy::UpstreamProxy::parse(&format!("http://alice:wr0ng@127.0.0.1:{port}"))
                .unwrap(),
        );
    });

    let refused = post(
        &server,
        "/api/v3/browsers",
        json!({"customProxy": {"host": "127.0.0.1", "port": port,
                               "username": "alice", "password": "wr0ng"}}),
    )
    .await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    let detail = refused.json["detail"].as_str().unwrap();
    assert!(detail.contains("refused the credentials"), "{detail}");
    assert!(detail.contains(&format!("127.0.0.1:{port}")), "{detail}");
    assert!(detail.contains("407"), "the proxy's own answer: {detail}");

    let unreachable = post(
        &server,
        "/api/v3/browsers",
        json!({"customProxy": {"host": "127.0.0.1", "port": 1, "username": "alice",
                               "password": PASSWORD}}),
    )
    .await;
    assert_eq!(unreachable.status, 400, "{}", unreachable.text);
    assert!(
        unreachable.json["detail"]
            .as_str()
            .unwrap()
            .contains("cannot be reached")
    );

    // The operator's proxy refusing is the server's problem, not the client's.
    let table = post(
        &server,
        "/api/v3/sessions",
        json!({"proxyCountryCode": "fr"}),
    )
    .await;
    assert_eq!(table.status, 502, "{}", table.text);
    assert!(
        table.json["detail"]
            .as_str()
            .unwrap()
            .contains("refused the credentials")
    );

    let invalid = post(
        &server,
        "/api/v3/browsers",
        json!({"customProxy": {"host": "127.0.0.1", "port": 70000, "password": 123}}),
    )
    .await;
    assert_eq!(invalid.status, 422, "{}", invalid.text);
    assert!(!invalid.text.contains("123"), "{}", invalid.text);

    assert_eq!(get(&server, "/api/v3/browsers").await["totalItems"], 0);
    assert_eq!(get(&server, "/api/v3/sessions").await["total"], 0);
    assert_eq!(server.sessions.owners().active_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_country_code_uses_the_operators_table_or_goes_direct() {
    let pages = FixtureServer::start().await;
    let proxy = shop_proxy(&pages).await;
    let port = proxy.addr().port();
    let server = TestServer::start(|c| {
        c.proxies.table.insert(
            "us".into(),
            browser::proxy::UpstreamProxy::parse(&format!(
                "http://alice:{PASSWORD}@127.0.0.1:{port}"
            ))
            .unwrap(),
        );
        // Big enough that one page costs something visible.
        c.proxies.price_per_gb_usd = 1000.0;
    });

    let session = post(
        &server,
        "/api/v3/sessions",
        json!({"proxyCountryCode": "US"}),
    )
    .await;
    assert_eq!(session.status, 200, "{}", session.text);
    let session = session.json;
    assert_eq!(session["proxyCountryCode"], "us");
    let sid = session["id"].as_str().unwrap().to_string();
    load_shop(session["cdpUrl"].as_str().unwrap()).await;
    assert!(
        proxy
            .requests()
            .iter()
            .any(|r| r.target == "http://shop.test/index.html" && r.authorized)
    );
    let now = get(&server, &format!("/api/v3/sessions/{sid}")).await;
    assert!(megabytes(&now, "proxyUsedMb") > 0.0, "{now}");
    let cost: f64 = now["proxyCostUsd"].as_str().unwrap().parse().unwrap();
    assert!(cost > 0.0, "{now}");
    let total: f64 = now["totalCostUsd"].as_str().unwrap().parse().unwrap();
    assert!(
        (total - cost).abs() < 1e-6,
        "the total includes the proxy: {now}"
    );
    let as_browser = get(&server, &format!("/api/v3/browsers/{sid}")).await;
    assert!(megabytes(&as_browser, "proxyUsedMb") > 0.0, "{as_browser}");

    let direct = post(
        &server,
        "/api/v3/sessions",
        json!({"proxyCountryCode": "de"}),
    )
    .await;
    assert_eq!(direct.status, 200, "{}", direct.text);
    assert_eq!(
        direct.json["proxyCountryCode"],
        Value::Null,
        "no entry for de: no proxy, and the record does not claim one"
    );

    let browser = post(
        &server,
        "/api/v3/browsers",
        json!({"proxyCountryCode": "us"}),
    )
    .await;
    assert_eq!(browser.status, 201, "{}", browser.text);
    assert_eq!(browser.json["proxyCountryCode"], "us");
    load_shop(browser.json["cdpUrl"].as_str().unwrap()).await;
    let direct = post(
        &server,
        "/api/v3/browsers",
        json!({"proxyCountryCode": "de"}),
    )
    .await;
    assert_eq!(direct.status, 201, "{}", direct.text);
    assert_eq!(direct.json["proxyCountryCode"], Value::Null);

    // A direct browser cannot reach shop.test.
    let mut cdp = RawCdp::connect(&cdp_socket_url(direct.json["cdpUrl"].as_str().unwrap()).await)
        .await
        .unwrap();
    let created = cdp
        .call(
            "Target.createTarget",
            json!({"url": "http://shop.test/index.html"}),
            None,
        )
        .await
        .unwrap();
    let target = created["result"]["targetId"].as_str().unwrap().to_string();
    let attached = cdp
        .call(
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
            None,
        )
        .await
        .unwrap();
    let tab = attached["result"]["sessionId"]
        .as_str()
        .unwrap()
        .to_string();
    let start = std::time::Instant::now();
    loop {
        let state = cdp
            .eval(
                &tab,
                "[document.readyState, document.getElementById('answer') === null]",
            )
            .await;
        if state == json!(["complete", true]) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{state}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
