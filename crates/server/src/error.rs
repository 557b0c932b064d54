//! Why the server could not start or run.

use std::path::PathBuf;

/// A failure of the server as a whole (start-up, listening); request errors are
/// [`crate::api`]'s business and never end the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A file in the data directory could not be read or written.
    #[error("{what} at {path}: {source}")]
    DataDir {
        /// What we were doing, e.g. "cannot create the API key file".
        what: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address we tried.
        addr: std::net::SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The HTTP server failed while running.
    #[error("HTTP server error: {0}")]
    Serve(std::io::Error),
    /// A configuration value is unusable.
    #[error("invalid configuration: {0}")]
    Config(String),
}
