//! A throw-away PostgreSQL database per test. The server comes from `PARLEY_TEST_POSTGRES_URL`,
//! or 127.0.0.1:5432 when `CI=true` (where a missing server must fail the run, not skip it).

use sqlx::{Connection, Executor, PgConnection};

/// The admin URL to create test databases with, or `None` when PostgreSQL tests should skip.
pub fn admin_url() -> Option<String> {
    if let Ok(url) = std::env::var("PARLEY_TEST_POSTGRES_URL") {
        if !url.is_empty() {
            return Some(url);
        }
    }
    if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        return Some("postgres://postgres@127.0.0.1:5432/test".into());
    }
    None
}

/// A fresh database for one test, or `None` (with a note) when PostgreSQL tests should skip.
pub async fn test_database() -> Option<TestDatabase> {
    let Some(admin) = admin_url() else {
        eprintln!("skipped: set PARLEY_TEST_POSTGRES_URL to run PostgreSQL tests");
        return None;
    };
    let db = TestDatabase::create(&admin)
        .await
        .expect("PostgreSQL must be reachable for these tests");
    Some(db)
}

/// A fresh, empty database; dropped with [`TestDatabase::drop_db`].
pub struct TestDatabase {
    admin: String,
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create(admin: &str) -> anyhow::Result<Self> {
        let name = format!("parley_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(admin).await?;
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await?;
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
        let url = format!("{base}/{name}");
        Ok(TestDatabase {
            admin: admin.to_owned(),
            name,
            url,
        })
    }

    pub async fn drop_db(self) {
        if let Ok(mut conn) = PgConnection::connect(&self.admin).await {
            let _ = conn
                .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
                .await;
        }
    }
}
