//! Standalone browsers (`/browsers`): a Chromium with no agent, driven by the client over CDP
//! (`cdpUrl`) and watchable in the live view (`liveUrl`).
//!
//! Each one is owned by an [`owner::Owner`] task registered in the same registry as session
//! supervisors (so the live view and the CDP proxy reach both by id) and counts against the
//! same concurrent limit. An agent session's own browser is reachable through `/browsers`
//! too, under the session's id: [`BrowserView::Agent`].

mod owner;

use std::collections::BTreeMap;
use std::time::Duration;

use store::{BrowserQuery, BrowserRecord, SessionRecord, Uuid};
use tokio::sync::{mpsc, oneshot, watch};

pub use owner::OwnerCommand;

use crate::profiles::ProfileError;
use crate::sessions::{Control, Handle, SessionClock, SessionError, Sessions, StopStrategy};
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
    sessions: Sessions,
}

/// Room for commands queued to one owner.
const COMMAND_QUEUE: usize = 4;

impl Browsers {
    /// Browsers sharing the sessions' pool, registry and concurrent limit.
    pub fn new(sessions: Sessions) -> Browsers {
        Browsers { sessions }
    }

    /// Starts a browser: a warm one, or a cold one seeded from the profile. Past the
    /// concurrent limit nothing is created.
    pub async fn create(&self, spec: NewBrowser) -> Result<BrowserRecord, SessionError> {
        let permit = self.sessions.reserve_slot()?;
        let (browser, profile) = self
            .sessions
            .launch_browser(spec.profile_id, spec.proxy.as_ref())
            .await?;
        let stop = |browser: browser::Browser| async move { browser.stop().await };
        if let Err(e) =
            crate::sessions::size_screen(&browser, spec.screen_width, spec.screen_height).await
        {
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
        let store = self.sessions.store().clone();
        if let Err(e) = store.save_browser(&record).await {
            stop(browser).await;
            return Err(e.into());
        }

        let downloads =
            crate::downloads::follow(&browser, self.sessions.downloads_root(), id, None).await;
        let registry = self.sessions.registry().clone();
        let (commands, receiver) = mpsc::channel(COMMAND_QUEUE);
        let clock = watch::Sender::new(SessionClock::default());
        let clock_watch = clock.subscribe();
        let owner = Owner {
            record: record.clone(),
            store,
            browser: browser.clone(),
            registry: registry.clone(),
            permit: Some(permit),
            profile,
            deadline: crate::sessions::deadline_after(spec.timeout),
            clock,
        };
        let registered = registry.insert_with(id, || Handle {
            control: Control::Standalone(commands),
            join: tokio::spawn(owner.run(receiver)),
            browser: browser.clone(),
            clock: clock_watch,
            downloads,
            allow_resizing: spec.allow_resizing,
        });
        if !registered {
            stop(browser).await;
            return Err(SessionError::ShuttingDown);
        }
        tracing::info!(browser = %id, chromium = browser.id(), "standalone browser started");
        Ok(record)
    }

    /// A standalone browser, or the browser of the agent session with that id.
    pub async fn get(&self, id: Uuid) -> Result<BrowserView, SessionError> {
        let store = self.sessions.store();
        if let Some(record) = store.browser(id).await? {
            return Ok(BrowserView::Standalone(Box::new(record)));
        }
        match store.session(id).await? {
            Some(session) => Ok(BrowserView::Agent(Box::new(session))),
            None => Err(SessionError::NotFound),
        }
    }

    /// A page of standalone browsers, newest first, and the total matching `query`.
    pub async fn list(
        &self,
        query: &BrowserQuery,
    ) -> Result<(Vec<BrowserRecord>, u64), SessionError> {
        Ok(self.sessions.store().list_browsers(query).await?)
    }

    /// Stops a browser; idempotent. Stopping an agent session's browser stops the session.
    pub async fn stop(&self, id: Uuid) -> Result<BrowserView, SessionError> {
        if let Some(owner) = self.sessions.registry().standalone(id) {
            let (reply, answer) = oneshot::channel();
            if owner.send(OwnerCommand::Stop { reply }).await.is_ok()
                && let Ok(result) = answer.await
            {
                return result.map(|r| BrowserView::Standalone(Box::new(r)));
            }
            // Ended while we asked: read what it stored.
        }
        match self.get(id).await? {
            BrowserView::Agent(_) => Ok(BrowserView::Agent(Box::new(
                self.sessions.stop(id, StopStrategy::Session).await?,
            ))),
            standalone => Ok(standalone),
        }
    }
}

impl From<ProfileError> for SessionError {
    fn from(e: ProfileError) -> SessionError {
        match e {
            ProfileError::NotFound => SessionError::ProfileNotFound,
            ProfileError::Store(e) => SessionError::Store(e),
            ProfileError::Browser(e) => SessionError::Browser(e),
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
