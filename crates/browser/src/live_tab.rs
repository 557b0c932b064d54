//! A tab as a human uses it through the live view: what a screencast cannot show, made
//! visible, and the human's answers delivered.
//!
//! A screencast shows pixels only. JavaScript dialogs, file choosers and the popup of a native
//! `<select>` are drawn by the browser outside the page (or not at all in headless), so a
//! human watching frames would see a stuck page. [`LiveTab`] attaches its own session to the
//! tab, intercepts those three, and reports them as [`TabSignal`]s for the viewer to render;
//! the viewer's answers come back through its methods. Cross-site iframes, which run in
//! processes of their own, get the same through sessions of their own (`live_frames`).

use std::path::PathBuf;
use std::sync::Arc;

use cdp::protocol::{dom, emulation, input, page, runtime, target};
use cdp::{CdpError, RawEvent, Session};
use serde::Deserialize;
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

use crate::error::BrowserError;
use crate::input::{InputError, KeyInput, PointerInput, key_event, mouse_event};
use crate::live_frames::{self, FrameContext, FrameSessions, MAX_FRAME_DEPTH};
use crate::page::Page;

/// Something on the tab the human must see or answer.
#[derive(Debug, Clone, PartialEq)]
pub enum TabSignal {
    /// A JavaScript dialog opened; the page waits for [`LiveTab::answer_dialog`].
    DialogOpened {
        /// `alert`, `confirm`, `prompt` or `beforeunload`.
        kind: String,
        /// Its message.
        message: String,
        /// A prompt's default text.
        default_prompt: String,
    },
    /// The dialog is gone (answered here or elsewhere).
    DialogClosed,
    /// The page (or one of its cross-site frames) asked for files; answer with
    /// [`LiveTab::set_files`].
    FileChooser {
        /// Whether several files may be chosen.
        multiple: bool,
        /// The `<input type=file>` to answer.
        input: FileInput,
    },
    /// The human pressed on a native `<select>` (or a key that opens one); its options, to
    /// render and pick from with [`LiveTab::pick_option`].
    Select {
        /// The options and where the element is.
        popup: SelectPopup,
        /// The frame that reported it, where the choice is applied.
        frame: SelectFrame,
    },
    /// The document's title changed (headless Chromium does not report title changes in its
    /// target events, so the tab strip learns them here).
    Title {
        /// The document's URL.
        url: String,
        /// Its title.
        title: String,
    },
    /// The main frame navigated (address bar, history buttons).
    Navigated {
        /// The new URL.
        url: String,
    },
}

/// Where a reported `<select>` lives: the session of its frame's process (the tab's, or a
/// cross-site iframe's) and the JavaScript context of its document there. Given back to
/// [`LiveTab::pick_option`] as it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectFrame {
    /// The session; `None` only for a session without an id (never a tab's or a frame's).
    session_id: Option<String>,
    context: runtime::ExecutionContextId,
}

/// The `<input type=file>` of a [`TabSignal::FileChooser`]: the session of its frame's
/// process (a node id means something only there) and the node. Given back to
/// [`LiveTab::set_files`] as it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInput {
    /// The session; `None` only for a session without an id (never a tab's or a frame's).
    session_id: Option<String>,
    backend_node_id: dom::BackendNodeId,
}

/// `Page.enable` for the live view: with `Page.fileChooserOpened` events (see
/// [`intercept_file_choosers`]).
pub(crate) async fn enable_page(session: &Session) -> Result<(), CdpError> {
    session
        .call(page::Enable {
            enable_file_chooser_opened_event: Some(true),
        })
        .await?;
    Ok(())
}

/// Turns `session`'s file chooser into events instead of a native dialog (headless shows
/// none, so the page would wait forever): the tab's and each cross-site frame's, since each
/// process asks for its own. Needs [`enable_page`] first.
pub(crate) async fn intercept_file_choosers(session: &Session) -> Result<(), CdpError> {
    session
        .call(page::SetInterceptFileChooserDialog {
            enabled: true,
            cancel: None,
        })
        .await?;
    Ok(())
}

