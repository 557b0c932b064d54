//! CDP `Target` domain.
//!
//! Tabs, browser contexts and sessions. Tandem uses it to create and dispose a browser context
//! per session (density mode), open, activate and close tabs, attach a flattened session to a
//! tab (`flatten: true`: every later command names its `sessionId` on the one browser
//! WebSocket), and watch tabs appear, change, crash and go away (popups, `window.open`, tabs a
//! human opens from the live view).

use serde::{Deserialize, Serialize};

use crate::command::{Command, Empty, Event};
use crate::protocol::browser::BrowserContextId;
use crate::protocol::page::FrameId;

/// Identifies a target (a tab, an out-of-process iframe, a worker, the browser itself); stable
/// for the target's life, and the id in `/devtools/page/<id>` URLs.
pub type TargetId = String;

/// Identifies one attachment (a flattened session) to a target; commands sent with it reach
/// that target. Several sessions can attach to the same target.
pub type SessionId = String;

/// What Chromium tells about a target.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TargetInfo {
    /// The target's id.
    pub target_id: TargetId,
    /// `"page"` for a tab; also `"iframe"`, `"worker"`, `"shared_worker"`, `"service_worker"`,
    /// `"browser"`, `"tab"`, `"webview"`, `"other"`, ... (a string: the list grows).
    #[serde(rename = "type")]
    pub r#type: String,
    /// Document title; the URL until the page sets one.
    pub title: String,
    /// Current URL.
    pub url: String,
    /// Whether any client (possibly not us) is attached.
    pub attached: bool,
    /// Parent target, e.g. the page of an `"iframe"` target.
    pub parent_id: Option<TargetId>,
    /// Tab that opened this one (`window.open`, `target=_blank`); how popups are tied to the
    /// tab they came from.
    pub opener_id: Option<TargetId>,
    /// Whether the page can reach its opener through `window.opener`.
    pub can_access_opener: bool,
    /// Frame of the opener that opened this target.
    pub opener_frame_id: Option<FrameId>,
    /// Frame that hosts this `"iframe"` or `"worker"` target.
    pub parent_frame_id: Option<FrameId>,
    /// Browser context the target lives in; how a tab is tied to a Tandem session when
    /// sessions share a browser.
    pub browser_context_id: Option<BrowserContextId>,
    /// Refines `type`, e.g. `"prerender"` for a prerendering page, which is not a real tab.
    pub subtype: Option<String>,
}

impl TargetInfo {
    /// True for a tab a user could see: type `"page"` and not a prerender.
    pub fn is_page(&self) -> bool {
        self.r#type == "page" && self.subtype.as_deref() != Some("prerender")
    }
}

/// One rule of a target filter; the first rule whose `type` matches decides.
///
/// Without a filter Chromium assumes `[{type: "browser", exclude: true}, {type: "tab",
/// exclude: true}, {}]`: everything except the browser and tab targets.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterEntry {
    /// True to exclude matching targets, false or `None` to include them.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub exclude: Option<bool>,
    /// Target type to match; `None` matches every type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none", default)]
    pub r#type: Option<String>,
}

/// `Target.setDiscoverTargets`: turns on `targetCreated`/`targetInfoChanged`/`targetDestroyed`
/// for every target of the browser (without attaching to them). Existing targets are reported
/// at once as `targetCreated`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetDiscoverTargets {
    /// Whether to report targets.
    pub discover: bool,
    /// Which targets to report; must be `None` or empty when `discover` is false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Vec<FilterEntry>>,
}

impl Command for SetDiscoverTargets {
    const METHOD: &'static str = "Target.setDiscoverTargets";
    type Response = Empty;
}

