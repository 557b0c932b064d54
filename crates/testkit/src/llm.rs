//! The scripted LLM: a real HTTP server on 127.0.0.1 that speaks the OpenAI-compatible
//! `/v1/chat/completions` protocol (JSON, or SSE when the request says `stream: true`), and
//! for the adapters' own tests Anthropic Messages and Gemini `generateContent`.
//!
//! It is the one stand-in Tandem's tests may use: a real LLM cannot run here, so a test scripts
//! what the model answers ([`Reply`]: text, tool calls, failures, stalls, or a function of the
//! request) and afterwards inspects every request the server received ([`RecordedRequest`]),
//! e.g. to check that a secret never reached the model.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Which wire protocol a [`ScriptedLlm`] speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `POST /v1/chat/completions`.
    OpenAi,
    /// `POST /v1/messages`.
    Anthropic,
    /// `POST /v1beta/models/{model}:generateContent`.
    Gemini,
}

/// What the scripted model does with one request.
#[derive(Clone)]
pub enum Reply {
    /// Answers with text and/or tool calls.
    Answer(Answer),
    /// Answers with an error status, e.g. 429 with `Retry-After`.
    Fail {
        /// The HTTP status.
        status: u16,
        /// Extra response headers.
        headers: Vec<(String, String)>,
        /// The error message, wrapped as `{"error": {"message": ...}}`.
        message: String,
    },
    /// Holds the request this long before answering 504, to exercise client timeouts.
    Stall(Duration),
    /// Decides from the request, e.g. from the last tool result.
    Dynamic(Arc<dyn Fn(&RecordedRequest) -> Reply + Send + Sync>),
}

/// A successful answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answer {
    /// Free text (may be empty).
    pub text: String,
    /// Tool calls as (name, arguments object), in order.
    pub tool_calls: Vec<(String, Value)>,
    /// (input, output) token counts; derived from the sizes when not set.
    pub usage: Option<(u64, u64)>,
}

impl Reply {
    /// The model answers with text only.
    pub fn text(text: impl Into<String>) -> Reply {
        Reply::Answer(Answer {
            text: text.into(),
            ..Answer::default()
        })
    }

    /// The model calls one tool.
    pub fn tool_call(name: &str, arguments: Value) -> Reply {
        Reply::tool_calls([(name, arguments)])
    }

    /// The model calls several tools in one answer.
    pub fn tool_calls<'a>(calls: impl IntoIterator<Item = (&'a str, Value)>) -> Reply {
        Reply::Answer(Answer {
            tool_calls: calls
                .into_iter()
                .map(|(name, args)| (name.to_string(), args))
                .collect(),
            ..Answer::default()
        })
    }

    /// Adds free text to an answer (models often explain before calling tools).
    pub fn with_text(mut self, text: impl Into<String>) -> Reply {
        if let Reply::Answer(answer) = &mut self {
            answer.text = text.into();
        }
        self
    }

    /// Sets the token counts an answer reports.
    pub fn with_usage(mut self, input: u64, output: u64) -> Reply {
        if let Reply::Answer(answer) = &mut self {
            answer.usage = Some((input, output));
        }
        self
    }

    /// An error status with a message in the providers' common error shape.
    pub fn status(status: u16, message: impl Into<String>) -> Reply {
        Reply::Fail {
            status,
            headers: Vec::new(),
            message: message.into(),
        }
    }

    /// A 429 whose `Retry-After` header holds `retry_after` (seconds or an HTTP date).
    pub fn rate_limited(retry_after: &str) -> Reply {
        Reply::status(429, "Rate limit reached (scripted)").with_header("retry-after", retry_after)
    }

    /// Adds a response header to a failure.
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Fail { headers, .. } = &mut self {
            headers.push((name.to_string(), value.to_string()));
        }
        self
    }

    /// Holds the request for `duration`, then answers 504.
    pub fn stall(duration: Duration) -> Reply {
        Reply::Stall(duration)
    }

    /// Decides the reply from the request when it arrives.
    pub fn from_fn(f: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static) -> Reply {
        Reply::Dynamic(Arc::new(f))
    }
}

/// One request the server received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The URL path, e.g. `/v1/chat/completions`.
    pub path: String,
    /// The request headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: Value,
    /// When it arrived, to check how long a client waited between attempts.
    pub received_at: Instant,
}

impl RecordedRequest {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `needle` occurs anywhere in the body (messages, tools, all of it) or headers.
    pub fn contains(&self, needle: &str) -> bool {
        self.body.to_string().contains(needle)
            || self
                .headers
                .iter()
                .any(|(n, v)| n.contains(needle) || v.contains(needle))
    }

