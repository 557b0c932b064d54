//! Profiles against real Chromium: a browser's cookies (session ones included), local storage
//! and IndexedDB survive a save and come back in a new browser seeded from it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

use std::time::Duration;

use browser::{Browser, LaunchOptions, saved_cookies_file};
use serde_json::json;
use testkit::{FixtureServer, wait_group_gone};

const WRITE_STATE: &str = r#"(async () => {
    document.cookie = "session_login=alice; path=/";
    document.cookie = "remember=yes; path=/; max-age=86400";
    localStorage.setItem("cart", "3 items");
    await new Promise((resolve, reject) => {
        const open = indexedDB.open("shop", 1);
        open.onupgradeneeded = () => open.result.createObjectStore("orders");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
            const tx = open.result.transaction("orders", "readwrite");
            tx.objectStore("orders").put("paid", "order-1");
            tx.oncomplete = () => { open.result.close(); resolve(); };
            tx.onerror = () => reject(tx.error);
        };
    });
    return true;
})()"#;

const READ_STATE: &str = r#"(async () => {
    const order = await new Promise((resolve) => {
        const open = indexedDB.open("shop", 1);
        open.onupgradeneeded = () => open.result.createObjectStore("orders");
        open.onsuccess = () => {
            const get = open.result.transaction("orders").objectStore("orders").get("order-1");
            get.onsuccess = () => resolve(get.result ?? null);
            get.onerror = () => resolve(null);
        };
        open.onerror = () => resolve(null);
    });
    return [document.cookie.split("; ").sort().join("; "), localStorage.getItem("cart"), order];
})()"#;

async fn page_of(browser: &Browser, url: &str) -> browser::Page {
    let tab = browser.active_tab().expect("a tab");
    let page = browser.page(&tab.id).await.unwrap();
    page.navigate(url).await.unwrap();
    page
}

#[tokio::test]
async fn a_saved_profile_brings_back_cookies_local_storage_and_indexed_db() {
    let pages = FixtureServer::start().await;
    let url = pages.url("/index.html");
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("profile");

    let first = Browser::launch(&LaunchOptions::default()).await.unwrap();
    let page = page_of(&first, &url).await;
    assert_eq!(page.evaluate(WRITE_STATE).await.unwrap(), json!(true));
    let pid = first.pid();
    let kept = first.stop_saving_profile(&saved).await.unwrap();
    assert_eq!(kept.cookie_domains, vec!["127.0.0.1".to_string()]);
    assert!(
        wait_group_gone(pid, Duration::from_secs(3))
            .await
            .is_empty()
    );
    assert!(
        !first.profile_dir().exists(),
        "the browser's own copy is gone"
    );
    let exit = first.exited().borrow().clone().expect("exited");
    assert!(!exit.crashed, "a save is not a crash: {exit:?}");
    assert!(saved_cookies_file(&saved).exists());

    let options = LaunchOptions {
        profile_seed: Some(saved.clone()),
        ..Default::default()
    };
    let second = Browser::launch(&options).await.unwrap();
    let page = page_of(&second, &url).await;
    let state = page.evaluate(READ_STATE).await;
    second.stop().await;
    assert_eq!(
        state.unwrap(),
        json!(["remember=yes; session_login=alice", "3 items", "paid"])
    );
}
