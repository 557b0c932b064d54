//! The browser layer against real Chromium: lifecycle, pool, tabs, crashes, hung pages.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

use std::time::Duration;

use browser::{Browser, LaunchOptions, Pool, PoolOptions, TabEvent};
use cdp::CdpError;
use serde_json::json;
use testkit::{FixtureServer, live_processes_in_group, wait_group_gone};

#[tokio::test]
async fn stop_leaves_no_process_and_no_profile_directory() {
    let browser = Browser::launch(&LaunchOptions::default()).await.unwrap();
    let pid = browser.pid();
    let profile = browser.profile_dir().to_path_buf();
    assert!(
        profile.join("profile").is_dir(),
        "the profile exists while running"
    );
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let tmpdir = format!("TMPDIR={}", profile.join("tmp").display());
    assert!(
        environ.split(|b| *b == 0).any(|e| e == tmpdir.as_bytes()),
        "Chromium's temp files go under the directory that stop deletes"
    );
    assert!(
        std::fs::read_dir(profile.join("tmp")).unwrap().count() > 0,
        "Chromium keeps its process-singleton files in its own temp directory"
    );
    assert!(
        live_processes_in_group(pid).len() > 1,
        "Chromium runs several processes in its group"
    );

    browser.stop().await;

    assert_eq!(
        wait_group_gone(pid, Duration::from_secs(2)).await,
        Vec::<u32>::new()
    );
    assert!(!profile.exists(), "the profile directory is deleted");
    let exit = browser.exited().borrow().clone().expect("exit recorded");
    assert!(!exit.crashed, "a stop is not a crash: {exit:?}");
    // A second stop is harmless.
    browser.stop().await;
}

#[tokio::test]
async fn three_pool_browsers_at_once_each_load_a_page_and_evaluate_js() {
    let pages = FixtureServer::start().await;
    let pool = Pool::start(PoolOptions {
        size: 3,
        ..Default::default()
    });
    pool.wait_ready(3).await;
    let (a, b, c) = tokio::join!(pool.acquire(), pool.acquire(), pool.acquire());
    let browsers = [a.unwrap(), b.unwrap(), c.unwrap()];
    let mut pids: Vec<u32> = browsers.iter().map(Browser::pid).collect();
    pids.dedup();
    assert_eq!(pids.len(), 3, "three distinct browsers");

    let url = pages.url("/index.html");
    let results = futures_util::future::join_all(browsers.iter().map(|browser| {
        let url = url.clone();
        async move {
            let tab = browser.active_tab().expect("a fresh browser has a tab");
            let page = browser.page(&tab.id).await?;
            page.navigate(&url).await?;
            page.evaluate("document.getElementById('answer').textContent * 2")
                .await
        }
    }))
    .await;
    for result in results {
        assert_eq!(result.unwrap(), json!(84));
    }

    for browser in &browsers {
        browser.stop().await;
    }
    pool.shutdown().await;
    for pid in pids {
        assert!(
            wait_group_gone(pid, Duration::from_secs(2))
                .await
                .is_empty()
        );
    }
}

#[tokio::test]
async fn two_tabs_on_flattened_sessions_each_receive_only_their_own_events() {
    let pages = FixtureServer::start().await;
    let browser = Browser::launch(&LaunchOptions::default()).await.unwrap();
    let first = browser.active_tab().unwrap();
    let second = browser.new_tab("about:blank").await.unwrap();
    let page_a = browser.page(&first.id).await.unwrap();
    let page_b = browser.page(&second.id).await.unwrap();
    let mut events_a = page_a.session().events();
    let mut events_b = page_b.session().events();
    for page in [&page_a, &page_b] {
        page.session()
            .send("Runtime.enable", json!({}))
            .await
            .unwrap();
    }
    page_a
        .navigate(&pages.url("/console.html?tab=a"))
        .await
        .unwrap();
    page_b
        .navigate(&pages.url("/console.html?tab=b"))
        .await
        .unwrap();

    for (events, page, mine, theirs) in [
        (&mut events_a, &page_a, "?tab=a", "?tab=b"),
        (&mut events_b, &page_b, "?tab=b", "?tab=a"),
    ] {
        let mut saw_mine = false;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !saw_mine {
            let event = tokio::time::timeout_at(deadline, events.recv())
                .await
                .expect("console event in time")
                .expect("stream open");
            assert_eq!(event.session_id.as_deref(), page.session().id());
            let params = event.params.get();
            assert!(
                !params.contains(theirs),
                "a foreign event leaked in: {params}"
            );
            if event.method == "Runtime.consoleAPICalled" && params.contains(mine) {
                saw_mine = true;
            }
        }
    }
    browser.stop().await;
}

