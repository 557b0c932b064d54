//! The live owners of browsers, by id: session supervisors and standalone browsers' owners.
//!
//! Both kinds live in one map so that what is keyed by id alone (the live view, the CDP
//! proxy, shutdown) reaches either the same way.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use browser::Browser;
use store::Uuid;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::clock::SessionClock;
use super::supervisor::Command;

/// Where an owner takes its commands.
pub(crate) enum Control {
    /// A session's supervisor.
    Session(mpsc::Sender<Command>),
    /// A standalone browser's owner.
    Standalone(mpsc::Sender<crate::browsers::OwnerCommand>),
}

/// How to reach a live owner, and how to wait for it at shutdown.
pub(crate) struct Handle {
    pub(crate) control: Control,
    pub(crate) join: JoinHandle<()>,
    pub(crate) browser: Browser,
    pub(crate) clock: tokio::sync::watch::Receiver<SessionClock>,
    /// The browser's downloads, followed by its owner from the start.
    pub(crate) downloads: Option<std::sync::Arc<browser::Downloads>>,
    /// `allowResizing`: a control viewer of the live view may size the viewport to its window.
    pub(crate) allow_resizing: bool,
}

#[derive(Default)]
struct Live {
    handles: HashMap<Uuid, Handle>,
    closed: bool,
}

/// Supervisors of active sessions. A supervisor removes itself when its session ends, so
/// an id missing here means "ended or unknown": the store says which.
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

    /// Registers a supervisor spawned by `spawn`, unless the server is shutting down (then
    /// `spawn` is not called and false is returned).
    pub(crate) fn insert_with(&self, id: Uuid, spawn: impl FnOnce() -> Handle) -> bool {
        let mut live = self.lock();
        if live.closed {
            return false;
        }
        let handle = spawn();
        live.handles.insert(id, handle);
        true
    }

    /// The command channel of a live session.
    pub(crate) fn sender(&self, id: Uuid) -> Option<mpsc::Sender<Command>> {
        match &self.lock().handles.get(&id)?.control {
            Control::Session(sender) => Some(sender.clone()),
            Control::Standalone(_) => None,
        }
    }

    /// The command channel of a live standalone browser.
    pub(crate) fn standalone(
        &self,
        id: Uuid,
    ) -> Option<mpsc::Sender<crate::browsers::OwnerCommand>> {
        match &self.lock().handles.get(&id)?.control {
            Control::Standalone(sender) => Some(sender.clone()),
            Control::Session(_) => None,
        }
    }

    /// The browser of a live session.
    pub(crate) fn browser(&self, id: Uuid) -> Option<Browser> {
        self.lock().handles.get(&id).map(|h| h.browser.clone())
    }

    /// The downloads of a live browser.
    pub(crate) fn downloads(&self, id: Uuid) -> Option<std::sync::Arc<browser::Downloads>> {
        self.lock().handles.get(&id)?.downloads.clone()
    }

    /// Whether a live browser's viewport follows its control viewers' windows.
    pub(crate) fn allows_resizing(&self, id: Uuid) -> bool {
        self.lock()
            .handles
            .get(&id)
            .is_some_and(|h| h.allow_resizing)
    }

    /// The deadlines and end of a live session.
    pub(crate) fn clock(&self, id: Uuid) -> Option<tokio::sync::watch::Receiver<SessionClock>> {
        self.lock().handles.get(&id).map(|h| h.clock.clone())
    }

    /// How many owners (sessions and standalone browsers) are live.
    pub(crate) fn len(&self) -> usize {
        self.lock().handles.len()
    }

    /// Forgets a supervisor (its session ended).
    pub(crate) fn remove(&self, id: Uuid) {
        self.lock().handles.remove(&id);
    }

    /// Refuses new sessions from now on and hands back every live supervisor.
    pub(crate) fn close(&self) -> Vec<Handle> {
        let mut live = self.lock();
        live.closed = true;
        live.handles.drain().map(|(_, h)| h).collect()
    }

    /// Whether [`Registry::close`] was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }
}
