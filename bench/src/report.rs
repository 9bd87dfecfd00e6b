//! The results: a table on stdout, the full JSON, Parley-to-baseline ratios and the checks.

use crate::scenario::{Plan, RunReport, TargetReport};
use serde::Serialize;

#[derive(Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub kernel: String,
    pub memory_kib: u64,
    pub nofile_limit: u64,
}

impl Machine {
    /// How every report starts: what the numbers were measured on.
    pub fn line(&self) -> String {
        format!(
            "machine: {} CPUs ({}), {} MiB, kernel {}",
            self.cpus,
            self.cpu_model,
            self.memory_kib / 1024,
            self.kernel
        )
    }

    pub fn probe(nofile_limit: u64) -> Machine {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let cpuinfo = read("/proc/cpuinfo");
        Machine {
            cpus: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            cpu_model: cpuinfo
                .lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default(),
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            memory_kib: read("/proc/meminfo")
                .lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
                .unwrap_or(0),
            nofile_limit,
        }
    }
}

/// Parley divided by the baseline at one rate (throughput: higher is better for Parley when
/// near 1; latency: 1 means as fast as the bare relay).
#[derive(Serialize)]
pub struct Ratio {
    pub target_rate: f64,
    pub throughput: f64,
    pub p50: f64,
    pub p99: f64,
}

#[derive(Serialize)]
pub struct Report {
    pub unix_time: u64,
    pub machine: Machine,
    pub plan: Plan,
    pub parley: TargetReport,
    pub baseline: Option<TargetReport>,
    pub ratios: Vec<Ratio>,
    pub idle_memory_ratio: Option<f64>,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

impl Report {
    pub fn new(
        plan: Plan,
        nofile: u64,
        parley: TargetReport,
        baseline: Option<TargetReport>,
    ) -> Report {
        let ratios = baseline
            .iter()
            .flat_map(|b| {
                parley.runs.iter().filter_map(|p| {
                    let r = b.runs.iter().find(|r| r.target_rate == p.target_rate)?;
                    let (pd, bd) = (&p.delivery, &r.delivery);
                    Some(Ratio {
                        target_rate: p.target_rate,
                        throughput: ratio(pd.delivered_per_s, bd.delivered_per_s),
                        p50: ratio(pd.visitor_to_agent.p50_ms, bd.visitor_to_agent.p50_ms),
                        p99: ratio(pd.visitor_to_agent.p99_ms, bd.visitor_to_agent.p99_ms),
                    })
                })
            })
            .collect();
        let idle_memory_ratio = baseline
            .as_ref()
            .map(|b| ratio(parley.idle.kib_per_socket, b.idle.kib_per_socket));
        Report {
            unix_time: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            machine: Machine::probe(nofile),
            plan,
            parley,
            baseline,
            ratios,
            idle_memory_ratio,
        }
    }

    pub fn print(&self) {
        let m = &self.machine;
        println!();
        println!("{}, RLIMIT_NOFILE {}", m.line(), m.nofile_limit);
        let p = &self.plan;
        println!(
            "plan: {} visitors ({} chatting), {} agents, {} s per rate, reply to 1 in {}, {} B bodies",
            p.visitors, p.chatters, p.agents, p.duration_s, p.reply_every, p.body_bytes
        );
        println!();
        println!("idle sockets        sockets   RSS before → after (KiB)   KiB/socket");
        for t in std::iter::once(&self.parley).chain(self.baseline.iter()) {
            let i = &t.idle;
            println!(
                "  {:<16}  {:>7}   {:>10} → {:<10}     {:>8.1}",
                t.name, i.sockets, i.rss_before_kib, i.rss_after_kib, i.kib_per_socket
            );
        }
        println!();
        println!("chat                rate   delivered/s  stored/s   v→a p50    p90    p99    max  |  ack p50   p99  |  a→v p50   p99 (ms)  lost dup  CPU% gen% other  ok");
        for t in std::iter::once(&self.parley).chain(self.baseline.iter()) {
            for r in &t.runs {
                print_run(t.name, r);
            }
        }
        if !self.ratios.is_empty() {
            println!();
            println!("parley / baseline   rate   throughput   p50 latency   p99 latency");
            for r in &self.ratios {
                println!(
                    "                   {:>5.0}   {:>10.2}   {:>11.1}   {:>11.1}",
                    r.target_rate, r.throughput, r.p50, r.p99
                );
            }
            if let Some(m) = self.idle_memory_ratio {
                println!("idle memory per socket: {m:.2} × baseline");
            }
        }
        for t in std::iter::once(&self.parley).chain(self.baseline.iter()) {
            let pr = &t.problems;
            println!(
                "{}: error frames {}, unexpected closes {}, seq anomalies {}, resyncs {}, inbox fallbacks {}",
                t.name, pr.error_frames, pr.unexpected_closes, pr.seq_anomalies, pr.resyncs, pr.inbox_fallbacks
            );
            for s in &t.problem_samples {
                println!("  e.g. {s}");
            }
        }
    }

