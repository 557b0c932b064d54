//! Store latency on SQLite and PostgreSQL: `cargo bench -p store --bench backends` (or
//! `benches/run.sh store`). The same operations through `&dyn Store` on each backend: create a
//! session with its first message, get one, list a page of 20, append a message. SQLite is a
//! file in a temporary directory (WAL, as the server uses it); PostgreSQL a throwaway local
//! cluster (`testkit::postgres`, fsync off as in the tests: this measures the store's own
//! cost and the round trips, not the disk). Prints p50/p99 per operation.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::Instant;

use store::{NewMessage, SessionRecord, Store, Uuid};
use testkit::postgres::PgCluster;

const N: usize = 500;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn message(session_id: Uuid) -> NewMessage {
    NewMessage {
        session_id,
        role: "assistant".into(),
        data: r#"{"content":"Clicked the button"}"#.into(),
        kind: "assistant_message".into(),
        summary: "Clicked the button".into(),
        screenshot_url: None,
        hidden: false,
    }
}

fn report(backend: &str, what: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "{backend:<10} {what:<28} n={:<4} p50={:>6.3} ms  p99={:>6.3} ms",
        ms.len(),
        percentile(&ms, 50.0),
        percentile(&ms, 99.0)
    );
}

async fn run(backend: &str, store: Arc<dyn Store>) {
    let mut ids = Vec::with_capacity(N);
    let mut create = Vec::with_capacity(N);
    for _ in 0..N {
        let s = SessionRecord::new(Uuid::now_v7(), "bu-mini", store::now());
        let m = message(s.id);
        let start = Instant::now();
        store.create_session(&s, Some(&m)).await.unwrap();
        create.push(start.elapsed().as_secs_f64() * 1000.0);
        ids.push(s.id);
    }
    report(backend, "create session + message", create);
    let mut get = Vec::with_capacity(N);
    for id in &ids {
        let start = Instant::now();
        store.session(*id).await.unwrap().unwrap();
        get.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    report(backend, "get session", get);
    let mut list = Vec::with_capacity(N / 5);
    for page in 0..(N / 5) as u64 {
        let start = Instant::now();
        let (rows, total) = store
            .list_sessions((page * 20) % N as u64, 20)
            .await
            .unwrap();
        assert!(!rows.is_empty() && total == N as u64);
        list.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    report(backend, "list 20 of 500 (+ total)", list);
    let mut append = Vec::with_capacity(N);
    for id in &ids {
        let start = Instant::now();
        store.append_message(&message(*id)).await.unwrap();
        append.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    report(backend, "append message", append);
    store.close().await.unwrap();
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/bench.db", dir.path().display());
    run("sqlite", store::open(&url).await.unwrap()).await;
    let cluster = PgCluster::start();
    let url = cluster.create_database();
    run("postgres", store::open(&url).await.unwrap()).await;
}
