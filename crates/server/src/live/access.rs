//! Who may open a live view: the token in the URL, checked against the session in the path.
//!
//! The token is the whole credential (the page is meant to be embedded anywhere, so there is
//! no cookie or API key); it binds one session, a mode and an expiry. A missing, malformed,
//! forged or expired token is a 401; a genuine token for another session is a 403. A genuine
//! token of this session that only expired is told apart ([`AccessError::Expired`]): its
//! holder was let in before, so the page may tell them the session ended or the link expired
//! instead of showing an error.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::token::{Claims, Mode, Signer, TokenError};

/// What a verified token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// The session it opens.
    pub session_id: Uuid,
    /// Control or view only.
    pub mode: Mode,
}

impl Access {
    /// Whether input from this viewer may reach the browser.
    pub fn may_control(&self) -> bool {
        self.mode == Mode::Control
    }
}

/// Why a live-view request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// No token in the URL.
    #[error("Missing live-view token")]
    Missing,
    /// The session id in the path is not a UUID.
    #[error("Not Found")]
    BadSession,
    /// The token is malformed, forged or expired.
    #[error("Invalid live-view token: {0}")]
    Token(TokenError),
    /// A genuine live-view token of this session, past its expiry.
    #[error("Invalid live-view token: {}", TokenError::Expired)]
    Expired(Access),
    /// A genuine token, for another session.
    #[error("This live-view token is for another session")]
    Foreign,
    /// A genuine token of another kind (a `cdpUrl` or file link), which never opens a view.
    #[error("This token is not a live-view token")]
    NotLiveView,
    /// The download link of a view-only token.
    #[error("A view-only link cannot do this")]
    ViewOnly,
}

impl IntoResponse for AccessError {
    fn into_response(self) -> Response {
        let status = match self {
            AccessError::Missing | AccessError::Token(_) | AccessError::Expired(_) => {
                StatusCode::UNAUTHORIZED
            }
            AccessError::BadSession => StatusCode::NOT_FOUND,
            AccessError::Foreign | AccessError::NotLiveView | AccessError::ViewOnly => {
                StatusCode::FORBIDDEN
            }
        };
        (status, Json(json!({ "detail": self.to_string() }))).into_response()
    }
}

/// Checks `token` for the session named `session` in the path.
pub fn check(
    signer: &Signer,
    session: &str,
    token: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Access, AccessError> {
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or(AccessError::Missing)?;
    let claims = match signer.verify(token, now) {
        Ok(claims) => claims,
        Err(TokenError::Expired) => {
            // The same check as of a time before any expiry: signature and payload are still
            // verified, only the expiry is not.
            let claims = signer
                .verify(token, DateTime::<Utc>::MIN_UTC)
                .map_err(AccessError::Token)?;
            return Err(match live_access(&claims, session) {
                Ok(access) => AccessError::Expired(access),
                Err(_) => AccessError::Token(TokenError::Expired),
            });
        }
        Err(e) => return Err(AccessError::Token(e)),
    };
    live_access(&claims, session)
}

/// What genuine `claims` allow on the session named `session` in the path.
fn live_access(claims: &Claims, session: &str) -> Result<Access, AccessError> {
    if !matches!(claims.mode, Mode::Control | Mode::View) {
        return Err(AccessError::NotLiveView);
    }
    let session_id = Uuid::parse_str(session).map_err(|_| AccessError::BadSession)?;
    if claims.session_id != session_id {
        return Err(AccessError::Foreign);
    }
    Ok(Access {
        session_id,
        mode: claims.mode,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(signer: &Signer, id: Uuid, mode: Mode, exp: i64) -> String {
        signer.sign(&Claims::new(id, mode, exp))
    }

    #[test]
    fn tokens_open_their_own_session_in_their_own_mode() {
        let signer = Signer::with_key(&[3; 32]).unwrap();
        let id = Uuid::now_v7();
        let now = Utc::now();
        let later = now.timestamp() + 60;
        let view = token(&signer, id, Mode::View, later);
        let access = check(&signer, &id.to_string(), Some(&view), now).unwrap();
        assert_eq!(access.mode, Mode::View);
        assert!(!access.may_control());
        let control = token(&signer, id, Mode::Control, later);
        assert!(
            check(&signer, &id.to_string(), Some(&control), now)
                .unwrap()
                .may_control()
        );
    }

    #[test]
    fn missing_forged_expired_and_foreign_tokens_are_refused() {
        let signer = Signer::with_key(&[3; 32]).unwrap();
        let id = Uuid::now_v7();
        let now = Utc::now();
        let sid = id.to_string();
        assert_eq!(check(&signer, &sid, None, now), Err(AccessError::Missing));
        assert_eq!(
            check(&signer, &sid, Some(""), now),
            Err(AccessError::Missing)
        );
        // An expired token of this session is told apart (its holder may hear the session
        // ended); an expired one of another session or kind is just expired.
        let expired = token(&signer, id, Mode::View, now.timestamp() - 1);
        assert_eq!(
            check(&signer, &sid, Some(&expired), now),
            Err(AccessError::Expired(Access {
                session_id: id,
                mode: Mode::View
            }))
        );
        assert_eq!(
            AccessError::Expired(Access {
                session_id: id,
                mode: Mode::View
            })
            .into_response()
            .status(),
            StatusCode::UNAUTHORIZED
        );
        let expired_foreign = token(&signer, Uuid::now_v7(), Mode::Control, now.timestamp() - 1);
        assert_eq!(
            check(&signer, &sid, Some(&expired_foreign), now),
            Err(AccessError::Token(TokenError::Expired))
        );
        let expired_cdp = token(&signer, id, Mode::Cdp, now.timestamp() - 1);
        assert_eq!(
            check(&signer, &sid, Some(&expired_cdp), now),
            Err(AccessError::Token(TokenError::Expired))
        );
        let other_key = Signer::with_key(&[4; 32]).unwrap();
        let forged_expired = token(&other_key, id, Mode::Control, now.timestamp() - 1);
        assert_eq!(
            check(&signer, &sid, Some(&forged_expired), now),
            Err(AccessError::Token(TokenError::BadSignature))
        );
        let forged = token(&other_key, id, Mode::Control, now.timestamp() + 60);
        assert_eq!(
            check(&signer, &sid, Some(&forged), now),
            Err(AccessError::Token(TokenError::BadSignature))
        );
        let foreign = token(&signer, Uuid::now_v7(), Mode::Control, now.timestamp() + 60);
        assert_eq!(
            check(&signer, &sid, Some(&foreign), now),
            Err(AccessError::Foreign)
        );
        let cdp = token(&signer, id, Mode::Cdp, now.timestamp() + 60);
        assert_eq!(
            check(&signer, &sid, Some(&cdp), now),
            Err(AccessError::NotLiveView)
        );
        let good = token(&signer, id, Mode::Control, now.timestamp() + 60);
        assert_eq!(
            check(&signer, "not-a-uuid", Some(&good), now),
            Err(AccessError::BadSession)
        );
        assert_eq!(
            AccessError::Foreign.into_response().status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            AccessError::Missing.into_response().status(),
            StatusCode::UNAUTHORIZED
        );
    }
}
