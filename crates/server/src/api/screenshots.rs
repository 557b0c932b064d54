//! `GET /screenshots/{session}/{shot}.jpg?token=…`: step screenshots by signed link (the
//! files and their links are `crate::screenshots`).

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use store::Uuid;

use crate::links::{self, Mode, TokenQuery};
use crate::screenshots::shot_of;
use crate::state::AppState;

/// The JPEG, for a valid unexpired token of that screenshot; 404 otherwise (a wrong token
/// reveals nothing about what exists).
pub async fn serve(
    State(app): State<AppState>,
    Path((session, file)): Path<(String, String)>,
    Query(query): Query<TokenQuery>,
) -> Response {
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"detail": "Screenshot not found or link expired"})),
        )
            .into_response()
    };
    let (Ok(session), Some(shot)) = (Uuid::parse_str(&session), shot_of(&file)) else {
        return not_found();
    };
    let shot_id = shot.to_string();
    let checked = links::verify(
        app.links.signer(),
        query.token(),
        &[Mode::Screenshot],
        Some(&shot_id),
        None,
        Utc::now(),
    );
    if let Err(refused) = checked {
        return refused.into_response();
    }
    match tokio::fs::read(app.screenshots.file(session, shot)).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "image/jpeg"),
                (header::CACHE_CONTROL, "private, max-age=300"),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => not_found(),
    }
}
