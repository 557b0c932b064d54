//! The behaviour every [`Store`] backend must have, as one suite that takes any `&dyn Store`:
//! the store's integration test runs it against SQLite and a throwaway PostgreSQL, and a new
//! backend is done when it passes unchanged (see ARCHITECTURE.md, "Add a store backend").
//!
//! Each check expects a fresh, empty store. Assertions panic, as in any test.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::future::Future;
use std::pin::Pin;

use crate::{
    BrowserQuery, BrowserRecord, BrowserStatus, MessagePage, MessageQuery, MessageRecord,
    NewMessage, ProfileRecord, SessionRecord, SessionStatus, Store, StoreErrorKind, StoreStats,
    Uuid, WorkspaceRecord,
};

/// One check of the suite, as a plain function pointer so a runner can list them.
pub type Check = for<'a> fn(&'a dyn Store) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

macro_rules! checks {
    ($($name:ident),* $(,)?) => {
        /// Every check, by name, in a stable order.
        pub fn checks() -> Vec<(&'static str, Check)> {
            vec![$((stringify!($name), (|store| Box::pin($name(store))) as Check)),*]
        }
    };
}

checks![
    session_round_trips_every_field,
    unknown_and_deleted_sessions_are_invisible,
    list_is_newest_first_with_total,
    sessions_with_status_finds_active_ones,
    empty_feed_is_an_empty_page,
    no_cursor_returns_latest_ascending,
    after_returns_first_ones_strictly_after,
    before_returns_the_ones_immediately_before_ascending,
    after_and_before_bound_both_sides,
    cursors_from_another_session_or_unknown_give_empty_pages,
    save_with_message_is_atomic_and_ordered,
    browsers_round_trip_and_filter_by_status_and_metadata,
    profiles_and_workspaces_round_trip_list_and_delete,
    stats_count_sessions_browsers_and_usage,
    a_failed_write_rolls_back_whole_and_the_store_stays_usable
];

fn session() -> SessionRecord {
    SessionRecord::new(Uuid::now_v7(), "claude-opus-4.7", crate::now())
}

fn message(session_id: Uuid, n: usize) -> NewMessage {
    NewMessage {
        session_id,
        role: "assistant".into(),
        data: format!("{{\"content\":\"step {n}\"}}"),
        kind: "assistant_message".into(),
        summary: format!("step {n}"),
        screenshot_url: None,
        hidden: false,
    }
}

async fn feed(store: &dyn Store, n: usize) -> (Uuid, Vec<MessageRecord>) {
    let s = session();
    store.create_session(&s, None).await.unwrap();
    let mut all = Vec::new();
    for i in 0..n {
        all.push(store.append_message(&message(s.id, i)).await.unwrap());
    }
    (s.id, all)
}

fn ids(page: &MessagePage) -> Vec<Uuid> {
    page.messages.iter().map(|m| m.id).collect()
}

fn query(after: Option<Uuid>, before: Option<Uuid>, limit: u32) -> MessageQuery {
    MessageQuery {
        after,
        before,
        limit,
    }
}

/// Checks that session round trips every field.
pub async fn session_round_trips_every_field(store: &dyn Store) {
    let mut s = session();
    s.status = SessionStatus::Running;
    s.thinking_level = Some("low".into());
    s.title = Some("Find".into());
    s.task = Some("Find the top story".into());
    s.keep_alive = true;
    s.output = Some(serde_json::json!({"a": [1, 2]}));
    s.output_schema = Some(serde_json::json!({"type": "object"}));
    s.step_count = 3;
    s.last_step_summary = Some("Clicking".into());
    s.is_task_successful = Some(false);
    s.profile_id = Some(Uuid::now_v7());
    s.workspace_id = Some(Uuid::now_v7());
    s.proxy_country_code = Some("de".into());
    s.screen_width = Some(1280);
    s.screen_height = Some(720);
    s.max_cost_usd = Some("5.00".into());
    s.browser_id = Some("b-1".into());
    s.end_reason = Some("why".into());
    let first = message(s.id, 0);
    let stored = store.create_session(&s, Some(&first)).await.unwrap();
    assert_eq!(stored.unwrap().message.summary, "step 0");
    assert_eq!(store.session(s.id).await.unwrap(), Some(s.clone()));

    s.status = SessionStatus::Idle;
    s.output = None;
    s.profile_error = Some("the profile was not saved: disk full".into());
    s.proxy_bytes = 1_234_567;
    s.updated_at = crate::now();
    store.save_session(&s, None).await.unwrap();
    assert_eq!(store.session(s.id).await.unwrap(), Some(s));
}

