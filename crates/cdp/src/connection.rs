//! One WebSocket to one browser, shared by every task that talks to it.
//!
//! A reader task matches answers to questions by id and routes events by flattened session id;
//! a writer task owns the socket's sending half. When the socket dies, every command in flight
//! and every later command fails with [`CdpError::Closed`], and every event stream ends, so that
//! nothing waits forever on a browser that is gone.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::command::Command;
use crate::error::CdpError;
use crate::event::{EventStream, RawEvent};

/// Tunables of a connection; the defaults suit a browser on the same machine.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// How long a command may wait for its answer unless the call says otherwise.
    pub command_timeout: Duration,
    /// How many events a slow subscriber may fall behind before it loses the oldest ones.
    pub event_capacity: usize,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            command_timeout: Duration::from_secs(30),
            event_capacity: 1024,
        }
    }
}

/// A browser-level CDP connection. Cheap to clone; all clones share one socket.
#[derive(Clone)]
pub struct Connection {
    inner: Arc<Inner>,
}

struct Inner {
    outgoing: mpsc::UnboundedSender<String>,
    next_id: AtomicU64,
    state: Mutex<State>,
    closed: watch::Sender<Option<String>>,
    options: ConnectOptions,
}

#[derive(Default)]
struct State {
    pending: HashMap<u64, Pending>,
    /// Event channels keyed by flattened session id; `None` is the browser itself.
    channels: HashMap<Option<String>, broadcast::Sender<Arc<RawEvent>>>,
    /// Every event of every session, in order, for [`Connection::all_events`].
    tap: Option<broadcast::Sender<Arc<RawEvent>>>,
    closed_reason: Option<String>,
}

struct Pending {
    method: String,
    session_id: Option<String>,
    reply: Reply,
}

/// Where an answer goes: back to the caller awaiting it, or, for a relayed command
/// ([`Connection::relay`]), into [`Connection::all_events`] in the browser's order.
enum Reply {
    Caller(oneshot::Sender<Result<Box<RawValue>, CdpError>>),
    Relayed,
}

impl Reply {
    fn send(self, result: Result<Box<RawValue>, CdpError>) {
        if let Reply::Caller(reply) = self {
            let _ = reply.send(result);
        }
    }
}

/// The wire form of a command. Borrowed so that sending does not copy parameters twice.
#[derive(Serialize)]
struct Request<'a, P: Serialize> {
    id: u64,
    method: &'a str,
    params: &'a P,
    #[serde(rename = "sessionId", skip_serializing_if = "Option::is_none")]
    session_id: Option<&'a str>,
}

/// Everything the browser sends, answers and events alike; `params` and `result` stay raw until
/// someone asks for them typed.
#[derive(serde::Deserialize)]
struct Incoming {
    id: Option<u64>,
    method: Option<String>,
    #[serde(rename = "sessionId")]
    session_id: Option<String>,
    result: Option<Box<RawValue>>,
    error: Option<ProtocolError>,
    params: Option<Box<RawValue>>,
}

#[derive(serde::Deserialize)]
struct ProtocolError {
    code: i64,
    message: String,
    #[serde(default)]
    data: Option<String>,
}

/// Large DOM snapshots and full-page screenshots exceed tungstenite's default limits.
const MAX_MESSAGE_BYTES: usize = 512 << 20;

impl Connection {
    /// Connects to a browser's `ws://…/devtools/browser/<id>` endpoint with default options.
    pub async fn connect(url: &str) -> Result<Connection, CdpError> {
        Connection::connect_with(url, ConnectOptions::default()).await
    }

