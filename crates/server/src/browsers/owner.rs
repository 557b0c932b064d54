//! The owner of one standalone browser: its timeout, its stop, its crash, its profile save.
//!
//! The lightweight twin of a session's supervisor (no agent, no inactivity clock): one task
//! per browser that is the only code changing the browser's record. Ending always stops
//! Chromium (saving the profile first when there is one) before the end is persisted.

use std::sync::Arc;

use browser::Browser;
use store::{BrowserRecord, BrowserStatus, Store};
use tokio::sync::{OwnedSemaphorePermit, mpsc, oneshot, watch};
use tokio::time::{Instant, sleep_until};

use crate::owners::{OwnerError, Owners, SessionClock, browser_gone};
use crate::profiles::ProfileLease;

/// What the API asks of a standalone browser's owner.
pub enum OwnerCommand {
    /// Stop the browser; the reply is the stopped record.
    Stop {
        /// Where the stopped record goes.
        reply: oneshot::Sender<Result<BrowserRecord, OwnerError>>,
    },
    /// The server is going down: stop the browser (saving its profile) and record why.
    Shutdown,
}

/// The state of one standalone browser.
pub(crate) struct Owner {
    pub(crate) record: BrowserRecord,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) browser: Browser,
    pub(crate) owners: Owners,
    pub(crate) permit: Option<OwnedSemaphorePermit>,
    pub(crate) profile: Option<ProfileLease>,
    pub(crate) deadline: Instant,
    pub(crate) clock: watch::Sender<SessionClock>,
}

impl Owner {
    /// Runs until the browser ends.
    pub(crate) async fn run(mut self, mut commands: mpsc::Receiver<OwnerCommand>) {
        let mut exited = self.browser.exited();
        let ends = SessionClock::wall(self.deadline);
        self.clock.send_modify(|c| c.ends_at = Some(ends));
        // Every event ends the browser: the owner waits for the first one.
        tokio::select! {
            command = commands.recv() => match command {
                Some(OwnerCommand::Stop { reply }) => {
                    let result = self.end("stopped by the client").await;
                    let _ = reply.send(result.map(|()| self.record.clone()));
                }
                Some(OwnerCommand::Shutdown) | None => {
                    let _ = self.end("Tandem shut down").await;
                }
            },
            () = sleep_until(self.deadline) => {
                let _ = self.end("the browser reached its timeout").await;
            }
            exit = browser_gone(&mut exited) => {
                tracing::warn!(browser = %self.record.id, reason = %exit.reason, "standalone browser lost");
                let reason = format!("the browser exited unexpectedly: {}", exit.reason);
                let _ = self.end(&reason).await;
            }
        }
    }

    /// Stops Chromium (saving the profile first), then persists the end and frees the slot.
    async fn end(&mut self, reason: &str) -> Result<(), OwnerError> {
        match &self.profile {
            Some(lease) => {
                if let Err(e) = lease.save_and_stop(&self.browser).await {
                    self.record.profile_error = Some(format!("The profile was not saved: {e}"));
                }
            }
            None => self.browser.stop().await,
        }
        if let Some(bytes) = self.browser.proxy_bytes() {
            self.record.proxy_bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
        }
        let now = store::now();
        self.record.status = BrowserStatus::Stopped;
        self.record.finished_at = Some(now);
        self.record.updated_at = now;
        self.record.end_reason = Some(reason.to_string());
        let saved = self.store.save_browser(&self.record).await;
        // Viewers hear of the end only once it is persisted.
        self.clock
            .send_modify(|c| c.ended = Some(format!("The browser has stopped: {reason}")));
        self.owners.remove(self.record.id);
        self.permit.take();
        match saved {
            Ok(()) => {
                tracing::info!(browser = %self.record.id, reason, "standalone browser stopped");
                Ok(())
            }
            Err(e) => {
                tracing::error!(browser = %self.record.id, error = %e, "cannot save browser end");
                Err(e.into())
            }
        }
    }
}
