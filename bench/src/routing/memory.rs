//! The baseline: the same workload decided by the pure `choose()` in memory, with the service's
//! routing rules mirrored (plan's preconditions, hand-over with exclusion, queue order, backfill
//! from the head that stops at the first conversation nobody can take). No I/O, no events.

use super::sim::{Decision, Engine, Expect, Outcome, Snapshot};
use super::workload::Workload;
use anyhow::Result;
use parley_domain::routing::{choose, Availability, Candidate, Request, Step};
use parley_domain::UserId;
use std::collections::BTreeSet;
use std::time::Instant;

struct Agent {
    id: UserId,
    name: String,
    group: usize,
    capacity: u32,
    priority: i32,
    skills: Vec<String>,
    online: bool,
    load: u32,
    last_assigned_at: i64,
    /// Open conversations assigned to them (the store's `assigned_open`).
    held: BTreeSet<usize>,
}

#[derive(Default, Clone)]
struct Conv {
    open: bool,
    assignee: Option<usize>,
    queued_at: Option<i64>,
    /// The last agent it was assigned to (the visitor's previous agent, for sticky).
    last_agent: Option<usize>,
}

pub struct Memory<'w> {
    w: &'w Workload,
    agents: Vec<Agent>,
    convs: Vec<Conv>,
    /// Per group, in queue order: (queued_at, conversation index; arrival order breaks ties
    /// like the store's time-ordered ids).
    queues: Vec<BTreeSet<(i64, usize)>>,
    members: Vec<Vec<usize>>,
    /// (simulated ms, assignments in it): successive assignments get increasing timestamps, as
    /// the store's successive wall-clock ones are.
    clock: (i64, i64),
}

enum Routed {
    Assigned,
    NewlyQueued,
    StillQueued,
    Unchanged,
}

