//! End-to-end tests of the handoff inside a task through the API, with the real agent, the
//! scripted model and real Chromium: take-control and hand back, take-control refused while
//! the agent waits for an answer, stops that drop a question (and say so in the feed), and
//! waits nobody ends (an approval, the control) closing the task cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{TestServer, config, use_model};
use testkit::{Reply, ScriptedLlm};

const LONG: Duration = Duration::from_secs(30);

fn id(session: &Value) -> String {
    session["id"].as_str().unwrap().to_string()
}

/// The task the agent shows the model in this step.
fn task_of(state: &str) -> String {
    state
        .split_once("<task>\n")
        .and_then(|(_, rest)| rest.split_once("\n</task>"))
        .map(|(task, _)| task.to_string())
        .unwrap_or_default()
}

fn done(text: &str, success: bool) -> Reply {
    Reply::tool_call("done", json!({"text": text, "success": success}))
}

fn wait(seconds: u32) -> Reply {
    Reply::tool_call("browser_wait", json!({ "seconds": seconds }))
}

/// A model that acts on the task's name, like a model reading its state would:
/// - `work N`: waits N seconds per step until a human has handed the control back, then done;
/// - `ask the size`: asks the human, then done once answered;
/// - `leave the site`: opens `page`, then navigates to `external` (another host).
async fn handoff_model(page: String, external: String) -> ScriptedLlm {
    let llm = ScriptedLlm::openai([]).await;
    llm.otherwise(Reply::from_fn(move |request| {
        let state = request.user_text();
        let task = task_of(&state);
        if let Some(seconds) = task.strip_prefix("work ") {
            if state.contains("has handed it back") {
                return done("went on after the hand-back", true);
            }
            return wait(seconds.parse().unwrap_or(1));
        }
        match task.as_str() {
            "ask the size" if state.contains("The human answered") => done("answered", true),
            "ask the size" => Reply::tool_call("ask_human", json!({"question": "Which size?"})),
            "leave the site" if state.contains(&format!("url: {page}")) => {
                Reply::tool_call("browser_navigate", json!({ "url": external }))
            }
            "leave the site" => Reply::tool_call("browser_navigate", json!({ "url": page })),
            _ => done("unknown task", false),
        }
    }));
    llm
}

/// A server whose agent talks to [`handoff_model`] on the fixture pages, and those pages;
/// keep all of them as long as the test runs.
async fn server(
    human_wait: Duration,
) -> (
    TestServer,
    tempfile::TempDir,
    ScriptedLlm,
    testkit::FixtureServer,
) {
    let pages = testkit::FixtureServer::start().await;
    let page = pages.url("/index.html");
    let external = page.replacen("127.0.0.1", "localhost", 1);
    let llm = handoff_model(page, external).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path().to_path_buf());
    cfg.pool_size = 0;
    cfg.human_wait = human_wait;
    use_model(&mut cfg, &llm);
    (TestServer::start_configured(cfg), dir, llm, pages)
}

async fn post(server: &TestServer, path: &str, body: Value) -> support::Reply {
    server
        .call("POST", &format!("/api/v3{path}"), Some(&body.to_string()))
        .await
}

/// Checks that the feed, as `[role] summary` lines, has a line equal to each of `exact`
/// and one starting with each of `prefixes`.
async fn assert_feed(server: &TestServer, sid: &str, exact: &[&str], prefixes: &[&str]) {
    let lines: Vec<String> = server.messages(sid, "limit=100").await["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "[{}] {}",
                m["role"].as_str().unwrap(),
                m["summary"].as_str().unwrap()
            )
        })
        .collect();
    for expected in exact {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected}: {lines:#?}"
        );
    }
    for prefix in prefixes {
        assert!(
            lines.iter().any(|l| l.starts_with(prefix)),
            "{prefix}: {lines:#?}"
        );
    }
}

