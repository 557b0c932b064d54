//! Wire types of `/api/v3/sessions`, field by field as in api-v3.md §2–§4: camelCase keys,
//! decimal strings for money, UTC timestamps with `Z`, lower-case proxy country codes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value, json};
use store::{MessageRecord, SessionRecord};
use uuid::Uuid;

use super::errors::{ApiError, FieldError};
use crate::sessions::{NewSession, StopStrategy, TaskSpec};

/// The `model` names the SDKs accept (BuModel in Python 3.12.1 and TS 3.11.3).
pub const BU_MODELS: [&str; 24] = [
    "bu-mini",
    "bu-max",
    "bu-ultra",
    "gemini-3-flash",
    "claude-opus-4.6",
    "claude-opus-4.7",
    "claude-sonnet-5",
    "claude-opus-4.8",
    "gpt-5.4-mini",
    "glm-5.2",
    "minimax-m3",
    "grok-4.6",
    "glm-5.3-flash",
    "deepseek-v4-flash-vision",
    "claude-haiku-4.5",
    "gpt-5.2",
    "gpt-5-mini",
    "gpt-5.5",
    "gpt-5.6-sol",
    "gpt-5.6-terra",
    "gpt-5.6-luna",
    "gemini-3-pro",
    "gemini-3.1-pro",
    "gemini-3.5-flash",
];

/// Longest task accepted, in characters; longer instructions are almost surely a mistake.
pub const MAX_TASK_CHARS: usize = 50_000;

fn enum_message(allowed: &[&str]) -> String {
    let quoted: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
    match quoted.split_last() {
        Some((last, [])) => format!("Input should be {last}"),
        Some((last, rest)) => format!("Input should be {} or {last}", rest.join(", ")),
        None => "Input should be a known value".into(),
    }
}

/// A `model` value from [`BU_MODELS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelName(pub String);

impl<'de> Deserialize<'de> for ModelName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        if BU_MODELS.contains(&name.as_str()) {
            Ok(ModelName(name))
        } else {
            Err(serde::de::Error::custom(enum_message(&BU_MODELS)))
        }
    }
}

/// `thinkingLevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThinkingLevel {
    /// No extended reasoning.
    Disabled,
    /// Light reasoning.
    Low,
    /// Medium reasoning.
    Medium,
    /// Heavy reasoning.
    High,
}

impl ThinkingLevel {
    fn as_str(self) -> &'static str {
        match self {
            ThinkingLevel::Disabled => "disabled",
            ThinkingLevel::Low => "low",
            ThinkingLevel::Medium => "medium",
            ThinkingLevel::High => "high",
        }
    }
}

/// A two-letter ISO 3166-1 country code, lower-cased (the SDK's enum is lower-case; TS may
/// send upper case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryCode(pub String);

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        if code.len() == 2 && code.chars().all(|c| c.is_ascii_alphabetic()) {
            Ok(CountryCode(code.to_ascii_lowercase()))
        } else {
            Err(serde::de::Error::custom(
                "Input should be a two-letter ISO 3166-1 country code such as 'us'",
            ))
        }
    }
}

/// A non-negative decimal given as a JSON number or a decimal string, kept as a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal(pub String);

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let invalid = || serde::de::Error::custom("Input should be a valid decimal");
        let text = match Value::deserialize(d)? {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.trim().to_string(),
            _ => return Err(invalid()),
        };
        let digits = text.strip_prefix('+').unwrap_or(&text);
        let mut parts = digits.splitn(2, '.');
        let whole = parts.next().unwrap_or("");
        let fraction = parts.next().unwrap_or("");
        let well_formed = !(whole.is_empty() && fraction.is_empty())
            && whole.chars().all(|c| c.is_ascii_digit())
            && fraction.chars().all(|c| c.is_ascii_digit());
        if well_formed {
            Ok(Decimal(digits.to_string()))
        } else if text.starts_with('-') {
            Err(serde::de::Error::custom(
                "Input should be greater than or equal to 0",
            ))
        } else {
            Err(invalid())
        }
    }
}

