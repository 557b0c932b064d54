//! `cdpUrl`: Chrome DevTools Protocol access to a live browser, for Playwright, Puppeteer and
//! any CDP client.
//!
//! `cdpUrl` is `{base}/cdp/{token}`, an HTTP base shaped like Chromium's own debugging
//! endpoint:
//! - `GET {cdpUrl}/json/version` answers like Chromium's, with `webSocketDebuggerUrl`
//!   rewritten to `ws(s)://{public URL or host}/cdp/{token}/devtools/browser` (Playwright's
//!   `connect_over_cdp(cdpUrl)` reads it; Puppeteer takes it as `browserWSEndpoint`);
//! - `GET {cdpUrl}/json/list` (and `/json`) lists the tabs with page-level socket URLs;
//! - `{cdpUrl}/devtools/browser` and `{cdpUrl}/devtools/page/{target}` are WebSockets relayed
//!   to the browser's own debugging sockets.
//!
//! The token ([`Mode::Cdp`], bound to one browser and its end) is the whole credential: no
//! API key, as with the cloud's CDP URLs. Each client gets its own upstream connection, so
//! several clients, the agent and the live view share the browser without seeing each other's
//! sessions. A client's `Browser.close` is answered with success and ends only that client's
//! connection, never the browser: Playwright's and Puppeteer's `browser.close()` must not end
//! the session. `Browser.crash` is refused, and `Browser.setDownloadBehavior` for the default
//! context is acknowledged without effect: that context's downloads stay Tandem's (listed at
//! `/browsers/{id}/downloads`, copied into the session's workspace). Every client message is
//! parsed for these (escapes included); one that is not plain JSON is refused.

use axum::Router;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use axum::extract::{Path, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use browser::Browser;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use std::borrow::Cow;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite;
use uuid::Uuid;

use crate::links::{self, LinkError, Mode};
use crate::owners::Activity;
use crate::state::AppState;

/// Largest CDP message relayed (full-page screenshots are big).
const MAX_MESSAGE_BYTES: usize = 256 << 20;

/// Frames queued towards one client before the relay waits for it.
const CLIENT_QUEUE: usize = 256;

/// The routes of the proxy.
pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for path in ["/cdp/{token}/json/version", "/cdp/{token}/json/version/"] {
        router = router.route(path, get(version));
    }
    for path in [
        "/cdp/{token}/json",
        "/cdp/{token}/json/",
        "/cdp/{token}/json/list",
        "/cdp/{token}/json/list/",
    ] {
        router = router.route(path, get(list));
    }
    router
        .route("/cdp/{token}/devtools/browser", get(browser_socket))
        .route(
            "/cdp/{token}/devtools/browser/{id}",
            get(browser_socket_with_id),
        )
        .route("/cdp/{token}/devtools/page/{target}", get(page_socket))
}

/// Why a CDP request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CdpAccessError {
    /// The token is missing, malformed, forged, expired or of another kind.
    #[error(transparent)]
    Link(LinkError),
    /// The browser has stopped (or never existed).
    #[error("Browser not found or stopped")]
    Gone,
    /// A target id that cannot be one.
    #[error("No such target")]
    BadTarget,
}

impl IntoResponse for CdpAccessError {
    fn into_response(self) -> Response {
        let status = match self {
            CdpAccessError::Link(refused) => return refused.into_response(),
            CdpAccessError::Gone | CdpAccessError::BadTarget => StatusCode::NOT_FOUND,
        };
        (status, axum::Json(json!({ "detail": self.to_string() }))).into_response()
    }
}

/// The live browser a token opens.
fn authorize(app: &AppState, token: &str) -> Result<(Uuid, Browser), CdpAccessError> {
    let claims = links::verify(
        app.links.signer(),
        Some(token),
        &[Mode::Cdp],
        None,
        None,
        chrono::Utc::now(),
    )
    .map_err(CdpAccessError::Link)?;
    let browser = app
        .owners
        .browser(claims.subject)
        .filter(Browser::is_running)
        .ok_or(CdpAccessError::Gone)?;
    Ok((claims.subject, browser))
}

/// `ws(s)://…/cdp/{token}` for this request (see [`crate::links::LiveLinks::cdp_socket_base`]).
fn socket_base(app: &AppState, headers: &HeaderMap, token: &str) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    app.links.cdp_socket_base(host, token)
}

