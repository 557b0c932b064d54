//! The MCP tools: Browser Use Cloud's seven (`run_session`, `get_session`, `send_task`,
//! `stop_session`, `get_session_messages`, `list_sessions`, `list_browser_profiles`) with
//! their parameter names, plus Tandem's handoff (`resume_session`, `take_control`).
//!
//! Each tool is one `/api/v3` call (see [`crate::api`]) and a reshaped answer (see
//! [`crate::views`]). A call the API refuses is a tool error carrying the API's own words,
//! so the model can correct itself; nothing here decides anything the API decides.

use axum::http::Method;
use axum::http::request::Parts;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Extensions};
use rmcp::{schemars, tool, tool_handler, tool_router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::api::{Api, Credentials};
use crate::views;

/// What the server tells a client about itself and its tools.
pub const INSTRUCTIONS: &str = "Tandem runs browser tasks with an AI agent in a real browser \
that a human can watch and take over. run_session starts a task and returns at once with the \
session id and a live_url to share with the user; poll get_session until status is idle \
(output holds the result). When the agent asks a human (human_input), answer with \
resume_session. send_task sends a follow-up to a session created with keep_alive.";

/// The tools, bound to where their API calls go and with which credentials.
#[derive(Clone)]
pub struct TandemTools {
    api: Api,
    /// Fixed credentials (`tandem mcp`); `None` to use the MCP request's own.
    credentials: Option<Credentials>,
}

/// `run_session`'s parameters.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct RunSessionParams {
    /// What the agent should do, in plain words.
    pub task: String,
    /// Keep the session (and its browser) open after the task, for follow-ups with send_task.
    pub keep_alive: Option<bool>,
    /// The model to run the task with (a Browser Use model name such as "bu-mini").
    pub model: Option<String>,
    /// A JSON Schema the task's output must match; output is then that data.
    pub output_schema: Option<Value>,
    /// A browser profile to start from (cookies and logins), from list_browser_profiles.
    pub profile_id: Option<String>,
    /// A workspace whose files the agent may use and where downloads are kept.
    pub workspace_id: Option<String>,
    /// Actions a human must approve first: any of "submit", "purchase",
    /// "navigate_external", "upload".
    pub require_approval: Option<Vec<String>>,
}

/// `send_task`'s parameters.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SendTaskParams {
    /// The session to continue (it must be idle, created with keep_alive).
    pub session_id: String,
    /// The follow-up task.
    pub task: String,
    /// Keep the session open after this task too (default true); false ends it afterwards.
    pub keep_alive: Option<bool>,
    /// The model for this task.
    pub model: Option<String>,
    /// A JSON Schema this task's output must match.
    pub output_schema: Option<Value>,
    /// Actions a human must approve first (see run_session).
    pub require_approval: Option<Vec<String>>,
}

/// A session, by id.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SessionParams {
    /// The session's id (from run_session or list_sessions).
    pub session_id: String,
}

/// `stop_session`'s parameters.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct StopSessionParams {
    /// The session's id.
    pub session_id: String,
    /// "task" stops only the running task (a keep_alive session stays open); "session"
    /// (the default) ends the session and closes its browser.
    pub strategy: Option<String>,
}

/// `get_session_messages`' parameters.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct MessagesParams {
    /// The session's id.
    pub session_id: String,
    /// How many messages (1-100, default 20). Without a cursor, the latest ones.
    pub limit: Option<u32>,
    /// Only messages after this message id (to read on from an earlier call).
    pub after: Option<String>,
    /// Only messages before this message id (to read back).
    pub before: Option<String>,
}

/// A page of a list.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct PageParams {
    /// The page, from 1 (default 1).
    pub page: Option<u32>,
    /// Items per page, 1-100 (default 20).
    pub page_size: Option<u32>,
}

/// `resume_session`'s parameters.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ResumeParams {
    /// The session's id.
    pub session_id: String,
    /// The answer to the agent's question.
    pub answer: Option<String>,
    /// The decision, when the agent waits for an approval.
    pub approve: Option<bool>,
}

/// A tool's answer: the reshaped JSON, or the reason the call failed.
type Outcome = Result<Value, String>;

fn answer(outcome: Outcome) -> CallToolResult {
    match outcome {
        Ok(value) => CallToolResult::structured(value),
        Err(reason) => CallToolResult::error(vec![ContentBlock::text(reason)]),
    }
}

/// A session id as given by a model: only a UUID, so no input can reach another route.
fn session_id(id: &str) -> Result<uuid::Uuid, String> {
    let id = id.trim();
    uuid::Uuid::parse_str(id)
        .map_err(|_| format!("session_id must be a session's id (a UUID), got {id:?}"))
}

/// The API path of a session.
fn session_path(id: &str) -> Result<String, String> {
    session_id(id).map(|id| format!("/sessions/{id}"))
}

