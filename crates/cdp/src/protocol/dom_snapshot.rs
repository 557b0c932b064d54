//! CDP `DOMSnapshot` domain.
//!
//! The agent's eyes: one `captureSnapshot` call returns every document of a tab (same-process
//! iframes included) as flat columnar tables: DOM nodes, layout boxes, text boxes, all strings
//! interned in one shared table. Perception turns it into indexed interactive elements keyed
//! by `backendNodeId`.
//!
//! The types mirror the wire format closely, since this is the largest payload Tandem parses
//! on every agent step: tables stay columns (`Vec` per field, indexed by node), strings stay
//! [`StringIndex`]es into [`CaptureSnapshotResult::strings`] (`-1` means absent), rectangles
//! are parsed without allocating. Use [`CaptureSnapshotResult::string`] to resolve an index.

use std::fmt;

use serde::de::{Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::command::{Command, Empty};
use crate::protocol::dom::BackendNodeId;

/// Index into [`CaptureSnapshotResult::strings`]; `-1` means no value.
pub type StringIndex = i64;

/// What a missing string field means: no value.
fn absent() -> StringIndex {
    -1
}

/// A rectangle `[x, y, width, height]` relative to its own document (not the viewport, and
/// for iframe documents not the main document): subtract the document's scroll offset for
/// viewport coordinates.
///
/// Units are CSS pixels times the browser's real device scale factor (the screen's, or
/// `--force-device-scale-factor`), not the one emulated by `Emulation.setDeviceMetricsOverride`;
/// at the default factor of 1 they are CSS pixels. (Measured on Chromium 156; `DOM.getBoxModel`
/// by contrast is always in CSS pixels of the viewport.)
///
/// Chromium may send an empty array for a node without that kind of box; it reads as all
/// zeros. Decoded straight from the array without an intermediate `Vec`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rectangle {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width; 0 for an empty or missing box.
    pub width: f64,
    /// Height; 0 for an empty or missing box.
    pub height: f64,
}

impl Rectangle {
    /// True for a box with no area, which cannot be seen or clicked.
    pub fn is_empty(&self) -> bool {
        self.width <= 0.0 || self.height <= 0.0
    }
}

impl<'de> Deserialize<'de> for Rectangle {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RectangleVisitor;

        impl<'de> Visitor<'de> for RectangleVisitor {
            type Value = Rectangle;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("an array of up to four numbers [x, y, width, height]")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Rectangle, A::Error> {
                let mut values = [0.0_f64; 4];
                for value in &mut values {
                    match seq.next_element::<Option<f64>>()? {
                        Some(number) => *value = number.unwrap_or(0.0),
                        None => break,
                    }
                }
                // Drain anything beyond four numbers, so the sequence is fully consumed.
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                let [x, y, width, height] = values;
                Ok(Rectangle {
                    x,
                    y,
                    width,
                    height,
                })
            }
        }

        deserializer.deserialize_seq(RectangleVisitor)
    }
}

/// A sparse string column: only nodes that have the value are listed.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct RareStringData {
    /// Node indices that have a value, ascending.
    pub index: Vec<i64>,
    /// Their values, as string indices, parallel to `index`.
    pub value: Vec<StringIndex>,
}

impl RareStringData {
    /// The string index for a node, if it has one.
    pub fn get(&self, node_index: i64) -> Option<StringIndex> {
        let position = self.index.binary_search(&node_index).ok()?;
        self.value.get(position).copied()
    }
}

/// A sparse boolean column: the node indices for which the flag is true.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct RareBooleanData {
    /// Node (or layout) indices where the flag is set, ascending.
    pub index: Vec<i64>,
}

impl RareBooleanData {
    /// Whether the flag is set for an index.
    pub fn contains(&self, node_index: i64) -> bool {
        self.index.binary_search(&node_index).is_ok()
    }
}

/// A sparse integer column.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct RareIntegerData {
    /// Node indices that have a value, ascending.
    pub index: Vec<i64>,
    /// Their values, parallel to `index`.
    pub value: Vec<i64>,
}

impl RareIntegerData {
    /// The value for a node, if it has one.
    pub fn get(&self, node_index: i64) -> Option<i64> {
        let position = self.index.binary_search(&node_index).ok()?;
        self.value.get(position).copied()
    }
}