/// `GET {cdpUrl}/json/version`.
async fn version(
    State(app): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, CdpAccessError> {
    let (_, browser) = authorize(&app, &token)?;
    let info = browser
        .cdp()
        .call(cdp::protocol::browser::GetVersion {})
        .await
        .map_err(|_| CdpAccessError::Gone)?;
    Ok(axum::Json(json!({
        "Browser": info.product,
        "Protocol-Version": info.protocol_version,
        "User-Agent": info.user_agent,
        "V8-Version": info.js_version,
        "WebKit-Version": info.revision,
        "webSocketDebuggerUrl": format!("{}/devtools/browser", socket_base(&app, &headers, &token)),
    }))
    .into_response())
}

/// `GET {cdpUrl}/json/list`: the tabs, each with its relayed page socket.
async fn list(
    State(app): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, CdpAccessError> {
    let (_, browser) = authorize(&app, &token)?;
    let base = socket_base(&app, &headers, &token);
    let tabs: Vec<Value> = browser
        .tabs()
        .into_iter()
        .map(|tab| {
            json!({
                "description": "",
                "devtoolsFrontendUrl": "",
                "id": tab.id,
                "title": tab.title,
                "type": "page",
                "url": tab.url,
                "webSocketDebuggerUrl": format!("{base}/devtools/page/{}", tab.id),
            })
        })
        .collect();
    Ok(axum::Json(tabs).into_response())
}

/// `{cdpUrl}/devtools/browser`: a browser-level CDP connection of the client's own.
async fn browser_socket(
    State(app): State<AppState>,
    Path(token): Path<String>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, CdpAccessError> {
    let (id, browser) = authorize(&app, &token)?;
    let upstream = browser.ws_url().to_string();
    Ok(accept(upgrade, &app, id, upstream))
}

/// `{cdpUrl}/devtools/browser/{id}`: the same, for clients that keep Chromium's path shape.
async fn browser_socket_with_id(
    State(app): State<AppState>,
    Path((token, _)): Path<(String, String)>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, CdpAccessError> {
    browser_socket(State(app), Path(token), upgrade).await
}

/// `{cdpUrl}/devtools/page/{target}`: a page-level connection to one tab.
async fn page_socket(
    State(app): State<AppState>,
    Path((token, target)): Path<(String, String)>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, CdpAccessError> {
    let (id, browser) = authorize(&app, &token)?;
    if target.is_empty() || target.len() > 64 || !target.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(CdpAccessError::BadTarget);
    }
    let upstream = page_url(browser.ws_url(), &target).ok_or(CdpAccessError::Gone)?;
    Ok(accept(upgrade, &app, id, upstream))
}

/// Chromium's page socket address, next to its browser socket address.
fn page_url(browser_ws: &str, target: &str) -> Option<String> {
    let (origin, _) = browser_ws.split_once("/devtools/")?;
    Some(format!("{origin}/devtools/page/{target}"))
}

fn accept(upgrade: WebSocketUpgrade, app: &AppState, id: Uuid, upstream: String) -> Response {
    // A client driving an agent session's browser between tasks is using it: its commands
    // restart the inactivity clock, as a human's input in the live view does.
    let activity = Activity::new(app.owners.clone(), id);
    upgrade
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| relay(socket, id, upstream, activity))
}

/// What to do with one message from the client.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// Send it on to Chromium.
    Forward,
    /// Answer it ourselves with this text, then close the client's connection.
    AnswerAndClose(String),
    /// Answer it ourselves with this text and go on.
    Answer(String),
}

/// The parts of a client's command that [`inspect`] decides on. Parsed the way Chromium
/// reads it, escapes and all (`"\u0042rowser.close"` is `Browser.close`); a duplicated key
/// is an error, since Chromium and a lenient parser could each take another copy of it.
#[derive(Deserialize)]
struct ClientCommand<'a> {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default, borrow)]
    method: Option<Cow<'a, str>>,
    #[serde(default, rename = "sessionId")]
    session_id: Option<Value>,
    #[serde(default)]
    params: Option<CommandParams>,
}

/// The one parameter [`inspect`] looks at.
#[derive(Deserialize)]
struct CommandParams {
    #[serde(default, rename = "browserContextId")]
    browser_context_id: Option<Value>,
}

/// `Browser.close` ends only the client's connection; `Browser.crash` is refused;
/// `Browser.setDownloadBehavior` for the default context is acknowledged but not forwarded,
/// since Tandem keeps that context's downloads (a client's setting would send them to a folder
/// on the client's machine that Chromium cannot reach, and hide them from Tandem).
///
/// Every message is parsed: a text search for `"Browser.` is blind to escapes, and parsing
/// costs little (measured in release: about 0.35 µs for a typical 240-byte command, 80 µs for
/// a 300 KB injected script, far below relaying it). A message that cannot be read
/// unambiguously (not JSON, a duplicated key, a method that is not a string) is refused
/// rather than forwarded: Chromium's parser need not agree with ours on what is not plain
/// JSON, so relaying what we cannot read could let a `Browser.close` through.
fn inspect(text: &str) -> Verdict {
    let message = match serde_json::from_str::<ClientCommand>(text) {
        Ok(message) => message,
        Err(e) => return Verdict::Answer(unreadable(text, &e)),
    };
    let mut answer = json!({ "id": message.id.unwrap_or(Value::Null) });
    if let Some(session) = message.session_id {
        answer["sessionId"] = session;
    }
    let default_context = message
        .params
        .is_none_or(|p| p.browser_context_id.is_none_or(|c| c.is_null()));
    match message.method.as_deref() {
        Some("Browser.close") => {
            answer["result"] = json!({});
            Verdict::AnswerAndClose(answer.to_string())
        }
        Some("Browser.crash") => {
            answer["error"] = json!({
                "code": -32000,
                "message": "Tandem does not let a CDP client crash a shared browser",
            });
            Verdict::Answer(answer.to_string())
        }
        Some("Browser.setDownloadBehavior") if default_context => {
            answer["result"] = json!({});
            Verdict::Answer(answer.to_string())
        }
        _ => Verdict::Forward,
    }
}

/// The error answer to a message [`inspect`] cannot read, with its id when one can be found.
fn unreadable(text: &str, error: &serde_json::Error) -> String {
    let id = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.get("id").cloned());
    let error = json!({
        "code": if error.is_syntax() || error.is_eof() { -32700 } else { -32600 },
        "message": format!("Tandem relays only plain JSON CDP messages without duplicate keys: {error}"),
    });
    match id {
        Some(id) => json!({ "id": id, "error": error }),
        None => json!({ "error": error }),
    }
    .to_string()
}

