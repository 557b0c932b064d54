//! The one place that sends requests to a model server: JSON over HTTPS, a timeout on every
//! request, retries with backoff that honour `Retry-After`, and errors scrubbed of the key.

use std::time::{Duration, Instant, SystemTime};

use reqwest::header::CONTENT_TYPE;
use serde::de::{Deserialize, DeserializeOwned, Deserializer};
use serde_json::Value;

use super::config::{ApiKey, LlmConfig, ProviderKind};
use super::error::LlmError;
use super::retry;

/// Connecting should be quick even when answering is slow; a dead host fails fast and is
/// retried.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of an unreadable body goes into an error message.
const SNIPPET_CHARS: usize = 300;

tokio::task_local! {
    /// Set around a call by a caller that wants to hear of its retries as they happen (the
    /// agent tells the feed that the model is being retried): one line per retry.
    pub(crate) static RETRIES: tokio::sync::mpsc::UnboundedSender<String>;
}

/// What one request's outcome means for the call.
enum Attempt<T> {
    /// The call is over, for better or worse.
    Done(Result<T, LlmError>),
    /// Try again after `wait`.
    RetryAfter { wait: Duration, reason: String },
}

/// An HTTP client bound to one provider's retry and timeout settings.
pub(crate) struct Transport {
    client: reqwest::Client,
    provider: ProviderKind,
    api_key: Option<ApiKey>,
    timeout: Duration,
    max_retries: u32,
}

impl Transport {
    /// Builds the client once per provider, so connections (and TLS sessions) are reused.
    pub(crate) fn new(config: &LlmConfig) -> Result<Transport, LlmError> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT.min(config.timeout))
            .build()
            .map_err(|e| LlmError::Connect {
                provider: config.provider,
                message: format!("cannot set up the HTTP client: {e}"),
                attempts: 0,
            })?;
        Ok(Transport {
            client,
            provider: config.provider,
            api_key: config.api_key.clone(),
            timeout: config.timeout,
            max_retries: config.max_retries,
        })
    }

    /// The key, for adapters to put in their auth header.
    pub(crate) fn api_key(&self) -> Option<&str> {
        self.api_key.as_ref().map(ApiKey::expose)
    }

    /// POSTs `body` to `url` and parses a 2xx answer as `T`, retrying what is worth retrying.
    pub(crate) async fn post_json<T: DeserializeOwned>(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: &Value,
    ) -> Result<T, LlmError> {
        let body = serde_json::to_vec(body).map_err(|e| LlmError::InvalidRequest {
            provider: self.provider,
            message: e.to_string(),
        })?;
        let started = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.attempt(url, headers, &body, attempts).await {
                Attempt::Done(result) => {
                    tracing::debug!(provider = %self.provider, attempts, ok = result.is_ok(),
                        elapsed_ms = started.elapsed().as_millis() as u64, "LLM call ended");
                    return result;
                }
                Attempt::RetryAfter { wait, reason } => {
                    tracing::warn!(provider = %self.provider, attempts, ?wait, %reason,
                        "LLM request failed; retrying");
                    let _ = RETRIES.try_with(|retries| {
                        retries.send(format!(
                            "{reason}; retry {attempts} of {} in {:.1} s",
                            self.max_retries,
                            wait.as_secs_f64()
                        ))
                    });
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Sends the request once and decides what its outcome means.
    async fn attempt<T: DeserializeOwned>(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: &[u8],
        attempts: u32,
    ) -> Attempt<T> {
        let may_retry = attempts <= self.max_retries;
        let mut request = self
            .client
            .post(url)
            .timeout(self.timeout)
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let failure = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let response_headers = response.headers().clone();
                match response.bytes().await {
                    Ok(bytes) if (200..300).contains(&status) => {
                        return Attempt::Done(self.parse(&bytes));
                    }
                    Ok(_) if may_retry && retry::should_retry(status, &response_headers) => {
                        return Attempt::RetryAfter {
                            wait: retry::server_wait(&response_headers, SystemTime::now())
                                .unwrap_or_else(|| retry::backoff(attempts - 1)),
                            reason: format!("HTTP {status}"),
                        };
                    }
                    Ok(bytes) => {
                        return Attempt::Done(Err(LlmError::Status {
                            provider: self.provider,
                            status,
                            message: self.scrub(&error_message(&bytes)),
                            attempts,
                        }));
                    }
                    Err(e) => e,
                }
            }
            Err(e) => e,
        };
        // A model that stalled once tends to stall again; the agent loop decides what next.
        if failure.is_timeout() {
            return Attempt::Done(Err(LlmError::Timeout {
                provider: self.provider,
                after: self.timeout,
                attempts,
            }));
        }
        let message = self.scrub(&error_chain(&failure));
        if may_retry && (failure.is_connect() || failure.is_request() || failure.is_body()) {
            return Attempt::RetryAfter {
                wait: retry::backoff(attempts - 1),
                reason: message,
            };
        }
        Attempt::Done(Err(LlmError::Connect {
            provider: self.provider,
            message,
            attempts,
        }))
    }

    fn parse<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, LlmError> {
        serde_json::from_slice(bytes).map_err(|e| LlmError::InvalidResponse {
            provider: self.provider,
            message: self.scrub(&format!("{e}; the body starts with {:?}", snippet(bytes))),
        })
    }

    /// Removes the key from text that came from outside (providers echo bad keys back).
    fn scrub(&self, text: &str) -> String {
        match self.api_key() {
            Some(key) if !key.is_empty() => text.replace(key, "***"),
            _ => text.to_string(),
        }
    }
}

