//! `/v3/mcp` without a browser: the key check in front of it, and tools whose calls the API
//! answers or refuses before any session is touched (the pool size is zero). The full flows,
//! with the official MCP Python SDK and real sessions, are in `tests/sdk/python/test_mcp.py`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

mod support;

use serde_json::{Value, json};
use support::TestServer;

/// One JSON-RPC message to `/v3/mcp` with `headers`; the status and the JSON answer.
async fn rpc(server: &TestServer, headers: &[(&str, &str)], message: Value) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/v3/mcp", server.base))
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2025-06-18")
        .body(message.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn tool_call(id: u64, name: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": name, "arguments": arguments}})
}

#[tokio::test]
async fn the_key_is_checked_before_any_mcp_message() {
    let server = TestServer::start(|c| c.pool_size = 0);
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"}}});
    let (status, body) = rpc(&server, &[], initialize.clone()).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"detail": "X-Browser-Use-API-Key header is required"})
    );
    let (status, body) = rpc(
        &server,
        &[("x-browser-use-api-key", "tk_wrong")],
        initialize.clone(),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body, json!({"detail": "Invalid API key"}));

    // The transport's own refusals speak the server's error shape too.
    let stream = reqwest::Client::new()
        .get(format!("{}/v3/mcp", server.base))
        .header("x-browser-use-api-key", &server.key)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 405);
    assert_eq!(stream.headers()["allow"], "POST");
    assert_eq!(
        stream.json::<Value>().await.unwrap(),
        json!({"detail": "Method Not Allowed"})
    );
    let not_json = reqwest::Client::new()
        .post(format!("{}/v3/mcp", server.base))
        .header("x-browser-use-api-key", &server.key)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 415);
    let detail = not_json.json::<Value>().await.unwrap();
    assert!(
        detail["detail"]
            .as_str()
            .unwrap()
            .contains("application/json"),
        "{detail}"
    );

    let bearer = format!("Bearer {}", server.key);
    let (status, body) = rpc(&server, &[("authorization", &bearer)], initialize).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["serverInfo"]["name"], "tandem");
    assert!(body["result"]["capabilities"]["tools"].is_object());
}

#[tokio::test]
async fn tools_answer_with_the_apis_data_and_its_refusals() {
    let server = TestServer::start(|c| c.pool_size = 0);
    let key = [("x-browser-use-api-key", server.key.as_str())];

    let (status, body) = rpc(
        &server,
        &key,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut names: Vec<&str> = body["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "get_session",
            "get_session_messages",
            "list_browser_profiles",
            "list_sessions",
            "resume_session",
            "run_session",
            "send_task",
            "stop_session",
            "take_control"
        ]
    );

    let (_, body) = rpc(&server, &key, tool_call(2, "list_sessions", json!({}))).await;
    assert_eq!(
        body["result"]["structuredContent"],
        json!({"sessions": [], "total": 0, "page": 1, "page_size": 20})
    );
    assert_eq!(body["result"]["isError"], false);

    // The API's validation, word for word, as a tool error the model can read.
    let (_, body) = rpc(
        &server,
        &key,
        tool_call(3, "run_session", json!({"task": " "})),
    )
    .await;
    assert_eq!(body["result"]["isError"], true, "{body}");
    assert_eq!(
        body["result"]["content"][0]["text"],
        "task: task must not be empty (HTTP 422)"
    );
    let (_, body) = rpc(
        &server,
        &key,
        tool_call(
            4,
            "get_session",
            json!({"session_id": "0193a4f2-0000-7000-8000-000000000001"}),
        ),
    )
    .await;
    assert_eq!(body["result"]["isError"], true, "{body}");
    assert!(
        body["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .ends_with("(HTTP 404)"),
        "{body}"
    );
    // Nothing but a session id reaches a path.
    let (_, body) = rpc(
        &server,
        &key,
        tool_call(
            5,
            "stop_session",
            json!({"session_id": "../billing/account"}),
        ),
    )
    .await;
    assert_eq!(body["result"]["isError"], true, "{body}");
    assert!(
        body["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("session_id must be a session's id (a UUID)"),
        "{body}"
    );
    // A missing required parameter is a tool error naming it.
    let (_, body) = rpc(&server, &key, tool_call(6, "get_session", json!({}))).await;
    assert_eq!(body["result"]["isError"], true, "{body}");
    assert!(
        body["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("missing field `session_id`"),
        "{body}"
    );
    server.stop();
}
