//! The workload, generated once from a seed so that the in-memory baseline and every backend see
//! exactly the same agents, arrivals, handling times and offline periods.

use parley_domain::routing::Step;
use serde::Serialize;

/// SplitMix64: tiny, deterministic, and good enough for arrival times (no `rand` version churn).
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in (0, 1]: never 0, so `ln` is finite.
    pub fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * self.unit().ln()
    }
}

pub const SKILLS: [&str; 3] = ["billing", "shipping", "technical"];
/// The same as the server's `OFFLINE_GRACE`: offline agents keep their chats this long.
pub const GRACE_MS: i64 = 60_000;

#[derive(Clone, Debug, Serialize)]
pub struct GroupSpec {
    pub name: &'static str,
    pub label: &'static str,
    #[serde(skip)]
    pub policy: Vec<Step>,
}

#[derive(Clone, Debug)]
pub struct AgentSpec {
    pub group: usize,
    pub capacity: u32,
    /// Member priority in the group (1 first); only the priority group uses tiers.
    pub priority: i32,
    pub skills: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct ConvSpec {
    pub arrive_ms: i64,
    pub group: usize,
    /// Only in the skill group: the keyword rule turns it into a required skill.
    pub skill: Option<&'static str>,
}

#[derive(Clone, Debug)]
pub struct Offline {
    pub agent: usize,
    pub start_ms: i64,
    pub duration_ms: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Params {
    pub agents: usize,
    pub conversations: usize,
    pub handle_mean_s: f64,
    /// Mean time between an agent's offline periods.
    pub offline_every_s: f64,
    pub seed: u64,
}

pub struct Workload {
    pub params: Params,
    pub groups: Vec<GroupSpec>,
    pub agents: Vec<AgentSpec>,
    pub convs: Vec<ConvSpec>,
    pub offline: Vec<Offline>,
    pub total_capacity: u32,
}

/// Offered load (arrival rate × mean handling time ÷ total capacity) over the arrivals: normal,
/// a peak above capacity that builds a queue, then a quieter tail that drains it.
pub const PHASES: [(f64, f64); 3] = [(0.4, 0.75), (0.3, 1.1), (0.3, 0.6)];

impl Workload {
    pub fn generate(p: Params) -> Workload {
        let groups = vec![
            GroupSpec {
                name: "Round robin",
                label: "round_robin",
                policy: vec![Step::RoundRobin],
            },
            GroupSpec {
                name: "Least load",
                label: "least_load",
                policy: vec![Step::LeastLoad],
            },
            GroupSpec {
                name: "Priority tiers",
                label: "priority+least_load",
                policy: vec![Step::Priority, Step::LeastLoad],
            },
            GroupSpec {
                name: "Sticky",
                label: "sticky+least_load",
                policy: vec![Step::Sticky, Step::LeastLoad],
            },
            GroupSpec {
                name: "Skills",
                label: "skill+score",
                policy: vec![Step::Skill, Step::Score],
            },
        ];
        let n_groups = groups.len();
        let mut rng = Rng::new(p.seed);
        let per_group = p.agents.div_ceil(n_groups);
        let agents: Vec<AgentSpec> = (0..p.agents)
            .map(|i| {
                let group = i / per_group;
                let k = i % per_group;
                let capacity = 3 + rng.below(3) as u32;
                // Priority group: 30 % tier 1, 30 % tier 2, the rest tier 3.
                let priority = if group == 2 {
                    (1 + (k * 10 / per_group) as i32 / 3).min(3)
                } else {
                    1
                };
                let mut skills = Vec::new();
                if group == 4 {
                    skills.push(SKILLS[k % SKILLS.len()].to_owned());
                    if rng.below(10) < 3 {
                        skills.push(SKILLS[(k + 1) % SKILLS.len()].to_owned());
                    }
                }
                AgentSpec {
                    group,
                    capacity,
                    priority,
                    skills,
                }
            })
            .collect();
        let total_capacity: u32 = agents.iter().map(|a| a.capacity).sum();

        let mut convs = Vec::with_capacity(p.conversations);
        let mut t = 0.0f64;
        let mut phase_start = 0usize;
        for (share, load) in PHASES {
            let n = ((p.conversations as f64 * share).round() as usize)
                .min(p.conversations - phase_start);
            let rate_per_ms = load * total_capacity as f64 / (p.handle_mean_s * 1000.0);
            for _ in 0..n {
                t += rng.exp(1.0 / rate_per_ms);
                let group = rng.below(n_groups as u64) as usize;
                let skill = (group == 4).then(|| SKILLS[rng.below(SKILLS.len() as u64) as usize]);
                convs.push(ConvSpec {
                    arrive_ms: t as i64,
                    group,
                    skill,
                });
            }
            phase_start += n;
        }
        while convs.len() < p.conversations {
            t += 1000.0;
            convs.push(ConvSpec {
                arrive_ms: t as i64,
                group: 0,
                skill: None,
            });
        }
        let end = t as i64;

        // A third of the offline periods end within the grace period (the agent keeps their
        // chats), the rest are long enough for the chats to be handed on.
        let mut offline = Vec::new();
        for agent in 0..p.agents {
            let mut at = rng.exp(p.offline_every_s * 1000.0) as i64;
            while at < end {
                let duration_ms = if rng.below(3) == 0 {
                    10_000 + rng.below(40_000) as i64
                } else {
                    120_000 + rng.below(780_000) as i64
                };
                offline.push(Offline {
                    agent,
                    start_ms: at,
                    duration_ms,
                });
                at += duration_ms + rng.exp(p.offline_every_s * 1000.0) as i64;
            }
        }
        Workload {
            params: p,
            groups,
            agents,
            convs,
            offline,
            total_capacity,
        }
    }

    /// How long conversation `c` takes once its `k`-th agent (0 first) has it: Erlang-2 around
    /// the mean, capped at 8×. Derived from (seed, c, k) so every engine draws the same.
    pub fn handle_ms(&self, c: usize, k: u32) -> i64 {
        let mut r =
            Rng::new(self.params.seed ^ (c as u64).wrapping_mul(0x9E37_79B9) ^ ((k as u64) << 48));
        r.next_u64();
        let mean = self.params.handle_mean_s * 1000.0;
        (r.exp(mean / 2.0) + r.exp(mean / 2.0))
            .min(8.0 * mean)
            .max(1000.0) as i64
    }

    pub fn members(&self, group: usize) -> impl Iterator<Item = usize> + '_ {
        self.agents
            .iter()
            .enumerate()
            .filter(move |(_, a)| a.group == group)
            .map(|(i, _)| i)
    }

    /// The visitor's first message; skill conversations name the skill for the keyword rule.
    pub fn first_message(&self, c: usize) -> String {
        match self.convs[c].skill {
            Some(s) => format!("Hello, I have a {s} question (#{c})"),
            None => format!("Hello, I need help with my order (#{c})"),
        }
    }
}