/// The file chooser signal of a `Page.fileChooserOpened` on `session`, if it is one.
pub(crate) fn reported_file_chooser(session: &Session, event: &RawEvent) -> Option<TabSignal> {
    let opened = event.parse::<page::FileChooserOpened>()?.ok()?;
    let backend_node_id = opened.backend_node_id?;
    Some(TabSignal::FileChooser {
        multiple: opened.mode == page::FileChooserMode::SelectMultiple,
        input: FileInput {
            session_id: session.id().map(str::to_string),
            backend_node_id,
        },
    })
}

/// A native `<select>`'s options, as the injected script reports them.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct SelectPopup {
    /// The script's id for the element, given back to pick an option.
    pub id: u64,
    /// The options in order.
    pub options: Vec<SelectOption>,
    /// The element's box in CSS pixels of the top viewport (inside an iframe, moved by the
    /// frame's position, cross-site ones included), to place the list under it.
    pub rect: [f64; 4],
}

/// One `<option>`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct SelectOption {
    /// Its text.
    pub label: String,
    /// Whether it is the current choice.
    pub selected: bool,
    /// Whether it cannot be chosen.
    pub disabled: bool,
}

/// The binding the injected script reports `<select>` presses through. The page can see it
/// (bindings live in the main world); what it passes is treated as untrusted input.
const SELECT_BINDING: &str = "__tandemLiveSelect";

/// How long attaching waits for the page to run the injected script.
const SCRIPT_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The binding the injected script reports title changes through.
const TITLE_BINDING: &str = "__tandemLiveTitle";

/// Intercepts presses on single-choice `<select>`s (their popup is not part of the
/// screencast), by mouse or by the keys that open one, and keeps the elements so that a
/// choice can be applied later (or measured: `element` hands one out). It runs in every frame
/// of the tab's process; each frame numbers its own selects, so a choice is applied in the
/// frame (execution context) that reported the select. The box it reports is in its own
/// frame's viewport, which the browser's own measure replaces when it can be had.
const SELECT_SCRIPT: &str = r#"(() => {
  if (window.__tandemLive) return;
  const elements = new Map();
  let next = 1;
  const pick = (id, index) => {
    const el = elements.get(id);
    if (!el || !el.isConnected || index < 0 || index >= el.options.length) return false;
    if (el.options[index].disabled) return false;
    el.focus();
    if (el.selectedIndex !== index) {
      el.selectedIndex = index;
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
    }
    return true;
  };
  const element = (id) => elements.get(id) || null;
  Object.defineProperty(window, '__tandemLive', { value: { pick, element }, enumerable: false });
  if (window === window.top) {
    let last = null;
    const title = () => {
      const report = window.__tandemLiveTitle;
      if (document.title === last || typeof report !== 'function') return;
      last = document.title;
      report(JSON.stringify({ url: location.href, title: last }));
    };
    new MutationObserver(title).observe(document, { subtree: true, childList: true, characterData: true });
    addEventListener('DOMContentLoaded', title);
    title();
  }
  const popupSelect = (target) => {
    const el = target instanceof Element ? target.closest('select') : null;
    return el && !el.multiple && !(el.size > 1) && !el.disabled ? el : null;
  };
  const report = (el) => {
    const binding = window.__tandemLiveSelect;
    if (typeof binding !== 'function') return;
    let id = [...elements].find(([, v]) => v === el)?.[0];
    if (!id) { id = next++; elements.set(id, el); }
    const r = el.getBoundingClientRect();
    binding(JSON.stringify({
      id,
      rect: [r.x, r.y, r.width, r.height],
      options: [...el.options].map((o) => ({
        label: o.label || o.text, selected: o.selected, disabled: o.disabled,
      })),
    }));
  };
  addEventListener('mousedown', (e) => {
    const el = e.button === 0 ? popupSelect(e.target) : null;
    if (!el) return;
    e.preventDefault();
    el.focus();
    report(el);
  }, true);
  addEventListener('keydown', (e) => {
    const el = popupSelect(e.target);
    if (!el || e.ctrlKey || e.metaKey) return;
    const opens = e.altKey
      ? e.key === 'ArrowDown' || e.key === 'ArrowUp'
      : e.key === ' ' || e.key === 'Enter' || e.key === 'F4';
    if (!opens) return;
    e.preventDefault();
    report(el);
  }, true);
})()"#;

