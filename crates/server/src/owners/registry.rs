//! The live owners of browsers, by id: session supervisors and standalone browsers' owners.
//!
//! Both kinds live in one map so that what is keyed by id alone (the live view, the CDP
//! proxy, shutdown) reaches either the same way. An owner is reached through an
//! [`OwnerHandle`]; today every owner runs in this process ([`OwnerHandle::Local`]), and an
//! owner on another node can be a second variant behind the same calls.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use browser::Browser;
use futures_util::future::BoxFuture;
use store::Uuid;
use tokio::task::JoinHandle;

use super::clock::SessionClock;

/// What every kind of owner answers, whatever its own commands are: the registry and the
/// runtime call these without knowing whether the owner is a session or a browser.
pub(crate) trait Control: Send + Sync + 'static {
    /// Someone used the owner's browser (`acting`: a click or a key, not a mouse move).
    fn touch(&self, acting: bool);
    /// The server is going down: the owner stops its browser; resolves once it was told.
    fn shutdown(&self) -> BoxFuture<'static, ()>;
    /// The concrete control, for the kind that knows its own commands.
    fn as_any(&self) -> &dyn Any;
}

/// How to reach an owner that runs in this process, and how to wait for it at shutdown.
pub(crate) struct LocalOwner {
    pub(crate) control: Arc<dyn Control>,
    pub(crate) join: JoinHandle<()>,
    pub(crate) browser: Browser,
    pub(crate) clock: tokio::sync::watch::Receiver<SessionClock>,
    /// The browser's downloads, followed by its owner from the start.
    pub(crate) downloads: Option<Arc<browser::Downloads>>,
    /// `allowResizing`: a control viewer of the live view may size the viewport to its window.
    pub(crate) allow_resizing: bool,
}

/// An owner, wherever it runs. A cluster adds `Remote` (an owner on another node, reached
/// over the network) and the registry's calls answer for it too.
pub(crate) enum OwnerHandle {
    /// An owner running in this process.
    Local(LocalOwner),
}

impl OwnerHandle {
    fn local(&self) -> &LocalOwner {
        match self {
            OwnerHandle::Local(local) => local,
        }
    }
}

#[derive(Default)]
struct Live {
    handles: HashMap<Uuid, OwnerHandle>,
    closed: bool,
}

/// Owners of active sessions and browsers. An owner removes itself when it ends, so an id
/// missing here means "ended or unknown": the store says which.
#[derive(Default)]
pub(crate) struct Registry {
    live: Mutex<Live>,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, Live> {
        // A panic while holding this lock cannot leave the map half-updated (single inserts
        // and removes), so a poisoned lock is still usable.
        self.live
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers an owner spawned by `spawn`, unless the server is shutting down (then
    /// `spawn` is not called and false is returned).
    pub(crate) fn insert_with(&self, id: Uuid, spawn: impl FnOnce() -> OwnerHandle) -> bool {
        let mut live = self.lock();
        if live.closed {
            return false;
        }
        let handle = spawn();
        live.handles.insert(id, handle);
        true
    }

    /// The control of a live owner, when it is of kind `C`.
    pub(crate) fn control<C: Control + Clone>(&self, id: Uuid) -> Option<C> {
        let live = self.lock();
        let control = &live.handles.get(&id)?.local().control;
        control.as_any().downcast_ref::<C>().cloned()
    }

    /// Tells a live owner its browser was used; nothing for an unknown id.
    pub(crate) fn touch(&self, id: Uuid, acting: bool) {
        let control = self
            .lock()
            .handles
            .get(&id)
            .map(|h| h.local().control.clone());
        if let Some(control) = control {
            control.touch(acting);
        }
    }

    /// The browser of a live owner.
    pub(crate) fn browser(&self, id: Uuid) -> Option<Browser> {
        self.lock()
            .handles
            .get(&id)
            .map(|h| h.local().browser.clone())
    }

    /// The downloads of a live browser.
    pub(crate) fn downloads(&self, id: Uuid) -> Option<Arc<browser::Downloads>> {
        self.lock().handles.get(&id)?.local().downloads.clone()
    }

    /// Whether a live browser's viewport follows its control viewers' windows.
    pub(crate) fn allows_resizing(&self, id: Uuid) -> bool {
        self.lock()
            .handles
            .get(&id)
            .is_some_and(|h| h.local().allow_resizing)
    }

    /// The deadlines and end of a live owner.
    pub(crate) fn clock(&self, id: Uuid) -> Option<tokio::sync::watch::Receiver<SessionClock>> {
        self.lock()
            .handles
            .get(&id)
            .map(|h| h.local().clock.clone())
    }

    /// How many owners (sessions and standalone browsers) are live.
    pub(crate) fn len(&self) -> usize {
        self.lock().handles.len()
    }

    /// Forgets an owner (it ended).
    pub(crate) fn remove(&self, id: Uuid) {
        self.lock().handles.remove(&id);
    }

    /// Refuses new owners from now on and hands back every live one.
    pub(crate) fn close(&self) -> Vec<OwnerHandle> {
        let mut live = self.lock();
        live.closed = true;
        live.handles.drain().map(|(_, h)| h).collect()
    }

    /// Whether [`Registry::close`] was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }
}

/// Tells every owner the server is going down and waits for each to finish.
pub(crate) async fn shut_down(handles: Vec<OwnerHandle>) {
    for handle in &handles {
        handle.local().control.shutdown().await;
    }
    for handle in handles {
        match handle {
            OwnerHandle::Local(local) => {
                let _ = local.join.await;
            }
        }
    }
}
