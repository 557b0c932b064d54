//! The typed face of CDP: one struct per command, one per event.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A CDP method with typed parameters and result.
///
/// Implemented by the parameter struct of each command we use, so that a call site names the
/// method once, through its type, and gets a typed result back:
/// `session.call(page::Navigate { url, ..Default::default() }).await?`.
pub trait Command: Serialize {
    /// The protocol method name, e.g. `"Page.navigate"`.
    const METHOD: &'static str;
    /// What the browser answers; `Empty` for commands that return `{}`.
    type Response: DeserializeOwned;
}

/// A CDP event with typed parameters.
///
/// Implemented by the parameter struct of each event we consume, so that
/// `event.parse::<page::ScreencastFrame>()` both checks the method name and decodes it.
pub trait Event: DeserializeOwned {
    /// The protocol event name, e.g. `"Page.screencastFrame"`.
    const METHOD: &'static str;
}

/// The result of commands that return nothing of interest.
///
/// Lenient on purpose: Chromium sometimes adds fields to results that used to be empty.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Empty {}
