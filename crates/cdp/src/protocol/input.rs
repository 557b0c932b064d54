//! CDP `Input` domain.
//!
//! Trusted input events, indistinguishable for the page from a real user's: Tandem uses it
//! for the agent's clicks, typing and scrolling, and to replay the live-view human's mouse,
//! keyboard and IME input. Coordinates are CSS pixels relative to the main frame's viewport.
//!
//! A key press needs `key`, `code` and `windows_virtual_key_code` to behave like a real one
//! (shortcuts, `keydown` handlers); text that does not come from keys (paste, emoji, IME
//! results, long strings) goes through [`InsertText`].

use serde::Serialize;

use crate::command::{Command, Empty};
use crate::protocol::network::TimeSinceEpoch;

/// Bits of the `modifiers` field of mouse and key events; combine with `|`.
pub mod modifiers {
    /// Alt (Option on macOS).
    pub const ALT: i32 = 1;
    /// Control.
    pub const CTRL: i32 = 2;
    /// Meta (Command on macOS, Windows key elsewhere).
    pub const META: i32 = 4;
    /// Shift.
    pub const SHIFT: i32 = 8;
}

/// Bits of the `buttons` field of mouse events: which buttons are held during the event (as
/// DOM `MouseEvent.buttons`). Needed for drags: a move with `LEFT` held drags.
pub mod buttons {
    /// Primary (left) button.
    pub const LEFT: i32 = 1;
    /// Secondary (right) button.
    pub const RIGHT: i32 = 2;
    /// Auxiliary (middle) button.
    pub const MIDDLE: i32 = 4;
    /// Back button.
    pub const BACK: i32 = 8;
    /// Forward button.
    pub const FORWARD: i32 = 16;
}

/// Kind of mouse event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum MouseEventType {
    /// A button goes down; set `button` and `click_count`.
    MousePressed,
    /// A button goes up; set the same `button` and `click_count` as the press.
    MouseReleased,
    /// The pointer moves; the default, since a stray move is harmless.
    #[default]
    MouseMoved,
    /// A wheel turn; set `delta_x`/`delta_y`. Scrolls whatever is under `x`,`y`.
    MouseWheel,
}

/// The button an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum MouseButton {
    /// No button (moves, wheel).
    #[default]
    None,
    /// Primary button.
    Left,
    /// Middle button (opens links in a new tab).
    Middle,
    /// Secondary button (context menu).
    Right,
    /// Back button (history back).
    Back,
    /// Forward button.
    Forward,
}

/// What kind of pointer a mouse event comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PointerType {
    /// A mouse (the default).
    #[default]
    Mouse,
    /// A pen.
    Pen,
}

/// `Input.dispatchMouseEvent`: one mouse event. A click is a `MousePressed` then a
/// `MouseReleased` at the same point with `click_count: 1` (2 for the second click of a
/// double-click); moving there first lets hover handlers run.
///
/// Answers once the renderer has handled the event, so a click that opens a JavaScript dialog
/// may not answer until the dialog is closed: watch for `page::JavascriptDialogOpening`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DispatchMouseEvent {
    /// Kind of event.
    #[serde(rename = "type")]
    pub r#type: MouseEventType,
    /// X in CSS pixels of the main frame's viewport.
    pub x: f64,
    /// Y in CSS pixels of the main frame's viewport; 0 is the top.
    pub y: f64,
    /// Held modifier keys, a sum of [`modifiers`] bits (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modifiers: Option<i32>,
    /// Event time; `None` means now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<TimeSinceEpoch>,
    /// Button pressed or released (default none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub button: Option<MouseButton>,
    /// Buttons held, a sum of [`buttons`] bits (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buttons: Option<i32>,
    /// Click number within a multi-click (default 0; 1 for a single click).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub click_count: Option<i64>,
    /// Horizontal wheel delta in CSS pixels, positive scrolls right.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta_x: Option<f64>,
    /// Vertical wheel delta in CSS pixels, positive scrolls down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta_y: Option<f64>,
    /// Pointer kind (default mouse).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer_type: Option<PointerType>,
}

impl Command for DispatchMouseEvent {
    const METHOD: &'static str = "Input.dispatchMouseEvent";
    type Response = Empty;
}

/// Kind of key event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum KeyEventType {
    /// Key down that also produces `text` (a `keypress`); the usual choice for printable keys.
    #[default]
    KeyDown,
    /// Key up.
    KeyUp,
    /// Key down without text, for non-printing keys (Enter is printable: `"\r"`) or when the
    /// text follows as a separate `Char`.
    RawKeyDown,
    /// A `keypress` with text input, without `keydown`/`keyup`.
    Char,
}

