//! `/metrics` against a real server: it takes the API key (in the SDKs' header or as a bearer
//! token, as Prometheus sends it) and its figures follow what the server holds.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{TestServer, open_live};

/// The value of the sample `line_start` (a metric name with its labels) in a scrape.
fn sample(text: &str, line_start: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(line_start)?.strip_prefix(' ')?.parse().ok())
}

/// Scrapes `/metrics` with the key as a bearer token.
async fn scrape(server: &TestServer) -> String {
    let response = reqwest::Client::new()
        .get(format!("{}/metrics", server.base))
        .header("Authorization", format!("Bearer {}", server.key))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "Prometheus' text format"
    );
    response.text().await.unwrap()
}

/// Scrapes until `metric` reads `want`, for up to 5 s; returns the last scrape.
async fn scrape_until(server: &TestServer, metric: &str, want: f64) -> String {
    let start = Instant::now();
    loop {
        let text = scrape(server).await;
        if sample(&text, metric) == Some(want) || start.elapsed() > Duration::from_secs(5) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn metrics_need_the_key_and_follow_sessions_and_viewers() {
    let server = TestServer::start(|c| c.pool_size = 1);

    let bare = server.call_with_key("GET", "/metrics", None, None).await;
    assert_eq!(bare.status, 401);
    assert!(bare.json["detail"].is_string(), "{}", bare.text);
    let wrong = server
        .call_with_key("GET", "/metrics", None, Some("tk_wrong"))
        .await;
    assert_eq!(wrong.status, 401);
    let with_header = server.call("GET", "/metrics", None).await;
    assert_eq!(with_header.status, 200, "the SDKs' header works too");

    let before = scrape(&server).await;
    assert_eq!(sample(&before, "tandem_chromium_running"), Some(0.0));
    assert_eq!(sample(&before, "tandem_pool_size"), Some(1.0));
    assert_eq!(sample(&before, "tandem_live_viewers"), Some(0.0));
    assert_eq!(sample(&before, "tandem_sessions{status=\"idle\"}"), None);

    let session = server.create(json!({})).await;
    let live = scrape(&server).await;
    assert_eq!(sample(&live, "tandem_chromium_running"), Some(1.0));
    assert_eq!(sample(&live, "tandem_sessions{status=\"idle\"}"), Some(1.0));

    let viewer = open_live(session["liveUrl"].as_str().unwrap()).await;
    let watched = scrape_until(&server, "tandem_live_viewers", 1.0).await;
    assert_eq!(sample(&watched, "tandem_live_viewers"), Some(1.0));
    assert_eq!(sample(&watched, "tandem_live_views"), Some(1.0));
    drop(viewer);
    let left = scrape_until(&server, "tandem_live_viewers", 0.0).await;
    assert_eq!(sample(&left, "tandem_live_viewers"), Some(0.0));

    let id = session["id"].as_str().unwrap();
    let stopped = server
        .call("POST", &format!("/api/v3/sessions/{id}/stop"), None)
        .await;
    assert_eq!(stopped.status, 200, "{}", stopped.text);
    let after = scrape(&server).await;
    assert_eq!(sample(&after, "tandem_chromium_running"), Some(0.0));
    assert_eq!(
        sample(&after, "tandem_sessions{status=\"stopped\"}"),
        Some(1.0)
    );
    server.stop();
}
