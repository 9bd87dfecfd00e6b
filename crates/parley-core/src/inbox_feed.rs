//! The agents' inbox feed, computed once per node instead of once per agent socket.
//!
//! Every stored message publishes `ConversationChanged` on the workspace's inbox topic. Each
//! agent socket used to answer it with its own `conversation_summary` query, so one message
//! cost as many queries as agents online, and delivery of the agent's events waited behind them
//! (the knee in docs/benchmarks.md). Here one task per workspace with agents on this node
//! listens to the topic, reads the line once (the summary plus each reader's unread count, which
//! is the only per-agent part; `Store::inbox_lines`, one call for a round of conversations) and
//! hands the same `Arc` to every agent socket. Changes that arrive
//! within a period (`PERIOD`) are coalesced: a busy conversation is read once per period, not once
//! per message.

use crate::bus::{Bus, BusItem, BusMessage, Topic};
use crate::ports::{InboxLine, Store};
use futures::stream::BoxStream;
use futures::StreamExt;
use parley_domain::*;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::{broadcast, Notify};

/// A workspace's lines are read at most this often. A lone change is read at once; what
/// changes within the period after a read waits for its end, so a busy conversation costs one
/// read and one frame per agent per period, not one per message. Without it, faster reads
/// meant less coalescing and more lines, and at high rates every agent socket's extra frames
/// and the resyncs of those that fell behind cost more than the reads saved
/// (docs/benchmarks.md). An inbox line that is 100 ms late is not noticed.
const PERIOD: Duration = Duration::from_millis(100);
/// Most conversations read in one store call.
const CHUNK: usize = 64;
/// Most lines sent in one period: well under `CAPACITY`, so a socket that keeps up with the
/// periods is never dropped as lagging. More changed conversations wait for the next period.
const PER_PERIOD: usize = CAPACITY / 2;
/// Per workspace; a socket further behind gets `Lagged` and tells its client to re-read.
const CAPACITY: usize = 1024;
/// How often an idle feed checks whether any socket still listens.
const IDLE_CHECK: Duration = Duration::from_secs(30);

/// One conversation's inbox line, for every agent of the workspace.
#[derive(Debug)]
pub struct SharedSummary {
    line: InboxLine,
    /// The line as JSON for those without a count of their own: serialized by the first socket
    /// that sends it, reused by the others.
    json: OnceLock<String>,
}

impl SharedSummary {
    pub fn new(line: InboxLine) -> Self {
        SharedSummary {
            line,
            json: OnceLock::new(),
        }
    }

    /// The line as `viewer` sees it, as JSON. Every agent socket sends each changed
    /// conversation's line, so those without a count of their own share one serialization.
    pub fn json_for(&self, viewer: UserId) -> Cow<'_, str> {
        // Plain structs of strings and numbers: serializing them cannot fail.
        let to_json = |s: &ConversationSummary| {
            serde_json::to_string(s).expect("a conversation summary serializes")
        };
        let line = &self.line;
        match line.unread_by_reader.iter().find(|(u, _)| *u == viewer) {
            Some((_, n)) => {
                let mut own = line.summary.clone();
                own.unread_count = *n;
                Cow::Owned(to_json(&own))
            }
            None => Cow::Borrowed(self.json.get_or_init(|| to_json(&line.summary))),
        }
    }
}

pub struct InboxFeed {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    feeds: Mutex<HashMap<WorkspaceId, broadcast::Sender<BusItem>>>,
}

impl InboxFeed {
    pub fn new(store: Arc<dyn Store>, bus: Arc<dyn Bus>) -> Arc<Self> {
        Arc::new(InboxFeed {
            store,
            bus,
            feeds: Mutex::default(),
        })
    }

