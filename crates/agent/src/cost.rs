//! What the LLM calls of a task cost, from a small table of list prices.
//!
//! Unknown models cost "0" rather than a guess: a self-hosted model has no price, and a wrong
//! number is worse than none. Operators price what the table lacks in `[llm.prices]`, which
//! wins over the table.

use std::collections::HashMap;

use crate::llm::{ModelPrice, Usage};

/// USD per million tokens: (model name prefix, input, cached input, output). Longest prefix
/// wins, so dated variants (`gpt-4o-2024-08-06`) match their family.
const PRICES: &[(&str, f64, f64, f64)] = &[
    ("gpt-4o-mini", 0.15, 0.075, 0.60),
    ("gpt-4o", 2.50, 1.25, 10.0),
    ("gpt-4.1-mini", 0.40, 0.10, 1.60),
    ("gpt-4.1", 2.0, 0.50, 8.0),
    ("gpt-5-mini", 0.25, 0.025, 2.0),
    ("gpt-5-nano", 0.05, 0.005, 0.40),
    ("gpt-5", 1.25, 0.125, 10.0),
    ("claude-haiku-4-5", 1.0, 0.10, 5.0),
    ("claude-sonnet-4", 3.0, 0.30, 15.0),
    ("claude-opus-4", 15.0, 1.50, 75.0),
    ("gemini-2.5-flash", 0.30, 0.075, 2.50),
    ("gemini-2.5-pro", 1.25, 0.31, 10.0),
];

/// The cost of `usage` on `model` in USD, or `None` when the model's price is unknown.
/// `overrides` (model name or prefix → price) win over the built-in table.
pub(crate) fn cost_usd(
    model: &str,
    usage: &Usage,
    overrides: &HashMap<String, ModelPrice>,
) -> Option<f64> {
    let operator = overrides
        .iter()
        .filter(|(prefix, _)| model.starts_with(prefix.as_str()))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, p)| (p.input, p.cached_input.unwrap_or(p.input), p.output));
    let (input, cached, output) = match operator {
        Some(price) => price,
        None => {
            let model = model.rsplit('/').next().unwrap_or(model);
            let (_, input, cached, output) = PRICES
                .iter()
                .filter(|(prefix, ..)| model.starts_with(prefix))
                .max_by_key(|(prefix, ..)| prefix.len())?;
            (*input, *cached, *output)
        }
    };
    let cached_tokens = usage.cached_input_tokens.min(usage.input_tokens);
    let fresh = usage.input_tokens - cached_tokens;
    Some(
        (fresh as f64 * input
            + cached_tokens as f64 * cached
            + usage.output_tokens as f64 * output)
            / 1_000_000.0,
    )
}

/// A cost as the API's decimal string: "0" when unknown or nothing, else six decimals.
pub(crate) fn decimal(cost: Option<f64>) -> String {
    match cost {
        Some(c) if c > 0.0 => format!("{c:.6}"),
        _ => "0".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_known_models_only() {
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 1_000_000,
            ..Default::default()
        };
        let none = HashMap::new();
        assert_eq!(
            cost_usd("gpt-4o-mini-2024-07-18", &usage, &none),
            Some(0.75)
        );
        assert_eq!(cost_usd("openai/gpt-4o", &usage, &none), Some(12.5));
        assert_eq!(cost_usd("qwen3:8b", &usage, &none), None);
        let mut prices = HashMap::new();
        prices.insert(
            "qwen3".to_string(),
            ModelPrice {
                input: 1.0,
                output: 2.0,
                cached_input: None,
            },
        );
        prices.insert(
            "gpt-4o".to_string(),
            ModelPrice {
                input: 0.0,
                output: 0.0,
                cached_input: None,
            },
        );
        assert_eq!(cost_usd("qwen3:8b", &usage, &prices), Some(3.0));
        assert_eq!(cost_usd("gpt-4o", &usage, &prices), Some(0.0));
        assert_eq!(decimal(None), "0");
        assert_eq!(decimal(Some(0.0123)), "0.012300");
    }
}
