//! What can go wrong when reading or writing records.

/// A failure of the store itself; "not found" is not an error but an `Option`/`bool`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened, queried or written.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Schema migrations failed at start-up.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The data directory or database file could not be prepared.
    #[error("cannot prepare the database file {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The database URL names no backend this build has, or is malformed.
    #[error("bad database URL: {0}")]
    BadUrl(String),
    /// A stored value could not be decoded (hand-edited database or a bug).
    #[error("corrupt record in {table}: {detail}")]
    Corrupt {
        /// The table holding the bad row.
        table: &'static str,
        /// What was wrong with it.
        detail: String,
    },
}

/// What kind of failure a [`StoreError`] is, for the caller to answer it right: a full disk
/// and an unreachable database are the operator's to fix and pass (HTTP 507/503 with
/// `Retry-After`); anything else is a bug or a damaged database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreErrorKind {
    /// No space left for the database (disk full, quota).
    Full,
    /// The database cannot be reached or is busy right now (connection lost, server
    /// restarting, lock wait timed out, I/O error); retrying later may succeed.
    Unavailable,
    /// Anything else: a corrupt record, a constraint broken by a bug, a bad URL.
    Other,
}

impl StoreError {
    /// Classifies the failure; see [`StoreErrorKind`].
    pub fn kind(&self) -> StoreErrorKind {
        match self {
            StoreError::Database(error) => database_kind(error),
            StoreError::Io { source, .. } => io_kind(source),
            StoreError::Migration(_) | StoreError::BadUrl(_) | StoreError::Corrupt { .. } => {
                StoreErrorKind::Other
            }
        }
    }
}

/// `ENOSPC` and `EDQUOT` on Linux.
const NO_SPACE: [i32; 2] = [28, 122];

/// Classifies a file-system error the same way, for the files kept beside the database
/// (workspaces, profiles, screenshots): out of space is [`StoreErrorKind::Full`], any other
/// failure [`StoreErrorKind::Unavailable`].
pub fn io_kind(error: &std::io::Error) -> StoreErrorKind {
    match error.raw_os_error() {
        Some(code) if NO_SPACE.contains(&code) => StoreErrorKind::Full,
        _ => StoreErrorKind::Unavailable,
    }
}

fn database_kind(error: &sqlx::Error) -> StoreErrorKind {
    match error {
        sqlx::Error::Io(io) => io_kind(io),
        sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreErrorKind::Unavailable,
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let message = db.message().to_ascii_lowercase();
            if message.contains("disk is full") || message.contains("no space left") {
                return StoreErrorKind::Full;
            }
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // SQLite: the primary result code is the low byte of the extended one.
                return match code.parse::<i32>().map(|c| c & 0xff) {
                    Ok(13) => StoreErrorKind::Full,
                    // IOERR, CANTOPEN, BUSY, LOCKED, READONLY (a read-only remount).
                    Ok(10 | 14 | 5 | 6 | 8) => StoreErrorKind::Unavailable,
                    _ => StoreErrorKind::Other,
                };
            }
            // PostgreSQL: SQLSTATE classes 08 (connection), 53 (insufficient resources:
            // 53100 disk full), 57P (operator intervention: shutdown, cannot connect now).
            if code == "53100" {
                StoreErrorKind::Full
            } else if code.starts_with("08") || code.starts_with("53") || code.starts_with("57P") {
                StoreErrorKind::Unavailable
            } else {
                StoreErrorKind::Other
            }
        }
        _ => StoreErrorKind::Other,
    }
}
