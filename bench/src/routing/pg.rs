//! A throw-away PostgreSQL database for one run (as `parley-conformance`'s `pg.rs` does for tests),
//! and the server's settings and CPU time for the report.

use anyhow::{Context, Result};
use sqlx::{Connection, Executor, PgConnection, Row};
use std::collections::BTreeMap;

/// `--postgres-url`, for the benchmarks that make their own database.
#[derive(clap::Args)]
pub struct AdminUrl {
    /// Admin connection to the PostgreSQL server; a fresh database is created there and dropped.
    #[arg(
        long,
        env = "PARLEY_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    pub postgres_url: String,
}

pub struct Database {
    admin: String,
    pub name: String,
    pub url: String,
}

impl Database {
    pub async fn create(admin: &str) -> Result<Database> {
        let name = format!(
            "parley_bench_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let mut conn = PgConnection::connect(admin)
            .await
            .with_context(|| format!("connecting to PostgreSQL at {admin}"))?;
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .with_context(|| format!("creating database {name}"))?;
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
        Ok(Database {
            admin: admin.to_owned(),
            url: format!("{base}/{name}"),
            name,
        })
    }

    /// Drops the database even if connections to it are still open.
    pub async fn drop_db(self) {
        let done = async {
            let mut conn = PgConnection::connect(&self.admin).await?;
            conn.execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
                .await?;
            anyhow::Ok(())
        }
        .await;
        match done {
            Ok(()) => eprintln!("dropped database {}", self.name),
            Err(e) => eprintln!("could not drop database {}: {e:#}", self.name),
        }
    }
}

/// The settings that decide what a commit costs.
pub async fn settings(admin: &str) -> Result<BTreeMap<String, String>> {
    let mut conn = PgConnection::connect(admin)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {admin}"))?;
    let mut out = BTreeMap::new();
    out.insert(
        "server_version".into(),
        conn.fetch_one("SHOW server_version").await?.try_get(0)?,
    );
    for name in [
        "synchronous_commit",
        "fsync",
        "wal_sync_method",
        "shared_buffers",
        "max_connections",
    ] {
        let v: String = conn
            .fetch_one(format!("SHOW {name}").as_str())
            .await?
            .try_get(0)?;
        out.insert(name.into(), v);
    }
    Ok(out)
}

/// CPU seconds used by the local PostgreSQL server: every `postgres` process's own time plus
/// what the postmaster reaped from backends that have exited (cutime + cstime), so that closed
/// connections still count.
pub fn server_cpu_seconds() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .map(|c| c.trim() == "postgres")
                .unwrap_or(false)
        })
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // Fields after the command name: utime, stime, cutime, cstime are the 12th-15th.
            let f: Vec<u64> = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .skip(11)
                .take(4)
                .filter_map(|v| v.parse().ok())
                .collect();
            Some(f.iter().sum::<u64>() as f64 / hz)
        })
        .sum()
}

/// Activity counters: the database's transactions (every statement outside an explicit
/// transaction counts as one) and tuples, and the cluster's WAL flushes (shared with anything
/// else using the server).
pub async fn activity(admin: &str, db: &str) -> Result<BTreeMap<String, f64>> {
    let mut conn = PgConnection::connect(admin).await?;
    // Backends publish their counters at most once a second (PostgreSQL 15).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    conn.execute("SELECT pg_stat_clear_snapshot()").await?;
    let row = sqlx::query(
        "SELECT xact_commit::float8, xact_rollback::float8, tup_returned::float8, tup_fetched::float8, \
         tup_inserted::float8, tup_updated::float8, blks_read::float8, blks_hit::float8 \
         FROM pg_stat_database WHERE datname = $1",
    )
    .bind(db)
    .fetch_one(&mut conn)
    .await?;
    let mut out = BTreeMap::new();
    for (i, k) in [
        "transactions",
        "rollbacks",
        "tuples_returned",
        "tuples_fetched",
        "tuples_inserted",
        "tuples_updated",
        "blocks_read",
        "blocks_hit",
    ]
    .iter()
    .enumerate()
    {
        out.insert(k.to_string(), row.try_get::<f64, _>(i)?);
    }
    let wal = sqlx::query("SELECT wal_sync::float8, wal_write::float8 FROM pg_stat_wal")
        .fetch_one(&mut conn)
        .await?;
    out.insert("wal_syncs_cluster".into(), wal.try_get::<f64, _>(0)?);
    out.insert("wal_writes_cluster".into(), wal.try_get::<f64, _>(1)?);
    Ok(out)
}
