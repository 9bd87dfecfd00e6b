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
//! acknowledged, so its sender sends it again (exactly once, by its client id). So that no
//! other client sees it in that moment either (it would hold the message's seq, which the
//! resent message would then reuse), the store's reads of events and conversations wait for
//! the sync of what they may have read (`Progress::durable`): usually no wait at all.
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
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use tokio::sync::watch;

/// What every batch is told once a sync has failed.
pub(crate) const FAILED: &str = "an earlier sync of the WAL failed; restart the server";

/// Called with the outcome once the batch is durable (or failed).
pub(crate) type Deliver = Box<dyn FnOnce(Result<(), String>) + Send>;

/// A committed batch on its way to the disk: its number, its callers and its own outcome.
type Batch = (u64, Vec<Deliver>, Result<(), String>);

pub(crate) struct WalSync {
    batches: mpsc::Sender<Batch>,
    thread: JoinHandle<()>,
    failed: Arc<AtomicBool>,
    progress: Arc<Progress>,
}

/// How far commits and syncs have got, for reads that must return only durable data.
pub(crate) struct Progress {
    /// Batches numbered so far; a batch is numbered before its COMMIT makes it visible.
    numbered: AtomicU64,
    /// The highest batch number whose sync is done (or failed: see the module's comment).
    synced: watch::Sender<u64>,
}

impl Progress {
    /// Waits until everything committed before this call is synced. Called after a read, it
    /// makes sure the read returns nothing that a power cut could still take back.
    pub(crate) async fn durable(&self) {
        let target = self.numbered.load(Ordering::SeqCst);
        if *self.synced.borrow() >= target {
            return;
        }
        let mut synced = self.synced.subscribe();
        let _ = synced.wait_for(|s| *s >= target).await;
    }
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
        let progress = Arc::new(Progress {
            numbered: AtomicU64::new(0),
            synced: watch::Sender::new(0),
        });
        let (flag, shared) = (failed.clone(), progress.clone());
        let thread = std::thread::Builder::new()
            .name("parley-wal-sync".into())
            .spawn(move || run(sync, rx, &flag, &shared))?;
        Ok(WalSync {
            batches,
            thread,
            failed,
            progress,
        })
    }

    pub(crate) fn progress(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    /// Numbers the batch about to be committed. Every number must then go to `after_sync`.
    pub(crate) fn number_next(&self) -> u64 {
        self.progress.numbered.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// A sync has failed: nothing may be committed any more (see the module's comment).
    pub(crate) fn failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    /// Answers batch `n`'s callers after the next sync: with the sync's outcome if the batch
    /// committed (`outcome` is `Ok`), else with the batch's own error.
    pub(crate) fn after_sync(&self, n: u64, batch: Vec<Deliver>, outcome: Result<(), String>) {
        if let Err(mpsc::SendError((n, batch, _))) = self.batches.send((n, batch, outcome)) {
            for d in batch {
                d(Err("the WAL sync has stopped".into()));
            }
            self.progress.synced.send_modify(|s| *s = (*s).max(n));
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
    rx: mpsc::Receiver<Batch>,
    failed: &AtomicBool,
    progress: &Progress,
) {
    while let Ok(first) = rx.recv() {
        // Everything committed by now is in the file: one sync answers all of it.
        let mut waiting = vec![first];
        waiting.extend(rx.try_iter());
        let synced = match failed.load(Ordering::SeqCst) {
            true => Err(FAILED.to_owned()),
            false if waiting.iter().all(|(_, _, outcome)| outcome.is_err()) => Ok(()),
            false => sync().map_err(|e| {
                failed.store(true, Ordering::SeqCst);
                tracing::error!(error = %e, "syncing the WAL failed: no more writes are accepted until a restart");
                format!("syncing the WAL: {e}")
            }),
        };
        // Readers waiting for these batches go on even after a failed sync: the failure is
        // final and logged, and blocking every read would not make the data durable.
        let last = waiting.iter().map(|(n, _, _)| *n).max().unwrap_or(0);
        for (_, batch, outcome) in waiting {
            let outcome = outcome.and(synced.clone());
            for d in batch {
                d(outcome.clone());
            }
        }
        progress.synced.send_modify(|s| *s = (*s).max(last));
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
        s.after_sync(s.number_next(), vec![answer(&tx), answer(&tx)], Ok(()));
        assert!(
            answers.recv_timeout(Duration::from_millis(200)).is_err(),
            "answered before the sync"
        );
        syncs_tx.send(Ok(())).unwrap();
        for _ in 0..2 {
            assert_eq!(answers.recv_timeout(Duration::from_secs(5)), Ok(Ok(())));
        }
        s.after_sync(s.number_next(), vec![answer(&tx)], Ok(()));
        syncs_tx.send(Err(io::Error::other("disk gone"))).unwrap();
        let failed = answers.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(failed.unwrap_err().contains("disk gone"));
        assert!(s.failed());
        // After a failed sync nothing is durable any more: later batches are refused without
        // another sync (one that "succeeds" would prove nothing), and so on stopping.
        s.after_sync(s.number_next(), vec![answer(&tx)], Ok(()));
        let later = answers.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(later.unwrap_err().contains("restart"));
        s.after_sync(s.number_next(), vec![answer(&tx)], Ok(()));
        s.stop();
        assert!(answers.try_recv().unwrap().is_err());
    }

    #[tokio::test]
    async fn reads_wait_for_the_sync_of_what_was_committed_before_them() {
        let (syncs_tx, syncs) = mpsc::channel::<io::Result<()>>();
        let syncs = std::sync::Mutex::new(syncs);
        let s = WalSync::start_with(move || syncs.lock().unwrap().recv().unwrap()).unwrap();
        let progress = s.progress();
        let wait = Duration::from_millis(200);
        // Nothing committed: nothing to wait for.
        tokio::time::timeout(wait, progress.durable())
            .await
            .unwrap();
        let (tx, _answers) = mpsc::channel();
        let n = s.number_next();
        // Numbered (about to commit, so perhaps already visible), not yet synced.
        assert!(tokio::time::timeout(wait, progress.durable())
            .await
            .is_err());
        s.after_sync(n, vec![answer(&tx)], Ok(()));
        assert!(tokio::time::timeout(wait, progress.durable())
            .await
            .is_err());
        syncs_tx.send(Ok(())).unwrap();
        tokio::time::timeout(Duration::from_secs(5), progress.durable())
            .await
            .expect("durable once synced");
        // A batch that failed to commit is not synced, yet does not hold readers up.
        let n = s.number_next();
        s.after_sync(n, vec![answer(&tx)], Err("constraint".into()));
        tokio::time::timeout(Duration::from_secs(5), progress.durable())
            .await
            .expect("a failed batch is settled without a sync");
        s.stop();
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
        s.after_sync(s.number_next(), vec![answer(&tx)], Ok(()));
        s.stop();
        assert_eq!(answers.try_recv(), Ok(Ok(())));
        assert!(syncs.load(Ordering::SeqCst) >= 1);
    }
}
