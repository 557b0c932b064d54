//! One session's live view: the tab on screen, its screencast, and the viewers watching.
//!
//! A hub starts with the first viewer of a session and lives until the session ends. One
//! task (the hub's own) follows the browser's tabs, attaches to the active one while anyone
//! watches, runs its screencast, and answers what viewers ask; a second task replays input
//! strictly in arrival order, so that fast typing neither drops nor doubles characters. Input
//! has its own task because a click can block in the browser until a dialog it opened is
//! answered, and the answer must still get through.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use browser::input::{KeyInput, PointerAction, PointerInput};
use browser::{
    Browser, Downloads, FileInput, Frame, LiveTab, Screencast, ScreencastSettings, SelectFrame,
    TabEvent, TabSignal,
};
use tokio::sync::{broadcast, mpsc, watch};
use uuid::Uuid;

use super::protocol::{ServerMessage, UploadedFile};
use crate::sessions::{Activity, HumanSource, Resume, SessionClock, Sessions};

/// How often a watched session's tab titles are re-read from the browser.
const TAB_REFRESH: Duration = Duration::from_secs(2);

/// Largest total upload through one file chooser.
pub const MAX_UPLOAD_BYTES: usize = 48 << 20;

/// Most device pixels per CSS pixel counted when sizing frames for HiDPI viewers.
const MAX_SCALE: f64 = 2.0;

/// How long the viewers' picture sizes must stay put before the screencast restarts for them:
/// a host app animating its iframe, or a window being dragged larger, restarts it once.
const RESIZE_SETTLE: Duration = Duration::from_millis(400);

/// How long the live view waits, once the browser is gone, for the session's own reason.
const ENDED_REASON_WAIT: Duration = Duration::from_secs(2);

/// Replayed input, in arrival order.
#[derive(Debug)]
pub enum InputJob {
    /// A mouse event at a fraction of the frame image.
    Pointer {
        /// What happens.
        action: PointerAction,
        /// X as a fraction of the frame width.
        fx: f64,
        /// Y as a fraction of the frame height.
        fy: f64,
        /// `MouseEvent.button`.
        button: i32,
        /// `MouseEvent.buttons`.
        buttons: i32,
        /// Click count.
        clicks: i64,
        /// Modifier bits.
        mods: i32,
        /// Wheel deltas.
        dx: f64,
        /// Wheel deltas.
        dy: f64,
    },
    /// A key.
    Key(KeyInput),
    /// Text to insert.
    Text(String),
    /// Send the page's selection to one viewer's clipboard.
    Copy(mpsc::UnboundedSender<ServerMessage>),
}

/// What a viewer asks of the hub's task.
#[derive(Debug)]
pub enum HubCommand {
    /// A viewer arrived (or told its picture size): its id, CSS size and pixel ratio.
    Viewport {
        /// The viewer.
        viewer: u64,
        /// Picture width in CSS pixels.
        w: f64,
        /// Picture height in CSS pixels.
        h: f64,
        /// Device pixel ratio.
        dpr: f64,
        /// Whether the viewer may control: frames are sized for those who use the browser.
        control: bool,
    },
    /// A viewer left.
    Leave(u64),
    /// Address bar action.
    Nav {
        /// `back`, `forward`, `reload`, `go`.
        action: String,
        /// For `go`.
        url: String,
        /// Where to report a failure.
        reply: mpsc::UnboundedSender<ServerMessage>,
    },
    /// Tab strip action.
    Tab {
        /// `activate`, `close`, `new`.
        action: String,
        /// The tab.
        id: String,
        /// For `new`.
        url: String,
        /// Where to report a failure.
        reply: mpsc::UnboundedSender<ServerMessage>,
    },
    /// Dialog answer.
    Dialog {
        /// OK or Cancel.
        accept: bool,
        /// Prompt text.
        text: Option<String>,
        /// Where to report that it did not get through.
        reply: mpsc::UnboundedSender<ServerMessage>,
    },
    /// Files for the chooser.
    Files {
        /// The files; empty cancels.
        files: Vec<UploadedFile>,
        /// Where to report a failure.
        reply: mpsc::UnboundedSender<ServerMessage>,
    },
    /// A `<select>` choice.
    Select {
        /// The select.
        id: u64,
        /// The option, or none to close.
        index: Option<u32>,
    },
}

/// What a newly arrived viewer must be told before anything else.
#[derive(Debug, Default)]
struct Snapshot {
    tabs: Option<ServerMessage>,
    location: Option<ServerMessage>,
    dialog: Option<ServerMessage>,
    chooser: Option<ServerMessage>,
    downloads: Option<ServerMessage>,
    clock: Option<ServerMessage>,
    agent: Option<ServerMessage>,
    ended: Option<ServerMessage>,
}

/// The shared face of a hub, held by its viewers.
pub struct Hub {
    /// The session shown.
    pub session_id: Uuid,
    frames: watch::Receiver<Option<Arc<Frame>>>,
    taken: watch::Sender<u64>,
    messages: broadcast::Sender<Arc<str>>,
    commands: mpsc::UnboundedSender<HubCommand>,
    input: mpsc::Sender<InputJob>,
    snapshot: Mutex<Snapshot>,
    downloads: Arc<Downloads>,
    next_viewer: AtomicU64,
    activity: Activity,
}

