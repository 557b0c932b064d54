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
//! the session. `Browser.setDownloadBehavior` (and `Page.`'s) is acknowledged without effect:
//! downloads stay Tandem's (listed at `/browsers/{id}/downloads`, copied into the session's
//! workspace), never written where a client says. A client reaches nothing of the server's
//! machine: `Page.navigate`, `Target.createTarget` and `Network.loadNetworkResource` to an
//! address [`browser::address::check`] refuses (`file:`, `chrome:`, ...) are refused, and so
//! are the commands in [`REFUSED_METHODS`] (`Browser.crash`, local file uploads, handing a page
//! the raw protocol). Every client message is parsed for these (escapes included); one that is
//! not plain JSON is refused.

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
    Ok(accept(upgrade, &app, id, browser, None))
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
    Ok(accept(upgrade, &app, id, browser, Some(target)))
}

fn accept(
    upgrade: WebSocketUpgrade,
    app: &AppState,
    id: Uuid,
    browser: Browser,
    target: Option<String>,
) -> Response {
    // A client driving an agent session's browser between tasks is using it: its commands
    // restart the inactivity clock, as a human's input in the live view does.
    let activity = Activity::new(app.owners.clone(), id);
    upgrade
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| relay(socket, id, browser, target, activity))
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

/// The parameters [`inspect`] looks at: the context of a download setting, the address of a
/// navigation or a new tab.
#[derive(Deserialize)]
struct CommandParams {
    #[serde(default)]
    url: Option<Value>,
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
    let url = message.params.and_then(|p| p.url);
    let method = message.method.as_deref().unwrap_or_default();
    let refuse = |mut answer: Value, why: String| {
        answer["error"] = json!({ "code": -32000, "message": why });
        Verdict::Answer(answer.to_string())
    };
    match method {
        "Browser.close" => {
            answer["result"] = json!({});
            Verdict::AnswerAndClose(answer.to_string())
        }
        "Browser.setDownloadBehavior" | "Page.setDownloadBehavior" => {
            answer["result"] = json!({});
            Verdict::Answer(answer.to_string())
        }
        _ if REFUSED_METHODS.contains(&method) => refuse(
            answer,
            format!("Tandem does not let a CDP client use {method} on a shared browser"),
        ),
        "Page.navigate" | "Target.createTarget" | "Network.loadNetworkResource" => {
            match url.as_ref().map(|u| u.as_str()) {
                // Chromium's own `about:blank` for a new tab.
                Some(Some("")) if method == "Target.createTarget" => Verdict::Forward,
                Some(Some(url)) => match browser::address::check(url) {
                    Ok(()) => Verdict::Forward,
                    Err(e) => refuse(answer, format!("{method} refused: {e}")),
                },
                // Chromium answers a missing url itself; a url that is not a string is refused,
                // since we cannot tell where it would go.
                None => Verdict::Forward,
                Some(None) => refuse(answer, format!("{method} needs a string url")),
            }
        }
        _ => Verdict::Forward,
    }
}

/// Commands a CDP client may not send through `cdpUrl`: crashing the shared browser, handing a
/// page the raw protocol (which the proxy would no longer see), pointing Chromium at local files
/// for an upload (`DOM.setFileInputFiles` reads any path the server can: a client uploads file
/// contents instead, e.g. Playwright's `setInputFiles` with a buffer), or at other machines'
/// debuggers, and the browser's own command and extension back doors.
const REFUSED_METHODS: &[&str] = &[
    "Browser.crash",
    "Browser.crashGpuProcess",
    "Browser.executeBrowserCommand",
    "Target.exposeDevToolsProtocol",
    "Target.setRemoteLocations",
    "DOM.setFileInputFiles",
    "Extensions.loadUnpacked",
    "Extensions.uninstall",
    "Extensions.getStorageItems",
    "Extensions.setStorageItems",
    "Extensions.removeStorageItems",
    "Extensions.clearStorageItems",
];

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

/// The parts of a forwarded command the relay needs: its id, method, session and raw params.
#[derive(Deserialize)]
struct Forwarded<'a> {
    #[serde(default)]
    id: Option<Value>,
    #[serde(borrow)]
    method: Cow<'a, str>,
    #[serde(default, rename = "sessionId")]
    session_id: Option<String>,
    #[serde(default, borrow)]
    params: Option<&'a serde_json::value::RawValue>,
}

/// The session id in a `Target.attachedToTarget` / `detachedFromTarget` event.
#[derive(Deserialize)]
struct Ids {
    #[serde(default, rename = "sessionId")]
    session_id: Option<String>,
}

