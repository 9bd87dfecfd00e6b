//! Node kill and reconnect storm: several `parley serve` nodes on one PostgreSQL database and
//! one Redis, visitors spread over the nodes, agents on a node that survives, chat at a modest
//! rate with the exactly-once accounting of the standard run; then the node holding the most
//! visitor sockets is killed with SIGKILL.
//!
//! Visitors whose socket closed reconnect to the surviving nodes (round robin; the first attempt
//! after a random 0–`--reconnect-jitter-ms` delay, failed attempts back off 1 s, 2 s, 4 s … as
//! docs/protocol.md §5 recommends), say `hello`, subscribe their conversation again with the
//! last contiguous `seq` they hold, and send again every message not yet acknowledged with its
//! original `client_id` (messages due while they were disconnected wait for the new socket).
//! Events at or below the last seq a visitor holds are ignored (replays), so a message counts
//! twice only if the server stored it twice.

use crate::clients::{self, AgentCmd, AgentConfig, Frame, Handle};
use crate::net::{Dialer, Ws};
use crate::scenario::Problems;
use crate::stats::{self, Delivery, Latency, Proc, Tracker};
use anyhow::{bail, Context, Result};
use clap::Args;
use futures::{stream, SinkExt, StreamExt, TryStreamExt};
use serde::Serialize;
use serde_json::json;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

