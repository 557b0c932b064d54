//! Picks a backend from a database URL, so the server and tests never name a backend type.

use std::path::Path;
use std::sync::Arc;

use crate::{PgStore, SqliteStore, Store, StoreError};

/// Opens the store a URL names and applies its migrations:
/// - `sqlite://<path>` (or `sqlite:<path>`): a SQLite file, created if missing;
///   `sqlite::memory:` is a private in-memory database (tests);
/// - `postgres://...` or `postgresql://...`: a PostgreSQL database (libpq-style URL).
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Arc::new(PgStore::connect(url).await?));
    }
    if let Some(rest) = url.strip_prefix("sqlite:") {
        if rest == ":memory:" {
            return Ok(Arc::new(SqliteStore::in_memory().await?));
        }
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path.is_empty() {
            return Err(StoreError::BadUrl(format!(
                "{url:?} names no file: use sqlite://<path to the database file>"
            )));
        }
        return Ok(Arc::new(SqliteStore::open_file(Path::new(path)).await?));
    }
    let scheme = url.split(':').next().unwrap_or_default();
    Err(StoreError::BadUrl(format!(
        "unsupported database URL scheme {scheme:?}: use sqlite://<file> or postgres://..."
    )))
}