/// Returns the selected text of the page, including inside inputs and textareas, in the
/// focused frame: `document.activeElement` of a page whose focus is in a same-origin iframe
/// is the iframe itself, so the walk descends into it (and into open shadow roots). A
/// focused frame it cannot enter (another origin) is returned itself, to be read in its own
/// context.
const SELECTION_SCRIPT: &str = r#"(() => {
  let doc = document;
  for (let depth = 0; depth < 32; depth += 1) {
    let el = doc.activeElement;
    while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
    if (el && (el.tagName === 'IFRAME' || el.tagName === 'FRAME')) {
      let inner = null;
      try { inner = el.contentDocument; } catch (e) { inner = null; }
      if (!inner) return el;
      doc = inner;
      continue;
    }
    if (el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA')
        && typeof el.selectionStart === 'number') {
      return el.value.substring(el.selectionStart, el.selectionEnd);
    }
    return String(doc.getSelection() || '');
  }
  return '';
})()"#;

/// A tab with the live view's session attached. Cheap to clone; the signal task stops when
/// the last clone is dropped or the tab goes away.
#[derive(Debug, Clone)]
pub struct LiveTab {
    page: Page,
    frames: Arc<FrameSessions>,
    watcher: Arc<Watcher>,
}

#[derive(Debug)]
struct Watcher(JoinHandle<()>);

impl Drop for Watcher {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl LiveTab {
    /// Whether the tab's renderer is gone (crashed, killed, out of memory), as it changes:
    /// the live view says so, and a reload brings the tab back.
    pub fn crash_changes(&self) -> watch::Receiver<bool> {
        self.page.crash_changes()
    }

    /// Attaches to the tab of `page`, turns on interception of dialogs, file choosers and
    /// native selects, and reports them into `signals`.
    pub async fn attach(
        page: Page,
        signals: mpsc::UnboundedSender<TabSignal>,
    ) -> Result<LiveTab, BrowserError> {
        let session = page.session().clone();
        let events = session.events();
        enable_page(&session).await?;
        session.call(runtime::Enable::default()).await?;
        intercept_file_choosers(&session).await?;
        // Headless tabs have no window focus: without this, inputs lose focus, carets do
        // not blink and background tabs stop rendering.
        session
            .call(emulation::SetFocusEmulationEnabled { enabled: true })
            .await?;
        session
            .call(runtime::AddBinding {
                name: TITLE_BINDING.to_string(),
                execution_context_name: None,
            })
            .await?;
        intercept_selects(&session).await?;
        live_frames::auto_attach(&session).await?;
        let frames = Arc::new(FrameSessions::default());
        let context = FrameContext {
            frames: frames.clone(),
            signals,
        };
        let watcher = tokio::spawn(watch_signals(session, events, context));
        Ok(LiveTab {
            page,
            frames,
            watcher: Arc::new(Watcher(watcher)),
        })
    }

    /// The tab's id.
    pub fn tab_id(&self) -> &str {
        self.page.tab_id()
    }

    /// The session, for the screencast.
    pub fn session(&self) -> &Session {
        self.page.session()
    }

    /// Replays a mouse event (CSS pixels).
    pub async fn pointer(&self, event: &PointerInput) -> Result<(), LiveInputError> {
        let command = mouse_event(event)?;
        self.session().call(command).await?;
        Ok(())
    }

    /// Replays a key going down or up.
    pub async fn key(&self, event: &KeyInput) -> Result<(), LiveInputError> {
        let command = key_event(event)?;
        self.session().call(command).await?;
        Ok(())
    }

    /// Inserts text at the focus, as a paste or an IME commit does.
    pub async fn insert_text(&self, text: &str) -> Result<(), LiveInputError> {
        self.session()
            .call(input::InsertText {
                text: text.to_string(),
            })
            .await?;
        Ok(())
    }