impl Hub {
    /// Starts the hub of a live session: shows the downloads its owner follows (or, when the
    /// owner could not, follows them into `dir`) and spawns the hub's tasks. Returns the hub
    /// and a receiver that fires when the hub ends.
    pub(crate) async fn start(
        session_id: Uuid,
        browser: Browser,
        sessions: Sessions,
        clock: watch::Receiver<SessionClock>,
        settings: ScreencastSettings,
        dir: tempfile::TempDir,
    ) -> Result<(Arc<Hub>, tokio::sync::oneshot::Receiver<()>), browser::BrowserError> {
        let downloads = match sessions.downloads(session_id) {
            Some(downloads) => downloads,
            None => {
                let downloads_dir = dir.path().join("downloads");
                let _ = tokio::fs::create_dir_all(&downloads_dir).await;
                Arc::new(Downloads::follow(browser.cdp(), &downloads_dir).await?)
            }
        };
        let (frames_tx, frames) = watch::channel(None);
        let (taken, taken_rx) = watch::channel(0u64);
        let (messages, _) = broadcast::channel(256);
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let (input, input_rx) = mpsc::channel(1024);
        let (tab_tx, tab_rx) = watch::channel(None);
        let hub = Arc::new(Hub {
            session_id,
            frames: frames.clone(),
            taken,
            messages,
            commands,
            input,
            snapshot: Mutex::new(Snapshot::default()),
            downloads,
            next_viewer: AtomicU64::new(1),
            activity: Activity::new(sessions, session_id),
        });
        let (done_tx, done) = tokio::sync::oneshot::channel();
        let (signals_tx, signals) = mpsc::unbounded_channel();
        let actor = Actor {
            hub: Arc::downgrade(&hub),
            browser,
            settings,
            frames_tx,
            taken_rx,
            tab_tx,
            signals_tx,
            tab: None,
            screencast: None,
            viewers: HashMap::new(),
            resize_at: None,
            select: None,
            selects_shown: 0,
            scale: 1.0,
            size: (0, 0),
            chooser: None,
            titles: HashMap::new(),
            uploads: dir.path().join("uploads"),
            uploads_made: 0,
            retry_follow: None,
            _dir: dir,
        };
        tokio::spawn(async move {
            actor.run(commands_rx, signals, clock).await;
            let _ = done_tx.send(());
        });
        tokio::spawn(replay_input(input_rx, tab_rx, frames));
        Ok((hub, done))
    }

    /// The sessions (and standalone browsers) this hub's browser belongs to.
    pub(crate) fn sessions(&self) -> &Sessions {
        self.activity.sessions()
    }

    /// A fresh viewer id.
    pub fn viewer_id(&self) -> u64 {
        self.next_viewer.fetch_add(1, Ordering::Relaxed)
    }

    /// The frames, newest only. Marked changed so that the current frame is sent at once.
    pub fn frames(&self) -> watch::Receiver<Option<Arc<Frame>>> {
        let mut frames = self.frames.clone();
        frames.mark_changed();
        frames
    }

    /// Records that a viewer sent frame `seq`, which lets the screencast go on.
    pub fn frame_taken(&self, seq: u64) {
        self.taken.send_if_modified(|t| {
            let newer = seq > *t;
            if newer {
                *t = seq;
            }
            newer
        });
    }

