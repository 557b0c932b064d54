//! Why an action failed, in words the model reads as the tool result.

use browser::BrowserError;
use cdp::CdpError;

/// An action that could not be done. Its text goes back to the model, so it says what to do
/// differently where it can.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// The tool call itself was malformed.
    #[error("{0}")]
    Arguments(String),
    /// The index is not in the latest state (stale or invented).
    #[error("there is no element [{0}] in the current state; use an index from the latest state")]
    NoSuchElement(u64),
    /// The tab id is not one of the open tabs.
    #[error("there is no tab {0:?}; use an id from the tabs list")]
    NoSuchTab(String),
    /// The action was refused (a path outside the upload directories, ...).
    #[error("not allowed: {0}")]
    NotAllowed(String),
    /// The action ran but did not have its effect.
    #[error("{0}")]
    Failed(String),
    /// The browser failed.
    #[error("browser error: {0}")]
    Browser(#[from] BrowserError),
    /// A CDP command failed.
    #[error("browser error: {0}")]
    Cdp(#[from] CdpError),
}
