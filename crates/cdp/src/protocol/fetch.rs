//! CDP `Fetch` domain.
//!
//! Request interception: with `Fetch.enable`, matching requests pause (`requestPaused`) until
//! the client continues, fails or fulfils them. Tandem uses it to block URLs (policy, ads),
//! to answer proxy and HTTP authentication challenges (`authRequired`), and in tests to serve
//! pages without a network.
//!
//! Every paused request waits for us: a request left unanswered hangs the page, so a handler
//! must answer each one, even on its error paths.

use serde::{Deserialize, Serialize};

use crate::command::{Command, Empty, Event};
use crate::protocol::network::{self, ErrorReason, ResourceType};
use crate::protocol::page::FrameId;

/// Identifies one paused request; distinct from `network::RequestId`.
pub type RequestId = String;

/// When a request pauses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum RequestStage {
    /// Before the request is sent (the default).
    #[default]
    Request,
    /// After the response headers arrive, before the body.
    Response,
}

/// Which requests to pause; a request pauses if any pattern matches.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestPattern {
    /// URL wildcard: `*` any run of characters, `?` one, `\` escapes; `None` matches all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_pattern: Option<String>,
    /// Only requests of this type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<ResourceType>,
    /// When to pause (default: before sending).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_stage: Option<RequestStage>,
}

/// One HTTP header as a name/value pair; a list of these can repeat a name (`Set-Cookie`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HeaderEntry {
    /// Header name.
    pub name: String,
    /// Header value.
    pub value: String,
}

/// An authentication challenge (HTTP 401 or proxy 407).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuthChallenge {
    /// `"Server"` or `"Proxy"`.
    pub source: Option<String>,
    /// Origin of the challenger.
    pub origin: String,
    /// Scheme, e.g. `"basic"` or `"digest"`.
    pub scheme: String,
    /// Realm; may be empty.
    pub realm: String,
}

/// What to do about an authentication challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum AuthChallengeDecision {
    /// Let the browser decide: usually cancels, or shows a login dialog in headful mode.
    #[default]
    Default,
    /// Cancel; the page gets the 401/407 response.
    CancelAuth,
    /// Answer with `username` and `password`.
    ProvideCredentials,
}

/// Answer to an [`AuthChallenge`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthChallengeResponse {
    /// The decision.
    pub response: AuthChallengeDecision,
    /// Only with `ProvideCredentials`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Only with `ProvideCredentials`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// `Fetch.enable`: starts pausing matching requests of the target the command is sent to.
/// Sending it again replaces the patterns.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Enable {
    /// Requests to pause; `None` pauses every request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patterns: Option<Vec<RequestPattern>>,
    /// Also pause on authentication challenges (`authRequired`), answered with
    /// [`ContinueWithAuth`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle_auth_requests: Option<bool>,
}

impl Command for Enable {
    const METHOD: &'static str = "Fetch.enable";
    type Response = Empty;
}

/// `Fetch.disable`: stops pausing new requests.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Disable {}

impl Command for Disable {
    const METHOD: &'static str = "Fetch.disable";
    type Response = Empty;
}

/// `Fetch.continueRequest`: lets a paused request go on, optionally changed in ways the page
/// cannot see.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContinueRequest {
    /// From [`RequestPaused::request_id`].
    pub request_id: RequestId,
    /// New URL; the page still sees the old one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// New method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// New body, base64-encoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_data: Option<String>,
    /// Replaces all request headers (not merged); not applied to redirects that follow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<Vec<HeaderEntry>>,
    /// Pause this request again at the response stage (experimental).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intercept_response: Option<bool>,
}

impl Command for ContinueRequest {
    const METHOD: &'static str = "Fetch.continueRequest";
    type Response = Empty;
}

/// `Fetch.failRequest`: fails a paused request as a network error.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailRequest {
    /// From [`RequestPaused::request_id`].
    pub request_id: RequestId,
    /// The error the page sees; `BlockedByClient` reads as blocked on purpose.
    pub error_reason: ErrorReason,
}

impl Command for FailRequest {
    const METHOD: &'static str = "Fetch.failRequest";
    type Response = Empty;
}

