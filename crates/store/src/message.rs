//! Feed messages and the cursor paging the SDKs rely on (api-v3 §2.6).

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A message to append; the store assigns its id, order and timestamp.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// The session whose feed this belongs to.
    pub session_id: Uuid,
    /// `user`, `assistant` or `tool`.
    pub role: String,
    /// Raw content: a JSON-encoded OpenAI-style message, or plain text.
    pub data: String,
    /// Kind of message, e.g. `user_message`, `assistant_message`, `browser_action`.
    pub kind: String,
    /// One line for activity feeds.
    pub summary: String,
    /// Screenshot at the time of the message.
    pub screenshot_url: Option<String>,
    /// Whether chat UIs should hide it.
    pub hidden: bool,
}

/// A stored message: what was appended, and what the store gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRecord {
    /// UUID v7; the cursor clients page with.
    pub id: Uuid,
    /// Position in the whole store; strictly increasing in insertion order.
    pub seq: i64,
    /// The message as it was appended.
    pub message: NewMessage,
    /// When it was appended.
    pub created_at: DateTime<Utc>,
}

/// Which slice of a feed to read. Results are always in ascending order.
///
/// - `after` only: the first `limit` messages strictly after it.
/// - `before` only: the `limit` messages immediately before it.
/// - both: the first `limit` messages strictly between them.
/// - neither: the latest `limit` messages (the SDK's "latest cursor" snapshot relies on it).
///
/// A cursor that is not a message of this session yields an empty page.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageQuery {
    /// Exclusive lower cursor.
    pub after: Option<Uuid>,
    /// Exclusive upper cursor.
    pub before: Option<Uuid>,
    /// Page size, 1 to 100 at the API.
    pub limit: u32,
}

/// One page of a feed.
#[derive(Debug, Clone, PartialEq)]
pub struct MessagePage {
    /// Messages in ascending order.
    pub messages: Vec<MessageRecord>,
    /// Whether more messages exist beyond this page in the paging direction (newer for
    /// `after`, older for `before` or no cursor).
    pub has_more: bool,
}