    /// The text selected in the page, for copying to the human's clipboard: read in the
    /// focused frame, which may be another origin's, in this process (read in a world of the
    /// live view's own in that frame) or in its own (read through its session).
    pub async fn selected_text(&self) -> Result<String, LiveInputError> {
        let mut session = self.session().clone();
        let mut context = None;
        for _ in 0..=MAX_FRAME_DEPTH * 2 {
            let evaluated = session
                .call(runtime::Evaluate {
                    expression: SELECTION_SCRIPT.to_string(),
                    context_id: context,
                    ..Default::default()
                })
                .await?;
            if let Some(details) = evaluated.exception_details {
                return Err(BrowserError::Script(details.message().to_string()).into());
            }
            let Some(object_id) = evaluated.result.object_id else {
                let value = evaluated.result.value;
                return Ok(value
                    .as_ref()
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string());
            };
            // The focus is in a frame of another origin: read on inside it.
            let described = session
                .call(dom::DescribeNode {
                    object_id: Some(object_id.clone()),
                    ..Default::default()
                })
                .await;
            let _ = session.call(runtime::ReleaseObject { object_id }).await;
            let Some(frame_id) = described?.node.frame_id else {
                return Ok(String::new());
            };
            if let Some(frame) = self.frames.session(&frame_id) {
                session = frame;
                context = None;
            } else {
                let world = session
                    .call(page::CreateIsolatedWorld {
                        frame_id,
                        world_name: Some("tandem-live-copy".into()),
                        grant_universal_access: None,
                    })
                    .await?;
                context = Some(world.execution_context_id);
            }
        }
        Ok(String::new())
    }

    /// Answers the open JavaScript dialog.
    pub async fn answer_dialog(
        &self,
        accept: bool,
        prompt_text: Option<String>,
    ) -> Result<(), BrowserError> {
        self.session()
            .call(page::HandleJavaScriptDialog {
                accept,
                prompt_text,
            })
            .await?;
        Ok(())
    }

    /// Answers the pending file chooser with files already on this machine; an empty list
    /// cancels it.
    pub async fn set_files(
        &self,
        input: &FileInput,
        files: &[PathBuf],
    ) -> Result<(), BrowserError> {
        let files = crate::user::stage_uploads(files).map_err(BrowserError::Files)?;
        self.session_of(input.session_id.as_deref())
            .call(dom::SetFileInputFiles {
                files: files.iter().map(|p| p.display().to_string()).collect(),
                backend_node_id: Some(input.backend_node_id),
                ..Default::default()
            })
            .await?;
        Ok(())
    }

    /// The session `id` of this tab's connection (the tab's or one of its frames'); the
    /// tab's own without one.
    fn session_of(&self, id: Option<&str>) -> Session {
        match id {
            Some(id) => self.session().connection().session(id),
            None => self.session().clone(),
        }
    }

    /// Applies the human's choice in a native `<select>` reported by [`TabSignal::Select`],
    /// in the frame that reported it; false when the select or option is gone.
    pub async fn pick_option(
        &self,
        frame: &SelectFrame,
        select_id: u64,
        index: u32,
    ) -> Result<bool, BrowserError> {
        let session = self.session_of(frame.session_id.as_deref());
        let evaluated = session
            .call(runtime::Evaluate {
                expression: format!(
                    "window.__tandemLive ? window.__tandemLive.pick({select_id}, {index}) : false"
                ),
                context_id: Some(frame.context),
                return_by_value: Some(true),
                ..Default::default()
            })
            .await?;
        if let Some(details) = evaluated.exception_details {
            return Err(BrowserError::Script(details.message().to_string()));
        }
        Ok(evaluated
            .result
            .value
            .and_then(|v| v.as_bool())
            .unwrap_or(false))
    }

