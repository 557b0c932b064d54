//! Activity reported to an owner (a session's supervisor), rate-limited: the live view's input and a
//! CDP client's commands both restart the inactivity clock, but the supervisor need not
//! hear about every keystroke or every command.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::Owners;

/// Activity is reported at most this often.
const TOUCH_EVERY: Duration = Duration::from_millis(500);
/// How often acting input (clicks, keys) is reported: the first one takes the control
/// from a working agent, so it must not wait behind a mouse move's report.
const ACT_EVERY: Duration = Duration::from_millis(200);

/// One source of activity on one session.
pub(crate) struct Activity {
    owners: Owners,
    id: Uuid,
    last: Mutex<Option<Instant>>,
    last_act: Mutex<Option<Instant>>,
}

impl Activity {
    /// Activity on session `id` (a standalone browser's id reports nothing: its end is fixed
    /// at creation).
    pub(crate) fn new(owners: Owners, id: Uuid) -> Activity {
        Activity {
            owners,
            id,
            last: Mutex::new(None),
            last_act: Mutex::new(None),
        }
    }

    /// `acting`: a human's click, key or scroll (not a mouse move, not a CDP command): while
    /// the agent works, the first one takes the control from it, so those go out at once and
    /// often.
    pub(crate) fn touch(&self, acting: bool) {
        if acting {
            let mut last = self.last_act.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_none_or(|t| t.elapsed() >= ACT_EVERY) {
                *last = Some(Instant::now());
                self.owners.touch(self.id, true);
                return;
            }
        }
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|t| t.elapsed() >= TOUCH_EVERY) {
            *last = Some(Instant::now());
            self.owners.touch(self.id, false);
        }
    }
}