/// Polls the session until `pred` holds.
async fn wait_for(
    server: &TestServer,
    sid: &str,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let start = Instant::now();
    loop {
        let session = server.session(sid).await;
        if pred(&session) {
            return session;
        }
        assert!(start.elapsed() < LONG, "{what}: still {session}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the model has been asked `n` times in all.
async fn model_asked(llm: &ScriptedLlm, n: usize) {
    let start = Instant::now();
    while llm.requests().len() < n {
        assert!(start.elapsed() < LONG, "the model was not asked {n} times");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn human_type(session: &Value) -> Option<&str> {
    session["humanInput"]["type"].as_str()
}

#[tokio::test]
async fn take_control_and_hand_back_through_the_api() {
    let (server, _dir, llm, _pages) = server(Duration::from_secs(600)).await;
    let session = server
        .create(json!({"task": "work 3", "keepAlive": true}))
        .await;
    let sid = id(&session);
    // The model answered "wait 3 s": the agent is about to act, or acting, when the human
    // takes over; either way it must not ask the model again until handed back.
    model_asked(&llm, 1).await;
    let taken = post(&server, &format!("/sessions/{sid}/take-control"), json!({})).await;
    assert_eq!(taken.status, 200, "{}", taken.text);
    assert_eq!(taken.json["status"], "running");
    assert_eq!(human_type(&taken.json), Some("control"));
    // Taking it again changes nothing.
    let again = post(&server, &format!("/sessions/{sid}/take-control"), json!({})).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json["humanInput"], taken.json["humanInput"]);

    // The agent finishes or skips its action, then waits: no model call while the human holds it.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        llm.requests().len(),
        1,
        "the agent went on without the human"
    );
    let held = server.session(&sid).await;
    assert_eq!(held["status"], "running");
    assert_eq!(human_type(&held), Some("control"));

    let back = post(&server, &format!("/sessions/{sid}/resume"), json!({})).await;
    assert_eq!(back.status, 200, "{}", back.text);
    assert_eq!(back.json["humanInput"], Value::Null);
    let finished = server.wait_status(&sid, &["idle"], LONG).await;
    assert_eq!(finished["output"], "went on after the hand-back");
    assert_eq!(finished["isTaskSuccessful"], true);
    assert_feed(
        &server,
        &sid,
        &[
            "[user] The human took control through the API",
            "[user] The human handed control back through the API",
        ],
        &[],
    )
    .await;
    let idle = post(&server, &format!("/sessions/{sid}/take-control"), json!({})).await;
    assert_eq!(idle.status, 409);
    assert_eq!(
        idle.json["detail"],
        "No task is running; the browser is already the human's"
    );
}

#[tokio::test]
async fn a_waiting_question_refuses_take_control_and_a_stop_says_it_was_dropped() {
    let (server, _dir, _llm, _pages) = server(Duration::from_secs(600)).await;
    let session = server
        .create(json!({"task": "ask the size", "keepAlive": true}))
        .await;
    let sid = id(&session);
    let asking = wait_for(&server, &sid, "the question", |s| {
        human_type(s) == Some("question")
    })
    .await;
    assert_eq!(asking["humanInput"]["question"], "Which size?");

    // The browser is already the human's: taking the control is a mistake, said clearly.
    let refused = post(&server, &format!("/sessions/{sid}/take-control"), json!({})).await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert!(
        refused.json["detail"]
            .as_str()
            .unwrap()
            .contains("waiting for the answer to a question"),
        "{}",
        refused.text
    );
    assert_eq!(
        server.session(&sid).await["humanInput"],
        asking["humanInput"],
        "the question stays"
    );

    // Stopping the task drops the question, and the feed says which.
    let stopped = post(
        &server,
        &format!("/sessions/{sid}/stop"),
        json!({"strategy": "task"}),
    )
    .await;
    assert_eq!(stopped.status, 200, "{}", stopped.text);
    assert_eq!(stopped.json["status"], "idle");
    assert_eq!(stopped.json["humanInput"], Value::Null);
    assert_feed(
        &server,
        &sid,
        &["[assistant] The question 'Which size?' was cancelled: the client stopped the task"],
        &[],
    )
    .await;

    // So does stopping the session.
    let dispatched = post(
        &server,
        "/sessions",
        json!({"task": "ask the size", "sessionId": sid, "keepAlive": true}),
    )
    .await;
    assert_eq!(dispatched.status, 200, "{}", dispatched.text);
    wait_for(&server, &sid, "the second question", |s| {
        human_type(s) == Some("question")
    })
    .await;
    let stopped = post(&server, &format!("/sessions/{sid}/stop"), json!({})).await;
    assert_eq!(stopped.json["status"], "stopped");
    assert_eq!(stopped.json["humanInput"], Value::Null);
    assert_feed(
        &server,
        &sid,
        &["[assistant] The question 'Which size?' was cancelled: the client stopped the session"],
        &[],
    )
    .await;
}

#[tokio::test]
async fn waits_nobody_ends_close_the_task_cleanly_and_a_new_control_waits_anew() {
    let (server, _dir, llm, _pages) = server(Duration::from_secs(2)).await;

    // An approval nobody gives.
    let session = server
        .create(json!({"task": "leave the site", "keepAlive": true,
                       "requireApproval": ["navigate_external"]}))
        .await;
    let sid = id(&session);
    let asked = wait_for(&server, &sid, "the approval", |s| {
        human_type(s) == Some("approval")
    })
    .await;
    assert_eq!(asked["humanInput"]["kind"], "navigate_external");
    let finished = server.wait_status(&sid, &["idle"], LONG).await;
    assert_eq!(finished["isTaskSuccessful"], false);
    assert_eq!(finished["humanInput"], Value::Null);
    let output = finished["output"].as_str().unwrap();
    assert!(
        output.starts_with("Nobody approved") && output.ends_with("(navigate_external) within 2s"),
        "{output}"
    );
    assert_feed(
        &server,
        &sid,
        &["[assistant] No human answered within 2s"],
        &["[assistant] Waiting for approval (navigate_external)"],
    )
    .await;

    // The control taken and never handed back.
    let asked_before = llm.requests().len();
    let dispatched = post(
        &server,
        "/sessions",
        json!({"task": "work 1", "sessionId": sid, "keepAlive": true}),
    )
    .await;
    assert_eq!(dispatched.status, 200, "{}", dispatched.text);
    model_asked(&llm, asked_before + 1).await;
    let taken = post(&server, &format!("/sessions/{sid}/take-control"), json!({})).await;
    assert_eq!(taken.status, 200, "{}", taken.text);
    let finished = server.wait_status(&sid, &["idle"], LONG).await;
    assert_eq!(finished["isTaskSuccessful"], false);
    assert_eq!(finished["humanInput"], Value::Null);
    assert_eq!(
        finished["output"],
        "The human took control of the browser and did not hand it back within 2s"
    );

    // The wait runs out while the agent is still busy with a long action; the human takes
    // the control again before the agent asks: that is a new control, with a new wait.
    let asked_before = llm.requests().len();
    post(
        &server,
        "/sessions",
        json!({"task": "work 8", "sessionId": sid, "keepAlive": true}),
    )
    .await;
    model_asked(&llm, asked_before + 1).await;
    // Taken once the agent is surely inside its 8 s action: taken before it starts, the
    // agent would yield at once and wait on this first control.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let started = Instant::now();
    post(&server, &format!("/sessions/{sid}/take-control"), json!({})).await;
    wait_for(&server, &sid, "the first wait to run out", |s| {
        s["humanInput"].is_null()
    })
    .await;
    // Until the agent has certainly finished its action (6 s after the first take) and asked,
    // the human stays active (taking the control again while holding it keeps the wait fresh).
    while started.elapsed() < Duration::from_millis(7500) {
        let taken = post(&server, &format!("/sessions/{sid}/take-control"), json!({})).await;
        assert_eq!(
            taken.status, 200,
            "the task ended though the human holds the control: {}",
            taken.text
        );
        assert_eq!(human_type(&taken.json), Some("control"));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let back = post(&server, &format!("/sessions/{sid}/resume"), json!({})).await;
    assert_eq!(back.status, 200, "{}", back.text);
    let finished = server.wait_status(&sid, &["idle"], LONG).await;
    assert_eq!(finished["output"], "went on after the hand-back");
    assert_eq!(finished["isTaskSuccessful"], true);
}
