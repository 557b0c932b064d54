//! Secrets taken out of a walk's raw strings, before anything is cut, quoted or rendered.
//!
//! The walk keeps [`SensitiveData::longest`] more characters of every text it cuts when the
//! task has secrets (its `keep` option), so a value that starts within a field's limit
//! arrives whole; here it is replaced by its placeholder and only then cut to the limit the
//! walk would have applied. Redacting the rendered state instead would miss values that
//! were cut, had their whitespace collapsed or their quotes changed on the way.

use super::raw::{RawElement, RawWalk};
use super::state::Tab;
use crate::secrets::SensitiveData;

/// The limit of names, labels, values and the other short texts of an element.
const FIELD_MAX: usize = 100;
/// The limit of an element's own text.
const TEXT_MAX: usize = 120;
/// The limit of a `<select>`'s option labels.
const OPTION_MAX: usize = 40;

/// Redacts every string of `raw` in place; whether any secret was found.
pub(crate) fn walk(secrets: &SensitiveData, raw: &mut RawWalk) -> bool {
    if secrets.is_empty() {
        return false;
    }
    let mut found = false;
    let mut fix = |text: &mut String, max: Option<usize>| {
        let (redacted, seen) = match max {
            Some(max) => secrets.redact_cut(text, max),
            None => {
                let redacted = secrets.redact(text);
                let seen = redacted != *text;
                (redacted, seen)
            }
        };
        found |= seen;
        *text = redacted;
    };
    fix(&mut raw.url, None);
    fix(&mut raw.title, None);
    for line in &mut raw.text {
        fix(line, None);
    }
    for element in &mut raw.elements {
        element_fields(element, &mut fix);
    }
    found
}

/// Every text of one element, with the limit the walk cuts it to (`None`: never cut).
fn element_fields(element: &mut RawElement, fix: &mut impl FnMut(&mut String, Option<usize>)) {
    for (field, max) in [
        (&mut element.aria_label, FIELD_MAX),
        (&mut element.label, FIELD_MAX),
        (&mut element.text, TEXT_MAX),
        (&mut element.alt, FIELD_MAX),
        (&mut element.title, FIELD_MAX),
        (&mut element.placeholder, FIELD_MAX),
        (&mut element.value, FIELD_MAX),
    ] {
        if let Some(text) = field {
            fix(text, Some(max));
        }
    }
    if let Some(href) = &mut element.href {
        fix(href, None);
    }
    for option in element.options.iter_mut().flatten() {
        fix(option, Some(OPTION_MAX));
    }
    for value in element.aria.values_mut() {
        fix(value, None);
    }
}

/// Redacts the tabs' titles and URLs in place; whether any secret was found.
pub(crate) fn tabs(secrets: &SensitiveData, tabs: &mut [Tab]) -> bool {
    let mut found = false;
    for tab in tabs {
        for text in [&mut tab.title, &mut tab.url] {
            let redacted = secrets.redact(text);
            if redacted != *text {
                found = true;
                *text = redacted;
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_strings_are_redacted_before_they_are_cut() {
        let long = "Q".repeat(150);
        let secrets = SensitiveData::new([("token".to_string(), long.clone())]);
        // As the walk sends a field it cut at 100 + keep (here within the second value),
        // and an untouched one.
        let field = format!("key {long} {long}");
        assert!(field.chars().count() <= FIELD_MAX + secrets.longest());
        let cut: String = field
            .chars()
            .take(field.chars().count() - 1)
            .chain(['…'])
            .collect();
        let mut raw = RawWalk {
            url: format!("http://x/?t={long}"),
            text: vec![format!("echo: {long}")],
            elements: vec![RawElement {
                tag: "input".into(),
                value: Some(cut),
                title: Some("plain".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert!(walk(&secrets, &mut raw));
        // Cut to its limit, without a secret: cut, and not counted as one.
        let mut other = RawWalk {
            elements: vec![RawElement {
                text: Some("z".repeat(TEXT_MAX + 20) + "…"),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert!(!walk(&secrets, &mut other));
        assert_eq!(
            other.elements[0].text.as_ref().map(|t| t.chars().count()),
            Some(TEXT_MAX)
        );
        let element = &raw.elements[0];
        assert_eq!(
            element.value.as_deref(),
            Some("key <secret>token</secret> …")
        );
        assert_eq!(element.title.as_deref(), Some("plain"));
        assert_eq!(raw.url, "http://x/?t=<secret>token</secret>");
        assert_eq!(raw.text, ["echo: <secret>token</secret>"]);
        let mut clean = RawWalk::default();
        assert!(!walk(&secrets, &mut clean));
    }
}
