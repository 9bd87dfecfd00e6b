//! The phases run against one target (Parley or the baseline relay): connect agents, open the
//! idle visitor sockets and measure the server's memory, start the conversations, then one chat
//! run per target rate.

use crate::clients::{self, AgentCmd, AgentConfig, Handle, VisitorCmd};
use crate::net::Dialer;
use crate::stats::{self, Delivery, Proc, Tracker};
use anyhow::{bail, Context, Result};
use futures::{stream, StreamExt, TryStreamExt};
use serde::Serialize;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub visitors: usize,
    pub agents: usize,
    pub chatters: usize,
    pub rates: Vec<f64>,
    pub duration_s: f64,
    pub reply_every: u64,
    pub body_bytes: usize,
    pub source_ips: usize,
    pub stop_at_knee: bool,
    pub settle_ms: u64,
}

impl Plan {
    /// Room for every measured message id of every run.
    fn capacity(&self) -> u64 {
        self.rates
            .iter()
            .map(|r| (r * self.duration_s).ceil() as u64 + 1)
            .sum::<u64>()
            + 16
    }
}

/// Where to connect and with which credentials.
pub struct Target {
    pub name: &'static str,
    pub dialer: Dialer,
    pub pid: u32,
    pub agent_tokens: Vec<String>,
    pub visitor_tokens: Vec<String>,
}

#[derive(Serialize, Default, Clone, Debug)]
pub struct Problems {
    pub error_frames: u64,
    pub unexpected_closes: u64,
    pub seq_anomalies: u64,
    pub resyncs: u64,
    /// Conversations the owning agent had to be told about because no `inbox` frame came.
    pub inbox_fallbacks: u64,
}

impl Problems {
    pub fn of(t: &Tracker, fallbacks: u64) -> Problems {
        Problems {
            error_frames: t.error_frames.load(Relaxed),
            unexpected_closes: t.unexpected_closes.load(Relaxed),
            seq_anomalies: t.seq_anomalies.load(Relaxed),
            resyncs: t.resyncs.load(Relaxed),
            inbox_fallbacks: fallbacks,
        }
    }
    /// Everything that means a broken protocol or a client-visible failure. `resync` frames are
    /// not counted: the server sends them when an agent's inbox feed lagged, which is overload,
    /// not loss (the conversations themselves are caught up from the database).
    pub fn failures(&self) -> u64 {
        self.error_frames + self.unexpected_closes + self.seq_anomalies + self.inbox_fallbacks
    }

    fn since(&self, before: &Problems) -> Problems {
        Problems {
            error_frames: self.error_frames - before.error_frames,
            unexpected_closes: self.unexpected_closes - before.unexpected_closes,
            seq_anomalies: self.seq_anomalies - before.seq_anomalies,
            resyncs: self.resyncs - before.resyncs,
            inbox_fallbacks: self.inbox_fallbacks - before.inbox_fallbacks,
        }
    }
}

#[derive(Serialize, Clone, Debug)]
pub struct IdleReport {
    pub sockets: usize,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    pub kib_per_socket: f64,
    pub open_seconds: f64,
}

#[derive(Serialize, Clone, Debug)]
pub struct RunReport {
    pub target_rate: f64,
    pub duration_s: f64,
    pub delivery: Delivery,
    /// Every sent message was acked and delivered (and every reply delivered) before the
    /// drain timed out.
    pub drained: bool,
    /// Drained, no loss, ≥ 95 % of the target rate delivered, p99 under 500 ms.
    pub sustained: bool,
    /// Server (or relay) CPU over the run and its drain; 100 % = one core.
    pub server_cpu_pct: f64,
    pub generator_cpu_pct: f64,
    /// CPU used by everything else on the machine meanwhile (other work disturbs the run).
    pub others_cpu_pct: f64,
    /// The server's busiest threads (by name) over the run, % of one core.
    pub server_threads_cpu_pct: Vec<(String, f64)>,
    pub server_rss_kib: u64,
    pub max_schedule_lag_ms: f64,
    /// Problems seen during this run (the target's totals are in [`TargetReport`]).
    pub problems: Problems,
}

#[derive(Serialize, Clone, Debug)]
pub struct TargetReport {
    pub name: &'static str,
    pub idle: IdleReport,
    pub runs: Vec<RunReport>,
    pub problems: Problems,
    pub problem_samples: Vec<String>,
}

