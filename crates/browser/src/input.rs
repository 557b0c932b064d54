//! A human's mouse and keyboard, replayed as trusted CDP input.
//!
//! The live view forwards what its viewer does; this module turns that into
//! `Input.dispatchMouseEvent` / `Input.dispatchKeyEvent` exactly as a real keyboard and mouse
//! would produce them. Two rules from the live views that got it wrong: the virtual key code
//! comes from a table keyed by the physical key (`code`), never from the character (so
//! Backspace, arrows and shortcuts work whatever the layout), and every event carries the
//! modifiers held at that moment (so Ctrl+A is a select-all, not an "a").

use cdp::protocol::input::{
    DispatchKeyEvent, DispatchMouseEvent, KeyEventType, MouseButton, MouseEventType, modifiers,
};

/// One entry of the US keyboard table: the Windows virtual key code of a physical key, and
/// the DOM `key` it produces without modifiers (for viewers that send no `key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyDefinition {
    /// `KeyboardEvent.keyCode` / `windowsVirtualKeyCode`.
    pub key_code: i64,
    /// `KeyboardEvent.key` on a US layout without Shift.
    pub key: &'static str,
    /// `KeyboardEvent.key` on a US layout with Shift, where it differs.
    pub shifted: Option<&'static str>,
}

const fn def(key_code: i64, key: &'static str) -> KeyDefinition {
    KeyDefinition {
        key_code,
        key,
        shifted: None,
    }
}

const fn def2(key_code: i64, key: &'static str, shifted: &'static str) -> KeyDefinition {
    KeyDefinition {
        key_code,
        key,
        shifted: Some(shifted),
    }
}

/// The US layout, keyed by `KeyboardEvent.code` (the physical key).
///
/// Letters and digits are computed in [`key_definition`]; this table has everything else.
const KEYS: &[(&str, KeyDefinition)] = &[
    ("Backspace", def(8, "Backspace")),
    ("Tab", def(9, "Tab")),
    ("Enter", def(13, "Enter")),
    ("NumpadEnter", def(13, "Enter")),
    ("ShiftLeft", def(16, "Shift")),
    ("ShiftRight", def(16, "Shift")),
    ("ControlLeft", def(17, "Control")),
    ("ControlRight", def(17, "Control")),
    ("AltLeft", def(18, "Alt")),
    ("AltRight", def(18, "Alt")),
    ("Pause", def(19, "Pause")),
    ("CapsLock", def(20, "CapsLock")),
    ("Escape", def(27, "Escape")),
    ("Space", def(32, " ")),
    ("PageUp", def(33, "PageUp")),
    ("PageDown", def(34, "PageDown")),
    ("End", def(35, "End")),
    ("Home", def(36, "Home")),
    ("ArrowLeft", def(37, "ArrowLeft")),
    ("ArrowUp", def(38, "ArrowUp")),
    ("ArrowRight", def(39, "ArrowRight")),
    ("ArrowDown", def(40, "ArrowDown")),
    ("PrintScreen", def(44, "PrintScreen")),
    ("Insert", def(45, "Insert")),
    ("Delete", def(46, "Delete")),
    ("MetaLeft", def(91, "Meta")),
    ("MetaRight", def(92, "Meta")),
    ("ContextMenu", def(93, "ContextMenu")),
    ("Numpad0", def(96, "0")),
    ("Numpad1", def(97, "1")),
    ("Numpad2", def(98, "2")),
    ("Numpad3", def(99, "3")),
    ("Numpad4", def(100, "4")),
    ("Numpad5", def(101, "5")),
    ("Numpad6", def(102, "6")),
    ("Numpad7", def(103, "7")),
    ("Numpad8", def(104, "8")),
    ("Numpad9", def(105, "9")),
    ("NumpadMultiply", def(106, "*")),
    ("NumpadAdd", def(107, "+")),
    ("NumpadSubtract", def(109, "-")),
    ("NumpadDecimal", def(110, ".")),
    ("NumpadDivide", def(111, "/")),
    ("F1", def(112, "F1")),
    ("F2", def(113, "F2")),
    ("F3", def(114, "F3")),
    ("F4", def(115, "F4")),
    ("F5", def(116, "F5")),
    ("F6", def(117, "F6")),
    ("F7", def(118, "F7")),
    ("F8", def(119, "F8")),
    ("F9", def(120, "F9")),
    ("F10", def(121, "F10")),
    ("F11", def(122, "F11")),
    ("F12", def(123, "F12")),
    ("NumLock", def(144, "NumLock")),
    ("ScrollLock", def(145, "ScrollLock")),
    ("Semicolon", def2(186, ";", ":")),
    ("Equal", def2(187, "=", "+")),
    ("Comma", def2(188, ",", "<")),
    ("Minus", def2(189, "-", "_")),
    ("Period", def2(190, ".", ">")),
    ("Slash", def2(191, "/", "?")),
    ("Backquote", def2(192, "`", "~")),
    ("BracketLeft", def2(219, "[", "{")),
    ("Backslash", def2(220, "\\", "|")),
    ("BracketRight", def2(221, "]", "}")),
    ("Quote", def2(222, "'", "\"")),
    ("IntlBackslash", def2(226, "\\", "|")),
];