    /// Goes `delta` entries back (negative) or forward in the tab's history; false when
    /// there is no such entry.
    pub async fn go_history(&self, delta: i64) -> Result<bool, BrowserError> {
        let history = self
            .session()
            .call(page::GetNavigationHistory::default())
            .await?;
        let Some(index) = history.current_index.checked_add(delta) else {
            return Ok(false);
        };
        let Some(entry) = usize::try_from(index)
            .ok()
            .and_then(|i| history.entries.get(i))
        else {
            return Ok(false);
        };
        self.session()
            .call(page::NavigateToHistoryEntry { entry_id: entry.id })
            .await?;
        Ok(true)
    }

    /// Reloads the tab.
    pub async fn reload(&self) -> Result<(), BrowserError> {
        self.session().call(page::Reload::default()).await?;
        Ok(())
    }

    /// Starts a navigation without waiting for the page to load (the human watches it load).
    pub async fn open(&self, url: &str) -> Result<(), BrowserError> {
        crate::address::refuse_unless_allowed(url)?;
        let navigated = self
            .session()
            .call(page::Navigate {
                url: url.to_string(),
                ..Default::default()
            })
            .await?;
        match navigated.error_text.filter(|e| !e.is_empty()) {
            Some(reason) => Err(BrowserError::Navigation {
                url: url.to_string(),
                reason,
            }),
            None => Ok(()),
        }
    }

    /// Whether the tab can go back and forward.
    pub async fn history_state(&self) -> Result<(bool, bool), BrowserError> {
        let history = self
            .session()
            .call(page::GetNavigationHistory::default())
            .await?;
        let last = i64::try_from(history.entries.len()).unwrap_or(i64::MAX) - 1;
        Ok((history.current_index > 0, history.current_index < last))
    }

