//! Which LLM to use, from environment variables and an optional `[llm]` TOML table.
//!
//! Precedence, per setting: `TANDEM_LLM_*` variables, then the TOML table, then the provider's
//! usual variables (`OPENAI_API_KEY`, ...), then built-in defaults. Empty variables count as
//! unset. The API key is an [`ApiKey`], whose `Debug` never shows it.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::error::ConfigError;

/// How long one request to the model may take unless configured otherwise. Large models with
/// long prompts routinely take tens of seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(90);
/// How many times a failed request is retried unless configured otherwise.
pub const DEFAULT_MAX_RETRIES: u32 = 3;
/// More retries than this only stall a task behind an outage.
const MAX_RETRIES_LIMIT: u32 = 10;

/// Everything Tandem knows of one LLM provider, as its module declares it (`INFO`). Adding a
/// provider is one module (an adapter implementing [`Provider`](super::Provider) and its
/// `INFO`) plus one line in [`providers!`].
#[derive(Debug)]
pub struct ProviderInfo {
    /// The name in `TANDEM_LLM_PROVIDER`, the `[llm]` table, logs and errors.
    pub name: &'static str,
    /// Other names accepted for it (e.g. `google`).
    pub aliases: &'static [&'static str],
    /// The public endpoint used when no base URL is configured.
    pub default_base_url: &'static str,
    /// The model used when none is configured: a fast, cheap one that calls tools well.
    pub default_model: &'static str,
    /// The vendor's usual variables for the API key, read as a fallback, main one first.
    pub key_envs: &'static [&'static str],
    /// The vendor's usual variable for the base URL, if it has one.
    pub base_url_env: Option<&'static str>,
    /// Variables whose presence picks this provider when none is named (checked in the order
    /// of [`ProviderKind::ALL`]).
    pub inferred_from: &'static [&'static str],
    /// Whether it can run without a key when pointed at a self-hosted server.
    pub keyless_when_self_hosted: bool,
    /// Builds a client for a configuration naming it.
    pub connect: fn(&LlmConfig) -> Result<Arc<dyn super::Provider>, super::LlmError>,
}

/// Declares the providers: one line each, `Variant => module`, where `module::INFO` is its
/// [`ProviderInfo`]. Generates [`ProviderKind`] and its lookups, so no `match` on providers
/// exists anywhere else.
macro_rules! providers {
    ($($(#[$doc:meta])* $variant:ident => $module:ident,)+) => {
        /// The wire protocol (and so the vendor) of the model server.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ProviderKind {
            $($(#[$doc])* $variant,)+
        }

        impl ProviderKind {
            /// Every provider, in the order inference tries them.
            pub const ALL: &'static [ProviderKind] = &[$(ProviderKind::$variant,)+];

            /// What Tandem knows of it.
            pub fn info(self) -> &'static ProviderInfo {
                match self {
                    $(ProviderKind::$variant => &super::$module::INFO,)+
                }
            }
        }
    };
}

providers! {
    /// OpenAI-compatible `/chat/completions`: OpenAI, vLLM, llama.cpp, Ollama, OpenRouter, ...
    OpenAi => openai,
    /// Anthropic Messages `/v1/messages`.
    Anthropic => anthropic,
    /// Google Gemini `:generateContent`.
    Gemini => gemini,
}

impl ProviderKind {
    /// The public endpoint used when no base URL is configured.
    pub fn default_base_url(self) -> &'static str {
        self.info().default_base_url
    }

    /// The model used when none is configured: a fast, cheap one that calls tools well.
    pub fn default_model(self) -> &'static str {
        self.info().default_model
    }

    /// The vendor's usual variable for the API key, read as a fallback.
    pub fn key_env(self) -> &'static str {
        self.info()
            .key_envs
            .first()
            .copied()
            .unwrap_or("TANDEM_LLM_API_KEY")
    }

    fn base_url_env(self) -> Option<&'static str> {
        self.info().base_url_env
    }

    /// The names `TANDEM_LLM_PROVIDER` accepts, for error messages.
    fn names() -> String {
        ProviderKind::ALL
            .iter()
            .map(|kind| kind.info().name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.info().name)
    }
}

impl FromStr for ProviderKind {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_ascii_lowercase();
        ProviderKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.info().name == name || kind.info().aliases.contains(&name.as_str()))
            .ok_or_else(|| ConfigError::Invalid {
                setting: "TANDEM_LLM_PROVIDER",
                message: format!("{name:?} is not one of {}", ProviderKind::names()),
            })
    }
}

