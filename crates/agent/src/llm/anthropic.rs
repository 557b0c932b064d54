//! Anthropic Messages (`POST {base}/v1/messages`): `tool_use` / `tool_result` content blocks,
//! the system prompt outside the messages, and strictly alternating user/assistant turns.
//!
//! Prompt caching is switched on for every request: the agent resends the same system prompt,
//! tools and growing history each step, and cached prompt tokens cost a tenth of fresh ones.

use serde::Deserialize;
use serde_json::{Value, json};

use super::config::{LlmConfig, ProviderInfo, ProviderKind};
use super::error::LlmError;
use super::model::{
    ChatRequest, ChatResponse, Content, Message, StopReason, ToolCall, ToolChoice, Usage, push_turn,
};
use super::thinking::{self, Refusals};
use super::transport::{Transport, null_as_default};
use super::{LlmFuture, Provider};

/// The API version this adapter is written against.
const API_VERSION: &str = "2023-06-01";
/// Anthropic requires `max_tokens`; enough for a step's thinking and several tool calls.
const DEFAULT_MAX_TOKENS: u32 = 8192;

/// Anthropic, as [`ProviderKind::Anthropic`](super::ProviderKind::Anthropic).
pub(crate) const INFO: ProviderInfo = ProviderInfo {
    name: "anthropic",
    aliases: &[],
    default_base_url: "https://api.anthropic.com",
    default_model: "claude-sonnet-4-5",
    key_envs: &["ANTHROPIC_API_KEY"],
    base_url_env: Some("ANTHROPIC_BASE_URL"),
    inferred_from: &["ANTHROPIC_API_KEY"],
    keyless_when_self_hosted: false,
    connect: |config| Ok(std::sync::Arc::new(Anthropic::new(config)?)),
};

/// A client for the Anthropic Messages API.
pub struct Anthropic {
    transport: Transport,
    url: String,
    /// Models that refused the `thinking` parameter: it is left out for them from then on.
    refuses_thinking: Refusals,
}

impl Anthropic {
    /// Sets up the client; `config.base_url` is the host part, e.g. `https://api.anthropic.com`.
    pub fn new(config: &LlmConfig) -> Result<Anthropic, LlmError> {
        Ok(Anthropic {
            transport: Transport::new(config)?,
            url: format!("{}/v1/messages", config.base_url),
            refuses_thinking: Refusals::default(),
        })
    }
}

impl Provider for Anthropic {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Anthropic
    }

    fn chat<'a>(&'a self, request: &'a ChatRequest) -> LlmFuture<'a> {
        Box::pin(async move {
            let mut headers = vec![("anthropic-version", API_VERSION.to_string())];
            if let Some(key) = self.transport.api_key() {
                headers.push(("x-api-key", key.to_string()));
            }
            let mut request = std::borrow::Cow::Borrowed(request);
            if request.thinking.is_some() && self.refuses_thinking.refused(&request.model) {
                request.to_mut().thinking = None;
            }
            match self.send(&request, &headers).await {
                Err(e) if request.thinking.is_some() && thinking::refuses(&e, &["thinking"]) => {
                    tracing::warn!(error = %e, model = %request.model,
                        "the model refuses extended thinking settings; sending none from now on");
                    self.refuses_thinking.remember(&request.model);
                    request.to_mut().thinking = None;
                    self.send(&request, &headers).await
                }
                other => other,
            }
        })
    }
}

