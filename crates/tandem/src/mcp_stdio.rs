//! `tandem mcp`: the MCP tools on stdin/stdout, for clients that only launch commands
//! (Claude Desktop's `command` servers and the like). The tools talk to a running Tandem
//! server over its HTTP API; nothing of the server runs in this process.

use anyhow::Context;
use clap::Args;

/// Arguments of `tandem mcp`.
#[derive(Debug, Args)]
pub struct McpArgs {
    /// The Tandem server's root URL.
    #[arg(long, env = "TANDEM_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// The server's API key; prefer TANDEM_API_KEY or BROWSER_USE_API_KEY in the
    /// environment, since a key on the command line shows in `ps`.
    #[arg(long)]
    api_key: Option<String>,
}

impl McpArgs {
    /// The key: the flag, else `TANDEM_API_KEY`, else `BROWSER_USE_API_KEY`.
    fn key(&self) -> anyhow::Result<String> {
        self.api_key
            .clone()
            .or_else(|| std::env::var("TANDEM_API_KEY").ok())
            .or_else(|| std::env::var("BROWSER_USE_API_KEY").ok())
            .map(|key| key.trim().to_string())
            .filter(|key| !key.is_empty())
            .context("no API key: pass --api-key or set TANDEM_API_KEY (or BROWSER_USE_API_KEY)")
    }
}

/// Serves until the client closes stdin, or SIGTERM/SIGINT.
pub async fn run(args: McpArgs) -> anyhow::Result<()> {
    let key = args.key()?;
    let server = url::Url::parse(&args.server)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
        .with_context(|| format!("--server {:?} is not an http(s) URL", args.server))?;
    check_key(&server, &key).await?;
    tokio::select! {
        served = mcp::serve_stdio(server, &key) => served.context("the MCP server failed")?,
        () = crate::shutdown_signal() => {}
    }
    Ok(())
}

/// Refuses to start with a key the server refuses (an MCP client shows the server failed,
/// with this reason, instead of every tool failing later). A server that is not up yet is
/// only a warning: the tools report it when called.
async fn check_key(server: &url::Url, key: &str) -> anyhow::Result<()> {
    let api = mcp::Api::Remote {
        base: server.clone(),
        http: reqwest::Client::new(),
    };
    let credentials = mcp::Credentials::key(key);
    match api
        .call(reqwest::Method::GET, "/billing/account", &credentials, None)
        .await
    {
        Ok(answer) if answer.status == reqwest::StatusCode::UNAUTHORIZED => {
            anyhow::bail!(
                "the Tandem server at {server} refused the API key: {}",
                answer.detail()
            )
        }
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::warn!(error = %e, "the Tandem server does not answer yet");
            Ok(())
        }
    }
}
