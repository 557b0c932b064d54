//! Structured output: the `done` data checked against the client's `outputSchema`.
//!
//! Remote `$ref`s are never fetched (the crate is built without its HTTP and file resolvers):
//! a user-supplied schema must not make the server reach out anywhere.

use serde_json::Value;

/// Most validation errors told to the model; the first few say enough to fix the data.
const MAX_ERRORS: usize = 5;

/// A compiled output schema.
pub(crate) struct OutputSchema {
    validator: jsonschema::Validator,
}

impl OutputSchema {
    /// Compiles `schema`; the error says why it is not a usable JSON Schema.
    pub(crate) fn compile(schema: &Value) -> Result<OutputSchema, String> {
        jsonschema::validator_for(schema)
            .map(|validator| OutputSchema { validator })
            .map_err(|e| format!("the output schema is not a valid JSON Schema: {e}"))
    }

    /// The data as the client gets it, or the errors (for the corrective retry).
    pub(crate) fn check(&self, data: Option<&Value>) -> Result<Value, String> {
        let Some(data) = data else {
            return Err("data is missing: put the answer in data, matching the schema".into());
        };
        // Models sometimes send the object serialised as a string.
        let data = match data {
            Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| data.clone()),
            other => other.clone(),
        };
        let errors: Vec<String> = self
            .validator
            .iter_errors(&data)
            .take(MAX_ERRORS)
            .map(|e| {
                let at = e.instance_path().to_string();
                if at.is_empty() {
                    e.to_string()
                } else {
                    format!("at {at}: {e}")
                }
            })
            .collect();
        if errors.is_empty() {
            Ok(data)
        } else {
            Err(errors.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn validates_and_explains() {
        let schema = OutputSchema::compile(&json!({
            "type": "object",
            "properties": {"name": {"type": "string"}, "price": {"type": "number"}},
            "required": ["name", "price"]
        }))
        .unwrap();
        let good = json!({"name": "Lamp", "price": 24.5});
        assert_eq!(schema.check(Some(&good)).unwrap(), good);
        assert_eq!(
            schema
                .check(Some(&json!("{\"name\":\"Lamp\",\"price\":1}")))
                .unwrap(),
            json!({"name": "Lamp", "price": 1})
        );
        let bad = schema
            .check(Some(&json!({"name": "Lamp", "price": "cheap"})))
            .unwrap_err();
        assert!(bad.contains("/price"), "{bad}");
        assert!(schema.check(None).is_err());
    }

    #[test]
    fn remote_refs_are_not_fetched() {
        let schema = json!({"$ref": "http://127.0.0.1:9/schema.json"});
        assert!(OutputSchema::compile(&schema).is_err());
    }
}
