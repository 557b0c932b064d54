//! The one request/response model every provider adapter maps to and from.
//!
//! The agent loop speaks only these types, so switching between OpenAI-compatible servers,
//! Anthropic and Gemini changes nothing above the adapters.

use serde_json::Value;

use super::thinking::ThinkingLevel;

/// One call to a chat model: the whole conversation so far plus the tools it may call.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatRequest {
    /// The provider's model name (already mapped from the API's model name, see
    /// [`LlmConfig::provider_model`](super::LlmConfig::provider_model)).
    pub model: String,
    /// The system prompt; providers carry it outside the message list, so it is kept apart.
    pub system: Option<String>,
    /// The conversation, oldest first.
    pub messages: Vec<Message>,
    /// The tools the model may call; empty for a plain completion.
    pub tools: Vec<ToolDefinition>,
    /// Whether the model must, may or must not call a tool.
    pub tool_choice: ToolChoice,
    /// A cap on the answer's length; `None` leaves the provider's default (Anthropic requires a
    /// value, so its adapter fills one in).
    pub max_tokens: Option<u32>,
    /// Sampling temperature; `None` leaves the provider's default (some reasoning models reject
    /// any other value).
    pub temperature: Option<f32>,
    /// How hard the model may think (the task's `thinkingLevel`); `None` leaves the provider's
    /// default. Adapters drop it for a model that refused it once.
    pub thinking: Option<ThinkingLevel>,
}

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// What the agent tells the model: the task, the page state, screenshots.
    User(Vec<Content>),
    /// What the model answered earlier, replayed so it sees its own tool calls.
    Assistant {
        /// Free text the model wrote (may be empty).
        text: String,
        /// The tools it called, in order.
        tool_calls: Vec<ToolCall>,
    },
    /// The result of one earlier tool call.
    Tool(ToolResult),
}

impl Message {
    /// A user message holding one text part, the most common case.
    pub fn user_text(text: impl Into<String>) -> Message {
        Message::User(vec![Content::Text(text.into())])
    }
}

/// A part of a user message.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// An image for vision models, e.g. a screenshot of the page.
    Image {
        /// MIME type, e.g. `image/jpeg`.
        media_type: String,
        /// The image bytes, base64-encoded (every provider wants base64 on the wire).
        data_base64: String,
    },
}

/// A tool the model may call, described by a JSON Schema for its arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolDefinition {
    /// The name the model calls it by, e.g. `browser_click`.
    pub name: String,
    /// What it does, in words the model reads.
    pub description: String,
    /// JSON Schema of the arguments object.
    pub parameters: Value,
}

/// How the model is steered towards tools.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ToolChoice {
    /// The model decides.
    #[default]
    Auto,
    /// The model must call some tool (the agent wants an action every step).
    Required,
    /// The model must not call tools.
    None,
    /// The model must call this tool, e.g. a forced `done` on the last step.
    Tool(String),
}

/// A tool call the model made.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// The provider's id for the call, echoed back in its [`ToolResult`]. Gemini gives none,
    /// so its adapter makes one up (`call_<n>`).
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments. Normally an object; if the model wrote arguments that are not valid JSON,
    /// the raw text is kept as a JSON string so the agent can tell the model what went wrong.
    pub arguments: Value,
    /// An opaque token the provider wants back with the call when the conversation is replayed
    /// (Gemini's `thoughtSignature`; Gemini 3 rejects replayed calls without it).
    pub signature: Option<String>,
}

impl ToolCall {
    /// The arguments as a JSON object, which Anthropic and Gemini require when a call is
    /// replayed; arguments that were not an object travel as `{"raw_arguments": ...}`.
    pub(crate) fn arguments_object(&self) -> Value {
        match &self.arguments {
            Value::Object(_) => self.arguments.clone(),
            other => serde_json::json!({ "raw_arguments": other }),
        }
    }
}

/// Appends a message's blocks to the conversation, merging them into the last turn when it has
/// the same role: Anthropic and Gemini both require turns to alternate.
pub(crate) fn push_turn(
    turns: &mut Vec<(&'static str, Vec<Value>)>,
    role: &'static str,
    blocks: Vec<Value>,
) {
    match turns.last_mut() {
        Some((last_role, last_blocks)) if *last_role == role => last_blocks.extend(blocks),
        _ => turns.push((role, blocks)),
    }
}

/// The outcome of a tool call, sent back to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    /// The [`ToolCall::id`] it answers.
    pub call_id: String,
    /// The tool's name (Gemini matches results by name, not id).
    pub name: String,
    /// What happened, as text the model reads.
    pub content: String,
    /// Whether the call failed; providers that can mark errors do.
    pub is_error: bool,
}

/// What the model answered.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatResponse {
    /// Free text (empty if it only called tools).
    pub text: String,
    /// Tool calls, in the order the model made them.
    pub tool_calls: Vec<ToolCall>,
    /// Token counts, for `llmCostUsd` and the task's token fields.
    pub usage: Usage,
    /// Why the model stopped.
    pub stop_reason: StopReason,
    /// The call went out with `tool_choice` "auto" instead of the one asked for, because
    /// the server refuses that one: an answer without tool calls is then the model's
    /// choice, not a failure to obey.
    pub relaxed_tool_choice: bool,
}

impl ChatResponse {
    /// The answer as an assistant message, to append to the conversation for the next call.
    pub fn to_message(&self) -> Message {
        Message::Assistant {
            text: self.text.clone(),
            tool_calls: self.tool_calls.clone(),
        }
    }
}

/// Token counts of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Prompt tokens, cached ones included.
    pub input_tokens: u64,
    /// Answer tokens, reasoning included.
    pub output_tokens: u64,
    /// The part of `input_tokens` served from the provider's prompt cache (billed cheaper).
    pub cached_input_tokens: u64,
    /// The part of `input_tokens` written to the prompt cache (Anthropic bills it at a premium).
    pub cache_write_input_tokens: u64,
}

/// Why the model stopped writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// It finished its answer.
    EndTurn,
    /// It called tools and waits for their results.
    ToolUse,
    /// It hit `max_tokens`: the answer (and any tool arguments) may be cut off.
    MaxTokens,
    /// The provider's safety filter stopped it.
    ContentFilter,
    /// Something else, as the provider named it.
    Other(String),
}
