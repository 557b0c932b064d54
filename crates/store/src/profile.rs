//! The browser profile record (`/profiles`): a name for a saved browser state (cookies, local
//! storage, IndexedDB) that sessions and browsers start from and save back to.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// One profile. The browser state itself lives on disk, next to the database.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileRecord {
    /// UUID v7.
    pub id: Uuid,
    /// The caller's name for it.
    pub name: Option<String>,
    /// The caller's id of the end user it belongs to.
    pub user_id: Option<String>,
    /// Domains of the cookies saved last time; `None` before the first save.
    pub cookie_domains: Option<Vec<String>>,
    /// When a session or browser last started with it.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Why the last save failed; cleared by the next good save.
    pub last_save_error: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change of the record or its saved state.
    pub updated_at: DateTime<Utc>,
}

impl ProfileRecord {
    /// A fresh, empty profile.
    pub fn new(id: Uuid, name: Option<String>, user_id: Option<String>) -> ProfileRecord {
        let now = crate::now();
        ProfileRecord {
            id,
            name,
            user_id,
            cookie_domains: None,
            last_used_at: None,
            last_save_error: None,
            created_at: now,
            updated_at: now,
        }
    }
}
