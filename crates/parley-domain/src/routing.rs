//! Choosing the agent for a conversation: one pure function, so every policy can be tested
//! without a database and every decision can explain itself.
//!
//! A group's policy is an ordered list of steps. Each step either picks an agent outright
//! (sticky), narrows the field (skill, priority), or orders it (least load, round robin, score).
//! Whatever order remains at the end decides; ties fall back to round robin and then the id, so
//! the result is deterministic for the same input.

use crate::{Reason, Reasons, UserId};
use serde::{Deserialize, Serialize};

/// What an agent can take right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Availability {
    /// Takes new conversations.
    Online,
    /// Signed in, keeps current conversations, takes no new ones.
    Busy,
    Away,
    Offline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// The agent who served this visitor last time, when they have room.
    Sticky,
    /// Only agents with every required skill (if the group has any such agent at all).
    Skill,
    /// The best member-priority tier that has room; lower tiers take the overflow.
    Priority,
    /// Fewest open conversations relative to capacity.
    LeastLoad,
    /// Longest since their last assignment.
    RoundRobin,
    /// The combined score of [`score`]: load, response speed, satisfaction.
    Score,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Sticky => "sticky",
            Step::Skill => "skill",
            Step::Priority => "priority",
            Step::LeastLoad => "least_load",
            Step::RoundRobin => "round_robin",
            Step::Score => "score",
        }
    }
}

/// A member of the group as the router sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: UserId,
    pub name: String,
    pub availability: Availability,
    /// Open conversations assigned now.
    pub load: u32,
    /// Most conversations at once (最大接待数).
    pub capacity: u32,
    /// Member priority in the group: 1 is served first.
    pub priority: i32,
    pub skills: Vec<String>,
    /// When they were last given a conversation (Unix ms; 0 = never).
    pub last_assigned_at: i64,
    /// Recent median first-response time, when known.
    pub response_secs: Option<f64>,
    /// Recent satisfaction, 0..=1, when known.
    pub satisfaction: Option<f64>,
}

impl Candidate {
    pub fn has_room(&self) -> bool {
        self.availability == Availability::Online && self.load < self.capacity
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    pub required_skills: Vec<String>,
    /// Who served this visitor last.
    pub previous_agent: Option<UserId>,
    /// Agents that must not get it (e.g. the one who just timed out).
    pub exclude: Vec<UserId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub agent: UserId,
    /// Which steps narrowed the field and which one picked whom.
    pub reason: Reasons,
}

/// Why nobody was chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct NoRoom {
    pub reason: Reasons,
}

/// The agent score used by [`Step::Score`]: higher is better. Free capacity dominates; a fast
/// responder and a well-rated agent win ties. Unknown history counts as average.
pub fn score(c: &Candidate) -> f64 {
    let free = if c.capacity == 0 {
        0.0
    } else {
        1.0 - c.load as f64 / c.capacity as f64
    };
    let speed = match c.response_secs {
        Some(s) => 1.0 / (1.0 + s.max(0.0) / 60.0),
        None => 0.5,
    };
    let satisfaction = c.satisfaction.unwrap_or(0.5).clamp(0.0, 1.0);
    0.6 * free + 0.25 * speed + 0.15 * satisfaction
}