    /// The text of the last user message of an OpenAI-style request: the state the agent
    /// showed the model this step (a scripted reply reads it like a model would).
    pub fn user_text(&self) -> String {
        let messages = self.body["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let Some(user) = messages.iter().rev().find(|m| m["role"] == "user") else {
            return String::new();
        };
        match &user["content"] {
            Value::String(s) => s.clone(),
            Value::Array(parts) => parts
                .iter()
                .filter_map(|p| p["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            _ => String::new(),
        }
    }

    /// The names of the tools offered, in any of the three protocols.
    pub fn tool_names(&self) -> Vec<String> {
        let tools = self.body["tools"].as_array().cloned().unwrap_or_default();
        let mut names = Vec::new();
        for tool in &tools {
            if let Some(n) = tool.pointer("/function/name").or_else(|| tool.get("name")) {
                names.extend(n.as_str().map(String::from));
            }
            for declaration in tool["functionDeclarations"]
                .as_array()
                .into_iter()
                .flatten()
            {
                names.extend(declaration["name"].as_str().map(String::from));
            }
        }
        names
    }

    /// The content of the last tool result in the conversation, in any of the protocols, so a
    /// [`Reply::from_fn`] can answer what the agent just observed.
    pub fn last_tool_result(&self) -> Option<String> {
        let messages = self.body["messages"]
            .as_array()
            .or_else(|| self.body["contents"].as_array())?;
        for message in messages.iter().rev() {
            if message["role"] == "tool" {
                return Some(text_of(&message["content"]));
            }
            let blocks = message["content"]
                .as_array()
                .or_else(|| message["parts"].as_array());
            for block in blocks.into_iter().flatten().rev() {
                if block["type"] == "tool_result" {
                    return Some(text_of(&block["content"]));
                }
                if let Some(response) = block.pointer("/functionResponse/response") {
                    let inner = response.get("result").or_else(|| response.get("error"));
                    return Some(text_of(inner.unwrap_or(response)));
                }
            }
        }
        None
    }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

struct State {
    protocol: Protocol,
    replies: VecDeque<Reply>,
    /// The reply for requests that find the script empty, if any.
    otherwise: Option<Reply>,
    /// `tool_choice` values refused with a 400, as servers without support for them do.
    refused_tool_choices: Vec<Value>,
    /// JSON pointers of body fields refused with a 400 naming them, as a model without
    /// support for a parameter (e.g. `/reasoning_effort`) answers.
    refused_fields: Vec<String>,
    requests: Vec<RecordedRequest>,
}

type Shared = Arc<Mutex<State>>;

fn lock(state: &Shared) -> MutexGuard<'_, State> {
    // A panicking test thread must not hide the requests from the others.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// A scripted model server on a free port of 127.0.0.1; it stops when dropped.
pub struct ScriptedLlm {
    addr: SocketAddr,
    protocol: Protocol,
    state: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl ScriptedLlm {
    /// Starts a server answering with `replies`, in order. A request that finds the script
    /// empty gets a 400 saying so, which fails the calling test loudly.
    pub async fn start(
        protocol: Protocol,
        replies: impl IntoIterator<Item = Reply>,
    ) -> ScriptedLlm {
        let state = Arc::new(Mutex::new(State {
            protocol,
            replies: replies.into_iter().collect(),
            otherwise: None,
            refused_tool_choices: Vec::new(),
            refused_fields: Vec::new(),
            requests: Vec::new(),
        }));
        let app = Router::new().fallback({
            let state = state.clone();
            move |uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = state.clone();
                async move { handle(state, uri, headers, body).await }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0 for the scripted LLM");
        let addr = listener.local_addr().expect("scripted LLM address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        ScriptedLlm {
            addr,
            protocol,
            state,
            task,
        }
    }

    /// An OpenAI-compatible server, the one the agent's end-to-end tests use.
    pub async fn openai(replies: impl IntoIterator<Item = Reply>) -> ScriptedLlm {
        ScriptedLlm::start(Protocol::OpenAi, replies).await
    }

    /// The base URL a client is configured with: `http://127.0.0.1:PORT/v1` for OpenAI,
    /// `http://127.0.0.1:PORT` for Anthropic, `http://127.0.0.1:PORT/v1beta` for Gemini.
    pub fn base_url(&self) -> String {
        let suffix = match self.protocol {
            Protocol::OpenAi => "/v1",
            Protocol::Anthropic => "",
            Protocol::Gemini => "/v1beta",
        };
        format!("http://{}{suffix}", self.addr)
    }

    /// Appends replies to the script.
    pub fn push(&self, replies: impl IntoIterator<Item = Reply>) {
        lock(&self.state).replies.extend(replies);
    }

    /// Answers every request that finds the script empty with `reply` (usually a
    /// [`Reply::from_fn`] that reads the request, like a model would), instead of a 400.
    pub fn otherwise(&self, reply: Reply) {
        lock(&self.state).otherwise = Some(reply);
    }

    /// Refuses OpenAI requests whose `tool_choice` is `choice` (e.g. `json!("required")`)
    /// with the 400 an OpenAI-compatible server without support for it sends, naming the
    /// parameter; such a request uses up no scripted reply (the model never saw it).
    pub fn refuse_tool_choice(&self, choice: Value) {
        lock(&self.state).refused_tool_choices.push(choice);
    }

    /// Refuses requests (of any protocol) whose body has the field at `pointer` (a JSON
    /// pointer such as `/thinking` or `/generationConfig/thinkingConfig`) with a 400 naming
    /// it, as a model that does not take that parameter answers; such a request uses up no
    /// scripted reply.
    pub fn refuse_field(&self, pointer: &str) {
        lock(&self.state).refused_fields.push(pointer.to_string());
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state).requests.clone()
    }

    /// How many replies are still scripted.
    pub fn remaining(&self) -> usize {
        lock(&self.state).replies.len()
    }
}

impl Drop for ScriptedLlm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(state: Shared, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(json_body) = serde_json::from_slice::<Value>(&body) else {
        return error(400, "scripted LLM: the body is not JSON", &[]);
    };
    let request = RecordedRequest {
        path: uri.path().to_string(),
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: json_body,
        received_at: Instant::now(),
    };
    let (protocol, number, reply) = {
        let mut state = lock(&state);
        state.requests.push(request.clone());
        let choice = request.body.get("tool_choice");
        if state.protocol == Protocol::OpenAi
            && choice.is_some_and(|c| state.refused_tool_choices.contains(c))
        {
            return refused_tool_choice(choice.cloned().unwrap_or_default());
        }
        if let Some(field) = state
            .refused_fields
            .iter()
            .find(|pointer| request.body.pointer(pointer).is_some())
        {
            let name = field.rsplit('/').next().unwrap_or(field);
            return error(
                400,
                &format!("Unsupported parameter: '{name}' is not supported with this model."),
                &[],
            );
        }
        (
            state.protocol,
            state.requests.len(),
            state
                .replies
                .pop_front()
                .or_else(|| state.otherwise.clone()),
        )
    };
    let path_ok = match protocol {
        Protocol::OpenAi => request.path.ends_with("/chat/completions"),
        Protocol::Anthropic => request.path == "/v1/messages",
        Protocol::Gemini => request.path.ends_with(":generateContent"),
    };
    if !path_ok {
        return error(
            404,
            &format!("scripted LLM: no route {}", request.path),
            &[],
        );
    }
    let Some(mut reply) = reply else {
        return error(
            400,
            &format!("scripted LLM: no reply left for request #{number}"),
            &[],
        );
    };
    while let Reply::Dynamic(f) = reply {
        reply = f(&request);
    }
    match reply {
        Reply::Answer(answer) => answer_response(protocol, number, &request, &answer),
        Reply::Fail {
            status,
            headers,
            message,
        } => error(status, &message, &headers),
        Reply::Stall(duration) => {
            tokio::time::sleep(duration).await;
            error(504, "scripted LLM: stalled", &[])
        }
        Reply::Dynamic(_) => error(500, "scripted LLM: unreachable", &[]),
    }
}

/// OpenAI's answer to a parameter value it does not take.
fn refused_tool_choice(choice: Value) -> Response {
    let body = json!({"error": {
        "message": format!("Invalid value for 'tool_choice': {choice} is not supported by this server."),
        "type": "invalid_request_error",
        "param": "tool_choice",
        "code": "unsupported_value",
    }});
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

fn error(status: u16, message: &str, headers: &[(String, String)]) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({"type": "error", "error": {"message": message, "type": "scripted_error"}});
    let mut response = (status, axum::Json(body)).into_response();
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(n, v);
        }
    }
    response
}

fn answer_response(
    protocol: Protocol,
    number: usize,
    request: &RecordedRequest,
    answer: &Answer,
) -> Response {
    let (input, output) = answer.usage.unwrap_or_else(|| {
        let out = answer.text.len()
            + answer
                .tool_calls
                .iter()
                .map(|(n, a)| n.len() + a.to_string().len())
                .sum::<usize>();
        (
            (request.body.to_string().len() / 4) as u64,
            (out / 4 + 1) as u64,
        )
    });
    let model = request.body["model"]
        .as_str()
        .unwrap_or("scripted")
        .to_string();
    match protocol {
        Protocol::OpenAi if request.body["stream"] == true => {
            let include_usage =
                request.body.pointer("/stream_options/include_usage") == Some(&json!(true));
            openai_sse(
                number,
                &model,
                answer,
                include_usage.then_some((input, output)),
            )
        }
        Protocol::OpenAi => {
            axum::Json(openai_json(number, &model, answer, input, output)).into_response()
        }
        Protocol::Anthropic => {
            axum::Json(anthropic_json(number, &model, answer, input, output)).into_response()
        }
        Protocol::Gemini => axum::Json(gemini_json(number, answer, input, output)).into_response(),
    }
}

fn openai_json(number: usize, model: &str, answer: &Answer, input: u64, output: u64) -> Value {
    let mut message = json!({
        "role": "assistant",
        "content": if answer.text.is_empty() && !answer.tool_calls.is_empty() { Value::Null } else { json!(answer.text) },
        "refusal": null,
    });
    if !answer.tool_calls.is_empty() {
        message["tool_calls"] = answer
            .tool_calls
            .iter()
            .enumerate()
            .map(|(i, (name, args))| {
                json!({"id": format!("call_{number}_{i}"), "type": "function",
                       "function": {"name": name, "arguments": args.to_string()}})
            })
            .collect();
    }
    json!({
        "id": format!("chatcmpl-{number}"),
        "object": "chat.completion",
        "created": 1_760_000_000,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish_reason(answer)}],
        "usage": {"prompt_tokens": input, "completion_tokens": output, "total_tokens": input + output,
                  "prompt_tokens_details": {"cached_tokens": 0}},
    })
}

fn finish_reason(answer: &Answer) -> &'static str {
    if answer.tool_calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    }
}

