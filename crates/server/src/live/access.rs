//! Who may open a live view: the token in the URL, checked against the session in the path
//! by [`crate::links::verify`].
//!
//! The token is the whole credential (the page is meant to be embedded anywhere, so there is
//! no cookie or API key); it binds one session, a mode and an expiry. A missing, malformed,
//! forged or expired token is a 401; a genuine token for another session is a 403. A genuine
//! token of this session that only expired is told apart ([`LinkError::Expired`]): its
//! holder was let in before, so the page may tell them the session ended or the link expired
//! instead of showing an error.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::links::{self, Claims, LinkError, Mode, Signer};

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

    /// The access genuine live-view claims give.
    pub fn of(claims: &Claims) -> Access {
        Access {
            session_id: claims.subject,
            mode: claims.mode,
        }
    }
}

/// Checks `token` for the session named `session` in the path.
pub fn check(
    signer: &Signer,
    session: &str,
    token: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Access, LinkError> {
    links::verify(
        signer,
        token,
        &[Mode::Control, Mode::View],
        Some(session),
        None,
        now,
    )
    .map(|claims| Access::of(&claims))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::links::{Kind, TokenError};
    use axum::http::StatusCode;
    use axum::response::IntoResponse;

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
        assert_eq!(
            check(&signer, &sid, None, now),
            Err(LinkError::Missing(Kind::LiveView))
        );
        assert_eq!(
            check(&signer, &sid, Some(""), now),
            Err(LinkError::Missing(Kind::LiveView))
        );
        // An expired token of this session is told apart (its holder may hear the session
        // ended); an expired one of another session or kind is just expired.
        let expired = token(&signer, id, Mode::View, now.timestamp() - 1);
        assert_eq!(
            check(&signer, &sid, Some(&expired), now),
            Err(LinkError::Expired(
                Kind::LiveView,
                Box::new(Claims::new(id, Mode::View, now.timestamp() - 1))
            ))
        );
        assert_eq!(
            LinkError::Expired(
                Kind::LiveView,
                Box::new(Claims::new(id, Mode::View, now.timestamp() - 1))
            )
            .into_response()
            .status(),
            StatusCode::UNAUTHORIZED
        );
        let expired_foreign = token(&signer, Uuid::now_v7(), Mode::Control, now.timestamp() - 1);
        assert_eq!(
            check(&signer, &sid, Some(&expired_foreign), now),
            Err(LinkError::Token(Kind::LiveView, TokenError::Expired))
        );
        let expired_cdp = token(&signer, id, Mode::Cdp, now.timestamp() - 1);
        assert_eq!(
            check(&signer, &sid, Some(&expired_cdp), now),
            Err(LinkError::Token(Kind::LiveView, TokenError::Expired))
        );
        let other_key = Signer::with_key(&[4; 32]).unwrap();
        let forged_expired = token(&other_key, id, Mode::Control, now.timestamp() - 1);
        assert_eq!(
            check(&signer, &sid, Some(&forged_expired), now),
            Err(LinkError::Token(Kind::LiveView, TokenError::BadSignature))
        );
        let forged = token(&other_key, id, Mode::Control, now.timestamp() + 60);
        assert_eq!(
            check(&signer, &sid, Some(&forged), now),
            Err(LinkError::Token(Kind::LiveView, TokenError::BadSignature))
        );
        let foreign = token(&signer, Uuid::now_v7(), Mode::Control, now.timestamp() + 60);
        assert_eq!(
            check(&signer, &sid, Some(&foreign), now),
            Err(LinkError::Foreign(Kind::LiveView))
        );
        let cdp = token(&signer, id, Mode::Cdp, now.timestamp() + 60);
        assert_eq!(
            check(&signer, &sid, Some(&cdp), now),
            Err(LinkError::WrongMode(Kind::LiveView))
        );
        let good = token(&signer, id, Mode::Control, now.timestamp() + 60);
        assert_eq!(
            check(&signer, "not-a-uuid", Some(&good), now),
            Err(LinkError::BadSubject)
        );
        assert_eq!(
            LinkError::Foreign(Kind::LiveView).into_response().status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            LinkError::Missing(Kind::LiveView).into_response().status(),
            StatusCode::UNAUTHORIZED
        );
    }
}