    /// Messages for every viewer, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.messages.subscribe()
    }

    /// What a new viewer must be told first: tabs, address, open dialog, downloads, ...
    pub fn snapshot(&self) -> Vec<ServerMessage> {
        let s = self.lock_snapshot();
        [
            &s.tabs,
            &s.location,
            &s.dialog,
            &s.chooser,
            &s.downloads,
            &s.clock,
            &s.agent,
            &s.ended,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
    }

    /// Whether the session is over.
    pub fn ended(&self) -> bool {
        self.lock_snapshot().ended.is_some()
    }

    /// Queues input for replay; waits when the queue is full.
    pub async fn input(&self, job: InputJob) {
        let acting = match &job {
            InputJob::Pointer { action, .. } => {
                matches!(action, PointerAction::Press | PointerAction::Wheel)
            }
            InputJob::Key(_) | InputJob::Text(_) => true,
            InputJob::Copy(_) => false,
        };
        self.activity.touch(acting);
        let _ = self.input.send(job).await;
    }

    /// A delta given as fractions of the picture, in CSS pixels of the page on screen (zero
    /// before the first frame, or for a delta that is not a number).
    pub fn picture_delta(&self, fdx: f64, fdy: f64) -> (f64, f64) {
        let Some((width, height)) = self
            .frames
            .borrow()
            .as_ref()
            .map(|f| (f.geometry.css_width, f.geometry.css_height))
        else {
            return (0.0, 0.0);
        };
        let css = |fraction: f64, size: f64| {
            if fraction.is_finite() {
                fraction.clamp(-10.0, 10.0) * size
            } else {
                0.0
            }
        };
        (css(fdx, width), css(fdy, height))
    }

    /// Sends a command to the hub's task.
    pub fn command(&self, command: HubCommand) {
        if !matches!(command, HubCommand::Viewport { .. } | HubCommand::Leave(_)) {
            self.activity.touch(true);
        }
        let _ = self.commands.send(command);
    }

    /// The human asked for more time.
    pub fn touch(&self) {
        self.activity.touch(false);
    }

    /// The human answers what the agent waits for, or hands the control back.
    pub async fn resume(
        &self,
        answer: Option<String>,
        approve: Option<bool>,
    ) -> Result<(), String> {
        let resume = Resume { answer, approve };
        self.activity
            .sessions()
            .resume(self.session_id, resume, HumanSource::LiveView)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// The human takes the browser from the working agent.
    pub async fn take_control(&self) -> Result<(), String> {
        self.activity
            .sessions()
            .take_control(self.session_id, HumanSource::LiveView)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// A completed download's file and name.
    pub fn download(&self, id: &str) -> Option<(PathBuf, String)> {
        self.downloads.file(id)
    }

    fn lock_snapshot(&self) -> MutexGuard<'_, Snapshot> {
        self.snapshot.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn publish(&self, message: ServerMessage, keep: impl FnOnce(&mut Snapshot, ServerMessage)) {
        let text: Arc<str> = Arc::from(message.to_text());
        keep(&mut self.lock_snapshot(), message);
        let _ = self.messages.send(text);
    }
}

/// A viewer's picture area, in CSS pixels, and its device pixel ratio.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ViewerPicture {
    w: f64,
    h: f64,
    dpr: f64,
    /// A control viewer; view-only ones size the frames only when no control viewer watches.
    control: bool,
}

/// The sizes frames are made for: the control viewers' when there are any (a view-only
/// viewer, or the host app of an embedded one, must not resize the picture, which pauses
/// everyone's input), else everyone's.
fn sizing_pictures(viewers: &HashMap<u64, ViewerPicture>) -> Vec<ViewerPicture> {
    let control: Vec<ViewerPicture> = viewers.values().filter(|v| v.control).copied().collect();
    if control.is_empty() {
        viewers.values().copied().collect()
    } else {
        control
    }
}

/// A `<select>` list on the viewers' screens: the id they answer with, and where the
/// element lives (each frame numbers its own selects).
#[derive(Debug, Clone, PartialEq, Eq)]
struct OpenSelect {
    id: u64,
    frame: SelectFrame,
    script_id: u64,
}

/// The hub's own task state.
struct Actor {
    hub: std::sync::Weak<Hub>,
    browser: Browser,
    settings: ScreencastSettings,
    frames_tx: watch::Sender<Option<Arc<Frame>>>,
    taken_rx: watch::Receiver<u64>,
    tab_tx: watch::Sender<Option<LiveTab>>,
    signals_tx: mpsc::UnboundedSender<TabSignal>,
    tab: Option<LiveTab>,
    screencast: Option<Screencast>,
    /// Viewer id → its picture.
    viewers: HashMap<u64, ViewerPicture>,
    /// When to resize the screencast for the viewers' pictures, once they settle.
    resize_at: Option<tokio::time::Instant>,
    /// The native `<select>` whose list viewers show, if any.
    select: Option<OpenSelect>,
    /// The last id handed to a `<select>` list.
    selects_shown: u64,
    scale: f64,
    size: (u32, u32),
    chooser: Option<FileInput>,
    /// Titles the watched tabs reported, by tab id, with the URL they belong to.
    titles: HashMap<String, (String, String)>,
    uploads: PathBuf,
    uploads_made: u64,
    /// When to try again to put the active tab on screen, after a failed attempt.
    retry_follow: Option<tokio::time::Instant>,
    _dir: tempfile::TempDir,
}

impl Actor {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<HubCommand>,
        mut signals: mpsc::UnboundedReceiver<TabSignal>,
        mut clock: watch::Receiver<SessionClock>,
    ) {
        let mut tab_events = self.browser.tab_events();
        let mut downloads = match self.hub.upgrade() {
            Some(hub) => hub.downloads.changes(),
            None => return,
        };
        let mut exited = self.browser.exited();
        self.publish_tabs();
        self.publish_downloads();
        self.publish_clock(&clock.borrow_and_update());
        // Headless Chromium does not announce every title change; re-read the tab list now
        // and then so that the strip's other tabs don't keep showing URLs.
        let mut titles = tokio::time::interval(TAB_REFRESH);
        titles.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = sleep_until_some(self.retry_follow), if self.retry_follow.is_some() => {
                    self.retry_follow = None;
                    self.follow().await;
                },
                () = sleep_until_some(self.resize_at), if self.resize_at.is_some() => {
                    self.resize_at = None;
                    self.follow().await;
                },
                _ = titles.tick() => {
                    if let Err(e) = self.browser.refresh_tabs().await {
                        tracing::debug!(error = %e, "could not refresh the tab list");
                    }
                },
                command = commands.recv() => match command {
                    Some(command) => self.handle(command).await,
                    None => break,
                },
                event = tab_events.recv() => match event {
                    Ok(event) => self.tab_event(event).await,
                    Err(broadcast::error::RecvError::Lagged(_)) => self.follow().await,
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                Some(signal) = signals.recv() => self.signal(signal).await,
                changed = clock.changed() => {
                    let ended = match changed {
                        Ok(()) => {
                            let now = clock.borrow_and_update().clone();
                            self.publish_clock(&now);
                            now.ended
                        }
                        Err(_) => Some("The session ended".to_string()),
                    };
                    if let Some(reason) = ended {
                        self.end(reason).await;
                        return;
                    }
                },
                Ok(()) = downloads.changed() => self.publish_downloads(),
                true = browser_gone(&mut exited) => {
                    // The supervisor learns it too and says why the session ended: the viewer
                    // shows the same words as the API, when they come soon enough.
                    let reason = match tokio::time::timeout(
                        ENDED_REASON_WAIT,
                        clock.wait_for(|c| c.ended.is_some()),
                    )
                    .await
                    {
                        Ok(Ok(clock)) => clock.ended.clone(),
                        _ => None,
                    };
                    let reason = reason.unwrap_or_else(|| "The session's browser is gone".into());
                    self.end(reason).await;
                    return;
                },
            }
            if self.hub.strong_count() == 0 {
                break;
            }
        }
        self.detach().await;
    }

    async fn end(&mut self, reason: String) {
        self.detach().await;
        if let Some(hub) = self.hub.upgrade() {
            hub.publish(
                ServerMessage::Ended {
                    reason: Some(reason),
                },
                |s, m| s.ended = Some(m),
            );
        }
    }

    async fn handle(&mut self, command: HubCommand) {
        match command {
            HubCommand::Viewport {
                viewer,
                w,
                h,
                dpr,
                control,
            } => {
                let sane =
                    |v: f64, lo: f64, hi: f64| if v.is_finite() { v.clamp(lo, hi) } else { lo };
                let picture = ViewerPicture {
                    w: sane(w, 16.0, 8192.0),
                    h: sane(h, 16.0, 8192.0),
                    dpr: sane(dpr, 1.0, 4.0),
                    control,
                };
                if self.viewers.insert(viewer, picture) == Some(picture) {
                    return;
                }
                self.viewers_changed().await;
            }
            HubCommand::Leave(viewer) => {
                self.viewers.remove(&viewer);
                self.viewers_changed().await;
            }
            HubCommand::Nav { action, url, reply } => {
                if let Err(detail) = self.nav(&action, &url).await {
                    let _ = reply.send(ServerMessage::Error { detail });
                }
            }
            HubCommand::Tab {
                action,
                id,
                url,
                reply,
            } => {
                let result = match action.as_str() {
                    "activate" => self
                        .browser
                        .activate_tab(&id)
                        .await
                        .map_err(|e| e.to_string()),
                    "close" => self.browser.close_tab(&id).await.map_err(|e| e.to_string()),
                    "new" => match address(if url.is_empty() { "about:blank" } else { &url }) {
                        Ok(url) => self
                            .browser
                            .new_tab(&url)
                            .await
                            .map(|_| ())
                            .map_err(|e| e.to_string()),
                        Err(e) => Err(e),
                    },
                    _ => Err(format!("unknown tab action {action:?}")),
                };
                if let Err(detail) = result {
                    let _ = reply.send(ServerMessage::Error { detail });
                }
            }
            HubCommand::Dialog {
                accept,
                text,
                reply,
            } => {
                let open = self
                    .hub
                    .upgrade()
                    .is_some_and(|hub| hub.lock_snapshot().dialog.is_some());
                let answered = match &self.tab {
                    Some(tab) if open => tab
                        .answer_dialog(accept, text)
                        .await
                        .map_err(|e| e.to_string()),
                    _ => Err("no dialog is open".to_string()),
                };
                if let Err(e) = answered {
                    tracing::debug!(error = %e, "dialog answer failed");
                    let _ = reply.send(ServerMessage::Error {
                        detail: "The dialog is no longer open.".into(),
                    });
                }
            }
            HubCommand::Files { files, reply } => {
                if let Err(detail) = self.upload(files).await {
                    let _ = reply.send(ServerMessage::Error { detail });
                }
            }
            HubCommand::Select { id, index } => {
                let Some(open) = self.select.take_if(|s| s.id == id) else {
                    return;
                };
                self.publish(ServerMessage::SelectClosed { id }, |_, _| {});
                if let (Some(tab), Some(index)) = (&self.tab, index)
                    && let Err(e) = tab.pick_option(&open.frame, open.script_id, index).await
                {
                    tracing::debug!(error = %e, "select pick failed");
                }
            }
        }
    }

    async fn nav(&mut self, action: &str, url: &str) -> Result<(), String> {
        let Some(tab) = self.tab.clone() else {
            return Err("no tab is open".into());
        };
        let done = match action {
            "back" => tab.go_history(-1).await.map(|_| ()),
            "forward" => tab.go_history(1).await.map(|_| ()),
            "reload" => tab.reload().await,
            "go" => tab.open(&address(url)?).await,
            _ => return Err(format!("unknown navigation {action:?}")),
        };
        done.map_err(|e| e.to_string())
    }

    async fn upload(&mut self, files: Vec<UploadedFile>) -> Result<(), String> {
        let (Some(tab), Some(node)) = (self.tab.clone(), self.chooser.take()) else {
            return Err("no file chooser is open".into());
        };
        self.publish(ServerMessage::FileChooserClosed, |s, _| s.chooser = None);
        self.uploads_made += 1;
        let dir = self.uploads.join(self.uploads_made.to_string());
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| format!("cannot store the upload: {e}"))?;
        let mut paths = Vec::new();
        let mut total = 0usize;
        for file in files {
            let data = STANDARD
                .decode(file.data.as_bytes())
                .map_err(|_| format!("{}: not base64", file.name))?;
            total += data.len();
            if total > MAX_UPLOAD_BYTES {
                return Err(format!(
                    "uploads are limited to {} MB",
                    MAX_UPLOAD_BYTES >> 20
                ));
            }
            let path = dir.join(file_name(&file.name, paths.len()));
            tokio::fs::write(&path, data)
                .await
                .map_err(|e| format!("cannot store the upload: {e}"))?;
            paths.push(path);
        }
        tab.set_files(&node, &paths)
            .await
            .map_err(|e| e.to_string())
    }

    async fn tab_event(&mut self, event: TabEvent) {
        match event {
            TabEvent::Changed(_) => self.publish_tabs(),
            TabEvent::Closed(id) => {
                self.titles.remove(&id);
                self.follow().await;
                self.publish_tabs();
            }
            TabEvent::Opened(_) | TabEvent::Activated(_) => {
                self.follow().await;
                self.publish_tabs();
            }
        }
    }

    async fn signal(&mut self, signal: TabSignal) {
        match signal {
            TabSignal::DialogOpened {
                kind,
                message,
                default_prompt,
            } => self.publish(
                ServerMessage::Dialog {
                    kind,
                    message,
                    default_prompt,
                },
                |s, m| s.dialog = Some(m),
            ),
            TabSignal::DialogClosed => {
                self.publish(ServerMessage::DialogClosed, |s, _| s.dialog = None)
            }
            TabSignal::FileChooser { multiple, input } => {
                self.chooser = Some(input);
                self.publish(ServerMessage::FileChooser { multiple }, |s, m| {
                    s.chooser = Some(m)
                });
            }
            TabSignal::Select { mut popup, frame } => {
                let viewport = self.frames_tx.borrow().as_ref().map_or([0.0, 0.0], |f| {
                    [f.geometry.css_width, f.geometry.css_height]
                });
                // Viewers answer with an id of the hub's: the page's own ids are per frame.
                self.selects_shown += 1;
                self.select = Some(OpenSelect {
                    id: self.selects_shown,
                    frame,
                    script_id: popup.id,
                });
                popup.id = self.selects_shown;
                self.publish(ServerMessage::Select { popup, viewport }, |_, _| {});
            }
            TabSignal::Navigated { url } => self.publish_location(Some(url)).await,
            TabSignal::Title { url, title } => {
                if let Some(tab) = &self.tab {
                    self.titles.insert(tab.tab_id().to_string(), (url, title));
                    self.publish_tabs();
                }
            }
        }
    }

    /// The viewers or their pictures changed: the first viewer gets a tab on screen at once
    /// and the last one's leaving stops it at once; other changes only resize the picture,
    /// which restarts the screencast, so they wait until the sizes settle.
    async fn viewers_changed(&mut self) {
        if self.viewers.is_empty() || self.tab.is_none() {
            self.resize_at = None;
            self.follow().await;
        } else {
            self.resize_at = Some(tokio::time::Instant::now() + RESIZE_SETTLE);
        }
    }

    /// Puts the right tab on screen: the browser's active tab while anyone watches, none
    /// otherwise; re-renders when the viewers' pixel needs change.
    async fn follow(&mut self) {
        let wanted = if self.viewers.is_empty() {
            None
        } else {
            self.browser.active_tab()
        };
        let pictures = sizing_pictures(&self.viewers);
        let scale = pictures
            .iter()
            .map(|v| v.dpr)
            .fold(1.0f64, f64::max)
            .min(MAX_SCALE);
        let size = self.frame_size(&pictures, scale);
        let current = self.tab.as_ref().map(|t| t.tab_id().to_string());
        let same_tab = current == wanted.as_ref().map(|t| t.id.clone());
        if same_tab && (scale - self.scale).abs() < 0.01 && size == self.size {
            return;
        }
        if same_tab && let Some(tab) = self.tab.clone() {
            // Same tab, other picture needs: only the screencast restarts. Input waits
            // meanwhile: the first frame is a screenshot, and input replayed while Chromium
            // takes one can be lost.
            self.tab_tx.send_replace(None);
            if let Some(screencast) = self.screencast.take() {
                screencast.stop().await;
            }
            let restarted = self.cast(&tab, size).await;
            self.tab_tx.send_replace(Some(tab));
            match restarted {
                Ok(screencast) => {
                    self.screencast = Some(screencast);
                    self.scale = scale;
                    self.size = size;
                }
                Err(e) => tracing::debug!(error = %e, "cannot restart the screencast"),
            }
            return;
        }
        self.detach().await;
        let Some(wanted) = wanted else { return };
        tracing::debug!(tab = %wanted.id, scale, ?size, "showing tab");
        match self.attach(&wanted.id, size).await {
            Ok(()) => {
                self.scale = scale;
                self.size = size;
            }
            Err(e) => {
                tracing::warn!(tab = %wanted.id, error = %e, "cannot show tab; trying again");
                self.retry_follow = Some(tokio::time::Instant::now() + FOLLOW_RETRY);
            }
        }
        self.publish_tabs();
        self.publish_location(None).await;
    }

    /// Frame size in device pixels: the largest of `pictures`, capped by the settings.
    fn frame_size(&self, pictures: &[ViewerPicture], scale: f64) -> (u32, u32) {
        let (w, h) = pictures
            .iter()
            .fold((0.0f64, 0.0f64), |(w, h), v| (w.max(v.w), h.max(v.h)));
        let fit = |v: f64, max: u32| ((v * scale).ceil() as u32).clamp(320, max.max(320));
        (
            fit(w, self.settings.max_width),
            fit(h, self.settings.max_height),
        )
    }

    async fn attach(
        &mut self,
        tab_id: &str,
        size: (u32, u32),
    ) -> Result<(), browser::BrowserError> {
        let page = self.browser.page(tab_id).await?;
        let tab = LiveTab::attach(page, self.signals_tx.clone()).await?;
        let screencast = self.cast(&tab, size).await;
        self.tab_tx.send_replace(Some(tab.clone()));
        self.tab = Some(tab);
        self.screencast = Some(screencast?);
        Ok(())
    }

    /// Starts the screencast of `tab` for pictures of `size` device pixels at most.
    async fn cast(
        &self,
        tab: &LiveTab,
        size: (u32, u32),
    ) -> Result<Screencast, browser::BrowserError> {
        let settings = ScreencastSettings {
            max_width: size.0,
            max_height: size.1,
            ..self.settings
        };
        Screencast::start(
            tab.session(),
            settings,
            self.frames_tx.clone(),
            self.taken_rx.clone(),
        )
        .await
    }

    async fn detach(&mut self) {
        if let Some(screencast) = self.screencast.take() {
            screencast.stop().await;
        }
        self.tab_tx.send_replace(None);
        if let Some(tab) = self.tab.take() {
            tab.detach().await;
        }
        self.scale = 1.0;
        self.size = (0, 0);
        if let Some(open) = self.select.take() {
            self.publish(ServerMessage::SelectClosed { id: open.id }, |_, _| {});
        }
        if self.chooser.take().is_some() {
            self.publish(ServerMessage::FileChooserClosed, |s, _| s.chooser = None);
        }
        if let Some(hub) = self.hub.upgrade()
            && hub.lock_snapshot().dialog.is_some()
        {
            hub.publish(ServerMessage::DialogClosed, |s, _| s.dialog = None);
        }
    }

    fn publish(&self, message: ServerMessage, keep: impl FnOnce(&mut Snapshot, ServerMessage)) {
        if let Some(hub) = self.hub.upgrade() {
            hub.publish(message, keep);
        }
    }

    fn publish_tabs(&self) {
        let active = self.tab.as_ref().map(|t| t.tab_id().to_string());
        let mut tabs = self.browser.tabs();
        for tab in &mut tabs {
            if let Some((url, title)) = self.titles.get(&tab.id)
                && *url == tab.url
            {
                tab.title.clone_from(title);
            }
        }
        self.publish(ServerMessage::Tabs { tabs, active }, |s, m| {
            s.tabs = Some(m)
        });
    }

    async fn publish_location(&self, url: Option<String>) {
        let Some(tab) = &self.tab else { return };
        let url = url.unwrap_or_else(|| {
            self.browser
                .tabs()
                .into_iter()
                .find(|t| t.id == tab.tab_id())
                .map(|t| t.url)
                .unwrap_or_default()
        });
        let (back, forward) = tab.history_state().await.unwrap_or((false, false));
        self.publish(ServerMessage::Location { url, back, forward }, |s, m| {
            s.location = Some(m)
        });
    }

    fn publish_downloads(&self) {
        if let Some(hub) = self.hub.upgrade() {
            let items = hub.downloads.list();
            hub.publish(ServerMessage::Downloads { items }, |s, m| {
                s.downloads = Some(m)
            });
        }
    }

    fn publish_clock(&self, clock: &SessionClock) {
        let message = ServerMessage::Clock {
            idle_deadline: clock.idle_deadline.map(|t| t.timestamp_millis()),
            ends_at: clock.ends_at.map(|t| t.timestamp_millis()),
            now: chrono::Utc::now().timestamp_millis(),
        };
        self.publish(message, |s, m| s.clock = Some(m));
        let agent = ServerMessage::Agent {
            running: clock.task_running,
            human: clock.human_input.clone(),
        };
        if self
            .hub
            .upgrade()
            .is_some_and(|hub| hub.lock_snapshot().agent.as_ref() != Some(&agent))
        {
            self.publish(agent, |s, m| s.agent = Some(m));
        }
    }
}

