//! CDP `Network` domain.
//!
//! Tandem uses it for cookies of the page's own browser context (read, restore, clear), for extra
//! request headers, and for the request lifecycle events that tell the agent when a page has
//! gone quiet. The request, resource-type and cookie types here are shared with `Fetch` and
//! `Storage`.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// Identifies one network request within a target (the Fetch domain's `networkId` carries
/// it).
pub type RequestId = String;

/// Identifies one document load; changes on every cross-document navigation, so it tells a
/// new document from an old one even when the URL is the same.
pub type LoaderId = String;

/// Seconds since an arbitrary point, monotonic; only differences between two values mean
/// something.
pub type MonotonicTime = f64;

/// Seconds (not milliseconds) since the UNIX epoch, possibly fractional.
pub type TimeSinceEpoch = f64;

/// HTTP headers as a JSON object. Sorted so that what we send is deterministic; repeated
/// headers arrive joined by `\n` in one value.
pub type Headers = BTreeMap<String, String>;

/// How a request's response will be used, as Chromium classifies it.
///
/// Round-trips: a value this enum does not know is kept as `Unknown` and sent back unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ResourceType {
    /// A top-level or frame document.
    Document,
    /// A CSS stylesheet.
    Stylesheet,
    /// An image.
    Image,
    /// Audio or video.
    Media,
    /// A web font.
    Font,
    /// A script.
    Script,
    /// A `<track>` text track.
    TextTrack,
    /// An `XMLHttpRequest`.
    #[serde(rename = "XHR")]
    Xhr,
    /// A `fetch()` call.
    Fetch,
    /// A `<link rel=prefetch>` request.
    Prefetch,
    /// An `EventSource` stream.
    EventSource,
    /// A WebSocket handshake.
    WebSocket,
    /// A web app manifest.
    Manifest,
    /// A signed exchange.
    SignedExchange,
    /// A `navigator.sendBeacon`/ping request.
    Ping,
    /// A CSP violation report.
    #[serde(rename = "CSPViolationReport")]
    CspViolationReport,
    /// A CORS preflight.
    Preflight,
    /// A FedCM request.
    #[serde(rename = "FedCM")]
    FedCm,
    /// The protocol's own catch-all value `"Other"`; also what a missing field defaults to.
    #[default]
    Other,
    /// A value newer than this code.
    #[serde(untagged)]
    Unknown(String),
}

/// Why a request failed, as a client reports it (`Fetch.failRequest`) or Chromium does
/// (`Fetch.requestPaused.responseErrorReason`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ErrorReason {
    /// Generic failure; what `Default` gives.
    #[default]
    Failed,
    /// The request was aborted; shows as `net::ERR_ABORTED`, which pages treat as a cancel.
    Aborted,
    /// Timed out.
    TimedOut,
    /// Access denied.
    AccessDenied,
    /// Connection closed.
    ConnectionClosed,
    /// Connection reset.
    ConnectionReset,
    /// Connection refused.
    ConnectionRefused,
    /// Connection aborted.
    ConnectionAborted,
    /// Connection failed.
    ConnectionFailed,
    /// DNS lookup failed.
    NameNotResolved,
    /// No network.
    InternetDisconnected,
    /// Address unreachable.
    AddressUnreachable,
    /// Blocked by the client; shows as `net::ERR_BLOCKED_BY_CLIENT`, like an ad blocker.
    BlockedByClient,
    /// Blocked by response headers (e.g. CORP).
    BlockedByResponse,
    /// A value newer than this code.
    #[serde(untagged)]
    Unknown(String),
}

/// A cookie's `SameSite` attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CookieSameSite {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax`.
    Lax,
    /// `SameSite=None` (requires `Secure`).
    None,
    /// A value newer than this code, kept so that a read cookie can be written back unchanged.
    #[serde(untagged)]
    Unknown(String),
}

/// A cookie's `Priority` attribute (Chromium-specific eviction order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CookiePriority {
    /// Evicted first.
    Low,
    /// The default.
    Medium,
    /// Evicted last.
    High,
    /// A value newer than this code, kept so that a read cookie can be written back unchanged.
    #[serde(untagged)]
    Unknown(String),
}

