//! A session's deadlines and its agent's state as the live view sees them, published by its
//! supervisor.

use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// When a session will time out, and whether it is over.
///
/// The supervisor keeps its deadlines as monotonic instants; this is their wall-clock view,
/// for the live view to warn a human a minute before the inactivity timeout and to say when
/// the session has ended.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionClock {
    /// When the session times out for inactivity; `None` while a task runs (running time
    /// never counts as inactivity).
    pub idle_deadline: Option<DateTime<Utc>>,
    /// When the session reaches its maximum duration.
    pub ends_at: Option<DateTime<Utc>>,
    /// Set once the session ended, with the reason.
    pub ended: Option<String>,
    /// Whether a task runs (the viewer offers "Take control" then).
    pub task_running: bool,
    /// What the agent waits for from a human, as the API's `humanInput` shows it.
    pub human_input: Option<serde_json::Value>,
}

impl SessionClock {
    /// The wall-clock time of a monotonic deadline, rounded to the second so that the same
    /// deadline always reads the same.
    pub(crate) fn wall(deadline: Instant) -> DateTime<Utc> {
        let left = deadline.saturating_duration_since(Instant::now());
        chrono::Duration::from_std(left)
            .ok()
            .and_then(|d| Utc::now().checked_add_signed(d))
            .and_then(|t| {
                DateTime::from_timestamp((t.timestamp_millis() + 500).div_euclid(1000), 0)
            })
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}
