//! The agent's hands: its tab, its latest observation, and the actions run against them.
//!
//! This module is the core (attaching to a tab, reviving a crashed one, observing, running an
//! action, following the human); each family of actions has its file (`navigation.rs`,
//! `input.rs`, `extraction.rs`, `uploads.rs`, `dialogs.rs`), and the JavaScript they run in
//! the page sits beside them as `.js` files.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use browser::{Browser, Page, TabEvent};
use cdp::Session;
use cdp::protocol::input::{
    DispatchMouseEvent, InsertText, MouseButton, MouseEventType, PointerType, buttons,
};
use cdp::protocol::{dom, page, runtime};
use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};
use tokio::time::{Instant, sleep, timeout};

mod dialogs;
mod extraction;
mod input;
mod navigation;
mod uploads;

use dialogs::{DialogAnswerer, HumanFlags};

use super::error::ActionError;
use super::keys;
use super::{Action, Direction, MAX_WAIT_SECS};
use crate::human::Control;
use crate::perception::{Element, ElementRef, Observer, PageState, PerceptionError, Tab};
use crate::secrets::SensitiveData;

/// How long a click or key press may take to start a navigation or open a tab before we
/// decide it did neither.
const REACTION_WINDOW: Duration = Duration::from_millis(300);
/// How long to wait for a page to load after an action before observing it anyway.
const LOAD_WAIT: Duration = Duration::from_secs(10);
/// How long a new tab may stay on `about:blank` before we take it as blank for good.
const BLANK_GRACE: Duration = Duration::from_secs(3);
/// The most text of a covering element a refused click reports.
const COVER_TEXT_MAX: usize = 60;
/// The most page text `browser_extract` hands the model.
const EXTRACT_MAX_CHARS: usize = 30_000;

/// What actions may do beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct ActionOptions {
    /// Directories whose files `browser_upload_file` may use; empty disables uploads.
    pub upload_dirs: Vec<PathBuf>,
}

/// An element as approval rules see it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ElementFacts {
    /// Clicking it submits a form (a submit button of a form).
    pub submits: bool,
    /// Its text, value and label, for words such as "Place order".
    pub text: String,
    /// The absolute address of the link it is in, if any.
    pub href: Option<String>,
}

/// What an action did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Executed {
    /// One or two sentences for the model (secrets stay placeholders).
    pub text: String,
    /// The page the step was planned on is gone (navigation, other tab).
    pub page_changed: bool,
    /// Long output (extracted page text) shown on the next step only.
    pub read_state: Option<String>,
}

impl Executed {
    fn said(text: impl Into<String>) -> Executed {
        Executed {
            text: text.into(),
            ..Default::default()
        }
    }
}

/// The agent's tab, its observation, and the actions that drive it.
pub struct Browsing {
    browser: Browser,
    page: Page,
    observer: Observer,
    state: Option<PageState>,
    frame_sessions: HashMap<String, Session>,
    options: ActionOptions,
    /// Answers the JavaScript dialogs of the agent's tab while the agent drives it.
    dialogs: DialogAnswerer,
    /// Whether a human has the browser: dialogs are theirs to answer then.
    human: HumanFlags,
    /// Mirrors the human-control state into `human` (see [`Browsing::follow_control`]).
    control_mirror: Option<tokio::task::JoinHandle<()>>,
    /// The browser's device pixels per CSS pixel (the same for every tab).
    device_pixel_ratio: f64,
    /// The task's secrets: taken out of observations and of what actions read back.
    secrets: SensitiveData,
    /// Fields the agent typed a secret into, as (tab, frame target, backendNodeId): their
    /// value is masked in every state, whatever the page made of it (a `maxlength` that
    /// kept a prefix, a field that upper-cases).
    secret_fields: HashSet<(String, Option<String>, i64)>,
    /// The URL of a crashed tab brought back since the agent last asked (see
    /// [`Browsing::recover`]).
    revived: Option<String>,
}

