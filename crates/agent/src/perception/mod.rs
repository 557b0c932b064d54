//! Perception: a tab turned into the indexed interactive elements and text the LLM reads.
//!
//! One observation runs a small script (`walk.js`) in Tandem's isolated world of the tab:
//! it walks the DOM through open shadow roots and same-site frames, keeps what looks
//! interactive (native controls, links, ARIA widget roles, `onclick`, `tabindex`,
//! `contenteditable`, scroll containers, the outermost element of each `cursor: pointer`
//! area) within the viewport ± one screen, drops what is invisible (`display`, `visibility`,
//! opacity, zero size) or covered (hit tests in the viewport), counts what lies beyond, and
//! gathers the viewport's text. Frames in other processes get a walk of their own on their
//! own CDP session, placed in the tab's viewport. Rust then decides roles, names and key
//! attributes ([`interactive`]) and renders the text ([`PageState::to_text`]).
//!
//! Element indices are `backendNodeId`s (see [`ids`] for out-of-process frames). For vision
//! models, [`screenshot`] captures the viewport the element boxes refer to.

mod error;
mod frames;
mod ids;
mod interactive;
mod raw;
mod redact;
mod screenshot;
mod serialize;
mod state;
mod walk;

use std::collections::HashSet;

pub use error::PerceptionError;
pub use ids::FRAME_BASE;
pub use screenshot::{Screenshot, screenshot};
pub use state::{Attribute, Bounds, Element, ElementRef, PageState, Tab, Viewport};

use frames::{FrameSessions, Pending};
use ids::ElementIds;
use walk::{Walked, walk};

use crate::secrets::SensitiveData;

/// Observes one tab step after step, keeping element indices stable between observations.
///
/// Holds the CDP sessions of the tab's out-of-process frames, so they are attached once.
#[derive(Debug, Default)]
pub struct Observer {
    ids: ElementIds,
    frames: FrameSessions,
    /// Values to take out of everything the page shows, before any of it is cut.
    secrets: SensitiveData,
}

/// Observes a tab once; for repeated observations of one tab keep an [`Observer`].
pub async fn observe(page: &browser::Page, tabs: Vec<Tab>) -> Result<PageState, PerceptionError> {
    Observer::new().observe(page, tabs).await
}

impl Observer {
    /// An observer with no history.
    pub fn new() -> Observer {
        Observer::default()
    }

    /// An observer whose states never hold these values: each is replaced by its
    /// placeholder in the page's raw texts, before they are cut or quoted, and the state
    /// says when that happened ([`PageState::secrets_redacted`]).
    pub fn with_secrets(secrets: SensitiveData) -> Observer {
        let mut observer = Observer::new();
        observer.frames.keep = secrets.longest();
        observer.secrets = secrets;
        observer
    }

    /// Observes the tab `page` now; `tabs` are printed as they are given.
    pub async fn observe(
        &mut self,
        page: &browser::Page,
        tabs: Vec<Tab>,
    ) -> Result<PageState, PerceptionError> {
        let keep = self.frames.keep;
        let mut top = walk(page.session(), page.tab_id(), None, true, keep).await?;
        let mut redacted = redact::walk(&self.secrets, &mut top.raw);
        let viewport = state::Viewport {
            width: top.raw.viewport_width,
            height: top.raw.viewport_height,
            scroll_y: top.raw.scroll_y,
            page_height: top.raw.scroll_height,
        };
        let mut tabs = tabs;
        for tab in tabs.iter_mut().filter(|t| t.active) {
            // The page knows its URL and title better than a tab list that may lag a step.
            tab.url.clone_from(&top.raw.url);
            tab.title.clone_from(&top.raw.title);
        }
        redacted |= redact::tabs(&self.secrets, &mut tabs);
        let mut state = PageState {
            url: top.raw.url.clone(),
            title: top.raw.title.clone(),
            tabs,
            viewport,
            elements_above: top.raw.above,
            elements_below: top.raw.below,
            ..Default::default()
        };
        let mut frames = self.frames.walk_all(page.session(), &top, &viewport).await;
        for frame in &mut frames {
            redacted |= redact::walk(&self.secrets, &mut frame.walked.raw);
        }
        state.secrets_redacted = redacted;
        let alive: HashSet<String> = frames
            .iter()
            .filter_map(|p| p.frame_target.clone())
            .collect();
        self.ids.retain_frames(&alive);
        self.merge(&mut state, top, frames);
        Ok(state)
    }