/// How long after a failed attempt to show a tab the hub tries again.
const FOLLOW_RETRY: Duration = Duration::from_millis(500);

/// Sleeps until `at`; forever without one (the `select!` guard keeps that branch off).
async fn sleep_until_some(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Resolves (true) once the browser process is gone; false if its watcher went away.
async fn browser_gone(exited: &mut watch::Receiver<Option<browser::Exit>>) -> bool {
    exited.wait_for(Option::is_some).await.is_ok()
}

/// The URL to open for what a human typed in the address bar: http(s) and `about:blank`
/// only (no `file:`, `chrome:` or `javascript:`); a bare host gets a scheme.
pub fn address(typed: &str) -> Result<String, String> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err("empty address".into());
    }
    if typed == "about:blank" {
        return Ok(typed.to_string());
    }
    let candidate = if typed.contains("://") {
        typed.to_string()
    } else {
        let host = typed.split(['/', ':']).next().unwrap_or_default();
        let local = host == "localhost" || host.parse::<std::net::Ipv4Addr>().is_ok();
        format!("{}://{typed}", if local { "http" } else { "https" })
    };
    match url::Url::parse(&candidate) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(url.to_string()),
        Ok(url) => Err(format!("{}: addresses are not allowed here", url.scheme())),
        Err(e) => Err(format!("not an address: {e}")),
    }
}

