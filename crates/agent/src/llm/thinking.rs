//! The task's `thinkingLevel`, and what each provider makes of it.
//!
//! Each adapter maps a [`ThinkingLevel`] onto its own setting (OpenAI `reasoning_effort`,
//! Anthropic `thinking` with a token budget, Gemini `thinkingConfig.thinkingBudget`); `None`
//! on the request leaves the provider's default. A model that refuses the setting is
//! remembered in [`Refusals`] and gets its requests without it from then on, as an
//! OpenAI-compatible server refusing `tool_choice` does.

use std::collections::HashSet;
use std::sync::Mutex;

use super::error::LlmError;

/// How hard the model may think before answering (the API's `thinkingLevel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThinkingLevel {
    /// Thinking off (or the least the model allows, where it cannot be turned off).
    Disabled,
    /// A little thinking.
    Low,
    /// A moderate amount.
    Medium,
    /// As much as Tandem allows per step.
    High,
}

impl ThinkingLevel {
    /// Reads the API's value (`disabled`, `low`, `medium`, `high`); anything else is `None`.
    pub fn parse(value: &str) -> Option<ThinkingLevel> {
        match value.trim().to_ascii_lowercase().as_str() {
            "disabled" => Some(ThinkingLevel::Disabled),
            "low" => Some(ThinkingLevel::Low),
            "medium" => Some(ThinkingLevel::Medium),
            "high" => Some(ThinkingLevel::High),
            _ => None,
        }
    }

    /// OpenAI's `reasoning_effort`: `minimal` is the least GPT-5 models think (they cannot
    /// turn it off).
    pub(crate) fn openai_effort(self) -> &'static str {
        match self {
            ThinkingLevel::Disabled => "minimal",
            ThinkingLevel::Low => "low",
            ThinkingLevel::Medium => "medium",
            ThinkingLevel::High => "high",
        }
    }

    /// Anthropic's extended-thinking budget in tokens; `None` turns thinking off. 1,024 is
    /// Anthropic's minimum.
    pub(crate) fn anthropic_budget(self) -> Option<u32> {
        match self {
            ThinkingLevel::Disabled => None,
            ThinkingLevel::Low => Some(1_024),
            ThinkingLevel::Medium => Some(4_096),
            ThinkingLevel::High => Some(16_384),
        }
    }

    /// Gemini's `thinkingBudget` in tokens; 0 turns thinking off (on the models that allow it).
    pub(crate) fn gemini_budget(self) -> u32 {
        match self {
            ThinkingLevel::Disabled => 0,
            ThinkingLevel::Low => 1_024,
            ThinkingLevel::Medium => 8_192,
            ThinkingLevel::High => 24_576,
        }
    }
}

/// Models known to refuse the thinking setting, so it is no longer sent to them.
#[derive(Debug, Default)]
pub(crate) struct Refusals(Mutex<HashSet<String>>);

impl Refusals {
    /// Whether `model` refused the setting before.
    pub(crate) fn refused(&self, model: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(model)
    }

    /// Remembers that `model` refuses it.
    pub(crate) fn remember(&self, model: &str) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(model.to_string());
    }
}

/// Whether a failure is the server refusing the request's thinking setting: a 400 naming one
/// of `names` (the parameter as the provider spells it).
pub(crate) fn refuses(error: &LlmError, names: &[&str]) -> bool {
    match error {
        LlmError::Status {
            status: 400,
            message,
            ..
        } => {
            let message = message.to_ascii_lowercase();
            names
                .iter()
                .any(|name| message.contains(&name.to_ascii_lowercase()))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_and_map() {
        assert_eq!(ThinkingLevel::parse("High"), Some(ThinkingLevel::High));
        assert_eq!(ThinkingLevel::parse("max"), None);
        assert_eq!(ThinkingLevel::Disabled.anthropic_budget(), None);
        assert_eq!(ThinkingLevel::Disabled.gemini_budget(), 0);
        assert_eq!(ThinkingLevel::Low.openai_effort(), "low");
    }

    #[test]
    fn refusals_are_remembered_per_model() {
        let r = Refusals::default();
        assert!(!r.refused("m"));
        r.remember("m");
        assert!(r.refused("m"));
        assert!(!r.refused("other"));
    }
}