/// Relays one client to a new upstream connection of its own until either side closes.
async fn relay(client: WebSocket, id: Uuid, upstream_url: String, activity: Activity) {
    let config = tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES));
    let upstream =
        match tokio_tungstenite::connect_async_with_config(&upstream_url, Some(config), true).await
        {
            Ok((upstream, _)) => upstream,
            Err(e) => {
                tracing::warn!(browser = %id, error = %e, "CDP proxy cannot reach the browser");
                let mut client = client;
                let _ = client
                    .send(Message::Close(Some(CloseFrame {
                        code: 1011,
                        reason: Utf8Bytes::from_static("the browser is not reachable"),
                    })))
                    .await;
                return;
            }
        };
    tracing::debug!(browser = %id, "CDP client connected");
    let (mut upstream_tx, mut upstream_rx) = upstream.split();
    let (mut client_tx, mut client_rx) = client.split();
    let (to_client, mut to_client_rx) = mpsc::channel::<Message>(CLIENT_QUEUE);

    // One writer owns the client's socket: relayed frames and our own answers share it.
    let writer = async move {
        while let Some(message) = to_client_rx.recv().await {
            let closing = matches!(message, Message::Close(_));
            if client_tx.send(message).await.is_err() || closing {
                break;
            }
        }
        let _ = client_tx.close().await;
    };
    let from_browser = {
        let to_client = to_client.clone();
        async move {
            while let Some(Ok(message)) = upstream_rx.next().await {
                let relayed = match message {
                    tungstenite::Message::Text(text) => Message::Text(text.as_str().into()),
                    tungstenite::Message::Binary(bytes) => Message::Binary(bytes),
                    tungstenite::Message::Close(_) => break,
                    _ => continue,
                };
                if to_client.send(relayed).await.is_err() {
                    break;
                }
            }
            let _ = to_client.send(Message::Close(None)).await;
        }
    };
    let from_client = async move {
        while let Some(Ok(message)) = client_rx.next().await {
            // Binary frames are read as text too: what Chromium would run is inspected.
            let verdict = match &message {
                Message::Text(text) => inspect(text.as_str()),
                Message::Binary(bytes) => match std::str::from_utf8(bytes) {
                    Ok(text) => inspect(text),
                    Err(_) => Verdict::Answer(
                        json!({"error": {"code": -32700, "message": "Tandem relays only UTF-8 JSON CDP messages"}})
                            .to_string(),
                    ),
                },
                Message::Close(_) => break,
                _ => continue,
            };
            let relayed = match verdict {
                Verdict::Forward => match message {
                    Message::Text(text) => tungstenite::Message::Text(text.as_str().into()),
                    Message::Binary(bytes) => tungstenite::Message::Binary(bytes),
                    _ => continue,
                },
                Verdict::Answer(answer) => {
                    let _ = to_client.send(Message::Text(answer.into())).await;
                    continue;
                }
                Verdict::AnswerAndClose(answer) => {
                    tracing::debug!(browser = %id, "CDP client's Browser.close ends its connection only");
                    let _ = to_client.send(Message::Text(answer.into())).await;
                    let _ = to_client.send(Message::Close(None)).await;
                    break;
                }
            };
            if upstream_tx.send(relayed).await.is_err() {
                break;
            }
            activity.touch(false);
        }
        let _ = upstream_tx.close().await;
    };
    let writing = tokio::spawn(writer);
    tokio::select! {
        () = from_browser => {}
        () = from_client => {}
    }
    // Whichever side ended, the writer drains what is queued (a `Browser.close` answer) and
    // closes the client; the upstream socket is dropped here, which closes it.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), writing).await;
    tracing::debug!(browser = %id, "CDP client disconnected");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_close_is_answered_locally_and_crash_refused() {
        assert_eq!(
            inspect(r#"{"id":1,"method":"Target.getTargets"}"#),
            Verdict::Forward
        );
        let Verdict::AnswerAndClose(answer) =
            inspect(r#"{"id":7,"method":"Browser.close","sessionId":"S"}"#)
        else {
            panic!("Browser.close must be intercepted")
        };
        assert_eq!(
            serde_json::from_str::<Value>(&answer).unwrap(),
            json!({"id": 7, "sessionId": "S", "result": {}})
        );
        let Verdict::Answer(answer) = inspect(r#"{"id":8,"method":"Browser.crash"}"#) else {
            panic!("Browser.crash must be refused")
        };
        assert!(answer.contains("\"error\""));
        let Verdict::Answer(answer) = inspect(
            r#"{"id":9,"method":"Browser.setDownloadBehavior","params":{"behavior":"deny"}}"#,
        ) else {
            panic!("the default context's downloads stay Tandem's")
        };
        assert!(answer.contains("\"result\""));
        assert_eq!(
            inspect(
                r#"{"id":10,"method":"Browser.setDownloadBehavior","params":{"behavior":"deny","browserContextId":"C"}}"#
            ),
            Verdict::Forward
        );
        assert_eq!(
            inspect(
                r#"{"id":9,"method":"Runtime.evaluate","params":{"expression":"'Browser.close'"}}"#
            ),
            Verdict::Forward
        );
        // Escapes name the same method: Chromium would run it.
        for escaped in [
            r#"{"id":11,"method":"\u0042rowser.close"}"#,
            r#"{"id":11,"method":"\u0042\u0072\u006f\u0077\u0073\u0065\u0072\u002e\u0063lose"}"#,
            r#"{"id":11,"\u006dethod":"Browser.close"}"#,
        ] {
            let Verdict::AnswerAndClose(answer) = inspect(escaped) else {
                panic!("{escaped} must be intercepted")
            };
            assert_eq!(
                serde_json::from_str::<Value>(&answer).unwrap(),
                json!({"id": 11, "result": {}})
            );
        }
        // What cannot be read the one way Chromium would is refused, never forwarded.
        for ambiguous in [
            r#"{"id":12,"method":"Target.getTargets","method":"Browser.close"}"#,
            r#"{"id":12,/* a comment */"method":"Browser.close"}"#,
            r#"{"id":12,"method":7}"#,
            "not json",
        ] {
            let Verdict::Answer(answer) = inspect(ambiguous) else {
                panic!("{ambiguous} must be refused")
            };
            let answer: Value = serde_json::from_str(&answer).unwrap();
            assert!(answer["error"]["message"].is_string(), "{answer}");
        }
        assert_eq!(
            inspect(r#"{"id":13,"method":"Page.navigate","params":{"url":"\ud800"}}"#),
            Verdict::Forward,
            "a lone surrogate in a value we ignore is Chromium's business"
        );
    }

    #[test]
    fn page_sockets_sit_next_to_the_browser_socket() {
        assert_eq!(
            page_url("ws://127.0.0.1:4242/devtools/browser/abc", "T1").as_deref(),
            Some("ws://127.0.0.1:4242/devtools/page/T1")
        );
        assert_eq!(page_url("nonsense", "T1"), None);
    }
}
