//! The agent's hands: its tab, its latest observation, and the actions run against them.

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
}

/// Answers `alert`/`confirm`/`prompt` dialogs of one tab with OK while it lives.
///
/// Headless Chromium stalls a page (and the input event that opened the dialog) until
/// someone answers; while the agent drives the tab that someone is the agent, as in
/// browser-use. Between tasks the answerer is gone and the human answers in the live view.
/// While a human has the browser (a question, an approval or the control is theirs), the
/// answerer stands aside and the human answers in the live view.
struct DialogAnswerer {
    seen: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl DialogAnswerer {
    fn start(session: Session, human: HumanFlags) -> DialogAnswerer {
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let mut events = session.events();
        let record = seen.clone();
        let task = tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                let Some(Ok(dialog)) = event.parse::<page::JavascriptDialogOpening>() else {
                    continue;
                };
                if human.active() {
                    continue;
                }
                let answered = session
                    .call(page::HandleJavaScriptDialog {
                        accept: true,
                        prompt_text: dialog.default_prompt.clone(),
                    })
                    .await;
                let kind = format!("{:?}", dialog.r#type).to_lowercase();
                let line = match answered {
                    Ok(_) => format!("a {kind} dialog said {:?}; answered OK", dialog.message),
                    Err(e) => format!(
                        "a {kind} dialog said {:?}; cannot answer it: {e}",
                        dialog.message
                    ),
                };
                if let Ok(mut seen) = record.lock() {
                    seen.push(line);
                }
            }
        });
        DialogAnswerer { seen, task }
    }

    /// The dialogs answered since the last call.
    fn take(&self) -> Vec<String> {
        self.seen
            .lock()
            .map(|mut seen| std::mem::take(&mut *seen))
            .unwrap_or_default()
    }
}