/// `Input.dispatchKeyEvent`: one key event to the focused element.
///
/// A typed character is a `KeyDown` with `text` and a `KeyUp`; a shortcut like Ctrl+A is a
/// `RawKeyDown` with `modifiers`. Where the platform maps shortcuts to editing commands outside
/// the page (macOS), synthetic shortcuts do nothing unless the command is given in `commands`
/// (`["selectAll"]`).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DispatchKeyEvent {
    /// Kind of event.
    #[serde(rename = "type")]
    pub r#type: KeyEventType,
    /// Held modifier keys, a sum of [`modifiers`] bits (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modifiers: Option<i32>,
    /// Event time; `None` means now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<TimeSinceEpoch>,
    /// Text the key produces with the layout and modifiers (`"A"` with Shift, `"\r"` for
    /// Enter); empty or `None` for non-printing keys and key ups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Text without modifiers other than Shift; used for shortcuts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unmodified_text: Option<String>,
    /// DOM `KeyboardEvent.key`: `"a"`, `"A"`, `"Enter"`, `"ArrowLeft"`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// DOM `KeyboardEvent.code`, the physical key: `"KeyA"`, `"Enter"`, `"ShiftLeft"`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Windows virtual key code (`KeyboardEvent.keyCode`): 65 for A, 13 for Enter. Without it
    /// many keys (Enter, Backspace, arrows) do nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows_virtual_key_code: Option<i64>,
    /// Platform key code; usually the same as `windows_virtual_key_code`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub native_virtual_key_code: Option<i64>,
    /// The key is held and repeating.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_repeat: Option<bool>,
    /// The key is on the numeric keypad.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_keypad: Option<bool>,
    /// A system key (Alt combinations on Windows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_system_key: Option<bool>,
    /// `KeyboardEvent.location`: 1 left, 2 right (Shift, Ctrl, ...), 3 numpad; default 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<i64>,
    /// Editing commands to run with the event, e.g. `["selectAll"]`, `["copy"]`
    /// (experimental; Blink editor command names).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commands: Option<Vec<String>>,
}

impl Command for DispatchKeyEvent {
    const METHOD: &'static str = "Input.dispatchKeyEvent";
    type Response = Empty;
}

/// `Input.insertText`: inserts text at the focus as IME or paste would, firing `input`
/// events but no key events; fast for long strings and any Unicode.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InsertText {
    /// Text to insert.
    pub text: String,
}

impl Command for InsertText {
    const METHOD: &'static str = "Input.insertText";
    type Response = Empty;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn mouse_press_serializes() {
        let params = DispatchMouseEvent {
            r#type: MouseEventType::MousePressed,
            x: 100.5,
            y: 200.0,
            button: Some(MouseButton::Left),
            buttons: Some(buttons::LEFT),
            click_count: Some(1),
            modifiers: Some(modifiers::CTRL | modifiers::SHIFT),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"type": "mousePressed", "x": 100.5, "y": 200.0, "modifiers": 10,
                   "button": "left", "buttons": 1, "clickCount": 1})
        );
        assert_eq!(DispatchMouseEvent::METHOD, "Input.dispatchMouseEvent");
    }

    #[test]
    fn mouse_enums_serialize_as_protocol_names() {
        let names: Vec<_> = [
            MouseEventType::MousePressed,
            MouseEventType::MouseReleased,
            MouseEventType::MouseMoved,
            MouseEventType::MouseWheel,
        ]
        .iter()
        .map(|t| serde_json::to_value(t).unwrap())
        .collect();
        assert_eq!(
            names,
            [
                json!("mousePressed"),
                json!("mouseReleased"),
                json!("mouseMoved"),
                json!("mouseWheel")
            ]
        );
        let buttons: Vec<_> = [
            MouseButton::None,
            MouseButton::Left,
            MouseButton::Middle,
            MouseButton::Right,
            MouseButton::Back,
            MouseButton::Forward,
        ]
        .iter()
        .map(|b| serde_json::to_value(b).unwrap())
        .collect();
        assert_eq!(
            buttons,
            [
                json!("none"),
                json!("left"),
                json!("middle"),
                json!("right"),
                json!("back"),
                json!("forward")
            ]
        );
        assert_eq!(
            serde_json::to_value(PointerType::Pen).unwrap(),
            json!("pen")
        );
    }

    #[test]
    fn wheel_serializes_deltas() {
        let params = DispatchMouseEvent {
            r#type: MouseEventType::MouseWheel,
            x: 10.0,
            y: 20.0,
            delta_x: Some(0.0),
            delta_y: Some(-120.0),
            pointer_type: Some(PointerType::Mouse),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"type": "mouseWheel", "x": 10.0, "y": 20.0, "deltaX": 0.0, "deltaY": -120.0,
                   "pointerType": "mouse"})
        );
    }

    #[test]
    fn key_events_serialize() {
        let enter = DispatchKeyEvent {
            r#type: KeyEventType::KeyDown,
            key: Some("Enter".into()),
            code: Some("Enter".into()),
            text: Some("\r".into()),
            unmodified_text: Some("\r".into()),
            windows_virtual_key_code: Some(13),
            native_virtual_key_code: Some(13),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&enter).unwrap(),
            json!({"type": "keyDown", "text": "\r", "unmodifiedText": "\r", "key": "Enter",
                   "code": "Enter", "windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13})
        );
        let select_all = DispatchKeyEvent {
            r#type: KeyEventType::RawKeyDown,
            modifiers: Some(modifiers::CTRL),
            key: Some("a".into()),
            code: Some("KeyA".into()),
            windows_virtual_key_code: Some(65),
            commands: Some(vec!["selectAll".into()]),
            location: Some(0),
            auto_repeat: Some(false),
            is_keypad: Some(false),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&select_all).unwrap(),
            json!({"type": "rawKeyDown", "modifiers": 2, "key": "a", "code": "KeyA",
                   "windowsVirtualKeyCode": 65, "autoRepeat": false, "isKeypad": false,
                   "location": 0, "commands": ["selectAll"]})
        );
        let up = DispatchKeyEvent {
            r#type: KeyEventType::KeyUp,
            ..Default::default()
        };
        assert_eq!(serde_json::to_value(&up).unwrap(), json!({"type": "keyUp"}));
        assert_eq!(
            serde_json::to_value(KeyEventType::Char).unwrap(),
            json!("char")
        );
    }
}
