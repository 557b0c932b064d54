//! The OpenAPI 3.1 document of what Tandem implements, written by hand so it says exactly
//! what the handlers do (a subset of Browser Use Cloud v3).

use serde_json::{Value, json};

use super::models::BU_MODELS;

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

fn validation_response() -> Value {
    json!({
        "description": "Validation error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}
    })
}

fn json_response(description: &str, schema: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}
    })
}

fn session_id_param() -> Value {
    json!({"name": "session_id", "in": "path", "required": true,
           "schema": {"type": "string", "format": "uuid"}})
}

fn decimal() -> Value {
    json!({"type": ["string", "null"], "pattern": "^[+-]?\\d*\\.?\\d*$"})
}

/// The document served at `GET /api/v3/openapi.json`.
pub fn document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Tandem API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Self-hosted browser-agent sessions, compatible with the Browser Use Cloud v3 sessions API."
        },
        "servers": [{"url": "/api/v3"}],
        "security": [{"APIKeyHeader": []}],
        "paths": all_paths(),
        "components": components(),
    })
}

/// The sessions' paths, then the other groups'.
fn all_paths() -> Value {
    let mut all = paths();
    if let (Some(all), Value::Object(more)) = (all.as_object_mut(), resource_paths()) {
        all.extend(more);
    }
    all
}

fn paths() -> Value {
    json!({
        "/sessions": {
            "post": {
                "summary": "Create a session and/or run a task",
                "description": "No sessionId and no task: a new idle session. Task without sessionId: a new session running the task. sessionId and task: run the task in that created or idle session. sessionId without task: 422.",
                "operationId": "create_session",
                "requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RunTaskRequest"}}}},
                "responses": {
                    "200": json_response("The session", "SessionResponse"),
                    "401": error_response("Missing or invalid API key"),
                    "404": error_response("Session not found"),
                    "409": error_response("The session is running a task, or has ended"),
                    "422": validation_response(),
                    "429": error_response("Too many concurrent active sessions; nothing was created. See Retry-After."),
                    "503": error_response("No browser could be started, or the server is shutting down")
                }
            },
            "get": {
                "summary": "List sessions, newest first",
                "operationId": "list_sessions",
                "parameters": [
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                    {"name": "page_size", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}}
                ],
                "responses": {
                    "200": json_response("A page of sessions", "SessionListResponse"),
                    "401": error_response("Missing or invalid API key"),
                    "422": validation_response()
                }
            }
        },
        "/sessions/{session_id}": {
            "get": {
                "summary": "Get a session",
                "operationId": "get_session",
                "parameters": [session_id_param()],
                "responses": {
                    "200": json_response("The session", "SessionResponse"),
                    "401": error_response("Missing or invalid API key"),
                    "404": error_response("Session not found"),
                    "422": validation_response()
                }
            },
            "delete": {
                "summary": "Soft-delete a session, stopping it first if active",
                "operationId": "delete_session",
                "parameters": [session_id_param()],
                "responses": {
                    "204": {"description": "Deleted"},
                    "401": error_response("Missing or invalid API key"),
                    "404": error_response("Session not found"),
                    "422": validation_response()
                }
            }
        },
        "/sessions/{session_id}/stop": {
            "post": {
                "summary": "Stop the running task (strategy task: back to idle) or the session (strategy session, the default: stopped)",
                "operationId": "stop_session",
                "parameters": [session_id_param()],
                "requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StopSessionRequest"}}}},
                "responses": {
                    "200": json_response("The session after the stop", "SessionResponse"),
                    "401": error_response("Missing or invalid API key"),
                    "404": error_response("Session not found"),
                    "422": validation_response()
                }
            }
        },
        "/sessions/{session_id}/resume": {
            "post": {
                "summary": "Answer what the running task waits for (humanInput): a question, an approval, or hand the control back",
                "operationId": "resume_session",
                "parameters": [session_id_param()],
                "requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ResumeRequest"}}}},
                "responses": {
                    "200": json_response("The session, humanInput cleared", "SessionResponse"),
                    "401": error_response("Missing or invalid API key"),
                    "404": error_response("Session not found"),
                    "409": error_response("The session is not waiting for a human"),
                    "422": validation_response()
                }
            }
        },
        "/sessions/{session_id}/take-control": {
            "post": {
                "summary": "Take the browser from the working agent; it pauses after its current action until resume. Taking it again while holding it changes nothing.",
                "operationId": "take_control",
                "parameters": [session_id_param()],
                "responses": {
                    "200": json_response("The session, humanInput type control", "SessionResponse"),
                    "401": error_response("Missing or invalid API key"),
                    "404": error_response("Session not found"),
                    "409": error_response("No task is running, or the agent waits for an answer or an approval (give it with resume)"),
                    "422": validation_response()
                }
            }
        },
        "/sessions/{session_id}/messages": {
            "get": {
                "summary": "A page of the session's message feed, in ascending order",
                "description": "after: the first `limit` messages after it. before: the `limit` messages immediately before it. Neither: the latest `limit` messages.",
                "operationId": "list_session_messages",
                "parameters": [
                    session_id_param(),
                    {"name": "after", "in": "query", "schema": {"type": "string", "format": "uuid"}},
                    {"name": "before", "in": "query", "schema": {"type": "string", "format": "uuid"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}}
                ],
                "responses": {
                    "200": json_response("Messages", "MessageListResponse"),
                    "401": error_response("Missing or invalid API key"),
                    "404": error_response("Session not found"),
                    "422": validation_response()
                }
            }
        }
    })
}