const DIGIT_KEYS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
const DIGIT_SHIFTED: [&str; 10] = [")", "!", "@", "#", "$", "%", "^", "&", "*", "("];
const LETTERS: [&str; 26] = [
    "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s",
    "t", "u", "v", "w", "x", "y", "z",
];
const LETTERS_UPPER: [&str; 26] = [
    "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q", "R", "S",
    "T", "U", "V", "W", "X", "Y", "Z",
];

/// The US-layout definition of a physical key, by its `KeyboardEvent.code`.
pub fn key_definition(code: &str) -> Option<KeyDefinition> {
    if let Some(letter) = code.strip_prefix("Key")
        && let [c @ b'A'..=b'Z'] = letter.as_bytes()
    {
        let i = usize::from(c - b'A');
        return Some(def2(i64::from(*c), LETTERS[i], LETTERS_UPPER[i]));
    }
    if let Some(digit) = code.strip_prefix("Digit")
        && let [c @ b'0'..=b'9'] = digit.as_bytes()
    {
        let i = usize::from(c - b'0');
        return Some(def2(i64::from(*c), DIGIT_KEYS[i], DIGIT_SHIFTED[i]));
    }
    KEYS.iter().find(|(c, _)| *c == code).map(|(_, d)| *d)
}

/// Longest `key` or `code` accepted: real ones are at most ~20 characters.
pub const MAX_KEY_LEN: usize = 32;

/// A key going down or up, as the viewer saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInput {
    /// Down (true) or up.
    pub down: bool,
    /// DOM `key` as the viewer's layout produced it ("a", "A", "Enter", "é").
    pub key: String,
    /// DOM `code`, the physical key ("KeyA", "Enter").
    pub code: String,
    /// Held modifiers, a sum of `cdp::protocol::input::modifiers` bits.
    pub modifiers: i32,
    /// The key is held and repeating.
    pub repeat: bool,
}

/// Why an input event was not replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// Neither `key` nor `code` names a key we can produce.
    #[error("unknown key {key:?} (code {code:?})")]
    UnknownKey {
        /// The key given.
        key: String,
        /// The code given.
        code: String,
    },
    /// A field is out of range (too long, not finite, ...).
    #[error("invalid input: {0}")]
    Invalid(&'static str),
}

const ALL_MODIFIERS: i32 = modifiers::ALT | modifiers::CTRL | modifiers::META | modifiers::SHIFT;

/// Whether a key pressed with Ctrl+Alt typed a character of the viewer's layout rather than
/// being a shortcut: on Windows, AltGr reports Ctrl+Alt, so AltGr+Q on a German layout arrives
/// as Ctrl+Alt with `key` "@". A real Ctrl+Alt shortcut reports the key's own letter, which
/// the US table knows for that `code`; a different single character can only come from the
/// layout.
fn is_alt_graph_character(key: &str, definition: Option<KeyDefinition>, mods: i32) -> bool {
    let alt_graph = modifiers::CTRL | modifiers::ALT;
    if mods & alt_graph != alt_graph || mods & modifiers::META != 0 {
        return false;
    }
    let mut chars = key.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else {
        return false;
    };
    if c.is_control() {
        return false;
    }
    match definition {
        Some(d) => !(d.key.eq_ignore_ascii_case(key) || d.shifted.is_some_and(|s| s == key)),
        None => true,
    }
}

