//! The cost cap (`maxCostUsd`) and the thinking level (`thinkingLevel`) through the API, with
//! the real agent and real Chromium; the scripted model reports its token usage.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{TestServer, config, use_model};
use testkit::{Reply, ScriptedLlm};

const LONG: Duration = Duration::from_secs(30);

/// A model that waits `steps:N` steps, then calls `done`; each answer reports a million
/// prompt tokens, which `[llm.prices]` prices at $1.
async fn paid_model() -> ScriptedLlm {
    let llm = ScriptedLlm::openai([]).await;
    llm.otherwise(Reply::from_fn(|request| {
        let state = request.user_text();
        let (task, step) = support::task_and_step(&state);
        let steps: u32 = task
            .strip_prefix("steps:")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let reply = if step <= steps {
            Reply::tool_call("browser_wait", json!({"seconds": 0}))
        } else {
            Reply::tool_call(
                "done",
                json!({"text": format!("{task} done"), "success": true}),
            )
        };
        reply.with_usage(1_000_000, 0)
    }));
    llm
}

#[tokio::test]
async fn a_task_stops_at_max_cost_usd_and_a_follow_up_with_a_higher_cap_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let llm = paid_model().await;
    let mut cfg = config(dir.path().to_path_buf());
    use_model(&mut cfg, &llm);
    if let Some(table) = &mut cfg.llm {
        table.prices.insert(
            "scripted".into(),
            agent::llm::ModelPrice {
                input: 1.0,
                output: 0.0,
                cached_input: None,
            },
        );
    }
    let server = TestServer::start_configured(cfg);

    let session = server
        .create(
            json!({"task": "steps:10", "keepAlive": true, "maxCostUsd": 2.5,
                       "thinkingLevel": "high"}),
        )
        .await;
    let sid = session["id"].as_str().unwrap().to_string();
    let idle = server.wait_status(&sid, &["idle"], LONG).await;
    assert_eq!(idle["isTaskSuccessful"], false);
    let summary = idle["lastStepSummary"].as_str().unwrap();
    assert!(
        summary.starts_with("Stopped at the cost cap of $2.5"),
        "{summary}"
    );
    assert_eq!(idle["llmCostUsd"], "3.000000");
    let requests = llm.requests();
    assert_eq!(
        requests.len(),
        3,
        "no call after the step that crossed the cap"
    );
    for request in &requests {
        assert_eq!(request.body["reasoning_effort"], "high");
    }
    let feed = server.messages(&sid, "limit=100").await;
    let last: &Value = feed["messages"].as_array().unwrap().last().unwrap();
    assert!(
        last["summary"]
            .as_str()
            .unwrap()
            .contains("cost cap of $2.5"),
        "{last}"
    );

    // The follow-up's own cap overrides the session's: five paid steps fit under $10.
    let body = json!({"task": "steps:4", "sessionId": sid, "maxCostUsd": 10, "keepAlive": true});
    let reply = server
        .call("POST", "/api/v3/sessions", Some(&body.to_string()))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let idle = server.wait_status(&sid, &["idle"], LONG).await;
    assert_eq!(idle["isTaskSuccessful"], true, "{idle}");
    assert_eq!(idle["output"], "steps:4 done");
    assert_eq!(idle["maxCostUsd"], "10");
    assert_eq!(llm.requests().len(), 3 + 5);
}

/// A hung model is visible through the API: while the task runs, `lastStepSummary` and the
/// feed say how long the model has not answered; the task ends once `[agent] llm_wait` is
/// reached.
#[tokio::test]
async fn a_hung_model_shows_in_the_summary_and_the_feed_within_llm_wait() {
    let dir = tempfile::tempdir().unwrap();
    let llm = ScriptedLlm::openai([]).await;
    llm.otherwise(Reply::stall(Duration::from_secs(600)));
    let mut cfg = config(dir.path().to_path_buf());
    use_model(&mut cfg, &llm);
    cfg.agent.llm_wait = Duration::from_secs(6);
    let server = TestServer::start_configured(cfg);

    let session = server
        .create(json!({"task": "anything", "keepAlive": true}))
        .await;
    let sid = session["id"].as_str().unwrap().to_string();
    let started = std::time::Instant::now();
    let summary = loop {
        let s = server.session(&sid).await;
        let summary = s["lastStepSummary"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if summary.contains("The model has not answered for") {
            assert_eq!(s["status"], "running");
            break summary;
        }
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "no waiting summary within the bound: {s}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(summary.contains("retrying"), "{summary}");
    let feed = server.messages(&sid, "limit=100").await;
    assert!(
        feed["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["summary"]
                .as_str()
                .unwrap()
                .contains("The model has not answered for")),
        "{feed}"
    );
    let ended = server.wait_status(&sid, &["error"], LONG).await;
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "ended after {:?}",
        started.elapsed()
    );
    assert!(
        ended["lastStepSummary"]
            .as_str()
            .unwrap()
            .contains("has not answered for 6 s"),
        "{ended}"
    );
}
