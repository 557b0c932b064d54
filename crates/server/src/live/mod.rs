//! The live view: a page served by Tandem that shows a session's browser live and lets a
//! human use it, embeddable in any app's iframe.
//!
//! Routes (no API key: the signed token in the URL is the credential, see [`access`]):
//! - `GET /live/{id}?token=…[&theme=light|dark][&ui=false]`: the viewer page;
//! - `GET /live/{id}/ws?token=…`: its WebSocket (JPEG frames out, input in; [`protocol`]);
//! - `GET /live/{id}/downloads/{download}?token=…`: a file the browser downloaded;
//! - `GET /live-assets/{file}`: the viewer's script and style sheet.
//!
//! The page never gets CDP access; a `view` token's input is dropped by the server. Frames,
//! tabs and everything the human does go through the session's [`Hub`].

pub mod access;
mod assets;
mod hub;
pub mod protocol;
mod viewer;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use browser::ScreencastSettings;
use serde::Deserialize;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::api::AppState;
use crate::sessions::Sessions;
use access::{Access, AccessError};
pub use hub::Hub;
use hub::MAX_UPLOAD_BYTES;

/// The live views of this server's sessions, one hub per watched session.
#[derive(Clone)]
pub struct Live {
    sessions: Sessions,
    settings: ScreencastSettings,
    hubs: Arc<Mutex<HashMap<Uuid, Arc<Hub>>>>,
}

impl Live {
    /// Live views of `sessions`, encoded with `settings`.
    pub fn new(sessions: Sessions, settings: ScreencastSettings) -> Live {
        Live {
            sessions,
            settings,
            hubs: Arc::default(),
        }
    }

    /// The hub of an active session, started on first use; `None` once the session ended.
    pub async fn hub(&self, id: Uuid) -> Option<Arc<Hub>> {
        let mut hubs = self.hubs.lock().await;
        if let Some(hub) = hubs.get(&id) {
            return Some(hub.clone());
        }
        let browser = self.sessions.browser(id)?;
        let clock = self.sessions.clock(id)?;
        let dir = tempfile::Builder::new()
            .prefix("tandem-live-")
            .tempdir()
            .map_err(|e| tracing::warn!(error = %e, "cannot create the live view's directory"))
            .ok()?;
        let started = Hub::start(
            id,
            browser,
            self.sessions.clone(),
            clock,
            self.settings,
            dir,
        )
        .await;
        let (hub, done) = match started {
            Ok(started) => started,
            Err(e) => {
                tracing::warn!(session = %id, error = %e, "cannot start the live view");
                return None;
            }
        };
        hubs.insert(id, hub.clone());
        let registry = self.hubs.clone();
        tokio::spawn(async move {
            let _ = done.await;
            registry.lock().await.remove(&id);
        });
        Some(hub)
    }

    /// The hub of a session if one runs, without starting one.
    async fn running_hub(&self, id: Uuid) -> Option<Arc<Hub>> {
        self.hubs.lock().await.get(&id).cloned()
    }
}

/// The routes of the live view.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/live/{session}", get(page))
        .route("/live/{session}/ws", get(socket))
        .route("/live/{session}/downloads/{download}", get(download))
        .route("/live-assets/{file}", get(assets::asset))
}

/// The query of every live-view URL; unknown parameters are ignored.
#[derive(Debug, Default, Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

fn authorize(app: &AppState, session: &str, query: &TokenQuery) -> Result<Access, AccessError> {
    access::check(
        app.links.signer(),
        session,
        query.token.as_deref(),
        chrono::Utc::now(),
    )
}

/// `GET /live/{id}`: the viewer page, for any genuine token of this session (an ended
/// session's page says so itself).
async fn page(
    State(app): State<AppState>,
    Path(session): Path<String>,
    Query(query): Query<TokenQuery>,
) -> Result<Response, AccessError> {
    authorize(&app, &session, &query)?;
    Ok(assets::page())
}

/// `GET /live/{id}/ws`: the viewer's WebSocket.
async fn socket(
    State(app): State<AppState>,
    Path(session): Path<String>,
    Query(query): Query<TokenQuery>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, AccessError> {
    let access = authorize(&app, &session, &query)?;
    let hub = app.live.hub(access.session_id).await;
    let ended = match &hub {
        Some(_) => None,
        None => Some(ended_reason(&app.sessions, access.session_id).await),
    };
    // Base64 inflates uploads by a third; leave room for it and the JSON around it.
    let upgrade = upgrade.max_message_size(MAX_UPLOAD_BYTES / 3 * 4 + (1 << 20));
    Ok(upgrade.on_upgrade(move |socket| async move {
        match (hub, ended) {
            (Some(hub), _) => viewer::serve(socket, hub, access).await,
            (None, reason) => {
                viewer::refuse_ended(socket, reason.unwrap_or_default()).await;
            }
        }
    }))
}

/// Why a session has no live view: its end reason, or that it does not exist.
async fn ended_reason(sessions: &Sessions, id: Uuid) -> String {
    match sessions.get(id).await {
        Ok(record) => record
            .end_reason
            .map(|r| format!("The session has ended ({r})"))
            .unwrap_or_else(|| format!("The session has ended ({})", record.status)),
        Err(_) => "The session does not exist".into(),
    }
}

/// `GET /live/{id}/downloads/{download}`: a completed download, for a control token.
async fn download(
    State(app): State<AppState>,
    Path((session, download)): Path<(String, String)>,
    Query(query): Query<TokenQuery>,
) -> Result<Response, AccessError> {
    let access = authorize(&app, &session, &query)?;
    if !access.may_control() {
        return Err(AccessError::ViewOnly);
    }
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"detail": "No such download"})),
        )
            .into_response()
    };
    let Some(hub) = app.live.running_hub(access.session_id).await else {
        return Ok(not_found());
    };
    let Some((path, name)) = hub.download(&download) else {
        return Ok(not_found());
    };
    let Ok(body) = tokio::fs::read(&path).await else {
        return Ok(not_found());
    };
    Ok(crate::api::workspaces::attachment(&name, body))
}