/// `RunTaskRequest`: the body of `POST /sessions`. Every field is optional; unknown keys are
/// ignored because both SDKs forward extra keyword arguments verbatim. Fields Tandem does not
/// act on yet are still type-checked so that a malformed request is a 422, as in the cloud.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // Type-checked only, until the features behind them exist.
pub struct RunTaskRequest {
    task: Option<String>,
    model: Option<ModelName>,
    thinking_level: Option<ThinkingLevel>,
    session_id: Option<Uuid>,
    keep_alive: Option<bool>,
    max_cost_usd: Option<Decimal>,
    profile_id: Option<Uuid>,
    workspace_id: Option<Uuid>,
    proxy_country_code: Option<CountryCode>,
    browser_screen_width: Option<i64>,
    browser_screen_height: Option<i64>,
    output_schema: Option<Map<String, Value>>,
    enable_scheduled_tasks: Option<bool>,
    sensitive_data: Option<HashMap<String, String>>,
    enable_recording: Option<bool>,
    skills: Option<bool>,
    agentmail: Option<bool>,
    code_mode: Option<bool>,
    cache_script: Option<bool>,
    use_own_key: Option<bool>,
    auto_heal: Option<bool>,
    /// Tandem's addition: action kinds the human must approve first (`submit`,
    /// `purchase`, `navigate_external`, `upload`).
    require_approval: Option<Vec<String>>,
}

/// What a `POST /sessions` asks for, once validated.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionRequest {
    /// A new session, with or without a first task.
    Create(NewSession),
    /// A task for an existing session.
    Dispatch(Uuid, TaskSpec),
}

/// Checks `browserScreenWidth` (320-6144) and `browserScreenHeight` (320-3456), as the SDK
/// models do, for sessions and browsers alike.
pub(crate) fn check_screen_size(
    errors: &mut Vec<FieldError>,
    width: Option<i64>,
    height: Option<i64>,
) {
    check_range(errors, "browserScreenWidth", width, 320, 6144);
    check_range(errors, "browserScreenHeight", height, 320, 3456);
}

/// Adds a FastAPI-style error at `body.<name>` when `value` is outside `min..=max`.
fn check_range(errors: &mut Vec<FieldError>, name: &str, value: Option<i64>, min: i64, max: i64) {
    match value {
        Some(v) if v < min => errors.push(FieldError::at(
            "body",
            name,
            format!("Input should be greater than or equal to {min}"),
            "greater_than_equal",
        )),
        Some(v) if v > max => errors.push(FieldError::at(
            "body",
            name,
            format!("Input should be less than or equal to {max}"),
            "less_than_equal",
        )),
        _ => {}
    }
}

impl RunTaskRequest {
    /// Validates the combination of fields (§2.1) and says what to do.
    pub fn into_request(self) -> Result<SessionRequest, ApiError> {
        let mut errors = Vec::new();
        if let Some(task) = &self.task {
            if task.trim().is_empty() {
                errors.push(FieldError::at(
                    "body",
                    "task",
                    "task must not be empty",
                    "string_too_short",
                ));
            } else if task.chars().count() > MAX_TASK_CHARS {
                errors.push(FieldError::at(
                    "body",
                    "task",
                    format!("String should have at most {MAX_TASK_CHARS} characters"),
                    "string_too_long",
                ));
            }
        }
        if self.session_id.is_some() && self.task.is_none() {
            errors.push(FieldError::at(
                "body",
                "task",
                "task is required when targeting an existing session",
                "missing",
            ));
        }
        check_screen_size(
            &mut errors,
            self.browser_screen_width,
            self.browser_screen_height,
        );
        if self.browser_screen_width.is_some() != self.browser_screen_height.is_some() {
            errors.push(FieldError::new(
                vec![json!("body")],
                "browserScreenWidth and browserScreenHeight must be set together",
                "value_error",
            ));
        }
        let mut require_approval = Vec::new();
        for (i, kind) in self.require_approval.iter().flatten().enumerate() {
            match kind.parse::<agent::ApprovalKind>() {
                Ok(kind) if !require_approval.contains(&kind) => require_approval.push(kind),
                Ok(_) => {}
                Err(e) => errors.push(FieldError::new(
                    vec![json!("body"), json!("requireApproval"), json!(i)],
                    e,
                    "enum",
                )),
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }

        let model = self.model.map(|m| m.0);
        let max_cost_usd = self.max_cost_usd.map(|d| d.0);
        let task = self.task.map(|task| TaskSpec {
            task,
            model: model.clone(),
            thinking_level: self.thinking_level.map(|t| t.as_str().to_string()),
            keep_alive: self.keep_alive.unwrap_or(false),
            output_schema: self.output_schema.map(Value::Object),
            max_cost_usd: max_cost_usd.clone(),
            sensitive_data: agent::SensitiveData::new(self.sensitive_data.unwrap_or_default()),
            require_approval,
        });
        Ok(match (self.session_id, task) {
            (Some(id), Some(task)) => SessionRequest::Dispatch(id, task),
            (_, task) => SessionRequest::Create(NewSession {
                model,
                profile_id: self.profile_id,
                workspace_id: self.workspace_id,
                proxy_country_code: self.proxy_country_code.map(|c| c.0),
                // Chosen from the operator's table by the handler.
                proxy: None,
                screen_width: self.browser_screen_width,
                screen_height: self.browser_screen_height,
                keep_alive: self.keep_alive.unwrap_or(false),
                max_cost_usd,
                task,
            }),
        })
    }
}

/// The `strategy` of a stop request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StopStrategyWire {
    /// Stop the whole session.
    Session,
    /// Stop only the running task.
    Task,
}

