//! Events as they arrive, and typed views of them.

use std::sync::Arc;

use serde_json::value::RawValue;
use tokio::sync::broadcast;

use crate::command::Event;
use crate::error::CdpError;

/// An event as the browser sent it: the method, the flattened session it belongs to, and its
/// parameters still as raw JSON, so that subscribers only pay to decode what they use.
#[derive(Debug)]
pub struct RawEvent {
    /// The event name, e.g. `"Page.loadEventFired"`.
    pub method: String,
    /// The flattened session it came from; `None` for browser-level events.
    pub session_id: Option<String>,
    /// The event's parameters.
    pub params: Box<RawValue>,
}

impl RawEvent {
    /// Decodes the event as `E` if it is one; `None` when the method is another.
    pub fn parse<E: Event>(&self) -> Option<Result<E, CdpError>> {
        if self.method != E::METHOD {
            return None;
        }
        Some(
            serde_json::from_str(self.params.get()).map_err(|e| CdpError::Json {
                method: self.method.clone(),
                message: e.to_string(),
            }),
        )
    }

    /// True when this is the event `E`.
    pub fn is<E: Event>(&self) -> bool {
        self.method == E::METHOD
    }
}

/// The events of one session, in order.
///
/// A subscriber that falls more than the connection's `event_capacity` behind loses the oldest
/// events rather than making the browser's reader wait or memory grow: the live view prefers
/// the newest frame, and everything else reads promptly. Losses are counted and logged.
pub struct EventStream {
    receiver: broadcast::Receiver<Arc<RawEvent>>,
    lost: u64,
}

impl EventStream {
    pub(crate) fn new(receiver: broadcast::Receiver<Arc<RawEvent>>) -> EventStream {
        EventStream { receiver, lost: 0 }
    }

    /// The next event; `None` once the session detached or the connection closed.
    pub async fn recv(&mut self) -> Option<Arc<RawEvent>> {
        loop {
            match self.receiver.recv().await {
                Ok(event) => return Some(event),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    self.lost += n;
                    tracing::warn!(lost = n, "slow CDP event subscriber lost events");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next event of type `E`, skipping others; `None` when the stream ends first.
    pub async fn next_of<E: Event>(&mut self) -> Option<Result<E, CdpError>> {
        loop {
            let event = self.recv().await?;
            if let Some(parsed) = event.parse::<E>() {
                return Some(parsed);
            }
        }
    }

    /// How many events this subscriber lost by falling behind.
    pub fn lost(&self) -> u64 {
        self.lost
    }
}
