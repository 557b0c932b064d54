//! The one way the tools reach Tandem: its own `/api/v3` HTTP API, either in-process (the
//! server's router, called with the caller's credentials) or over HTTP (`tandem mcp`).
//!
//! Going through the API rather than the domain means a tool gets exactly what an SDK
//! client gets: the same validation, the same errors, the same key check, and whatever the
//! API does on the way (forwarding a request to the node that owns a session, for one).

use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;
use url::Url;

/// The header the SDKs (and Browser Use's MCP clients) send the key in.
pub const API_KEY_HEADER: &str = "x-browser-use-api-key";

/// Largest API answer read back (a page of 100 messages with their data fits easily).
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// Where API calls go.
#[derive(Clone)]
pub enum Api {
    /// The server's own router (everything under `/api/v3`), called in-process.
    InProcess(axum::Router),
    /// A Tandem server reached over HTTP; `base` is its root URL (`http://host:port`).
    Remote {
        /// The server's root URL.
        base: Url,
        /// A pooled HTTP client.
        http: reqwest::Client,
    },
}

/// Who a call is made for: the credentials it carries.
#[derive(Clone, Default)]
pub struct Credentials {
    headers: HeaderMap,
}

impl Credentials {
    /// The key given to `tandem mcp`, sent in the SDKs' header.
    pub fn key(key: &str) -> Credentials {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(key) {
            headers.insert(API_KEY_HEADER, value);
        }
        Credentials { headers }
    }

    /// Whatever the MCP client presented (its key header or bearer token), passed on as is so
    /// the API decides, as it would for a direct call.
    pub fn from_headers(presented: &HeaderMap) -> Credentials {
        let mut headers = HeaderMap::new();
        for name in [API_KEY_HEADER, AUTHORIZATION.as_str()] {
            if let Some(value) = presented.get(name) {
                headers.insert(name, value.clone());
            }
        }
        Credentials { headers }
    }
}

/// What the API answered: its status and its JSON body (`null` when it had none).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body, parsed.
    pub body: Value,
}

impl Answer {
    /// The API's own words for a failed call: its `detail` (a string, or FastAPI's list of
    /// field errors), else the status.
    pub fn detail(&self) -> String {
        match self.body.get("detail") {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Array(errors)) => errors
                .iter()
                .map(|e| {
                    let at: Vec<String> = e
                        .get("loc")
                        .and_then(Value::as_array)
                        .map(|loc| {
                            loc.iter()
                                .filter(|p| p.as_str() != Some("body"))
                                .map(|p| match p {
                                    Value::String(s) => s.clone(),
                                    other => other.to_string(),
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    let msg = e.get("msg").and_then(Value::as_str).unwrap_or("invalid");
                    if at.is_empty() {
                        msg.to_string()
                    } else {
                        format!("{}: {msg}", at.join("."))
                    }
                })
                .collect::<Vec<_>>()
                .join("; "),
            _ => format!("the API answered {}", self.status),
        }
    }
}

/// Why a call got no answer at all (an answer with an error status is an [`Answer`]).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The Tandem server could not be reached (`tandem mcp` only).
    #[error("cannot reach the Tandem server at {url}: {reason}")]
    Unreachable {
        /// Where the call went.
        url: String,
        /// What failed, without credentials.
        reason: String,
    },
    /// The answer was not JSON.
    #[error("the API answered {status} with a body that is not JSON")]
    NotJson {
        /// The answer's status.
        status: StatusCode,
    },
    /// The answer could not be read.
    #[error("reading the API's answer failed: {0}")]
    Read(String),
}

impl Api {
    /// Sends `method /api/v3{path}` (path may carry a query) with `body` as JSON.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        credentials: &Credentials,
        body: Option<&Value>,
    ) -> Result<Answer, ApiError> {
        let path = format!("/api/v3{path}");
        let (status, bytes) = match self {
            Api::InProcess(router) => {
                let mut request = Request::builder().method(method).uri(&path);
                for (name, value) in &credentials.headers {
                    request = request.header(name, value);
                }
                let body = match body {
                    Some(json) => {
                        request = request.header(CONTENT_TYPE, "application/json");
                        Body::from(json.to_string())
                    }
                    None => Body::empty(),
                };
                let request = request
                    .body(body)
                    .map_err(|e| ApiError::Read(e.to_string()))?;
                let response = match router.clone().oneshot(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                };
                let status = response.status();
                let bytes = axum::body::to_bytes(response.into_body(), MAX_ANSWER_BYTES)
                    .await
                    .map_err(|e| ApiError::Read(e.to_string()))?;
                (status, bytes.to_vec())
            }
            Api::Remote { base, http } => {
                // A server behind a path prefix keeps it: the root ends with `/`.
                let mut root = base.clone();
                if !root.path().ends_with('/') {
                    root.set_path(&format!("{}/", root.path()));
                }
                let url = root
                    .join(path.trim_start_matches('/'))
                    .map_err(|e| ApiError::Read(e.to_string()))?;
                let shown = redacted(&url);
                let mut request = http
                    .request(method, url)
                    .headers(credentials.headers.clone());
                if let Some(json) = body {
                    request = request
                        .header(CONTENT_TYPE, "application/json")
                        .body(json.to_string());
                }
                let response = request.send().await.map_err(|e| ApiError::Unreachable {
                    url: shown.clone(),
                    reason: without_url(&e),
                })?;
                let status = response.status();
                let bytes = response.bytes().await.map_err(|e| ApiError::Unreachable {
                    url: shown,
                    reason: without_url(&e),
                })?;
                (status, bytes.to_vec())
            }
        };
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).map_err(|_| ApiError::NotJson { status })?
        };
        Ok(Answer { status, body })
    }
}

