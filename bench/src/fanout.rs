//! Fan-out: one event to every visitor socket of a workspace.
//!
//! `V` visitor sockets of one channel stay open and idle; the workspace's only agent then comes
//! online and goes offline again, `cycles` times. Each change flips "agents online", and the
//! server sends `{"type":"presence","agents_online":bool}` to every visitor socket of the
//! workspace (docs/protocol.md §5). For every toggle the generator measures, per visitor, the time
//! from the trigger to the frame's arrival, and checks that every visitor got every frame exactly
//! once with the right value.
//!
//! The trigger is the agent's `hello` write (online: the server registers the agent on `hello`)
//! or its Close frame write (offline). All times come from one monotonic clock in this process.
//! The same clients then run against the baseline relay, which broadcasts the same frame.

use crate::clients::{self, Handle};
use crate::net::{Dialer, Ws};
use crate::stats::{self, Latency, Proc};
use anyhow::{bail, Context, Result};
use clap::Args;
use futures::{stream, SinkExt, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

#[derive(Args)]
pub struct FanoutArgs {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The server's process id (for RSS and CPU).
    #[arg(long)]
    server_pid: u32,
    #[arg(long, env = "PARLEY_ADMIN_EMAIL")]
    admin_email: String,
    #[arg(long, env = "PARLEY_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: String,
    /// Idle visitor sockets, all on one channel.
    #[arg(long, default_value_t = 10_000)]
    visitors: usize,
    /// Online-then-offline cycles of the agent (two toggles each).
    #[arg(long, default_value_t = 20)]
    cycles: usize,
    /// Give up waiting for one toggle's frames after this long.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// After a toggle's last frame, wait this long (late duplicates would show) before the next.
    #[arg(long, default_value_t = 300)]
    quiet_ms: u64,
    /// Pause before memory readings.
    #[arg(long, default_value_t = 2000)]
    settle_ms: u64,
    /// The target for "last delivered", p99 over toggles (reported, not enforced).
    #[arg(long, default_value_t = 150.0)]
    target_ms: f64,
    /// Loopback source addresses to spread client sockets over (127.0.0.2 …).
    #[arg(long, default_value_t = 16)]
    source_ips: usize,
    /// Skip the baseline relay.
    #[arg(long)]
    no_baseline: bool,
    /// Write the results as JSON here.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Serialize, Clone, Debug)]
pub struct FanPlan {
    pub visitors: usize,
    pub cycles: usize,
    pub toggles: usize,
    pub timeout_ms: u64,
    pub quiet_ms: u64,
    pub target_ms: f64,
}

/// One toggle: the agent came online (or went offline) once.
#[derive(Serialize, Clone, Debug)]
pub struct Toggle {
    pub online: bool,
    pub delivered: u64,
    pub missing: u64,
    /// From the trigger to the first / median / 99th percentile / last visitor's frame.
    pub first_ms: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub last_ms: f64,
    /// For "online": from the trigger until the agent's own `ready`.
    pub agent_ready_ms: Option<f64>,
}

#[derive(Serialize, Default, Clone, Debug)]
pub struct FanProblems {
    /// A visitor got the same toggle's frame twice.
    pub duplicates: u64,
    /// A frame with the wrong `agents_online` value (or one that arrived after its toggle ended).
    pub wrong_value: u64,
    /// A presence frame while no toggle was in progress.
    pub stray: u64,
    pub error_frames: u64,
    pub unexpected_closes: u64,
}

impl FanProblems {
    pub fn total(&self) -> u64 {
        self.duplicates + self.wrong_value + self.stray + self.error_frames + self.unexpected_closes
    }
}

#[derive(Serialize, Clone, Debug)]
pub struct FanTargetReport {
    pub name: &'static str,
    pub sockets: usize,
    pub open_seconds: f64,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    pub kib_per_socket: f64,
    pub toggles: Vec<Toggle>,
    /// Every delivery of every toggle, from its trigger.
    pub all_deliveries: Latency,
    /// "Last delivered" over the toggles.
    pub last_p50_ms: f64,
    pub last_p99_ms: f64,
    pub last_max_ms: f64,
    /// Frames expected (visitors × toggles) and missing.
    pub expected: u64,
    pub missing: u64,
    pub problems: FanProblems,
    pub problem_samples: Vec<String>,
    /// Server (or relay) CPU over the toggles, % of one core.
    pub server_cpu_pct: f64,
    pub generator_cpu_pct: f64,
    pub others_cpu_pct: f64,
}

#[derive(Serialize)]
pub struct FanReport {
    pub kind: &'static str,
    pub unix_time: u64,
    pub machine: crate::report::Machine,
    pub plan: FanPlan,
    pub parley: FanTargetReport,
    pub baseline: Option<FanTargetReport>,
    /// Parley's p99 of "last delivered" divided by the relay's.
    pub last_p99_ratio: Option<f64>,
    pub target_met: bool,
    pub failures: Vec<String>,
}

const NONE: u64 = u64::MAX;

/// What the visitor sockets record. `state` is the toggle in progress, `index << 1 | online`,
/// or [`NONE`] between toggles.
struct FanTracker {
    epoch: Instant,
    visitors: usize,
    state: AtomicU64,
    /// `toggles × visitors` arrival times (ns since `epoch`, plus one; 0 = not yet).
    arrivals: Vec<AtomicU64>,
    counts: Vec<AtomicU64>,
    duplicates: AtomicU64,
    wrong_value: AtomicU64,
    stray: AtomicU64,
    error_frames: AtomicU64,
    unexpected_closes: AtomicU64,
    samples: Mutex<Vec<String>>,
}

impl FanTracker {
    fn new(toggles: usize, visitors: usize) -> Self {
        FanTracker {
            epoch: Instant::now(),
            visitors,
            state: AtomicU64::new(NONE),
            arrivals: (0..toggles * visitors).map(|_| AtomicU64::new(0)).collect(),
            counts: (0..toggles).map(|_| AtomicU64::new(0)).collect(),
            duplicates: AtomicU64::new(0),
            wrong_value: AtomicU64::new(0),
            stray: AtomicU64::new(0),
            error_frames: AtomicU64::new(0),
            unexpected_closes: AtomicU64::new(0),
            samples: Mutex::new(Vec::new()),
        }
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    fn problem(&self, counter: &AtomicU64, what: String) {
        counter.fetch_add(1, Relaxed);
        let mut s = self.samples.lock().unwrap();
        if s.len() < 10 {
            s.push(what);
        }
    }

    fn begin(&self, toggle: usize, online: bool) {
        self.state
            .store(((toggle as u64) << 1) | online as u64, SeqCst);
    }

    fn end(&self) {
        self.state.store(NONE, SeqCst);
    }

    fn presence(&self, visitor: usize, online: bool) {
        let now = self.now();
        let s = self.state.load(SeqCst);
        if s == NONE {
            self.problem(
                &self.stray,
                format!("visitor {visitor}: presence {online} outside a toggle"),
            );
            return;
        }
        let (toggle, expected) = ((s >> 1) as usize, s & 1 == 1);
        if online != expected {
            self.problem(
                &self.wrong_value,
                format!("visitor {visitor}: presence {online} during toggle {toggle}"),
            );
            return;
        }
        let slot = &self.arrivals[toggle * self.visitors + visitor];
        if slot.compare_exchange(0, now + 1, Relaxed, Relaxed).is_err() {
            self.problem(
                &self.duplicates,
                format!("visitor {visitor}: second presence frame in toggle {toggle}"),
            );
            return;
        }
        self.counts[toggle].fetch_add(1, Relaxed);
    }

    fn count(&self, toggle: usize) -> u64 {
        self.counts[toggle].load(Relaxed)
    }

    /// Arrival times of one toggle, relative to `t0` (ns), for those that arrived.
    fn latencies(&self, toggle: usize, t0: u64) -> Vec<u64> {
        (0..self.visitors)
            .filter_map(
                |v| match self.arrivals[toggle * self.visitors + v].load(Relaxed) {
                    0 => None,
                    t => Some((t - 1).saturating_sub(t0)),
                },
            )
            .collect()
    }

    fn problems(&self) -> FanProblems {
        FanProblems {
            duplicates: self.duplicates.load(Relaxed),
            wrong_value: self.wrong_value.load(Relaxed),
            stray: self.stray.load(Relaxed),
            error_frames: self.error_frames.load(Relaxed),
            unexpected_closes: self.unexpected_closes.load(Relaxed),
        }
    }
}

#[derive(Deserialize)]
struct PresenceFrame<'a> {
    #[serde(rename = "type", borrow)]
    ty: std::borrow::Cow<'a, str>,
    #[serde(default)]
    agents_online: Option<bool>,
}

/// An idle visitor socket that records presence frames; it ends (with a Close) when the
/// handle's sender is dropped.
async fn open_fan_visitor(
    dialer: &Dialer,
    token: &str,
    index: usize,
    t: Arc<FanTracker>,
) -> Result<Handle<()>> {
    let mut ws = dialer
        .connect("/ws/widget", Some(crate::setup::ORIGIN))
        .await?;
    clients::hello(&mut ws, Some(token)).await?;
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let task = tokio::spawn(async move {
        let (mut sink, mut stream) = ws.split();
        loop {
            tokio::select! {
                cmd = rx.recv() => if cmd.is_none() { break },
                m = stream.next() => {
                    let txt = match m {
                        Some(Ok(Message::Text(txt))) => txt,
                        Some(Ok(Message::Close(c))) => {
                            t.problem(&t.unexpected_closes, format!("visitor {index}: closed by server: {c:?}"));
                            return;
                        }
                        Some(Ok(_)) => continue,
                        Some(Err(e)) => {
                            t.problem(&t.unexpected_closes, format!("visitor {index}: socket error: {e}"));
                            return;
                        }
                        None => {
                            t.problem(&t.unexpected_closes, format!("visitor {index}: socket ended"));
                            return;
                        }
                    };
                    match serde_json::from_str::<PresenceFrame>(&txt) {
                        Ok(f) if f.ty == "presence" => match f.agents_online {
                            Some(online) => t.presence(index, online),
                            None => t.problem(&t.error_frames, format!("presence frame without agents_online: {txt}")),
                        },
                        Ok(f) if f.ty == "error" => t.problem(&t.error_frames, format!("visitor {index} got {txt}")),
                        Ok(_) => {}
                        Err(_) => t.problem(&t.error_frames, format!("unparsable frame: {txt}")),
                    }
                }
            }
        }
        let _ = sink.send(Message::Close(None)).await;
    });
    Ok(Handle { tx, task })
}

struct FanTarget {
    name: &'static str,
    dialer: Dialer,
    pid: u32,
    agent_path: String,
    visitor_tokens: Vec<String>,
}

fn pct_of(sorted_ns: &[u64], q: f64) -> f64 {
    if sorted_ns.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted_ns.len() as f64).ceil() as usize).clamp(1, sorted_ns.len());
    sorted_ns[rank - 1] as f64 / 1e6
}

