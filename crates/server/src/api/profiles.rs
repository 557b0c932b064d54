//! `/api/v3/profiles` (api-v3 §2.8): handlers and their wire types.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::ProfileRecord;
use uuid::Uuid;

use super::browsers::optional_timestamp;
use super::errors::{ApiError, FieldError};
use super::extract::{Body, ProfileId, QueryParams};
use super::models::{item_page, timestamp};
use crate::profiles::{ProfileChanges, ProfileError};
use crate::state::AppState;

/// Longest profile name.
const MAX_NAME: usize = 100;
/// Longest user id.
const MAX_USER_ID: usize = 255;

/// `ProfileCreateRequest` and `ProfileUpdateRequest`: `{name?, userId?}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileRequest {
    name: Option<String>,
    user_id: Option<String>,
}

impl ProfileRequest {
    fn validated(self) -> Result<ProfileChanges, ApiError> {
        let mut errors = Vec::new();
        for (field, value, max) in [
            ("name", &self.name, MAX_NAME),
            ("userId", &self.user_id, MAX_USER_ID),
        ] {
            if value.as_ref().is_some_and(|v| v.chars().count() > max) {
                errors.push(FieldError::at(
                    "body",
                    field,
                    format!("String should have at most {max} characters"),
                    "string_too_long",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        Ok(ProfileChanges {
            name: self.name,
            user_id: self.user_id,
        })
    }
}

/// `ProfileView`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileResponse {
    id: Uuid,
    user_id: Option<String>,
    name: Option<String>,
    #[serde(serialize_with = "optional_timestamp")]
    last_used_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "timestamp")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "timestamp")]
    updated_at: DateTime<Utc>,
    cookie_domains: Option<Vec<String>>,
    /// Tandem's addition: why the last save of a browser's state into the profile failed.
    last_save_error: Option<String>,
}

impl From<ProfileRecord> for ProfileResponse {
    fn from(p: ProfileRecord) -> ProfileResponse {
        ProfileResponse {
            id: p.id,
            user_id: p.user_id,
            name: p.name,
            last_used_at: p.last_used_at,
            created_at: p.created_at,
            updated_at: p.updated_at,
            cookie_domains: p.cookie_domains,
            last_save_error: p.last_save_error,
        }
    }
}

/// `POST /profiles`: 201 with the new, empty profile.
pub async fn create(
    State(app): State<AppState>,
    Body(body): Body<ProfileRequest>,
) -> Result<(StatusCode, Json<ProfileResponse>), ApiError> {
    let changes = body.validated()?;
    let record = app.profiles.create(changes.name, changes.user_id).await?;
    Ok((StatusCode::CREATED, Json(record.into())))
}

/// `GET /profiles?query=&pageNumber=&pageSize=` (also `page`/`page_size`, as TS sends).
pub async fn list(
    State(app): State<AppState>,
    mut query: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let name = query.text("query", 200);
    let (page_number, page_size) = query.page();
    query.finish()?;
    let (records, total) = app
        .profiles
        .list(
            name.as_deref().filter(|n| !n.is_empty()),
            (page_number - 1).saturating_mul(page_size),
            page_size,
        )
        .await?;
    let items: Vec<ProfileResponse> = records.into_iter().map(Into::into).collect();
    Ok(Json(item_page(items, total, page_number, page_size)))
}

/// `GET /profiles/{profile_id}`.
pub async fn get_one(
    State(app): State<AppState>,
    ProfileId(id): ProfileId,
) -> Result<Json<ProfileResponse>, ApiError> {
    Ok(Json(app.profiles.get(id).await?.into()))
}

/// `PATCH /profiles/{profile_id}` with `{name?, userId?}`.
pub async fn update(
    State(app): State<AppState>,
    ProfileId(id): ProfileId,
    Body(body): Body<ProfileRequest>,
) -> Result<Json<ProfileResponse>, ApiError> {
    let changes = body.validated()?;
    Ok(Json(app.profiles.update(id, changes).await?.into()))
}

/// `DELETE /profiles/{profile_id}`: 204 with no body.
pub async fn delete(
    State(app): State<AppState>,
    ProfileId(id): ProfileId,
) -> Result<StatusCode, ApiError> {
    app.profiles.delete(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

impl From<ProfileError> for ApiError {
    fn from(e: ProfileError) -> ApiError {
        ApiError::Session(e.into())
    }
}
