//! Issue 12 against real Chromium: the browser layer refuses local addresses, and Chromium
//! itself does too (Tandem's managed policy in the browser's own mount namespace), whatever
//! CDP command asks; the hidden directory cannot be read from inside the browser; the browser's
//! environment holds nothing of the server's; and a browser launched from a thread that then
//! exits lives on (its parent-death signal follows the server, not the launching thread).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

use std::time::Duration;

use browser::{Browser, BrowserError, LaunchOptions};
use serde_json::{Value, json};
use testkit::{FixtureServer, wait_group_gone};

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[tokio::test]
async fn local_addresses_are_refused_by_tandem_and_by_chromium() {
    let site = FixtureServer::start().await;
    let data = tempfile::tempdir().unwrap();
    let secret = data.path().join("secret");
    std::fs::write(&secret, "the-signing-key").unwrap();
    std::fs::create_dir(data.path().join("downloads")).unwrap();
    let options = LaunchOptions {
        hidden_dirs: vec![data.path().to_path_buf()],
        shared_dirs: vec![data.path().join("downloads")],
        ..LaunchOptions::default()
    };
    // Its environment holds nothing of ours.
    let browser = Browser::launch(&options).await.unwrap();
    let environ = std::fs::read(format!("/proc/{}/environ", browser.pid())).unwrap();
    let names: Vec<String> = environ
        .split(|b| *b == 0)
        .filter_map(|e| {
            std::str::from_utf8(e)
                .ok()?
                .split_once('=')
                .map(|(k, _)| k.to_string())
        })
        .collect();
    for name in &names {
        assert!(
            ["PATH", "HOME", "TMPDIR", "LANG", "TANDEM_BROWSER"].contains(&name.as_str())
                || name.starts_with("LC_")
                || name == "TZ"
                || name.to_ascii_lowercase().ends_with("_proxy")
                || name.starts_with("FONTCONFIG")
                || name == "LANGUAGE",
            "Chromium inherited {name}"
        );
    }

    let tab = browser.active_tab().unwrap();
    let page = browser.page(&tab.id).await.unwrap();
    let file_url = format!("file://{}", secret.display());
    // Tandem's own check, before any CDP command.
    for url in [
        file_url.as_str(),
        "file:///etc/passwd",
        "chrome://version",
        "view-source:https://a",
    ] {
        match page.navigate(url).await {
            Err(BrowserError::Refused { .. }) => {}
            other => panic!("{url}: {other:?}"),
        }
        assert!(matches!(
            browser.new_tab(url).await,
            Err(BrowserError::Refused { .. })
        ));
    }
    page.navigate(&site.url("/")).await.unwrap();

    if !is_root() {
        eprintln!("not root: Chromium runs without Tandem's mount namespace; skipping its checks");
        browser.stop().await;
        return;
    }
    // Chromium's own policy: a raw `Page.navigate`, which no Tandem check sees, is refused by
    // the browser (Chromium itself would open both).
    for url in [file_url.as_str(), "file:///etc/passwd"] {
        let answer: Value = page
            .session()
            .send("Page.navigate", json!({ "url": url }))
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}; {:?}", browser.exited().borrow().clone()));
        assert_eq!(
            answer["errorText"], "net::ERR_BLOCKED_BY_ADMINISTRATOR",
            "{url}: {answer}"
        );
    }
    // A new tab straight to a local file, by raw CDP: Chromium shows its error page ("This
    // page is blocked").
    let created: Value = browser
        .cdp()
        .send(
            "Target.createTarget",
            json!({ "url": "file:///etc/passwd" }),
        )
        .await
        .unwrap();
    let target = created["targetId"].as_str().unwrap().to_string();
    browser.refresh_tabs().await.unwrap();
    let other = browser.page(&target).await.unwrap();
    let mut text = Value::Null;
    for _ in 0..100 {
        text = other
            .evaluate("document.documentElement.innerText")
            .await
            .unwrap_or(Value::Null);
        if text.as_str().is_some_and(|t| t.contains("is blocked")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!text.to_string().contains("root:x:0:0"), "{text}");
    assert!(text.to_string().contains("is blocked"), "{text}");

    // The hidden directory, seen from inside the browser's mount namespace: only the shared
    // folder is there; the secret is not.
    let root = format!("/proc/{}/root{}", browser.pid(), data.path().display());
    let mut inside: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    inside.sort();
    assert_eq!(inside, ["downloads"]);
    assert!(std::fs::read(format!("{root}/secret")).is_err());
    // The shared folder is the real one, both ways.
    std::fs::write(data.path().join("downloads/from-server"), "x").unwrap();
    assert!(std::fs::metadata(format!("{root}/downloads/from-server")).is_ok());
    // The host's /etc/chromium is untouched.
    assert!(!std::path::Path::new("/etc/chromium/policies/managed/tandem.json").exists());

    let pgid = browser.pid();
    browser.stop().await;
    assert!(
        wait_group_gone(pgid, Duration::from_secs(5))
            .await
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_outlives_the_thread_that_launched_it() {
    // Launched from a thread that ends at once: a parent-death signal tied to that thread
    // would kill Chromium with it.
    let handle = tokio::runtime::Handle::current();
    let browser =
        std::thread::spawn(move || handle.block_on(Browser::launch(&LaunchOptions::default())))
            .join()
            .unwrap()
            .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(browser.is_running());
    let tab = browser.active_tab().unwrap();
    let page = browser.page(&tab.id).await.unwrap();
    assert_eq!(page.evaluate("1 + 1").await.unwrap(), json!(2));
    let pgid = browser.pid();
    browser.stop().await;
    assert!(
        wait_group_gone(pgid, Duration::from_secs(5))
            .await
            .is_empty()
    );
}

/// The ids on a `/proc/<pid>/status` line (`Uid:` or `Gid:`): real, effective, saved, fs.
fn status_ids(pid: u32, field: &str) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .unwrap()
        .split_whitespace()
        .map(|id| id.parse().unwrap())
        .collect()
}

/// The processes of a browser's process group (the browser, its zygotes, renderers, helpers).
fn group_members(pgid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    let (_, rest) = s.rsplit_once(')')?;
                    rest.split_whitespace().nth(2)?.parse::<u32>().ok()
                })
                == Some(pgid)
        })
        .collect()
}

