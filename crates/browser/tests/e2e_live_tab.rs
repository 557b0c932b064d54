//! The live view's tab against real Chromium: native selects inside a cross-site iframe (a
//! target of its own, out of the page's process) reported in the tab's coordinates and
//! picked in the frame, while another client (as the agent's perception does) has a session
//! of its own on the same frame.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

use std::time::Duration;

use browser::input::{PointerAction, PointerInput};
use browser::{Browser, LaunchOptions, LiveTab, TabSignal};
use cdp::Session;
use cdp::protocol::{runtime, target};
use serde_json::{Value, json};
use testkit::{FixtureServer, wait_group_gone};
use tokio::sync::mpsc;

async fn eval(session: &Session, expression: &str) -> Value {
    let evaluated = session
        .call(runtime::Evaluate {
            expression: expression.to_string(),
            return_by_value: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(evaluated.exception_details.is_none(), "{expression} threw");
    evaluated.result.value.unwrap_or(Value::Null)
}

/// The cross-site frame's target, once it exists.
async fn frame_target(browser: &Browser, url_part: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let targets = browser
            .cdp()
            .call(target::GetTargets::default())
            .await
            .unwrap()
            .target_infos;
        if let Some(frame) = targets
            .into_iter()
            .find(|t| t.r#type == "iframe" && t.url.contains(url_part))
        {
            return frame.target_id;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no frame target {url_part}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn press(x: f64, y: f64) -> PointerInput {
    PointerInput {
        action: PointerAction::Press,
        x,
        y,
        button: 0,
        buttons: 1,
        click_count: 1,
        modifiers: 0,
        delta_x: 0.0,
        delta_y: 0.0,
    }
}

#[tokio::test]
async fn a_select_in_a_cross_site_frame_is_placed_and_picked_beside_another_client() {
    let pages = FixtureServer::start().await;
    let browser = Browser::launch(&LaunchOptions::default()).await.unwrap();
    let pid = browser.pid();
    let tab = browser.active_tab().unwrap();
    let (signals_tx, mut signals) = mpsc::unbounded_channel();
    let live = LiveTab::attach(browser.page(&tab.id).await.unwrap(), signals_tx)
        .await
        .unwrap();
    let driver = browser.page(&tab.id).await.unwrap();
    driver
        .navigate(&pages.url("/live-oopif.html"))
        .await
        .unwrap();
    let frame = frame_target(&browser, "//localhost:").await;
    // Another client's own session on the frame, as the agent's perception attaches one.
    let other = browser.cdp().attach(&frame).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while eval(&other, "document.readyState").await != json!("complete") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the frame never loaded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A press on the frame's select goes to the tab, as the human's does; Chromium routes it
    // into the frame. The frame's content starts at (70, 160), its select at (40, 110) in it.
    let popup = async {
        live.pointer(&press(260.0, 290.0)).await.unwrap();
        loop {
            match signals.recv().await.expect("signals open") {
                TabSignal::Select { popup, frame } => return (popup, frame),
                _ => continue,
            }
        }
    };
    let (popup, select_frame) = tokio::time::timeout(Duration::from_secs(10), popup)
        .await
        .expect("the select is reported");
    let labels: Vec<&str> = popup.options.iter().map(|o| o.label.as_str()).collect();
    assert_eq!(labels, ["France", "Germany", "Italy"]);
    let [x, y, w, h] = popup.rect;
    assert!(
        (x - 110.0).abs() < 1.0 && (y - 270.0).abs() < 1.0 && w == 300.0 && h == 40.0,
        "the select's box in the tab's viewport: {:?}",
        popup.rect
    );
    assert!(live.pick_option(&select_frame, popup.id, 2).await.unwrap());
    assert_eq!(
        eval(&other, "document.getElementById('s').value").await,
        json!("it")
    );

    // The live view leaving takes only its own sessions: the other client's still works.
    live.detach().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        eval(
            &other,
            "document.getElementById('s').selectedIndex = 1, document.getElementById('s').value"
        )
        .await,
        json!("de")
    );

    browser.stop().await;
    assert!(
        wait_group_gone(pid, Duration::from_secs(2))
            .await
            .is_empty()
    );
}