/// The DOM nodes of one document, as parallel columns indexed by node index (node 0 is the
/// document). Every non-rare column has one entry per node.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NodeTreeSnapshot {
    /// Parent's node index; -1 for the document node. Parents come before children.
    pub parent_index: Vec<i64>,
    /// DOM `nodeType`: 1 element, 3 text, 8 comment, 9 document, 10 doctype, 11 fragment.
    pub node_type: Vec<i64>,
    /// Shadow root type (`"user-agent"`, `"open"`, `"closed"`) of nodes inside a shadow tree.
    pub shadow_root_type: RareStringData,
    /// Node name: upper-case tag for HTML elements (`"BUTTON"`), `"#text"`, ...
    pub node_name: Vec<StringIndex>,
    /// Node value: the text of text nodes, -1 or empty for elements.
    pub node_value: Vec<StringIndex>,
    /// Stable ids, usable with `DOM.*` and `Input` targeting.
    pub backend_node_id: Vec<BackendNodeId>,
    /// Per node, flat `[name, value, name, value, ...]`; empty for non-elements.
    pub attributes: Vec<Vec<StringIndex>>,
    /// Current text of `<textarea>`s (what the user typed, not the markup).
    pub text_value: RareStringData,
    /// Current value of `<input>`s (what the user typed, not the `value` attribute).
    pub input_value: RareStringData,
    /// Checked radio buttons and checkboxes.
    pub input_checked: RareBooleanData,
    /// Selected `<option>`s.
    pub option_selected: RareBooleanData,
    /// For frame owners: index of their content document in
    /// [`CaptureSnapshotResult::documents`].
    pub content_document_index: RareIntegerData,
    /// Pseudo element type (`"before"`, `"after"`, `"marker"`, ...).
    pub pseudo_type: RareStringData,
    /// Pseudo element identifier, for pseudo types that have one.
    pub pseudo_identifier: RareStringData,
    /// Nodes with a click listener or a natural click action (links, buttons, inputs);
    /// the strongest signal that something is interactive.
    pub is_clickable: RareBooleanData,
    /// Chosen URL of elements with a `srcset`.
    #[serde(rename = "currentSourceURL")]
    pub current_source_url: RareStringData,
    /// URL of the script that created the node, when known.
    #[serde(rename = "originURL")]
    pub origin_url: RareStringData,
}

/// The nodes of one document that have a layout box, as parallel columns indexed by layout
/// index. Nodes without layout (`display: none`, `<head>`) are absent: if a node is not here,
/// it is not rendered.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LayoutTreeSnapshot {
    /// Node index in [`NodeTreeSnapshot`] of each layout object. A node can own several
    /// layout objects (e.g. a text node split by a first-letter style).
    pub node_index: Vec<i64>,
    /// Per layout object, the values of the requested computed styles, in the order of
    /// [`CaptureSnapshot::computed_styles`].
    pub styles: Vec<Vec<StringIndex>>,
    /// Bounding box in document coordinates (see [`Rectangle`] for units).
    pub bounds: Vec<Rectangle>,
    /// Text of layout text objects; -1 otherwise.
    pub text: Vec<StringIndex>,
    /// Layout objects that start a stacking context.
    pub stacking_contexts: RareBooleanData,
    /// Global paint order (higher paints later, on top); only with `include_paint_order`.
    /// Used to tell whether an element is covered by another.
    pub paint_orders: Vec<i64>,
    /// `offsetLeft/Top/Width/Height`; only with `include_dom_rects`.
    pub offset_rects: Vec<Rectangle>,
    /// `scrollLeft/Top/Width/Height`: scroll position and scrollable size; only with
    /// `include_dom_rects`. Tells scrollable containers apart.
    pub scroll_rects: Vec<Rectangle>,
    /// `clientLeft/Top/Width/Height`; only with `include_dom_rects`.
    pub client_rects: Vec<Rectangle>,
    /// Background colour after blending overlapping elements; only with
    /// `include_blended_background_colors`.
    pub blended_background_colors: Vec<StringIndex>,
    /// Effective text opacity; only with `include_text_color_opacities`.
    pub text_color_opacities: Vec<f64>,
}

/// Line boxes of rendered text, indexed by text box; the exact layout may change between
/// Chromium versions.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TextBoxSnapshot {
    /// Layout index of the text object that owns each box.
    pub layout_index: Vec<i64>,
    /// Box in document coordinates.
    pub bounds: Vec<Rectangle>,
    /// First character of the box within the layout text, in UTF-16 code units.
    pub start: Vec<i64>,
    /// Length in UTF-16 code units.
    pub length: Vec<i64>,
}

