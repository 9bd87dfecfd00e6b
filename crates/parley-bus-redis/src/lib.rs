//! The bus for several nodes: every message is delivered to this node's subscribers at once
//! and published on one Redis channel; every node relays what other nodes publish to its own
//! subscribers.
//!
//! The database stays the record, so the bus only has to say when it may have lost something.
//! Two ways it can: the Redis link drops (on reconnect this node's subscribers get
//! [`BusItem::Lagged`] and re-read), or another node's messages never reached Redis (each node
//! numbers what it publishes; a gap in a sender's numbers makes the receiver resync the same way).
//!
//! One channel for the whole cluster keeps this simple and is fine for a handful of nodes;
//! sharding by workspace is the next step if fan-out between nodes ever dominates.

use dashmap::DashMap;
use futures::stream::BoxStream;
use futures::StreamExt;
use parley_core::bus::{Bus, BusItem, BusMessage, LocalBus, Topic};
use parley_domain::WorkspaceId;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The Redis channel every node publishes to and listens on.
pub const CHANNEL: &str = "parley:bus:v1";

/// Messages waiting for the Redis link; beyond this the oldest are lost and peers resync.
const OUTBOX: usize = 65_536;

/// What travels on the channel: `{"n":…,"node":…,"topic":…,"ws":…,"msg":…}`.
#[derive(Deserialize)]
struct Envelope {
    /// The publishing node.
    node: Uuid,
    /// That node's message number, from 1, without gaps.
    n: u64,
    topic: Topic,
    /// Events do not serialize their workspace (the API never shows it); it travels here.
    ws: Option<WorkspaceId>,
    msg: BusMessage,
}

/// An envelope without its number, serialized by the publishing task before it takes one.
#[derive(Serialize)]
struct Body<'a> {
    node: Uuid,
    topic: Topic,
    ws: Option<WorkspaceId>,
    msg: &'a BusMessage,
}

/// A body waiting for the Redis link, with the number it was given.
type Numbered = (u64, String);

pub struct RedisBus {
    local: Arc<LocalBus>,
    node: Uuid,
    /// The next number, taken under the same lock as the outbox slot: numbers taken by
    /// concurrent publishers must reach the outbox in order, or peers would see a false gap.
    next: Mutex<u64>,
    outbox: mpsc::Sender<Numbered>,
    stats: Arc<Stats>,
}

/// Counters for `/metrics` and tests.
#[derive(Default)]
pub struct Stats {
    pub published: AtomicU64,
    pub relayed: AtomicU64,
    pub resyncs: AtomicU64,
    pub dropped: AtomicU64,
}

impl RedisBus {
    /// Connects to Redis (the first connection must succeed, so a wrong URL fails at start) and
    /// starts the publishing and relaying tasks, which reconnect on their own until `shutdown`.
    pub async fn connect(
        url: &str,
        local: Arc<LocalBus>,
        shutdown: CancellationToken,
    ) -> redis::RedisResult<Arc<RedisBus>> {
        let client = redis::Client::open(url)?;
        // Fail fast on a wrong address or password.
        let mut probe = client.get_multiplexed_async_connection().await?;
        let _: String = redis::cmd("PING").query_async(&mut probe).await?;
        let (tx, rx) = mpsc::channel(OUTBOX);
        let bus = Arc::new(RedisBus {
            local,
            node: Uuid::now_v7(),
            next: Mutex::new(1),
            outbox: tx,
            stats: Arc::new(Stats::default()),
        });
        tokio::spawn(publisher(
            client.clone(),
            rx,
            bus.stats.clone(),
            shutdown.clone(),
        ));
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(relay(
            client,
            bus.node,
            bus.local.clone(),
            bus.stats.clone(),
            shutdown,
            ready_tx,
        ));
        // Subscribed before we return, so nothing published by others from now on is missed.
        let _ = tokio::time::timeout(Duration::from_secs(5), ready_rx).await;
        Ok(bus)
    }

