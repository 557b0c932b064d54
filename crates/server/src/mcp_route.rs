//! `/v3/mcp`: Tandem's MCP server (crate `mcp`) mounted beside the API it calls.
//!
//! The tools reach the domain only through `app` (the router below, `/api/v3` included),
//! called in-process with the caller's key; this route adds the same key check as every
//! `/api/v3` route, so a wrong or missing key is a 401 before any MCP message is read.

use axum::Router;
use axum::middleware::from_fn_with_state;
use tower::ServiceBuilder;
use tower_http::trace::TraceLayer;

use crate::auth::{ApiKey, require_api_key};

/// `app` with the MCP server at [`mcp::MCP_PATH`]; its requests get a tracing span like the
/// rest (the router's own trace layer does not cover a route added after it).
pub fn mount(app: Router, key: ApiKey) -> Router {
    let service = ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        .layer(from_fn_with_state(key, require_api_key))
        .service(mcp::http_service(app.clone()));
    app.nest_service(mcp::MCP_PATH, service)
}
