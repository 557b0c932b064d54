//! The `tandem` binary end to end: configuration sources, the start-up lines a harness
//! parses, and a SIGTERM that leaves no Chromium behind.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A running `tandem serve`, killed on drop if a test fails before stopping it.
struct Tandem {
    child: Child,
    base: String,
    key: Option<String>,
    lines: Vec<String>,
}

impl Tandem {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Tandem {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tandem"));
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (name, _) in std::env::vars() {
            if name.starts_with("TANDEM_") {
                command.env_remove(name);
            }
        }
        command.env(
            "RUST_LOG",
            std::env::var("TEST_RUST_LOG").unwrap_or_else(|_| "warn".into()),
        );
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("tandem starts");
        let stdout = child.stdout.take().unwrap();
        let mut reader = BufReader::new(stdout);
        let mut lines = Vec::new();
        let mut key = None;
        let deadline = Instant::now() + Duration::from_secs(30);
        let base = loop {
            assert!(Instant::now() < deadline, "no listening line: {lines:?}");
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 {
                let _ = child.kill();
                panic!("tandem exited early: {lines:?}");
            }
            let line = line.trim_end().to_string();
            lines.push(line.clone());
            if let Some(rest) = line.strip_prefix("tandem: API key ") {
                key = rest.split_whitespace().next().map(str::to_string);
            }
            if let Some(url) = line.strip_prefix("tandem: listening on ") {
                break url.to_string();
            }
        };
        Tandem {
            child,
            base,
            key,
            lines,
        }
    }

    /// Sends SIGTERM and waits for a clean exit.
    fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "tandem did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tandem {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.terminate();
        }
    }
}

/// Pids of the direct children of `parent` (the Chromium main processes Tandem launched).
fn children(parent: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the parenthesised command: state, ppid, ...
        let Some(after) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
            continue;
        };
        let ppid: Option<u32> = after.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        if ppid == Some(parent) {
            found.push(pid);
        }
    }
    found
}

async fn post(base: &str, key: &str, path: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("X-Browser-Use-API-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[test]
fn version_is_printed() {
    let output = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text.trim(), format!("tandem {}", env!("CARGO_PKG_VERSION")));
}

#[tokio::test]
async fn generated_key_is_printed_and_sigterm_leaves_no_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut tandem = Tandem::start(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
            "--pool-size",
            "1",
        ],
        &[],
    );
    let key = tandem.key.clone().expect("a generated key is printed");
    assert!(key.starts_with("tk_") && key.len() == 35, "{key}");
    let stored = std::fs::read_to_string(data.join("api_key")).unwrap();
    assert_eq!(stored.trim(), key);
    assert_eq!(
        tandem.lines[0],
        format!(
            "tandem: API key {key} (stored in {})",
            data.join("api_key").display()
        )
    );
    assert!(tandem.base.starts_with("http://127.0.0.1:"));
    assert_ne!(tandem.base, "http://127.0.0.1:0");

    let (status, session) = post(&tandem.base, &key, "/api/v3/sessions", json!({})).await;
    assert_eq!(status, 200, "{session}");
    let (status, _) = post(&tandem.base, "wrong", "/api/v3/sessions", json!({})).await;
    assert_eq!(status, 401);

    // Wait for the pool to refill so that both a session browser and a warm one exist.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut browsers = children(tandem.child.id());
    while browsers.len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        browsers = children(tandem.child.id());
    }
    assert!(!browsers.is_empty(), "tandem launched no Chromium");

    let status = tandem.terminate();
    assert!(status.success(), "exit status {status}");
    for pid in browsers {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "Chromium {pid} survived the shutdown"
        );
    }
}

#[tokio::test]
async fn flags_beat_env_and_env_and_file_configure_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tandem.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:1\"\ndata_dir = \"{}\"\npool_size = 0\nidle_timeout = \"1s\"\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    // The flag beats an invalid environment value, the environment beats the file's listen
    // address, and the file's idle timeout applies.
    let mut tandem = Tandem::start(
        &[
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--max-sessions",
            "3",
        ],
        &[
            ("TANDEM_LISTEN", "127.0.0.1:0"),
            ("TANDEM_MAX_SESSIONS", "not a number"),
            ("TANDEM_API_KEY", "env-key"),
        ],
    );
    assert_eq!(
        tandem.key, None,
        "a key from the environment is not printed"
    );
    let (status, session) = post(&tandem.base, "env-key", "/api/v3/sessions", json!({})).await;
    assert_eq!(status, 200, "{session}");
    let id = session["id"].as_str().unwrap().to_string();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        let current: Value = client
            .get(format!("{}/api/v3/sessions/{id}", tandem.base))
            .header("X-Browser-Use-API-Key", "env-key")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if current["status"] == "timed_out" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "idle timeout from the file not applied"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(dir.path().join("data").join("tandem.db").exists());
    assert!(tandem.terminate().success());
}
