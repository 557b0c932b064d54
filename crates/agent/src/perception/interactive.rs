//! Which candidates are interactive, with what role, name and key attributes.
//!
//! The in-page walk is deliberately liberal (any native control, ARIA widget role, `onclick`,
//! `tabindex`, `contenteditable`, scroll container, or the outermost element of a
//! `cursor: pointer` area); these rules make the final call, so they can be unit-tested
//! without a browser.

use super::raw::RawElement;
use super::state::Attribute;

/// ARIA roles that make an element something to act on.
const WIDGET_ROLES: &[&str] = &[
    "button",
    "link",
    "menuitem",
    "menuitemcheckbox",
    "menuitemradio",
    "option",
    "radio",
    "checkbox",
    "switch",
    "tab",
    "textbox",
    "searchbox",
    "combobox",
    "slider",
    "spinbutton",
    "listbox",
    "treeitem",
    "gridcell",
];

/// Input types whose `type` tells the agent something the role does not.
const TELLING_TYPES: &[&str] = &[
    "email",
    "password",
    "number",
    "tel",
    "url",
    "date",
    "time",
    "datetime-local",
    "month",
    "week",
    "color",
    "file",
];

/// The role, name and attributes of an interactive element.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Described {
    pub role: String,
    pub name: String,
    pub attributes: Vec<Attribute>,
}

/// Decides whether a candidate is interactive; `None` for one that is not (its text then
/// belongs to the page text).
pub(crate) fn describe(raw: &RawElement, page_url: &str) -> Option<Described> {
    let role = role(raw)?;
    let name = name(raw, &role);
    let attributes = attributes(raw, &role, &name, page_url);
    Some(Described {
        role,
        name,
        attributes,
    })
}

/// The role of a candidate, or `None` when nothing makes it interactive.
pub(crate) fn role(raw: &RawElement) -> Option<String> {
    if let Some(role) = raw
        .role
        .as_deref()
        .and_then(|r| r.split_whitespace().next())
        .filter(|r| WIDGET_ROLES.contains(r))
    {
        return Some(role.to_string());
    }
    let clickable = raw.pointer.is_some() || raw.onclick.is_some() || raw.listener.is_some();
    let focusable = raw.tabindex.is_some_and(|t| t >= 0);
    let native = match raw.tag.as_str() {
        "a" if raw.href.is_some() => Some("link"),
        "button" => Some("button"),
        "input" => Some(input_role(raw.input_type.as_deref())),
        "textarea" => Some("textbox"),
        "select" if raw.multiple.is_some() => Some("listbox"),
        "select" => Some("combobox"),
        "summary" => Some("button"),
        "option" => Some("option"),
        "video" | "audio" if raw.media_controls.is_some() => Some(raw.tag.as_str()),
        "label" => match raw.label_control.as_deref() {
            // A label stands in for a control the page hid (custom checkboxes).
            Some(c) if c.ends_with(":checkbox") => Some("checkbox"),
            Some(c) if c.ends_with(":radio") => Some("radio"),
            Some(_) => Some("label"),
            None => None,
        },
        _ => None,
    };
    if let Some(role) = native {
        return Some(role.to_string());
    }
    if raw.editable.is_some() {
        return Some("textbox".to_string());
    }
    if clickable || focusable {
        return Some(raw.tag.clone());
    }
    if raw.scroll.is_some() {
        return Some("scrollable".to_string());
    }
    None
}

fn input_role(input_type: Option<&str>) -> &'static str {
    match input_type.unwrap_or("text") {
        "checkbox" => "checkbox",
        "radio" => "radio",
        "range" => "slider",
        "number" => "spinbutton",
        "search" => "searchbox",
        "submit" | "button" | "reset" | "image" => "button",
        "file" => "file",
        _ => "textbox",
    }
}