/// The `Input.dispatchKeyEvent` that replays `input`.
///
/// A key that produces a character (no Ctrl/Alt/Meta held, or AltGr as Windows reports it) is
/// a `keyDown` with `text`, so the page gets `keydown`, `keypress` and `input`; other keys are
/// `rawKeyDown`. The virtual key code always comes from the table, keyed by `code`.
pub fn key_event(input: &KeyInput) -> Result<DispatchKeyEvent, InputError> {
    if input.key.len() > MAX_KEY_LEN || input.code.len() > MAX_KEY_LEN {
        return Err(InputError::Invalid("key or code too long"));
    }
    let mut mods = input.modifiers & ALL_MODIFIERS;
    let definition = key_definition(&input.code);
    // The page must see "@" typed, not Ctrl+Alt+"@" (which pages treat as a shortcut).
    if is_alt_graph_character(&input.key, definition, mods) {
        mods &= !(modifiers::CTRL | modifiers::ALT);
    }
    let shift = mods & modifiers::SHIFT != 0;
    let key = if input.key.is_empty() {
        match definition {
            Some(d) if shift => d.shifted.unwrap_or(d.key).to_string(),
            Some(d) => d.key.to_string(),
            None => {
                return Err(InputError::UnknownKey {
                    key: input.key.clone(),
                    code: input.code.clone(),
                });
            }
        }
    } else {
        input.key.clone()
    };
    // A key the table does not know (a non-US physical key) still gets a key code when it is a
    // plain ASCII letter or digit, as browsers do.
    let key_code = definition.map(|d| d.key_code).or_else(|| {
        let mut chars = key.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_alphanumeric() => Some(i64::from(
                u8::try_from(c.to_ascii_uppercase()).unwrap_or(b'0'),
            )),
            _ => None,
        }
    });
    let chord = mods & (modifiers::CTRL | modifiers::ALT | modifiers::META) != 0;
    let text = if !input.down || chord {
        None
    } else if key == "Enter" {
        Some("\r".to_string())
    } else if key.chars().count() == 1 {
        Some(key.clone())
    } else {
        None
    };
    let r#type = match (input.down, &text) {
        (false, _) => KeyEventType::KeyUp,
        (true, Some(_)) => KeyEventType::KeyDown,
        (true, None) => KeyEventType::RawKeyDown,
    };
    let location = if input.code.ends_with("Left")
        && key_code.is_some_and(|c| (16..=18).contains(&c) || c == 91)
    {
        Some(1)
    } else if input.code.ends_with("Right")
        && key_code.is_some_and(|c| (16..=18).contains(&c) || c == 92)
    {
        Some(2)
    } else if input.code.starts_with("Numpad") {
        Some(3)
    } else {
        None
    };
    Ok(DispatchKeyEvent {
        r#type,
        modifiers: Some(mods),
        unmodified_text: text.clone(),
        text,
        key: Some(key),
        code: Some(input.code.clone()),
        windows_virtual_key_code: key_code,
        native_virtual_key_code: key_code,
        auto_repeat: input.repeat.then_some(true),
        is_keypad: (location == Some(3)).then_some(true),
        location,
        ..Default::default()
    })
}

/// What a mouse event does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointerAction {
    /// A button goes down.
    Press,
    /// A button goes up.
    Release,
    /// The pointer moves (with `buttons` held, a drag).
    Move,
    /// The wheel turns.
    Wheel,
    /// The pointer left the picture: hover menus and tooltips under it must close.
    Leave,
}

/// A mouse event in CSS pixels of the tab's viewport.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointerInput {
    /// What happens.
    pub action: PointerAction,
    /// X in CSS pixels.
    pub x: f64,
    /// Y in CSS pixels.
    pub y: f64,
    /// The button pressed or released: 0 left, 1 middle, 2 right, 3 back, 4 forward
    /// (`MouseEvent.button`).
    pub button: i32,
    /// Buttons held, a bitmask as in `MouseEvent.buttons`; drags need it.
    pub buttons: i32,
    /// 1 for a click, 2 for the second click of a double click (`MouseEvent.detail`).
    pub click_count: i64,
    /// Held modifiers.
    pub modifiers: i32,
    /// Wheel deltas in CSS pixels.
    pub delta_x: f64,
    /// Wheel deltas in CSS pixels.
    pub delta_y: f64,
}

/// Largest wheel step accepted, in CSS pixels: a few screens.
const MAX_WHEEL_DELTA: f64 = 10_000.0;