/// The client's answer to a relayed command (`raw`, Chromium's answer with our id), if the
/// command was this client's; notes the sessions it attached and the contexts it created.
fn answer_for(
    in_flight: &mut std::collections::HashMap<u64, (Value, Option<String>, String)>,
    owned: &mut std::collections::HashSet<String>,
    contexts: &mut Vec<String>,
    raw: &str,
) -> Option<String> {
    #[derive(Deserialize)]
    struct Answer {
        id: u64,
        #[serde(default)]
        result: Option<Value>,
        #[serde(default)]
        error: Option<Value>,
    }
    let answer: Answer = serde_json::from_str(raw).ok()?;
    let (client_id, session, method) = in_flight.remove(&answer.id)?;
    let mut reply = json!({ "id": client_id });
    if let Some(session) = session {
        reply["sessionId"] = json!(session);
    }
    match (answer.error, answer.result) {
        (Some(error), _) => reply["error"] = error,
        (None, result) => {
            let result = result.unwrap_or_else(|| json!({}));
            if method.starts_with("Target.attachTo")
                && let Some(attached) = result["sessionId"].as_str()
            {
                owned.insert(attached.to_string());
            }
            if method == "Target.createBrowserContext"
                && let Some(context) = result["browserContextId"].as_str()
            {
                contexts.push(context.to_string());
            }
            reply["result"] = result;
        }
    }
    Some(reply.to_string())
}

