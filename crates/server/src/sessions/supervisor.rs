//! One task per session that owns its state machine (api-v3 §7).
//!
//! API handlers never change a session; they send its supervisor a [`Command`] and await the
//! reply. The supervisor persists every state change before replying, runs the task through
//! the [`TaskRunner`], keeps the inactivity and maximum-duration deadlines, and watches the
//! browser process. When the session ends it stops the browser first, then persists the end,
//! so a client that sees `stopped`/`timed_out`/`error` can rely on the browser being gone.

use std::sync::Arc;
use std::time::Duration;

use agent::{
    HumanRequest, PriorTask, TaskContext, TaskOutcome, TaskProgress, TaskRunner, TaskStats,
};
use browser::{Browser, Exit};
use store::{NewMessage, SessionRecord, SessionStatus, Store};
use tokio::sync::{OwnedSemaphorePermit, mpsc, oneshot, watch};
use tokio::task::{JoinError, JoinHandle};
use tokio::time::{Instant, sleep_until};

use super::StopStrategy;
use super::error::SessionError;
use super::feed::StoreFeed;
use super::handoff::{Change, Handoff, HumanSource, Resume, cancelled_note};
use super::spec::{TaskSpec, assistant_message, begin_task};
use crate::owners::{Owners, SessionClock, browser_gone, deadline_after};
use crate::profiles::ProfileLease;
use crate::screenshots::Screenshots;

/// A reply carrying the session as it is after the command.
pub(crate) type RecordReply = oneshot::Sender<Result<SessionRecord, SessionError>>;

/// What the API asks of a session's supervisor.
pub(crate) enum Command {
    /// Run a task (the session must be created or idle).
    Dispatch { task: TaskSpec, reply: RecordReply },
    /// Stop the running task, or the whole session.
    Stop {
        strategy: StopStrategy,
        reply: RecordReply,
    },
    /// Stop the session and soft-delete it.
    Delete {
        reply: oneshot::Sender<Result<(), SessionError>>,
    },
    /// Someone used the session (live view): restart the inactivity clock. `acting` input
    /// (a click, a key; not a mouse move) while the agent works takes the control from it.
    Touch { acting: bool },
    /// A human answers what the agent waits for, or hands the control back.
    Resume {
        resume: Resume,
        source: HumanSource,
        reply: RecordReply,
    },
    /// A human takes the browser from the working agent.
    TakeControl {
        source: HumanSource,
        reply: RecordReply,
    },
    /// The server is going down: stop the browser, leave the stored state for recovery.
    Shutdown,
}

/// The limits a supervisor enforces.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) idle_timeout: Duration,
    pub(crate) max_duration: Duration,
    /// How long a task waits for a human (an answer, an approval, the control back).
    pub(crate) human_wait: Duration,
}

struct RunningTask {
    join: JoinHandle<TaskOutcome>,
    cancel: watch::Sender<bool>,
    /// What the task has consumed so far, as its runner publishes it.
    progress: watch::Receiver<TaskProgress>,
    /// The session's totals before the task, which its own figures add to.
    base: Totals,
    /// The step summary last put on the record, so that only a new one replaces what the
    /// handoff wrote meanwhile.
    summary: Option<String>,
}

/// A session's token and cost totals.
#[derive(Debug, Clone)]
struct Totals {
    input_tokens: i64,
    output_tokens: i64,
    llm_cost_usd: String,
}

/// The state machine of one session.
pub(crate) struct Supervisor {
    record: SessionRecord,
    store: Arc<dyn Store>,
    runner: Arc<dyn TaskRunner>,
    screenshots: Screenshots,
    browser: Browser,
    owners: Owners,
    permit: Option<OwnedSemaphorePermit>,
    limits: Limits,
    idle_deadline: Instant,
    max_deadline: Instant,
    task: Option<RunningTask>,
    /// What viewers of the live view learn about deadlines and the end.
    clock: watch::Sender<SessionClock>,
    /// The session's finished tasks, oldest first, for follow-ups to see.
    past_tasks: Vec<PriorTask>,
    /// What the running task waits for from a human.
    handoff: Handoff,
    /// The profile the browser started from, saved back when the session ends.
    profile: Option<ProfileLease>,
    /// The folder of the workspace the session is attached to: the agent may upload from it.
    workspace: Option<std::path::PathBuf>,
}

