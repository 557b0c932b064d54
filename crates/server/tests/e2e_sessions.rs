//! End-to-end tests of `/api/v3/sessions` against a real server with real Chromium.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{TestServer, config, message_ids, task_model, use_model, wait_gone};
use testkit::ScriptedLlm;

const LONG: Duration = Duration::from_secs(20);

/// A server whose real agent talks to [`task_model`]; keep the model as long as the server.
async fn scripted(
    tweak: impl FnOnce(&mut server::Config),
) -> (TestServer, tempfile::TempDir, ScriptedLlm) {
    let dir = tempfile::tempdir().unwrap();
    let llm = task_model().await;
    let mut cfg = config(dir.path().to_path_buf());
    use_model(&mut cfg, &llm);
    tweak(&mut cfg);
    (TestServer::start_configured(cfg), dir, llm)
}

fn id(session: &Value) -> String {
    session["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn create_get_list_and_paging() {
    let server = TestServer::start(|c| c.pool_size = 2);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let session = server.create(json!({})).await;
        assert_eq!(session["status"], "idle");
        assert_eq!(session["model"], "claude-opus-4.7");
        let live = session["liveUrl"].as_str().unwrap();
        assert!(
            live.starts_with(&format!("{}/live/{}?token=", server.base, id(&session))),
            "{live}"
        );
        // The token is signed with the key in the data directory, for this session, for
        // control, until the session's maximum duration runs out.
        let token = live.split_once("?token=").unwrap().1;
        let signer = server::links::Signer::load_or_create(&server.data_dir).unwrap();
        let claims = signer.verify(token, chrono::Utc::now()).unwrap();
        assert_eq!(claims.subject.to_string(), id(&session));
        assert_eq!(claims.mode, server::links::Mode::Control);
        let created = chrono::DateTime::parse_from_rfc3339(session["createdAt"].as_str().unwrap())
            .unwrap()
            .timestamp();
        assert!((claims.expires_at - (created + 4 * 3600)).abs() <= 1);
        ids.push(id(&session));
    }
    let one = server.session(&ids[1]).await;
    assert_eq!(one["id"], ids[1].as_str());
    assert_eq!(one["recordingUrls"], json!([]));

    // The creation options are echoed in the SDK's shapes.
    let custom = server
        .create(
            json!({"proxyCountryCode": "DE", "maxCostUsd": 2.5, "model": "bu-mini",
                       "browserScreenWidth": 1024, "browserScreenHeight": 768, "unknownKey": true}),
        )
        .await;
    // No `[proxies]` entry serves "de": the browser goes direct and the record says so.
    assert_eq!(custom["proxyCountryCode"], Value::Null);
    assert_eq!(custom["maxCostUsd"], "2.5");
    assert_eq!(custom["model"], "bu-mini");
    assert_eq!(custom["browserScreenWidth"], 1024);
    assert_eq!(
        support::viewport_through_cdp(custom["cdpUrl"].as_str().unwrap(), [1024, 768]).await,
        json!([1024, 768]),
        "the session's pages see the screen size asked for"
    );
    ids.push(id(&custom));

    let page = server
        .call("GET", "/api/v3/sessions?page=1&page_size=3", None)
        .await;
    assert_eq!(page.status, 200);
    assert_eq!(page.json["total"], 4);
    assert_eq!(page.json["page"], 1);
    assert_eq!(page.json["pageSize"], 3);
    let listed: Vec<&str> = page.json["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            support::check_session(s);
            s["id"].as_str().unwrap()
        })
        .collect();
    assert_eq!(listed, vec![&ids[3], &ids[2], &ids[1]], "newest first");
    let page2 = server
        .call("GET", "/api/v3/sessions?page=2&page_size=3", None)
        .await;
    assert_eq!(page2.json["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(page2.json["sessions"][0]["id"], ids[0].as_str());
    let default = server.call("GET", "/api/v3/sessions", None).await;
    assert_eq!(default.json["pageSize"], 20);
    assert_eq!(default.json["sessions"].as_array().unwrap().len(), 4);

    for id in &ids {
        let pid = server.browser_pid(id);
        let stopped = server
            .call("POST", &format!("/api/v3/sessions/{id}/stop"), None)
            .await;
        assert_eq!(stopped.status, 200);
        assert_eq!(stopped.json["status"], "stopped");
        assert!(
            wait_gone(pid, Duration::from_secs(2)).await,
            "browser {pid} left running"
        );
    }
}

#[tokio::test]
async fn a_task_without_an_agent_ends_in_error_cleanly() {
    let server = TestServer::start(|c| c.pool_size = 0);

    // New session with a task: running at once, with the user message already in the feed.
    let session = server.create(json!({"task": "Find the top story"})).await;
    let sid = id(&session);
    assert_eq!(session["status"], "running");
    assert_eq!(session["output"], Value::Null);
    let ended = server.wait_status(&sid, &["error"], LONG).await;
    let summary = ended["lastStepSummary"].as_str().unwrap();
    assert!(summary.contains("no agent configured"), "{summary}");
    assert_eq!(ended["liveUrl"], Value::Null);
    let feed = server.messages(&sid, "limit=100").await;
    let messages = feed["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["role"], "user");
    assert_eq!(messages[0]["type"], "user_message");
    let data: Value = serde_json::from_str(messages[0]["data"].as_str().unwrap()).unwrap();
    assert_eq!(data, json!({"content": "Find the top story"}));
    assert_eq!(messages[1]["role"], "assistant");
    assert!(
        messages[1]["data"]
            .as_str()
            .unwrap()
            .contains("no agent configured")
    );

    // Existing session: the SDK reads the latest cursor first (empty feed is fine), then
    // dispatches; the POST answers with the same id, running.
    let session = server.create(json!({})).await;
    let sid = id(&session);
    let pid = server.browser_pid(&sid);
    let empty = server.messages(&sid, "limit=1").await;
    assert_eq!(empty, json!({"messages": [], "hasMore": false}));
    let reply = server
        .call(
            "POST",
            "/api/v3/sessions",
            Some(&json!({"task": "second", "sessionId": sid, "keepAlive": true}).to_string()),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["id"], sid.as_str());
    assert!(["running", "error"].contains(&reply.json["status"].as_str().unwrap()));
    server.wait_status(&sid, &["error"], LONG).await;
    assert!(wait_gone(pid, Duration::from_secs(2)).await);

    // An ended session takes no more tasks.
    let again = server
        .call(
            "POST",
            "/api/v3/sessions",
            Some(&json!({"task": "third", "sessionId": sid}).to_string()),
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.text);
    assert!(again.json["detail"].as_str().unwrap().contains("error"));
}

#[tokio::test]
async fn keep_alive_decides_between_idle_and_stopped() {
    let (server, _dir, _llm) = scripted(|c| c.pool_size = 0).await;
    let session = server.create(json!({})).await;
    let sid = id(&session);
    let pid = server.browser_pid(&sid);

    let body = json!({"task": "steps:2", "sessionId": sid, "keepAlive": true,
                      "outputSchema": {"type": "object"}});
    let reply = server
        .call("POST", "/api/v3/sessions", Some(&body.to_string()))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let idle = server.wait_status(&sid, &["idle"], LONG).await;
    assert_eq!(idle["isTaskSuccessful"], true);
    // With an output schema, the output is the data of `done`.
    assert_eq!(idle["output"], json!({"task": "steps:2", "steps": 2}));
    assert_eq!(idle["outputSchema"], json!({"type": "object"}));
    assert_eq!(idle["stepCount"], 3);
    assert!(
        idle["lastStepSummary"]
            .as_str()
            .unwrap()
            .starts_with("Done: "),
        "{}",
        idle["lastStepSummary"]
    );
    assert!(idle["liveUrl"].is_string());

    // A follow-up resets the previous results at dispatch; without keepAlive it then stops.
    let body = json!({"task": "steps:0", "sessionId": sid});
    let reply = server
        .call("POST", "/api/v3/sessions", Some(&body.to_string()))
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json["status"], "running");
    assert_eq!(reply.json["output"], Value::Null);
    assert_eq!(reply.json["isTaskSuccessful"], Value::Null);
    assert_eq!(reply.json["lastStepSummary"], Value::Null);
    let stopped = server.wait_status(&sid, &["stopped"], LONG).await;
    assert_eq!(stopped["output"], "steps:0 done");
    assert_eq!(stopped["liveUrl"], Value::Null);
    assert!(wait_gone(pid, Duration::from_secs(2)).await);
    let feed = server.messages(&sid, "limit=100").await;
    let roles: Vec<&str> = feed["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    // Each task: its message, a call and a result per step, and done (call, result, answer).
    assert_eq!(
        roles,
        [
            "user",
            "assistant",
            "tool",
            "assistant",
            "tool",
            "assistant",
            "tool",
            "assistant",
            "user",
            "assistant",
            "tool",
            "assistant"
        ]
    );
}

#[tokio::test]
async fn messages_follow_the_sdk_cursor_semantics() {
    let (server, _dir, _llm) = scripted(|c| c.pool_size = 0).await;
    let session = server
        .create(json!({"task": "steps:1", "keepAlive": true}))
        .await;
    let sid = id(&session);
    server.wait_status(&sid, &["idle"], LONG).await;
    let all = message_ids(&server.messages(&sid, "limit=100").await);
    assert_eq!(
        all.len(),
        6,
        "the task, one step's call and result, done's call, result and answer"
    );

    // No cursor: the latest N, ascending.
    let latest = server.messages(&sid, "limit=1").await;
    assert_eq!(message_ids(&latest), vec![all[5].clone()]);
    assert_eq!(latest["hasMore"], true);
    let latest3 = server.messages(&sid, "limit=3").await;
    assert_eq!(message_ids(&latest3), all[3..].to_vec());
    let default = server.messages(&sid, "").await;
    assert_eq!(message_ids(&default), all);
    assert_eq!(default["hasMore"], false);

    // after: the first N strictly after, then drain to an empty page.
    let after = server
        .messages(&sid, &format!("after={}&limit=2", all[1]))
        .await;
    assert_eq!(message_ids(&after), all[2..4].to_vec());
    assert_eq!(after["hasMore"], true);
    let tail = server
        .messages(&sid, &format!("after={}&limit=100", all[3]))
        .await;
    assert_eq!(message_ids(&tail), all[4..].to_vec());
    assert_eq!(tail["hasMore"], false);
    let drained = server
        .messages(&sid, &format!("after={}&limit=100", all[5]))
        .await;
    assert_eq!(drained, json!({"messages": [], "hasMore": false}));

    // before: the N immediately before, ascending.
    let before = server
        .messages(&sid, &format!("before={}&limit=2", all[4]))
        .await;
    assert_eq!(message_ids(&before), all[2..4].to_vec());
    assert_eq!(before["hasMore"], true);
    let first = server
        .messages(&sid, &format!("before={}&limit=10", all[1]))
        .await;
    assert_eq!(message_ids(&first), vec![all[0].clone()]);
    assert_eq!(first["hasMore"], false);

    // A cursor that is not in this feed: an empty page, not an error.
    let unknown = server
        .messages(&sid, &format!("after={}", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(unknown["messages"], json!([]));

    for query in ["limit=0", "limit=101", "limit=x", "after=nope", "before=1"] {
        let reply = server
            .call(
                "GET",
                &format!("/api/v3/sessions/{sid}/messages?{query}"),
                None,
            )
            .await;
        assert_eq!(reply.status, 422, "{query}: {}", reply.text);
        assert_eq!(reply.json["detail"][0]["loc"][0], "query", "{query}");
    }
    server
        .call("POST", &format!("/api/v3/sessions/{sid}/stop"), None)
        .await;
}

#[tokio::test]
async fn stop_task_then_session_is_idempotent() {
    let (server, _dir, _llm) = scripted(|c| c.pool_size = 0).await;
    let session = server
        .create(json!({"task": "hold", "keepAlive": true}))
        .await;
    let sid = id(&session);
    let pid = server.browser_pid(&sid);
    assert_eq!(server.session(&sid).await["status"], "running");

    // A task to a running session is refused with a clear reason.
    let busy = server
        .call(
            "POST",
            "/api/v3/sessions",
            Some(&json!({"task": "more", "sessionId": sid}).to_string()),
        )
        .await;
    assert_eq!(busy.status, 409, "{}", busy.text);
    assert!(busy.json["detail"].as_str().unwrap().contains("running"));

    let stop_path = format!("/api/v3/sessions/{sid}/stop");
    let bogus = server
        .call("POST", &stop_path, Some(r#"{"strategy":"everything"}"#))
        .await;
    assert_eq!(bogus.status, 422);
    assert_eq!(bogus.json["detail"][0]["loc"], json!(["body", "strategy"]));

    let task_stopped = server
        .call("POST", &stop_path, Some(r#"{"strategy":"task"}"#))
        .await;
    assert_eq!(task_stopped.status, 200, "{}", task_stopped.text);
    assert_eq!(task_stopped.json["status"], "idle");
    assert!(task_stopped.json["liveUrl"].is_string());
    assert!(
        !support::process_gone(pid),
        "stopping the task keeps the browser"
    );
    let again = server
        .call("POST", &stop_path, Some(r#"{"strategy":"task"}"#))
        .await;
    assert_eq!(again.json["status"], "idle");

    // The session is usable again after a task stop.
    let next = server
        .call(
            "POST",
            "/api/v3/sessions",
            Some(&json!({"task": "steps:1", "sessionId": sid, "keepAlive": true}).to_string()),
        )
        .await;
    assert_eq!(next.status, 200, "{}", next.text);
    server.wait_status(&sid, &["idle"], LONG).await;

    // Bodyless stop (as the SDK sends it) stops the session; repeating it is harmless.
    let stopped = server.call("POST", &stop_path, None).await;
    assert_eq!(stopped.status, 200);
    assert_eq!(stopped.json["status"], "stopped");
    assert_eq!(stopped.json["liveUrl"], Value::Null);
    assert!(wait_gone(pid, Duration::from_secs(2)).await);
    let null_body = server.call("POST", &stop_path, Some("null")).await;
    assert_eq!(null_body.status, 200);
    assert_eq!(null_body.json["status"], "stopped");
    let explicit = server
        .call("POST", &stop_path, Some(r#"{"strategy":"session"}"#))
        .await;
    assert_eq!(explicit.json["status"], "stopped");
}

#[tokio::test]
async fn a_stopped_task_keeps_its_usage_and_the_follow_up_knows_of_it() {
    let (server, _dir, llm) = scripted(|c| c.pool_size = 0).await;
    // Two answered steps, then a third whose model call never returns.
    let session = server
        .create(json!({"task": "hold:2", "keepAlive": true}))
        .await;
    let sid = id(&session);
    let start = std::time::Instant::now();
    let running = loop {
        let now = server.session(&sid).await;
        if now["stepCount"] == 3 {
            break now;
        }
        assert!(start.elapsed() < LONG, "stepCount never reached 3: {now}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // While the task runs, a client sees how far it got and what it consumed.
    assert_eq!(running["status"], "running");
    assert_eq!(running["totalInputTokens"], 2000);
    assert_eq!(running["totalOutputTokens"], 100);
    assert!(
        running["lastStepSummary"]
            .as_str()
            .is_some_and(|s| s.starts_with("Waiting")),
        "{running}"
    );

    let stopped = server
        .call(
            "POST",
            &format!("/api/v3/sessions/{sid}/stop"),
            Some(r#"{"strategy":"task"}"#),
        )
        .await;
    assert_eq!(stopped.status, 200, "{}", stopped.text);
    let after = server.session(&sid).await;
    for view in [&stopped.json, &after] {
        assert_eq!(view["status"], "idle");
        assert_eq!(view["stepCount"], 3, "{view}");
        assert_eq!(view["totalInputTokens"], 2000, "{view}");
        assert_eq!(view["totalOutputTokens"], 100, "{view}");
        assert_eq!(view["lastStepSummary"], "Task stopped by the client");
    }

    // The follow-up is told that the stopped task was asked and did not finish.
    let next = server
        .call(
            "POST",
            "/api/v3/sessions",
            Some(
                &json!({"task": "what happened", "sessionId": sid, "keepAlive": true}).to_string(),
            ),
        )
        .await;
    assert_eq!(next.status, 200, "{}", next.text);
    let done = server.wait_status(&sid, &["idle"], LONG).await;
    assert_eq!(done["output"], "what happened done");
    let last = llm.requests().pop().unwrap().user_text();
    assert!(
        last.contains("1. hold:2\n   result: Stopped by the client before it finished"),
        "{last}"
    );
    let total = done["totalInputTokens"].as_i64().unwrap();
    assert!(
        total > 2000,
        "the follow-up's tokens add to the stopped task's: {total}"
    );
}

#[tokio::test]
async fn delete_stops_and_hides_the_session() {
    let server = TestServer::start(|c| c.pool_size = 0);
    let session = server.create(json!({})).await;
    let sid = id(&session);
    let pid = server.browser_pid(&sid);
    let deleted = server
        .call("DELETE", &format!("/api/v3/sessions/{sid}"), None)
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(deleted.text, "");
    assert!(wait_gone(pid, Duration::from_secs(2)).await);
    for (method, path) in [
        ("GET", format!("/api/v3/sessions/{sid}")),
        ("GET", format!("/api/v3/sessions/{sid}/messages")),
        ("POST", format!("/api/v3/sessions/{sid}/stop")),
        ("DELETE", format!("/api/v3/sessions/{sid}")),
    ] {
        let reply = server.call(method, &path, None).await;
        assert_eq!(reply.status, 404, "{method} {path}");
        assert_eq!(reply.json, json!({"detail": "Session not found"}));
    }
    let listed = server.call("GET", "/api/v3/sessions", None).await;
    assert_eq!(listed.json["total"], 0);

    // Deleting an ended session works too.
    let session = server.create(json!({})).await;
    let sid = id(&session);
    server
        .call("POST", &format!("/api/v3/sessions/{sid}/stop"), None)
        .await;
    let deleted = server
        .call("DELETE", &format!("/api/v3/sessions/{sid}"), None)
        .await;
    assert_eq!(deleted.status, 204);
    let gone = server
        .call("GET", &format!("/api/v3/sessions/{sid}"), None)
        .await;
    assert_eq!(gone.status, 404);
}

#[tokio::test]
async fn client_mistakes_on_live_sessions_are_4xx() {
    let server = TestServer::start(|c| c.pool_size = 0);
    let session = server.create(json!({})).await;
    let sid = id(&session);

    let cases = [
        (json!({"sessionId": sid}).to_string(), 422, "task"),
        (
            json!({"sessionId": sid, "task": ""}).to_string(),
            422,
            "task",
        ),
        (
            json!({"sessionId": sid, "task": "x", "model": "gpt-2"}).to_string(),
            422,
            "model",
        ),
        (
            json!({"sessionId": "not-a-uuid", "task": "x"}).to_string(),
            422,
            "sessionId",
        ),
        (
            json!({"sessionId": uuid::Uuid::now_v7(), "task": "x"}).to_string(),
            404,
            "",
        ),
    ];
    for (body, status, field) in cases {
        let reply = server.call("POST", "/api/v3/sessions", Some(&body)).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.text);
        if status == 422 {
            assert_eq!(
                reply.json["detail"][0]["loc"],
                json!(["body", field]),
                "{body}"
            );
            assert!(reply.json["detail"][0]["msg"].is_string());
            assert!(reply.json["detail"][0]["type"].is_string());
        } else {
            assert_eq!(reply.json, json!({"detail": "Session not found"}));
        }
    }
    // The session was left untouched by the refused requests.
    assert_eq!(server.session(&sid).await["status"], "idle");
    let listed = server.call("GET", "/api/v3/sessions", None).await;
    assert_eq!(
        listed.json["total"], 1,
        "no session was created by a bad request"
    );
}

#[tokio::test]
async fn past_the_limit_nothing_is_created_and_429_says_when_to_retry() {
    let server = TestServer::start(|c| {
        c.pool_size = 0;
        c.max_sessions = 2;
    });
    let a = server.create(json!({})).await;
    let _b = server.create(json!({})).await;
    for body in ["{}", r#"{"task":"x"}"#] {
        let refused = server.call("POST", "/api/v3/sessions", Some(body)).await;
        assert_eq!(refused.status, 429, "{}", refused.text);
        assert_eq!(
            refused.json,
            json!({"detail": "Too many concurrent active sessions (limit 2)"})
        );
        let retry: u32 = refused.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=10).contains(&retry));
    }
    let listed = server.call("GET", "/api/v3/sessions", None).await;
    assert_eq!(listed.json["total"], 2);

    // An ended session frees its slot at once.
    server
        .call("POST", &format!("/api/v3/sessions/{}/stop", id(&a)), None)
        .await;
    let c = server.create(json!({})).await;
    assert_eq!(c["status"], "idle");
}

#[tokio::test]
async fn idle_timeout_ends_the_session_and_its_browser() {
    let server = TestServer::start(|c| {
        c.pool_size = 0;
        c.idle_timeout = Duration::from_secs(2);
    });
    let session = server.create(json!({})).await;
    let sid = id(&session);
    let pid = server.browser_pid(&sid);

    // Activity (the live view's touch) pushes the deadline back.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    server
        .sessions
        .owners()
        .touch(uuid::Uuid::parse_str(&sid).unwrap(), false);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(server.session(&sid).await["status"], "idle");

    let ended = server
        .wait_status(&sid, &["timed_out"], Duration::from_secs(5))
        .await;
    assert_eq!(ended["liveUrl"], Value::Null);
    let summary = ended["lastStepSummary"].as_str().unwrap();
    assert!(summary.contains("inactivity"), "{summary}");
    assert!(
        support::process_gone(pid),
        "browser {pid} must be dead once timed_out is visible"
    );
}

#[tokio::test]
async fn max_duration_aborts_a_running_task() {
    let (server, _dir, _llm) = scripted(|c| {
        c.pool_size = 0;
        c.max_session_duration = Duration::from_secs(3);
    })
    .await;
    let session = server.create(json!({"task": "hold:1"})).await;
    let sid = id(&session);
    let pid = server.browser_pid(&sid);
    assert_eq!(server.session(&sid).await["status"], "running");
    let ended = server
        .wait_status(&sid, &["timed_out"], Duration::from_secs(8))
        .await;
    // What ran before the abort is counted: one answered step, and the stalled second.
    assert_eq!(ended["stepCount"], 2, "{ended}");
    assert_eq!(ended["totalInputTokens"], 1000, "{ended}");
    assert!(
        ended["lastStepSummary"]
            .as_str()
            .unwrap()
            .contains("maximum duration")
    );
    assert!(support::process_gone(pid));
    let feed = server.messages(&sid, "limit=100").await;
    let last = feed["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["role"], "assistant");
    assert!(last["summary"].as_str().unwrap().contains("Task aborted"));
}

#[tokio::test]
async fn a_crashed_browser_ends_the_session_in_error() {
    let server = TestServer::start(|c| c.pool_size = 0);
    let session = server.create(json!({})).await;
    let sid = id(&session);
    let pid = server.browser_pid(&sid);
    // Kill Chromium behind Tandem's back.
    let status = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let ended = server
        .wait_status(&sid, &["error"], Duration::from_secs(5))
        .await;
    let summary = ended["lastStepSummary"].as_str().unwrap();
    assert!(summary.contains("browser exited unexpectedly"), "{summary}");
    assert_eq!(ended["liveUrl"], Value::Null);
}

// Issue 15.4: the live view heard of a crash before the API said `error`. The end reaches
// viewers (through the clock the live view watches) only once it is persisted.
#[tokio::test]
async fn a_session_end_is_persisted_before_any_viewer_hears_of_it() {
    let server = TestServer::start(|c| c.pool_size = 0);
    let session = server.create(json!({})).await;
    let sid = id(&session);
    let uuid = uuid::Uuid::parse_str(&sid).unwrap();
    let mut clock = server.sessions.owners().clock(uuid).unwrap();
    let pid = server.browser_pid(&sid);
    let status = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let heard = tokio::time::timeout(
        Duration::from_secs(10),
        clock.wait_for(|c| c.ended.is_some()),
    )
    .await
    .expect("the end is told")
    .expect("the end is told before the clock goes")
    .ended
    .clone()
    .unwrap();
    // The moment a viewer hears of the end, the API answers it.
    let seen = server
        .call("GET", &format!("/api/v3/sessions/{sid}"), None)
        .await;
    assert_eq!(seen.json["status"], "error", "{heard}");
    assert_eq!(seen.json["lastStepSummary"], heard.as_str());
}

#[tokio::test]
async fn a_restart_settles_sessions_whose_browser_was_lost() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path().to_path_buf());
    cfg.pool_size = 0;
    cfg.api_key = None; // generated and kept in the data dir
    let llm = task_model().await;
    use_model(&mut cfg, &llm);
    let first = TestServer::start_configured(cfg.clone());
    let key = first.key.clone();
    assert!(key.starts_with("tk_"));
    let done = first
        .create(json!({"task": "steps:1", "keepAlive": true}))
        .await;
    let done_id = id(&done);
    first.wait_status(&done_id, &["idle"], LONG).await;
    let running = first.create(json!({"task": "hold"})).await;
    let running_id = id(&running);
    let pids = [first.browser_pid(&done_id), first.browser_pid(&running_id)];
    first.stop();
    for pid in pids {
        assert!(
            wait_gone(pid, Duration::from_secs(2)).await,
            "shutdown left {pid}"
        );
    }

    let second = TestServer::start_configured(cfg);
    assert_eq!(second.key, key, "the generated key survives a restart");
    let idle = second.session(&done_id).await;
    assert_eq!(idle["status"], "stopped");
    assert!(
        idle["lastStepSummary"]
            .as_str()
            .unwrap()
            .contains("restarted")
    );
    assert_eq!(idle["output"], "steps:1 done", "outputs survive a restart");
    // The task's message, one step (call and result), and done (call, hidden result,
    // answer): all kept.
    assert_eq!(
        second.messages(&done_id, "limit=100").await["messages"]
            .as_array()
            .unwrap()
            .len(),
        6
    );

    let crashed = second.session(&running_id).await;
    assert_eq!(crashed["status"], "error");
    assert!(
        crashed["lastStepSummary"]
            .as_str()
            .unwrap()
            .contains("restarted")
    );
    let feed = second.messages(&running_id, "limit=1").await;
    assert!(
        feed["messages"][0]["summary"]
            .as_str()
            .unwrap()
            .contains("restarted")
    );
}