/// Picks the agent for a conversation, or says why nobody can take it now.
pub fn choose(steps: &[Step], candidates: &[Candidate], req: &Request) -> Result<Decision, NoRoom> {
    let mut field: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| !req.exclude.contains(&c.id))
        .collect();
    let mut notes: Vec<Reason> = Vec::new();
    let mut ordered_by: Option<Step> = None;

    for step in steps {
        match step {
            Step::Sticky => {
                if let Some(prev) = req.previous_agent {
                    if let Some(c) = field.iter().find(|c| c.id == prev && c.has_room()) {
                        return Ok(Decision {
                            agent: c.id,
                            reason: Reasons(vec![Reason::Sticky {
                                agent: c.name.clone(),
                            }]),
                        });
                    }
                }
            }
            Step::Skill => {
                if !req.required_skills.is_empty() {
                    let skilled: Vec<&Candidate> = field
                        .iter()
                        .copied()
                        .filter(|c| {
                            req.required_skills
                                .iter()
                                .all(|s| c.skills.iter().any(|k| k.eq_ignore_ascii_case(s)))
                        })
                        .collect();
                    if skilled.is_empty() {
                        notes.push(Reason::NoSkill {
                            skills: req.required_skills.clone(),
                        });
                    } else {
                        notes.push(Reason::Skill {
                            skills: req.required_skills.clone(),
                        });
                        field = skilled;
                    }
                }
            }
            Step::Priority => {
                let best = field
                    .iter()
                    .filter(|c| c.has_room())
                    .map(|c| c.priority)
                    .min();
                if let Some(p) = best {
                    let overflow = field.iter().any(|c| c.priority < p);
                    field.retain(|c| c.priority == p);
                    notes.push(Reason::Tier { tier: p, overflow });
                }
            }
            s @ (Step::LeastLoad | Step::RoundRobin | Step::Score) => ordered_by = Some(*s),
        }
    }

    let mut open: Vec<&Candidate> = field.into_iter().filter(|c| c.has_room()).collect();
    if open.is_empty() {
        notes.push(Reason::NoRoom);
        return Err(NoRoom {
            reason: Reasons(notes),
        });
    }
    let by = ordered_by.unwrap_or(Step::RoundRobin);
    let rr = |a: &&Candidate, b: &&Candidate| {
        a.last_assigned_at
            .cmp(&b.last_assigned_at)
            .then(a.id.cmp(&b.id))
    };
    match by {
        Step::LeastLoad => open.sort_by(|a, b| {
            // Compare load/capacity without floats: a.load * b.cap vs b.load * a.cap.
            (a.load as u64 * b.capacity as u64)
                .cmp(&(b.load as u64 * a.capacity as u64))
                .then_with(|| rr(a, b))
        }),
        Step::Score => open.sort_by(|a, b| {
            score(b)
                .partial_cmp(&score(a))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| rr(a, b))
        }),
        _ => open.sort_by(rr),
    }
    let c = open[0];
    let agent = c.name.clone();
    notes.push(match by {
        Step::LeastLoad => Reason::LeastLoad {
            agent,
            load: c.load,
            capacity: c.capacity,
        },
        Step::Score => Reason::Score {
            agent,
            score: (score(c) * 100.0).round().clamp(0.0, 100.0) as u32,
        },
        _ => Reason::RoundRobin { agent },
    });
    Ok(Decision {
        agent: c.id,
        reason: Reasons(notes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn agent(n: u8, load: u32, cap: u32) -> Candidate {
        Candidate {
            id: UserId(uuid::Uuid::from_u128(n as u128)),
            name: format!("a{n}"),
            availability: Availability::Online,
            load,
            capacity: cap,
            priority: 1,
            skills: vec![],
            last_assigned_at: 0,
            response_secs: None,
            satisfaction: None,
        }
    }

    #[test]
    fn nobody_with_room_means_queue() {
        let mut busy = agent(2, 0, 3);
        busy.availability = Availability::Busy;
        let full = agent(1, 3, 3);
        let err = choose(&[Step::LeastLoad], &[full, busy], &Request::default()).unwrap_err();
        assert_eq!(err.reason.0.last(), Some(&Reason::NoRoom));
        assert!(choose(&[Step::RoundRobin], &[], &Request::default()).is_err());
    }

    #[test]
    fn least_load_is_relative_to_capacity() {
        let a = agent(1, 2, 10); // 20 %
        let b = agent(2, 1, 2); // 50 %
        let d = choose(&[Step::LeastLoad], &[b, a.clone()], &Request::default()).unwrap();
        assert_eq!(d.agent, a.id);
        assert!(
            d.reason.to_string().contains("least load: a1 has 2/10"),
            "{}",
            d.reason
        );
    }

    #[test]
    fn sticky_then_fallback() {
        let a = agent(1, 0, 2);
        let mut b = agent(2, 0, 2);
        let req = Request {
            previous_agent: Some(b.id),
            ..Default::default()
        };
        let steps = [Step::Sticky, Step::LeastLoad];
        assert_eq!(
            choose(&steps, &[a.clone(), b.clone()], &req).unwrap().agent,
            b.id
        );
        b.load = 2;
        let d = choose(&steps, &[a.clone(), b], &req).unwrap();
        assert_eq!(d.agent, a.id, "previous agent full: fall back");
    }

    #[test]
    fn skill_filters_when_someone_has_it_and_waits_for_them() {
        let a = agent(1, 0, 2);
        let mut b = agent(2, 1, 2);
        b.skills = vec!["Billing".into()];
        let req = Request {
            required_skills: vec!["billing".into()],
            ..Default::default()
        };
        let steps = [Step::Skill, Step::LeastLoad];
        let d = choose(&steps, &[a.clone(), b.clone()], &req).unwrap();
        assert_eq!(d.agent, b.id);
        assert!(d.reason.to_string().starts_with("skill billing"));
        b.load = 2;
        assert!(
            choose(&steps, &[a.clone(), b], &req).is_err(),
            "the skilled agent is full: wait for them"
        );
        let req = Request {
            required_skills: vec!["rare".into()],
            ..Default::default()
        };
        assert_eq!(
            choose(&steps, &[a.clone()], &req).unwrap().agent,
            a.id,
            "nobody has the skill: anyone"
        );
    }

    #[test]
    fn priority_overflows_to_lower_tiers() {
        let mut first = agent(1, 1, 1);
        first.priority = 1;
        let mut second = agent(2, 0, 5);
        second.priority = 2;
        let d = choose(
            &[Step::Priority, Step::LeastLoad],
            &[first.clone(), second.clone()],
            &Request::default(),
        )
        .unwrap();
        assert_eq!(d.agent, second.id);
        assert!(d.reason.to_string().contains("higher tiers full"));
        first.load = 0;
        assert_eq!(
            choose(
                &[Step::Priority, Step::LeastLoad],
                &[first.clone(), second],
                &Request::default()
            )
            .unwrap()
            .agent,
            first.id
        );
    }

    #[test]
    fn excluded_agents_are_skipped() {
        let a = agent(1, 0, 2);
        let b = agent(2, 1, 2);
        let req = Request {
            exclude: vec![a.id],
            ..Default::default()
        };
        assert_eq!(
            choose(&[Step::LeastLoad], &[a, b.clone()], &req)
                .unwrap()
                .agent,
            b.id
        );
    }

    #[test]
    fn score_prefers_free_fast_and_liked() {
        let mut fast = agent(1, 1, 4);
        fast.response_secs = Some(10.0);
        fast.satisfaction = Some(0.9);
        let mut slow = agent(2, 1, 4);
        slow.response_secs = Some(300.0);
        slow.satisfaction = Some(0.4);
        assert!(score(&fast) > score(&slow));
        let idle = agent(3, 0, 4);
        assert!(score(&idle) > score(&slow));
        assert_eq!(
            choose(&[Step::Score], &[slow, fast.clone()], &Request::default())
                .unwrap()
                .agent,
            fast.id
        );
    }

    /// One step of a simulated day: a conversation arrives, or one of agent `i`'s ends.
    #[derive(Debug, Clone)]
    enum Op {
        Arrive,
        Resolve(usize),
    }

    fn arb_agents() -> impl Strategy<Value = Vec<Candidate>> {
        use proptest::prelude::*;
        proptest::collection::vec((1u32..5, 0u8..4, 1i32..3), 1..8).prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (cap, avail, prio))| {
                    let mut a = agent(i as u8 + 1, 0, cap);
                    a.availability = [
                        Availability::Online,
                        Availability::Online,
                        Availability::Busy,
                        Availability::Away,
                    ][avail as usize];
                    a.priority = prio;
                    a
                })
                .collect()
        })
    }

    fn arb_ops() -> impl Strategy<Value = Vec<Op>> {
        use proptest::prelude::*;
        proptest::collection::vec(
            prop_oneof![3 => Just(Op::Arrive), 2 => (0usize..8).prop_map(Op::Resolve)],
            1..300,
        )
    }

    /// Plays `ops` against `agents` as the store would; returns how many each agent was given.
    fn play(steps: &[Step], agents: &mut [Candidate], ops: &[Op]) -> HashMap<UserId, u32> {
        let mut given: HashMap<UserId, u32> = HashMap::new();
        for (t, op) in ops.iter().enumerate() {
            match op {
                Op::Arrive => {
                    let room = agents.iter().any(|a| a.has_room());
                    match choose(steps, agents, &Request::default()) {
                        Ok(d) => {
                            let a = agents.iter_mut().find(|a| a.id == d.agent).unwrap();
                            assert!(a.has_room(), "chose an agent without room");
                            a.load += 1;
                            a.last_assigned_at = t as i64 + 1;
                            *given.entry(a.id).or_default() += 1;
                        }
                        Err(_) => assert!(!room, "queued although an agent had room"),
                    }
                }
                Op::Resolve(i) => {
                    let n = agents.len();
                    let a = &mut agents[i % n];
                    a.load = a.load.saturating_sub(1);
                }
            }
            assert!(
                agents.iter().all(|a| a.load <= a.capacity),
                "capacity exceeded"
            );
        }
        given
    }

    use proptest::prelude::Strategy;

    proptest::proptest! {
        #[test]
        fn caps_hold_and_nobody_waits_needlessly(mut agents in arb_agents(), ops in arb_ops(),
                                                 steps in proptest::sample::select(vec![
                                                     vec![Step::LeastLoad], vec![Step::RoundRobin], vec![Step::Score],
                                                     vec![Step::Priority, Step::LeastLoad], vec![Step::Sticky, Step::Skill, Step::RoundRobin]])) {
            play(&steps, &mut agents, &ops);
            for a in &agents {
                if a.availability != Availability::Online {
                    proptest::prop_assert_eq!(a.load, 0, "a busy or away agent was given a conversation");
                }
            }
        }

        #[test]
        fn round_robin_spreads_evenly(n in 2u8..9, arrivals in 1usize..400) {
            let mut agents: Vec<Candidate> = (1..=n).map(|i| agent(i, 0, u32::MAX)).collect();
            let given = play(&[Step::RoundRobin], &mut agents, &vec![Op::Arrive; arrivals]);
            let counts: Vec<u32> = agents.iter().map(|a| given.get(&a.id).copied().unwrap_or(0)).collect();
            let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
            proptest::prop_assert!(max - min <= 1, "spread {:?}", counts);
        }

        #[test]
        fn priority_tiers_fill_before_overflow(mut agents in arb_agents(), arrivals in 1usize..30) {
            for a in agents.iter_mut() { a.availability = Availability::Online; }
            play(&[Step::Priority, Step::LeastLoad], &mut agents, &vec![Op::Arrive; arrivals]);
            // Without resolutions, a lower tier only has load if every higher tier is full.
            for low in agents.iter().filter(|a| a.load > 0) {
                for high in agents.iter().filter(|h| h.priority < low.priority) {
                    proptest::prop_assert_eq!(high.load, high.capacity, "overflowed past a tier with room");
                }
            }
        }
    }

    #[test]
    fn least_load_keeps_loads_level() {
        let mut agents: Vec<Candidate> = (1..=5).map(|n| agent(n, 0, 50)).collect();
        for t in 0..120 {
            let d = choose(&[Step::LeastLoad], &agents, &Request::default()).unwrap();
            let a = agents.iter_mut().find(|a| a.id == d.agent).unwrap();
            a.load += 1;
            a.last_assigned_at = t;
        }
        let loads: Vec<u32> = agents.iter().map(|a| a.load).collect();
        assert_eq!(loads, vec![24; 5]);
    }
}