/// An optional message id for a cursor.
fn cursor(name: &str, id: Option<&str>) -> Result<Option<String>, String> {
    id.map(|id| {
        uuid::Uuid::parse_str(id.trim())
            .map(|id| id.to_string())
            .map_err(|_| format!("{name} must be a message id (a UUID), got {id:?}"))
    })
    .transpose()
}

/// A schema given as an object, or as JSON text (as some models send it).
fn schema(value: Option<Value>) -> Result<Option<Value>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => match serde_json::from_str::<Value>(&text) {
            Ok(parsed @ Value::Object(_)) => Ok(Some(parsed)),
            _ => Err("output_schema must be a JSON Schema object".into()),
        },
        Some(object @ Value::Object(_)) => Ok(Some(object)),
        Some(_) => Err("output_schema must be a JSON Schema object".into()),
    }
}

/// A `POST /sessions` body from the tools' names (the API's are camelCase).
fn task_body(
    task: String,
    model: Option<String>,
    output_schema: Option<Value>,
    require_approval: Option<Vec<String>>,
    keep_alive: bool,
) -> Result<Map<String, Value>, String> {
    let mut body = Map::new();
    body.insert("task".into(), Value::String(task));
    body.insert("keepAlive".into(), Value::Bool(keep_alive));
    if let Some(model) = model {
        body.insert("model".into(), Value::String(model));
    }
    if let Some(schema) = schema(output_schema)? {
        body.insert("outputSchema".into(), schema);
    }
    if let Some(kinds) = require_approval {
        body.insert("requireApproval".into(), json!(kinds));
    }
    Ok(body)
}

impl TandemTools {
    /// Tools that call the API with the credentials of each MCP request (the `/v3/mcp`
    /// route, where the client's key header arrives with every request).
    pub fn per_request(api: Api) -> TandemTools {
        TandemTools {
            api,
            credentials: None,
        }
    }

    /// Tools that call the API with one key (`tandem mcp`).
    pub fn with_key(api: Api, key: &str) -> TandemTools {
        TandemTools {
            api,
            credentials: Some(Credentials::key(key)),
        }
    }

    fn credentials(&self, extensions: &Extensions) -> Credentials {
        match &self.credentials {
            Some(fixed) => fixed.clone(),
            None => extensions
                .get::<Parts>()
                .map(|parts| Credentials::from_headers(&parts.headers))
                .unwrap_or_default(),
        }
    }