enum Event {
    Command(Command),
    TaskEnded(Result<TaskOutcome, JoinError>),
    IdleTimeout,
    MaxDuration,
    BrowserExited(Exit),
    HumanAsked(HumanRequest),
    HumanWaitOver,
    /// The running task published new figures.
    Progress,
}

enum Flow {
    Continue,
    End,
}

/// A human-readable duration, e.g. "15m" or "2s".
pub(crate) fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if secs > 0 && secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs > 0 && secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else if d.subsec_millis() == 0 {
        format!("{secs}s")
    } else {
        format!("{}ms", d.as_millis())
    }
}

impl Supervisor {
    /// A supervisor for a session whose record is already stored. When the record is
    /// `running`, `first_task` is the task to start at once.
    pub(crate) fn new(
        record: SessionRecord,
        runner: Arc<dyn TaskRunner>,
        screenshots: Screenshots,
        browser: Browser,
        owners: Owners,
        permit: OwnedSemaphorePermit,
        limits: Limits,
    ) -> Supervisor {
        Supervisor {
            record,
            store: owners.store().clone(),
            runner,
            screenshots,
            browser,
            owners,
            permit: Some(permit),
            limits,
            idle_deadline: deadline_after(limits.idle_timeout),
            max_deadline: deadline_after(limits.max_duration),
            task: None,
            clock: watch::Sender::new(SessionClock::default()),
            past_tasks: Vec::new(),
            handoff: Handoff::new(limits.human_wait),
            profile: None,
            workspace: None,
        }
    }

    /// Lets the agent upload files from the session's workspace folder.
    pub(crate) fn with_workspace(mut self, workspace: Option<std::path::PathBuf>) -> Supervisor {
        self.workspace = workspace;
        self
    }

    /// Saves the browser's state into `profile` when the session ends.
    pub(crate) fn with_profile(mut self, profile: Option<ProfileLease>) -> Supervisor {
        self.profile = profile;
        self
    }

    /// Stops the browser, saving the profile first when the session has one. A failed save
    /// is reported in the session's feed and on its record (`profileError` of its browser
    /// under `/browsers`), and kept on the profile by the lease.
    async fn stop_browser(&mut self) {
        let Some(lease) = self.profile.clone() else {
            self.browser.stop().await;
            self.keep_proxy_usage();
            return;
        };
        let saved = lease.save_and_stop(&self.browser).await;
        self.keep_proxy_usage();
        if let Err(reason) = saved {
            self.record.profile_error = Some(format!("The profile was not saved: {reason}"));
            let text = format!("The browser profile {} was not saved: {reason}", lease.id());
            let message = assistant_message(self.record.id, &text);
            if let Err(e) = self.store.append_message(&message).await {
                tracing::error!(session = %self.record.id, error = %e, "cannot report a failed profile save");
            }
        }
    }

    /// Puts the bytes that went through the browser's proxy on the record (the live figure
    /// is read from the browser while it runs; the record keeps it once it ends).
    fn keep_proxy_usage(&mut self) {
        if let Some(bytes) = self.browser.proxy_bytes() {
            self.record.proxy_bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
        }
    }

    /// The session's deadlines and end, for the live view.
    pub(crate) fn clock(&self) -> watch::Receiver<SessionClock> {
        self.clock.subscribe()
    }