/// A keyword routing rule (关键词路由): when a visitor's message contains any keyword, the
/// conversation goes to `group_id` and/or needs `skill`, with an optional queue `priority`.
/// Plain rules look at the first message only; escalation rules at every visitor message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoutingRule {
    pub id: crate::RuleId,
    #[serde(skip)]
    pub workspace_id: crate::WorkspaceId,
    pub keywords: Vec<String>,
    pub group_id: Option<crate::GroupId>,
    pub skill: Option<String>,
    pub priority: Option<i32>,
    pub escalation: bool,
}

/// The first rule (in order) that applies to `text`, and the keyword that matched.
pub fn matching_rule<'a>(
    rules: &'a [RoutingRule],
    text: &str,
    first_message: bool,
) -> Option<(&'a RoutingRule, &'a str)> {
    let lower = text.to_lowercase();
    rules
        .iter()
        .filter(|r| first_message || r.escalation)
        .find_map(|r| {
            r.keywords
                .iter()
                .find(|k| !k.trim().is_empty() && lower.contains(&k.trim().to_lowercase()))
                .map(|k| (r, k.as_str()))
        })
}

#[cfg(test)]
mod rule_tests {
    use super::*;

    fn rule(keywords: &[&str], escalation: bool) -> RoutingRule {
        RoutingRule {
            id: crate::RuleId::new(),
            workspace_id: crate::WorkspaceId::new(),
            keywords: keywords.iter().map(|s| s.to_string()).collect(),
            group_id: None,
            skill: None,
            priority: None,
            escalation,
        }
    }

    #[test]
    fn first_match_in_order_and_escalation_only_later() {
        let rules = vec![
            rule(&["退款", "refund"], false),
            rule(&["投诉"], true),
            rule(&["退"], false),
        ];
        let (r, k) = matching_rule(&rules, "我要退款", true).unwrap();
        assert_eq!((r.id, k), (rules[0].id, "退款"));
        assert_eq!(
            matching_rule(&rules, "I want a REFUND", true).unwrap().0.id,
            rules[0].id
        );
        assert!(
            matching_rule(&rules, "我要退款", false).is_none(),
            "plain rules only see the first message"
        );
        assert_eq!(
            matching_rule(&rules, "我要投诉你们", false).unwrap().0.id,
            rules[1].id
        );
        assert!(matching_rule(&rules, "你好", true).is_none());
    }
}
