//! The one URL policy of Tandem's browsers: which addresses a tab may be sent to.
//!
//! A session's browser must reach nothing of the server's machine: no `file:` (the data
//! directory holds the API key and the token-signing key), no `chrome:`/`devtools:`/
//! `view-source:` pages, no extension or `filesystem:` URLs. Every navigation the browser layer
//! starts (`Page::navigate`, `LiveTab::open`, `Browser::new_tab`) and every navigation a CDP
//! client asks for through the proxy is checked here first; Chromium itself enforces the same
//! list as a managed policy (see [`chromium_policy`]), so redirects, frames and subresources
//! are refused as well, whoever caused them.
//!
//! The rule is an allowlist: `http`, `https`, `data`, `blob`, `about:blank` (and
//! `about:srcdoc` for frames). Anything else, a URL without a scheme included, is refused.

use serde_json::{Value, json};

/// Why an address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// A scheme Tandem's browsers never open (`file`, `chrome`, `javascript`, ...).
    #[error("Tandem browsers do not open {scheme}: addresses")]
    Scheme {
        /// The scheme, lower-cased, without its colon.
        scheme: String,
    },
    /// An `about:` page other than `about:blank`.
    #[error("Tandem browsers open no about: page but about:blank")]
    About,
    /// Not an absolute URL (no scheme).
    #[error("not an absolute URL (it needs a scheme such as https://)")]
    NoScheme,
    /// Nothing was typed.
    #[error("the address is empty")]
    Empty,
}

/// Whether a tab may be sent to `url` (a navigation, a new tab, a redirect).
///
/// The agent, the live view's address bar and the CDP proxy all call this: one rule for
/// whoever asks. The URL is read the way browsers read it (leading and trailing spaces and
/// control characters, tabs and newlines inside are ignored; the scheme is case-insensitive),
/// so `" FILE:///etc/passwd"` and `"fi\tle:///"` are refused like `file:///etc/passwd`.
pub fn check(url: &str) -> Result<(), AddressError> {
    check_with(url, false)
}

/// Like [`check`], for a frame's document: `about:srcdoc` (an `<iframe srcdoc>`) is allowed too.
pub fn check_frame(url: &str) -> Result<(), AddressError> {
    check_with(url, true)
}

/// What a person (the live view's address bar) or a model (`browser_navigate`) typed as an
/// address, made a URL and checked by [`check`]: one rule for both.
///
/// A bare host gets a scheme: `http` for `localhost` and IPv4 addresses (where a development
/// server usually answers without TLS), `https` otherwise. `host:port` is a host, not a
/// scheme, so `localhost:3000/a` becomes `http://localhost:3000/a`. The URL is returned as
/// typed (trimmed), not rewritten, so what the agent asked for is what the tab shows.
pub fn from_typed(typed: &str) -> Result<String, AddressError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err(AddressError::Empty);
    }
    let has_scheme = typed.contains("://")
        || split_scheme(typed)
            .is_some_and(|(_, rest)| !rest.starts_with(|c: char| c.is_ascii_digit()));
    let url = if has_scheme {
        typed.to_string()
    } else {
        let host = typed.split(['/', ':', '?', '#']).next().unwrap_or_default();
        let local =
            host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::Ipv4Addr>().is_ok();
        format!("{}://{typed}", if local { "http" } else { "https" })
    };
    check(&url)?;
    Ok(url)
}

/// [`check`] as the browser layer's own error, for its navigations.
pub(crate) fn refuse_unless_allowed(url: &str) -> Result<(), crate::BrowserError> {
    check(url).map_err(|reason| crate::BrowserError::Refused {
        url: url.to_string(),
        reason,
    })
}

fn check_with(url: &str, frame: bool) -> Result<(), AddressError> {
    let cleaned = clean(url);
    let Some((scheme, rest)) = split_scheme(&cleaned) else {
        return Err(AddressError::NoScheme);
    };
    match scheme.as_str() {
        "http" | "https" | "data" | "blob" => Ok(()),
        "about" => {
            // `about:blank`, possibly with a query or fragment (`about:blank#top`).
            let page = rest
                .split(['?', '#'])
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if page == "blank" || (frame && page == "srcdoc") {
                Ok(())
            } else {
                Err(AddressError::About)
            }
        }
        _ => Err(AddressError::Scheme { scheme }),
    }
}

/// The URL as a browser's parser sees it: C0 controls and spaces stripped at both ends, ASCII
/// tabs and newlines removed everywhere (WHATWG URL, "basic URL parser").
fn clean(url: &str) -> String {
    url.trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

/// `(scheme lower-cased, rest)` when `url` starts with a valid scheme and a colon.
fn split_scheme(url: &str) -> Option<(String, &str)> {
    let (scheme, rest) = url.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    if !first.is_ascii_alphabetic()
        || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return None;
    }
    Some((scheme.to_ascii_lowercase(), rest))
}

