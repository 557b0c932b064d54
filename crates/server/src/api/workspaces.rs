//! `/api/v3/workspaces` (api-v3 §2.9), and the signed file links it hands out
//! (`/files/workspaces/{id}/{path}?token=…`: PUT to upload, GET to download, no API key, as
//! the SDKs' upload and download helpers expect). Handlers and their wire types.

use axum::Json;
use axum::body::Body as RawBody;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use store::WorkspaceRecord;
use uuid::Uuid;

use super::errors::{ApiError, FieldError};
use super::extract::{Body, QueryParams, WorkspaceId};
use super::models::{item_page, timestamp};
use crate::links::{self, LinkError, Mode, TokenQuery};
use crate::state::AppState;
use crate::workspaces::{FileEntry, FilePage, FileQuery, WorkspaceError, file_path};

/// How long an `uploadUrl` works (the cloud's 5 minutes).
pub const UPLOAD_LINK_LIFETIME: chrono::Duration = chrono::Duration::minutes(5);
/// How long a download `url` works (the cloud says 60 s; the SDK downloads at once, but a
/// slow machine should not race the expiry).
pub const DOWNLOAD_LINK_LIFETIME: chrono::Duration = chrono::Duration::minutes(15);
/// Where uploads go when the request names no prefix, as in the cloud's examples.
const DEFAULT_UPLOAD_PREFIX: &str = "uploads";

/// `WorkspaceCreateRequest` / `WorkspaceUpdateRequest`: `{name?}`; may be absent.
#[derive(Debug, Default, Deserialize)]
pub struct WorkspaceRequest {
    name: Option<String>,
}

impl WorkspaceRequest {
    fn name(self) -> Result<Option<String>, ApiError> {
        if self.name.as_ref().is_some_and(|n| n.chars().count() > 100) {
            return Err(ApiError::invalid(FieldError::at(
                "body",
                "name",
                "String should have at most 100 characters",
                "string_too_long",
            )));
        }
        Ok(self.name)
    }
}

/// `WorkspaceView`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceResponse {
    id: Uuid,
    name: Option<String>,
    #[serde(serialize_with = "timestamp")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "timestamp")]
    updated_at: DateTime<Utc>,
}