    /// The workspace's inbox for one agent socket. Starts the workspace's feed task on the
    /// first subscription; the task ends some time after the last subscriber left.
    pub fn subscribe(self: &Arc<Self>, ws: WorkspaceId) -> BoxStream<'static, BusItem> {
        let mut map = self.feeds.lock().unwrap();
        let rx = match map.get(&ws) {
            Some(tx) => tx.subscribe(),
            None => {
                let (tx, rx) = broadcast::channel(CAPACITY);
                map.insert(ws, tx.clone());
                // Subscribe before returning, so nothing published after this call is missed.
                let topic = self.bus.subscribe(Topic::Inbox(ws));
                tokio::spawn(run(self.clone(), topic, tx, ws));
                rx
            }
        };
        futures::stream::unfold(rx, |mut rx| async move {
            match rx.recv().await {
                Ok(item) => Some((item, rx)),
                Err(broadcast::error::RecvError::Lagged(_)) => Some((BusItem::Lagged, rx)),
                Err(broadcast::error::RecvError::Closed) => None,
            }
        })
        .boxed()
    }

    /// Removes the workspace's feed if nobody listens (checked under the lock that
    /// `subscribe` takes, so a new subscriber cannot slip in between).
    fn retire_if_unused(&self, ws: WorkspaceId) -> bool {
        let mut map = self.feeds.lock().unwrap();
        match map.get(&ws) {
            Some(tx) if tx.receiver_count() == 0 => {
                map.remove(&ws);
                true
            }
            _ => false,
        }
    }
}

/// Conversations waiting to be read, in order of first change, each once.
#[derive(Default)]
struct Dirty {
    order: VecDeque<ConversationId>,
    set: HashSet<ConversationId>,
}

impl Dirty {
    fn add(&mut self, id: ConversationId) -> bool {
        if self.set.insert(id) {
            self.order.push_back(id);
            true
        } else {
            false
        }
    }

    fn take(&mut self, n: usize) -> Vec<ConversationId> {
        let n = n.min(self.order.len());
        let ids: Vec<_> = self.order.drain(..n).collect();
        for id in &ids {
            self.set.remove(id);
        }
        ids
    }
}

async fn run(
    feeds: Arc<InboxFeed>,
    mut topic: BoxStream<'static, BusItem>,
    tx: broadcast::Sender<BusItem>,
    ws: WorkspaceId,
) {
    let dirty = Arc::new(Mutex::new(Dirty::default()));
    let wake = Arc::new(Notify::new());
    let reader = tokio::spawn(read_summaries(
        feeds.store.clone(),
        ws,
        tx.clone(),
        dirty.clone(),
        wake.clone(),
    ));
    let mut idle = tokio::time::interval(IDLE_CHECK);
    idle.tick().await;
    loop {
        tokio::select! {
            item = topic.next() => match item {
                Some(BusItem::Message(m)) => match &*m {
                    BusMessage::ConversationChanged { conversation_id } => {
                        if dirty.lock().unwrap().add(*conversation_id) {
                            wake.notify_one();
                        }
                    }
                    _ => {
                        let _ = tx.send(BusItem::Message(m));
                    }
                },
                Some(BusItem::Lagged) => {
                    let _ = tx.send(BusItem::Lagged);
                }
                Some(BusItem::Summary(_)) => {}
                None => break,
            },
            _ = idle.tick() => {
                if feeds.retire_if_unused(ws) {
                    break;
                }
            }
        }
    }
    reader.abort();
    // The bus ended (shutdown): make sure a later subscriber starts a fresh feed.
    feeds.retire_if_unused(ws);
}

async fn read_summaries(
    store: Arc<dyn Store>,
    ws: WorkspaceId,
    tx: broadcast::Sender<BusItem>,
    dirty: Arc<Mutex<Dirty>>,
    wake: Arc<Notify>,
) {
    loop {
        wake.notified().await;
        loop {
            let started = tokio::time::Instant::now();
            let ids = dirty.lock().unwrap().take(PER_PERIOD);
            if ids.is_empty() {
                break;
            }
            for chunk in ids.chunks(CHUNK) {
                match store.inbox_lines(ws, chunk).await {
                    Ok(lines) => {
                        for line in lines {
                            let _ = tx.send(BusItem::Summary(Arc::new(SharedSummary::new(line))));
                        }
                    }
                    // The sockets missed these lines: they re-read the inbox, as after a lag.
                    Err(e) => {
                        tracing::warn!(error = %e, "reading inbox lines");
                        let _ = tx.send(BusItem::Lagged);
                    }
                }
            }
            tokio::time::sleep_until(started + PERIOD).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirty_keeps_first_change_order_and_coalesces() {
        let mut d = Dirty::default();
        let (a, b) = (ConversationId::new(), ConversationId::new());
        assert!(d.add(a));
        assert!(d.add(b));
        assert!(!d.add(a), "a pending conversation is read once");
        assert_eq!(d.take(1), vec![a]);
        assert!(d.add(a), "a change after the read is read again");
        assert_eq!(d.take(8), vec![b, a]);
        assert!(d.take(8).is_empty());
    }
}