#[derive(Args)]
pub struct ClusterArgs {
    /// The nodes' base URLs, comma-separated. Setup and agents use the first; it is never killed.
    #[arg(long, value_delimiter = ',', required = true)]
    nodes: Vec<String>,
    /// The nodes' process ids, in the same order (the victim gets SIGKILL).
    #[arg(long, value_delimiter = ',', required = true)]
    pids: Vec<u32>,
    #[arg(long, env = "PARLEY_ADMIN_EMAIL")]
    admin_email: String,
    #[arg(long, env = "PARLEY_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: String,
    /// Visitor sockets, spread round robin over all nodes.
    #[arg(long, default_value_t = 3000)]
    visitors: usize,
    /// Agent sockets, all on the first node.
    #[arg(long, default_value_t = 4)]
    agents: usize,
    /// Visitors that chat (one conversation each); spread over the nodes like the others.
    #[arg(long, default_value_t = 300)]
    chatters: usize,
    /// Total visitor message rate, msg/s.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 20.0)]
    duration: f64,
    /// Kill the victim this many seconds after sending started.
    #[arg(long, default_value_t = 6.0)]
    kill_after: f64,
    /// Do not kill anything (a control run).
    #[arg(long)]
    no_kill: bool,
    /// Put this many idle visitor sockets on node 1 (the victim) and spread the rest over the
    /// other nodes, so that more sockets reconnect than an even spread allows within one
    /// generator's descriptor limit (0: all visitors round robin over all nodes).
    #[arg(long, default_value_t = 0)]
    victim_visitors: usize,
    /// A disconnected client's first reconnect attempt waits a random 0..this many ms.
    #[arg(long, default_value_t = 1000)]
    reconnect_jitter_ms: u64,
    /// Agents reply to every n-th message (0: never).
    #[arg(long, default_value_t = 5)]
    reply_every: u64,
    #[arg(long, default_value_t = 100)]
    body_bytes: usize,
    #[arg(long, default_value_t = 16)]
    source_ips: usize,
    /// Give up waiting for the disconnected clients after this many seconds.
    #[arg(long, default_value_t = 60.0)]
    back_timeout: f64,
    /// The storm target in seconds (reported, not enforced).
    #[arg(long, default_value_t = 10.0)]
    target_s: f64,
    /// Write the results as JSON here.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Serialize, Clone, Debug)]
pub struct ClusterPlan {
    pub nodes: usize,
    pub visitors: usize,
    pub agents: usize,
    pub chatters: usize,
    pub rate: f64,
    pub duration_s: f64,
    pub kill_after_s: f64,
    pub reconnect_jitter_ms: u64,
    pub victim_visitors: usize,
    pub reply_every: u64,
    pub body_bytes: usize,
}

#[derive(Serialize, Clone, Debug, Default)]
pub struct StormReport {
    /// The node killed (index into the node list) and its visitor sockets at the time.
    pub victim: Option<usize>,
    pub victim_sockets: usize,
    /// Sockets that saw their connection end (expected: all of the victim's).
    pub disconnected: u64,
    /// Of those, how many said `hello` and got `ready` again on another node.
    pub back: u64,
    /// From the kill until the last disconnected client noticed / was `ready` again / had its
    /// conversation re-subscribed (chatters only).
    pub detect_s: f64,
    pub all_back_s: f64,
    pub resubscribed_s: f64,
    /// Per client, kill → `ready` again.
    pub back_latency: Latency,
    /// Disconnected sockets / `all_back_s`.
    pub reconnects_per_s: f64,
    /// Connection attempts that failed (refused, timed out, closed before `ready`).
    pub failed_attempts: u64,
    /// Messages sent again after a reconnect (not acknowledged before the socket closed).
    pub resent: u64,
    /// Events a re-subscription replayed that the client already held (ignored, as required).
    pub replayed_ignored: u64,
    pub sockets_per_node_after: Vec<usize>,
    /// CPU from the kill until all were back (or the wait gave up), % of one core: each
    /// surviving node, this generator, and everything else on the machine.
    pub nodes_cpu_pct: Vec<f64>,
    pub generator_cpu_pct: f64,
    pub others_cpu_pct: f64,
}

#[derive(Serialize)]
pub struct ClusterReport {
    pub kind: &'static str,
    pub unix_time: u64,
    pub machine: crate::report::Machine,
    pub plan: ClusterPlan,
    pub sockets_per_node_before: Vec<usize>,
    pub storm: StormReport,
    pub delivery: Delivery,
    pub drained: bool,
    pub problems: Problems,
    pub problem_samples: Vec<String>,
    /// RSS of each node at the end (0: killed).
    pub node_rss_kib: Vec<u64>,
    pub target_s: f64,
    /// All disconnected clients back within the target (timing only; meant for 15,000 sockets).
    pub target_met: bool,
    pub failures: Vec<String>,
}

const NONE: usize = usize::MAX;

/// Per-visitor stamps of the storm, ns since the tracker's epoch plus one (0 = never).
struct Storm {
    disc_at: Vec<AtomicU64>,
    ready_at: Vec<AtomicU64>,
    resub_at: Vec<AtomicU64>,
    node_of: Vec<AtomicUsize>,
    down: AtomicU64,
    disconnects: AtomicU64,
    reconnects: AtomicU64,
    failed_attempts: AtomicU64,
    resent: AtomicU64,
    replayed_ignored: AtomicU64,
}

impl Storm {
    fn new(n: usize) -> Self {
        let z = || (0..n).map(|_| AtomicU64::new(0)).collect();
        Storm {
            disc_at: z(),
            ready_at: z(),
            resub_at: z(),
            node_of: (0..n).map(|_| AtomicUsize::new(NONE)).collect(),
            down: AtomicU64::new(0),
            disconnects: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            failed_attempts: AtomicU64::new(0),
            resent: AtomicU64::new(0),
            replayed_ignored: AtomicU64::new(0),
        }
    }
}

struct Ctx {
    t: Arc<Tracker>,
    dialers: Vec<Dialer>,
    /// The node that was killed, or NONE.
    killed: AtomicUsize,
    rr: AtomicUsize,
    jitter_ms: u64,
    storm: Storm,
    padding: Arc<str>,
}

impl Ctx {
    /// The next node in round robin, other than `old`.
    fn next_node(&self, old: usize) -> usize {
        let others: Vec<usize> = (0..self.dialers.len()).filter(|&i| i != old).collect();
        others[self.rr.fetch_add(1, Relaxed) % others.len()]
    }
}

fn random_below(n: u64) -> u64 {
    if n == 0 {
        0
    } else {
        (uuid::Uuid::new_v4().as_u128() as u64) % n
    }
}

pub enum CCmd {
    /// Send measured message `id` (the harness stamped it as sent).
    Send(u64),
    /// Start the conversation with one unmeasured message; its id comes back here.
    Warmup(oneshot::Sender<String>),
}

/// What a visitor holds across its connections.
struct VState {
    idx: usize,
    token: String,
    node: usize,
    conv: Option<String>,
    /// The last contiguous seq received of `conv`.
    last_seq: i64,
    /// Measured messages not acknowledged yet, in send order.
    pending: VecDeque<u64>,
    warmup: Option<oneshot::Sender<String>>,
    /// Set after a reconnect until the conversation is subscribed again.
    rejoining: bool,
}

enum Exit {
    Quit,
    Lost(String),
}

async fn open_visitor(
    ctx: Arc<Ctx>,
    idx: usize,
    token: String,
    node: usize,
) -> Result<Handle<CCmd>> {
    let mut ws = ctx.dialers[node]
        .connect("/ws/widget", Some(crate::setup::ORIGIN))
        .await?;
    clients::hello(&mut ws, Some(&token)).await?;
    ctx.storm.node_of[idx].store(node, SeqCst);
    let (tx, rx) = mpsc::unbounded_channel();
    let st = VState {
        idx,
        token,
        node,
        conv: None,
        last_seq: 0,
        pending: VecDeque::new(),
        warmup: None,
        rejoining: false,
    };
    let task = tokio::spawn(run_visitor(ws, st, rx, ctx));
    Ok(Handle { tx, task })
}

async fn run_visitor(
    mut ws: Ws,
    mut st: VState,
    mut rx: mpsc::UnboundedReceiver<CCmd>,
    ctx: Arc<Ctx>,
) {
    loop {
        match connected(ws, &mut st, &mut rx, &ctx).await {
            Exit::Quit => return,
            Exit::Lost(why) => {
                let now = ctx.t.now();
                ctx.storm.node_of[st.idx].store(NONE, SeqCst);
                if ctx.killed.load(SeqCst) != st.node {
                    ctx.t.problem(
                        &ctx.t.unexpected_closes,
                        format!("visitor {} on node {}: {why}", st.idx, st.node),
                    );
                }
                let _ = ctx.storm.disc_at[st.idx].compare_exchange(0, now + 1, SeqCst, SeqCst);
                ctx.storm.disconnects.fetch_add(1, SeqCst);
                ctx.storm.down.fetch_add(1, SeqCst);
                match reconnect(&mut st, &mut rx, &ctx).await {
                    Some(w) => {
                        ws = w;
                        ctx.storm.ready_at[st.idx].store(ctx.t.now() + 1, SeqCst);
                        ctx.storm.node_of[st.idx].store(st.node, SeqCst);
                        ctx.storm.down.fetch_sub(1, SeqCst);
                        st.rejoining = true;
                    }
                    None => return,
                }
            }
        }
    }
}

fn send_frame(padding: &str, id: u64) -> Message {
    clients::text(
        json!({"type": "send", "client_id": format!("m-{id}"), "body": format!("m{id} {padding}")}),
    )
}

/// One connection: runs until the socket ends (Lost) or the harness drops the sender (Quit).
async fn connected(
    ws: Ws,
    st: &mut VState,
    rx: &mut mpsc::UnboundedReceiver<CCmd>,
    ctx: &Ctx,
) -> Exit {
    let t = &ctx.t;
    let (mut sink, mut stream) = ws.split();
    let mut subscribe_sent = false;
    let mut subscribed = false;
    // Back on a new node: follow the conversation again from the last seq held.
    if let Some(c) = &st.conv {
        let sub = json!({"type": "subscribe", "conversation_id": c, "after_seq": st.last_seq});
        if let Err(e) = sink.send(clients::text(sub)).await {
            return Exit::Lost(format!("send failed: {e}"));
        }
        subscribe_sent = true;
    }
    loop {
        let mut out: Vec<Message> = Vec::new();
        tokio::select! {
            cmd = rx.recv() => match cmd {
                None => {
                    let _ = sink.send(Message::Close(None)).await;
                    return Exit::Quit;
                }
                Some(CCmd::Send(id)) => {
                    st.pending.push_back(id);
                    if subscribed || st.conv.is_none() {
                        out.push(send_frame(&ctx.padding, id));
                    }
                }
                Some(CCmd::Warmup(reply)) => {
                    st.warmup = Some(reply);
                    out.push(clients::text(json!({"type": "send", "client_id": format!("w-{}", st.idx), "body": "hello, is anyone there?"})));
                }
            },
            m = stream.next() => {
                let txt = match m {
                    Some(Ok(Message::Text(txt))) => txt,
                    Some(Ok(Message::Close(c))) => return Exit::Lost(format!("closed by server: {c:?}")),
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Exit::Lost(format!("socket error: {e}")),
                    None => return Exit::Lost("socket ended".into()),
                };
                let Ok(f) = serde_json::from_str::<Frame>(&txt) else {
                    t.problem(&t.error_frames, format!("unparsable frame: {txt}"));
                    continue;
                };
                match &*f.ty {
                    "ack" => {
                        let cid = f.client_id.as_deref().unwrap_or("");
                        if let Some(id) = cid.strip_prefix("m-").and_then(|s| s.parse::<u64>().ok()) {
                            if let Some(p) = st.pending.iter().position(|&x| x == id) {
                                st.pending.remove(p);
                            }
                            t.acked(id);
                        } else if cid.starts_with("w-") {
                            if let Some(c) = f.conversation_id.as_deref() {
                                if st.conv.is_none() {
                                    st.conv = Some(c.to_owned());
                                }
                                if let Some(w) = st.warmup.take() {
                                    let _ = w.send(c.to_owned());
                                }
                            }
                        }
                    }
                    "conversation" => {
                        if let Some(id) = f.conversation.map(|c| c.id.into_owned()) {
                            if st.conv.is_none() {
                                st.conv = Some(id.clone());
                            }
                            if !subscribe_sent && st.conv.as_deref() == Some(&*id) {
                                subscribe_sent = true;
                                out.push(clients::text(json!({"type": "subscribe", "conversation_id": id, "after_seq": st.last_seq})));
                            }
                        }
                    }
                    "subscribed" if !subscribed => {
                        subscribed = true;
                        t.subscribed_visitors.fetch_add(1, Relaxed);
                        if st.rejoining {
                            st.rejoining = false;
                            ctx.storm.resub_at[st.idx].store(t.now() + 1, SeqCst);
                            ctx.storm.resent.fetch_add(st.pending.len() as u64, Relaxed);
                        }
                        // Everything not acknowledged yet, in order, with its original id.
                        for &id in &st.pending {
                            out.push(send_frame(&ctx.padding, id));
                        }
                    }
                    "event" => {
                        let (Some(c), Some(e)) = (f.conversation_id.as_deref(), f.event) else { continue };
                        if st.conv.as_deref() != Some(c) {
                            continue;
                        }
                        if e.seq <= st.last_seq {
                            ctx.storm.replayed_ignored.fetch_add(1, Relaxed);
                            continue;
                        }
                        if e.seq > st.last_seq + 1 {
                            t.problem(&t.seq_anomalies, format!("visitor {}: conversation {c}: seq {} after {}; re-subscribing", st.idx, e.seq, st.last_seq));
                            out.push(clients::text(json!({"type": "subscribe", "conversation_id": c, "after_seq": st.last_seq})));
                        } else {
                            st.last_seq = e.seq;
                            if e.sender.kind == "agent" {
                                if let Some(id) = e.body.as_deref().and_then(|b| clients::id_in_body(b, 'r')) {
                                    t.reply_delivered(id);
                                }
                            }
                        }
                    }
                    "error" => t.problem(&t.error_frames, format!("visitor {} got error {:?}: {:?}", st.idx, f.code, f.message)),
                    _ => {}
                }
            }
        }
        for m in out {
            if let Err(e) = sink.send(m).await {
                return Exit::Lost(format!("send failed: {e}"));
            }
        }
    }
}

/// Waits, then connects to the next surviving node until one says `ready`. Commands that arrive
/// meanwhile are queued. `None`: the harness is done with this client.
async fn reconnect(
    st: &mut VState,
    rx: &mut mpsc::UnboundedReceiver<CCmd>,
    ctx: &Ctx,
) -> Option<Ws> {
    let mut delay = Duration::from_millis(random_below(ctx.jitter_ms + 1));
    let mut attempt = 0u32;
    loop {
        let until = tokio::time::Instant::now() + delay;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(until) => break,
                cmd = rx.recv() => match cmd {
                    None => return None,
                    Some(CCmd::Send(id)) => st.pending.push_back(id),
                    Some(CCmd::Warmup(_)) => {}
                },
            }
        }
        let node = ctx.next_node(st.node);
        let token = st.token.clone();
        let dialer = &ctx.dialers[node];
        let attempt_result = tokio::time::timeout(Duration::from_secs(10), async {
            let mut ws = dialer
                .connect("/ws/widget", Some(crate::setup::ORIGIN))
                .await?;
            clients::hello(&mut ws, Some(&token)).await?;
            Ok::<_, anyhow::Error>(ws)
        })
        .await;
        match attempt_result {
            Ok(Ok(ws)) => {
                st.node = node;
                ctx.storm.reconnects.fetch_add(1, Relaxed);
                return Some(ws);
            }
            _ => {
                ctx.storm.failed_attempts.fetch_add(1, Relaxed);
                attempt += 1;
                let full = 1000u64 << (attempt - 1).min(5);
                let ms = full.min(30_000);
                delay = Duration::from_millis(ms / 2 + random_below(ms / 2 + 1));
            }
        }
    }
}