/// `Fetch.fulfillRequest`: answers a paused request with our own response; nothing goes to
/// the network.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillRequest {
    /// From [`RequestPaused::request_id`].
    pub request_id: RequestId,
    /// HTTP status code.
    pub response_code: i64,
    /// Response headers; include `Content-Type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_headers: Option<Vec<HeaderEntry>>,
    /// Headers as base64 of `name: value` lines separated by NUL, for non-UTF-8 values; use
    /// instead of `response_headers`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binary_response_headers: Option<String>,
    /// Body, base64-encoded. `None`: empty at the request stage, the original body at the
    /// response stage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Status text; `None` uses the standard phrase for the code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_phrase: Option<String>,
}

impl Command for FulfillRequest {
    const METHOD: &'static str = "Fetch.fulfillRequest";
    type Response = Empty;
}

/// `Fetch.continueWithAuth`: answers an `authRequired` pause.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContinueWithAuth {
    /// From [`AuthRequired::request_id`].
    pub request_id: RequestId,
    /// The answer.
    pub auth_challenge_response: AuthChallengeResponse,
}

impl Command for ContinueWithAuth {
    const METHOD: &'static str = "Fetch.continueWithAuth";
    type Response = Empty;
}

/// `Fetch.requestPaused`: a matching request is paused until [`ContinueRequest`],
/// [`FailRequest`] or [`FulfillRequest`].
///
/// At the response stage `response_status_code` or `response_error_reason` is set; a redirect
/// shows as a 3xx code with a `location` header.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RequestPaused {
    /// Id to answer with.
    pub request_id: RequestId,
    /// The request.
    pub request: network::Request,
    /// Frame that made it.
    pub frame_id: FrameId,
    /// How the response will be used.
    pub resource_type: ResourceType,
    /// Set at the response stage when the response failed.
    pub response_error_reason: Option<ErrorReason>,
    /// Set at the response stage: the HTTP status.
    pub response_status_code: Option<i64>,
    /// Status text at the response stage.
    pub response_status_text: Option<String>,
    /// Response headers at the response stage.
    pub response_headers: Option<Vec<HeaderEntry>>,
    /// The `network::RequestId` of the same request, when `Network` events exist for it.
    pub network_id: Option<network::RequestId>,
    /// For a request caused by a redirect, the paused request that redirected.
    pub redirected_request_id: Option<RequestId>,
}

impl RequestPaused {
    /// True when paused after the response arrived rather than before sending.
    pub fn is_response_stage(&self) -> bool {
        self.response_status_code.is_some() || self.response_error_reason.is_some()
    }
}

impl Event for RequestPaused {
    const METHOD: &'static str = "Fetch.requestPaused";
}

/// `Fetch.authRequired` (needs `handle_auth_requests`): a request met an authentication
/// challenge and waits for [`ContinueWithAuth`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuthRequired {
    /// Id to answer with.
    pub request_id: RequestId,
    /// The request.
    pub request: network::Request,
    /// Frame that made it.
    pub frame_id: FrameId,
    /// How the response will be used.
    pub resource_type: ResourceType,
    /// The challenge.
    pub auth_challenge: AuthChallenge,
}

