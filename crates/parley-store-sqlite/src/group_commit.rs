//! Group commit for chat messages: one thread owns the stream of message writes and commits
//! whatever queued up while the previous commit was being made in ONE transaction (one WAL
//! fsync); a failing message changes nothing and does not take the others down (see
//! `commit`). A message's result is handed back only after the commit
//! that contains it has reached the disk (the WAL's fsync, made by `wal_sync` while this
//! thread goes on with the next batch), so "acknowledged" still means "durable".
//!
//! There is no waiting for company: a lone message commits at once (batch of one); batches
//! grow only when messages arrive faster than commits complete, which is when they help.
//!
//! The batch runs as plain synchronous SQLite calls on a connection of the thread's own, kept
//! for the store's life so that its statements are prepared once: prepared afresh for every
//! batch they were a quarter of the writer's time when batches are small (docs/benchmarks.md).
//! For the batch it holds sqlx's only writer connection, which keeps every other write out
//! meanwhile as before, without a hand-off to that connection's thread. It blocks its thread
//! while it runs, so the loop has a thread and a small runtime of its own.

use crate::other;
use crate::wal_sync::{Deliver, Progress, WalSync};
use anyhow::Context;
use parley_core::StoreResult;
use rusqlite::{Connection, OpenFlags};
use sqlx::SqlitePool;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Largest batch: bounds the latency of the first message and the size of one transaction.
const MAX_BATCH: usize = 256;

/// Distinct statements a batch may run (rusqlite keeps 16 by default).
const STATEMENTS: usize = 32;

/// A queued write. It may run twice: see `commit`.
trait Job: Send {
    /// Runs the write on `db`, inside a savepoint of its own when `savepoint`; false if it
    /// failed. The result is kept for `deliver`.
    fn run(&mut self, db: &Connection, savepoint: bool) -> StoreResult<bool>;
    /// Hands the result of the last run to its caller once the batch's fate is known.
    fn deliver(self: Box<Self>) -> Deliver;
}

type Work = Box<dyn Job>;

struct Pending<T, F> {
    work: F,
    result: Option<StoreResult<T>>,
    tx: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send + 'static,
    F: FnMut(&Connection) -> StoreResult<T> + Send,
{
    fn run(&mut self, db: &Connection, savepoint: bool) -> StoreResult<bool> {
        let result = match savepoint {
            true => in_savepoint(db, &mut self.work)?,
            false => (self.work)(db),
        };
        let ok = result.is_ok();
        self.result = Some(result);
        Ok(ok)
    }

    fn deliver(self: Box<Self>) -> Deliver {
        let Pending { result, tx, .. } = *self;
        let result = result.unwrap_or_else(|| Err(other(anyhow::anyhow!("not run"))));
        Box::new(move |committed: Result<(), String>| {
            let _ = tx.send(match committed {
                Ok(()) => result,
                Err(e) => Err(other(anyhow::anyhow!("commit failed: {e}"))),
            });
        })
    }
}

enum Msg {
    Write(Work),
    /// Commit what came before, close the connection and end the thread.
    Stop,
}

pub(crate) struct GroupCommit {
    jobs: mpsc::UnboundedSender<Msg>,
    thread: Mutex<Option<JoinHandle<()>>>,
    progress: Arc<Progress>,
}

impl GroupCommit {
    /// Opens the thread's connection to the database file at `path` (which the `writer` pool
    /// has created and migrated) and starts the thread.
    pub(crate) fn start(writer: SqlitePool, path: &Path) -> anyhow::Result<Self> {
        let db = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // As the sqlx writer's (see `SqliteStore::connect`), except that COMMIT does not sync:
        // `wal_sync` does, before anyone is answered. WAL mode is the database's own.
        db.execute_batch(&format!(
            "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = {};",
            crate::checkpointer::WRITER_AUTOCHECKPOINT_PAGES
        ))?;
        // A savepoint or statement journal copies the pages a message changes that the batch
        // had already changed (the sub-journal; rare since `commit` runs without savepoints,
        // but a batch run again in savepoints or an UPDATE of an assignee has one); past
        // 64 KiB SQLite moved that copy to a new temporary file, written page by page and
        // deleted after the batch. In memory it costs a copy. And a batch's hot pages (each
        // conversation's last leaf, each sender's client-id leaf, the conversation rows)
        // outgrew the default 2 MiB cache at 200 busy conversations, so pages were read back
        // from the WAL batch after batch (docs/benchmarks.md).
        db.execute_batch("PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16384;")?;
        db.busy_timeout(Duration::from_secs(10))?;
        db.set_prepared_statement_cache_capacity(STATEMENTS);
        // A read makes sure this connection has the WAL open. Its name is SQLite's own (the
        // database's resolved path plus "-wal"), not one derived from `path`, which may be a
        // symlink or relative.
        db.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
        let wal = format!(
            "{}-wal",
            db.path().context("the database has no file name")?
        );
        let wal =
            WalSync::start(Path::new(&wal)).with_context(|| format!("opening the WAL {wal}"))?;
        let progress = wal.progress();
        let (jobs, rx) = mpsc::unbounded_channel();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("parley-writer".into())
            .spawn(move || rt.block_on(run(db, wal, writer, rx)))?;
        Ok(GroupCommit {
            jobs,
            thread: Mutex::new(Some(thread)),
            progress,
        })
    }

