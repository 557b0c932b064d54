//! What a client asks for: a new session, a task; and how a task dispatch changes a record.

use serde_json::Value;
use store::{NewMessage, SessionRecord, SessionStatus, Uuid};

/// The model reported when the client names none (the v3 API's default).
pub const DEFAULT_MODEL: &str = "claude-opus-4.7";

/// One task to run, as validated by the API layer.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskSpec {
    /// The instruction; never empty.
    pub task: String,
    /// BuModel name, when the client gave one.
    pub model: Option<String>,
    /// Reasoning effort, when the client gave one.
    pub thinking_level: Option<String>,
    /// Back to idle (true) or stop (false) after the task.
    pub keep_alive: bool,
    /// JSON Schema for the output.
    pub output_schema: Option<Value>,
    /// Cost cap for this task, as a decimal string.
    pub max_cost_usd: Option<String>,
    /// Secrets the agent may type; never stored (its `Debug` shows the keys only).
    pub sensitive_data: agent::SensitiveData,
    /// Action kinds the human must approve before the agent does them.
    pub require_approval: Vec<agent::ApprovalKind>,
}

/// A session to create, optionally with its first task.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewSession {
    /// BuModel name for the session.
    pub model: Option<String>,
    /// Browser profile to load.
    pub profile_id: Option<Uuid>,
    /// Workspace to attach.
    pub workspace_id: Option<Uuid>,
    /// Lower-case proxy country; `None` when no proxy serves it (see [`crate::proxies`]).
    pub proxy_country_code: Option<String>,
    /// The proxy the session's browser goes through, if any (boxed: most sessions have none).
    pub proxy: Option<Box<crate::proxies::ProxyChoice>>,
    /// Requested viewport width.
    pub screen_width: Option<i64>,
    /// Requested viewport height.
    pub screen_height: Option<i64>,
    /// Keep-alive for a session created without a task.
    pub keep_alive: bool,
    /// Cost cap.
    pub max_cost_usd: Option<String>,
    /// The first task, if any.
    pub task: Option<TaskSpec>,
}

/// Longest title derived from a task.
const TITLE_CHARS: usize = 60;
/// Longest one-line summary of a task in the feed.
const SUMMARY_CHARS: usize = 120;

/// `text` on one line, cut to `max` characters with an ellipsis.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let mut cut: String = line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Puts `record` into `running` for `spec`: clears the previous task's results and returns
/// the `user` message that must be stored in the same write.
pub(crate) fn begin_task(record: &mut SessionRecord, spec: &TaskSpec) -> NewMessage {
    record.status = SessionStatus::Running;
    record.task = Some(spec.task.clone());
    record.keep_alive = spec.keep_alive;
    if let Some(model) = &spec.model {
        record.model = model.clone();
    }
    if spec.thinking_level.is_some() {
        record.thinking_level = spec.thinking_level.clone();
    }
    if spec.max_cost_usd.is_some() {
        record.max_cost_usd = spec.max_cost_usd.clone();
    }
    record.output_schema = spec.output_schema.clone();
    record.output = None;
    record.is_task_successful = None;
    record.last_step_summary = None;
    record.step_count = 0;
    if record.title.is_none() {
        record.title = Some(shorten(&spec.task, TITLE_CHARS));
    }
    record.updated_at = store::now();
    NewMessage {
        session_id: record.id,
        role: "user".into(),
        data: serde_json::json!({ "content": spec.task }).to_string(),
        kind: "user_message".into(),
        summary: shorten(&spec.task, SUMMARY_CHARS),
        screenshot_url: None,
        hidden: false,
    }
}

/// An `assistant` message explaining why a task or session ended, for the feed.
pub(crate) fn assistant_message(session_id: Uuid, text: &str) -> NewMessage {
    NewMessage {
        session_id,
        role: "assistant".into(),
        data: serde_json::json!({ "content": text }).to_string(),
        kind: "assistant_message".into(),
        summary: shorten(text, SUMMARY_CHARS),
        screenshot_url: None,
        hidden: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_keeps_one_line_and_cuts_on_characters() {
        assert_eq!(shorten("a\n b\tc", 10), "a b c");
        assert_eq!(shorten("ééééé", 3), "éé…");
    }

    #[test]
    fn begin_task_resets_results_and_writes_the_user_message() {
        let mut record = SessionRecord::new(Uuid::now_v7(), DEFAULT_MODEL, store::now());
        record.status = SessionStatus::Idle;
        record.output = Some(Value::String("old".into()));
        record.is_task_successful = Some(true);
        record.last_step_summary = Some("old".into());
        let spec = TaskSpec {
            task: "Find the top story".into(),
            model: Some("bu-mini".into()),
            thinking_level: None,
            keep_alive: true,
            output_schema: None,
            max_cost_usd: None,
            sensitive_data: Default::default(),
            require_approval: Vec::new(),
        };
        let message = begin_task(&mut record, &spec);
        assert_eq!(record.status, SessionStatus::Running);
        assert_eq!(record.output, None);
        assert_eq!(record.is_task_successful, None);
        assert_eq!(record.last_step_summary, None);
        assert_eq!(record.model, "bu-mini");
        assert!(record.keep_alive);
        assert_eq!(record.title.as_deref(), Some("Find the top story"));
        assert_eq!(message.role, "user");
        assert_eq!(message.kind, "user_message");
        let data: Value = serde_json::from_str(&message.data).unwrap();
        assert_eq!(data, serde_json::json!({"content": "Find the top story"}));
    }
}
