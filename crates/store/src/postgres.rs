//! The PostgreSQL backend: the store several nodes can share (`tandem serve --database-url
//! postgres://...`). Same columns as SQLite's (ids and JSON as text, `TIMESTAMPTZ`, `BIGINT`,
//! `BOOLEAN`), so the rows and their conversions are shared (`rows.rs`) and the conformance
//! suite holds both to the same behaviour.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres};
use uuid::Uuid;

use crate::rows::{MessageRow, SessionRow, json_text};
use crate::tx::WriteTx;
use crate::{
    BrowserQuery, BrowserRecord, BrowserStatus, MessagePage, MessageQuery, MessageRecord,
    NewMessage, ProfileRecord, SessionRecord, SessionStatus, Store, StoreError, StoreFuture,
    StoreStats, WorkspaceRecord,
};

mod records;

/// Migrations embedded at build time from `crates/store/migrations/postgres`; sqlx takes an
/// advisory lock while it applies them, so nodes starting together do not race.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// How long a request waits for a connection before the store answers "unavailable": short,
/// so an API call fails fast (503) while the database restarts instead of hanging.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// A store in a PostgreSQL database, shared by every node that connects to it.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/database`) and applies
    /// migrations. The pool reconnects by itself after the server restarts.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(PgStore { pool })
    }
}

// Both statements take the same numbered parameters, bound once by `bind_session`
// (the update leaves `created_at`, $23, alone).
const SESSION_INSERT: &str = "INSERT INTO sessions (id, status, model, thinking_level, \
     title, task, keep_alive, output, output_schema, step_count, last_step_summary, \
     is_task_successful, profile_id, workspace_id, proxy_country_code, screen_width, \
     screen_height, max_cost_usd, browser_id, end_reason, expires_at, deleted, created_at, \
     updated_at, total_input_tokens, total_output_tokens, llm_cost_usd, human_input, \
     profile_error, proxy_bytes) VALUES \
     ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
     $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30)";

const SESSION_UPDATE: &str = "UPDATE sessions SET status = $2, model = $3, \
     thinking_level = $4, title = $5, task = $6, keep_alive = $7, output = $8, \
     output_schema = $9, step_count = $10, last_step_summary = $11, is_task_successful = $12, \
     profile_id = $13, workspace_id = $14, proxy_country_code = $15, screen_width = $16, \
     screen_height = $17, max_cost_usd = $18, browser_id = $19, end_reason = $20, \
     expires_at = $21, deleted = $22, updated_at = $24, total_input_tokens = $25, \
     total_output_tokens = $26, llm_cost_usd = $27, human_input = $28, profile_error = $29, \
     proxy_bytes = $30 WHERE id = $1";

/// Binds a session's columns in the order of `SESSION_INSERT` and `SESSION_UPDATE`.
fn bind_session<'q>(
    sql: &'static str,
    s: &'q SessionRecord,
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    sqlx::query(sql)
        .bind(s.id.to_string())
        .bind(s.status.as_str())
        .bind(&s.model)
        .bind(&s.thinking_level)
        .bind(&s.title)
        .bind(&s.task)
        .bind(s.keep_alive)
        .bind(json_text(&s.output))
        .bind(json_text(&s.output_schema))
        .bind(s.step_count)
        .bind(&s.last_step_summary)
        .bind(s.is_task_successful)
        .bind(s.profile_id.map(|u| u.to_string()))
        .bind(s.workspace_id.map(|u| u.to_string()))
        .bind(&s.proxy_country_code)
        .bind(s.screen_width)
        .bind(s.screen_height)
        .bind(&s.max_cost_usd)
        .bind(&s.browser_id)
        .bind(&s.end_reason)
        .bind(s.expires_at)
        .bind(s.deleted)
        .bind(s.created_at)
        .bind(s.updated_at)
        .bind(s.total_input_tokens)
        .bind(s.total_output_tokens)
        .bind(&s.llm_cost_usd)
        .bind(json_text(&s.human_input))
        .bind(&s.profile_error)
        .bind(s.proxy_bytes)
}

