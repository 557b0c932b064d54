//! The state text the LLM reads: compact, one line per element, each starting with `[index]`.
//!
//! ```text
//! url: http://shop.test/search?q=lamp
//! title: Lamps
//! tabs:
//! * 1A2B Lamps (http://shop.test/search?q=lamp)
//!   C3D4 Docs (http://docs.test/)
//! page: 0.0 screens above, 2.4 below; 3 more elements above, 41 below
//! elements:
//! [12] searchbox "Search" value="lamp"
//! [19] link "Desk lamp" href=/p/19
//! [20] button "Add to cart"
//! text:
//! Desk lamp, brass, 40 cm
//! $24.99
//! ```

use std::fmt::Write;

use super::state::{Element, PageState};

/// The longest name printed; longer ones are cut with `…`.
const NAME_MAX: usize = 100;

impl PageState {
    /// The state as the LLM reads it (see the module docs for the layout).
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(256 + self.elements.len() * 48);
        let _ = writeln!(out, "url: {}", self.url);
        if !self.title.is_empty() {
            let _ = writeln!(out, "title: {}", self.title);
        }
        if !self.tabs.is_empty() {
            out.push_str("tabs:\n");
            for tab in &self.tabs {
                let mark = if tab.active { '*' } else { ' ' };
                let title = if tab.title.is_empty() {
                    "(untitled)"
                } else {
                    &tab.title
                };
                let _ = writeln!(out, "{mark} {} {} ({})", tab.id, title, tab.url);
            }
        }
        let v = &self.viewport;
        let _ = writeln!(
            out,
            "page: {:.1} screens above, {:.1} below; {} more elements above, {} below",
            v.screens_above(),
            v.screens_below(),
            self.elements_above,
            self.elements_below
        );
        out.push_str("elements:\n");
        if self.elements.is_empty() {
            out.push_str("(none in view)\n");
        }
        for element in &self.elements {
            element_line(&mut out, element);
            out.push('\n');
        }
        if !self.text.is_empty() {
            out.push_str("text:\n");
            for line in &self.text {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

/// `[index] role "name" attr=value flag ...`
fn element_line(out: &mut String, element: &Element) {
    let _ = write!(out, "[{}] {}", element.index, element.role);
    if !element.name.is_empty() {
        out.push_str(" \"");
        push_cut(out, &element.name, NAME_MAX);
        out.push('"');
    }
    for attribute in &element.attributes {
        out.push(' ');
        out.push_str(&attribute.name);
        if !attribute.value.is_empty() {
            out.push('=');
            if needs_quotes(&attribute.value) {
                out.push('"');
                push_cut(out, &attribute.value, NAME_MAX);
                out.push('"');
            } else {
                push_cut(out, &attribute.value, NAME_MAX);
            }
        }
    }
}

fn needs_quotes(value: &str) -> bool {
    value.is_empty() || value.contains([' ', '"', '='])
}

/// Appends `text` with double quotes turned into single ones (so quoting stays unambiguous),
/// cut to `max` characters.
fn push_cut(out: &mut String, text: &str, max: usize) {
    for (i, c) in text.chars().enumerate() {
        if i + 1 == max && text.chars().nth(max).is_some() {
            out.push('…');
            return;
        }
        out.push(if c == '"' { '\'' } else { c });
    }
}

#[cfg(test)]
mod tests {
    use super::super::state::{Attribute, Bounds, ElementRef, Tab, Viewport};
    use super::*;

    fn element(index: u64, role: &str, name: &str, attributes: &[(&str, &str)]) -> Element {
        Element {
            index,
            target: ElementRef {
                backend_node_id: index as i64,
                frame_target: None,
            },
            role: role.into(),
            name: name.into(),
            attributes: attributes
                .iter()
                .map(|(n, v)| Attribute {
                    name: (*n).into(),
                    value: (*v).into(),
                })
                .collect(),
            bounds: Bounds::default(),
            in_frame: false,
            in_shadow: false,
        }
    }

    #[test]
    fn state_text_has_one_line_per_element_and_the_page_text() {
        let state = PageState {
            url: "http://shop.test/".into(),
            title: "Shop".into(),
            tabs: vec![
                Tab {
                    id: "1A2B".into(),
                    title: "Shop".into(),
                    url: "http://shop.test/".into(),
                    active: true,
                },
                Tab {
                    id: "C3D4".into(),
                    title: String::new(),
                    url: "about:blank".into(),
                    active: false,
                },
            ],
            elements: vec![
                element(12, "searchbox", "Search", &[("value", "desk lamp")]),
                element(19, "link", "Say \"hi\"", &[("href", "/p/19")]),
                element(22, "checkbox", "Prime", &[("checked", "")]),
            ],
            text: vec!["Desk lamp $24.99".into()],
            viewport: Viewport {
                width: 1280.0,
                height: 720.0,
                scroll_y: 720.0,
                page_height: 3600.0,
            },
            elements_above: 3,
            elements_below: 41,
            total_elements: 500,
            secrets_redacted: false,
        };
        assert_eq!(
            state.to_text(),
            "url: http://shop.test/\n\
             title: Shop\n\
             tabs:\n\
             * 1A2B Shop (http://shop.test/)\n\
             \x20 C3D4 (untitled) (about:blank)\n\
             page: 1.0 screens above, 3.0 below; 3 more elements above, 41 below\n\
             elements:\n\
             [12] searchbox \"Search\" value=\"desk lamp\"\n\
             [19] link \"Say 'hi'\" href=/p/19\n\
             [22] checkbox \"Prime\" checked\n\
             text:\n\
             Desk lamp $24.99\n"
        );
    }

    #[test]
    fn an_empty_page_says_so() {
        let text = PageState {
            url: "about:blank".into(),
            ..Default::default()
        }
        .to_text();
        assert!(text.contains("elements:\n(none in view)\n"), "{text}");
        assert!(!text.contains("text:"), "{text}");
    }

    #[test]
    fn long_names_are_cut() {
        let mut out = String::new();
        element_line(&mut out, &element(1, "link", &"x".repeat(300), &[]));
        assert_eq!(out.chars().filter(|c| *c == 'x').count(), NAME_MAX - 1);
        assert!(out.ends_with("…\""));
    }
}
