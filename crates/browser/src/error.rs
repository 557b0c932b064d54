//! Errors of the browser layer.

use std::path::PathBuf;

/// Why a browser could not be had or used.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    /// The Chromium binary could not be executed (missing, not executable).
    #[error("cannot run Chromium at {executable}: {source}")]
    Spawn {
        /// The binary we tried.
        executable: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Chromium started but never became usable.
    #[error("Chromium did not start: {0}")]
    Start(String),
    /// No temporary profile directory could be created (disk full, permissions).
    #[error("cannot create a Chromium profile directory: {0}")]
    ProfileDir(std::io::Error),
    /// A DevTools command failed.
    #[error(transparent)]
    Cdp(#[from] cdp::CdpError),
    /// The browser is gone (stopped or crashed).
    #[error("the browser is gone: {0}")]
    Gone(String),
    /// A tab id that the browser does not know (closed, or never existed).
    #[error("no tab {0}")]
    NoSuchTab(String),
    /// A navigation the page refused or that did not finish in time.
    #[error("navigation to {url} failed: {reason}")]
    Navigation {
        /// Where we tried to go.
        url: String,
        /// Chromium's error text, or a timeout.
        reason: String,
    },
    /// An address Tandem's browsers never open ([`crate::address::check`]).
    #[error("{url} refused: {reason}")]
    Refused {
        /// Where we were asked to go.
        url: String,
        /// Which rule refused it.
        reason: crate::address::AddressError,
    },
    /// A script evaluated in a page threw.
    #[error("script error: {0}")]
    Script(String),
    /// A profile could not be seeded into a browser or saved from it.
    #[error("browser profile: {0}")]
    Profile(String),
    /// Files could not be handed to the browser's user (an upload, the downloads folder).
    #[error("cannot hand files to the browser: {0}")]
    Files(std::io::Error),
    /// The pool was shut down; no more browsers are handed out.
    #[error("the browser pool is shut down")]
    PoolClosed,
}