/// Checks that unknown and deleted sessions are invisible.
pub async fn unknown_and_deleted_sessions_are_invisible(store: &dyn Store) {
    assert_eq!(store.session(Uuid::now_v7()).await.unwrap(), None);
    let s = session();
    store.create_session(&s, None).await.unwrap();
    assert!(store.delete_session(s.id).await.unwrap());
    assert!(!store.delete_session(s.id).await.unwrap());
    assert_eq!(store.session(s.id).await.unwrap(), None);
    assert_eq!(store.list_sessions(0, 10).await.unwrap().1, 0);
}

/// Checks that list is newest first with total.
pub async fn list_is_newest_first_with_total(store: &dyn Store) {
    let mut created = Vec::new();
    for _ in 0..5 {
        let s = session();
        store.create_session(&s, None).await.unwrap();
        created.push(s.id);
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let (page, total) = store.list_sessions(0, 2).await.unwrap();
    assert_eq!(total, 5);
    assert_eq!(
        page.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![created[4], created[3]]
    );
    let (page, _) = store.list_sessions(4, 2).await.unwrap();
    assert_eq!(
        page.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![created[0]]
    );
}

/// Checks that sessions with status finds active ones.
pub async fn sessions_with_status_finds_active_ones(store: &dyn Store) {
    let mut idle = session();
    idle.status = SessionStatus::Idle;
    let mut stopped = session();
    stopped.status = SessionStatus::Stopped;
    store.create_session(&idle, None).await.unwrap();
    store.create_session(&stopped, None).await.unwrap();
    let found = store
        .sessions_with_status(&[SessionStatus::Idle, SessionStatus::Running])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, idle.id);
}

/// Checks that empty feed is an empty page.
pub async fn empty_feed_is_an_empty_page(store: &dyn Store) {
    let (id, _) = feed(store, 0).await;
    let page = store.messages(id, &query(None, None, 10)).await.unwrap();
    assert!(page.messages.is_empty());
    assert!(!page.has_more);
}

/// Checks that no cursor returns latest ascending.
pub async fn no_cursor_returns_latest_ascending(store: &dyn Store) {
    let (id, all) = feed(store, 5).await;
    let page = store.messages(id, &query(None, None, 1)).await.unwrap();
    assert_eq!(ids(&page), vec![all[4].id]);
    assert!(page.has_more);
    let page = store.messages(id, &query(None, None, 3)).await.unwrap();
    assert_eq!(ids(&page), vec![all[2].id, all[3].id, all[4].id]);
    let page = store.messages(id, &query(None, None, 100)).await.unwrap();
    assert_eq!(page.messages.len(), 5);
    assert!(!page.has_more);
}

/// Checks that after returns first ones strictly after.
pub async fn after_returns_first_ones_strictly_after(store: &dyn Store) {
    let (id, all) = feed(store, 5).await;
    let page = store
        .messages(id, &query(Some(all[1].id), None, 2))
        .await
        .unwrap();
    assert_eq!(ids(&page), vec![all[2].id, all[3].id]);
    assert!(page.has_more);
    let page = store
        .messages(id, &query(Some(all[3].id), None, 2))
        .await
        .unwrap();
    assert_eq!(ids(&page), vec![all[4].id]);
    assert!(!page.has_more);
    let page = store
        .messages(id, &query(Some(all[4].id), None, 100))
        .await
        .unwrap();
    assert!(page.messages.is_empty());
}

/// Checks that before returns the ones immediately before ascending.
pub async fn before_returns_the_ones_immediately_before_ascending(store: &dyn Store) {
    let (id, all) = feed(store, 5).await;
    let page = store
        .messages(id, &query(None, Some(all[4].id), 2))
        .await
        .unwrap();
    assert_eq!(ids(&page), vec![all[2].id, all[3].id]);
    assert!(page.has_more);
    let page = store
        .messages(id, &query(None, Some(all[1].id), 5))
        .await
        .unwrap();
    assert_eq!(ids(&page), vec![all[0].id]);
    assert!(!page.has_more);
}

/// Checks that after and before bound both sides.
pub async fn after_and_before_bound_both_sides(store: &dyn Store) {
    let (id, all) = feed(store, 5).await;
    let page = store
        .messages(id, &query(Some(all[0].id), Some(all[4].id), 10))
        .await
        .unwrap();
    assert_eq!(ids(&page), vec![all[1].id, all[2].id, all[3].id]);
    assert!(!page.has_more);
}

