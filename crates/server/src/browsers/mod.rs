//! Standalone browsers (`/browsers`): a Chromium with no agent, driven by the client over CDP
//! (`cdpUrl`) and watchable in the live view (`liveUrl`).
//!
//! Each one is owned by an [`owner::Owner`] task registered in the owner runtime beside
//! session supervisors (so the live view and the CDP proxy reach both by id) and counts
//! against the same concurrent limit. An agent session's own browser is reachable through `/browsers`
//! too, under the session's id: [`BrowserView::Agent`].

mod owner;

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::future::BoxFuture;
use store::{BrowserQuery, BrowserRecord, SessionRecord, Uuid};
use tokio::sync::{mpsc, oneshot, watch};

pub use owner::OwnerCommand;

use crate::owners::{
    Control, LocalOwner, OwnerError, OwnerHandle, Owners, SessionClock, deadline_after, size_screen,
};
use crate::profiles::Profiles;
use owner::Owner;

/// A standalone browser to start, as validated by the API layer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewBrowser {
    /// Profile to start from and save back to.
    pub profile_id: Option<Uuid>,
    /// Lower-case proxy country; `None` when no proxy serves it (see [`crate::proxies`]).
    pub proxy_country_code: Option<String>,
    /// The proxy the browser goes through (`customProxy` or the country's), if any.
    pub proxy: Option<crate::proxies::ProxyChoice>,
    /// Requested viewport width.
    pub screen_width: Option<i64>,
    /// Requested viewport height.
    pub screen_height: Option<i64>,
    /// The caller's labels.
    pub metadata: BTreeMap<String, String>,
    /// How long the browser lives.
    pub timeout: Duration,
    /// A control viewer of the live view may size the viewport to its window.
    pub allow_resizing: bool,
}

/// A browser as `/browsers` shows it: a standalone one, or an agent session's own.
#[derive(Debug, Clone)]
pub enum BrowserView {
    /// Created through `/browsers`.
    Standalone(Box<BrowserRecord>),
    /// The browser of an agent session, under the session's id.
    Agent(Box<SessionRecord>),
}

/// The standalone browsers of this server. Cheap to clone.
#[derive(Clone)]
pub struct Browsers {
    owners: Owners,
    profiles: Profiles,
}

/// How the owner runtime reaches a standalone browser's owner.
#[derive(Clone)]
struct BrowserControl(mpsc::Sender<OwnerCommand>);

impl Control for BrowserControl {
    /// A standalone browser's end is fixed at creation: activity changes nothing.
    fn touch(&self, _acting: bool) {}

    fn shutdown(&self) -> BoxFuture<'static, ()> {
        let sender = self.0.clone();
        Box::pin(async move {
            let _ = sender.send(OwnerCommand::Shutdown).await;
        })
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// What stopping a browser did.
#[derive(Debug)]
pub enum Stopped {
    /// A standalone browser, stopped (or already stopped).
    Standalone(Box<BrowserRecord>),
    /// The id is an agent session's: stopping its browser is stopping the session, which
    /// the session layer does.
    Agent,
}

/// Room for commands queued to one owner.
const COMMAND_QUEUE: usize = 4;

impl Browsers {
    /// Browsers in the owner runtime `owners`, sharing its pool and concurrent limit with
    /// sessions.
    pub fn new(owners: Owners, profiles: Profiles) -> Browsers {
        Browsers { owners, profiles }
    }