/// Once every disconnected client is back, the CPU each process used since the kill.
fn storm_cpu(
    ctx: &Ctx,
    pids: &[u32],
    victim: usize,
    start: &Option<(Vec<f64>, f64, f64, Instant)>,
    expected: u64,
    out: &mut Option<(Vec<f64>, f64, f64)>,
) {
    let Some((nodes0, gen0, machine0, t0)) = start else {
        return;
    };
    if out.is_some()
        || ctx.storm.down.load(SeqCst) > 0
        || ctx.storm.disconnects.load(SeqCst) < expected.max(1)
    {
        return;
    }
    let wall = t0.elapsed().as_secs_f64().max(1e-3);
    let nodes: Vec<f64> = pids
        .iter()
        .zip(nodes0)
        .enumerate()
        .map(|(i, (&p, c0))| {
            if i == victim {
                0.0
            } else {
                (Proc::new(p).cpu_seconds() - c0) / wall * 100.0
            }
        })
        .collect();
    let gen = (Proc::me().cpu_seconds() - gen0) / wall * 100.0;
    let all = (stats::machine_busy_seconds() - machine0) / wall * 100.0;
    let others = (all - gen - nodes.iter().sum::<f64>()).max(0.0);
    *out = Some((nodes, gen, others));
}

async fn resolve(url: &str) -> Result<SocketAddr> {
    tokio::net::lookup_host(url.trim_end_matches('/').trim_start_matches("http://"))
        .await?
        .next()
        .with_context(|| format!("address of {url}"))
}