/// Opens a write transaction (read committed).
async fn write(pool: &PgPool) -> Result<WriteTx<Postgres>, StoreError> {
    WriteTx::begin(pool, "BEGIN").await
}

/// Appends a message inside the caller's transaction. The session's row is locked first, so
/// the messages of one session take their `seq` in commit order: without it, two concurrent
/// writers could commit seq 11 before seq 10, and a reader paging `after` 11 would never see
/// 10 (SQLite has one writer at a time, so this is how both behave the same).
async fn insert_message(
    conn: &mut PgConnection,
    message: &NewMessage,
) -> Result<MessageRecord, StoreError> {
    sqlx::query("SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE")
        .bind(message.session_id.to_string())
        .execute(&mut *conn)
        .await?;
    let id = Uuid::now_v7();
    let created_at = crate::now();
    let (seq,): (i64,) = sqlx::query_as(
        "INSERT INTO messages (id, session_id, role, data, type, summary, screenshot_url, \
         hidden, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq",
    )
    .bind(id.to_string())
    .bind(message.session_id.to_string())
    .bind(&message.role)
    .bind(&message.data)
    .bind(&message.kind)
    .bind(&message.summary)
    .bind(&message.screenshot_url)
    .bind(message.hidden)
    .bind(created_at)
    .fetch_one(&mut *conn)
    .await?;
    Ok(MessageRecord {
        id,
        seq,
        message: message.clone(),
        created_at,
    })
}

async fn fetch_messages(
    pool: &PgPool,
    sql: &'static str,
    session_id: Uuid,
    bounds: &[i64],
    limit: i64,
) -> Result<Vec<MessageRecord>, StoreError> {
    let mut query = sqlx::query_as::<_, MessageRow>(sql).bind(session_id.to_string());
    for bound in bounds {
        query = query.bind(*bound);
    }
    query
        .bind(limit)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(MessageRecord::try_from)
        .collect()
}

impl PgStore {
    async fn cursor_seq(&self, session_id: Uuid, id: Uuid) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT seq FROM messages WHERE id = $1 AND session_id = $2")
                .bind(id.to_string())
                .bind(session_id.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(seq,)| seq))
    }

    async fn page(
        &self,
        session_id: Uuid,
        query: &MessageQuery,
    ) -> Result<MessagePage, StoreError> {
        let limit = i64::from(query.limit.max(1));
        let empty = MessagePage {
            messages: Vec::new(),
            has_more: false,
        };
        let after = match query.after {
            Some(id) => match self.cursor_seq(session_id, id).await? {
                Some(seq) => Some(seq),
                None => return Ok(empty),
            },
            None => None,
        };
        let before = match query.before {
            Some(id) => match self.cursor_seq(session_id, id).await? {
                Some(seq) => Some(seq),
                None => return Ok(empty),
            },
            None => None,
        };
        // One extra row tells whether more exist in the paging direction.
        let (mut messages, descending) = match (after, before) {
            (Some(after), Some(before)) => (
                fetch_messages(
                    &self.pool,
                    "SELECT seq, id, session_id, role, data, type, summary, screenshot_url, \
                     hidden, created_at FROM messages WHERE session_id = $1 AND seq > $2 \
                     AND seq < $3 ORDER BY seq ASC LIMIT $4",
                    session_id,
                    &[after, before],
                    limit + 1,
                )
                .await?,
                false,
            ),
            (Some(after), None) => (
                fetch_messages(
                    &self.pool,
                    "SELECT seq, id, session_id, role, data, type, summary, screenshot_url, \
                     hidden, created_at FROM messages WHERE session_id = $1 AND seq > $2 \
                     ORDER BY seq ASC LIMIT $3",
                    session_id,
                    &[after],
                    limit + 1,
                )
                .await?,
                false,
            ),
            (None, Some(before)) => (
                fetch_messages(
                    &self.pool,
                    "SELECT seq, id, session_id, role, data, type, summary, screenshot_url, \
                     hidden, created_at FROM messages WHERE session_id = $1 AND seq < $2 \
                     ORDER BY seq DESC LIMIT $3",
                    session_id,
                    &[before],
                    limit + 1,
                )
                .await?,
                true,
            ),
            (None, None) => (
                fetch_messages(
                    &self.pool,
                    "SELECT seq, id, session_id, role, data, type, summary, screenshot_url, \
                     hidden, created_at FROM messages WHERE session_id = $1 \
                     ORDER BY seq DESC LIMIT $2",
                    session_id,
                    &[],
                    limit + 1,
                )
                .await?,
                true,
            ),
        };
        let has_more = messages.len() as i64 > limit;
        messages.truncate(limit as usize);
        if descending {
            messages.reverse();
        }
        Ok(MessagePage { messages, has_more })
    }
}

