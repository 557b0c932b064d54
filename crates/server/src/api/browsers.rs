//! `/api/v3/browsers` (api-v3 §2.7): standalone browsers, and agent sessions' browsers under
//! the session's id. Handlers and their wire types.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::{BrowserQuery, BrowserRecord, BrowserStatus, SessionRecord};
use uuid::Uuid;

use super::errors::{ApiError, FieldError};
use super::extract::{Body, QueryParams, SessionId};
use super::models::{CountryCode, check_screen_size, item_page, timestamp};
use crate::browsers::{BrowserView, NewBrowser, Stopped};
use crate::links::{Mode, TokenQuery};
use crate::proxies::{ProxyChoice, ProxySettings};
use crate::sessions::StopStrategy;
use crate::state::AppState;

/// Longest timeout a browser may ask for, in minutes (the cloud's 4 hours).
pub const MAX_TIMEOUT_MINUTES: i64 = 240;
/// Timeout of a browser created without one, in minutes.
pub const DEFAULT_TIMEOUT_MINUTES: i64 = 60;
/// The cloud's answer to a longer timeout, word for word (`SessionTimeoutLimitExceededError`).
pub const TIMEOUT_TOO_LONG: &str = "Maximum session timeout is 4 hours (240 minutes).";

/// `CreateBrowserSessionRequest`: every field optional; those Tandem cannot honour (captchas,
/// recording, extensions) are type-checked and accepted, as a 422 would break SDK code that
/// sets them.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // Type-checked only.
pub struct CreateBrowserRequest {
    profile_id: Option<Uuid>,
    proxy_country_code: Option<CountryCode>,
    metadata: Option<HashMap<String, String>>,
    timeout: Option<i64>,
    browser_screen_width: Option<i64>,
    browser_screen_height: Option<i64>,
    allow_resizing: Option<bool>,
    pdf_renderer_enabled: Option<bool>,
    solve_captchas: Option<bool>,
    custom_proxy: Option<CustomProxy>,
    enable_recording: Option<bool>,
    extension_ids: Option<Vec<Uuid>>,
}

/// `customProxy`: `{host, port, username?, password?, ignoreCertErrors}`. The host may start
/// with `socks5://` (Tandem's addition) for a SOCKS5 proxy; HTTP otherwise. Its `Debug` and
/// its validation errors never show the username or password.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomProxy {
    host: String,
    port: i64,
    username: Option<Secret>,
    password: Option<Secret>,
    ignore_cert_errors: Option<bool>,
}

impl std::fmt::Debug for CustomProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomProxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("ignore_cert_errors", &self.ignore_cert_errors)
            .finish_non_exhaustive()
    }
}

/// A credential from a request: a string whose type error does not repeat the value.
#[derive(Default)]
pub struct Secret(String);

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(Secret(s)),
            _ => Err(serde::de::Error::custom("Input should be a valid string")),
        }
    }
}

impl CustomProxy {
    /// The proxy, or the field errors of a bad one.
    fn choice(self, errors: &mut Vec<FieldError>) -> Option<ProxyChoice> {
        use browser::proxy::{ProxyCredentials, ProxyScheme, UpstreamProxy};
        let at = |field: &str, msg: &str, kind: &str| {
            FieldError::new(
                vec![
                    serde_json::json!("body"),
                    serde_json::json!("customProxy"),
                    serde_json::json!(field),
                ],
                msg,
                kind,
            )
        };
        let Ok(port) = u16::try_from(self.port)
            .map_err(|_| ())
            .and_then(|p| if p == 0 { Err(()) } else { Ok(p) })
        else {
            errors.push(at(
                "port",
                "Input should be between 1 and 65535",
                "less_than_equal",
            ));
            return None;
        };
        let (scheme, host) = match self.host.split_once("://") {
            Some((scheme, host)) if scheme.eq_ignore_ascii_case("socks5") => {
                (ProxyScheme::Socks5, host)
            }
            Some((scheme, host)) if scheme.eq_ignore_ascii_case("http") => {
                (ProxyScheme::Http, host)
            }
            Some(_) => {
                errors.push(at(
                    "host",
                    "The proxy scheme must be http:// or socks5://",
                    "value_error",
                ));
                return None;
            }
            None => (ProxyScheme::Http, self.host.as_str()),
        };
        let credentials = match (self.username, self.password) {
            (None, None) => None,
            (username, password) => Some(ProxyCredentials {
                username: username.map(|s| s.0).unwrap_or_default(),
                password: password.map(|s| s.0).unwrap_or_default(),
            }),
        };
        match UpstreamProxy::new(scheme, host, port, credentials) {
            Ok(upstream) => Some(ProxyChoice {
                upstream,
                ignore_cert_errors: self.ignore_cert_errors.unwrap_or(false),
                custom: true,
            }),
            Err(e) => {
                errors.push(at("host", &e.to_string(), "value_error"));
                None
            }
        }
    }
}