impl Anthropic {
    async fn send(
        &self,
        request: &ChatRequest,
        headers: &[(&'static str, String)],
    ) -> Result<ChatResponse, LlmError> {
        let wire: WireResponse = self
            .transport
            .post_json(&self.url, headers, &request_body(request))
            .await?;
        let mut response =
            response_from_wire(wire).map_err(|message| LlmError::InvalidResponse {
                provider: ProviderKind::Anthropic,
                message,
            })?;
        // Extended thinking takes no forced tool choice: "auto" went out instead.
        response.relaxed_tool_choice = thinks(request)
            && matches!(
                request.tool_choice,
                ToolChoice::Required | ToolChoice::Tool(_)
            );
        Ok(response)
    }
}

/// Whether the request switches extended thinking on.
fn thinks(request: &ChatRequest) -> bool {
    request
        .thinking
        .and_then(|t| t.anthropic_budget())
        .is_some()
}

/// The JSON body for a request.
pub(crate) fn request_body(request: &ChatRequest) -> Value {
    let budget = request.thinking.and_then(|t| t.anthropic_budget());
    // `max_tokens` counts the thinking too and must exceed its budget.
    let max_tokens = request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS) + budget.unwrap_or(0);
    let mut body = json!({
        "model": request.model,
        "max_tokens": max_tokens,
        "messages": messages_json(&request.messages),
    });
    if let Some(system) = &request.system {
        body["system"] =
            json!([{"type": "text", "text": system, "cache_control": cache_breakpoint()}]);
    }
    if !request.tools.is_empty() {
        let mut tools: Vec<Value> = request
            .tools
            .iter()
            .map(|tool| {
                json!({
                    "name": tool.name,
                    "description": tool.description,
                    "input_schema": tool.parameters,
                })
            })
            .collect();
        if let Some(last) = tools.last_mut() {
            last["cache_control"] = cache_breakpoint();
        }
        body["tools"] = Value::Array(tools);
        body["tool_choice"] = match &request.tool_choice {
            // Extended thinking allows only "auto" and "none".
            ToolChoice::Required | ToolChoice::Tool(_) if budget.is_some() => {
                json!({"type": "auto"})
            }
            ToolChoice::Auto => json!({"type": "auto"}),
            ToolChoice::Required => json!({"type": "any"}),
            ToolChoice::None => json!({"type": "none"}),
            ToolChoice::Tool(name) => json!({"type": "tool", "name": name}),
        };
    }
    match (request.thinking, budget) {
        (Some(_), Some(budget)) => {
            body["thinking"] = json!({"type": "enabled", "budget_tokens": budget});
        }
        (Some(_), None) => body["thinking"] = json!({"type": "disabled"}),
        (None, _) => {}
    }
    // Extended thinking takes no temperature but the default.
    if let Some(t) = request.temperature.filter(|_| budget.is_none()) {
        body["temperature"] = json!(t);
    }
    body
}

/// Turns the messages into alternating turns: tool results travel as `tool_result` blocks in a
/// user turn, and consecutive blocks of one role are merged into one turn.
fn messages_json(messages: &[Message]) -> Vec<Value> {
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for message in messages {
        let (role, blocks) = match message {
            Message::User(parts) => ("user", parts.iter().map(content_block).collect()),
            Message::Assistant { text, tool_calls } => {
                // The API rejects empty text blocks.
                let mut blocks = Vec::new();
                if !text.is_empty() {
                    blocks.push(json!({"type": "text", "text": text}));
                }
                blocks.extend(tool_calls.iter().map(|call| {
                    json!({"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments_object()})
                }));
                ("assistant", blocks)
            }
            Message::Tool(result) => {
                let mut block = json!({
                    "type": "tool_result",
                    "tool_use_id": result.call_id,
                    "content": result.content,
                });
                if result.is_error {
                    block["is_error"] = json!(true);
                }
                ("user", vec![block])
            }
        };
        push_turn(&mut turns, role, blocks);
    }
    // The next step's request starts with this whole conversation: cache it.
    if let Some(block) = turns.last_mut().and_then(|(_, blocks)| blocks.last_mut()) {
        block["cache_control"] = cache_breakpoint();
    }
    turns
        .into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect()
}

/// A prompt-cache breakpoint: the prefix up to the block carrying it is cached for five
/// minutes (prefixes shorter than the model's minimum are silently not cached). Anthropic
/// allows four; system, tools and the conversation's end use three.
fn cache_breakpoint() -> Value {
    json!({"type": "ephemeral"})
}

fn content_block(part: &Content) -> Value {
    match part {
        Content::Text(text) => json!({"type": "text", "text": text}),
        Content::Image {
            media_type,
            data_base64,
        } => json!({"type": "image", "source": {
            "type": "base64", "media_type": media_type, "data": data_base64
        }}),
    }
}

/// `tool_use.input` must be an object; arguments the model garbled are replayed wrapped.
#[derive(Deserialize)]
pub(crate) struct WireResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    content: Vec<WireBlock>,
    stop_reason: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    usage: WireUsage,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireBlock {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default, deserialize_with = "null_as_default")]
        input: Value,
    },
    /// Thinking, redacted thinking, server tools: not part of the answer.
    #[serde(other)]
    Other,
}

