//! Routing behaviour every store must show: capacity under concurrency, queue order, backfill,
//! replacement of an assignee, and workspace scoping of groups.

use crate::*;
use parley_core::routing::{Outcome, RouteContext};
use parley_domain::routing::{Availability, Step};
use std::collections::HashMap;

pub async fn group_with(
    s: &DynStore,
    f: &Fixture,
    policy: Vec<Step>,
    agents: &[(&str, u32)],
) -> (Group, Vec<User>) {
    let g = Group {
        id: GroupId::new(),
        workspace_id: f.ws.id,
        name: "售前".into(),
        policy,
        tier: 1,
        reply_timeout_secs: Some(30),
        queue_timeout_secs: None,
        hours: None,
        members: vec![],
        created_at: now_millis(),
    };
    s.create_group(&g).await.unwrap();
    let mut users = Vec::new();
    for (name, cap) in agents {
        let mut u = user(
            f.ws.id,
            &format!("{name}-{}@x.test", UserId::new().0.simple()),
            Role::Agent,
        );
        u.name = name.to_string();
        u.capacity = *cap;
        s.create_user(&u, "h").await.unwrap();
        users.push(u);
    }
    let members: Vec<(UserId, i32)> = users.iter().map(|u| (u.id, 1)).collect();
    s.set_group_members(f.ws.id, g.id, &members).await.unwrap();
    (g, users)
}

/// A new visitor's first message in a conversation of `group`.
pub async fn arrive(s: &DynStore, f: &Fixture, group: GroupId, n: usize) -> ConversationId {
    let v = new_visitor(
        s,
        &f.channel,
        &format!("arrive-{n}-{}", ConversationId::new().0),
    )
    .await;
    let target = Target::VisitorCurrent {
        channel_id: f.channel.id,
        visitor_id: v.id,
        group_id: Some(group),
    };
    let a = s
        .append_message(
            f.ws.id,
            target,
            &visitor_msg(&v, "first", "你好"),
            &MessageEffects::default(),
            now_millis(),
        )
        .await
        .unwrap();
    a.conversation.id
}

fn all_online(users: &[User]) -> RouteContext {
    RouteContext {
        availability: users
            .iter()
            .map(|u| (u.id, Availability::Online))
            .collect::<HashMap<_, _>>(),
        ..Default::default()
    }
}

async fn loads(s: &DynStore, f: &Fixture, users: &[User]) -> Vec<usize> {
    let mut out = Vec::new();
    for u in users {
        out.push(s.assigned_open(f.ws.id, u.id).await.unwrap().len());
    }
    out
}

pub async fn groups_are_scoped_and_keep_their_members(s: DynStore) {
    let f = fixture(&s, "g").await;
    let other = fixture(&s, "g2").await;
    let (g, users) = group_with(&s, &f, vec![Step::LeastLoad], &[("Ana", 2), ("Bo", 2)]).await;
    let got = s.get_group(f.ws.id, g.id).await.unwrap().unwrap();
    assert_eq!(
        got.members
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>(),
        ["Ana", "Bo"]
    );
    assert_eq!(got.policy, vec![Step::LeastLoad]);
    assert!(s.get_group(other.ws.id, g.id).await.unwrap().is_none());
    assert!(s.list_groups(other.ws.id).await.unwrap().is_empty());
    // A person of another workspace cannot be made a member.
    s.set_group_members(f.ws.id, g.id, &[(users[0].id, 2), (other.admin.id, 1)])
        .await
        .unwrap();
    let got = s.get_group(f.ws.id, g.id).await.unwrap().unwrap();
    assert_eq!(got.members.len(), 1);
    assert_eq!(
        (got.members[0].user_id, got.members[0].priority),
        (users[0].id, 2)
    );
    assert_eq!(s.groups_of(f.ws.id, users[0].id).await.unwrap(), vec![g.id]);
    assert!(s.groups_of(f.ws.id, users[1].id).await.unwrap().is_empty());
    let mut renamed = got.clone();
    renamed.name = "售后".into();
    renamed.policy = vec![Step::Sticky, Step::RoundRobin];
    assert!(s.update_group(&renamed).await.unwrap());
    renamed.workspace_id = other.ws.id;
    assert!(
        !s.update_group(&renamed).await.unwrap(),
        "updated a group through another workspace"
    );
    assert_eq!(s.list_groups(f.ws.id).await.unwrap()[0].name, "售后");
}