impl<'w> Memory<'w> {
    pub fn new(w: &'w Workload) -> Memory<'w> {
        let agents = w
            .agents
            .iter()
            .enumerate()
            .map(|(i, a)| Agent {
                // Ids in creation order, as the store's v7 ids are, so ties break alike.
                id: UserId(uuid::Uuid::from_u128(i as u128 + 1)),
                name: format!("Agent {i}"),
                group: a.group,
                capacity: a.capacity,
                priority: a.priority,
                skills: a.skills.clone(),
                online: true,
                load: 0,
                last_assigned_at: 0,
                held: BTreeSet::new(),
            })
            .collect();
        Memory {
            w,
            agents,
            convs: vec![Conv::default(); w.convs.len()],
            queues: vec![BTreeSet::new(); w.groups.len()],
            members: (0..w.groups.len())
                .map(|g| w.members(g).collect())
                .collect(),
            clock: (0, 0),
        }
    }

    /// What `plan` + the store's `route` do to one conversation.
    fn route(
        &mut self,
        c: usize,
        replacing: Option<usize>,
        now: i64,
        out: &mut Vec<Decision>,
    ) -> Routed {
        let conv = &self.convs[c];
        if !conv.open {
            return Routed::Unchanged;
        }
        match (replacing, conv.assignee) {
            (Some(r), Some(a)) if r == a => {}
            (None, None) => {}
            _ => return Routed::Unchanged,
        }
        let g = self.w.convs[c].group;
        let candidates: Vec<Candidate> = self.members[g]
            .iter()
            .map(|&i| {
                let a = &self.agents[i];
                Candidate {
                    id: a.id,
                    name: a.name.clone(),
                    availability: if a.online {
                        Availability::Online
                    } else {
                        Availability::Offline
                    },
                    load: a.load,
                    capacity: a.capacity,
                    priority: a.priority,
                    skills: a.skills.clone(),
                    last_assigned_at: a.last_assigned_at,
                    response_secs: None,
                    satisfaction: None,
                }
            })
            .collect();
        let request = Request {
            required_skills: self.w.convs[c]
                .skill
                .iter()
                .map(|s| s.to_string())
                .collect(),
            previous_agent: conv
                .last_agent
                .filter(|p| Some(*p) != replacing)
                .map(|p| self.agents[p].id),
            exclude: replacing.map(|r| self.agents[r].id).into_iter().collect(),
        };
        let mut steps = self.w.groups[g].policy.clone();
        if !request.required_skills.is_empty() && !steps.contains(&Step::Skill) {
            steps.insert(0, Step::Skill);
        }
        let decided = choose(&steps, &candidates, &request);
        let conv = &mut self.convs[c];
        if let Some(r) = replacing {
            self.agents[r].load -= 1;
            self.agents[r].held.remove(&c);
            conv.assignee = None;
        }
        match decided {
            Ok(d) => {
                let a = (d.agent.0.as_u128() - 1) as usize;
                if let Some(q) = conv.queued_at.take() {
                    self.queues[g].remove(&(q, c));
                }
                conv.assignee = Some(a);
                conv.last_agent = Some(a);
                let agent = &mut self.agents[a];
                agent.load += 1;
                agent.held.insert(c);
                if self.clock.0 != now {
                    self.clock = (now, 0);
                }
                self.clock.1 += 1;
                agent.last_assigned_at = now * 1024 + self.clock.1;
                debug_assert_eq!(agent.group, g);
                out.push(Decision {
                    conv: c,
                    outcome: Outcome::Assigned(a),
                    at: Instant::now(),
                });
                Routed::Assigned
            }
            Err(_) if conv.queued_at.is_none() || replacing.is_some() => {
                let q = *conv.queued_at.get_or_insert(now);
                self.queues[g].insert((q, c));
                out.push(Decision {
                    conv: c,
                    outcome: Outcome::Queued,
                    at: Instant::now(),
                });
                Routed::NewlyQueued
            }
            Err(_) => Routed::StillQueued,
        }
    }

    /// `Parley::backfill_group`: route the head while it gets assigned.
    fn backfill(&mut self, g: usize, now: i64, out: &mut Vec<Decision>) {
        loop {
            let Some(&(_, head)) = self.queues[g].first() else {
                return;
            };
            let len = self.queues[g].len();
            match self.route(head, None, now, out) {
                Routed::Assigned => continue,
                Routed::Unchanged if len > 1 => continue,
                _ => return,
            }
        }
    }
}

impl Engine for Memory<'_> {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn arrive(&mut self, c: usize, now: i64) -> Result<Vec<Decision>> {
        let mut out = Vec::with_capacity(1);
        self.convs[c].open = true;
        self.route(c, None, now, &mut out);
        Ok(out)
    }

    async fn resolve(&mut self, c: usize, agent: usize, now: i64) -> Result<Vec<Decision>> {
        let mut out = Vec::new();
        let conv = &mut self.convs[c];
        conv.open = false;
        conv.assignee = None;
        self.agents[agent].load -= 1;
        self.agents[agent].held.remove(&c);
        self.backfill(self.agents[agent].group, now, &mut out);
        Ok(out)
    }

    async fn disconnect(&mut self, agent: usize, _now: i64) -> Result<()> {
        self.agents[agent].online = false;
        Ok(())
    }

    async fn reconnect(&mut self, agent: usize, now: i64) -> Result<Vec<Decision>> {
        let mut out = Vec::new();
        self.agents[agent].online = true;
        self.backfill(self.agents[agent].group, now, &mut out);
        Ok(out)
    }

    async fn hand_on(&mut self, agent: usize, now: i64) -> Result<Vec<Decision>> {
        let mut out = Vec::new();
        let held: Vec<usize> = self.agents[agent].held.iter().copied().collect();
        for c in held {
            self.route(c, Some(agent), now, &mut out);
        }
        Ok(out)
    }

    async fn load_of(&mut self, agent: usize) -> Result<u32> {
        Ok(self.agents[agent].load)
    }

    async fn snapshot(&mut self) -> Result<Snapshot> {
        Ok(Snapshot {
            loads: self.agents.iter().map(|a| a.load).collect(),
            queued: self.queues.iter().map(|q| q.len() as u32).collect(),
            unrouted: self
                .convs
                .iter()
                .filter(|c| c.open && c.assignee.is_none() && c.queued_at.is_none())
                .count() as i64,
        })
    }

    async fn verify(&mut self, _expect: &Expect<'_>) -> Result<Vec<String>> {
        Ok(vec![])
    }
}
