//! CDP `Accessibility` domain.
//!
//! The accessibility tree gives roles, accessible names and widget states (checked, expanded,
//! disabled, ...) that the DOM alone does not. Tandem's perception asks for it only where
//! needed: the full tree costs over a second on large pages, much more than a DOMSnapshot.
//! AX nodes link back to DOM nodes through `backendDOMNodeId`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::command::{Command, Empty};
use crate::protocol::dom::{BackendNodeId, NodeId};
use crate::protocol::page::FrameId;
use crate::protocol::runtime::RemoteObjectId;

/// Identifies an AX node within one tree fetch; not stable across calls without
/// `Accessibility.enable`.
pub type AxNodeId = String;

/// A computed accessibility value (a role, a name, a property).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AxValue {
    /// `"role"`, `"internalRole"`, `"computedString"`, `"string"`, `"boolean"`, `"tristate"`,
    /// `"booleanOrUndefined"`, `"idref"`, `"idrefList"`, `"integer"`, `"number"`, `"token"`,
    /// `"tokenList"`, `"node"`, `"nodeList"`, `"valueUndefined"`, ...
    #[serde(rename = "type")]
    pub r#type: String,
    /// The value: a string for roles and names, a bool for most states, `"mixed"` for a
    /// tristate; `None` for `valueUndefined`.
    pub value: Option<Value>,
}

impl AxValue {
    /// The value when it is a string (roles, names, descriptions).
    pub fn as_str(&self) -> Option<&str> {
        self.value.as_ref().and_then(Value::as_str)
    }
}

/// A named property of an AX node, e.g. `focusable: true`, `checked: "mixed"`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AxProperty {
    /// Property name: `"focusable"`, `"editable"`, `"checked"`, `"expanded"`, `"disabled"`,
    /// `"required"`, `"level"`, ... (a string: the list grows).
    pub name: String,
    /// Its value.
    pub value: AxValue,
}

/// A node of the accessibility tree.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AxNode {
    /// Id within this tree.
    pub node_id: AxNodeId,
    /// Ignored nodes are not exposed to assistive technology (hidden, presentational, ...);
    /// they still appear to keep the tree connected.
    pub ignored: bool,
    /// Why the node is ignored.
    pub ignored_reasons: Vec<AxProperty>,
    /// ARIA role, e.g. `"button"`, `"link"`, `"textbox"`, `"generic"`.
    pub role: Option<AxValue>,
    /// Chromium's internal role.
    pub chrome_role: Option<AxValue>,
    /// Accessible name: what a screen reader would call the element.
    pub name: Option<AxValue>,
    /// Accessible description.
    pub description: Option<AxValue>,
    /// Value of a widget (text field content, slider position).
    pub value: Option<AxValue>,
    /// Other properties.
    pub properties: Vec<AxProperty>,
    /// Parent AX node.
    pub parent_id: Option<AxNodeId>,
    /// Child AX nodes, in order.
    pub child_ids: Vec<AxNodeId>,
    /// The DOM node it comes from; `None` for nodes without one (e.g. the root web area of an
    /// iframe, some pseudo content).
    #[serde(rename = "backendDOMNodeId")]
    pub backend_dom_node_id: Option<BackendNodeId>,
    /// Frame of the node's document.
    pub frame_id: Option<FrameId>,
}

impl AxNode {
    /// A property by name.
    pub fn property(&self, name: &str) -> Option<&AxValue> {
        self.properties
            .iter()
            .find(|property| property.name == name)
            .map(|property| &property.value)
    }
}

/// `Accessibility.enable`: keeps AX node ids stable between calls; turns on accessibility for
/// the page, which slows it until disabled. Not needed for one-off tree fetches.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Enable {}

impl Command for Enable {
    const METHOD: &'static str = "Accessibility.enable";
    type Response = Empty;
}

/// `Accessibility.disable`: turns accessibility back off.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Disable {}

impl Command for Disable {
    const METHOD: &'static str = "Accessibility.disable";
    type Response = Empty;
}

/// `Accessibility.getFullAXTree`: the whole tree of one frame's document, as a flat list.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetFullAxTree {
    /// Levels below the root to include; `None` for the whole tree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<i64>,
    /// Frame whose document to fetch; `None` for the main frame. Other frames are not
    /// included otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame_id: Option<FrameId>,
}

/// Result of [`GetFullAxTree`] and the other tree queries.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AxNodesResult {
    /// Nodes, root first; link them through `child_ids`.
    pub nodes: Vec<AxNode>,
}

/// Result of [`GetFullAxTree`].
pub type GetFullAxTreeResult = AxNodesResult;

impl Command for GetFullAxTree {
    const METHOD: &'static str = "Accessibility.getFullAXTree";
    type Response = GetFullAxTreeResult;
}

