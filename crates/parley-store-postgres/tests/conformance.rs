use futures::FutureExt;
use parley_conformance::{pg, DynStore};
use parley_store_postgres::PostgresStore;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// Runs `test` on a fresh database, dropped afterwards even when the test fails. Skips (with a
/// note) when no PostgreSQL is configured; on CI a missing server fails instead.
async fn with_store<F, Fut>(test: F)
where
    F: FnOnce(DynStore) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(db) = pg::test_database().await else {
        return;
    };
    let store = Arc::new(PostgresStore::connect(&db.url).await.unwrap());
    let result = AssertUnwindSafe(test(store.clone())).catch_unwind().await;
    store.close().await;
    db.drop_db().await;
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

parley_conformance::conformance_tests!(with_store);
