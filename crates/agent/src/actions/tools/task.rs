//! Tools that are the loop's, not the browser's: ask the human, finish the task.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Offer, Tool, tool};
use crate::actions::Browsing;
use crate::actions::schema::schema_for_tool;
use crate::human::ApprovalKind;
use crate::llm::ToolDefinition;

/// The name of the tool that ends a task.
pub const DONE: &str = "done";

/// `ask_human`'s arguments.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AskHuman {
    /// What the human should answer or do.
    pub question: String,
}

impl Tool for AskHuman {
    const NAME: &'static str = "ask_human";

    fn definition(_: Offer<'_>) -> Option<ToolDefinition> {
        Some(tool(
            Self::NAME,
            "Ask the human sharing this browser for help (a login, a CAPTCHA, a choice only \
             they can make). Ends your turn.",
            json!({"question": {"type": "string"}}),
            &["question"],
        ))
    }

    fn summary(&self, _: Option<String>) -> String {
        format!("Asking the human: {}", self.question)
    }

    async fn approval(&self, _: &mut Browsing) -> Vec<ApprovalKind> {
        Vec::new()
    }
}

/// `done`'s arguments.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Done {
    /// The final answer.
    #[serde(default)]
    pub text: String,
    /// Whether every part of the task was accomplished.
    #[serde(default = "crate::actions::yes")]
    pub success: bool,
    /// Structured output, when the task has an output schema.
    #[serde(default)]
    pub data: Option<Value>,
}

impl Tool for Done {
    const NAME: &'static str = DONE;

    /// With an output schema, `data` must match it.
    fn definition(offer: Offer<'_>) -> Option<ToolDefinition> {
        Some(match offer.output_schema {
            None => tool(
                DONE,
                "Finish the task. text is the final answer for the user, with the data they \
                 asked for, taken only from pages seen in this task. success=false if any part \
                 could not be done.",
                json!({"text": {"type": "string"}, "success": {"type": "boolean"}}),
                &["text", "success"],
            ),
            Some(schema) => {
                let (data, definitions) = schema_for_tool(schema);
                let mut done = tool(
                    DONE,
                    "Finish the task. data is the final answer and must match the required JSON \
                     schema, with values taken only from pages seen in this task. success=false \
                     if any part could not be done.",
                    json!({
                        "data": data,
                        "success": {"type": "boolean"},
                        "text": {"type": "string", "description": "a short note for the user"}
                    }),
                    &["data", "success"],
                );
                if let Some(object) = done.parameters.as_object_mut() {
                    object.extend(definitions);
                }
                done
            }
        })
    }

    fn summary(&self, _: Option<String>) -> String {
        if self.success {
            format!("Done: {}", self.text)
        } else {
            format!("Finished without success: {}", self.text)
        }
    }

    async fn approval(&self, _: &mut Browsing) -> Vec<ApprovalKind> {
        Vec::new()
    }
}