impl Event for AuthRequired {
    const METHOD: &'static str = "Fetch.authRequired";
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn enable_serializes_patterns() {
        let params = Enable {
            patterns: Some(vec![
                RequestPattern {
                    url_pattern: Some("*://ads.example/*".into()),
                    resource_type: Some(ResourceType::Script),
                    request_stage: Some(RequestStage::Request),
                },
                RequestPattern {
                    request_stage: Some(RequestStage::Response),
                    resource_type: Some(ResourceType::Xhr),
                    ..Default::default()
                },
            ]),
            handle_auth_requests: Some(true),
        };
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"patterns": [
                       {"urlPattern": "*://ads.example/*", "resourceType": "Script",
                        "requestStage": "Request"},
                       {"resourceType": "XHR", "requestStage": "Response"}],
                   "handleAuthRequests": true})
        );
    }

    #[test]
    fn answers_serialize() {
        let fail = FailRequest {
            request_id: "interception-job-1.0".into(),
            error_reason: ErrorReason::BlockedByClient,
        };
        assert_eq!(
            serde_json::to_value(&fail).unwrap(),
            json!({"requestId": "interception-job-1.0", "errorReason": "BlockedByClient"})
        );
        let fulfill = FulfillRequest {
            request_id: "R".into(),
            response_code: 200,
            response_headers: Some(vec![HeaderEntry {
                name: "Content-Type".into(),
                value: "text/html".into(),
            }]),
            body: Some("PGgxPmhpPC9oMT4=".into()),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&fulfill).unwrap(),
            json!({"requestId": "R", "responseCode": 200,
                   "responseHeaders": [{"name": "Content-Type", "value": "text/html"}],
                   "body": "PGgxPmhpPC9oMT4="})
        );
        let cont = ContinueRequest {
            request_id: "R".into(),
            headers: Some(vec![HeaderEntry {
                name: "X-A".into(),
                value: "1".into(),
            }]),
            post_data: Some("e30=".into()),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&cont).unwrap(),
            json!({"requestId": "R", "postData": "e30=",
                   "headers": [{"name": "X-A", "value": "1"}]})
        );
        let auth = ContinueWithAuth {
            request_id: "R".into(),
            auth_challenge_response: AuthChallengeResponse {
                response: AuthChallengeDecision::ProvideCredentials,
                username: Some("u".into()),
                password: Some("p".into()),
            },
        };
        assert_eq!(
            serde_json::to_value(&auth).unwrap(),
            json!({"requestId": "R", "authChallengeResponse":
                   {"response": "ProvideCredentials", "username": "u", "password": "p"}})
        );
        assert_eq!(ContinueWithAuth::METHOD, "Fetch.continueWithAuth");
    }

    #[test]
    fn request_paused_deserializes_both_stages() {
        let request_stage: RequestPaused = serde_json::from_value(json!({
            "requestId": "interception-job-3.0",
            "request": {"url": "https://example.com/app.js", "method": "GET",
                        "headers": {"Referer": "https://example.com/"},
                        "initialPriority": "High", "referrerPolicy": "strict-origin-when-cross-origin"},
            "frameId": "MAIN", "resourceType": "Script", "networkId": "1000.7"
        }))
        .unwrap();
        assert_eq!(request_stage.request_id, "interception-job-3.0");
        assert_eq!(request_stage.request.url, "https://example.com/app.js");
        assert_eq!(request_stage.request.method, "GET");
        assert_eq!(
            request_stage
                .request
                .headers
                .get("Referer")
                .map(String::as_str),
            Some("https://example.com/")
        );
        assert_eq!(request_stage.frame_id, "MAIN");
        assert_eq!(request_stage.resource_type, ResourceType::Script);
        assert_eq!(request_stage.network_id.as_deref(), Some("1000.7"));
        assert!(!request_stage.is_response_stage());

        let response_stage: RequestPaused = serde_json::from_value(json!({
            "requestId": "interception-job-4.0",
            "request": {"url": "https://example.com/old", "method": "GET", "headers": {}},
            "frameId": "MAIN", "resourceType": "Document",
            "responseStatusCode": 302, "responseStatusText": "Found",
            "responseHeaders": [{"name": "location", "value": "/new"},
                                {"name": "set-cookie", "value": "a=1"},
                                {"name": "set-cookie", "value": "b=2"}]
        }))
        .unwrap();
        assert!(response_stage.is_response_stage());
        assert_eq!(response_stage.response_status_code, Some(302));
        assert_eq!(
            response_stage.response_status_text.as_deref(),
            Some("Found")
        );
        assert_eq!(response_stage.response_headers.map(|h| h.len()), Some(3));

        let failed: RequestPaused = serde_json::from_value(json!({
            "requestId": "R", "request": {"url": "u", "method": "GET", "headers": {}},
            "frameId": "F", "resourceType": "Image", "responseErrorReason": "NameNotResolved"
        }))
        .unwrap();
        assert!(failed.is_response_stage());
        assert_eq!(
            failed.response_error_reason,
            Some(ErrorReason::NameNotResolved)
        );
    }

    #[test]
    fn auth_required_deserializes() {
        let event: AuthRequired = serde_json::from_value(json!({
            "requestId": "R",
            "request": {"url": "https://intranet/", "method": "GET", "headers": {}},
            "frameId": "F", "resourceType": "Document",
            "authChallenge": {"source": "Proxy", "origin": "http://proxy:3128",
                              "scheme": "basic", "realm": "corp"}
        }))
        .unwrap();
        assert_eq!(event.request_id, "R");
        assert_eq!(event.resource_type, ResourceType::Document);
        assert_eq!(event.auth_challenge.source.as_deref(), Some("Proxy"));
        assert_eq!(event.auth_challenge.origin, "http://proxy:3128");
        assert_eq!(event.auth_challenge.scheme, "basic");
        assert_eq!(event.auth_challenge.realm, "corp");
    }
}