/// The URL patterns Chromium's `URLBlocklist` policy refuses in every Tandem browser: the
/// enforcement of the same rule inside Chromium, for what no CDP command names (redirects,
/// links, frames, subresources, `window.open`).
pub const BLOCKED_URL_PATTERNS: &[&str] = &[
    "file://*",
    "chrome://*",
    "chrome-untrusted://*",
    "chrome-search://*",
    "chrome-extension://*",
    "devtools://*",
    "view-source:*",
    "filesystem:*",
];

/// Exceptions to [`BLOCKED_URL_PATTERNS`]: Chromium's own browser UI (`chrome://*.top-chrome`
/// pages such as the omnibox popup, which headless Chromium loads at start). Blocked, they turn
/// into error pages that show up as tabs.
pub const ALLOWED_URL_PATTERNS: &[&str] = &["chrome://top-chrome"];

/// The managed policy (JSON) Tandem's Chromium runs with: [`BLOCKED_URL_PATTERNS`] as
/// `URLBlocklist`, [`ALLOWED_URL_PATTERNS`] as `URLAllowlist`. Nothing else: file selection
/// stays on (the file chooser is how uploads work, answered by Tandem), and so do printing and
/// downloads, which CDP clients use.
pub fn chromium_policy() -> Value {
    json!({ "URLBlocklist": BLOCKED_URL_PATTERNS, "URLAllowlist": ALLOWED_URL_PATTERNS })
}

#[cfg(test)]
mod tests {

    #[test]
    fn typed_addresses_get_a_scheme_and_the_same_rule() {
        assert_eq!(from_typed("example.com").unwrap(), "https://example.com");
        assert_eq!(
            from_typed(" example.com/a?b ").unwrap(),
            "https://example.com/a?b"
        );
        assert_eq!(
            from_typed("localhost:3000/a").unwrap(),
            "http://localhost:3000/a"
        );
        assert_eq!(
            from_typed("127.0.0.1:8000").unwrap(),
            "http://127.0.0.1:8000"
        );
        assert_eq!(
            from_typed("http://127.0.0.1:80/x").unwrap(),
            "http://127.0.0.1:80/x"
        );
        assert_eq!(from_typed("about:blank").unwrap(), "about:blank");
        assert_eq!(from_typed(""), Err(AddressError::Empty));
        for refused in [
            "file:///etc/passwd",
            "FILE:/etc/passwd",
            "javascript:alert(1)",
            "chrome://version",
            "view-source:https://a.test",
            "about:config",
        ] {
            assert!(from_typed(refused).is_err(), "{refused}");
        }
    }

    use super::*;

    #[test]
    fn web_addresses_pass_and_local_ones_are_refused() {
        for ok in [
            "https://example.com/",
            "http://127.0.0.1:8080/a?b#c",
            "HTTPS://EXAMPLE.COM",
            "data:text/html,<p>hi</p>",
            "blob:https://example.com/1234",
            "about:blank",
            "about:blank#top",
            "  https://example.com  ",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        for (refused, scheme) in [
            ("file:///etc/passwd", "file"),
            ("FILE:///etc/passwd", "file"),
            (" \u{1}file:///etc/passwd", "file"),
            ("fi\tle:///etc/passwd", "file"),
            ("fi\nle:///etc/passwd", "file"),
            ("file:/etc/passwd", "file"),
            ("file://localhost/etc/passwd", "file"),
            ("chrome://settings", "chrome"),
            ("chrome://policy", "chrome"),
            ("devtools://devtools/bundled/inspector.html", "devtools"),
            ("view-source:https://example.com", "view-source"),
            ("chrome-extension://abc/x.html", "chrome-extension"),
            ("filesystem:https://example.com/temporary/x", "filesystem"),
            ("javascript:alert(1)", "javascript"),
            ("ftp://example.com/", "ftp"),
        ] {
            assert_eq!(
                check(refused),
                Err(AddressError::Scheme {
                    scheme: scheme.into()
                }),
                "{refused:?}"
            );
        }
        assert_eq!(check("about:settings"), Err(AddressError::About));
        assert_eq!(check("about:srcdoc"), Err(AddressError::About));
        assert_eq!(check_frame("about:srcdoc"), Ok(()));
        assert_eq!(check("example.com"), Err(AddressError::NoScheme));
        assert_eq!(check("/etc/passwd"), Err(AddressError::NoScheme));
        assert_eq!(check(""), Err(AddressError::NoScheme));
    }

    #[test]
    fn the_policy_blocks_what_check_refuses() {
        let policy = chromium_policy();
        let list = policy["URLBlocklist"].as_array().unwrap();
        for pattern in ["file://*", "chrome://*", "devtools://*", "view-source:*"] {
            assert!(list.iter().any(|p| p == pattern), "{pattern}");
        }
    }
}