impl<'de> Deserialize<'de> for ProviderKind {
    /// By its exact name, as the `[llm]` table writes it.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        ProviderKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.info().name == name)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "unknown provider {name:?}, expected one of {}",
                    ProviderKind::names()
                ))
            })
    }
}

/// An API key. Its `Debug` prints `ApiKey(***)` so configurations can be logged safely.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into())
    }

    /// The key itself, for the one place that puts it in a request header.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// The `[llm]` table of Tandem's settings file, e.g.
///
/// ```toml
/// [llm]
/// provider = "openai"
/// base_url = "http://127.0.0.1:11434/v1"
/// model = "qwen3:8b"
/// timeout_secs = 120
/// max_retries = 3
/// [llm.models]
/// "gpt-5-mini" = "gpt-4o-mini"
/// [llm.prices]
/// "qwen3:8b" = { input = 0.05, output = 0.2 }
/// ```
///
/// Every field is optional; environment variables override it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmToml {
    /// `openai`, `anthropic` or `gemini`.
    pub provider: Option<ProviderKind>,
    /// The server's base URL.
    pub base_url: Option<String>,
    /// The API key (prefer the environment for secrets).
    pub api_key: Option<ApiKey>,
    /// The provider model used when the API's model name has no mapping.
    pub model: Option<String>,
    /// Per-request timeout in seconds.
    pub timeout_secs: Option<f64>,
    /// Retries after a failed request.
    pub max_retries: Option<u32>,
    /// API model name (what a client sends as `model`) → provider model.
    #[serde(default)]
    pub models: HashMap<String, String>,
    /// Provider model (or model name prefix) → its price, for models Tandem's own table lacks
    /// or prices differently (a gateway, a negotiated rate).
    #[serde(default)]
    pub prices: HashMap<String, ModelPrice>,
}

/// What a model costs, in USD per million tokens, for `llmCostUsd` and the cost cap.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    /// Fresh prompt tokens.
    pub input: f64,
    /// Answer tokens (reasoning included).
    pub output: f64,
    /// Prompt tokens served from the provider's cache; the input price when not given.
    pub cached_input: Option<f64>,
}

/// Everything needed to talk to one model server.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmConfig {
    /// The wire protocol.
    pub provider: ProviderKind,
    /// The server's base URL, without a trailing slash (OpenAI-style URLs end in `/v1`).
    pub base_url: String,
    /// The API key; local OpenAI-compatible servers (Ollama, llama.cpp) need none.
    pub api_key: Option<ApiKey>,
    /// The provider model used when the API's model name has no mapping.
    pub model: String,
    /// How long one request may take.
    pub timeout: Duration,
    /// Retries after a failed request (rate limit, server error, connection error).
    pub max_retries: u32,
    /// API model name → provider model.
    pub models: HashMap<String, String>,
    /// Operator prices (`[llm.prices]`), which win over Tandem's own table.
    pub prices: HashMap<String, ModelPrice>,
}

impl LlmConfig {
    /// Builds the configuration from the process environment and the settings file's `[llm]`
    /// table, if any. [`ConfigError::NotConfigured`] means no provider was chosen at all.
    pub fn from_env_and(toml: Option<LlmToml>) -> Result<LlmConfig, ConfigError> {
        LlmConfig::from_lookup(|name| std::env::var(name).ok(), toml)
    }

