//! A write transaction that never leaves a pooled connection inside a transaction.
//!
//! `sqlx`'s own `Transaction` rolls back lazily on drop, and a connection whose commit failed
//! (a full disk, a lost server) can go back to the pool in a state the driver misjudges; the
//! next writer then waits on a lock that is never released ("database is locked"). Here the
//! outcome is settled before the connection is released: a commit or a rollback that
//! succeeded returns it clean, anything else (including a future dropped half-way) closes it
//! instead, so the pool opens a fresh one.

use sqlx::pool::PoolConnection;
use sqlx::{Database, Executor, Pool};

use crate::StoreError;

/// One write transaction on a connection of its own; see the module documentation.
pub(crate) struct WriteTx<DB: Database> {
    conn: PoolConnection<DB>,
    settled: bool,
}

impl<DB: Database> WriteTx<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    /// Takes a connection and opens a transaction with `begin` (`BEGIN IMMEDIATE` on SQLite,
    /// so a writer holds the write lock from the start instead of failing to upgrade).
    pub(crate) async fn begin(pool: &Pool<DB>, begin: &'static str) -> Result<Self, StoreError> {
        let conn = pool.acquire().await?;
        let mut tx = WriteTx {
            conn,
            settled: false,
        };
        tx.conn.execute(begin).await?;
        Ok(tx)
    }

    /// The connection, to run the transaction's statements on.
    pub(crate) fn conn(&mut self) -> &mut DB::Connection {
        &mut self.conn
    }

    /// Commits when `result` is a success (which is acknowledged only once the commit is
    /// done), else rolls back, and returns `result` (or the commit's error).
    pub(crate) async fn finish<T>(
        mut self,
        result: Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match result {
            Ok(value) => {
                self.conn.execute("COMMIT").await?;
                self.settled = true;
                Ok(value)
            }
            Err(error) => {
                if self.conn.execute("ROLLBACK").await.is_ok() {
                    self.settled = true;
                }
                Err(error)
            }
        }
    }
}

impl<DB: Database> Drop for WriteTx<DB> {
    fn drop(&mut self) {
        if !self.settled {
            // Closing the connection ends its transaction; the pool replaces it.
            self.conn.close_on_drop();
        }
    }
}