#[tokio::test]
async fn a_killed_chromium_is_reported_as_crashed_within_two_seconds() {
    let browser = Browser::launch(&LaunchOptions::default()).await.unwrap();
    let mut exited = browser.exited();
    let pid = browser.pid();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let exit = tokio::time::timeout(Duration::from_secs(2), exited.wait_for(Option::is_some))
        .await
        .expect("crash reported within 2 s")
        .unwrap()
        .clone()
        .unwrap();
    assert!(exit.crashed, "{exit:?}");
    assert!(exit.reason.contains("SIGKILL"), "{}", exit.reason);
    // Commands now fail at once with a clear error instead of waiting for a timeout.
    let err = browser
        .cdp()
        .send("Browser.getVersion", json!({}))
        .await
        .unwrap_err();
    assert!(err.is_connection_lost(), "{err}");
    browser.stop().await;
    assert!(
        wait_group_gone(pid, Duration::from_secs(2))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_hung_page_times_out_and_the_client_stays_usable_for_other_sessions() {
    let pages = FixtureServer::start().await;
    let browser = Browser::launch(&LaunchOptions::default()).await.unwrap();
    let hung_tab = browser.active_tab().unwrap();
    let hung = browser.page(&hung_tab.id).await.unwrap();
    hung.navigate(&pages.url("/index.html")).await.unwrap();
    // Fire and forget: this never returns.
    let spin = hung.session().clone();
    tokio::spawn(async move {
        let _ = spin
            .send("Runtime.evaluate", json!({ "expression": "while(true){}" }))
            .await;
    });
    tokio::time::sleep(Duration::from_millis(200)).await;

    let err = hung
        .session()
        .send_typed::<_, serde_json::Value>(
            "Runtime.evaluate",
            &json!({ "expression": "1+1", "returnByValue": true }),
            Some(Duration::from_secs(1)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CdpError::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("Runtime.evaluate"), "{err}");

    // The browser and a tab in another renderer still answer.
    let version = browser
        .cdp()
        .send("Browser.getVersion", json!({}))
        .await
        .unwrap();
    assert!(
        version["product"]
            .as_str()
            .unwrap_or_default()
            .contains("Chrome")
    );
    let context = browser
        .cdp()
        .send("Target.createBrowserContext", json!({}))
        .await
        .unwrap();
    let other = browser
        .cdp()
        .send(
            "Target.createTarget",
            json!({ "url": "about:blank", "browserContextId": context["browserContextId"] }),
        )
        .await
        .unwrap();
    let other_id = other["targetId"].as_str().unwrap().to_string();
    // The tab list follows targets created behind its back.
    let mut tab_events = browser.tab_events();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !browser.tabs().iter().any(|t| t.id == other_id) {
        match tokio::time::timeout_at(deadline, tab_events.recv()).await {
            Ok(Ok(TabEvent::Opened(_))) | Ok(Ok(_)) => {}
            other => panic!("the new tab never showed up: {other:?}"),
        }
    }
    let page = browser.page(&other_id).await.unwrap();
    assert_eq!(page.evaluate("6*7").await.unwrap(), json!(42));
    browser.stop().await;
}

/// What a page in `tab` sees of its window and screen: inner width, inner height, screen
/// width, screen height.
async fn viewport(browser: &Browser, tab: &str) -> Vec<u32> {
    let page = browser.page(tab).await.unwrap();
    let value = page
        .evaluate("[innerWidth, innerHeight, screen.width, screen.height]")
        .await
        .unwrap();
    serde_json::from_value(value).unwrap()
}

/// Reads the viewport until it is `want` (a resize reaches the renderer a frame later).
async fn wait_viewport(browser: &Browser, tab: &str, want: [u32; 2]) -> Vec<u32> {
    let mut seen = viewport(browser, tab).await;
    for _ in 0..50 {
        if seen[..2] == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        seen = viewport(browser, tab).await;
    }
    seen
}

#[tokio::test]
async fn pages_see_the_asked_viewport_in_every_tab_and_a_screen_that_holds_it() {
    let pages = FixtureServer::start().await;
    let browser = Browser::launch(&LaunchOptions::default()).await.unwrap();
    let first = browser.active_tab().unwrap();
    let seen = wait_viewport(&browser, &first.id, [1280, 720]).await;
    assert_eq!(
        seen[..2],
        [1280, 720],
        "the window's toolbars are not taken from the page"
    );
    assert!(
        seen[2] >= 1280 && seen[3] >= 720,
        "the screen is at least as large as the window: {seen:?}"
    );
    let second = browser.new_tab(&pages.url("/index.html")).await.unwrap();
    assert_eq!(
        wait_viewport(&browser, &second.id, [1280, 720]).await[..2],
        [1280, 720],
        "a later tab has the same viewport as the first"
    );

    browser.set_viewport(1920, 1080).await.unwrap();
    assert_eq!(
        wait_viewport(&browser, &second.id, [1920, 1080]).await[..2],
        [1920, 1080]
    );
    browser.stop().await;
}