/// The scheme of the origin that set a cookie; part of the cookie's identity in Chromium.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CookieSourceScheme {
    /// Lets a client emulate legacy, scheme-less cookie scope.
    Unset,
    /// Set over `http:`.
    NonSecure,
    /// Set over `https:`.
    Secure,
    /// A value newer than this code, kept so that a read cookie can be written back unchanged.
    #[serde(untagged)]
    Unknown(String),
}

/// The partition of a CHIPS (partitioned) cookie; absent for ordinary cookies.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CookiePartitionKey {
    /// Site of the top-level page when the cookie was set, e.g. `https://example.com`.
    pub top_level_site: String,
    /// Whether any frame between the top level and the setter was cross-site.
    pub has_cross_site_ancestor: bool,
}

/// A cookie as Chromium reports it (`Network.getCookies`, `Storage.getCookies`).
///
/// Serializable too, in the same camelCase shape, so that a profile can store cookies verbatim.
/// To write one back, build a [`CookieParam`]: the two types differ on purpose (a read cookie
/// has `size`/`session`, a written one may give `url` instead of `domain`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Cookie {
    /// Cookie name.
    pub name: String,
    /// Cookie value, as sent in the `Cookie` header.
    pub value: String,
    /// A leading `.` marks a domain cookie; without it the cookie is host-only.
    pub domain: String,
    /// Path scope.
    pub path: String,
    /// Expiry in seconds since the UNIX epoch; `-1` for session cookies. Chromium sends `null`
    /// for an expiry too far to represent, which reads as `f64::INFINITY`.
    #[serde(deserialize_with = "null_as_infinity")]
    pub expires: TimeSinceEpoch,
    /// Name plus value length in bytes.
    pub size: i64,
    /// Hidden from `document.cookie`.
    pub http_only: bool,
    /// Sent over HTTPS only.
    pub secure: bool,
    /// Dies with the browser session; `expires` is then `-1`.
    pub session: bool,
    /// `None` when the cookie set no `SameSite` attribute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub same_site: Option<CookieSameSite>,
    /// Experimental in the protocol; absent from older Chromium.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<CookiePriority>,
    /// Experimental in the protocol; absent from older Chromium.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_scheme: Option<CookieSourceScheme>,
    /// `-1` when unspecified; experimental in the protocol.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_port: Option<i64>,
    /// Set only for partitioned (CHIPS) cookies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<CookiePartitionKey>,
    /// True when the partition key cannot be serialized (opaque origin).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_key_opaque: Option<bool>,
}

/// Reads a JSON number, taking `null` as infinity (CDP's encoding of ±Inf).
fn null_as_infinity<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::INFINITY))
}

/// A cookie to set (`Network.setCookies`, `Storage.setCookies`).
///
/// Give either `url` or `domain`: with `url` Chromium derives domain, path, scheme and port,
/// and the cookie is host-only; with `domain` it becomes a domain cookie.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CookieParam {
    /// Cookie name.
    pub name: String,
    /// Cookie value.
    pub value: String,
    /// URL the cookie is set for, as if a response from it had set the cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Domain attribute; makes the cookie a domain cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Path attribute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `Secure` attribute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secure: Option<bool>,
    /// `HttpOnly` attribute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_only: Option<bool>,
    /// `SameSite` attribute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub same_site: Option<CookieSameSite>,
    /// Seconds since the UNIX epoch; `None` makes a session cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<TimeSinceEpoch>,
    /// Chromium's eviction priority.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<CookiePriority>,
    /// Scheme of the setting origin; part of the cookie's identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_scheme: Option<CookieSourceScheme>,
    /// Port of the setting origin, `-1` for unspecified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_port: Option<i64>,
    /// Makes the cookie partitioned (CHIPS); `None` for an ordinary cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<CookiePartitionKey>,
}

