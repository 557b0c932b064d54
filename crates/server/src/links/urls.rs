//! The signed links themselves: `liveUrl`/`viewUrl` (where a human opens a browser),
//! `cdpUrl` (where a CDP client drives it), file links and `screenshotUrl`, each with a
//! token of its own.

use chrono::{DateTime, Utc};
use store::{SessionRecord, Uuid};

use super::token::{Claims, Mode, Signer};

/// Builds the token-bearing live-view links of sessions.
#[derive(Debug, Clone)]
pub struct LiveLinks {
    base: String,
    signer: Signer,
    /// The base is the operator's public URL (`--public-url`), not the bound address.
    public: bool,
}

impl LiveLinks {
    /// Links under `base` (e.g. `https://tandem.example.com`), signed by `signer`.
    pub fn new(base: &str, signer: Signer) -> LiveLinks {
        LiveLinks {
            base: base.trim_end_matches('/').to_string(),
            signer,
            public: false,
        }
    }

    /// Links under the operator's public URL (`--public-url`, e.g. `https://h/tandem`):
    /// socket addresses then come from it too, never from a request's `Host` (behind a
    /// reverse proxy that is the proxy's upstream address, and a path prefix would be lost).
    pub fn public(base: &str, signer: Signer) -> LiveLinks {
        LiveLinks {
            public: true,
            ..LiveLinks::new(base, signer)
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

    /// `ws(s)://…/cdp/{token}`, the WebSocket twin of [`LiveLinks::cdp_url`] that
    /// `json/version` and `json/list` hand out. With a public URL: its scheme (`https` gives
    /// `wss`), host and path. Without one: the `host` the client used (it reached the
    /// server by that name, which may not be the bound address), else the bound address.
    pub fn cdp_socket_base(&self, host: Option<&str>, token: &str) -> String {
        let (scheme, rest) = match self.base.split_once("://") {
            Some(("https", rest)) => ("wss", rest),
            Some((_, rest)) => ("ws", rest),
            None => ("ws", self.base.as_str()),
        };
        if self.public {
            return format!("{scheme}://{rest}/cdp/{token}");
        }
        let bound = rest.split('/').next().unwrap_or(rest);
        let host = host
            .filter(|h| !h.is_empty() && !h.contains(['/', ' ']))
            .unwrap_or(bound);
        format!("{scheme}://{host}/cdp/{token}")
    }

    /// `{base}{path}?token=…` for a stored screenshot path
    /// (`/screenshots/{session}/{shot}.jpg`), valid for `lifetime`. The token's subject is
    /// the screenshot's own id, so a leaked screenshot link opens nothing else.
    pub fn screenshot_url(&self, path: &str, lifetime: chrono::Duration) -> Option<String> {
        let shot = crate::screenshots::shot_of(path)?;
        let token = self.signer.sign(&Claims::new(
            shot,
            Mode::Screenshot,
            (Utc::now() + lifetime).timestamp(),
        ));
        Some(format!("{}{path}?token={token}", self.base))
    }

    /// A signed link to one file of a workspace (or of a browser's downloads, `kind`
    /// `downloads`), for `mode` (upload or download), valid for `lifetime`.
    pub fn file_url(
        &self,
        kind: &str,
        owner: Uuid,
        path: &str,
        mode: Mode,
        lifetime: chrono::Duration,
    ) -> Option<String> {
        let mut claims = Claims::new(owner, mode, (Utc::now() + lifetime).timestamp());
        claims.path = Some(path.to_string());
        let token = self.signer.sign(&claims);
        let mut url = url::Url::parse(&self.base).ok()?;
        url.path_segments_mut()
            .ok()?
            .pop_if_empty()
            .extend(["files", kind, &owner.to_string()])
            .extend(path.split('/'));
        url.query_pairs_mut().append_pair("token", &token);
        Some(url.into())
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
        assert_eq!(claims.subject, record.id);
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

    #[test]
    fn cdp_sockets_follow_the_public_url_or_else_the_host_used() {
        let signer = Signer::with_key(&[1; 32]).unwrap();
        let public = LiveLinks::public("https://tandem.example/tandem/", signer.clone());
        assert_eq!(
            public.cdp_socket_base(Some("127.0.0.1:8080"), "T"),
            "wss://tandem.example/tandem/cdp/T"
        );
        let public = LiveLinks::public("http://h:81", signer.clone());
        assert_eq!(public.cdp_socket_base(Some("evil"), "T"), "ws://h:81/cdp/T");
        let bound = LiveLinks::new("http://127.0.0.1:8080", signer);
        assert_eq!(
            bound.cdp_socket_base(Some("box.lan:8080"), "T"),
            "ws://box.lan:8080/cdp/T"
        );
        for junk in [None, Some(""), Some("a/b"), Some("a b")] {
            assert_eq!(
                bound.cdp_socket_base(junk, "T"),
                "ws://127.0.0.1:8080/cdp/T"
            );
        }
    }
}