    /// One API call; a refused one becomes the API's own reason.
    async fn call(
        &self,
        extensions: &Extensions,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Outcome {
        let credentials = self.credentials(extensions);
        let answer = self
            .api
            .call(method, path, &credentials, body.as_ref())
            .await
            .map_err(|e| e.to_string())?;
        if answer.status.is_success() {
            Ok(answer.body)
        } else {
            Err(format!(
                "{} (HTTP {})",
                answer.detail(),
                answer.status.as_u16()
            ))
        }
    }

    async fn run_session_outcome(&self, ext: &Extensions, p: RunSessionParams) -> Outcome {
        let mut body = task_body(
            p.task,
            p.model,
            p.output_schema,
            p.require_approval,
            p.keep_alive.unwrap_or(false),
        )?;
        if let Some(profile) = p.profile_id {
            body.insert("profileId".into(), Value::String(profile));
        }
        if let Some(workspace) = p.workspace_id {
            body.insert("workspaceId".into(), Value::String(workspace));
        }
        let session = self
            .call(ext, Method::POST, "/sessions", Some(Value::Object(body)))
            .await?;
        Ok(views::session(&session))
    }

    async fn send_task_outcome(&self, ext: &Extensions, p: SendTaskParams) -> Outcome {
        let id = session_id(&p.session_id)?;
        let mut body = task_body(
            p.task,
            p.model,
            p.output_schema,
            p.require_approval,
            p.keep_alive.unwrap_or(true),
        )?;
        body.insert("sessionId".into(), Value::String(id.to_string()));
        let session = self
            .call(ext, Method::POST, "/sessions", Some(Value::Object(body)))
            .await?;
        Ok(views::session(&session))
    }

    async fn stop_session_outcome(&self, ext: &Extensions, p: StopSessionParams) -> Outcome {
        let path = session_path(&p.session_id)?;
        let strategy = p.strategy.unwrap_or_else(|| "session".into());
        let session = self
            .call(
                ext,
                Method::POST,
                &format!("{path}/stop"),
                Some(json!({ "strategy": strategy })),
            )
            .await?;
        Ok(views::session(&session))
    }

    async fn messages_outcome(&self, ext: &Extensions, p: MessagesParams) -> Outcome {
        let path = session_path(&p.session_id)?;
        let mut query = format!("limit={}", p.limit.unwrap_or(20).clamp(1, 100));
        if let Some(after) = cursor("after", p.after.as_deref())? {
            query.push_str(&format!("&after={after}"));
        }
        if let Some(before) = cursor("before", p.before.as_deref())? {
            query.push_str(&format!("&before={before}"));
        }
        let page = self
            .call(ext, Method::GET, &format!("{path}/messages?{query}"), None)
            .await?;
        let messages: Vec<Value> = page
            .get("messages")
            .and_then(Value::as_array)
            .map(|list| list.iter().map(views::message).collect())
            .unwrap_or_default();
        Ok(json!({
            "session_id": p.session_id.trim(),
            "messages": messages,
            "has_more": page.get("hasMore").cloned().unwrap_or(Value::Bool(false)),
        }))
    }

    async fn list_sessions_outcome(&self, ext: &Extensions, p: PageParams) -> Outcome {
        let (page, size) = (
            p.page.unwrap_or(1).max(1),
            p.page_size.unwrap_or(20).clamp(1, 100),
        );
        let list = self
            .call(
                ext,
                Method::GET,
                &format!("/sessions?page={page}&page_size={size}"),
                None,
            )
            .await?;
        let sessions: Vec<Value> = list
            .get("sessions")
            .and_then(Value::as_array)
            .map(|list| list.iter().map(views::session_summary).collect())
            .unwrap_or_default();
        Ok(json!({
            "sessions": sessions,
            "total": list.get("total").cloned().unwrap_or(Value::Null),
            "page": page,
            "page_size": size,
        }))
    }

    async fn list_profiles_outcome(&self, ext: &Extensions, p: PageParams) -> Outcome {
        let (page, size) = (
            p.page.unwrap_or(1).max(1),
            p.page_size.unwrap_or(20).clamp(1, 100),
        );
        let list = self
            .call(
                ext,
                Method::GET,
                &format!("/profiles?pageNumber={page}&pageSize={size}"),
                None,
            )
            .await?;
        let profiles: Vec<Value> = list
            .get("items")
            .and_then(Value::as_array)
            .map(|list| list.iter().map(views::profile).collect())
            .unwrap_or_default();
        Ok(json!({
            "profiles": profiles,
            "total": list.get("totalItems").cloned().unwrap_or(Value::Null),
            "page": page,
            "page_size": size,
        }))
    }

    async fn resume_outcome(&self, ext: &Extensions, p: ResumeParams) -> Outcome {
        let path = session_path(&p.session_id)?;
        let mut body = Map::new();
        if let Some(answer) = p.answer {
            body.insert("answer".into(), Value::String(answer));
        }
        if let Some(approve) = p.approve {
            body.insert("approve".into(), Value::Bool(approve));
        }
        let session = self
            .call(
                ext,
                Method::POST,
                &format!("{path}/resume"),
                Some(Value::Object(body)),
            )
            .await?;
        Ok(views::session(&session))
    }
}

#[tool_router]
impl TandemTools {
    /// Creates a session and starts a task in it; answers at once (status running).
    #[tool(
        description = "Create a browser session and run a task in it. Returns at once with \
        session_id, status and live_url (share it: a human can watch and take over). Poll \
        get_session for the result. Options: keep_alive (for follow-ups with send_task), \
        model, output_schema (JSON Schema for structured output), profile_id, workspace_id, \
        require_approval."
    )]
    async fn run_session(
        &self,
        extensions: Extensions,
        Parameters(params): Parameters<RunSessionParams>,
    ) -> CallToolResult {
        answer(self.run_session_outcome(&extensions, params).await)
    }

    /// A session's state.
    #[tool(
        description = "Get a session: status (created, running, idle, stopped, timed_out, \
        error), step_count, output, is_task_successful, cost, live_url, and human_input when \
        the agent waits for a human. `next` says what to do now.",
        annotations(read_only_hint = true)
    )]
    async fn get_session(
        &self,
        extensions: Extensions,
        Parameters(params): Parameters<SessionParams>,
    ) -> CallToolResult {
        let outcome = match session_path(&params.session_id) {
            Ok(path) => self
                .call(&extensions, Method::GET, &path, None)
                .await
                .map(|s| views::session(&s)),
            Err(reason) => Err(reason),
        };
        answer(outcome)
    }

    /// A follow-up task in an idle keep-alive session.
    #[tool(
        description = "Send a follow-up task to an idle keep-alive session; it starts in the \
        browser as the last task (or a human) left it and knows earlier results. Returns at \
        once; poll get_session."
    )]
    async fn send_task(
        &self,
        extensions: Extensions,
        Parameters(params): Parameters<SendTaskParams>,
    ) -> CallToolResult {
        answer(self.send_task_outcome(&extensions, params).await)
    }

    /// Stops a task or a whole session.
    #[tool(
        description = "Stop a session. strategy \"task\" stops only the running task (a \
        keep_alive session stays open for send_task); \"session\" (default) ends the session \
        and closes its browser.",
        annotations(destructive_hint = true)
    )]
    async fn stop_session(
        &self,
        extensions: Extensions,
        Parameters(params): Parameters<StopSessionParams>,
    ) -> CallToolResult {
        answer(self.stop_session_outcome(&extensions, params).await)
    }

    /// The session's feed.
    #[tool(
        description = "Get a session's messages, oldest first: the task, the agent's browser \
        actions and reasoning, their results, and the human's part. Without a cursor, the \
        latest `limit`; pass `after` (a message id) to read on.",
        annotations(read_only_hint = true)
    )]
    async fn get_session_messages(
        &self,
        extensions: Extensions,
        Parameters(params): Parameters<MessagesParams>,
    ) -> CallToolResult {
        answer(self.messages_outcome(&extensions, params).await)
    }

    /// Recent sessions.
    #[tool(
        description = "List recent sessions, newest first, with status, cost and live_url.",
        annotations(read_only_hint = true)
    )]
    async fn list_sessions(
        &self,
        extensions: Extensions,
        Parameters(params): Parameters<PageParams>,
    ) -> CallToolResult {
        answer(self.list_sessions_outcome(&extensions, params).await)
    }

    /// Browser profiles.
    #[tool(
        description = "List browser profiles (saved cookies and logins); pass a profile_id to \
        run_session for tasks that need a login.",
        annotations(read_only_hint = true)
    )]
    async fn list_browser_profiles(
        &self,
        extensions: Extensions,
        Parameters(params): Parameters<PageParams>,
    ) -> CallToolResult {
        answer(self.list_profiles_outcome(&extensions, params).await)
    }

    /// Answers what the agent waits for, or hands the browser back.
    #[tool(
        description = "Answer what the running task waits for (see human_input in \
        get_session): a question (answer), an approval (approve true or false), or, after \
        take_control, hand the browser back to the agent (no arguments)."
    )]
    async fn resume_session(
        &self,
        extensions: Extensions,
        Parameters(params): Parameters<ResumeParams>,
    ) -> CallToolResult {
        answer(self.resume_outcome(&extensions, params).await)
    }

    /// A human takes the browser from the agent.
    #[tool(
        description = "Take the browser from the agent for a human: the agent pauses after its \
        current action, the human works in the live view at live_url, and resume_session \
        hands it back."
    )]
    async fn take_control(
        &self,
        extensions: Extensions,
        Parameters(params): Parameters<SessionParams>,
    ) -> CallToolResult {
        let outcome = match session_path(&params.session_id) {
            Ok(path) => self
                .call(
                    &extensions,
                    Method::POST,
                    &format!("{path}/take-control"),
                    None,
                )
                .await
                .map(|s| views::session(&s)),
            Err(reason) => Err(reason),
        };
        answer(outcome)
    }
}