impl CreateBrowserRequest {
    /// Validates the request: 403 for a timeout over the limit (as the cloud), 422 for the
    /// rest.
    fn into_spec(self, proxies: &ProxySettings) -> Result<NewBrowser, ApiError> {
        let minutes = self.timeout.unwrap_or(DEFAULT_TIMEOUT_MINUTES);
        if minutes > MAX_TIMEOUT_MINUTES {
            return Err(ApiError::Forbidden(TIMEOUT_TOO_LONG.into()));
        }
        let mut errors = Vec::new();
        if minutes < 1 {
            errors.push(FieldError::at(
                "body",
                "timeout",
                "Input should be greater than or equal to 1",
                "greater_than_equal",
            ));
        }
        check_screen_size(
            &mut errors,
            self.browser_screen_width,
            self.browser_screen_height,
        );
        if self.metadata.as_ref().is_some_and(|m| m.len() > 10) {
            errors.push(FieldError::at(
                "body",
                "metadata",
                "metadata supports at most 10 key-value pairs",
                "too_long",
            ));
        }
        if self.extension_ids.as_ref().is_some_and(|e| e.len() > 3) {
            errors.push(FieldError::at(
                "body",
                "extensionIds",
                "List should have at most 3 items",
                "too_long",
            ));
        }
        let custom_proxy = self.custom_proxy.and_then(|p| p.choice(&mut errors));
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        // A custom proxy wins over the country's: the record then shows no country.
        let (proxy_country_code, proxy) = match custom_proxy {
            Some(proxy) => (None, Some(proxy)),
            None => proxies.choose(self.proxy_country_code.map(|c| c.0)),
        };
        Ok(NewBrowser {
            profile_id: self.profile_id,
            proxy_country_code,
            proxy,
            screen_width: self.browser_screen_width,
            screen_height: self.browser_screen_height,
            metadata: self.metadata.unwrap_or_default().into_iter().collect(),
            timeout: Duration::from_secs(u64::try_from(minutes).unwrap_or(1) * 60),
            allow_resizing: self.allow_resizing.unwrap_or(false),
        })
    }
}

/// `UpdateBrowserSessionRequest`: `{"action": "stop"}`, the only action.
#[derive(Debug, Default, Deserialize)]
pub struct UpdateBrowserRequest {
    action: Option<BrowserAction>,
}

/// What a `PATCH /browsers/{id}` asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BrowserAction {
    /// Stop the browser.
    Stop,
}

/// `BrowserSessionView` (also valid as `BrowserSessionItemView`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowserResponse {
    id: Uuid,
    status: &'static str,
    live_url: Option<String>,
    cdp_url: Option<String>,
    #[serde(serialize_with = "timestamp")]
    timeout_at: DateTime<Utc>,
    #[serde(serialize_with = "timestamp")]
    started_at: DateTime<Utc>,
    #[serde(serialize_with = "optional_timestamp")]
    finished_at: Option<DateTime<Utc>>,
    proxy_used_mb: String,
    proxy_cost: String,
    browser_cost: &'static str,
    agent_session_id: Option<Uuid>,
    recording_url: Option<String>,
    recording_available: bool,
    metadata: BTreeMap<String, String>,
    extensions: Vec<Value>,
    /// Tandem's addition: the country whose proxy (from the operator's `[proxies]` table)
    /// the browser goes through; null without one, or with a `customProxy`.
    proxy_country_code: Option<String>,
    /// Tandem's addition: the profile the browser started from.
    profile_id: Option<Uuid>,
    /// Tandem's addition: why the profile was not saved when the browser stopped.
    profile_error: Option<String>,
}