/// One document of the snapshot: the main document, then same-process iframe documents.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DocumentSnapshot {
    /// Document URL.
    #[serde(rename = "documentURL", default = "absent")]
    pub document_url: StringIndex,
    /// Document title.
    #[serde(default = "absent")]
    pub title: StringIndex,
    /// Base URL for resolving relative links.
    #[serde(rename = "baseURL", default = "absent")]
    pub base_url: StringIndex,
    /// Content language.
    #[serde(default = "absent")]
    pub content_language: StringIndex,
    /// Character encoding.
    #[serde(default = "absent")]
    pub encoding_name: StringIndex,
    /// Doctype public id.
    #[serde(default = "absent")]
    pub public_id: StringIndex,
    /// Doctype system id.
    #[serde(default = "absent")]
    pub system_id: StringIndex,
    /// Frame id of the document.
    #[serde(default = "absent")]
    pub frame_id: StringIndex,
    /// DOM nodes.
    pub nodes: NodeTreeSnapshot,
    /// Rendered nodes.
    pub layout: LayoutTreeSnapshot,
    /// Rendered text boxes.
    pub text_boxes: TextBoxSnapshot,
    /// Horizontal scroll offset of the document, to turn its rectangles into viewport
    /// coordinates (same units as [`Rectangle`]).
    pub scroll_offset_x: Option<f64>,
    /// Vertical scroll offset.
    pub scroll_offset_y: Option<f64>,
    /// Width of the whole document.
    pub content_width: Option<f64>,
    /// Height of the whole document; with the scroll offset, how much is left to scroll.
    pub content_height: Option<f64>,
}

/// `DOMSnapshot.captureSnapshot`: the whole tab, flattened (shadow DOM included, in tree
/// order). Out-of-process iframes are separate targets and need their own call.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureSnapshot {
    /// Computed style properties to return per layout object, e.g. `["display",
    /// "visibility", "opacity", "cursor"]`. Each costs time and size; keep it short.
    pub computed_styles: Vec<String>,
    /// Fill [`LayoutTreeSnapshot::paint_orders`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_paint_order: Option<bool>,
    /// Fill the offset, scroll and client rects.
    #[serde(rename = "includeDOMRects", skip_serializing_if = "Option::is_none")]
    pub include_dom_rects: Option<bool>,
    /// Fill [`LayoutTreeSnapshot::blended_background_colors`] (experimental).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_blended_background_colors: Option<bool>,
    /// Fill [`LayoutTreeSnapshot::text_color_opacities`] (experimental).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_text_color_opacities: Option<bool>,
}

/// Result of [`CaptureSnapshot`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CaptureSnapshotResult {
    /// The main document first, then iframe documents (reached through
    /// [`NodeTreeSnapshot::content_document_index`]).
    pub documents: Vec<DocumentSnapshot>,
    /// Every string of the snapshot, once.
    pub strings: Vec<String>,
}

impl CaptureSnapshotResult {
    /// Resolves a string index; `None` for `-1` (absent) or an index out of range.
    pub fn string(&self, index: StringIndex) -> Option<&str> {
        let index = usize::try_from(index).ok()?;
        self.strings.get(index).map(String::as_str)
    }
}

impl Command for CaptureSnapshot {
    const METHOD: &'static str = "DOMSnapshot.captureSnapshot";
    type Response = CaptureSnapshotResult;
}

/// `DOMSnapshot.enable`: not needed for `captureSnapshot`; here for completeness of the
/// domain's life cycle.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Enable {}

impl Command for Enable {
    const METHOD: &'static str = "DOMSnapshot.enable";
    type Response = Empty;
}

/// `DOMSnapshot.disable`: the counterpart of [`Enable`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct Disable {}

