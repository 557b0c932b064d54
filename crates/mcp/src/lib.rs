//! Tandem's MCP server: the Browser Use Cloud MCP tools (`run_session`, `get_session`,
//! `send_task`, `stop_session`, `get_session_messages`, `list_sessions`,
//! `list_browser_profiles`) plus Tandem's handoff (`resume_session`, `take_control`), on the
//! official Rust MCP SDK (`rmcp`).
//!
//! Two transports, one set of tools:
//! - [`http_service`]: streamable HTTP, mounted by the server at `/v3/mcp` (Browser Use's
//!   path). The tools call the server's own `/api/v3` router in-process with the caller's
//!   key, so they behave exactly as the API does.
//! - [`serve_stdio`]: `tandem mcp`, for clients that only launch commands; the tools call a
//!   Tandem server over HTTP.
//!
//! This crate never reaches the session domain, the store or a browser: every tool is an API
//! call ([`api`]), and imports no other Tandem crate.

pub mod api;
pub mod tools;
pub mod views;

use std::sync::Arc;

use rmcp::ServiceExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

pub use api::{API_KEY_HEADER, Api, Credentials};
pub use tools::TandemTools;

/// The path Browser Use serves its MCP server at; a client config changes only the host.
pub const MCP_PATH: &str = "/v3/mcp";

/// The streamable HTTP MCP service over `api` (the server's router, `/api/v3` included).
///
/// Stateless (no `Mcp-Session-Id`): every request stands alone, carrying its own key, so any
/// node of a cluster can answer it and a restart loses nothing. Answers are plain JSON.
/// The `Host` check against DNS rebinding is off: the server may be reached under any name,
/// and every request must carry the API key, which a rebinding page cannot send.
/// Authentication happens before this service (the server wraps it in its key check); the
/// tools then pass the caller's key on to the API.
pub fn http_service(api: axum::Router) -> StreamableHttpService<TandemTools, LocalSessionManager> {
    let tools = TandemTools::per_request(Api::InProcess(api));
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .disable_allowed_hosts();
    StreamableHttpService::new(
        move || Ok(tools.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    )
}

/// Why the stdio server stopped.
#[derive(Debug, thiserror::Error)]
pub enum StdioError {
    /// The MCP handshake on stdin/stdout failed.
    #[error("MCP handshake failed: {0}")]
    Handshake(String),
    /// The server task ended abnormally.
    #[error("MCP server task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// Serves the tools on stdin/stdout until the client closes them; API calls go to the
/// Tandem server at `server` (its root URL) with `key`.
pub async fn serve_stdio(server: url::Url, key: &str) -> Result<(), StdioError> {
    let api = Api::Remote {
        base: server,
        http: reqwest::Client::new(),
    };
    let running = TandemTools::with_key(api, key)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| StdioError::Handshake(e.to_string()))?;
    running.waiting().await?;
    Ok(())
}
