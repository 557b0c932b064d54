//! The session feed as the agent sees it: appends go straight to the store.

use std::sync::Arc;

use agent::{Feed, FeedError, FeedFuture, FeedMessage};
use store::{NewMessage, Store, Uuid};

use crate::screenshots::Screenshots;

/// A [`Feed`] writing into one session's messages, and their screenshots to disk.
pub(crate) struct StoreFeed {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) session_id: Uuid,
    pub(crate) screenshots: Screenshots,
}

impl Feed for StoreFeed {
    fn append(&self, message: FeedMessage) -> FeedFuture<'_> {
        Box::pin(async move {
            let screenshot_url = match &message.screenshot {
                // A lost screenshot must not lose the step itself.
                Some(jpeg) => match self.screenshots.save(self.session_id, jpeg).await {
                    Ok(path) => Some(path),
                    Err(e) => {
                        tracing::warn!(session = %self.session_id, error = %e, "cannot store a step screenshot");
                        None
                    }
                },
                None => None,
            };
            let message = NewMessage {
                session_id: self.session_id,
                role: message.role,
                data: message.data,
                kind: message.kind,
                summary: message.summary,
                screenshot_url,
                hidden: message.hidden,
            };
            self.store
                .append_message(&message)
                .await
                .map(|_| ())
                .map_err(|e| FeedError(e.to_string()))
        })
    }
}
