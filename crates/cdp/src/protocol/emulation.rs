//! CDP `Emulation` domain.
//!
//! Makes one tab look like another device: Tandem uses it to pin a tab's viewport size and
//! scale (so screenshots, screencast frames and element coordinates agree), to keep a
//! background tab behaving as focused (focus-dependent pages, caret blinking, `:focus`
//! styles), and to override the user agent.
//!
//! Overrides are per session: they end when the session that set them detaches.

use serde::Serialize;

use crate::command::{Command, Empty};

/// Screen orientation to report to the page.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScreenOrientation {
    /// `"portraitPrimary"`, `"portraitSecondary"`, `"landscapePrimary"` or
    /// `"landscapeSecondary"`.
    #[serde(rename = "type")]
    pub r#type: String,
    /// Angle in degrees: 0, 90, 180 or 270.
    pub angle: i64,
}

/// `Emulation.setFocusEmulationEnabled`: the page believes it has focus even when its tab or
/// window does not (several tabs, headless), so focus events and `document.hasFocus()` work.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetFocusEmulationEnabled {
    /// Whether to emulate focus.
    pub enabled: bool,
}

impl Command for SetFocusEmulationEnabled {
    const METHOD: &'static str = "Emulation.setFocusEmulationEnabled";
    type Response = Empty;
}