/// The `Input.dispatchMouseEvent` that replays `input`.
pub fn mouse_event(input: &PointerInput) -> Result<DispatchMouseEvent, InputError> {
    if !(input.x.is_finite() && input.y.is_finite()) {
        return Err(InputError::Invalid("coordinates must be finite"));
    }
    if !(input.delta_x.is_finite() && input.delta_y.is_finite()) {
        return Err(InputError::Invalid("wheel deltas must be finite"));
    }
    let button = match input.button {
        0 => MouseButton::Left,
        1 => MouseButton::Middle,
        2 => MouseButton::Right,
        3 => MouseButton::Back,
        4 => MouseButton::Forward,
        _ => return Err(InputError::Invalid("unknown mouse button")),
    };
    let r#type = match input.action {
        PointerAction::Press => MouseEventType::MousePressed,
        PointerAction::Release => MouseEventType::MouseReleased,
        PointerAction::Move | PointerAction::Leave => MouseEventType::MouseMoved,
        PointerAction::Wheel => MouseEventType::MouseWheel,
    };
    let clicks = matches!(input.action, PointerAction::Press | PointerAction::Release);
    let wheel = input.action == PointerAction::Wheel;
    // CDP has no "mouse left" event; a move to a point outside the viewport makes Chromium
    // clear its hover state and fire mouseout/mouseleave, as a real pointer leaving would.
    let (x, y) = if input.action == PointerAction::Leave {
        (-1.0, -1.0)
    } else {
        (input.x, input.y)
    };
    Ok(DispatchMouseEvent {
        r#type,
        x,
        y,
        modifiers: Some(input.modifiers & ALL_MODIFIERS),
        button: Some(if clicks { button } else { MouseButton::None }),
        buttons: Some(input.buttons & 0x1f),
        click_count: Some(if clicks {
            input.click_count.clamp(1, 3)
        } else {
            0
        }),
        delta_x: wheel.then(|| input.delta_x.clamp(-MAX_WHEEL_DELTA, MAX_WHEEL_DELTA)),
        delta_y: wheel.then(|| input.delta_y.clamp(-MAX_WHEEL_DELTA, MAX_WHEEL_DELTA)),
        ..Default::default()
    })
}

/// Where a frame's pixels sit in the tab's viewport, from the screencast metadata: what a
/// viewer's point on the image maps back to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameGeometry {
    /// Viewport width in CSS pixels (the image may have more pixels on HiDPI, or fewer when
    /// scaled down).
    pub css_width: f64,
    /// Viewport height in CSS pixels.
    pub css_height: f64,
    /// Top offset of the content in the frame, in CSS pixels (mobile top controls).
    pub offset_top: f64,
}

