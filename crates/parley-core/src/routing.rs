//! What routing does to one conversation, decided without I/O: the store loads the state inside
//! its transaction, calls [`plan`], and writes the events it returns.

use parley_domain::routing::{choose, Availability, Candidate, Request};
use parley_domain::*;
use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct RouteContext {
    /// Agents' availability right now; an agent missing here is offline.
    pub availability: HashMap<UserId, Availability>,
    /// Move the conversation away from this assignee (no reply in time, went offline). Nothing
    /// happens if someone else holds it by now.
    pub replacing: Option<UserId>,
    /// Why it is being routed (a timeout, a rule, a transfer …), for the timeline; the
    /// policy's own explanation follows.
    pub why: Vec<Reason>,
    /// A colleague's note for whoever gets it (transfers).
    pub note: Option<String>,
    pub required_skills: Vec<String>,
    /// The workspace's business hours when enabled (holidays close every group); filled in by
    /// `Parley::route_conversation`.
    pub calendar: Option<BusinessCalendar>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Assigned(UserId),
    /// Waiting in the queue (newly, or still).
    Queued,
    /// The assignee was removed and there is no group to route to.
    Released,
    /// Nothing to do: not open, already assigned, or not in a group.
    Unchanged,
}

#[derive(Debug, Clone)]
pub struct Routed {
    pub outcome: Outcome,
    pub events: Vec<Event>,
    pub conversation: Conversation,
}

/// A group member with what routing needs to know, loaded under lock.
#[derive(Debug, Clone)]
pub struct MemberState {
    pub user: UserRef,
    pub capacity: u32,
    pub skills: Vec<String>,
    pub priority: i32,
    pub last_assigned_at: Millis,
    pub load: u32,
    /// Smoothed first-response time over recent assignments, when known.
    pub response_secs: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub outcome: Outcome,
    pub events: Vec<NewEvent>,
}

pub fn system() -> Sender {
    Sender {
        kind: SenderKind::System,
        id: None,
        name: None,
        avatar_url: None,
    }
}

/// Decides what happens to `conv` at `now`. `previous_agent` is who served this visitor last.
/// A group outside its working hours queues the conversation whoever has room.
pub fn plan(
    conv: &Conversation,
    group: Option<&Group>,
    members: &[MemberState],
    previous_agent: Option<UserId>,
    ctx: &RouteContext,
    now: Millis,
) -> Plan {
    let unchanged = Plan {
        outcome: Outcome::Unchanged,
        events: vec![],
    };
    if conv.status != ConversationStatus::Open {
        return unchanged;
    }
    match (ctx.replacing, conv.assignee_id) {
        (Some(r), Some(a)) if r == a => {}
        (Some(_), _) => return unchanged,
        (None, Some(_)) => return unchanged,
        (None, None) => {}
    }
    let why = &ctx.why;
    let with_why = |tail: Vec<Reason>| -> Vec<Reason> { why.iter().cloned().chain(tail).collect() };
    let Some(group) = group else {
        if ctx.replacing.is_some() {
            let e =
                NewEvent::assignment(system(), None).with_reason(with_why(vec![Reason::Released]));
            return Plan {
                outcome: Outcome::Released,
                events: vec![e],
            };
        }
        return unchanged;
    };
    let candidates: Vec<Candidate> = members
        .iter()
        .map(|m| Candidate {
            id: m.user.id,
            name: m.user.name.clone(),
            availability: ctx
                .availability
                .get(&m.user.id)
                .copied()
                .unwrap_or(Availability::Offline),
            load: m.load,
            capacity: m.capacity,
            priority: m.priority,
            skills: m.skills.clone(),
            last_assigned_at: m.last_assigned_at,
            response_secs: m.response_secs,
            satisfaction: None,
        })
        .collect();
    let request = Request {
        required_skills: if ctx.required_skills.is_empty() {
            conv.required_skill.iter().cloned().collect()
        } else {
            ctx.required_skills.clone()
        },
        previous_agent: previous_agent.filter(|p| Some(*p) != ctx.replacing),
        exclude: ctx.replacing.into_iter().collect(),
    };
    // A skill asked for by a keyword rule is honoured even if the policy has no skill step.
    let mut steps = group.policy.clone();
    if !request.required_skills.is_empty() && !steps.contains(&parley_domain::routing::Step::Skill)
    {
        steps.insert(0, parley_domain::routing::Step::Skill);
    }
    let closed = !calendar::group_open(group.hours.as_ref(), ctx.calendar.as_ref(), now);
    let decision = if closed {
        Err(parley_domain::routing::NoRoom {
            reason: Reasons(vec![Reason::OutsideHours]),
        })
    } else {
        choose(&steps, &candidates, &request)
    };
    match decision {
        Ok(d) => {
            let who = members
                .iter()
                .find(|m| m.user.id == d.agent)
                .map(|m| m.user.clone());
            let e = NewEvent::assignment(system(), who).with_reason(with_why(
                std::iter::once(Reason::Group {
                    name: group.name.clone(),
                })
                .chain(d.reason.0)
                .collect(),
            ));
            Plan {
                outcome: Outcome::Assigned(d.agent),
                events: with_note(vec![e], ctx),
            }
        }
        Err(no) => {
            let mut events = Vec::new();
            if ctx.replacing.is_some() {
                events.push(NewEvent::assignment(system(), None).with_reason(why.clone()));
            }
            if conv.queued_at.is_none() || ctx.replacing.is_some() {
                events.push(NewEvent::queued(
                    system(),
                    with_why(
                        std::iter::once(Reason::Group {
                            name: group.name.clone(),
                        })
                        .chain(no.reason.0)
                        .collect(),
                    ),
                ));
            }
            Plan {
                outcome: Outcome::Queued,
                events: with_note(events, ctx),
            }
        }
    }
}