/// One operation of the browsers, profiles, workspaces and billing groups: their bodies are
/// described in api-v3.md §2.7-§2.10 and validated by the SDKs' own models.
fn op(summary: &str, id: &str, path_param: Option<&str>, ok: &str, query: &[&str]) -> Value {
    let mut parameters: Vec<Value> = path_param
        .map(|name| {
            json!({"name": name, "in": "path", "required": true,
                   "schema": {"type": "string", "format": "uuid"}})
        })
        .into_iter()
        .collect();
    parameters.extend(
        query
            .iter()
            .map(|name| json!({"name": name, "in": "query", "schema": {"type": "string"}})),
    );
    let mut responses = json!({
        "401": error_response("Missing or invalid API key"),
        "422": validation_response()
    });
    responses[ok] = json!({
        "description": "Success",
        "content": {"application/json": {"schema": {"type": ["object", "array"]}}}
    });
    if ok == "204" {
        responses[ok] = json!({"description": "Deleted"});
    }
    if path_param.is_some() {
        responses["404"] = error_response("Not found");
    }
    json!({"summary": summary, "operationId": id, "parameters": parameters, "responses": responses})
}

fn resource_paths() -> Value {
    let sid = Some("session_id");
    let pid = Some("profile_id");
    let wid = Some("workspace_id");
    let page = ["pageNumber", "pageSize"];
    json!({
        "/browsers": {
            "post": op("Start a standalone browser (timeout in minutes, at most 240: else 403)", "create_browser", None, "201", &[]),
            "get": op("List standalone browsers, or an agent session's browser", "list_browsers", None, "200", &["pageNumber", "pageSize", "filterBy", "agentSessionId", "metadata"])
        },
        "/browsers/{session_id}": {
            "get": op("A browser; an agent session's under the session's id", "get_browser", sid, "200", &[]),
            "patch": op("Stop a browser: {\"action\": \"stop\"}", "update_browser", sid, "200", &[])
        },
        "/browsers/{session_id}/downloads": {
            "get": op("Files the browser downloaded, with signed links", "list_browser_downloads", sid, "200", &["limit", "cursor", "includeUrls"])
        },
        "/profiles": {
            "post": op("Create a profile", "create_profile", None, "201", &[]),
            "get": op("List profiles (also page/page_size)", "list_profiles", None, "200", &["query", "pageNumber", "pageSize"])
        },
        "/profiles/{profile_id}": {
            "get": op("A profile", "get_profile", pid, "200", &[]),
            "patch": op("Rename a profile", "update_profile", pid, "200", &[]),
            "delete": op("Delete a profile and its saved state", "delete_profile", pid, "204", &[])
        },
        "/workspaces": {
            "post": op("Create a workspace (body optional)", "create_workspace", None, "201", &[]),
            "get": op("List workspaces", "list_workspaces", None, "200", &page)
        },
        "/workspaces/{workspace_id}": {
            "get": op("A workspace", "get_workspace", wid, "200", &[]),
            "patch": op("Rename a workspace", "update_workspace", wid, "200", &[]),
            "delete": op("Delete a workspace and its files", "delete_workspace", wid, "204", &[])
        },
        "/workspaces/{workspace_id}/files": {
            "get": op("List files", "list_workspace_files", wid, "200", &["prefix", "limit", "cursor", "includeUrls", "shallow"]),
            "delete": op("Delete a file", "delete_workspace_file", wid, "204", &["path"])
        },
        "/workspaces/{workspace_id}/files/upload": {
            "post": op("Signed upload links (PUT the bytes, no API key)", "upload_workspace_files", wid, "200", &["prefix"])
        },
        "/workspaces/{workspace_id}/size": {
            "get": op("Bytes and files in a workspace", "workspace_size", wid, "200", &[])
        },
        "/billing/account": {
            "get": op("The account: limits and active sessions (no billing when self-hosted)", "billing_account", None, "200", &[])
        }
    })
}

