//! `tandem`: the command line of the Tandem browser-agent server.
//!
//! This binary only wires things together: it reads configuration (flags, then `TANDEM_*`
//! environment variables, then an optional TOML file, then defaults), starts the server, and
//! turns SIGTERM/SIGINT into a clean shutdown that leaves no Chromium behind.

mod observe;
mod settings;

use anyhow::Context;
use clap::{Parser, Subcommand};

use observe::ObserveArgs;
use settings::ServeArgs;

/// Self-hosted browser-agent server speaking the Browser Use Cloud v3 API.
#[derive(Debug, Parser)]
#[command(name = "tandem", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once at start-up: the size of the larger variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve(ServeArgs),
    /// Load a page and print what the agent sees: its interactive elements and text.
    Observe(ObserveArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
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
pub(crate) async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let terminate = async {
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
