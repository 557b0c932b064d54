//! Actions: what the model can do to the browser, as native tool calls.
//!
//! Each tool is defined in one place, `tools/` (name, description, schema, parsing, summary,
//! approval rule). A tool call is parsed into an [`Action`] ([`Action::parse`]) and run by [`Browsing`],
//! which holds the agent's tab and its latest observation. Every action is real CDP input
//! (mouse, keyboard, `Input.insertText`) or a CDP command, and is checked afterwards: a click
//! hit-tests its point first, typing reads the value back, a navigation waits for `load`.
//! An action that changes the page (a navigation, a new tab) says so, and the loop drops the
//! rest of that step's actions: their indices were read from a page that is gone.

mod browsing;
mod error;
mod keys;
mod schema;
mod tools;

use serde::Deserialize;
use serde_json::Value;

pub use browsing::{ActionOptions, Browsing, ElementFacts};
pub use error::ActionError;
pub use tools::{
    Action, AskHuman, Click, CloseTab, DONE, Done, Extract, GoBack, Navigate, Offer, Scroll,
    Select, SendKeys, SwitchTab, TypeText, UploadFile, Wait, tool_definitions,
};

/// Longest wait `browser_wait` allows: longer waits only burn the step budget.
pub const MAX_WAIT_SECS: f64 = 10.0;

/// Serde's default for flags that are on unless the model says otherwise.
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
    /// Whether this action always leaves the page the rest of the step was planned on.
    pub fn ends_step(&self) -> bool {
        matches!(
            self,
            Action::BrowserNavigate(_)
                | Action::BrowserGoBack(_)
                | Action::BrowserSwitchTab(_)
                | Action::BrowserCloseTab(_)
                | Action::AskHuman(_)
                | Action::Done(_)
        )
    }

    /// The element index the action targets, if any.
    pub fn index(&self) -> Option<u64> {
        match self {
            Action::BrowserClick(Click { index })
            | Action::BrowserType(TypeText { index, .. })
            | Action::BrowserSelect(Select { index, .. })
            | Action::BrowserUploadFile(UploadFile { index, .. }) => Some(*index),
            Action::BrowserScroll(Scroll { index, .. }) => *index,
            _ => None,
        }
    }

    /// A normalised form for loop detection: two actions with the same key do the same thing.
    pub fn loop_key(&self) -> Option<String> {
        Some(match self {
            Action::BrowserClick(Click { index }) => format!("click {index}"),
            Action::BrowserType(TypeText { index, text, .. }) => {
                format!("type {index} {}", text.to_lowercase())
            }
            Action::BrowserNavigate(Navigate { url, .. }) => format!("navigate {url}"),
            Action::BrowserScroll(Scroll {
                direction, index, ..
            }) => format!("scroll {direction:?} {index:?}"),
            Action::BrowserSendKeys(SendKeys { keys }) => format!("keys {keys}"),
            Action::BrowserSelect(Select { index, option }) => format!("select {index} {option}"),
            Action::BrowserExtract(Extract { query }) => format!("extract {query}"),
            Action::BrowserWait(_) | Action::BrowserGoBack(_) | Action::Done(_) => {
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
            Action::BrowserType(TypeText {
                index: 12,
                text: "lamp".into(),
                clear: true,
                submit: false
            })
        );
        assert_eq!(
            Action::parse("browser_click", &json!({"index": "[42]"})).unwrap(),
            Action::BrowserClick(Click { index: 42 })
        );
        assert_eq!(
            Action::parse("browser_go_back", &Value::Null).unwrap(),
            Action::BrowserGoBack(GoBack {})
        );
        assert_eq!(
            Action::parse("browser_click", &json!("{\"index\": 7}")).unwrap(),
            Action::BrowserClick(Click { index: 7 })
        );
        assert!(matches!(
            Action::parse("done", &json!({"text": "ok"})).unwrap(),
            Action::Done(Done { success: true, .. })
        ));
    }

    /// Every declared tool is offered (with uploads on), once, and by its own name.
    #[test]
    fn every_declared_tool_is_offered() {
        let offered: Vec<String> = tool_definitions(true, None)
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(
            offered,
            Action::NAMES,
            "offered in the declared order, each once"
        );
        let without_uploads: Vec<String> = tool_definitions(false, None)
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert!(!without_uploads.iter().any(|n| n == "browser_upload_file"));
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
            Action::BrowserNavigate(Navigate {
                url: "x".into(),
                new_tab: false,
            }),
            Action::BrowserClick(Click { index: 1 }),
            Action::BrowserType(TypeText {
                index: 1,
                text: "x".into(),
                clear: true,
                submit: false,
            }),
            Action::BrowserScroll(Scroll {
                direction: Direction::Down,
                pages: None,
                index: None,
            }),
            Action::BrowserSendKeys(SendKeys { keys: "x".into() }),
            Action::BrowserSelect(Select {
                index: 1,
                option: "x".into(),
            }),
            Action::BrowserSwitchTab(SwitchTab { tab_id: "x".into() }),
            Action::BrowserCloseTab(CloseTab { tab_id: "x".into() }),
            Action::BrowserGoBack(GoBack {}),
            Action::BrowserWait(Wait { seconds: None }),
            Action::BrowserExtract(Extract { query: "x".into() }),
            Action::BrowserUploadFile(UploadFile {
                index: 1,
                path: "x".into(),
            }),
            Action::AskHuman(AskHuman {
                question: "x".into(),
            }),
            Action::Done(Done {
                text: "x".into(),
                success: true,
                data: None,
            }),
        ] {
            assert!(
                offered.iter().any(|n| n == action.name()),
                "{} is not offered",
                action.name()
            );
        }
    }
}
