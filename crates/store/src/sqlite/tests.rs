//! What only SQLite has: a file in WAL mode that survives a reopen. The behaviour every
//! backend shares is the conformance suite's (`tests/conformance.rs`).

use super::*;

#[tokio::test]
async fn file_store_persists_across_reopen_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let s = SessionRecord::new(Uuid::now_v7(), "bu-mini", crate::now());
    let first = NewMessage {
        session_id: s.id,
        role: "user".into(),
        data: "{}".into(),
        kind: "user_message".into(),
        summary: "hello".into(),
        screenshot_url: None,
        hidden: false,
    };
    {
        let store = SqliteStore::open(dir.path()).await.unwrap();
        store.create_session(&s, Some(&first)).await.unwrap();
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        store.close().await.unwrap();
    }
    let store = SqliteStore::open(dir.path()).await.unwrap();
    assert_eq!(store.session(s.id).await.unwrap(), Some(s.clone()));
    let query = MessageQuery {
        after: None,
        before: None,
        limit: 10,
    };
    assert_eq!(
        store.messages(s.id, &query).await.unwrap().messages.len(),
        1
    );
    assert!(dir.path().join("tandem.db").exists());
}
