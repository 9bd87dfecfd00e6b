//! The inbox feed's reads (`Store::inbox_lines`) as plain synchronous SQLite calls on a reader
//! connection lent out of sqlx (`sync_sql`), on a thread of their own. Each changed conversation
//! is two statements (its summary and its readers' unread counts); through sqlx each was a
//! hand-off to the connection's thread and back, and at the throughput knee those hand-offs
//! were the largest share of the server's scheduling work (docs/benchmarks.md). Rounds that
//! arrive together, from any workspace, share one borrowed connection.

use crate::other;
use crate::sync_sql::{all, on_pooled, one};
use parley_core::ports::InboxLine;
use parley_core::StoreResult;
use parley_domain::*;
use parley_store_rows::{summary, Get, SUMMARY_SELECT, UNREAD_BY_READER_SELECT};
use rusqlite::{named_params, Connection};
use sqlx::SqlitePool;
use std::sync::LazyLock;
use tokio::sync::{mpsc, oneshot};

/// A conversation's summary by id, for viewer `$2`.
pub(crate) static SUMMARY_BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("{SUMMARY_SELECT} WHERE c.workspace_id = $1 AND c.id = $3"));

/// The readers of conversation `$2` in workspace `$1` and their unread counts.
static UNREAD_BY_READER: LazyLock<String> = LazyLock::new(|| {
    format!("{UNREAD_BY_READER_SELECT} WHERE c.workspace_id = $1 AND r.conversation_id = $2")
});

/// Rounds served on one borrowed connection at most, so that one connection is not kept from
/// the other readers for long.
const MAX_ROUNDS: usize = 16;

type Job = Box<dyn FnOnce(&Connection) + Send>;

#[derive(Clone)]
pub(crate) struct InboxReads {
    jobs: mpsc::UnboundedSender<Job>,
}

impl InboxReads {
    /// Starts the thread; it ends when the last `InboxReads` is dropped.
    pub(crate) fn start(reader: SqlitePool) -> std::io::Result<Self> {
        let (jobs, rx) = mpsc::unbounded_channel();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("parley-inbox-reads".into())
            .spawn(move || rt.block_on(run(reader, rx)))?;
        Ok(InboxReads { jobs })
    }

    pub(crate) async fn lines(
        &self,
        ws: WorkspaceId,
        ids: &[ConversationId],
    ) -> StoreResult<Vec<InboxLine>> {
        let (tx, rx) = oneshot::channel();
        let ids = ids.to_vec();
        let job: Job = Box::new(move |db: &Connection| {
            let _ = tx.send(lines(db, ws, &ids));
        });
        let gone = || other(anyhow::anyhow!("the inbox reader has stopped"));
        self.jobs.send(job).map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }
}

async fn run(reader: SqlitePool, mut rx: mpsc::UnboundedReceiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_ROUNDS);
    while rx.recv_many(&mut batch, MAX_ROUNDS).await > 0 {
        let ran = on_pooled(&reader, |db| {
            for job in batch.drain(..) {
                job(db);
            }
        })
        .await;
        if let Err(e) = ran {
            // The jobs are dropped unrun: their callers get an error.
            tracing::warn!(error = %e, "borrowing a reader connection");
            batch.clear();
        }
    }
}

fn lines(db: &Connection, ws: WorkspaceId, ids: &[ConversationId]) -> StoreResult<Vec<InboxLine>> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        // The nil viewer has read nothing: the count for everyone without a read marker.
        let nobody = uuid::Uuid::nil();
        let args = named_params! {"$1": ws.0, "$2": nobody, "$3": id.0};
        let Some(summary) = one(db, &SUMMARY_BY_ID, args, |r| summary(r))? else {
            continue;
        };
        let args = named_params! {"$1": ws.0, "$2": id.0};
        let unread_by_reader = all(db, &UNREAD_BY_READER, args, |r| {
            Ok((UserId(r.uuid("user_id")?), r.int("unread")?))
        })?;
        out.push(InboxLine {
            summary,
            unread_by_reader,
        });
    }
    Ok(out)
}
