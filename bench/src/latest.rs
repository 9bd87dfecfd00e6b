//! `parley-bench latest`: rewrites the generated block of docs/benchmarks.md (between
//! `<!-- bench:latest:begin -->` and `<!-- bench:latest:end -->`) from the JSON results of one
//! `bench/run.sh all`: a table of measure, target, measured value and whether the target was met.
//! A scenario without results is written as "not run", never as a number.

use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub const BEGIN: &str = "<!-- bench:latest:begin -->";
pub const END: &str = "<!-- bench:latest:end -->";

#[derive(Args)]
pub struct LatestArgs {
    /// The Markdown file whose generated block is rewritten.
    #[arg(long, default_value = "docs/benchmarks.md")]
    doc: PathBuf,
    /// JSON of the standard run (`parley-bench run --out`).
    #[arg(long)]
    standard: Option<PathBuf>,
    #[arg(long)]
    fanout: Option<PathBuf>,
    #[arg(long)]
    startup: Option<PathBuf>,
    #[arg(long)]
    cluster: Option<PathBuf>,
    /// Why the cluster scenario did not run (written instead of numbers).
    #[arg(long)]
    cluster_skipped: Option<String>,
    /// The commit measured (`git rev-parse --short HEAD`), with a note if the tree was dirty.
    #[arg(long, default_value = "unknown")]
    commit: String,
    /// The command that produced the results.
    #[arg(long, default_value = "bench/run.sh all")]
    command: String,
    /// When the results were measured (default: now), e.g. "2026-12-04 20:21 UTC".
    #[arg(long)]
    date: Option<String>,
    /// The rate whose latency is checked against the target (p50 ≤ 2 / p99 ≤ 20 ms); without
    /// a run at it, the latency of the highest sustained rate is reported, unchecked.
    #[arg(long, default_value_t = 5000.0)]
    latency_rate: f64,
}

fn load(p: &Option<PathBuf>) -> Result<Option<Value>> {
    match p {
        Some(p) if p.exists() => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Ok(Some(
                serde_json::from_str(&text).with_context(|| format!("parsing {}", p.display()))?,
            ))
        }
        _ => Ok(None),
    }
}

fn f(v: &Value, ptr: &str) -> Option<f64> {
    v.pointer(ptr)
        .and_then(Value::as_f64)
        .filter(|x| x.is_finite())
}

/// 12345.6 → "12,346".
fn thousands(x: f64) -> String {
    let s = format!("{:.0}", x);
    let (sign, digits) = s.strip_prefix('-').map(|d| ("-", d)).unwrap_or(("", &s));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

fn yes_no(met: bool) -> &'static str {
    if met {
        "yes"
    } else {
        "**no**"
    }
}

struct Row {
    measure: String,
    target: String,
    measured: String,
    met: String,
}

fn row(measure: &str, target: &str, measured: String, met: &str) -> Row {
    Row {
        measure: measure.into(),
        target: target.into(),
        measured,
        met: met.into(),
    }
}

fn not_run(measure: &str, target: &str, why: &str) -> Row {
    row(measure, target, format!("not run ({why})"), "—")
}