/// Checks that cursors from another session or unknown give empty pages.
pub async fn cursors_from_another_session_or_unknown_give_empty_pages(store: &dyn Store) {
    let (a, _) = feed(store, 2).await;
    let (_, other) = feed(store, 2).await;
    let page = store
        .messages(a, &query(Some(other[0].id), None, 10))
        .await
        .unwrap();
    assert!(page.messages.is_empty());
    let page = store
        .messages(a, &query(None, Some(Uuid::now_v7()), 10))
        .await
        .unwrap();
    assert!(page.messages.is_empty());
    assert!(!page.has_more);
}

/// Checks that save with message is atomic and ordered.
pub async fn save_with_message_is_atomic_and_ordered(store: &dyn Store) {
    let (id, all) = feed(store, 1).await;
    let mut s = store.session(id).await.unwrap().unwrap();
    s.status = SessionStatus::Error;
    let m = store
        .save_session(&s, Some(&message(id, 9)))
        .await
        .unwrap()
        .unwrap();
    assert!(m.seq > all[0].seq);
    assert_eq!(
        store.session(id).await.unwrap().unwrap().status,
        SessionStatus::Error
    );
    let page = store.messages(id, &query(None, None, 10)).await.unwrap();
    assert_eq!(ids(&page), vec![all[0].id, m.id]);
}

/// Checks that browsers round trip and filter by status and metadata.
pub async fn browsers_round_trip_and_filter_by_status_and_metadata(store: &dyn Store) {
    let mut a = BrowserRecord::new(Uuid::now_v7(), crate::now());
    a.metadata.insert("team".into(), "red".into());
    a.metadata.insert("x\"y".into(), "1".into());
    a.profile_id = Some(Uuid::now_v7());
    a.screen_width = Some(1024);
    store.save_browser(&a).await.unwrap();
    let mut b = BrowserRecord::new(Uuid::now_v7(), crate::now());
    b.metadata.insert("team".into(), "blue".into());
    store.save_browser(&b).await.unwrap();
    assert_eq!(store.browser(a.id).await.unwrap(), Some(a.clone()));

    b.status = BrowserStatus::Stopped;
    b.finished_at = Some(crate::now());
    b.end_reason = Some("stopped".into());
    b.proxy_bytes = 7_654_321;
    store.save_browser(&b).await.unwrap();
    assert_eq!(store.browser(b.id).await.unwrap(), Some(b.clone()));

    let list = |status, metadata: Vec<(&str, Option<&str>)>| BrowserQuery {
        status,
        metadata: metadata
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect(),
        offset: 0,
        limit: 10,
    };
    let ids = |(records, total): (Vec<BrowserRecord>, u64)| {
        (records.iter().map(|r| r.id).collect::<Vec<_>>(), total)
    };
    let all = ids(store.list_browsers(&list(None, vec![])).await.unwrap());
    assert_eq!(all, (vec![b.id, a.id], 2), "newest first");
    let active = store
        .list_browsers(&list(Some(BrowserStatus::Active), vec![]))
        .await
        .unwrap();
    assert_eq!(ids(active), (vec![a.id], 1));
    let red = store
        .list_browsers(&list(None, vec![("team", Some("red"))]))
        .await
        .unwrap();
    assert_eq!(ids(red), (vec![a.id], 1));
    let quoted = store
        .list_browsers(&list(None, vec![("x\"y", None)]))
        .await
        .unwrap();
    assert_eq!(ids(quoted), (vec![a.id], 1));
    let none = store
        .list_browsers(&list(None, vec![("team", Some("green"))]))
        .await
        .unwrap();
    assert_eq!(ids(none), (vec![], 0));
    let active = store
        .browsers_with_status(BrowserStatus::Active)
        .await
        .unwrap();
    assert_eq!(active.len(), 1);
}

/// Checks that profiles and workspaces round trip list and delete.
pub async fn profiles_and_workspaces_round_trip_list_and_delete(store: &dyn Store) {
    let mut shop = ProfileRecord::new(Uuid::now_v7(), Some("Shop Login".into()), None);
    store.save_profile(&shop).await.unwrap();
    let other = ProfileRecord::new(Uuid::now_v7(), None, Some("user-1".into()));
    store.save_profile(&other).await.unwrap();
    shop.cookie_domains = Some(vec!["127.0.0.1".into()]);
    shop.last_used_at = Some(crate::now());
    shop.last_save_error = Some("disk full".into());
    store.save_profile(&shop).await.unwrap();
    assert_eq!(store.profile(shop.id).await.unwrap(), Some(shop.clone()));
    let (found, total) = store.list_profiles(Some("login"), 0, 10).await.unwrap();
    assert_eq!((found.len(), total), (1, 1));
    assert_eq!(found[0].id, shop.id);
    let (found, total) = store.list_profiles(None, 1, 10).await.unwrap();
    assert_eq!((found.len(), total), (1, 2));
    assert_eq!(
        found[0].id, shop.id,
        "newest first, so the second is the oldest"
    );
    assert!(store.delete_profile(shop.id).await.unwrap());
    assert!(!store.delete_profile(shop.id).await.unwrap());
    assert_eq!(store.profile(shop.id).await.unwrap(), None);

    let mut ws = WorkspaceRecord::new(Uuid::now_v7(), None);
    store.save_workspace(&ws).await.unwrap();
    ws.name = Some("Reports".into());
    store.save_workspace(&ws).await.unwrap();
    assert_eq!(store.workspace(ws.id).await.unwrap(), Some(ws.clone()));
    let (found, total) = store.list_workspaces(0, 10).await.unwrap();
    assert_eq!((found.len(), total), (1, 1));
    assert!(store.delete_workspace(ws.id).await.unwrap());
    assert_eq!(store.workspace(ws.id).await.unwrap(), None);
}

