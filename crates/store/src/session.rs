//! The session record: everything a `SessionResponse` needs, plus bookkeeping.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

/// Where a session is in its lifecycle (api-v3 §7). The string forms are the wire values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionStatus {
    /// Accepted, browser starting.
    Created,
    /// Ready and waiting for a task.
    Idle,
    /// A task is running.
    Running,
    /// Stopped by a user or at the end of a task without keep-alive.
    Stopped,
    /// Ended by the inactivity or maximum-duration limit.
    TimedOut,
    /// Ended by a failure of the run or of the browser.
    Error,
}

impl SessionStatus {
    /// Every status, for validation and iteration.
    pub const ALL: [SessionStatus; 6] = [
        SessionStatus::Created,
        SessionStatus::Idle,
        SessionStatus::Running,
        SessionStatus::Stopped,
        SessionStatus::TimedOut,
        SessionStatus::Error,
    ];

    /// The wire and database form, e.g. `"timed_out"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Created => "created",
            SessionStatus::Idle => "idle",
            SessionStatus::Running => "running",
            SessionStatus::Stopped => "stopped",
            SessionStatus::TimedOut => "timed_out",
            SessionStatus::Error => "error",
        }
    }

    /// True while the session holds a browser (created, idle or running); these count
    /// against the concurrent-session limit.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            SessionStatus::Created | SessionStatus::Idle | SessionStatus::Running
        )
    }

    /// True once the session can never run again (stopped, timed out, error).
    pub fn is_final(self) -> bool {
        !self.is_active()
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SessionStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SessionStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown session status {s:?}"))
    }
}

/// One session as persisted. The supervisor owns the live copy and saves it whole.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// UUID v7, so ids sort by creation time.
    pub id: Uuid,
    /// Lifecycle state; only the supervisor changes it.
    pub status: SessionStatus,
    /// The BuModel name reported to clients.
    pub model: String,
    /// Requested reasoning effort, if any.
    pub thinking_level: Option<String>,
    /// Short title derived from the first task.
    pub title: Option<String>,
    /// The latest task's instruction.
    pub task: Option<String>,
    /// Whether the session goes back to idle (true) or stops (false) after a task.
    pub keep_alive: bool,
    /// Final answer of the latest task.
    pub output: Option<Value>,
    /// JSON Schema the latest task's output must follow.
    pub output_schema: Option<Value>,
    /// Agent steps taken by the latest task.
    pub step_count: i64,
    /// One line about the latest step or about why the session ended.
    pub last_step_summary: Option<String>,
    /// Whether the latest task succeeded; None while running or before any task.
    pub is_task_successful: Option<bool>,
    /// LLM prompt tokens of all the session's tasks.
    pub total_input_tokens: i64,
    /// LLM answer tokens of all the session's tasks.
    pub total_output_tokens: i64,
    /// LLM cost of all the session's tasks, as a decimal string ("0" when unknown).
    pub llm_cost_usd: String,
    /// What the running task waits for from a human (a question, an approval, or the
    /// control back), as the API shows it; `None` when the agent needs no one.
    pub human_input: Option<Value>,
    /// Browser profile requested at creation.
    pub profile_id: Option<Uuid>,
    /// Why the profile was not saved when the session ended; `None` when it was (or there
    /// is none), so a failed save is visible on the session's browser, not only in its feed.
    pub profile_error: Option<String>,
    /// Workspace requested at creation.
    pub workspace_id: Option<Uuid>,
    /// Lower-case ISO 3166 alpha-2 proxy country, echoed back.
    pub proxy_country_code: Option<String>,
    /// Requested browser viewport width.
    pub screen_width: Option<i64>,
    /// Requested browser viewport height.
    pub screen_height: Option<i64>,
    /// Cost cap, as a decimal string.
    pub max_cost_usd: Option<String>,
    /// Bytes that went through the browser's upstream proxy (0 without one).
    pub proxy_bytes: i64,
    /// Id of the pool browser this session owns.
    pub browser_id: Option<String>,
    /// Why the session ended, for operators; clients see `last_step_summary`.
    pub end_reason: Option<String>,
    /// When the maximum session duration runs out; also the live-view token's expiry.
    pub expires_at: DateTime<Utc>,
    /// Soft-delete flag: deleted sessions are invisible to reads.
    pub deleted: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl SessionRecord {
    /// A fresh `created` session with every optional field empty.
    pub fn new(id: Uuid, model: impl Into<String>, expires_at: DateTime<Utc>) -> Self {
        let now = crate::now();
        SessionRecord {
            id,
            status: SessionStatus::Created,
            model: model.into(),
            thinking_level: None,
            title: None,
            task: None,
            keep_alive: false,
            output: None,
            output_schema: None,
            step_count: 0,
            last_step_summary: None,
            is_task_successful: None,
            total_input_tokens: 0,
            total_output_tokens: 0,
            llm_cost_usd: "0".into(),
            human_input: None,
            profile_id: None,
            profile_error: None,
            workspace_id: None,
            proxy_country_code: None,
            screen_width: None,
            screen_height: None,
            max_cost_usd: None,
            proxy_bytes: 0,
            browser_id: None,
            end_reason: None,
            expires_at,
            deleted: false,
            created_at: now,
            updated_at: now,
        }
    }
}