/// `Accessibility.getPartialAXTree`: one DOM node's AX node, with its ancestors, siblings and
/// children; cheap for checking a single element. Give one of the three ids.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPartialAxTree {
    /// Session-scoped DOM id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_id: Option<NodeId>,
    /// Stable DOM id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_node_id: Option<BackendNodeId>,
    /// JavaScript handle to the node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_id: Option<RemoteObjectId>,
    /// Include ancestors, siblings and children (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetch_relatives: Option<bool>,
}

/// Result of [`GetPartialAxTree`]: the node and, if asked, its relatives.
pub type GetPartialAxTreeResult = AxNodesResult;

impl Command for GetPartialAxTree {
    const METHOD: &'static str = "Accessibility.getPartialAXTree";
    type Response = GetPartialAxTreeResult;
}

/// `Accessibility.queryAXTree`: nodes in a DOM subtree with a given accessible name and/or
/// role (ignored nodes included); like Playwright's `getByRole`. Give one of the three ids
/// for the subtree root (e.g. the document).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryAxTree {
    /// Session-scoped DOM id of the root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_id: Option<NodeId>,
    /// Stable DOM id of the root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_node_id: Option<BackendNodeId>,
    /// JavaScript handle to the root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_id: Option<RemoteObjectId>,
    /// Exact accessible name to match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accessible_name: Option<String>,
    /// Exact role to match, e.g. `"button"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// Result of [`QueryAxTree`]: the matching nodes, ignored ones included.
pub type QueryAxTreeResult = AxNodesResult;

impl Command for QueryAxTree {
    const METHOD: &'static str = "Accessibility.queryAXTree";
    type Response = QueryAxTreeResult;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tree_queries_serialize() {
        let params = GetFullAxTree {
            depth: Some(3),
            frame_id: Some("F".into()),
        };
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"depth": 3, "frameId": "F"})
        );
        assert_eq!(GetFullAxTree::METHOD, "Accessibility.getFullAXTree");
        let params = QueryAxTree {
            backend_node_id: Some(1),
            accessible_name: Some("Sign in".into()),
            role: Some("button".into()),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"backendNodeId": 1, "accessibleName": "Sign in", "role": "button"})
        );
        assert_eq!(QueryAxTree::METHOD, "Accessibility.queryAXTree");
    }

    #[test]
    fn full_ax_tree_deserializes() {
        let result: AxNodesResult = serde_json::from_value(json!({"nodes": [
            {"nodeId": "1", "ignored": false,
             "role": {"type": "internalRole", "value": "RootWebArea"},
             "chromeRole": {"type": "internalRole", "value": 144},
             "name": {"type": "computedString", "value": "Example",
                      "sources": [{"type": "relatedElement", "attribute": "aria-labelledby"}]},
             "properties": [{"name": "focusable", "value": {"type": "booleanOrUndefined", "value": true}}],
             "childIds": ["5"], "backendDOMNodeId": 2, "frameId": "MAIN"},
            {"nodeId": "5", "ignored": false, "parentId": "1",
             "role": {"type": "role", "value": "checkbox"},
             "name": {"type": "computedString", "value": "Remember me"},
             "properties": [
                 {"name": "focusable", "value": {"type": "booleanOrUndefined", "value": true}},
                 {"name": "checked", "value": {"type": "tristate", "value": "mixed"}}
             ],
             "childIds": [], "backendDOMNodeId": 9},
            {"nodeId": "-1000002", "ignored": true,
             "ignoredReasons": [{"name": "uninteresting", "value": {"type": "boolean", "value": true}}],
             "role": {"type": "role", "value": "none"}, "childIds": [], "parentId": "1"}
        ]}))
        .unwrap();
        let [root, checkbox, ignored] = &result.nodes[..] else {
            panic!("expected three nodes: {result:?}");
        };
        assert_eq!(root.node_id, "1");
        assert_eq!(
            root.role.as_ref().and_then(AxValue::as_str),
            Some("RootWebArea")
        );
        assert_eq!(
            root.name.as_ref().and_then(AxValue::as_str),
            Some("Example")
        );
        assert_eq!(root.child_ids, ["5"]);
        assert_eq!(root.backend_dom_node_id, Some(2));
        assert_eq!(root.frame_id.as_deref(), Some("MAIN"));
        assert_eq!(
            checkbox.role.as_ref().map(|r| r.r#type.as_str()),
            Some("role")
        );
        assert_eq!(checkbox.parent_id.as_deref(), Some("1"));
        assert_eq!(
            checkbox.property("checked").and_then(AxValue::as_str),
            Some("mixed")
        );
        assert_eq!(
            checkbox.property("focusable").and_then(|v| v.value.clone()),
            Some(json!(true))
        );
        assert!(checkbox.property("disabled").is_none());
        assert!(ignored.ignored);
        assert_eq!(ignored.ignored_reasons[0].name, "uninteresting");
        assert_eq!(ignored.backend_dom_node_id, None);
    }
}