    /// Tells the live view the deadlines and the agent's state as they are now.
    fn publish_clock(&self) {
        let idle = (self.task.is_none()).then(|| SessionClock::wall(self.idle_deadline));
        let ends = SessionClock::wall(self.max_deadline);
        let running = self.task.is_some();
        let human = self.record.human_input.clone();
        self.clock.send_if_modified(|clock| {
            let changed = clock.idle_deadline != idle
                || clock.ends_at != Some(ends)
                || clock.task_running != running
                || clock.human_input != human;
            clock.idle_deadline = idle;
            clock.ends_at = Some(ends);
            clock.task_running = running;
            clock.human_input = human;
            changed
        });
    }

    /// Runs the session until it ends or the server shuts down.
    pub(crate) async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        first_task: Option<TaskSpec>,
    ) {
        if let Some(spec) = first_task {
            self.start_task(&spec);
        }
        let mut exited = self.browser.exited();
        self.publish_clock();
        loop {
            let running = self.task.is_some();
            let human_deadline = self.handoff.deadline();
            let event = tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => Event::Command(command),
                    // The registry dropped us: treat it as a shutdown.
                    None => Event::Command(Command::Shutdown),
                },
                event = wait_task(&mut self.task) => event,
                () = sleep_until(self.idle_deadline), if !running => Event::IdleTimeout,
                () = sleep_until(self.max_deadline) => Event::MaxDuration,
                exit = browser_gone(&mut exited) => Event::BrowserExited(exit),
                request = self.handoff.next_request() => Event::HumanAsked(request),
                () = sleep_until(human_deadline.unwrap_or_else(Instant::now)),
                    if human_deadline.is_some() => Event::HumanWaitOver,
            };
            if let Flow::End = self.handle(event).await {
                break;
            }
            self.publish_clock();
        }
        tracing::debug!(session = %self.record.id, status = %self.record.status, "supervisor ended");
    }

    async fn handle(&mut self, event: Event) -> Flow {
        match event {
            Event::Command(Command::Dispatch { task, reply }) => {
                let _ = reply.send(self.dispatch(task).await);
                Flow::Continue
            }
            Event::Command(Command::Stop {
                strategy: StopStrategy::Task,
                reply,
            }) => {
                let _ = reply.send(self.stop_task().await);
                Flow::Continue
            }
            Event::Command(Command::Stop {
                strategy: StopStrategy::Session,
                reply,
            }) => {
                // A stop that could not be persisted answers the error and leaves the
                // session (and its browser) as it was, rather than half of each.
                if let Err(e) = self.check_writable().await {
                    let _ = reply.send(Err(e));
                    return Flow::Continue;
                }
                let was_running = self.task.is_some();
                let summary = was_running.then(|| "Task stopped: the session was stopped".into());
                self.note_dropped_handoff("the client stopped the session")
                    .await;
                let result = self
                    .end(
                        SessionStatus::Stopped,
                        "stopped by the client",
                        summary,
                        None,
                    )
                    .await;
                let _ = reply.send(result.map(|()| self.record.clone()));
                Flow::End
            }
            Event::Command(Command::Delete { reply }) => {
                if let Err(e) = self.check_writable().await {
                    let _ = reply.send(Err(e));
                    return Flow::Continue;
                }
                self.record.deleted = true;
                let result = self
                    .end(SessionStatus::Stopped, "deleted by the client", None, None)
                    .await;
                self.screenshots.remove(self.record.id).await;
                let _ = reply.send(result);
                Flow::End
            }
            Event::Command(Command::Touch { acting }) => {
                if self.task.is_none() {
                    self.idle_deadline = deadline_after(self.limits.idle_timeout);
                } else if acting {
                    if let Ok(Some(change)) = self.handoff.take_control(HumanSource::LiveView, true)
                    {
                        let _ = self.apply(change).await;
                    }
                } else {
                    self.handoff.activity();
                }
                Flow::Continue
            }
            Event::Command(Command::Resume {
                resume,
                source,
                reply,
            }) => {
                let result = match self.handoff.resume(resume, source) {
                    Ok(change) => self.apply(change).await,
                    Err(e) => Err(e.into()),
                };
                let _ = reply.send(result);
                Flow::Continue
            }
            Event::Command(Command::TakeControl { source, reply }) => {
                let result = match self.handoff.take_control(source, self.task.is_some()) {
                    Ok(Some(change)) => self.apply(change).await,
                    Ok(None) => Ok(self.record.clone()),
                    Err(e) => Err(e.into()),
                };
                let _ = reply.send(result);
                Flow::Continue
            }
            Event::HumanAsked((ask, reply)) => {
                let change = self.handoff.asked(ask, reply);
                if let Err(e) = self.apply(change).await {
                    tracing::error!(session = %self.record.id, error = %e, "cannot save a request to the human");
                }
                Flow::Continue
            }
            Event::HumanWaitOver => {
                let change = self.handoff.wait_over();
                if let Err(e) = self.apply(change).await {
                    tracing::error!(session = %self.record.id, error = %e, "cannot save the end of a wait");
                }
                Flow::Continue
            }
            Event::Command(Command::Shutdown) => {
                self.clock
                    .send_modify(|c| c.ended = Some("The server is shutting down".into()));
                self.abort_task();
                self.stop_browser().await;
                self.owners.remove(self.record.id);
                self.permit.take();
                Flow::End
            }
            Event::TaskEnded(outcome) => self.task_ended(outcome).await,
            Event::Progress => {
                self.count_progress();
                if let Err(e) = self.store.save_session(&self.record, None).await {
                    tracing::warn!(session = %self.record.id, error = %e, "cannot save a task's progress");
                }
                Flow::Continue
            }
            Event::IdleTimeout => {
                let reason = format!(
                    "Session timed out after {} of inactivity",
                    human(self.limits.idle_timeout)
                );
                let _ = self
                    .end(SessionStatus::TimedOut, &reason, Some(reason.clone()), None)
                    .await;
                Flow::End
            }
            Event::MaxDuration => {
                let reason = format!(
                    "Session reached its maximum duration of {}",
                    human(self.limits.max_duration)
                );
                let message = self
                    .task
                    .is_some()
                    .then(|| assistant_message(self.record.id, &format!("Task aborted: {reason}")));
                self.note_dropped_handoff(&format!(
                    "the session reached its maximum duration of {}",
                    human(self.limits.max_duration)
                ))
                .await;
                let _ = self
                    .end(
                        SessionStatus::TimedOut,
                        &reason,
                        Some(reason.clone()),
                        message,
                    )
                    .await;
                Flow::End
            }
            Event::BrowserExited(exit) => {
                let reason = format!("The session's browser exited unexpectedly: {}", exit.reason);
                tracing::warn!(session = %self.record.id, reason = %exit.reason, "browser lost");
                let message = self
                    .task
                    .is_some()
                    .then(|| assistant_message(self.record.id, &format!("Task failed: {reason}")));
                self.note_dropped_handoff("the session's browser exited unexpectedly")
                    .await;
                let _ = self
                    .end(SessionStatus::Error, &reason, Some(reason.clone()), message)
                    .await;
                Flow::End
            }
        }
    }

    async fn dispatch(&mut self, spec: TaskSpec) -> Result<SessionRecord, SessionError> {
        match self.record.status {
            SessionStatus::Running => return Err(SessionError::Busy),
            SessionStatus::Created | SessionStatus::Idle => {}
            ended => return Err(SessionError::Ended(ended)),
        }
        let before = self.record.clone();
        let message = begin_task(&mut self.record, &spec);
        if let Err(e) = self.store.save_session(&self.record, Some(&message)).await {
            self.record = before;
            return Err(e.into());
        }
        self.start_task(&spec);
        Ok(self.record.clone())
    }

    /// Persists a change of the human side: `humanInput`, the summary, and its feed message.
    async fn apply(&mut self, change: Change) -> Result<SessionRecord, SessionError> {
        self.record.human_input = self.handoff.shown();
        if let Some(summary) = change.summary {
            self.record.last_step_summary = Some(summary);
        }
        self.record.updated_at = store::now();
        let message = change
            .message
            .map(|(role, text)| human_message(self.record.id, role, &text));
        self.store
            .save_session(&self.record, message.as_ref())
            .await?;
        Ok(self.record.clone())
    }

    /// Saves the record as it is, to learn whether the store takes writes right now before
    /// doing something that cannot be undone (stopping the browser, aborting the task).
    async fn check_writable(&mut self) -> Result<(), SessionError> {
        self.record.updated_at = store::now();
        self.store.save_session(&self.record, None).await?;
        Ok(())
    }

    /// Says in the feed which request to a human (`humanInput`) the end of the task drops,
    /// if one was pending; `why` says what ended it.
    async fn note_dropped_handoff(&self, why: &str) {
        let Some(text) = cancelled_note(self.record.human_input.as_ref(), why) else {
            return;
        };
        let message = assistant_message(self.record.id, &text);
        if let Err(e) = self.store.append_message(&message).await {
            tracing::error!(session = %self.record.id, error = %e, "cannot note a cancelled handoff");
        }
    }

    /// The task is gone: nothing is waited for any more.
    fn forget_handoff(&mut self) {
        self.handoff.reset();
        self.record.human_input = None;
    }

    fn start_task(&mut self, spec: &TaskSpec) {
        let (cancel, cancelled) = watch::channel(false);
        let (progress_tx, progress) = watch::channel(TaskProgress::default());
        let human = self.handoff.start_task();
        let ctx = TaskContext {
            task: spec.task.clone(),
            model: self.record.model.clone(),
            output_schema: spec.output_schema.clone(),
            browser: self.browser.clone(),
            cancel: cancelled,
            feed: Box::new(StoreFeed {
                store: self.store.clone(),
                session_id: self.record.id,
                screenshots: self.screenshots.clone(),
            }),
            previous_tasks: self.past_tasks.clone(),
            sensitive_data: spec.sensitive_data.clone(),
            human,
            require_approval: spec.require_approval.clone(),
            upload_dirs: self.workspace.iter().cloned().collect(),
            progress: progress_tx,
            // The record holds the follow-up's own values when it gave them.
            max_cost_usd: self
                .record
                .max_cost_usd
                .as_deref()
                .and_then(|cap| cap.parse().ok()),
            thinking_level: self
                .record
                .thinking_level
                .as_deref()
                .and_then(agent::llm::ThinkingLevel::parse),
        };
        let runner = self.runner.clone();
        let join = tokio::spawn(async move { runner.run(ctx).await });
        let base = Totals {
            input_tokens: self.record.total_input_tokens,
            output_tokens: self.record.total_output_tokens,
            llm_cost_usd: self.record.llm_cost_usd.clone(),
        };
        self.task = Some(RunningTask {
            join,
            cancel,
            progress,
            base,
            summary: None,
        });
    }

    /// Cancels the running task at once, counting what it consumed up to its last step.
    fn abort_task(&mut self) {
        self.count_progress();
        if let Some(task) = self.task.take() {
            let _ = task.cancel.send(true);
            task.join.abort();
        }
        self.forget_handoff();
    }

    /// Puts the running task's latest figures on the record: `stepCount` and the totals
    /// while it runs, and what it consumed when it is dropped before its end.
    fn count_progress(&mut self) {
        let Some(task) = &mut self.task else {
            return;
        };
        let progress = task.progress.borrow_and_update().clone();
        let base = task.base.clone();
        // A new step's summary; while a human is asked, the summary says what the agent
        // waits for.
        let summary = (progress.summary != task.summary)
            .then(|| {
                task.summary.clone_from(&progress.summary);
                progress.summary
            })
            .flatten()
            .filter(|_| self.record.human_input.is_none());
        self.count_usage(&base, &progress.stats);
        if let Some(summary) = summary {
            self.record.last_step_summary = Some(summary);
        }
        self.record.updated_at = store::now();
    }

    /// The record's `stepCount` and totals: the session's before the task plus the task's.
    fn count_usage(&mut self, base: &Totals, stats: &TaskStats) {
        self.record.step_count = i64::from(stats.steps);
        self.record.total_input_tokens = base
            .input_tokens
            .saturating_add(i64::try_from(stats.input_tokens).unwrap_or(i64::MAX));
        self.record.total_output_tokens = base
            .output_tokens
            .saturating_add(i64::try_from(stats.output_tokens).unwrap_or(i64::MAX));
        self.record.llm_cost_usd = add_costs(&base.llm_cost_usd, &stats.llm_cost_usd);
    }

    async fn stop_task(&mut self) -> Result<SessionRecord, SessionError> {
        if self.task.is_none() {
            // Nothing runs: a no-op, so stopping a task twice is harmless.
            return Ok(self.record.clone());
        }
        self.check_writable().await?;
        self.note_dropped_handoff("the client stopped the task")
            .await;
        self.abort_task();
        // A follow-up should know this task was asked and did not finish.
        if let Some(task) = self.record.task.clone() {
            self.past_tasks.push(PriorTask {
                task,
                output: Some("Stopped by the client before it finished".into()),
                success: None,
            });
        }
        self.record.status = SessionStatus::Idle;
        self.record.last_step_summary = Some("Task stopped by the client".into());
        self.record.updated_at = store::now();
        self.idle_deadline = deadline_after(self.limits.idle_timeout);
        self.store.save_session(&self.record, None).await?;
        Ok(self.record.clone())
    }

    async fn task_ended(&mut self, outcome: Result<TaskOutcome, JoinError>) -> Flow {
        let (base, latest) = match self.task.take() {
            Some(mut task) => (
                Some(task.base),
                task.progress.borrow_and_update().stats.clone(),
            ),
            None => (None, TaskStats::default()),
        };
        self.forget_handoff();
        let outcome = outcome.unwrap_or_else(|e| TaskOutcome::Failed {
            reason: format!("The agent crashed: {e}"),
            stats: latest,
        });
        match outcome {
            TaskOutcome::Done {
                output,
                success,
                summary,
                stats,
            } => {
                if let Some(task) = self.record.task.clone() {
                    self.past_tasks.push(PriorTask {
                        task,
                        // No output (a failed structured task): its summary says why.
                        output: output
                            .as_ref()
                            .map(|o| match o {
                                serde_json::Value::String(s) => s.clone(),
                                other => other.to_string(),
                            })
                            .or_else(|| summary.clone()),
                        success: Some(success),
                    });
                }
                self.record.output = output;
                self.record.is_task_successful = Some(success);
                self.record.last_step_summary = summary;
                if let Some(base) = &base {
                    self.count_usage(base, &stats);
                }
                if self.record.keep_alive {
                    self.record.status = SessionStatus::Idle;
                    self.record.updated_at = store::now();
                    self.idle_deadline = deadline_after(self.limits.idle_timeout);
                    if let Err(e) = self.store.save_session(&self.record, None).await {
                        tracing::error!(session = %self.record.id, error = %e, "cannot save task end");
                    }
                    Flow::Continue
                } else {
                    let summary = self.record.last_step_summary.clone();
                    let _ = self
                        .end(
                            SessionStatus::Stopped,
                            "task finished without keepAlive",
                            summary,
                            None,
                        )
                        .await;
                    Flow::End
                }
            }
            TaskOutcome::Failed { reason, stats } => {
                if let Some(base) = &base {
                    self.count_usage(base, &stats);
                }
                let message = assistant_message(self.record.id, &reason);
                let _ = self
                    .end(
                        SessionStatus::Error,
                        &reason,
                        Some(reason.clone()),
                        Some(message),
                    )
                    .await;
                Flow::End
            }
        }
    }

    /// Ends the session: aborts any task, stops the browser, then persists the final state
    /// (with `message`, if any) and frees the session's slot.
    async fn end(
        &mut self,
        status: SessionStatus,
        reason: &str,
        summary: Option<String>,
        message: Option<NewMessage>,
    ) -> Result<(), SessionError> {
        self.abort_task();
        let ended = summary.clone().unwrap_or_else(|| reason.to_string());
        self.stop_browser().await;
        self.record.status = status;
        self.record.end_reason = Some(reason.to_string());
        if summary.is_some() {
            self.record.last_step_summary = summary;
        }
        self.record.updated_at = store::now();
        let saved = self
            .store
            .save_session(&self.record, message.as_ref())
            .await;
        // Only now, with the end persisted, may viewers hear of it: a client that sees it in
        // the live view and then asks the API must read the same end.
        self.clock.send_modify(|c| c.ended = Some(ended));
        self.owners.remove(self.record.id);
        self.permit.take();
        match saved {
            Ok(_) => {
                tracing::info!(session = %self.record.id, status = %status, reason, "session ended");
                Ok(())
            }
            Err(e) => {
                // The browser is gone: the end must reach the store once storage is back.
                tracing::error!(session = %self.record.id, error = %e, "cannot save session end; retrying until storage is back");
                persist_end_later(self.store.clone(), self.record.clone(), message);
                Err(e.into())
            }
        }
    }
}

