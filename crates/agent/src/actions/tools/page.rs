//! Tools that read or wait on the page without acting on it: wait, extract.

use serde::Deserialize;
use serde_json::json;

use super::{Offer, Tool, tool};
use crate::actions::Browsing;
use crate::human::ApprovalKind;
use crate::llm::ToolDefinition;

/// `browser_wait`'s arguments.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Wait {
    /// Seconds, capped at [`crate::actions::MAX_WAIT_SECS`].
    #[serde(default)]
    pub seconds: Option<f64>,
}

impl Tool for Wait {
    const NAME: &'static str = "browser_wait";

    fn definition(_: Offer<'_>) -> Option<ToolDefinition> {
        Some(tool(
            Self::NAME,
            "Wait for the page to settle (seconds, at most 10).",
            json!({"seconds": {"type": "number"}}),
            &[],
        ))
    }

    fn summary(&self, _: Option<String>) -> String {
        format!("Waiting {}s", self.seconds.unwrap_or(2.0))
    }

    async fn approval(&self, _: &mut Browsing) -> Vec<ApprovalKind> {
        Vec::new()
    }
}

/// `browser_extract`'s arguments.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Extract {
    /// What to look for.
    pub query: String,
}

impl Tool for Extract {
    const NAME: &'static str = "browser_extract";

    fn definition(_: Offer<'_>) -> Option<ToolDefinition> {
        Some(tool(
            Self::NAME,
            "Read the whole page's text (not just the visible part) to answer a question; \
             the text is shown on the next step.",
            json!({"query": {"type": "string"}}),
            &["query"],
        ))
    }

    fn summary(&self, _: Option<String>) -> String {
        format!("Reading the page for {:?}", self.query)
    }

    async fn approval(&self, _: &mut Browsing) -> Vec<ApprovalKind> {
        Vec::new()
    }
}
