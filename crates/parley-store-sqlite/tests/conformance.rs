use parley_conformance::DynStore;
use parley_store_sqlite::SqliteStore;
use std::future::Future;
use std::sync::Arc;

async fn with_store<F, Fut>(test: F)
where
    F: FnOnce(DynStore) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_file(&dir.path().join("t.db"))
        .await
        .unwrap();
    test(Arc::new(store)).await;
}

parley_conformance::conformance_tests!(with_store);
