//! Storage faults lose nothing (issue 15.1), against real Chromium and a real server:
//! - SQLite on a 5 MB tmpfs: a task, then the disk filled; creates, a profile create, a task
//!   and a stop while it is full; the disk freed; six creates; a restart. Every write answered
//!   2xx is there after the restart, none answered 500, and the reads stayed stable.
//! - PostgreSQL stopped mid-run (`pg_ctl stop -m immediate`): the API answers 503 with
//!   `Retry-After`; once the database is back the same server works, without a restart.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use support::{Reply, TestServer, config, task_model, use_model};
use testkit::postgres::PgCluster;

const LONG: Duration = Duration::from_secs(30);

/// A tmpfs of `size` mounted on a fresh directory, unmounted (lazily, so a straggling file
/// handle cannot keep it) and removed on drop. The test runs as root (CI does): mounting is
/// the real condition, so failing to mount fails the test.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "cannot mount a tmpfs (this test needs root, as CI has): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the file system holding `dir` with one file until the disk says it is full; the
/// file is the space to free later.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    loop {
        match file.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(28) => break,
            Err(e) => panic!("filling the disk: {e}"),
        }
    }
    let _ = file.sync_all();
    path
}

/// Every answer of the run: none may be a 500, and a storage failure is a 507 or 503 with
/// `Retry-After` and a `detail` saying what happened.
#[derive(Default)]
struct Ledger {
    seen: Vec<(String, u16)>,
}

impl Ledger {
    fn note(&mut self, what: &str, reply: &Reply) {
        self.seen.push((what.to_string(), reply.status));
        assert!(
            reply.status < 500 || matches!(reply.status, 503 | 507),
            "{what}: {} {}",
            reply.status,
            reply.text
        );
        if matches!(reply.status, 503 | 507) {
            assert!(
                reply.headers.get("retry-after").is_some(),
                "{what}: {} without Retry-After",
                reply.status
            );
            let detail = reply.json["detail"].as_str().unwrap_or_default();
            assert!(
                detail.contains("nothing was saved"),
                "{what}: unclear detail {detail:?}"
            );
        }
    }

    fn print(&self) {
        for (what, status) in &self.seen {
            eprintln!("{status} {what}");
        }
    }