/// Reads `null` like a missing field: compatible servers write `"tool_calls": null` and the
/// like where OpenAI leaves the field out.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// The provider's own message from an error body: every supported API nests it as
/// `{"error": {"message": ...}}`; anything else is shown as the start of the body.
fn error_message(body: &[u8]) -> String {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let message = parsed.as_ref().and_then(|v| {
        v.pointer("/error/message")
            .or_else(|| v.get("message"))
            .or_else(|| v.get("error"))
            .or_else(|| v.get("detail"))
            .and_then(Value::as_str)
    });
    // OpenAI names the offending parameter apart from the message.
    let param = parsed
        .as_ref()
        .and_then(|v| v.pointer("/error/param"))
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty());
    match (message, param) {
        (Some(m), Some(p)) if !m.contains(p) => format!("{m} (param: {p})"),
        (Some(m), _) => m.to_string(),
        (None, _) if body.is_empty() => "(empty body)".to_string(),
        (None, _) => snippet(body),
    }
}

fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .chars()
        .take(SNIPPET_CHARS)
        .collect()
}

/// reqwest's top-level message is vague ("error sending request"); the cause says why.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_from_each_provider() {
        // OpenAI
        assert_eq!(
            error_message(
                br#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#
            ),
            "Rate limit reached"
        );
        // Anthropic
        assert_eq!(
            error_message(
                br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
            ),
            "Overloaded"
        );
        // Gemini
        assert_eq!(
            error_message(br#"{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT"}}"#),
            "API key not valid."
        );
        // Ollama / llama.cpp style
        assert_eq!(
            error_message(br#"{"error":"model not found"}"#),
            "model not found"
        );
        assert_eq!(
            error_message(b"<html>Bad Gateway</html>"),
            "<html>Bad Gateway</html>"
        );
        assert_eq!(
            error_message(
                br#"{"error":{"message":"Invalid value: 'required'.","type":"invalid_request_error","param":"tool_choice"}}"#
            ),
            "Invalid value: 'required'. (param: tool_choice)"
        );
        assert_eq!(error_message(b""), "(empty body)");
        assert_eq!(error_message(&[b'x'; 1000]).len(), SNIPPET_CHARS);
    }

    #[test]
    fn scrub_removes_the_key() {
        let config = LlmConfig {
            provider: ProviderKind::OpenAi,
            base_url: "http://127.0.0.1:1/v1".into(),
            api_key: Some(ApiKey::new("sk-secret-123")),
            model: "m".into(),
            timeout: Duration::from_secs(1),
            max_retries: 0,
            models: Default::default(),
            prices: Default::default(),
        };
        let transport = Transport::new(&config).unwrap();
        assert_eq!(
            transport.scrub("Incorrect API key provided: sk-secret-123."),
            "Incorrect API key provided: ***."
        );
    }
}
