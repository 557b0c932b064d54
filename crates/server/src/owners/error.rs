//! What can go wrong starting or stopping an owner, whatever its kind; the session layer
//! turns these into its own errors and `api::errors` maps those to HTTP, once.

/// Why an owner could not be started or reached.
#[derive(Debug, thiserror::Error)]
pub enum OwnerError {
    /// No such session or browser.
    #[error("Session not found")]
    NotFound,
    /// The concurrent limit is reached; nothing was created.
    #[error("Too many concurrent active sessions (limit {limit})")]
    TooManySessions {
        /// The configured limit.
        limit: usize,
    },
    /// No browser could be had.
    #[error("Could not start a browser for the session: {0}")]
    Browser(#[from] browser::BrowserError),
    /// The store failed.
    #[error("storage error: {0}")]
    Store(#[from] store::StoreError),
    /// The `profileId` names no profile.
    #[error("Profile not found")]
    ProfileNotFound,
    /// The browser's proxy does not answer or refuses the credentials; nothing was created.
    /// The message names the proxy (`scheme://host:port`) and its answer, never credentials.
    #[error("The browser's proxy cannot be used: {error}")]
    Proxy {
        /// What the proxy did.
        error: browser::proxy::ProxyError,
        /// The client's own `customProxy` (its mistake) rather than the operator's table.
        custom: bool,
    },
    /// The server is shutting down and takes no new work.
    #[error("Tandem is shutting down")]
    ShuttingDown,
}

impl From<crate::profiles::ProfileError> for OwnerError {
    fn from(e: crate::profiles::ProfileError) -> OwnerError {
        use crate::profiles::ProfileError;
        match e {
            ProfileError::NotFound => OwnerError::ProfileNotFound,
            ProfileError::Store(e) => OwnerError::Store(e),
            ProfileError::Browser(e) => OwnerError::Browser(e),
        }
    }
}
