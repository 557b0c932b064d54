//! Test support shared by every end-to-end test: the fixture pages, served on 127.0.0.1, and
//! checks that a test left no Chromium behind.
//!
//! Kept in one place so that tests do not each grow their own copy of a page server.
// Test support: a fixture that cannot start should fail the test loudly, so unwrap/expect are fine here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod llm;
pub mod postgres;
pub mod proxy;

pub use llm::{Protocol, RecordedRequest, Reply, ScriptedLlm};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// A web server for the pages in `crates/testkit/pages`, on a free port of 127.0.0.1.
///
/// Pages are read from disk on every request, so editing a fixture needs no rebuild. The
/// server stops when the value is dropped.
pub struct FixtureServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl FixtureServer {
    /// Starts the server. Panics if 127.0.0.1 has no free port, which only a broken test
    /// machine can cause.
    pub async fn start() -> FixtureServer {
        let app = Router::new()
            .route("/", get(|| async { page("index.html").await }))
            .route(
                "/{*path}",
                get(|UrlPath(path): UrlPath<String>| page_owned(path)),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0 for the fixture server");
        let addr = listener.local_addr().expect("fixture server address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FixtureServer { addr, task }
    }

    /// The absolute URL of a fixture path, e.g. `url("/click.html")`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for FixtureServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn page_owned(path: String) -> Response {
    page(&path).await
}

async fn page(path: &str) -> Response {
    if path.split('/').any(|part| part == "..") {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let file = pages_dir().join(path);
    match tokio::fs::read(&file).await {
        Ok(body) => ([(header::CONTENT_TYPE, content_type(&file))], body).into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "no such fixture").into_response(),
    }
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// Where the fixture pages live.
pub fn pages_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("pages")
}

/// The processes in a process group, zombies included.
///
/// A browser is launched as the leader of its own group, so after a clean stop this must be
/// empty: any survivor is a leaked Chromium, and a zombie is one nobody reaped.
pub fn live_processes_in_group(pgid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the parenthesised command name: state, ppid, pgrp, ...
        let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[2] == pgid.to_string() {
            found.push(pid);
        }
    }
    found
}

/// Waits up to `timeout` for a process group to be empty; returns the survivors if not.
pub async fn wait_group_gone(pgid: u32, timeout: std::time::Duration) -> Vec<u32> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let left = live_processes_in_group(pgid);
        if left.is_empty() || tokio::time::Instant::now() >= deadline {
            return left;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
