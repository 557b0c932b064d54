//! What can go wrong with a session operation, in domain terms; `api::errors` maps these to
//! HTTP, once.

use store::SessionStatus;

/// Why a session operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// No such session (or it was deleted).
    #[error("Session not found")]
    NotFound,
    /// The concurrent-session limit is reached; nothing was created.
    #[error("Too many concurrent active sessions (limit {limit})")]
    TooManySessions {
        /// The configured limit.
        limit: usize,
    },
    /// A task is already running in the session.
    #[error("Session is running; wait for the task to finish or stop it with strategy \"task\"")]
    Busy,
    /// The session has ended and can run no more tasks.
    #[error("Session has ended (status {0}); it cannot run more tasks. Create a new session")]
    Ended(SessionStatus),
    /// No browser could be had for a new session.
    #[error("Could not start a browser for the session: {0}")]
    Browser(#[from] browser::BrowserError),
    /// The store failed.
    #[error("storage error: {0}")]
    Store(#[from] store::StoreError),
    /// A human's command does not fit what the agent waits for.
    #[error(transparent)]
    Handoff(#[from] super::handoff::HandoffError),
    /// The `profileId` names no profile.
    #[error("Profile not found")]
    ProfileNotFound,
    /// The `workspaceId` names no workspace.
    #[error("Workspace not found")]
    WorkspaceNotFound,
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

impl From<crate::owners::OwnerError> for SessionError {
    fn from(e: crate::owners::OwnerError) -> SessionError {
        use crate::owners::OwnerError;
        match e {
            OwnerError::NotFound => SessionError::NotFound,
            OwnerError::TooManySessions { limit } => SessionError::TooManySessions { limit },
            OwnerError::Browser(e) => SessionError::Browser(e),
            OwnerError::Store(e) => SessionError::Store(e),
            OwnerError::ProfileNotFound => SessionError::ProfileNotFound,
            OwnerError::Proxy { error, custom } => SessionError::Proxy { error, custom },
            OwnerError::ShuttingDown => SessionError::ShuttingDown,
        }
    }
}

impl From<crate::profiles::ProfileError> for SessionError {
    fn from(e: crate::profiles::ProfileError) -> SessionError {
        crate::owners::OwnerError::from(e).into()
    }
}