impl Store for PgStore {
    fn close(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.pool.close().await;
            Ok(())
        })
    }

    fn create_session<'a>(
        &'a self,
        s: &'a SessionRecord,
        first_message: Option<&'a NewMessage>,
    ) -> StoreFuture<'a, Option<MessageRecord>> {
        Box::pin(async move {
            let mut tx = write(&self.pool).await?;
            let result = async {
                bind_session(SESSION_INSERT, s).execute(tx.conn()).await?;
                match first_message {
                    Some(m) => Ok(Some(insert_message(tx.conn(), m).await?)),
                    None => Ok(None),
                }
            }
            .await;
            tx.finish(result).await
        })
    }

    fn save_session<'a>(
        &'a self,
        s: &'a SessionRecord,
        message: Option<&'a NewMessage>,
    ) -> StoreFuture<'a, Option<MessageRecord>> {
        Box::pin(async move {
            let mut tx = write(&self.pool).await?;
            let result = async {
                let message = match message {
                    Some(m) => Some(insert_message(tx.conn(), m).await?),
                    None => None,
                };
                bind_session(SESSION_UPDATE, s).execute(tx.conn()).await?;
                Ok(message)
            }
            .await;
            tx.finish(result).await
        })
    }

    fn session(&self, id: Uuid) -> StoreFuture<'_, Option<SessionRecord>> {
        Box::pin(async move {
            sqlx::query_as::<_, SessionRow>("SELECT * FROM sessions WHERE id = $1 AND NOT deleted")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?
                .map(SessionRecord::try_from)
                .transpose()
        })
    }

    fn list_sessions(&self, offset: u64, limit: u64) -> StoreFuture<'_, (Vec<SessionRecord>, u64)> {
        Box::pin(async move {
            let (total,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE NOT deleted")
                    .fetch_one(&self.pool)
                    .await?;
            let rows = sqlx::query_as::<_, SessionRow>(
                "SELECT * FROM sessions WHERE NOT deleted \
                 ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2",
            )
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
            let sessions = rows
                .into_iter()
                .map(SessionRecord::try_from)
                .collect::<Result<Vec<_>, _>>()?;
            Ok((sessions, u64::try_from(total).unwrap_or(0)))
        })
    }

    fn sessions_with_status<'a>(
        &'a self,
        statuses: &'a [SessionStatus],
    ) -> StoreFuture<'a, Vec<SessionRecord>> {
        Box::pin(async move {
            let mut found = Vec::new();
            for status in statuses {
                let rows = sqlx::query_as::<_, SessionRow>(
                    "SELECT * FROM sessions WHERE status = $1 ORDER BY created_at ASC",
                )
                .bind(status.as_str())
                .fetch_all(&self.pool)
                .await?;
                for row in rows {
                    found.push(SessionRecord::try_from(row)?);
                }
            }
            Ok(found)
        })
    }

    fn delete_session(&self, id: Uuid) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let result = sqlx::query(
                "UPDATE sessions SET deleted = TRUE, updated_at = $1 WHERE id = $2 AND NOT deleted",
            )
            .bind(crate::now())
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
            Ok(result.rows_affected() > 0)
        })
    }

    fn append_message<'a>(&'a self, message: &'a NewMessage) -> StoreFuture<'a, MessageRecord> {
        Box::pin(async move {
            let mut tx = write(&self.pool).await?;
            let result = insert_message(tx.conn(), message).await;
            tx.finish(result).await
        })
    }

    fn messages<'a>(
        &'a self,
        session_id: Uuid,
        query: &'a MessageQuery,
    ) -> StoreFuture<'a, MessagePage> {
        Box::pin(self.page(session_id, query))
    }

    fn save_browser<'a>(&'a self, browser: &'a BrowserRecord) -> StoreFuture<'a, ()> {
        Box::pin(self.upsert_browser(browser))
    }

    fn browser(&self, id: Uuid) -> StoreFuture<'_, Option<BrowserRecord>> {
        Box::pin(self.get_browser(id))
    }

    fn list_browsers<'a>(
        &'a self,
        query: &'a BrowserQuery,
    ) -> StoreFuture<'a, (Vec<BrowserRecord>, u64)> {
        Box::pin(self.query_browsers(query))
    }

    fn browsers_with_status(&self, status: BrowserStatus) -> StoreFuture<'_, Vec<BrowserRecord>> {
        Box::pin(self.browsers_in(status))
    }

    fn save_profile<'a>(&'a self, profile: &'a ProfileRecord) -> StoreFuture<'a, ()> {
        Box::pin(self.upsert_profile(profile))
    }

    fn profile(&self, id: Uuid) -> StoreFuture<'_, Option<ProfileRecord>> {
        Box::pin(self.get_profile(id))
    }

    fn list_profiles<'a>(
        &'a self,
        name: Option<&'a str>,
        offset: u64,
        limit: u64,
    ) -> StoreFuture<'a, (Vec<ProfileRecord>, u64)> {
        Box::pin(self.query_profiles(name, offset, limit))
    }

    fn delete_profile(&self, id: Uuid) -> StoreFuture<'_, bool> {
        Box::pin(self.remove_profile(id))
    }

    fn save_workspace<'a>(&'a self, workspace: &'a WorkspaceRecord) -> StoreFuture<'a, ()> {
        Box::pin(self.upsert_workspace(workspace))
    }

    fn workspace(&self, id: Uuid) -> StoreFuture<'_, Option<WorkspaceRecord>> {
        Box::pin(self.get_workspace(id))
    }

    fn list_workspaces(
        &self,
        offset: u64,
        limit: u64,
    ) -> StoreFuture<'_, (Vec<WorkspaceRecord>, u64)> {
        Box::pin(self.query_workspaces(offset, limit))
    }

    fn delete_workspace(&self, id: Uuid) -> StoreFuture<'_, bool> {
        Box::pin(self.remove_workspace(id))
    }

    fn stats(&self) -> StoreFuture<'_, StoreStats> {
        Box::pin(async move {
            let count = |n: i64| u64::try_from(n).unwrap_or(0);
            let mut stats = StoreStats::default();
            let sessions: Vec<(String, i64, i64, i64, i64, f64)> = sqlx::query_as(
                "SELECT status, COUNT(*), COUNT(human_input), \
                 CAST(COALESCE(SUM(total_input_tokens), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(total_output_tokens), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(CAST(llm_cost_usd AS DOUBLE PRECISION)), 0) \
                 AS DOUBLE PRECISION) \
                 FROM sessions GROUP BY status ORDER BY status COLLATE \"C\"",
            )
            .fetch_all(&self.pool)
            .await?;
            for (status, n, waiting, input, output, cost) in sessions {
                if status == SessionStatus::Running.as_str() {
                    stats.waiting_for_human = count(waiting);
                }
                stats.sessions.push((status, count(n)));
                stats.input_tokens += count(input);
                stats.output_tokens += count(output);
                stats.llm_cost_usd += cost;
            }
            let browsers: Vec<(String, i64)> = sqlx::query_as(
                "SELECT status, COUNT(*) FROM browsers GROUP BY status ORDER BY status COLLATE \"C\"",
            )
            .fetch_all(&self.pool)
            .await?;
            stats.browsers = browsers.into_iter().map(|(s, n)| (s, count(n))).collect();
            let (messages,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM messages")
                .fetch_one(&self.pool)
                .await?;
            stats.messages = count(messages);
            Ok(stats)
        })
    }
}