    /// Connects with explicit options.
    pub async fn connect_with(url: &str, options: ConnectOptions) -> Result<Connection, CdpError> {
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE_BYTES))
            .max_frame_size(Some(MAX_MESSAGE_BYTES));
        let (socket, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
            .await
            .map_err(|e| CdpError::Connect {
                url: url.to_string(),
                message: e.to_string(),
            })?;
        let (mut sink, mut stream) = socket.split();
        let (inner, mut outgoing_rx) = Inner::new(options);

        let writer_inner = Arc::downgrade(&inner);
        tokio::spawn(async move {
            while let Some(text) = outgoing_rx.recv().await {
                if let Err(e) = sink.send(Message::text(text)).await {
                    if let Some(inner) = writer_inner.upgrade() {
                        inner.shut_down(format!("write failed: {e}"));
                    }
                    return;
                }
            }
            // Every Connection clone is gone: say goodbye politely.
            let _ = sink.close().await;
        });

        let reader_inner = Arc::downgrade(&inner);
        tokio::spawn(async move {
            let reason = loop {
                let Some(message) = stream.next().await else {
                    break "the browser closed the socket".to_string();
                };
                let Some(inner) = reader_inner.upgrade() else {
                    return;
                };
                match message {
                    Ok(Message::Text(text)) => inner.dispatch(text.as_str()),
                    Ok(Message::Binary(bytes)) => match std::str::from_utf8(&bytes) {
                        Ok(text) => inner.dispatch(text),
                        Err(_) => tracing::warn!("CDP sent a non-UTF-8 binary frame; ignored"),
                    },
                    Ok(Message::Close(frame)) => {
                        break match frame {
                            Some(f) => format!("the browser closed the socket ({})", f.reason),
                            None => "the browser closed the socket".to_string(),
                        };
                    }
                    Ok(_) => {}
                    Err(e) => break format!("read failed: {e}"),
                }
            };
            if let Some(inner) = reader_inner.upgrade() {
                inner.shut_down(reason);
            }
        });

        Ok(Connection { inner })
    }

    /// Talks to a browser started with `--remote-debugging-pipe`: `write` is the pipe Chromium
    /// reads as its fd 3, `read` the one it writes as its fd 4. Messages are JSON texts, each
    /// followed by a NUL byte. No port is opened: only the process holding the pipe can talk.
    pub fn over_pipe<R, W>(read: R, write: W, options: ConnectOptions) -> Connection
    where
        R: tokio::io::AsyncRead + Unpin + Send + 'static,
        W: tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
        let (inner, mut outgoing_rx) = Inner::new(options);
        let writer_inner = Arc::downgrade(&inner);
        let mut write = write;
        tokio::spawn(async move {
            while let Some(text) = outgoing_rx.recv().await {
                let mut bytes = text.into_bytes();
                bytes.push(0);
                let written = match write.write_all(&bytes).await {
                    Ok(()) => write.flush().await,
                    Err(e) => Err(e),
                };
                if let Err(e) = written {
                    if let Some(inner) = writer_inner.upgrade() {
                        inner.shut_down(format!("write failed: {e}"));
                    }
                    return;
                }
            }
            let _ = write.shutdown().await;
        });
        let reader_inner = Arc::downgrade(&inner);
        tokio::spawn(async move {
            let mut read = tokio::io::BufReader::with_capacity(1 << 16, read);
            let mut message = Vec::new();
            let reason = loop {
                message.clear();
                match read.read_until(0, &mut message).await {
                    Ok(0) => break "the browser closed the pipe".to_string(),
                    Ok(_) => {}
                    Err(e) => break format!("read failed: {e}"),
                }
                if message.last() == Some(&0) {
                    message.pop();
                }
                let Some(inner) = reader_inner.upgrade() else {
                    return;
                };
                match std::str::from_utf8(&message) {
                    Ok(text) => inner.dispatch(text),
                    Err(_) => tracing::warn!("CDP sent a non-UTF-8 message; ignored"),
                }
            };
            if let Some(inner) = reader_inner.upgrade() {
                inner.shut_down(reason);
            }
        });
        Connection { inner }
    }

    /// Every event of every session on this connection, in the order the browser sent them
    /// (for a proxy that relays the events of the sessions it opened). A subscriber that falls
    /// `event_capacity` × 4 behind loses the oldest ones, as with [`Connection::events`].
    pub fn all_events(&self) -> EventStream {
        let mut state = self.inner.lock();
        if state.closed_reason.is_some() {
            let (tx, rx) = broadcast::channel(1);
            drop(tx);
            return EventStream::new(rx);
        }
        let capacity = self.inner.options.event_capacity.saturating_mul(4).max(1);
        let tap = state
            .tap
            .get_or_insert_with(|| broadcast::channel(capacity).0);
        EventStream::new(tap.subscribe())
    }

    /// Sends a command whose answer is not awaited here but delivered through
    /// [`Connection::all_events`], in the order the browser sent it among the events: an item
    /// with an empty `method` whose `params` is the whole answer (`{"id", "result"|"error"}`).
    /// Returns the id the command was sent with. For a proxy that must keep a client's answers
    /// and events in Chromium's order.
    pub fn relay(
        &self,
        session_id: Option<&str>,
        method: &str,
        params: &RawValue,
    ) -> Result<u64, CdpError> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let text = serde_json::to_string(&Request {
            id,
            method,
            params: &params,
            session_id,
        })
        .map_err(|e| CdpError::Json {
            method: method.to_string(),
            message: e.to_string(),
        })?;
        {
            let mut state = self.inner.lock();
            if let Some(reason) = &state.closed_reason {
                return Err(CdpError::Closed {
                    reason: reason.clone(),
                });
            }
            state.pending.insert(
                id,
                Pending {
                    method: method.to_string(),
                    session_id: session_id.map(str::to_string),
                    reply: Reply::Relayed,
                },
            );
        }
        if self.inner.outgoing.send(text).is_err() {
            self.inner.lock().pending.remove(&id);
            return Err(self.closed_error());
        }
        Ok(id)
    }

    /// The browser itself, as a session without a session id.
    pub fn browser(&self) -> Session {
        Session {
            connection: self.clone(),
            id: None,
        }
    }

    /// A handle on an already attached flattened session.
    pub fn session(&self, session_id: impl Into<String>) -> Session {
        Session {
            connection: self.clone(),
            id: Some(Arc::from(session_id.into())),
        }
    }

    /// Attaches to a target through a flattened session and returns it.
    ///
    /// Subscribe to the returned session's events before enabling any domain on it, so that no
    /// event is missed.
    pub async fn attach(&self, target_id: &str) -> Result<Session, CdpError> {
        let attached = self
            .call(crate::protocol::target::AttachToTarget::flat(target_id))
            .await?;
        Ok(self.session(attached.session_id))
    }

    /// Sends a typed command to the browser (no session).
    pub async fn call<C: Command>(&self, command: C) -> Result<C::Response, CdpError> {
        self.browser().call(command).await
    }

    /// Sends any method to the browser (no session), for what has no typed struct.
    pub async fn send(
        &self,
        method: &str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, CdpError> {
        self.browser().send(method, params).await
    }

    /// Browser-level events: targets appearing, crashing and detaching, downloads.
    pub fn events(&self) -> EventStream {
        self.subscribe(None)
    }

    /// True once the socket is gone.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.borrow().is_some()
    }

    /// Resolves with the reason once the socket is gone (at once if it already is).
    pub async fn closed(&self) -> String {
        let mut rx = self.inner.closed.subscribe();
        match rx.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone().unwrap_or_default(),
            Err(_) => "the connection was dropped".to_string(),
        }
    }

    /// Ends the connection now: commands in flight fail with `Closed`, event streams end.
    pub fn close(&self, reason: &str) {
        self.inner.shut_down(reason.to_string());
    }

    fn subscribe(&self, session_id: Option<&str>) -> EventStream {
        let mut state = self.inner.lock();
        let key = session_id.map(str::to_string);
        if state.closed_reason.is_some() {
            // A dead connection gives a stream that ends at once.
            let (tx, rx) = broadcast::channel(1);
            drop(tx);
            return EventStream::new(rx);
        }
        let capacity = self.inner.options.event_capacity;
        let sender = state
            .channels
            .entry(key)
            .or_insert_with(|| broadcast::channel(capacity).0);
        EventStream::new(sender.subscribe())
    }

    async fn request<P: Serialize>(
        &self,
        session_id: Option<&str>,
        method: &str,
        params: &P,
        timeout: Option<Duration>,
    ) -> Result<Box<RawValue>, CdpError> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let text = serde_json::to_string(&Request {
            id,
            method,
            params,
            session_id,
        })
        .map_err(|e| CdpError::Json {
            method: method.to_string(),
            message: e.to_string(),
        })?;
        let (reply, answer) = oneshot::channel();
        {
            let mut state = self.inner.lock();
            if let Some(reason) = &state.closed_reason {
                return Err(CdpError::Closed {
                    reason: reason.clone(),
                });
            }
            state.pending.insert(
                id,
                Pending {
                    method: method.to_string(),
                    session_id: session_id.map(str::to_string),
                    reply: Reply::Caller(reply),
                },
            );
        }
        if self.inner.outgoing.send(text).is_err() {
            self.inner.lock().pending.remove(&id);
            return Err(self.closed_error());
        }
        let timeout = timeout.unwrap_or(self.inner.options.command_timeout);
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(self.closed_error()),
            Err(_) => {
                self.inner.lock().pending.remove(&id);
                Err(CdpError::Timeout {
                    method: method.to_string(),
                    timeout,
                })
            }
        }
    }

    fn closed_error(&self) -> CdpError {
        let reason = self
            .inner
            .lock()
            .closed_reason
            .clone()
            .unwrap_or_else(|| "the connection was dropped".to_string());
        CdpError::Closed { reason }
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl Inner {
    fn new(options: ConnectOptions) -> (Arc<Inner>, mpsc::UnboundedReceiver<String>) {
        let (outgoing, outgoing_rx) = mpsc::unbounded_channel::<String>();
        let (closed, _) = watch::channel(None);
        let inner = Arc::new(Inner {
            outgoing,
            next_id: AtomicU64::new(1),
            state: Mutex::new(State::default()),
            closed,
            options,
        });
        (inner, outgoing_rx)
    }

    /// A poisoned lock only means another thread panicked mid-update of plain maps; the maps
    /// are still consistent enough to fail or answer requests, so keep going.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn dispatch(&self, text: &str) {
        let incoming: Incoming = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "unparsable CDP message ignored");
                return;
            }
        };
        if let Some(id) = incoming.id {
            let mut state = self.lock();
            let Some(pending) = state.pending.remove(&id) else {
                // Its caller timed out and left.
                return;
            };
            if let Reply::Relayed = pending.reply {
                // The answer as it came, as an event without a method, in the browser's order.
                if let (Some(tap), Ok(answer)) =
                    (&state.tap, RawValue::from_string(text.to_string()))
                {
                    let _ = tap.send(Arc::new(RawEvent {
                        method: String::new(),
                        session_id: incoming.session_id,
                        params: answer,
                    }));
                }
                return;
            }
            drop(state);
            let result = match (incoming.error, incoming.result) {
                (Some(error), _) => Err(CdpError::Protocol {
                    method: pending.method,
                    code: error.code,
                    message: match error.data {
                        Some(data) => format!("{} ({data})", error.message),
                        None => error.message,
                    },
                }),
                (None, Some(result)) => Ok(result),
                (None, None) => Ok(empty_object()),
            };
            pending.reply.send(result);
            return;
        }
        let Some(method) = incoming.method else {
            return;
        };
        let params = incoming.params.unwrap_or_else(empty_object);
        if method == "Target.detachedFromTarget" {
            self.forget_session(&params);
        }
        let event = Arc::new(RawEvent {
            method,
            session_id: incoming.session_id,
            params,
        });
        let state = self.lock();
        if let Some(tap) = &state.tap {
            let _ = tap.send(event.clone());
        }
        if let Some(sender) = state.channels.get(&event.session_id) {
            // No receiver left is fine: nobody is interested right now.
            let _ = sender.send(event);
        }
    }

    /// A detached session will never answer: fail what waits on it and end its event streams.
    fn forget_session(&self, params: &RawValue) {
        #[derive(serde::Deserialize)]
        struct Detached {
            #[serde(rename = "sessionId")]
            session_id: String,
        }
        let Ok(detached) = serde_json::from_str::<Detached>(params.get()) else {
            return;
        };
        let mut state = self.lock();
        let ids: Vec<u64> = state
            .pending
            .iter()
            .filter(|(_, p)| p.session_id.as_deref() == Some(detached.session_id.as_str()))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(p) = state.pending.remove(&id) {
                p.reply.send(Err(CdpError::SessionClosed {
                    session_id: detached.session_id.clone(),
                    method: p.method,
                }));
            }
        }
        state.channels.remove(&Some(detached.session_id));
    }

    fn shut_down(&self, reason: String) {
        let mut state = self.lock();
        if state.closed_reason.is_some() {
            return;
        }
        tracing::debug!(%reason, "CDP connection closed");
        state.closed_reason = Some(reason.clone());
        for (_, p) in state.pending.drain() {
            p.reply.send(Err(CdpError::Closed {
                reason: reason.clone(),
            }));
        }
        // Dropping the senders ends every event stream.
        state.channels.clear();
        state.tap = None;
        drop(state);
        self.closed.send_replace(Some(reason));
    }
}

