//! Tools that act on an element or the focus: click, type, scroll, keys, select, upload.

use serde::Deserialize;
use serde_json::json;

use super::{Offer, Tool, index, target, tool};
use crate::actions::{Browsing, Direction, lenient_index, lenient_optional_index};
use crate::human::{ApprovalKind, is_external, is_purchase_text};
use crate::llm::ToolDefinition;

/// `browser_click`'s arguments.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Click {
    /// The element's `[index]`.
    #[serde(deserialize_with = "lenient_index")]
    pub index: u64,
}

impl Tool for Click {
    const NAME: &'static str = "browser_click";

    fn definition(_: Offer<'_>) -> Option<ToolDefinition> {
        Some(tool(
            Self::NAME,
            "Click an element. A click that opens a tab switches to it.",
            json!({"index": index("element")}),
            &["index"],
        ))
    }

    fn summary(&self, element: Option<String>) -> String {
        format!("Clicking {}", target(element, self.index))
    }

    /// What the element says it does: pays, submits, or links to another host. An element
    /// that cannot be read needs no approval: the click itself will fail on it.
    async fn approval(&self, browsing: &mut Browsing) -> Vec<ApprovalKind> {
        let mut kinds = Vec::new();
        if let Ok(facts) = browsing.facts(self.index).await {
            if is_purchase_text(&facts.text) {
                kinds.push(ApprovalKind::Purchase);
            }
            if facts.submits {
                kinds.push(ApprovalKind::Submit);
            }
            if let Some(href) = &facts.href
                && is_external(&browsing.url().await, href)
            {
                kinds.push(ApprovalKind::NavigateExternal);
            }
        }
        kinds
    }
}

/// `browser_type`'s arguments.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TypeText {
    /// The field's `[index]`.
    #[serde(deserialize_with = "lenient_index")]
    pub index: u64,
    /// What to type; `<secret>key</secret>` placeholders are filled in here only.
    pub text: String,
    /// Empty the field first.
    #[serde(default = "crate::actions::yes")]
    pub clear: bool,
    /// Press Enter afterwards.
    #[serde(default)]
    pub submit: bool,
}

impl Tool for TypeText {
    const NAME: &'static str = "browser_type";

    fn definition(_: Offer<'_>) -> Option<ToolDefinition> {
        Some(tool(
            Self::NAME,
            "Type into a field (focuses it; clears it first unless clear=false; submit=true \
             presses Enter after). For a secret write <secret>name</secret>.",
            json!({
                "index": index("field"),
                "text": {"type": "string"},
                "clear": {"type": "boolean"},
                "submit": {"type": "boolean"}
            }),
            &["index", "text"],
        ))
    }

    fn summary(&self, element: Option<String>) -> String {
        format!(
            "Typing {:?} into {}",
            self.text,
            target(element, self.index)
        )
    }

    async fn approval(&self, _: &mut Browsing) -> Vec<ApprovalKind> {
        if self.submit {
            vec![ApprovalKind::Submit]
        } else {
            Vec::new()
        }
    }
}

/// `browser_scroll`'s arguments.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Scroll {
    /// `up` or `down`.
    pub direction: Direction,
    /// How many screens; fractions allowed.
    #[serde(default)]
    pub pages: Option<f64>,
    /// The container to scroll, when not the page.
    #[serde(default, deserialize_with = "lenient_optional_index")]
    pub index: Option<u64>,
}

impl Tool for Scroll {
    const NAME: &'static str = "browser_scroll";

    fn definition(_: Offer<'_>) -> Option<ToolDefinition> {
        Some(tool(
            Self::NAME,
            "Scroll the page, or the scroll container [index], by pages screens (default 1).",
            json!({
                "direction": {"type": "string", "enum": ["up", "down"]},
                "pages": {"type": "number"},
                "index": index("scroll container")
            }),
            &["direction"],
        ))
    }

    fn summary(&self, _: Option<String>) -> String {
        format!(
            "Scrolling {}",
            format!("{:?}", self.direction).to_lowercase()
        )
    }

    async fn approval(&self, _: &mut Browsing) -> Vec<ApprovalKind> {
        Vec::new()
    }
}

/// `browser_send_keys`'s arguments.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SendKeys {
    /// Space-separated key combinations.
    pub keys: String,
}

impl Tool for SendKeys {
    const NAME: &'static str = "browser_send_keys";

    fn definition(_: Offer<'_>) -> Option<ToolDefinition> {
        Some(tool(
            Self::NAME,
            "Press keys in the focused element, e.g. \"Enter\", \"Escape\", \"Control+a\", \
             \"Tab Tab Enter\", \"ArrowDown\".",
            json!({"keys": {"type": "string"}}),
            &["keys"],
        ))
    }

    fn summary(&self, _: Option<String>) -> String {
        format!("Pressing {}", self.keys)
    }

    /// Enter with the focus in a form submits it.
    async fn approval(&self, browsing: &mut Browsing) -> Vec<ApprovalKind> {
        let enter = self
            .keys
            .split(|c: char| c.is_whitespace() || c == '+')
            .any(|k| k.eq_ignore_ascii_case("enter"));
        if enter && browsing.focus_in_form().await {
            vec![ApprovalKind::Submit]
        } else {
            Vec::new()
        }
    }
}

/// `browser_select`'s arguments.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Select {
    /// The select's `[index]`.
    #[serde(deserialize_with = "lenient_index")]
    pub index: u64,
    /// The option's text or value.
    pub option: String,
}

impl Tool for Select {
    const NAME: &'static str = "browser_select";

    fn definition(_: Offer<'_>) -> Option<ToolDefinition> {
        Some(tool(
            Self::NAME,
            "Choose an option of a native select element by its text or value. For custom \
             dropdowns click them instead.",
            json!({"index": index("select"), "option": {"type": "string"}}),
            &["index", "option"],
        ))
    }

    fn summary(&self, element: Option<String>) -> String {
        format!(
            "Selecting {:?} in {}",
            self.option,
            target(element, self.index)
        )
    }

    async fn approval(&self, _: &mut Browsing) -> Vec<ApprovalKind> {
        Vec::new()
    }
}

/// `browser_upload_file`'s arguments.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UploadFile {
    /// The file input's `[index]`.
    #[serde(deserialize_with = "lenient_index")]
    pub index: u64,
    /// A path inside the configured upload directories.
    pub path: String,
}

impl Tool for UploadFile {
    const NAME: &'static str = "browser_upload_file";

    /// Offered only when upload directories are configured.
    fn definition(offer: Offer<'_>) -> Option<ToolDefinition> {
        offer.upload.then(|| {
            tool(
                Self::NAME,
                "Put a local file into a file input. Only the files listed in \
                 <uploadable_files> can be used.",
                json!({"index": index("file input"),
                       "path": {"type": "string", "description": "a path from <uploadable_files>"}}),
                &["index", "path"],
            )
        })
    }

    fn summary(&self, element: Option<String>) -> String {
        format!(
            "Uploading {} into {}",
            self.path,
            target(element, self.index)
        )
    }

    async fn approval(&self, _: &mut Browsing) -> Vec<ApprovalKind> {
        vec![ApprovalKind::Upload]
    }
}
