//! Key combinations as the model writes them ("Enter", "Control+a", "Shift+Tab") turned into
//! the key events a real keyboard sends, through the browser crate's US key table.

use browser::input::{KeyInput, key_event};
use cdp::protocol::input::{DispatchKeyEvent, modifiers};

use super::error::ActionError;

/// One key with the modifiers held while pressing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chord {
    /// Sum of `modifiers` bits.
    pub modifiers: i32,
    /// DOM `key` without modifiers, e.g. "a", "Enter".
    pub key: String,
    /// DOM `code`, e.g. "KeyA", "Enter".
    pub code: String,
}

/// Parses space-separated chords; a lone character is its own key.
pub(crate) fn parse(keys: &str) -> Result<Vec<Chord>, ActionError> {
    let chords: Vec<Chord> = keys
        .split_whitespace()
        .map(parse_chord)
        .collect::<Result<_, _>>()?;
    if chords.is_empty() {
        return Err(ActionError::Arguments("keys is empty".into()));
    }
    Ok(chords)
}

fn parse_chord(text: &str) -> Result<Chord, ActionError> {
    // "Control++" presses Control and "+".
    let (mods_part, key) = match text.strip_suffix("++") {
        Some(rest) => (rest, "+"),
        None => match text.rsplit_once('+') {
            Some((mods, key)) if !key.is_empty() => (mods, key),
            _ => ("", text),
        },
    };
    let mut held = 0;
    for name in mods_part.split('+').filter(|m| !m.is_empty()) {
        held |= match name.to_ascii_lowercase().as_str() {
            "control" | "ctrl" => modifiers::CTRL,
            "shift" => modifiers::SHIFT,
            "alt" | "option" => modifiers::ALT,
            "meta" | "cmd" | "command" | "super" => modifiers::META,
            _ => {
                return Err(ActionError::Arguments(format!(
                    "unknown modifier {name:?} in {text:?} (use Control, Shift, Alt, Meta)"
                )));
            }
        };
    }
    let (key, code) = key_and_code(key)
        .ok_or_else(|| ActionError::Arguments(format!("unknown key {key:?} in {text:?}")))?;
    Ok(Chord {
        modifiers: held,
        key,
        code,
    })
}

/// DOM key and code of a key name the model may use.
fn key_and_code(name: &str) -> Option<(String, String)> {
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.clone().next()) {
        let code = match c {
            'a'..='z' | 'A'..='Z' => format!("Key{}", c.to_ascii_uppercase()),
            '0'..='9' => format!("Digit{c}"),
            ' ' => "Space".into(),
            '-' => "Minus".into(),
            '=' => "Equal".into(),
            ',' => "Comma".into(),
            '.' => "Period".into(),
            '/' => "Slash".into(),
            ';' => "Semicolon".into(),
            '\'' => "Quote".into(),
            '[' => "BracketLeft".into(),
            ']' => "BracketRight".into(),
            '\\' => "Backslash".into(),
            '`' => "Backquote".into(),
            _ => String::new(),
        };
        return Some((c.to_string(), code));
    }
    let canonical = match name.to_ascii_lowercase().as_str() {
        "enter" | "return" => "Enter",
        "tab" => "Tab",
        "escape" | "esc" => "Escape",
        "backspace" => "Backspace",
        "delete" | "del" => "Delete",
        "space" | "spacebar" => return Some((" ".into(), "Space".into())),
        "arrowup" | "up" => "ArrowUp",
        "arrowdown" | "down" => "ArrowDown",
        "arrowleft" | "left" => "ArrowLeft",
        "arrowright" | "right" => "ArrowRight",
        "home" => "Home",
        "end" => "End",
        "pageup" => "PageUp",
        "pagedown" => "PageDown",
        "insert" => "Insert",
        other => {
            let n: u8 = other.strip_prefix('f')?.parse().ok()?;
            return (1..=12)
                .contains(&n)
                .then(|| (format!("F{n}"), format!("F{n}")));
        }
    };
    Some((canonical.to_string(), canonical.to_string()))
}

/// Editing commands Chromium only performs when the event names them (headless has no
/// platform key bindings), so Control+a really selects all.
fn editing_command(chord: &Chord) -> Option<&'static str> {
    if chord.modifiers & (modifiers::CTRL | modifiers::META) == 0 {
        return None;
    }
    match chord.key.to_ascii_lowercase().as_str() {
        "a" => Some("selectAll"),
        "c" => Some("copy"),
        "x" => Some("cut"),
        "v" => Some("paste"),
        "z" => Some("undo"),
        _ => None,
    }
}

const MODIFIER_KEYS: [(i32, &str, &str); 4] = [
    (modifiers::CTRL, "Control", "ControlLeft"),
    (modifiers::SHIFT, "Shift", "ShiftLeft"),
    (modifiers::ALT, "Alt", "AltLeft"),
    (modifiers::META, "Meta", "MetaLeft"),
];

/// The key events of one chord: modifiers down, the key down and up, modifiers up.
pub(crate) fn events(chord: &Chord) -> Result<Vec<DispatchKeyEvent>, ActionError> {
    let event = |down: bool, key: &str, code: &str, mods: i32| {
        key_event(&KeyInput {
            down,
            key: key.to_string(),
            code: code.to_string(),
            modifiers: mods,
            repeat: false,
        })
        .map_err(|e| ActionError::Arguments(e.to_string()))
    };
    let mut out = Vec::new();
    let mut held = 0;
    for (bit, key, code) in MODIFIER_KEYS {
        if chord.modifiers & bit != 0 {
            held |= bit;
            out.push(event(true, key, code, held)?);
        }
    }
    let shifted = chord.modifiers & modifiers::SHIFT != 0 && chord.key.chars().count() == 1;
    let key = if shifted {
        chord.key.to_uppercase()
    } else {
        chord.key.clone()
    };
    let mut down = event(true, &key, &chord.code, held)?;
    if let Some(command) = editing_command(chord) {
        down.commands = Some(vec![command.to_string()]);
    }
    out.push(down);
    out.push(event(false, &key, &chord.code, held)?);
    for (bit, key, code) in MODIFIER_KEYS.iter().rev() {
        if chord.modifiers & bit != 0 {
            held &= !bit;
            out.push(event(false, key, code, held)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_chords() {
        let chords = parse("Control+a Enter Shift+Tab").unwrap();
        assert_eq!(chords[0].modifiers, modifiers::CTRL);
        assert_eq!(chords[0].code, "KeyA");
        assert_eq!(chords[1].key, "Enter");
        assert_eq!(chords[2].modifiers, modifiers::SHIFT);
        assert_eq!(parse("Control++").unwrap()[0].key, "+");
        assert!(parse("Hyper+x").is_err());
        assert!(parse("Banana").is_err());
        assert!(parse(" ").is_err());
    }

    #[test]
    fn select_all_names_its_command() {
        let events = events(&parse("Control+a").unwrap()[0]).unwrap();
        assert_eq!(events.len(), 4);
        assert_eq!(
            events[1].commands.as_deref(),
            Some(&["selectAll".to_string()][..])
        );
        assert_eq!(events[1].modifiers, Some(modifiers::CTRL));
        assert_eq!(events[3].modifiers, Some(0));
    }
}