/// The colleague's note goes on the first event the routing writes.
fn with_note(mut events: Vec<NewEvent>, ctx: &RouteContext) -> Vec<NewEvent> {
    if let Some(e) = events.first_mut() {
        e.note = ctx.note.clone();
    }
    events
}

/// Queue positions (1-based) in queue order, for telling visitors where they stand.
pub fn positions(queue: &[crate::ports::QueueEntry]) -> Vec<(ConversationId, VisitorId, usize)> {
    queue
        .iter()
        .enumerate()
        .map(|(i, q)| (q.conversation_id, q.visitor_id, i + 1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use parley_domain::routing::Step;

    fn conv(assignee: Option<UserId>) -> Conversation {
        Conversation {
            id: ConversationId::new(),
            workspace_id: WorkspaceId::new(),
            channel_id: ChannelId::new(),
            visitor_id: VisitorId::new(),
            status: ConversationStatus::Open,
            assignee_id: assignee,
            group_id: None,
            priority: 0,
            queued_at: None,
            awaiting_reply_since: None,
            required_skill: None,
            bot_active: false,
            bot_misses: 0,
            last_seq: 1,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn group() -> Group {
        Group {
            id: GroupId::new(),
            workspace_id: WorkspaceId::new(),
            name: "售前".into(),
            policy: vec![Step::LeastLoad],
            tier: 1,
            reply_timeout_secs: None,
            queue_timeout_secs: None,
            hours: None,
            members: vec![],
            created_at: 0,
        }
    }

    fn member(name: &str, load: u32) -> MemberState {
        MemberState {
            user: UserRef {
                id: UserId::new(),
                name: name.into(),
                avatar_url: None,
            },
            capacity: 2,
            skills: vec![],
            priority: 1,
            last_assigned_at: 0,
            load,
            response_secs: None,
        }
    }

    fn online(ms: &[&MemberState]) -> RouteContext {
        RouteContext {
            availability: ms
                .iter()
                .map(|m| (m.user.id, Availability::Online))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn assigns_with_an_explanation() {
        let (a, b) = (member("Ana", 1), member("Bo", 0));
        let p = plan(
            &conv(None),
            Some(&group()),
            &[a.clone(), b.clone()],
            None,
            &online(&[&a, &b]),
            0,
        );
        assert_eq!(p.outcome, Outcome::Assigned(b.user.id));
        assert_eq!(p.events[0].assignee.as_ref().unwrap().name, "Bo");
        assert_eq!(
            Reasons(p.events[0].reason.clone()).to_string(),
            "售前: least load: Bo has 0/2 chats"
        );
        assert_eq!(p.events[0].note, None);
    }

    #[test]
    fn queues_once_when_full_or_offline() {
        let a = member("Ana", 2);
        let b = member("Bo", 0);
        let ctx = online(&[&a]); // Bo is offline
        let p = plan(
            &conv(None),
            Some(&group()),
            &[a.clone(), b.clone()],
            None,
            &ctx,
            0,
        );
        assert_eq!(p.outcome, Outcome::Queued);
        assert_eq!(p.events.len(), 1);
        assert_eq!(p.events[0].kind, EventKind::Queued);
        let mut waiting = conv(None);
        waiting.queued_at = Some(5);
        assert!(
            plan(&waiting, Some(&group()), &[a, b], None, &ctx, 0)
                .events
                .is_empty(),
            "no second queued event"
        );
    }

    #[test]
    fn leaves_assigned_resolved_and_groupless_conversations_alone() {
        let a = member("Ana", 0);
        let ctx = online(&[&a]);
        assert_eq!(
            plan(
                &conv(Some(UserId::new())),
                Some(&group()),
                &[a.clone()],
                None,
                &ctx,
                0
            )
            .outcome,
            Outcome::Unchanged
        );
        let mut done = conv(None);
        done.status = ConversationStatus::Resolved;
        assert_eq!(
            plan(&done, Some(&group()), &[a.clone()], None, &ctx, 0).outcome,
            Outcome::Unchanged
        );
        assert_eq!(
            plan(&conv(None), None, &[a], None, &ctx, 0).outcome,
            Outcome::Unchanged
        );
    }

    #[test]
    fn replacing_moves_to_someone_else_or_queues() {
        let (a, b) = (member("Ana", 0), member("Bo", 1));
        let mut ctx = online(&[&a, &b]);
        ctx.replacing = Some(a.user.id);
        ctx.why = vec![Reason::NoReply { secs: 60 }];
        let p = plan(
            &conv(Some(a.user.id)),
            Some(&group()),
            &[a.clone(), b.clone()],
            Some(a.user.id),
            &ctx,
            0,
        );
        assert_eq!(p.outcome, Outcome::Assigned(b.user.id));
        assert!(Reasons(p.events[0].reason.clone())
            .to_string()
            .starts_with("no reply within 60 s; 售前"));
        // Someone else took it meanwhile: nothing happens.
        assert_eq!(
            plan(
                &conv(Some(b.user.id)),
                Some(&group()),
                &[a.clone(), b.clone()],
                None,
                &ctx,
                0
            )
            .outcome,
            Outcome::Unchanged
        );
        // Nobody else: unassigned and queued.
        let p = plan(
            &conv(Some(a.user.id)),
            Some(&group()),
            &[a.clone()],
            None,
            &ctx,
            0,
        );
        assert_eq!(p.outcome, Outcome::Queued);
        assert_eq!(
            p.events.iter().map(|e| e.kind).collect::<Vec<_>>(),
            vec![EventKind::Assignment, EventKind::Queued]
        );
        assert!(p.events[0].assignee.is_none());
        // No group: back to the unassigned list.
        let p = plan(&conv(Some(a.user.id)), None, &[], None, &ctx, 0);
        assert_eq!(p.outcome, Outcome::Released);
    }

    #[test]
    fn a_closed_group_queues_even_with_room() {
        let a = member("Ana", 0);
        let mut g = group();
        // Open Monday to Friday 09:00–18:00 in Shanghai.
        let r = [540, 1080];
        g.hours = Some(
            WeeklyHours::parse(HoursInput {
                time_zone: "Asia/Shanghai".into(),
                days: WeekDays {
                    mon: vec![r],
                    tue: vec![r],
                    wed: vec![r],
                    thu: vec![r],
                    fri: vec![r],
                    ..Default::default()
                },
            })
            .unwrap(),
        );
        let saturday = 1_772_852_400_000; // 2026-03-07T03:00:00Z, Saturday 11:00 in Shanghai
        let monday = 1_773_025_200_000; // 2026-03-09T03:00:00Z, Monday 11:00 in Shanghai
        let ctx = online(&[&a]);
        let p = plan(&conv(None), Some(&g), &[a.clone()], None, &ctx, saturday);
        assert_eq!(p.outcome, Outcome::Queued);
        assert_eq!(p.events[0].kind, EventKind::Queued);
        assert_eq!(
            Reasons(p.events[0].reason.clone()).to_string(),
            "售前: outside working hours"
        );
        let p = plan(&conv(None), Some(&g), &[a.clone()], None, &ctx, monday);
        assert_eq!(p.outcome, Outcome::Assigned(a.user.id));
        // A transfer (or a timeout) into a closed group unassigns and queues.
        let b = member("Bo", 0);
        let mut ctx = online(&[&a, &b]);
        ctx.replacing = Some(b.user.id);
        ctx.why = vec![Reason::NoReply { secs: 60 }];
        let p = plan(
            &conv(Some(b.user.id)),
            Some(&g),
            &[a, b],
            None,
            &ctx,
            saturday,
        );
        assert_eq!(p.outcome, Outcome::Queued);
        assert_eq!(
            p.events.iter().map(|e| e.kind).collect::<Vec<_>>(),
            vec![EventKind::Assignment, EventKind::Queued]
        );
        assert!(p.events[1].reason.contains(&Reason::OutsideHours));
    }

    #[test]
    fn sticky_prefers_the_previous_agent() {
        let (a, b) = (member("Ana", 1), member("Bo", 0));
        let mut g = group();
        g.policy = vec![Step::Sticky, Step::LeastLoad];
        let p = plan(
            &conv(None),
            Some(&g),
            &[a.clone(), b.clone()],
            Some(a.user.id),
            &online(&[&a, &b]),
            0,
        );
        assert_eq!(p.outcome, Outcome::Assigned(a.user.id));
        assert!(matches!(p.events[0].reason[1], Reason::Sticky { .. }));
    }
}
