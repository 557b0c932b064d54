//! `sensitiveData`: secrets the agent may type but the model never sees.
//!
//! The model only knows the keys and writes `<secret>key</secret>` where a value belongs; the
//! value is put in at the moment of typing ([`SensitiveData::substitute`]) and nowhere else.
//! Everything that leaves the agent (the state text, tool results, feed messages, logs) goes
//! through [`SensitiveData::redact`], which turns any value that shows up (typed into a
//! visible field, echoed by the page) back into its placeholder.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

/// The secrets of one task, keyed by the names the model sees.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SensitiveData {
    /// key → value.
    values: BTreeMap<String, String>,
    /// (value, placeholder), longest value first so a value containing another is redacted
    /// whole.
    redactions: Vec<(String, String)>,
}

impl fmt::Debug for SensitiveData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys only: a logged task spec must not carry the values.
        f.debug_set().entries(self.values.keys()).finish()
    }
}

/// The placeholder the model writes for `key`.
pub fn placeholder(key: &str) -> String {
    format!("<secret>{key}</secret>")
}

impl SensitiveData {
    /// Secrets from `key → value` pairs; empty values are ignored (nothing to hide).
    pub fn new(values: impl IntoIterator<Item = (String, String)>) -> SensitiveData {
        let values: BTreeMap<String, String> =
            values.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        let mut redactions: Vec<(String, String)> = values
            .iter()
            .map(|(k, v)| (v.clone(), placeholder(k)))
            .collect();
        redactions.sort_by_key(|(value, _)| std::cmp::Reverse(value.len()));
        SensitiveData { values, redactions }
    }

    /// Whether there are no secrets.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The keys, which the model may know.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// `text` with every `<secret>key</secret>` replaced by its value; a text that is exactly
    /// a key (the model forgot the tags) is that key's value. Unknown keys stay as written.
    pub fn substitute(&self, text: &str) -> String {
        if let Some(value) = self.values.get(text.trim()) {
            return value.clone();
        }
        let mut out = text.to_string();
        for (key, value) in &self.values {
            out = out.replace(&placeholder(key), value);
        }
        out
    }

    /// `text` with every secret value replaced by its placeholder.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (value, placeholder) in &self.redactions {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), placeholder);
            }
        }
        out
    }

    /// `value` with [`SensitiveData::redact`] applied to every string in it, keys included:
    /// structured output is built from what the model saw and wrote, which may hold a value.
    pub fn redact_value(&self, value: &Value) -> Value {
        if self.is_empty() {
            return value.clone();
        }
        match value {
            Value::String(s) => Value::String(self.redact(s)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.redact_value(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.redact(k), self.redact_value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> SensitiveData {
        SensitiveData::new([
            ("password".to_string(), "hunter2".to_string()),
            ("pin".to_string(), "hunter".to_string()),
            ("blank".to_string(), String::new()),
        ])
    }

    #[test]
    fn substitutes_placeholders_and_bare_keys() {
        let s = secrets();
        assert_eq!(s.substitute("<secret>password</secret>"), "hunter2");
        assert_eq!(s.substitute("pw: <secret>pin</secret>!"), "pw: hunter!");
        assert_eq!(s.substitute("password"), "hunter2");
        assert_eq!(
            s.substitute("<secret>other</secret>"),
            "<secret>other</secret>"
        );
    }

    #[test]
    fn redacts_longest_values_first() {
        let s = secrets();
        assert_eq!(
            s.redact("value=hunter2 and hunter"),
            "value=<secret>password</secret> and <secret>pin</secret>"
        );
        assert_eq!(format!("{s:?}"), "{\"password\", \"pin\"}");
        assert!(!s.keys().any(|k| k == "blank"));
    }
}