/// Body of `POST /sessions/{id}/stop`; may be absent or `null`.
#[derive(Debug, Default, Deserialize)]
pub struct StopRequest {
    strategy: Option<StopStrategyWire>,
}

impl StopRequest {
    /// The strategy, `session` by default.
    pub fn strategy(&self) -> StopStrategy {
        match self.strategy {
            Some(StopStrategyWire::Task) => StopStrategy::Task,
            Some(StopStrategyWire::Session) | None => StopStrategy::Session,
        }
    }
}

/// Body of `POST /sessions/{id}/resume`: the human's answer to what the agent waits for.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResumeRequest {
    /// The answer to a question (optional: "Done" alone is an answer too).
    pub answer: Option<String>,
    /// The decision on an approval; required for one.
    pub approve: Option<bool>,
}

/// Serializes a timestamp as ISO 8601 in UTC with microseconds and `Z`, which pydantic
/// accepts as an aware datetime.
pub fn timestamp<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
}

/// `SessionResponse` (api-v3 §3).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionResponse {
    id: Uuid,
    status: &'static str,
    model: String,
    thinking_level: Option<String>,
    title: Option<String>,
    output: Option<Value>,
    output_schema: Option<Value>,
    step_count: i64,
    last_step_summary: Option<String>,
    is_task_successful: Option<bool>,
    live_url: Option<String>,
    /// Tandem's addition: the read-only live view (its input is dropped by the server).
    view_url: Option<String>,
    /// Tandem's addition: CDP access to the session's browser (see `cdp_proxy`), as
    /// `GET /browsers/{id}` gives it.
    cdp_url: Option<String>,
    recording_urls: Vec<String>,
    profile_id: Option<Uuid>,
    workspace_id: Option<Uuid>,
    proxy_country_code: Option<String>,
    browser_screen_width: Option<i64>,
    browser_screen_height: Option<i64>,
    max_cost_usd: Option<String>,
    total_input_tokens: i64,
    total_output_tokens: i64,
    proxy_used_mb: String,
    llm_cost_usd: String,
    proxy_cost_usd: String,
    browser_cost_usd: &'static str,
    total_cost_usd: String,
    screenshot_url: Option<String>,
    agentmail_email: Option<String>,
    integrations_used: Vec<String>,
    /// Tandem's addition: what the running task waits for from a human (`{type, question,
    /// action?, kind?, requestedAt}`, type `question`, `approval` or `control`); null when
    /// the agent needs no one. The status stays `running` meanwhile.
    human_input: Option<Value>,
    #[serde(serialize_with = "timestamp")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "timestamp")]
    updated_at: DateTime<Utc>,
}

impl SessionResponse {
    /// The same view with the session browser's `cdpUrl`.
    pub fn with_cdp_url(mut self, url: Option<String>) -> SessionResponse {
        self.cdp_url = url;
        self
    }

    /// The same view with the traffic through the browser's proxy (decimal strings) and its
    /// cost, which the total then includes.
    pub fn with_proxy_usage(mut self, used_mb: String, cost_usd: String) -> SessionResponse {
        if cost_usd != "0" {
            let total = self.total_cost_usd.parse::<f64>().unwrap_or(0.0)
                + cost_usd.parse::<f64>().unwrap_or(0.0);
            let text = format!("{total:.6}");
            self.total_cost_usd = text.trim_end_matches('0').trim_end_matches('.').to_string();
        }
        self.proxy_used_mb = used_mb;
        self.proxy_cost_usd = cost_usd;
        self
    }

