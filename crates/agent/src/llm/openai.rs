//! OpenAI-compatible chat completions (`POST {base}/chat/completions`), the protocol OpenAI,
//! vLLM, llama.cpp's server, Ollama and OpenRouter all speak, with native tool calling.

use std::sync::atomic::{AtomicBool, Ordering};

use serde::Deserialize;
use serde_json::{Value, json};

use super::config::{LlmConfig, ProviderInfo, ProviderKind};
use super::error::LlmError;
use super::model::{
    ChatRequest, ChatResponse, Content, Message, StopReason, ToolCall, ToolChoice, Usage,
};
use super::thinking::{self, Refusals};
use super::transport::{Transport, null_as_default};
use super::{LlmFuture, Provider};

/// OpenAI-compatible servers, as [`ProviderKind::OpenAi`](super::ProviderKind::OpenAi).
pub(crate) const INFO: ProviderInfo = ProviderInfo {
    name: "openai",
    aliases: &[],
    default_base_url: "https://api.openai.com/v1",
    default_model: "gpt-5-mini",
    key_envs: &["OPENAI_API_KEY"],
    base_url_env: Some("OPENAI_BASE_URL"),
    inferred_from: &["OPENAI_API_KEY", "OPENAI_BASE_URL"],
    keyless_when_self_hosted: true,
    connect: |config| Ok(std::sync::Arc::new(OpenAi::new(config)?)),
};

/// A client for one OpenAI-compatible server.
pub struct OpenAi {
    transport: Transport,
    url: String,
    /// The server refused `tool_choice: "required"`: "auto" is sent instead from then on.
    refuses_required: AtomicBool,
    /// The same for a named tool (`{"type": "function", ...}`).
    refuses_named: AtomicBool,
    /// Models that refused `reasoning_effort`: it is left out for them from then on.
    refuses_effort: Refusals,
}

impl OpenAi {
    /// Sets up the client; `config.base_url` ends where `/chat/completions` is appended
    /// (usually in `/v1`).
    pub fn new(config: &LlmConfig) -> Result<OpenAi, LlmError> {
        Ok(OpenAi {
            transport: Transport::new(config)?,
            url: format!("{}/chat/completions", config.base_url),
            refuses_required: AtomicBool::new(false),
            refuses_named: AtomicBool::new(false),
            refuses_effort: Refusals::default(),
        })
    }

    /// Where this server's refusal of a tool choice is remembered; `None` for the choices
    /// every server takes.
    fn refusal(&self, choice: &ToolChoice) -> Option<&AtomicBool> {
        match choice {
            ToolChoice::Required => Some(&self.refuses_required),
            ToolChoice::Tool(_) => Some(&self.refuses_named),
            ToolChoice::Auto | ToolChoice::None => None,
        }
    }