/// `Target.setAutoAttach`: attaches automatically to targets related to the session's target
/// (iframes, workers; on the browser session: every new page), reported by `attachedToTarget`.
///
/// Applies to the session it is sent on, and attaches to existing related targets too. With
/// `wait_for_debugger_on_start`, each new target is paused until it gets
/// `Runtime.runIfWaitingForDebugger` on its session, which lets us configure it before its
/// first script runs; forgetting to resume leaves the target hung.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetAutoAttach {
    /// Whether to auto-attach; false detaches every auto-attached target.
    pub auto_attach: bool,
    /// Pause new targets until `Runtime.runIfWaitingForDebugger`.
    pub wait_for_debugger_on_start: bool,
    /// Must be true: the transport only speaks flattened sessions. Always sent.
    pub flatten: bool,
    /// Which targets to attach to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Vec<FilterEntry>>,
}

impl Command for SetAutoAttach {
    const METHOD: &'static str = "Target.setAutoAttach";
    type Response = Empty;
}

/// `Target.attachToTarget`: opens a session to a target; the session's events start right
/// after the answer (and `attachedToTarget` is sent too).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachToTarget {
    /// Target to attach to.
    pub target_id: TargetId,
    /// Must be true: the transport only speaks flattened sessions. Always sent.
    pub flatten: bool,
}

impl AttachToTarget {
    /// A flattened attachment to `target_id`, the only kind the transport can route.
    pub fn flat(target_id: impl Into<TargetId>) -> Self {
        Self {
            target_id: target_id.into(),
            flatten: true,
        }
    }
}

/// Result of [`AttachToTarget`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AttachToTargetResult {
    /// Session to send the target's commands on.
    pub session_id: SessionId,
}

impl Command for AttachToTarget {
    const METHOD: &'static str = "Target.attachToTarget";
    type Response = AttachToTargetResult;
}

/// `Target.detachFromTarget`: closes a session; the target lives on.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DetachFromTarget {
    /// Session to close.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<SessionId>,
}

impl Command for DetachFromTarget {
    const METHOD: &'static str = "Target.detachFromTarget";
    type Response = Empty;
}

/// `Target.createTarget`: opens a new tab (a page target).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTarget {
    /// First URL; empty string for `about:blank`. Navigating later, after attaching, lets us
    /// see the first navigation's events.
    pub url: String,
    /// Window width in DIP; only with `new_window` or in headless mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
    /// Window height in DIP; only with `new_window` or in headless mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<i64>,
    /// Context to create the tab in; `None` is the default context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser_context_id: Option<BrowserContextId>,
    /// New window instead of a new tab (default false; not in headless shell).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_window: Option<bool>,
    /// Open without activating it (default false; not in headless shell).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub background: Option<bool>,
}

/// Result of [`CreateTarget`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CreateTargetResult {
    /// The new tab.
    pub target_id: TargetId,
}

impl Command for CreateTarget {
    const METHOD: &'static str = "Target.createTarget";
    type Response = CreateTargetResult;
}

/// `Target.closeTarget`: closes a tab without running its `beforeunload` handlers (use
/// `page::Close` to run them).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloseTarget {
    /// Target to close.
    pub target_id: TargetId,
}

/// Result of [`CloseTarget`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CloseTargetResult {
    /// Deprecated and always true when present; failures come as protocol errors instead.
    pub success: Option<bool>,
}

impl Command for CloseTarget {
    const METHOD: &'static str = "Target.closeTarget";
    type Response = CloseTargetResult;
}

/// `Target.activateTarget`: brings a tab to the front of its window (makes it the active
/// tab), e.g. when the live-view user switches tabs.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivateTarget {
    /// Target to activate.
    pub target_id: TargetId,
}

impl Command for ActivateTarget {
    const METHOD: &'static str = "Target.activateTarget";
    type Response = Empty;
}

/// `Target.getTargets`: the current targets, without needing discovery to be on.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetTargets {
    /// Which targets to list; `None` uses the discovery filter if discovery is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Vec<FilterEntry>>,
}

/// Result of [`GetTargets`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GetTargetsResult {
    /// The targets, in no guaranteed order.
    pub target_infos: Vec<TargetInfo>,
}

impl Command for GetTargets {
    const METHOD: &'static str = "Target.getTargets";
    type Response = GetTargetsResult;
}

