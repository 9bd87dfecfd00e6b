//! Group commit for chat messages: one thread owns the stream of message writes and commits
//! whatever queued up while the previous commit was being made in ONE transaction (one WAL
//! fsync), each message inside its own savepoint so that a failing one changes nothing and
//! does not take the others down. A message's result is handed back only after the commit
//! that contains it, so "acknowledged" still means "durable".
//!
//! There is no waiting for company: a lone message commits at once (batch of one); batches
//! grow only when messages arrive faster than commits complete, which is when they help.
//!
//! The batch runs as plain synchronous SQLite calls on the writer connection's handle, lent out
//! of sqlx for the batch (`sync_sql`). It blocks its thread while it runs, fsync included, so
//! the loop has a thread and a small runtime of its own.

use crate::other;
use crate::sync_sql::on_pooled;
use parley_core::StoreResult;
use rusqlite::Connection;
use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

/// Largest batch: bounds the latency of the first message and the size of one transaction.
const MAX_BATCH: usize = 256;

/// Called after the batch's commit with its outcome; sends the job's own result.
type Deliver = Box<dyn FnOnce(Result<(), String>) + Send>;
type Work = Box<dyn FnOnce(&Connection) -> Deliver + Send>;

#[derive(Clone)]
pub(crate) struct GroupCommit {
    jobs: mpsc::UnboundedSender<Work>,
}

impl GroupCommit {
    /// Starts the writer thread; it ends when the last `GroupCommit` is dropped.
    pub(crate) fn start(writer: SqlitePool) -> std::io::Result<Self> {
        let (jobs, rx) = mpsc::unbounded_channel();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("parley-writer".into())
            .spawn(move || rt.block_on(run(writer, rx)))?;
        Ok(GroupCommit { jobs })
    }

    /// Runs `work` inside a savepoint of the next batch and returns its result once that batch
    /// committed. `work` must leave nothing behind when it fails (its savepoint is rolled
    /// back on error).
    pub(crate) async fn run<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<StoreResult<T>>();
        let job: Work = Box::new(move |db: &Connection| {
            let result = in_savepoint(db, work);
            Box::new(move |committed: Result<(), String>| {
                let _ = tx.send(match committed {
                    Ok(()) => result,
                    Err(e) => Err(other(anyhow::anyhow!("commit failed: {e}"))),
                });
            }) as Deliver
        });
        self.jobs
            .send(job)
            .map_err(|_| other(anyhow::anyhow!("the database writer has stopped")))?;
        rx.await
            .map_err(|_| other(anyhow::anyhow!("the database writer is unavailable")))?
    }
}

fn in_savepoint<T>(
    db: &Connection,
    work: impl FnOnce(&Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    run_cached(db, "SAVEPOINT message")?;
    let result = work(db);
    if result.is_err() {
        run_cached(db, "ROLLBACK TO message")?;
    }
    run_cached(db, "RELEASE message")?;
    result
}

/// Runs a statement prepared once per batch: `execute_batch` would parse it for every message.
fn run_cached(db: &Connection, sql: &str) -> StoreResult<()> {
    db.prepare_cached(sql)
        .and_then(|mut s| s.execute([]))
        .map(drop)
        .map_err(other)
}

async fn run(writer: SqlitePool, mut rx: mpsc::UnboundedReceiver<Work>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // Jobs dropped unrun (no connection, no BEGIN) report "unavailable" to their callers.
        let done = match on_pooled(&writer, |db| commit(db, &mut batch)).await {
            Ok(Some(done)) => done,
            Ok(None) => continue,
            Err(e) => {
                tracing::error!(error = %e, "using the writer connection");
                batch.clear();
                continue;
            }
        };
        let (delivers, committed) = done;
        for d in delivers {
            d(committed.clone());
        }
    }
}

/// Runs the batch in one transaction; `None` if it could not start (the batch is dropped).
fn commit(db: &Connection, batch: &mut Vec<Work>) -> Option<(Vec<Deliver>, Result<(), String>)> {
    if let Err(e) = db.execute_batch("BEGIN IMMEDIATE") {
        tracing::error!(error = %e, "starting a group commit");
        batch.clear();
        return None;
    }
    let delivers: Vec<Deliver> = batch.drain(..).map(|work| work(db)).collect();
    let committed = db.execute_batch("COMMIT").map_err(|e| e.to_string());
    if let Err(e) = &committed {
        tracing::error!(error = %e, messages = delivers.len(), "group commit failed");
        let _ = db.execute_batch("ROLLBACK");
    }
    tracing::debug!(messages = delivers.len(), "group commit");
    Some((delivers, committed))
}
