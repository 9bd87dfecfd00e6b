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
//!
//! A failed sync is final, as PostgreSQL treats it since "fsyncgate": Linux may drop the pages
//! that failed to write and report success to the next sync, so nothing committed after it can
//! be called durable. Every batch from then on is refused (`failed`); a restart recovers the
//! WAL up to its last intact commit.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

/// Called with the outcome once the batch is durable (or failed).
pub(crate) type Deliver = Box<dyn FnOnce(Result<(), String>) + Send>;

pub(crate) struct WalSync {
    batches: mpsc::Sender<Vec<Deliver>>,
    thread: JoinHandle<()>,
    failed: Arc<AtomicBool>,
}

impl WalSync {
    /// Syncs the WAL file at `wal`: opened, never created, so it must be the file SQLite
    /// writes. Its directory is synced once, so that the file's own entry is durable too.
    pub(crate) fn start(wal: &Path) -> io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(wal)?;
        if let Some(dir) = wal.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir)?.sync_all()?;
        }
        Self::start_with(move || file.sync_data())
    }

    /// As `start`, with the sync given (tests hold it to see that nothing is answered early).
    pub(crate) fn start_with(
        sync: impl FnMut() -> io::Result<()> + Send + 'static,
    ) -> io::Result<Self> {
        let (batches, rx) = mpsc::channel();
        let failed = Arc::new(AtomicBool::new(false));
        let flag = failed.clone();
        let thread = std::thread::Builder::new()
            .name("parley-wal-sync".into())
            .spawn(move || run(sync, rx, &flag))?;
        Ok(WalSync {
            batches,
            thread,
            failed,
        })
    }

    /// A sync has failed: nothing may be committed any more (see the module's comment).
    pub(crate) fn failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
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

fn run(
    mut sync: impl FnMut() -> io::Result<()>,
    rx: mpsc::Receiver<Vec<Deliver>>,
    failed: &AtomicBool,
) {
    const FAILED: &str = "an earlier sync of the WAL failed; restart the server";
    while let Ok(first) = rx.recv() {
        // Everything committed by now is in the file: one sync answers all of it.
        let mut waiting = vec![first];
        waiting.extend(rx.try_iter());
        let synced = match failed.load(Ordering::SeqCst) {
            true => Err(FAILED.to_owned()),
            false => sync().map_err(|e| {
                failed.store(true, Ordering::SeqCst);
                tracing::error!(error = %e, "syncing the WAL failed: no more writes are accepted until a restart");
                format!("syncing the WAL: {e}")
            }),
        };
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
        assert!(s.failed());
        // After a failed sync nothing is durable any more: later batches are refused without
        // another sync (one that "succeeds" would prove nothing), and so on stopping.
        s.after_sync(vec![answer(&tx)]);
        let later = answers.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(later.unwrap_err().contains("restart"));
        s.after_sync(vec![answer(&tx)]);
        s.stop();
        assert!(answers.try_recv().unwrap().is_err());
    }

    #[test]
    fn stopping_syncs_and_answers_what_was_handed_over() {
        let syncs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = syncs.clone();
        let s = WalSync::start_with(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .unwrap();
        let (tx, answers) = mpsc::channel();
        s.after_sync(vec![answer(&tx)]);
        s.stop();
        assert_eq!(answers.try_recv(), Ok(Ok(())));
        assert!(syncs.load(Ordering::SeqCst) >= 1);
    }
}