/// The accessible name, approximated the cheap way: ARIA label, `<label>`, content, alt,
/// title; a button input is named by its value.
fn name(raw: &RawElement, role: &str) -> String {
    let is_field = matches!(raw.tag.as_str(), "input" | "select" | "textarea");
    let button_input = raw.tag == "input" && role == "button";
    let candidates = [
        raw.aria_label.as_deref(),
        raw.label.as_deref(),
        if button_input {
            raw.value.as_deref()
        } else {
            None
        },
        if is_field || raw.editable.is_some() || role == "scrollable" {
            None
        } else {
            raw.text.as_deref()
        },
        raw.alt.as_deref(),
        raw.title.as_deref(),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or("")
        .to_string()
}

fn attributes(raw: &RawElement, role: &str, name: &str, page_url: &str) -> Vec<Attribute> {
    let mut out = Vec::new();
    let mut push = |name: &str, value: String| {
        out.push(Attribute {
            name: name.to_string(),
            value,
        })
    };
    if raw.tag == "input"
        && let Some(t) = raw
            .input_type
            .as_deref()
            .filter(|t| TELLING_TYPES.contains(t))
        && t != role
    {
        push("type", t.to_string());
    }
    // A button's value is its name; a checkbox's or radio's is form data, not state.
    let shows_value = !(raw.tag == "input" && matches!(role, "button" | "checkbox" | "radio"));
    if shows_value && let Some(value) = raw.value.as_deref().filter(|v| !v.is_empty()) {
        push("value", value.to_string());
    }
    if raw.tag == "div" || raw.tag == "span" || raw.tag == "p" {
        // Content-editable regions: their text is their value.
        if raw.editable.is_some()
            && let Some(text) = raw.text.as_deref().filter(|t| !t.is_empty())
        {
            push("value", text.to_string());
        }
    }
    if let Some(p) = raw
        .placeholder
        .as_deref()
        .filter(|p| !p.is_empty() && *p != name)
    {
        push("placeholder", p.to_string());
    }
    match raw
        .checked
        .as_ref()
        .map(|c| c.to_string())
        .or_else(|| raw.aria.get("checked").cloned())
        .as_deref()
    {
        Some("true") => push("checked", String::new()),
        Some("false") => push("unchecked", String::new()),
        Some("\"mixed\"") | Some("mixed") => push("checked", "mixed".to_string()),
        _ => {}
    }
    for state in ["expanded", "selected", "pressed"] {
        if let Some(v) = raw.aria.get(state) {
            push(state, v.clone());
        }
    }
    if let Some(popup) = raw.aria.get("haspopup").filter(|v| *v != "false") {
        push("haspopup", popup.clone());
    }
    if let Some(now) = raw.aria.get("valuenow") {
        push("valuenow", now.clone());
    }
    if let Some(options) = &raw.options
        && !options.is_empty()
    {
        let mut list = options.join("|");
        let more = raw
            .option_count
            .unwrap_or(options.len())
            .saturating_sub(options.len());
        if more > 0 {
            list.push_str(&format!("|…{more} more"));
        }
        push("options", list);
    }
    if let Some(href) = raw.href.as_deref() {
        push("href", short_href(href, page_url));
    }
    if let Some(scroll) = &raw.scroll {
        let above = scroll.first().copied().unwrap_or(0.0);
        let below = scroll.get(1).copied().unwrap_or(0.0);
        push("scroll", format!("{above:.0}px above, {below:.0}px below"));
    }
    if raw.disabled.is_some() {
        push("disabled", String::new());
    }
    if raw.required.is_some() {
        push("required", String::new());
    }
    out
}

/// A link target as short as it can be while still telling where it goes: same-origin links
/// lose their origin, long ones are cut.
pub(crate) fn short_href(href: &str, page_url: &str) -> String {
    const MAX: usize = 60;
    let mut short = href.trim();
    if let Some(origin) = origin(page_url)
        && let Some(rest) = short.strip_prefix(origin)
        && (rest.is_empty() || rest.starts_with('/'))
    {
        short = if rest.is_empty() { "/" } else { rest };
    }
    for scheme in ["https://", "http://"] {
        if let Some(rest) = short.strip_prefix(scheme) {
            short = rest;
            break;
        }
    }
    if short.chars().count() > MAX {
        let cut: String = short.chars().take(MAX - 1).collect();
        format!("{cut}…")
    } else {
        short.to_string()
    }
}

/// `scheme://host[:port]` of a URL, borrowed from it.
fn origin(url: &str) -> Option<&str> {
    let after_scheme = url.find("://")? + 3;
    let end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after_scheme + i);
    Some(&url[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(tag: &str) -> RawElement {
        RawElement {
            tag: tag.to_string(),
            ..Default::default()
        }
    }

    #[test]
    fn native_controls_get_their_implicit_roles() {
        let mut link = el("a");
        link.href = Some("/x".into());
        assert_eq!(role(&link).as_deref(), Some("link"));
        assert_eq!(role(&el("button")).as_deref(), Some("button"));
        assert_eq!(role(&el("input")).as_deref(), Some("textbox"));
        for (t, r) in [
            ("checkbox", "checkbox"),
            ("radio", "radio"),
            ("submit", "button"),
            ("search", "searchbox"),
            ("range", "slider"),
            ("email", "textbox"),
        ] {
            let mut input = el("input");
            input.input_type = Some(t.into());
            assert_eq!(role(&input).as_deref(), Some(r), "type={t}");
        }
        assert_eq!(role(&el("select")).as_deref(), Some("combobox"));
        assert_eq!(role(&el("textarea")).as_deref(), Some("textbox"));
    }

    #[test]
    fn things_that_only_look_like_controls_are_not_interactive() {
        assert_eq!(
            role(&el("a")),
            None,
            "an anchor without href is a target, not a link"
        );
        assert_eq!(
            role(&el("label")),
            None,
            "a label without a control does nothing"
        );
        assert_eq!(role(&el("video")), None, "media without controls");
        assert_eq!(role(&el("div")), None);
        let mut negative = el("div");
        negative.tabindex = Some(-1);
        assert_eq!(
            role(&negative),
            None,
            "tabindex=-1 is not reachable by the user"
        );
        let mut unknown = el("div");
        unknown.role = Some("presentation".into());
        assert_eq!(role(&unknown), None);
    }

    #[test]
    fn aria_roles_pointer_areas_editables_and_scrollers() {
        let mut option = el("div");
        option.role = Some("option".into());
        assert_eq!(role(&option).as_deref(), Some("option"));
        let mut pointer = el("div");
        pointer.pointer = Some(1);
        assert_eq!(role(&pointer).as_deref(), Some("div"));
        let mut editable = el("div");
        editable.editable = Some(1);
        assert_eq!(role(&editable).as_deref(), Some("textbox"));
        let mut scroller = el("div");
        scroller.scroll = Some(vec![0.0, 300.0, 100.0, 0.0, 0.0]);
        assert_eq!(role(&scroller).as_deref(), Some("scrollable"));
        let mut custom_checkbox = el("label");
        custom_checkbox.label_control = Some("input:checkbox".into());
        assert_eq!(role(&custom_checkbox).as_deref(), Some("checkbox"));
    }

    #[test]
    fn names_prefer_aria_then_label_then_content() {
        let mut input = el("input");
        input.label = Some("Email".into());
        input.placeholder = Some("you@example.com".into());
        input.value = Some("a@b.c".into());
        let d = describe(&input, "http://h/").unwrap();
        assert_eq!(d.name, "Email");
        assert_eq!(
            d.attributes,
            vec![
                Attribute {
                    name: "value".into(),
                    value: "a@b.c".into()
                },
                Attribute {
                    name: "placeholder".into(),
                    value: "you@example.com".into()
                },
            ]
        );
        input.aria_label = Some("Work email".into());
        assert_eq!(describe(&input, "http://h/").unwrap().name, "Work email");

        let mut submit = el("input");
        submit.input_type = Some("submit".into());
        submit.value = Some("Search".into());
        let d = describe(&submit, "http://h/").unwrap();
        assert_eq!((d.role.as_str(), d.name.as_str()), ("button", "Search"));
        assert!(d.attributes.is_empty(), "a button's value is its name");

        let mut icon = el("a");
        icon.href = Some("/cart".into());
        icon.title = Some("Cart".into());
        assert_eq!(describe(&icon, "http://h/").unwrap().name, "Cart");
    }

    #[test]
    fn placeholder_equal_to_the_name_is_not_repeated() {
        let mut input = el("input");
        input.aria_label = Some("Search".into());
        input.placeholder = Some("Search".into());
        assert!(describe(&input, "http://h/").unwrap().attributes.is_empty());
    }

    #[test]
    fn states_are_shown() {
        let mut checkbox = el("input");
        checkbox.input_type = Some("checkbox".into());
        checkbox.checked = Some(serde_json::json!(false));
        let d = describe(&checkbox, "http://h/").unwrap();
        assert_eq!(d.attributes[0].name, "unchecked");
        checkbox.checked = Some(serde_json::json!(true));
        assert_eq!(
            describe(&checkbox, "http://h/").unwrap().attributes[0].name,
            "checked"
        );

        let mut combo = el("div");
        combo.role = Some("combobox".into());
        combo.aria.insert("expanded".into(), "false".into());
        combo.aria.insert("haspopup".into(), "listbox".into());
        let d = describe(&combo, "http://h/").unwrap();
        let names: Vec<_> = d.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["expanded", "haspopup"]);

        let mut select = el("select");
        select.value = Some("Medium".into());
        select.options = Some(vec!["Small".into(), "Medium".into()]);
        select.option_count = Some(5);
        let d = describe(&select, "http://h/").unwrap();
        assert_eq!(d.attributes[1].value, "Small|Medium|…3 more");
    }

    #[test]
    fn hrefs_are_shortened() {
        let page = "http://127.0.0.1:8080/shop/index.html?q=1";
        assert_eq!(short_href("http://127.0.0.1:8080/cart", page), "/cart");
        assert_eq!(short_href("http://127.0.0.1:8080", page), "/");
        assert_eq!(short_href("https://example.com/a", page), "example.com/a");
        assert_eq!(short_href("#top", page), "#top");
        let long = format!("/search?q={}", "x".repeat(100));
        let short = short_href(&long, page);
        assert_eq!(short.chars().count(), 60);
        assert!(short.ends_with('…'));
        // Another origin that shares a prefix is not this one.
        assert_eq!(
            short_href("http://127.0.0.1:80801/x", page),
            "127.0.0.1:80801/x"
        );
    }
}
