//! The viewer's files, compiled into the binary so that a single executable serves them.
//!
//! Plain HTML, CSS and ES modules from `web/live/`, with no build step; `include_str!` costs
//! nothing at compile time beyond reading them.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("../../../../web/live/index.html");

/// The files under `/live-assets/`, with their content types.
const FILES: &[(&str, &str, &str)] = &[
    (
        "live.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../../web/live/live.js"),
    ),
    (
        "geometry.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../../web/live/geometry.js"),
    ),
    (
        "live.css",
        "text/css; charset=utf-8",
        include_str!("../../../../web/live/live.css"),
    ),
];

/// What the viewer page shows when it opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageState {
    /// The live session: the page connects to it.
    Live,
    /// The session is over (why, when known): the page says so and connects to nothing.
    Ended(Option<String>),
    /// The link expired while the session goes on: the page says so.
    LinkExpired,
}

/// The viewer page, with `status` and the pages' security headers
/// ([`crate::http::security_headers`]). No `X-Frame-Options`, and `frame-ancestors *`: it
/// is meant to be embedded anywhere. No referrer, since the URL carries the token.
pub fn page(state: &PageState, status: StatusCode) -> Response {
    let body = match state {
        PageState::Live => INDEX.to_string(),
        PageState::Ended(reason) => with_root_attributes(&format!(
            r#"data-ended="session" data-reason="{}""#,
            escape(reason.as_deref().unwrap_or_default())
        )),
        PageState::LinkExpired => with_root_attributes(r#"data-ended="expired""#),
    };
    (
        status,
        crate::http::security_headers(),
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        body,
    )
        .into_response()
}

/// The page with `attributes` on its root element, which the viewer's script reads first.
fn with_root_attributes(attributes: &str) -> String {
    INDEX.replacen(
        "<html lang=\"en\">",
        &format!("<html lang=\"en\" {attributes}>"),
        1,
    )
}

/// `text` safe inside a double-quoted HTML attribute.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `GET /live-assets/{file}`.
pub async fn asset(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            *body,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"detail": "Not Found"})),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ended_page_carries_its_state_on_the_root_element_escaped() {
        assert!(
            INDEX.contains("<html lang=\"en\">"),
            "the page's root element moved"
        );
        let ended = with_root_attributes(&format!(
            r#"data-ended="session" data-reason="{}""#,
            escape(r#"Stopped "by" <the> client & co"#)
        ));
        assert!(ended.contains(
            r#"<html lang="en" data-ended="session" data-reason="Stopped &quot;by&quot; &lt;the&gt; client &amp; co">"#
        ));
        let response = page(&PageState::LinkExpired, StatusCode::UNAUTHORIZED);
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
    }

    #[test]
    fn the_page_carries_a_strict_policy_and_may_be_framed() {
        for state in [PageState::Live, PageState::LinkExpired] {
            let response = page(&state, StatusCode::OK);
            let headers = response.headers();
            let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            for rule in [
                "default-src 'none'",
                "script-src 'self';",
                "img-src 'self' blob: data:",
                "connect-src 'self' ws: wss:",
                "frame-ancestors *",
            ] {
                assert!(csp.contains(rule), "{rule} in {csp}");
            }
            assert!(!csp.contains("unsafe"), "{csp}");
            assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert!(headers.get(header::X_FRAME_OPTIONS).is_none());
        }
        // The page has no inline script or style the policy would block.
        assert!(!INDEX.contains("<script>") && !INDEX.contains("style="));
        assert!(!INDEX.contains("<style"));
    }
}