    async fn send(
        &self,
        request: &ChatRequest,
        headers: &[(&'static str, String)],
    ) -> Result<ChatResponse, LlmError> {
        let wire: WireResponse = self
            .transport
            .post_json(&self.url, headers, &request_body(request))
            .await?;
        response_from_wire(wire).map_err(|message| LlmError::InvalidResponse {
            provider: ProviderKind::OpenAi,
            message,
        })
    }
}

/// Whether a 400 says the server does not take the request's `tool_choice` (vLLM without
/// `--tool-call-parser` support for it, some llama.cpp and Ollama versions, gateways).
fn refuses_tool_choice(error: &LlmError) -> bool {
    matches!(error, LlmError::Status { status: 400, message, .. }
        if message.to_ascii_lowercase().contains("tool_choice"))
}

impl Provider for OpenAi {
    fn kind(&self) -> ProviderKind {
        ProviderKind::OpenAi
    }

    fn chat<'a>(&'a self, request: &'a ChatRequest) -> LlmFuture<'a> {
        Box::pin(async move {
            let mut headers = Vec::new();
            if let Some(key) = self.transport.api_key() {
                headers.push(("authorization", format!("Bearer {key}")));
            }
            let mut request = std::borrow::Cow::Borrowed(request);
            if request.thinking.is_some() && self.refuses_effort.refused(&request.model) {
                request.to_mut().thinking = None;
            }
            match self.with_tool_choice(&request, &headers).await {
                Err(e)
                    if request.thinking.is_some()
                        && thinking::refuses(&e, &["reasoning_effort", "reasoning"]) =>
                {
                    tracing::warn!(error = %e, model = %request.model,
                        "the model refuses reasoning_effort; sending none from now on");
                    self.refuses_effort.remember(&request.model);
                    request.to_mut().thinking = None;
                    self.with_tool_choice(&request, &headers).await
                }
                other => other,
            }
        })
    }
}

impl OpenAi {
    /// Sends `request`, with `tool_choice` "auto" instead of the one asked for when the
    /// server refuses that one.
    async fn with_tool_choice(
        &self,
        request: &ChatRequest,
        headers: &[(&'static str, String)],
    ) -> Result<ChatResponse, LlmError> {
        let refusal = self.refusal(&request.tool_choice);
        if refusal.is_none_or(|refused| !refused.load(Ordering::Relaxed)) {
            match self.send(request, headers).await {
                Err(e) if refusal.is_some() && refuses_tool_choice(&e) => {
                    tracing::warn!(error = %e, choice = ?request.tool_choice,
                        "the LLM server refuses this tool_choice; sending \"auto\" from now on");
                    if let Some(refused) = refusal {
                        refused.store(true, Ordering::Relaxed);
                    }
                }
                other => return other,
            }
        }
        let mut relaxed = request.clone();
        relaxed.tool_choice = ToolChoice::Auto;
        let mut response = self.send(&relaxed, headers).await?;
        response.relaxed_tool_choice = true;
        Ok(response)
    }
}

/// The JSON body for a request.
pub(crate) fn request_body(request: &ChatRequest) -> Value {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if let Some(system) = &request.system {
        messages.push(json!({"role": "system", "content": system}));
    }
    messages.extend(request.messages.iter().map(message_json));

    let mut body = json!({"model": request.model, "messages": messages});
    if !request.tools.is_empty() {
        body["tools"] = request
            .tools
            .iter()
            .map(|tool| {
                json!({"type": "function", "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters,
                }})
            })
            .collect();
        body["tool_choice"] = match &request.tool_choice {
            ToolChoice::Auto => json!("auto"),
            ToolChoice::Required => json!("required"),
            ToolChoice::None => json!("none"),
            ToolChoice::Tool(name) => json!({"type": "function", "function": {"name": name}}),
        };
    }
    if let Some(max) = request.max_tokens {
        // `max_tokens` is refused by OpenAI's reasoning models; compatible servers accept this.
        body["max_completion_tokens"] = json!(max);
    }
    if let Some(t) = request.temperature {
        body["temperature"] = json!(t);
    }
    if let Some(level) = request.thinking {
        body["reasoning_effort"] = json!(level.openai_effort());
    }
    body
}

fn message_json(message: &Message) -> Value {
    match message {
        Message::User(parts) => {
            // Plain text as a string: some compatible servers accept nothing else.
            if let [Content::Text(text)] = parts.as_slice() {
                return json!({"role": "user", "content": text});
            }
            let content: Vec<Value> = parts
                .iter()
                .map(|part| match part {
                    Content::Text(text) => json!({"type": "text", "text": text}),
                    Content::Image {
                        media_type,
                        data_base64,
                    } => json!({"type": "image_url", "image_url": {
                        "url": format!("data:{media_type};base64,{data_base64}")
                    }}),
                })
                .collect();
            json!({"role": "user", "content": content})
        }
        Message::Assistant { text, tool_calls } => {
            // `null` content is only allowed next to tool calls.
            let content = if text.is_empty() && !tool_calls.is_empty() {
                Value::Null
            } else {
                json!(text)
            };
            let mut m = json!({"role": "assistant", "content": content});
            if !tool_calls.is_empty() {
                m["tool_calls"] = tool_calls
                    .iter()
                    .map(|call| {
                        json!({"id": call.id, "type": "function", "function": {
                            "name": call.name,
                            "arguments": arguments_text(&call.arguments),
                        }})
                    })
                    .collect();
            }
            m
        }
        Message::Tool(result) => {
            json!({"role": "tool", "tool_call_id": result.call_id, "content": result.content})
        }
    }
}

/// Arguments go on the wire as a JSON-encoded string; invalid ones the model wrote (kept as a
/// JSON string) go back exactly as written.
fn arguments_text(arguments: &Value) -> String {
    match arguments {
        Value::String(raw) => raw.clone(),
        other => other.to_string(),
    }
}

#[derive(Deserialize)]
pub(crate) struct WireResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    choices: Vec<WireChoice>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct WireChoice {
    message: WireMessage,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireMessage {
    /// A string; a few gateways send an array of text parts instead.
    content: Option<Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    tool_calls: Vec<WireToolCall>,
    /// Set by OpenAI when the model declines.
    refusal: Option<String>,
}

#[derive(Deserialize)]
struct WireToolCall {
    id: Option<String>,
    function: WireFunction,
}

#[derive(Deserialize)]
struct WireFunction {
    name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    arguments: String,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default, deserialize_with = "null_as_default")]
    prompt_tokens: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    completion_tokens: u64,
    prompt_tokens_details: Option<WirePromptDetails>,
}

#[derive(Deserialize)]
struct WirePromptDetails {
    #[serde(default, deserialize_with = "null_as_default")]
    cached_tokens: u64,
}

/// Reads a response body into the common model.
pub(crate) fn response_from_wire(wire: WireResponse) -> Result<ChatResponse, String> {
    let choice = wire
        .choices
        .into_iter()
        .next()
        .ok_or("the answer has no choices")?;
    let tool_calls: Vec<ToolCall> = choice
        .message
        .tool_calls
        .into_iter()
        .enumerate()
        .map(|(i, call)| ToolCall {
            // Some local servers omit ids; the reply must still name the call.
            id: call.id.unwrap_or_else(|| format!("call_{i}")),
            name: call.function.name,
            arguments: parse_arguments(&call.function.arguments),
            signature: None,
        })
        .collect();
    let text = match (content_text(choice.message.content), choice.message.refusal) {
        (text, _) if !text.is_empty() => text,
        (_, Some(refusal)) => refusal,
        _ => String::new(),
    };
    let stop_reason = match choice.finish_reason.as_deref() {
        Some("tool_calls" | "function_call") => StopReason::ToolUse,
        Some("length") => StopReason::MaxTokens,
        Some("content_filter") => StopReason::ContentFilter,
        // Some servers report "stop" even after tool calls.
        _ if !tool_calls.is_empty() => StopReason::ToolUse,
        Some("stop") | None => StopReason::EndTurn,
        Some(other) => StopReason::Other(other.to_string()),
    };
    let usage = wire
        .usage
        .map(|u| Usage {
            input_tokens: u.prompt_tokens,
            output_tokens: u.completion_tokens,
            cached_input_tokens: u.prompt_tokens_details.map_or(0, |d| d.cached_tokens),
            cache_write_input_tokens: 0,
        })
        .unwrap_or_default();
    Ok(ChatResponse {
        text,
        tool_calls,
        usage,
        stop_reason,
        relaxed_tool_choice: false,
    })
}

fn content_text(content: Option<Value>) -> String {
    match content {
        Some(Value::String(text)) => text,
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

/// Parses tool arguments; an empty string means no arguments, and text that is not JSON is
/// kept as a JSON string for the agent to report back.
pub(crate) fn parse_arguments(raw: &str) -> Value {
    if raw.trim().is_empty() {
        return json!({});
    }
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::model::{ToolDefinition, ToolResult};

    fn request() -> ChatRequest {
        ChatRequest {
            model: "gpt-5-mini".into(),
            system: Some("You drive a browser.".into()),
            messages: vec![
                Message::User(vec![
                    Content::Text("Find the price.".into()),
                    Content::Image {
                        media_type: "image/jpeg".into(),
                        data_base64: "AAAA".into(),
                    },
                ]),
                Message::Assistant {
                    text: String::new(),
                    tool_calls: vec![
                        ToolCall {
                            id: "call_a".into(),
                            name: "browser_click".into(),
                            arguments: json!({"index": 3}),
                            signature: None,
                        },
                        ToolCall {
                            id: "call_b".into(),
                            name: "browser_type".into(),
                            arguments: Value::String("{broken".into()),
                            signature: None,
                        },
                    ],
                },
                Message::Tool(ToolResult {
                    call_id: "call_a".into(),
                    name: "browser_click".into(),
                    content: "clicked".into(),
                    is_error: false,
                }),
                Message::user_text("Now?"),
            ],
            tools: vec![ToolDefinition {
                name: "browser_click".into(),
                description: "Click an element".into(),
                parameters: json!({"type": "object", "properties": {"index": {"type": "integer"}}, "required": ["index"]}),
            }],
            tool_choice: ToolChoice::Tool("done".into()),
            max_tokens: Some(1000),
            temperature: None,
            thinking: None,
        }
    }

    #[test]
    fn request_maps_to_chat_completions() {
        let body = request_body(&request());
        assert_eq!(
            body,
            json!({
                "model": "gpt-5-mini",
                "messages": [
                    {"role": "system", "content": "You drive a browser."},
                    {"role": "user", "content": [
                        {"type": "text", "text": "Find the price."},
                        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,AAAA"}}
                    ]},
                    {"role": "assistant", "content": null, "tool_calls": [
                        {"id": "call_a", "type": "function", "function": {"name": "browser_click", "arguments": "{\"index\":3}"}},
                        {"id": "call_b", "type": "function", "function": {"name": "browser_type", "arguments": "{broken"}}
                    ]},
                    {"role": "tool", "tool_call_id": "call_a", "content": "clicked"},
                    {"role": "user", "content": "Now?"}
                ],
                "tools": [{"type": "function", "function": {
                    "name": "browser_click",
                    "description": "Click an element",
                    "parameters": {"type": "object", "properties": {"index": {"type": "integer"}}, "required": ["index"]}
                }}],
                "tool_choice": {"type": "function", "function": {"name": "done"}},
                "max_completion_tokens": 1000
            })
        );
    }

    #[test]
    fn no_tools_means_no_tool_choice() {
        let mut r = request();
        r.tools.clear();
        r.tool_choice = ToolChoice::Required;
        let body = request_body(&r);
        assert!(body.get("tools").is_none() && body.get("tool_choice").is_none());
        r.messages = vec![Message::Assistant {
            text: String::new(),
            tool_calls: Vec::new(),
        }];
        assert_eq!(
            request_body(&r)["messages"][1],
            json!({"role": "assistant", "content": ""})
        );
    }

    fn parse(body: &str) -> ChatResponse {
        response_from_wire(serde_json::from_str(body).unwrap()).unwrap()
    }

    #[test]
    fn response_with_several_tool_calls_and_usage() {
        let r = parse(
            r#"{
              "id": "chatcmpl-abc", "object": "chat.completion", "created": 1760000000, "model": "gpt-5-mini",
              "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "refusal": null,
                "tool_calls": [
                  {"id": "call_1", "type": "function", "function": {"name": "browser_type", "arguments": "{\"index\":4,\"text\":\"shoes\"}"}},
                  {"id": "call_2", "type": "function", "function": {"name": "browser_send_keys", "arguments": "{\"keys\":\"Enter\"}"}}
                ]}, "finish_reason": "tool_calls"}],
              "usage": {"prompt_tokens": 1200, "completion_tokens": 45, "total_tokens": 1245,
                "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0}}
            }"#,
        );
        assert_eq!(r.text, "");
        assert_eq!(r.stop_reason, StopReason::ToolUse);
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: 1200,
                output_tokens: 45,
                cached_input_tokens: 1024,
                cache_write_input_tokens: 0,
            }
        );
        assert_eq!(r.tool_calls.len(), 2);
        assert_eq!(r.tool_calls[0].id, "call_1");
        assert_eq!(r.tool_calls[0].name, "browser_type");
        assert_eq!(
            r.tool_calls[0].arguments,
            json!({"index": 4, "text": "shoes"})
        );
        assert_eq!(r.tool_calls[1].arguments, json!({"keys": "Enter"}));
    }

    #[test]
    fn text_answer_from_a_local_server() {
        // llama.cpp / Ollama: no usage details, no ids, "stop" after a tool call.
        let r = parse(
            r#"{"choices": [{"message": {"role": "assistant", "content": "The price is 12 EUR."}, "finish_reason": "stop"}]}"#,
        );
        assert_eq!(r.text, "The price is 12 EUR.");
        assert_eq!(r.stop_reason, StopReason::EndTurn);
        assert_eq!(r.usage, Usage::default());

        let r = parse(
            r#"{"choices": [{"message": {"content": "", "tool_calls": [{"function": {"name": "browser_go_back", "arguments": ""}}]}, "finish_reason": "stop"}]}"#,
        );
        assert_eq!(r.stop_reason, StopReason::ToolUse);
        assert_eq!(r.tool_calls[0].id, "call_0");
        assert_eq!(r.tool_calls[0].arguments, json!({}));
    }

    #[test]
    fn nulls_and_content_parts_from_compatible_servers() {
        let r = parse(
            r#"{"choices": [{"message": {"role": "assistant", "content": [{"type": "text", "text": "Hello "}, {"type": "text", "text": "there"}],
                "tool_calls": null}, "finish_reason": null}], "usage": {"prompt_tokens": 5, "completion_tokens": 2, "prompt_tokens_details": null}}"#,
        );
        assert_eq!(r.text, "Hello there");
        assert!(r.tool_calls.is_empty());
        assert_eq!(r.stop_reason, StopReason::EndTurn);
        assert_eq!(r.usage.input_tokens, 5);
    }

    #[test]
    fn truncated_refused_and_broken_answers() {
        let r = parse(
            r#"{"choices": [{"message": {"content": "Once upon"}, "finish_reason": "length"}]}"#,
        );
        assert_eq!(r.stop_reason, StopReason::MaxTokens);
        let r = parse(
            r#"{"choices": [{"message": {"content": null, "refusal": "I can't help with that."}, "finish_reason": "stop"}]}"#,
        );
        assert_eq!(r.text, "I can't help with that.");
        let r = parse(
            r#"{"choices": [{"message": {"tool_calls": [{"id": "x", "function": {"name": "done", "arguments": "{\"text\": \"hi"}}]}, "finish_reason": "tool_calls"}]}"#,
        );
        assert_eq!(r.tool_calls[0].arguments, json!("{\"text\": \"hi"));
        assert!(response_from_wire(serde_json::from_str(r#"{"choices": []}"#).unwrap()).is_err());
    }
}
