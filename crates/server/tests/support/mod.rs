//! Shared helpers of the server's end-to-end tests: a real server on a loopback port (with
//! real Chromium from the pool), an HTTP client speaking to it, SDK-shape checks, and a
//! scripted model (the one stand-in) for the agent to talk to.
#![allow(dead_code)] // Each test binary uses its own subset.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use agent::TaskRunner;
use serde_json::{Value, json};
use server::{Config, Server, Sessions};
use testkit::Reply as ModelReply;
use testkit::ScriptedLlm;
use uuid::Uuid;

/// A running server on its own thread and runtime. Dropping it shuts the server down (every
/// session's browser and the pool stopped) and waits, even when the test panicked.
pub struct TestServer {
    pub base: String,
    pub key: String,
    pub sessions: Sessions,
    pub data_dir: PathBuf,
    client: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: Option<tempfile::TempDir>,
}

/// A config for tests: loopback port 0, a small pool, a fixed key.
pub fn config(data_dir: PathBuf) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir,
        api_key: Some("tk_test_key".into()),
        pool_size: 1,
        ..Config::default()
    }
}

impl TestServer {
    /// A server on a fresh temporary data directory, running tasks with `NoAgent`.
    pub fn start(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(dir.path().to_path_buf());
        tweak(&mut cfg);
        let mut server = TestServer::start_with(cfg, Arc::new(agent::NoAgent));
        server._dir = Some(dir);
        server
    }

    /// A server with the given config, its agent chosen from it as in production (an LLM
    /// agent when `config.llm` names a provider).
    pub fn start_configured(config: Config) -> TestServer {
        TestServer::spawn(config, None)
    }

    /// A server with the given config and task runner.
    pub fn start_with(config: Config, runner: Arc<dyn TaskRunner>) -> TestServer {
        TestServer::spawn(config, Some(runner))
    }

