//! `sensitiveData`: secrets the agent may type but the model never sees.
//!
//! The model only knows the keys and writes `<secret>key</secret>` where a value belongs; the
//! value is put in at the moment of typing ([`SensitiveData::substitute`]) and nowhere else.
//! Everything that leaves the agent (the state text, tool results, feed messages, logs) goes
//! through [`SensitiveData::redact`], which turns any value that shows up (typed into a
//! visible field, echoed by the page) back into its placeholder: as typed, with its
//! whitespace collapsed (as page text reads it), with spaces between its characters (as
//! page text joins the text nodes of inline elements: `abc<b>def</b>` reads `abc def`), and
//! percent-encoded (as URLs and titles of a submitted form carry it); and what a field made
//! of a typed value (a prefix its `maxlength` kept) is learned and hidden as well
//! ([`SensitiveData::learn`]). Text that perception cuts short is redacted before it is cut
//! ([`SensitiveData::redact_cut`]), so no cut-off part of a value slips through.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

/// The secrets of one task, keyed by the names the model sees.
///
/// Clones share what [`SensitiveData::learn`] adds: the agent, its observer and its actions
/// each hold one, and all must hide what a page made of a value.
#[derive(Clone, Default)]
pub struct SensitiveData {
    /// key → value.
    values: BTreeMap<String, String>,
    /// What to look for in a text, made once from the values.
    forms: Arc<Forms>,
}

/// The shapes a task's values take in text, each with the placeholder it becomes.
#[derive(Default)]
struct Forms {
    /// (form of a value, placeholder), longest first so a value containing another is
    /// redacted whole.
    redactions: Vec<(String, String)>,
    /// (a value's characters without its whitespace, placeholder), longest first: the
    /// value as page text may spell it, with a space wherever an inline element began or
    /// ended.
    spaced: Vec<(Vec<char>, String)>,
    /// (form, placeholder) of what fields made of typed values (see
    /// [`SensitiveData::learn`]), longest first.
    learned: Mutex<Vec<(String, String)>>,
}

/// Secrets are equal when their values are: the rest is derived from them, or learned
/// while a task runs.
impl PartialEq for SensitiveData {
    fn eq(&self, other: &Self) -> bool {
        self.values == other.values
    }
}

impl Eq for SensitiveData {}

/// The shortest part of a value worth learning: redacting every "a" a page shows because a
/// one-character field kept the "a" of a password would wreck the state text for a clue
/// that gives little away.
const LEARN_MIN: usize = 4;

impl fmt::Debug for SensitiveData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys only: a logged task spec must not carry the values.
        f.debug_set().entries(self.values.keys()).finish()
    }
}

/// The placeholder the model writes for `key`.
pub fn placeholder(key: &str) -> String {
    format!("<secret>{key}</secret>")
}

impl SensitiveData {
    /// Secrets from `key → value` pairs; empty values are ignored (nothing to hide).
    pub fn new(values: impl IntoIterator<Item = (String, String)>) -> SensitiveData {
        let values: BTreeMap<String, String> =
            values.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        let mut redactions: Vec<(String, String)> = values
            .iter()
            .flat_map(|(k, v)| forms(v).into_iter().map(|form| (form, placeholder(k))))
            .collect();
        redactions.sort_by_key(|(form, _)| std::cmp::Reverse(form.len()));
        let mut spaced: Vec<(Vec<char>, String)> = values
            .iter()
            .map(|(k, v)| {
                let chars = v.chars().filter(|c| !c.is_whitespace()).collect();
                (chars, placeholder(k))
            })
            .filter(|(chars, _): &(Vec<char>, String)| chars.len() > 1)
            .collect();
        spaced.sort_by_key(|(chars, _)| std::cmp::Reverse(chars.len()));
        let forms = Forms {
            redactions,
            spaced,
            learned: Mutex::default(),
        };
        SensitiveData {
            values,
            forms: Arc::new(forms),
        }
    }

