//! sqlx prepares every statement, and PostgreSQL may switch a prepared statement to a generic
//! plan (one made without the parameters' values) after a few runs. Made while a table is still
//! small, such a plan once served lookups by id from an index that leads with the workspace,
//! reading every row of the workspace per lookup (docs/benchmarks.md). This checks that the
//! generic plan of each lookup by id uses the table's primary key, on a fresh (empty) database,
//! where the risk is highest.

use parley_conformance::pg;
use parley_store_postgres::{lookups_by_id, PostgresStore};
use sqlx::{Connection, Executor, PgConnection, Row};

#[tokio::test]
async fn lookups_by_id_use_the_primary_key_even_in_generic_plans() {
    let Some(db) = pg::test_database().await else {
        return;
    };
    // Connecting runs the migrations.
    PostgresStore::connect(&db.url).await.unwrap().close().await;
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    conn.execute("SET plan_cache_mode = force_generic_plan")
        .await
        .unwrap();
    let mut wrong = Vec::new();
    for (i, sql) in lookups_by_id().iter().enumerate() {
        conn.execute(format!("PREPARE lookup_{i} AS {sql}").as_str())
            .await
            .unwrap();
        // The id and the workspace, then NULL for any further parameter.
        let nil = "'00000000-0000-0000-0000-000000000000'";
        let params = (1..=30)
            .take_while(|n| sql.contains(&format!("${n}")))
            .count();
        let args: Vec<&str> = (0..params)
            .map(|n| if n < 2 { nil } else { "NULL" })
            .collect();
        let plan: Vec<String> =
            sqlx::query(&format!("EXPLAIN EXECUTE lookup_{i}({})", args.join(", ")))
                .fetch_all(&mut conn)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>(0))
                .collect();
        let plan = plan.join("\n");
        if !plan.contains("_pkey") {
            wrong.push(format!("{sql}\n{plan}"));
        }
    }
    conn.close().await.unwrap();
    db.drop_db().await;
    assert!(
        wrong.is_empty(),
        "not planned on the primary key:\n\n{}",
        wrong.join("\n\n")
    );
}