fn empty_object() -> Box<RawValue> {
    // `{}` always parses; the default (`null`) only keeps this free of panics.
    RawValue::from_string("{}".to_string()).unwrap_or_default()
}

/// A flattened session on a target (a tab, an iframe, a worker), or the browser itself.
///
/// Cheap to clone. Commands sent through it carry its session id; its event stream carries only
/// the events of its target.
#[derive(Clone, Debug)]
pub struct Session {
    connection: Connection,
    id: Option<Arc<str>>,
}

impl Session {
    /// The flattened session id, or `None` for the browser itself.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The connection this session lives on.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// Sends a typed command with the connection's default timeout.
    pub async fn call<C: Command>(&self, command: C) -> Result<C::Response, CdpError> {
        self.send_typed(C::METHOD, &command, None).await
    }

    /// Sends a typed command with its own timeout, for commands known to be slow (captures of
    /// huge pages) or that must fail fast (probes of a possibly hung page).
    pub async fn call_with_timeout<C: Command>(
        &self,
        command: C,
        timeout: Duration,
    ) -> Result<C::Response, CdpError> {
        self.send_typed(C::METHOD, &command, Some(timeout)).await
    }

    /// Sends any method with JSON parameters, for what has no typed struct.
    pub async fn send(
        &self,
        method: &str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, CdpError> {
        self.send_typed(method, &params, None).await
    }

    /// Sends any method and decodes its result into `R`.
    pub async fn send_typed<P: Serialize, R: DeserializeOwned>(
        &self,
        method: &str,
        params: &P,
        timeout: Option<Duration>,
    ) -> Result<R, CdpError> {
        let raw = self
            .connection
            .request(self.id(), method, params, timeout)
            .await?;
        serde_json::from_str(raw.get()).map_err(|e| CdpError::Json {
            method: method.to_string(),
            message: e.to_string(),
        })
    }

    /// This session's events, from now on. Subscribe before the command that causes them.
    pub fn events(&self) -> EventStream {
        self.connection.subscribe(self.id())
    }
}
