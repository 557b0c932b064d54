//! LLM providers: one request/response model ([`ChatRequest`], [`ChatResponse`]) and thin
//! adapters for the three wire protocols Tandem speaks, behind the [`Provider`] trait.
//!
//! - [`OpenAi`]: OpenAI-compatible `/chat/completions` (OpenAI, vLLM, llama.cpp, Ollama,
//!   OpenRouter, ...).
//! - [`Anthropic`]: Anthropic Messages.
//! - [`Gemini`]: Google Gemini `generateContent`.
//!
//! Calls are not streamed: the agent needs whole tool calls before it can act. Every request
//! has a timeout and is retried on rate limits, server errors and connection failures, waiting
//! as long as the server's `Retry-After` asks (see `retry`). Configuration comes from the
//! environment and the settings file ([`LlmConfig`]); the API key never appears in `Debug`
//! output or errors.

mod anthropic;
mod config;
mod error;
mod gemini;
mod model;
mod openai;
mod retry;
mod thinking;
mod transport;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use anthropic::Anthropic;
pub use config::{
    ApiKey, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, LlmConfig, LlmToml, ModelPrice, ProviderInfo,
    ProviderKind,
};
pub use error::{ConfigError, LlmError};
pub use gemini::Gemini;
pub use model::{
    ChatRequest, ChatResponse, Content, Message, StopReason, ToolCall, ToolChoice, ToolDefinition,
    ToolResult, Usage,
};
pub use openai::OpenAi;
pub use retry::MAX_SERVER_WAIT;
pub use thinking::ThinkingLevel;

/// The future a [`Provider`] returns: boxed so providers can be shared as
/// `Arc<dyn Provider>`, like [`TaskRunner`](crate::TaskRunner)s.
pub type LlmFuture<'a> = Pin<Box<dyn Future<Output = Result<ChatResponse, LlmError>> + Send + 'a>>;

/// A chat model behind some wire protocol.
pub trait Provider: Send + Sync {
    /// Which protocol it speaks, for logs and error messages.
    fn kind(&self) -> ProviderKind;

    /// Sends one request and returns the model's whole answer, after any retries. Dropping the
    /// future abandons the call.
    fn chat<'a>(&'a self, request: &'a ChatRequest) -> LlmFuture<'a>;
}

/// Runs `call` (a [`Provider::chat`] future) and sends one line to `retries` for each retry
/// the provider makes meanwhile (a 429, a 5xx, a connection error), so a caller can show
/// that a slow answer is being retried.
pub async fn reporting_retries<F: Future>(
    retries: tokio::sync::mpsc::UnboundedSender<String>,
    call: F,
) -> F::Output {
    transport::RETRIES.scope(retries, call).await
}

/// Builds the provider a configuration names.
pub fn connect(config: &LlmConfig) -> Result<Arc<dyn Provider>, LlmError> {
    (config.provider.info().connect)(config)
}
