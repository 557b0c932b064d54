//! The owner runtime: what session supervisors and standalone browsers' owners share.
//!
//! An owner is the one task that holds a browser and ends it: a session's supervisor
//! (`sessions/`) or a standalone browser's owner (`browsers/`). Both sit on this module and
//! neither imports the other. [`Owners`] holds the registry of live owners by id, the slot
//! limit they share (one Chromium each), the warm pool, the store, the downloads root and the
//! activity reports; `deadline.rs` holds the deadline and "browser gone" rules both kinds
//! follow. What is keyed by id alone (the live view, the CDP proxy, shutdown) reaches any
//! owner through [`Owners`], whether it runs here or, once a cluster exists, elsewhere
//! ([`registry::OwnerHandle`]).

mod activity;
mod clock;
mod deadline;
mod error;
mod launch;
mod registry;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use browser::{Browser, Pool};
use store::{Store, Uuid};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub(crate) use activity::Activity;
pub use clock::SessionClock;
pub(crate) use deadline::{browser_gone, deadline_after, size_screen};
pub use error::OwnerError;
use registry::Registry;
pub(crate) use registry::{Control, LocalOwner, OwnerHandle};

/// The runtime every owner of a browser shares. Cheap to clone.
#[derive(Clone)]
pub struct Owners {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    pool: Pool,
    /// `<data_dir>/downloads`: every browser's downloads, by session or browser id.
    downloads: PathBuf,
    max_owners: usize,
    /// One permit per live owner; an owner holds its permit until it ends.
    slots: Arc<Semaphore>,
    registry: Registry,
}

impl Owners {
    /// A runtime over `store` and `pool`, allowing `max_owners` live browsers at once, with
    /// downloads kept under `downloads`.
    pub fn new(store: Arc<dyn Store>, pool: Pool, downloads: PathBuf, max_owners: usize) -> Owners {
        Owners {
            inner: Arc::new(Inner {
                store,
                pool,
                downloads,
                max_owners,
                slots: Arc::new(Semaphore::new(max_owners)),
                registry: Registry::default(),
            }),
        }
    }

    /// The store, for reads and for owners' writes.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The warm pool browsers come from.
    pub(crate) fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// A slot under the concurrent limit, shared by sessions and standalone browsers (each
    /// holds one Chromium); `TooManySessions` when none is free, with nothing created.
    pub(crate) fn reserve_slot(&self) -> Result<OwnedSemaphorePermit, OwnerError> {
        let inner = &self.inner;
        if inner.registry.is_closed() {
            return Err(OwnerError::ShuttingDown);
        }
        inner
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| OwnerError::TooManySessions {
                limit: inner.max_owners,
            })
    }

    /// Registers an owner spawned by `spawn`, unless the server is shutting down (then
    /// `spawn` is not called and false is returned).
    pub(crate) fn register(&self, id: Uuid, spawn: impl FnOnce() -> OwnerHandle) -> bool {
        self.inner.registry.insert_with(id, spawn)
    }

    /// Forgets an owner: it ended.
    pub(crate) fn remove(&self, id: Uuid) {
        self.inner.registry.remove(id);
    }

    /// The control of a live owner of kind `C` (a session's, a browser's).
    pub(crate) fn control<C: Control + Clone>(&self, id: Uuid) -> Option<C> {
        self.inner.registry.control(id)
    }

    /// Records activity on an owner's browser (live view input, CDP commands), restarting a
    /// session's inactivity clock; `acting` input (a click, a key) while a task runs takes the
    /// control from the agent. Never blocks.
    pub fn touch(&self, id: Uuid, acting: bool) {
        self.inner.registry.touch(id, acting);
    }

    /// The browser of a live owner (the live view streams it, the CDP proxy relays to it);
    /// None once it ended.
    pub fn browser(&self, id: Uuid) -> Option<Browser> {
        self.inner.registry.browser(id)
    }

    /// Whether the live view may resize browser `id`'s viewport (`allowResizing`); false
    /// once it ended.
    pub fn allows_resizing(&self, id: Uuid) -> bool {
        self.inner.registry.allows_resizing(id)
    }

    /// The deadlines of a live owner and, once it ends, why (the live view warns before the
    /// inactivity timeout and says when the session is over); None once it ended.
    pub fn clock(&self, id: Uuid) -> Option<tokio::sync::watch::Receiver<SessionClock>> {
        self.inner.registry.clock(id)
    }

    /// The downloads of a live browser, as its owner follows them (the live view shows them).
    pub(crate) fn downloads(&self, id: Uuid) -> Option<Arc<browser::Downloads>> {
        self.inner.registry.downloads(id)
    }

    /// The root of every browser's downloads.
    pub(crate) fn downloads_root(&self) -> &Path {
        &self.inner.downloads
    }

    /// Where the completed downloads of session or browser `id` are kept.
    pub fn kept_downloads(&self, id: Uuid) -> PathBuf {
        crate::downloads::dir_of(&self.inner.downloads, id)
    }

    /// Live sessions and standalone browsers, each holding one Chromium.
    pub fn active_count(&self) -> usize {
        self.inner.registry.len()
    }

    /// Stops every owner's browser, then the pool. Stored states are left as they are; the
    /// next start's recovery settles them.
    pub async fn shutdown(&self) {
        registry::shut_down(self.inner.registry.close()).await;
        self.inner.pool.shutdown().await;
    }
}
