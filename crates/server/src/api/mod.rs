//! The HTTP surface: `/api/v3` (Browser Use Cloud v3 compatible), `/healthz`, `/metrics`
//! (see [`crate::metrics`]), and the live view under `/live` (see [`crate::live`]).

mod billing;
mod browsers;
pub mod errors;
pub mod extract;
pub mod models;
mod openapi;
mod profiles;
mod sessions;
pub mod workspaces;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post, put};
use axum::{Json, response::IntoResponse};
use store::SessionRecord;
use tower_http::trace::TraceLayer;

use crate::auth::{ApiKey, require_api_key};
use crate::live_link::LiveLinks;
use crate::sessions::Sessions;
use errors::{method_not_allowed, no_route};
use models::SessionResponse;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The session domain.
    pub sessions: Sessions,
    /// Standalone browsers.
    pub browsers: crate::browsers::Browsers,
    /// Browser profiles.
    pub profiles: crate::profiles::Profiles,
    /// Workspaces and their files.
    pub workspaces: crate::workspaces::Workspaces,
    /// This server's project id (`AccountView.projectId`), kept in the data directory.
    pub project_id: uuid::Uuid,
    /// Builder of `liveUrl`s.
    pub links: LiveLinks,
    /// The live views.
    pub live: crate::live::Live,
    /// Step screenshots, served by signed links.
    pub screenshots: crate::screenshots::Screenshots,
    /// The operator's proxy table and price per GB.
    pub proxies: std::sync::Arc<crate::proxies::ProxySettings>,
}

impl AppState {
    /// A stored screenshot path as a signed, expiring link.
    pub fn screenshot_url(&self, path: &str) -> Option<String> {
        crate::screenshots::signed_url(self.links.base(), self.links.signer(), path)
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
        self.sessions
            .registry()
            .browser(id)
            .and_then(|browser| browser.proxy_bytes())
            .map_or(stored, |live| i64::try_from(live).unwrap_or(i64::MAX))
            .max(stored)
    }
}

/// The whole router. `/api/v3/*` needs the API key; `/healthz` and the OpenAPI document do
/// not (they reveal nothing about sessions, and tools fetch OpenAPI documents without keys).
/// Every request gets a tracing span (`RUST_LOG=tower_http=debug` shows them).
pub fn router(state: AppState, key: ApiKey) -> Router {
    let api = Router::new()
        .route(
            "/sessions",
            post(sessions::create_or_dispatch).get(sessions::list),
        )
        .route(
            "/sessions/{session_id}",
            get(sessions::get_one).delete(sessions::delete),
        )
        .route("/sessions/{session_id}/stop", post(sessions::stop))
        .route("/sessions/{session_id}/resume", post(sessions::resume))
        .route(
            "/sessions/{session_id}/take-control",
            post(sessions::take_control),
        )
        .route("/sessions/{session_id}/messages", get(sessions::messages))
        .route("/browsers", post(browsers::create).get(browsers::list))
        .route(
            "/browsers/{session_id}",
            get(browsers::get_one).patch(browsers::update),
        )
        .route("/browsers/{session_id}/downloads", get(browsers::downloads))
        .route("/billing/account", get(billing::account))
        .route("/profiles", post(profiles::create).get(profiles::list))
        .route(
            "/profiles/{profile_id}",
            get(profiles::get_one)
                .patch(profiles::update)
                .delete(profiles::delete),
        )
        .route(
            "/workspaces",
            post(workspaces::create).get(workspaces::list),
        )
        .route(
            "/workspaces/{workspace_id}",
            get(workspaces::get_one)
                .patch(workspaces::update)
                .delete(workspaces::delete),
        )
        .route(
            "/workspaces/{workspace_id}/files",
            get(workspaces::files).delete(workspaces::delete_file),
        )
        .route(
            "/workspaces/{workspace_id}/files/upload",
            post(workspaces::upload),
        )
        .route("/workspaces/{workspace_id}/size", get(workspaces::size))
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(key.clone(), require_api_key));
    Router::new()
        .route("/healthz", get(healthz))
        .route(
            "/metrics",
            get(crate::metrics::metrics).layer(from_fn_with_state(key, require_api_key)),
        )
        .route("/api/v3/openapi.json", get(openapi_json))
        // Presigned like the cloud's: the token in the link is the credential, not the API key.
        .route(
            "/screenshots/{session_id}/{file}",
            get(crate::screenshots::serve),
        )
        // Presigned too: the SDKs' upload and download helpers send no API key.
        .route(
            "/files/workspaces/{workspace}/{*path}",
            put(workspaces::signed_file).get(workspaces::signed_file),
        )
        .route(
            "/files/downloads/{owner}/{*path}",
            get(browsers::signed_download),
        )
        .nest("/api/v3", api)
        .merge(crate::live::routes())
        // The token in `cdpUrl` is the credential, as for the cloud's CDP URLs.
        .merge(crate::cdp_proxy::routes())
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Liveness: the process answers HTTP.
async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// The OpenAPI 3 description of what is implemented.
async fn openapi_json() -> impl IntoResponse {
    Json(openapi::document())
}
