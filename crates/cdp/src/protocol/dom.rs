//! CDP `DOM` domain.
//!
//! Element-level work on nodes the agent picked from a DOMSnapshot by `backendNodeId`: Tandem
//! uses it to find where an element is (box model, content quads) before clicking, to scroll
//! it into view, focus it, turn it into a JavaScript handle (`resolveNode`) for
//! `Runtime.callFunctionOn`, set files on file inputs, and hit-test a point.
//!
//! Prefer `backendNodeId` over `nodeId`: a `nodeId` only exists after the DOM tree has been
//! pushed to the client (`getDocument`) and dies with it, while a `backendNodeId` is stable for
//! the node's life and works without `DOM.enable`.

use serde::{Deserialize, Serialize};

use crate::command::{Command, Empty};
use crate::protocol::page::FrameId;
use crate::protocol::runtime::{ExecutionContextId, RemoteObject, RemoteObjectId};

/// A node id valid only in the current pushed DOM tree of a session (see module docs).
pub type NodeId = i64;

/// A node id stable for the node's life, shared by DOM, DOMSnapshot and Accessibility; the
/// agent's element ids.
pub type BackendNodeId = i64;

/// Four corners `[x1, y1, x2, y2, x3, y3, x4, y4]`, clockwise from top-left, in CSS pixels
/// relative to the main frame's viewport. Not necessarily axis-aligned (transforms).
pub type Quad = Vec<f64>;

/// An axis-aligned rectangle in CSS pixels.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

/// A DOM node as `getDocument`/`describeNode` describe it; only what Tandem reads.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Node {
    /// Session-scoped id; 0 when the node was described without being pushed.
    pub node_id: NodeId,
    /// Parent's session-scoped id.
    pub parent_id: Option<NodeId>,
    /// Stable id.
    pub backend_node_id: BackendNodeId,
    /// DOM `nodeType`: 1 element, 3 text, 9 document, 11 fragment/shadow root, ...
    pub node_type: i64,
    /// Upper case for HTML elements (`"BUTTON"`), `"#text"`, `"#document"`, ...
    pub node_name: String,
    /// Lower case tag name for elements; empty otherwise.
    pub local_name: String,
    /// Text of text and comment nodes; empty for elements.
    pub node_value: String,
    /// Number of children, even when `children` was not requested.
    pub child_node_count: Option<i64>,
    /// Children, when requested with `depth`.
    pub children: Option<Vec<Node>>,
    /// Flat `[name1, value1, name2, value2, ...]`; see [`Node::attribute`].
    pub attributes: Vec<String>,
    /// URL of a document or frame owner's document.
    #[serde(rename = "documentURL")]
    pub document_url: Option<String>,
    /// Base URL of a document.
    #[serde(rename = "baseURL")]
    pub base_url: Option<String>,
    /// Frame of a frame owner (`<iframe>`) or document.
    pub frame_id: Option<FrameId>,
    /// Document inside an `<iframe>` in the same process, with `pierce`.
    pub content_document: Option<Box<Node>>,
    /// Shadow roots of a host element, with `pierce`.
    pub shadow_roots: Option<Vec<Node>>,
    /// `"user-agent"`, `"open"` or `"closed"` for shadow roots.
    pub shadow_root_type: Option<String>,
    /// `"before"`, `"after"`, `"marker"`, ... for pseudo elements.
    pub pseudo_type: Option<String>,
    /// Whether the node is SVG.
    #[serde(rename = "isSVG")]
    pub is_svg: Option<bool>,
}

impl Node {
    /// Value of an attribute, by exact (case-sensitive) name.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .chunks_exact(2)
            .find(|pair| pair[0] == name)
            .map(|pair| pair[1].as_str())
    }
}

/// The CSS boxes of an element, each as a [`Quad`] in viewport coordinates.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BoxModel {
    /// Content box.
    pub content: Quad,
    /// Padding box.
    pub padding: Quad,
    /// Border box: what a click should aim inside.
    pub border: Quad,
    /// Margin box.
    pub margin: Quad,
    /// Width of the border box, in CSS pixels.
    pub width: f64,
    /// Height of the border box, in CSS pixels.
    pub height: f64,
}

/// Result of [`GetDocument`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GetDocumentResult {
    /// The document node.
    pub root: Node,
}

/// `DOM.describeNode`: a node's description without pushing it; works on a `backendNodeId`
/// alone. Give one of `node_id`, `backend_node_id`, `object_id`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeNode {
    /// Session-scoped id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_id: Option<NodeId>,
    /// Stable id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_node_id: Option<BackendNodeId>,
    /// JavaScript handle to the node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_id: Option<RemoteObjectId>,
    /// Levels of children to include (default 1); -1 for the whole subtree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<i64>,
    /// Traverse same-process iframes and shadow roots (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pierce: Option<bool>,
}

/// Result of [`DescribeNode`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DescribeNodeResult {
    /// The node.
    pub node: Node,
}

impl Command for DescribeNode {
    const METHOD: &'static str = "DOM.describeNode";
    type Response = DescribeNodeResult;
}