    /// Detaches the live view's session (and with it its sessions of the tab's cross-site
    /// frames); the tab stays as it is.
    pub async fn detach(&self) {
        self.watcher.0.abort();
        self.frames.clear();
        let _ = self.page.detach().await;
    }
}

/// What the injected script reports when the title changes.
#[derive(Deserialize)]
struct TitleReport {
    url: String,
    title: String,
}

/// Why a human's input was not replayed.
#[derive(Debug, thiserror::Error)]
pub enum LiveInputError {
    /// The event itself is unusable.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The tab's session detached (tab switched or closed) before the browser answered; the
    /// input may belong on the tab now on screen.
    #[error("the tab's session detached")]
    Detached,
    /// The browser refused or did not answer.
    #[error(transparent)]
    Browser(BrowserError),
}

impl From<cdp::CdpError> for LiveInputError {
    fn from(e: cdp::CdpError) -> LiveInputError {
        match e {
            cdp::CdpError::SessionClosed { .. } => LiveInputError::Detached,
            other => LiveInputError::Browser(BrowserError::Cdp(other)),
        }
    }
}

impl From<BrowserError> for LiveInputError {
    fn from(e: BrowserError) -> LiveInputError {
        match e {
            BrowserError::Cdp(e) => LiveInputError::from(e),
            other => LiveInputError::Browser(other),
        }
    }
}

/// Installs the `<select>` interception in `session`'s target: the binding, the script in
/// every document to come, and in the one already loaded (not waiting long, since a page
/// blocked by an open dialog answers nothing until the dialog is answered).
pub(crate) async fn intercept_selects(session: &Session) -> Result<(), cdp::CdpError> {
    session
        .call(runtime::AddBinding {
            name: SELECT_BINDING.to_string(),
            execution_context_name: None,
        })
        .await?;
    session
        .call(page::AddScriptToEvaluateOnNewDocument {
            source: SELECT_SCRIPT.to_string(),
            ..Default::default()
        })
        .await?;
    if let Err(e) = session
        .call_with_timeout(
            runtime::Evaluate {
                expression: SELECT_SCRIPT.to_string(),
                ..Default::default()
            },
            SCRIPT_WAIT,
        )
        .await
    {
        tracing::debug!(error = %e, "live-view script not installed in the current document");
    }
    Ok(())
}

/// The `<select>` a binding call on `session` reports, if it is the select binding's and well
/// formed, with its box in the viewport of `session`'s target: measured by the browser
/// through every frame of that process around it (the script itself cannot see past a frame
/// of another origin), or as the script saw it in its own frame when that fails.
pub(crate) async fn reported_select(
    session: &Session,
    called: &runtime::BindingCalled,
) -> Option<(SelectPopup, SelectFrame)> {
    if called.name != SELECT_BINDING {
        return None;
    }
    let mut popup = serde_json::from_str::<SelectPopup>(&called.payload)
        .ok()
        .filter(|s| s.options.len() <= 10_000)?;
    let context = called.execution_context_id;
    match select_box(session, context, popup.id).await {
        Some(rect) => popup.rect = rect,
        None => tracing::debug!("select measured by its own frame only"),
    }
    let frame = SelectFrame {
        session_id: session.id().map(str::to_string),
        context,
    };
    Some((popup, frame))
}

/// The border box of the script's select `id` in `context`, in the viewport of the target.
async fn select_box(
    session: &Session,
    context: runtime::ExecutionContextId,
    id: u64,
) -> Option<[f64; 4]> {
    let element = session
        .call_with_timeout(
            runtime::Evaluate {
                expression: format!(
                    "window.__tandemLive ? window.__tandemLive.element({id}) : null"
                ),
                context_id: Some(context),
                ..Default::default()
            },
            SCRIPT_WAIT,
        )
        .await
        .ok()?
        .result
        .object_id?;
    let model = session
        .call_with_timeout(
            dom::GetBoxModel {
                object_id: Some(element.clone()),
                ..Default::default()
            },
            SCRIPT_WAIT,
        )
        .await;
    let _ = session
        .call(runtime::ReleaseObject { object_id: element })
        .await;
    let model = model.ok()?.model;
    let (x, y) = live_frames::top_left(&model.border)?;
    Some([x, y, model.width, model.height])
}

/// Turns the tab's events into signals until the tab or the receiver goes away, and follows
/// the tab's cross-site frames meanwhile.
async fn watch_signals(tab: Session, mut events: cdp::EventStream, context: FrameContext) {
    let signals = context.signals.clone();
    let mut frames = JoinSet::new();
    while let Some(event) = live_frames::next_event(&mut events, &mut frames).await {
        if let Some(Ok(attached)) = event.parse::<target::AttachedToTarget>() {
            live_frames::follow(&mut frames, &context, &tab, None, attached, 0);
            continue;
        }
        let signal = if let Some(Ok(d)) = event.parse::<page::JavascriptDialogOpening>() {
            let kind = match d.r#type {
                page::DialogType::Alert => "alert",
                page::DialogType::Confirm => "confirm",
                page::DialogType::Prompt => "prompt",
                page::DialogType::Beforeunload => "beforeunload",
                page::DialogType::Unknown => "alert",
            };
            Some(TabSignal::DialogOpened {
                kind: kind.to_string(),
                message: d.message,
                default_prompt: d.default_prompt.unwrap_or_default(),
            })
        } else if event.is::<page::JavascriptDialogClosed>() {
            Some(TabSignal::DialogClosed)
        } else if let Some(chooser) = reported_file_chooser(&tab, &event) {
            Some(chooser)
        } else if let Some(Ok(b)) = event.parse::<runtime::BindingCalled>() {
            match b.name.as_str() {
                SELECT_BINDING => reported_select(&tab, &b)
                    .await
                    .map(|(popup, frame)| TabSignal::Select { popup, frame }),
                TITLE_BINDING => serde_json::from_str::<TitleReport>(&b.payload)
                    .ok()
                    .map(|t| TabSignal::Title {
                        url: t.url,
                        title: t.title.chars().take(1000).collect(),
                    }),
                _ => None,
            }
        } else if let Some(Ok(n)) = event.parse::<page::FrameNavigated>() {
            n.frame
                .parent_id
                .is_none()
                .then_some(TabSignal::Navigated { url: n.frame.url })
        } else if let Some(Ok(n)) = event.parse::<page::NavigatedWithinDocument>() {
            Some(TabSignal::Navigated { url: n.url })
        } else {
            None
        };
        if let Some(signal) = signal
            && signals.send(signal).is_err()
        {
            return;
        }
    }
}