fn pct_ms(sorted_ms: &[f64], q: f64) -> f64 {
    if sorted_ms.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted_ms.len() as f64).ceil() as usize).clamp(1, sorted_ms.len());
    sorted_ms[rank - 1]
}

async fn run_target(
    target: FanTarget,
    plan: &FanPlan,
    settle: Duration,
) -> Result<FanTargetReport> {
    let name = target.name;
    let v = target.visitor_tokens.len();
    let tracker = Arc::new(FanTracker::new(plan.toggles, v));
    let server = Proc::new(target.pid);

    tokio::time::sleep(settle).await;
    let rss_before = server.rss_kib();
    let opened = Instant::now();
    let visitors: Vec<Handle<()>> = stream::iter(target.visitor_tokens.iter().enumerate())
        .map(|(i, token)| open_fan_visitor(&target.dialer, token, i, tracker.clone()))
        .buffered(128)
        .try_collect()
        .await
        .with_context(|| format!("{name}: opening visitor sockets"))?;
    let open_seconds = opened.elapsed().as_secs_f64();
    tokio::time::sleep(settle).await;
    let rss_after = server.rss_kib();
    let kib_per_socket = (rss_after as f64 - rss_before as f64) / v.max(1) as f64;
    eprintln!(
        "[{name}] {v} idle visitor sockets open in {open_seconds:.1} s; server RSS {rss_before} → {rss_after} KiB ({kib_per_socket:.1} KiB per socket)"
    );

    let me = Proc::me();
    let (cpu0, gen0, machine0, wall0) = (
        server.cpu_seconds(),
        me.cpu_seconds(),
        stats::machine_busy_seconds(),
        Instant::now(),
    );
    let timeout = Duration::from_millis(plan.timeout_ms);
    let mut agent: Option<Ws> = None;
    let mut toggles = Vec::new();
    let mut all = stats::hist();
    for i in 0..plan.toggles {
        let online = i % 2 == 0;
        let mut agent_ready_ms = None;
        let t0;
        if online {
            let mut ws = target
                .dialer
                .connect(&target.agent_path, None)
                .await
                .with_context(|| format!("{name}: agent socket"))?;
            tracker.begin(i, true);
            t0 = tracker.now();
            clients::hello(&mut ws, None)
                .await
                .with_context(|| format!("{name}: agent hello"))?;
            agent_ready_ms = Some((tracker.now() - t0) as f64 / 1e6);
            agent = Some(ws);
        } else {
            let mut ws = agent.take().context("no agent socket to close")?;
            tracker.begin(i, false);
            t0 = tracker.now();
            ws.send(Message::Close(None))
                .await
                .with_context(|| format!("{name}: agent close"))?;
            // Let the closing handshake finish in the background.
            tokio::spawn(async move { while let Some(Ok(_)) = ws.next().await {} });
        }
        let started = Instant::now();
        while tracker.count(i) < v as u64 && started.elapsed() < timeout {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(Duration::from_millis(plan.quiet_ms)).await;
        tracker.end();
        let mut lat = tracker.latencies(i, t0);
        lat.sort_unstable();
        for &ns in &lat {
            stats::record(&mut all, ns);
        }
        let delivered = lat.len() as u64;
        let t = Toggle {
            online,
            delivered,
            missing: v as u64 - delivered,
            first_ms: pct_of(&lat, 0.0),
            p50_ms: pct_of(&lat, 0.5),
            p99_ms: pct_of(&lat, 0.99),
            last_ms: pct_of(&lat, 1.0),
            agent_ready_ms,
        };
        eprintln!(
            "[{name}] toggle {:>2} {:<7} delivered {}/{v}, first {:.1} p50 {:.1} p99 {:.1} last {:.1} ms{}",
            i,
            if online { "online" } else { "offline" },
            t.delivered,
            t.first_ms,
            t.p50_ms,
            t.p99_ms,
            t.last_ms,
            t.agent_ready_ms
                .map(|r| format!(", agent ready after {r:.1} ms"))
                .unwrap_or_default()
        );
        toggles.push(t);
    }
    if let Some(mut ws) = agent.take() {
        let _ = ws.send(Message::Close(None)).await;
    }
    let wall = wall0.elapsed().as_secs_f64();
    let (server_cpu, gen_cpu) = (server.cpu_seconds() - cpu0, me.cpu_seconds() - gen0);
    let others = (stats::machine_busy_seconds() - machine0 - server_cpu - gen_cpu).max(0.0);
    // Frames that arrive after the last toggle ended count as stray; give them a moment.
    tokio::time::sleep(Duration::from_millis(plan.quiet_ms)).await;
    clients::close_all(visitors).await;

    let mut lasts: Vec<f64> = toggles
        .iter()
        .map(|t| {
            if t.missing > 0 {
                f64::INFINITY
            } else {
                t.last_ms
            }
        })
        .collect();
    lasts.sort_by(|a, b| a.total_cmp(b));
    let missing = toggles.iter().map(|t| t.missing).sum();
    let problem_samples = tracker.samples.lock().unwrap().clone();
    Ok(FanTargetReport {
        name,
        sockets: v,
        open_seconds,
        rss_before_kib: rss_before,
        rss_after_kib: rss_after,
        kib_per_socket,
        all_deliveries: Latency::of(&all),
        last_p50_ms: pct_ms(&lasts, 0.5),
        last_p99_ms: pct_ms(&lasts, 0.99),
        last_max_ms: pct_ms(&lasts, 1.0),
        expected: (v * plan.toggles) as u64,
        missing,
        toggles,
        problems: tracker.problems(),
        problem_samples,
        server_cpu_pct: server_cpu / wall * 100.0,
        generator_cpu_pct: gen_cpu / wall * 100.0,
        others_cpu_pct: others / wall * 100.0,
    })
}

fn failures(r: &FanTargetReport) -> Vec<String> {
    let mut out = Vec::new();
    if r.missing > 0 {
        out.push(format!(
            "{}: {} of {} presence frames never arrived",
            r.name, r.missing, r.expected
        ));
    }
    if r.problems.total() > 0 {
        out.push(format!("{}: {:?}", r.name, r.problems));
    }
    out
}

pub async fn main(a: FanoutArgs) -> Result<bool> {
    if a.visitors == 0 || a.cycles == 0 {
        bail!("need at least one visitor and one cycle");
    }
    let nofile = crate::net::raise_nofile();
    let needed = (a.visitors + 100) as u64;
    if needed > nofile {
        bail!("{} sockets need about {needed} file descriptors but this process may open {nofile}; lower --visitors", a.visitors);
    }
    let plan = FanPlan {
        visitors: a.visitors,
        cycles: a.cycles,
        toggles: 2 * a.cycles,
        timeout_ms: a.timeout_ms,
        quiet_ms: a.quiet_ms,
        target_ms: a.target_ms,
    };
    let settle = Duration::from_millis(a.settle_ms);
    let base = a.url.trim_end_matches('/').to_owned();
    let addr = tokio::net::lookup_host(base.trim_start_matches("http://"))
        .await?
        .next()
        .context("server address")?;

    eprintln!(
        "[parley] fan-out setup: admin login, channel, 1 agent, {} visitor sessions",
        a.visitors
    );
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let admin = crate::setup::Session::login(&base, &a.admin_email, &a.admin_password).await?;
    let widget_key = crate::setup::create_channel(&admin, &format!("Fan-out {tag}")).await?;
    let agent = crate::setup::create_agents(&admin, &base, 1, &tag).await?;
    let visitor_tokens = crate::setup::visitor_sessions(&base, &widget_key, a.visitors).await?;
    let parley = run_target(
        FanTarget {
            name: "parley",
            dialer: Dialer::new(addr, a.source_ips),
            pid: a.server_pid,
            agent_path: format!("/ws/agent?token={}", agent[0]),
            visitor_tokens,
        },
        &plan,
        settle,
    )
    .await?;

    let baseline = if a.no_baseline {
        None
    } else {
        let (mut child, relay_addr) = crate::spawn_relay(true, 4)?;
        let pid = child.id();
        let r = run_target(
            FanTarget {
                name: "baseline",
                dialer: Dialer::new(relay_addr, a.source_ips),
                pid,
                agent_path: "/ws/agent?token=agent-0".into(),
                visitor_tokens: (0..a.visitors).map(|i| format!("fv-{i}")).collect(),
            },
            &plan,
            settle,
        )
        .await;
        let _ = child.kill();
        let _ = child.wait();
        Some(r?)
    };

    let mut fails = failures(&parley);
    if let Some(b) = &baseline {
        fails.extend(failures(b));
    }
    let report = FanReport {
        kind: "fanout",
        unix_time: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        machine: crate::report::Machine::probe(nofile),
        last_p99_ratio: baseline
            .as_ref()
            .map(|b| parley.last_p99_ms / b.last_p99_ms),
        target_met: parley.missing == 0 && parley.last_p99_ms <= plan.target_ms,
        plan,
        parley,
        baseline,
        failures: fails,
    };
    print(&report);
    crate::report::write_json(&report, a.out.as_deref())?;
    Ok(crate::report::all_passed(&report.failures))
}

fn print(r: &FanReport) {
    let m = &r.machine;
    println!();
    println!("{}", m.line());
    println!(
        "fan-out: {} idle visitor sockets in one workspace, {} toggles of the only agent (online/offline)",
        r.plan.visitors, r.plan.toggles
    );
    println!();
    println!(
        "per toggle (ms from the trigger)      delivered  missing   first     p50     p99    last"
    );
    for t in std::iter::once(&r.parley).chain(r.baseline.iter()) {
        for (i, g) in t.toggles.iter().enumerate() {
            println!(
                "  {:<9} {:>2} {:<8}            {:>9} {:>8} {:>7.1} {:>7.1} {:>7.1} {:>7.1}",
                t.name,
                i,
                if g.online { "online" } else { "offline" },
                g.delivered,
                g.missing,
                g.first_ms,
                g.p50_ms,
                g.p99_ms,
                g.last_ms
            );
        }
    }
    println!();
    println!("summary            sockets  KiB/socket  deliveries p50    p99    max | last delivered p50    p99    max (ms) | missing problems  CPU% gen% other");
    for t in std::iter::once(&r.parley).chain(r.baseline.iter()) {
        let d = &t.all_deliveries;
        println!(
            "  {:<14} {:>9} {:>11.1}  {:>14.1} {:>6.1} {:>6.1} | {:>18.1} {:>6.1} {:>6.1}      | {:>7} {:>8}  {:>4.0} {:>4.0} {:>5.0}",
            t.name,
            t.sockets,
            t.kib_per_socket,
            d.p50_ms,
            d.p99_ms,
            d.max_ms,
            t.last_p50_ms,
            t.last_p99_ms,
            t.last_max_ms,
            t.missing,
            t.problems.total(),
            t.server_cpu_pct,
            t.generator_cpu_pct,
            t.others_cpu_pct
        );
        for s in &t.problem_samples {
            println!("    e.g. {s}");
        }
    }
    if let Some(x) = r.last_p99_ratio {
        println!("parley / baseline, last delivered p99: {x:.2}×");
    }
    println!(
        "target: last delivered p99 ≤ {} ms for {} subscribers: {} (measured {:.1} ms)",
        r.plan.target_ms,
        r.plan.visitors,
        if r.target_met { "met" } else { "NOT met" },
        r.parley.last_p99_ms
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_visitor_once_per_toggle() {
        let t = FanTracker::new(2, 3);
        t.presence(0, true);
        assert_eq!(t.problems().stray, 1, "no toggle in progress");
        t.begin(0, true);
        t.presence(0, true);
        t.presence(1, true);
        t.presence(1, true);
        t.presence(2, false);
        t.end();
        assert_eq!(t.count(0), 2);
        let p = t.problems();
        assert_eq!((p.duplicates, p.wrong_value), (1, 1));
        t.begin(1, false);
        t.presence(2, false);
        assert_eq!(t.count(1), 1);
        assert_eq!(t.latencies(1, 0).len(), 1);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).map(|i| i * 1_000_000).collect();
        assert_eq!(pct_of(&v, 0.0), 1.0);
        assert_eq!(pct_of(&v, 0.5), 50.0);
        assert_eq!(pct_of(&v, 0.99), 99.0);
        assert_eq!(pct_of(&v, 1.0), 100.0);
        assert!(pct_of(&[], 0.5).is_nan());
    }
}