pub async fn routing_assigns_within_capacity_queues_and_backfills(s: DynStore) {
    let f = fixture(&s, "r").await;
    let (g, users) = group_with(&s, &f, vec![Step::LeastLoad], &[("Ana", 1), ("Bo", 1)]).await;
    let ctx = all_online(&users);
    let mut convs = Vec::new();
    for i in 0..4 {
        convs.push(arrive(&s, &f, g.id, i).await);
    }
    let mut outcomes = Vec::new();
    for c in &convs {
        outcomes.push(s.route(f.ws.id, *c, &ctx, now_millis()).await.unwrap());
    }
    assert!(matches!(outcomes[0].outcome, Outcome::Assigned(_)));
    assert!(matches!(outcomes[1].outcome, Outcome::Assigned(_)));
    assert_ne!(
        outcomes[0].outcome, outcomes[1].outcome,
        "both agents get one"
    );
    assert_eq!(
        (outcomes[2].outcome, outcomes[3].outcome),
        (Outcome::Queued, Outcome::Queued)
    );
    assert_eq!(outcomes[2].events[0].kind, EventKind::Queued);
    assert_eq!(
        outcomes[2].events[0].reason.last(),
        Some(&parley_domain::Reason::NoRoom)
    );
    let assigned = &outcomes[0].events[0];
    assert_eq!(assigned.kind, EventKind::Assignment);
    let why = parley_domain::Reasons(assigned.reason.clone()).to_string();
    assert!(why.starts_with("售前: least load"), "{why}");
    assert_eq!(assigned.sender.kind, SenderKind::System);
    // Routing an assigned or queued conversation again changes nothing.
    assert_eq!(
        s.route(f.ws.id, convs[0], &ctx, now_millis())
            .await
            .unwrap()
            .outcome,
        Outcome::Unchanged
    );
    let again = s
        .route(f.ws.id, convs[2], &ctx, now_millis())
        .await
        .unwrap();
    assert_eq!(again.outcome, Outcome::Queued);
    assert!(again.events.is_empty(), "a second queued event");

    let queue = s.queue(f.ws.id, g.id).await.unwrap();
    assert_eq!(
        queue.iter().map(|q| q.conversation_id).collect::<Vec<_>>(),
        vec![convs[2], convs[3]]
    );
    assert_eq!(loads(&s, &f, &users).await, vec![1, 1]);

    // Resolving frees the agent; the head of the queue is next.
    let agent0 = match outcomes[0].outcome {
        Outcome::Assigned(u) => u,
        _ => unreachable!(),
    };
    let resolve = NewEvent::status(
        Sender {
            kind: SenderKind::Agent,
            id: Some(agent0.0),
            name: None,
            avatar_url: None,
        },
        ConversationStatus::Resolved,
    );
    s.append_change(f.ws.id, convs[0], &resolve, now_millis())
        .await
        .unwrap();
    let next = s
        .route(f.ws.id, queue[0].conversation_id, &ctx, now_millis())
        .await
        .unwrap();
    assert_eq!(next.outcome, Outcome::Assigned(agent0));
    assert_eq!(next.conversation.queued_at, None);
    assert_eq!(s.queue(f.ws.id, g.id).await.unwrap().len(), 1);
    // Offline and busy agents take nothing.
    let mut ctx2 = all_online(&users);
    ctx2.availability.insert(users[0].id, Availability::Busy);
    ctx2.availability.remove(&users[1].id);
    s.update_user(
        f.ws.id,
        users[0].id,
        &UserPatch {
            capacity: Some(5),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        s.route(f.ws.id, convs[3], &ctx2, now_millis())
            .await
            .unwrap()
            .outcome,
        Outcome::Queued
    );
    // A raised capacity lets the queue through.
    assert!(matches!(
        s.route(f.ws.id, convs[3], &ctx, now_millis())
            .await
            .unwrap()
            .outcome,
        Outcome::Assigned(_)
    ));
    assert!(s.queue(f.ws.id, g.id).await.unwrap().is_empty());
}

pub async fn routing_replaces_an_assignee_and_explains_itself(s: DynStore) {
    let f = fixture(&s, "x").await;
    let (g, users) = group_with(&s, &f, vec![Step::RoundRobin], &[("Ana", 3), ("Bo", 3)]).await;
    let ctx = all_online(&users);
    let c = arrive(&s, &f, g.id, 0).await;
    let first = match s
        .route(f.ws.id, c, &ctx, now_millis())
        .await
        .unwrap()
        .outcome
    {
        Outcome::Assigned(u) => u,
        o => panic!("{o:?}"),
    };
    let conv = s.get_conversation(f.ws.id, c).await.unwrap().unwrap();
    assert!(
        conv.awaiting_reply_since.is_some(),
        "the reply timer starts on assignment"
    );
    // Not overdue yet; overdue after the group's 30 s.
    let now = now_millis();
    assert!(s
        .overdue_replies(now)
        .await
        .unwrap()
        .iter()
        .all(|o| o.conversation_id != c));
    let overdue = s.overdue_replies(now + 31_000).await.unwrap();
    let o = overdue
        .iter()
        .find(|o| o.conversation_id == c)
        .expect("overdue");
    assert_eq!((o.assignee, o.timeout_secs), (first, 30));

    let replace = RouteContext {
        replacing: Some(first),
        why: vec![parley_domain::Reason::NoReply { secs: 30 }],
        ..ctx.clone()
    };
    let r = s.route(f.ws.id, c, &replace, now_millis()).await.unwrap();
    let second = match r.outcome {
        Outcome::Assigned(u) => u,
        o => panic!("{o:?}"),
    };
    assert_ne!(second, first);
    let why = parley_domain::Reasons(r.events[0].reason.clone()).to_string();
    assert!(
        why.starts_with("no reply within 30 s; 售前: round robin"),
        "{why}"
    );
    // The old assignee no longer holds it: replacing them again does nothing.
    assert_eq!(
        s.route(f.ws.id, c, &replace, now_millis())
            .await
            .unwrap()
            .outcome,
        Outcome::Unchanged
    );
    // The new assignee replies: the timer stops.
    let u = users.iter().find(|u| u.id == second).unwrap();
    let reply = NewEvent::message(
        Sender {
            kind: SenderKind::Agent,
            id: Some(u.id.0),
            name: Some(u.name.clone()),
            avatar_url: None,
        },
        ClientId::parse("r1").unwrap(),
        MessageBody::parse("您好").unwrap(),
        vec![],
    );
    s.append_message(
        f.ws.id,
        Target::Conversation(c),
        &reply,
        &MessageEffects::default(),
        now_millis(),
    )
    .await
    .unwrap();
    assert_eq!(
        s.get_conversation(f.ws.id, c)
            .await
            .unwrap()
            .unwrap()
            .awaiting_reply_since,
        None
    );
    assert!(s
        .overdue_replies(now_millis() + 3_600_000)
        .await
        .unwrap()
        .iter()
        .all(|o| o.conversation_id != c));
    // With nobody else available the conversation goes back to the queue.
    let alone = RouteContext {
        availability: [(second, Availability::Online)].into_iter().collect(),
        replacing: Some(second),
        why: vec![parley_domain::Reason::AgentOffline],
        ..Default::default()
    };
    let r = s.route(f.ws.id, c, &alone, now_millis()).await.unwrap();
    assert_eq!(r.outcome, Outcome::Queued);
    assert_eq!(
        r.events.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![EventKind::Assignment, EventKind::Queued]
    );
    assert_eq!(r.conversation.assignee_id, None);
    assert_eq!(s.queue(f.ws.id, g.id).await.unwrap()[0].conversation_id, c);
    // The timeline is gapless and ordered.
    let events = s.events_after(f.ws.id, c, 0, 100).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=events.len() as i64).collect::<Vec<_>>()
    );
}