pub async fn run_target(target: Target, plan: &Plan) -> Result<TargetReport> {
    let tracker = Arc::new(Tracker::new(plan.capacity()));
    let padding: Arc<str> = "x".repeat(plan.body_bytes.saturating_sub(8)).into();
    let server = Proc::new(target.pid);
    let settle = Duration::from_millis(plan.settle_ms);
    let name = target.name;

    // Agents first, so visitors see someone online.
    let mut agents = Vec::new();
    for (i, token) in target.agent_tokens.iter().enumerate() {
        let cfg = AgentConfig {
            index: i,
            agents: plan.agents,
            reply_every: plan.reply_every,
            padding: padding.clone(),
        };
        agents.push(
            clients::open_agent(&target.dialer, token, tracker.clone(), cfg)
                .await
                .with_context(|| format!("{name}: agent socket {i}"))?,
        );
    }

    // Phase 1: idle sockets.
    tokio::time::sleep(settle).await;
    let rss_before = server.rss_kib();
    let opened = Instant::now();
    let visitors: Vec<Handle<VisitorCmd>> = stream::iter(target.visitor_tokens.iter())
        .map(|token| clients::open_visitor(&target.dialer, token, tracker.clone(), padding.clone()))
        .buffered(128)
        .try_collect()
        .await
        .with_context(|| format!("{name}: opening visitor sockets"))?;
    let open_seconds = opened.elapsed().as_secs_f64();
    tokio::time::sleep(settle).await;
    let rss_after = server.rss_kib();
    let idle = IdleReport {
        sockets: visitors.len(),
        rss_before_kib: rss_before,
        rss_after_kib: rss_after,
        kib_per_socket: (rss_after as f64 - rss_before as f64) / visitors.len().max(1) as f64,
        open_seconds,
    };
    eprintln!(
        "[{name}] {} idle visitor sockets open in {:.1} s; server RSS {} → {} KiB ({:.1} KiB per socket)",
        idle.sockets, open_seconds, rss_before, rss_after, idle.kib_per_socket
    );

    // Phase 2: each chatting visitor starts its conversation; the owning agent subscribes.
    let chatters = &visitors[..plan.chatters];
    let fallbacks = start_conversations(chatters, &agents, &tracker, plan).await?;
    eprintln!(
        "[{name}] {} conversations started and subscribed",
        chatters.len()
    );

    // Phase 3: chat runs at each rate.
    let mut runs = Vec::new();
    let mut next_id = 0u64;
    for &rate in &plan.rates {
        let r = chat_run(rate, plan, chatters, &tracker, &server, &mut next_id).await?;
        eprintln!(
            "[{name}] {:>6.0} msg/s target: {:.0} delivered/s, v→a p50 {:.1} p99 {:.1} max {:.1} ms, lost {}, dup {}, server CPU {:.0} % ({}){}{}",
            rate,
            r.delivery.delivered_per_s,
            r.delivery.visitor_to_agent.p50_ms,
            r.delivery.visitor_to_agent.p99_ms,
            r.delivery.visitor_to_agent.max_ms,
            r.delivery.lost,
            r.delivery.duplicates,
            r.server_cpu_pct,
            r.server_threads_cpu_pct
                .iter()
                .take(4)
                .map(|(n, p)| format!("{n} {p:.0}"))
                .collect::<Vec<_>>()
                .join(", "),
            if r.problems.resyncs > 0 { format!(", {} resyncs", r.problems.resyncs) } else { String::new() },
            if r.sustained { "" } else { "  (not sustained)" }
        );
        let knee = !r.sustained;
        runs.push(r);
        if knee && plan.stop_at_knee {
            break;
        }
        tokio::time::sleep(settle).await;
    }

    let problems = Problems::of(&tracker, fallbacks);
    clients::close_all(visitors).await;
    clients::close_all(agents).await;
    Ok(TargetReport {
        name,
        idle,
        runs,
        problems,
        problem_samples: tracker.samples(),
    })
}