    /// The same view with the latest step screenshot's signed link.
    pub fn with_screenshot_url(mut self, url: Option<String>) -> SessionResponse {
        self.screenshot_url = url;
        self
    }

    /// The wire view of `record`; the live-view links are given by the caller since they
    /// depend on the server's address and key.
    pub fn new(
        record: &SessionRecord,
        live_url: Option<String>,
        view_url: Option<String>,
    ) -> SessionResponse {
        // A model stored before the enum changed must still validate in the SDK.
        let model = if BU_MODELS.contains(&record.model.as_str()) {
            record.model.clone()
        } else {
            crate::sessions::DEFAULT_MODEL.to_string()
        };
        SessionResponse {
            id: record.id,
            status: record.status.as_str(),
            model,
            thinking_level: record.thinking_level.clone(),
            title: record.title.clone(),
            output: record.output.clone(),
            output_schema: record.output_schema.clone(),
            step_count: record.step_count,
            last_step_summary: record.last_step_summary.clone(),
            is_task_successful: record.is_task_successful,
            live_url,
            view_url,
            cdp_url: None,
            recording_urls: Vec::new(),
            profile_id: record.profile_id,
            workspace_id: record.workspace_id,
            proxy_country_code: record.proxy_country_code.clone(),
            browser_screen_width: record.screen_width,
            browser_screen_height: record.screen_height,
            max_cost_usd: record.max_cost_usd.clone(),
            total_input_tokens: record.total_input_tokens,
            total_output_tokens: record.total_output_tokens,
            proxy_used_mb: "0".into(),
            llm_cost_usd: record.llm_cost_usd.clone(),
            proxy_cost_usd: "0".into(),
            browser_cost_usd: "0",
            // The LLM, plus the proxy when it has a price (`with_proxy_usage`); the browser is
            // the user's own.
            total_cost_usd: record.llm_cost_usd.clone(),
            screenshot_url: None,
            agentmail_email: None,
            integrations_used: Vec::new(),
            human_input: record.human_input.clone(),
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}

/// The page shape of every list but the sessions' (`BrowserSessionListResponse`,
/// `ProfileListResponse`, `WorkspaceListResponse`).
pub fn item_page<T: Serialize>(
    items: Vec<T>,
    total: u64,
    page_number: u64,
    page_size: u64,
) -> Value {
    json!({
        "items": items,
        "totalItems": total,
        "pageNumber": page_number,
        "pageSize": page_size,
    })
}

/// `GET /sessions`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionListResponse {
    /// This page, newest first.
    pub sessions: Vec<SessionResponse>,
    /// All non-deleted sessions.
    pub total: u64,
    /// 1-based page number.
    pub page: u64,
    /// Page size asked for.
    pub page_size: u64,
}

/// `MessageResponse` (api-v3 §4.1).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageResponse {
    id: Uuid,
    session_id: Uuid,
    role: String,
    data: String,
    #[serde(rename = "type")]
    kind: String,
    summary: String,
    screenshot_url: Option<String>,
    hidden: bool,
    #[serde(serialize_with = "timestamp")]
    created_at: DateTime<Utc>,
}

impl From<MessageRecord> for MessageResponse {
    fn from(record: MessageRecord) -> Self {
        let m = record.message;
        MessageResponse {
            id: record.id,
            session_id: m.session_id,
            role: m.role,
            data: m.data,
            kind: m.kind,
            summary: m.summary,
            screenshot_url: m.screenshot_url,
            hidden: m.hidden,
            created_at: record.created_at,
        }
    }
}

