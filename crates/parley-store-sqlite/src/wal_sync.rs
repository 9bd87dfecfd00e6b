//! The WAL's fsync on a thread of its own, so that the writer prepares and writes the next batch
//! while the previous one reaches the disk.
//!
//! With `synchronous = FULL` SQLite fsyncs the WAL inside every COMMIT, and the single writer
//! thread waited for the disk between batches: at ~10,000 messages/s it was busy 60 % of its
//! time computing and 40 % waiting (docs/benchmarks.md). The group commit's connection now runs
//! `synchronous = NORMAL` (WAL frames are written, not synced, at COMMIT) and hands each
//! committed batch here; one `fdatasync` of the WAL file covers every batch committed before
//! it, and only then are the batch's callers answered. An acknowledged message is therefore
//! exactly as durable as with FULL. A committed batch can be read by others for the moment
//! before its sync; if the machine lost power in that moment, the message was never
//! acknowledged, so its sender sends it again (exactly once, by its client id).
//!
//! The file handle stays valid because SQLite deletes or replaces the WAL only when the last
//! connection closes, and the group commit's connection is open as long as this thread runs.

use std::fs::File;
use std::io;
use std::sync::mpsc;
use std::thread::JoinHandle;

/// Called with the outcome once the batch is durable (or failed).
pub(crate) type Deliver = Box<dyn FnOnce(Result<(), String>) + Send>;

pub(crate) struct WalSync {
    batches: mpsc::Sender<Vec<Deliver>>,
    thread: JoinHandle<()>,
}

impl WalSync {
    /// Syncs the WAL file `wal` (opened, not created: it must be the database's own).
    pub(crate) fn start(wal: File) -> io::Result<Self> {
        Self::start_with(move || wal.sync_data())
    }

    /// As `start`, with the sync given (tests hold it to see that nothing is answered early).
    pub(crate) fn start_with(
        sync: impl FnMut() -> io::Result<()> + Send + 'static,
    ) -> io::Result<Self> {
        let (batches, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("parley-wal-sync".into())
            .spawn(move || run(sync, rx))?;
        Ok(WalSync { batches, thread })
    }

    /// Answers a committed batch's callers after the next sync.
    pub(crate) fn after_sync(&self, batch: Vec<Deliver>) {
        if let Err(mpsc::SendError(batch)) = self.batches.send(batch) {
            for d in batch {
                d(Err("the WAL sync has stopped".into()));
            }
        }
    }

    /// Syncs and answers what was handed over, then ends the thread.
    pub(crate) fn stop(self) {
        drop(self.batches);
        let _ = self.thread.join();
    }
}

fn run(mut sync: impl FnMut() -> io::Result<()>, rx: mpsc::Receiver<Vec<Deliver>>) {
    while let Ok(first) = rx.recv() {
        // Everything committed by now is in the file: one sync answers all of it.
        let mut waiting = vec![first];
        waiting.extend(rx.try_iter());
        let synced = sync().map_err(|e| format!("syncing the WAL: {e}"));
        if let Err(e) = &synced {
            tracing::error!(error = %e, "group commit not durable");
        }
        for d in waiting.into_iter().flatten() {
            d(synced.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn answer(tx: &mpsc::Sender<Result<(), String>>) -> Deliver {
        let tx = tx.clone();
        Box::new(move |r| {
            let _ = tx.send(r);
        })
    }

    #[test]
    fn batches_are_answered_only_after_the_sync_and_by_its_outcome() {
        let (syncs_tx, syncs) = mpsc::channel::<io::Result<()>>();
        let syncs = std::sync::Mutex::new(syncs);
        // Each sync blocks until the test says how it ends.
        let s = WalSync::start_with(move || syncs.lock().unwrap().recv().unwrap()).unwrap();
        let (tx, answers) = mpsc::channel();
        s.after_sync(vec![answer(&tx), answer(&tx)]);
        assert!(
            answers.recv_timeout(Duration::from_millis(200)).is_err(),
            "answered before the sync"
        );
        syncs_tx.send(Ok(())).unwrap();
        for _ in 0..2 {
            assert_eq!(answers.recv_timeout(Duration::from_secs(5)), Ok(Ok(())));
        }
        s.after_sync(vec![answer(&tx)]);
        syncs_tx.send(Err(io::Error::other("disk gone"))).unwrap();
        let failed = answers.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(failed.unwrap_err().contains("disk gone"));
        // Stopping still syncs and answers what was handed over.
        s.after_sync(vec![answer(&tx)]);
        syncs_tx.send(Ok(())).unwrap();
        s.stop();
        assert_eq!(answers.try_recv(), Ok(Ok(())));
    }
}