/// A safe file name for an upload: the last path component, without control characters,
/// never empty, at most 200 bytes.
fn file_name(name: &str, index: usize) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .to_string();
    let mut cleaned = if cleaned.is_empty() {
        format!("upload-{index}")
    } else {
        cleaned
    };
    while cleaned.len() > 200 {
        cleaned.pop();
    }
    cleaned
}

/// How long input waits for a tab to come on screen before it is dropped. Attaching a tab or
/// restarting its screencast (a viewer resized) takes a few seconds at worst (the priming
/// screenshot alone may wait four), and a human's input must survive that: it queues and is
/// delivered in order. Only a tab that cannot be shown at all drops it, rather than holding
/// the queue for good.
const TAB_WAIT: Duration = Duration::from_secs(30);

/// The tab on screen, waiting while one is being attached or its screencast restarts.
async fn tab_on_screen<T: Clone>(tab: &mut watch::Receiver<Option<T>>) -> Option<T> {
    if let Some(current) = tab.borrow().clone() {
        return Some(current);
    }
    match tokio::time::timeout(TAB_WAIT, tab.wait_for(Option::is_some)).await {
        Ok(Ok(current)) => current.clone(),
        _ => None,
    }
}

/// Replays input in arrival order on the tab on screen. Consecutive moves with the same
/// buttons collapse into the last one (each costs the renderer a frame), nothing else does.
async fn replay_input(
    mut jobs: mpsc::Receiver<InputJob>,
    mut tab: watch::Receiver<Option<LiveTab>>,
    frames: watch::Receiver<Option<Arc<Frame>>>,
) {
    let mut pending: Option<InputJob> = None;
    loop {
        let job = match pending.take() {
            Some(job) => job,
            None => match jobs.recv().await {
                Some(job) => job,
                None => return,
            },
        };
        let job = match job {
            InputJob::Pointer {
                action: PointerAction::Move,
                ..
            } => {
                let mut latest = job;
                while let Ok(next) = jobs.try_recv() {
                    match (&latest, &next) {
                        (
                            InputJob::Pointer { buttons: a, .. },
                            InputJob::Pointer {
                                action: PointerAction::Move,
                                buttons: b,
                                ..
                            },
                        ) if a == b => latest = next,
                        _ => {
                            pending = Some(next);
                            break;
                        }
                    }
                }
                latest
            }
            other => other,
        };
        let Some(on_screen) = tab_on_screen(&mut tab).await else {
            tracing::debug!("input dropped: no tab on screen");
            continue;
        };
        let mut result = replay(&job, &on_screen, &frames).await;
        // Input that raced a tab switch (its session detached under it) goes to the tab now
        // on screen, once.
        if let Err(Replay::Detached) = result
            && let Some(now) = tab_on_screen(&mut tab).await
            && now.session().id() != on_screen.session().id()
        {
            result = replay(&job, &now, &frames).await;
        }
        if let Err(e) = result {
            tracing::debug!(error = %e, "live input not replayed");
        }
    }
}