pub async fn concurrent_routing_never_exceeds_capacity(s: DynStore) {
    let f = fixture(&s, "cc").await;
    let (g, users) = group_with(
        &s,
        &f,
        vec![Step::LeastLoad],
        &[("A", 3), ("B", 3), ("C", 2), ("D", 1)],
    )
    .await;
    let ctx = all_online(&users);
    let mut convs = Vec::new();
    for i in 0..30 {
        convs.push(arrive(&s, &f, g.id, i).await);
    }
    // Every conversation is routed twice at once, as two nodes reacting to the same event would.
    let mut tasks = Vec::new();
    for c in convs.iter().chain(convs.iter()) {
        let (s, ctx, ws, c) = (s.clone(), ctx.clone(), f.ws.id, *c);
        tasks.push(tokio::spawn(async move {
            s.route(ws, c, &ctx, now_millis()).await.unwrap().outcome
        }));
    }
    let mut assigned = 0;
    for t in tasks {
        if let Outcome::Assigned(_) = t.await.unwrap() {
            assigned += 1;
        }
    }
    assert_eq!(
        assigned, 9,
        "exactly the total capacity is assigned, each conversation once"
    );
    assert_eq!(loads(&s, &f, &users).await, vec![3, 3, 2, 1]);
    assert_eq!(s.queue(f.ws.id, g.id).await.unwrap().len(), 21);
    for c in &convs {
        let events = s.events_after(f.ws.id, *c, 0, 100).await.unwrap();
        let n = events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Assignment | EventKind::Queued))
            .count();
        assert_eq!(n, 1, "one routing decision per conversation");
    }
}

