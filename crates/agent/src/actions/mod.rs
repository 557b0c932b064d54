//! Actions: what the model can do to the browser, as native tool calls.
//!
//! Each tool call is parsed into an [`Action`] ([`Action::parse`]) and run by [`Browsing`],
//! which holds the agent's tab and its latest observation. Every action is real CDP input
//! (mouse, keyboard, `Input.insertText`) or a CDP command, and is checked afterwards: a click
//! hit-tests its point first, typing reads the value back, a navigation waits for `load`.
//! An action that changes the page (a navigation, a new tab) says so, and the loop drops the
//! rest of that step's actions: their indices were read from a page that is gone.

mod browsing;
mod error;
mod keys;
mod schema;

use serde::Deserialize;
use serde_json::Value;

pub use browsing::{ActionOptions, Browsing, ElementFacts};
pub use error::ActionError;
pub use schema::{DONE, tool_definitions};

/// Longest wait `browser_wait` allows: longer waits only burn the step budget.
pub const MAX_WAIT_SECS: f64 = 10.0;

/// One thing the model asked for, with its arguments checked.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "name", content = "arguments", rename_all = "snake_case")]
pub enum Action {
    /// Load a URL in the agent's tab or a new one.
    BrowserNavigate {
        /// Where to go; `https://` is assumed when no scheme is given.
        url: String,
        /// Open it in a new tab instead.
        #[serde(default)]
        new_tab: bool,
    },
    /// Click an element of the last observation.
    BrowserClick {
        /// The element's `[index]`.
        #[serde(deserialize_with = "lenient_index")]
        index: u64,
    },
    /// Type text into a field.
    BrowserType {
        /// The field's `[index]`.
        #[serde(deserialize_with = "lenient_index")]
        index: u64,
        /// What to type; `<secret>key</secret>` placeholders are filled in here only.
        text: String,
        /// Empty the field first.
        #[serde(default = "yes")]
        clear: bool,
        /// Press Enter afterwards.
        #[serde(default)]
        submit: bool,
    },
    /// Scroll the page or one scroll container.
    BrowserScroll {
        /// `up` or `down`.
        direction: Direction,
        /// How many screens; fractions allowed.
        #[serde(default)]
        pages: Option<f64>,
        /// The container to scroll, when not the page.
        #[serde(default, deserialize_with = "lenient_optional_index")]
        index: Option<u64>,
    },
    /// Press keys, e.g. `Enter`, `Control+a`, `Tab Tab Enter`.
    BrowserSendKeys {
        /// Space-separated key combinations.
        keys: String,
    },
    /// Choose an option of a native `<select>`.
    BrowserSelect {
        /// The select's `[index]`.
        #[serde(deserialize_with = "lenient_index")]
        index: u64,
        /// The option's text or value.
        option: String,
    },
    /// Make another tab the agent's tab.
    BrowserSwitchTab {
        /// The tab's id as listed in the state.
        tab_id: String,
    },
    /// Close a tab.
    BrowserCloseTab {
        /// The tab's id as listed in the state.
        tab_id: String,
    },
    /// Go back in the tab's history.
    BrowserGoBack {},
    /// Wait for the page.
    BrowserWait {
        /// Seconds, capped at [`MAX_WAIT_SECS`].
        #[serde(default)]
        seconds: Option<f64>,
    },
    /// Read the page's whole text (beyond the viewport) for a question.
    BrowserExtract {
        /// What to look for.
        query: String,
    },
    /// Put a file into a file input.
    BrowserUploadFile {
        /// The file input's `[index]`.
        #[serde(deserialize_with = "lenient_index")]
        index: u64,
        /// A path inside the configured upload directories.
        path: String,
    },
    /// Hand the task to the human with a question.
    AskHuman {
        /// What the human should answer or do.
        question: String,
    },
    /// Finish the task.
    Done {
        /// The final answer.
        #[serde(default)]
        text: String,
        /// Whether every part of the task was accomplished.
        #[serde(default = "yes")]
        success: bool,
        /// Structured output, when the task has an output schema.
        #[serde(default)]
        data: Option<Value>,
    },
}

fn yes() -> bool {
    true
}

/// Which way to scroll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Towards the top.
    Up,
    /// Towards the bottom.
    Down,
}

