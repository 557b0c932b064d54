//! Signed tokens: the one place that signs them and reads them back ([`super::verify`]
//! decides what a token opens).
//!
//! A `liveUrl` is a credential ("anyone with it can interact with the browser"), so it
//! carries its own token instead of the API key: an HMAC-SHA256-signed payload binding one
//! session, one mode and an expiry. The same tokens authorise the other links Tandem hands out
//! without the API key: `cdpUrl` ([`Mode::Cdp`]), workspace file uploads and downloads
//! ([`Mode::Upload`], [`Mode::Download`], bound to one file's path too) and screenshots. Each
//! checker accepts only its own mode, so one kind of link never opens another. The key is
//! generated at first start and kept in the data directory, so links survive a restart of the
//! server.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use crate::error::ServerError;
use crate::files;

/// What the holder of a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Watch and use the browser (mouse, keyboard, tabs).
    Control,
    /// Watch only.
    View,
    /// Drive the browser over the Chrome DevTools Protocol (`cdpUrl`).
    Cdp,
    /// Write one file (the claims' path) into one workspace.
    Upload,
    /// Read one file (the claims' path) of one workspace or one browser's downloads.
    Download,
    /// See one step screenshot (the subject is the screenshot's own id, never a session's).
    Screenshot,
}

/// The signed content of a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// What the token opens: a session or browser (live view, `cdpUrl`), a workspace or
    /// a browser's downloads (file links), one screenshot.
    #[serde(rename = "sid")]
    pub subject: Uuid,
    /// What the holder may do.
    #[serde(rename = "mode")]
    pub mode: Mode,
    /// Unix seconds after which the token is refused.
    #[serde(rename = "exp")]
    pub expires_at: i64,
    /// The one file an upload or download token is for.
    #[serde(rename = "path", default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl Claims {
    /// Claims for `subject` in `mode` until `expires_at` (Unix seconds), bound to no file.
    pub fn new(subject: Uuid, mode: Mode, expires_at: i64) -> Claims {
        Claims {
            subject,
            mode,
            expires_at,
            path: None,
        }
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not of the form `payload.signature` in base64url, or the payload is not ours.
    #[error("malformed token")]
    Malformed,
    /// The signature does not match: forged, altered, or signed with another key.
    #[error("invalid token signature")]
    BadSignature,
    /// Past its expiry.
    #[error("token expired")]
    Expired,
}

/// Signs and verifies link tokens with the server's secret key.
#[derive(Clone)]
pub struct Signer {
    mac: HmacSha256,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer { key: <redacted> }")
    }
}

type HmacSha256 = Hmac<Sha256>;

impl Signer {
    /// Loads `<data_dir>/secret`, creating it (32 random bytes, mode 0600) on first start.
    pub fn load_or_create(data_dir: &Path) -> Result<Signer, ServerError> {
        let path = data_dir.join("secret");
        let (text, _) = files::read_or_create_secret(&path, || {
            URL_SAFE_NO_PAD.encode(files::random_bytes::<32>())
        })?;
        let key = URL_SAFE_NO_PAD
            .decode(text.as_bytes())
            .ok()
            .filter(|key| key.len() >= 32)
            .and_then(|key| Signer::with_key(&key))
            .ok_or_else(|| {
                ServerError::Config(format!(
                    "{} does not hold a valid key; delete it to generate a new one",
                    path.display()
                ))
            })?;
        Ok(key)
    }

    /// A signer with a given key; `None` if HMAC refuses the key (it accepts any length, so
    /// in practice never).
    pub fn with_key(key: &[u8]) -> Option<Signer> {
        HmacSha256::new_from_slice(key)
            .ok()
            .map(|mac| Signer { mac })
    }

    fn mac(&self) -> HmacSha256 {
        self.mac.clone()
    }

    /// A token for `claims`: `base64url(json).base64url(hmac)`.
    pub fn sign(&self, claims: &Claims) -> String {
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        let payload = URL_SAFE_NO_PAD.encode(payload);
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{payload}.{signature}")
    }

    /// The claims of a genuine, unexpired token.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, TokenError> {
        let (payload, signature) = token.split_once('.').ok_or(TokenError::Malformed)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature.as_bytes())
            .map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature)
            .map_err(|_| TokenError::BadSignature)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload.as_bytes())
            .map_err(|_| TokenError::Malformed)?;
        let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
        if now.timestamp() >= claims.expires_at {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(expires_at: i64) -> Claims {
        Claims::new(Uuid::now_v7(), Mode::Control, expires_at)
    }

    #[test]
    fn file_tokens_carry_their_path_and_old_tokens_still_read() {
        let signer = Signer::with_key(&[7; 32]).unwrap();
        let mut c = Claims::new(Uuid::now_v7(), Mode::Upload, Utc::now().timestamp() + 60);
        c.path = Some("uploads/a b.csv".into());
        assert_eq!(signer.verify(&signer.sign(&c), Utc::now()), Ok(c.clone()));
        c.path = None;
        let token = signer.sign(&c);
        let payload = URL_SAFE_NO_PAD
            .decode(token.split_once('.').unwrap().0)
            .unwrap();
        assert!(!String::from_utf8(payload).unwrap().contains("path"));
    }

    #[test]
    fn round_trips() {
        let signer = Signer::with_key(&[7; 32]).unwrap();
        let c = claims(Utc::now().timestamp() + 60);
        let token = signer.sign(&c);
        assert!(
            !token.contains(['+', '/', '=', '&', '?']),
            "URL-safe: {token}"
        );
        assert_eq!(signer.verify(&token, Utc::now()), Ok(c));
    }

    #[test]
    fn refuses_expired_altered_and_foreign_tokens() {
        let signer = Signer::with_key(&[7; 32]).unwrap();
        let expired = signer.sign(&claims(Utc::now().timestamp() - 1));
        assert_eq!(
            signer.verify(&expired, Utc::now()),
            Err(TokenError::Expired)
        );

        let token = signer.sign(&claims(Utc::now().timestamp() + 60));
        let other = Signer::with_key(&[8; 32]).unwrap();
        assert_eq!(
            other.verify(&token, Utc::now()),
            Err(TokenError::BadSignature)
        );

        let (payload, signature) = token.split_once('.').unwrap();
        let forged_claims = claims(Utc::now().timestamp() + 600);
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged_claims).unwrap());
        assert_eq!(
            signer.verify(&format!("{forged_payload}.{signature}"), Utc::now()),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            signer.verify(payload, Utc::now()),
            Err(TokenError::Malformed)
        );
        assert_eq!(signer.verify("", Utc::now()), Err(TokenError::Malformed));
    }

    #[test]
    fn key_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let a = Signer::load_or_create(dir.path()).unwrap();
        let b = Signer::load_or_create(dir.path()).unwrap();
        let token = a.sign(&claims(Utc::now().timestamp() + 60));
        assert!(b.verify(&token, Utc::now()).is_ok());
    }
}
