//! The SQLite side of `parley backup` / `parley restore`: a consistent snapshot of a live
//! database, and a read-only look at a database file (integrity, schema version, counts, the
//! attachments it references).
//!
//! Both open a connection of their own to the file; neither goes through a running server nor
//! writes to the live database. The snapshot is `VACUUM INTO` on a read-only connection: it runs
//! in one read transaction, so in WAL mode it sees exactly the transactions committed before it
//! started, while the server keeps reading and writing (WAL readers and the writer do not block
//! each other).

use anyhow::{bail, Context};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row, SqliteConnection};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

/// What a database file holds, read without changing it.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The newest migration applied (the schema version).
    pub schema_version: i64,
    /// Row counts of the main tables, in a fixed order: workspaces, users, conversations,
    /// events, messages, attachments.
    pub counts: Vec<(&'static str, i64)>,
    /// Every attachment row: (workspace id, attachment id, size in bytes). Its file lives at
    /// `uploads/<workspace id>/<attachment id>`.
    pub attachments: Vec<(Uuid, Uuid, i64)>,
}

/// The file behind a `sqlite://PATH` URL (what `SqliteStore::connect` opens).
pub fn database_path(url: &str) -> anyhow::Result<PathBuf> {
    let opts =
        SqliteConnectOptions::from_str(url).with_context(|| format!("bad SQLite URL {url}"))?;
    let path = opts.get_filename().to_owned();
    if url.contains(":memory:") || path.as_os_str().is_empty() {
        bail!("{url} is not a database file");
    }
    Ok(path)
}

/// The newest migration this build knows: a backup with a newer schema cannot be served by it.
pub fn latest_schema_version() -> i64 {
    sqlx::migrate!("./migrations")
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

/// Writes a consistent copy of the live database at `url` to `out`, which must not exist yet.
/// Opens its own read-only connection; the server may keep running and writing meanwhile.
pub async fn snapshot(url: &str, out: &Path) -> anyhow::Result<()> {
    let path = database_path(url)?;
    if !path.is_file() {
        bail!("there is no SQLite database at {}", path.display());
    }
    let Some(out_str) = out.to_str() else {
        bail!("the backup path {} is not valid UTF-8", out.display());
    };
    let opts = SqliteConnectOptions::from_str(url)?
        .create_if_missing(false)
        .read_only(true)
        .busy_timeout(Duration::from_secs(30));
    let mut conn = opts
        .connect()
        .await
        .with_context(|| format!("opening {} read-only", path.display()))?;
    // One statement, one read transaction: the copy is the database as of its start.
    sqlx::query("VACUUM INTO ?")
        .bind(out_str)
        .execute(&mut conn)
        .await
        .with_context(|| format!("copying {} to {}", path.display(), out.display()))?;
    conn.close().await?;
    Ok(())
}

/// Opens a database file read-only (and immutable: no lock files, no journal, nothing written
/// next to it), checks its integrity and reads what a backup manifest and a restore need.
pub async fn inspect(path: &Path) -> anyhow::Result<Inspection> {
    if !path.is_file() {
        bail!("{} does not exist", path.display());
    }
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .immutable(true)
        .connect()
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    let result = inspect_on(&mut conn, path).await;
    conn.close().await?;
    result
}

async fn inspect_on(conn: &mut SqliteConnection, path: &Path) -> anyhow::Result<Inspection> {
    let problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut *conn)
        .await
        .with_context(|| format!("{} is not a readable SQLite database", path.display()))?;
    if problems != ["ok"] {
        bail!(
            "{} fails SQLite's integrity check: {}",
            path.display(),
            problems.join("; ")
        );
    }
    let schema_version: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut *conn)
            .await
            .with_context(|| format!("{} is not a Parley database", path.display()))?;
    let schema_version =
        schema_version.with_context(|| format!("{} has no applied migrations", path.display()))?;
    let mut counts = Vec::new();
    for (name, sql) in [
        ("workspaces", "SELECT COUNT(*) FROM workspaces"),
        ("users", "SELECT COUNT(*) FROM users"),
        ("conversations", "SELECT COUNT(*) FROM conversations"),
        ("events", "SELECT COUNT(*) FROM events"),
        (
            "messages",
            "SELECT COUNT(*) FROM events WHERE kind = 'message'",
        ),
        ("attachments", "SELECT COUNT(*) FROM attachments"),
    ] {
        let n: i64 = sqlx::query_scalar(sql)
            .fetch_one(&mut *conn)
            .await
            .with_context(|| format!("counting {name} in {}", path.display()))?;
        counts.push((name, n));
    }
    let attachments = sqlx::query("SELECT workspace_id, id, size FROM attachments")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get::<Uuid, _>(0)?,
                r.try_get::<Uuid, _>(1)?,
                r.try_get::<i64, _>(2)?,
            ))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .context("reading attachments")?;
    Ok(Inspection {
        schema_version,
        counts,
        attachments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn snapshot_of_a_live_database_is_complete_and_readable() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("parley.db");
        let url = format!("sqlite://{}", db.display());
        let store = crate::SqliteStore::connect(&url).await.unwrap();
        let copy = dir.path().join("copy.db");
        // While the store keeps its connections open.
        snapshot(&url, &copy).await.unwrap();
        let seen = inspect(&copy).await.unwrap();
        assert_eq!(seen.schema_version, latest_schema_version());
        assert!(
            seen.counts.iter().all(|(_, n)| *n == 0),
            "{:?}",
            seen.counts
        );
        store.close().await;
        // The target must not exist; a missing source is named.
        assert!(snapshot(&url, &copy).await.is_err());
        let err = snapshot("sqlite:///nonexistent/parley.db", &dir.path().join("x.db"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no SQLite database"), "{err:#}");
        // Not a database at all.
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, vec![7u8; 8192]).unwrap();
        assert!(inspect(&junk).await.is_err());
    }
}
