//! The hub's own task: follows the browser's tabs, attaches to the active one while anyone
//! watches, runs its screencast sized for the viewers, publishes what they see (tabs, address,
//! downloads, dialogs, selects, the session's clock) and answers their commands.

use super::*;

/// A viewer's picture area, in CSS pixels, and its device pixel ratio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct ViewerPicture {
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
pub(super) struct OpenSelect {
    id: u64,
    frame: SelectFrame,
    script_id: u64,
}

/// The hub's own task state.
pub(super) struct Actor {
    pub(super) hub: std::sync::Weak<Hub>,
    pub(super) browser: Browser,
    pub(super) settings: ScreencastSettings,
    pub(super) frames_tx: watch::Sender<Option<Arc<Frame>>>,
    pub(super) taken_rx: watch::Receiver<u64>,
    pub(super) tab_tx: watch::Sender<Option<LiveTab>>,
    pub(super) signals_tx: mpsc::UnboundedSender<TabSignal>,
    pub(super) tab: Option<LiveTab>,
    /// The watched tab's crash flag (its renderer gone), followed while it is watched.
    pub(super) crash: Option<watch::Receiver<bool>>,
    pub(super) screencast: Option<Screencast>,
    /// Viewer id → its picture.
    pub(super) viewers: HashMap<u64, ViewerPicture>,
    /// When to resize the screencast for the viewers' pictures, once they settle.
    pub(super) resize_at: Option<tokio::time::Instant>,
    /// The native `<select>` whose list viewers show, if any.
    pub(super) select: Option<OpenSelect>,
    /// The last id handed to a `<select>` list.
    pub(super) selects_shown: u64,
    pub(super) scale: f64,
    pub(super) size: (u32, u32),
    pub(super) chooser: Option<FileInput>,
    /// Titles the watched tabs reported, by tab id, with the URL they belong to.
    pub(super) titles: HashMap<String, (String, String)>,
    /// When to try again to put the active tab on screen, after a failed attempt.
    pub(super) retry_follow: Option<tokio::time::Instant>,
    /// Address bar actions sent before a tab was on screen, run once one is.
    pub(super) pending_nav: Vec<PendingNav>,
    pub(super) _dir: tempfile::TempDir,
}

/// An address bar action waiting for the first tab on screen.
pub(super) struct PendingNav {
    action: NavAction,
    url: String,
    reply: mpsc::UnboundedSender<ServerMessage>,
}

/// Address bar actions kept while no tab is on screen yet; more are refused.
const MAX_PENDING_NAV: usize = 16;

impl Actor {
    pub(super) async fn run(
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
                crashed = crash_change(&mut self.crash) => self.publish_crash(crashed),
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

    /// Tells viewers whether the watched tab is crashed (and keeps it for new ones); a tab
    /// that never crashed sends nothing.
    fn publish_crash(&self, crashed: bool) {
        let Some(hub) = self.hub.upgrade() else {
            return;
        };
        let known = hub.lock_snapshot().crashed.is_some();
        if crashed || known {
            hub.publish(ServerMessage::TabCrashed { crashed }, |s, m| {
                s.crashed = crashed.then_some(m);
            });
        }
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
                // Sent before the first tab is on screen (a viewer that navigates as soon as
                // it connects): kept until one is, unless the browser has no tab at all.
                let tab_coming = self.viewers.is_empty() || self.browser.active_tab().is_some();
                if self.tab.is_none() && tab_coming && self.pending_nav.len() < MAX_PENDING_NAV {
                    self.pending_nav.push(PendingNav { action, url, reply });
                    return;
                }
                if let Err(detail) = self.nav(action, &url).await {
                    let _ = reply.send(ServerMessage::Error { detail });
                }
            }
            HubCommand::Tab {
                action,
                id,
                url,
                reply,
            } => {
                let result = match action {
                    TabAction::Activate => self
                        .browser
                        .activate_tab(&id)
                        .await
                        .map_err(|e| e.to_string()),
                    TabAction::Close => {
                        self.browser.close_tab(&id).await.map_err(|e| e.to_string())
                    }
                    TabAction::New => {
                        match address(if url.is_empty() { "about:blank" } else { &url }) {
                            Ok(url) => self
                                .browser
                                .new_tab(&url)
                                .await
                                .map(|_| ())
                                .map_err(|e| e.to_string()),
                            Err(e) => Err(e),
                        }
                    }
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

    async fn nav(&mut self, action: NavAction, url: &str) -> Result<(), String> {
        let Some(tab) = self.tab.clone() else {
            return Err("no tab is open".into());
        };
        let done = match action {
            NavAction::Back => tab.go_history(-1).await.map(|_| ()),
            NavAction::Forward => tab.go_history(1).await.map(|_| ()),
            NavAction::Reload => tab.reload().await,
            NavAction::Go => tab.open(&address(url)?).await,
        };
        done.map_err(|e| e.to_string())
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
        if self.tab.is_some() {
            for PendingNav { action, url, reply } in std::mem::take(&mut self.pending_nav) {
                if let Err(detail) = self.nav(action, &url).await {
                    let _ = reply.send(ServerMessage::Error { detail });
                }
            }
        }
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
        let mut crash = tab.crash_changes();
        let crashed = *crash.borrow_and_update();
        self.crash = Some(crash);
        self.publish_crash(crashed);
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
        self.crash = None;
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

    pub(super) fn publish(
        &self,
        message: ServerMessage,
        keep: impl FnOnce(&mut Snapshot, ServerMessage),
    ) {
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

/// The next value of the watched tab's crash flag; pending while no tab is watched (or its
/// page is gone, which the tab's own detach reports).
async fn crash_change(crash: &mut Option<watch::Receiver<bool>>) -> bool {
    if let Some(rx) = crash
        && rx.changed().await.is_ok()
    {
        return *rx.borrow_and_update();
    }
    std::future::pending().await
}

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
