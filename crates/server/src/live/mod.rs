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
mod resize;
mod viewer;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{FromRef, Path, Query, State, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use browser::ScreencastSettings;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::links::Signer;
use crate::links::{LinkError, TokenQuery};
use crate::sessions::Sessions;
use access::Access;
use assets::PageState;
pub use hub::Hub;

/// Largest message a view-only viewer may send: its messages are small controls (picture
/// size, acknowledgements, pings); anything bigger closes its socket with 1009.
pub const VIEW_MESSAGE_LIMIT: usize = 4 << 10;

/// Largest message a controlling viewer may send: its biggest is a chunk of an upload
/// ([`hub::CHUNK_LIMIT`], base64, a third larger, inside JSON), so files of any size arrive
/// in pieces and no one message holds much; anything bigger closes its socket with 1009.
pub const CONTROL_MESSAGE_LIMIT: usize = 4 << 20;

const _: () = assert!(hub::CHUNK_LIMIT / 3 * 4 + (64 << 10) < CONTROL_MESSAGE_LIMIT);

/// The live views of this server's sessions, one hub per watched session.
#[derive(Clone)]
pub struct Live {
    sessions: Sessions,
    /// Checks the links' tokens.
    signer: Signer,
    settings: ScreencastSettings,
    hubs: Arc<Mutex<HashMap<Uuid, Arc<Hub>>>>,
    /// Viewer sockets open now, over every session (for `/metrics`).
    viewers: Arc<AtomicUsize>,
}

impl Live {
    /// Live views of `sessions`, reached by links `signer` signed, encoded with `settings`.
    pub fn new(sessions: Sessions, signer: Signer, settings: ScreencastSettings) -> Live {
        Live {
            sessions,
            signer,
            settings,
            hubs: Arc::default(),
            viewers: Arc::default(),
        }
    }

    /// How many sessions are watched, and by how many viewer sockets in all.
    pub async fn watched(&self) -> (usize, usize) {
        let hubs = self.hubs.lock().await.len();
        (hubs, self.viewers.load(Ordering::Relaxed))
    }

    /// The hub of an active session, started on first use.
    pub async fn hub(&self, id: Uuid) -> Result<Arc<Hub>, Unavailable> {
        let mut hubs = self.hubs.lock().await;
        if let Some(hub) = hubs.get(&id) {
            return Ok(hub.clone());
        }
        let browser = self
            .sessions
            .owners()
            .browser(id)
            .ok_or(Unavailable::Ended)?;
        let clock = self.sessions.owners().clock(id).ok_or(Unavailable::Ended)?;
        let dir = tempfile::Builder::new()
            .prefix("tandem-live-")
            .tempdir()
            .map_err(|e| {
                tracing::warn!(error = %e, "cannot create the live view's directory");
                Unavailable::Failed
            })?;
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
                return Err(Unavailable::Failed);
            }
        };
        hubs.insert(id, hub.clone());
        let registry = self.hubs.clone();
        tokio::spawn(async move {
            let _ = done.await;
            registry.lock().await.remove(&id);
        });
        Ok(hub)
    }

    /// The hub of a session if one runs, without starting one.
    async fn running_hub(&self, id: Uuid) -> Option<Arc<Hub>> {
        self.hubs.lock().await.get(&id).cloned()
    }
}

/// Why a session has no hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// The session ended (or never existed): viewers stop for good.
    Ended,
    /// The hub could not start now (the browser did not answer, no temporary directory):
    /// viewers try again.
    Failed,
}

/// The routes of the live view, in any router whose state holds a [`Live`].
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Live: FromRef<S>,
{
    Router::new()
        .route("/live/{session}", get(page))
        .route("/live/{session}/ws", get(socket))
        .route("/live/{session}/downloads/{download}", get(download))
        .route("/live-assets/{file}", get(assets::asset))
}

fn authorize(live: &Live, session: &str, query: &TokenQuery) -> Result<Access, LinkError> {
    access::check(&live.signer, session, query.token(), chrono::Utc::now())
}

/// A genuine token of this session, current or expired (see [`LinkError::Expired`]);
/// anything else is refused as it is.
fn authorize_genuine(
    live: &Live,
    session: &str,
    query: &TokenQuery,
) -> Result<(Access, bool), LinkError> {
    match authorize(live, session, query) {
        Ok(access) => Ok((access, false)),
        Err(LinkError::Expired(_, claims)) => Ok((Access::of(&claims), true)),
        Err(e) => Err(e),
    }
}