impl From<WorkspaceRecord> for WorkspaceResponse {
    fn from(w: WorkspaceRecord) -> WorkspaceResponse {
        WorkspaceResponse {
            id: w.id,
            name: w.name,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// One file in a listing (`FileInfo`, `BrowserDownloadFile`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileInfo {
    path: String,
    size: u64,
    #[serde(serialize_with = "timestamp")]
    last_modified: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

/// A file listing as both `FileListResponse` and `BrowserDownloadListResponse`.
pub fn file_list(page: FilePage, url: impl Fn(&FileEntry) -> Option<String>) -> Value {
    let files: Vec<FileInfo> = page
        .files
        .iter()
        .map(|f| FileInfo {
            path: f.path.clone(),
            size: f.size,
            last_modified: f.modified,
            url: url(f),
        })
        .collect();
    let mut body = json!({
        "files": files,
        "nextCursor": page.next_cursor,
        "hasMore": page.next_cursor.is_some(),
    });
    if let Some(folders) = page.folders {
        body["folders"] = json!(folders);
    }
    body
}

/// `FileUploadRequest`: 1 to 10 files.
#[derive(Debug, Default, Deserialize)]
pub struct UploadRequest {
    files: Vec<UploadItem>,
}

/// `FileUploadItem`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // Type-checked only: the PUT carries the real type and size.
pub struct UploadItem {
    name: String,
    content_type: Option<String>,
    size: Option<i64>,
}

fn workspace_error(e: WorkspaceError) -> ApiError {
    ApiError::Workspace(e)
}

/// `POST /workspaces` (with or without a body): 201.
pub async fn create(
    State(app): State<AppState>,
    Body(body): Body<WorkspaceRequest>,
) -> Result<(StatusCode, Json<WorkspaceResponse>), ApiError> {
    let record = app
        .workspaces
        .create(body.name()?)
        .await
        .map_err(workspace_error)?;
    Ok((StatusCode::CREATED, Json(record.into())))
}

/// `GET /workspaces?pageSize=&pageNumber=`.
pub async fn list(
    State(app): State<AppState>,
    mut query: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let (page_number, page_size) = query.page();
    query.finish()?;
    let (records, total) = app
        .workspaces
        .list((page_number - 1).saturating_mul(page_size), page_size)
        .await
        .map_err(workspace_error)?;
    let items: Vec<WorkspaceResponse> = records.into_iter().map(Into::into).collect();
    Ok(Json(item_page(items, total, page_number, page_size)))
}

/// `GET /workspaces/{workspace_id}`.
pub async fn get_one(
    State(app): State<AppState>,
    WorkspaceId(id): WorkspaceId,
) -> Result<Json<WorkspaceResponse>, ApiError> {
    let record = app.workspaces.get(id).await.map_err(workspace_error)?;
    Ok(Json(record.into()))
}

/// `PATCH /workspaces/{workspace_id}` with `{name?}`.
pub async fn update(
    State(app): State<AppState>,
    WorkspaceId(id): WorkspaceId,
    Body(body): Body<WorkspaceRequest>,
) -> Result<Json<WorkspaceResponse>, ApiError> {
    let record = app
        .workspaces
        .update(id, body.name()?)
        .await
        .map_err(workspace_error)?;
    Ok(Json(record.into()))
}

/// `DELETE /workspaces/{workspace_id}`: 204, files and all.
pub async fn delete(
    State(app): State<AppState>,
    WorkspaceId(id): WorkspaceId,
) -> Result<StatusCode, ApiError> {
    app.workspaces.delete(id).await.map_err(workspace_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reads `prefix`, `limit`, `cursor` and `shallow` of a file listing.
pub fn file_query(query: &mut QueryParams) -> FileQuery {
    FileQuery {
        prefix: query.text("prefix", 1024).unwrap_or_default(),
        limit: usize::try_from(query.int("limit", 50, 1, 100)).unwrap_or(50),
        cursor: query.text("cursor", 2048).filter(|c| !c.is_empty()),
        shallow: query.boolean("shallow", false),
    }
}

/// `GET /workspaces/{workspace_id}/files?prefix=&limit=&cursor=&includeUrls=&shallow=`.
pub async fn files(
    State(app): State<AppState>,
    WorkspaceId(id): WorkspaceId,
    mut query: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let files = file_query(&mut query);
    let include_urls = query.boolean("includeUrls", false);
    query.finish()?;
    let page = app
        .workspaces
        .files(id, files)
        .await
        .map_err(workspace_error)?;
    Ok(Json(file_list(page, |f| {
        include_urls
            .then(|| {
                app.links.file_url(
                    "workspaces",
                    id,
                    &f.path,
                    Mode::Download,
                    DOWNLOAD_LINK_LIFETIME,
                )
            })
            .flatten()
    })))
}

/// `POST /workspaces/{workspace_id}/files/upload?prefix=`: a signed PUT link per file.
pub async fn upload(
    State(app): State<AppState>,
    WorkspaceId(id): WorkspaceId,
    mut query: QueryParams,
    Body(body): Body<UploadRequest>,
) -> Result<Json<Value>, ApiError> {
    let prefix = query.text("prefix", 1024);
    query.finish()?;
    app.workspaces.get(id).await.map_err(workspace_error)?;
    if body.files.is_empty() || body.files.len() > 10 {
        return Err(ApiError::invalid(FieldError::at(
            "body",
            "files",
            "List should have between 1 and 10 items",
            "too_long",
        )));
    }
    let prefix = prefix
        .map(|p| p.trim_matches('/').to_string())
        .unwrap_or_else(|| DEFAULT_UPLOAD_PREFIX.to_string());
    let mut answers = Vec::new();
    for (i, item) in body.files.iter().enumerate() {
        let field = |msg: String| {
            ApiError::invalid(FieldError::new(
                vec![json!("body"), json!("files"), json!(i), json!("name")],
                msg,
                "value_error",
            ))
        };
        if item.name.is_empty() || item.name.chars().count() > 255 {
            return Err(field("name must have 1 to 255 characters".into()));
        }
        let joined = if prefix.is_empty() {
            item.name.clone()
        } else {
            format!("{prefix}/{}", item.name)
        };
        let path = file_path(&joined).map_err(|e| field(e.to_string()))?;
        let url = app
            .links
            .file_url("workspaces", id, &path, Mode::Upload, UPLOAD_LINK_LIFETIME)
            .ok_or_else(|| field("cannot build an upload link".into()))?;
        answers.push(json!({"name": item.name, "uploadUrl": url, "path": path}));
    }
    Ok(Json(json!({ "files": answers })))
}

/// `DELETE /workspaces/{workspace_id}/files?path=`: 204.
pub async fn delete_file(
    State(app): State<AppState>,
    WorkspaceId(id): WorkspaceId,
    mut query: QueryParams,
) -> Result<StatusCode, ApiError> {
    let path = query.text("path", 1024);
    query.finish()?;
    let Some(path) = path else {
        return Err(ApiError::invalid(FieldError::at(
            "query",
            "path",
            "Field required",
            "missing",
        )));
    };
    app.workspaces
        .delete_file(id, &path)
        .await
        .map_err(workspace_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /workspaces/{workspace_id}/size`.
pub async fn size(
    State(app): State<AppState>,
    WorkspaceId(id): WorkspaceId,
) -> Result<Json<Value>, ApiError> {
    let (bytes, files) = app.workspaces.size(id).await.map_err(workspace_error)?;
    Ok(Json(json!({ "sizeBytes": bytes, "fileCount": files })))
}

/// Checks a file link's token: genuine, unexpired, for this owner and path, in `mode`.
pub fn check_file_token(
    app: &AppState,
    token: Option<&str>,
    owner: Uuid,
    path: &str,
    mode: Mode,
) -> Result<(), LinkError> {
    let owner = owner.to_string();
    links::verify(
        app.links.signer(),
        token,
        &[mode],
        Some(&owner),
        Some(path),
        Utc::now(),
    )
    .map(|_| ())
}

/// `PUT|GET /files/workspaces/{workspace}/{*path}?token=…`: the signed upload and download
/// links of workspace files.
pub async fn signed_file(
    State(app): State<AppState>,
    method: Method,
    Path((workspace, path)): Path<(String, String)>,
    Query(query): Query<TokenQuery>,
    body: RawBody,
) -> Response {
    let Ok(id) = Uuid::parse_str(&workspace) else {
        return ApiError::NoRoute.into_response();
    };
    let mode = if method == Method::PUT {
        Mode::Upload
    } else {
        Mode::Download
    };
    if let Err(refused) = check_file_token(&app, query.token(), id, &path, mode) {
        return refused.into_response();
    }
    if mode == Mode::Upload {
        return match app.workspaces.write(id, &path, body).await {
            Ok(size) => Json(json!({ "path": path, "size": size })).into_response(),
            Err(e) => ApiError::Workspace(e).into_response(),
        };
    }
    match app.workspaces.existing(id, &path).await {
        Ok(file) => serve_file(&file, &path).await,
        Err(e) => ApiError::Workspace(e).into_response(),
    }
}

/// A file as an attachment named after the last segment of `path`.
pub async fn serve_file(file: &std::path::Path, path: &str) -> Response {
    let Ok(bytes) = tokio::fs::read(file).await else {
        return ApiError::Workspace(WorkspaceError::FileNotFound).into_response();
    };
    crate::http::attachment(path.rsplit('/').next().unwrap_or("file"), bytes)
}
