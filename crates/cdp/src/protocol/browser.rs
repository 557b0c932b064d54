//! CDP `Browser` domain.
//!
//! Browser-wide commands, sent on the browser connection without a session: Tandem uses it to
//! check which Chromium it launched, to route downloads of each browser context into the
//! session's download folder and hear about them, to grant permissions, to size windows and to
//! shut the browser down cleanly.

use serde::{Deserialize, Serialize};

use crate::command::{Command, Empty, Event};
use crate::protocol::page::FrameId;
use crate::protocol::target::TargetId;

/// Identifies a browser context (an isolated cookie/storage jar, like an incognito profile).
/// Commands that take one act on the default context when it is `None`.
pub type BrowserContextId = String;

/// Identifies a browser window (not a tab); see [`GetWindowForTarget`].
pub type WindowId = i64;

/// `Browser.getVersion`: what the browser is; also a cheap liveness probe.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetVersion {}

/// Result of [`GetVersion`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GetVersionResult {
    /// CDP version, e.g. `"1.3"`.
    pub protocol_version: String,
    /// Product and version, e.g. `"Chrome/156.0.8078.79"` (`"HeadlessChrome/…"` when headless).
    pub product: String,
    /// Chromium source revision.
    pub revision: String,
    /// The default `User-Agent`; in headless mode it contains `HeadlessChrome`.
    pub user_agent: String,
    /// V8 version.
    pub js_version: String,
}

impl Command for GetVersion {
    const METHOD: &'static str = "Browser.getVersion";
    type Response = GetVersionResult;
}

/// What Chromium does with a download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DownloadBehavior {
    /// Refuse every download.
    Deny,
    /// Save under the suggested file name in `download_path`.
    Allow,
    /// Save in `download_path` under the download's `guid` as file name, so that two downloads
    /// with the same suggested name cannot collide; the suggested name comes with
    /// `DownloadWillBegin`.
    AllowAndName,
    /// Chromium's own behaviour, as if this command had never been sent.
    #[default]
    Default,
}

/// `Browser.setDownloadBehavior`: where a browser context's downloads go, and whether
/// `downloadWillBegin`/`downloadProgress` events are sent.
///
/// Caution: a Playwright or Puppeteer client connected through the CDP proxy sends this
/// command too and overrides ours for the same context.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetDownloadBehavior {
    /// What to do with downloads.
    pub behavior: DownloadBehavior,
    /// Context to configure; `None` is the default context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser_context_id: Option<BrowserContextId>,
    /// Absolute directory; required for `Allow` and `AllowAndName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_path: Option<String>,
    /// Send the `Browser.download*` events (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events_enabled: Option<bool>,
}

impl Command for SetDownloadBehavior {
    const METHOD: &'static str = "Browser.setDownloadBehavior";
    type Response = Empty;
}

/// `Browser.close`: closes the browser gracefully, as the user closing it would. The WebSocket
/// drops right after, often before the answer arrives, so callers should not insist on one.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Close {}

impl Command for Close {
    const METHOD: &'static str = "Browser.close";
    type Response = Empty;
}

/// Position, size and state of a browser window. On input, fields left `None` stay unchanged,
/// and a `window_state` other than `"normal"` cannot be combined with position or size.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bounds {
    /// Left edge on the screen, in pixels.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub left: Option<i64>,
    /// Top edge on the screen, in pixels.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub top: Option<i64>,
    /// Outer window width in pixels (the viewport is smaller by the browser's chrome).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub width: Option<i64>,
    /// Outer window height in pixels.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub height: Option<i64>,
    /// `"normal"`, `"minimized"`, `"maximized"` or `"fullscreen"`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub window_state: Option<String>,
}

/// `Browser.getWindowForTarget`: the window that holds a tab, to resize it.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetWindowForTarget {
    /// Target to look up; `None` means the target of the session the command is sent on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_id: Option<TargetId>,
}

/// Result of [`GetWindowForTarget`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GetWindowForTargetResult {
    /// The window, for [`SetWindowBounds`].
    pub window_id: WindowId,
    /// Its current bounds (the restored ones when minimized).
    pub bounds: Bounds,
}

impl Command for GetWindowForTarget {
    const METHOD: &'static str = "Browser.getWindowForTarget";
    type Response = GetWindowForTargetResult;
}

/// `Browser.setContentsSize`: resizes a window so that its page area (the viewport) has the
/// given size, whatever the browser's own toolbars take.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetContentsSize {
    /// From [`GetWindowForTarget`].
    pub window_id: WindowId,
    /// Viewport width in CSS pixels; `None` keeps the current one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Viewport height in CSS pixels; `None` keeps the current one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

