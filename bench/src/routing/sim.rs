//! The discrete-event driver. Simulated time jumps from event to event; each event is executed
//! by an [`Engine`] (the real service over a real store, or the in-memory baseline) as fast as
//! it can, one at a time, so the engine sees exactly the simulated order. Only the engine calls
//! are timed; the checks between them are not.

use super::workload::{Workload, GRACE_MS};
use anyhow::Result;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashSet};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Assigned(usize),
    Queued,
}

/// One routing decision the engine committed: conversation `conv` was assigned or queued.
#[derive(Clone, Debug)]
pub struct Decision {
    pub conv: usize,
    pub outcome: Outcome,
    /// When it was committed (published, for the service).
    pub at: Instant,
}

/// The engine's own view of the state (the database's, for the service).
pub struct Snapshot {
    /// Open conversations per agent.
    pub loads: Vec<u32>,
    /// Queued conversations per group.
    pub queued: Vec<u32>,
    /// Open conversations that are neither assigned nor queued (must be 0 between steps).
    pub unrouted: i64,
}

/// What the driver knows at the end, for the engine's final checks against its store.
pub struct Expect<'a> {
    pub convs: &'a [ConvState],
    pub assignments: &'a [u64],
    pub decisions: u64,
    /// (conversation, agent) pairs that a hand-over may legitimately move away from the agent.
    pub handovers: &'a HashSet<(usize, usize)>,
}

#[allow(async_fn_in_trait)]
pub trait Engine {
    fn name(&self) -> &'static str;
    /// Called before each step (`op` names it), outside the timed region.
    fn before_step(&mut self, _op: &str) {}
    /// Called right after each step's engine call, outside the timed region.
    fn after_step(&mut self) {}
    async fn arrive(&mut self, c: usize, now: i64) -> Result<Vec<Decision>>;
    async fn resolve(&mut self, c: usize, agent: usize, now: i64) -> Result<Vec<Decision>>;
    async fn disconnect(&mut self, agent: usize, now: i64) -> Result<()>;
    async fn reconnect(&mut self, agent: usize, now: i64) -> Result<Vec<Decision>>;
    /// The offline grace of `agent` has passed: hand on their conversations.
    async fn hand_on(&mut self, agent: usize, now: i64) -> Result<Vec<Decision>>;
    /// Open conversations `agent` holds, as the store says.
    async fn load_of(&mut self, agent: usize) -> Result<u32>;
    async fn snapshot(&mut self) -> Result<Snapshot>;
    /// Final checks against the store; returns the failures.
    async fn verify(&mut self, expect: &Expect<'_>) -> Result<Vec<String>>;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Arrive(usize),
    /// Conversation, and its assignment generation (stale after a hand-over).
    Resolve(usize, u32),
    /// Agent, index of the offline period.
    Disconnect(usize, usize),
    Grace(usize, usize),
    Reconnect(usize, usize),
}

#[derive(Clone, Debug, Default)]
pub struct ConvState {
    pub arrived: bool,
    pub resolved: bool,
    pub assignee: Option<usize>,
    /// Bumped on every assignment change, so that older resolve events are ignored.
    pub gen: u32,
    pub assignments: u32,
    pub queued_since: Option<i64>,
    pub waited_ms: i64,
    pub ever_queued: bool,
}

#[derive(Clone, Debug, Default)]
struct AgentState {
    online: bool,
    offline_period: usize,
    load: u32,
    /// Resolutions that fell while the agent was offline; done when they are back.
    pending: Vec<usize>,
}

#[derive(Serialize, Default, Clone, Debug)]
pub struct Lat {
    pub count: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

fn hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000_000, 3).expect("histogram bounds")
}