fn rows(
    standard: Option<&Value>,
    fanout: Option<&Value>,
    startup: Option<&Value>,
    cluster: Option<&Value>,
    cluster_skipped: Option<&str>,
    latency_rate: f64,
) -> Vec<Row> {
    let mut out = Vec::new();
    // Idle sockets: the standard run and the fan-out run each hold their visitors on one server.
    let mut held: Vec<(f64, f64, &str)> = Vec::new();
    if let Some(s) = standard {
        if let (Some(n), Some(k)) = (
            f(s, "/parley/idle/sockets"),
            f(s, "/parley/idle/kib_per_socket"),
        ) {
            held.push((n, k, "standard run"));
        }
    }
    if let Some(fo) = fanout {
        if let (Some(n), Some(k)) = (f(fo, "/parley/sockets"), f(fo, "/parley/kib_per_socket")) {
            held.push((n, k, "fan-out run"));
        }
    }
    held.sort_by(|a, b| b.0.total_cmp(&a.0));
    match held.first() {
        Some(&(n, _, _)) => out.push(row(
            "idle visitor sockets held by one server",
            "—",
            held.iter()
                .map(|(n, _, w)| format!("{} ({w})", thousands(*n)))
                .collect::<Vec<_>>()
                .join(", "),
            if n > 0.0 { "—" } else { "**no**" },
        )),
        None => out.push(not_run(
            "idle visitor sockets held by one server",
            "—",
            "no standard or fan-out run",
        )),
    }
    match held.first() {
        Some(&(n, k, w)) => out.push(row(
            "memory per idle visitor socket",
            "≤ 12 KiB",
            format!("{k:.1} KiB (at {} sockets, {w})", thousands(n)),
            yes_no(k <= 12.0),
        )),
        None => out.push(not_run(
            "memory per idle visitor socket",
            "≤ 12 KiB",
            "no standard or fan-out run",
        )),
    }

    // Throughput and latency from the standard run.
    match standard
        .and_then(|s| s.pointer("/parley/runs"))
        .and_then(Value::as_array)
    {
        Some(runs) => {
            let best = runs
                .iter()
                .filter(|r| r["sustained"].as_bool() == Some(true))
                .max_by(|a, b| {
                    a["target_rate"]
                        .as_f64()
                        .unwrap_or(0.0)
                        .total_cmp(&b["target_rate"].as_f64().unwrap_or(0.0))
                });
            let highest = runs
                .iter()
                .map(|r| r["target_rate"].as_f64().unwrap_or(0.0))
                .fold(0.0, f64::max);
            let measured = match best {
                Some(r) => format!(
                    "{}/s delivered ({}/s stored) at {} msg/s, the highest rate sustained (rates up to {} tried)",
                    thousands(f(r, "/delivery/delivered_per_s").unwrap_or(0.0)),
                    thousands(f(r, "/delivery/stored_per_s").unwrap_or(0.0)),
                    thousands(f(r, "/target_rate").unwrap_or(0.0)),
                    thousands(highest)
                ),
                None => format!("no rate sustained (rates up to {} tried)", thousands(highest)),
            };
            let met = best
                .and_then(|r| f(r, "/delivery/delivered_per_s"))
                .map(|d| d >= 10_000.0)
                .unwrap_or(false);
            out.push(row(
                "chat messages stored and delivered per second (SQLite)",
                "≥ 10,000/s",
                measured,
                yes_no(met),
            ));
            let at_rate = runs
                .iter()
                .find(|r| r["target_rate"].as_f64() == Some(latency_rate));
            match at_rate.or(best) {
                Some(r) => {
                    let (p50, p99) = (
                        f(r, "/delivery/visitor_to_agent/p50_ms").unwrap_or(f64::NAN),
                        f(r, "/delivery/visitor_to_agent/p99_ms").unwrap_or(f64::NAN),
                    );
                    let met = match at_rate {
                        Some(r) => yes_no(
                            r["sustained"].as_bool() == Some(true) && p50 <= 2.0 && p99 <= 20.0,
                        ),
                        None => "—",
                    };
                    out.push(row(
                        "visitor → agent latency p50 / p99",
                        &format!("p50 ≤ 2 / p99 ≤ 20 ms at {} msg/s", thousands(latency_rate)),
                        format!(
                            "{p50:.1} / {p99:.1} ms at {} msg/s",
                            thousands(f(r, "/target_rate").unwrap_or(0.0))
                        ),
                        met,
                    ))
                }
                None => out.push(not_run(
                    "visitor → agent latency p50 / p99",
                    "p50 ≤ 2 / p99 ≤ 20 ms",
                    "no chat run",
                )),
            }
        }
        None => {
            out.push(not_run(
                "chat messages stored and delivered per second (SQLite)",
                "≥ 10,000/s",
                "no standard run",
            ));
            out.push(not_run(
                "visitor → agent latency p50 / p99",
                "p50 ≤ 2 / p99 ≤ 20 ms",
                "no standard run",
            ));
        }
    }

    // Fan-out.
    match fanout {
        Some(fo) => {
            let n = f(fo, "/plan/visitors").unwrap_or(0.0);
            let last = f(fo, "/parley/last_p99_ms");
            let missing = f(fo, "/parley/missing").unwrap_or(0.0);
            let problems = fo
                .pointer("/failures")
                .and_then(Value::as_array)
                .map(|v| v.len())
                .unwrap_or(0);
            let ratio = f(fo, "/last_p99_ratio")
                .map(|r| {
                    format!(
                        "; relay {:.1} ms, ratio {r:.1}×",
                        f(fo, "/baseline/last_p99_ms").unwrap_or(f64::NAN)
                    )
                })
                .unwrap_or_default();
            let measured = match last {
                Some(l) => format!(
                    "last delivered p99 {l:.1} ms over {} toggles, {} subscribers (all deliveries p50 {:.1} / p99 {:.1} ms){ratio}; {} missing, {problems} check failures",
                    f(fo, "/plan/toggles").unwrap_or(0.0),
                    thousands(n),
                    f(fo, "/parley/all_deliveries/p50_ms").unwrap_or(f64::NAN),
                    f(fo, "/parley/all_deliveries/p99_ms").unwrap_or(f64::NAN),
                    missing
                ),
                None => format!("frames missing ({missing} of the expected never arrived)"),
            };
            let met = last.map(|l| l <= 150.0).unwrap_or(false) && n >= 10_000.0 && problems == 0;
            let verdict = if n < 10_000.0 {
                "— (fewer subscribers than the target's)"
            } else {
                yes_no(met)
            };
            out.push(row(
                "one event to 10,000 subscribers, last delivered p99",
                "≤ 150 ms",
                measured,
                verdict,
            ));
        }
        None => out.push(not_run(
            "one event to 10,000 subscribers, last delivered p99",
            "≤ 150 ms",
            "no fan-out run",
        )),
    }

    // Node kill.
    match cluster {
        Some(c) => {
            let disc = f(c, "/storm/disconnected").unwrap_or(0.0);
            let back = f(c, "/storm/back").unwrap_or(0.0);
            let secs = f(c, "/storm/all_back_s").unwrap_or(f64::NAN);
            let visitors = f(c, "/plan/visitors").unwrap_or(0.0);
            let measured = format!(
                "{secs:.2} s for {} disconnected sockets ({} back; {} visitors on {} nodes; {} reconnects/s)",
                thousands(disc),
                thousands(back),
                thousands(visitors),
                f(c, "/plan/nodes").unwrap_or(0.0),
                thousands(f(c, "/storm/reconnects_per_s").unwrap_or(0.0))
            );
            let ok = back == disc && disc > 0.0 && secs <= 10.0;
            // The target counts the sockets that reconnect.
            let verdict = if disc < 15_000.0 {
                if ok {
                    "at this size only (target is for 15,000)"
                } else {
                    "**no**"
                }
            } else {
                yes_no(ok)
            };
            out.push(row(
                "reconnect storm after a node kill: all clients ready again",
                "≤ 10 s for 15,000 sockets",
                measured,
                verdict,
            ));
            let lost = f(c, "/delivery/lost").unwrap_or(0.0)
                + f(c, "/delivery/replies_lost").unwrap_or(0.0)
                + f(c, "/delivery/unacked").unwrap_or(0.0);
            let dup = f(c, "/delivery/duplicates").unwrap_or(0.0)
                + f(c, "/delivery/duplicate_acks").unwrap_or(0.0);
            let errs = c
                .pointer("/failures")
                .and_then(Value::as_array)
                .map(|v| v.len())
                .unwrap_or(0);
            out.push(row(
                "node kill: messages lost / duplicated",
                "0 / 0",
                format!(
                    "{lost} / {dup} of {} messages and {} agent replies (lost: {} messages, {} replies, {} never acked; {} error frames; {errs} check failures)",
                    thousands(f(c, "/delivery/sent").unwrap_or(0.0)),
                    thousands(f(c, "/delivery/replies_sent").unwrap_or(0.0)),
                    f(c, "/delivery/lost").unwrap_or(0.0),
                    f(c, "/delivery/replies_lost").unwrap_or(0.0),
                    f(c, "/delivery/unacked").unwrap_or(0.0),
                    f(c, "/problems/error_frames").unwrap_or(0.0)
                ),
                yes_no(lost == 0.0 && dup == 0.0 && errs == 0),
            ));
        }
        None => {
            let why = cluster_skipped.unwrap_or("no cluster run");
            out.push(not_run(
                "reconnect storm after a node kill: all clients ready again",
                "≤ 10 s for 15,000 sockets",
                why,
            ));
            out.push(not_run(
                "node kill: messages lost / duplicated",
                "0 / 0",
                why,
            ));
        }
    }

    // Start-up.
    match startup {
        Some(s) => {
            let empty = f(s, "/empty/rss_idle_max_kib").unwrap_or(f64::NAN) / 1024.0;
            let big = f(s, "/big/rss_idle_max_kib").unwrap_or(f64::NAN) / 1024.0;
            out.push(row(
                "idle server RSS (SQLite, no connections)",
                "≤ 30 MiB",
                format!("{empty:.1} MiB (empty database), {big:.1} MiB (1M messages)"),
                yes_no(empty.max(big) <= 30.0),
            ));
            let med = f(s, "/big/ready_median_ms").unwrap_or(f64::NAN);
            let verified = s
                .pointer("/big/verified")
                .map(|v| !v.is_null())
                .unwrap_or(false);
            out.push(row(
                "ready after spawn, 1M-message database",
                "≤ 200 ms",
                format!(
                    "{med:.0} ms median, {:.0} ms max of {} restarts ({} messages; empty database {:.0} ms){}",
                    f(s, "/big/ready_max_ms").unwrap_or(f64::NAN),
                    s.pointer("/big/restarts").and_then(Value::as_array).map(|v| v.len()).unwrap_or(0),
                    thousands(f(s, "/big/messages").unwrap_or(0.0)),
                    f(s, "/empty/ready_median_ms").unwrap_or(f64::NAN),
                    if verified { "" } else { "; data check FAILED" }
                ),
                yes_no(med <= 200.0 && verified),
            ));
        }
        None => {
            out.push(not_run(
                "idle server RSS (SQLite, no connections)",
                "≤ 30 MiB",
                "no start-up run",
            ));
            out.push(not_run(
                "ready after spawn, 1M-message database",
                "≤ 200 ms",
                "no start-up run",
            ));
        }
    }
    out
}