/// `GET /live/{id}`: the viewer page, for any genuine token of this session. The page of an
/// ended session says so (with the end reason) without connecting; an expired link gets the
/// same page with a 401 (it lets nobody in), never raw JSON: it is what a human in an iframe
/// sees when they reload.
async fn page(
    State(live): State<Live>,
    Path(session): Path<String>,
    Query(query): Query<TokenQuery>,
) -> Result<Response, LinkError> {
    let (access, expired) = authorize_genuine(&live, &session, &query)?;
    let running = live.sessions.owners().browser(access.session_id).is_some();
    let state = match (running, expired) {
        (true, false) => PageState::Live,
        (true, true) => PageState::LinkExpired,
        (false, _) => PageState::Ended(ended_reason(&live.sessions, access.session_id).await),
    };
    let status = if expired {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    Ok(assets::page(&state, status))
}

/// `GET /live/{id}/ws`: the viewer's WebSocket. A genuine but expired token is let through
/// the upgrade only to be told, with a close code of its own, that the session ended or the
/// link expired, so the viewer stops retrying and says why.
async fn socket(
    State(live): State<Live>,
    Path(session): Path<String>,
    Query(query): Query<TokenQuery>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, LinkError> {
    let (access, expired) = authorize_genuine(&live, &session, &query)?;
    let id = access.session_id;
    let admission = if expired && live.sessions.owners().browser(id).is_some() {
        Admission::LinkExpired
    } else if expired {
        Admission::Ended(ended_reason(&live.sessions, id).await)
    } else {
        match live.hub(id).await {
            Ok(hub) => Admission::Watch(hub),
            Err(Unavailable::Ended) => Admission::Ended(ended_reason(&live.sessions, id).await),
            Err(Unavailable::Failed) => Admission::Unavailable,
        }
    };
    // What a viewer may send in one message, and in one frame (browsers do not fragment):
    // a view-only viewer only small control messages; a controlling one its upload chunks too.
    let limit = if access.may_control() {
        CONTROL_MESSAGE_LIMIT
    } else {
        VIEW_MESSAGE_LIMIT
    };
    let upgrade = upgrade.max_message_size(limit).max_frame_size(limit);
    let viewers = live.viewers.clone();
    Ok(upgrade.on_upgrade(move |socket| async move {
        match admission {
            Admission::Watch(hub) => {
                let _counted = Counted::new(viewers);
                viewer::serve(socket, hub, access).await;
            }
            Admission::Ended(reason) => viewer::refuse_ended(socket, reason).await,
            Admission::LinkExpired => viewer::refuse_expired(socket).await,
            Admission::Unavailable => viewer::refuse_unavailable(socket).await,
        }
    }))
}

/// What a viewer's socket gets once upgraded.
enum Admission {
    /// The live session.
    Watch(Arc<Hub>),
    /// The news that the session ended, and why when known.
    Ended(Option<String>),
    /// The news that its link expired (the session goes on).
    LinkExpired,
    /// A close it retries after: the hub could not start now.
    Unavailable,
}

/// Why a session ended, as its record says; nothing for one that is not (or no longer) in
/// the store.
async fn ended_reason(sessions: &Sessions, id: Uuid) -> Option<String> {
    let record = sessions.get(id).await.ok()?;
    Some(
        record
            .end_reason
            .unwrap_or_else(|| record.status.to_string()),
    )
}

/// `GET /live/{id}/downloads/{download}`: a completed download, for a control token.
async fn download(
    State(live): State<Live>,
    Path((session, download)): Path<(String, String)>,
    Query(query): Query<TokenQuery>,
) -> Result<Response, LinkError> {
    let access = authorize(&live, &session, &query)?;
    if !access.may_control() {
        return Err(LinkError::ViewOnly);
    }
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"detail": "No such download"})),
        )
            .into_response()
    };
    let Some(hub) = live.running_hub(access.session_id).await else {
        return Ok(not_found());
    };
    let Some((path, name)) = hub.download(&download) else {
        return Ok(not_found());
    };
    let Ok(body) = tokio::fs::read(&path).await else {
        return Ok(not_found());
    };
    Ok(crate::http::attachment(&name, body))
}

/// One open viewer socket in [`Live`]'s count, for as long as it lives, however it ends.
struct Counted(Arc<AtomicUsize>);

impl Counted {
    fn new(count: Arc<AtomicUsize>) -> Counted {
        count.fetch_add(1, Ordering::Relaxed);
        Counted(count)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
