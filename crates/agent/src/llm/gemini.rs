//! Google Gemini's native API (`POST {base}/models/{model}:generateContent`):
//! `functionDeclarations`, `functionCall` / `functionResponse` parts, roles `user` and `model`.
//!
//! Native rather than Gemini's OpenAI-compatible endpoint because thought signatures (which
//! Gemini 3 requires back on replayed function calls) only round-trip here.

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

/// Google Gemini, as [`ProviderKind::Gemini`](super::ProviderKind::Gemini).
pub(crate) const INFO: ProviderInfo = ProviderInfo {
    name: "gemini",
    aliases: &["google"],
    default_base_url: "https://generativelanguage.googleapis.com/v1beta",
    default_model: "gemini-2.5-flash",
    key_envs: &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
    base_url_env: None,
    inferred_from: &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
    keyless_when_self_hosted: false,
    connect: |config| Ok(std::sync::Arc::new(Gemini::new(config)?)),
};

/// A client for the Gemini API.
pub struct Gemini {
    transport: Transport,
    base_url: String,
    /// Models that refused `thinkingConfig`: it is left out for them from then on.
    refuses_thinking: Refusals,
}

impl Gemini {
    /// Sets up the client; `config.base_url` ends in the API version, e.g. `.../v1beta`.
    pub fn new(config: &LlmConfig) -> Result<Gemini, LlmError> {
        Ok(Gemini {
            transport: Transport::new(config)?,
            base_url: config.base_url.clone(),
            refuses_thinking: Refusals::default(),
        })
    }
}

impl Provider for Gemini {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Gemini
    }

    fn chat<'a>(&'a self, request: &'a ChatRequest) -> LlmFuture<'a> {
        Box::pin(async move {
            // Accept both `gemini-2.5-flash` and `models/gemini-2.5-flash`.
            let model = request.model.trim_start_matches("models/");
            let url = format!("{}/models/{model}:generateContent", self.base_url);
            let mut headers = Vec::new();
            // In a header, not the `?key=` query, so it never shows up in a URL in an error.
            if let Some(key) = self.transport.api_key() {
                headers.push(("x-goog-api-key", key.to_string()));
            }
            let mut request = std::borrow::Cow::Borrowed(request);
            if request.thinking.is_some() && self.refuses_thinking.refused(&request.model) {
                request.to_mut().thinking = None;
            }
            match self.send(&url, &request, &headers).await {
                Err(e) if request.thinking.is_some() && thinking::refuses(&e, &["thinking"]) => {
                    tracing::warn!(error = %e, model = %request.model,
                        "the model refuses thinkingConfig; sending none from now on");
                    self.refuses_thinking.remember(&request.model);
                    request.to_mut().thinking = None;
                    self.send(&url, &request, &headers).await
                }
                other => other,
            }
        })
    }
}

