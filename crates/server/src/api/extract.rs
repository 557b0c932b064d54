//! Request extractors whose failures are FastAPI-shaped 422s, never axum's plain-text
//! rejections: JSON bodies, the `{session_id}` path segment, and query parameters.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::json;
use uuid::Uuid;

use super::errors::{ApiError, FieldError};

/// A JSON body. An absent body and a literal `null` both mean `T::default()` (the SDKs send
/// bodyless POSTs); the `Content-Type` is not checked; unknown keys are ignored by `T`.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Default,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::invalid(FieldError::new(
                        vec![json!("body")],
                        format!("Cannot read the request body: {}", rejection.body_text()),
                        "body_read_error",
                    ))
                }
            })?;
        parse_body(&bytes).map(Body)
    }
}

/// Parses a request body; see [`Body`].
pub fn parse_body<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    let trimmed = bytes.trim_ascii();
    if trimmed.is_empty() || trimmed == b"null" {
        return Ok(T::default());
    }
    if trimmed.first() == Some(&b'[') || trimmed.first().is_some_and(u8::is_ascii_digit) {
        // serde would read a struct from an array; FastAPI accepts only objects.
        return Err(ApiError::invalid(FieldError::new(
            vec![json!("body")],
            "Input should be a valid dictionary or object to extract fields from",
            "model_attributes_type",
        )));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(trimmed);
    let value = serde_path_to_error::deserialize::<_, T>(&mut deserializer)
        .map_err(|e| body_error(Some(e.path()), e.inner()))?;
    deserializer.end().map_err(|e| body_error(None, &e))?;
    Ok(value)
}

fn body_error(path: Option<&serde_path_to_error::Path>, error: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let message = text.strip_suffix(&suffix).unwrap_or(&text).to_string();
    let field = match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => FieldError::new(
            vec![json!("body"), json!(error.column().saturating_sub(1))],
            format!("JSON decode error: {message}"),
            "json_invalid",
        ),
        Category::Data => {
            let mut loc = vec![json!("body")];
            for segment in path.into_iter().flat_map(|p| p.iter()) {
                use serde_path_to_error::Segment;
                match segment {
                    Segment::Seq { index } => loc.push(json!(index)),
                    Segment::Map { key } => loc.push(json!(key)),
                    Segment::Enum { variant } => loc.push(json!(variant)),
                    Segment::Unknown => loc.push(json!("?")),
                }
            }
            let kind = if loc.len() == 1 && message.starts_with("invalid type") {
                return ApiError::invalid(FieldError::new(
                    loc,
                    "Input should be a valid dictionary or object to extract fields from",
                    "model_attributes_type",
                ));
            } else if message.contains("unknown variant")
                || message.starts_with("Input should be '")
            {
                "enum"
            } else if message.contains("UUID") || message.contains("uuid") {
                "uuid_parsing"
            } else if message.starts_with("invalid type") {
                "type_error"
            } else {
                "value_error"
            };
            FieldError::new(loc, message, kind)
        }
    };
    ApiError::invalid(field)
}

/// The one path segment of a route, which must be a UUID (422 at `["path", name]`
/// otherwise, as the real API).
async fn path_uuid<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    name: &str,
) -> Result<Uuid, ApiError> {
    let invalid =
        |msg: String| ApiError::invalid(FieldError::at("path", name, msg, "uuid_parsing"));
    let Path(raw) = Path::<String>::from_request_parts(parts, state)
        .await
        .map_err(|e| invalid(e.body_text()))?;
    Uuid::parse_str(&raw).map_err(|e| invalid(format!("Input should be a valid UUID, {e}")))
}

/// The `{session_id}` path segment (sessions and browsers).
#[derive(Debug, Clone, Copy)]
pub struct SessionId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for SessionId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        path_uuid(parts, state, "session_id").await.map(SessionId)
    }
}

/// The `{profile_id}` path segment.
#[derive(Debug, Clone, Copy)]
pub struct ProfileId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for ProfileId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        path_uuid(parts, state, "profile_id").await.map(ProfileId)
    }
}

/// The `{workspace_id}` path segment.
#[derive(Debug, Clone, Copy)]
pub struct WorkspaceId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for WorkspaceId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        path_uuid(parts, state, "workspace_id")
            .await
            .map(WorkspaceId)
    }
}

/// Query parameters, read leniently (unknown keys ignored, the last of repeated keys wins)
/// and validated field by field into FastAPI-style errors.
#[derive(Debug, Default)]
pub struct QueryParams {
    pairs: Vec<(String, String)>,
    errors: Vec<FieldError>,
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        Ok(QueryParams::parse(query))
    }
}

impl QueryParams {
    /// Parses a raw query string.
    pub fn parse(query: &str) -> QueryParams {
        QueryParams {
            pairs: url::form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            errors: Vec::new(),
        }
    }

    fn raw(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every value of a repeated parameter (`metadata=a&metadata=b`), in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .collect()
    }

    /// A text parameter of at most `max` characters.
    pub fn text(&mut self, name: &str, max: usize) -> Option<String> {
        let raw = self.raw(name)?.to_string();
        if raw.chars().count() > max {
            self.errors.push(FieldError::at(
                "query",
                name,
                format!("String should have at most {max} characters"),
                "string_too_long",
            ));
            return None;
        }
        Some(raw)
    }