impl Drop for Browsing {
    /// Detaches the agent's CDP sessions, however the task ended (done, failed, stopped);
    /// the tabs stay as they are, for the human and the next task.
    fn drop(&mut self) {
        if let Some(mirror) = self.control_mirror.take() {
            mirror.abort();
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let page = self.page.clone();
        let frames: Vec<Session> = self.frame_sessions.drain().map(|(_, s)| s).collect();
        runtime.spawn(async move {
            let _ = page.detach().await;
            for session in frames {
                if let Some(id) = session.id() {
                    let _ = session
                        .connection()
                        .call(cdp::protocol::target::DetachFromTarget {
                            session_id: Some(id.to_string()),
                        })
                        .await;
                }
            }
        });
    }
}

impl std::fmt::Debug for Browsing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browsing")
            .field("tab", &self.page.tab_id())
            .finish()
    }
}

impl Browsing {
    /// Takes over the browser's active tab: the one the human used last, so a follow-up task
    /// starts exactly where they left off. Opens a blank tab when none is open.
    pub async fn attach(browser: Browser, options: ActionOptions) -> Result<Browsing, ActionError> {
        let tab = match browser.active_tab() {
            Some(tab) => tab,
            None => browser.new_tab("about:blank").await?,
        };
        let page = open_page(&browser, &tab.id).await?;
        // A tab whose renderer died (between tasks, say) answers nothing until revived.
        let revived = match page.renderer_gone() {
            true => Some(revive(&page).await?),
            false => None,
        };
        let human = HumanFlags::default();
        let dialogs = DialogAnswerer::start(page.session().clone(), human.clone());
        let device_pixel_ratio = page
            .evaluate("devicePixelRatio")
            .await
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(1.0);
        Ok(Browsing {
            browser,
            page,
            observer: Observer::new(),
            state: None,
            frame_sessions: HashMap::new(),
            options,
            dialogs,
            human,
            control_mirror: None,
            device_pixel_ratio,
            secrets: SensitiveData::default(),
            secret_fields: HashSet::new(),
            revived,
        })
    }

    /// Brings the agent's tab back if its renderer died (a crash, a kill, out of memory):
    /// reloads it on the same URL, or else opens a new tab there. The URL when the tab was
    /// revived since the last call (here or when attaching), for the feed.
    pub async fn recover(&mut self) -> Result<Option<String>, ActionError> {
        if self.page.renderer_gone() {
            match revive(&self.page).await {
                Ok(url) => {
                    self.state = None;
                    self.frame_sessions.clear();
                    self.revived = Some(url);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot reload the crashed tab; opening a new one");
                    let crashed = self.page.tab_id().to_string();
                    let url = self
                        .browser
                        .tabs()
                        .into_iter()
                        .find(|t| t.id == crashed)
                        .map(|t| t.url)
                        .filter(|u| !u.is_empty())
                        .unwrap_or_else(|| "about:blank".into());
                    let tab = self.browser.new_tab(&url).await?;
                    self.switch_to(&tab.id).await?;
                    if let Err(e) = self.browser.close_tab(&crashed).await {
                        tracing::debug!(error = %e, "cannot close the crashed tab");
                    }
                    self.revived = Some(url);
                }
            }
        }
        Ok(self.revived.take())
    }

    /// Whether the browser process still runs (a crashed tab is recoverable, a gone browser
    /// is not).
    pub fn browser_alive(&self) -> bool {
        self.browser.is_running()
    }

    /// Becomes true when the agent's tab's renderer dies, so a step can stop waiting on it.
    pub fn crash_changes(&self) -> watch::Receiver<bool> {
        self.page.crash_changes()
    }

    /// The task's secrets: from now on no observation holds their values, nor does what
    /// an action reads back from the page.
    pub fn set_secrets(&mut self, secrets: SensitiveData) {
        self.observer = Observer::with_secrets(secrets.clone());
        self.secrets = secrets;
        self.state = None;
    }