#[tool_handler]
impl rmcp::ServerHandler for TandemTools {
    fn get_info(&self) -> rmcp::model::ServerConfig {
        rmcp::model::ServerConfig::new(
            rmcp::model::ServerCapabilities::builder()
                .enable_tools()
                .build(),
        )
        .with_server_info(rmcp::model::Implementation::new(
            "tandem",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(INSTRUCTIONS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_uuids_reach_a_path() {
        let id = "0193a4f2-0000-7000-8000-000000000001";
        assert_eq!(session_path(id).unwrap(), format!("/sessions/{id}"));
        assert!(session_path("../billing/account").is_err());
        assert!(session_path("x?page=2").is_err());
        assert!(cursor("after", Some("nope")).is_err());
        assert_eq!(cursor("after", None).unwrap(), None);
    }

    #[test]
    fn a_schema_may_come_as_text() {
        let object = json!({"type": "object"});
        assert_eq!(schema(Some(object.clone())).unwrap(), Some(object.clone()));
        assert_eq!(
            schema(Some(Value::String(object.to_string()))).unwrap(),
            Some(object)
        );
        assert!(schema(Some(json!(3))).is_err());
        assert!(schema(Some(Value::String("not json".into()))).is_err());
        assert_eq!(schema(None).unwrap(), None);
    }

    #[test]
    fn task_bodies_use_the_api_names() {
        let body = task_body(
            "t".into(),
            Some("bu-mini".into()),
            Some(json!({"type": "object"})),
            Some(vec!["purchase".into()]),
            true,
        )
        .unwrap();
        assert_eq!(
            Value::Object(body),
            json!({"task": "t", "keepAlive": true, "model": "bu-mini",
                   "outputSchema": {"type": "object"}, "requireApproval": ["purchase"]})
        );
    }
}
