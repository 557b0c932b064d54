//! CDP `Network` domain.
//!
//! Tandem uses it for cookies of the page's own browser context (read, restore, clear), for extra
//! request headers, and for the request lifecycle events that tell the agent when a page has
//! gone quiet. The request, resource-type and cookie types here are shared with `Fetch` and
//! `Storage`.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::command::{Command, Empty, Event};
use crate::protocol::page::FrameId;

/// Identifies one network request within a target; unrelated to `fetch::RequestId`, except that
/// `fetch::RequestPaused::network_id` carries it.
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

/// `Network.enable`: starts the request events; needed for network-idle tracking.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Enable {
    /// Longest request body (bytes) inlined into `requestWillBeSent`; bodies are rarely
    /// needed, so a small value keeps events cheap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_post_data_size: Option<i64>,
}

impl Command for Enable {
    const METHOD: &'static str = "Network.enable";
    type Response = Empty;
}

/// `Network.disable`: stops the request events.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Disable {}

impl Command for Disable {
    const METHOD: &'static str = "Network.disable";
    type Response = Empty;
}

/// `Network.getCookies`: cookies visible to the given URLs, from the session's target's
/// browser context. For every cookie of a context use `storage::GetCookies`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetCookies {
    /// `None` means the URLs of the page and all its frames.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
}

/// Result of [`GetCookies`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GetCookiesResult {
    /// Matching cookies, in no particular order.
    pub cookies: Vec<Cookie>,
}

impl Command for GetCookies {
    const METHOD: &'static str = "Network.getCookies";
    type Response = GetCookiesResult;
}

/// `Network.setCookies`: sets cookies in the session's target's browser context.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetCookies {
    /// Cookies to set; an invalid one fails the whole call.
    pub cookies: Vec<CookieParam>,
}

impl Command for SetCookies {
    const METHOD: &'static str = "Network.setCookies";
    type Response = Empty;
}

/// `Network.clearBrowserCookies`: removes every cookie of the target's browser context.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClearBrowserCookies {}

impl Command for ClearBrowserCookies {
    const METHOD: &'static str = "Network.clearBrowserCookies";
    type Response = Empty;
}

/// `Network.setExtraHTTPHeaders`: headers added to every request of this target. Replaces the
/// previous set; an empty map removes them. Needs `Network.enable` first.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetExtraHttpHeaders {
    /// Header names and values.
    pub headers: Headers,
}

impl Command for SetExtraHttpHeaders {
    const METHOD: &'static str = "Network.setExtraHTTPHeaders";
    type Response = Empty;
}

/// `Network.requestWillBeSent`: a request is about to leave; with `loading_finished` and
/// `loading_failed`, what network-idle tracking counts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RequestWillBeSent {
    /// Stays the same across redirects of one request.
    pub request_id: RequestId,
    /// Empty for requests made by workers.
    pub loader_id: LoaderId,
    /// URL of the document the request is made for.
    #[serde(rename = "documentURL")]
    pub document_url: String,
    /// The request itself.
    pub request: Request,
    /// When, on the monotonic clock.
    pub timestamp: MonotonicTime,
    /// When, on the wall clock.
    pub wall_time: TimeSinceEpoch,
    /// Absent for some internal requests.
    #[serde(rename = "type")]
    pub r#type: Option<ResourceType>,
    /// Frame that made the request; absent for workers.
    pub frame_id: Option<FrameId>,
    /// Whether a user gesture started it.
    pub has_user_gesture: Option<bool>,
}

impl Event for RequestWillBeSent {
    const METHOD: &'static str = "Network.requestWillBeSent";
}

/// `Network.loadingFinished`: a request's body has been fully received.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LoadingFinished {
    /// The request, as in `RequestWillBeSent`.
    pub request_id: RequestId,
    /// When, on the monotonic clock.
    pub timestamp: MonotonicTime,
    /// Bytes received on the wire, headers included.
    pub encoded_data_length: f64,
}

impl Event for LoadingFinished {
    const METHOD: &'static str = "Network.loadingFinished";
}