    /// Says whether a human has the browser now; the agent's tab leaves its dialogs to them.
    pub fn set_human_active(&self, active: bool) {
        self.human.asked.store(active, Ordering::Relaxed);
    }

    /// Follows whether a human holds the browser, so that from the moment they take it (not
    /// only once the agent notices, after its current action) their dialogs are theirs.
    pub fn follow_control(&mut self, mut control: watch::Receiver<Control>) {
        let holds = self.human.holds.clone();
        if let Some(old) = self.control_mirror.take() {
            old.abort();
        }
        self.control_mirror = Some(tokio::spawn(async move {
            loop {
                let held = control.borrow_and_update().held;
                holds.store(held, Ordering::Relaxed);
                if control.changed().await.is_err() {
                    return;
                }
            }
        }));
    }

    /// After a human had the browser: the tab they used last becomes the agent's tab, and the
    /// last observation is dropped (the page may have changed). Says which tab it now is when
    /// that changed.
    pub async fn follow_human(&mut self) -> Result<Option<String>, ActionError> {
        self.state = None;
        let Some(tab) = self.browser.active_tab() else {
            return Ok(None);
        };
        if tab.id == self.page.tab_id() {
            return Ok(None);
        }
        let page = open_page(&self.browser, &tab.id).await?;
        self.set_page(page);
        Ok(Some(tab.id))
    }

    /// The URL of the agent's tab as the page reports it now.
    pub async fn url(&self) -> String {
        self.current_url().await
    }

