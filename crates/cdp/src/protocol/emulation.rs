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

/// `Emulation.setDeviceMetricsOverride`: fixes the viewport size, device scale factor and
/// mobile mode of the tab, whatever its window size.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetDeviceMetricsOverride {
    /// Viewport width in CSS pixels; 0 leaves the width to the window.
    pub width: i64,
    /// Viewport height in CSS pixels; 0 leaves the height to the window.
    pub height: i64,
    /// `window.devicePixelRatio`; 0 keeps the real one. Above 1, screenshots, screencast
    /// frames and DOMSnapshot rectangles grow accordingly.
    pub device_scale_factor: f64,
    /// Mobile mode: honours `<meta name=viewport>`, overlay scrollbars, text autosizing.
    pub mobile: bool,
    /// Scale of the rendered view, e.g. for a zoomed-out screencast (experimental).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<f64>,
    /// `screen.width` to report (experimental).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub screen_width: Option<i64>,
    /// `screen.height` to report (experimental).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub screen_height: Option<i64>,
    /// Screen orientation to report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub screen_orientation: Option<ScreenOrientation>,
}

impl Command for SetDeviceMetricsOverride {
    const METHOD: &'static str = "Emulation.setDeviceMetricsOverride";
    type Response = Empty;
}

/// `Emulation.clearDeviceMetricsOverride`: the viewport follows the window again.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClearDeviceMetricsOverride {}

impl Command for ClearDeviceMetricsOverride {
    const METHOD: &'static str = "Emulation.clearDeviceMetricsOverride";
    type Response = Empty;
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

/// `Emulation.setUserAgentOverride`: the `User-Agent` header and `navigator.userAgent` of this
/// tab, e.g. to drop `HeadlessChrome`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetUserAgentOverride {
    /// Full user agent string.
    pub user_agent: String,
    /// `Accept-Language` header and `navigator.languages`, e.g. `"en-US,en"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accept_language: Option<String>,
    /// `navigator.platform`, e.g. `"Linux x86_64"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}

impl Command for SetUserAgentOverride {
    const METHOD: &'static str = "Emulation.setUserAgentOverride";
    type Response = Empty;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn device_metrics_serialize() {
        let params = SetDeviceMetricsOverride {
            width: 1280,
            height: 720,
            device_scale_factor: 1.0,
            mobile: false,
            screen_width: Some(1920),
            screen_height: Some(1080),
            screen_orientation: Some(ScreenOrientation {
                r#type: "landscapePrimary".into(),
                angle: 90,
            }),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"width": 1280, "height": 720, "deviceScaleFactor": 1.0, "mobile": false,
                   "screenWidth": 1920, "screenHeight": 1080,
                   "screenOrientation": {"type": "landscapePrimary", "angle": 90}})
        );
        assert_eq!(
            SetDeviceMetricsOverride::METHOD,
            "Emulation.setDeviceMetricsOverride"
        );
    }

    #[test]
    fn focus_and_user_agent_serialize() {
        assert_eq!(
            serde_json::to_value(SetFocusEmulationEnabled { enabled: true }).unwrap(),
            json!({"enabled": true})
        );
        let params = SetUserAgentOverride {
            user_agent: "Mozilla/5.0 Chrome/156".into(),
            accept_language: Some("en-US,en".into()),
            platform: None,
        };
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"userAgent": "Mozilla/5.0 Chrome/156", "acceptLanguage": "en-US,en"})
        );
    }
}
