//! What can go wrong talking to a browser, said so that a caller can act on it.

use std::time::Duration;

/// Why a CDP command did not produce a result.
///
/// Each variant is a different thing for the caller to do: retry elsewhere (`Timeout` on a hung
/// page), give up on the target (`SessionClosed`), give up on the browser (`Closed`), or fix the
/// request (`Protocol`).
#[derive(Debug, Clone, thiserror::Error)]
pub enum CdpError {
    /// The browser did not answer in time. The page may be hung (`while(true){}`) or busy; the
    /// connection itself is still usable for other sessions.
    #[error("CDP command {method} timed out after {timeout:?}")]
    Timeout {
        /// The method that got no answer.
        method: String,
        /// How long we waited.
        timeout: Duration,
    },
    /// The browser's WebSocket is gone (the browser exited, crashed or was stopped). Every
    /// command in flight ends with this error, and so does every later command.
    #[error("CDP connection closed: {reason}")]
    Closed {
        /// What closed it, as far as we know.
        reason: String,
    },
    /// The target behind a flattened session went away (tab closed, renderer crashed) before
    /// the command was answered.
    #[error("CDP session {session_id} detached before {method} was answered")]
    SessionClosed {
        /// The flattened session that detached.
        session_id: String,
        /// The method that got no answer.
        method: String,
    },
    /// The browser answered with a protocol error, e.g. an unknown node id or a bad parameter.
    #[error("{method} failed: {message} (code {code})")]
    Protocol {
        /// The method that failed.
        method: String,
        /// CDP's error code (JSON-RPC style).
        code: i64,
        /// CDP's error message.
        message: String,
    },
    /// The command's parameters could not be encoded, or its result could not be decoded into
    /// the typed response.
    #[error("CDP {method}: {message}")]
    Json {
        /// The method concerned.
        method: String,
        /// The serde error.
        message: String,
    },
    /// Connecting the WebSocket failed.
    #[error("cannot connect to {url}: {message}")]
    Connect {
        /// The address we tried.
        url: String,
        /// The transport's error.
        message: String,
    },
}

impl CdpError {
    /// True when the browser behind the connection is gone for good, so that retrying on the
    /// same connection is pointless.
    pub fn is_connection_lost(&self) -> bool {
        matches!(self, CdpError::Closed { .. } | CdpError::Connect { .. })
    }
}