/// Result of [`CreateBrowserContext`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CreateBrowserContextResult {
    /// The new context, for [`CreateTarget::browser_context_id`].
    pub browser_context_id: BrowserContextId,
}

/// `Target.targetCreated` (needs discovery): a target appeared.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TargetCreated {
    /// The new target.
    pub target_info: TargetInfo,
}

impl Event for TargetCreated {
    const METHOD: &'static str = "Target.targetCreated";
}

/// `Target.targetDestroyed` (needs discovery): a target is gone (tab closed, context disposed).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TargetDestroyed {
    /// The target that went away.
    pub target_id: TargetId,
}

impl Event for TargetDestroyed {
    const METHOD: &'static str = "Target.targetDestroyed";
}

/// `Target.targetInfoChanged` (needs discovery): title, URL or attachment of a target
/// changed; how tab titles in the live view stay current.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TargetInfoChanged {
    /// The target's new info, complete.
    pub target_info: TargetInfo,
}

impl Event for TargetInfoChanged {
    const METHOD: &'static str = "Target.targetInfoChanged";
}

/// `Target.attachedToTarget`: a session to a target exists, through `attachToTarget` or
/// auto-attach. Arrives on the session that asked (the browser connection or a parent session).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AttachedToTarget {
    /// The new session.
    pub session_id: SessionId,
    /// The target it is attached to.
    pub target_info: TargetInfo,
    /// The target is paused and must get `Runtime.runIfWaitingForDebugger` on this session.
    pub waiting_for_debugger: bool,
}

impl Event for AttachedToTarget {
    const METHOD: &'static str = "Target.attachedToTarget";
}

/// `Target.detachedFromTarget`: a session ended (detach, tab closed, renderer swapped). Every
/// command pending on it will never be answered.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DetachedFromTarget {
    /// The session that ended.
    pub session_id: SessionId,
    /// Deprecated in the protocol but still sent by Chromium.
    pub target_id: Option<TargetId>,
}

impl Event for DetachedFromTarget {
    const METHOD: &'static str = "Target.detachedFromTarget";
}

/// `Target.targetCrashed`: a target's renderer died (crash, kill, out of memory); the tab stays
/// open showing a crash page until it is reloaded or closed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TargetCrashed {
    /// The crashed target.
    pub target_id: TargetId,
    /// Termination status, e.g. `"crashed"`, `"killed"`, `"oom"`.
    pub status: String,
    /// Platform exit or signal code.
    pub error_code: i64,
}

impl Event for TargetCrashed {
    const METHOD: &'static str = "Target.targetCrashed";
}

/// `Target.getTargetInfo`: one target's current info.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetTargetInfo {
    /// Target to describe; `None` means the session's own target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_id: Option<TargetId>,
}

/// Result of [`GetTargetInfo`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GetTargetInfoResult {
    /// The target's info.
    pub target_info: TargetInfo,
}

