//! Handlers of `/api/v3/sessions`: parse, call [`Sessions`](crate::sessions::Sessions), shape
//! the answer.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use store::MessageQuery;

use super::errors::ApiError;
use super::extract::{Body, QueryParams, SessionId};
use super::models::{
    MessageListResponse, MessageResponse, ResumeRequest, RunTaskRequest, SessionListResponse,
    SessionRequest, SessionResponse, StopRequest,
};
use crate::sessions::{HumanSource, Resume};
use crate::state::AppState;
use store::SessionRecord;

/// `POST /sessions`: create a session, with or without a task, or run a task in one.
pub async fn create_or_dispatch(
    State(app): State<AppState>,
    Body(body): Body<RunTaskRequest>,
) -> Result<Json<SessionResponse>, ApiError> {
    let record = match body.into_request()? {
        SessionRequest::Create(mut spec) => {
            let (code, proxy) = app.proxies.choose(spec.proxy_country_code.take());
            spec.proxy_country_code = code;
            spec.proxy = proxy.map(Box::new);
            app.sessions.create(spec).await?
        }
        SessionRequest::Dispatch(id, task) => app.sessions.dispatch(id, task).await?,
    };
    Ok(Json(app.view(&record)))
}

/// `GET /sessions/{session_id}`.
pub async fn get_one(
    State(app): State<AppState>,
    SessionId(id): SessionId,
) -> Result<Json<SessionResponse>, ApiError> {
    let record = app.sessions.get(id).await?;
    // Only this endpoint carries the latest screenshot (api-v3 §2.2).
    let latest = app.screenshots.latest(id).await;
    let url = latest.and_then(|path| app.screenshot_url(&path));
    Ok(Json(app.view(&record).with_screenshot_url(url)))
}

/// `GET /sessions?page=&page_size=`, newest first.
pub async fn list(
    State(app): State<AppState>,
    mut query: QueryParams,
) -> Result<Json<SessionListResponse>, ApiError> {
    let page = query.int("page", 1, 1, 1_000_000);
    let page_size = query.int("page_size", 20, 1, 100);
    query.finish()?;
    let (records, total) = app
        .sessions
        .list((page - 1).saturating_mul(page_size), page_size)
        .await?;
    Ok(Json(SessionListResponse {
        sessions: records.iter().map(|r| app.view(r)).collect(),
        total,
        page,
        page_size,
    }))
}

/// `POST /sessions/{session_id}/stop` with an absent, `null` or `{strategy}` body.
pub async fn stop(
    State(app): State<AppState>,
    SessionId(id): SessionId,
    Body(body): Body<StopRequest>,
) -> Result<Json<SessionResponse>, ApiError> {
    let record = app.sessions.stop(id, body.strategy()).await?;
    Ok(Json(app.view(&record)))
}

/// `POST /sessions/{session_id}/resume {answer?, approve?}`: answers what the running task
/// waits for (a question, an approval) or hands the control back to the agent. 409 when it
/// waits for no one; 422 for an approval without `approve`.
pub async fn resume(
    State(app): State<AppState>,
    SessionId(id): SessionId,
    Body(body): Body<ResumeRequest>,
) -> Result<Json<SessionResponse>, ApiError> {
    let resume = Resume {
        answer: body.answer,
        approve: body.approve,
    };
    let record = app.sessions.resume(id, resume, HumanSource::Api).await?;
    Ok(Json(app.view(&record)))
}

/// `POST /sessions/{session_id}/take-control`: the human takes the browser; the agent
/// pauses after its current action until `resume`. Taking it again while holding it answers
/// the session unchanged; 409 when no task runs, or when the agent already waits for an
/// answer or an approval (a client that took control would otherwise `resume` expecting a
/// hand-back and answer the question instead).
pub async fn take_control(
    State(app): State<AppState>,
    SessionId(id): SessionId,
) -> Result<Json<SessionResponse>, ApiError> {
    let record = app.sessions.take_control(id, HumanSource::Api).await?;
    Ok(Json(app.view(&record)))
}

/// `DELETE /sessions/{session_id}`: 204 with no body (the TS SDK fails on an empty 200).
pub async fn delete(
    State(app): State<AppState>,
    SessionId(id): SessionId,
) -> Result<StatusCode, ApiError> {
    app.sessions.delete(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /sessions/{session_id}/messages?after=&before=&limit=`.
pub async fn messages(
    State(app): State<AppState>,
    SessionId(id): SessionId,
    mut query: QueryParams,
) -> Result<Json<MessageListResponse>, ApiError> {
    let after = query.uuid("after");
    let before = query.uuid("before");
    let limit = query.int("limit", 10, 1, 100);
    query.finish()?;
    let page = app
        .sessions
        .messages(
            id,
            &MessageQuery {
                after,
                before,
                limit: u32::try_from(limit).unwrap_or(100),
            },
        )
        .await?;
    Ok(Json(MessageListResponse {
        messages: page
            .messages
            .into_iter()
            .map(|mut record| {
                let stored = record.message.screenshot_url.take();
                record.message.screenshot_url = stored.and_then(|path| app.screenshot_url(&path));
                MessageResponse::from(record)
            })
            .collect(),
        has_more: page.has_more,
    }))
}

impl AppState {
    /// A stored screenshot path as a signed, expiring link.
    pub fn screenshot_url(&self, path: &str) -> Option<String> {
        self.links
            .screenshot_url(path, crate::screenshots::LINK_LIFETIME)
    }

    /// The wire view of a session, with Tandem's `cdpUrl` while it is active.
    pub fn view(&self, record: &SessionRecord) -> SessionResponse {
        let cdp_url = record
            .status
            .is_active()
            .then(|| self.links.cdp_url(record.id, record.expires_at));
        let proxy_bytes = self.proxy_bytes(record.id, record.proxy_bytes);
        SessionResponse::new(
            record,
            self.links.live_url(record),
            self.links.view_url(record),
        )
        .with_cdp_url(cdp_url)
        .with_proxy_usage(
            crate::proxies::megabytes(proxy_bytes),
            self.proxies.cost_usd(proxy_bytes),
        )
    }

    /// Bytes through the proxy of browser (or session) `id`: the live count while it runs,
    /// else what its record kept.
    pub fn proxy_bytes(&self, id: uuid::Uuid, stored: i64) -> i64 {
        self.owners
            .browser(id)
            .and_then(|browser| browser.proxy_bytes())
            .map_or(stored, |live| i64::try_from(live).unwrap_or(i64::MAX))
            .max(stored)
    }
}