impl Gemini {
    async fn send(
        &self,
        url: &str,
        request: &ChatRequest,
        headers: &[(&'static str, String)],
    ) -> Result<ChatResponse, LlmError> {
        let wire: WireResponse = self
            .transport
            .post_json(url, headers, &request_body(request))
            .await?;
        response_from_wire(wire).map_err(|message| LlmError::InvalidResponse {
            provider: ProviderKind::Gemini,
            message,
        })
    }
}

/// The JSON body for a request.
pub(crate) fn request_body(request: &ChatRequest) -> Value {
    let mut body = json!({"contents": contents_json(&request.messages)});
    if let Some(system) = &request.system {
        body["systemInstruction"] = json!({"parts": [{"text": system}]});
    }
    if !request.tools.is_empty() {
        let declarations: Vec<Value> = request
            .tools
            .iter()
            .map(|tool| {
                // The full JSON Schema form; `parameters` takes only an OpenAPI subset.
                json!({
                    "name": tool.name,
                    "description": tool.description,
                    "parametersJsonSchema": tool.parameters,
                })
            })
            .collect();
        body["tools"] = json!([{"functionDeclarations": declarations}]);
        body["toolConfig"] = json!({"functionCallingConfig": match &request.tool_choice {
            ToolChoice::Auto => json!({"mode": "AUTO"}),
            ToolChoice::Required => json!({"mode": "ANY"}),
            ToolChoice::None => json!({"mode": "NONE"}),
            ToolChoice::Tool(name) => json!({"mode": "ANY", "allowedFunctionNames": [name]}),
        }});
    }
    let mut generation = serde_json::Map::new();
    if let Some(max) = request.max_tokens {
        generation.insert("maxOutputTokens".into(), json!(max));
    }
    if let Some(t) = request.temperature {
        generation.insert("temperature".into(), json!(t));
    }
    if let Some(level) = request.thinking {
        generation.insert(
            "thinkingConfig".into(),
            json!({"thinkingBudget": level.gemini_budget()}),
        );
    }
    if !generation.is_empty() {
        body["generationConfig"] = Value::Object(generation);
    }
    body
}

/// Tool results travel as `functionResponse` parts of a user turn; consecutive parts of one
/// role are merged into one turn.
fn contents_json(messages: &[Message]) -> Vec<Value> {
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for message in messages {
        let (role, parts) = match message {
            Message::User(parts) => ("user", parts.iter().map(content_part).collect()),
            Message::Assistant { text, tool_calls } => {
                let mut parts = Vec::new();
                if !text.is_empty() {
                    parts.push(json!({"text": text}));
                }
                parts.extend(tool_calls.iter().map(|call| {
                    let mut part = json!({
                        "functionCall": {"name": call.name, "args": call.arguments_object()}
                    });
                    if let Some(signature) = &call.signature {
                        part["thoughtSignature"] = json!(signature);
                    }
                    part
                }));
                ("model", parts)
            }
            Message::Tool(result) => {
                let key = if result.is_error { "error" } else { "result" };
                (
                    "user",
                    vec![json!({"functionResponse": {
                        "name": result.name,
                        "response": {key: result.content},
                    }})],
                )
            }
        };
        push_turn(&mut turns, role, parts);
    }
    turns
        .into_iter()
        .map(|(role, parts)| json!({"role": role, "parts": parts}))
        .collect()
}

fn content_part(part: &Content) -> Value {
    match part {
        Content::Text(text) => json!({"text": text}),
        Content::Image {
            media_type,
            data_base64,
        } => json!({"inlineData": {"mimeType": media_type, "data": data_base64}}),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    candidates: Vec<WireCandidate>,
    usage_metadata: Option<WireUsage>,
    prompt_feedback: Option<WirePromptFeedback>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireCandidate {
    content: Option<WireContent>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireContent {
    #[serde(default, deserialize_with = "null_as_default")]
    parts: Vec<WirePart>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePart {
    text: Option<String>,
    /// A thought summary, not part of the answer.
    #[serde(default, deserialize_with = "null_as_default")]
    thought: bool,
    function_call: Option<WireFunctionCall>,
    thought_signature: Option<String>,
}

#[derive(Deserialize)]
struct WireFunctionCall {
    id: Option<String>,
    name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    args: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireUsage {
    #[serde(default, deserialize_with = "null_as_default")]
    prompt_token_count: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    candidates_token_count: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    thoughts_token_count: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    cached_content_token_count: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePromptFeedback {
    block_reason: Option<String>,
}

/// Reads a response body into the common model.
pub(crate) fn response_from_wire(wire: WireResponse) -> Result<ChatResponse, String> {
    let usage = wire
        .usage_metadata
        .map(|u| Usage {
            input_tokens: u.prompt_token_count,
            // Thinking is billed as output.
            output_tokens: u.candidates_token_count + u.thoughts_token_count,
            cached_input_tokens: u.cached_content_token_count,
            cache_write_input_tokens: 0,
        })
        .unwrap_or_default();
    let Some(candidate) = wire.candidates.into_iter().next() else {
        // A blocked prompt gets no candidate at all.
        return match wire.prompt_feedback.and_then(|f| f.block_reason) {
            Some(reason) => Ok(ChatResponse {
                text: format!("(the prompt was blocked: {reason})"),
                tool_calls: Vec::new(),
                usage,
                stop_reason: StopReason::ContentFilter,
                relaxed_tool_choice: false,
            }),
            None => Err("the answer has no candidates".to_string()),
        };
    };
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
        if let Some(call) = part.function_call {
            tool_calls.push(ToolCall {
                id: call
                    .id
                    .unwrap_or_else(|| format!("call_{}", tool_calls.len())),
                name: call.name,
                arguments: if call.args.is_null() {
                    json!({})
                } else {
                    call.args
                },
                signature: part.thought_signature,
            });
        } else if let Some(t) = part.text.filter(|_| !part.thought) {
            text.push_str(&t);
        }
    }
    let stop_reason = match candidate.finish_reason.as_deref() {
        // Gemini says STOP after function calls too.
        _ if !tool_calls.is_empty() => StopReason::ToolUse,
        Some("STOP") | None => StopReason::EndTurn,
        Some("MAX_TOKENS") => StopReason::MaxTokens,
        Some(
            "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY",
        ) => StopReason::ContentFilter,
        Some(other) => StopReason::Other(other.to_string()),
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

    #[test]
    fn request_maps_to_generate_content() {
        let request = ChatRequest {
            model: "gemini-2.5-flash".into(),
            system: Some("You drive a browser.".into()),
            messages: vec![
                Message::User(vec![
                    Content::Text("Open the menu.".into()),
                    Content::Image {
                        media_type: "image/jpeg".into(),
                        data_base64: "/9j/".into(),
                    },
                ]),
                Message::Assistant {
                    text: String::new(),
                    tool_calls: vec![
                        ToolCall {
                            id: "call_0".into(),
                            name: "browser_click".into(),
                            arguments: json!({"index": 7}),
                            signature: Some("sig-A".into()),
                        },
                        ToolCall {
                            id: "call_1".into(),
                            name: "browser_wait".into(),
                            arguments: json!({"seconds": 1}),
                            signature: None,
                        },
                    ],
                },
                Message::Tool(ToolResult {
                    call_id: "call_0".into(),
                    name: "browser_click".into(),
                    content: "menu opened".into(),
                    is_error: false,
                }),
                Message::Tool(ToolResult {
                    call_id: "call_1".into(),
                    name: "browser_wait".into(),
                    content: "interrupted".into(),
                    is_error: true,
                }),
            ],
            tools: vec![ToolDefinition {
                name: "browser_click".into(),
                description: "Click".into(),
                parameters: json!({"type": "object", "additionalProperties": false}),
            }],
            tool_choice: ToolChoice::Tool("done".into()),
            max_tokens: Some(2048),
            temperature: Some(0.5),
            thinking: None,
        };
        assert_eq!(
            request_body(&request),
            json!({
                "systemInstruction": {"parts": [{"text": "You drive a browser."}]},
                "contents": [
                    {"role": "user", "parts": [
                        {"text": "Open the menu."},
                        {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/"}}
                    ]},
                    {"role": "model", "parts": [
                        {"functionCall": {"name": "browser_click", "args": {"index": 7}}, "thoughtSignature": "sig-A"},
                        {"functionCall": {"name": "browser_wait", "args": {"seconds": 1}}}
                    ]},
                    {"role": "user", "parts": [
                        {"functionResponse": {"name": "browser_click", "response": {"result": "menu opened"}}},
                        {"functionResponse": {"name": "browser_wait", "response": {"error": "interrupted"}}}
                    ]}
                ],
                "tools": [{"functionDeclarations": [{
                    "name": "browser_click", "description": "Click",
                    "parametersJsonSchema": {"type": "object", "additionalProperties": false}
                }]}],
                "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["done"]}},
                "generationConfig": {"maxOutputTokens": 2048, "temperature": 0.5}
            })
        );
    }

    fn parse(body: &str) -> ChatResponse {
        response_from_wire(serde_json::from_str(body).unwrap()).unwrap()
    }

    #[test]
    fn response_with_thoughts_and_parallel_function_calls() {
        let r = parse(
            r#"{
              "candidates": [{
                "content": {"role": "model", "parts": [
                  {"text": "Let me think about the form.", "thought": true},
                  {"text": "Filling the form."},
                  {"functionCall": {"name": "browser_type", "args": {"index": 1, "text": "Ada"}}, "thoughtSignature": "CiQB"},
                  {"functionCall": {"name": "browser_type", "args": {"index": 2, "text": "Lovelace"}}}
                ]},
                "finishReason": "STOP", "index": 0
              }],
              "usageMetadata": {"promptTokenCount": 900, "candidatesTokenCount": 40, "thoughtsTokenCount": 100,
                "cachedContentTokenCount": 512, "totalTokenCount": 1040},
              "modelVersion": "gemini-2.5-flash", "responseId": "abc"
            }"#,
        );
        assert_eq!(r.text, "Filling the form.");
        assert_eq!(r.stop_reason, StopReason::ToolUse);
        assert_eq!(r.tool_calls.len(), 2);
        assert_eq!(r.tool_calls[0].id, "call_0");
        assert_eq!(r.tool_calls[0].signature.as_deref(), Some("CiQB"));
        assert_eq!(r.tool_calls[1].id, "call_1");
        assert_eq!(
            r.tool_calls[1].arguments,
            json!({"index": 2, "text": "Lovelace"})
        );
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: 900,
                output_tokens: 140,
                cached_input_tokens: 512,
                cache_write_input_tokens: 0,
            }
        );
    }

    #[test]
    fn blocked_truncated_and_empty_answers() {
        let r = parse(
            r#"{"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 10}}"#,
        );
        assert_eq!(r.stop_reason, StopReason::ContentFilter);
        assert_eq!(r.usage.input_tokens, 10);
        let r = parse(
            r#"{"candidates": [{"content": {"parts": [{"text": "Once"}]}, "finishReason": "MAX_TOKENS"}]}"#,
        );
        assert_eq!(r.stop_reason, StopReason::MaxTokens);
        let r = parse(r#"{"candidates": [{"finishReason": "MALFORMED_FUNCTION_CALL"}]}"#);
        assert_eq!(
            r.stop_reason,
            StopReason::Other("MALFORMED_FUNCTION_CALL".into())
        );
        assert!(response_from_wire(serde_json::from_str("{}").unwrap()).is_err());
    }
}
