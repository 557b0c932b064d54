//! The tools offered to the model: hand-written JSON Schemas, short descriptions.
//!
//! Hand-written rather than derived: the descriptions are prompt text worth choosing word by
//! word, and the schemas stay small (the model reads them on every call).

use serde_json::{Value, json};

use crate::llm::ToolDefinition;

/// The name of the tool that ends a task.
pub const DONE: &str = "done";

fn tool(name: &str, description: &str, properties: Value, required: &[&str]) -> ToolDefinition {
    ToolDefinition {
        name: name.to_string(),
        description: description.to_string(),
        parameters: json!({
            "type": "object",
            "properties": properties,
            "required": required,
        }),
    }
}

fn index(what: &str) -> Value {
    json!({"type": "integer", "description": format!("[index] of the {what} in the current state")})
}

/// The tools for one task. `upload` offers `browser_upload_file` (only when directories are
/// allowed); `output_schema` makes `done` carry `data` matching it.
pub fn tool_definitions(upload: bool, output_schema: Option<&Value>) -> Vec<ToolDefinition> {
    let mut tools = vec![
        tool(
            "browser_navigate",
            "Load a URL in the current tab, or in a new tab with new_tab=true.",
            json!({
                "url": {"type": "string"},
                "new_tab": {"type": "boolean"}
            }),
            &["url"],
        ),
        tool(
            "browser_click",
            "Click an element. A click that opens a tab switches to it.",
            json!({"index": index("element")}),
            &["index"],
        ),
        tool(
            "browser_type",
            "Type into a field (focuses it; clears it first unless clear=false; submit=true \
             presses Enter after). For a secret write <secret>name</secret>.",
            json!({
                "index": index("field"),
                "text": {"type": "string"},
                "clear": {"type": "boolean"},
                "submit": {"type": "boolean"}
            }),
            &["index", "text"],
        ),
        tool(
            "browser_scroll",
            "Scroll the page, or the scroll container [index], by pages screens (default 1).",
            json!({
                "direction": {"type": "string", "enum": ["up", "down"]},
                "pages": {"type": "number"},
                "index": index("scroll container")
            }),
            &["direction"],
        ),
        tool(
            "browser_send_keys",
            "Press keys in the focused element, e.g. \"Enter\", \"Escape\", \"Control+a\", \
             \"Tab Tab Enter\", \"ArrowDown\".",
            json!({"keys": {"type": "string"}}),
            &["keys"],
        ),
        tool(
            "browser_select",
            "Choose an option of a native select element by its text or value. For custom \
             dropdowns click them instead.",
            json!({"index": index("select"), "option": {"type": "string"}}),
            &["index", "option"],
        ),
        tool(
            "browser_switch_tab",
            "Make another tab the current one.",
            json!({"tab_id": {"type": "string", "description": "id from the tabs list"}}),
            &["tab_id"],
        ),
        tool(
            "browser_close_tab",
            "Close a tab.",
            json!({"tab_id": {"type": "string", "description": "id from the tabs list"}}),
            &["tab_id"],
        ),
        tool(
            "browser_go_back",
            "Go back to the previous page of the current tab.",
            json!({}),
            &[],
        ),
        tool(
            "browser_wait",
            "Wait for the page to settle (seconds, at most 10).",
            json!({"seconds": {"type": "number"}}),
            &[],
        ),
        tool(
            "browser_extract",
            "Read the whole page's text (not just the visible part) to answer a question; \
             the text is shown on the next step.",
            json!({"query": {"type": "string"}}),
            &["query"],
        ),
    ];
    if upload {
        tools.push(tool(
            "browser_upload_file",
            "Put a local file into a file input. Only files in the allowed upload \
             directories can be used.",
            json!({"index": index("file input"), "path": {"type": "string"}}),
            &["index", "path"],
        ));
    }
    tools.push(tool(
        "ask_human",
        "Ask the human sharing this browser for help (a login, a CAPTCHA, a choice only \
         they can make). Ends your turn.",
        json!({"question": {"type": "string"}}),
        &["question"],
    ));
    tools.push(done_tool(output_schema));
    tools
}

/// The `done` tool; with an output schema its `data` must match it.
pub fn done_tool(output_schema: Option<&Value>) -> ToolDefinition {
    match output_schema {
        None => tool(
            DONE,
            "Finish the task. text is the final answer for the user, with the data they \
             asked for, taken only from pages seen in this task. success=false if any part \
             could not be done.",
            json!({"text": {"type": "string"}, "success": {"type": "boolean"}}),
            &["text", "success"],
        ),
        Some(schema) => tool(
            DONE,
            "Finish the task. data is the final answer and must match the required JSON \
             schema, with values taken only from pages seen in this task. success=false if \
             any part could not be done.",
            json!({
                "data": schema_for_tool(schema),
                "success": {"type": "boolean"},
                "text": {"type": "string", "description": "a short note for the user"}
            }),
            &["data", "success"],
        ),
    }
}

/// The user's schema as a tool parameter: `$schema` dropped (providers reject it in tool
/// parameters); `$defs` kept, as references inside point to them.
fn schema_for_tool(schema: &Value) -> Value {
    let mut schema = schema.clone();
    if let Some(object) = schema.as_object_mut() {
        object.remove("$schema");
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn done_carries_the_output_schema() {
        let schema = json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object", "properties": {"price": {"type": "number"}}});
        let done = done_tool(Some(&schema));
        assert_eq!(done.parameters["properties"]["data"]["type"], "object");
        assert!(
            done.parameters["properties"]["data"]
                .get("$schema")
                .is_none()
        );
        let names: Vec<_> = tool_definitions(false, None)
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert!(!names.contains(&"browser_upload_file".to_string()));
        assert_eq!(names.last().map(String::as_str), Some(DONE));
    }
}
