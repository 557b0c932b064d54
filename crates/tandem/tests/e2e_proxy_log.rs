//! Proxy credentials never reach the server's log: `tandem serve` with a `[proxies]` table and
//! `RUST_LOG=debug`, sessions and browsers created through good and refused proxies, and its
//! whole stderr searched for the usernames and passwords (plain and Base64).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testkit::proxy::TestProxy;

const TABLE_PASSWORD: &str = "t4ble-pw";
const CUSTOM_PASSWORD: &str = "cust0m-pw";

async fn post(base: &str, path: &str, body: Value) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("X-Browser-Use-API-Key", "tk_log_test")
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn no_proxy_credential_reaches_the_log() {
    let proxy = TestProxy::start("alice", TABLE_PASSWORD, &[]).await;
    let port = proxy.addr().port();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tandem.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\napi_key = \"tk_log_test\"\npool_size = 0\n\
             data_dir = \"{}\"\n[proxies]\nus = \"http://alice:{TABLE_PASSWORD}@127.0.0.1:{port}\"\n\
             fr = \"socks5://bob:{CUSTOM_PASSWORD}@127.0.0.1:{port}\"\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let log = dir.path().join("stderr.log");
    let mut command = Command::new(env!("CARGO_BIN_EXE_tandem"));
    command
        .args(["serve", "--config", config.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap());
    for (name, _) in std::env::vars() {
        if name.starts_with("TANDEM_") {
            command.env_remove(name);
        }
    }
    command.env("RUST_LOG", "debug");
    let mut child = command.spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    let base = loop {
        assert!(Instant::now() < deadline, "no listening line");
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "tandem exited early"
        );
        if let Some(url) = line.trim_end().strip_prefix("tandem: listening on ") {
            break url.to_string();
        }
    };

    let (status, body) = post(&base, "/api/v3/sessions", json!({"proxyCountryCode": "us"})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(&base, "/api/v3/sessions", json!({"proxyCountryCode": "fr"})).await;
    assert_eq!(status, 502, "the SOCKS5 entry's user is refused: {body}");
    let (status, body) = post(
        &base,
        "/api/v3/browsers",
        json!({"customProxy": {"host": "127.0.0.1", "port": port, "username": "carol",
                               "password": CUSTOM_PASSWORD}}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = post(
        &base,
        "/api/v3/browsers",
        json!({"customProxy": {"host": "127.0.0.1", "port": port, "username": "alice",
                               "password": TABLE_PASSWORD}}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(
        proxy.requests().iter().filter(|r| r.authorized).count() >= 2,
        "{:?}",
        proxy.requests()
    );

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(child.wait().unwrap().success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("proxy"),
        "the log does speak of the proxies: {text}"
    );
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for secret in [
        TABLE_PASSWORD.to_string(),
        CUSTOM_PASSWORD.to_string(),
        b64(&format!("alice:{TABLE_PASSWORD}")),
        b64(&format!("carol:{CUSTOM_PASSWORD}")),
    ] {
        assert!(!text.contains(&secret), "{secret} is in the log:\n{text}");
    }
}