/// Why one input was not replayed.
#[derive(Debug, thiserror::Error)]
enum Replay {
    /// The tab's session went away (tab switched or closed) before the browser answered.
    #[error("the tab's session detached")]
    Detached,
    /// Anything else: bad input, a browser error.
    #[error("{0}")]
    Failed(String),
}

impl From<browser::LiveInputError> for Replay {
    fn from(e: browser::LiveInputError) -> Replay {
        match e {
            browser::LiveInputError::Detached => Replay::Detached,
            other => Replay::Failed(other.to_string()),
        }
    }
}

/// Replays one input on `tab`.
async fn replay(
    job: &InputJob,
    tab: &LiveTab,
    frames: &watch::Receiver<Option<Arc<Frame>>>,
) -> Result<(), Replay> {
    match job {
        InputJob::Pointer {
            action,
            fx,
            fy,
            button,
            buttons,
            clicks,
            mods,
            dx,
            dy,
        } => {
            let geometry = frames.borrow().as_ref().map(|f| f.geometry);
            tracing::trace!(?action, fx, fy, ?geometry, "pointer");
            let mapped = match action {
                // Leaving needs no point of the picture (it goes outside the viewport).
                PointerAction::Leave => Some((0.0, 0.0)),
                _ => geometry.and_then(|g| g.to_css(*fx, *fy)),
            };
            let Some((x, y)) = mapped else {
                return Err(Replay::Failed("no frame to map the pointer on".into()));
            };
            tab.pointer(&PointerInput {
                action: *action,
                x,
                y,
                button: *button,
                buttons: *buttons,
                click_count: *clicks,
                modifiers: *mods,
                delta_x: *dx,
                delta_y: *dy,
            })
            .await?;
        }
        InputJob::Key(key) => tab.key(key).await?,
        InputJob::Text(text) => tab.insert_text(text).await?,
        InputJob::Copy(reply) => {
            // Nothing selected copies nothing: the human's clipboard keeps what it had.
            let text = tab.selected_text().await?;
            if !text.is_empty() {
                let _ = reply.send(ServerMessage::Clipboard { text });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_get_a_scheme_and_dangerous_ones_are_refused() {
        assert_eq!(address("example.com").unwrap(), "https://example.com/");
        assert_eq!(
            address("127.0.0.1:8000/a").unwrap(),
            "http://127.0.0.1:8000/a"
        );
        assert_eq!(address("localhost:3000").unwrap(), "http://localhost:3000/");
        assert_eq!(
            address(" http://x.test/p?q=1 ").unwrap(),
            "http://x.test/p?q=1"
        );
        assert_eq!(address("about:blank").unwrap(), "about:blank");
        assert!(address("file:///etc/passwd").is_err());
        assert!(address("chrome://settings").is_err());
        assert!(address("").is_err());
    }

    #[test]
    fn control_viewers_size_the_frames_when_there_are_any() {
        let picture = |w, control| ViewerPicture {
            w,
            h: 600.0,
            dpr: 1.0,
            control,
        };
        let mut viewers = HashMap::from([(1, picture(800.0, true)), (2, picture(1900.0, false))]);
        let widths = |v: &HashMap<u64, ViewerPicture>| {
            let mut w: Vec<f64> = sizing_pictures(v).iter().map(|p| p.w).collect();
            w.sort_by(f64::total_cmp);
            w
        };
        assert_eq!(widths(&viewers), [800.0]);
        viewers.remove(&1);
        assert_eq!(widths(&viewers), [1900.0], "view viewers alone size them");
        viewers.insert(3, picture(1000.0, false));
        assert_eq!(widths(&viewers), [1000.0, 1900.0]);
    }

    #[tokio::test(start_paused = true)]
    async fn input_waits_for_a_slow_restart_instead_of_being_dropped() {
        let (tab, mut on_screen) = watch::channel(None::<u32>);
        let restart = tokio::spawn(async move {
            // Longer than the priming screenshot may take (two waits of two seconds).
            tokio::time::sleep(Duration::from_secs(8)).await;
            tab.send_replace(Some(7));
            tab
        });
        assert_eq!(tab_on_screen(&mut on_screen).await, Some(7));
        let tab = restart.await.unwrap();
        // A tab that never comes back drops the input in the end rather than holding it.
        tab.send_replace(None);
        let started = tokio::time::Instant::now();
        assert_eq!(tab_on_screen(&mut on_screen).await, None);
        assert!(started.elapsed() >= TAB_WAIT);
    }

    #[test]
    fn upload_names_stay_inside_their_directory() {
        assert_eq!(file_name("../../etc/passwd", 0), "passwd");
        assert_eq!(file_name("C:\\Users\\me\\cv.pdf", 0), "cv.pdf");
        assert_eq!(file_name("..", 3), "upload-3");
        assert_eq!(file_name(".hidden", 0), "hidden");
        assert_eq!(file_name("a\u{0}b.txt", 0), "ab.txt");
        assert_eq!(file_name(&"x".repeat(300), 0).len(), 200);
    }
}
