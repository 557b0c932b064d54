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
    /// A stored value could not be decoded (hand-edited database or a bug).
    #[error("corrupt record in {table}: {detail}")]
    Corrupt {
        /// The table holding the bad row.
        table: &'static str,
        /// What was wrong with it.
        detail: String,
    },
}