/// Models sometimes send indices as strings (`"42"` or `"[42]"`); accept those too.
fn lenient_index<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let value = Value::deserialize(d)?;
    index_of(&value).ok_or_else(|| serde::de::Error::custom("index must be a number like 42"))
}

fn lenient_optional_index<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let value = Value::deserialize(d)?;
    if value.is_null() {
        return Ok(None);
    }
    index_of(&value)
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom("index must be a number like 42"))
}

fn index_of(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().trim_matches(['[', ']']).parse().ok(),
        _ => None,
    }
}

impl Action {
    /// Parses a tool call; the error says what was wrong in words the model can act on.
    pub fn parse(name: &str, arguments: &Value) -> Result<Action, ActionError> {
        let arguments = match arguments {
            // A model that wrote invalid JSON arguments: the provider kept the raw text.
            Value::String(raw) => serde_json::from_str(raw).map_err(|e| {
                ActionError::Arguments(format!("arguments are not valid JSON ({e}): {raw}"))
            })?,
            Value::Null => Value::Object(Default::default()),
            other => other.clone(),
        };
        let tagged = serde_json::json!({ "name": name, "arguments": arguments });
        serde_json::from_value(tagged).map_err(|e| {
            let message = e.to_string();
            if message.starts_with("unknown variant") {
                ActionError::Arguments(format!("there is no tool named {name:?}"))
            } else {
                ActionError::Arguments(format!("invalid arguments for {name}: {message}"))
            }
        })
    }

