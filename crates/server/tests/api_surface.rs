//! The HTTP surface that needs no browser: health, OpenAPI, auth, routing, validation of
//! requests that are refused before any session is touched. The pool size is zero, so no
//! Chromium is started.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

mod support;

use serde_json::json;
use support::TestServer;

fn server() -> TestServer {
    TestServer::start(|c| c.pool_size = 0)
}

#[tokio::test]
async fn health_and_openapi_need_no_key() {
    let server = server();
    let health = server.call_with_key("GET", "/healthz", None, None).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json, json!({"status": "ok"}));
    let doc = server
        .call_with_key("GET", "/api/v3/openapi.json", None, None)
        .await;
    assert_eq!(doc.status, 200);
    assert!(doc.json["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/sessions",
        "/sessions/{session_id}",
        "/sessions/{session_id}/stop",
        "/sessions/{session_id}/messages",
        "/sessions/{session_id}/resume",
        "/sessions/{session_id}/take-control",
        "/browsers",
        "/browsers/{session_id}",
        "/browsers/{session_id}/downloads",
        "/profiles",
        "/profiles/{profile_id}",
        "/workspaces",
        "/workspaces/{workspace_id}",
        "/workspaces/{workspace_id}/files",
        "/workspaces/{workspace_id}/files/upload",
        "/workspaces/{workspace_id}/size",
        "/billing/account",
    ] {
        assert!(doc.json["paths"][path].is_object(), "{path} documented");
    }
}

#[tokio::test]
async fn every_api_route_needs_the_key() {
    let server = server();
    let id = uuid::Uuid::now_v7();
    for (method, path) in [
        ("GET", "/api/v3/sessions".to_string()),
        ("POST", "/api/v3/sessions".to_string()),
        ("GET", format!("/api/v3/sessions/{id}")),
        ("DELETE", format!("/api/v3/sessions/{id}")),
        ("POST", format!("/api/v3/sessions/{id}/stop")),
        ("GET", format!("/api/v3/sessions/{id}/messages")),
        ("POST", format!("/api/v3/sessions/{id}/resume")),
        ("POST", format!("/api/v3/sessions/{id}/take-control")),
        ("POST", "/api/v3/browsers".to_string()),
        ("GET", "/api/v3/browsers".to_string()),
        ("GET", format!("/api/v3/browsers/{id}")),
        ("PATCH", format!("/api/v3/browsers/{id}")),
        ("GET", format!("/api/v3/browsers/{id}/downloads")),
        ("POST", "/api/v3/profiles".to_string()),
        ("GET", "/api/v3/profiles".to_string()),
        ("GET", format!("/api/v3/profiles/{id}")),
        ("PATCH", format!("/api/v3/profiles/{id}")),
        ("DELETE", format!("/api/v3/profiles/{id}")),
        ("POST", "/api/v3/workspaces".to_string()),
        ("GET", "/api/v3/workspaces".to_string()),
        ("GET", format!("/api/v3/workspaces/{id}")),
        ("PATCH", format!("/api/v3/workspaces/{id}")),
        ("DELETE", format!("/api/v3/workspaces/{id}")),
        ("GET", format!("/api/v3/workspaces/{id}/files")),
        ("DELETE", format!("/api/v3/workspaces/{id}/files")),
        ("POST", format!("/api/v3/workspaces/{id}/files/upload")),
        ("GET", format!("/api/v3/workspaces/{id}/size")),
        ("GET", "/api/v3/billing/account".to_string()),
        ("GET", "/api/v3/unknown".to_string()),
    ] {
        let missing = server.call_with_key(method, &path, Some("{}"), None).await;
        assert_eq!(missing.status, 401, "{method} {path}");
        assert_eq!(
            missing.json,
            json!({"detail": "X-Browser-Use-API-Key header is required"})
        );
        let wrong = server
            .call_with_key(method, &path, Some("{}"), Some("tk_wrong"))
            .await;
        assert_eq!(wrong.status, 401, "{method} {path}");
        assert!(wrong.json["detail"].is_string());
    }
}