impl Command for Disable {
    const METHOD: &'static str = "DOMSnapshot.disable";
    type Response = Empty;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn capture_snapshot_serializes_dom_rects_capitals() {
        let params = CaptureSnapshot {
            computed_styles: vec!["display".into(), "cursor".into()],
            include_paint_order: Some(true),
            include_dom_rects: Some(true),
            include_text_color_opacities: Some(false),
            include_blended_background_colors: None,
        };
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"computedStyles": ["display", "cursor"], "includePaintOrder": true,
                   "includeDOMRects": true, "includeTextColorOpacities": false})
        );
        assert_eq!(CaptureSnapshot::METHOD, "DOMSnapshot.captureSnapshot");
    }

    /// `<html><head></head><body><button>Go</button><input value="x"><input type=checkbox
    /// checked><iframe></iframe></body></html>`, as Chromium lays out such a snapshot.
    fn sample() -> serde_json::Value {
        json!({
            "documents": [{
                "documentURL": 0, "title": 1, "baseURL": 0, "contentLanguage": -1,
                "encodingName": 2, "publicId": -1, "systemId": -1, "frameId": 3,
                "nodes": {
                    "parentIndex": [-1, 0, 1, 1, 3, 4, 3, 3, 3],
                    "nodeType": [9, 1, 1, 1, 1, 3, 1, 1, 1],
                    "shadowRootType": {"index": [], "value": []},
                    "nodeName": [4, 5, 6, 7, 8, 9, 10, 10, 16],
                    "nodeValue": [-1, -1, -1, -1, -1, 11, -1, -1, -1],
                    "backendNodeId": [1, 2, 3, 4, 5, 6, 7, 8, 9],
                    "attributes": [[], [], [], [], [12, 13], [], [14, 15], [12, 17, 18, 19], []],
                    "textValue": {"index": [], "value": []},
                    "inputValue": {"index": [6], "value": [15]},
                    "inputChecked": {"index": [7]},
                    "optionSelected": {"index": []},
                    "contentDocumentIndex": {"index": [8], "value": [1]},
                    "pseudoType": {"index": [], "value": []},
                    "pseudoIdentifier": {"index": [], "value": []},
                    "isClickable": {"index": [4, 6, 7]},
                    "currentSourceURL": {"index": [], "value": []},
                    "originURL": {"index": [], "value": []}
                },
                "layout": {
                    "nodeIndex": [0, 1, 3, 4, 5, 6, 7],
                    "styles": [[20, 21], [20, 21], [20, 21], [22, 23], [], [22, 24], [22, 21]],
                    "bounds": [[0, 0, 1280, 720], [0, 0, 1280, 720], [8, 8, 1264, 704],
                               [8, 8, 35.5, 21], [14, 11, 23.5, 15], [47.5, 8, 150, 21],
                               [201.5, 11, 13, 13]],
                    "text": [-1, -1, -1, -1, 11, -1, -1],
                    "stackingContexts": {"index": [0]},
                    "paintOrders": [0, 1, 2, 3, 4, 5, 6],
                    "offsetRects": [[], [], [0, 0, 1264, 704], [8, 8, 35, 21], [],
                                    [47, 8, 150, 21], [201, 11, 13, 13]],
                    "scrollRects": [[0, 0, 1280, 4000], [], [], [], [], [], []],
                    "clientRects": [[], [], [0, 0, 1264, 704], [0, 0, 35, 21], [],
                                    [1, 1, 148, 19], [0, 0, 13, 13]]
                },
                "textBoxes": {
                    "layoutIndex": [4],
                    "bounds": [[14, 11, 23.5, 15]],
                    "start": [0],
                    "length": [2]
                },
                "scrollOffsetX": 0, "scrollOffsetY": 120, "contentWidth": 1280, "contentHeight": 4000
            }, {
                "documentURL": 25, "title": -1, "baseURL": 25, "contentLanguage": -1,
                "encodingName": 2, "publicId": -1, "systemId": -1, "frameId": 26,
                "nodes": {"parentIndex": [-1], "nodeType": [9], "nodeName": [4],
                          "nodeValue": [-1], "backendNodeId": [30], "attributes": [[]]},
                "layout": {"nodeIndex": [], "styles": [], "bounds": [], "text": [],
                           "stackingContexts": {"index": []}},
                "textBoxes": {"layoutIndex": [], "bounds": [], "start": [], "length": []}
            }],
            "strings": [
                "https://example.com/", "Example", "UTF-8", "MAINFRAME", "#document", "HTML",
                "HEAD", "BODY", "BUTTON", "#text", "INPUT", "Go", "type", "submit", "value", "x",
                "IFRAME", "checkbox", "checked", "", "block", "auto", "inline-block", "pointer",
                "text", "about:blank", "CHILDFRAME"
            ]
        })
    }

    #[test]
    fn capture_snapshot_result_deserializes() {
        let snapshot: CaptureSnapshotResult = serde_json::from_value(sample()).unwrap();
        assert_eq!(snapshot.documents.len(), 2);
        let doc = &snapshot.documents[0];
        assert_eq!(
            snapshot.string(doc.document_url),
            Some("https://example.com/")
        );
        assert_eq!(snapshot.string(doc.title), Some("Example"));
        assert_eq!(snapshot.string(doc.base_url), Some("https://example.com/"));
        assert_eq!(snapshot.string(doc.content_language), None);
        assert_eq!(snapshot.string(doc.encoding_name), Some("UTF-8"));
        assert_eq!(snapshot.string(doc.frame_id), Some("MAINFRAME"));
        assert_eq!(doc.scroll_offset_y, Some(120.0));
        assert_eq!(doc.content_height, Some(4000.0));

        let nodes = &doc.nodes;
        assert_eq!(nodes.parent_index[5], 4);
        assert_eq!(nodes.node_type[5], 3);
        assert_eq!(snapshot.string(nodes.node_name[4]), Some("BUTTON"));
        assert_eq!(snapshot.string(nodes.node_value[5]), Some("Go"));
        assert_eq!(nodes.backend_node_id[6], 7);
        let attrs: Vec<_> = nodes.attributes[7]
            .iter()
            .map(|&i| snapshot.string(i))
            .collect();
        assert_eq!(
            attrs,
            [Some("type"), Some("checkbox"), Some("checked"), Some("")]
        );
        assert_eq!(
            nodes.input_value.get(6).and_then(|i| snapshot.string(i)),
            Some("x")
        );
        assert_eq!(nodes.text_value.get(6), None);
        assert!(nodes.input_checked.contains(7));
        assert!(!nodes.input_checked.contains(6));
        assert!(nodes.option_selected.index.is_empty());
        assert!(nodes.is_clickable.contains(4));
        assert!(!nodes.is_clickable.contains(5));
        assert_eq!(nodes.content_document_index.get(8), Some(1));

        let layout = &doc.layout;
        assert_eq!(layout.node_index, [0, 1, 3, 4, 5, 6, 7]);
        assert_eq!(snapshot.string(layout.styles[3][1]), Some("pointer"));
        assert_eq!(
            layout.bounds[3],
            Rectangle {
                x: 8.0,
                y: 8.0,
                width: 35.5,
                height: 21.0
            }
        );
        assert_eq!(snapshot.string(layout.text[4]), Some("Go"));
        assert!(layout.stacking_contexts.contains(0));
        assert_eq!(layout.paint_orders[6], 6);
        assert!(layout.offset_rects[0].is_empty());
        assert_eq!(layout.client_rects[5].width, 148.0);
        assert_eq!(layout.scroll_rects[0].height, 4000.0);

        let text_boxes = &doc.text_boxes;
        assert_eq!(text_boxes.layout_index, [4]);
        assert_eq!(text_boxes.bounds[0].x, 14.0);
        assert_eq!(text_boxes.start, [0]);
        assert_eq!(text_boxes.length, [2]);

        // The iframe document: columns Chromium omitted read as empty, not as errors.
        let frame = &snapshot.documents[1];
        assert_eq!(snapshot.string(frame.frame_id), Some("CHILDFRAME"));
        assert_eq!(frame.nodes.backend_node_id, [30]);
        assert!(frame.nodes.is_clickable.index.is_empty());
        assert!(frame.layout.paint_orders.is_empty());
        assert_eq!(frame.scroll_offset_x, None);
    }

    #[test]
    fn missing_string_fields_read_as_absent() {
        let doc: DocumentSnapshot = serde_json::from_value(json!({})).unwrap();
        assert_eq!(doc.title, -1);
        assert_eq!(doc.document_url, -1);
        let snapshot = CaptureSnapshotResult {
            documents: vec![doc],
            strings: vec!["only".into()],
        };
        assert_eq!(snapshot.string(snapshot.documents[0].title), None);
        assert_eq!(snapshot.string(0), Some("only"));
        assert_eq!(snapshot.string(1), None);
    }

    #[test]
    fn rectangle_tolerates_odd_lengths() {
        let rects: Vec<Rectangle> =
            serde_json::from_str("[[], [1, 2], [1, 2, 3, 4, 5], [1.5, null, 3, 4]]").unwrap();
        assert_eq!(rects[0], Rectangle::default());
        assert_eq!(
            rects[1],
            Rectangle {
                x: 1.0,
                y: 2.0,
                width: 0.0,
                height: 0.0
            }
        );
        assert_eq!(rects[2].height, 4.0);
        assert_eq!(rects[3].x, 1.5);
        assert_eq!(rects[3].y, 0.0);
        assert!(serde_json::from_str::<Rectangle>("{\"x\": 1}").is_err());
    }
}
