//! Restart recovery: sessions stored as active lost their browser with the previous process.

use store::{SessionStatus, Store, StoreError};

use super::handoff::cancelled_note;
use super::spec::assistant_message;

/// Why a recovered session ended, as shown in `lastStepSummary`.
pub const RESTART_REASON: &str =
    "Tandem restarted and this session's browser was lost; create a new session";

/// Settles every session the store still calls created, idle or running: idle and created
/// ones become `stopped`, running ones `error` with a feed message, all with a reason, so
/// none is stuck in `running`. Returns how many were settled.
pub async fn recover(store: &dyn Store) -> Result<usize, StoreError> {
    let stranded = store
        .sessions_with_status(&[
            SessionStatus::Created,
            SessionStatus::Idle,
            SessionStatus::Running,
        ])
        .await?;
    let count = stranded.len();
    for mut record in stranded {
        let was_running = record.status == SessionStatus::Running;
        record.status = if was_running {
            SessionStatus::Error
        } else {
            SessionStatus::Stopped
        };
        record.last_step_summary = Some(RESTART_REASON.to_string());
        if let Some(note) = cancelled_note(record.human_input.as_ref(), "Tandem restarted") {
            store
                .append_message(&assistant_message(record.id, &note))
                .await?;
        }
        record.human_input = None;
        record.end_reason = Some(RESTART_REASON.to_string());
        record.updated_at = store::now();
        let message = was_running
            .then(|| assistant_message(record.id, &format!("Task aborted: {RESTART_REASON}")));
        store.save_session(&record, message.as_ref()).await?;
        tracing::info!(session = %record.id, status = %record.status, "recovered after restart");
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use store::{MessageQuery, SessionRecord, Uuid};

    // Every check runs on both backends: SQLite (in memory) and a throwaway PostgreSQL.

    #[tokio::test]
    async fn sqlite_active_sessions_end_with_a_reason() {
        active_sessions_end_with_a_reason(sqlite().await.as_ref()).await;
    }

    #[tokio::test]
    async fn sqlite_a_question_left_waiting_is_cleared_and_noted() {
        a_question_left_waiting_is_cleared_and_noted(sqlite().await.as_ref()).await;
    }

    #[tokio::test]
    async fn postgres_recovery_behaves_as_on_sqlite() {
        let cluster = testkit::postgres::PgCluster::start();
        let fresh = || async { store::open(&cluster.create_database()).await.unwrap() };
        active_sessions_end_with_a_reason(fresh().await.as_ref()).await;
        a_question_left_waiting_is_cleared_and_noted(fresh().await.as_ref()).await;
    }

    async fn sqlite() -> Arc<dyn Store> {
        store::open("sqlite::memory:").await.unwrap()
    }

    /// The summaries of a session's feed, oldest first.
    async fn summaries(store: &dyn Store, id: Uuid) -> Vec<String> {
        let query = MessageQuery {
            after: None,
            before: None,
            limit: 10,
        };
        let page = store.messages(id, &query).await.unwrap();
        page.messages
            .into_iter()
            .map(|m| m.message.summary)
            .collect()
    }

    async fn active_sessions_end_with_a_reason(store: &dyn Store) {
        let mut ids = Vec::new();
        for status in SessionStatus::ALL {
            let mut record = SessionRecord::new(Uuid::now_v7(), "bu-mini", store::now());
            record.status = status;
            store.create_session(&record, None).await.unwrap();
            ids.push((status, record.id));
        }
        assert_eq!(recover(store).await.unwrap(), 3);
        for (before, id) in ids {
            let after = store.session(id).await.unwrap().unwrap();
            let expected = match before {
                SessionStatus::Created | SessionStatus::Idle => SessionStatus::Stopped,
                SessionStatus::Running => SessionStatus::Error,
                ended => ended,
            };
            assert_eq!(after.status, expected, "{before}");
            let feed = summaries(store, id).await;
            if before.is_active() {
                assert_eq!(after.last_step_summary.as_deref(), Some(RESTART_REASON));
            }
            assert_eq!(feed.len(), usize::from(before == SessionStatus::Running));
        }
        assert_eq!(recover(store).await.unwrap(), 0);
    }

    async fn a_question_left_waiting_is_cleared_and_noted(store: &dyn Store) {
        let mut record = SessionRecord::new(Uuid::now_v7(), "bu-mini", store::now());
        record.status = SessionStatus::Running;
        record.human_input = Some(serde_json::json!({
            "type": "question",
            "question": "Which size?",
            "requestedAt": "2026-01-01T00:00:00.000000Z",
        }));
        store.create_session(&record, None).await.unwrap();
        assert_eq!(recover(store).await.unwrap(), 1);
        let after = store.session(record.id).await.unwrap().unwrap();
        assert_eq!(after.status, SessionStatus::Error);
        assert_eq!(after.human_input, None);
        assert_eq!(
            summaries(store, record.id).await,
            [
                "The question 'Which size?' was cancelled: Tandem restarted".to_string(),
                format!("Task aborted: {RESTART_REASON}"),
            ]
        );
    }
}
