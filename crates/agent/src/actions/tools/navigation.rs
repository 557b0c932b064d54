//! Tools that change the page or the tab: navigate, go back, switch and close tabs.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Offer, Tool, tool};
use crate::actions::Browsing;
use crate::human::{ApprovalKind, is_external};
use crate::llm::ToolDefinition;

/// `browser_navigate`'s arguments.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Navigate {
    /// Where to go; `https://` is assumed when no scheme is given.
    pub url: String,
    /// Open it in a new tab instead.
    #[serde(default)]
    pub new_tab: bool,
}

impl Tool for Navigate {
    const NAME: &'static str = "browser_navigate";

    fn definition(_: Offer<'_>) -> Option<ToolDefinition> {
        Some(tool(
            Self::NAME,
            "Load a URL in the current tab, or in a new tab with new_tab=true.",
            json!({
                "url": {"type": "string"},
                "new_tab": {"type": "boolean"}
            }),
            &["url"],
        ))
    }

    fn summary(&self, _: Option<String>) -> String {
        format!(
            "Navigating to {}{}",
            self.url,
            if self.new_tab { " in a new tab" } else { "" }
        )
    }

    async fn approval(&self, browsing: &mut Browsing) -> Vec<ApprovalKind> {
        // The URL the navigation will open, by the browser layer's one rule (what it
        // refuses, `browser_navigate` refuses too, so a refused one needs no approval).
        let target = browser::address::from_typed(&self.url).unwrap_or_else(|_| self.url.clone());
        if is_external(&browsing.url().await, &target) {
            vec![ApprovalKind::NavigateExternal]
        } else {
            Vec::new()
        }
    }
}

/// `browser_go_back` takes no arguments.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GoBack {}

impl Tool for GoBack {
    const NAME: &'static str = "browser_go_back";

    fn definition(_: Offer<'_>) -> Option<ToolDefinition> {
        Some(tool(
            Self::NAME,
            "Go back to the previous page of the current tab.",
            json!({}),
            &[],
        ))
    }

    fn summary(&self, _: Option<String>) -> String {
        "Going back".into()
    }

    async fn approval(&self, _: &mut Browsing) -> Vec<ApprovalKind> {
        Vec::new()
    }
}

/// The schema of a tab id parameter.
fn tab_id() -> Value {
    json!({"tab_id": {"type": "string", "description": "id from the tabs list"}})
}

/// `browser_switch_tab`'s arguments.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SwitchTab {
    /// The tab's id as listed in the state.
    pub tab_id: String,
}

impl Tool for SwitchTab {
    const NAME: &'static str = "browser_switch_tab";

    fn definition(_: Offer<'_>) -> Option<ToolDefinition> {
        Some(tool(
            Self::NAME,
            "Make another tab the current one.",
            tab_id(),
            &["tab_id"],
        ))
    }

    fn summary(&self, _: Option<String>) -> String {
        format!("Switching to tab {}", self.tab_id)
    }

    async fn approval(&self, _: &mut Browsing) -> Vec<ApprovalKind> {
        Vec::new()
    }
}

/// `browser_close_tab`'s arguments.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CloseTab {
    /// The tab's id as listed in the state.
    pub tab_id: String,
}

impl Tool for CloseTab {
    const NAME: &'static str = "browser_close_tab";

    fn definition(_: Offer<'_>) -> Option<ToolDefinition> {
        Some(tool(Self::NAME, "Close a tab.", tab_id(), &["tab_id"]))
    }

    fn summary(&self, _: Option<String>) -> String {
        format!("Closing tab {}", self.tab_id)
    }

    async fn approval(&self, _: &mut Browsing) -> Vec<ApprovalKind> {
        Vec::new()
    }
}