    /// The longest form of a value, in characters: how much text beyond its own limit a
    /// producer must keep so that a value starting within the limit is seen whole.
    pub fn longest(&self) -> usize {
        let forms = self
            .forms
            .redactions
            .iter()
            .map(|(form, _)| form.chars().count());
        // Spelled with a space between every two characters at the most.
        let spaced = self
            .forms
            .spaced
            .iter()
            .map(|(chars, _)| 2 * chars.len() - 1);
        forms.chain(spaced).max().unwrap_or(0)
    }

    /// `text` redacted, then cut to `max` characters with `…`, and whether a value (or part
    /// of one) was found. A `text` that already ends in `…` was cut by its producer (kept
    /// [`SensitiveData::longest`] characters beyond `max`): a value cut there is only a
    /// prefix, which is removed too.
    pub fn redact_cut(&self, text: &str, max: usize) -> (String, bool) {
        let mut out = self.redact(text);
        let mut found = out != text;
        if let Some(body) = out.strip_suffix('…') {
            let mut body = body.to_string();
            for (form, _) in &self.forms.redactions {
                // The longest prefix of this form that the text ends with.
                let ends: Option<usize> = form
                    .char_indices()
                    .map(|(at, _)| at)
                    .filter(|&at| at > 0)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .find(|&at| body.ends_with(&form[..at]));
                if let Some(at) = ends {
                    body.truncate(body.len() - at);
                    found = true;
                }
            }
            body.push('…');
            out = body;
        }
        if out.chars().count() > max {
            let mut cut: String = out.chars().take(max.saturating_sub(1)).collect();
            cut.push('…');
            out = cut;
        }
        (out, found)
    }

    /// Whether there are no secrets.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The keys, which the model may know.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// `text` with every `<secret>key</secret>` replaced by its value; a text that is exactly
    /// a key (the model forgot the tags) is that key's value. Unknown keys stay as written.
    pub fn substitute(&self, text: &str) -> String {
        if let Some(value) = self.values.get(text.trim()) {
            return value.clone();
        }
        let mut out = text.to_string();
        for (key, value) in &self.values {
            out = out.replace(&placeholder(key), value);
        }
        out
    }

