//! The store's conformance suite (`store::conformance`) against every backend: SQLite (a
//! file, as the server uses it) and PostgreSQL (a throwaway cluster from Debian's packages,
//! a fresh database per check). A check that fails names itself and the backend.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use store::Store;
use testkit::postgres::PgCluster;

async fn run_all<F, Fut>(backend: &str, mut fresh: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn Store>>,
{
    for (name, check) in store::conformance::checks() {
        eprintln!("conformance on {backend}: {name}");
        let store = fresh().await;
        check(store.as_ref()).await;
        store.close().await.unwrap();
    }
}

#[tokio::test]
async fn sqlite_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    run_all("sqlite", || {
        n += 1;
        let url = format!("sqlite://{}/check-{n}.db", dir.path().display());
        async move { store::open(&url).await.unwrap() }
    })
    .await;
}

#[tokio::test]
async fn sqlite_in_memory_passes_the_conformance_suite() {
    run_all("sqlite in memory", || async {
        store::open("sqlite::memory:").await.unwrap()
    })
    .await;
}

#[tokio::test]
async fn postgres_passes_the_conformance_suite() {
    let cluster = PgCluster::start();
    run_all("postgres", || {
        let url = cluster.create_database();
        async move { store::open(&url).await.unwrap() }
    })
    .await;
}

#[tokio::test]
async fn unknown_url_schemes_are_refused_clearly() {
    let error = store::open("mysql://localhost/tandem").await.err().unwrap();
    assert!(
        error
            .to_string()
            .contains("unsupported database URL scheme \"mysql\""),
        "{error}"
    );
    let error = store::open("sqlite://").await.err().unwrap();
    assert!(error.to_string().contains("names no file"), "{error}");
}