fn machine(vals: &[Option<&Value>]) -> String {
    for v in vals.iter().flatten() {
        if let Some(m) = v.get("machine") {
            return format!(
                "{} CPUs ({}), {} MiB RAM, Linux {}",
                m["cpus"].as_u64().unwrap_or(0),
                m["cpu_model"].as_str().unwrap_or("?"),
                m["memory_kib"].as_u64().unwrap_or(0) / 1024,
                m["kernel"].as_str().unwrap_or("?")
            );
        }
    }
    "unknown".into()
}

fn block(a: &LatestArgs) -> Result<String> {
    let (standard, fanout, startup, cluster) = (
        load(&a.standard)?,
        load(&a.fanout)?,
        load(&a.startup)?,
        load(&a.cluster)?,
    );
    let rows = rows(
        standard.as_ref(),
        fanout.as_ref(),
        startup.as_ref(),
        cluster.as_ref(),
        a.cluster_skipped.as_deref(),
        a.latency_rate,
    );
    let date = a
        .date
        .clone()
        .or_else(|| {
            std::process::Command::new("date")
                .args(["-u", "+%Y-%m-%d %H:%M UTC"])
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        })
        .unwrap_or_default();
    let mut s = String::new();
    s.push_str(BEGIN);
    s.push('\n');
    s.push_str("<!-- Generated by `bench/run.sh all` (parley-bench latest); edits here are overwritten. -->\n\n");
    s.push_str(&format!(
        "Latest `bench/run.sh all`: {date}, commit `{}`, machine: {}. Command: `{}`.\n\n",
        a.commit,
        machine(&[
            standard.as_ref(),
            fanout.as_ref(),
            startup.as_ref(),
            cluster.as_ref()
        ]),
        a.command
    ));
    s.push_str("| measure | target | measured | met? |\n| --- | --- | --- | --- |\n");
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.measure, r.target, r.measured, r.met
        ));
    }
    s.push('\n');
    s.push_str(END);
    Ok(s)
}

