//! The session feed as the agent sees it: appends go straight to the store.

use std::sync::Arc;

use agent::{Feed, FeedError, FeedFuture, FeedMessage};
use store::{NewMessage, Store, Uuid};

/// A [`Feed`] writing into one session's messages.
pub(crate) struct StoreFeed {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) session_id: Uuid,
}

impl Feed for StoreFeed {
    fn append(&self, message: FeedMessage) -> FeedFuture<'_> {
        Box::pin(async move {
            let message = NewMessage {
                session_id: self.session_id,
                role: message.role,
                data: message.data,
                kind: message.kind,
                summary: message.summary,
                screenshot_url: None,
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
