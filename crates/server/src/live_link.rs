//! `liveUrl` and `cdpUrl`: where a human opens a browser, and where a CDP client drives it,
//! each with a token of its own.

use chrono::{DateTime, Utc};
use store::{SessionRecord, Uuid};

use crate::token::{Claims, Mode, Signer};

/// Builds the token-bearing live-view links of sessions.
#[derive(Debug, Clone)]
pub struct LiveLinks {
    base: String,
    signer: Signer,
}

impl LiveLinks {
    /// Links under `base` (e.g. `https://tandem.example.com`), signed by `signer`.
    pub fn new(base: &str, signer: Signer) -> LiveLinks {
        LiveLinks {
            base: base.trim_end_matches('/').to_string(),
            signer,
        }
    }

    /// The base URL clients reach the server at, for other signed links (screenshots).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The signer, for the live view to verify tokens.
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// `{base}/live/{id}?token=…` while the session is active (created, idle, running); None
    /// once it ended, as in the cloud. The token grants control until the session's maximum
    /// duration runs out.
    pub fn live_url(&self, record: &SessionRecord) -> Option<String> {
        self.link(record, Mode::Control)
    }

    /// The read-only twin of [`LiveLinks::live_url`] (`viewUrl`): same page, a `view` token,
    /// whose input the server drops.
    pub fn view_url(&self, record: &SessionRecord) -> Option<String> {
        self.link(record, Mode::View)
    }

    fn link(&self, record: &SessionRecord, mode: Mode) -> Option<String> {
        if !record.status.is_active() {
            return None;
        }
        Some(self.live_link(record.id, mode, record.expires_at))
    }

    /// `{base}/live/{id}?token=…` for any live browser (a session's or a standalone one),
    /// valid until `expires_at`.
    pub fn live_link(&self, id: Uuid, mode: Mode, expires_at: DateTime<Utc>) -> String {
        let token = self
            .signer
            .sign(&Claims::new(id, mode, expires_at.timestamp()));
        format!("{}/live/{id}?token={token}", self.base)
    }

    /// `cdpUrl`: `{base}/cdp/{token}`, an HTTP base that Playwright's `connect_over_cdp`
    /// accepts (see [`crate::cdp_proxy`]); the token opens the browser `id` until
    /// `expires_at`.
    pub fn cdp_url(&self, id: Uuid, expires_at: DateTime<Utc>) -> String {
        let token = self
            .signer
            .sign(&Claims::new(id, Mode::Cdp, expires_at.timestamp()));
        format!("{}/cdp/{token}", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::{SessionStatus, Uuid};

    #[test]
    fn active_sessions_get_a_verifiable_link_and_ended_ones_none() {
        let signer = Signer::with_key(&[1; 32]).unwrap();
        let links = LiveLinks::new("http://127.0.0.1:8080/", signer.clone());
        let expires = store::now() + chrono::Duration::hours(1);
        let mut record = store::SessionRecord::new(Uuid::now_v7(), "bu-mini", expires);
        record.status = SessionStatus::Idle;
        let url = links.live_url(&record).unwrap();
        let prefix = format!("http://127.0.0.1:8080/live/{}?token=", record.id);
        let token = url.strip_prefix(&prefix).unwrap();
        let claims = signer.verify(token, store::now()).unwrap();
        assert_eq!(claims.session_id, record.id);
        assert_eq!(claims.mode, Mode::Control);
        assert_eq!(claims.expires_at, expires.timestamp());
        let view = links.view_url(&record).unwrap();
        let claims = signer
            .verify(view.strip_prefix(&prefix).unwrap(), store::now())
            .unwrap();
        assert_eq!(claims.mode, Mode::View);
        record.status = SessionStatus::Stopped;
        assert_eq!(links.live_url(&record), None);
        assert_eq!(links.view_url(&record), None);
    }
}
