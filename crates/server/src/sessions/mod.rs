//! Sessions: creating them, dispatching tasks, stopping, deleting, and restart recovery.
//!
//! [`Sessions`] is the domain API the HTTP handlers call. Reads go to the store; every
//! change goes through the session's supervisor (one tokio task per active session), which is
//! the only code that changes a session's status.

mod activity;
mod clock;
mod error;
mod feed;
mod handoff;
mod recovery;
mod registry;
mod spec;
mod supervisor;

use std::sync::Arc;
use std::time::Duration;

use agent::TaskRunner;

use crate::profiles::Profiles;
use crate::screenshots::Screenshots;
use crate::workspaces::{WorkspaceError, Workspaces};
use browser::Pool;
use std::path::PathBuf;
use store::{MessagePage, MessageQuery, SessionRecord, SessionStatus, Store, Uuid};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

pub use clock::SessionClock;
pub use error::SessionError;
pub use handoff::{HandoffError, HumanSource, Resume};
pub use recovery::recover;
pub use spec::{DEFAULT_MODEL, NewSession, TaskSpec};

pub(crate) use activity::Activity;
pub(crate) use registry::{Control, Handle, Registry};
use supervisor::{Command, Limits, Supervisor};
pub(crate) use supervisor::{browser_gone, deadline_after};

/// What `POST /sessions/{id}/stop` stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StopStrategy {
    /// The whole session: browser stopped, status `stopped`.
    #[default]
    Session,
    /// Only the running task: status back to `idle`, browser kept.
    Task,
}

/// Where sessions keep and find files, all under the server's data directory.
#[derive(Clone)]
pub struct SessionFiles {
    /// Step screenshots.
    pub screenshots: Screenshots,
    /// Browser profiles a session may start from.
    pub profiles: Profiles,
    /// Workspaces a session may be attached to.
    pub workspaces: Workspaces,
    /// `<data_dir>/downloads`: every browser's downloads, by session or browser id.
    pub downloads: PathBuf,
}

/// Session limits, from the server configuration.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// Active sessions allowed at once.
    pub max_sessions: usize,
    /// Inactivity allowed while created or idle.
    pub idle_timeout: Duration,
    /// Longest life of a session.
    pub max_duration: Duration,
    /// How long a task waits for a human (an answer, an approval, the control back) before
    /// it ends; each human action in the live view starts the wait again.
    pub human_wait: Duration,
}

/// The sessions of this server. Cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    pool: Pool,
    runner: Arc<dyn TaskRunner>,
    files: SessionFiles,
    limits: SessionLimits,
    /// One permit per active session; a supervisor holds its permit until its session ends.
    slots: Arc<Semaphore>,
    registry: Arc<Registry>,
}

/// Room for commands queued to one supervisor; API calls wait when it is full.
const COMMAND_QUEUE: usize = 16;

impl Sessions {
    /// Sessions backed by `store`, with browsers from `pool` and tasks run by `runner`.
    pub fn new(
        store: Arc<dyn Store>,
        pool: Pool,
        runner: Arc<dyn TaskRunner>,
        files: SessionFiles,
        limits: SessionLimits,
    ) -> Sessions {
        Sessions {
            inner: Arc::new(Inner {
                store,
                pool,
                runner,
                files,
                limits,
                slots: Arc::new(Semaphore::new(limits.max_sessions)),
                registry: Arc::new(Registry::default()),
            }),
        }
    }

    /// The store, for reads.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The limits in force.
    pub fn limits(&self) -> SessionLimits {
        self.inner.limits
    }