    fn spawn(config: Config, runner: Option<Arc<dyn TaskRunner>>) -> TestServer {
        let data_dir = config.data_dir.clone();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let bound = match runner {
                    Some(runner) => Server::bind_with_runner(config, runner).await,
                    None => Server::bind(config).await,
                };
                let server = match bound {
                    Ok(server) => server,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let info = (
                    server.local_addr(),
                    server.api_key().secret().to_string(),
                    server.sessions().clone(),
                );
                let _ = ready_tx.send(Ok(info));
                let result = server
                    .run(async {
                        let _ = shutdown_rx.await;
                    })
                    .await;
                if let Err(e) = result {
                    eprintln!("server error: {e}");
                }
            });
        });
        let (addr, key, sessions) = ready_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("server did not start in time")
            .expect("server failed to start");
        TestServer {
            base: format!("http://{addr}"),
            key,
            sessions,
            data_dir,
            client: reqwest::Client::new(),
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
            _dir: None,
        }
    }

    /// Shuts the server down now and waits for it.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// A request with the API key.
    pub async fn call(&self, method: &str, path: &str, body: Option<&str>) -> Reply {
        self.call_with_key(method, path, body, Some(&self.key.clone()))
            .await
    }

    /// A request with the given key, or none.
    pub async fn call_with_key(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        key: Option<&str>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.header("X-Browser-Use-API-Key", key);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("request failed");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    /// `POST /api/v3/sessions` with `body`, expecting 200 and a valid session.
    pub async fn create(&self, body: Value) -> Value {
        let reply = self
            .call("POST", "/api/v3/sessions", Some(&body.to_string()))
            .await;
        assert_eq!(reply.status, 200, "create failed: {}", reply.text);
        check_session(&reply.json);
        reply.json
    }

    /// `GET /api/v3/sessions/{id}`, expecting 200 and a valid session.
    pub async fn session(&self, id: &str) -> Value {
        let reply = self
            .call("GET", &format!("/api/v3/sessions/{id}"), None)
            .await;
        assert_eq!(reply.status, 200, "get failed: {}", reply.text);
        check_session(&reply.json);
        reply.json
    }

    /// Polls a session (as the SDK does) until its status is one of `statuses`.
    pub async fn wait_status(&self, id: &str, statuses: &[&str], timeout: Duration) -> Value {
        let start = Instant::now();
        loop {
            let session = self.session(id).await;
            let status = session["status"].as_str().unwrap().to_string();
            if statuses.contains(&status.as_str()) {
                return session;
            }
            assert!(
                start.elapsed() < timeout,
                "session {id} still {status} after {timeout:?}, wanted {statuses:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `GET .../messages` with `query`, expecting 200 and valid messages.
    pub async fn messages(&self, id: &str, query: &str) -> Value {
        let reply = self
            .call(
                "GET",
                &format!("/api/v3/sessions/{id}/messages?{query}"),
                None,
            )
            .await;
        assert_eq!(reply.status, 200, "messages failed: {}", reply.text);
        let messages = reply.json["messages"].as_array().expect("messages array");
        assert!(reply.json["hasMore"].is_boolean());
        for m in messages {
            check_message(m);
        }
        reply.json
    }

    /// The pid of an active session's Chromium.
    pub fn browser_pid(&self, id: &str) -> u32 {
        let id = Uuid::parse_str(id).unwrap();
        self.sessions
            .owners()
            .browser(id)
            .expect("session has no live browser")
            .pid()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// An HTTP answer.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

/// Whether a process is gone (no `/proc/<pid>`; a zombie would still be there).
pub fn process_gone(pid: u32) -> bool {
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Waits up to `timeout` for a process to be gone.
pub async fn wait_gone(pid: u32, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if process_gone(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    process_gone(pid)
}

fn is_decimal_string(v: &Value) -> bool {
    match v.as_str() {
        Some(s) => {
            let s = s.strip_prefix(['+', '-']).unwrap_or(s);
            let mut parts = s.splitn(2, '.');
            let whole = parts.next().unwrap_or("");
            let frac = parts.next().unwrap_or("");
            whole.chars().all(|c| c.is_ascii_digit()) && frac.chars().all(|c| c.is_ascii_digit())
        }
        None => v.is_null(),
    }
}

fn check_timestamp(v: &Value, what: &str) {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("{what} must be a string: {v}"));
    assert!(s.ends_with('Z'), "{what} must be UTC with Z: {s}");
    chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{what} {s}: {e}"));
}

fn check_optional_uuid(v: &Value, what: &str) {
    if !v.is_null() {
        Uuid::parse_str(v.as_str().unwrap_or("")).unwrap_or_else(|_| panic!("{what}: {v}"));
    }
}

/// Checks a session against the constraints of the Python SDK's pydantic `SessionResponse`.
pub fn check_session(s: &Value) {
    Uuid::parse_str(s["id"].as_str().expect("id")).expect("id is a UUID");
    let status = s["status"].as_str().expect("status");
    assert!(
        [
            "created",
            "idle",
            "running",
            "stopped",
            "timed_out",
            "error"
        ]
        .contains(&status),
        "status {status}"
    );
    let model = s["model"].as_str().expect("model");
    assert!(
        server::api::models::BU_MODELS.contains(&model),
        "model {model}"
    );
    check_timestamp(&s["createdAt"], "createdAt");
    check_timestamp(&s["updatedAt"], "updatedAt");
    for key in [
        "proxyUsedMb",
        "llmCostUsd",
        "proxyCostUsd",
        "browserCostUsd",
        "totalCostUsd",
        "maxCostUsd",
    ] {
        assert!(
            is_decimal_string(&s[key]),
            "{key} must be a decimal string: {}",
            s[key]
        );
    }
    // The total counts the LLM's cost (and whatever else is billed).
    let cost = |key: &str| s[key].as_str().unwrap().parse::<f64>().unwrap();
    assert!(cost("totalCostUsd") >= cost("llmCostUsd"), "{s}");
    assert!(s["recordingUrls"].is_array());
    check_optional_uuid(&s["profileId"], "profileId");
    check_optional_uuid(&s["workspaceId"], "workspaceId");
    if let Some(code) = s["proxyCountryCode"].as_str() {
        assert_eq!(
            code,
            code.to_ascii_lowercase(),
            "proxyCountryCode lower-case"
        );
    }
    assert!(s["stepCount"].is_i64());
    assert!(s["liveUrl"].is_string() || s["liveUrl"].is_null());
    let active = ["created", "idle", "running"].contains(&status);
    assert_eq!(
        s["liveUrl"].is_string(),
        active,
        "liveUrl only while active: {s}"
    );
}

/// Checks a message against the pydantic `MessageResponse`.
pub fn check_message(m: &Value) {
    Uuid::parse_str(m["id"].as_str().expect("id")).expect("id is a UUID");
    Uuid::parse_str(m["sessionId"].as_str().expect("sessionId")).expect("sessionId");
    assert!(m["role"].is_string());
    assert!(m["data"].is_string(), "data must be a string");
    assert!(m["type"].is_string());
    assert!(m["summary"].is_string());
    assert!(m["hidden"].is_boolean());
    check_timestamp(&m["createdAt"], "message createdAt");
}

/// The task text and the step number of the agent's state message, as a scripted model
/// reads them to decide its answer.
pub fn task_and_step(state: &str) -> (String, u32) {
    let task = state
        .split_once("<task>\n")
        .and_then(|(_, rest)| rest.split_once("\n</task>"))
        .map(|(task, _)| task.to_string())
        .unwrap_or_default();
    let step: u32 = state
        .rsplit_once("Step ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    (task, step)
}

/// The ids of a messages page.
pub fn message_ids(page: &Value) -> Vec<String> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

/// The model for the lifecycle tests: a scripted OpenAI-compatible server (the one stand-in)
/// that the server's real agent talks to, answering from the task text it reads in each
/// state, like a model would: `hold` never answers (the task runs until stopped or aborted);
/// `hold:N` waits N steps (`browser_wait 0`, each reporting 1000 prompt and 50 answer
/// tokens), then never answers; `steps:N` waits N steps, then calls `done` with the text
/// `"<task> done"` and the data `{"task": "<task>", "steps": N}`; anything else is done at once.
pub async fn task_model() -> ScriptedLlm {
    let llm = ScriptedLlm::openai([]).await;
    llm.otherwise(ModelReply::from_fn(|request| {
        let state = request.user_text();
        let (task, step) = task_and_step(&state);
        if task == "hold" {
            return ModelReply::stall(Duration::from_secs(600));
        }
        if let Some(held) = task
            .strip_prefix("hold:")
            .and_then(|n| n.parse::<u32>().ok())
        {
            if step <= held {
                return ModelReply::tool_call("browser_wait", json!({"seconds": 0}))
                    .with_usage(1000, 50);
            }
            return ModelReply::stall(Duration::from_secs(600));
        }
        let steps: u32 = task
            .strip_prefix("steps:")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        if step <= steps {
            return ModelReply::tool_call("browser_wait", json!({"seconds": 0}));
        }
        ModelReply::tool_call(
            "done",
            json!({"text": format!("{task} done"), "success": true,
                   "data": {"task": task, "steps": steps}}),
        )
    }));
    llm
}

/// Points the server's agent at `llm`, as a user's `[llm]` table would.
pub fn use_model(config: &mut Config, llm: &ScriptedLlm) {
    config.llm = Some(agent::llm::LlmToml {
        provider: Some(agent::llm::ProviderKind::OpenAi),
        base_url: Some(llm.base_url()),
        model: Some("scripted".into()),
        ..Default::default()
    });
}

/// A bare CDP client over one WebSocket, as Playwright or Puppeteer would open through
/// `cdpUrl`: numbered calls, events skipped.
pub struct RawCdp {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    next_id: u64,
}

impl RawCdp {
    /// Connects to a CDP WebSocket URL.
    pub async fn connect(url: &str) -> Result<RawCdp, String> {
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|e| e.to_string())?;
        Ok(RawCdp { socket, next_id: 1 })
    }

    /// Sends a command (on a flattened session if given) and returns its whole answer
    /// (`result` or `error`); `None` if the connection ended first.
    pub async fn call(
        &mut self,
        method: &str,
        params: Value,
        session: Option<&str>,
    ) -> Option<Value> {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.send_raw(&message.to_string(), Some(id)).await
    }

    /// Sends `text` exactly as given (a hand-written message) and returns the answer that
    /// carries `id` (with `None`: the first error without an id, the answer to a message
    /// whose id could not be read); `None` if the connection ended first.
    pub async fn send_raw(&mut self, text: &str, id: Option<u64>) -> Option<Value> {
        use futures_util::{SinkExt, StreamExt};
        self.socket
            .send(tokio_tungstenite::tungstenite::Message::Text(text.into()))
            .await
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let next = tokio::time::timeout(left, self.socket.next())
                .await
                .ok()??;
            match next.ok()? {
                tokio_tungstenite::tungstenite::Message::Text(text) => {
                    let value: Value = serde_json::from_str(text.as_str()).ok()?;
                    let answers = match id {
                        Some(id) => value["id"] == json!(id),
                        None => value.get("id").is_none() && value.get("error").is_some(),
                    };
                    if answers {
                        return Some(value);
                    }
                }
                tokio_tungstenite::tungstenite::Message::Close(_) => return None,
                _ => {}
            }
        }
    }

    /// Whether the server closes the connection within a few seconds (events skipped).
    pub async fn closed_by_server(&mut self) -> bool {
        use futures_util::StreamExt;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.socket.next()).await {
                Err(_) => return false,
                Ok(None) | Ok(Some(Err(_))) => return true,
                Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Opens `url` in a new tab, waits for it to load, and returns the tab's session id.
    pub async fn open(&mut self, url: &str) -> String {
        let created = self
            .call("Target.createTarget", json!({"url": url}), None)
            .await
            .expect("createTarget");
        let target = created["result"]["targetId"]
            .as_str()
            .expect("targetId")
            .to_string();
        let attached = self
            .call(
                "Target.attachToTarget",
                json!({"targetId": target, "flatten": true}),
                None,
            )
            .await
            .expect("attachToTarget");
        let session = attached["result"]["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_string();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            // The tab shows its initial blank document first: wait for this URL's.
            let state = self
                .eval(&session, "[location.href, document.readyState]")
                .await;
            if state == json!([url, "complete"]) {
                return session;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{url} did not load");
    }

    /// Evaluates an expression (awaiting promises) in a tab and returns its value.
    pub async fn eval(&mut self, session: &str, expression: &str) -> Value {
        let answer = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
                Some(session),
            )
            .await
            .expect("Runtime.evaluate answered");
        answer["result"]["result"]["value"].clone()
    }
}

/// `GET {cdp_url}/json/version` and its `webSocketDebuggerUrl`.
pub async fn cdp_socket_url(cdp_url: &str) -> String {
    let version: Value = reqwest::get(format!("{cdp_url}/json/version"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    version["webSocketDebuggerUrl"]
        .as_str()
        .expect("webSocketDebuggerUrl")
        .to_string()
}

/// The viewport (`[innerWidth, innerHeight]`) a new tab of the browser behind `cdp_url` has,
/// read until it is `want` or two seconds have passed (a resize reaches pages a frame later).
pub async fn viewport_through_cdp(cdp_url: &str, want: [u32; 2]) -> Value {
    let mut cdp = RawCdp::connect(&cdp_socket_url(cdp_url).await)
        .await
        .expect("CDP connects");
    let tab = cdp.open("about:blank").await;
    let start = Instant::now();
    loop {
        let seen = cdp.eval(&tab, "[innerWidth, innerHeight]").await;
        if seen == json!(want) || start.elapsed() > Duration::from_secs(2) {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A live-view WebSocket, as the viewer page opens it.
pub type LiveSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What the live view's WebSocket sent: a JSON message, or a frame (JPEG bytes).
pub enum LiveMessage {
    Json(Value),
    Frame(Vec<u8>),
}

/// The next message from a live-view socket, within 20 s.
pub async fn next_live(socket: &mut LiveSocket) -> LiveMessage {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let next = tokio::time::timeout(Duration::from_secs(20), socket.next())
            .await
            .expect("the live view went quiet")
            .expect("the live view closed")
            .unwrap();
        match next {
            Message::Text(text) => return LiveMessage::Json(serde_json::from_str(&text).unwrap()),
            Message::Binary(bytes) => return LiveMessage::Frame(bytes.to_vec()),
            _ => {}
        }
    }
}

/// Sends a viewer message, as the page would.
pub async fn send_live(socket: &mut LiveSocket, message: Value) {
    use futures_util::SinkExt;
    socket
        .send(tokio_tungstenite::tungstenite::Message::Text(
            message.to_string().into(),
        ))
        .await
        .unwrap();
}

/// Opens the live view's socket for `live_url` (a `liveUrl` or `viewUrl`), reads its hello
/// and tells it the picture's size, as the page does on connecting: from then on it watches.
pub async fn open_live(live_url: &str) -> LiveSocket {
    let (page, token) = live_url.split_once("?token=").expect("a token in the link");
    let socket_url = format!("{}/ws?token={token}", page.replacen("http://", "ws://", 1));
    let (mut socket, _) = tokio_tungstenite::connect_async(socket_url).await.unwrap();
    let LiveMessage::Json(hello) = next_live(&mut socket).await else {
        panic!("the live view starts with its hello")
    };
    assert_eq!(hello["t"], "hello");
    send_live(
        &mut socket,
        json!({"t": "viewport", "w": 1280, "h": 800, "dpr": 1}),
    )
    .await;
    socket
}