/// Retries saving an ended session's record (and its last message) until the store takes
/// it, backing off up to [`END_RETRY_MAX`]. The supervisor has ended, so nothing else writes
/// the record meanwhile; if the server stops first, restart recovery ends the session.
fn persist_end_later(store: Arc<dyn Store>, record: SessionRecord, message: Option<NewMessage>) {
    tokio::spawn(async move {
        let mut wait = Duration::from_millis(250);
        loop {
            tokio::time::sleep(wait).await;
            match store.save_session(&record, message.as_ref()).await {
                Ok(_) => {
                    tracing::info!(session = %record.id, status = %record.status, "session end saved after a storage failure");
                    return;
                }
                Err(e) => {
                    tracing::debug!(session = %record.id, error = %e, "session end still not saved");
                    wait = (wait * 2).min(END_RETRY_MAX);
                }
            }
        }
    });
}

/// Longest pause between two attempts of [`persist_end_later`].
const END_RETRY_MAX: Duration = Duration::from_secs(5);

/// A feed message about a handoff: `user` for what a human did, `assistant` for the agent.
fn human_message(session_id: store::Uuid, role: &str, text: &str) -> NewMessage {
    let mut message = assistant_message(session_id, text);
    if role == "user" {
        message.role = "user".into();
        message.kind = "user_message".into();
    }
    message
}