fn ns_list(v: &[AtomicU64], idx: impl Iterator<Item = usize>) -> Vec<u64> {
    idx.filter_map(|i| match v[i].load(SeqCst) {
        0 => None,
        t => Some(t - 1),
    })
    .collect()
}

pub async fn main(a: ClusterArgs) -> Result<bool> {
    let n = a.nodes.len();
    if n < 2 || a.pids.len() != n {
        bail!("need at least two --nodes and as many --pids");
    }
    if a.visitors == 0 || a.chatters == 0 || a.rate <= 0.0 {
        bail!("need visitors, chatters and a rate");
    }
    let chatters = a.chatters.min(a.visitors);
    let agents = a.agents.max(1);
    let nofile = crate::net::raise_nofile();
    let needed = (a.visitors + agents + 200) as u64;
    if needed > nofile {
        bail!(
            "{} sockets need about {needed} file descriptors but this process may open {nofile} (RLIMIT_NOFILE hard limit); run several generator processes or lower --visitors",
            a.visitors + agents
        );
    }
    let plan = ClusterPlan {
        nodes: n,
        visitors: a.visitors,
        agents,
        chatters,
        rate: a.rate,
        duration_s: a.duration,
        kill_after_s: a.kill_after,
        reconnect_jitter_ms: a.reconnect_jitter_ms,
        victim_visitors: a.victim_visitors,
        reply_every: a.reply_every,
        body_bytes: a.body_bytes,
    };
    let mut dialers = Vec::new();
    for u in &a.nodes {
        dialers.push(Dialer::new(resolve(u).await?, a.source_ips));
    }
    let base = a.nodes[0].trim_end_matches('/').to_owned();

    eprintln!(
        "[cluster] setup on node 0: admin login, channel, {agents} agents, {} visitor sessions",
        a.visitors
    );
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let admin = crate::setup::Session::login(&base, &a.admin_email, &a.admin_password).await?;
    let widget_key = crate::setup::create_channel(&admin, &format!("Cluster {tag}")).await?;
    let agent_tokens = crate::setup::create_agents(&admin, &base, agents, &tag).await?;
    let visitor_tokens = crate::setup::visitor_sessions(&base, &widget_key, a.visitors).await?;

    let total = (a.rate * a.duration).round() as u64;
    let tracker = Arc::new(Tracker::new(total + 16));
    let padding: Arc<str> = "x".repeat(a.body_bytes.saturating_sub(8)).into();
    let ctx = Arc::new(Ctx {
        t: tracker.clone(),
        dialers,
        killed: AtomicUsize::new(NONE),
        rr: AtomicUsize::new(0),
        jitter_ms: a.reconnect_jitter_ms,
        storm: Storm::new(a.visitors),
        padding: padding.clone(),
    });

    // Agents on node 0, which is never killed.
    let mut agent_handles = Vec::new();
    for (i, token) in agent_tokens.iter().enumerate() {
        let cfg = AgentConfig {
            index: i,
            agents,
            reply_every: a.reply_every,
            padding: padding.clone(),
        };
        agent_handles.push(
            clients::open_agent(&ctx.dialers[0], token, tracker.clone(), cfg)
                .await
                .with_context(|| format!("agent socket {i}"))?,
        );
    }
    // Where each visitor connects: chatters round robin over all nodes; idle visitors too, or
    // with --victim-visitors that many on node 1 and the others round robin over the rest.
    let mut placement = Vec::with_capacity(a.visitors);
    let mut on_victim = 0;
    let others: Vec<usize> = (0..n).filter(|&i| i != 1).collect();
    for i in 0..a.visitors {
        placement.push(if i < chatters || a.victim_visitors == 0 {
            i % n
        } else if on_victim < a.victim_visitors {
            on_victim += 1;
            1
        } else {
            others[i % others.len()]
        });
    }
    let opened = Instant::now();
    let visitors: Vec<Handle<CCmd>> = stream::iter(visitor_tokens.into_iter().enumerate())
        .map(|(i, token)| open_visitor(ctx.clone(), i, token, placement[i]))
        .buffered(128)
        .try_collect()
        .await
        .context("opening visitor sockets")?;
    let per_node = |ctx: &Ctx| {
        let mut v = vec![0usize; n];
        for x in &ctx.storm.node_of {
            let i = x.load(SeqCst);
            if i != NONE {
                v[i] += 1;
            }
        }
        v
    };
    let before = per_node(&ctx);
    eprintln!(
        "[cluster] {} visitor sockets open in {:.1} s, per node {:?}",
        visitors.len(),
        opened.elapsed().as_secs_f64(),
        before
    );

    // Conversations: one unmeasured message per chatter; its agent subscribes on `inbox`.
    let mut acks = Vec::new();
    for v in &visitors[..chatters] {
        let (tx, rx) = oneshot::channel();
        v.tx.send(CCmd::Warmup(tx))
            .ok()
            .context("visitor task ended")?;
        acks.push(rx);
    }
    let convs: Vec<String> =
        tokio::time::timeout(Duration::from_secs(60), futures::future::try_join_all(acks))
            .await
            .context("first messages not acked within 60 s")?
            .context("a visitor socket ended before its first ack")?;
    let c = convs.len() as u64;
    let all_subscribed = || {
        tracker.subscribed_agents.load(Relaxed) >= c
            && tracker.subscribed_visitors.load(Relaxed) >= c
    };
    let wait = Instant::now();
    while !all_subscribed() && wait.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut fallbacks = 0;
    if tracker.subscribed_agents.load(Relaxed) < c {
        fallbacks = c - tracker.subscribed_agents.load(Relaxed);
        for conv in &convs {
            let _ = agent_handles[clients::owner(conv, agents)]
                .tx
                .send(AgentCmd::Subscribe(conv.clone()));
        }
        let wait = Instant::now();
        while !all_subscribed() && wait.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    if !all_subscribed() {
        bail!(
            "only {} of {c} conversations subscribed by agents and {} by visitors",
            tracker.subscribed_agents.load(Relaxed),
            tracker.subscribed_visitors.load(Relaxed)
        );
    }
    eprintln!("[cluster] {c} conversations started and subscribed");
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Chat, open loop; the kill happens in the middle.
    let victim = (1..n)
        .max_by_key(|&i| (before[i], std::cmp::Reverse(i)))
        .unwrap_or(1);
    let mut kill_ns = None;
    let mut cpu0: Option<(Vec<f64>, f64, f64, Instant)> = None;
    let mut cpu_storm: Option<(Vec<f64>, f64, f64)> = None;
    let started = Instant::now();
    let base_ns = tracker.ns_of(started);
    let mut issued = 0u64;
    while issued < total
        || (kill_ns.is_none() && !a.no_kill && started.elapsed().as_secs_f64() < a.kill_after)
    {
        if kill_ns.is_none() && !a.no_kill && started.elapsed().as_secs_f64() >= a.kill_after {
            let sockets = per_node(&ctx)[victim];
            cpu0 = Some((
                a.pids
                    .iter()
                    .map(|&p| Proc::new(p).cpu_seconds())
                    .collect::<Vec<_>>(),
                Proc::me().cpu_seconds(),
                stats::machine_busy_seconds(),
                Instant::now(),
            ));
            ctx.killed.store(victim, SeqCst);
            kill_ns = Some((tracker.now(), sockets));
            unsafe {
                libc::kill(a.pids[victim] as i32, libc::SIGKILL);
            }
            eprintln!(
                "[cluster] SIGKILL node {victim} (pid {}), {sockets} visitor sockets, {:.1} s into the chat",
                a.pids[victim],
                started.elapsed().as_secs_f64()
            );
        }
        let expected = kill_ns.map(|k| k.1 as u64).unwrap_or(0);
        storm_cpu(&ctx, &a.pids, victim, &cpu0, expected, &mut cpu_storm);
        let due = ((started.elapsed().as_secs_f64() * a.rate) as u64 + 1).min(total);
        while issued < due {
            let id = issued;
            tracker.sent(id, base_ns + (id as f64 * 1e9 / a.rate) as u64);
            visitors[id as usize % chatters]
                .tx
                .send(CCmd::Send(id))
                .ok()
                .context("visitor task ended")?;
            issued += 1;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    eprintln!(
        "[cluster] {total} messages sent in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Wait until every disconnected client is back, then until everything is delivered.
    let wait = Instant::now();
    while kill_ns.is_some()
        && (ctx.storm.down.load(SeqCst) > 0
            || ctx.storm.disconnects.load(SeqCst) < kill_ns.map(|k| k.1 as u64).unwrap_or(0))
        && wait.elapsed().as_secs_f64() < a.back_timeout
    {
        let expected = kill_ns.map(|k| k.1 as u64).unwrap_or(0);
        storm_cpu(&ctx, &a.pids, victim, &cpu0, expected, &mut cpu_storm);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if cpu_storm.is_none() && cpu0.is_some() {
        // Not everyone came back (or the last came back after the loop's last look): CPU so far.
        let down = ctx.storm.down.swap(0, SeqCst);
        storm_cpu(&ctx, &a.pids, victim, &cpu0, 0, &mut cpu_storm);
        ctx.storm.down.fetch_add(down, SeqCst);
    }
    let ids = 0..total;
    let (mut last_count, mut last_progress) = (u64::MAX, Instant::now());
    let drain_start = Instant::now();
    let drained = loop {
        if tracker.settled(ids.clone()) {
            break true;
        }
        let count = tracker.acks.load(Relaxed)
            + tracker.deliveries.load(Relaxed)
            + tracker.reply_deliveries.load(Relaxed);
        if count != last_count {
            (last_count, last_progress) = (count, Instant::now());
        }
        if last_progress.elapsed() > Duration::from_secs(15)
            || drain_start.elapsed() > Duration::from_secs(120)
        {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Late duplicates would show now.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The storm.
    let s = &ctx.storm;
    let mut storm = StormReport {
        failed_attempts: s.failed_attempts.load(SeqCst),
        resent: s.resent.load(SeqCst),
        replayed_ignored: s.replayed_ignored.load(SeqCst),
        sockets_per_node_after: per_node(&ctx),
        ..Default::default()
    };
    if let Some((nodes, gen, others)) = cpu_storm {
        storm.nodes_cpu_pct = nodes;
        storm.generator_cpu_pct = gen;
        storm.others_cpu_pct = others;
    }
    if let Some((k, sockets)) = kill_ns {
        storm.victim = Some(victim);
        storm.victim_sockets = sockets;
        let disc: Vec<usize> = (0..a.visitors)
            .filter(|&i| s.disc_at[i].load(SeqCst) != 0)
            .collect();
        storm.disconnected = disc.len() as u64;
        let back: Vec<u64> = ns_list(&s.ready_at, disc.iter().copied());
        storm.back = back.len() as u64;
        let since =
            |v: &[u64]| v.iter().map(|&t| t.saturating_sub(k)).max().unwrap_or(0) as f64 / 1e9;
        storm.detect_s = since(&ns_list(&s.disc_at, disc.iter().copied()));
        storm.all_back_s = since(&back);
        storm.resubscribed_s = since(&ns_list(&s.resub_at, disc.iter().copied()));
        let mut h = stats::hist();
        for t in &back {
            stats::record(&mut h, t.saturating_sub(k));
        }
        storm.back_latency = Latency::of(&h);
        storm.reconnects_per_s = if storm.all_back_s > 0.0 {
            storm.back as f64 / storm.all_back_s
        } else {
            0.0
        };
    }
    let node_rss_kib = a.pids.iter().map(|&p| Proc::new(p).rss_kib()).collect();
    let delivery = tracker.summarize(ids);
    let problems = Problems::of(&tracker, fallbacks);

    let mut failures = Vec::new();
    if !drained {
        failures.push(format!(
            "not everything was acked and delivered ({} sent, {} acked, {} delivered, {} replies lost)",
            delivery.sent, delivery.acked, delivery.delivered, delivery.replies_lost
        ));
    }
    if delivery.lost > 0 || delivery.replies_lost > 0 {
        failures.push(format!(
            "{} messages and {} replies acked but not delivered",
            delivery.lost, delivery.replies_lost
        ));
    }
    if delivery.duplicates > 0 || delivery.duplicate_acks > 0 {
        failures.push(format!(
            "{} duplicate deliveries, {} duplicate acks",
            delivery.duplicates, delivery.duplicate_acks
        ));
    }
    if delivery.unacked > 0 {
        failures.push(format!("{} messages never acked", delivery.unacked));
    }
    if problems.failures() > 0 {
        failures.push(format!("problems: {problems:?}"));
    }
    if kill_ns.is_some() {
        if storm.disconnected != storm.victim_sockets as u64 {
            failures.push(format!(
                "{} sockets disconnected, the victim held {}",
                storm.disconnected, storm.victim_sockets
            ));
        }
        if storm.back < storm.disconnected {
            failures.push(format!(
                "only {} of {} disconnected clients were back within {} s",
                storm.back, storm.disconnected, a.back_timeout
            ));
        }
    }
    // Timing only; loss, duplicates and errors are the failures above.
    let target_met =
        kill_ns.is_some() && storm.back == storm.disconnected && storm.all_back_s <= a.target_s;
    let report = ClusterReport {
        kind: "cluster",
        unix_time: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        machine: crate::report::Machine::probe(nofile),
        plan,
        sockets_per_node_before: before,
        storm,
        delivery,
        drained,
        problems,
        problem_samples: tracker.samples(),
        node_rss_kib,
        target_s: a.target_s,
        target_met,
        failures,
    };
    clients::close_all(visitors).await;
    clients::close_all(agent_handles).await;
    print(&report);
    crate::report::write_json(&report, a.out.as_deref())?;
    Ok(crate::report::all_passed(&report.failures))
}

fn print(r: &ClusterReport) {
    let p = &r.plan;
    let m = &r.machine;
    println!();
    println!("{}", m.line());
    println!(
        "cluster: {} nodes, {} visitors ({} chatting) spread round robin{}, {} agents on node 0, {} msg/s for {} s (reply to 1 in {}), kill after {} s, reconnect jitter 0-{} ms",
        p.nodes,
        p.visitors,
        p.chatters,
        if p.victim_visitors > 0 { format!(" ({} idle ones on node 1)", p.victim_visitors) } else { String::new() },
        p.agents,
        p.rate,
        p.duration_s,
        p.reply_every,
        p.kill_after_s,
        p.reconnect_jitter_ms
    );
    println!(
        "visitor sockets per node before {:?}, after {:?}",
        r.sockets_per_node_before, r.storm.sockets_per_node_after
    );
    let s = &r.storm;
    match s.victim {
        Some(v) => {
            println!(
                "node kill: node {v} held {} visitor sockets; {} disconnected, {} back on other nodes",
                s.victim_sockets, s.disconnected, s.back
            );
            println!(
                "  kill → last client noticed {:.2} s, → all ready again {:.2} s (p50 {:.2} s, p99 {:.2} s per client), → chatters re-subscribed {:.2} s",
                s.detect_s,
                s.all_back_s,
                s.back_latency.p50_ms / 1000.0,
                s.back_latency.p99_ms / 1000.0,
                s.resubscribed_s
            );
            println!(
                "  {:.0} reconnects/s, {} failed attempts, {} messages sent again, {} replayed events ignored",
                s.reconnects_per_s, s.failed_attempts, s.resent, s.replayed_ignored
            );
            println!(
                "  CPU from the kill until all were back: nodes {:?} %, generator {:.0} %, other {:.0} % (100 % = one core)",
                s.nodes_cpu_pct.iter().map(|c| c.round()).collect::<Vec<_>>(),
                s.generator_cpu_pct,
                s.others_cpu_pct
            );
        }
        None => println!("no node was killed"),
    }
    let d = &r.delivery;
    println!(
        "messages: {} sent, {} acked, {} delivered to agents, lost {}, duplicates {} (acks {}), unacked {}; replies {} sent, {} delivered, lost {}",
        d.sent, d.acked, d.delivered, d.lost, d.duplicates, d.duplicate_acks, d.unacked, d.replies_sent, d.replies_delivered, d.replies_lost
    );
    println!(
        "  visitor → agent p50 {:.1} p99 {:.1} max {:.1} ms (includes messages held while their visitor was reconnecting); send → ack p50 {:.1} p99 {:.1} ms",
        d.visitor_to_agent.p50_ms, d.visitor_to_agent.p99_ms, d.visitor_to_agent.max_ms, d.send_to_ack.p50_ms, d.send_to_ack.p99_ms
    );
    let pr = &r.problems;
    println!(
        "problems: error frames {}, unexpected closes {}, seq anomalies {}, resyncs {}, inbox fallbacks {}",
        pr.error_frames, pr.unexpected_closes, pr.seq_anomalies, pr.resyncs, pr.inbox_fallbacks
    );
    for x in &r.problem_samples {
        println!("  e.g. {x}");
    }
    println!("node RSS at the end (KiB): {:?}", r.node_rss_kib);
    if s.victim.is_some() {
        println!(
            "target: all {} disconnected clients back within {} s (the target is for 15,000 sockets): {} ({:.2} s)",
            s.disconnected,
            r.target_s,
            if r.target_met { "met" } else { "NOT met" },
            s.all_back_s
        );
    }
}