/// Sends one unmeasured message from each chatter and waits until every conversation is
/// subscribed by its agent and its visitor. Returns how many subscriptions needed the fallback.
async fn start_conversations(
    chatters: &[Handle<VisitorCmd>],
    agents: &[Handle<AgentCmd>],
    tracker: &Tracker,
    plan: &Plan,
) -> Result<u64> {
    let mut acks = Vec::new();
    for v in chatters {
        let (tx, rx) = tokio::sync::oneshot::channel();
        v.tx.send(VisitorCmd::Warmup(tx))
            .ok()
            .context("visitor task ended")?;
        acks.push(rx);
    }
    let convs: Vec<String> =
        tokio::time::timeout(Duration::from_secs(60), futures::future::try_join_all(acks))
            .await
            .context("first messages not acked within 60 s")?
            .context("a visitor socket ended before its first ack")?;

    let n = convs.len() as u64;
    let all_subscribed = || {
        tracker.subscribed_agents.load(Relaxed) >= n
            && tracker.subscribed_visitors.load(Relaxed) >= n
    };
    let wait = Instant::now();
    while !all_subscribed() && wait.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut fallbacks = 0;
    let agents_done = tracker.subscribed_agents.load(Relaxed);
    if agents_done < n {
        // Some inbox frames never came: tell each owner directly (already-subscribed ones ignore it).
        fallbacks = n - agents_done;
        for c in &convs {
            let _ = agents[clients::owner(c, plan.agents)]
                .tx
                .send(AgentCmd::Subscribe(c.clone()));
        }
        let wait = Instant::now();
        while !all_subscribed() && wait.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    if !all_subscribed() {
        bail!(
            "only {} of {n} conversations subscribed by agents and {} by visitors",
            tracker.subscribed_agents.load(Relaxed),
            tracker.subscribed_visitors.load(Relaxed)
        );
    }
    Ok(fallbacks)
}

/// Open-loop: message k is due at start + k/rate whatever the server does; visitors take turns.
async fn chat_run(
    rate: f64,
    plan: &Plan,
    chatters: &[Handle<VisitorCmd>],
    tracker: &Tracker,
    server: &Proc,
    next_id: &mut u64,
) -> Result<RunReport> {
    let total = (rate * plan.duration_s).round() as u64;
    let first = *next_id;
    if first + total > tracker.capacity() {
        bail!("message ids exhausted");
    }
    *next_id += total;
    let me = Proc::me();
    let (cpu0, gen0, threads0) = (server.cpu_seconds(), me.cpu_seconds(), server.thread_cpu());
    let machine0 = stats::machine_busy_seconds();
    let problems0 = Problems::of(tracker, 0);
    tracker.max_schedule_lag.store(0, Relaxed);
    let started = Instant::now();
    let base_ns = tracker.ns_of(started);
    let mut issued = 0u64;
    while issued < total {
        let due = ((started.elapsed().as_secs_f64() * rate) as u64 + 1).min(total);
        while issued < due {
            let cmd = VisitorCmd::Send {
                id: first + issued,
                at_ns: base_ns + (issued as f64 * 1e9 / rate) as u64,
            };
            chatters[issued as usize % chatters.len()]
                .tx
                .send(cmd)
                .ok()
                .context("visitor task ended")?;
            issued += 1;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    // Drain: wait until everything sent is acked and delivered, or progress stops.
    let ids = first..first + total;
    let sent_all = Instant::now();
    let (mut last_count, mut last_progress) = (u64::MAX, Instant::now());
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
        if last_progress.elapsed() > Duration::from_secs(10)
            || sent_all.elapsed() > Duration::from_secs(180)
        {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let wall = started.elapsed().as_secs_f64();
    let (server_cpu, gen_cpu) = (server.cpu_seconds() - cpu0, me.cpu_seconds() - gen0);
    let others = (stats::machine_busy_seconds() - machine0 - server_cpu - gen_cpu).max(0.0);
    let delivery = tracker.summarize(ids);
    let sustained = drained
        && delivery.lost == 0
        && delivery.delivered_per_s >= 0.95 * rate
        && delivery.visitor_to_agent.p99_ms < 500.0;
    Ok(RunReport {
        target_rate: rate,
        duration_s: plan.duration_s,
        drained,
        sustained,
        server_cpu_pct: server_cpu / wall * 100.0,
        generator_cpu_pct: gen_cpu / wall * 100.0,
        others_cpu_pct: others / wall * 100.0,
        server_threads_cpu_pct: stats::thread_cpu_pct(&threads0, &server.thread_cpu(), wall),
        problems: Problems::of(tracker, 0).since(&problems0),
        server_rss_kib: server.rss_kib(),
        max_schedule_lag_ms: tracker.max_schedule_lag.load(Relaxed) as f64 / 1e6,
        delivery,
    })
}