/// The sum of two decimal cost strings, as a decimal string ("0" when both are zero or
/// unreadable: a cost we cannot read is not worth failing a task over).
fn add_costs(a: &str, b: &str) -> String {
    let sum = a.parse::<f64>().unwrap_or(0.0) + b.parse::<f64>().unwrap_or(0.0);
    if sum > 0.0 {
        format!("{sum:.6}")
    } else {
        "0".into()
    }
}

/// The running task's end, or new figures it published; pending forever when no task runs.
async fn wait_task(task: &mut Option<RunningTask>) -> Event {
    match task {
        Some(task) => tokio::select! {
            outcome = &mut task.join => Event::TaskEnded(outcome),
            // Once the runner is gone only its end is left to report.
            Ok(()) = task.progress.changed() => Event::Progress,
        },
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::from_secs(900)), "15m");
        assert_eq!(human(Duration::from_secs(4 * 3600)), "4h");
        assert_eq!(human(Duration::from_secs(2)), "2s");
        assert_eq!(human(Duration::from_millis(1500)), "1500ms");
    }

    #[test]
    fn costs_add_up_as_decimal_strings() {
        assert_eq!(add_costs("0", "0"), "0");
        assert_eq!(add_costs("0.001500", "0.0005"), "0.002000");
        assert_eq!(add_costs("junk", "0.25"), "0.250000");
    }

    #[test]
    fn deadline_saturates() {
        let _ = deadline_after(Duration::MAX);
    }
}