/// Routing explanations are stored as structured clauses, and an agent's first replies feed
/// the score: with equal load the faster responder is chosen.
pub async fn routing_reasons_persist_and_response_time_feeds_the_score(s: DynStore) {
    let f = fixture(&s, "rs").await;
    let (g, users) = group_with(&s, &f, vec![Step::Score], &[("Fast", 2), ("Slow", 2)]).await;
    let ctx = all_online(&users);
    let t0 = now_millis();
    // Each agent answers one conversation: Fast after 2 s, Slow after 10 min.
    for (u, delay) in [(&users[0], 2_000), (&users[1], 600_000)] {
        let c = arrive(&s, &f, g.id, delay as usize).await;
        let give = NewEvent::assignment(parley_core::routing::system(), Some(u.as_ref()));
        s.append_change(f.ws.id, c, &give, t0).await.unwrap();
        let reply = NewEvent::message(
            lib_agent_sender(u),
            ClientId::parse(&format!("reply-{delay}")).unwrap(),
            MessageBody::parse("您好").unwrap(),
            vec![],
        );
        s.append_message(
            f.ws.id,
            Target::Conversation(c),
            &reply,
            &MessageEffects::default(),
            t0 + delay,
        )
        .await
        .unwrap();
        let done = NewEvent::status(lib_agent_sender(u), ConversationStatus::Resolved);
        s.append_change(f.ws.id, c, &done, t0 + delay + 1)
            .await
            .unwrap();
    }
    let c = arrive(&s, &f, g.id, 99).await;
    let r = s.route(f.ws.id, c, &ctx, now_millis()).await.unwrap();
    assert_eq!(r.outcome, Outcome::Assigned(users[0].id), "{:?}", r.events);
    let stored = s.events_after(f.ws.id, c, 0, 10).await.unwrap();
    let assignment = stored
        .iter()
        .find(|e| e.kind == EventKind::Assignment)
        .expect("assignment stored");
    assert_eq!(assignment.reason, r.events[0].reason);
    assert_eq!(
        assignment.reason[0],
        parley_domain::Reason::Group {
            name: "售前".into()
        }
    );
    assert!(
        matches!(&assignment.reason[1], parley_domain::Reason::Score { agent, .. } if agent == "Fast"),
        "{:?}",
        assignment.reason
    );
    // Ordinary messages carry no reason.
    assert!(stored
        .iter()
        .filter(|e| e.kind == EventKind::Message)
        .all(|e| e.reason.is_empty()));
}

fn lib_agent_sender(u: &User) -> Sender {
    Sender {
        kind: SenderKind::Agent,
        id: Some(u.id.0),
        name: Some(u.name.clone()),
        avatar_url: None,
    }
}
