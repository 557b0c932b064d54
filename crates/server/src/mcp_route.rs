//! `/v3/mcp`: Tandem's MCP server (crate `mcp`) mounted beside the API it calls.
//!
//! The tools reach the domain only through `app` (the router below, `/api/v3` included),
//! called in-process with the caller's key; this route adds the same key check as every
//! `/api/v3` route, so a wrong or missing key is a 401 before any MCP message is read.

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::middleware::{from_fn_with_state, map_response};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower_http::trace::TraceLayer;

use crate::api::require_api_key;
use crate::auth::ApiKey;

/// Longest plain-text error body of the transport that is turned into a `detail`.
const MAX_ERROR_BYTES: usize = 64 * 1024;

/// `app` with the MCP server at [`mcp::MCP_PATH`]; its requests get a tracing span like the
/// rest (the router's own trace layer does not cover a route added after it).
pub fn mount(app: Router, key: ApiKey) -> Router {
    let service = ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        .layer(from_fn_with_state(key, require_api_key))
        .layer(map_response(detail_errors))
        .service(mcp::http_service(app.clone()));
    app.nest_service(mcp::MCP_PATH, service)
}

/// The transport's own HTTP refusals (a GET with no stream to resume, a body that is not
/// JSON, a missing `Accept`) come as plain text; they become `{"detail": ...}` like every
/// other error of the server, status and headers (`Allow`) kept.
async fn detail_errors<B>(response: axum::http::Response<B>) -> Response
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let response = response.map(Body::new);
    let status = response.status();
    let json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_ERROR_BYTES)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
        .unwrap_or_default();
    let detail = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text
    };
    parts.headers.remove(CONTENT_TYPE);
    parts.headers.remove(CONTENT_LENGTH);
    let mut answer = Json(serde_json::json!({ "detail": detail })).into_response();
    *answer.status_mut() = status;
    answer.headers_mut().extend(parts.headers);
    let (parts, body) = answer.into_parts();
    Response::from_parts(parts, Body::new(body))
}