    /// Turns the walks into elements and text, in document order.
    fn merge(&mut self, state: &mut PageState, top: Walked, frames: Vec<Pending>) {
        let page_url = state.url.clone();
        let mut walks = vec![Pending {
            walked: top,
            frame_target: None,
            at: 0,
            parent: 0,
        }];
        walks.extend(frames);
        // Page elements own their backendNodeIds as indices; frame elements avoid them.
        let mut taken: HashSet<u64> = HashSet::new();
        for pending in walks.iter().filter(|p| p.frame_target.is_none()) {
            for &id in &pending.walked.backend_ids {
                taken.insert(id as u64);
            }
        }
        let mut lists: Vec<Vec<Element>> = Vec::with_capacity(walks.len());
        let mut texts: Vec<Vec<String>> = Vec::with_capacity(walks.len());
        // Per walk, how many of its first i candidates were kept: a frame's position among
        // the candidates becomes one among the listed elements.
        let mut kept_before: Vec<Vec<usize>> = Vec::with_capacity(walks.len());
        for pending in &walks {
            let mut elements = Vec::new();
            let mut kept = vec![0];
            let mut text = pending.walked.raw.text.clone();
            for (raw, &backend_node_id) in pending
                .walked
                .raw
                .elements
                .iter()
                .zip(&pending.walked.backend_ids)
            {
                let Some(described) = interactive::describe(raw, &page_url) else {
                    // Not interactive after all: its text is page text.
                    if let Some(t) = raw.text.as_ref().filter(|t| !t.is_empty()) {
                        text.push(t.clone());
                    }
                    kept.push(elements.len());
                    continue;
                };
                let index = match &pending.frame_target {
                    None => backend_node_id as u64,
                    Some(frame) => {
                        let index = self.ids.frame_index(frame, backend_node_id, &taken);
                        taken.insert(index);
                        index
                    }
                };
                elements.push(Element {
                    index,
                    target: ElementRef {
                        backend_node_id,
                        frame_target: pending.frame_target.clone(),
                    },
                    role: described.role,
                    name: described.name,
                    attributes: described.attributes,
                    bounds: Bounds {
                        x: raw.x,
                        y: raw.y,
                        width: raw.w,
                        height: raw.h,
                    },
                    in_frame: raw.in_frame.is_some() || pending.frame_target.is_some(),
                    in_shadow: raw.in_shadow.is_some(),
                });
                kept.push(elements.len());
            }
            lists.push(elements);
            kept_before.push(kept);
            texts.push(text);
            state.total_elements += pending.walked.raw.total;
        }
        // Splice each frame's elements into its parent's list, deepest frames first, so that
        // positions (`at`) still refer to the parent's own elements.
        for child in (1..walks.len()).rev() {
            let parent = walks[child].parent;
            let elements = std::mem::take(&mut lists[child]);
            let text = std::mem::take(&mut texts[child]);
            let kept = &kept_before[parent];
            let at = kept[walks[child].at.min(kept.len() - 1)].min(lists[parent].len());
            lists[parent].splice(at..at, elements);
            texts[parent].extend(text);
        }
        state.elements = std::mem::take(&mut lists[0]);
        state.text = compact_text(std::mem::take(&mut texts[0]), &state.elements);
    }
}

/// The viewport text without what the element lines already say and without repeats of the
/// line just before.
fn compact_text(lines: Vec<String>, elements: &[Element]) -> Vec<String> {
    let names: HashSet<String> = elements
        .iter()
        .filter(|e| !e.name.is_empty())
        .map(|e| e.name.to_lowercase())
        .collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    for line in lines {
        let line = line.trim();
        if line.is_empty() || names.contains(&line.to_lowercase()) {
            continue;
        }
        if out.last().is_some_and(|last| last == line) {
            continue;
        }
        out.push(line.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::raw::{RawElement, RawWalk};
    use super::*;

    fn raw(tag: &str, text: &str) -> RawElement {
        RawElement {
            tag: tag.into(),
            text: Some(text.into()),
            href: (tag == "a").then(|| "/x".to_string()),
            ..Default::default()
        }
    }

    fn walked(elements: Vec<RawElement>, ids: Vec<i64>) -> Walked {
        Walked {
            raw: RawWalk {
                elements,
                ..Default::default()
            },
            backend_ids: ids,
            frame_ids: Vec::new(),
        }
    }

    #[test]
    fn frame_elements_are_spliced_in_document_order_with_their_own_indices() {
        // The page: a link, a candidate that turns out not to be interactive, a button; an
        // out-of-process frame sits after the first two candidates.
        let top = walked(
            vec![
                raw("a", "Home"),
                raw("div", "Just text"),
                raw("button", "Buy"),
            ],
            vec![5, 6, 7],
        );
        let frame = Pending {
            walked: walked(vec![raw("button", "Pay")], vec![5]),
            frame_target: Some("F1".into()),
            at: 2,
            parent: 0,
        };
        let mut observer = Observer::new();
        let mut state = PageState::default();
        observer.merge(&mut state, top, vec![frame]);
        let lines: Vec<(u64, &str)> = state
            .elements
            .iter()
            .map(|e| (e.index, e.name.as_str()))
            .collect();
        assert_eq!(lines, [(5, "Home"), (FRAME_BASE, "Pay"), (7, "Buy")]);
        assert_eq!(state.elements[1].target.frame_target.as_deref(), Some("F1"));
        assert_eq!(state.elements[1].target.backend_node_id, 5);
        assert_eq!(state.text, ["Just text"]);
    }

    #[test]
    fn text_is_deduplicated_against_names_and_repeats() {
        let element = Element {
            index: 1,
            target: ElementRef {
                backend_node_id: 1,
                frame_target: None,
            },
            role: "button".into(),
            name: "Add to cart".into(),
            attributes: Vec::new(),
            bounds: Bounds::default(),
            in_frame: false,
            in_shadow: false,
        };
        let lines = ["Lamp", "$5", "$5", "add to cart", "  ", "Lamp"]
            .map(String::from)
            .to_vec();
        assert_eq!(compact_text(lines, &[element]), ["Lamp", "$5", "Lamp"]);
    }
}