#[derive(Deserialize, Default)]
struct WireUsage {
    #[serde(default, deserialize_with = "null_as_default")]
    input_tokens: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    output_tokens: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    cache_creation_input_tokens: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    cache_read_input_tokens: u64,
}

/// Reads a response body into the common model.
pub(crate) fn response_from_wire(wire: WireResponse) -> Result<ChatResponse, String> {
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for block in wire.content {
        match block {
            WireBlock::Text { text: t } => text.push_str(&t),
            WireBlock::ToolUse { id, name, input } => tool_calls.push(ToolCall {
                id,
                name,
                arguments: if input.is_null() { json!({}) } else { input },
                signature: None,
            }),
            WireBlock::Other => {}
        }
    }
    let stop_reason = match wire.stop_reason.as_deref() {
        Some("end_turn" | "stop_sequence") | None => StopReason::EndTurn,
        Some("tool_use") => StopReason::ToolUse,
        Some("max_tokens") => StopReason::MaxTokens,
        Some("refusal") => StopReason::ContentFilter,
        Some(other) => StopReason::Other(other.to_string()),
    };
    let u = wire.usage;
    // Anthropic counts cached and cache-writing prompt tokens apart from `input_tokens`.
    let usage = Usage {
        input_tokens: u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens,
        output_tokens: u.output_tokens,
        cached_input_tokens: u.cache_read_input_tokens,
        cache_write_input_tokens: u.cache_creation_input_tokens,
    };
    Ok(ChatResponse {
        text,
        tool_calls,
        usage,
        stop_reason,
        relaxed_tool_choice: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::model::{ToolDefinition, ToolResult};

    fn call(id: &str, name: &str, arguments: Value) -> ToolCall {
        ToolCall {
            id: id.into(),
            name: name.into(),
            arguments,
            signature: None,
        }
    }

    fn result(id: &str, content: &str, is_error: bool) -> Message {
        Message::Tool(ToolResult {
            call_id: id.into(),
            name: "x".into(),
            content: content.into(),
            is_error,
        })
    }

    #[test]
    fn request_merges_tool_results_into_one_user_turn() {
        let request = ChatRequest {
            model: "claude-sonnet-4-5".into(),
            system: Some("You drive a browser.".into()),
            messages: vec![
                Message::user_text("Search for shoes."),
                Message::Assistant {
                    text: "I'll type it.".into(),
                    tool_calls: vec![
                        call(
                            "toolu_1",
                            "browser_type",
                            json!({"index": 2, "text": "shoes"}),
                        ),
                        call("toolu_2", "browser_send_keys", json!({"keys": "Enter"})),
                    ],
                },
                result("toolu_1", "typed", false),
                result("toolu_2", "element gone", true),
                Message::User(vec![
                    Content::Text("[1] button Buy".into()),
                    Content::Image {
                        media_type: "image/png".into(),
                        data_base64: "iVBOR".into(),
                    },
                ]),
            ],
            tools: vec![ToolDefinition {
                name: "browser_type".into(),
                description: "Type text".into(),
                parameters: json!({"type": "object"}),
            }],
            tool_choice: ToolChoice::Required,
            max_tokens: None,
            temperature: Some(0.2),
            thinking: None,
        };
        let body = request_body(&request);
        assert_eq!(
            body,
            json!({
                "model": "claude-sonnet-4-5",
                "max_tokens": 8192,
                "system": [{"type": "text", "text": "You drive a browser.", "cache_control": {"type": "ephemeral"}}],
                "temperature": 0.2f32,
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": "Search for shoes."}]},
                    {"role": "assistant", "content": [
                        {"type": "text", "text": "I'll type it."},
                        {"type": "tool_use", "id": "toolu_1", "name": "browser_type", "input": {"index": 2, "text": "shoes"}},
                        {"type": "tool_use", "id": "toolu_2", "name": "browser_send_keys", "input": {"keys": "Enter"}}
                    ]},
                    {"role": "user", "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "typed"},
                        {"type": "tool_result", "tool_use_id": "toolu_2", "content": "element gone", "is_error": true},
                        {"type": "text", "text": "[1] button Buy"},
                        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"},
                         "cache_control": {"type": "ephemeral"}}
                    ]}
                ],
                "tools": [{"name": "browser_type", "description": "Type text", "input_schema": {"type": "object"},
                           "cache_control": {"type": "ephemeral"}}],
                "tool_choice": {"type": "any"}
            })
        );
    }

    #[test]
    fn tool_choice_variants_and_garbled_arguments() {
        let mut request = ChatRequest {
            model: "m".into(),
            tools: vec![ToolDefinition {
                name: "done".into(),
                description: String::new(),
                parameters: json!({}),
            }],
            messages: vec![Message::Assistant {
                text: String::new(),
                tool_calls: vec![call("t", "done", json!("{oops"))],
            }],
            ..ChatRequest::default()
        };
        request.tool_choice = ToolChoice::Tool("done".into());
        let body = request_body(&request);
        assert_eq!(body["tool_choice"], json!({"type": "tool", "name": "done"}));
        assert_eq!(
            body["messages"][0]["content"],
            json!([{"type": "tool_use", "id": "t", "name": "done", "input": {"raw_arguments": "{oops"},
                    "cache_control": {"type": "ephemeral"}}])
        );
        assert!(body.get("system").is_none());
        request.tool_choice = ToolChoice::None;
        assert_eq!(
            request_body(&request)["tool_choice"],
            json!({"type": "none"})
        );
    }

    fn parse(body: &str) -> ChatResponse {
        response_from_wire(serde_json::from_str(body).unwrap()).unwrap()
    }

    #[test]
    fn response_with_thinking_text_and_two_tool_uses() {
        let r = parse(
            r#"{
              "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
              "content": [
                {"type": "thinking", "thinking": "The search box is [2].", "signature": "EqQB"},
                {"type": "text", "text": "Typing the query."},
                {"type": "tool_use", "id": "toolu_01A", "name": "browser_type", "input": {"index": 2, "text": "shoes"}},
                {"type": "tool_use", "id": "toolu_01B", "name": "browser_go_back", "input": {}}
              ],
              "stop_reason": "tool_use", "stop_sequence": null,
              "usage": {"input_tokens": 50, "cache_creation_input_tokens": 200, "cache_read_input_tokens": 3000, "output_tokens": 87}
            }"#,
        );
        assert_eq!(r.text, "Typing the query.");
        assert_eq!(r.stop_reason, StopReason::ToolUse);
        assert_eq!(
            r.tool_calls,
            vec![
                call(
                    "toolu_01A",
                    "browser_type",
                    json!({"index": 2, "text": "shoes"})
                ),
                call("toolu_01B", "browser_go_back", json!({})),
            ]
        );
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: 3250,
                output_tokens: 87,
                cached_input_tokens: 3000,
                cache_write_input_tokens: 200,
            }
        );
    }

    #[test]
    fn stop_reasons() {
        for (wire, expected) in [
            ("end_turn", StopReason::EndTurn),
            ("max_tokens", StopReason::MaxTokens),
            ("refusal", StopReason::ContentFilter),
            ("pause_turn", StopReason::Other("pause_turn".into())),
        ] {
            let r = parse(&format!(
                r#"{{"content": [{{"type": "text", "text": "x"}}], "stop_reason": "{wire}", "usage": {{"input_tokens": 1, "output_tokens": 1}}}}"#
            ));
            assert_eq!(r.stop_reason, expected);
        }
    }
}