/// `DOM.resolveNode`: a JavaScript handle to a node, for `Runtime.callFunctionOn`. Give
/// `node_id` or `backend_node_id`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolveNode {
    /// Session-scoped id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_id: Option<NodeId>,
    /// Stable id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_node_id: Option<BackendNodeId>,
    /// Group the handle joins, for `runtime::ReleaseObjectGroup`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_group: Option<String>,
    /// World to create the handle in (e.g. Tandem's isolated world); default is the page's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_context_id: Option<ExecutionContextId>,
}

/// Result of [`ResolveNode`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResolveNodeResult {
    /// Handle to the node (`object_id` set).
    pub object: RemoteObject,
}

impl Command for ResolveNode {
    const METHOD: &'static str = "DOM.resolveNode";
    type Response = ResolveNodeResult;
}

/// `DOM.getFrameOwner`: the `<iframe>` element that holds a frame, in the session of the
/// frame's parent document; how a point inside an out-of-process frame is placed in the tab.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetFrameOwner {
    /// The frame.
    pub frame_id: FrameId,
}

/// Result of [`GetFrameOwner`].
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetFrameOwnerResult {
    /// The owner element.
    pub backend_node_id: BackendNodeId,
}

impl Command for GetFrameOwner {
    const METHOD: &'static str = "DOM.getFrameOwner";
    type Response = GetFrameOwnerResult;
}

/// `DOM.getBoxModel`: an element's boxes. Fails for nodes without layout (hidden,
/// `display: none`); give one of the three ids.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetBoxModel {
    /// Session-scoped id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_id: Option<NodeId>,
    /// Stable id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_node_id: Option<BackendNodeId>,
    /// JavaScript handle to the node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_id: Option<RemoteObjectId>,
}

/// Result of [`GetBoxModel`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GetBoxModelResult {
    /// The boxes.
    pub model: BoxModel,
}

impl Command for GetBoxModel {
    const METHOD: &'static str = "DOM.getBoxModel";
    type Response = GetBoxModelResult;
}

/// `DOM.getContentQuads`: the quads a node occupies on screen: several for inline elements
/// that wrap lines, accounting for transforms; better click targets than the box model. Give
/// one of the three ids.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetContentQuads {
    /// Session-scoped id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_id: Option<NodeId>,
    /// Stable id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_node_id: Option<BackendNodeId>,
    /// JavaScript handle to the node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_id: Option<RemoteObjectId>,
}

/// Result of [`GetContentQuads`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GetContentQuadsResult {
    /// Quads relative to the viewport; may lie outside it, may be empty.
    pub quads: Vec<Quad>,
}

impl Command for GetContentQuads {
    const METHOD: &'static str = "DOM.getContentQuads";
    type Response = GetContentQuadsResult;
}

/// `DOM.scrollIntoViewIfNeeded`: scrolls (every scrollable ancestor) until the node is
/// visible; does nothing if it already is. Give one of the three ids.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScrollIntoViewIfNeeded {
    /// Session-scoped id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_id: Option<NodeId>,
    /// Stable id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_node_id: Option<BackendNodeId>,
    /// JavaScript handle to the node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_id: Option<RemoteObjectId>,
    /// Part of the node to reveal, relative to its border box; `None` centres the node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rect: Option<Rect>,
}

impl Command for ScrollIntoViewIfNeeded {
    const METHOD: &'static str = "DOM.scrollIntoViewIfNeeded";
    type Response = Empty;
}

/// `DOM.focus`: focuses an element, as `element.focus()` would. Give one of the three ids.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Focus {
    /// Session-scoped id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_id: Option<NodeId>,
    /// Stable id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_node_id: Option<BackendNodeId>,
    /// JavaScript handle to the node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_id: Option<RemoteObjectId>,
}

impl Command for Focus {
    const METHOD: &'static str = "DOM.focus";
    type Response = Empty;
}

/// `DOM.setFileInputFiles`: sets the files of an `<input type=file>` and fires its `input`
/// and `change` events; how an intercepted file chooser is answered. Give one of the ids.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetFileInputFiles {
    /// Absolute paths on the browser's machine; they must exist.
    pub files: Vec<String>,
    /// Session-scoped id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_id: Option<NodeId>,
    /// Stable id, e.g. from `page::FileChooserOpened`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_node_id: Option<BackendNodeId>,
    /// JavaScript handle to the input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_id: Option<RemoteObjectId>,
}

impl Command for SetFileInputFiles {
    const METHOD: &'static str = "DOM.setFileInputFiles";
    type Response = Empty;
}

/// Result of [`GetNodeForLocation`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GetNodeForLocationResult {
    /// The node hit.
    pub backend_node_id: BackendNodeId,
    /// Frame the node belongs to.
    pub frame_id: FrameId,
    /// Session-scoped id, only when the document was pushed.
    pub node_id: Option<NodeId>,
}

