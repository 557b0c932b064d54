//! What can go wrong when talking to a model, in words a user can act on.
//!
//! No variant ever holds the API key: messages that come back from a provider are scrubbed of
//! it before they are stored here (see `transport`).

use std::time::Duration;

use super::config::ProviderKind;

/// Configuration that cannot produce a working provider.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Nothing says which LLM to use: tasks cannot run.
    #[error(
        "no LLM provider configured: set TANDEM_LLM_PROVIDER (openai, anthropic or gemini) with \
         TANDEM_LLM_API_KEY, or one of OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY \
         (or OPENAI_BASE_URL / TANDEM_LLM_BASE_URL for a local OpenAI-compatible server)"
    )]
    NotConfigured,
    /// A provider that needs a key was chosen without one.
    #[error("the {provider} LLM provider needs an API key: set TANDEM_LLM_API_KEY or {env}")]
    MissingApiKey {
        /// The chosen provider.
        provider: ProviderKind,
        /// The provider's usual variable for the key.
        env: &'static str,
    },
    /// A setting has a value Tandem cannot use.
    #[error("invalid LLM setting {setting}: {message}")]
    Invalid {
        /// The variable or TOML key.
        setting: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

/// A model call that failed (after any retries).
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The configuration cannot produce a provider; see [`ConfigError`].
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The provider answered with an error status.
    #[error("{provider} LLM API returned HTTP {status} after {attempts} attempt(s): {message}")]
    Status {
        /// Which provider.
        provider: ProviderKind,
        /// The HTTP status, e.g. 401 or 429.
        status: u16,
        /// The provider's own error message (key removed), or the start of the body.
        message: String,
        /// How many requests were sent.
        attempts: u32,
    },
    /// No answer within the per-call timeout.
    #[error("{provider} LLM API did not answer within {after:?} (attempt {attempts})")]
    Timeout {
        /// Which provider.
        provider: ProviderKind,
        /// The timeout that expired.
        after: Duration,
        /// How many requests were sent.
        attempts: u32,
    },
    /// The provider could not be reached (DNS, refused connection, TLS, reset).
    #[error("cannot reach the {provider} LLM API after {attempts} attempt(s): {message}")]
    Connect {
        /// Which provider.
        provider: ProviderKind,
        /// The transport's description of the failure (key removed).
        message: String,
        /// How many requests were sent.
        attempts: u32,
    },
    /// The request cannot be expressed in the provider's wire format.
    #[error("cannot build a request for the {provider} LLM API: {message}")]
    InvalidRequest {
        /// Which provider.
        provider: ProviderKind,
        /// What could not be encoded.
        message: String,
    },
    /// The provider answered 2xx with something the adapter cannot read.
    #[error("{provider} LLM API sent an unexpected answer: {message}")]
    InvalidResponse {
        /// Which provider.
        provider: ProviderKind,
        /// What was wrong with it.
        message: String,
    },
}

impl LlmError {
    /// Whether the same call may succeed if the agent tries again later (rate limits, outages,
    /// timeouts), as opposed to a configuration problem that needs a human.
    pub fn is_transient(&self) -> bool {
        match self {
            LlmError::Status { status, .. } => super::retry::is_retryable_status(*status),
            LlmError::Timeout { .. } | LlmError::Connect { .. } => true,
            LlmError::Config(_)
            | LlmError::InvalidRequest { .. }
            | LlmError::InvalidResponse { .. } => false,
        }
    }
}
