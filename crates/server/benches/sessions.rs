//! Prints the latency of `POST /sessions {}` with a warm pool (p50/p99) and the rate of
//! `GET /sessions/{id}` (the call every SDK `run()` makes every 2 s), against a real server
//! with real Chromium on a loopback port.
//!
//! Run: `cargo bench -p server --bench sessions` (release build), or add `--profile dev` to
//! skip the release compile; env `BENCH_CREATES` sets the number of creates (default 20).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use server::{Config, Server};

const KEY: &str = "tk_bench";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let creates: usize = std::env::var("BENCH_CREATES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        listen: "127.0.0.1:0".parse().expect("address"),
        data_dir: dir.path().to_path_buf(),
        api_key: Some(KEY.into()),
        pool_size: 2,
        max_sessions: 1000,
        ..Config::default()
    };
    let server = Server::bind(config).await.expect("server starts");
    let base = format!("http://{}", server.local_addr());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run(async {
        let _ = stop_rx.await;
    }));
    let client = reqwest::Client::new();
    // Let the pool fill.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let mut latencies = Vec::with_capacity(creates);
    for _ in 0..creates {
        let start = Instant::now();
        let response = client
            .post(format!("{base}/api/v3/sessions"))
            .header("X-Browser-Use-API-Key", KEY)
            .json(&serde_json::json!({}))
            .send()
            .await
            .expect("create");
        let session: serde_json::Value = response.json().await.expect("json");
        latencies.push(start.elapsed().as_secs_f64() * 1000.0);
        let id = session["id"].as_str().expect("id").to_string();
        client
            .post(format!("{base}/api/v3/sessions/{id}/stop"))
            .header("X-Browser-Use-API-Key", KEY)
            .send()
            .await
            .expect("stop");
        // One warm launch at a time refills the pool; give it time so every create is warm.
        tokio::time::sleep(Duration::from_millis(1200)).await;
    }
    latencies.sort_by(f64::total_cmp);
    println!(
        "POST /sessions {{}} warm pool: n={} p50={:.1} ms p99={:.1} ms max={:.1} ms (goal p50 <= 20 ms)",
        latencies.len(),
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(0.0)
    );

    let session: serde_json::Value = client
        .post(format!("{base}/api/v3/sessions"))
        .header("X-Browser-Use-API-Key", KEY)
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let url = format!(
        "{base}/api/v3/sessions/{}",
        session["id"].as_str().expect("id")
    );
    let count = Arc::new(AtomicU64::new(0));
    let window = Duration::from_secs(5);
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..8 {
        let client = client.clone();
        let url = url.clone();
        let count = count.clone();
        workers.push(tokio::spawn(async move {
            while start.elapsed() < window {
                let ok = client
                    .get(&url)
                    .header("X-Browser-Use-API-Key", KEY)
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false);
                if ok {
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for worker in workers {
        let _ = worker.await;
    }
    let rate = count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    println!(
        "GET /sessions/{{id}}: {rate:.0} requests/s with 8 concurrent clients (an SDK run() polls every 2 s)"
    );

    let _ = stop_tx.send(());
    let _ = serving.await;
}