/// `Network.loadingFailed`: a request ended without a response body (error, block, cancel).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LoadingFailed {
    /// The request, as in `RequestWillBeSent`.
    pub request_id: RequestId,
    /// When, on the monotonic clock.
    pub timestamp: MonotonicTime,
    /// How the response would have been used.
    #[serde(rename = "type")]
    pub r#type: ResourceType,
    /// Chromium's net error name, e.g. `net::ERR_NAME_NOT_RESOLVED`.
    pub error_text: String,
    /// True when the page or the user cancelled it, not a network error.
    pub canceled: Option<bool>,
}

impl Event for LoadingFailed {
    const METHOD: &'static str = "Network.loadingFailed";
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn set_cookies_serializes_camel_case_and_skips_nones() {
        let params = SetCookies {
            cookies: vec![CookieParam {
                name: "sid".into(),
                value: "abc".into(),
                url: Some("https://example.com/".into()),
                http_only: Some(true),
                same_site: Some(CookieSameSite::Lax),
                expires: Some(1_800_000_000.5),
                source_scheme: Some(CookieSourceScheme::Unknown("Future".into())),
                ..Default::default()
            }],
        };
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"cookies": [{
                "name": "sid", "value": "abc", "url": "https://example.com/",
                "httpOnly": true, "sameSite": "Lax", "expires": 1_800_000_000.5,
                "sourceScheme": "Future"
            }]})
        );
        assert_eq!(SetCookies::METHOD, "Network.setCookies");
    }

    #[test]
    fn set_extra_http_headers_method_keeps_protocol_capitals() {
        assert_eq!(SetExtraHttpHeaders::METHOD, "Network.setExtraHTTPHeaders");
        let mut headers = Headers::new();
        headers.insert("X-Tandem".into(), "1".into());
        assert_eq!(
            serde_json::to_value(SetExtraHttpHeaders { headers }).unwrap(),
            json!({"headers": {"X-Tandem": "1"}})
        );
    }

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
    fn request_will_be_sent_deserializes() {
        let event: RequestWillBeSent = serde_json::from_value(json!({
            "requestId": "1234.5", "loaderId": "LOADER", "documentURL": "https://example.com/",
            "request": {"url": "https://example.com/api", "method": "POST",
                        "headers": {"Content-Type": "application/json"},
                        "postData": "{}", "hasPostData": true,
                        "initialPriority": "High", "referrerPolicy": "strict-origin-when-cross-origin"},
            "timestamp": 1234.5, "wallTime": 1_700_000_000.1,
            "initiator": {"type": "script"}, "redirectHasExtraInfo": false,
            "type": "XHR", "frameId": "FRAME", "hasUserGesture": false
        }))
        .unwrap();
        assert_eq!(event.request_id, "1234.5");
        assert_eq!(event.document_url, "https://example.com/");
        assert_eq!(event.request.method, "POST");
        assert_eq!(
            event
                .request
                .headers
                .get("Content-Type")
                .map(String::as_str),
            Some("application/json")
        );
        assert_eq!(event.request.post_data.as_deref(), Some("{}"));
        assert_eq!(event.wall_time, 1_700_000_000.1);
        assert_eq!(event.r#type, Some(ResourceType::Xhr));
        assert_eq!(event.frame_id.as_deref(), Some("FRAME"));
    }

    #[test]
    fn loading_events_deserialize() {
        let failed: LoadingFailed = serde_json::from_value(json!({
            "requestId": "7", "timestamp": 10.5, "type": "CSPViolationReport",
            "errorText": "net::ERR_ABORTED", "canceled": true
        }))
        .unwrap();
        assert_eq!(failed.r#type, ResourceType::CspViolationReport);
        assert_eq!(failed.error_text, "net::ERR_ABORTED");
        assert_eq!(failed.canceled, Some(true));

        let finished: LoadingFinished = serde_json::from_value(json!({
            "requestId": "7", "timestamp": 11.0, "encodedDataLength": 5120
        }))
        .unwrap();
        assert_eq!(finished.request_id, "7");
        assert_eq!(finished.encoded_data_length, 5120.0);
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