    /// The tool name the model calls it by; [`Action::parse`] of that name gives it back.
    pub fn name(&self) -> &'static str {
        match self {
            Action::BrowserNavigate { .. } => "browser_navigate",
            Action::BrowserClick { .. } => "browser_click",
            Action::BrowserType { .. } => "browser_type",
            Action::BrowserScroll { .. } => "browser_scroll",
            Action::BrowserSendKeys { .. } => "browser_send_keys",
            Action::BrowserSelect { .. } => "browser_select",
            Action::BrowserSwitchTab { .. } => "browser_switch_tab",
            Action::BrowserCloseTab { .. } => "browser_close_tab",
            Action::BrowserGoBack {} => "browser_go_back",
            Action::BrowserWait { .. } => "browser_wait",
            Action::BrowserExtract { .. } => "browser_extract",
            Action::BrowserUploadFile { .. } => "browser_upload_file",
            Action::AskHuman { .. } => "ask_human",
            Action::Done { .. } => DONE,
        }
    }

    /// Whether this action always leaves the page the rest of the step was planned on.
    pub fn ends_step(&self) -> bool {
        matches!(
            self,
            Action::BrowserNavigate { .. }
                | Action::BrowserGoBack {}
                | Action::BrowserSwitchTab { .. }
                | Action::BrowserCloseTab { .. }
                | Action::AskHuman { .. }
                | Action::Done { .. }
        )
    }

    /// The element index the action targets, if any.
    pub fn index(&self) -> Option<u64> {
        match self {
            Action::BrowserClick { index }
            | Action::BrowserType { index, .. }
            | Action::BrowserSelect { index, .. }
            | Action::BrowserUploadFile { index, .. } => Some(*index),
            Action::BrowserScroll { index, .. } => *index,
            _ => None,
        }
    }

    /// A normalised form for loop detection: two actions with the same key do the same thing.
    pub fn loop_key(&self) -> Option<String> {
        Some(match self {
            Action::BrowserClick { index } => format!("click {index}"),
            Action::BrowserType { index, text, .. } => {
                format!("type {index} {}", text.to_lowercase())
            }
            Action::BrowserNavigate { url, .. } => format!("navigate {url}"),
            Action::BrowserScroll {
                direction, index, ..
            } => format!("scroll {direction:?} {index:?}"),
            Action::BrowserSendKeys { keys } => format!("keys {keys}"),
            Action::BrowserSelect { index, option } => format!("select {index} {option}"),
            Action::BrowserExtract { query } => format!("extract {query}"),
            Action::BrowserWait { .. } | Action::BrowserGoBack {} | Action::Done { .. } => {
                return None;
            }
            other => format!("{other:?}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_tool_calls_with_defaults() {
        assert_eq!(
            Action::parse("browser_type", &json!({"index": 12, "text": "lamp"})).unwrap(),
            Action::BrowserType {
                index: 12,
                text: "lamp".into(),
                clear: true,
                submit: false
            }
        );
        assert_eq!(
            Action::parse("browser_click", &json!({"index": "[42]"})).unwrap(),
            Action::BrowserClick { index: 42 }
        );
        assert_eq!(
            Action::parse("browser_go_back", &Value::Null).unwrap(),
            Action::BrowserGoBack {}
        );
        assert_eq!(
            Action::parse("browser_click", &json!("{\"index\": 7}")).unwrap(),
            Action::BrowserClick { index: 7 }
        );
        assert!(matches!(
            Action::parse("done", &json!({"text": "ok"})).unwrap(),
            Action::Done { success: true, .. }
        ));
    }

    #[test]
    fn bad_calls_explain_themselves() {
        let unknown = Action::parse("browser_fly", &json!({})).unwrap_err();
        assert!(unknown.to_string().contains("no tool named"), "{unknown}");
        let missing = Action::parse("browser_click", &json!({})).unwrap_err();
        assert!(missing.to_string().contains("index"), "{missing}");
        let bad = Action::parse("browser_click", &json!({"index": "submit"})).unwrap_err();
        assert!(bad.to_string().contains("number"), "{bad}");
    }

    /// A tool call built from the tool's own schema: its required properties, each with a
    /// value of its declared type.
    fn example_call(tool: &crate::llm::ToolDefinition) -> Value {
        let required = tool.parameters["required"].as_array().cloned();
        let mut args = serde_json::Map::new();
        for name in required.unwrap_or_default() {
            let name = name.as_str().unwrap().to_string();
            let property = &tool.parameters["properties"][&name];
            let value = match property["type"].as_str() {
                Some("integer") | Some("number") => json!(1),
                Some("boolean") => json!(true),
                _ => match property["enum"].as_array() {
                    Some(values) => values[0].clone(),
                    None => json!("x"),
                },
            };
            args.insert(name, value);
        }
        Value::Object(args)
    }

    /// Every tool the model is offered (uploads on, with and without an output schema)
    /// parses into the action of the same name, and the offered names are unique.
    #[test]
    fn every_offered_tool_parses_into_its_action() {
        let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        for tools in [
            tool_definitions(true, None),
            tool_definitions(true, Some(&schema)),
            tool_definitions(false, None),
        ] {
            let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
            names.sort_unstable();
            let count = names.len();
            names.dedup();
            assert_eq!(names.len(), count, "a tool is offered twice: {names:?}");
            for tool in &tools {
                let action = Action::parse(&tool.name, &example_call(tool))
                    .unwrap_or_else(|e| panic!("{}: {e}", tool.name));
                assert_eq!(action.name(), tool.name);
            }
        }
        // And every action is offered (with uploads on): one call of each name round-trips.
        let offered: Vec<String> = tool_definitions(true, None)
            .into_iter()
            .map(|t| t.name)
            .collect();
        for action in [
            Action::BrowserNavigate {
                url: "x".into(),
                new_tab: false,
            },
            Action::BrowserClick { index: 1 },
            Action::BrowserType {
                index: 1,
                text: "x".into(),
                clear: true,
                submit: false,
            },
            Action::BrowserScroll {
                direction: Direction::Down,
                pages: None,
                index: None,
            },
            Action::BrowserSendKeys { keys: "x".into() },
            Action::BrowserSelect {
                index: 1,
                option: "x".into(),
            },
            Action::BrowserSwitchTab { tab_id: "x".into() },
            Action::BrowserCloseTab { tab_id: "x".into() },
            Action::BrowserGoBack {},
            Action::BrowserWait { seconds: None },
            Action::BrowserExtract { query: "x".into() },
            Action::BrowserUploadFile {
                index: 1,
                path: "x".into(),
            },
            Action::AskHuman {
                question: "x".into(),
            },
            Action::Done {
                text: "x".into(),
                success: true,
                data: None,
            },
        ] {
            assert!(
                offered.iter().any(|n| n == action.name()),
                "{} is not offered",
                action.name()
            );
        }
    }
}