    /// Waits until every batch committed before this call is on the disk. The store's reads of
    /// events and conversations call it after reading (see `wal_sync`).
    pub(crate) async fn durable(&self) {
        self.progress.durable().await
    }

    /// Commits what is queued, closes the connection and waits for the thread to end; later
    /// writes fail.
    pub(crate) async fn stop(&self) {
        let _ = self.jobs.send(Msg::Stop);
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(t) = thread {
            // Joins a thread that may be in the middle of a commit: not on the runtime.
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }

    /// Runs `work` in the next batch and returns its result once that batch committed. `work`
    /// must leave nothing behind when it fails (see `commit`), and may be run twice.
    pub(crate) async fn run<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<StoreResult<T>>();
        let job: Work = Box::new(Pending {
            work,
            result: None,
            tx,
        });
        self.jobs
            .send(Msg::Write(job))
            .map_err(|_| other(anyhow::anyhow!("the database writer has stopped")))?;
        rx.await
            .map_err(|_| other(anyhow::anyhow!("the database writer is unavailable")))?
    }
}

/// Runs `work` inside a savepoint, rolled back if it fails. The outer error is the
/// savepoint's own.
fn in_savepoint<T>(
    db: &Connection,
    work: impl FnOnce(&Connection) -> StoreResult<T>,
) -> StoreResult<StoreResult<T>> {
    run_cached(db, "SAVEPOINT message")?;
    let result = work(db);
    if result.is_err() {
        run_cached(db, "ROLLBACK TO message")?;
    }
    run_cached(db, "RELEASE message")?;
    Ok(result)
}

/// Runs a statement prepared once per batch: `execute_batch` would parse it for every message.
fn run_cached(db: &Connection, sql: &str) -> StoreResult<()> {
    db.prepare_cached(sql)
        .and_then(|mut s| s.execute([]))
        .map(drop)
        .map_err(other)
}

async fn run(
    db: Connection,
    wal: WalSync,
    writer: SqlitePool,
    mut rx: mpsc::UnboundedReceiver<Msg>,
) {
    let mut msgs = Vec::with_capacity(MAX_BATCH);
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut stopping = false;
    while !stopping && rx.recv_many(&mut msgs, MAX_BATCH).await > 0 {
        for m in msgs.drain(..) {
            match m {
                Msg::Write(w) => batch.push(w),
                Msg::Stop => stopping = true,
            }
        }
        if batch.is_empty() {
            continue;
        }
        // sqlx's writer connection, held so that no other write runs meanwhile (jobs dropped
        // unrun report "unavailable" to their callers).
        let _writes_held = match writer.acquire().await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "holding the writer connection");
                batch.clear();
                continue;
            }
        };
        let Some((n, delivers, committed)) = commit(&db, &mut batch, &wal) else {
            continue;
        };
        wal.after_sync(n, delivers, committed);
    }
    // The last batches are synced and answered first. Closing here, before `stop` returns:
    // see `SqliteStore::close`.
    wal.stop();
    drop(db);
}

/// Runs the batch in one transaction; `None` if it could not start (the batch is dropped).
/// After a failed WAL sync the batch is rolled back and its senders told why.
///
/// A write that fails must change nothing, and must not take the rest of its batch down. A
/// savepoint around each write would ensure that, but it copies every page the write changes
/// that the batch had already changed: a sixth of the writer's instructions per message
/// (docs/benchmarks.md). Writes rarely fail, and most that do fail before they change
/// anything (an unknown conversation, say). So the batch first runs without savepoints; a
/// failed write that changed no row is simply left out. Only when a failed write had changed
/// rows is the whole transaction rolled back and the batch run again, each write in its own
/// savepoint.
fn commit(
    db: &Connection,
    batch: &mut Vec<Work>,
    wal: &WalSync,
) -> Option<(u64, Vec<Deliver>, Result<(), String>)> {
    let ran = begin(db).and_then(|()| run_all(db, batch, false));
    let ran = match ran {
        Ok(true) => Ok(()),
        Ok(false) => {
            tracing::debug!("a failed write had changed rows: the batch runs again in savepoints");
            let _ = db.execute_batch("ROLLBACK");
            begin(db).and_then(|()| run_all(db, batch, true).map(drop))
        }
        Err(e) => Err(e),
    };
    if let Err(e) = ran {
        tracing::error!(error = %e, "running a group commit");
        if !db.is_autocommit() {
            let _ = db.execute_batch("ROLLBACK");
        }
        batch.clear();
        return None;
    }
    let delivers: Vec<Deliver> = batch.drain(..).map(|job| job.deliver()).collect();
    // Numbered before COMMIT makes it visible: a read that sees it then waits for its sync.
    let n = wal.number_next();
    let committed = match wal.failed() {
        true => Err(crate::wal_sync::FAILED.to_owned()),
        false => db.execute_batch("COMMIT").map_err(|e| e.to_string()),
    };
    if let Err(e) = &committed {
        tracing::error!(error = %e, messages = delivers.len(), "group commit failed");
        let _ = db.execute_batch("ROLLBACK");
    }
    tracing::debug!(messages = delivers.len(), "group commit");
    Some((n, delivers, committed))
}

