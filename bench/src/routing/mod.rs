//! `parley-bench routing`: a discrete-event simulation of a contact centre (agents with
//! capacities in groups with different policies, Poisson arrivals, random handling times, agents
//! going offline and coming back) whose every arrival, resolution, reconnection and hand-over is
//! executed by the real `Parley` service over a real store — SQLite in a temporary directory,
//! then PostgreSQL in a fresh database — and, as the in-run baseline, by the pure `choose()` in
//! memory. It reports routing decisions per second, decision latency, the queue, fairness per
//! group, and checks the invariants against the database.
//!
//! Time: the service reads the wall clock itself (`now_millis()`; there is no clock to inject),
//! so the simulation keeps its own clock only for *ordering and waiting*: events run one at a
//! time in simulated order, as fast as the system allows, and the timestamps the service writes
//! are wall-clock ones that preserve that order. Waits are measured in simulated time.

mod memory;
pub(crate) mod pg;
mod service;
mod sim;
mod workload;

use anyhow::{anyhow, bail, Result};
use futures::FutureExt;
use serde::Serialize;
use sim::{Options, RunResult};
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use workload::{Params, Workload};

#[derive(clap::Args)]
pub struct RoutingArgs {
    /// Small and quick (20 agents, 300 conversations, a full check after every step), for CI:
    /// only the invariants matter, not the timings.
    #[arg(long)]
    smoke: bool,
    /// Agents, split evenly over the five groups [default: 500, smoke 20].
    #[arg(long)]
    agents: Option<usize>,
    /// Conversations arriving over the run [default: 20000, smoke 300].
    #[arg(long)]
    conversations: Option<usize>,
    /// Mean handling time of a conversation, simulated seconds.
    #[arg(long, default_value_t = 480.0)]
    handle_secs: f64,
    /// Mean simulated time between an agent's offline periods.
    #[arg(long, default_value_t = 3600.0)]
    offline_every_secs: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Backends to run, in order: sqlite, postgres.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    backends: Vec<String>,
    #[command(flatten)]
    postgres: pg::AdminUrl,
    /// Compare a full snapshot of the store with the simulation every this many steps
    /// [default: 10, smoke 1]. The assignee of every assignment is checked after every step.
    #[arg(long)]
    check_every: Option<u64>,
    /// In-memory baseline runs next to each backend (the median is used).
    #[arg(long, default_value_t = 3)]
    baseline_runs: usize,
    /// Write the full results as JSON here.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Serialize)]
struct BackendReport {
    result: RunResult,
    /// The in-memory baseline measured right before this backend (median of its runs).
    baseline_decisions_per_s: f64,
    /// This backend's decisions/s divided by that baseline.
    ratio_to_baseline: f64,
    setup_s: f64,
    /// The whole machine's busy CPU during the run, % of one core (2 cores = 200 %).
    machine_busy_pct: f64,
    /// The PostgreSQL server's CPU during the simulation (its checks' queries included), % of
    /// one core.
    server_cpu_pct: Option<f64>,
    /// Whether the backend made exactly the baseline's decisions in every step (wall-clock
    /// millisecond ties in round robin or the queue may legitimately break otherwise).
    same_decisions_as_baseline: bool,
    /// Index of the first decision that differs.
    first_divergent_decision: Option<usize>,
    /// That decision in the backend and in the baseline: (step, conversation, agent or -1 =
    /// queued).
    divergence: Option<(sim::TraceEntry, sim::TraceEntry)>,
    /// What a commit costs: fsync probe (SQLite) or server settings (PostgreSQL).
    commit: BTreeMap<String, String>,
    /// PostgreSQL's counters over the simulation, per routing decision; `transactions`
    /// includes `check_reads`.
    server_per_decision: BTreeMap<String, f64>,
}

#[derive(Serialize)]
struct Report {
    unix_time: u64,
    params: Params,
    total_capacity: u32,
    offline_periods: usize,
    groups: Vec<workload::GroupSpec>,
    baseline_runs: Vec<RunResult>,
    backends: Vec<BackendReport>,
}

pub async fn main(a: RoutingArgs) -> Result<bool> {
    let params = Params {
        agents: a.agents.unwrap_or(if a.smoke { 20 } else { 500 }),
        conversations: a
            .conversations
            .unwrap_or(if a.smoke { 300 } else { 20_000 }),
        handle_mean_s: a.handle_secs,
        offline_every_s: a.offline_every_secs,
        seed: a.seed,
    };
    if params.agents < 5 || params.conversations == 0 {
        bail!("need at least 5 agents (one per group) and one conversation");
    }
    for b in &a.backends {
        if !matches!(b.as_str(), "sqlite" | "postgres") {
            bail!("unknown backend {b} (sqlite, postgres)");
        }
    }
    let opt = Options {
        check_every: a.check_every.unwrap_or(if a.smoke { 1 } else { 10 }),
        progress: !a.smoke,
    };
    let w = Workload::generate(params.clone());
    eprintln!(
        "routing: {} agents (capacity {} in all) in {} groups, {} conversations over {:.0} simulated s, {} offline periods, seed {}",
        w.agents.len(),
        w.total_capacity,
        w.groups.len(),
        w.convs.len(),
        w.convs.last().map(|c| c.arrive_ms).unwrap_or(0) as f64 / 1000.0,
        w.offline.len(),
        params.seed
    );

    let mut report = Report {
        unix_time: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        params,
        total_capacity: w.total_capacity,
        offline_periods: w.offline.len(),
        groups: w.groups.clone(),
        baseline_runs: vec![],
        backends: vec![],
    };
    for b in &a.backends {
        let base = baseline(&w, &opt, a.baseline_runs.max(1), &mut report.baseline_runs).await?;
        eprintln!("[{b}] setting up");
        let busy0 = crate::stats::machine_busy_seconds();
        let t0 = Instant::now();
        let run = match b.as_str() {
            "sqlite" => run_sqlite(&w, &opt).await?,
            _ => run_postgres(&w, &opt, &a.postgres.postgres_url).await?,
        };
        let busy = crate::stats::machine_busy_seconds() - busy0;
        let reference = &report.baseline_runs[report.baseline_runs.len() - 1].trace;
        let first_divergent_decision = run
            .result
            .trace
            .iter()
            .zip(reference)
            .position(|(x, y)| x != y)
            .or((run.result.trace.len() != reference.len())
                .then(|| run.result.trace.len().min(reference.len())));
        report.backends.push(BackendReport {
            ratio_to_baseline: run.result.decisions_per_s / base,
            baseline_decisions_per_s: base,
            machine_busy_pct: busy / t0.elapsed().as_secs_f64() * 100.0,
            server_cpu_pct: run
                .server_cpu_s
                .map(|s| s / run.result.run_wall_s.max(1e-9) * 100.0),
            same_decisions_as_baseline: first_divergent_decision.is_none(),
            divergence: first_divergent_decision
                .and_then(|i| Some((*run.result.trace.get(i)?, *reference.get(i)?))),
            first_divergent_decision,
            setup_s: run.setup_s,
            commit: run.commit,
            server_per_decision: run
                .server_counters
                .iter()
                .map(|(k, v)| (k.clone(), v / run.result.decisions.total.max(1) as f64))
                .collect(),
            result: run.result,
        });
    }

    print(&report);
    if let Some(path) = &a.out {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .map_err(|e| anyhow!("writing {}: {e}", path.display()))?;
        eprintln!("results written to {}", path.display());
    }
    let failed: u64 = report
        .backends
        .iter()
        .map(|b| b.result.checks.failures)
        .chain(report.baseline_runs.iter().map(|r| r.checks.failures))
        .sum();
    Ok(failed == 0)
}

/// Runs the in-memory baseline `runs` times; returns the median decisions/s.
async fn baseline(
    w: &Workload,
    opt: &Options,
    runs: usize,
    all: &mut Vec<RunResult>,
) -> Result<f64> {
    let quiet = Options {
        check_every: opt.check_every,
        progress: false,
    };
    let mut rates = Vec::new();
    for _ in 0..runs {
        let mut m = memory::Memory::new(w);
        let (r, _) = sim::run(w, &mut m, &quiet).await?;
        rates.push(r.decisions_per_s);
        all.push(r);
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    eprintln!("[memory] {:.0} decisions/s (median of {runs})", median);
    Ok(median)
}

/// Runs `body`, turning a panic or Ctrl-C into an error so that the caller can clean up.
async fn guarded<T>(body: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::select! {
        r = AssertUnwindSafe(body).catch_unwind() => r.unwrap_or_else(|p| {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(anyhow!("panicked: {msg}"))
        }),
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
    }
}

struct BackendRun {
    result: RunResult,
    setup_s: f64,
    commit: BTreeMap<String, String>,
    server_cpu_s: Option<f64>,
    server_counters: BTreeMap<String, f64>,
}

async fn run_sqlite(w: &Workload, opt: &Options) -> Result<BackendRun> {
    let dir = tempfile::Builder::new()
        .prefix("parley-bench-routing.")
        .tempdir()?;
    let probe = crate::stats::fsync_probe(dir.path(), 200)?;
    let mut commit = BTreeMap::new();
    commit.insert("fdatasync_4k_p50_ms".into(), format!("{:.3}", probe.p50_ms));
    commit.insert("fdatasync_4k_p99_ms".into(), format!("{:.3}", probe.p99_ms));
    commit.insert("synchronous".into(), "FULL (WAL)".into());
    let store =
        Arc::new(parley_store_sqlite::SqliteStore::open_file(&dir.path().join("parley.db")).await?);
    let res = guarded(async {
        let t = Instant::now();
        let mut svc = service::Service::setup("sqlite", store.clone(), dir.path(), w).await?;
        let setup_s = t.elapsed().as_secs_f64();
        eprintln!(
            "[sqlite] set up in {setup_s:.1} s, data in {}",
            dir.path().display()
        );
        let (mut r, end) = sim::run(w, &mut svc, opt).await?;
        sim::verify(&mut svc, &end, &mut r).await?;
        anyhow::Ok((r, setup_s))
    })
    .await;
    store.close().await;
    let (result, setup_s) = res?;
    Ok(BackendRun {
        result,
        setup_s,
        commit,
        server_cpu_s: None,
        server_counters: BTreeMap::new(),
    })
}

async fn run_postgres(w: &Workload, opt: &Options, admin: &str) -> Result<BackendRun> {
    let commit = pg::settings(admin).await?;
    let db = pg::Database::create(admin).await?;
    eprintln!("[postgres] database {}", db.name);
    let res = guarded(async {
        let store = Arc::new(parley_store_postgres::PostgresStore::connect(&db.url).await?);
        let dir = tempfile::Builder::new()
            .prefix("parley-bench-routing.")
            .tempdir()?;
        let r = async {
            let t = Instant::now();
            let mut svc = service::Service::setup("postgres", store.clone(), dir.path(), w).await?;
            let setup_s = t.elapsed().as_secs_f64();
            eprintln!("[postgres] set up in {setup_s:.1} s");
            // Measured while the pool's connections are open.
            let before = pg::activity(admin, &db.name).await?;
            let cpu0 = pg::server_cpu_seconds();
            let (mut r, end) = sim::run(w, &mut svc, opt).await?;
            let cpu = pg::server_cpu_seconds() - cpu0;
            let mut after = pg::activity(admin, &db.name).await?;
            for (k, v) in after.iter_mut() {
                *v -= before.get(k).copied().unwrap_or(0.0);
            }
            // The checks' own reads, one statement (= one transaction) each.
            let check_reads =
                r.checks.snapshots * (2 + w.groups.len() as u64) + r.checks.assignee_checks;
            after.insert("check_reads".into(), check_reads as f64);
            sim::verify(&mut svc, &end, &mut r).await?;
            anyhow::Ok((r, setup_s, cpu, after))
        }
        .await;
        store.close().await;
        r
    })
    .await;
    db.drop_db().await;
    let (result, setup_s, cpu, counters) = res?;
    Ok(BackendRun {
        result,
        setup_s,
        commit,
        server_cpu_s: Some(cpu),
        server_counters: counters,
    })
}

fn print(r: &Report) {
    let p = &r.params;
    println!(
        "\nRouting: {} agents (capacity {}) in {} groups, {} conversations, handling mean {:.0} s, {} offline periods, seed {}",
        p.agents,
        r.total_capacity,
        r.groups.len(),
        p.conversations,
        p.handle_mean_s,
        r.offline_periods,
        p.seed
    );
    println!(
        "\n| backend | decisions | busy s | decisions/s | ratio to in-memory | decision p50 / p99 ms | arrive p50 / p99 ms | resolve p50 / p99 ms | process CPU | server CPU | max queue | queued | mean wait s (of queued) | checks |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | --- | --- | --- | ---: | ---: | ---: | ---: | --- | --- |");
    // The median in-memory run stands for the baseline in the tables.
    let mut sorted: Vec<&RunResult> = r.baseline_runs.iter().collect();
    sorted.sort_by(|a, b| a.decisions_per_s.total_cmp(&b.decisions_per_s));
    let base = sorted.get(sorted.len() / 2).copied();
    let rows = base.map(|b| (b, None, None)).into_iter().chain(
        r.backends
            .iter()
            .map(|b| (&b.result, Some(b.ratio_to_baseline), b.server_cpu_pct)),
    );
    for (x, ratio, server) in rows {
        let op = |k: &str| {
            x.op_latency
                .get(k)
                .map(|l| format!("{:.3} / {:.3}", l.p50_ms, l.p99_ms))
                .unwrap_or_else(|| "-".into())
        };
        let checks = if x.checks.failures == 0 {
            "ok".to_string()
        } else {
            format!("{} FAILED", x.checks.failures)
        };
        println!(
            "| {} | {} | {:.2} | {:.0} | {} | {:.3} / {:.3} | {} | {} | {} | {} | {} | {:.1} % | {:.1} ({:.1}) | {} |",
            x.backend,
            x.decisions.total,
            x.busy_s,
            x.decisions_per_s,
            ratio.map(|v| format!("{v:.5}")).unwrap_or_else(|| "1".into()),
            x.decision_latency.p50_ms,
            x.decision_latency.p99_ms,
            op("arrive"),
            op("resolve"),
            if ratio.is_some() {
                format!("{:.0} %", x.process_cpu_pct)
            } else {
                "-".into()
            },
            server.map(|v| format!("{v:.0} %")).unwrap_or_else(|| "-".into()),
            x.max_queue,
            x.queued_share * 100.0,
            x.mean_wait_s,
            x.mean_wait_of_queued_s,
            checks
        );
    }
    println!(
        "\nFairness: assignments per agent (min / max / mean, CV, CV per capacity slot); load while the group's queue was empty (mean over snapshots of max−min utilisation, CV of utilisation, max−min open chats); the group's conversations that queued, and their mean wait\n"
    );
    println!("| group | backend | assignments min / max / mean | CV | CV per slot | snapshots | utilisation max−min | utilisation CV | chats max−min | queued | mean wait of queued s |");
    println!("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (g, spec) in r.groups.iter().enumerate() {
        for x in base.into_iter().chain(r.backends.iter().map(|b| &b.result)) {
            let f = &x.fairness[g];
            println!(
                "| {} | {} | {} / {} / {:.1} | {:.3} | {:.3} | {} | {:.3} | {:.3} | {:.2} | {:.1} % | {:.1} |",
                spec.label,
                x.backend,
                f.assignments_min,
                f.assignments_max,
                f.assignments_mean,
                f.assignments_cv,
                f.per_slot_cv,
                f.load_samples,
                f.util_spread,
                f.util_cv,
                f.load_spread,
                f.queued_share * 100.0,
                f.mean_wait_of_queued_s
            );
        }
    }
    println!();
    for x in base.into_iter().chain(r.backends.iter().map(|b| &b.result)) {
        let d = &x.decisions;
        println!(
            "{}: {} steps in {:.1} s wall ({:.1} s inside the service), simulated {:.0} s; decisions: {} arrivals assigned, {} queued, {} backfills, {} hand-overs assigned, {} hand-overs queued; max queue per group {:?}; max wait {:.0} s; {} left open; {} early hand-overs; checks: {} snapshots, {} assignee checks, {} failures",
            x.backend,
            x.steps,
            x.run_wall_s,
            x.busy_s,
            x.simulated_s,
            d.arrival_assigned,
            d.arrival_queued,
            d.backfill_assigned,
            d.handover_assigned,
            d.handover_queued,
            x.max_queue_per_group,
            x.max_wait_s,
            x.left_open,
            x.early_handovers,
            x.checks.snapshots,
            x.checks.assignee_checks,
            x.checks.failures
        );
        for f in &x.checks.first_failures {
            println!("  CHECK FAILED: {f}");
        }
    }
    for b in &r.backends {
        println!(
            "{}: {}; setup {:.1} s; machine busy {:.0} % of one core during the run; commit: {}",
            b.result.backend,
            match b.first_divergent_decision {
                None => "made exactly the in-memory baseline's decisions".to_string(),
                Some(i) => format!(
                    "first decision that differs from the in-memory baseline's: #{i} (step, conversation, agent or -1 for queued: {:?})",
                    b.divergence
                ),
            },
            b.setup_s,
            b.machine_busy_pct,
            b.commit
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if !b.server_per_decision.is_empty() {
            println!(
                "{}: per routing decision (the checks' reads included): {}",
                b.result.backend,
                b.server_per_decision
                    .iter()
                    .map(|(k, v)| format!("{k} {v:.1}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
}
