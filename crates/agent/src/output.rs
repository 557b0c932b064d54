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
        use std::io::{Read, Write};
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

        // A server that would hand out a valid schema: if the reference were fetched, the
        // schema would compile and the server would have seen a connection.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let server = {
            let (connections, stop) = (connections.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((mut socket, _)) => {
                            connections.fetch_add(1, Ordering::Relaxed);
                            let _ = socket.set_nonblocking(false);
                            let _ = socket.read(&mut [0; 4096]);
                            let body = r#"{"type": "string"}"#;
                            let _ = write!(
                                socket,
                                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                                body.len()
                            );
                        }
                        Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                    }
                }
            })
        };
        let schema = json!({"$ref": format!("http://127.0.0.1:{port}/schema.json")});
        let compiled = OutputSchema::compile(&schema);
        stop.store(true, Ordering::Relaxed);
        server.join().unwrap();
        assert!(compiled.is_err(), "the remote reference was resolved");
        assert_eq!(
            connections.load(Ordering::Relaxed),
            0,
            "the schema was fetched"
        );
    }
}
