//! SQL of the browser, profile and workspace records; [`PgStore`]'s `Store` impl calls
//! these.

use uuid::Uuid;

use super::PgStore;
use crate::rows::{BrowserRow, ProfileRow, WorkspaceRow, bound as count, convert};
use crate::{
    BrowserQuery, BrowserRecord, BrowserStatus, ProfileRecord, StoreError, WorkspaceRecord,
};

/// The `WHERE` clause of a browser list and its bound values, in order (`$1`, `$2`, ...).
fn browser_filter(query: &BrowserQuery) -> (String, Vec<String>) {
    let mut clauses = vec!["TRUE".to_string()];
    let mut values: Vec<String> = Vec::new();
    let param = |values: &mut Vec<String>, value: String| {
        values.push(value);
        format!("${}", values.len())
    };
    if let Some(status) = query.status {
        let p = param(&mut values, status.as_str().to_string());
        clauses.push(format!("status = {p}"));
    }
    for (key, value) in &query.metadata {
        let k = param(&mut values, key.clone());
        match value {
            Some(value) => {
                let v = param(&mut values, value.clone());
                clauses.push(format!("(metadata::jsonb ->> {k}) = {v}"));
            }
            None => clauses.push(format!("jsonb_exists(metadata::jsonb, {k})")),
        }
    }
    (clauses.join(" AND "), values)
}

impl PgStore {
    pub(super) async fn upsert_browser(&self, b: &BrowserRecord) -> Result<(), StoreError> {
        let metadata = serde_json::to_string(&b.metadata).unwrap_or_else(|_| "{}".into());
        sqlx::query(
            "INSERT INTO browsers (id, status, profile_id, proxy_country_code, screen_width, \
             screen_height, metadata, browser_id, end_reason, profile_error, timeout_at, \
             started_at, finished_at, updated_at, proxy_bytes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (id) DO UPDATE SET status = $2, profile_id = $3, \
             proxy_country_code = $4, screen_width = $5, screen_height = $6, metadata = $7, \
             browser_id = $8, end_reason = $9, profile_error = $10, timeout_at = $11, \
             finished_at = $13, updated_at = $14, proxy_bytes = $15",
        )
        .bind(b.id.to_string())
        .bind(b.status.as_str())
        .bind(b.profile_id.map(|u| u.to_string()))
        .bind(&b.proxy_country_code)
        .bind(b.screen_width)
        .bind(b.screen_height)
        .bind(metadata)
        .bind(&b.browser_id)
        .bind(&b.end_reason)
        .bind(&b.profile_error)
        .bind(b.timeout_at)
        .bind(b.started_at)
        .bind(b.finished_at)
        .bind(b.updated_at)
        .bind(b.proxy_bytes)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn get_browser(&self, id: Uuid) -> Result<Option<BrowserRecord>, StoreError> {
        sqlx::query_as::<_, BrowserRow>("SELECT * FROM browsers WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .map(BrowserRecord::try_from)
            .transpose()
    }

    pub(super) async fn query_browsers(
        &self,
        query: &BrowserQuery,
    ) -> Result<(Vec<BrowserRecord>, u64), StoreError> {
        let (filter, values) = browser_filter(query);
        let count_sql = format!("SELECT COUNT(*) FROM browsers WHERE {filter}");
        // The filter is made of the constant clauses above only; every value is bound.
        let mut total = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(count_sql));
        for value in &values {
            total = total.bind(value);
        }
        let (total,) = total.fetch_one(&self.pool).await?;
        let n = values.len();
        let page_sql = format!(
            "SELECT * FROM browsers WHERE {filter} ORDER BY started_at DESC, id DESC \
             LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let mut page = sqlx::query_as::<_, BrowserRow>(sqlx::AssertSqlSafe(page_sql));
        for value in &values {
            page = page.bind(value);
        }
        let rows = page
            .bind(count(query.limit))
            .bind(count(query.offset))
            .fetch_all(&self.pool)
            .await?;
        Ok((convert(rows)?, u64::try_from(total).unwrap_or(0)))
    }

    pub(super) async fn browsers_in(
        &self,
        status: BrowserStatus,
    ) -> Result<Vec<BrowserRecord>, StoreError> {
        let rows = sqlx::query_as::<_, BrowserRow>(
            "SELECT * FROM browsers WHERE status = $1 ORDER BY started_at ASC",
        )
        .bind(status.as_str())
        .fetch_all(&self.pool)
        .await?;
        convert(rows)
    }

    pub(super) async fn upsert_profile(&self, p: &ProfileRecord) -> Result<(), StoreError> {
        let domains = p
            .cookie_domains
            .as_ref()
            .map(|d| serde_json::to_string(d).unwrap_or_else(|_| "[]".into()));
        sqlx::query(
            "INSERT INTO profiles (id, name, user_id, cookie_domains, last_used_at, \
             last_save_error, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (id) DO UPDATE SET name = $2, user_id = $3, cookie_domains = $4, \
             last_used_at = $5, last_save_error = $6, updated_at = $8",
        )
        .bind(p.id.to_string())
        .bind(&p.name)
        .bind(&p.user_id)
        .bind(domains)
        .bind(p.last_used_at)
        .bind(&p.last_save_error)
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn get_profile(&self, id: Uuid) -> Result<Option<ProfileRecord>, StoreError> {
        sqlx::query_as::<_, ProfileRow>("SELECT * FROM profiles WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .map(ProfileRecord::try_from)
            .transpose()
    }

    pub(super) async fn query_profiles(
        &self,
        name: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<ProfileRecord>, u64), StoreError> {
        // `strpos` on lower-cased text: a substring match with no LIKE wildcards to escape.
        macro_rules! filter {
            () => {
                "(CAST($1 AS TEXT) IS NULL OR strpos(lower(coalesce(name, '')), lower($1)) > 0)"
            };
        }
        let (total,): (i64,) =
            sqlx::query_as(concat!("SELECT COUNT(*) FROM profiles WHERE ", filter!()))
                .bind(name)
                .fetch_one(&self.pool)
                .await?;
        let rows = sqlx::query_as::<_, ProfileRow>(concat!(
            "SELECT * FROM profiles WHERE ",
            filter!(),
            " ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(name)
        .bind(count(limit))
        .bind(count(offset))
        .fetch_all(&self.pool)
        .await?;
        Ok((convert(rows)?, u64::try_from(total).unwrap_or(0)))
    }

    pub(super) async fn remove_profile(&self, id: Uuid) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM profiles WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub(super) async fn upsert_workspace(&self, w: &WorkspaceRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO workspaces (id, name, created_at, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET name = $2, updated_at = $4",
        )
        .bind(w.id.to_string())
        .bind(&w.name)
        .bind(w.created_at)
        .bind(w.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn get_workspace(
        &self,
        id: Uuid,
    ) -> Result<Option<WorkspaceRecord>, StoreError> {
        sqlx::query_as::<_, WorkspaceRow>("SELECT * FROM workspaces WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .map(WorkspaceRecord::try_from)
            .transpose()
    }

    pub(super) async fn query_workspaces(
        &self,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<WorkspaceRecord>, u64), StoreError> {
        let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM workspaces")
            .fetch_one(&self.pool)
            .await?;
        let rows = sqlx::query_as::<_, WorkspaceRow>(
            "SELECT * FROM workspaces ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2",
        )
        .bind(count(limit))
        .bind(count(offset))
        .fetch_all(&self.pool)
        .await?;
        Ok((convert(rows)?, u64::try_from(total).unwrap_or(0)))
    }

    pub(super) async fn remove_workspace(&self, id: Uuid) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM workspaces WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