/// The streamed form: text and each tool call's arguments split over several chunks, as real
/// servers do, so a streaming client must reassemble them.
fn openai_sse(number: usize, model: &str, answer: &Answer, usage: Option<(u64, u64)>) -> Response {
    let chunk = |delta: Value, finish: Value| {
        json!({"id": format!("chatcmpl-{number}"), "object": "chat.completion.chunk", "created": 1_760_000_000,
               "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    for piece in halves(&answer.text) {
        events.push(chunk(json!({"content": piece}), Value::Null));
    }
    for (i, (name, args)) in answer.tool_calls.iter().enumerate() {
        events.push(chunk(
            json!({"tool_calls": [{"index": i, "id": format!("call_{number}_{i}"), "type": "function",
                                   "function": {"name": name, "arguments": ""}}]}),
            Value::Null,
        ));
        for piece in halves(&args.to_string()) {
            events.push(chunk(
                json!({"tool_calls": [{"index": i, "function": {"arguments": piece}}]}),
                Value::Null,
            ));
        }
    }
    events.push(chunk(json!({}), json!(finish_reason(answer))));
    if let Some((input, output)) = usage {
        events.push(json!({"id": format!("chatcmpl-{number}"), "object": "chat.completion.chunk", "model": model,
            "choices": [], "usage": {"prompt_tokens": input, "completion_tokens": output, "total_tokens": input + output}}));
    }
    let mut body = String::new();
    for event in events {
        body.push_str(&format!("data: {event}\n\n"));
    }
    body.push_str("data: [DONE]\n\n");
    ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response()
}

fn halves(text: &str) -> Vec<String> {
    if text.is_empty() {
        return Vec::new();
    }
    let chars: Vec<char> = text.chars().collect();
    let mid = chars.len() / 2;
    [&chars[..mid], &chars[mid..]]
        .into_iter()
        .filter(|part| !part.is_empty())
        .map(|part| part.iter().collect())
        .collect()
}

fn anthropic_json(number: usize, model: &str, answer: &Answer, input: u64, output: u64) -> Value {
    let mut content = Vec::new();
    if !answer.text.is_empty() {
        content.push(json!({"type": "text", "text": answer.text}));
    }
    for (i, (name, args)) in answer.tool_calls.iter().enumerate() {
        content.push(json!({"type": "tool_use", "id": format!("toolu_{number}_{i}"), "name": name, "input": args}));
    }
    json!({
        "id": format!("msg_{number}"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": if answer.tool_calls.is_empty() { "end_turn" } else { "tool_use" },
        "stop_sequence": null,
        "usage": {"input_tokens": input, "output_tokens": output,
                  "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
    })
}

/// Gemini gives no call ids but a `thoughtSignature` per call, which clients must send back.
fn gemini_json(number: usize, answer: &Answer, input: u64, output: u64) -> Value {
    let mut parts = Vec::new();
    if !answer.text.is_empty() {
        parts.push(json!({"text": answer.text}));
    }
    for (i, (name, args)) in answer.tool_calls.iter().enumerate() {
        parts.push(json!({"functionCall": {"name": name, "args": args},
                          "thoughtSignature": format!("sig_{number}_{i}")}));
    }
    json!({
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": input, "candidatesTokenCount": output,
                          "totalTokenCount": input + output},
        "modelVersion": "scripted",
        "responseId": format!("resp-{number}"),
    })
}