impl Drop for DialogAnswerer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Whether a human has the browser: asked by the agent (a question, an approval, the control
/// back), or holding it since they took it.
#[derive(Debug, Clone, Default)]
struct HumanFlags {
    asked: Arc<AtomicBool>,
    holds: Arc<AtomicBool>,
}

impl HumanFlags {
    fn active(&self) -> bool {
        self.asked.load(Ordering::Relaxed) || self.holds.load(Ordering::Relaxed)
    }
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
        })
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
        let value = call_on(
            &session,
            object,
            r#"function() {
                const tag = this.tagName ? this.tagName.toLowerCase() : '';
                const type = (this.getAttribute && this.getAttribute('type') || '').toLowerCase();
                const submits = !!this.form && ((tag === 'button' && (type === '' || type === 'submit'))
                    || (tag === 'input' && (type === 'submit' || type === 'image')));
                const text = [this.innerText, tag === 'input' ? this.value : '',
                    this.getAttribute && this.getAttribute('aria-label'), this.title]
                    .filter(Boolean).join(' ').slice(0, 300);
                const link = this.closest ? this.closest('a[href]') : null;
                return {submits, text, href: link ? link.href : null};
            }"#,
            None,
        )
        .await?;
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

    /// Whether uploads are possible at all (the tool is offered only then).
    pub fn uploads_enabled(&self) -> bool {
        !self.options.upload_dirs.is_empty()
    }

    /// What the model may upload, as a short text for its state, when the latest
    /// observation has a file input and uploads are enabled; `None` otherwise.
    pub fn uploadable(&self) -> Option<String> {
        if !self.uploads_enabled() {
            return None;
        }
        let state = self.state.as_ref()?;
        if !state.elements.iter().any(|e| e.role == "file") {
            return None;
        }
        let (names, more) = uploadable_files(&self.options.upload_dirs);
        if names.is_empty() {
            return Some("(no files to upload)".into());
        }
        let mut text = names.join("\n");
        if more > 0 {
            text.push_str(&format!("\n(and {more} more)"));
        }
        Some(text)
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

    async fn navigate(&mut self, url: &str, new_tab: bool) -> Result<Executed, ActionError> {
        let url = normalize_url(url)?;
        if new_tab {
            let tab = self.browser.new_tab(&url).await?;
            self.switch_to(&tab.id).await?;
            wait_ready(&self.page).await;
        } else {
            self.page.navigate(&url).await?;
        }
        Ok(Executed {
            text: format!("Opened {url}{}", if new_tab { " in a new tab" } else { "" }),
            page_changed: true,
            read_state: None,
        })
    }

    async fn click(&mut self, index: u64) -> Result<Executed, ActionError> {
        let element = self.element(index)?;
        let (x, y) = self.click_point(&element).await?;
        let page_events = self.page.session().events();
        let tab_events = self.browser.tab_events();
        let url_before = self.current_url().await;
        let session = self.page.session().clone();
        for (kind, button, pressed) in [
            (MouseEventType::MouseMoved, MouseButton::None, 0),
            (
                MouseEventType::MousePressed,
                MouseButton::Left,
                buttons::LEFT,
            ),
            (MouseEventType::MouseReleased, MouseButton::Left, 0),
        ] {
            session
                .call(DispatchMouseEvent {
                    r#type: kind,
                    x,
                    y,
                    button: Some(button),
                    buttons: Some(pressed),
                    click_count: (kind != MouseEventType::MouseMoved).then_some(1),
                    pointer_type: Some(PointerType::Mouse),
                    ..Default::default()
                })
                .await?;
        }
        let change = self
            .after_input(page_events, tab_events, &url_before)
            .await?;
        Ok(Executed {
            text: format!(
                "Clicked {}{}",
                describe(&element),
                self.reaction_note(&change)
            ),
            page_changed: change.changed(),
            read_state: None,
        })
    }

    /// The viewport point to click `element` at, after scrolling it into view and checking
    /// that the point hits the element (or something inside it, or its label).
    async fn click_point(&mut self, element: &Element) -> Result<(f64, f64), ActionError> {
        if let Some(frame) = element.target.frame_target.clone() {
            return self.frame_click_point(element, &frame).await;
        }
        let session = self.page.session().clone();
        self.visible_point(&session, element).await
    }

    /// For an element of an out-of-process frame: scrolled into view and hit-tested in the
    /// frame's own session (its coordinates are the frame's), then placed in the tab by the
    /// frame's `<iframe>` box as it is now. A frame nested in another out-of-process frame
    /// has no owner in the tab's session: then the observed position is the best there is.
    async fn frame_click_point(
        &mut self,
        element: &Element,
        frame: &str,
    ) -> Result<(f64, f64), ActionError> {
        let session = self.node_session(&element.target).await?;
        let local = self.visible_point(&session, element).await?;
        let top = self.page.session().clone();
        let owner = top
            .call(dom::GetFrameOwner {
                frame_id: frame.to_string(),
            })
            .await;
        let Ok(owner) = owner else {
            let b = &element.bounds;
            return Ok((b.x + b.width / 2.0, b.y + b.height / 2.0));
        };
        let model = top
            .call(dom::GetBoxModel {
                backend_node_id: Some(owner.backend_node_id),
                ..Default::default()
            })
            .await
            .map_err(|_| {
                ActionError::Failed(format!(
                    "the frame holding {} is no longer on the page",
                    describe(element)
                ))
            })?;
        let (ox, oy) = (
            model.model.content.first().copied().unwrap_or(0.0),
            model.model.content.get(1).copied().unwrap_or(0.0),
        );
        Ok((ox + local.0, oy + local.1))
    }

    /// Scrolls `element` into view in `session` and returns the centre of its visible part in
    /// that session's viewport, after checking that the point hits it.
    async fn visible_point(
        &self,
        session: &Session,
        element: &Element,
    ) -> Result<(f64, f64), ActionError> {
        let backend_node_id = Some(element.target.backend_node_id);
        // Not every node can be scrolled (e.g. inside a closed popup); the quads decide.
        let _ = session
            .call(dom::ScrollIntoViewIfNeeded {
                backend_node_id,
                ..Default::default()
            })
            .await;
        let quads = session
            .call(dom::GetContentQuads {
                backend_node_id,
                ..Default::default()
            })
            .await
            .map_err(|_| {
                ActionError::Failed(format!(
                    "{} is no longer on the page; look at the new state",
                    describe(element)
                ))
            })?
            .quads;
        let metrics = session.call(page::GetLayoutMetrics {}).await?;
        let (vw, vh) = (
            metrics.css_visual_viewport.client_width,
            metrics.css_visual_viewport.client_height,
        );
        let point = quads
            .iter()
            .filter_map(|q| visible_center(q, vw, vh))
            .next()
            .ok_or_else(|| {
                ActionError::Failed(format!(
                    "{} has no visible area to click (hidden or zero size)",
                    describe(element)
                ))
            })?;
        let object = resolve(session, element.target.backend_node_id).await?;
        // The covering element's text, cut after redaction (see `SensitiveData::redact_cut`).
        let keep = COVER_TEXT_MAX + self.secrets.longest();
        let hit = call_on(
            session,
            object,
            HIT_TEST,
            Some(json!([point.0, point.1, keep])),
        )
        .await?;
        if let Some(cover) = hit.get("covered").and_then(Value::as_str) {
            let text = hit.get("text").and_then(Value::as_str).unwrap_or_default();
            let (text, _) = self.secrets.redact_cut(text, COVER_TEXT_MAX);
            let text = if text.is_empty() {
                String::new()
            } else {
                format!(" {text:?}")
            };
            return Err(ActionError::Failed(format!(
                "{} is covered by {cover}{text}; close or handle that first",
                describe(element)
            )));
        }
        Ok(point)
    }

    async fn current_url(&self) -> String {
        match self.page.evaluate("location.href").await {
            Ok(Value::String(url)) => url,
            _ => String::new(),
        }
    }

    /// Waits briefly for what an input may have started: a navigation of the tab (then waits
    /// for its load) or a new tab (then switches to it, as a user would see it).
    async fn after_input(
        &mut self,
        mut page_events: cdp::EventStream,
        mut tab_events: broadcast::Receiver<TabEvent>,
        url_before: &str,
    ) -> Result<Change, ActionError> {
        let main = self.page.tab_id().to_string();
        let deadline = Instant::now() + REACTION_WINDOW;
        let mut change = Change::None;
        loop {
            tokio::select! {
                event = page_events.recv() => {
                    let Some(event) = event else { break };
                    if let Some(Ok(started)) = event.parse::<page::FrameStartedLoading>()
                        && started.frame_id == main
                    {
                        change = Change::Navigated;
                        break;
                    }
                    if let Some(Ok(moved)) = event.parse::<page::NavigatedWithinDocument>()
                        && moved.frame_id == main
                    {
                        change = Change::Navigated;
                    }

                }
                event = tab_events.recv() => {
                    if let Ok(TabEvent::Opened(tab)) = event {
                        change = Change::NewTab(tab.id);
                        break;
                    }
                }
                () = tokio::time::sleep_until(deadline) => break,
            }
        }
        match &change {
            Change::Navigated => {
                let loaded = async {
                    while let Some(event) = page_events.recv().await {
                        if event.is::<page::LoadEventFired>() {
                            return;
                        }
                    }
                };
                let _ = timeout(LOAD_WAIT, loaded).await;
                // A navigation that went nowhere (a download, a same-URL reload of a form).
                if self.current_url().await == url_before {
                    tracing::debug!("navigation kept the URL");
                }
            }
            Change::NewTab(id) => {
                let id = id.clone();
                self.switch_to(&id).await?;
                wait_ready(&self.page).await;
            }
            Change::None => {}
        }
        Ok(change)
    }

    async fn type_text(
        &mut self,
        index: u64,
        text: &str,
        clear: bool,
        submit: bool,
        secrets: &SensitiveData,
    ) -> Result<Executed, ActionError> {
        let element = self.element(index)?;
        let value = secrets.substitute(text);
        let typed_secret = value != text;
        if typed_secret {
            self.secret_fields.insert((
                self.page.tab_id().to_string(),
                element.target.frame_target.clone(),
                element.target.backend_node_id,
            ));
        }
        let session = self.node_session(&element.target).await?;
        let focused = session
            .call(dom::Focus {
                backend_node_id: Some(element.target.backend_node_id),
                ..Default::default()
            })
            .await;
        if focused.is_err() || element.target.frame_target.is_some() {
            // Not focusable by itself (a wrapper of a custom field), or in another process's
            // frame, whose keyboard focus only follows a real click: click it like a user.
            self.click(index).await?;
        }
        let page = self.page.session().clone();
        if clear {
            for chord in keys::parse("Control+a Backspace")? {
                for event in keys::events(&chord)? {
                    page.call(event).await?;
                }
            }
        }
        if !value.is_empty() {
            page.call(InsertText {
                text: value.clone(),
            })
            .await?;
        }
        let mut note = String::new();
        if let Ok(object) = resolve(&session, element.target.backend_node_id).await
            && let Ok(Value::String(now)) = call_on(
                &session,
                object,
                "function() { return this.isContentEditable ? this.innerText : String(this.value ?? ''); }",
                None,
            )
            .await
        {
            let matches = if clear { now.trim() == value.trim() } else { now.contains(&value) };
            let was_empty = !element.attributes.iter().any(|a| a.name == "value");
            if !matches && typed_secret && (clear || was_empty) {
                // All the field shows came of the secret: hide that too from now on.
                secrets.learn(text, &now);
            }
            if !matches && typed_secret {
                // What it shows may be part of the secret (a maxlength cut it, say).
                note = " (the field does not show exactly what was typed)".into();
            } else if !matches {
                let shown = secrets.redact(&now);
                note = format!(" (the field now shows {shown:?})");
            }
        }
        let mut change = Change::None;
        if submit {
            let page_events = self.page.session().events();
            let tab_events = self.browser.tab_events();
            let url_before = self.current_url().await;
            for event in keys::events(&keys::parse("Enter")?[0])? {
                page.call(event).await?;
            }
            change = self
                .after_input(page_events, tab_events, &url_before)
                .await?;
        }
        Ok(Executed {
            text: format!(
                "Typed {text:?} into {}{note}{}{}",
                describe(&element),
                if submit { " and pressed Enter" } else { "" },
                self.reaction_note(&change)
            ),
            page_changed: change.changed(),
            read_state: None,
        })
    }

    async fn scroll(
        &mut self,
        direction: Direction,
        pages: f64,
        index: Option<u64>,
    ) -> Result<Executed, ActionError> {
        let pages = pages.clamp(0.1, 10.0);
        let metrics = self.page.session().call(page::GetLayoutMetrics {}).await?;
        let (vw, vh) = (
            metrics.css_visual_viewport.client_width,
            metrics.css_visual_viewport.client_height,
        );
        let (x, y, what, height) = match index {
            Some(index) => {
                let element = self.element(index)?;
                let b = &element.bounds;
                let x = (b.x + b.width / 2.0).clamp(1.0, vw - 1.0);
                let y = (b.y + b.height / 2.0).clamp(1.0, vh - 1.0);
                (x, y, describe(&element), b.height.max(50.0))
            }
            None => (vw / 2.0, vh / 2.0, "the page".to_string(), vh),
        };
        let sign = match direction {
            Direction::Down => 1.0,
            Direction::Up => -1.0,
        };
        let before = self.scroll_position(index).await;
        self.page
            .session()
            .call(DispatchMouseEvent {
                r#type: MouseEventType::MouseWheel,
                x,
                y,
                delta_x: Some(0.0),
                delta_y: Some(sign * pages * height * 0.9),
                pointer_type: Some(PointerType::Mouse),
                ..Default::default()
            })
            .await?;
        // Wheel scrolling is applied asynchronously by the compositor.
        let mut after = before;
        for _ in 0..10 {
            sleep(Duration::from_millis(50)).await;
            after = self.scroll_position(index).await;
            if after != before {
                break;
            }
        }
        let dir = match direction {
            Direction::Down => "down",
            Direction::Up => "up",
        };
        let text = if after == before {
            format!("Scrolled {what} {dir}, but it did not move (already at the end?)")
        } else {
            format!("Scrolled {what} {dir} by {pages} page(s)")
        };
        Ok(Executed::said(text))
    }

    /// The scroll offset of the page, or of the element `[index]`, rounded.
    async fn scroll_position(&self, index: Option<u64>) -> i64 {
        let value = match index.and_then(|i| self.element(i).ok()) {
            Some(element) if element.target.frame_target.is_none() => {
                let session = self.page.session();
                match resolve(session, element.target.backend_node_id).await {
                    Ok(object) => call_on(
                        session,
                        object,
                        "function() { return this.scrollTop; }",
                        None,
                    )
                    .await
                    .ok(),
                    Err(_) => None,
                }
            }
            Some(_) => None,
            None => self.page.evaluate("window.scrollY").await.ok(),
        };
        value.and_then(|v| v.as_f64()).unwrap_or(0.0).round() as i64
    }

    async fn send_keys(&mut self, keys: &str) -> Result<Executed, ActionError> {
        let chords = keys::parse(keys)?;
        let page_events = self.page.session().events();
        let tab_events = self.browser.tab_events();
        let url_before = self.current_url().await;
        let session = self.page.session().clone();
        for chord in &chords {
            for event in keys::events(chord)? {
                session.call(event).await?;
            }
        }
        let change = self
            .after_input(page_events, tab_events, &url_before)
            .await?;
        Ok(Executed {
            text: format!("Pressed {keys}{}", self.reaction_note(&change)),
            page_changed: change.changed(),
            read_state: None,
        })
    }

    async fn select(&mut self, index: u64, option: &str) -> Result<Executed, ActionError> {
        let element = self.element(index)?;
        let session = self.node_session(&element.target).await?;
        let object = resolve(&session, element.target.backend_node_id).await?;
        let result = call_on(
            &session,
            object,
            r#"function(option) {
                if (!(this instanceof HTMLSelectElement)) {
                    return {error: 'it is a <' + this.tagName.toLowerCase() + '>, not a native select; click it to open it and click the option'};
                }
                const want = option.trim().toLowerCase();
                const options = [...this.options];
                const text = o => o.text.trim().toLowerCase();
                const found = options.find(o => text(o) === want)
                    || options.find(o => o.value.toLowerCase() === want)
                    || options.find(o => text(o).includes(want));
                if (!found) {
                    return {error: 'no option ' + JSON.stringify(option) + '; the options are: ' + options.map(o => o.text.trim()).join(' | ')};
                }
                if (found.disabled) return {error: 'the option ' + JSON.stringify(found.text.trim()) + ' is disabled'};
                this.focus();
                this.value = found.value;
                found.selected = true;
                this.dispatchEvent(new Event('input', {bubbles: true}));
                this.dispatchEvent(new Event('change', {bubbles: true}));
                return {selected: found.text.trim(), value: this.value};
            }"#,
            Some(json!(option)),
        )
        .await?;
        if let Some(error) = result.get("error").and_then(Value::as_str) {
            return Err(ActionError::Failed(format!(
                "cannot select in {}: {error}",
                describe(&element)
            )));
        }
        let selected = result
            .get("selected")
            .and_then(Value::as_str)
            .unwrap_or(option);
        Ok(Executed::said(format!(
            "Selected {selected:?} in {}",
            describe(&element)
        )))
    }

    fn find_tab(&self, tab_id: &str) -> Result<String, ActionError> {
        let wanted = tab_id.trim().to_ascii_lowercase();
        self.browser
            .tabs()
            .into_iter()
            .map(|t| t.id)
            .find(|id| {
                let id = id.to_ascii_lowercase();
                !wanted.is_empty() && (id == wanted || id.ends_with(&wanted))
            })
            .ok_or_else(|| ActionError::NoSuchTab(tab_id.to_string()))
    }

    async fn switch_tab(&mut self, tab_id: &str) -> Result<Executed, ActionError> {
        let id = self.find_tab(tab_id)?;
        self.switch_to(&id).await?;
        let url = self.current_url().await;
        Ok(Executed {
            text: format!("Switched to tab {} ({url})", Tab::short_id(&id)),
            page_changed: true,
            read_state: None,
        })
    }

    async fn close_tab(&mut self, tab_id: &str) -> Result<Executed, ActionError> {
        let id = self.find_tab(tab_id)?;
        self.browser.close_tab(&id).await?;
        let mut text = format!("Closed tab {}", Tab::short_id(&id));
        if id == self.page.tab_id() {
            let next = match self.browser.tabs().into_iter().rfind(|t| t.id != id) {
                Some(tab) => tab.id,
                None => self.browser.new_tab("about:blank").await?.id,
            };
            self.switch_to(&next).await?;
            text.push_str(&format!("; now on tab {}", Tab::short_id(&next)));
        }
        Ok(Executed {
            text,
            page_changed: true,
            read_state: None,
        })
    }

    async fn go_back(&mut self) -> Result<Executed, ActionError> {
        let session = self.page.session().clone();
        let history = session.call(page::GetNavigationHistory {}).await?;
        let back = usize::try_from(history.current_index - 1)
            .ok()
            .and_then(|i| history.entries.get(i))
            .ok_or_else(|| ActionError::Failed("there is no previous page in this tab".into()))?
            .clone();
        let mut events = session.events();
        session
            .call(page::NavigateToHistoryEntry { entry_id: back.id })
            .await?;
        let arrived = async {
            while let Some(event) = events.recv().await {
                if event.is::<page::LoadEventFired>() {
                    return;
                }
                // Restored from the back/forward cache: no load event follows.
                if let Some(Ok(nav)) = event.parse::<page::FrameNavigated>()
                    && nav.frame.parent_id.is_none()
                    && nav.r#type == Some(page::NavigationType::BackForwardCacheRestore)
                {
                    return;
                }
            }
        };
        let _ = timeout(LOAD_WAIT, arrived).await;
        Ok(Executed {
            text: format!("Went back to {}", back.url),
            page_changed: true,
            read_state: None,
        })
    }

    /// The page's whole text, frames included: same-process frames through the DOM (each
    /// under a `[frame ...]` line), out-of-process ones (another site's payment form, a
    /// widget) through their own sessions.
    async fn extract(&mut self, query: &str) -> Result<Executed, ActionError> {
        let text = self.page.evaluate(PAGE_TEXT).await?;
        let mut text = text.as_str().unwrap_or_default().to_string();
        for (frame, session) in self.remote_frames().await {
            if let Ok(evaluated) = session
                .call(runtime::Evaluate {
                    expression: PAGE_TEXT.to_string(),
                    return_by_value: Some(true),
                    silent: Some(true),
                    ..Default::default()
                })
                .await
                && let Some(Value::String(inner)) = evaluated.result.value
                && !inner.trim().is_empty()
            {
                text.push_str(&format!("\n[frame {frame}]\n{inner}"));
            }
        }
        // Redacted before it is cut: a value cut in two would not be recognised.
        let text = self.secrets.redact(&text);
        let mut cut: String = text.chars().take(EXTRACT_MAX_CHARS).collect();
        if cut.len() < text.len() {
            cut.push_str("\n[… page text cut]");
        }
        Ok(Executed {
            text: format!(
                "Read {} characters of page text for {query:?}; shown in <read_state> once",
                text.chars().count()
            ),
            page_changed: false,
            read_state: Some(format!("Page text for {query:?}:\n{cut}")),
        })
    }

    /// The out-of-process frames of the agent's tab (the ones whose `<iframe>` is in the tab's
    /// document), by URL, with a session each.
    async fn remote_frames(&mut self) -> Vec<(String, Session)> {
        let targets = self
            .browser
            .cdp()
            .call(cdp::protocol::target::GetTargets {
                filter: Some(vec![cdp::protocol::target::FilterEntry {
                    exclude: None,
                    r#type: Some("iframe".into()),
                }]),
            })
            .await
            .map(|r| r.target_infos)
            .unwrap_or_default();
        let mut frames = Vec::new();
        for target in targets {
            let owned = self
                .page
                .session()
                .call(dom::GetFrameOwner {
                    frame_id: target.target_id.clone(),
                })
                .await
                .is_ok();
            if !owned {
                continue;
            }
            let reference = ElementRef {
                backend_node_id: 0,
                frame_target: Some(target.target_id),
            };
            if let Ok(session) = self.node_session(&reference).await {
                frames.push((target.url, session));
            }
        }
        frames
    }

    async fn upload(&mut self, index: u64, path: &str) -> Result<Executed, ActionError> {
        let file = allowed_upload(&self.options.upload_dirs, Path::new(path))?;
        let element = self.element(index)?;
        let session = self.node_session(&element.target).await?;
        // A copy the browser's own user can read (the workspace stays closed to it).
        let staged = browser::stage_uploads(std::slice::from_ref(&file)).map_err(|e| {
            ActionError::Failed(format!("cannot hand the file to the browser: {e}"))
        })?;
        let readable = staged.first().unwrap_or(&file);
        session
            .call(dom::SetFileInputFiles {
                files: vec![readable.to_string_lossy().into_owned()],
                backend_node_id: Some(element.target.backend_node_id),
                ..Default::default()
            })
            .await
            .map_err(|e| {
                ActionError::Failed(format!(
                    "cannot put a file into {} (is it a file input?): {e}",
                    describe(&element)
                ))
            })?;
        Ok(Executed::said(format!(
            "Uploaded {} into {}",
            file.display(),
            describe(&element)
        )))
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

/// The visible text of a document and of the same-process frames inside it, each frame's
/// under a `[frame <title or address>]` line; frames of other sites are read apart.
const PAGE_TEXT: &str = r#"(() => {
    const read = (doc, depth) => {
        let text = doc.body ? doc.body.innerText : '';
        if (depth > 3) return text;
        for (const f of doc.querySelectorAll('iframe, frame')) {
            let inner = null;
            try { inner = f.contentDocument; } catch (e) { inner = null; }
            if (!inner) continue;
            const own = read(inner, depth + 1);
            if (own.trim()) text += '\n[frame ' + (f.title || f.name || f.src) + ']\n' + own;
        }
        return text;
    };
    return read(document, 0);
})()"#;