    /// Starts a browser: a warm one, or a cold one seeded from the profile. Past the
    /// concurrent limit nothing is created.
    pub async fn create(&self, spec: NewBrowser) -> Result<BrowserRecord, OwnerError> {
        let permit = self.owners.reserve_slot()?;
        let (browser, profile) = self
            .owners
            .launch_browser(&self.profiles, spec.profile_id, spec.proxy.as_ref())
            .await?;
        let stop = |browser: browser::Browser| async move { browser.stop().await };
        if let Err(e) = size_screen(&browser, spec.screen_width, spec.screen_height).await {
            stop(browser).await;
            return Err(e.into());
        }

        let id = Uuid::now_v7();
        let mut record = BrowserRecord::new(id, store::now());
        // `timeoutAt = startedAt + timeout` exactly, as the API documents.
        record.timeout_at = chrono::Duration::from_std(spec.timeout)
            .ok()
            .and_then(|d| record.started_at.checked_add_signed(d))
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
        record.profile_id = spec.profile_id;
        record.proxy_country_code = spec.proxy_country_code;
        record.screen_width = spec.screen_width;
        record.screen_height = spec.screen_height;
        record.metadata = spec.metadata;
        record.browser_id = Some(browser.id().to_string());
        let store = self.owners.store().clone();
        if let Err(e) = store.save_browser(&record).await {
            stop(browser).await;
            return Err(e.into());
        }

        let downloads =
            crate::downloads::follow(&browser, self.owners.downloads_root(), id, None).await;
        let (commands, receiver) = mpsc::channel(COMMAND_QUEUE);
        let clock = watch::Sender::new(SessionClock::default());
        let clock_watch = clock.subscribe();
        let owner = Owner {
            record: record.clone(),
            store,
            browser: browser.clone(),
            owners: self.owners.clone(),
            permit: Some(permit),
            profile,
            deadline: deadline_after(spec.timeout),
            clock,
        };
        let registered = self.owners.register(id, || {
            OwnerHandle::Local(LocalOwner {
                control: std::sync::Arc::new(BrowserControl(commands)),
                join: tokio::spawn(owner.run(receiver)),
                browser: browser.clone(),
                clock: clock_watch,
                downloads,
                allow_resizing: spec.allow_resizing,
            })
        });
        if !registered {
            stop(browser).await;
            return Err(OwnerError::ShuttingDown);
        }
        tracing::info!(browser = %id, chromium = browser.id(), "standalone browser started");
        Ok(record)
    }

    /// A standalone browser, or the browser of the agent session with that id.
    pub async fn get(&self, id: Uuid) -> Result<BrowserView, OwnerError> {
        let store = self.owners.store();
        if let Some(record) = store.browser(id).await? {
            return Ok(BrowserView::Standalone(Box::new(record)));
        }
        match store.session(id).await? {
            Some(session) => Ok(BrowserView::Agent(Box::new(session))),
            None => Err(OwnerError::NotFound),
        }
    }

    /// A page of standalone browsers, newest first, and the total matching `query`.
    pub async fn list(
        &self,
        query: &BrowserQuery,
    ) -> Result<(Vec<BrowserRecord>, u64), OwnerError> {
        Ok(self.owners.store().list_browsers(query).await?)
    }

    /// Stops a standalone browser; idempotent. An agent session's id answers
    /// [`Stopped::Agent`]: the caller stops the session.
    pub async fn stop(&self, id: Uuid) -> Result<Stopped, OwnerError> {
        if let Some(BrowserControl(owner)) = self.owners.control::<BrowserControl>(id) {
            let (reply, answer) = oneshot::channel();
            if owner.send(OwnerCommand::Stop { reply }).await.is_ok()
                && let Ok(result) = answer.await
            {
                return result.map(|r| Stopped::Standalone(Box::new(r)));
            }
            // Ended while we asked: read what it stored.
        }
        match self.get(id).await? {
            BrowserView::Agent(_) => Ok(Stopped::Agent),
            BrowserView::Standalone(record) => Ok(Stopped::Standalone(record)),
        }
    }
}

/// Why a recovered browser stopped.
pub const RESTART_REASON: &str = "Tandem restarted and this browser was lost";

/// Settles standalone browsers that a restart left without their Chromium: `stopped`, with
/// the reason. Returns how many.
pub async fn recover(store: &dyn store::Store) -> Result<usize, store::StoreError> {
    let stranded = store
        .browsers_with_status(store::BrowserStatus::Active)
        .await?;
    let count = stranded.len();
    for mut record in stranded {
        let now = store::now();
        record.status = store::BrowserStatus::Stopped;
        record.finished_at = Some(now);
        record.updated_at = now;
        record.end_reason = Some(RESTART_REASON.to_string());
        store.save_browser(&record).await?;
        tracing::info!(browser = %record.id, "standalone browser recovered after restart");
    }
    Ok(count)
}
