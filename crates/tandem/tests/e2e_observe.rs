//! `tandem observe` as a process: the state text, `--json`, `--repeat`, and a browser that
//! is always stopped (on success, on a failed load, on Ctrl-C).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use testkit::{FixtureServer, wait_group_gone};
use tokio::process::Command;

/// A Chromium wrapper that records the browser's pid (its process group id: the browser is
/// launched as a group leader, and `exec` keeps the pid), so a test can check that the group
/// is gone after `tandem` exits.
struct RecordingChromium {
    dir: tempfile::TempDir,
}

impl RecordingChromium {
    fn new() -> RecordingChromium {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = dir.path().join("chromium");
        let pid_file = dir.path().join("pid");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho $$ > '{}'\nexec {} \"$@\"\n",
                pid_file.display(),
                browser::DEFAULT_EXECUTABLE
            ),
        )
        .expect("write the wrapper");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
            .expect("make the wrapper executable");
        // As root, Tandem runs Chromium (so this wrapper) as its unprivileged browser user:
        // the wrapper must be reachable and its pid file writable for that user.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
            .expect("open the wrapper's folder to the browser's user");
        RecordingChromium { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("chromium")
    }

    /// Asserts that the browser ran and left no process behind.
    async fn assert_stopped(&self) {
        let pid: u32 = std::fs::read_to_string(self.dir.path().join("pid"))
            .expect("the browser was launched")
            .trim()
            .parse()
            .expect("a pid");
        let left = wait_group_gone(pid, Duration::from_secs(5)).await;
        assert!(left.is_empty(), "Chromium processes left behind: {left:?}");
    }
}

fn tandem(chromium: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tandem"));
    command
        .arg("observe")
        .args(args)
        .arg("--chromium")
        .arg(chromium)
        .env("RUST_LOG", "warn")
        .env_remove("TANDEM_CHROMIUM")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

async fn run(chromium: &Path, args: &[&str]) -> Output {
    tokio::time::timeout(Duration::from_secs(60), tandem(chromium, args).output())
        .await
        .expect("tandem observe finishes within a minute")
        .expect("tandem runs")
}

#[tokio::test]
async fn prints_the_state_text_and_stops_the_browser() {
    let pages = FixtureServer::start().await;
    let chromium = RecordingChromium::new();
    let url = pages.url("/perception/form.html");
    let output = run(&chromium.path(), &[&url]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout.starts_with(&format!("url: {url}\n")), "{stdout}");
    let search = stdout
        .lines()
        .find(|l| l.contains("searchbox \"Search products\""))
        .unwrap_or_else(|| panic!("no search box line in\n{stdout}"));
    assert!(search.starts_with('['), "{search}");
    assert!(search.contains("value=\"desk lamp\""), "{search}");
    assert!(stdout.contains("Total: $24.99 incl. VAT"), "{stdout}");
    chromium.assert_stopped().await;
}

#[tokio::test]
async fn json_has_index_role_name_and_bounds() {
    let pages = FixtureServer::start().await;
    let chromium = RecordingChromium::new();
    let url = pages.url("/perception/widgets.html");
    let output = run(&chromium.path(), &[&url, "--json"]).await;
    assert!(output.status.success(), "{output:?}");
    let state: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    let elements = state["elements"].as_array().expect("elements");
    let shadow = elements
        .iter()
        .find(|e| e["name"] == "Shadow button")
        .unwrap_or_else(|| panic!("no shadow button in {state}"));
    assert_eq!(shadow["role"], "button");
    assert!(shadow["index"].as_u64().is_some_and(|i| i > 0), "{shadow}");
    let bounds = &shadow["bounds"];
    assert!(bounds["width"].as_f64().unwrap() > 0.0, "{bounds}");
    assert!(bounds["height"].as_f64().unwrap() > 0.0, "{bounds}");
    assert!(bounds["x"].as_f64().is_some() && bounds["y"].as_f64().is_some());
    chromium.assert_stopped().await;
}

#[tokio::test]
async fn repeat_reports_the_median_last_on_stderr() {
    let pages = FixtureServer::start().await;
    let chromium = RecordingChromium::new();
    let url = pages.url("/perception/long.html");
    let output = run(&chromium.path(), &[&url, "--repeat", "3"]).await;
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    let median = last
        .strip_prefix("observe: median ")
        .and_then(|rest| rest.strip_suffix(" ms over 3 runs"))
        .unwrap_or_else(|| panic!("unexpected last stderr line {last:?}"));
    let median: f64 = median.parse().expect("a number of milliseconds");
    assert!(median > 0.0 && median < 10_000.0, "{median}");
    // The state is still printed once.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.matches("url: ").count(), 1, "{stdout}");
    chromium.assert_stopped().await;
}

#[tokio::test]
async fn a_page_that_cannot_load_fails_cleanly() {
    let chromium = RecordingChromium::new();
    // A port nobody listens on: bind one and drop it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("http://127.0.0.1:{port}/nothing.html");
    let output = run(&chromium.path(), &[&url]).await;
    assert!(!output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot load"), "{stderr}");
    chromium.assert_stopped().await;
}

#[tokio::test]
async fn ctrl_c_stops_the_browser() {
    let pages = FixtureServer::start().await;
    let chromium = RecordingChromium::new();
    let url = pages.url("/perception/form.html");
    let mut child = tandem(&chromium.path(), &[&url, "--repeat", "1000000"])
        .spawn()
        .expect("tandem runs");
    // Ctrl-C as soon as the browser is being launched: tandem listens before it launches, so
    // the signal stops the browser whether it lands during the launch or the observation.
    let pid_file = chromium.dir.path().join("pid");
    tokio::time::timeout(Duration::from_secs(60), async {
        while !pid_file.exists() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("tandem launches Chromium");
    let pid = child.id().expect("still running");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("send SIGINT");
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("tandem exits after Ctrl-C")
        .expect("wait");
    assert!(
        !status.success(),
        "an interrupted observation is not a success"
    );
    chromium.assert_stopped().await;
}
