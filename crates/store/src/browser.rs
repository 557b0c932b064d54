//! The standalone browser record (`/browsers`): a Chromium with no agent, reached over CDP.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A standalone browser is running (`active`) or gone for good (`stopped`), as the API says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BrowserStatus {
    /// Running; its `cdpUrl` and `liveUrl` work.
    Active,
    /// Stopped by the client, by its timeout, by a crash or by a restart of Tandem.
    Stopped,
}

impl BrowserStatus {
    /// The wire and database form.
    pub fn as_str(self) -> &'static str {
        match self {
            BrowserStatus::Active => "active",
            BrowserStatus::Stopped => "stopped",
        }
    }

    /// The status named by `s`, if any.
    pub fn parse(s: &str) -> Option<BrowserStatus> {
        match s {
            "active" => Some(BrowserStatus::Active),
            "stopped" => Some(BrowserStatus::Stopped),
            _ => None,
        }
    }
}

/// One standalone browser as persisted; its owner task keeps the live copy and saves it whole.
#[derive(Debug, Clone, PartialEq)]
pub struct BrowserRecord {
    /// UUID v7, so ids sort by creation time.
    pub id: Uuid,
    /// Active or stopped; only the browser's owner changes it.
    pub status: BrowserStatus,
    /// The profile loaded at start and saved at the end, if any.
    pub profile_id: Option<Uuid>,
    /// Lower-case proxy country whose proxy the browser goes through; `None` without one.
    pub proxy_country_code: Option<String>,
    /// Bytes that went through the browser's upstream proxy (0 without one).
    pub proxy_bytes: i64,
    /// Requested viewport width.
    pub screen_width: Option<i64>,
    /// Requested viewport height.
    pub screen_height: Option<i64>,
    /// The caller's labels, filterable in lists.
    pub metadata: BTreeMap<String, String>,
    /// Id of the Chromium process this browser owns, for logs.
    pub browser_id: Option<String>,
    /// Why the browser stopped, for operators and clients.
    pub end_reason: Option<String>,
    /// Why saving the profile at the end failed, if it did; a failed save is never silent.
    pub profile_error: Option<String>,
    /// When the browser stops by itself (`startedAt + timeout`); also the CDP token's expiry.
    pub timeout_at: DateTime<Utc>,
    /// Creation time.
    pub started_at: DateTime<Utc>,
    /// When it stopped.
    pub finished_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl BrowserRecord {
    /// A fresh active browser that times out at `timeout_at`.
    pub fn new(id: Uuid, timeout_at: DateTime<Utc>) -> BrowserRecord {
        let now = crate::now();
        BrowserRecord {
            id,
            status: BrowserStatus::Active,
            profile_id: None,
            proxy_country_code: None,
            proxy_bytes: 0,
            screen_width: None,
            screen_height: None,
            metadata: BTreeMap::new(),
            browser_id: None,
            end_reason: None,
            profile_error: None,
            timeout_at,
            started_at: now,
            finished_at: None,
            updated_at: now,
        }
    }
}

/// Which browsers a list returns (api-v3 §2.7 `GET /browsers`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BrowserQuery {
    /// Only browsers in this status.
    pub status: Option<BrowserStatus>,
    /// Only browsers whose metadata has each key (`None`) or each key with that value.
    pub metadata: Vec<(String, Option<String>)>,
    /// Rows to skip.
    pub offset: u64,
    /// Rows to return at most.
    pub limit: u64,
}
