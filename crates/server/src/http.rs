//! Responses the HTTP layer builds the same way wherever they are served: files as
//! downloads, and the security headers of Tandem's own pages.

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// `bytes` as a download named `name` (made safe for the header), never cached.
pub fn attachment(name: &str, bytes: Vec<u8>) -> Response {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response()
}

/// The Content-Security-Policy of Tandem's pages (the live view, a dashboard): scripts,
/// styles and fonts only from the server itself, never inline; pictures also from `blob:`
/// and `data:` (frames and downloads' previews); sockets to the server; no plugins, no
/// forms, no `<base>`. Any site may frame the page (`frame-ancestors *`): it is embedded by
/// design, so there is no `X-Frame-Options` either.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' blob: data:; font-src 'self'; \
    connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; object-src 'none'; \
    frame-ancestors *";

/// The headers every page Tandem serves carries (and `nosniff` on its scripts and styles):
/// one place, so a dashboard gets the same as the live view.
pub fn security_headers() -> [(HeaderName, HeaderValue); 2] {
    [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ]
}