/// A URL as it may be shown: no user name or password.
fn redacted(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

/// A reqwest error's reason without the URL it carries (which may hold credentials).
fn without_url(error: &reqwest::Error) -> String {
    let mut reason = error.to_string();
    if let Some(url) = error.url() {
        reason = reason.replace(url.as_str(), "");
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        reason = format!("{reason}: {cause}");
        source = cause.source();
    }
    reason
        .replace("error sending request for url ()", "request failed")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn detail_reads_a_string_or_field_errors() {
        let answer = Answer {
            status: StatusCode::NOT_FOUND,
            body: json!({"detail": "Session not found"}),
        };
        assert_eq!(answer.detail(), "Session not found");
        let answer = Answer {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: json!({"detail": [
                {"loc": ["body", "task"], "msg": "task must not be empty", "type": "string_too_short"},
                {"loc": ["body"], "msg": "width and height together", "type": "value_error"}
            ]}),
        };
        assert_eq!(
            answer.detail(),
            "task: task must not be empty; width and height together"
        );
        let answer = Answer {
            status: StatusCode::BAD_GATEWAY,
            body: Value::Null,
        };
        assert_eq!(answer.detail(), "the API answered 502 Bad Gateway");
    }

    #[test]
    fn credentials_pass_on_only_the_key_headers() {
        let mut presented = HeaderMap::new();
        presented.insert(API_KEY_HEADER, HeaderValue::from_static("tk_a"));
        presented.insert(AUTHORIZATION, HeaderValue::from_static("Bearer tk_b"));
        presented.insert("cookie", HeaderValue::from_static("x=1"));
        let credentials = Credentials::from_headers(&presented);
        assert_eq!(credentials.headers.len(), 2);
        assert!(credentials.headers.get("cookie").is_none());
        assert_eq!(
            Credentials::key("tk_c")
                .headers
                .get(API_KEY_HEADER)
                .unwrap(),
            "tk_c"
        );
    }

    /// A stand-in for the API router: echoes what reached it.
    fn echo_router() -> axum::Router {
        use axum::routing::any;
        axum::Router::new()
            .route(
                "/api/v3/{*rest}",
                any(|request: Request<Body>| async move {
                    let key = request
                        .headers()
                        .get(API_KEY_HEADER)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    if key.is_none() {
                        return (
                            StatusCode::UNAUTHORIZED,
                            axum::Json(
                                json!({"detail": "X-Browser-Use-API-Key header is required"}),
                            ),
                        );
                    }
                    let uri = request.uri().to_string();
                    let method = request.method().to_string();
                    let body = axum::body::to_bytes(request.into_body(), 1024)
                        .await
                        .unwrap();
                    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    (
                        StatusCode::OK,
                        axum::Json(json!({"uri": uri, "method": method, "key": key, "body": body})),
                    )
                }),
            )
            .route(
                "/api/v3/empty",
                axum::routing::delete(|| async { StatusCode::NO_CONTENT }),
            )
    }

    #[tokio::test]
    async fn in_process_calls_reach_the_router_with_the_callers_key() {
        let api = Api::InProcess(echo_router());
        let answer = api
            .call(
                Method::POST,
                "/sessions?x=1",
                &Credentials::key("tk_a"),
                Some(&json!({"task": "t"})),
            )
            .await
            .unwrap();
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(
            answer.body,
            json!({"uri": "/api/v3/sessions?x=1", "method": "POST", "key": "tk_a", "body": {"task": "t"}})
        );
        let refused = api
            .call(Method::GET, "/sessions", &Credentials::default(), None)
            .await
            .unwrap();
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        assert_eq!(refused.detail(), "X-Browser-Use-API-Key header is required");
        let empty = api
            .call(Method::DELETE, "/empty", &Credentials::key("k"), None)
            .await
            .unwrap();
        assert_eq!(empty.status, StatusCode::NO_CONTENT);
        assert_eq!(empty.body, Value::Null);
    }

    #[tokio::test]
    async fn an_unreachable_server_is_named_without_credentials() {
        // A port nothing listens on: bind one, then free it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let api = Api::Remote {
            base: Url::parse(&format!("http://user:secret@127.0.0.1:{port}/tandem")).unwrap(),
            http: reqwest::Client::new(),
        };
        let error = api
            .call(Method::GET, "/sessions", &Credentials::key("tk_a"), None)
            .await
            .unwrap_err();
        let text = error.to_string();
        let at = format!(
            "cannot reach the Tandem server at http://127.0.0.1:{port}/tandem/api/v3/sessions:"
        );
        assert!(text.starts_with(&at), "{text}");
        assert!(!text.contains("secret") && !text.contains("tk_a"), "{text}");
    }

    #[test]
    fn shown_urls_carry_no_credentials() {
        let url = Url::parse("http://user:secret@127.0.0.1:8080/api/v3/sessions").unwrap();
        assert_eq!(redacted(&url), "http://127.0.0.1:8080/api/v3/sessions");
    }
}