/// Checks that stats count sessions browsers and usage.
pub async fn stats_count_sessions_browsers_and_usage(store: &dyn Store) {
    assert_eq!(store.stats().await.unwrap(), StoreStats::default());

    let mut waiting = session();
    waiting.status = SessionStatus::Running;
    waiting.human_input = Some(serde_json::json!({"type": "question", "question": "Size?"}));
    waiting.total_input_tokens = 1000;
    waiting.total_output_tokens = 50;
    waiting.llm_cost_usd = "0.25".into();
    store.create_session(&waiting, None).await.unwrap();
    let mut running = session();
    running.status = SessionStatus::Running;
    store.create_session(&running, None).await.unwrap();
    let mut done = session();
    done.status = SessionStatus::Stopped;
    done.total_input_tokens = 500;
    done.total_output_tokens = 20;
    done.llm_cost_usd = "0.5".into();
    store.create_session(&done, None).await.unwrap();
    store.append_message(&message(done.id, 0)).await.unwrap();
    store.append_message(&message(done.id, 1)).await.unwrap();
    let mut browser = BrowserRecord::new(Uuid::now_v7(), crate::now());
    browser.status = BrowserStatus::Stopped;
    store.save_browser(&browser).await.unwrap();

    let stats = store.stats().await.unwrap();
    assert_eq!(
        stats.sessions,
        vec![("running".to_string(), 2), ("stopped".to_string(), 1)]
    );
    assert_eq!(stats.waiting_for_human, 1);
    assert_eq!(stats.browsers, vec![("stopped".to_string(), 1)]);
    assert_eq!((stats.input_tokens, stats.output_tokens), (1500, 70));
    assert!(
        (stats.llm_cost_usd - 0.75).abs() < 1e-9,
        "{}",
        stats.llm_cost_usd
    );
    assert_eq!(stats.messages, 2);
}

/// Checks that a write failing half-way (a broken constraint after a first statement went
/// through) leaves nothing of itself, is reported as neither a full disk nor an outage, and
/// leaves no connection inside a transaction: many more writes than pooled connections
/// succeed after it.
pub async fn a_failed_write_rolls_back_whole_and_the_store_stays_usable(store: &dyn Store) {
    let s = session();
    let first = store
        .create_session(&s, Some(&message(s.id, 0)))
        .await
        .unwrap()
        .unwrap();
    // The same id again: the insert fails, with its first message.
    let error = store
        .create_session(&s, Some(&message(s.id, 1)))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), StoreErrorKind::Other, "{error}");
    // A create whose session row goes in, then whose message names no session: the
    // session row is rolled back with it.
    let ghost = session();
    let orphan = session();
    assert!(
        store
            .create_session(&orphan, Some(&message(ghost.id, 3)))
            .await
            .is_err()
    );
    assert_eq!(store.session(orphan.id).await.unwrap(), None);
    // A save whose message names no session changes nothing either.
    let mut changed = s.clone();
    changed.status = SessionStatus::Error;
    assert!(
        store
            .save_session(&changed, Some(&message(ghost.id, 2)))
            .await
            .is_err()
    );
    assert_eq!(store.session(s.id).await.unwrap(), Some(s.clone()));
    let page = store.messages(s.id, &query(None, None, 10)).await.unwrap();
    assert_eq!(ids(&page), vec![first.id]);
    for n in 0..20 {
        let mut next = s.clone();
        next.step_count = n;
        next.updated_at = crate::now();
        store
            .save_session(&next, Some(&message(s.id, 10 + n as usize)))
            .await
            .unwrap();
    }
    let page = store.messages(s.id, &query(None, None, 100)).await.unwrap();
    assert_eq!(page.messages.len(), 21);
    assert_eq!(store.session(s.id).await.unwrap().unwrap().step_count, 19);
}