fn lat(h: &Histogram<u64>) -> Lat {
    let ms = |ns: u64| ns as f64 / 1e6;
    if h.is_empty() {
        return Lat::default();
    }
    Lat {
        count: h.len(),
        p50_ms: ms(h.value_at_quantile(0.50)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        max_ms: ms(h.max()),
    }
}

#[derive(Serialize, Default, Clone, Debug)]
pub struct Decisions {
    pub total: u64,
    pub arrival_assigned: u64,
    pub arrival_queued: u64,
    /// Queued conversations assigned when an agent resolved one or came back.
    pub backfill_assigned: u64,
    pub handover_assigned: u64,
    pub handover_queued: u64,
}

#[derive(Serialize, Default, Clone, Debug)]
pub struct GroupFairness {
    pub group: String,
    pub agents: usize,
    pub assignments_min: u64,
    pub assignments_max: u64,
    pub assignments_mean: f64,
    /// Coefficient of variation of assignments per agent.
    pub assignments_cv: f64,
    /// The same per capacity slot (agents have 3–5).
    pub per_slot_cv: f64,
    /// Snapshots in which the group's queue was empty (agents had room to choose among).
    pub load_samples: u64,
    /// Mean over those snapshots of (highest − lowest) load/capacity among online members.
    pub util_spread: f64,
    /// Mean over those snapshots of the CV of load/capacity among online members.
    pub util_cv: f64,
    /// Mean over those snapshots of (highest − lowest) open conversations.
    pub load_spread: f64,
    /// Share of the group's conversations that waited in the queue, and their mean wait.
    pub queued_share: f64,
    pub mean_wait_of_queued_s: f64,
}

#[derive(Serialize, Default, Clone, Debug)]
pub struct Checks {
    /// Full snapshots of the store compared with the simulation (every `check_every` steps).
    pub snapshots: u64,
    /// Per-assignment capacity checks of the chosen agent, after every step.
    pub assignee_checks: u64,
    pub failures: u64,
    pub first_failures: Vec<String>,
}

/// (step, conversation, agent or -1 for queued).
pub type TraceEntry = (u32, u32, i32);

#[derive(Serialize, Default, Clone, Debug)]
pub struct RunResult {
    pub backend: String,
    pub steps: u64,
    pub decisions: Decisions,
    /// Wall time spent inside engine calls.
    pub busy_s: f64,
    /// Wall time of the whole run, checks included.
    pub run_wall_s: f64,
    pub decisions_per_s: f64,
    pub steps_per_s: f64,
    /// Per decision: from the triggering call (or the previous decision in it) to the commit.
    pub decision_latency: Lat,
    /// Per call: arrive (visitor's first message), resolve, reconnect, hand_on.
    pub op_latency: BTreeMap<String, Lat>,
    /// This process's CPU during the engine calls, % of one core.
    pub process_cpu_pct: f64,
    pub simulated_s: f64,
    pub max_queue: u32,
    pub max_queue_per_group: Vec<u32>,
    pub queued_share: f64,
    /// Simulated time in the queue, over all conversations.
    pub mean_wait_s: f64,
    /// … over those that waited at all.
    pub mean_wait_of_queued_s: f64,
    pub max_wait_s: f64,
    pub fairness: Vec<GroupFairness>,
    /// Open at the end (the run drains, so normally 0).
    pub left_open: u64,
    /// Conversations handed on from an agent whose grace had not passed in simulated time (the
    /// routing job's cutoff is wall-clock; see `Service::before_step`). Expected 0.
    pub early_handovers: u64,
    pub checks: Checks,
    /// Every decision: (step, conversation, agent or -1 for queued), sorted within each step
    /// (a step's order is the store's row order, e.g. of an agent's conversations when they are
    /// handed on), to compare engines.
    #[serde(skip)]
    pub trace: Vec<TraceEntry>,
}

pub struct Options {
    /// Compare a full snapshot of the store with the simulation every this many steps.
    pub check_every: u64,
    pub progress: bool,
}

struct Failures<'a>(&'a mut Checks);
impl Failures<'_> {
    fn add(&mut self, what: String) {
        self.0.failures += 1;
        if self.0.first_failures.len() < 20 {
            eprintln!("CHECK FAILED: {what}");
            self.0.first_failures.push(what);
        }
    }
}

