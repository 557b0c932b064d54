//! The live view's WebSocket protocol: small JSON messages both ways, and JPEG frames as
//! binary messages from the server.
//!
//! Pointer positions travel as fractions of the frame image (0..1), so the viewer need not
//! know the remote viewport or its own scaling; the server maps them to CSS pixels with the
//! geometry of the frame it sent last.

use browser::{Download, SelectPopup, TabInfo};
use serde::{Deserialize, Serialize};

/// What a mouse event does, as the page names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MouseKind {
    /// A button goes down.
    Down,
    /// A button goes up.
    Up,
    /// The pointer moves.
    Move,
    /// The wheel turns.
    Wheel,
    /// The pointer left the picture.
    Leave,
}

impl From<MouseKind> for browser::input::PointerAction {
    fn from(kind: MouseKind) -> Self {
        use browser::input::PointerAction;
        match kind {
            MouseKind::Down => PointerAction::Press,
            MouseKind::Up => PointerAction::Release,
            MouseKind::Move => PointerAction::Move,
            MouseKind::Wheel => PointerAction::Wheel,
            MouseKind::Leave => PointerAction::Leave,
        }
    }
}

/// A pointer event, one shape from the page through the hub's input replay to the
/// browser: the fields of [`browser::input::PointerInput`] (camelCase on the wire), with the
/// position as fractions of the frame image (0..1), which the replay maps to CSS pixels.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pointer {
    /// What happens.
    pub kind: MouseKind,
    /// X as a fraction of the frame image's width.
    pub x: f64,
    /// Y as a fraction of the frame image's height.
    pub y: f64,
    /// `MouseEvent.button`.
    #[serde(default)]
    pub button: i32,
    /// `MouseEvent.buttons`.
    #[serde(default)]
    pub buttons: i32,
    /// `MouseEvent.detail`: 1 for a click, 2 for the second of a double click.
    #[serde(default)]
    pub click_count: i64,
    /// Modifier bits (Alt 1, Ctrl 2, Meta 4, Shift 8).
    #[serde(default)]
    pub modifiers: i32,
    /// Wheel delta in CSS pixels.
    #[serde(default)]
    pub delta_x: f64,
    /// Wheel delta in CSS pixels.
    #[serde(default)]
    pub delta_y: f64,
    /// The deltas are fractions of the picture's width and height instead: a finger
    /// dragged over a touch screen scrolls the page by as much as the picture moved under
    /// it, at whatever size the viewer shows it.
    #[serde(default)]
    pub picture: bool,
}

impl Pointer {
    /// The browser's input for this event at `(x, y)` in CSS pixels.
    pub fn at(&self, x: f64, y: f64) -> browser::input::PointerInput {
        browser::input::PointerInput {
            action: self.kind.into(),
            x,
            y,
            button: self.button,
            buttons: self.buttons,
            click_count: self.click_count,
            modifiers: self.modifiers,
            delta_x: self.delta_x,
            delta_y: self.delta_y,
        }
    }
}

/// An address bar action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NavAction {
    /// History back.
    Back,
    /// History forward.
    Forward,
    /// Reload the page.
    Reload,
    /// Go to the message's URL.
    Go,
}

/// A tab strip action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TabAction {
    /// Put the tab on screen.
    Activate,
    /// Close the tab.
    Close,
    /// Open a new tab (at the message's URL, or a blank page).
    New,
}