/// Relays one client over Tandem's own DevTools connection (Chromium's pipe: there is no port
/// to give each client a socket of its own) until either side closes.
///
/// The client gets a flattened session of its own: the browser target
/// (`Target.attachToBrowserTarget`) for a browser socket, the tab for a page socket. What it
/// sends without a session id goes to that session; what it sends with one must name a session
/// it opened (attached from its own sessions); events of its sessions come back, those of
/// Tandem's and other clients' do not. When it leaves, its sessions are detached and the
/// browser contexts it created disposed, as Chromium does when a debugging socket closes.
async fn relay(
    client: WebSocket,
    id: Uuid,
    browser: Browser,
    target: Option<String>,
    activity: Activity,
) {
    let cdp = browser.cdp().clone();
    // Subscribed before attaching: no event of the new session can be missed.
    let mut events = cdp.all_events();
    let attached = match &target {
        None => cdp.send("Target.attachToBrowserTarget", json!({})).await,
        Some(target) => {
            cdp.send(
                "Target.attachToTarget",
                json!({ "targetId": target, "flatten": true }),
            )
            .await
        }
    };
    let root = match attached
        .ok()
        .and_then(|a| a["sessionId"].as_str().map(str::to_string))
    {
        Some(root) => root,
        None => {
            tracing::debug!(browser = %id, "CDP proxy cannot attach a client session");
            let mut client = client;
            let _ = client
                .send(Message::Close(Some(CloseFrame {
                    code: 1011,
                    reason: Utf8Bytes::from_static("the browser or tab is not reachable"),
                })))
                .await;
            return;
        }
    };
    tracing::debug!(browser = %id, "CDP client connected");
    let mut owned: std::collections::HashSet<String> = std::collections::HashSet::new();
    owned.insert(root.clone());
    let (mut client_tx, mut client_rx) = client.split();
    let (to_client, mut to_client_rx) = mpsc::channel::<Message>(CLIENT_QUEUE);
    // The client's commands in flight: our id -> (the client's id, the session it named, the
    // method).
    let mut in_flight: std::collections::HashMap<u64, (Value, Option<String>, String)> =
        std::collections::HashMap::new();
    let mut contexts: Vec<String> = Vec::new();

    // One writer owns the client's socket: events, answers and our own answers share it.
    let writing = tokio::spawn(async move {
        while let Some(message) = to_client_rx.recv().await {
            let closing = matches!(message, Message::Close(_));
            if client_tx.send(message).await.is_err() || closing {
                break;
            }
        }
        let _ = client_tx.close().await;
    });

    loop {
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { break };
                // An answer to one of the client's commands, in Chromium's order among events.
                if event.method.is_empty() {
                    let Some(answer) = answer_for(&mut in_flight, &mut owned, &mut contexts, event.params.get()) else {
                        continue;
                    };
                    if to_client.send(Message::Text(answer.into())).await.is_err() {
                        break;
                    }
                    continue;
                }
                let Some(session) = event.session_id.as_deref() else { continue };
                if !owned.contains(session) {
                    continue;
                }
                let ids = || serde_json::from_str::<Ids>(event.params.get()).ok();
                match event.method.as_str() {
                    "Target.attachedToTarget" => {
                        if let Some(child) = ids().and_then(|i| i.session_id) {
                            owned.insert(child);
                        }
                    }
                    "Target.detachedFromTarget" => {
                        if let Some(child) = ids().and_then(|i| i.session_id) {
                            owned.remove(&child);
                        }
                    }
                    _ => {}
                }
                let mut message = json!({ "method": event.method, "params": &*event.params });
                if session != root {
                    message["sessionId"] = json!(session);
                }
                if to_client.send(Message::Text(message.to_string().into())).await.is_err() {
                    break;
                }
            }
            message = client_rx.next() => {
                let Some(Ok(message)) = message else { break };
                // Binary frames are read as text too: what Chromium would run is inspected.
                let text = match &message {
                    Message::Text(text) => text.as_str(),
                    Message::Binary(bytes) => match std::str::from_utf8(bytes) {
                        Ok(text) => text,
                        Err(_) => {
                            let refused = json!({"error": {"code": -32700, "message": "Tandem relays only UTF-8 JSON CDP messages"}});
                            let _ = to_client.send(Message::Text(refused.to_string().into())).await;
                            continue;
                        }
                    },
                    Message::Close(_) => break,
                    _ => continue,
                };
                match inspect(text) {
                    Verdict::Forward => {}
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
                }
                // `inspect` read it as plain JSON already.
                let Ok(command) = serde_json::from_str::<Forwarded>(text) else { continue };
                let client_id = command.id.clone().unwrap_or(Value::Null);
                let session = command.session_id.clone().unwrap_or_else(|| root.clone());
                let mut answer = json!({ "id": client_id });
                if let Some(session) = &command.session_id {
                    answer["sessionId"] = json!(session);
                }
                if !owned.contains(&session) {
                    answer["error"] = json!({"code": -32001, "message": "Session with given id not found."});
                    let _ = to_client.send(Message::Text(answer.to_string().into())).await;
                    continue;
                }
                let params = command
                    .params
                    .map(|p| p.to_owned())
                    .unwrap_or_else(|| serde_json::value::RawValue::from_string("{}".into()).unwrap_or_default());
                activity.touch(false);
                match cdp.relay(Some(&session), &command.method, &params) {
                    Ok(sent) => {
                        in_flight.insert(sent, (client_id, command.session_id.clone(), command.method.to_string()));
                    }
                    Err(_) => break,
                }
            }
        }
    }
    drop(to_client);
    // Whichever side ended, the writer drains what is queued (a `Browser.close` answer) and
    // closes the client.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), writing).await;
    // What the client leaves behind: its sessions and the contexts it created.
    for context in contexts {
        let _ = cdp
            .send(
                "Target.disposeBrowserContext",
                json!({ "browserContextId": context }),
            )
            .await;
    }
    for session in owned {
        let _ = cdp
            .send("Target.detachFromTarget", json!({ "sessionId": session }))
            .await;
    }
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
        let Verdict::Answer(answer) = inspect(
            r#"{"id":10,"method":"Browser.setDownloadBehavior","params":{"behavior":"allow","downloadPath":"/etc","browserContextId":"C"}}"#,
        ) else {
            panic!("no context's downloads go where a client says")
        };
        assert!(answer.contains("\"result\""));
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
            inspect(r#"{"id":13,"method":"Runtime.evaluate","params":{"expression":"'\ud800'"}}"#),
            Verdict::Forward,
            "a lone surrogate in a value we ignore is Chromium's business"
        );
        assert!(
            matches!(
                inspect(r#"{"id":13,"method":"Page.navigate","params":{"url":"\ud800"}}"#),
                Verdict::Answer(_)
            ),
            "an address we cannot read is refused"
        );
    }

    #[test]
    fn navigations_to_local_addresses_and_escape_hatches_are_refused() {
        for allowed in [
            r#"{"id":1,"method":"Page.navigate","params":{"url":"https://example.com/"}}"#,
            r#"{"id":1,"method":"Page.navigate","sessionId":"S","params":{"url":"about:blank"}}"#,
            r#"{"id":1,"method":"Target.createTarget","params":{"url":""}}"#,
            r#"{"id":1,"method":"Target.createTarget","params":{"url":"about:blank"}}"#,
            r#"{"id":1,"method":"Runtime.evaluate","params":{"expression":"1"}}"#,
        ] {
            assert_eq!(inspect(allowed), Verdict::Forward, "{allowed}");
        }
        for refused in [
            r#"{"id":2,"method":"Page.navigate","params":{"url":"file:///etc/passwd"}}"#,
            r#"{"id":2,"method":"Page.navigate","params":{"url":" FILE:///etc/passwd"}}"#,
            r#"{"id":2,"method":"Page.navigate","params":{"url":"\u0066ile:///etc/passwd"}}"#,
            r#"{"id":2,"method":"Page.navigate","params":{"url":"view-source:file:///etc/passwd"}}"#,
            r#"{"id":2,"method":"Page.navigate","params":{"url":"chrome://version"}}"#,
            r#"{"id":2,"method":"Page.navigate","params":{"url":["file:///"]}}"#,
            r#"{"id":2,"method":"Page.navigate","params":{"url":"https://a","url":"file:///"}}"#,
            r#"{"id":2,"method":"Target.createTarget","params":{"url":"file:///"}}"#,
            r#"{"id":2,"method":"Network.loadNetworkResource","params":{"url":"file:///etc/passwd"}}"#,
            r#"{"id":2,"method":"DOM.setFileInputFiles","params":{"files":["/etc/passwd"]}}"#,
            r#"{"id":2,"method":"Target.exposeDevToolsProtocol","params":{"targetId":"T"}}"#,
            r#"{"id":2,"method":"Target.setRemoteLocations","params":{"locations":[]}}"#,
        ] {
            let Verdict::Answer(answer) = inspect(refused) else {
                panic!("{refused} must be refused")
            };
            let answer: Value = serde_json::from_str(&answer).unwrap();
            assert_eq!(answer["id"], 2, "{answer}");
            assert!(answer["error"]["message"].is_string(), "{answer}");
        }
    }
}