/// Replaces the text between the markers (inclusive) in `doc`.
fn replace_block(doc: &str, block: &str) -> Result<String> {
    let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END)) else {
        bail!("the markers {BEGIN} and {END} are missing");
    };
    if e < b {
        bail!("{END} comes before {BEGIN}");
    }
    Ok(format!("{}{}{}", &doc[..b], block, &doc[e + END.len()..]))
}

pub fn main(a: LatestArgs) -> Result<()> {
    let block = block(&a)?;
    let doc =
        std::fs::read_to_string(&a.doc).with_context(|| format!("reading {}", a.doc.display()))?;
    let new = replace_block(&doc, &block)?;
    write(&a.doc, &new)?;
    println!("{block}");
    eprintln!("updated the generated block in {}", a.doc.display());
    Ok(())
}

fn write(p: &Path, s: &str) -> Result<()> {
    std::fs::write(p, s).with_context(|| format!("writing {}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn replaces_only_the_block() {
        let doc = format!("# A\n\ntext\n\n{BEGIN}\nold\n{END}\n\nafter\n");
        let new = replace_block(&doc, &format!("{BEGIN}\nnew\n{END}")).unwrap();
        assert_eq!(
            new,
            format!("# A\n\ntext\n\n{BEGIN}\nnew\n{END}\n\nafter\n")
        );
        assert!(replace_block("no markers", "x").is_err());
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1234567.0), "1,234,567");
    }

    #[test]
    fn missing_scenarios_say_not_run() {
        let rows = rows(None, None, None, None, Some("no PostgreSQL"), 500.0);
        assert_eq!(rows.len(), 9);
        assert!(rows.iter().all(|r| r.measured.starts_with("not run")));
        assert!(rows.iter().any(|r| r.measured.contains("no PostgreSQL")));
    }

    #[test]
    fn standard_run_best_sustained_rate() {
        let std = json!({"parley": {"idle": {"sockets": 2000, "kib_per_socket": 47.0}, "runs": [
            {"target_rate": 500.0, "sustained": true, "delivery": {"delivered_per_s": 498.0, "stored_per_s": 500.0, "visitor_to_agent": {"p50_ms": 1.6, "p99_ms": 55.5}}},
            {"target_rate": 750.0, "sustained": false, "delivery": {"delivered_per_s": 701.0, "stored_per_s": 740.0, "visitor_to_agent": {"p50_ms": 9.0, "p99_ms": 4000.0}}}
        ]}});
        let rows = rows(Some(&std), None, None, None, None, 500.0);
        assert!(rows[1].measured.starts_with("47.0 KiB"));
        assert_eq!(rows[1].met, "**no**");
        assert!(rows[2]
            .measured
            .starts_with("498/s delivered (500/s stored) at 500 msg/s"));
        assert_eq!(rows[3].measured, "1.6 / 55.5 ms at 500 msg/s");
        assert_eq!(rows[3].met, "**no**", "p99 over 20 ms");
        // Without a run at the latency's rate, the best sustained rate's, unchecked.
        let rows = super::rows(Some(&std), None, None, None, None, 5000.0);
        assert_eq!(rows[3].measured, "1.6 / 55.5 ms at 500 msg/s");
        assert_eq!(rows[3].met, "—");
    }

    #[test]
    fn latency_target_met_at_its_rate() {
        let std = json!({"parley": {"idle": {"sockets": 2000, "kib_per_socket": 11.0}, "runs": [
            {"target_rate": 5000.0, "sustained": true, "delivery": {"delivered_per_s": 4999.0, "stored_per_s": 5000.0, "visitor_to_agent": {"p50_ms": 1.0, "p99_ms": 11.8}}}
        ]}});
        let rows = rows(Some(&std), None, None, None, None, 5000.0);
        assert_eq!(rows[3].measured, "1.0 / 11.8 ms at 5,000 msg/s");
        assert_eq!(rows[3].met, "yes");
    }
}