/// Hit-tests a viewport point against `this`: `{ok: true}` when the topmost element there is
/// `this`, inside it (through open shadow roots) or one of its labels, else `{covered: "...",
/// text: "..."}` naming what is on top and its text (at most `max` characters). The point is
/// in the tab's viewport; same-process frames between the tab and the element are subtracted
/// to get the element's own document coordinates.
const HIT_TEST: &str = r#"function(point) {
    let [x, y, max] = point;
    try {
        for (let w = this.ownerDocument.defaultView; w && w.frameElement; w = w.parent) {
            const r = w.frameElement.getBoundingClientRect();
            x -= r.left + w.frameElement.clientLeft;
            y -= r.top + w.frameElement.clientTop;
        }
    } catch (e) { return {ok: true}; }
    let hit = this.ownerDocument.elementFromPoint(x, y);
    while (hit && hit.shadowRoot) {
        const inner = hit.shadowRoot.elementFromPoint(x, y);
        if (!inner || inner === hit) break;
        hit = inner;
    }
    if (!hit) return {covered: 'nothing (the point is off the page)'};
    const within = (n, root) => { for (; n; n = n.parentNode || n.host) if (n === root) return true; return false; };
    if (within(hit, this)) return {ok: true};
    for (const label of this.labels || []) if (within(hit, label)) return {ok: true};
    const all = (hit.innerText || '').trim().replace(/\s+/g, ' ');
    const text = all.length > max ? all.slice(0, max - 1) + '…' : all;
    return {covered: '<' + hit.tagName.toLowerCase() + (hit.id ? '#' + hit.id : '') + '>', text};
}"#;

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
    page.session().call(page::Enable::default()).await?;
    Ok(page)
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