    fn failures(&self) -> usize {
        self.seen.iter().filter(|(_, s)| *s >= 500).count()
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn total(server: &TestServer, ledger: &mut Ledger) -> u64 {
    let reply = server
        .call("GET", "/api/v3/sessions?page_size=100", None)
        .await;
    ledger.note("list sessions", &reply);
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json["total"].as_u64().unwrap()
}

#[tokio::test]
async fn a_full_disk_loses_no_acknowledged_write() {
    let disk = Tmpfs::mount("5m");
    let data = disk.path().join("data");
    let llm = task_model().await;
    let mut cfg = config(data.clone());
    cfg.max_sessions = 12;
    use_model(&mut cfg, &llm);
    let server = TestServer::start_configured(cfg.clone());
    let mut ledger = Ledger::default();
    let mut sessions: Vec<String> = Vec::new();
    let mut profiles: Vec<String> = Vec::new();

    // A task, as before the disk fills.
    let first = server
        .create(json!({"task": "steps:1", "keepAlive": true}))
        .await;
    let first_id = id(&first);
    sessions.push(first_id.clone());
    let done = server.wait_status(&first_id, &["idle"], LONG).await;
    assert_eq!(done["output"], "steps:1 done");

    // The disk fills.
    let filler = fill(disk.path());
    let before = total(&server, &mut ledger).await;

    for n in 0..3 {
        let reply = server.call("POST", "/api/v3/sessions", Some("{}")).await;
        ledger.note(&format!("create {n} on a full disk"), &reply);
        if reply.status == 200 {
            sessions.push(id(&reply.json));
        }
    }
    let reply = server
        .call("POST", "/api/v3/profiles", Some(r#"{"name": "full disk"}"#))
        .await;
    ledger.note("profile create on a full disk", &reply);
    if reply.status == 201 {
        profiles.push(id(&reply.json));
    }
    let task = json!({"task": "steps:0", "sessionId": first_id}).to_string();
    let reply = server.call("POST", "/api/v3/sessions", Some(&task)).await;
    ledger.note("task on a full disk", &reply);
    if reply.status == 200 {
        server.wait_status(&first_id, &["idle"], LONG).await;
    }
    // Reads stay stable: the same total and the same session, again and again.
    let full_total = total(&server, &mut ledger).await;
    assert_eq!(
        full_total,
        before + (sessions.len() as u64 - 1),
        "total counts exactly the acknowledged creates"
    );
    for _ in 0..5 {
        assert_eq!(total(&server, &mut ledger).await, full_total);
        assert_eq!(server.session(&first_id).await["id"], first_id.as_str());
    }
    let stop = server
        .call("POST", &format!("/api/v3/sessions/{first_id}/stop"), None)
        .await;
    ledger.note("stop on a full disk", &stop);
    let after_stop = server.session(&first_id).await;
    if stop.status == 200 {
        assert_eq!(after_stop["status"], "stopped");
    } else {
        // Not persisted: the session is still as it was, browser and all.
        assert_eq!(after_stop["status"], "idle", "{after_stop}");
        assert!(after_stop["liveUrl"].is_string(), "{after_stop}");
    }
    ledger.print();
    assert!(
        ledger.failures() > 0,
        "the full disk refused nothing: the test did not test anything"
    );

    // The disk frees; the same server works again.
    std::fs::remove_file(filler).unwrap();
    if stop.status != 200 {
        let stop = server
            .call("POST", &format!("/api/v3/sessions/{first_id}/stop"), None)
            .await;
        ledger.note("stop after the disk freed", &stop);
        assert_eq!(stop.status, 200, "{}", stop.text);
        assert_eq!(stop.json["status"], "stopped");
    }
    for n in 0..6 {
        let reply = server.call("POST", "/api/v3/sessions", Some("{}")).await;
        ledger.note(&format!("create {n} after the disk freed"), &reply);
        assert_eq!(reply.status, 200, "{}", reply.text);
        let created = id(&reply.json);
        let stop = server
            .call("POST", &format!("/api/v3/sessions/{created}/stop"), None)
            .await;
        ledger.note("stop after the disk freed", &stop);
        assert_eq!(stop.status, 200, "{}", stop.text);
        sessions.push(created);
    }
    let reply = server
        .call("POST", "/api/v3/profiles", Some(r#"{"name": "after"}"#))
        .await;
    ledger.note("profile create after the disk freed", &reply);
    assert_eq!(reply.status, 201, "{}", reply.text);
    profiles.push(id(&reply.json));
    server.stop();

    // A restart: every acknowledged write is there.
    let server = TestServer::start_configured(cfg);
    for session in &sessions {
        let got = server.session(session).await;
        assert_eq!(got["status"], "stopped", "{got}");
    }
    assert_eq!(total(&server, &mut ledger).await, sessions.len() as u64);
    for profile in &profiles {
        let reply = server
            .call("GET", &format!("/api/v3/profiles/{profile}"), None)
            .await;
        ledger.note("profile after restart", &reply);
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    server.stop();
    drop(llm);
}

#[tokio::test]
async fn postgres_lost_mid_run_answers_503_then_recovers_without_restart() {
    let cluster = PgCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path().to_path_buf());
    cfg.database_url = Some(cluster.create_database());
    let server = TestServer::start_with(cfg, std::sync::Arc::new(agent::NoAgent));
    let mut ledger = Ledger::default();

    let first = server.create(json!({})).await;
    let first_id = id(&first);
    server.wait_status(&first_id, &["idle"], LONG).await;

    cluster.stop_immediate();
    let reply = server.call("GET", "/api/v3/sessions", None).await;
    ledger.note("list while the database is down", &reply);
    assert_eq!(reply.status, 503, "{}", reply.text);
    let reply = server.call("POST", "/api/v3/sessions", Some("{}")).await;
    ledger.note("create while the database is down", &reply);
    assert_eq!(reply.status, 503, "{}", reply.text);
    let reply = server
        .call("POST", &format!("/api/v3/sessions/{first_id}/stop"), None)
        .await;
    ledger.note("stop while the database is down", &reply);
    assert_eq!(reply.status, 503, "{}", reply.text);
    // Not persisted, so not done: the session and its browser are still up.
    let pid = server.browser_pid(&first_id);
    assert!(!support::process_gone(pid));

    cluster.resume();
    let got = server.session(&first_id).await;
    assert_eq!(got["status"], "idle", "{got}");
    let second = server.create(json!({})).await;
    let stop = server
        .call("POST", &format!("/api/v3/sessions/{first_id}/stop"), None)
        .await;
    ledger.note("stop once the database is back", &stop);
    assert_eq!(stop.status, 200, "{}", stop.text);
    let listed = server.call("GET", "/api/v3/sessions", None).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json["total"], 2);
    assert_eq!(server.session(&id(&second)).await["status"], "idle");
    server.stop();
}