    pub fn node_id(&self) -> Uuid {
        self.node
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

impl Bus for RedisBus {
    fn publish(&self, topic: Topic, msg: BusMessage) {
        let ws = match &msg {
            BusMessage::Event(e) => Some(e.workspace_id),
            BusMessage::Mention { event, .. } => Some(event.workspace_id),
            _ => None,
        };
        let body = Body {
            node: self.node,
            topic,
            ws,
            msg: &msg,
        };
        match serde_json::to_string(&body) {
            Ok(json) => {
                let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
                // A message that finds the outbox full still uses its number: peers see the
                // gap and resync.
                if self.outbox.try_send((*next, json)).is_err() {
                    self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                }
                *next += 1;
            }
            Err(e) => tracing::error!(error = %e, "encoding a bus message"),
        }
        self.local.publish(topic, msg);
    }

    fn subscribe(&self, topic: Topic) -> BoxStream<'static, BusItem> {
        self.local.subscribe(topic)
    }
}

async fn publisher(
    client: redis::Client,
    mut rx: mpsc::Receiver<Numbered>,
    stats: Arc<Stats>,
    shutdown: CancellationToken,
) {
    let mut backoff = Backoff::default();
    'connect: loop {
        let mut con = tokio::select! {
            _ = shutdown.cancelled() => return,
            c = client.get_multiplexed_async_connection() => match c {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "bus: cannot reach Redis to publish; retrying");
                    if backoff.wait(&shutdown).await { return; }
                    continue 'connect;
                }
            },
        };
        backoff.reset();
        loop {
            let (n, body) = tokio::select! {
                _ = shutdown.cancelled() => return,
                m = rx.recv() => match m { Some(m) => m, None => return },
            };
            let json = format!("{{\"n\":{n},{}", &body[1..]);
            let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
                .arg(CHANNEL)
                .arg(&json)
                .query_async(&mut con)
                .await;
            match sent {
                Ok(_) => {
                    stats.published.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    // This message is lost for the other nodes; they notice the gap.
                    stats.dropped.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(error = %e, "bus: publishing to Redis failed; reconnecting");
                    if backoff.wait(&shutdown).await {
                        return;
                    }
                    continue 'connect;
                }
            }
        }
    }
}

async fn relay(
    client: redis::Client,
    me: Uuid,
    local: Arc<LocalBus>,
    stats: Arc<Stats>,
    shutdown: CancellationToken,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    let mut backoff = Backoff::default();
    // The last number seen from each other node.
    let seen: DashMap<Uuid, u64> = DashMap::new();
    let mut connected_before = false;
    loop {
        let pubsub = tokio::select! {
            _ = shutdown.cancelled() => return,
            p = async {
                let mut p = client.get_async_pubsub().await?;
                p.subscribe(CHANNEL).await?;
                Ok::<_, redis::RedisError>(p)
            } => p,
        };
        let mut stream = match pubsub {
            Ok(p) => p.into_on_message(),
            Err(e) => {
                tracing::warn!(error = %e, "bus: cannot subscribe on Redis; retrying");
                if backoff.wait(&shutdown).await {
                    return;
                }
                continue;
            }
        };
        backoff.reset();
        if let Some(r) = ready.take() {
            let _ = r.send(());
        }
        if connected_before {
            // Whatever other nodes published while we were away is gone: re-read.
            tracing::info!("bus: Redis link restored; subscribers resync");
            seen.clear();
            stats.resyncs.fetch_add(1, Ordering::Relaxed);
            local.resync_all();
        }
        connected_before = true;
        loop {
            let msg = tokio::select! {
                _ = shutdown.cancelled() => return,
                m = stream.next() => m,
            };
            let Some(msg) = msg else { break };
            let env: Envelope = match serde_json::from_slice(msg.get_payload_bytes()) {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(error = %e, "bus: an undecodable message (another version?)");
                    continue;
                }
            };
            if env.node == me {
                continue;
            }
            let gap = match seen.insert(env.node, env.n) {
                Some(prev) => env.n != prev + 1,
                None => false,
            };
            if gap {
                tracing::warn!(node = %env.node, "bus: messages from a node were lost; subscribers resync");
                stats.resyncs.fetch_add(1, Ordering::Relaxed);
                local.resync_all();
            }
            let mut m = env.msg;
            if let Some(ws) = env.ws {
                match &mut m {
                    BusMessage::Event(e) => e.workspace_id = ws,
                    BusMessage::Mention { event, .. } => event.workspace_id = ws,
                    _ => {}
                }
            }
            stats.relayed.fetch_add(1, Ordering::Relaxed);
            local.publish(env.topic, m);
        }
        tracing::warn!("bus: Redis subscription ended; reconnecting");
        if backoff.wait(&shutdown).await {
            return;
        }
    }
}

/// 50 ms doubling to 2 s.
#[derive(Default)]
struct Backoff(u32);

impl Backoff {
    fn reset(&mut self) {
        self.0 = 0;
    }
    /// Sleeps; true if shutting down.
    async fn wait(&mut self, shutdown: &CancellationToken) -> bool {
        let ms = (50u64 << self.0.min(6)).min(2_000);
        self.0 += 1;
        tokio::select! {
            _ = shutdown.cancelled() => true,
            _ = tokio::time::sleep(Duration::from_millis(ms)) => false,
        }
    }
}
