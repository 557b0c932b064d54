//! A task's steps as feed messages (api-v3 §4): `assistant` turns with their tool calls,
//! `tool` results, and the final `completion`, each with a one-line summary.

use serde_json::{Value, json};

use crate::FeedMessage;
use crate::actions::Action;
use crate::llm::ToolCall;
use crate::prompt::one_line;
use crate::secrets::SensitiveData;

/// Longest one-line summary.
pub(crate) const SUMMARY_CHARS: usize = 120;

/// The model's turn: its text and tool calls, as an OpenAI-style assistant message.
pub(crate) fn assistant(
    text: &str,
    calls: &[ToolCall],
    summary: &str,
    secrets: &SensitiveData,
) -> FeedMessage {
    let tool_calls: Vec<Value> = calls
        .iter()
        .map(|call| {
            let arguments = match &call.arguments {
                Value::String(raw) => raw.clone(),
                other => other.to_string(),
            };
            json!({
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": secrets.redact(&arguments)},
            })
        })
        .collect();
    let mut data = json!({"role": "assistant", "content": secrets.redact(text)});
    if !tool_calls.is_empty() {
        data["tool_calls"] = Value::Array(tool_calls);
    }
    FeedMessage {
        role: "assistant".into(),
        data: data.to_string(),
        kind: if calls.is_empty() {
            "assistant_message"
        } else {
            "browser_action"
        }
        .into(),
        summary: one_line(&secrets.redact(summary), SUMMARY_CHARS),
        hidden: false,
        screenshot: None,
    }
}

/// The result of one tool call.
pub(crate) fn tool_result(
    call: &ToolCall,
    content: &str,
    is_error: bool,
    secrets: &SensitiveData,
) -> FeedMessage {
    let content = secrets.redact(content);
    FeedMessage {
        role: "tool".into(),
        data: json!({"role": "tool", "tool_call_id": call.id, "content": content}).to_string(),
        kind: if is_error {
            "browser_action_error"
        } else {
            "browser_action_result"
        }
        .into(),
        summary: one_line(
            &format!("{}: {content}", tool_title(&call.name)),
            SUMMARY_CHARS,
        ),
        hidden: false,
        screenshot: None,
    }
}

/// The task's final answer.
pub(crate) fn completion(text: &str, secrets: &SensitiveData) -> FeedMessage {
    let text = secrets.redact(text);
    FeedMessage {
        role: "assistant".into(),
        data: json!({"role": "assistant", "content": text}).to_string(),
        kind: "completion".into(),
        summary: one_line(&text, SUMMARY_CHARS),
        hidden: false,
        screenshot: None,
    }
}

/// Something the agent tells the feed's readers between steps (a tab it had to revive).
pub(crate) fn notice(text: &str, secrets: &SensitiveData) -> FeedMessage {
    let text = secrets.redact(text);
    FeedMessage {
        role: "assistant".into(),
        data: json!({"role": "assistant", "content": text}).to_string(),
        kind: "assistant_message".into(),
        summary: one_line(&text, SUMMARY_CHARS),
        hidden: false,
        screenshot: None,
    }
}

/// `browser_click` → `Browser Click`, as the official chat UI titles tools.
fn tool_title(name: &str) -> String {
    name.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What an action is about to do, in a few words ("Clicking [42] button \"Search\"").
/// `element` describes the targeted element as the model saw it.
pub(crate) fn summary(action: &Action, element: Option<String>) -> String {
    let target = |index: &u64| element.clone().unwrap_or_else(|| format!("[{index}]"));
    match action {
        Action::BrowserNavigate { url, new_tab } => {
            format!(
                "Navigating to {url}{}",
                if *new_tab { " in a new tab" } else { "" }
            )
        }
        Action::BrowserClick { index } => format!("Clicking {}", target(index)),
        Action::BrowserType { index, text, .. } => {
            format!("Typing {text:?} into {}", target(index))
        }
        Action::BrowserScroll { direction, .. } => {
            format!("Scrolling {}", format!("{direction:?}").to_lowercase())
        }
        Action::BrowserSendKeys { keys } => format!("Pressing {keys}"),
        Action::BrowserSelect { index, option } => {
            format!("Selecting {option:?} in {}", target(index))
        }
        Action::BrowserSwitchTab { tab_id } => format!("Switching to tab {tab_id}"),
        Action::BrowserCloseTab { tab_id } => format!("Closing tab {tab_id}"),
        Action::BrowserGoBack {} => "Going back".into(),
        Action::BrowserWait { seconds } => format!("Waiting {}s", seconds.unwrap_or(2.0)),
        Action::BrowserExtract { query } => format!("Reading the page for {query:?}"),
        Action::BrowserUploadFile { index, path } => {
            format!("Uploading {path} into {}", target(index))
        }
        Action::AskHuman { question } => format!("Asking the human: {question}"),
        Action::Done { text, success, .. } => {
            if *success {
                format!("Done: {text}")
            } else {
                format!("Finished without success: {text}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_the_openai_shape_and_hide_secrets() {
        let secrets = SensitiveData::new([("pw".to_string(), "s3cret".to_string())]);
        let call = ToolCall {
            id: "call_1".into(),
            name: "browser_type".into(),
            arguments: json!({"index": 3, "text": "<secret>pw</secret>"}),
            signature: None,
        };
        let message = assistant(
            "typing s3cret",
            std::slice::from_ref(&call),
            "Typing",
            &secrets,
        );
        assert_eq!(message.kind, "browser_action");
        let data: Value = serde_json::from_str(&message.data).unwrap();
        assert_eq!(data["tool_calls"][0]["function"]["name"], "browser_type");
        assert_eq!(data["tool_calls"][0]["type"], "function");
        assert!(data["tool_calls"][0]["function"]["arguments"].is_string());
        assert!(!message.data.contains("s3cret"));
        let result = tool_result(&call, "field shows s3cret", false, &secrets);
        assert_eq!(result.kind, "browser_action_result");
        assert!(result.summary.starts_with("Browser Type: "));
        assert!(!result.data.contains("s3cret"));
        let data: Value = serde_json::from_str(&result.data).unwrap();
        assert_eq!(data["tool_call_id"], "call_1");
    }
}
