//! Every tool the model is offered, each defined in one place.
//!
//! A tool is a struct of its checked arguments implementing [`Tool`]: its name, its
//! description and JSON Schema (what the model reads), its summary (what the feed shows) and
//! its approval rule (what `requireApproval` checks) sit together in the file of its family.
//! Parsing is the struct's `Deserialize`. The [`tools!`] list below registers them: it builds
//! the [`Action`] enum, [`Action::parse`], [`Action::name`], [`tool_definitions`] and the
//! dispatch of summaries and approval rules, so a new tool is one struct plus one line here.
//! [`Tool`] has no default methods: a tool without an approval rule does not compile.
//! Its effect on the browser is `Browsing::execute`'s (`actions/browsing/`), whose `match` on
//! [`Action`] is exhaustive too.

mod input;
mod navigation;
mod page;
mod task;

use serde::de::DeserializeOwned;
use serde_json::Value;

pub use input::{Click, Scroll, Select, SendKeys, TypeText, UploadFile};
pub use navigation::{CloseTab, GoBack, Navigate, SwitchTab};
pub use page::{Extract, Wait};
pub use task::{AskHuman, DONE, Done};

use super::{ActionError, Browsing};
use crate::human::ApprovalKind;
use crate::llm::ToolDefinition;

/// What decides which tools one task is offered, and how.
#[derive(Debug, Clone, Copy)]
pub struct Offer<'a> {
    /// Upload directories are configured: `browser_upload_file` is offered.
    pub upload: bool,
    /// The task's output schema, which `done`'s `data` must match.
    pub output_schema: Option<&'a Value>,
}

/// One tool: everything about it except its effect on the browser.
pub(crate) trait Tool: DeserializeOwned {
    /// The name the model calls it by.
    const NAME: &'static str;

    /// Its description and parameters as offered for one task; `None` when not offered.
    fn definition(offer: Offer<'_>) -> Option<ToolDefinition>;

    /// What it is about to do, in a few words ("Clicking [42] button \"Search\"");
    /// `element` describes its target element as the model saw it.
    fn summary(&self, element: Option<String>) -> String;

    /// Every approval kind it falls under, checked on the live page (order does not matter;
    /// the caller picks the most specific one the task requires).
    async fn approval(&self, browsing: &mut Browsing) -> Vec<ApprovalKind>;
}

/// Declares the tools: `Variant(Struct)`, in the order the model is offered them.
macro_rules! tools {
    ($($(#[$doc:meta])* $variant:ident($tool:ty),)*) => {
        /// One thing the model asked for, with its arguments checked.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Action {
            $($(#[$doc])* $variant($tool),)*
        }

        $(impl From<$tool> for Action {
            fn from(tool: $tool) -> Action {
                Action::$variant(tool)
            }
        })*

        impl Action {
            /// Every tool's name, in the order they are declared.
            pub const NAMES: &[&str] = &[$(<$tool as Tool>::NAME,)*];

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
                match name {
                    $(<$tool as Tool>::NAME => arguments_of::<$tool>(name, arguments).map(Action::$variant),)*
                    _ => Err(ActionError::Arguments(format!("there is no tool named {name:?}"))),
                }
            }

            /// The tool name the model calls it by; [`Action::parse`] of that name gives it back.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Action::$variant(_) => <$tool as Tool>::NAME,)*
                }
            }

            /// What the action is about to do, in a few words; `element` describes the
            /// targeted element as the model saw it.
            pub(crate) fn summary(&self, element: Option<String>) -> String {
                match self {
                    $(Action::$variant(tool) => tool.summary(element),)*
                }
            }

            /// Every approval kind the action falls under, checked on the live page.
            pub(crate) async fn approval_kinds(&self, browsing: &mut Browsing) -> Vec<ApprovalKind> {
                match self {
                    $(Action::$variant(tool) => tool.approval(browsing).await,)*
                }
            }
        }

        /// The tools for one task, in the order they are declared; `upload` offers
        /// `browser_upload_file` (only when directories are allowed), `output_schema` makes
        /// `done` carry `data` matching it.
        pub fn tool_definitions(upload: bool, output_schema: Option<&Value>) -> Vec<ToolDefinition> {
            let offer = Offer { upload, output_schema };
            [$(<$tool as Tool>::definition(offer),)*].into_iter().flatten().collect()
        }
    };
}

tools! {
    /// Load a URL in the agent's tab or a new one.
    BrowserNavigate(Navigate),
    /// Click an element of the last observation.
    BrowserClick(Click),
    /// Type text into a field.
    BrowserType(TypeText),
    /// Scroll the page or one scroll container.
    BrowserScroll(Scroll),
    /// Press keys, e.g. `Enter`, `Control+a`, `Tab Tab Enter`.
    BrowserSendKeys(SendKeys),
    /// Choose an option of a native `<select>`.
    BrowserSelect(Select),
    /// Make another tab the agent's tab.
    BrowserSwitchTab(SwitchTab),
    /// Close a tab.
    BrowserCloseTab(CloseTab),
    /// Go back in the tab's history.
    BrowserGoBack(GoBack),
    /// Wait for the page.
    BrowserWait(Wait),
    /// Read the page's whole text (beyond the viewport) for a question.
    BrowserExtract(Extract),
    /// Put a file into a file input.
    BrowserUploadFile(UploadFile),
    /// Hand the task to the human with a question.
    AskHuman(AskHuman),
    /// Finish the task.
    Done(Done),
}

/// A tool's arguments, or an error naming the tool.
fn arguments_of<T: Tool>(name: &str, arguments: Value) -> Result<T, ActionError> {
    serde_json::from_value(arguments)
        .map_err(|e| ActionError::Arguments(format!("invalid arguments for {name}: {e}")))
}

/// A tool's definition from its parts.
fn tool(name: &str, description: &str, properties: Value, required: &[&str]) -> ToolDefinition {
    ToolDefinition {
        name: name.to_string(),
        description: description.to_string(),
        parameters: serde_json::json!({
            "type": "object",
            "properties": properties,
            "required": required,
        }),
    }
}

/// The schema of an element index parameter.
fn index(what: &str) -> Value {
    serde_json::json!({"type": "integer", "description": format!("[index] of the {what} in the current state")})
}

/// The element described as the model saw it, or its bare `[index]`.
fn target(element: Option<String>, index: u64) -> String {
    element.unwrap_or_else(|| format!("[{index}]"))
}