impl Command for SetContentsSize {
    const METHOD: &'static str = "Browser.setContentsSize";
    type Response = Empty;
}

/// `Browser.downloadWillBegin`: a download starts. Sent only with `events_enabled` in
/// [`SetDownloadBehavior`], on the browser connection (not the page's session).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DownloadWillBegin {
    /// Frame that started it; tells which tab, and so which session, it belongs to.
    pub frame_id: FrameId,
    /// Identifies the download in `DownloadProgress`, and is the file name with
    /// `DownloadBehavior::AllowAndName`.
    pub guid: String,
    /// URL being downloaded (may be a `blob:` or `data:` URL).
    pub url: String,
    /// Name the page or server suggested; not necessarily the name on disk.
    pub suggested_filename: String,
}

impl Event for DownloadWillBegin {
    const METHOD: &'static str = "Browser.downloadWillBegin";
}

/// State of a download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DownloadState {
    /// Still receiving.
    InProgress,
    /// Finished; the file is complete on disk.
    Completed,
    /// Cancelled by the page, the user or `CancelDownload`; a partial file may remain.
    Canceled,
    /// A state newer than this code.
    #[default]
    #[serde(other)]
    Unknown,
}

/// `Browser.downloadProgress`: progress of a download; the last one has a final `state`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DownloadProgress {
    /// As in [`DownloadWillBegin`].
    pub guid: String,
    /// Expected size in bytes; 0 when the server did not say.
    pub total_bytes: f64,
    /// Bytes received so far.
    pub received_bytes: f64,
    /// Whether it is still running, done or cancelled.
    pub state: DownloadState,
    /// Where the file landed, when `Completed`; not guaranteed to be set (experimental).
    pub file_path: Option<String>,
}

impl Event for DownloadProgress {
    const METHOD: &'static str = "Browser.downloadProgress";
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn set_download_behavior_serializes() {
        let params = SetDownloadBehavior {
            behavior: DownloadBehavior::AllowAndName,
            browser_context_id: Some("CTX".into()),
            download_path: Some("/tmp/dl".into()),
            events_enabled: Some(true),
        };
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"behavior": "allowAndName", "browserContextId": "CTX",
                   "downloadPath": "/tmp/dl", "eventsEnabled": true})
        );
        assert_eq!(
            serde_json::to_value(SetDownloadBehavior::default()).unwrap(),
            json!({"behavior": "default"})
        );
    }

    #[test]
    fn get_version_result_deserializes() {
        let result: GetVersionResult = serde_json::from_value(json!({
            "protocolVersion": "1.3", "product": "HeadlessChrome/156.0.8078.79",
            "revision": "@abcdef", "userAgent": "Mozilla/5.0 HeadlessChrome/156",
            "jsVersion": "15.6.1"
        }))
        .unwrap();
        assert_eq!(result.protocol_version, "1.3");
        assert_eq!(result.product, "HeadlessChrome/156.0.8078.79");
        assert_eq!(result.revision, "@abcdef");
        assert!(result.user_agent.contains("HeadlessChrome"));
        assert_eq!(result.js_version, "15.6.1");
    }

    #[test]
    fn download_events_deserialize() {
        let begin: DownloadWillBegin = serde_json::from_value(json!({
            "frameId": "F1", "guid": "0b7e-guid", "url": "https://example.com/a.pdf",
            "suggestedFilename": "a.pdf"
        }))
        .unwrap();
        assert_eq!(begin.frame_id, "F1");
        assert_eq!(begin.guid, "0b7e-guid");
        assert_eq!(begin.suggested_filename, "a.pdf");

        let progress: DownloadProgress = serde_json::from_value(json!({
            "guid": "0b7e-guid", "totalBytes": 2048, "receivedBytes": 2048,
            "state": "completed", "filePath": "/tmp/dl/0b7e-guid"
        }))
        .unwrap();
        assert_eq!(progress.state, DownloadState::Completed);
        assert_eq!(progress.total_bytes, 2048.0);
        assert_eq!(progress.received_bytes, 2048.0);
        assert_eq!(progress.file_path.as_deref(), Some("/tmp/dl/0b7e-guid"));

        let future: DownloadProgress = serde_json::from_value(json!({
            "guid": "g", "totalBytes": 0, "receivedBytes": 10, "state": "paused"
        }))
        .unwrap();
        assert_eq!(future.state, DownloadState::Unknown);
        assert_eq!(
            serde_json::from_value::<DownloadState>(json!("inProgress")).unwrap(),
            DownloadState::InProgress
        );
    }
}
