//! What can go wrong while observing a page.

use cdp::CdpError;

/// Why an observation failed. A page that is merely empty or odd is not an error; these mean
/// the page could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum PerceptionError {
    /// The browser did not answer, or refused a command (tab closed, crashed, navigating).
    #[error("the browser could not be observed: {0}")]
    Cdp(#[from] CdpError),
    /// The walk script threw in the page (a document replaced mid-walk, say).
    #[error("the page walk failed: {0}")]
    Script(String),
    /// The browser answered something Tandem cannot read; a bug or a protocol change.
    #[error("unexpected {what}: {message}")]
    Malformed {
        /// What was being read.
        what: &'static str,
        /// What was wrong with it.
        message: String,
    },
}