impl FrameGeometry {
    /// The CSS-pixel point of the viewport under a point of the frame image given as a
    /// fraction of its width and height (0..1, so independent of the image's pixel size and of
    /// how the viewer scaled and letterboxed it). Out-of-range fractions are clamped to the
    /// edge, so a drag leaving the picture keeps tracking along it.
    pub fn to_css(&self, fx: f64, fy: f64) -> Option<(f64, f64)> {
        if !(fx.is_finite() && fy.is_finite()) {
            return None;
        }
        let x = (fx.clamp(0.0, 1.0) * self.css_width)
            .min(self.css_width - 1.0)
            .max(0.0);
        let y = (fy.clamp(0.0, 1.0) * self.css_height - self.offset_top)
            .min(self.css_height - 1.0)
            .max(0.0);
        Some((x, y))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(down: bool, key: &str, code: &str, mods: i32) -> KeyInput {
        KeyInput {
            down,
            key: key.into(),
            code: code.into(),
            modifiers: mods,
            repeat: false,
        }
    }

    #[test]
    fn the_key_code_comes_from_the_physical_key() {
        assert_eq!(key_definition("KeyA").map(|d| d.key_code), Some(65));
        assert_eq!(key_definition("KeyZ").map(|d| d.shifted), Some(Some("Z")));
        assert_eq!(key_definition("Digit7").map(|d| d.key_code), Some(55));
        assert_eq!(key_definition("Backspace").map(|d| d.key_code), Some(8));
        assert_eq!(key_definition("ArrowDown").map(|d| d.key_code), Some(40));
        assert_eq!(key_definition("Semicolon").map(|d| d.key_code), Some(186));
        assert_eq!(key_definition("Key"), None);
        assert_eq!(key_definition("KeyAA"), None);
        assert_eq!(key_definition("Nope"), None);
        // An AZERTY "a" is on the physical Q key: the code decides the key code, the key the
        // character.
        let e = key_event(&key(true, "a", "KeyQ", 0)).unwrap();
        assert_eq!(e.windows_virtual_key_code, Some(81));
        assert_eq!(e.text.as_deref(), Some("a"));
    }

    #[test]
    fn printable_keys_carry_text_and_shortcuts_do_not() {
        let typed = key_event(&key(true, "A", "KeyA", modifiers::SHIFT)).unwrap();
        assert_eq!(typed.r#type, KeyEventType::KeyDown);
        assert_eq!(typed.text.as_deref(), Some("A"));
        assert_eq!(typed.modifiers, Some(modifiers::SHIFT));

        let select_all = key_event(&key(true, "a", "KeyA", modifiers::CTRL)).unwrap();
        assert_eq!(select_all.r#type, KeyEventType::RawKeyDown);
        assert_eq!(select_all.text, None);
        assert_eq!(select_all.modifiers, Some(modifiers::CTRL));
        assert_eq!(select_all.windows_virtual_key_code, Some(65));

        let enter = key_event(&key(true, "Enter", "Enter", 0)).unwrap();
        assert_eq!(enter.text.as_deref(), Some("\r"));
        assert_eq!(enter.windows_virtual_key_code, Some(13));

        let back = key_event(&key(true, "Backspace", "Backspace", 0)).unwrap();
        assert_eq!(back.r#type, KeyEventType::RawKeyDown);
        assert_eq!(back.windows_virtual_key_code, Some(8));
        assert_eq!(back.text, None);

        let up = key_event(&key(false, "a", "KeyA", 0)).unwrap();
        assert_eq!(up.r#type, KeyEventType::KeyUp);
        assert_eq!(up.text, None);
    }

    #[test]
    fn alt_graph_characters_are_typed_and_ctrl_alt_shortcuts_are_not() {
        let ctrl_alt = modifiers::CTRL | modifiers::ALT;
        // Windows reports AltGr as Ctrl+Alt: "@" on a German layout (AltGr+Q), "ą" on a
        // Polish one (AltGr+A), "{" (AltGr+7).
        for (typed, code) in [("@", "KeyQ"), ("ą", "KeyA"), ("{", "Digit7"), ("€", "KeyE")] {
            let e = key_event(&key(true, typed, code, ctrl_alt)).unwrap();
            assert_eq!(e.r#type, KeyEventType::KeyDown, "{typed}");
            assert_eq!(e.text.as_deref(), Some(typed));
            assert_eq!(
                e.modifiers,
                Some(0),
                "{typed}: the page sees a typed character"
            );
        }
        let shifted = key_event(&key(true, "Ą", "KeyA", ctrl_alt | modifiers::SHIFT));
        assert_eq!(shifted.unwrap().modifiers, Some(modifiers::SHIFT));
        // A real Ctrl+Alt shortcut reports the key's own letter and stays a shortcut.
        let shortcut = key_event(&key(true, "t", "KeyT", ctrl_alt)).unwrap();
        assert_eq!(shortcut.r#type, KeyEventType::RawKeyDown);
        assert_eq!(shortcut.text, None);
        assert_eq!(shortcut.modifiers, Some(ctrl_alt));
        let shortcut = key_event(&key(true, "T", "KeyT", ctrl_alt | modifiers::SHIFT));
        assert_eq!(shortcut.unwrap().text, None);
        // Ctrl alone (a layout whose letters differ from US, Ctrl+Z on a German Y key) is
        // always a shortcut; Meta is never AltGr.
        assert_eq!(
            key_event(&key(true, "z", "KeyY", modifiers::CTRL))
                .unwrap()
                .text,
            None
        );
        assert_eq!(
            key_event(&key(true, "@", "KeyQ", ctrl_alt | modifiers::META))
                .unwrap()
                .text,
            None
        );
        // Ctrl+Alt on a key that types nothing stays a key.
        let del = key_event(&key(true, "Delete", "Delete", ctrl_alt)).unwrap();
        assert_eq!(del.r#type, KeyEventType::RawKeyDown);
    }

    #[test]
    fn a_pointer_leaving_moves_outside_the_viewport() {
        let leave = mouse_event(&PointerInput {
            action: PointerAction::Leave,
            x: 300.0,
            y: 200.0,
            buttons: 0,
            ..press_input()
        })
        .unwrap();
        assert_eq!(leave.r#type, MouseEventType::MouseMoved);
        assert_eq!((leave.x, leave.y), (-1.0, -1.0));
        assert_eq!(leave.button, Some(MouseButton::None));
    }

    #[test]
    fn keys_without_a_key_use_the_table_and_unknown_ones_are_refused() {
        let e = key_event(&key(true, "", "Digit1", modifiers::SHIFT)).unwrap();
        assert_eq!(e.key.as_deref(), Some("!"));
        assert!(matches!(
            key_event(&key(true, "", "Mystery", 0)),
            Err(InputError::UnknownKey { .. })
        ));
        assert!(key_event(&key(true, &"x".repeat(40), "KeyA", 0)).is_err());
        // A non-US key still types its character.
        let e = key_event(&key(true, "é", "Unknown", 0)).unwrap();
        assert_eq!(e.text.as_deref(), Some("é"));
        assert_eq!(e.windows_virtual_key_code, None);
    }

    #[test]
    fn locations_of_sided_and_keypad_keys() {
        assert_eq!(
            key_event(&key(true, "Shift", "ShiftLeft", 8))
                .unwrap()
                .location,
            Some(1)
        );
        assert_eq!(
            key_event(&key(true, "Control", "ControlRight", 2))
                .unwrap()
                .location,
            Some(2)
        );
        let pad = key_event(&key(true, "5", "Numpad5", 0)).unwrap();
        assert_eq!((pad.location, pad.is_keypad), (Some(3), Some(true)));
        assert_eq!(
            key_event(&key(true, "ArrowLeft", "ArrowLeft", 0))
                .unwrap()
                .location,
            None
        );
    }

    #[test]
    fn mouse_events_keep_buttons_and_clamp_what_they_must() {
        let press = mouse_event(&PointerInput {
            action: PointerAction::Press,
            x: 10.0,
            y: 20.0,
            button: 0,
            buttons: 1,
            click_count: 2,
            modifiers: modifiers::SHIFT,
            delta_x: 0.0,
            delta_y: 0.0,
        })
        .unwrap();
        assert_eq!(press.button, Some(MouseButton::Left));
        assert_eq!(press.click_count, Some(2));
        assert_eq!(press.buttons, Some(1));
        assert_eq!(press.modifiers, Some(modifiers::SHIFT));
        let wheel = mouse_event(&PointerInput {
            action: PointerAction::Wheel,
            x: 1.0,
            y: 1.0,
            button: 0,
            buttons: 0,
            click_count: 0,
            modifiers: 0,
            delta_x: 0.0,
            delta_y: 1e9,
        })
        .unwrap();
        assert_eq!(wheel.delta_y, Some(MAX_WHEEL_DELTA));
        assert_eq!(wheel.button, Some(MouseButton::None));
        let bad = PointerInput {
            x: f64::NAN,
            ..press_input()
        };
        assert!(mouse_event(&bad).is_err());
        let bad = PointerInput {
            button: 9,
            ..press_input()
        };
        assert!(mouse_event(&bad).is_err());
    }

    fn press_input() -> PointerInput {
        PointerInput {
            action: PointerAction::Press,
            x: 0.0,
            y: 0.0,
            button: 0,
            buttons: 1,
            click_count: 1,
            modifiers: 0,
            delta_x: 0.0,
            delta_y: 0.0,
        }
    }

    #[test]
    fn frame_fractions_map_to_css_pixels() {
        let g = FrameGeometry {
            css_width: 1280.0,
            css_height: 720.0,
            offset_top: 0.0,
        };
        // Independent of the image's pixel size: a 2560×1440 HiDPI frame and a 640×360
        // scaled-down one both map their centre to the viewport's centre.
        assert_eq!(g.to_css(0.5, 0.5), Some((640.0, 360.0)));
        assert_eq!(g.to_css(0.0, 0.0), Some((0.0, 0.0)));
        assert_eq!(g.to_css(1.0, 1.0), Some((1279.0, 719.0)));
        assert_eq!(g.to_css(-3.0, 7.0), Some((0.0, 719.0)));
        assert_eq!(g.to_css(f64::NAN, 0.0), None);
        let mobile = FrameGeometry {
            offset_top: 56.0,
            ..g
        };
        assert_eq!(mobile.to_css(0.5, 0.5), Some((640.0, 304.0)));
    }
}
