//! Plain synchronous SQLite calls on a connection that sqlx owns. Through sqlx every statement
//! is a hand-off to the connection's own thread and back; under load those hand-offs waited
//! far longer for a core than SQLite took to run the statement (docs/benchmarks.md). The hot
//! paths run plain rusqlite calls on a thread of their own instead: the group commit on a
//! connection of its own, the inbox feed's reads on a reader connection whose handle sqlx
//! lends for a batch (`on_pooled`).
//!
//! Same SQL, same column encodings (UUIDs as 16-byte blobs, times as integers) and the same
//! row decoders (`parley-store-rows`) as the sqlx code in `lib.rs`, which the conformance suite
//! checks.

use crate::other;
use parley_core::StoreResult;
use parley_store_rows::{Get, R};
use rusqlite::{Connection, OptionalExtension};
use sqlx::SqlitePool;
use std::cell::Cell;
use uuid::Uuid;

/// Runs `work` with rusqlite on one of `pool`'s connections, locked out of sqlx's worker
/// thread meanwhile. Blocks the calling thread while `work` runs: call it from a thread of
/// its own, not from the shared runtime.
pub(crate) async fn on_pooled<T>(
    pool: &SqlitePool,
    work: impl FnOnce(&Connection) -> T,
) -> StoreResult<T> {
    let mut conn = pool.acquire().await.map_err(other)?;
    let mut handle = conn.lock_handle().await.map_err(other)?;
    // SAFETY: the handle is locked out of sqlx's worker until `handle` drops, and the
    // borrowed `Connection` (which does not close the handle) is dropped before it.
    let db = unsafe { Connection::from_handle(handle.as_raw_handle().as_ptr()) }.map_err(other)?;
    let out = work(&db);
    drop(db);
    drop(handle);
    Ok(out)
}

/// A rusqlite row seen through the decoders' column interface. rusqlite finds a column by name
/// by comparing it with every column's name, case-insensitively: a tenth of the group commit's
/// instructions went there (docs/benchmarks.md). The decoders ask for the columns in the order
/// the queries list them, so the lookup first tries the column after the last one found.
pub(crate) struct Row<'a, 'b> {
    row: &'a rusqlite::Row<'b>,
    next: Cell<usize>,
}

impl<'a, 'b> Row<'a, 'b> {
    fn new(row: &'a rusqlite::Row<'b>) -> Self {
        Row {
            row,
            next: Cell::new(0),
        }
    }

    fn get<T: rusqlite::types::FromSql>(&self, col: &str) -> R<T> {
        let stmt: &rusqlite::Statement = self.row.as_ref();
        let n = stmt.column_count();
        let start = self.next.get();
        for i in (start..n).chain(0..start.min(n)) {
            if stmt.column_name(i).is_ok_and(|name| name == col) {
                self.next.set(i + 1);
                return Ok(self.row.get(i)?);
            }
        }
        // Not spelled exactly as asked: rusqlite's own lookup (case-insensitive) decides.
        Ok(self.row.get(col)?)
    }
}

impl Get for Row<'_, '_> {
    fn text(&self, col: &str) -> R<String> {
        self.get(col)
    }
    fn opt_text(&self, col: &str) -> R<Option<String>> {
        self.get(col)
    }
    fn int(&self, col: &str) -> R<i64> {
        self.get(col)
    }
    fn opt_int(&self, col: &str) -> R<Option<i64>> {
        self.get(col)
    }
    fn uuid(&self, col: &str) -> R<Uuid> {
        self.get(col)
    }
    fn opt_uuid(&self, col: &str) -> R<Option<Uuid>> {
        self.get(col)
    }
}

/// Runs `sql` with `args` and decodes at most one row with `decode`.
pub(crate) fn one<T, P: rusqlite::Params>(
    db: &Connection,
    sql: &str,
    args: P,
    decode: fn(&Row) -> R<T>,
) -> StoreResult<Option<T>> {
    let mut stmt = db.prepare_cached(sql).map_err(other)?;
    let found = stmt
        .query_row(args, |r| Ok(decode(&Row::new(r))))
        .optional()
        .map_err(other)?;
    found.transpose().map_err(other)
}

/// Runs `sql` with `args` and decodes every row with `decode`.
pub(crate) fn all<T, P: rusqlite::Params>(
    db: &Connection,
    sql: &str,
    args: P,
    decode: fn(&Row) -> R<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = db.prepare_cached(sql).map_err(other)?;
    let rows = stmt
        .query_map(args, |r| Ok(decode(&Row::new(r))))
        .map_err(other)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row.map_err(other)?.map_err(other)?);
    }
    Ok(out)
}