/// What a viewer sends.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "t", rename_all = "camelCase")]
pub enum ViewerMessage {
    /// The viewer's picture area in CSS pixels and its device pixel ratio, to size frames.
    Viewport {
        /// Width in the viewer's CSS pixels.
        w: f64,
        /// Height in the viewer's CSS pixels.
        h: f64,
        /// `window.devicePixelRatio`.
        dpr: f64,
    },
    /// A mouse event.
    Mouse(Pointer),
    /// A key event.
    Key {
        /// Down (true) or up.
        down: bool,
        /// `KeyboardEvent.key`.
        #[serde(default)]
        key: String,
        /// `KeyboardEvent.code`.
        #[serde(default)]
        code: String,
        /// Modifier bits (Alt 1, Ctrl 2, Meta 4, Shift 8).
        #[serde(default)]
        modifiers: i32,
        /// `KeyboardEvent.repeat`.
        #[serde(default)]
        repeat: bool,
    },
    /// Text to insert at the focus: a paste, an IME commit, a character without a key.
    Text {
        /// The text.
        text: String,
    },
    /// Copy the page's selection to the viewer's clipboard (after Ctrl+C).
    Copy,
    /// Address bar: `back`, `forward`, `reload`, or `go` with a URL.
    Nav {
        /// What to do.
        action: NavAction,
        /// Where to go, for `go`.
        #[serde(default)]
        url: String,
    },
    /// Tab strip: `activate` or `close` a tab by id, or `new` (with an optional URL).
    Tab {
        /// What to do.
        action: TabAction,
        /// The tab, for `activate` and `close`.
        #[serde(default)]
        id: String,
        /// The address of a new tab.
        #[serde(default)]
        url: String,
    },
    /// The answer to a JavaScript dialog.
    Dialog {
        /// OK (true) or Cancel.
        accept: bool,
        /// Text for a `prompt()`.
        #[serde(default)]
        text: Option<String>,
    },
    /// A file for the pending file chooser begins: its chunks follow, then `files`.
    Upload {
        /// The viewer's id for it, unique on its socket.
        id: u64,
        /// Its name on the human's machine.
        name: String,
        /// Its size in bytes, which its chunks must add up to.
        size: u64,
    },
    /// A piece of a file begun with `upload`, in order (at most 1 MiB, base64).
    Chunk {
        /// The upload.
        id: u64,
        /// Where the piece starts in the file: the bytes received so far.
        offset: u64,
        /// The piece, base64.
        data: String,
    },
    /// The answer to the pending file chooser: the uploads, each received whole; none
    /// cancels it.
    Files {
        /// The uploads' ids.
        #[serde(default)]
        uploads: Vec<u64>,
    },
    /// The choice in a native `<select>`; no index closes the list.
    Select {
        /// The select's id from the `select` message.
        id: u64,
        /// The option's index.
        #[serde(default)]
        index: Option<u32>,
    },
    /// A frame (a binary message) reached the viewer. A viewer that sends these is sent a new
    /// frame only while fewer than two it got are unacknowledged, so a slow link carries a
    /// frame or two and never a queue of them in the socket's buffers.
    Ack,
    /// The human is still there (the "stay" button of the timeout warning).
    Touch,
    /// The answer to what the agent waits for ("Done", an answer, approve or reject), or
    /// "Hand back" of the control.
    Resume {
        /// The answer to a question.
        #[serde(default)]
        answer: Option<String>,
        /// The decision on an approval.
        #[serde(default)]
        approve: Option<bool>,
    },
    /// "Take control": the agent pauses after its current action.
    TakeControl,
    /// The viewer's picture area in CSS pixels, for the browser's viewport to follow: applied
    /// for a control viewer of a browser created with `allowResizing` (see `resize.rs`),
    /// ignored otherwise.
    Resize {
        /// Width in CSS pixels.
        w: f64,
        /// Height in CSS pixels.
        h: f64,
    },
}

