//! The one place errors become HTTP responses, in FastAPI's shape: `{"detail": "..."}`, and
//! for validation `{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}` with 422.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use store::StoreErrorKind;

use crate::sessions::{HandoffError, SessionError};

use crate::workspaces::WorkspaceError;

/// Seconds a client should wait before retrying after a 429 (or a 503/507 of the storage);
/// at most 10 so the Python SDK honours it.
pub const RETRY_AFTER_SECS: u32 = 5;

/// The answer to a write the disk had no room for: nothing was saved.
pub const STORAGE_FULL: &str = "Insufficient storage: the server's disk is full, so nothing \
     was saved. Retry after space is freed";
/// The answer while the database cannot be reached: nothing was saved.
pub const STORAGE_UNAVAILABLE: &str = "The database is unavailable right now, so nothing \
     was saved. Retry in a few seconds";

/// One invalid input, FastAPI style.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    /// Where: `["body", "model"]`, `["query", "page_size"]`, `["path", "session_id"]`.
    pub loc: Vec<serde_json::Value>,
    /// What is wrong, for humans.
    pub msg: String,
    /// What is wrong, for machines (pydantic's error types where one fits).
    #[serde(rename = "type")]
    pub kind: String,
}

impl FieldError {
    /// An error at `loc` (strings or indexes).
    pub fn new(loc: Vec<serde_json::Value>, msg: impl Into<String>, kind: &str) -> FieldError {
        FieldError {
            loc,
            msg: msg.into(),
            kind: kind.to_string(),
        }
    }

    /// An error at `[source, name]`, e.g. `("query", "limit")`.
    pub fn at(source: &str, name: &str, msg: impl Into<String>, kind: &str) -> FieldError {
        FieldError::new(vec![json!(source), json!(name)], msg, kind)
    }
}

/// Everything an API call can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Missing or wrong API key.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// No such route.
    #[error("Not Found")]
    NoRoute,
    /// The route exists but not with this method.
    #[error("Method Not Allowed")]
    MethodNotAllowed,
    /// The request body exceeds the limit.
    #[error("Request body too large")]
    PayloadTooLarge,
    /// Refused by a limit the cloud answers with 403 (a browser timeout over 4 hours).
    #[error("{0}")]
    Forbidden(String),
    /// Malformed input.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// A domain error from the session layer.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// A domain error from the workspaces.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
}

impl From<crate::owners::OwnerError> for ApiError {
    fn from(e: crate::owners::OwnerError) -> ApiError {
        ApiError::Session(e.into())
    }
}

impl ApiError {
    /// A validation error with a single entry.
    pub fn invalid(error: FieldError) -> ApiError {
        ApiError::Validation(vec![error])
    }
}

fn detail(status: StatusCode, detail: impl Serialize) -> Response {
    (status, Json(json!({ "detail": detail }))).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Unauthorized(message) => detail(StatusCode::UNAUTHORIZED, message),
            ApiError::NoRoute => detail(StatusCode::NOT_FOUND, "Not Found"),
            ApiError::MethodNotAllowed => {
                detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
            }
            ApiError::PayloadTooLarge => {
                detail(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large")
            }
            ApiError::Forbidden(message) => detail(StatusCode::FORBIDDEN, message),
            ApiError::Validation(errors) => detail(StatusCode::UNPROCESSABLE_ENTITY, errors),
            ApiError::Session(error) => session_error(error),
            ApiError::Workspace(error) => workspace_error(error),
        }
    }
}

fn workspace_error(error: WorkspaceError) -> Response {
    let message = error.to_string();
    match error {
        WorkspaceError::NotFound | WorkspaceError::FileNotFound => {
            detail(StatusCode::NOT_FOUND, message)
        }
        WorkspaceError::BadPath(msg) => detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![FieldError::at("query", "path", msg, "value_error")],
        ),
        WorkspaceError::TooLarge => detail(StatusCode::PAYLOAD_TOO_LARGE, message),
        WorkspaceError::Store(e) => storage_error(e.kind(), &message),
        WorkspaceError::Io(e) => storage_error(store::io_kind(&e), &message),
    }
}

fn session_error(error: SessionError) -> Response {
    let message = error.to_string();
    match error {
        SessionError::NotFound
        | SessionError::ProfileNotFound
        | SessionError::WorkspaceNotFound => detail(StatusCode::NOT_FOUND, message),
        SessionError::TooManySessions { .. } => {
            let mut response = detail(StatusCode::TOO_MANY_REQUESTS, message);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
            response
        }
        SessionError::Busy | SessionError::Ended(_) => detail(StatusCode::CONFLICT, message),
        SessionError::Handoff(HandoffError::ApproveMissing) => {
            detail(StatusCode::UNPROCESSABLE_ENTITY, message)
        }
        SessionError::Handoff(
            HandoffError::NotWaiting
            | HandoffError::NoTask
            | HandoffError::QuestionPending
            | HandoffError::ApprovalPending,
        ) => detail(StatusCode::CONFLICT, message),
        SessionError::Proxy { custom: true, .. } => detail(StatusCode::BAD_REQUEST, message),
        SessionError::Proxy { custom: false, .. } => {
            tracing::warn!(error = %message, "a configured proxy cannot be used");
            detail(StatusCode::BAD_GATEWAY, message)
        }
        SessionError::Browser(_) | SessionError::ShuttingDown => {
            tracing::warn!(error = %message, "service unavailable");
            detail(StatusCode::SERVICE_UNAVAILABLE, message)
        }
        SessionError::Store(e) => storage_error(e.kind(), &message),
    }
}

/// The one mapping of a storage failure: a full disk is 507 and an unreachable database 503,
/// both with `Retry-After` (the operator fixes it, the client retries); only a failure that
/// is neither (a corrupt record, a bug) is a 500.
fn storage_error(kind: StoreErrorKind, message: &str) -> Response {
    let (status, text) = match kind {
        StoreErrorKind::Full => (StatusCode::INSUFFICIENT_STORAGE, STORAGE_FULL),
        StoreErrorKind::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, STORAGE_UNAVAILABLE),
        StoreErrorKind::Other => {
            tracing::error!(error = %message, "storage failure");
            return detail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal storage error; see the server log",
            );
        }
    };
    tracing::warn!(error = %message, status = status.as_u16(), "storage unavailable");
    let mut response = detail(status, text);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    response
}

/// Fallback for unknown routes.
pub async fn no_route() -> ApiError {
    ApiError::NoRoute
}

/// Fallback for a known route with the wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