    /// `text` with every secret value replaced by its placeholder.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (value, placeholder) in &self.forms.redactions {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), placeholder);
            }
        }
        for (chars, placeholder) in &self.forms.spaced {
            out = replace_spaced(&out, chars, placeholder);
        }
        let learned = self
            .forms
            .learned
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for (form, placeholder) in learned.iter() {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), placeholder);
            }
        }
        out
    }

    /// Hides from now on what a field shows after the model typed `text`, when that is not
    /// the value itself: a `maxlength` keeps a prefix, an input mask reformats it, and a
    /// form submitted later carries that into a URL the state shows. Only a `text` that is
    /// one secret (its placeholder, or its bare key) teaches anything, and only a `shown` of
    /// at least four characters (see `LEARN_MIN`) that the value does not already cover.
    pub fn learn(&self, text: &str, shown: &str) {
        let text = text.trim();
        let Some(key) = self
            .values
            .keys()
            .find(|key| text == key.as_str() || text == placeholder(key))
        else {
            return;
        };
        let shown = shown.trim();
        if shown.chars().count() < LEARN_MIN || self.redact(shown) != shown {
            return;
        }
        let mut learned = self
            .forms
            .learned
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for form in forms(shown) {
            if !learned.iter().any(|(known, _)| *known == form) {
                learned.push((form, placeholder(key)));
            }
        }
        learned.sort_by_key(|(form, _)| std::cmp::Reverse(form.len()));
    }

    /// `value` with [`SensitiveData::redact`] applied to every string in it, keys included:
    /// structured output is built from what the model saw and wrote, which may hold a value.
    pub fn redact_value(&self, value: &Value) -> Value {
        if self.is_empty() {
            return value.clone();
        }
        match value {
            Value::String(s) => Value::String(self.redact(s)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.redact_value(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.redact(k), self.redact_value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// The forms a value shows up in: as typed; with whitespace collapsed (page text, element
/// names); percent-encoded as `encodeURIComponent` writes it, as a submitted form writes it
/// (spaces as `+`), and as URL parsers leave a query or path (only spaces, quotes, `<>#`
/// and the like encoded).
fn forms(value: &str) -> Vec<String> {
    let collapsed = value.split_whitespace().collect::<Vec<_>>().join(" ");
    let component = |c: char| c.is_ascii_alphanumeric() || "-_.!~*'()".contains(c);
    let form = |c: char| c.is_ascii_alphanumeric() || "*-._".contains(c);
    let query = |c: char| c > ' ' && c != '\x7f' && !"\"#<>'".contains(c);
    let path = |c: char| c > ' ' && c != '\x7f' && !"\"#<>?`{}".contains(c);
    let mut forms = vec![
        value.to_string(),
        collapsed,
        percent_encode(value, component, false),
        percent_encode(value, form, true),
        percent_encode(value, query, false),
        percent_encode(value, path, false),
    ];
    forms.retain(|f| !f.is_empty());
    forms.sort();
    forms.dedup();
    forms
}

/// `text` with every run that spells `value` with at most one space between two of its
/// characters replaced by `placeholder`.
fn replace_spaced(text: &str, value: &[char], placeholder: &str) -> String {
    let Some(first) = value.first() else {
        return text.to_string();
    };
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let offset = |at: usize| chars.get(at).map_or(text.len(), |&(offset, _)| offset);
    let mut out = String::new();
    let mut copied = 0;
    let mut at = 0;
    while at < chars.len() {
        let end = (chars[at].1 == *first)
            .then(|| spelled_at(&chars, at, value))
            .flatten();
        match end {
            Some(end) => {
                out.push_str(&text[copied..offset(at)]);
                out.push_str(placeholder);
                copied = offset(end);
                at = end;
            }
            None => at += 1,
        }
    }
    if copied == 0 {
        return text.to_string();
    }
    out.push_str(&text[copied..]);
    out
}

/// Where the run spelling `value` from `start` ends (exclusive), if it does.
fn spelled_at(chars: &[(usize, char)], start: usize, value: &[char]) -> Option<usize> {
    let at_char = |at: usize| chars.get(at).map(|&(_, c)| c);
    let mut at = start;
    for (n, want) in value.iter().enumerate() {
        if n > 0 && at_char(at) == Some(' ') && at_char(at + 1) == Some(*want) {
            at += 1;
        }
        if at_char(at)? != *want {
            return None;
        }
        at += 1;
    }
    Some(at)
}

/// `value` with every character `keep` refuses percent-encoded (as UTF-8, upper-case hex),
/// and spaces as `+` when `plus`.
fn percent_encode(value: &str, keep: impl Fn(char) -> bool, plus: bool) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for c in value.chars() {
        if c.is_ascii() && keep(c) {
            out.push(c);
        } else if c == ' ' && plus {
            out.push('+');
        } else {
            let mut bytes = [0; 4];
            for byte in c.encode_utf8(&mut bytes).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> SensitiveData {
        SensitiveData::new([
            ("password".to_string(), "hunter2".to_string()),
            ("pin".to_string(), "hunter".to_string()),
            ("blank".to_string(), String::new()),
        ])
    }

    #[test]
    fn substitutes_placeholders_and_bare_keys() {
        let s = secrets();
        assert_eq!(s.substitute("<secret>password</secret>"), "hunter2");
        assert_eq!(s.substitute("pw: <secret>pin</secret>!"), "pw: hunter!");
        assert_eq!(s.substitute("password"), "hunter2");
        assert_eq!(
            s.substitute("<secret>other</secret>"),
            "<secret>other</secret>"
        );
    }

    #[test]
    fn redacts_longest_values_first() {
        let s = secrets();
        assert_eq!(
            s.redact("value=hunter2 and hunter"),
            "value=<secret>password</secret> and <secret>pin</secret>"
        );
        assert_eq!(format!("{s:?}"), "{\"password\", \"pin\"}");
        assert!(!s.keys().any(|k| k == "blank"));
    }

    #[test]
    fn redacts_collapsed_and_percent_encoded_forms() {
        let s = SensitiveData::new([("pw".to_string(), "say \"open  sesame\"/ü".to_string())]);
        for shown in [
            "say \"open  sesame\"/ü",
            "say \"open sesame\"/ü",
            "q=say%20%22open%20%20sesame%22%2F%C3%BC",
            "q=say+%22open++sesame%22%2F%C3%BC",
            "http://x/?q=say%20%22open%20%20sesame%22/%C3%BC",
        ] {
            let redacted = s.redact(shown);
            assert!(
                redacted.contains("<secret>pw</secret>"),
                "{shown} -> {redacted}"
            );
            assert!(!redacted.contains("sesame"), "{shown} -> {redacted}");
        }
    }

    #[test]
    fn redacts_a_value_split_by_inline_elements() {
        let s = secrets();
        // "hun<b>ter2</b>" and "<i>h</i>unter<b>2</b>" as page text reads them.
        assert_eq!(
            s.redact("code: hun ter2."),
            "code: <secret>password</secret>."
        );
        assert_eq!(s.redact("h unter 2"), "<secret>password</secret>");
        // The shorter value where the longer one is not spelled; two spaces break a run.
        assert_eq!(s.redact("hun ter 3"), "<secret>pin</secret> 3");
        assert_eq!(s.redact("hun  ter"), "hun  ter");
        let spaced = SensitiveData::new([("pw".to_string(), "open sesame".to_string())]);
        assert_eq!(spaced.redact("[3] open ses ame"), "[3] <secret>pw</secret>");
        assert_eq!(spaced.redact("opensesame"), "<secret>pw</secret>");
        assert_eq!(spaced.redact("ø open"), "ø open");
    }

    #[test]
    fn learns_what_a_field_made_of_a_value() {
        let s = secrets();
        let observer = s.clone();
        // A maxlength of 5 kept "hunte"; a form then sends it.
        s.learn("<secret>password</secret>", "hunte");
        assert_eq!(
            observer.redact("?code=hunte&x=1"),
            "?code=<secret>password</secret>&x=1"
        );
        // Too short to learn; a text that is not one secret; what is already hidden.
        s.learn("password", "hun");
        s.learn("user <secret>pin</secret>", "user hunt");
        s.learn("pin", "hunter");
        assert_eq!(observer.redact("hun user hunt"), "hun user hunt");
        // Learned forms are percent-encoded too, and equality ignores them.
        let spaced = SensitiveData::new([("pw".to_string(), "open sesame".to_string())]);
        spaced.learn("pw", "open se");
        assert_eq!(spaced.redact("q=open%20se"), "q=<secret>pw</secret>");
        assert!(spaced == SensitiveData::new([("pw".to_string(), "open sesame".to_string())]));
    }

    #[test]
    fn cut_text_loses_no_part_of_a_value() {
        let long = "x".repeat(20) + &"k".repeat(130);
        let s = SensitiveData::new([("token".to_string(), long.clone())]);
        // A producer that kept `longest` characters past its limit of 100.
        let shown: String = format!("token: {long}")
            .chars()
            .take(100 + s.longest())
            .collect();
        assert_eq!(
            s.redact_cut(&shown, 100),
            ("token: <secret>token</secret>".to_string(), true)
        );
        // Twice: the second is cut by the producer, and only its prefix is left.
        let twice = format!("{long} {long}");
        let cut: String = twice
            .chars()
            .take(twice.chars().count() - 1)
            .collect::<String>()
            + "…";
        let (out, found) = s.redact_cut(&cut, 100);
        assert!(found);
        assert_eq!(out, "<secret>token</secret> …");
        assert!(!out.contains("xxxx"), "{out}");
        // Without secrets, a plain cut.
        let none = SensitiveData::default();
        assert_eq!(none.redact_cut("abcdef", 4), ("abc…".to_string(), false));
    }

    #[test]
    fn json_values_are_redacted_everywhere() {
        let s = secrets();
        let data = serde_json::json!({"a": ["x hunter2 y", {"hunter2": 1}], "n": 5});
        assert_eq!(
            s.redact_value(&data),
            serde_json::json!({"a": ["x <secret>password</secret> y", {"<secret>password</secret>": 1}], "n": 5})
        );
    }
}
