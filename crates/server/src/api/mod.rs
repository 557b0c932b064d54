//! The HTTP surface of `/api/v3` (Browser Use Cloud v3 compatible): one file per resource,
//! plus the HTTP-only pieces the whole router shares (the API-key check, screenshot links).
//! The router itself is `crate::router`, the state its handlers reach `crate::state`.

pub(crate) mod billing;
pub(crate) mod browsers;
pub mod errors;
pub mod extract;
pub mod models;
pub(crate) mod openapi;
pub(crate) mod profiles;
pub(crate) mod screenshots;
pub(crate) mod sessions;
pub mod workspaces;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::{API_KEY_HEADER, ApiKey};
use errors::ApiError;

/// Middleware: passes the request on only with the right key; 401 `{"detail": ...}` otherwise.
/// The key comes in the SDKs' header, or as `Authorization: Bearer <key>` (what monitoring
/// tools such as Prometheus send).
pub async fn require_api_key(State(key): State<ApiKey>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let presented = headers
        .get(API_KEY_HEADER)
        .map(|v| v.as_bytes())
        .or_else(|| {
            headers
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
        });
    match presented {
        None => ApiError::Unauthorized("X-Browser-Use-API-Key header is required").into_response(),
        Some(value) if key.matches(value) => next.run(request).await,
        Some(_) => ApiError::Unauthorized("Invalid API key").into_response(),
    }
}
