//! The workspace record (`/workspaces`): a named folder of files that sessions read from and
//! download into.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// One workspace. Its files live on disk, next to the database.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkspaceRecord {
    /// UUID v7.
    pub id: Uuid,
    /// The caller's name for it.
    pub name: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change of the record.
    pub updated_at: DateTime<Utc>,
}

impl WorkspaceRecord {
    /// A fresh workspace.
    pub fn new(id: Uuid, name: Option<String>) -> WorkspaceRecord {
        let now = crate::now();
        WorkspaceRecord {
            id,
            name,
            created_at: now,
            updated_at: now,
        }
    }
}
