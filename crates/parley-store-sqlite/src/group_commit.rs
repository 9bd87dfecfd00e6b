//! Group commit for chat messages: one task owns the stream of message writes and commits
//! whatever queued up while the previous commit was being made in ONE transaction (one WAL
//! fsync), each message inside its own savepoint so that a failing one changes nothing and
//! does not take the others down. A message's result is handed back only after the commit
//! that contains it, so "acknowledged" still means "durable".
//!
//! There is no waiting for company: a lone message commits at once (batch of one); batches
//! grow only when messages arrive faster than commits complete, which is when they help.

use crate::other;
use futures::future::BoxFuture;
use parley_core::StoreResult;
use sqlx::{Connection, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

/// Largest batch: bounds the latency of the first message and the size of one transaction.
const MAX_BATCH: usize = 256;

/// Called after the batch's commit with its outcome; sends the job's own result.
type Deliver = Box<dyn FnOnce(Result<(), String>) + Send>;
type Work = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Deliver> + Send>;

#[derive(Clone)]
pub(crate) struct GroupCommit {
    jobs: mpsc::UnboundedSender<Work>,
}

impl GroupCommit {
    pub(crate) fn start(writer: SqlitePool) -> Self {
        let (jobs, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(writer, rx));
        GroupCommit { jobs }
    }

    /// Runs `work` inside a savepoint of the next batch and returns its result once that batch
    /// committed. `work` must leave nothing behind when it fails (it runs in a savepoint that
    /// is rolled back on error).
    pub(crate) async fn run<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(
                &'c mut sqlx::Transaction<'_, sqlx::Sqlite>,
            ) -> BoxFuture<'c, StoreResult<T>>
            + Send
            + 'static,
    {
        let (tx, rx) = oneshot::channel::<StoreResult<T>>();
        let job: Work = Box::new(move |conn: &mut SqliteConnection| {
            Box::pin(async move {
                let result = in_savepoint(conn, work).await;
                Box::new(move |committed: Result<(), String>| {
                    let _ = tx.send(match committed {
                        Ok(()) => result,
                        Err(e) => Err(other(anyhow::anyhow!("commit failed: {e}"))),
                    });
                }) as Deliver
            })
        });
        self.jobs
            .send(job)
            .map_err(|_| other(anyhow::anyhow!("the database writer has stopped")))?;
        rx.await
            .map_err(|_| other(anyhow::anyhow!("the database writer is unavailable")))?
    }
}

async fn in_savepoint<T, F>(conn: &mut SqliteConnection, work: F) -> StoreResult<T>
where
    F: for<'c> FnOnce(&'c mut sqlx::Transaction<'_, sqlx::Sqlite>) -> BoxFuture<'c, StoreResult<T>>,
{
    // Inside the batch's transaction, sqlx makes this a SAVEPOINT; dropping it uncommitted
    // rolls back to it.
    let mut sp = conn.begin().await.map_err(other)?;
    let result = work(&mut sp).await;
    if result.is_ok() {
        sp.commit().await.map_err(other)?;
    }
    result
}

async fn run(writer: SqlitePool, mut rx: mpsc::UnboundedReceiver<Work>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // Jobs dropped unrun (no connection, no BEGIN) report "unavailable" to their callers.
        let Ok(mut conn) = writer.acquire().await else {
            batch.clear();
            continue;
        };
        let Ok(mut tx) = conn.begin().await else {
            batch.clear();
            continue;
        };
        let mut delivers = Vec::with_capacity(batch.len());
        for work in batch.drain(..) {
            delivers.push(work(&mut tx).await);
        }
        let committed = tx.commit().await.map_err(|e| e.to_string());
        tracing::debug!(messages = delivers.len(), "group commit");
        if let Err(e) = &committed {
            tracing::error!(error = %e, messages = delivers.len(), "group commit failed");
        }
        for d in delivers {
            d(committed.clone());
        }
    }
}
