//! What the in-page walk (`walk.js`) reports, before Tandem decides what is interactive.
//!
//! Field names are short because this JSON crosses the DevTools socket on every agent step;
//! each one is documented here instead.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One walk of one document (with its same-origin frames): candidates, frames that need a walk
/// of their own, and the viewport's text.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RawWalk {
    /// Candidate elements, in document order; the i-th has the i-th element handle.
    #[serde(rename = "el")]
    pub elements: Vec<RawElement>,
    /// Frames whose documents this walk could not enter (other origins).
    #[serde(rename = "fr")]
    pub frames: Vec<RawFrame>,
    /// Lines of visible text in the viewport, outside candidates, in reading order.
    #[serde(rename = "tx")]
    pub text: Vec<String>,
    /// Interactive-looking elements (native controls, ARIA roles) above the band.
    pub above: usize,
    /// The same below the band.
    pub below: usize,
    /// Elements walked.
    pub total: usize,
    /// Vertical scroll offset of the document, CSS px.
    #[serde(rename = "sy")]
    pub scroll_y: f64,
    /// Scrollable height of the document, CSS px.
    #[serde(rename = "sh")]
    pub scroll_height: f64,
    /// Viewport width, CSS px.
    #[serde(rename = "vw")]
    pub viewport_width: f64,
    /// Viewport height, CSS px.
    #[serde(rename = "vh")]
    pub viewport_height: f64,
    /// The document's URL.
    pub url: String,
    /// The document's title.
    pub title: String,
    /// `backendNodeId` of each element remembered from an earlier walk, 0 if unknown.
    pub ids: Vec<i64>,
}

/// A frame the walk saw but could not enter, with where its content sits in the top viewport.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RawFrame {
    /// Position of the `<iframe>` element's handle in the walk's handle list.
    #[serde(rename = "e")]
    pub handle: usize,
    /// How many of the walk's elements come before the frame, to keep document order.
    pub at: usize,
    /// Left of the frame's content box in top-level viewport coordinates.
    pub ox: f64,
    /// Top of the frame's content box.
    pub oy: f64,
    /// The visible part of the frame, `[left, top, right, bottom]`, top-level coordinates.
    pub cl: f64,
    /// See `cl`.
    pub ct: f64,
    /// See `cl`.
    pub cr: f64,
    /// See `cl`.
    pub cb: f64,
}

/// The raw facts about one candidate element.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub(crate) struct RawElement {
    /// Lower-case tag name.
    #[serde(rename = "t")]
    pub tag: String,
    /// Box in top-level viewport CSS px.
    pub x: f64,
    /// See `x`.
    pub y: f64,
    /// See `x`.
    pub w: f64,
    /// See `x`.
    pub h: f64,
    /// The `role` attribute.
    #[serde(rename = "r")]
    pub role: Option<String>,
    /// The `type` attribute, lower case.
    #[serde(rename = "ty")]
    pub input_type: Option<String>,
    /// `aria-labelledby` text or `aria-label`.
    #[serde(rename = "al")]
    pub aria_label: Option<String>,
    /// Text of the control's `<label>`s.
    #[serde(rename = "lb")]
    pub label: Option<String>,
    /// Rendered text (`innerText`), or an inner image's alt.
    #[serde(rename = "tx")]
    pub text: Option<String>,
    /// The `alt` attribute.
    pub alt: Option<String>,
    /// The `title` attribute.
    #[serde(rename = "ti")]
    pub title: Option<String>,
    /// The `placeholder` attribute.
    #[serde(rename = "ph")]
    pub placeholder: Option<String>,
    /// The `href` attribute as written.
    #[serde(rename = "hr")]
    pub href: Option<String>,
    /// Current value (masked for secrets), or the selected option's label.
    #[serde(rename = "v")]
    pub value: Option<String>,
    /// Checked state of checkboxes and radios (also through a label): true, false or "mixed".
    #[serde(rename = "ck")]
    pub checked: Option<serde_json::Value>,
    /// Labels of a `<select>`'s first options.
    #[serde(rename = "op")]
    pub options: Option<Vec<String>>,
    /// How many options the `<select>` has.
    #[serde(rename = "on")]
    pub option_count: Option<usize>,
    /// A `<label>`'s control, as `tag[:type]`.
    #[serde(rename = "lc")]
    pub label_control: Option<String>,
    /// ARIA states, without the `aria-` prefix: checked, expanded, selected, pressed, ...
    pub aria: BTreeMap<String, String>,
    /// Disabled.
    #[serde(rename = "di")]
    pub disabled: Option<u8>,
    /// Has click-like event listeners (added with `addEventListener`) and nothing else that
    /// makes it interactive.
    #[serde(rename = "ls")]
    pub listener: Option<u8>,
    /// Has an `onclick` attribute.
    #[serde(rename = "oc")]
    pub onclick: Option<u8>,
    /// The `tabindex` attribute.
    #[serde(rename = "tb")]
    pub tabindex: Option<i64>,
    /// Is the host of a `contenteditable` region.
    #[serde(rename = "ce")]
    pub editable: Option<u8>,
    /// Has `cursor: pointer` where its parent does not.
    #[serde(rename = "cp")]
    pub pointer: Option<u8>,
    /// Scroll container: `[px above, px below, client height, px left, px right]`.
    #[serde(rename = "sc")]
    pub scroll: Option<Vec<f64>>,
    /// A media element with controls.
    #[serde(rename = "co")]
    pub media_controls: Option<u8>,
    /// Inside an iframe.
    #[serde(rename = "fr")]
    pub in_frame: Option<u8>,
    /// Inside a shadow root.
    #[serde(rename = "sh")]
    pub in_shadow: Option<u8>,
    /// A required form field.
    #[serde(rename = "rq")]
    pub required: Option<u8>,
    /// A multiple-choice `<select>`.
    #[serde(rename = "mu")]
    pub multiple: Option<u8>,
}