    /// One of `allowed`, if given.
    pub fn choice(&mut self, name: &str, allowed: &[&'static str]) -> Option<&'static str> {
        let raw = self.raw(name)?;
        if let Some(found) = allowed.iter().find(|a| **a == raw) {
            return Some(found);
        }
        let quoted: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
        self.errors.push(FieldError::at(
            "query",
            name,
            format!("Input should be {}", quoted.join(" or ")),
            "enum",
        ));
        None
    }

    /// A boolean parameter (`true`/`false`, as the SDKs send; also `1`/`0`), `default` when
    /// absent.
    pub fn boolean(&mut self, name: &str, default: bool) -> bool {
        match self.raw(name).map(str::to_ascii_lowercase).as_deref() {
            None => default,
            Some("true" | "1" | "yes" | "on") => true,
            Some("false" | "0" | "no" | "off") => false,
            Some(_) => {
                self.errors.push(FieldError::at(
                    "query",
                    name,
                    "Input should be a valid boolean, unable to interpret input",
                    "bool_parsing",
                ));
                default
            }
        }
    }

    /// An integer parameter that may come under either of two names (the TS SDK sends
    /// `page`/`page_size` where Python sends `pageNumber`/`pageSize`); the first name wins.
    pub fn int_either(&mut self, names: [&str; 2], default: u64, min: u64, max: u64) -> u64 {
        let name = if self.raw(names[0]).is_some() {
            names[0]
        } else {
            names[1]
        };
        self.int(name, default, min, max)
    }

    /// `(pageNumber, pageSize)` of the browsers, profiles and workspaces lists (1-based,
    /// 1 to 100, default 10), also under the names the TS SDK sends for profiles (`page`,
    /// `page_size`).
    pub fn page(&mut self) -> (u64, u64) {
        let number = self.int_either(["pageNumber", "page"], 1, 1, 1_000_000);
        let size = self.int_either(["pageSize", "page_size"], 10, 1, 100);
        (number, size)
    }

    /// An integer parameter within `min..=max`, `default` when absent.
    pub fn int(&mut self, name: &str, default: u64, min: u64, max: u64) -> u64 {
        let Some(raw) = self.raw(name) else {
            return default;
        };
        let error = match raw.trim().parse::<i64>() {
            Err(_) => FieldError::at(
                "query",
                name,
                "Input should be a valid integer, unable to parse string as an integer",
                "int_parsing",
            ),
            Ok(n) if n < min as i64 => FieldError::at(
                "query",
                name,
                format!("Input should be greater than or equal to {min}"),
                "greater_than_equal",
            ),
            Ok(n) if n > max as i64 => FieldError::at(
                "query",
                name,
                format!("Input should be less than or equal to {max}"),
                "less_than_equal",
            ),
            Ok(n) => return n as u64,
        };
        self.errors.push(error);
        default
    }

    /// An optional UUID parameter.
    pub fn uuid(&mut self, name: &str) -> Option<Uuid> {
        let raw = self.raw(name)?;
        match Uuid::parse_str(raw.trim()) {
            Ok(id) => Some(id),
            Err(e) => {
                self.errors.push(FieldError::at(
                    "query",
                    name,
                    format!("Input should be a valid UUID, {e}"),
                    "uuid_parsing",
                ));
                None
            }
        }
    }

    /// Ok when every parameter read so far was valid; else every error at once.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, serde::Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Sample {
        keep_alive: Option<bool>,
        session_id: Option<Uuid>,
    }

    fn errors(result: Result<Sample, ApiError>) -> Vec<FieldError> {
        match result {
            Err(ApiError::Validation(errors)) => errors,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn empty_null_and_unknown_keys_are_fine() {
        assert_eq!(parse_body::<Sample>(b"").unwrap(), Sample::default());
        assert_eq!(parse_body::<Sample>(b" null ").unwrap(), Sample::default());
        assert_eq!(
            parse_body::<Sample>(br#"{"keepAlive": true, "extra": [1]}"#).unwrap(),
            Sample {
                keep_alive: Some(true),
                session_id: None
            }
        );
    }

    #[test]
    fn bad_json_and_bad_types_name_the_place() {
        let e = errors(parse_body::<Sample>(b"{\"keepAlive\": "));
        assert_eq!(e[0].kind, "json_invalid");
        let e = errors(parse_body::<Sample>(br#"{"keepAlive": "yes"}"#));
        assert_eq!(e[0].loc, vec![json!("body"), json!("keepAlive")]);
        let e = errors(parse_body::<Sample>(br#"{"sessionId": "nope"}"#));
        assert_eq!(e[0].loc, vec![json!("body"), json!("sessionId")]);
        assert_eq!(e[0].kind, "uuid_parsing");
        let e = errors(parse_body::<Sample>(b"[1]"));
        assert_eq!(e[0].kind, "model_attributes_type");
        let e = errors(parse_body::<Sample>(b"{} x"));
        assert_eq!(e[0].kind, "json_invalid");
    }

    #[test]
    fn query_params_validate_ranges_and_uuids() {
        let mut q = QueryParams::parse("page_size=0&page=x&after=bad&limit=5&limit=7");
        assert_eq!(q.int("limit", 10, 1, 100), 7);
        q.int("page_size", 20, 1, 100);
        q.int("page", 1, 1, u64::MAX >> 1);
        q.uuid("after");
        let Err(ApiError::Validation(errors)) = q.finish() else {
            panic!("expected errors")
        };
        let kinds: Vec<_> = errors.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["greater_than_equal", "int_parsing", "uuid_parsing"]);
        let mut q = QueryParams::parse("");
        assert_eq!(q.int("page", 1, 1, 10), 1);
        assert!(q.finish().is_ok());
    }
}