/// What the server sends as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "t", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ServerMessage {
    /// First message: what this viewer may do.
    Hello {
        /// `control` or `view`.
        mode: &'static str,
        /// The session.
        session: String,
    },
    /// The tab strip.
    Tabs {
        /// Open tabs in opening order.
        tabs: Vec<TabInfo>,
        /// The tab on screen.
        active: Option<String>,
    },
    /// The address bar of the tab on screen.
    Location {
        /// Its URL.
        url: String,
        /// Whether back is possible.
        back: bool,
        /// Whether forward is possible.
        forward: bool,
    },
    /// A JavaScript dialog to answer.
    Dialog {
        /// `alert`, `confirm`, `prompt` or `beforeunload`.
        kind: String,
        /// Its message.
        message: String,
        /// Default text of a prompt.
        default_prompt: String,
    },
    /// The dialog is gone.
    DialogClosed,
    /// The page asks for files.
    FileChooser {
        /// Whether several files may be chosen.
        multiple: bool,
    },
    /// The file chooser was answered or is gone.
    FileChooserClosed,
    /// A native `<select>` to render.
    Select {
        /// The options and where the element is (CSS pixels of the remote viewport).
        #[serde(flatten)]
        popup: SelectPopup,
        /// The remote viewport size, to place the list.
        viewport: [f64; 2],
    },
    /// A `<select>` list is answered or gone: every viewer showing it closes it, as a native
    /// popup closes for everyone once one hand picks.
    SelectClosed {
        /// The id of the `select` message.
        id: u64,
    },
    /// The downloads so far.
    Downloads {
        /// Oldest first.
        items: Vec<Download>,
    },
    /// Text for the viewer's clipboard.
    Clipboard {
        /// The page's selection.
        text: String,
    },
    /// When the session times out (Unix milliseconds), for the one-minute warning.
    Clock {
        /// Inactivity deadline; null while a task runs.
        idle_deadline: Option<i64>,
        /// Maximum-duration deadline.
        ends_at: Option<i64>,
        /// The server's time now, so the viewer can correct its own clock.
        now: i64,
    },
    /// What the agent is doing, for the handoff bar.
    Agent {
        /// Whether a task runs.
        running: bool,
        /// What it waits for from a human (the API's `humanInput`), if anything.
        human: Option<serde_json::Value>,
    },
    /// The session is over; the viewer stops reconnecting.
    Ended {
        /// Why, when known ("Stopped by the client"); the viewer says "ended" itself.
        reason: Option<String>,
    },
    /// The watched tab's renderer crashed (`crashed: true`; the page offers its Reload) or came
    /// back (`false`).
    TabCrashed {
        /// Whether the tab is crashed now.
        crashed: bool,
    },
    /// Something the human asked for failed.
    Error {
        /// What went wrong.
        detail: String,
    },
}

impl ServerMessage {
    /// The JSON text of the message.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| r#"{"t":"error"}"#.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewer_messages_parse_with_defaults() {
        let m: ViewerMessage =
            serde_json::from_str(r#"{"t":"mouse","kind":"down","x":0.5,"y":0.25,"button":0}"#)
                .unwrap();
        assert!(matches!(
            m,
            ViewerMessage::Mouse(Pointer {
                click_count: 0,
                modifiers: 0,
                ..
            })
        ));
        // One shape: the page's names are the browser's, camelCase.
        let m: ViewerMessage = serde_json::from_str(
            r#"{"t":"mouse","kind":"wheel","x":0.5,"y":0.5,"clickCount":2,"modifiers":8,"deltaX":3,"deltaY":-4}"#,
        )
        .unwrap();
        let ViewerMessage::Mouse(pointer) = m else {
            panic!("a mouse message")
        };
        let input = pointer.at(10.0, 20.0);
        assert_eq!(
            (
                input.click_count,
                input.modifiers,
                input.delta_x,
                input.delta_y
            ),
            (2, 8, 3.0, -4.0)
        );
        let m: ViewerMessage = serde_json::from_str(r#"{"t":"copy"}"#).unwrap();
        assert_eq!(m, ViewerMessage::Copy);
        assert!(serde_json::from_str::<ViewerMessage>(r#"{"t":"cdp","method":"x"}"#).is_err());
    }

    #[test]
    fn server_messages_are_tagged() {
        let text = ServerMessage::Ended {
            reason: Some("stopped".into()),
        }
        .to_text();
        assert_eq!(text, r#"{"t":"ended","reason":"stopped"}"#);
        let m: ViewerMessage =
            serde_json::from_str(r#"{"t":"mouse","kind":"leave","x":0,"y":0}"#).unwrap();
        assert!(matches!(m, ViewerMessage::Mouse(p) if p.kind == MouseKind::Leave));
    }

    #[test]
    fn actions_are_typed_and_unknown_ones_unreadable() {
        let m: ViewerMessage =
            serde_json::from_str(r#"{"t":"nav","action":"go","url":"x.test"}"#).unwrap();
        assert!(matches!(
            m,
            ViewerMessage::Nav {
                action: NavAction::Go,
                ..
            }
        ));
        let m: ViewerMessage = serde_json::from_str(r#"{"t":"tab","action":"new"}"#).unwrap();
        assert!(matches!(
            m,
            ViewerMessage::Tab {
                action: TabAction::New,
                ..
            }
        ));
        for unknown in [
            r#"{"t":"nav","action":"home"}"#,
            r#"{"t":"tab","action":"pin","id":"T"}"#,
            r#"{"t":"mouse","kind":"hover","x":0,"y":0}"#,
        ] {
            assert!(
                serde_json::from_str::<ViewerMessage>(unknown).is_err(),
                "{unknown}"
            );
        }
    }
}
