//! The whole router: `/api/v3` (Browser Use Cloud v3 compatible, API key required),
//! `/healthz`, `/metrics`, the presigned links (screenshots, files), the live view under
//! `/live` and the CDP proxy under `/cdp`.

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post, put};
use axum::{Json, response::IntoResponse};
use tower_http::trace::TraceLayer;

use crate::api::errors::{method_not_allowed, no_route};
use crate::api::{
    billing, browsers, openapi, profiles, require_api_key, screenshots, sessions, workspaces,
};
use crate::auth::ApiKey;
use crate::state::AppState;

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
        .route("/screenshots/{session_id}/{file}", get(screenshots::serve))
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