fn cpu_now() -> Duration {
    // SAFETY: getrusage only writes the struct we pass.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

pub async fn run<E: Engine>(w: &Workload, e: &mut E, opt: &Options) -> Result<(RunResult, Final)> {
    let n_groups = w.groups.len();
    let mut convs = vec![ConvState::default(); w.convs.len()];
    let mut agents = vec![
        AgentState {
            online: true,
            ..Default::default()
        };
        w.agents.len()
    ];
    let mut assignments = vec![0u64; w.agents.len()];
    let mut queued = vec![0u32; n_groups];
    let mut handovers: HashSet<(usize, usize)> = HashSet::new();

    let mut heap: BinaryHeap<Reverse<(i64, u64, Ev)>> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut push = |heap: &mut BinaryHeap<_>, t: i64, ev: Ev| {
        seq += 1;
        heap.push(Reverse((t, seq, ev)));
    };
    for (i, c) in w.convs.iter().enumerate() {
        push(&mut heap, c.arrive_ms, Ev::Arrive(i));
    }
    for (i, o) in w.offline.iter().enumerate() {
        push(&mut heap, o.start_ms, Ev::Disconnect(o.agent, i));
    }

    let mut r = RunResult {
        backend: e.name().to_owned(),
        max_queue_per_group: vec![0; n_groups],
        ..Default::default()
    };
    let mut checks = Checks::default();
    let mut dec_hist = hist();
    let mut op_hist: BTreeMap<&'static str, Histogram<u64>> = BTreeMap::new();
    let mut busy = Duration::ZERO;
    let mut cpu = Duration::ZERO;
    let mut spread: Vec<(u64, f64, f64, f64)> = vec![(0, 0.0, 0.0, 0.0); n_groups];
    let run_start = Instant::now();
    let mut last_t = 0i64;
    let mut arrived = 0usize;
    let mut next_progress = 1usize;
    let mut since_check = 0u64;

    while let Some(Reverse((now, _, ev))) = heap.pop() {
        last_t = now;
        // Decide whether the event still applies, and update what does not depend on the engine.
        let op: &'static str = match ev {
            Ev::Arrive(c) => {
                convs[c].arrived = true;
                arrived += 1;
                "arrive"
            }
            Ev::Resolve(c, gen) => {
                let cs = &convs[c];
                if cs.resolved || cs.gen != gen {
                    continue;
                }
                let Some(a) = cs.assignee else { continue };
                if !agents[a].online {
                    agents[a].pending.push(c);
                    continue;
                }
                "resolve"
            }
            Ev::Disconnect(a, i) => {
                agents[a].online = false;
                agents[a].offline_period = i;
                push(&mut heap, now + GRACE_MS, Ev::Grace(a, i));
                push(
                    &mut heap,
                    now + w.offline[i].duration_ms,
                    Ev::Reconnect(a, i),
                );
                "disconnect"
            }
            Ev::Grace(a, i) => {
                if agents[a].online || agents[a].offline_period != i {
                    continue;
                }
                // The job hands on every agent offline past the grace, so any of them may lose
                // their chats in this step.
                for (c, cs) in convs.iter().enumerate() {
                    if let Some(h) = cs.assignee {
                        if !agents[h].online && !cs.resolved {
                            handovers.insert((c, h));
                        }
                    }
                }
                "hand_on"
            }
            Ev::Reconnect(a, _) => {
                agents[a].online = true;
                for c in std::mem::take(&mut agents[a].pending) {
                    let cs = &convs[c];
                    if !cs.resolved && cs.assignee == Some(a) {
                        // Back at the desk: they finish it shortly.
                        push(&mut heap, now + 30_000, Ev::Resolve(c, cs.gen));
                    }
                }
                "reconnect"
            }
        };

        e.before_step(op);
        let cpu0 = cpu_now();
        let t0 = Instant::now();
        let decisions = match ev {
            Ev::Arrive(c) => e.arrive(c, now).await?,
            Ev::Resolve(c, _) => {
                let a = convs[c].assignee.expect("checked above");
                e.resolve(c, a, now).await?
            }
            Ev::Disconnect(a, _) => {
                e.disconnect(a, now).await?;
                vec![]
            }
            Ev::Grace(a, _) => e.hand_on(a, now).await?,
            Ev::Reconnect(a, _) => e.reconnect(a, now).await?,
        };
        let took = t0.elapsed();
        cpu += cpu_now().saturating_sub(cpu0);
        e.after_step();
        busy += took;
        r.steps += 1;
        op_hist
            .entry(op)
            .or_insert_with(hist)
            .saturating_record(took.as_nanos().max(1) as u64);

        // The resolution itself, before the backfills it caused.
        if let Ev::Resolve(c, _) = ev {
            let a = convs[c].assignee.take().expect("checked above");
            convs[c].resolved = true;
            convs[c].gen += 1;
            agents[a].load -= 1;
        }

        let mut f = Failures(&mut checks);
        let mut prev = t0;
        let mut touched: Vec<usize> = Vec::new();
        for d in &decisions {
            dec_hist
                .saturating_record(d.at.saturating_duration_since(prev).as_nanos().max(1) as u64);
            prev = prev.max(d.at);
            r.decisions.total += 1;
            let c = d.conv;
            r.trace.push((
                r.steps as u32,
                c as u32,
                match d.outcome {
                    Outcome::Assigned(a) => a as i32,
                    Outcome::Queued => -1,
                },
            ));
            let group = w.convs[c].group;
            let cs = &mut convs[c];
            if !cs.arrived || cs.resolved {
                f.add(format!(
                    "{op}: decision {:?} for conversation {c}, which is not open",
                    d.outcome
                ));
                continue;
            }
            // Leaving the previous state.
            if let Some(since) = cs.queued_since.take() {
                cs.waited_ms += now - since;
                queued[group] -= 1;
            }
            if let Some(h) = cs.assignee.take() {
                agents[h].load -= 1;
                let since = w.offline[agents[h].offline_period].start_ms;
                if !agents[h].online && now - since < GRACE_MS {
                    r.early_handovers += 1;
                }
                if !handovers.contains(&(c, h)) {
                    f.add(format!(
                        "{op}: conversation {c} moved away from agent {h}, who still held it"
                    ));
                }
            }
            cs.gen += 1;
            match d.outcome {
                Outcome::Assigned(a) => {
                    let first = cs.assignments == 0;
                    cs.assignee = Some(a);
                    agents[a].load += 1;
                    assignments[a] += 1;
                    push(
                        &mut heap,
                        now + w.handle_ms(c, cs.assignments),
                        Ev::Resolve(c, cs.gen),
                    );
                    cs.assignments += 1;
                    touched.push(a);
                    if !agents[a].online {
                        f.add(format!(
                            "{op}: conversation {c} assigned to agent {a}, who is offline"
                        ));
                    }
                    if w.agents[a].group != group {
                        f.add(format!("{op}: conversation {c} of group {group} assigned to agent {a} of another group"));
                    }
                    match op {
                        "arrive" if first => r.decisions.arrival_assigned += 1,
                        "hand_on" => r.decisions.handover_assigned += 1,
                        _ => r.decisions.backfill_assigned += 1,
                    }
                }
                Outcome::Queued => {
                    cs.queued_since = Some(now);
                    cs.ever_queued = true;
                    queued[group] += 1;
                    match op {
                        "hand_on" => r.decisions.handover_queued += 1,
                        _ => r.decisions.arrival_queued += 1,
                    }
                }
            }
        }
        if let Ev::Arrive(c) = ev {
            let cs = &convs[c];
            if cs.assignee.is_none() && cs.queued_since.is_none() {
                f.add(format!(
                    "arrive: conversation {c} was neither assigned nor queued"
                ));
            }
        }
        let total_queued: u32 = queued.iter().sum();
        r.max_queue = r.max_queue.max(total_queued);
        for (g, q) in queued.iter().enumerate() {
            r.max_queue_per_group[g] = r.max_queue_per_group[g].max(*q);
        }

        // Capacity can only be exceeded by an assignment: check every assignee in the store now.
        touched.sort_unstable();
        touched.dedup();
        for a in touched {
            let held = e.load_of(a).await?;
            checks.assignee_checks += 1;
            let mut f = Failures(&mut checks);
            if held > w.agents[a].capacity {
                f.add(format!(
                    "{op}: agent {a} holds {held} conversations, capacity {}",
                    w.agents[a].capacity
                ));
            }
            if held != agents[a].load {
                f.add(format!(
                    "{op}: agent {a} holds {held} conversations in the store, the decisions say {}",
                    agents[a].load
                ));
            }
        }

        since_check += 1;
        if since_check >= opt.check_every || heap.is_empty() {
            since_check = 0;
            let s = e.snapshot().await?;
            checks.snapshots += 1;
            let mut f = Failures(&mut checks);
            for (a, held) in s.loads.iter().enumerate() {
                if *held > w.agents[a].capacity {
                    f.add(format!(
                        "snapshot: agent {a} holds {held}, capacity {}",
                        w.agents[a].capacity
                    ));
                }
                if *held != agents[a].load {
                    f.add(format!(
                        "snapshot: agent {a} holds {held} in the store, the decisions say {}",
                        agents[a].load
                    ));
                }
            }
            if s.queued != queued {
                f.add(format!(
                    "snapshot: queued per group {:?} in the store, the decisions say {queued:?}",
                    s.queued
                ));
            }
            if s.unrouted != 0 {
                f.add(format!(
                    "snapshot: {} open conversations neither assigned nor queued",
                    s.unrouted
                ));
            }
            for (g, acc) in spread.iter_mut().enumerate() {
                if s.queued[g] != 0 {
                    continue;
                }
                let utils: Vec<(f64, u32)> = w
                    .members(g)
                    .filter(|a| agents[*a].online)
                    .map(|a| (s.loads[a] as f64 / w.agents[a].capacity as f64, s.loads[a]))
                    .collect();
                if utils.len() < 2 {
                    continue;
                }
                let (min_u, max_u) = min_max(utils.iter().map(|u| u.0));
                let (min_l, max_l) = min_max(utils.iter().map(|u| u.1 as f64));
                acc.0 += 1;
                acc.1 += max_u - min_u;
                acc.2 += cv(utils.iter().map(|u| u.0));
                acc.3 += max_l - min_l;
            }
        }

        if opt.progress && arrived * 10 >= next_progress * w.convs.len() {
            eprintln!(
                "  [{}] {}% of arrivals, simulated {:.0} s, {} decisions, {:.0} decisions/s, queue {}",
                r.backend,
                next_progress * 10,
                now as f64 / 1000.0,
                r.decisions.total,
                r.decisions.total as f64 / busy.as_secs_f64().max(1e-9),
                total_queued
            );
            next_progress += 1;
        }
    }

    r.trace.sort_unstable();
    r.busy_s = busy.as_secs_f64();
    r.run_wall_s = run_start.elapsed().as_secs_f64();
    r.decisions_per_s = r.decisions.total as f64 / r.busy_s.max(1e-9);
    r.steps_per_s = r.steps as f64 / r.busy_s.max(1e-9);
    r.process_cpu_pct = cpu.as_secs_f64() / r.busy_s.max(1e-9) * 100.0;
    r.decision_latency = lat(&dec_hist);
    r.op_latency = op_hist
        .iter()
        .map(|(k, h)| (k.to_string(), lat(h)))
        .collect();
    r.simulated_s = last_t as f64 / 1000.0;

    let n = convs.len().max(1) as f64;
    let queued_convs: Vec<&ConvState> = convs.iter().filter(|c| c.ever_queued).collect();
    r.queued_share = queued_convs.len() as f64 / n;
    r.mean_wait_s = convs.iter().map(|c| c.waited_ms).sum::<i64>() as f64 / n / 1000.0;
    r.mean_wait_of_queued_s = queued_convs.iter().map(|c| c.waited_ms).sum::<i64>() as f64
        / queued_convs.len().max(1) as f64
        / 1000.0;
    r.max_wait_s = convs.iter().map(|c| c.waited_ms).max().unwrap_or(0) as f64 / 1000.0;
    r.left_open = convs.iter().filter(|c| !c.resolved).count() as u64;

    for (g, spec) in w.groups.iter().enumerate() {
        let members: Vec<usize> = w.members(g).collect();
        let counts: Vec<f64> = members.iter().map(|a| assignments[*a] as f64).collect();
        let (min, max) = min_max(counts.iter().copied());
        let (samples, us, ucv, ls) = spread[g];
        let per = |x: f64| {
            if samples > 0 {
                x / samples as f64
            } else {
                f64::NAN
            }
        };
        let in_group = w.convs.iter().filter(|c| c.group == g).count();
        let waited: Vec<i64> = convs
            .iter()
            .zip(&w.convs)
            .filter(|(c, spec)| spec.group == g && c.ever_queued)
            .map(|(c, _)| c.waited_ms)
            .collect();
        r.fairness.push(GroupFairness {
            group: spec.label.to_owned(),
            agents: members.len(),
            assignments_min: min as u64,
            assignments_max: max as u64,
            assignments_mean: counts.iter().sum::<f64>() / counts.len().max(1) as f64,
            assignments_cv: cv(counts.iter().copied()),
            per_slot_cv: cv(members
                .iter()
                .map(|a| assignments[*a] as f64 / w.agents[*a].capacity as f64)),
            load_samples: samples,
            util_spread: per(us),
            util_cv: per(ucv),
            load_spread: per(ls),
            queued_share: waited.len() as f64 / in_group.max(1) as f64,
            mean_wait_of_queued_s: waited.iter().sum::<i64>() as f64
                / waited.len().max(1) as f64
                / 1000.0,
        });
    }

    r.checks = checks;
    Ok((
        r,
        Final {
            convs,
            assignments,
            handovers,
        },
    ))
}

/// The simulation's end state, for [`verify`].
pub struct Final {
    convs: Vec<ConvState>,
    assignments: Vec<u64>,
    handovers: HashSet<(usize, usize)>,
}

/// The engine's final checks against its store; adds their failures to `r`.
pub async fn verify<E: Engine>(e: &mut E, f: &Final, r: &mut RunResult) -> Result<()> {
    let failures = e
        .verify(&Expect {
            convs: &f.convs,
            assignments: &f.assignments,
            decisions: r.decisions.total,
            handovers: &f.handovers,
        })
        .await?;
    let mut fail = Failures(&mut r.checks);
    for x in failures {
        fail.add(x);
    }
    Ok(())
}

fn min_max(v: impl Iterator<Item = f64>) -> (f64, f64) {
    v.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    })
}

/// Coefficient of variation (population standard deviation / mean); 0 when the mean is 0.
pub fn cv(v: impl Iterator<Item = f64>) -> f64 {
    let xs: Vec<f64> = v.collect();
    if xs.is_empty() {
        return 0.0;
    }
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    if mean == 0.0 {
        return 0.0;
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
    var.sqrt() / mean
}