/// Serializes an optional timestamp like [`timestamp`], `null` when absent.
pub fn optional_timestamp<S: serde::Serializer>(
    t: &Option<DateTime<Utc>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => timestamp(t, s),
        None => s.serialize_none(),
    }
}

impl AppState {
    /// The wire view of a browser, links included while it runs.
    pub fn browser_view(&self, view: &BrowserView) -> BrowserResponse {
        match view {
            BrowserView::Standalone(record) => self.standalone_view(record),
            BrowserView::Agent(session) => self.agent_browser_view(session),
        }
    }

    fn standalone_view(&self, r: &BrowserRecord) -> BrowserResponse {
        let active = r.status == BrowserStatus::Active;
        let proxy_bytes = self.proxy_bytes(r.id, r.proxy_bytes);
        BrowserResponse {
            id: r.id,
            status: r.status.as_str(),
            live_url: active.then(|| self.links.live_link(r.id, Mode::Control, r.timeout_at)),
            cdp_url: active.then(|| self.links.cdp_url(r.id, r.timeout_at)),
            timeout_at: r.timeout_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            proxy_used_mb: crate::proxies::megabytes(proxy_bytes),
            proxy_cost: self.proxies.cost_usd(proxy_bytes),
            browser_cost: "0",
            agent_session_id: None,
            recording_url: None,
            recording_available: false,
            metadata: r.metadata.clone(),
            extensions: Vec::new(),
            proxy_country_code: r.proxy_country_code.clone(),
            profile_id: r.profile_id,
            profile_error: r.profile_error.clone(),
        }
    }

    fn agent_browser_view(&self, s: &SessionRecord) -> BrowserResponse {
        let active = s.status.is_active();
        let proxy_bytes = self.proxy_bytes(s.id, s.proxy_bytes);
        BrowserResponse {
            id: s.id,
            status: if active { "active" } else { "stopped" },
            live_url: self.links.live_url(s),
            cdp_url: active.then(|| self.links.cdp_url(s.id, s.expires_at)),
            timeout_at: s.expires_at,
            started_at: s.created_at,
            finished_at: (!active).then_some(s.updated_at),
            proxy_used_mb: crate::proxies::megabytes(proxy_bytes),
            proxy_cost: self.proxies.cost_usd(proxy_bytes),
            browser_cost: "0",
            agent_session_id: Some(s.id),
            recording_url: None,
            recording_available: false,
            metadata: BTreeMap::new(),
            extensions: Vec::new(),
            proxy_country_code: s.proxy_country_code.clone(),
            profile_id: s.profile_id,
            profile_error: s.profile_error.clone(),
        }
    }
}

/// `POST /browsers`: 201 with the new browser.
pub async fn create(
    State(app): State<AppState>,
    Body(body): Body<CreateBrowserRequest>,
) -> Result<(StatusCode, Json<BrowserResponse>), ApiError> {
    let spec = body.into_spec(&app.proxies)?;
    let record = app.browsers.create(spec).await?;
    Ok((
        StatusCode::CREATED,
        Json(app.browser_view(&BrowserView::Standalone(Box::new(record)))),
    ))
}