    /// What approval rules need to know about element `[index]`: whether clicking it submits
    /// a form, its text, and where a link on it goes.
    pub async fn facts(&mut self, index: u64) -> Result<ElementFacts, ActionError> {
        let element = self.element(index)?;
        let session = self.node_session(&element.target).await?;
        let object = resolve(&session, element.target.backend_node_id).await?;
        let value = call_on(&session, object, ELEMENT_FACTS, None).await?;
        Ok(ElementFacts {
            submits: value
                .get("submits")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            text: value
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            href: value
                .get("href")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }

    /// Whether Enter now would submit a form: the focused element is a form's field.
    pub async fn focus_in_form(&self) -> bool {
        matches!(
            self.page
                .evaluate("!!(document.activeElement && document.activeElement.form)")
                .await,
            Ok(Value::Bool(true))
        )
    }

    /// The agent's tab.
    pub fn page(&self) -> &Page {
        &self.page
    }

    /// What an input led to, for its result text.
    fn reaction_note(&mut self, change: &Change) -> String {
        let mut note = change.note();
        for dialog in self.dialogs.take() {
            note.push_str("; ");
            note.push_str(&dialog);
        }
        note
    }

    /// Observes the agent's tab; later actions resolve indices against this observation.
    pub async fn observe(&mut self) -> Result<&PageState, PerceptionError> {
        // A tab closed behind our back (by the page or the human): follow the active one.
        if !self
            .browser
            .tabs()
            .iter()
            .any(|t| t.id == self.page.tab_id())
            && let Some(tab) = self.browser.active_tab()
            && let Ok(page) = open_page(&self.browser, &tab.id).await
        {
            self.set_page(page);
        }
        // Titles set after load are not always announced by headless Chromium; a stale list
        // would show the model a URL where the human sees a title.
        if let Err(e) = self.browser.refresh_tabs().await {
            tracing::debug!(error = %e, "could not refresh the tab list");
        }
        let tabs = Tab::list(&self.browser, self.page.tab_id());
        let mut state = self.observer.observe(&self.page, tabs).await?;
        let tab = self.page.tab_id().to_string();
        for element in &mut state.elements {
            let key = (
                tab.clone(),
                element.target.frame_target.clone(),
                element.target.backend_node_id,
            );
            if self.secret_fields.contains(&key) {
                for attribute in element.attributes.iter_mut().filter(|a| a.name == "value") {
                    attribute.value = "•••".into();
                }
                state.secrets_redacted = true;
            }
        }
        Ok(self.state.insert(state))
    }

    /// The latest observation.
    pub fn state(&self) -> Option<&PageState> {
        self.state.as_ref()
    }

    /// A JPEG of the viewport, base64-encoded, for vision models and step screenshots.
    ///
    /// Always CSS-pixel sized: a browser rendering at a device scale factor of 2 (for sharp
    /// live views) would otherwise give four times the pixels, and image tokens, per step.
    pub async fn screenshot(&self) -> Option<String> {
        let session = self.page.session();
        let clip = if self.device_pixel_ratio > 1.01 {
            let metrics = session.call(page::GetLayoutMetrics {}).await.ok()?;
            let v = metrics.css_visual_viewport;
            Some(page::Viewport {
                x: v.page_x,
                y: v.page_y,
                width: v.client_width,
                height: v.client_height,
                scale: 1.0 / self.device_pixel_ratio,
            })
        } else {
            None
        };
        let shot = session
            .call_with_timeout(
                page::CaptureScreenshot {
                    format: Some(page::ScreenshotFormat::Jpeg),
                    quality: Some(60),
                    optimize_for_speed: Some(true),
                    clip,
                    ..Default::default()
                },
                Duration::from_secs(5),
            )
            .await
            .ok()?;
        Some(shot.data)
    }

    /// The element `[index]` of the latest observation, described as the model saw it.
    pub fn describe(&self, index: u64) -> Option<String> {
        self.element(index).ok().map(|e| describe(&e))
    }

    fn element(&self, index: u64) -> Result<Element, ActionError> {
        self.state
            .as_ref()
            .and_then(|s| s.elements.iter().find(|e| e.index == index))
            .cloned()
            .ok_or(ActionError::NoSuchElement(index))
    }

    /// Runs one browser action (`done` and `ask_human` are the loop's, not ours).
    pub async fn execute(
        &mut self,
        action: &Action,
        secrets: &SensitiveData,
    ) -> Result<Executed, ActionError> {
        match action {
            Action::BrowserNavigate { url, new_tab } => self.navigate(url, *new_tab).await,
            Action::BrowserClick { index } => self.click(*index).await,
            Action::BrowserType {
                index,
                text,
                clear,
                submit,
            } => self.type_text(*index, text, *clear, *submit, secrets).await,
            Action::BrowserScroll {
                direction,
                pages,
                index,
            } => self.scroll(*direction, pages.unwrap_or(1.0), *index).await,
            Action::BrowserSendKeys { keys } => self.send_keys(keys).await,
            Action::BrowserSelect { index, option } => self.select(*index, option).await,
            Action::BrowserSwitchTab { tab_id } => self.switch_tab(tab_id).await,
            Action::BrowserCloseTab { tab_id } => self.close_tab(tab_id).await,
            Action::BrowserGoBack {} => self.go_back().await,
            Action::BrowserWait { seconds } => {
                let seconds = seconds.unwrap_or(2.0).clamp(0.0, MAX_WAIT_SECS);
                sleep(Duration::from_secs_f64(seconds)).await;
                Ok(Executed::said(format!("Waited {seconds}s")))
            }
            Action::BrowserExtract { query } => self.extract(query).await,
            Action::BrowserUploadFile { index, path } => self.upload(*index, path).await,
            Action::AskHuman { .. } | Action::Done { .. } => Err(ActionError::Arguments(
                "done and ask_human end the task; they are not browser actions".into(),
            )),
        }
    }

    fn set_page(&mut self, page: Page) {
        self.dialogs = DialogAnswerer::start(page.session().clone(), self.human.clone());
        let old = std::mem::replace(&mut self.page, page);
        // Its session is no longer ours to keep; the tab itself stays open.
        tokio::spawn(async move {
            let _ = old.detach().await;
        });
        self.observer = Observer::with_secrets(self.secrets.clone());
        self.state = None;
        self.frame_sessions.clear();
    }

    /// Makes `tab_id` the agent's tab and the browser's active one (the live view follows).
    async fn switch_to(&mut self, tab_id: &str) -> Result<(), ActionError> {
        self.browser.activate_tab(tab_id).await?;
        if self.page.tab_id() != tab_id {
            let page = open_page(&self.browser, tab_id).await?;
            self.set_page(page);
        }
        Ok(())
    }

    async fn current_url(&self) -> String {
        match self.page.evaluate("location.href").await {
            Ok(Value::String(url)) => url,
            _ => String::new(),
        }
    }

    /// The CDP session that owns an element's node: the tab's, or its frame's.
    async fn node_session(&mut self, target: &ElementRef) -> Result<Session, ActionError> {
        let Some(frame) = &target.frame_target else {
            return Ok(self.page.session().clone());
        };
        if let Some(session) = self.frame_sessions.get(frame) {
            return Ok(session.clone());
        }
        let session = self.browser.cdp().attach(frame).await?;
        self.frame_sessions.insert(frame.clone(), session.clone());
        Ok(session)
    }
}

/// What an input led to.
#[derive(Debug, Clone, PartialEq)]
enum Change {
    None,
    Navigated,
    NewTab(String),
}

impl Change {
    fn changed(&self) -> bool {
        !matches!(self, Change::None)
    }

    fn note(&self) -> String {
        match self {
            Change::None => String::new(),
            Change::Navigated => "; the page changed".into(),
            Change::NewTab(id) => format!(
                "; it opened a new tab {}, which is now the current tab",
                Tab::short_id(id)
            ),
        }
    }
}

/// Attaches to a tab with page events on (loads, navigations).
async fn open_page(browser: &Browser, tab_id: &str) -> Result<Page, ActionError> {
    let page = browser.page(tab_id).await?;
    // A dead renderer would never answer: `revive` enables the domain once it is back.
    if !page.renderer_gone() {
        page.session().call(page::Enable::default()).await?;
    }
    Ok(page)
}

/// Reloads a crashed tab on its URL and enables what the agent reads from it; the URL.
async fn revive(page: &Page) -> Result<String, ActionError> {
    let url = page.revive().await?;
    page.session().call(page::Enable::default()).await?;
    tracing::info!(tab = page.tab_id(), "revived a crashed tab");
    Ok(url)
}

/// Waits until a new tab's document has loaded, at most [`LOAD_WAIT`]. A new tab shows a
/// "complete" `about:blank` before its first navigation commits, so a blank page only counts
/// once [`BLANK_GRACE`] has passed (a popup may really be blank).
async fn wait_ready(page: &Page) {
    let started = Instant::now();
    let deadline = started + LOAD_WAIT;
    while Instant::now() < deadline {
        if let Ok(Value::Array(state)) = page.evaluate("[document.readyState, location.href]").await
            && state.first() == Some(&json!("complete"))
            && (state.get(1) != Some(&json!("about:blank")) || started.elapsed() > BLANK_GRACE)
        {
            return;
        }
        sleep(Duration::from_millis(100)).await;
    }
}

/// `[42] button "Submit"`: how an element appears in the state, for results and summaries.
pub(crate) fn describe(element: &Element) -> String {
    if element.name.is_empty() {
        format!("[{}] {}", element.index, element.role)
    } else {
        let name: String = element.name.chars().take(60).collect();
        format!("[{}] {} {name:?}", element.index, element.role)
    }
}

/// The centre of the part of `quad` inside a `vw`×`vh` viewport, if any.
fn visible_center(quad: &[f64], vw: f64, vh: f64) -> Option<(f64, f64)> {
    if quad.len() < 8 {
        return None;
    }
    let xs = [quad[0], quad[2], quad[4], quad[6]];
    let ys = [quad[1], quad[3], quad[5], quad[7]];
    let min = |v: [f64; 4]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = |v: [f64; 4]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (left, right) = (min(xs).max(0.0), max(xs).min(vw));
    let (top, bottom) = (min(ys).max(0.0), max(ys).min(vh));
    (right - left >= 1.0 && bottom - top >= 1.0)
        .then(|| ((left + right) / 2.0, (top + bottom) / 2.0))
}

/// A URL the model wrote, with `https://` added when it gave no scheme.
fn normalize_url(url: &str) -> Result<String, ActionError> {
    let url = url.trim();
    if url.is_empty() {
        return Err(ActionError::Arguments("url is empty".into()));
    }
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("javascript:") {
        return Err(ActionError::NotAllowed("javascript: URLs".into()));
    }
    if lower.contains("://") || lower.starts_with("about:") || lower.starts_with("data:") {
        Ok(url.to_string())
    } else {
        Ok(format!("https://{url}"))
    }
}

/// The canonical path of `path` if it is a file inside one of `dirs`. A relative path is
/// looked up in each directory in turn (never in the server's working directory); the
/// canonical form (symlinks and `..` resolved) must still lie inside the directory, so a
/// link pointing out of it is refused.
fn allowed_upload(dirs: &[PathBuf], path: &Path) -> Result<PathBuf, ActionError> {
    if dirs.is_empty() {
        return Err(ActionError::NotAllowed(
            "file uploads are disabled on this server".into(),
        ));
    }
    let inside = |file: &Path, dir: &Path| {
        let file = std::fs::canonicalize(file).ok()?;
        let dir = std::fs::canonicalize(dir).ok()?;
        (file.starts_with(&dir) && file.is_file()).then_some(file)
    };
    let found = if path.is_absolute() {
        dirs.iter().find_map(|dir| inside(path, dir))
    } else {
        dirs.iter().find_map(|dir| inside(&dir.join(path), dir))
    };
    found.ok_or_else(|| {
        ActionError::NotAllowed(format!(
            "{} is not in an allowed upload directory; use one of the uploadable files",
            path.display()
        ))
    })
}

/// Most files listed to the model as uploadable.
const UPLOADABLE_LISTED: usize = 30;
/// Most directory entries read to find them: a large upload directory must not stall a step.
const UPLOADABLE_SCANNED: usize = 2_000;
/// How deep below an upload directory files are listed.
const UPLOADABLE_DEPTH: usize = 3;

/// The files of `dirs` as the model may name them (relative to their directory, the first
/// directory's first), at most [`UPLOADABLE_LISTED`], and how many more there are among those
/// scanned. Hidden entries and links that leave their directory are left out.
fn uploadable_files(dirs: &[PathBuf]) -> (Vec<String>, usize) {
    let mut names: Vec<String> = Vec::new();
    let mut more = 0;
    let mut scanned = 0;
    for dir in dirs {
        let Ok(root) = std::fs::canonicalize(dir) else {
            continue;
        };
        let mut pending = vec![(root.clone(), 0)];
        while let Some((at, depth)) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&at) else {
                continue;
            };
            let mut entries: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.path())
                .collect();
            entries.sort();
            for entry in entries {
                scanned += 1;
                if scanned > UPLOADABLE_SCANNED {
                    return (names, more);
                }
                let Ok(real) = std::fs::canonicalize(&entry) else {
                    continue;
                };
                if !real.starts_with(&root) {
                    continue;
                }
                if real.is_dir() {
                    if depth + 1 < UPLOADABLE_DEPTH && real == entry {
                        pending.push((entry, depth + 1));
                    }
                    continue;
                }
                let Ok(name) = entry.strip_prefix(&root) else {
                    continue;
                };
                let name = name.to_string_lossy().into_owned();
                if names.contains(&name) {
                    continue;
                }
                if names.len() < UPLOADABLE_LISTED {
                    names.push(name);
                } else {
                    more += 1;
                }
            }
        }
    }
    (names, more)
}