/// An HTTP request as Chromium describes it in events (`Network.requestWillBeSent`,
/// `Fetch.requestPaused`); only the parts Tandem reads.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Request {
    /// URL without the fragment (see `url_fragment`).
    pub url: String,
    /// `#fragment`, when the URL had one.
    pub url_fragment: Option<String>,
    /// HTTP method, upper case.
    pub method: String,
    /// Request headers as Chromium will send them (may lack some added later by the network
    /// stack, e.g. cookies).
    pub headers: Headers,
    /// Request body, when small enough to be inlined (deprecated in the protocol, still sent).
    pub post_data: Option<String>,
    /// True when there is a body, even if `post_data` was not inlined.
    pub has_post_data: Option<bool>,
}

/// Result of [`GetCookies`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GetCookiesResult {
    /// Matching cookies, in no particular order.
    pub cookies: Vec<Cookie>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn cookie_deserializes_chromium_shape() {
        let result: GetCookiesResult = serde_json::from_value(json!({"cookies": [
            {"name": "sid", "value": "abc", "domain": ".example.com", "path": "/",
             "expires": 1_800_000_000.25, "size": 6, "httpOnly": true, "secure": true,
             "session": false, "sameSite": "None", "priority": "Medium",
             "sameParty": false, "sourceScheme": "Secure", "sourcePort": 443,
             "partitionKey": {"topLevelSite": "https://top.example", "hasCrossSiteAncestor": false}},
            {"name": "tmp", "value": "", "domain": "example.com", "path": "/a",
             "expires": -1, "size": 3, "httpOnly": false, "secure": false, "session": true,
             "priority": "Urgent", "sourceScheme": "NonSecure", "sourcePort": -1},
            {"name": "far", "value": "x", "domain": "example.com", "path": "/",
             "expires": null, "size": 4, "httpOnly": false, "secure": false, "session": false}
        ]}))
        .unwrap();
        let [sid, tmp, far] = &result.cookies[..] else {
            panic!("expected three cookies: {result:?}");
        };
        assert_eq!(sid.domain, ".example.com");
        assert_eq!(sid.expires, 1_800_000_000.25);
        assert!(sid.http_only && sid.secure && !sid.session);
        assert_eq!(sid.same_site, Some(CookieSameSite::None));
        assert_eq!(sid.priority, Some(CookiePriority::Medium));
        assert_eq!(sid.source_scheme, Some(CookieSourceScheme::Secure));
        assert_eq!(sid.source_port, Some(443));
        assert_eq!(
            sid.partition_key
                .as_ref()
                .map(|k| k.top_level_site.as_str()),
            Some("https://top.example")
        );
        assert!(tmp.session);
        assert_eq!(tmp.expires, -1.0);
        assert_eq!(tmp.same_site, None);
        assert_eq!(tmp.priority, Some(CookiePriority::Unknown("Urgent".into())));
        assert_eq!(far.expires, f64::INFINITY);
    }

    #[test]
    fn cookie_serializes_back_in_cdp_shape() {
        let cookie = Cookie {
            name: "a".into(),
            value: "b".into(),
            domain: "example.com".into(),
            path: "/".into(),
            expires: -1.0,
            size: 2,
            session: true,
            same_site: Some(CookieSameSite::Strict),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&cookie).unwrap(),
            json!({"name": "a", "value": "b", "domain": "example.com", "path": "/",
                   "expires": -1.0, "size": 2, "httpOnly": false, "secure": false,
                   "session": true, "sameSite": "Strict"})
        );
    }

    #[test]
    fn resource_type_keeps_unknown_values() {
        let known: ResourceType = serde_json::from_value(json!("FedCM")).unwrap();
        assert_eq!(known, ResourceType::FedCm);
        let other: ResourceType = serde_json::from_value(json!("Other")).unwrap();
        assert_eq!(other, ResourceType::Other);
        let unknown: ResourceType = serde_json::from_value(json!("Beacon2")).unwrap();
        assert_eq!(unknown, ResourceType::Unknown("Beacon2".into()));
        assert_eq!(serde_json::to_value(&unknown).unwrap(), json!("Beacon2"));
    }
}
