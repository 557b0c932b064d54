//! `tandem`: the command line of the Tandem browser-agent server.
//!
//! This binary only wires things together: it reads configuration (flags, then `TANDEM_*`
//! environment variables, then an optional TOML file, then defaults), starts the server, and
//! turns SIGTERM/SIGINT into a clean shutdown that leaves no Chromium behind.

mod mcp_stdio;
mod observe;
mod settings;

use anyhow::Context;
use clap::{Parser, Subcommand};

use mcp_stdio::McpArgs;
use observe::ObserveArgs;
use settings::ServeArgs;

/// Self-hosted browser-agent server speaking the Browser Use Cloud v3 API.
#[derive(Debug, Parser)]
#[command(name = "tandem", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once at start-up: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve(ServeArgs),
    /// Load a page and print what the agent sees: its interactive elements and text.
    Observe(ObserveArgs),
    /// Serve the MCP tools on stdin/stdout, calling a Tandem server's API.
    Mcp(McpArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(log_filter())
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args)),
        Command::Observe(args) => runtime.block_on(observe::run(args)),
        Command::Mcp(args) => runtime.block_on(mcp_stdio::run(args)),
    }
}

/// `RUST_LOG`, else `info`; the MCP SDK's per-request lines (every stateless `/v3/mcp`
/// request starts and ends a service) only when `RUST_LOG` names `rmcp`.
fn log_filter() -> tracing_subscriber::EnvFilter {
    let given = std::env::var("RUST_LOG").unwrap_or_default();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    match "rmcp=warn".parse() {
        Ok(quiet) if !given.contains("rmcp") => filter.add_directive(quiet),
        _ => filter,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.resolve()?;
    let server = server::Server::bind(config)
        .await
        .context("cannot start the server")?;
    if let Some(path) = server.api_key().file() {
        println!(
            "tandem: API key {} (stored in {})",
            server.api_key().secret(),
            path.display()
        );
    }
    // Test harnesses parse this exact line to learn the port.
    println!("tandem: listening on http://{}", server.local_addr());
    server
        .run(shutdown_signal())
        .await
        .context("the server failed")?;
    Ok(())
}

/// Resolves on SIGTERM or SIGINT.
///
/// The handlers are installed when this is called, not when the future is first polled, so a
/// signal that arrives while the caller is still starting up (launching a browser, binding a
/// port) is kept and ends the wait at once, rather than killing the process with the default
/// action and leaving its Chromium behind.
pub(crate) fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind: SignalKind, name: &'static str| match signal(kind) {
        Ok(stream) => Some(stream),
        Err(e) => {
            tracing::error!(error = %e, signal = name, "cannot listen for the signal");
            None
        }
    };
    let interrupt = listen(SignalKind::interrupt(), "SIGINT");
    let terminate = listen(SignalKind::terminate(), "SIGTERM");
    async move {
        let wait = |stream: Option<tokio::signal::unix::Signal>| async move {
            match stream {
                Some(mut stream) => {
                    stream.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = wait(interrupt) => {},
            () = wait(terminate) => {},
        }
        tracing::info!("shutting down");
    }
}