impl Command for GetTargetInfo {
    const METHOD: &'static str = "Target.getTargetInfo";
    type Response = GetTargetInfoResult;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn set_auto_attach_serializes_all_required_fields() {
        let params = SetAutoAttach {
            auto_attach: true,
            wait_for_debugger_on_start: true,
            flatten: true,
            filter: Some(vec![
                FilterEntry {
                    r#type: Some("page".into()),
                    exclude: Some(true),
                },
                FilterEntry::default(),
            ]),
        };
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true,
                   "filter": [{"exclude": true, "type": "page"}, {}]})
        );
    }

    #[test]
    fn attach_to_target_flat_sets_flatten() {
        let params = AttachToTarget::flat("T1");
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"targetId": "T1", "flatten": true})
        );
        let result: AttachToTargetResult =
            serde_json::from_value(json!({"sessionId": "S1"})).unwrap();
        assert_eq!(result.session_id, "S1");
    }

    #[test]
    fn create_target_skips_unset_options() {
        let params = CreateTarget {
            url: "about:blank".into(),
            browser_context_id: Some("CTX".into()),
            width: Some(1280),
            height: Some(720),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"url": "about:blank", "width": 1280, "height": 720, "browserContextId": "CTX"})
        );
        assert_eq!(CreateTarget::METHOD, "Target.createTarget");
    }

    #[test]
    fn target_info_ignores_unknown_fields() {
        let event: TargetCreated = serde_json::from_value(json!({"targetInfo": {
            "targetId": "ABC", "type": "page", "title": "Example", "url": "https://example.com/",
            "attached": false, "openerId": "OPENER", "canAccessOpener": true,
            "openerFrameId": "OF", "browserContextId": "CTX",
            "pid": 4242, "someFutureField": {"nested": [1, 2, 3]}
        }}))
        .unwrap();
        let info = event.target_info;
        assert_eq!(info.target_id, "ABC");
        assert_eq!(info.r#type, "page");
        assert_eq!(info.title, "Example");
        assert_eq!(info.url, "https://example.com/");
        assert!(!info.attached);
        assert_eq!(info.opener_id.as_deref(), Some("OPENER"));
        assert!(info.can_access_opener);
        assert_eq!(info.opener_frame_id.as_deref(), Some("OF"));
        assert_eq!(info.browser_context_id.as_deref(), Some("CTX"));
        assert!(info.is_page());
    }

    #[test]
    fn prerender_page_is_not_a_tab() {
        let info: TargetInfo = serde_json::from_value(json!({
            "targetId": "P", "type": "page", "subtype": "prerender", "title": "", "url": "",
            "attached": false
        }))
        .unwrap();
        assert!(!info.is_page());
    }

    #[test]
    fn attach_detach_crash_events_deserialize() {
        let attached: AttachedToTarget = serde_json::from_value(json!({
            "sessionId": "S2",
            "targetInfo": {"targetId": "IF", "type": "iframe", "title": "", "url": "https://ads.example/",
                           "attached": true, "parentFrameId": "PF", "canAccessOpener": false},
            "waitingForDebugger": true
        }))
        .unwrap();
        assert_eq!(attached.session_id, "S2");
        assert_eq!(attached.target_info.r#type, "iframe");
        assert_eq!(attached.target_info.parent_frame_id.as_deref(), Some("PF"));
        assert!(attached.waiting_for_debugger);

        let detached: DetachedFromTarget =
            serde_json::from_value(json!({"sessionId": "S2", "targetId": "IF"})).unwrap();
        assert_eq!(detached.session_id, "S2");
        assert_eq!(detached.target_id.as_deref(), Some("IF"));

        let crashed: TargetCrashed = serde_json::from_value(json!({
            "targetId": "T", "status": "killed", "errorCode": 9
        }))
        .unwrap();
        assert_eq!(crashed.target_id, "T");
        assert_eq!(crashed.status, "killed");
        assert_eq!(crashed.error_code, 9);

        let destroyed: TargetDestroyed = serde_json::from_value(json!({"targetId": "T"})).unwrap();
        assert_eq!(destroyed.target_id, "T");
    }

    #[test]
    fn get_targets_result_deserializes() {
        let result: GetTargetsResult = serde_json::from_value(json!({"targetInfos": [
            {"targetId": "A", "type": "page", "title": "a", "url": "about:blank", "attached": true,
             "canAccessOpener": false, "browserContextId": "C"},
            {"targetId": "B", "type": "service_worker", "title": "sw", "url": "https://x/sw.js",
             "attached": false, "canAccessOpener": false}
        ]}))
        .unwrap();
        assert_eq!(result.target_infos.len(), 2);
        assert_eq!(result.target_infos[1].r#type, "service_worker");
        assert!(!result.target_infos[1].is_page());
        let close: CloseTargetResult = serde_json::from_value(json!({"success": true})).unwrap();
        assert_eq!(close.success, Some(true));
        let close: CloseTargetResult = serde_json::from_value(json!({})).unwrap();
        assert_eq!(close.success, None);
    }
}