fn components() -> Value {
    let mut components = json!({
        "securitySchemes": {
            "APIKeyHeader": {"type": "apiKey", "in": "header", "name": "X-Browser-Use-API-Key"}
        }
    });
    components["schemas"] = schemas();
    components
}

fn schemas() -> Value {
    let status = json!({"type": "string", "enum": ["created", "idle", "running", "stopped", "timed_out", "error"]});
    let nullable_uuid = json!({"type": ["string", "null"], "format": "uuid"});
    let mut schemas = serde_json::Map::new();
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object", "required": ["detail"],
            "properties": {"detail": {"type": "string"}}
        }),
    );
    schemas.insert(
        "HTTPValidationError".into(),
        json!({
                    "type": "object",
                    "properties": {"detail": {"type": "array", "items": {
                        "type": "object", "required": ["loc", "msg", "type"],
                        "properties": {
                            "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                            "msg": {"type": "string"},
                            "type": {"type": "string"}
                        }
                    }}}
                }),
    );
    schemas.insert(
        "BuModel".into(),
        json!({"type": "string", "enum": BU_MODELS}),
    );
    schemas.insert("SessionStatus".into(), json!(status));
    schemas.insert(
        "RunTaskRequest".into(),
        json!({
                    "type": "object",
                    "properties": {
                        "task": {"type": ["string", "null"], "maxLength": super::models::MAX_TASK_CHARS},
                        "model": {"$ref": "#/components/schemas/BuModel"},
                        "thinkingLevel": {"type": ["string", "null"], "enum": ["disabled", "low", "medium", "high", null]},
                        "sessionId": nullable_uuid,
                        "keepAlive": {"type": "boolean", "default": false},
                        "maxCostUsd": {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string"}, {"type": "null"}]},
                        "profileId": nullable_uuid,
                        "workspaceId": nullable_uuid,
                        "proxyCountryCode": {"type": ["string", "null"], "pattern": "^[A-Za-z]{2}$"},
                        "browserScreenWidth": {"type": ["integer", "null"], "minimum": 320, "maximum": 6144},
                        "browserScreenHeight": {"type": ["integer", "null"], "minimum": 320, "maximum": 3456},
                        "outputSchema": {"type": ["object", "null"]},
                        "enableScheduledTasks": {"type": "boolean"},
                        "sensitiveData": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
                        "enableRecording": {"type": "boolean"},
                        "skills": {"type": "boolean"},
                        "agentmail": {"type": "boolean"},
                        "codeMode": {"type": "boolean"},
                        "cacheScript": {"type": ["boolean", "null"]},
                        "useOwnKey": {"type": "boolean"},
                        "autoHeal": {"type": "boolean"},
                        "requireApproval": {
                            "type": ["array", "null"],
                            "description": "Tandem: action kinds the human must approve first; the task waits (humanInput type approval) until POST /sessions/{id}/resume or the live view decides.",
                            "items": {"type": "string", "enum": ["submit", "purchase", "navigate_external", "upload"]}
                        }
                    }
                }),
    );
    schemas.insert(
        "HumanInput".into(),
        json!({
                    "type": "object",
                    "description": "Tandem: what the running task waits for from a human; the status stays running meanwhile.",
                    "required": ["type", "question", "requestedAt"],
                    "properties": {
                        "type": {"type": "string", "enum": ["question", "approval", "control"]},
                        "question": {"type": "string"},
                        "kind": {"type": "string", "description": "approval only: the action kind"},
                        "action": {"type": "string", "description": "approval only: the action, in one line"},
                        "requestedAt": {"type": "string", "format": "date-time"}
                    }
                }),
    );
    schemas.insert(
        "ResumeRequest".into(),
        json!({
                    "type": ["object", "null"],
                    "properties": {
                        "answer": {"type": ["string", "null"], "description": "The answer to a question; optional"},
                        "approve": {"type": ["boolean", "null"], "description": "The decision on an approval; required for one"}
                    }
                }),
    );
    schemas.insert(
        "StopSessionRequest".into(),
        json!({
                    "type": ["object", "null"],
                    "properties": {"strategy": {"type": "string", "enum": ["session", "task"], "default": "session"}}
                }),
    );
    schemas.insert(
        "SessionResponse".into(),
        json!({
                    "type": "object",
                    "required": ["id", "status", "model", "createdAt", "updatedAt"],
                    "properties": {
                        "id": {"type": "string", "format": "uuid"},
                        "status": {"$ref": "#/components/schemas/SessionStatus"},
                        "model": {"$ref": "#/components/schemas/BuModel"},
                        "thinkingLevel": {"type": ["string", "null"]},
                        "title": {"type": ["string", "null"]},
                        "output": {},
                        "outputSchema": {"type": ["object", "null"]},
                        "stepCount": {"type": "integer"},
                        "lastStepSummary": {"type": ["string", "null"]},
                        "isTaskSuccessful": {"type": ["boolean", "null"]},
                        "liveUrl": {"type": ["string", "null"], "description": "Interactive live view with its own token; null once the session ended."},
                        "recordingUrls": {"type": "array", "items": {"type": "string"}},
                        "profileId": nullable_uuid,
                        "workspaceId": nullable_uuid,
                        "proxyCountryCode": {"type": ["string", "null"]},
                        "browserScreenWidth": {"type": ["integer", "null"]},
                        "browserScreenHeight": {"type": ["integer", "null"]},
                        "maxCostUsd": decimal(),
                        "totalInputTokens": {"type": "integer"},
                        "totalOutputTokens": {"type": "integer"},
                        "proxyUsedMb": decimal(),
                        "llmCostUsd": decimal(),
                        "proxyCostUsd": decimal(),
                        "browserCostUsd": decimal(),
                        "totalCostUsd": decimal(),
                        "screenshotUrl": {"type": ["string", "null"]},
                        "agentmailEmail": {"type": ["string", "null"]},
                        "integrationsUsed": {"type": "array", "items": {"type": "string"}},
                        "humanInput": {"anyOf": [{"$ref": "#/components/schemas/HumanInput"}, {"type": "null"}]},
                        "createdAt": {"type": "string", "format": "date-time"},
                        "updatedAt": {"type": "string", "format": "date-time"}
                    }
                }),
    );
    schemas.insert(
        "SessionListResponse".into(),
        json!({
                    "type": "object",
                    "required": ["sessions", "total", "page", "pageSize"],
                    "properties": {
                        "sessions": {"type": "array", "items": {"$ref": "#/components/schemas/SessionResponse"}},
                        "total": {"type": "integer"},
                        "page": {"type": "integer"},
                        "pageSize": {"type": "integer"}
                    }
                }),
    );
    schemas.insert(
        "MessageResponse".into(),
        json!({
            "type": "object",
            "required": ["id", "sessionId", "role", "data", "createdAt"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "sessionId": {"type": "string", "format": "uuid"},
                "role": {"type": "string", "description": "user, assistant or tool"},
                "data": {"type": "string", "description": "JSON-encoded OpenAI-style chat message"},
                "type": {"type": "string"},
                "summary": {"type": "string"},
                "screenshotUrl": {"type": ["string", "null"]},
                "hidden": {"type": "boolean"},
                "createdAt": {"type": "string", "format": "date-time"}
            }
        }),
    );
    schemas.insert(
        "MessageListResponse".into(),
        json!({
                    "type": "object",
                    "required": ["messages", "hasMore"],
                    "properties": {
                        "messages": {"type": "array", "items": {"$ref": "#/components/schemas/MessageResponse"}},
                        "hasMore": {"type": "boolean"}
                    }
                }),
    );
    Value::Object(schemas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_resolves() {
        let doc = document();
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for part in text.split("#/components/schemas/").skip(1) {
            let name: String = part
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            assert!(schemas.contains_key(&name), "dangling $ref {name}");
        }
        assert_eq!(doc["openapi"], "3.1.0");
    }
}