    /// A slot under the concurrent limit, shared by sessions and standalone browsers (each
    /// holds one Chromium); `TooManySessions` when none is free, with nothing created.
    pub(crate) fn reserve_slot(&self) -> Result<OwnedSemaphorePermit, SessionError> {
        let inner = &self.inner;
        if inner.registry.is_closed() {
            return Err(SessionError::ShuttingDown);
        }
        inner
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| SessionError::TooManySessions {
                limit: inner.limits.max_sessions,
            })
    }

    /// The folder of a workspace a session is attached to; `WorkspaceNotFound` when there is
    /// no such workspace.
    pub(crate) async fn workspace_dir(&self, id: Uuid) -> Result<PathBuf, SessionError> {
        let workspaces = &self.inner.files.workspaces;
        match workspaces.get(id).await {
            Ok(_) => Ok(workspaces.dir_of(id)),
            Err(WorkspaceError::Store(e)) => Err(SessionError::Store(e)),
            Err(_) => Err(SessionError::WorkspaceNotFound),
        }
    }

    /// Where the completed downloads of session or browser `id` are kept.
    pub fn kept_downloads(&self, id: Uuid) -> PathBuf {
        crate::downloads::dir_of(&self.inner.files.downloads, id)
    }

    /// The root of every browser's downloads, for standalone browsers.
    pub(crate) fn downloads_root(&self) -> &std::path::Path {
        &self.inner.files.downloads
    }

    /// The downloads of a live browser, as its owner follows them (the live view shows them).
    pub(crate) fn downloads(&self, id: Uuid) -> Option<Arc<browser::Downloads>> {
        self.inner.registry.downloads(id)
    }

    /// Live sessions and standalone browsers, each holding one Chromium.
    pub fn active_count(&self) -> usize {
        self.inner.registry.len()
    }

    /// The warm pool, for standalone browsers.
    pub(crate) fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// The owners of live browsers, for standalone browsers to join.
    pub(crate) fn registry(&self) -> &Arc<Registry> {
        &self.inner.registry
    }

    /// Creates a session with a browser of its own, and dispatches its first task if given.
    /// Past the concurrent-session limit nothing is created (the SDKs retry a 429). With a
    /// profile, the browser starts cold from the profile's saved state and saves it back when
    /// the session ends.
    pub async fn create(&self, spec: NewSession) -> Result<SessionRecord, SessionError> {
        let inner = &self.inner;
        let permit = self.reserve_slot()?;
        let workspace = match spec.workspace_id {
            Some(workspace_id) => Some(self.workspace_dir(workspace_id).await?),
            None => None,
        };
        let (browser, profile) = self
            .launch_browser(spec.profile_id, spec.proxy.as_deref())
            .await?;
        if let Err(e) = size_screen(&browser, spec.screen_width, spec.screen_height).await {
            browser.stop().await;
            return Err(e.into());
        }

        let id = Uuid::now_v7();
        let downloads = crate::downloads::follow(
            &browser,
            &inner.files.downloads,
            id,
            workspace.as_ref().map(|dir| dir.join("downloads")),
        )
        .await;
        let expires_at = chrono::Duration::from_std(inner.limits.max_duration)
            .ok()
            .and_then(|d| store::now().checked_add_signed(d))
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
        let mut record = SessionRecord::new(
            id,
            spec.model.as_deref().unwrap_or(DEFAULT_MODEL),
            expires_at,
        );
        record.profile_id = spec.profile_id;
        record.workspace_id = spec.workspace_id;
        record.proxy_country_code = spec.proxy_country_code.clone();
        record.screen_width = spec.screen_width;
        record.screen_height = spec.screen_height;
        record.keep_alive = spec.keep_alive;
        record.max_cost_usd = spec.max_cost_usd.clone();
        record.browser_id = Some(browser.id().to_string());
        // The browser is ready now, so a session without a task is idle at once.
        record.status = SessionStatus::Idle;
        let first_message = spec
            .task
            .as_ref()
            .map(|task| spec::begin_task(&mut record, task));

        if let Err(e) = inner
            .store
            .create_session(&record, first_message.as_ref())
            .await
        {
            browser.stop().await;
            return Err(e.into());
        }

        let (commands, receiver) = mpsc::channel(COMMAND_QUEUE);
        let supervisor = Supervisor::new(
            record.clone(),
            inner.store.clone(),
            inner.runner.clone(),
            inner.files.screenshots.clone(),
            browser.clone(),
            inner.registry.clone(),
            permit,
            Limits {
                idle_timeout: inner.limits.idle_timeout,
                max_duration: inner.limits.max_duration,
                human_wait: inner.limits.human_wait,
            },
        )
        .with_profile(profile)
        .with_workspace(workspace);
        let clock_watch = supervisor.clock();
        let first_task = spec.task;
        let registered = inner.registry.insert_with(id, || Handle {
            control: Control::Session(commands),
            join: tokio::spawn(supervisor.run(receiver, first_task)),
            browser: browser.clone(),
            clock: clock_watch,
            downloads,
            allow_resizing: false,
        });
        if !registered {
            browser.stop().await;
            return Err(SessionError::ShuttingDown);
        }
        tracing::info!(session = %id, browser = browser.id(), status = %record.status, "session created");
        Ok(record)
    }

    /// A browser for a new session or standalone browser: a warm one from the pool, or a cold
    /// one when it needs what the pool's browsers lack (a profile's state, a proxy, checked
    /// first so that a refusal is a clear error with nothing launched).
    pub(crate) async fn launch_browser(
        &self,
        profile_id: Option<Uuid>,
        proxy: Option<&crate::proxies::ProxyChoice>,
    ) -> Result<(browser::Browser, Option<crate::profiles::ProfileLease>), SessionError> {
        let inner = &self.inner;
        if let Some(proxy) = proxy {
            proxy.check().await?;
        }
        let customize = |options: &mut browser::LaunchOptions| {
            if let Some(proxy) = proxy {
                options.proxy = Some(proxy.upstream.clone());
                options.ignore_cert_errors = proxy.ignore_cert_errors;
            }
        };
        match profile_id {
            Some(profile_id) => {
                let (browser, lease) = inner
                    .files
                    .profiles
                    .launch(&inner.pool, profile_id, customize)
                    .await?;
                Ok((browser, Some(lease)))
            }
            None if proxy.is_some() => Ok((inner.pool.launch_cold(customize).await?, None)),
            None => Ok((inner.pool.acquire().await?, None)),
        }
    }

    /// Runs a task in an existing created or idle session.
    pub async fn dispatch(&self, id: Uuid, task: TaskSpec) -> Result<SessionRecord, SessionError> {
        let sent = self
            .command(id, |reply| Command::Dispatch { task, reply })
            .await;
        match sent {
            Some(result) => result,
            None => Err(self.not_live(id).await),
        }
    }

    /// Stops a session's task or the whole session. Idempotent: stopping an ended session
    /// returns it unchanged.
    pub async fn stop(
        &self,
        id: Uuid,
        strategy: StopStrategy,
    ) -> Result<SessionRecord, SessionError> {
        let sent = self
            .command(id, |reply| Command::Stop { strategy, reply })
            .await;
        match sent {
            Some(result) => result,
            None => self.get(id).await,
        }
    }

    /// Stops (if active) and soft-deletes a session.
    pub async fn delete(&self, id: Uuid) -> Result<(), SessionError> {
        if let Some(result) = self.command(id, |reply| Command::Delete { reply }).await {
            return result;
        }
        if self.inner.store.delete_session(id).await? {
            Ok(())
        } else {
            Err(SessionError::NotFound)
        }
    }

    /// Records activity on a session (the live view calls this on viewer input), restarting
    /// its inactivity clock; `acting` input (a click, a key) while a task runs takes the
    /// control from the agent. Never blocks.
    pub fn touch(&self, id: Uuid, acting: bool) {
        if let Some(sender) = self.inner.registry.sender(id) {
            let _ = sender.try_send(Command::Touch { acting });
        }
    }

    /// A human answers what the running task waits for (a question, an approval) or hands
    /// the control back to the agent.
    pub async fn resume(
        &self,
        id: Uuid,
        resume: Resume,
        source: HumanSource,
    ) -> Result<SessionRecord, SessionError> {
        let sent = self
            .command(id, |reply| Command::Resume {
                resume,
                source,
                reply,
            })
            .await;
        match sent {
            Some(result) => result,
            None => Err(self.not_live(id).await),
        }
    }

    /// A human takes the browser from the running task's agent, which pauses after its
    /// current action until the control is handed back.
    pub async fn take_control(
        &self,
        id: Uuid,
        source: HumanSource,
    ) -> Result<SessionRecord, SessionError> {
        let sent = self
            .command(id, |reply| Command::TakeControl { source, reply })
            .await;
        match sent {
            Some(result) => result,
            None => Err(self.not_live(id).await),
        }
    }

    /// The browser of an active session (the live view streams it); None once the session
    /// ended.
    pub fn browser(&self, id: Uuid) -> Option<browser::Browser> {
        self.inner.registry.browser(id)
    }

    /// Whether the live view may resize browser `id`'s viewport (`allowResizing`).
    pub fn allows_resizing(&self, id: Uuid) -> bool {
        self.inner.registry.allows_resizing(id)
    }

    /// The deadlines of an active session and, once it ends, why (the live view warns before
    /// the inactivity timeout and says when the session is over); None once it ended.
    pub fn clock(&self, id: Uuid) -> Option<tokio::sync::watch::Receiver<SessionClock>> {
        self.inner.registry.clock(id)
    }

    /// One session.
    pub async fn get(&self, id: Uuid) -> Result<SessionRecord, SessionError> {
        self.inner
            .store
            .session(id)
            .await?
            .ok_or(SessionError::NotFound)
    }

    /// A page of sessions, newest first, and the total.
    pub async fn list(
        &self,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<SessionRecord>, u64), SessionError> {
        Ok(self.inner.store.list_sessions(offset, limit).await?)
    }

    /// A page of a session's message feed.
    pub async fn messages(
        &self,
        id: Uuid,
        query: &MessageQuery,
    ) -> Result<MessagePage, SessionError> {
        self.get(id).await?;
        Ok(self.inner.store.messages(id, query).await?)
    }

    /// Stops every session's browser and the pool. Stored states are left as they are;
    /// [`recover`] settles them at the next start.
    pub async fn shutdown(&self) {
        let handles = self.inner.registry.close();
        for handle in &handles {
            match &handle.control {
                Control::Session(commands) => {
                    let _ = commands.send(Command::Shutdown).await;
                }
                Control::Standalone(commands) => {
                    let _ = commands.send(crate::browsers::OwnerCommand::Shutdown).await;
                }
            }
        }
        for handle in handles {
            let _ = handle.join.await;
        }
        self.inner.pool.shutdown().await;
    }

    /// Sends a command to a live supervisor and waits for its answer; `None` when the session
    /// is not live (ended, unknown, or ended while we asked).
    async fn command<T>(
        &self,
        id: Uuid,
        make: impl FnOnce(oneshot::Sender<Result<T, SessionError>>) -> Command,
    ) -> Option<Result<T, SessionError>> {
        let sender = self.inner.registry.sender(id)?;
        let (reply, answer) = oneshot::channel();
        sender.send(make(reply)).await.ok()?;
        answer.await.ok()
    }

    /// The error for a command to a session without a supervisor.
    async fn not_live(&self, id: Uuid) -> SessionError {
        match self.get(id).await {
            Ok(record) => SessionError::Ended(record.status),
            Err(e) => e,
        }
    }
}

/// Gives a new browser the viewport its creator asked for with `browserScreenWidth` and
/// `browserScreenHeight` (validated together, 320-6144 by 320-3456); without them it keeps
/// the default 1280×720.
pub(crate) async fn size_screen(
    browser: &browser::Browser,
    width: Option<i64>,
    height: Option<i64>,
) -> Result<(), browser::BrowserError> {
    let (Some(width), Some(height)) = (width, height) else {
        return Ok(());
    };
    match (u32::try_from(width), u32::try_from(height)) {
        (Ok(width), Ok(height)) => browser.set_viewport(width, height).await,
        _ => Ok(()),
    }
}
