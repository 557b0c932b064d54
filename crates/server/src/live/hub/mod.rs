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

use browser::{
    Browser, Downloads, FileInput, Frame, LiveTab, Screencast, ScreencastSettings, SelectFrame,
    TabEvent, TabSignal,
};
use tokio::sync::{broadcast, mpsc, watch};
use uuid::Uuid;

use super::protocol::{MouseKind, NavAction, ServerMessage, TabAction};
use crate::owners::{Activity, Owners, SessionClock};
use crate::sessions::{HumanSource, Resume, Sessions};

mod actor;
mod input;
mod uploads;

use actor::Actor;
pub use input::InputJob;
use input::replay_input;
pub use uploads::{CHUNK_LIMIT, Incoming};

/// Largest total upload through one file chooser.
pub const MAX_UPLOAD_BYTES: usize = 48 << 20;

/// How often a watched session's tab titles are re-read from the browser.
const TAB_REFRESH: Duration = Duration::from_secs(2);

/// Most device pixels per CSS pixel counted when sizing frames for HiDPI viewers.
const MAX_SCALE: f64 = 2.0;

/// How long the viewers' picture sizes must stay put before the screencast restarts for them:
/// a host app animating its iframe, or a window being dragged larger, restarts it once.
const RESIZE_SETTLE: Duration = Duration::from_millis(400);

/// How long the live view waits, once the browser is gone, for the session's own reason
/// (its owner publishes it once the end is persisted, which a loaded disk can delay).
const ENDED_REASON_WAIT: Duration = Duration::from_secs(10);

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
        /// What to do.
        action: NavAction,
        /// For `go`.
        url: String,
        /// Where to report a failure.
        reply: mpsc::UnboundedSender<ServerMessage>,
    },
    /// Tab strip action.
    Tab {
        /// What to do.
        action: TabAction,
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
    /// Files for the chooser, received whole by the viewer's [`Incoming`].
    Files {
        /// The stored files; empty cancels.
        files: Vec<PathBuf>,
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
    crashed: Option<ServerMessage>,
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
    /// The session layer, for a human's answers and taking the control.
    sessions: Sessions,
    /// Where the viewers' uploads are stored.
    uploads: PathBuf,
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
        let downloads = match sessions.owners().downloads(session_id) {
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
            activity: Activity::new(sessions.owners().clone(), session_id),
            sessions,
            uploads: dir.path().join("uploads"),
        });
        let (done_tx, done) = tokio::sync::oneshot::channel();
        let (signals_tx, signals) = mpsc::unbounded_channel();
        let actor = Actor {
            crash: None,
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
            retry_follow: None,
            pending_nav: Vec::new(),
            _dir: dir,
        };
        tokio::spawn(async move {
            actor.run(commands_rx, signals, clock).await;
            let _ = done_tx.send(());
        });
        tokio::spawn(replay_input(input_rx, tab_rx, frames));
        Ok((hub, done))
    }

    /// Where one viewer's files for the file chooser arrive, chunk by chunk.
    pub fn incoming(&self, viewer: u64) -> Incoming {
        Incoming::new(self.uploads.join(format!("viewer-{viewer}")))
    }

    /// The owner runtime of the hub's browser, for what a viewer asks of the browser itself
    /// (its viewport, `resize.rs`).
    pub(crate) fn owners(&self) -> &Owners {
        self.sessions.owners()
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
            &s.crashed,
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
            InputJob::Pointer(pointer) => {
                matches!(pointer.kind, MouseKind::Down | MouseKind::Wheel)
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
        self.sessions
            .resume(self.session_id, resume, HumanSource::LiveView)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// The human takes the browser from the working agent.
    pub async fn take_control(&self) -> Result<(), String> {
        self.sessions
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

/// The URL to open for what a human typed in the address bar: the browser layer's one URL
/// policy (`browser::address::from_typed`), its refusal in words the viewer shows.
pub fn address(typed: &str) -> Result<String, String> {
    browser::address::from_typed(typed).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_get_a_scheme_and_dangerous_ones_are_refused() {
        assert_eq!(address("example.com").unwrap(), "https://example.com");
        assert_eq!(
            address("127.0.0.1:8000/a").unwrap(),
            "http://127.0.0.1:8000/a"
        );
        assert_eq!(address("localhost:3000").unwrap(), "http://localhost:3000");
        assert_eq!(
            address(" http://x.test/p?q=1 ").unwrap(),
            "http://x.test/p?q=1"
        );
        assert_eq!(address("about:blank").unwrap(), "about:blank");
        assert!(address("file:///etc/passwd").is_err());
        assert!(address("chrome://settings").is_err());
        assert!(address("").is_err());
    }
}