/// Result of [`GetOuterHtml`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GetOuterHtmlResult {
    /// The markup.
    #[serde(rename = "outerHTML")]
    pub outer_html: String,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn backend_node_id_params_serialize() {
        let params = ScrollIntoViewIfNeeded {
            backend_node_id: Some(42),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"backendNodeId": 42})
        );
        let params = SetFileInputFiles {
            files: vec!["/tmp/a.pdf".into()],
            backend_node_id: Some(7),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"files": ["/tmp/a.pdf"], "backendNodeId": 7})
        );
        let params = ResolveNode {
            backend_node_id: Some(7),
            object_group: Some("step-3".into()),
            execution_context_id: Some(4),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"backendNodeId": 7, "objectGroup": "step-3", "executionContextId": 4})
        );
        let params = DescribeNode {
            object_id: Some("OBJ".into()),
            depth: Some(-1),
            pierce: Some(true),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"objectId": "OBJ", "depth": -1, "pierce": true})
        );
    }

    #[test]
    fn box_model_deserializes() {
        let result: GetBoxModelResult = serde_json::from_value(json!({"model": {
            "content": [10, 20, 110, 20, 110, 50, 10, 50],
            "padding": [8, 18, 112, 18, 112, 52, 8, 52],
            "border": [7, 17, 113, 17, 113, 53, 7, 53],
            "margin": [7, 17, 113, 17, 113, 53, 7, 53],
            "width": 106, "height": 36
        }}))
        .unwrap();
        let model = result.model;
        assert_eq!(model.content[0], 10.0);
        assert_eq!(model.padding[1], 18.0);
        assert_eq!(model.border.len(), 8);
        assert_eq!(model.margin[4], 113.0);
        assert_eq!(model.width, 106.0);
        assert_eq!(model.height, 36.0);
    }

    #[test]
    fn content_quads_deserialize() {
        let result: GetContentQuadsResult = serde_json::from_value(json!({"quads": [
            [0.5, 1, 100, 1, 100, 20, 0.5, 20], [0, 20, 40, 20, 40, 39, 0, 39]
        ]}))
        .unwrap();
        assert_eq!(result.quads.len(), 2);
        assert_eq!(result.quads[0][0], 0.5);
        assert_eq!(result.quads[1][7], 39.0);
    }

    #[test]
    fn describe_node_deserializes() {
        let result: DescribeNodeResult = serde_json::from_value(json!({"node": {
            "nodeId": 0, "backendNodeId": 57, "nodeType": 1, "nodeName": "INPUT",
            "localName": "input", "nodeValue": "", "childNodeCount": 0,
            "attributes": ["type", "file", "multiple", ""],
            "frameId": "MAIN", "isScrollable": false
        }}))
        .unwrap();
        let node = result.node;
        assert_eq!(node.backend_node_id, 57);
        assert_eq!(node.node_type, 1);
        assert_eq!(node.node_name, "INPUT");
        assert_eq!(node.local_name, "input");
        assert_eq!(node.child_node_count, Some(0));
        assert_eq!(node.attribute("type"), Some("file"));
        assert_eq!(node.attribute("multiple"), Some(""));
        assert_eq!(node.attribute("name"), None);
        assert_eq!(node.frame_id.as_deref(), Some("MAIN"));
    }

    #[test]
    fn get_document_deserializes_nested() {
        let result: GetDocumentResult = serde_json::from_value(json!({"root": {
            "nodeId": 1, "backendNodeId": 2, "nodeType": 9, "nodeName": "#document",
            "localName": "", "nodeValue": "", "childNodeCount": 1,
            "documentURL": "https://example.com/", "baseURL": "https://example.com/",
            "xmlVersion": "",
            "children": [{"nodeId": 3, "parentId": 1, "backendNodeId": 4, "nodeType": 1,
                          "nodeName": "IFRAME", "localName": "iframe", "nodeValue": "",
                          "attributes": ["src", "/f"], "frameId": "CHILD",
                          "contentDocument": {"nodeId": 5, "backendNodeId": 6, "nodeType": 9,
                                              "nodeName": "#document", "localName": "",
                                              "nodeValue": "", "documentURL": "https://example.com/f"}}]
        }}))
        .unwrap();
        let root = result.root;
        assert_eq!(root.node_id, 1);
        assert_eq!(root.document_url.as_deref(), Some("https://example.com/"));
        assert_eq!(root.base_url.as_deref(), Some("https://example.com/"));
        let children = root.children.unwrap();
        assert_eq!(children[0].parent_id, Some(1));
        assert_eq!(children[0].frame_id.as_deref(), Some("CHILD"));
        let inner = children[0].content_document.as_deref().unwrap();
        assert_eq!(inner.backend_node_id, 6);
        assert_eq!(inner.document_url.as_deref(), Some("https://example.com/f"));
    }

    #[test]
    fn resolve_node_result_deserializes() {
        let result: ResolveNodeResult = serde_json::from_value(json!({"object": {
            "type": "object", "subtype": "node", "className": "HTMLInputElement",
            "description": "input#q", "objectId": "-1.2.3"
        }}))
        .unwrap();
        assert_eq!(result.object.object_id.as_deref(), Some("-1.2.3"));
        assert_eq!(result.object.subtype.as_deref(), Some("node"));
    }
}
