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

/// The viewer page. No `X-Frame-Options` and no `frame-ancestors`: it is meant to be embedded
/// anywhere. No referrer, since the URL carries the token.
pub fn page() -> Response {
    (
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
        INDEX,
    )
        .into_response()
}

/// `GET /live-assets/{file}`.
pub async fn asset(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
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
