//! Signed links: every link Tandem hands out that works without the API key (`liveUrl`,
//! `viewUrl`, `cdpUrl`, workspace and download file links, `screenshotUrl`), built and
//! checked here and nowhere else.
//!
//! `token.rs` signs and reads tokens; `urls.rs` builds the links; [`verify`] is the one check
//! every route that takes a link runs, with one error ([`LinkError`]) and one mapping of it
//! to HTTP. A token binds a subject (the session, browser, workspace or screenshot it opens),
//! a mode and an expiry, and for file links one path; a route accepts only its own modes, so
//! one kind of link never opens another.

mod token;
mod urls;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

pub use token::{Claims, Mode, Signer, TokenError};
pub use urls::LiveLinks;

/// The query every signed link carries (`?token=…`); other parameters are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

impl TokenQuery {
    /// The token, if the link has one.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }
}

/// The kind of link a route serves, named in its refusals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `liveUrl` and `viewUrl`.
    LiveView,
    /// `cdpUrl`.
    Cdp,
    /// A workspace file or a download, up or down.
    File,
    /// A step screenshot.
    Screenshot,
}

impl Kind {
    fn of(mode: Mode) -> Kind {
        match mode {
            Mode::Control | Mode::View => Kind::LiveView,
            Mode::Cdp => Kind::Cdp,
            Mode::Upload | Mode::Download => Kind::File,
            Mode::Screenshot => Kind::Screenshot,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::LiveView => "live-view",
            Kind::Cdp => "CDP",
            Kind::File => "file",
            Kind::Screenshot => "screenshot",
        }
    }

    /// What a genuine token of another kind (or another file) is told.
    fn not_this(self) -> &'static str {
        match self {
            Kind::LiveView => "This token is not a live-view token",
            Kind::Cdp => "This token is not a CDP token",
            Kind::File | Kind::Screenshot => "This token is not for this file",
        }
    }

    /// What a genuine token of another subject is told.
    fn foreign(self) -> &'static str {
        match self {
            Kind::LiveView => "This live-view token is for another session",
            _ => self.not_this(),
        }
    }
}

/// Why a signed link was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// No token in the link.
    #[error("Missing {} token", .0.name())]
    Missing(Kind),
    /// Malformed, forged, or expired and not otherwise genuine.
    #[error("Invalid {} token: {}", .0.name(), .1)]
    Token(Kind, TokenError),
    /// A genuine token of this route's kind and subject that only expired: its holder was
    /// let in before (the live view tells them the session ended or the link expired).
    #[error("Invalid {} token: {}", .0.name(), TokenError::Expired)]
    Expired(Kind, Box<Claims>),
    /// A genuine token of another kind (a `cdpUrl` at the live view, a download link used
    /// to upload).
    #[error("{}", .0.not_this())]
    WrongMode(Kind),
    /// A genuine token for another subject or another file.
    #[error("{}", .0.foreign())]
    Foreign(Kind),
    /// The subject in the path cannot be one.
    #[error("Not Found")]
    BadSubject,
    /// A view-only link asked for what needs control.
    #[error("A view-only link cannot do this")]
    ViewOnly,
}

impl LinkError {
    fn status(&self) -> StatusCode {
        match self {
            LinkError::Missing(_) | LinkError::Token(..) | LinkError::Expired(..) => {
                StatusCode::UNAUTHORIZED
            }
            LinkError::BadSubject => StatusCode::NOT_FOUND,
            LinkError::WrongMode(_) | LinkError::Foreign(_) | LinkError::ViewOnly => {
                StatusCode::FORBIDDEN
            }
        }
    }

    fn kind(&self) -> Option<Kind> {
        match self {
            LinkError::Missing(kind)
            | LinkError::Token(kind, _)
            | LinkError::Expired(kind, _)
            | LinkError::WrongMode(kind)
            | LinkError::Foreign(kind) => Some(*kind),
            LinkError::BadSubject | LinkError::ViewOnly => None,
        }
    }
}

/// The one mapping of a refused link to HTTP: 401 for no genuine current token, 403 for a
/// genuine one that does not open this, 404 for a subject that cannot be one. A screenshot
/// link reveals nothing about what exists: every refusal is its 404.
impl IntoResponse for LinkError {
    fn into_response(self) -> Response {
        if self.kind() == Some(Kind::Screenshot) {
            return (
                StatusCode::NOT_FOUND,
                Json(json!({ "detail": "Screenshot not found or link expired" })),
            )
                .into_response();
        }
        (self.status(), Json(json!({ "detail": self.to_string() }))).into_response()
    }
}