#[tokio::test]
async fn as_root_chromium_runs_as_an_unprivileged_user_with_its_sandbox_on() {
    if !is_root() {
        eprintln!("not root: Chromium runs as Tandem's own user; nothing to check");
        return;
    }
    let user = nix::unistd::User::from_name(browser::USER_NAME)
        .unwrap()
        .expect("scripts/install-deps.sh creates the browser user");
    let site = FixtureServer::start().await;
    let browser = Browser::launch(&LaunchOptions::default()).await.unwrap();
    let tab = browser.active_tab().unwrap();
    let page = browser.page(&tab.id).await.unwrap();
    page.navigate(&site.url("/")).await.unwrap();

    let pid = browser.pid();
    assert_eq!(status_ids(pid, "Uid:"), [user.uid.as_raw(); 4]);
    assert_eq!(status_ids(pid, "Gid:"), [user.gid.as_raw(); 4]);
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    assert!(
        !args.iter().any(|a| *a == b"--no-sandbox"),
        "{}",
        String::from_utf8_lossy(&cmdline)
    );
    // No process of the browser is root, and its renderer is sandboxed (seccomp-bpf filter).
    let members = group_members(pid);
    assert!(members.len() > 1, "{members:?}");
    let mut filtered = 0;
    for member in &members {
        let Ok(status) = std::fs::read_to_string(format!("/proc/{member}/status")) else {
            continue; // exited meanwhile
        };
        assert!(
            !status
                .lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")),
            "process {member} runs as root"
        );
        if status.lines().any(|l| l == "Seccomp:\t2") {
            filtered += 1;
        }
    }
    assert!(filtered > 0, "no sandboxed process among {members:?}");
    // The browser works: a page runs scripts.
    assert_eq!(page.evaluate("1 + 1").await.unwrap(), json!(2));

    browser.stop().await;
    assert!(
        wait_group_gone(pid, Duration::from_secs(5))
            .await
            .is_empty()
    );
}