fn begin(db: &Connection) -> StoreResult<()> {
    run_cached(db, "BEGIN IMMEDIATE")
}

/// Runs every job; without savepoints, stops at the first failed job that had changed rows
/// and returns false.
fn run_all(db: &Connection, batch: &mut [Work], savepoints: bool) -> StoreResult<bool> {
    for job in batch.iter_mut() {
        let before = db.total_changes();
        if !job.run(db, savepoints)? && !savepoints && db.total_changes() != before {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use parley_core::StoreError;
    use std::sync::atomic::{AtomicUsize, Ordering};

    type Answer = oneshot::Receiver<StoreResult<()>>;

    /// A job that inserts `key` into `t`, then fails if `fail_after` (having changed a row);
    /// `runs` counts how often it ran.
    fn insert(key: i64, fail_after: bool, runs: &Arc<AtomicUsize>) -> (Work, Answer) {
        let runs = runs.clone();
        let (tx, rx) = oneshot::channel();
        let work = move |db: &Connection| {
            runs.fetch_add(1, Ordering::SeqCst);
            db.execute("INSERT INTO t (k) VALUES (?1)", [key])
                .map_err(other)?;
            match fail_after {
                true => Err(StoreError::Conflict("late failure")),
                false => Ok(()),
            }
        };
        let job: Work = Box::new(Pending {
            work,
            result: None,
            tx,
        });
        (job, rx)
    }

    /// Commits `jobs` as one batch and delivers the outcome; the keys in `t` afterwards.
    fn commit_batch(db: &Connection, jobs: Vec<Work>) -> Vec<i64> {
        let wal = WalSync::start_with(|| Ok(())).unwrap();
        let mut batch = jobs;
        let (_, delivers, committed) = commit(db, &mut batch, &wal).unwrap();
        assert_eq!(committed, Ok(()));
        for d in delivers {
            d(committed.clone());
        }
        wal.stop();
        let mut keys = db.prepare("SELECT k FROM t ORDER BY k").unwrap();
        let keys = keys.query_map([], |r| r.get(0)).unwrap();
        keys.map(Result::unwrap).collect()
    }

    fn db() -> Connection {
        let db = Connection::open_in_memory().unwrap();
        db.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY)")
            .unwrap();
        db
    }

    fn answer(mut rx: Answer) -> StoreResult<()> {
        rx.try_recv().expect("every job is answered")
    }

    #[test]
    fn a_write_that_fails_after_changing_rows_leaves_nothing_and_the_others_commit() {
        let db = db();
        let runs = Arc::new(AtomicUsize::new(0));
        let (a, a_rx) = insert(1, false, &runs);
        let (b, b_rx) = insert(2, true, &runs);
        let (c, c_rx) = insert(3, false, &runs);
        assert_eq!(commit_batch(&db, vec![a, b, c]), vec![1, 3]);
        assert!(answer(a_rx).is_ok());
        assert!(matches!(answer(b_rx), Err(StoreError::Conflict(_))));
        assert!(answer(c_rx).is_ok());
        // Run again in savepoints: a and b twice, c once (the first pass stopped at b).
        assert_eq!(runs.load(Ordering::SeqCst), 5);
    }

    #[test]
    fn a_write_that_fails_before_changing_anything_is_left_out_in_one_pass() {
        let db = db();
        db.execute("INSERT INTO t (k) VALUES (2)", []).unwrap();
        let runs = Arc::new(AtomicUsize::new(0));
        let (a, a_rx) = insert(1, false, &runs);
        // Its INSERT breaks the primary key: the statement undoes itself, no row changed.
        let (b, b_rx) = insert(2, false, &runs);
        let (c, c_rx) = insert(3, false, &runs);
        assert_eq!(commit_batch(&db, vec![a, b, c]), vec![1, 2, 3]);
        assert!(answer(a_rx).is_ok());
        assert!(answer(b_rx).is_err());
        assert!(answer(c_rx).is_ok());
        assert_eq!(runs.load(Ordering::SeqCst), 3, "no second pass");
    }
}
