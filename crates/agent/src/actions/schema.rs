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
            "Put a local file into a file input. Only the files listed in \
             <uploadable_files> can be used.",
            json!({"index": index("file input"),
                   "path": {"type": "string", "description": "a path from <uploadable_files>"}}),
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
        Some(schema) => {
            let (data, definitions) = schema_for_tool(schema);
            let mut done = tool(
                DONE,
                "Finish the task. data is the final answer and must match the required JSON \
                 schema, with values taken only from pages seen in this task. success=false \
                 if any part could not be done.",
                json!({
                    "data": data,
                    "success": {"type": "boolean"},
                    "text": {"type": "string", "description": "a short note for the user"}
                }),
                &["data", "success"],
            );
            if let Some(object) = done.parameters.as_object_mut() {
                object.extend(definitions);
            }
            done
        }
    }
}

/// Where the user's schema sits inside the `done` tool's parameters.
const DATA_POINTER: &str = "#/properties/data";

/// The user's schema as the `data` parameter, and its definitions (`$defs`, `definitions`)
/// to put at the parameters' root. References such as pydantic's `#/$defs/Item` resolve
/// against the document root, which in a tool is the parameters object: left inside `data`
/// they would dangle. Other local references (`#`, `#/properties/...`) are rewritten to
/// point into `data`. `$schema` is dropped: providers reject it in tool parameters.
fn schema_for_tool(schema: &Value) -> (Value, serde_json::Map<String, Value>) {
    let mut schema = schema.clone();
    let mut definitions = serde_json::Map::new();
    if let Some(object) = schema.as_object_mut() {
        object.remove("$schema");
        for key in ["$defs", "definitions"] {
            if let Some(defs) = object.remove(key) {
                definitions.insert(key.to_string(), defs);
            }
        }
    }
    rewrite_refs(&mut schema);
    for defs in definitions.values_mut() {
        rewrite_refs(defs);
    }
    (schema, definitions)
}

/// Points the local `$ref`s of a schema moved to `data` at their new place; references to
/// the hoisted definitions stay as they are.
fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(target)) = object.get_mut("$ref")
                && let Some(local) = target.strip_prefix('#')
                && !local.starts_with("/$defs/")
                && !local.starts_with("/definitions/")
            {
                *target = format!("{DATA_POINTER}{local}");
            }
            for (key, inner) in object.iter_mut() {
                // Enum and const values are data, not schemas.
                if key != "enum" && key != "const" {
                    rewrite_refs(inner);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
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

    #[test]
    fn nested_model_definitions_resolve_from_the_parameters_root() {
        // What pydantic's model_json_schema() gives for a model with a nested model, a list
        // of them and an optional one.
        let schema = json!({
            "$defs": {
                "Price": {"properties": {"amount": {"type": "number"},
                                         "currency": {"type": "string"}},
                          "required": ["amount", "currency"], "title": "Price", "type": "object"},
                "Item": {"properties": {"name": {"type": "string"},
                                        "price": {"$ref": "#/$defs/Price"}},
                         "required": ["name", "price"], "title": "Item", "type": "object"}
            },
            "properties": {
                "items": {"items": {"$ref": "#/$defs/Item"}, "title": "Items", "type": "array"},
                "best": {"anyOf": [{"$ref": "#/$defs/Item"}, {"type": "null"}], "default": null},
                "again": {"$ref": "#/properties/best"}
            },
            "required": ["items"],
            "title": "Basket",
            "type": "object"
        });
        let done = done_tool(Some(&schema));
        let parameters = &done.parameters;
        assert!(parameters["properties"]["data"].get("$defs").is_none());
        assert_eq!(parameters["$defs"]["Item"]["title"], "Item");
        assert_eq!(
            parameters["properties"]["data"]["properties"]["again"]["$ref"],
            "#/properties/data/properties/best"
        );
        // The parameters are a schema of their own whose references all resolve.
        let validator = jsonschema::validator_for(parameters).expect("references resolve");
        let call = |item_price: Value| json!({"success": true, "data": {"items": [{"name": "Lamp", "price": item_price}]}});
        assert!(validator.is_valid(&call(json!({"amount": 24.99, "currency": "USD"}))));
        assert!(!validator.is_valid(&call(json!({"amount": "cheap"}))));
        assert!(!validator.is_valid(&json!({"success": true, "data": {"items": [], "again": 5}})));
    }
}
