//! Rows as both backends read them, and their conversion into records.
//!
//! Both schemas use the same column names and compatible types (ids and JSON as text,
//! timestamps, 64-bit integers, booleans), so one row type per table serves SQLite and
//! PostgreSQL alike and a record reads back the same from either.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use sqlx::FromRow;
use uuid::Uuid;

use crate::{
    BrowserRecord, BrowserStatus, MessageRecord, NewMessage, ProfileRecord, SessionRecord,
    SessionStatus, StoreError, WorkspaceRecord,
};

#[derive(FromRow)]
pub(crate) struct SessionRow {
    id: String,
    status: String,
    model: String,
    thinking_level: Option<String>,
    title: Option<String>,
    task: Option<String>,
    keep_alive: bool,
    output: Option<String>,
    output_schema: Option<String>,
    step_count: i64,
    last_step_summary: Option<String>,
    is_task_successful: Option<bool>,
    total_input_tokens: i64,
    total_output_tokens: i64,
    llm_cost_usd: String,
    human_input: Option<String>,
    profile_error: Option<String>,
    profile_id: Option<String>,
    workspace_id: Option<String>,
    proxy_country_code: Option<String>,
    screen_width: Option<i64>,
    screen_height: Option<i64>,
    max_cost_usd: Option<String>,
    proxy_bytes: i64,
    browser_id: Option<String>,
    end_reason: Option<String>,
    expires_at: DateTime<Utc>,
    deleted: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(FromRow)]
pub(crate) struct MessageRow {
    seq: i64,
    id: String,
    session_id: String,
    role: String,
    data: String,
    #[sqlx(rename = "type")]
    kind: String,
    summary: String,
    screenshot_url: Option<String>,
    hidden: bool,
    created_at: DateTime<Utc>,
}

pub(crate) fn corrupt(table: &'static str, detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        table,
        detail: detail.into(),
    }
}

pub(crate) fn parse_uuid(table: &'static str, value: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(value).map_err(|e| corrupt(table, format!("bad uuid {value:?}: {e}")))
}

pub(crate) fn parse_json(
    table: &'static str,
    value: Option<String>,
) -> Result<Option<serde_json::Value>, StoreError> {
    value
        .map(|text| {
            serde_json::from_str(&text).map_err(|e| corrupt(table, format!("bad JSON: {e}")))
        })
        .transpose()
}

pub(crate) fn json_text(value: &Option<serde_json::Value>) -> Option<String> {
    value.as_ref().map(|v| v.to_string())
}

impl TryFrom<SessionRow> for SessionRecord {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        const T: &str = "sessions";
        Ok(SessionRecord {
            id: parse_uuid(T, &row.id)?,
            status: SessionStatus::from_str(&row.status).map_err(|e| corrupt(T, e))?,
            model: row.model,
            thinking_level: row.thinking_level,
            title: row.title,
            task: row.task,
            keep_alive: row.keep_alive,
            output: parse_json(T, row.output)?,
            output_schema: parse_json(T, row.output_schema)?,
            step_count: row.step_count,
            last_step_summary: row.last_step_summary,
            is_task_successful: row.is_task_successful,
            total_input_tokens: row.total_input_tokens,
            total_output_tokens: row.total_output_tokens,
            llm_cost_usd: row.llm_cost_usd,
            human_input: parse_json(T, row.human_input)?,
            profile_error: row.profile_error,
            profile_id: row
                .profile_id
                .as_deref()
                .map(|v| parse_uuid(T, v))
                .transpose()?,
            workspace_id: row
                .workspace_id
                .as_deref()
                .map(|v| parse_uuid(T, v))
                .transpose()?,
            proxy_country_code: row.proxy_country_code,
            screen_width: row.screen_width,
            screen_height: row.screen_height,
            max_cost_usd: row.max_cost_usd,
            proxy_bytes: row.proxy_bytes,
            browser_id: row.browser_id,
            end_reason: row.end_reason,
            expires_at: row.expires_at,
            deleted: row.deleted,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

impl TryFrom<MessageRow> for MessageRecord {
    type Error = StoreError;

    fn try_from(row: MessageRow) -> Result<Self, StoreError> {
        const T: &str = "messages";
        Ok(MessageRecord {
            id: parse_uuid(T, &row.id)?,
            seq: row.seq,
            message: NewMessage {
                session_id: parse_uuid(T, &row.session_id)?,
                role: row.role,
                data: row.data,
                kind: row.kind,
                summary: row.summary,
                screenshot_url: row.screenshot_url,
                hidden: row.hidden,
            },
            created_at: row.created_at,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct BrowserRow {
    id: String,
    status: String,
    profile_id: Option<String>,
    proxy_country_code: Option<String>,
    proxy_bytes: i64,
    screen_width: Option<i64>,
    screen_height: Option<i64>,
    metadata: String,
    browser_id: Option<String>,
    end_reason: Option<String>,
    profile_error: Option<String>,
    timeout_at: DateTime<Utc>,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<BrowserRow> for BrowserRecord {
    type Error = StoreError;

    fn try_from(row: BrowserRow) -> Result<Self, StoreError> {
        const T: &str = "browsers";
        Ok(BrowserRecord {
            id: parse_uuid(T, &row.id)?,
            status: BrowserStatus::parse(&row.status)
                .ok_or_else(|| corrupt(T, format!("unknown status {:?}", row.status)))?,
            profile_id: row
                .profile_id
                .as_deref()
                .map(|v| parse_uuid(T, v))
                .transpose()?,
            proxy_country_code: row.proxy_country_code,
            proxy_bytes: row.proxy_bytes,
            screen_width: row.screen_width,
            screen_height: row.screen_height,
            metadata: serde_json::from_str::<BTreeMap<String, String>>(&row.metadata)
                .map_err(|e| corrupt(T, format!("bad metadata: {e}")))?,
            browser_id: row.browser_id,
            end_reason: row.end_reason,
            profile_error: row.profile_error,
            timeout_at: row.timeout_at,
            started_at: row.started_at,
            finished_at: row.finished_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct ProfileRow {
    id: String,
    name: Option<String>,
    user_id: Option<String>,
    cookie_domains: Option<String>,
    last_used_at: Option<DateTime<Utc>>,
    last_save_error: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ProfileRow> for ProfileRecord {
    type Error = StoreError;

    fn try_from(row: ProfileRow) -> Result<Self, StoreError> {
        const T: &str = "profiles";
        Ok(ProfileRecord {
            id: parse_uuid(T, &row.id)?,
            name: row.name,
            user_id: row.user_id,
            cookie_domains: row
                .cookie_domains
                .map(|text| {
                    serde_json::from_str::<Vec<String>>(&text)
                        .map_err(|e| corrupt(T, format!("bad cookie domains: {e}")))
                })
                .transpose()?,
            last_used_at: row.last_used_at,
            last_save_error: row.last_save_error,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct WorkspaceRow {
    id: String,
    name: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<WorkspaceRow> for WorkspaceRecord {
    type Error = StoreError;

    fn try_from(row: WorkspaceRow) -> Result<Self, StoreError> {
        Ok(WorkspaceRecord {
            id: parse_uuid("workspaces", &row.id)?,
            name: row.name,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

pub(crate) fn convert<R, T: TryFrom<R, Error = StoreError>>(
    rows: Vec<R>,
) -> Result<Vec<T>, StoreError> {
    rows.into_iter().map(T::try_from).collect()
}

/// A page bound as SQL's signed integer.
pub(crate) fn bound(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