    /// Like [`from_env_and`](Self::from_env_and) with variables read through `lookup`, so
    /// tests and embedders need not touch the process environment.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        toml: Option<LlmToml>,
    ) -> Result<LlmConfig, ConfigError> {
        let var = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let toml = toml.unwrap_or_default();

        let provider = match var("TANDEM_LLM_PROVIDER") {
            Some(name) => name.parse()?,
            None => match toml.provider {
                Some(kind) => kind,
                None => infer_provider(&var, &toml)?,
            },
        };

        let base_url = var("TANDEM_LLM_BASE_URL")
            .or(toml.base_url)
            .or_else(|| provider.base_url_env().and_then(&var))
            .unwrap_or_else(|| provider.default_base_url().to_string());
        let base_url = checked_base_url(&base_url)?;

        let api_key = var("TANDEM_LLM_API_KEY")
            .map(ApiKey)
            .or(toml.api_key)
            .or_else(|| provider_key(provider, &var).map(ApiKey));
        // Only a self-hosted OpenAI-compatible server can do without a key.
        let keyless_ok =
            provider.info().keyless_when_self_hosted && base_url != provider.default_base_url();
        if api_key.is_none() && !keyless_ok {
            return Err(ConfigError::MissingApiKey {
                provider,
                env: provider.key_env(),
            });
        }

        let model = var("TANDEM_LLM_MODEL")
            .or(toml.model)
            .unwrap_or_else(|| provider.default_model().to_string());

        let timeout_secs = match var("TANDEM_LLM_TIMEOUT_SECS") {
            Some(v) => Some(v.parse::<f64>().map_err(|_| ConfigError::Invalid {
                setting: "TANDEM_LLM_TIMEOUT_SECS",
                message: format!("{v:?} is not a number of seconds"),
            })?),
            None => toml.timeout_secs,
        };
        let timeout = match timeout_secs {
            None => DEFAULT_TIMEOUT,
            Some(secs) if secs.is_finite() && secs > 0.0 && secs <= 3600.0 => {
                Duration::from_secs_f64(secs)
            }
            Some(secs) => {
                return Err(ConfigError::Invalid {
                    setting: "timeout_secs",
                    message: format!("{secs} is not between 0 and 3600 seconds"),
                });
            }
        };

        let max_retries = match var("TANDEM_LLM_MAX_RETRIES") {
            Some(v) => Some(v.parse::<u32>().map_err(|_| ConfigError::Invalid {
                setting: "TANDEM_LLM_MAX_RETRIES",
                message: format!("{v:?} is not a whole number"),
            })?),
            None => toml.max_retries,
        }
        .unwrap_or(DEFAULT_MAX_RETRIES);
        if max_retries > MAX_RETRIES_LIMIT {
            return Err(ConfigError::Invalid {
                setting: "max_retries",
                message: format!("{max_retries} is more than {MAX_RETRIES_LIMIT}"),
            });
        }

        for (model, price) in &toml.prices {
            let prices = [price.input, price.output, price.cached_input.unwrap_or(0.0)];
            if prices.iter().any(|p| !p.is_finite() || *p < 0.0) {
                return Err(ConfigError::Invalid {
                    setting: "llm.prices",
                    message: format!("the price of {model:?} is not a non-negative number"),
                });
            }
        }

        Ok(LlmConfig {
            provider,
            base_url,
            api_key,
            model,
            timeout,
            max_retries,
            models: toml.models,
            prices: toml.prices,
        })
    }

    /// The provider model for a model name a client asked for: its mapping if the `[llm.models]`
    /// table has one, else the configured default model.
    pub fn provider_model(&self, api_model: &str) -> &str {
        self.models
            .get(api_model)
            .map(String::as_str)
            .unwrap_or(&self.model)
    }
}

/// Picks the provider from which settings exist, for users who only set their usual key.
/// Generic Tandem settings mean the first provider (OpenAI-compatible: a base URL alone means a
/// local server); then each provider's own variables, in [`ProviderKind::ALL`]'s order.
fn infer_provider(
    var: &impl Fn(&str) -> Option<String>,
    toml: &LlmToml,
) -> Result<ProviderKind, ConfigError> {
    let set = |name: &str| var(name).is_some();
    let generic = set("TANDEM_LLM_API_KEY")
        || set("TANDEM_LLM_BASE_URL")
        || toml.api_key.is_some()
        || toml.base_url.is_some();
    if generic {
        return ProviderKind::ALL
            .first()
            .copied()
            .ok_or(ConfigError::NotConfigured);
    }
    ProviderKind::ALL
        .iter()
        .copied()
        .find(|kind| kind.info().inferred_from.iter().any(|name| set(name)))
        .ok_or(ConfigError::NotConfigured)
}

fn provider_key(provider: ProviderKind, var: &impl Fn(&str) -> Option<String>) -> Option<String> {
    provider.info().key_envs.iter().find_map(|name| var(name))
}