async fn resolve(
    session: &Session,
    backend_node_id: dom::BackendNodeId,
) -> Result<runtime::RemoteObjectId, ActionError> {
    session
        .call(dom::ResolveNode {
            backend_node_id: Some(backend_node_id),
            ..Default::default()
        })
        .await?
        .object
        .object_id
        .ok_or_else(|| ActionError::Failed("the element is gone from the page".into()))
}

/// Calls `function` with `this` = `object` (and one JSON argument) and returns its value.
async fn call_on(
    session: &Session,
    object: runtime::RemoteObjectId,
    function: &str,
    argument: Option<Value>,
) -> Result<Value, ActionError> {
    let result = session
        .call(runtime::CallFunctionOn {
            function_declaration: function.to_string(),
            object_id: Some(object),
            arguments: argument.map(|value| {
                vec![runtime::CallArgument {
                    value: Some(value),
                    ..Default::default()
                }]
            }),
            return_by_value: Some(true),
            ..Default::default()
        })
        .await?;
    if let Some(details) = result.exception_details {
        return Err(ActionError::Failed(format!(
            "script error: {}",
            details.message()
        )));
    }
    Ok(result.result.value.unwrap_or(Value::Null))
}

/// What approval rules need of an element (`this`): `{submits, text, href}`.
const ELEMENT_FACTS: &str = include_str!("element_facts.js");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quad_centres_stay_in_the_viewport() {
        let quad = [10.0, 10.0, 30.0, 10.0, 30.0, 20.0, 10.0, 20.0];
        assert_eq!(visible_center(&quad, 800.0, 600.0), Some((20.0, 15.0)));
        let tall = [0.0, -500.0, 100.0, -500.0, 100.0, 2000.0, 0.0, 2000.0];
        assert_eq!(visible_center(&tall, 800.0, 600.0), Some((50.0, 300.0)));
        let off = [0.0, 700.0, 10.0, 700.0, 10.0, 710.0, 0.0, 710.0];
        assert_eq!(visible_center(&off, 800.0, 600.0), None);
    }

    #[test]
    fn urls_get_a_scheme() {
        assert_eq!(normalize_url("example.com").unwrap(), "https://example.com");
        assert_eq!(
            normalize_url("http://127.0.0.1:80/x").unwrap(),
            "http://127.0.0.1:80/x"
        );
        assert!(normalize_url("javascript:alert(1)").is_err());
    }

    #[test]
    fn uploads_only_from_allowed_directories() {
        let dir = std::env::temp_dir().join(format!("tandem-upload-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.txt");
        std::fs::write(&file, "x").unwrap();
        assert!(allowed_upload(std::slice::from_ref(&dir), &file).is_ok());
        let err = allowed_upload(std::slice::from_ref(&dir), Path::new("/etc/passwd")).unwrap_err();
        assert!(err.to_string().contains("not allowed"), "{err}");
        let escape = dir.join("../../etc/passwd");
        assert!(allowed_upload(std::slice::from_ref(&dir), &escape).is_err());
        assert!(allowed_upload(&[], &file).is_err());
        // A link inside the directory that points out of it.
        let link = dir.join("passwd");
        std::os::unix::fs::symlink("/etc/passwd", &link).unwrap();
        assert!(allowed_upload(std::slice::from_ref(&dir), &link).is_err());
        assert!(allowed_upload(std::slice::from_ref(&dir), Path::new("passwd")).is_err());
        // Relative paths are looked up in each directory, the first first, never in the
        // working directory.
        let other = dir.join("other");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("a.txt"), "y").unwrap();
        std::fs::write(other.join("b.txt"), "z").unwrap();
        std::fs::write(dir.join(".hidden"), "h").unwrap();
        let dirs = [other.clone(), dir.clone()];
        assert_eq!(
            allowed_upload(&dirs, Path::new("a.txt")).unwrap(),
            std::fs::canonicalize(other.join("a.txt")).unwrap()
        );
        assert!(allowed_upload(&dirs, Path::new("Cargo.toml")).is_err());
        // What the model is told it may upload: no hidden files, no escaping links, each
        // name once (the first directory wins).
        let (names, more) = uploadable_files(&dirs);
        assert_eq!(names, ["a.txt", "b.txt", "other/a.txt", "other/b.txt"]);
        assert_eq!(more, 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