    /// What the smoke test refuses: any error, loss, duplicate or run that did not drain.
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        for t in std::iter::once(&self.parley).chain(self.baseline.iter()) {
            if t.problems.failures() > 0 {
                out.push(format!("{}: {:?}", t.name, t.problems));
            }
            for r in &t.runs {
                let d = &r.delivery;
                let tag = format!("{} at {} msg/s", t.name, r.target_rate);
                if !r.drained {
                    out.push(format!("{tag}: not everything was acked and delivered ({} sent, {} acked, {} delivered, {} replies lost)", d.sent, d.acked, d.delivered, d.replies_lost));
                }
                if d.lost > 0 || d.replies_lost > 0 {
                    out.push(format!(
                        "{tag}: {} messages and {} replies acked but not delivered",
                        d.lost, d.replies_lost
                    ));
                }
                if d.duplicates > 0 || d.duplicate_acks > 0 {
                    out.push(format!(
                        "{tag}: {} duplicate deliveries, {} duplicate acks",
                        d.duplicates, d.duplicate_acks
                    ));
                }
                if d.unacked > 0 {
                    out.push(format!("{tag}: {} messages never acked", d.unacked));
                }
            }
        }
        out
    }
}

fn print_run(name: &str, r: &RunReport) {
    let d = &r.delivery;
    let (va, ack, av) = (&d.visitor_to_agent, &d.send_to_ack, &d.agent_to_visitor);
    println!(
        "  {:<14} {:>6.0}   {:>10.0} {:>9.0}  {:>7.1} {:>6.1} {:>6.1} {:>6.1}  |  {:>7.1} {:>5.1}  |  {:>7.1} {:>5.1}        {:>4} {:>3}  {:>4.0} {:>4.0} {:>5.0}  {}",
        name,
        r.target_rate,
        d.delivered_per_s,
        d.stored_per_s,
        va.p50_ms,
        va.p90_ms,
        va.p99_ms,
        va.max_ms,
        ack.p50_ms,
        ack.p99_ms,
        av.p50_ms,
        av.p99_ms,
        d.lost + d.replies_lost,
        d.duplicates,
        r.server_cpu_pct,
        r.generator_cpu_pct,
        r.others_cpu_pct,
        if r.sustained { "yes" } else { "no" }
    );
}

/// Writes a run's full results as JSON to `out`, when given.
pub fn write_json(report: &impl Serialize, out: Option<&std::path::Path>) -> anyhow::Result<()> {
    use anyhow::Context;
    if let Some(path) = out {
        std::fs::write(path, serde_json::to_string_pretty(report)?)
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("results written to {}", path.display());
    }
    Ok(())
}

/// Names each failed check; true when there is none.
pub fn all_passed(failures: &[String]) -> bool {
    for f in failures {
        eprintln!("CHECK FAILED: {f}");
    }
    failures.is_empty()
}