fn checked_base_url(raw: &str) -> Result<String, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        setting: "base_url",
        message,
    };
    let url = reqwest::Url::parse(raw).map_err(|e| invalid(format!("{raw:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!("{raw:?} is not an http(s) URL")));
    }
    Ok(raw.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)], toml: Option<LlmToml>) -> Result<LlmConfig, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LlmConfig::from_lookup(|name| vars.get(name).cloned(), toml)
    }

    #[test]
    fn nothing_set_is_not_configured() {
        assert_eq!(config(&[], None), Err(ConfigError::NotConfigured));
        // Empty values count as unset.
        assert_eq!(
            config(
                &[("OPENAI_API_KEY", " "), ("TANDEM_LLM_PROVIDER", "")],
                None
            ),
            Err(ConfigError::NotConfigured)
        );
        assert!(
            ConfigError::NotConfigured
                .to_string()
                .contains("no LLM provider configured")
        );
    }

    #[test]
    fn provider_is_inferred_from_the_usual_keys() {
        let c = config(&[("ANTHROPIC_API_KEY", "sk-ant")], None).unwrap();
        assert_eq!(c.provider, ProviderKind::Anthropic);
        assert_eq!(c.base_url, "https://api.anthropic.com");
        assert_eq!(c.api_key, Some(ApiKey::new("sk-ant")));
        assert_eq!(c.model, "claude-sonnet-4-5");
        assert_eq!(c.timeout, DEFAULT_TIMEOUT);
        assert_eq!(c.max_retries, DEFAULT_MAX_RETRIES);

        let c = config(&[("GEMINI_API_KEY", "g")], None).unwrap();
        assert_eq!(c.provider, ProviderKind::Gemini);

        // OpenAI wins when several keys are set.
        let c = config(&[("ANTHROPIC_API_KEY", "a"), ("OPENAI_API_KEY", "o")], None).unwrap();
        assert_eq!(c.provider, ProviderKind::OpenAi);
        assert_eq!(c.api_key, Some(ApiKey::new("o")));
    }

    #[test]
    fn tandem_variables_win() {
        let c = config(
            &[
                ("TANDEM_LLM_PROVIDER", "Anthropic"),
                ("TANDEM_LLM_API_KEY", "tandem-key"),
                ("ANTHROPIC_API_KEY", "usual-key"),
                ("TANDEM_LLM_BASE_URL", "http://127.0.0.1:9/"),
                ("ANTHROPIC_BASE_URL", "http://elsewhere"),
                ("TANDEM_LLM_MODEL", "claude-opus-4-7"),
                ("TANDEM_LLM_TIMEOUT_SECS", "2.5"),
                ("TANDEM_LLM_MAX_RETRIES", "0"),
            ],
            Some(LlmToml {
                provider: Some(ProviderKind::Gemini),
                model: Some("toml-model".into()),
                ..LlmToml::default()
            }),
        )
        .unwrap();
        assert_eq!(c.provider, ProviderKind::Anthropic);
        assert_eq!(c.api_key, Some(ApiKey::new("tandem-key")));
        assert_eq!(c.base_url, "http://127.0.0.1:9");
        assert_eq!(c.model, "claude-opus-4-7");
        assert_eq!(c.timeout, Duration::from_millis(2500));
        assert_eq!(c.max_retries, 0);
    }

    #[test]
    fn toml_table_with_model_mapping() {
        let settings: HashMap<String, LlmToml> = toml::from_str(
            r#"
            [llm]
            provider = "openai"
            base_url = "http://127.0.0.1:11434/v1"
            model = "qwen3:8b"
            timeout_secs = 30
            max_retries = 1
            [llm.models]
            "gpt-5-mini" = "gpt-4o-mini"
            "claude-opus-4.7" = "llama3.3:70b"
            "#,
        )
        .unwrap();
        let c = config(&[], settings.get("llm").cloned()).unwrap();
        assert_eq!(c.provider, ProviderKind::OpenAi);
        assert_eq!(c.base_url, "http://127.0.0.1:11434/v1");
        assert_eq!(c.api_key, None, "a local server needs no key");
        assert_eq!(c.timeout, Duration::from_secs(30));
        assert_eq!(c.max_retries, 1);
        assert_eq!(c.provider_model("gpt-5-mini"), "gpt-4o-mini");
        assert_eq!(c.provider_model("claude-opus-4.7"), "llama3.3:70b");
        assert_eq!(c.provider_model("bu-2-0"), "qwen3:8b");
    }

    #[test]
    fn toml_prices_are_read_and_checked() {
        let t: LlmToml = toml::from_str(
            "base_url = \"http://127.0.0.1:1/v1\"\n[prices]\n\"qwen3\" = { input = 0.1, output = 0.4 }",
        )
        .unwrap();
        let c = config(&[], Some(t)).unwrap();
        assert_eq!(
            c.prices["qwen3"],
            ModelPrice {
                input: 0.1,
                output: 0.4,
                cached_input: None
            }
        );
        let t: LlmToml = toml::from_str(
            "base_url = \"http://127.0.0.1:1/v1\"\n[prices]\n\"q\" = { input = -1, output = 0 }",
        )
        .unwrap();
        assert!(matches!(
            config(&[], Some(t)),
            Err(ConfigError::Invalid {
                setting: "llm.prices",
                ..
            })
        ));
        assert!(toml::from_str::<LlmToml>("[prices]\n\"q\" = { input = 1, outptu = 2 }").is_err());
    }

    #[test]
    fn toml_rejects_unknown_keys_and_providers() {
        assert!(toml::from_str::<LlmToml>("provder = \"openai\"").is_err());
        assert!(toml::from_str::<LlmToml>("provider = \"mistral\"").is_err());
    }

    #[test]
    fn key_comes_from_the_usual_variable_of_the_chosen_provider() {
        let c = config(
            &[("GOOGLE_API_KEY", "g"), ("OPENAI_API_KEY", "o")],
            Some(LlmToml {
                provider: Some(ProviderKind::Gemini),
                ..LlmToml::default()
            }),
        )
        .unwrap();
        assert_eq!(c.api_key, Some(ApiKey::new("g")));
    }

    #[test]
    fn hosted_providers_need_a_key() {
        assert_eq!(
            config(&[("TANDEM_LLM_PROVIDER", "gemini")], None),
            Err(ConfigError::MissingApiKey {
                provider: ProviderKind::Gemini,
                env: "GEMINI_API_KEY"
            })
        );
        assert!(matches!(
            config(&[("TANDEM_LLM_PROVIDER", "openai")], None),
            Err(ConfigError::MissingApiKey { .. })
        ));
        // A local OpenAI-compatible server does not.
        let c = config(&[("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1")], None).unwrap();
        assert_eq!(c.provider, ProviderKind::OpenAi);
        assert_eq!(c.api_key, None);
    }

    #[test]
    fn bad_values_are_named() {
        for (vars, setting) in [
            (
                vec![("TANDEM_LLM_PROVIDER", "mistral")],
                "TANDEM_LLM_PROVIDER",
            ),
            (
                vec![("OPENAI_API_KEY", "k"), ("TANDEM_LLM_TIMEOUT_SECS", "soon")],
                "TANDEM_LLM_TIMEOUT_SECS",
            ),
            (
                vec![("OPENAI_API_KEY", "k"), ("TANDEM_LLM_TIMEOUT_SECS", "0")],
                "timeout_secs",
            ),
            (
                vec![("OPENAI_API_KEY", "k"), ("TANDEM_LLM_MAX_RETRIES", "99")],
                "max_retries",
            ),
            (
                vec![("OPENAI_API_KEY", "k"), ("OPENAI_BASE_URL", "ftp://x")],
                "base_url",
            ),
            (
                vec![("OPENAI_API_KEY", "k"), ("OPENAI_BASE_URL", "not a url")],
                "base_url",
            ),
        ] {
            match config(&vars, None) {
                Err(ConfigError::Invalid { setting: s, .. }) => assert_eq!(s, setting),
                other => panic!("{vars:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn every_provider_is_registered_once_by_its_name() {
        for kind in ProviderKind::ALL {
            let info = kind.info();
            assert_eq!(info.name.parse::<ProviderKind>(), Ok(*kind));
            assert_eq!(kind.to_string(), info.name);
            let parsed: ProviderKind =
                toml::from_str::<LlmToml>(&format!("provider = {:?}", info.name))
                    .unwrap()
                    .provider
                    .unwrap();
            assert_eq!(parsed, *kind);
            assert!(!info.key_envs.is_empty() || info.keyless_when_self_hosted);
        }
        assert_eq!("google".parse::<ProviderKind>(), Ok(ProviderKind::Gemini));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let c = config(&[("OPENAI_API_KEY", "sk-very-secret")], None).unwrap();
        assert!(!format!("{c:?}").contains("sk-very-secret"));
        let t: LlmToml = toml::from_str("api_key = \"sk-toml-secret\"").unwrap();
        assert!(!format!("{t:?}").contains("sk-toml-secret"));
    }
}
