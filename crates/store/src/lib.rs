//! Persistence for Tandem: sessions and their message feeds, standalone browsers, profiles
//! and workspaces, behind one trait.
//!
//! The server talks to a [`Store`] (as `Arc<dyn Store>`, made by [`open`] from a URL) so that
//! the backend can change (SQLite embedded by default, PostgreSQL when several nodes share
//! state) without touching the API layer. Every backend passes the same conformance suite
//! ([`conformance`], feature `conformance`).
//! This crate knows nothing of HTTP, browsers or agents: it keeps records and pages through
//! them. Only the session supervisor writes a session's status; the store just persists it.

mod browser;
#[cfg(feature = "conformance")]
pub mod conformance;
mod error;
mod message;
mod open;
mod postgres;
mod profile;
mod rows;
mod session;
mod sqlite;
mod stats;
mod tx;
mod workspace;

use std::future::Future;
use std::pin::Pin;

pub use browser::{BrowserQuery, BrowserRecord, BrowserStatus};
pub use error::{StoreError, StoreErrorKind, io_kind};
pub use message::{MessagePage, MessageQuery, MessageRecord, NewMessage};
pub use open::open;
pub use postgres::PgStore;
pub use profile::ProfileRecord;
pub use session::{SessionRecord, SessionStatus};
pub use sqlite::SqliteStore;
pub use stats::StoreStats;
pub use uuid::Uuid;
pub use workspace::WorkspaceRecord;

use chrono::{DateTime, SubsecRound, Utc};

/// The future every [`Store`] method returns: boxed so the trait stays usable as `dyn Store`.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Everything the server persists, in one object-safe trait so it can be shared as
/// `Arc<dyn Store>` by handlers and supervisors alike.
pub trait Store: Send + Sync {
    /// Closes every connection once pending writes are done; the server calls it last on
    /// shutdown so that nothing acknowledged is left unflushed.
    fn close(&self) -> StoreFuture<'_, ()>;

    /// Inserts a new session, together with its first feed message when it is created with a
    /// task, atomically: a reader never sees a running session without its task message.
    fn create_session<'a>(
        &'a self,
        session: &'a SessionRecord,
        first_message: Option<&'a NewMessage>,
    ) -> StoreFuture<'a, Option<MessageRecord>>;

    /// Overwrites a session's mutable fields (everything but id and creation time), and appends
    /// `message` in the same transaction, so a status change and the message that explains it
    /// land together.
    fn save_session<'a>(
        &'a self,
        session: &'a SessionRecord,
        message: Option<&'a NewMessage>,
    ) -> StoreFuture<'a, Option<MessageRecord>>;

    /// One session, unless it does not exist or was deleted.
    fn session(&self, id: Uuid) -> StoreFuture<'_, Option<SessionRecord>>;

    /// A page of non-deleted sessions, newest first, with the total count.
    fn list_sessions(&self, offset: u64, limit: u64) -> StoreFuture<'_, (Vec<SessionRecord>, u64)>;

    /// Every session (deleted or not) whose status is one of `statuses`; restart recovery uses
    /// it to find sessions whose browser was lost.
    fn sessions_with_status<'a>(
        &'a self,
        statuses: &'a [SessionStatus],
    ) -> StoreFuture<'a, Vec<SessionRecord>>;

    /// Marks a session deleted; later reads no longer see it. Returns false when there was no
    /// such (non-deleted) session.
    fn delete_session(&self, id: Uuid) -> StoreFuture<'_, bool>;

    /// Appends one message to a session's feed and returns it with its id and timestamp.
    fn append_message<'a>(&'a self, message: &'a NewMessage) -> StoreFuture<'a, MessageRecord>;

    /// A page of a session's feed, in ascending order, with the cursor semantics of
    /// [`MessageQuery`].
    fn messages<'a>(
        &'a self,
        session_id: Uuid,
        query: &'a MessageQuery,
    ) -> StoreFuture<'a, MessagePage>;

    /// Inserts or overwrites a standalone browser (its owner saves it whole).
    fn save_browser<'a>(&'a self, browser: &'a BrowserRecord) -> StoreFuture<'a, ()>;

    /// One standalone browser.
    fn browser(&self, id: Uuid) -> StoreFuture<'_, Option<BrowserRecord>>;

    /// A page of standalone browsers, newest first, with the total matching `query`.
    fn list_browsers<'a>(
        &'a self,
        query: &'a BrowserQuery,
    ) -> StoreFuture<'a, (Vec<BrowserRecord>, u64)>;

    /// Every browser in `status`; restart recovery stops the active ones.
    fn browsers_with_status(&self, status: BrowserStatus) -> StoreFuture<'_, Vec<BrowserRecord>>;

    /// Inserts or overwrites a profile record.
    fn save_profile<'a>(&'a self, profile: &'a ProfileRecord) -> StoreFuture<'a, ()>;

    /// One profile.
    fn profile(&self, id: Uuid) -> StoreFuture<'_, Option<ProfileRecord>>;

    /// A page of profiles, newest first, whose name contains `name` (case-insensitive), with
    /// the total matching.
    fn list_profiles<'a>(
        &'a self,
        name: Option<&'a str>,
        offset: u64,
        limit: u64,
    ) -> StoreFuture<'a, (Vec<ProfileRecord>, u64)>;

    /// Deletes a profile record; false when there was none.
    fn delete_profile(&self, id: Uuid) -> StoreFuture<'_, bool>;

    /// Inserts or overwrites a workspace record.
    fn save_workspace<'a>(&'a self, workspace: &'a WorkspaceRecord) -> StoreFuture<'a, ()>;

    /// One workspace.
    fn workspace(&self, id: Uuid) -> StoreFuture<'_, Option<WorkspaceRecord>>;

    /// A page of workspaces, newest first, with the total.
    fn list_workspaces(
        &self,
        offset: u64,
        limit: u64,
    ) -> StoreFuture<'_, (Vec<WorkspaceRecord>, u64)>;

    /// Deletes a workspace record; false when there was none.
    fn delete_workspace(&self, id: Uuid) -> StoreFuture<'_, bool>;

    /// Counts and usage totals over the whole store, for monitoring.
    fn stats(&self) -> StoreFuture<'_, StoreStats>;
}

/// The current time at the precision the store keeps (microseconds), so that a timestamp
/// read back equals the one written.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
