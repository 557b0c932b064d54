//! A task's output schema made fit for `done`'s parameters.
//!
//! The tools' own schemas are hand-written, each beside its tool (`actions/tools/`): the
//! descriptions are prompt text worth choosing word by word, and the schemas stay small (the
//! model reads them on every call).

use serde_json::Value;

/// Where the user's schema sits inside the `done` tool's parameters.
const DATA_POINTER: &str = "#/properties/data";

/// The user's schema as the `data` parameter, and its definitions (`$defs`, `definitions`)
/// to put at the parameters' root. References such as pydantic's `#/$defs/Item` resolve
/// against the document root, which in a tool is the parameters object: left inside `data`
/// they would dangle. Other local references (`#`, `#/properties/...`) are rewritten to
/// point into `data`. `$schema` is dropped: providers reject it in tool parameters.
pub(super) fn schema_for_tool(schema: &Value) -> (Value, serde_json::Map<String, Value>) {
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
    use serde_json::json;

    use crate::actions::tools::{DONE, Done, Offer, Tool, tool_definitions};
    use crate::llm::ToolDefinition;

    fn done_tool(output_schema: Option<&Value>) -> ToolDefinition {
        let offer = Offer {
            upload: false,
            output_schema,
        };
        Done::definition(offer).expect("done is always offered")
    }

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
