//! CDP `Inspector` domain.
//!
//! Tandem uses it to learn that a tab's renderer died (`targetCrashed`, on the tab's own
//! session): the tab stays open showing a crash page and answers no renderer command (a
//! `Page.enable` would wait forever) until it is reloaded.

use serde::{Deserialize, Serialize};

use crate::command::{Command, Empty, Event};

/// `Inspector.enable`: starts this domain's events; on a tab whose renderer is already gone,
/// `targetCrashed` follows at once.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Enable {}

impl Command for Enable {
    const METHOD: &'static str = "Inspector.enable";
    type Response = Empty;
}

/// `Inspector.targetCrashed`: the tab's renderer died (crash, kill, out of memory). It has no
/// parameters: test for it with `RawEvent::is`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TargetCrashed {}

impl Event for TargetCrashed {
    const METHOD: &'static str = "Inspector.targetCrashed";
}

/// `Inspector.targetReloadedAfterCrash`: the tab has a renderer again after a crash.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TargetReloadedAfterCrash {}

impl Event for TargetReloadedAfterCrash {
    const METHOD: &'static str = "Inspector.targetReloadedAfterCrash";
}