/// `GET /browsers?pageSize=&pageNumber=&filterBy=&agentSessionId=&metadata=`: standalone
/// browsers, newest first; with `agentSessionId`, that session's browser alone.
pub async fn list(
    State(app): State<AppState>,
    mut query: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let (page_number, page_size) = query.page();
    let status = query
        .choice("filterBy", &["active", "stopped"])
        .and_then(BrowserStatus::parse);
    let agent_session = query.uuid("agentSessionId");
    let metadata: Vec<(String, Option<String>)> = query
        .all("metadata")
        .into_iter()
        .map(|m| match m.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (m, None),
        })
        .collect();
    query.finish()?;
    let offset = (page_number - 1).saturating_mul(page_size);
    let (items, total) = match agent_session {
        Some(id) => {
            // An agent session's browser: one item, if it matches the other filters.
            let session = app.sessions.get(id).await.ok();
            let view = session
                .map(|s| app.browser_view(&BrowserView::Agent(Box::new(s))))
                .filter(|v| status.is_none_or(|st| v.status == st.as_str()))
                .filter(|_| metadata.is_empty());
            let total = u64::from(view.is_some());
            (view.into_iter().skip(offset as usize).collect(), total)
        }
        None => {
            let (records, total) = app
                .browsers
                .list(&BrowserQuery {
                    status,
                    metadata,
                    offset,
                    limit: page_size,
                })
                .await?;
            let items: Vec<BrowserResponse> = records
                .into_iter()
                .map(|r| app.browser_view(&BrowserView::Standalone(Box::new(r))))
                .collect();
            (items, total)
        }
    };
    Ok(Json(item_page(items, total, page_number, page_size)))
}

/// `GET /browsers/{session_id}`.
pub async fn get_one(
    State(app): State<AppState>,
    SessionId(id): SessionId,
) -> Result<Json<BrowserResponse>, ApiError> {
    let view = app.browsers.get(id).await?;
    Ok(Json(app.browser_view(&view)))
}

/// `PATCH /browsers/{session_id}` with `{"action": "stop"}`.
pub async fn update(
    State(app): State<AppState>,
    SessionId(id): SessionId,
    Body(body): Body<UpdateBrowserRequest>,
) -> Result<Json<BrowserResponse>, ApiError> {
    match body.action {
        Some(BrowserAction::Stop) => {}
        None => {
            return Err(ApiError::invalid(FieldError::at(
                "body",
                "action",
                "Field required",
                "missing",
            )));
        }
    }
    let view = match app.browsers.stop(id).await? {
        Stopped::Standalone(record) => BrowserView::Standalone(record),
        // Stopping an agent session's browser stops the session.
        Stopped::Agent => BrowserView::Agent(Box::new(
            app.sessions.stop(id, StopStrategy::Session).await?,
        )),
    };
    Ok(Json(app.browser_view(&view)))
}

/// `GET /browsers/{session_id}/downloads?limit=&cursor=&includeUrls=`: the files the browser
/// downloaded (kept after it stops), with signed links when asked.
pub async fn downloads(
    State(app): State<AppState>,
    SessionId(id): SessionId,
    mut query: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let limit = usize::try_from(query.int("limit", 50, 1, 100)).unwrap_or(50);
    let cursor = query.text("cursor", 2048).filter(|c| !c.is_empty());
    let include_urls = query.boolean("includeUrls", false);
    query.finish()?;
    app.browsers.get(id).await?;
    let page = crate::workspaces::list_files(
        app.owners.kept_downloads(id),
        crate::workspaces::FileQuery {
            prefix: String::new(),
            limit,
            cursor,
            shallow: false,
        },
    )
    .await?;
    Ok(Json(super::workspaces::file_list(page, |f| {
        include_urls
            .then(|| {
                app.links.file_url(
                    "downloads",
                    id,
                    &f.path,
                    Mode::Download,
                    super::workspaces::DOWNLOAD_LINK_LIFETIME,
                )
            })
            .flatten()
    })))
}

/// `GET /files/downloads/{id}/{*path}?token=…`: a browser's kept download, by signed link.
pub async fn signed_download(
    State(app): State<AppState>,
    axum::extract::Path((owner, path)): axum::extract::Path<(String, String)>,
    axum::extract::Query(query): axum::extract::Query<TokenQuery>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let Ok(id) = Uuid::parse_str(&owner) else {
        return ApiError::NoRoute.into_response();
    };
    if let Err(refused) =
        super::workspaces::check_file_token(&app, query.token(), id, &path, Mode::Download)
    {
        return refused.into_response();
    }
    let root = app.owners.kept_downloads(id);
    let file = match crate::workspaces::file_path(&path) {
        Ok(clean) => crate::workspaces::inside(&root, &clean).await,
        Err(e) => Err(e),
    };
    match file {
        Ok(file) => super::workspaces::serve_file(&file, &path).await,
        Err(e) => ApiError::Workspace(e).into_response(),
    }
}