/// Checks a link's `token`: genuine, unexpired at `now`, in one of `modes` (the first names
/// the kind of link in refusals), for `subject` (as written in the path; `None` when the
/// token alone names it, as in `cdpUrl`) and, for file links, for `path`. Returns the claims.
pub fn verify(
    signer: &Signer,
    token: Option<&str>,
    modes: &[Mode],
    subject: Option<&str>,
    path: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Claims, LinkError> {
    let kind = modes.first().map_or(Kind::LiveView, |m| Kind::of(*m));
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or(LinkError::Missing(kind))?;
    let fits = |claims: Claims| -> Result<Claims, LinkError> {
        if !modes.contains(&claims.mode) {
            return Err(LinkError::WrongMode(kind));
        }
        if let Some(subject) = subject {
            let id = Uuid::parse_str(subject).map_err(|_| LinkError::BadSubject)?;
            if claims.subject != id {
                return Err(LinkError::Foreign(kind));
            }
        }
        if path.is_some() && claims.path.as_deref() != path {
            return Err(LinkError::Foreign(kind));
        }
        Ok(claims)
    };
    match signer.verify(token, now) {
        Ok(claims) => fits(claims),
        Err(TokenError::Expired) => {
            // The same check as of a time before any expiry: signature and payload are still
            // verified, only the expiry is not.
            let claims = signer
                .verify(token, DateTime::<Utc>::MIN_UTC)
                .map_err(|e| LinkError::Token(kind, e))?;
            Err(match fits(claims) {
                Ok(claims) => LinkError::Expired(kind, Box::new(claims)),
                Err(_) => LinkError::Token(kind, TokenError::Expired),
            })
        }
        Err(e) => Err(LinkError::Token(kind, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(signer: &Signer, id: Uuid, mode: Mode, exp: i64, path: Option<&str>) -> String {
        let mut claims = Claims::new(id, mode, exp);
        claims.path = path.map(str::to_string);
        signer.sign(&claims)
    }

    #[test]
    fn each_route_accepts_only_its_own_modes_subject_and_path() {
        let signer = Signer::with_key(&[5; 32]).unwrap();
        let now = Utc::now();
        let later = now.timestamp() + 60;
        let id = Uuid::now_v7();
        let sid = id.to_string();
        let file = token(&signer, id, Mode::Upload, later, Some("a.txt"));
        let up = [Mode::Upload];
        assert!(verify(&signer, Some(&file), &up, Some(&sid), Some("a.txt"), now).is_ok());
        let refused = verify(&signer, Some(&file), &up, Some(&sid), Some("b.txt"), now);
        assert_eq!(refused, Err(LinkError::Foreign(Kind::File)));
        let down = verify(
            &signer,
            Some(&file),
            &[Mode::Download],
            Some(&sid),
            Some("a.txt"),
            now,
        );
        assert_eq!(down, Err(LinkError::WrongMode(Kind::File)));
        assert_eq!(
            down.unwrap_err().to_string(),
            "This token is not for this file"
        );
        let cdp = token(&signer, id, Mode::Cdp, later, None);
        assert_eq!(
            verify(&signer, Some(&cdp), &[Mode::Cdp], None, None, now).map(|c| c.subject),
            Ok(id)
        );
        // A screenshot link opens its screenshot only, and no live view.
        let shot = token(&signer, id, Mode::Screenshot, later, None);
        let live = [Mode::Control, Mode::View];
        assert_eq!(
            verify(&signer, Some(&shot), &live, Some(&sid), None, now),
            Err(LinkError::WrongMode(Kind::LiveView))
        );
        let view = token(&signer, id, Mode::View, later, None);
        let as_shot = verify(
            &signer,
            Some(&view),
            &[Mode::Screenshot],
            Some(&sid),
            None,
            now,
        );
        assert_eq!(as_shot, Err(LinkError::WrongMode(Kind::Screenshot)));
        assert_eq!(
            as_shot.unwrap_err().into_response().status(),
            StatusCode::NOT_FOUND
        );
        let forged = token(
            &Signer::with_key(&[6; 32]).unwrap(),
            id,
            Mode::Cdp,
            later,
            None,
        );
        let refused = verify(&signer, Some(&forged), &[Mode::Cdp], None, None, now).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "Invalid CDP token: invalid token signature"
        );
        assert_eq!(refused.into_response().status(), StatusCode::UNAUTHORIZED);
    }
}
