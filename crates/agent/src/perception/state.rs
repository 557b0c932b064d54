//! What one observation of a tab yields: the page as the agent sees it.

use serde::Serialize;

/// A tab of the browser, as the caller knows it; perception only prints these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tab {
    /// The id the agent uses to switch to or close the tab.
    pub id: String,
    /// The page title.
    pub title: String,
    /// The page URL.
    pub url: String,
    /// Whether this is the tab being observed (the agent's tab).
    pub active: bool,
}

impl Tab {
    /// The browser's tabs as the agent sees them, `active_tab` (a target id) marked active.
    /// Ids are the last four characters of the target id, as browser-use prints them: enough
    /// to tell a handful of tabs apart, a token or two instead of sixteen.
    pub fn list(browser: &browser::Browser, active_tab: &str) -> Vec<Tab> {
        browser
            .tabs()
            .into_iter()
            .map(|tab| Tab {
                id: Tab::short_id(&tab.id).to_string(),
                active: tab.id == active_tab,
                title: tab.title,
                url: tab.url,
            })
            .collect()
    }

    /// The short id of a target id: its last four characters.
    pub fn short_id(target_id: &str) -> &str {
        let start = target_id.char_indices().rev().nth(3).map_or(0, |(i, _)| i);
        &target_id[start..]
    }
}

/// The observed state of one tab: what the LLM is shown each step.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PageState {
    /// The tab's URL.
    pub url: String,
    /// The tab's title.
    pub title: String,
    /// Every tab of the browser, the observed one marked active.
    pub tabs: Vec<Tab>,
    /// Interactive elements within the viewport ± one screen, in document order.
    pub elements: Vec<Element>,
    /// Visible text of the viewport that is not already an element's name, one line per
    /// block, so the agent can read prices, answers and messages.
    pub text: Vec<String>,
    /// Viewport size and scroll position.
    pub viewport: Viewport,
    /// Interactive elements (native controls and ARIA widgets) above the listed band.
    pub elements_above: usize,
    /// Interactive elements (native controls and ARIA widgets) below the listed band.
    pub elements_below: usize,
    /// Elements in the page (all documents walked), for a sense of its size.
    pub total_elements: usize,
    /// A secret showed somewhere on the page (and was replaced by its placeholder here):
    /// a screenshot of it would show the value.
    #[serde(skip)]
    pub secrets_redacted: bool,
}

/// Where the viewport is on the page, in CSS pixels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Viewport {
    /// Viewport width.
    pub width: f64,
    /// Viewport height.
    pub height: f64,
    /// How far the page is scrolled down.
    pub scroll_y: f64,
    /// The page's scrollable height.
    pub page_height: f64,
}

impl Viewport {
    /// Screens of page above the viewport.
    pub fn screens_above(&self) -> f64 {
        if self.height <= 0.0 {
            return 0.0;
        }
        (self.scroll_y / self.height).max(0.0)
    }

    /// Screens of page below the viewport.
    pub fn screens_below(&self) -> f64 {
        if self.height <= 0.0 {
            return 0.0;
        }
        ((self.page_height - self.scroll_y - self.height) / self.height).max(0.0)
    }
}

/// One interactive element, addressed by `index` in actions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Element {
    /// The `[index]` the LLM sees. For the tab's own process (the page, its same-site frames
    /// and shadow roots) it is the element's `backendNodeId`; see [`ElementRef`] for frames in
    /// other processes.
    pub index: u64,
    /// Where the element lives, for actions to reach it.
    #[serde(flatten)]
    pub target: ElementRef,
    /// ARIA role, or the tag name for elements that are only clickable.
    pub role: String,
    /// Accessible name or visible text; may be empty.
    pub name: String,
    /// Key attributes and states (value, placeholder, checked, expanded, href, ...), in the
    /// order they are printed.
    pub attributes: Vec<Attribute>,
    /// Bounding box in viewport CSS pixels (of the top-level page, frames included).
    pub bounds: Bounds,
    /// Inside an iframe.
    pub in_frame: bool,
    /// Inside an open shadow root.
    pub in_shadow: bool,
}

/// How to reach an element with CDP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ElementRef {
    /// The element's `backendNodeId` in its target.
    pub backend_node_id: i64,
    /// The target (an out-of-process iframe) holding the element; `None` for the tab itself.
    pub frame_target: Option<String>,
}

/// A key attribute shown with an element; `value` empty for flags such as `checked`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attribute {
    /// E.g. `value`, `placeholder`, `checked`, `expanded`, `href`.
    pub name: String,
    /// The value; empty for a flag.
    pub value: String,
}

/// A rectangle in viewport CSS pixels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Bounds {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}
