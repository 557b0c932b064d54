//! One Chromium process with its DevTools connection, its tabs, and its fate.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cdp::Connection;
use cdp::protocol::browser;
use tokio::sync::{broadcast, watch};

use crate::error::BrowserError;
use crate::options::LaunchOptions;
use crate::page::Page;
use crate::process::{Exit, Process, TOOLBAR_HEIGHT};
use crate::proxy::Relay;
use crate::tabs::{TabEvent, TabInfo, Tabs};

/// A launched Chromium. Cheap to clone; every clone is the same browser.
///
/// Dropping the last clone without [`Browser::stop`] still kills the process group, so a
/// forgotten handle never leaks a browser; `stop` is the orderly way that also waits for reaping.
#[derive(Clone)]
pub struct Browser {
    inner: Arc<Inner>,
}

struct Inner {
    id: String,
    process: Process,
    cdp: Connection,
    tabs: Tabs,
    /// The cookies a browser started from a profile held once seeded: what a save compares
    /// against to tell this browser's changes from those other browsers saved meanwhile.
    seed_cookies: std::sync::OnceLock<Vec<cdp::protocol::network::Cookie>>,
    /// The relay to the upstream proxy of a browser launched with one; it stops with the
    /// last clone.
    relay: Option<Relay>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Browser {
    /// Starts a Chromium, connects to it and begins following its tabs.
    pub async fn launch(options: &LaunchOptions) -> Result<Browser, BrowserError> {
        let relay =
            match &options.proxy {
                Some(upstream) => Some(Relay::start(upstream.clone()).await.map_err(|e| {
                    BrowserError::Start(format!("cannot start the proxy relay: {e}"))
                })?),
                None => None,
            };
        let process = if relay.is_some() || options.ignore_cert_errors {
            // This browser's own network settings, on a copy of the options.
            let mut options = options.clone();
            if let Some(relay) = &relay {
                options
                    .extra_args
                    .push(format!("--proxy-server={}", relay.proxy_server()));
            }
            if options.ignore_cert_errors {
                options
                    .extra_args
                    .push("--ignore-certificate-errors".to_string());
            }
            Process::spawn(&options).await?
        } else {
            Process::spawn(options).await?
        };
        let Some((read, write)) = process.take_pipe() else {
            process.stop().await;
            return Err(BrowserError::Start("no DevTools pipe".into()));
        };
        let pipe = tokio::net::unix::pipe::Receiver::from_owned_fd(read).and_then(|read| {
            tokio::net::unix::pipe::Sender::from_owned_fd(write).map(|write| (read, write))
        });
        let cdp = match pipe {
            Ok((read, write)) => Connection::over_pipe(read, write, Default::default()),
            Err(e) => {
                process.stop().await;
                return Err(BrowserError::Start(format!("the DevTools pipe: {e}")));
            }
        };
        let tabs = match Tabs::follow(&cdp).await {
            Ok(tabs) => tabs,
            Err(e) => {
                process.stop().await;
                return Err(e);
            }
        };
        // `--window-size` sizes the window, toolbars included; pages must see the asked size.
        if let Some(tab) = tabs.active() {
            let (width, height) = options.window;
            if let Err(e) = size_viewport(&cdp, &tab.id, width, height).await {
                process.stop().await;
                return Err(e);
            }
        }
        // When the process dies, fail every command in flight at once instead of letting each
        // wait for its timeout.
        let mut exit = process.exit.clone();
        let watcher_cdp = cdp.clone();
        tokio::spawn(async move {
            if let Ok(exit) = exit.wait_for(Option::is_some).await {
                let reason = exit.as_ref().map(|e| e.reason.clone()).unwrap_or_default();
                watcher_cdp.close(&format!("Chromium {reason}"));
            }
        });
        let id = format!(
            "b{}-{}",
            std::process::id(),
            NEXT_ID.fetch_add(1, Ordering::Relaxed)
        );
        tracing::debug!(browser = %id, pid = process.pid, "Chromium launched");
        let browser = Browser {
            inner: Arc::new(Inner {
                id,
                process,
                cdp,
                tabs,
                seed_cookies: std::sync::OnceLock::new(),
                relay,
            }),
        };
        if let Some(seed) = &options.profile_seed {
            browser.seed_cookies_from(seed).await;
        }
        Ok(browser)
    }

    pub(crate) fn inner_process(&self) -> &Process {
        &self.inner.process
    }

    /// The cookies the browser held once seeded from a profile; `None` for one started
    /// without a profile.
    pub(crate) fn seed_cookies(&self) -> Option<&[cdp::protocol::network::Cookie]> {
        self.inner.seed_cookies.get().map(Vec::as_slice)
    }

    /// Remembers the cookies the browser was seeded with (once; later calls do nothing).
    pub(crate) fn remember_seed_cookies(&self, cookies: Vec<cdp::protocol::network::Cookie>) {
        let _ = self.inner.seed_cookies.set(cookies);
    }

    /// A short id, unique within this server process, for logs and lookups.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The browser's main process id; its process group has the same id.
    pub fn pid(&self) -> u32 {
        self.inner.process.pid
    }

    /// The browser's temporary directory: its profile (`profile/`) and its own temp directory
    /// (`tmp/`); deleted by `stop`.
    pub fn profile_dir(&self) -> &std::path::Path {
        &self.inner.process.profile_dir
    }

    /// The DevTools connection, for layers that speak CDP themselves (agent, live view).
    pub fn cdp(&self) -> &Connection {
        &self.inner.cdp
    }

    /// Becomes `Some` once the process is gone; `crashed` tells a crash from a stop.
    pub fn exited(&self) -> watch::Receiver<Option<Exit>> {
        self.inner.process.exit.clone()
    }

    /// Bytes that went through the browser's upstream proxy so far (both ways); `None` for a
    /// browser without one.
    pub fn proxy_bytes(&self) -> Option<u64> {
        self.inner.relay.as_ref().map(Relay::bytes)
    }

    /// The browser's upstream proxy (its `Display` shows no credentials), if any.
    pub fn proxy(&self) -> Option<&crate::proxy::UpstreamProxy> {
        self.inner.relay.as_ref().map(Relay::upstream)
    }

    /// True while the process runs.
    pub fn is_running(&self) -> bool {
        self.inner.process.exit.borrow().is_none() && !self.inner.cdp.is_closed()
    }

    /// Kills the browser and its children, reaps them and deletes the profile. Idempotent.
    pub async fn stop(&self) {
        self.inner.cdp.close("the browser was stopped");
        self.inner.process.stop().await;
    }

    /// The open tabs, in the order they were opened.
    pub fn tabs(&self) -> Vec<TabInfo> {
        self.inner.tabs.list()
    }

    /// Brings the tab list's titles and URLs up to date with the browser; call it before
    /// showing the list to someone who reads titles (the agent's state, a tab strip).
    pub async fn refresh_tabs(&self) -> Result<(), BrowserError> {
        self.ensure_running()?;
        self.inner.tabs.refresh(&self.inner.cdp).await
    }

    /// The tab a user of this browser is looking at: the one last activated, or the newest one
    /// a page opened (popups and `target=_blank` links are followed).
    pub fn active_tab(&self) -> Option<TabInfo> {
        self.inner.tabs.active()
    }

    /// Tabs opening, changing, closing and becoming active, from now on.
    pub fn tab_events(&self) -> broadcast::Receiver<TabEvent> {
        self.inner.tabs.subscribe()
    }

    /// Opens a tab on `url` and makes it the active one.
    pub async fn new_tab(&self, url: &str) -> Result<TabInfo, BrowserError> {
        self.ensure_running()?;
        self.inner.tabs.create(&self.inner.cdp, url).await
    }

    /// Makes a tab the active one (and brings it to the front).
    pub async fn activate_tab(&self, tab_id: &str) -> Result<(), BrowserError> {
        self.ensure_running()?;
        self.inner.tabs.activate(&self.inner.cdp, tab_id).await
    }

    /// Closes a tab. The browser keeps running even when it was the last one.
    pub async fn close_tab(&self, tab_id: &str) -> Result<(), BrowserError> {
        self.ensure_running()?;
        self.inner.tabs.close(&self.inner.cdp, tab_id).await
    }

    /// Resizes the window of the active tab so that its pages have a `width`×`height` CSS pixel
    /// viewport (`browserScreenWidth`/`Height` of a session or browser). Tabs opened later in
    /// that window share it; a popup window keeps the size its opener asked for.
    pub async fn set_viewport(&self, width: u32, height: u32) -> Result<(), BrowserError> {
        self.ensure_running()?;
        let tab = self
            .active_tab()
            .ok_or_else(|| BrowserError::Gone("the browser has no tab to size".into()))?;
        size_viewport(&self.inner.cdp, &tab.id, width, height).await
    }

    /// Attaches a new flattened session to a tab, for driving it.
    ///
    /// Each caller gets its own session and so its own event stream; several can drive the same
    /// tab at once (the agent and the live view, say).
    pub async fn page(&self, tab_id: &str) -> Result<Page, BrowserError> {
        self.ensure_running()?;
        if !self.inner.tabs.contains(tab_id) {
            return Err(BrowserError::NoSuchTab(tab_id.to_string()));
        }
        Page::attach(&self.inner.cdp, tab_id).await
    }

    fn ensure_running(&self) -> Result<(), BrowserError> {
        if let Some(exit) = self.inner.process.exit.borrow().as_ref() {
            return Err(BrowserError::Gone(exit.reason.clone()));
        }
        Ok(())
    }
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("id", &self.inner.id)
            .field("pid", &self.inner.process.pid)
            .finish()
    }
}

/// Resizes the window holding `tab_id` so that its viewport is `width`×`height`, and learns how
/// tall the browser's toolbars are, so that the next launch opens at the right size.
async fn size_viewport(
    cdp: &Connection,
    tab_id: &str,
    width: u32,
    height: u32,
) -> Result<(), BrowserError> {
    let window = cdp
        .call(browser::GetWindowForTarget {
            target_id: Some(tab_id.to_string()),
        })
        .await?;
    cdp.call(browser::SetContentsSize {
        window_id: window.window_id,
        width: Some(width),
        height: Some(height),
    })
    .await?;
    let sized = cdp
        .call(browser::GetWindowForTarget {
            target_id: Some(tab_id.to_string()),
        })
        .await?;
    if let Some(toolbars) = sized
        .bounds
        .height
        .and_then(|outer| u32::try_from(outer.saturating_sub(i64::from(height))).ok())
    {
        TOOLBAR_HEIGHT.store(toolbars, Ordering::Relaxed);
    }
    Ok(())
}