/// `GET /sessions/{id}/messages`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageListResponse {
    /// Ascending order.
    pub messages: Vec<MessageResponse>,
    /// More exist in the paging direction.
    pub has_more: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::extract::parse_body;

    fn request(body: &str) -> Result<SessionRequest, ApiError> {
        parse_body::<RunTaskRequest>(body.as_bytes())?.into_request()
    }

    fn validation(result: Result<SessionRequest, ApiError>) -> Vec<FieldError> {
        match result {
            Err(ApiError::Validation(errors)) => errors,
            other => panic!("expected validation errors, got {other:?}"),
        }
    }

    #[test]
    fn four_behaviours() {
        assert!(matches!(
            request("{}"),
            Ok(SessionRequest::Create(NewSession { task: None, .. }))
        ));
        assert!(matches!(
            request(r#"{"task":"t"}"#),
            Ok(SessionRequest::Create(NewSession { task: Some(_), .. }))
        ));
        let id = Uuid::now_v7();
        let Ok(SessionRequest::Dispatch(got, task)) = request(&format!(
            r#"{{"task":"t","sessionId":"{id}","keepAlive":true}}"#
        )) else {
            panic!("expected a dispatch")
        };
        assert_eq!(got, id);
        assert!(task.keep_alive);
        let errors = validation(request(&format!(r#"{{"sessionId":"{id}"}}"#)));
        assert_eq!(errors[0].loc, vec![json!("body"), json!("task")]);
    }

    #[test]
    fn values_are_normalised() {
        let Ok(SessionRequest::Create(s)) = request(
            r#"{"proxyCountryCode":"DE","maxCostUsd":5,"model":"bu-mini","outputSchema":{"type":"object"},"unknown":1}"#,
        ) else {
            panic!("expected a create")
        };
        assert_eq!(s.proxy_country_code.as_deref(), Some("de"));
        assert_eq!(s.max_cost_usd.as_deref(), Some("5"));
        assert_eq!(s.model.as_deref(), Some("bu-mini"));
        let Ok(SessionRequest::Create(s)) = request(r#"{"maxCostUsd":"2.50"}"#) else {
            panic!("expected a create")
        };
        assert_eq!(s.max_cost_usd.as_deref(), Some("2.50"));
    }

    #[test]
    fn bad_values_are_422s_at_their_field() {
        for (body, field) in [
            (r#"{"model":"gpt-2"}"#, "model"),
            (r#"{"thinkingLevel":"max"}"#, "thinkingLevel"),
            (r#"{"proxyCountryCode":"usa"}"#, "proxyCountryCode"),
            (r#"{"maxCostUsd":"-1"}"#, "maxCostUsd"),
            (r#"{"maxCostUsd":"abc"}"#, "maxCostUsd"),
            (r#"{"keepAlive":"yes"}"#, "keepAlive"),
            (r#"{"task":5}"#, "task"),
            (r#"{"task":"   "}"#, "task"),
            (r#"{"outputSchema":[1]}"#, "outputSchema"),
            (r#"{"profileId":"x"}"#, "profileId"),
            (
                r#"{"browserScreenWidth":100,"browserScreenHeight":400}"#,
                "browserScreenWidth",
            ),
        ] {
            let errors = validation(request(body));
            assert_eq!(errors[0].loc, vec![json!("body"), json!(field)], "{body}");
        }
        let errors = validation(request(r#"{"browserScreenWidth":1000}"#));
        assert_eq!(errors[0].loc, vec![json!("body")]);
    }

    #[test]
    fn session_response_has_the_sdk_shapes() {
        let mut record = SessionRecord::new(Uuid::now_v7(), "not-a-model", store::now());
        record.status = store::SessionStatus::TimedOut;
        let value = serde_json::to_value(SessionResponse::new(&record, None, None)).unwrap();
        assert_eq!(value["status"], "timed_out");
        assert_eq!(value["model"], "claude-opus-4.7");
        assert_eq!(value["totalCostUsd"], "0");
        assert_eq!(value["recordingUrls"], json!([]));
        assert_eq!(value["liveUrl"], Value::Null);
        let created = value["createdAt"].as_str().unwrap();
        assert!(created.ends_with('Z') && created.len() == 27, "{created}");
        assert!(DateTime::parse_from_rfc3339(created).is_ok());
    }

    #[test]
    fn stop_strategy_defaults_to_session() {
        assert_eq!(
            parse_body::<StopRequest>(b"").unwrap().strategy(),
            StopStrategy::Session
        );
        assert_eq!(
            parse_body::<StopRequest>(br#"{"strategy":"task"}"#)
                .unwrap()
                .strategy(),
            StopStrategy::Task
        );
        assert!(parse_body::<StopRequest>(br#"{"strategy":"all"}"#).is_err());
    }
}
