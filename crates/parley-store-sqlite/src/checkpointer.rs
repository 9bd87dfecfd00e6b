//! WAL checkpoints on a thread of their own. SQLite's automatic checkpoint runs inside the
//! commit that crosses the threshold, so the writer copied pages back into the database file and
//! fsynced it while every message of the next batch waited (docs/benchmarks.md). Here a second
//! connection runs a PASSIVE checkpoint every [`EVERY`]; PASSIVE never blocks the writer or
//! readers, it copies what no reader still needs. The writer keeps an automatic checkpoint at a
//! much higher threshold ([`WRITER_AUTOCHECKPOINT_PAGES`]) as a backstop, so the WAL stays
//! bounded even if this thread falls behind.

use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

/// How often the thread checkpoints.
const EVERY: Duration = Duration::from_millis(100);

/// The writer's own automatic checkpoint, in pages (SQLite's default is 1,000): ~40 MiB of WAL.
pub(crate) const WRITER_AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// The thread ends when this is dropped; [`Checkpointer::stop`] also waits for it.
pub(crate) struct Checkpointer {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Checkpointer {
    pub(crate) fn start(path: PathBuf) -> std::io::Result<Checkpointer> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("parley-checkpoint".into())
            .spawn(move || run(path, stopped))?;
        Ok(Checkpointer { stop, thread })
    }

    /// Ends the thread and waits until its connection is closed. Closing the store must not
    /// return while this connection is open: whichever connection closes last checkpoints and
    /// deletes the WAL, and that must happen before the files are copied, restored or compared.
    pub(crate) fn stop(self) {
        drop(self.stop);
        let _ = self.thread.join();
    }
}

fn run(path: PathBuf, stopped: mpsc::Receiver<()>) {
    let db = match Connection::open(&path) {
        Ok(db) => db,
        Err(e) => return tracing::error!(error = %e, "opening the checkpoint connection"),
    };
    // The writer holds the write lock only for a batch; a checkpoint that meets it waits a
    // moment instead of failing.
    let _ = db.busy_timeout(Duration::from_secs(1));
    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
        let done = db.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        });
        match done {
            Ok((wal, copied)) => tracing::trace!(wal, copied, "checkpoint"),
            Err(e) => tracing::warn!(error = %e, "checkpointing the WAL"),
        }
    }
}
