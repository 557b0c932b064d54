//! Sessions: creating them, dispatching tasks, stopping, deleting, and restart recovery.
//!
//! [`Sessions`] is the domain API the HTTP handlers call. Reads go to the store; every
//! change goes through the session's supervisor (one tokio task per active session), which is
//! the only code that changes a session's status.

mod error;
mod feed;
mod handoff;
mod recovery;
mod spec;
mod supervisor;

use std::sync::Arc;
use std::time::Duration;

use agent::TaskRunner;

use crate::owners::{Control, LocalOwner, OwnerHandle, Owners, size_screen};
use crate::profiles::Profiles;
use crate::screenshots::Screenshots;
use crate::workspaces::{WorkspaceError, Workspaces};
use futures_util::future::BoxFuture;
use std::path::PathBuf;
use store::{MessagePage, MessageQuery, SessionRecord, SessionStatus, Store, Uuid};
use tokio::sync::{mpsc, oneshot};

pub use crate::owners::SessionClock;
pub use error::SessionError;
pub use handoff::{HandoffError, HumanSource, Resume};
pub use recovery::recover;
pub use spec::{DEFAULT_MODEL, NewSession, TaskSpec};

use supervisor::{Command, Limits, Supervisor};

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
    owners: Owners,
    runner: Arc<dyn TaskRunner>,
    files: SessionFiles,
    limits: SessionLimits,
}

/// How the owner runtime reaches a session's supervisor.
#[derive(Clone)]
struct SessionControl(mpsc::Sender<Command>);

impl Control for SessionControl {
    fn touch(&self, acting: bool) {
        let _ = self.0.try_send(Command::Touch { acting });
    }

    fn shutdown(&self) -> BoxFuture<'static, ()> {
        let sender = self.0.clone();
        Box::pin(async move {
            let _ = sender.send(Command::Shutdown).await;
        })
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Room for commands queued to one supervisor; API calls wait when it is full.
const COMMAND_QUEUE: usize = 16;

impl Sessions {
    /// Sessions owned in `owners` (their store, pool and slots), with tasks run by `runner`.
    pub fn new(
        owners: Owners,
        runner: Arc<dyn TaskRunner>,
        files: SessionFiles,
        limits: SessionLimits,
    ) -> Sessions {
        Sessions {
            inner: Arc::new(Inner {
                owners,
                runner,
                files,
                limits,
            }),
        }
    }

    /// The store, for reads.
    pub fn store(&self) -> &Arc<dyn Store> {
        self.inner.owners.store()
    }

    /// The owner runtime the sessions live in.
    pub fn owners(&self) -> &Owners {
        &self.inner.owners
    }

    /// The limits in force.
    pub fn limits(&self) -> SessionLimits {
        self.inner.limits
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

    /// Creates a session with a browser of its own, and dispatches its first task if given.
    /// Past the concurrent-session limit nothing is created (the SDKs retry a 429). With a
    /// profile, the browser starts cold from the profile's saved state and saves it back when
    /// the session ends.
    pub async fn create(&self, spec: NewSession) -> Result<SessionRecord, SessionError> {
        let inner = &self.inner;
        let owners = &inner.owners;
        let permit = owners.reserve_slot()?;
        let workspace = match spec.workspace_id {
            Some(workspace_id) => Some(self.workspace_dir(workspace_id).await?),
            None => None,
        };
        let (browser, profile) = owners
            .launch_browser(
                &inner.files.profiles,
                spec.profile_id,
                spec.proxy.as_deref(),
            )
            .await?;
        if let Err(e) = size_screen(&browser, spec.screen_width, spec.screen_height).await {
            browser.stop().await;
            return Err(e.into());
        }

        let id = Uuid::now_v7();
        let downloads = crate::downloads::follow(
            &browser,
            owners.downloads_root(),
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

        if let Err(e) = owners
            .store()
            .create_session(&record, first_message.as_ref())
            .await
        {
            browser.stop().await;
            return Err(e.into());
        }

        let (commands, receiver) = mpsc::channel(COMMAND_QUEUE);
        let supervisor = Supervisor::new(
            record.clone(),
            inner.runner.clone(),
            inner.files.screenshots.clone(),
            browser.clone(),
            owners.clone(),
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
        let registered = owners.register(id, || {
            OwnerHandle::Local(LocalOwner {
                control: Arc::new(SessionControl(commands)),
                join: tokio::spawn(supervisor.run(receiver, first_task)),
                browser: browser.clone(),
                clock: clock_watch,
                downloads,
                allow_resizing: false,
            })
        });
        if !registered {
            browser.stop().await;
            return Err(SessionError::ShuttingDown);
        }
        tracing::info!(session = %id, browser = browser.id(), status = %record.status, "session created");
        Ok(record)
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
        if self.store().delete_session(id).await? {
            Ok(())
        } else {
            Err(SessionError::NotFound)
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

    /// One session.
    pub async fn get(&self, id: Uuid) -> Result<SessionRecord, SessionError> {
        self.store()
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
        Ok(self.store().list_sessions(offset, limit).await?)
    }

    /// A page of a session's message feed.
    pub async fn messages(
        &self,
        id: Uuid,
        query: &MessageQuery,
    ) -> Result<MessagePage, SessionError> {
        self.get(id).await?;
        Ok(self.store().messages(id, query).await?)
    }

    /// Sends a command to a live supervisor and waits for its answer; `None` when the session
    /// is not live (ended, unknown, or ended while we asked).
    async fn command<T>(
        &self,
        id: Uuid,
        make: impl FnOnce(oneshot::Sender<Result<T, SessionError>>) -> Command,
    ) -> Option<Result<T, SessionError>> {
        let SessionControl(sender) = self.inner.owners.control::<SessionControl>(id)?;
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
