//! Which task runner a server uses, decided once at startup.

use std::sync::Arc;

use agent::llm::{ConfigError, LlmConfig};
use agent::{LlmAgent, NoAgent, TaskRunner};

use crate::{Config, ServerError};

/// The LLM agent when a provider is configured (environment or the `[llm]` table), else
/// [`NoAgent`], whose tasks end at once with a message saying how to configure one. A
/// provider that is named but unusable (no API key, bad URL) stops the server from starting:
/// failing every task later would hide the mistake.
pub(crate) fn from_config(config: &Config) -> Result<Arc<dyn TaskRunner>, ServerError> {
    match LlmConfig::from_env_and(config.llm.clone()) {
        Ok(llm) => {
            tracing::info!(provider = %llm.provider, model = %llm.model, base_url = %llm.base_url, "agent: LLM configured");
            let agent = LlmAgent::new(llm, config.agent.clone())
                .map_err(|e| ServerError::Config(format!("LLM provider: {e}")))?;
            Ok(Arc::new(agent))
        }
        Err(ConfigError::NotConfigured) => {
            tracing::warn!(
                "no LLM provider configured (TANDEM_LLM_PROVIDER or [llm]): tasks will end with an error"
            );
            Ok(Arc::new(NoAgent))
        }
        Err(e) => Err(ServerError::Config(format!("LLM provider: {e}"))),
    }
}
