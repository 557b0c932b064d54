//! What the tools answer: the API's JSON reshaped for a model. Keys are snake_case like the
//! tools' parameters, only what helps decide the next call is kept, and every session comes
//! with `next`, a sentence saying what can be done now (poll, answer the agent, follow up).

use serde_json::{Map, Value, json};

/// Longest message `data` returned in a feed; longer ones are cut (the summary stays whole).
pub const MAX_DATA_CHARS: usize = 2_000;

fn field(source: &Value, name: &str) -> Value {
    source.get(name).cloned().unwrap_or(Value::Null)
}

/// A session (the API's `SessionResponse`) as the tools answer it.
pub fn session(api: &Value) -> Value {
    let status = api.get("status").and_then(Value::as_str).unwrap_or("");
    let human_input = field(api, "humanInput");
    let mut view = Map::new();
    for (key, from) in [
        ("session_id", "id"),
        ("status", "status"),
        ("live_url", "liveUrl"),
        ("step_count", "stepCount"),
        ("output", "output"),
        ("is_task_successful", "isTaskSuccessful"),
        ("last_step_summary", "lastStepSummary"),
        ("title", "title"),
        ("model", "model"),
        ("profile_id", "profileId"),
        ("workspace_id", "workspaceId"),
    ] {
        view.insert(key.into(), field(api, from));
    }
    view.insert("human_input".into(), snake_human_input(&human_input));
    view.insert(
        "cost".into(),
        json!({
            "total_cost_usd": field(api, "totalCostUsd"),
            "llm_cost_usd": field(api, "llmCostUsd"),
            "browser_cost_usd": field(api, "browserCostUsd"),
            "proxy_cost_usd": field(api, "proxyCostUsd"),
            "total_input_tokens": field(api, "totalInputTokens"),
            "total_output_tokens": field(api, "totalOutputTokens"),
        }),
    );
    view.insert("created_at".into(), field(api, "createdAt"));
    view.insert("updated_at".into(), field(api, "updatedAt"));
    view.insert("next".into(), Value::String(next(status, &human_input)));
    Value::Object(view)
}

/// A session in a list: the essentials only.
pub fn session_summary(api: &Value) -> Value {
    json!({
        "session_id": field(api, "id"),
        "status": field(api, "status"),
        "title": field(api, "title"),
        "step_count": field(api, "stepCount"),
        "is_task_successful": field(api, "isTaskSuccessful"),
        "total_cost_usd": field(api, "totalCostUsd"),
        "live_url": field(api, "liveUrl"),
        "waiting_for_human": !field(api, "humanInput").is_null(),
        "created_at": field(api, "createdAt"),
    })
}

/// `humanInput` with snake_case keys (`requestedAt` becomes `requested_at`).
fn snake_human_input(input: &Value) -> Value {
    match input {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (snake(key), value.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn snake(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// What a model can do with a session in this state.
pub fn next(status: &str, human_input: &Value) -> String {
    let kind = human_input.get("type").and_then(Value::as_str);
    let question = human_input
        .get("question")
        .and_then(Value::as_str)
        .unwrap_or("");
    match (status, kind) {
        ("running", Some("question")) => format!(
            "The agent is waiting for an answer to: {question} Answer with resume_session \
             (answer), or let a human answer in the live view at live_url."
        ),
        ("running", Some("approval")) => format!(
            "The agent waits for approval: {question} Decide with resume_session \
             (approve true or false), or let a human decide in the live view at live_url."
        ),
        ("running", Some("control")) => "A human holds the browser (live view at live_url); \
             the agent is paused. Hand it back with resume_session when the human is done."
            .into(),
        ("running", _) => "The task is running. Call get_session until status is idle or \
             stopped; a human can watch or take over at live_url (take_control)."
            .into(),
        ("created", _) => "The session is ready and has no task: send one with send_task.".into(),
        ("idle", _) => "The task has ended; output holds its result. Send a follow-up with \
             send_task, or end the session with stop_session."
            .into(),
        ("stopped", _) => "The session has ended; output holds the last task's result.".into(),
        ("timed_out", _) => "The session timed out and has ended.".into(),
        ("error", _) => "The session ended with an error; last_step_summary says why.".into(),
        _ => "Call get_session for the current state.".into(),
    }
}

/// A feed message (the API's `MessageResponse`) as the tools answer it; long `data` is cut.
pub fn message(api: &Value) -> Value {
    let data = match api.get("data") {
        Some(Value::String(text)) if text.chars().count() > MAX_DATA_CHARS => {
            let cut: String = text.chars().take(MAX_DATA_CHARS).collect();
            Value::String(format!("{cut}… (cut)"))
        }
        Some(other) => other.clone(),
        None => Value::Null,
    };
    json!({
        "id": field(api, "id"),
        "role": field(api, "role"),
        "type": field(api, "type"),
        "summary": field(api, "summary"),
        "data": data,
        "created_at": field(api, "createdAt"),
    })
}

/// A browser profile (the API's `ProfileView`) as the tools answer it.
pub fn profile(api: &Value) -> Value {
    json!({
        "profile_id": field(api, "id"),
        "name": field(api, "name"),
        "user_id": field(api, "userId"),
        "cookie_domains": field(api, "cookieDomains"),
        "last_used_at": field(api, "lastUsedAt"),
        "created_at": field(api, "createdAt"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_keeps_what_a_model_acts_on() {
        let api = json!({
            "id": "0193", "status": "running", "liveUrl": "http://h/live/0193?token=t",
            "stepCount": 3, "output": null, "isTaskSuccessful": null,
            "lastStepSummary": "Clicked", "title": null, "model": "bu-mini",
            "totalCostUsd": "0.01", "llmCostUsd": "0.01", "browserCostUsd": "0",
            "proxyCostUsd": "0", "totalInputTokens": 10, "totalOutputTokens": 2,
            "cdpUrl": "ws://secret-ish", "humanInput": {"type": "question",
            "question": "Which one?", "requestedAt": "2026-12-07T00:00:00Z"},
            "createdAt": "c", "updatedAt": "u"
        });
        let view = session(&api);
        assert_eq!(view["session_id"], "0193");
        assert_eq!(view["live_url"], "http://h/live/0193?token=t");
        assert_eq!(view["step_count"], 3);
        assert_eq!(view["cost"]["total_cost_usd"], "0.01");
        assert_eq!(view["human_input"]["requested_at"], "2026-12-07T00:00:00Z");
        assert!(view.get("cdp_url").is_none());
        let next = view["next"].as_str().unwrap();
        assert!(next.contains("Which one?") && next.contains("resume_session"));
    }

    #[test]
    fn next_names_the_tool_for_each_state() {
        assert!(next("idle", &Value::Null).contains("send_task"));
        assert!(next("running", &Value::Null).contains("get_session"));
        assert!(
            next("running", &json!({"type": "approval", "question": "Pay?"})).contains("approve")
        );
        assert!(next("running", &json!({"type": "control"})).contains("Hand it back"));
        assert!(next("stopped", &Value::Null).contains("ended"));
    }

    #[test]
    fn long_message_data_is_cut() {
        let long = "x".repeat(MAX_DATA_CHARS + 10);
        let view = message(&json!({"id": "m", "data": long, "summary": "s"}));
        let data = view["data"].as_str().unwrap();
        assert!(data.ends_with("… (cut)"));
        assert_eq!(
            data.chars().count(),
            MAX_DATA_CHARS + "… (cut)".chars().count()
        );
        assert_eq!(message(&json!({"data": "short"}))["data"], "short");
    }
}