#[tokio::test]
async fn unknown_routes_ids_and_methods_are_json_errors() {
    let server = server();
    for path in [
        "/api/v3/nothing",
        "/api/v3/sessions/x/y/z",
        "/nothing",
        "/api/v2/sessions",
    ] {
        let reply = server.call("GET", path, None).await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.json, json!({"detail": "Not Found"}), "{path}");
    }
    let id = uuid::Uuid::now_v7();
    for (method, path) in [
        ("GET", format!("/api/v3/sessions/{id}")),
        ("POST", format!("/api/v3/sessions/{id}/stop")),
        ("GET", format!("/api/v3/sessions/{id}/messages")),
        ("DELETE", format!("/api/v3/sessions/{id}")),
        ("POST", format!("/api/v3/sessions/{id}/resume")),
        ("POST", format!("/api/v3/sessions/{id}/take-control")),
    ] {
        let reply = server.call(method, &path, None).await;
        assert_eq!(reply.status, 404, "{method} {path}");
        assert_eq!(reply.json, json!({"detail": "Session not found"}));
    }
    let reply = server.call("PUT", "/api/v3/sessions", None).await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.json, json!({"detail": "Method Not Allowed"}));
}

#[tokio::test]
async fn malformed_requests_are_fastapi_422s() {
    let server = server();
    for path in [
        "/api/v3/sessions/not-a-uuid",
        "/api/v3/sessions/123/messages",
    ] {
        let reply = server.call("GET", path, None).await;
        assert_eq!(reply.status, 422, "{path}");
        assert_eq!(
            reply.json["detail"][0]["loc"],
            json!(["path", "session_id"])
        );
        assert_eq!(reply.json["detail"][0]["type"], "uuid_parsing");
    }
    let stop = server
        .call("POST", "/api/v3/sessions/nope/stop", None)
        .await;
    assert_eq!(stop.status, 422);

    for (body, loc) in [
        ("{", json!(["body", 0])),
        ("{\"task\": }", json!(["body", 9])),
        ("[]", json!(["body"])),
        ("\"task\"", json!(["body"])),
        (r#"{"task": 5}"#, json!(["body", "task"])),
        (r#"{"keepAlive": "yes"}"#, json!(["body", "keepAlive"])),
        (
            r#"{"model": "claude-sonnet-4.6"}"#,
            json!(["body", "model"]),
        ),
        (
            r#"{"thinkingLevel": "extreme"}"#,
            json!(["body", "thinkingLevel"]),
        ),
        (r#"{"profileId": "abc"}"#, json!(["body", "profileId"])),
        (
            r#"{"proxyCountryCode": "united states"}"#,
            json!(["body", "proxyCountryCode"]),
        ),
        (r#"{"maxCostUsd": "lots"}"#, json!(["body", "maxCostUsd"])),
        (
            r#"{"browserScreenWidth": 100, "browserScreenHeight": 500}"#,
            json!(["body", "browserScreenWidth"]),
        ),
        (r#"{"outputSchema": "x"}"#, json!(["body", "outputSchema"])),
        (
            r#"{"requireApproval": ["submit", "delete_account"]}"#,
            json!(["body", "requireApproval", 1]),
        ),
        (
            r#"{"requireApproval": "submit"}"#,
            json!(["body", "requireApproval"]),
        ),
    ] {
        let reply = server.call("POST", "/api/v3/sessions", Some(body)).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text);
        let first = &reply.json["detail"][0];
        assert_eq!(first["loc"], loc, "{body}: {}", reply.text);
        assert!(first["msg"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(first["type"].is_string());
    }
    for query in [
        "page_size=0",
        "page_size=101",
        "page=0",
        "page=abc",
        "page_size=1.5",
    ] {
        let reply = server
            .call("GET", &format!("/api/v3/sessions?{query}"), None)
            .await;
        assert_eq!(reply.status, 422, "{query}");
        assert_eq!(reply.json["detail"][0]["loc"][0], "query");
    }
    let listed = server.call("GET", "/api/v3/sessions", None).await;
    assert_eq!(
        listed.json,
        json!({"sessions": [], "total": 0, "page": 1, "pageSize": 20})
    );
}
