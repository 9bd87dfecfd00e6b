//! The behaviour every store backend must show. Each backend's test file instantiates the
//! suite with `conformance_tests!(make_store)`, so SQLite and PostgreSQL run the same checks.

mod auto_replies;
mod bot;
mod cluster;
mod hours;
mod kb;
pub mod pg;
mod quick_replies;
mod routing;
pub use auto_replies::*;
pub use bot::*;
pub use cluster::*;
pub use hours::*;
pub use kb::*;
pub use quick_replies::*;
pub use routing::*;

use parley_core::ports::*;
use parley_core::StoreError;
use parley_domain::*;
use std::sync::Arc;

pub type DynStore = Arc<dyn Store>;

#[macro_export]
macro_rules! conformance_tests {
    ($with_store:path) => {
        $crate::conformance_tests!(@each $with_store,
            users_are_scoped_to_their_workspace,
            sessions_expire_and_password_change_revokes_others,
            channels_and_visitors_are_scoped,
            messages_get_gapless_sequence_numbers_and_dedupe,
            message_effects_reopen_and_claim,
            conversation_list_views_unread_and_cursor,
            unread_counts_stop_at_a_hundred,
            concurrent_appends_stay_gapless_and_exactly_once,
            visitor_and_agent_messages_interleave_without_deadlock,
            login_failures_count_within_the_window,
            api_tokens_and_attachments,
            groups_are_scoped_and_keep_their_members,
            routing_assigns_within_capacity_queues_and_backfills,
            routing_replaces_an_assignee_and_explains_itself,
            concurrent_routing_never_exceeds_capacity,
            routing_reasons_persist_and_response_time_feeds_the_score,
            leases_have_one_holder_at_a_time,
            bot_phase_starts_ends_once_and_collects_questions,
            flows_and_flow_steps_are_scoped,
            kb_synonyms_round_trip_and_move_the_generation,
            workspace_hours_round_trip_and_claim_once,
            kb_is_scoped_to_its_workspace,
            kb_versions_publish_and_restore,
            kb_concurrent_updates_get_gapless_versions,
            kb_views_and_votes_count,
            kb_votes_count_once_per_voter,
            quick_replies_are_scoped_and_personal,
            auto_replies_are_scoped_ordered_and_counted,
        );
    };
    (@each $with_store:path, $($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            $with_store(|s| async move { $crate::$name(s).await }).await;
        }
    )*};
}

pub struct Fixture {
    pub ws: Workspace,
    pub admin: User,
    pub channel: Channel,
    pub visitor: Visitor,
}

pub fn user(ws: WorkspaceId, email: &str, role: Role) -> User {
    User {
        id: UserId::new(),
        workspace_id: ws,
        email: email.into(),
        name: email.split('@').next().unwrap().into(),
        role,
        status: AgentStatus::Online,
        avatar_url: None,
        capacity: 5,
        skills: vec![],
        created_at: now_millis(),
    }
}

pub async fn fixture(s: &DynStore, tag: &str) -> Fixture {
    let ws = Workspace {
        id: WorkspaceId::new(),
        name: tag.into(),
        created_at: now_millis(),
    };
    s.create_workspace(&ws).await.unwrap();
    let admin = user(
        ws.id,
        &format!("admin-{tag}-{}@x.test", ws.id.0.simple()),
        Role::Admin,
    );
    s.create_user(&admin, "hash").await.unwrap();
    let channel = Channel {
        id: ChannelId::new(),
        workspace_id: ws.id,
        kind: "website",
        name: format!("site {tag}"),
        widget_key: format!("wk_{}", ChannelId::new().0.simple()),
        color: "#123456".into(),
        welcome_text: "hi".into(),
        greeting_text: "need help?".into(),
        greeting_delay_secs: 5,
        allowed_origins: OriginList::parse(&["https://a.test"]).unwrap(),
        group_id: None,
        entry_points: vec![],
        bot: None,
        created_at: now_millis(),
    };
    s.create_channel(&channel).await.unwrap();
    let visitor = new_visitor(s, &channel, &format!("tok-{}", ChannelId::new().0)).await;
    Fixture {
        ws,
        admin,
        channel,
        visitor,
    }
}

pub async fn new_visitor(s: &DynStore, c: &Channel, token_hash: &str) -> Visitor {
    let id = VisitorId::new();
    let now = now_millis();
    let v = Visitor {
        id,
        workspace_id: c.workspace_id,
        channel_id: c.id,
        name: None,
        email: None,
        phone: None,
        tags: vec![],
        display_name: Visitor::default_display_name(id),
        current_url: Some("https://a.test/".into()),
        current_title: None,
        referrer: None,
        user_agent: None,
        browser: None,
        os: None,
        language: Some("zh-CN".into()),
        ip: None,
        first_seen_at: now,
        last_seen_at: now,
    };
    s.create_visitor(&v, token_hash).await.unwrap();
    v
}

fn visitor_sender(v: &Visitor) -> Sender {
    Sender {
        kind: SenderKind::Visitor,
        id: Some(v.id.0),
        name: None,
        avatar_url: None,
    }
}

fn agent_sender(u: &User) -> Sender {
    Sender {
        kind: SenderKind::Agent,
        id: Some(u.id.0),
        name: Some(u.name.clone()),
        avatar_url: None,
    }
}

pub fn visitor_msg(v: &Visitor, client_id: &str, body: &str) -> NewEvent {
    NewEvent::message(
        visitor_sender(v),
        ClientId::parse(client_id).unwrap(),
        MessageBody::parse(body).unwrap(),
        vec![],
    )
}

pub(crate) fn current(v: &Visitor) -> Target {
    Target::VisitorCurrent {
        channel_id: v.channel_id,
        visitor_id: v.id,
        group_id: None,
    }
}

pub async fn users_are_scoped_to_their_workspace(s: DynStore) {
    let a = fixture(&s, "a").await;
    let b = fixture(&s, "b").await;
    assert!(s.get_user(a.ws.id, a.admin.id).await.unwrap().is_some());
    assert!(
        s.get_user(b.ws.id, a.admin.id).await.unwrap().is_none(),
        "user visible from another workspace"
    );
    let dup = user(b.ws.id, &a.admin.email, Role::Agent);
    assert!(matches!(
        s.create_user(&dup, "h").await,
        Err(StoreError::Conflict(_))
    ));
    let creds = s
        .credentials_by_email(&Email::parse(&a.admin.email).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(creds.user.id, a.admin.id);
    assert_eq!(creds.password_hash, "hash");
    assert!(s
        .update_user(
            b.ws.id,
            a.admin.id,
            &UserPatch {
                name: Some("x".into()),
                ..Default::default()
            }
        )
        .await
        .unwrap()
        .is_none());
    let u = s
        .update_user(
            a.ws.id,
            a.admin.id,
            &UserPatch {
                role: Some(Role::Supervisor),
                capacity: Some(2),
                skills: Some(vec!["billing".into()]),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (u.capacity, u.skills.clone()),
        (2, vec!["billing".to_string()])
    );
    assert_eq!(
        (u.role, u.name.as_str()),
        (Role::Supervisor, a.admin.name.as_str())
    );
    assert_eq!(s.list_users(a.ws.id).await.unwrap().len(), 1);
    assert!(s.count_users().await.unwrap() >= 2);
}

pub async fn sessions_expire_and_password_change_revokes_others(s: DynStore) {
    let f = fixture(&s, "s").await;
    let now = now_millis();
    let mk = |h: &str, exp: Millis| Session {
        id_hash: h.into(),
        user_id: f.admin.id,
        workspace_id: f.ws.id,
        csrf_token: "c".into(),
        created_at: now,
        expires_at: exp,
    };
    let tag = f.ws.id.0.simple().to_string();
    let (s1, s2, old) = (format!("s1{tag}"), format!("s2{tag}"), format!("old{tag}"));
    s.create_session(&mk(&s1, now + 60_000)).await.unwrap();
    s.create_session(&mk(&s2, now + 60_000)).await.unwrap();
    s.create_session(&mk(&old, now - 1)).await.unwrap();
    assert!(
        s.session(&old, now).await.unwrap().is_none(),
        "expired session accepted"
    );
    let (sess, u) = s.session(&s1, now).await.unwrap().unwrap();
    assert_eq!((sess.user_id, u.id), (f.admin.id, f.admin.id));
    s.set_password(f.admin.id, "new-hash", Some(&s1))
        .await
        .unwrap();
    assert!(
        s.session(&s1, now).await.unwrap().is_some(),
        "kept session was revoked"
    );
    assert!(
        s.session(&s2, now).await.unwrap().is_none(),
        "other session survived a password change"
    );
    assert_eq!(
        s.password_hash(f.ws.id, f.admin.id).await.unwrap().unwrap(),
        "new-hash"
    );
    s.set_password(f.admin.id, "h3", None).await.unwrap();
    assert!(s.session(&s1, now).await.unwrap().is_none());
    s.create_session(&mk(&s2, now + 10)).await.unwrap();
    s.extend_session(&s2, now + 90_000).await.unwrap();
    assert_eq!(
        s.session(&s2, now + 50_000)
            .await
            .unwrap()
            .unwrap()
            .0
            .expires_at,
        now + 90_000
    );
    s.delete_session(&s2).await.unwrap();
    assert!(s.session(&s2, now).await.unwrap().is_none());
}

pub async fn channels_and_visitors_are_scoped(s: DynStore) {
    let a = fixture(&s, "ca").await;
    let b = fixture(&s, "cb").await;
    assert!(s
        .get_channel(b.ws.id, a.channel.id)
        .await
        .unwrap()
        .is_none());
    let by_key = s
        .channel_by_key(&a.channel.widget_key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_key.allowed_origins.as_slice(), ["https://a.test"]);
    let patch = ChannelPatch {
        name: Some("New".into()),
        color: None,
        welcome_text: None,
        greeting_text: Some("有什么可以帮您？".into()),
        greeting_delay_secs: None,
        allowed_origins: Some(OriginList::default()),
        group_id: None,
        entry_points: None,
        bot: None,
    };
    assert!(s
        .update_channel(b.ws.id, a.channel.id, &patch)
        .await
        .unwrap()
        .is_none());
    let c = s
        .update_channel(a.ws.id, a.channel.id, &patch)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((c.name.as_str(), c.color.as_str()), ("New", "#123456"));
    // The greeting changes alone; its delay is kept.
    assert_eq!(
        (c.greeting_text.as_str(), c.greeting_delay_secs),
        ("有什么可以帮您？", 5)
    );
    assert!(c.allowed_origins.as_slice().is_empty());
    assert_eq!(s.list_channels(a.ws.id).await.unwrap().len(), 1);

    assert!(s
        .get_visitor(b.ws.id, a.visitor.id)
        .await
        .unwrap()
        .is_none());
    let tok = format!("t{}", a.visitor.id.0);
    let v = new_visitor(&s, &a.channel, &tok).await;
    assert_eq!(s.visitor_by_token(&tok).await.unwrap().unwrap().id, v.id);
    let ctx = VisitorContext {
        url: Some("https://a.test/cart".into()),
        title: Some("Cart".into()),
        ..Default::default()
    };
    let t = s
        .touch_visitor(a.ws.id, v.id, &ctx, v.last_seen_at + 5)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.current_url.as_deref(), Some("https://a.test/cart"));
    assert_eq!(
        t.language.as_deref(),
        Some("zh-CN"),
        "unset fields must be kept"
    );
    assert_eq!(t.last_seen_at, v.last_seen_at + 5);
    assert!(s
        .touch_visitor(b.ws.id, v.id, &ctx, 0)
        .await
        .unwrap()
        .is_none());
}

pub async fn messages_get_gapless_sequence_numbers_and_dedupe(s: DynStore) {
    let f = fixture(&s, "m").await;
    let other = fixture(&s, "m2").await;
    let now = now_millis();
    let fx = MessageEffects::default();
    let a = s
        .append_message(
            f.ws.id,
            current(&f.visitor),
            &visitor_msg(&f.visitor, "c1", "你好"),
            &fx,
            now,
        )
        .await
        .unwrap();
    assert!(a.created_conversation && !a.duplicate);
    assert_eq!((a.message.seq, a.conversation.last_seq), (1, 1));
    let conv = a.conversation.id;
    let b = s
        .append_message(
            f.ws.id,
            current(&f.visitor),
            &visitor_msg(&f.visitor, "c2", "second"),
            &fx,
            now,
        )
        .await
        .unwrap();
    assert_eq!(
        (b.message.seq, b.conversation.id, b.created_conversation),
        (2, conv, false)
    );
    let dup = s
        .append_message(
            f.ws.id,
            Target::Conversation(conv),
            &visitor_msg(&f.visitor, "c1", "你好"),
            &fx,
            now,
        )
        .await
        .unwrap();
    assert!(dup.duplicate);
    assert_eq!((dup.message.id, dup.message.seq), (a.message.id, 1));
    assert!(dup.events.is_empty());

    let all = s.events_after(f.ws.id, conv, 0, 100).await.unwrap();
    assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(all[0].body.as_deref(), Some("你好"));
    assert_eq!(all[0].client_id.as_deref(), Some("c1"));
    assert_eq!(
        s.events_after(f.ws.id, conv, 1, 100).await.unwrap().len(),
        1
    );
    assert_eq!(
        s.events_before(f.ws.id, conv, 2, 10).await.unwrap()[0].seq,
        1
    );
    // Another workspace sees nothing and cannot write.
    assert!(s
        .events_after(other.ws.id, conv, 0, 100)
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .get_conversation(other.ws.id, conv)
        .await
        .unwrap()
        .is_none());
    let r = s
        .append_message(
            other.ws.id,
            Target::Conversation(conv),
            &visitor_msg(&other.visitor, "x", "x"),
            &fx,
            now,
        )
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)));
    // Another visitor of the same workspace cannot write into it either; its owner can.
    let stranger = new_visitor(&s, &f.channel, "tok-stranger").await;
    let into = |v: &Visitor| Target::VisitorConversation {
        id: conv,
        visitor_id: v.id,
    };
    let r = s
        .append_message(
            f.ws.id,
            into(&stranger),
            &visitor_msg(&stranger, "s1", "x"),
            &fx,
            now,
        )
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)));
    assert_eq!(
        s.get_conversation(f.ws.id, conv)
            .await
            .unwrap()
            .unwrap()
            .last_seq,
        2
    );
    let own = s
        .append_message(
            f.ws.id,
            into(&f.visitor),
            &visitor_msg(&f.visitor, "own", "mine"),
            &fx,
            now,
        )
        .await
        .unwrap();
    assert_eq!((own.conversation.id, own.message.seq), (conv, 3));
}

pub async fn message_effects_reopen_and_claim(s: DynStore) {
    let f = fixture(&s, "e").await;
    let now = now_millis();
    let a = s
        .append_message(
            f.ws.id,
            current(&f.visitor),
            &visitor_msg(&f.visitor, "v1", "hi"),
            &MessageEffects::default(),
            now,
        )
        .await
        .unwrap();
    let conv = a.conversation.id;
    let agent = f.admin.clone();
    let reply = NewEvent::message(
        agent_sender(&agent),
        ClientId::parse("a1").unwrap(),
        MessageBody::parse("hello").unwrap(),
        vec![],
    );
    let fx = MessageEffects {
        reopen: true,
        claim_by: Some(agent.as_ref()),
        start_bot: false,
    };
    let r = s
        .append_message(f.ws.id, Target::Conversation(conv), &reply, &fx, now)
        .await
        .unwrap();
    assert_eq!(
        r.events.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![EventKind::Assignment, EventKind::Message]
    );
    assert_eq!(r.conversation.assignee_id, Some(agent.id));
    assert_eq!(r.events[1].seq, 3);

    let resolve = NewEvent::status(agent_sender(&agent), ConversationStatus::Resolved);
    let (e, c) = s
        .append_change(f.ws.id, conv, &resolve, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((e.seq, c.status), (4, ConversationStatus::Resolved));
    assert!(
        s.append_change(f.ws.id, conv, &resolve, now)
            .await
            .unwrap()
            .is_none(),
        "no-op change stored"
    );

    let back = s
        .append_message(
            f.ws.id,
            current(&f.visitor),
            &visitor_msg(&f.visitor, "v2", "again"),
            &MessageEffects {
                reopen: true,
                claim_by: None,
                start_bot: false,
            },
            now,
        )
        .await
        .unwrap();
    assert_eq!(
        back.events
            .iter()
            .map(|e| (e.seq, e.kind))
            .collect::<Vec<_>>(),
        vec![(5, EventKind::Status), (6, EventKind::Message)]
    );
    assert_eq!(back.conversation.status, ConversationStatus::Open);
    let stored = s.get_conversation(f.ws.id, conv).await.unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.assignee_id, stored.last_seq),
        (ConversationStatus::Open, Some(agent.id), 6)
    );
}

pub async fn conversation_list_views_unread_and_cursor(s: DynStore) {
    let f = fixture(&s, "l").await;
    let agent = user(
        f.ws.id,
        &format!("ag-{}@x.test", f.ws.id.0.simple()),
        Role::Agent,
    );
    s.create_user(&agent, "h").await.unwrap();
    let mut convs = Vec::new();
    for i in 0..5 {
        let v = new_visitor(&s, &f.channel, &format!("l{i}-{}", f.ws.id.0)).await;
        let a = s
            .append_message(
                f.ws.id,
                current(&v),
                &visitor_msg(&v, "m1", &format!("hello {i}")),
                &MessageEffects::default(),
                now_millis() + i,
            )
            .await
            .unwrap();
        convs.push(a.conversation.id);
    }
    // The agent takes the first two.
    for c in &convs[..2] {
        s.append_change(
            f.ws.id,
            *c,
            &NewEvent::assignment(agent_sender(&agent), Some(agent.as_ref())),
            now_millis() + 10,
        )
        .await
        .unwrap();
    }
    let q = |view, before| ConversationQuery {
        viewer: agent.id,
        view,
        status: ConversationStatus::Open,
        before,
        limit: 3,
    };
    let all = s
        .list_conversations(f.ws.id, &q(View::All, None))
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    let last = all.last().unwrap();
    let rest = s
        .list_conversations(f.ws.id, &q(View::All, Some((last.updated_at, last.id))))
        .await
        .unwrap();
    assert_eq!(rest.len(), 2);
    let mut seen: Vec<_> = all.iter().chain(rest.iter()).map(|c| c.id).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "cursor pages overlap or skip");
    let mine = s
        .list_conversations(f.ws.id, &q(View::Mine, None))
        .await
        .unwrap();
    assert_eq!(mine.len(), 2);
    assert!(mine
        .iter()
        .all(|c| c.assignee.as_ref().map(|a| a.id) == Some(agent.id)));
    assert_eq!(
        s.list_conversations(
            f.ws.id,
            &ConversationQuery {
                limit: 10,
                ..q(View::Unassigned, None)
            }
        )
        .await
        .unwrap()
        .len(),
        3
    );
    let resolved = ConversationQuery {
        status: ConversationStatus::Resolved,
        ..q(View::All, None)
    };
    assert!(s
        .list_conversations(f.ws.id, &resolved)
        .await
        .unwrap()
        .is_empty());

    let c0 = s
        .conversation_summary(f.ws.id, convs[0], agent.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c0.unread_count, 1);
    assert_eq!(c0.last_message.as_ref().unwrap().body, "hello 0");
    s.mark_read(f.ws.id, convs[0], agent.id, c0.last_seq)
        .await
        .unwrap();
    s.mark_read(f.ws.id, convs[0], agent.id, 0).await.unwrap(); // never moves backwards
    assert_eq!(
        s.conversation_summary(f.ws.id, convs[0], agent.id)
            .await
            .unwrap()
            .unwrap()
            .unread_count,
        0
    );
    assert_eq!(
        s.conversation_summary(f.ws.id, convs[0], f.admin.id)
            .await
            .unwrap()
            .unwrap()
            .unread_count,
        1,
        "read state is per user"
    );
    // The inbox line: one summary for a viewer who never read it, plus the readers' own
    // counts; in the order asked for, several at once.
    let lines = s.inbox_lines(f.ws.id, &[convs[1], convs[0]]).await.unwrap();
    let ids: Vec<_> = lines.iter().map(|l| l.summary.id).collect();
    assert_eq!(ids, vec![convs[1], convs[0]]);
    assert_eq!(lines[1].summary.unread_count, 1, "as nobody read it");
    assert_eq!(lines[1].unread_by_reader, vec![(agent.id, 0)]);
    assert!(lines[0].unread_by_reader.is_empty());
    assert_eq!(
        lines[1].summary.last_message.as_ref().unwrap().body,
        "hello 0"
    );
    let other = fixture(&s, "l2").await;
    assert!(s
        .inbox_lines(other.ws.id, &[convs[0]])
        .await
        .unwrap()
        .is_empty());
    let missing = ConversationId::new();
    let mixed = s.inbox_lines(f.ws.id, &[missing, convs[2]]).await.unwrap();
    assert_eq!(mixed.len(), 1);
    assert_eq!(mixed[0].summary.id, convs[2]);
    assert!(s
        .conversation_summary(other.ws.id, convs[0], agent.id)
        .await
        .unwrap()
        .is_none());
    assert!(s
        .list_conversations(other.ws.id, &q(View::All, None))
        .await
        .unwrap()
        .is_empty());
}

/// Unread counts are exact up to `UNREAD_CAP` (100) and stop there.
pub async fn unread_counts_stop_at_a_hundred(s: DynStore) {
    let f = fixture(&s, "u").await;
    let mut seqs = Vec::new();
    let mut conv = None;
    for i in 0..103 {
        let a = s
            .append_message(
                f.ws.id,
                current(&f.visitor),
                &visitor_msg(&f.visitor, &format!("u{i}"), "more"),
                &MessageEffects::default(),
                now_millis(),
            )
            .await
            .unwrap();
        seqs.push(a.message.seq);
        conv = Some(a.conversation.id);
    }
    let conv = conv.unwrap();
    let unread = || async {
        s.conversation_summary(f.ws.id, conv, f.admin.id)
            .await
            .unwrap()
            .unwrap()
            .unread_count
    };
    assert_eq!(unread().await, 100, "103 unread, counted to 100");
    // 102 unread stop at 100; 99 are exact.
    for (read_to, expected) in [(seqs[0], 100), (seqs[3], 99)] {
        s.mark_read(f.ws.id, conv, f.admin.id, read_to)
            .await
            .unwrap();
        assert_eq!(unread().await, expected);
        let line = s.inbox_lines(f.ws.id, &[conv]).await.unwrap();
        assert_eq!(line[0].unread_by_reader, vec![(f.admin.id, expected)]);
    }
}

pub async fn concurrent_appends_stay_gapless_and_exactly_once(s: DynStore) {
    let f = fixture(&s, "c").await;
    let first = s
        .append_message(
            f.ws.id,
            current(&f.visitor),
            &visitor_msg(&f.visitor, "seed", "x"),
            &MessageEffects::default(),
            now_millis(),
        )
        .await
        .unwrap();
    let conv = first.conversation.id;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let s = s.clone();
        let v = f.visitor.clone();
        let ws = f.ws.id;
        // Every message is sent twice at once, as a client retrying would.
        let cid = format!("m{}", i / 2);
        tasks.push(tokio::spawn(async move {
            s.append_message(
                ws,
                Target::Conversation(conv),
                &visitor_msg(&v, &cid, &cid),
                &MessageEffects::default(),
                now_millis(),
            )
            .await
            .unwrap()
        }));
    }
    // Messages that fail (here: to a conversation that does not exist) at the same moment
    // change nothing and do not take the others down (SQLite commits messages in batches).
    let mut failing = Vec::new();
    for i in 0..10 {
        let s = s.clone();
        let v = f.visitor.clone();
        let ws = f.ws.id;
        failing.push(tokio::spawn(async move {
            s.append_message(
                ws,
                Target::Conversation(ConversationId::new()),
                &visitor_msg(&v, &format!("lost{i}"), "nowhere"),
                &MessageEffects::default(),
                now_millis(),
            )
            .await
        }));
    }
    let mut stored = 0;
    for t in tasks {
        if !t.await.unwrap().duplicate {
            stored += 1;
        }
    }
    for t in failing {
        assert!(matches!(t.await.unwrap(), Err(StoreError::NotFound)));
    }
    assert_eq!(stored, 20, "each client id stored exactly once");
    let events = s.events_after(f.ws.id, conv, 0, 1000).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=21).collect::<Vec<_>>()
    );
    let mut ids: Vec<_> = events.iter().filter_map(|e| e.client_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 21);
}

/// A visitor writing (which starts from the visitor's row) while an agent replies (which starts
/// from the conversation's row) at the same moment: every message is stored, none is refused
/// because the two paths locked the same rows in opposite orders.
pub async fn visitor_and_agent_messages_interleave_without_deadlock(s: DynStore) {
    let f = fixture(&s, "d").await;
    let seed = s
        .append_message(
            f.ws.id,
            current(&f.visitor),
            &visitor_msg(&f.visitor, "seed", "x"),
            &MessageEffects::default(),
            now_millis(),
        )
        .await
        .unwrap();
    let conv = seed.conversation.id;
    let mut tasks = Vec::new();
    for round in 0..4 {
        for i in 0..12 {
            let (s, v, agent, ws) = (s.clone(), f.visitor.clone(), f.admin.clone(), f.ws.id);
            tasks.push(tokio::spawn(async move {
                let (target, msg) = if i % 2 == 0 {
                    let cid = format!("v{round}-{i}");
                    (current(&v), visitor_msg(&v, &cid, &cid))
                } else {
                    let reply = NewEvent::message(
                        agent_sender(&agent),
                        ClientId::parse(&format!("a{round}-{i}")).unwrap(),
                        MessageBody::parse("reply").unwrap(),
                        vec![],
                    );
                    (Target::Conversation(conv), reply)
                };
                s.append_message(ws, target, &msg, &MessageEffects::default(), now_millis())
                    .await
            }));
        }
    }
    for t in tasks {
        let r = t.await.unwrap().expect("every message is stored");
        assert_eq!(r.conversation.id, conv);
    }
    let seqs: Vec<i64> = s
        .events_after(f.ws.id, conv, 0, 1000)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, (1..=49).collect::<Vec<_>>());
}

pub async fn login_failures_count_within_the_window(s: DynStore) {
    let (a, b) = ("digest-a".to_owned(), "digest-b".to_owned());
    let t = 1_000_000;
    s.record_login_failure(&[a.clone(), b.clone()], t, 0)
        .await
        .unwrap();
    s.record_login_failure(std::slice::from_ref(&a), t + 10, 0)
        .await
        .unwrap();
    assert_eq!(s.login_failures(&a, t).await.unwrap(), (2, Some(t)));
    assert_eq!(
        s.login_failures(&a, t + 5).await.unwrap(),
        (1, Some(t + 10))
    );
    assert_eq!(s.login_failures(&b, t).await.unwrap(), (1, Some(t)));
    assert_eq!(s.login_failures("digest-c", 0).await.unwrap(), (0, None));
    s.clear_login_failures(&a).await.unwrap();
    assert_eq!(s.login_failures(&a, 0).await.unwrap(), (0, None));
    assert_eq!(
        s.login_failures(&b, 0).await.unwrap().0,
        1,
        "other keys stay"
    );
    // A later failure forgets everything older than the window, whatever its key.
    s.record_login_failure(std::slice::from_ref(&a), t + 500, t + 100)
        .await
        .unwrap();
    assert_eq!(s.login_failures(&b, 0).await.unwrap(), (0, None));
}

pub async fn api_tokens_and_attachments(s: DynStore) {
    let f = fixture(&s, "t").await;
    let other = fixture(&s, "t2").await;
    let t = ApiToken {
        id: TokenId::new(),
        name: "ci".into(),
        created_at: now_millis(),
        last_used_at: None,
    };
    let hash = format!("h{}", t.id.0);
    s.create_token(f.ws.id, f.admin.id, &t, &hash)
        .await
        .unwrap();
    assert_eq!(
        s.token_user(&hash, 42).await.unwrap().unwrap().id,
        f.admin.id
    );
    assert_eq!(
        s.list_tokens(f.ws.id, f.admin.id).await.unwrap()[0].last_used_at,
        Some(42)
    );
    assert!(!s
        .delete_token(other.ws.id, other.admin.id, t.id)
        .await
        .unwrap());
    assert!(s.delete_token(f.ws.id, f.admin.id, t.id).await.unwrap());
    assert!(s.token_user(&hash, 43).await.unwrap().is_none());

    let a = Attachment {
        id: AttachmentId::new(),
        workspace_id: f.ws.id,
        uploader: visitor_sender(&f.visitor),
        filename: "a.png".into(),
        content_type: "image/png".into(),
        size: 10,
        key: "k".into(),
        created_at: now_millis(),
    };
    s.create_attachment(&a).await.unwrap();
    let got = s.get_attachment(a.id).await.unwrap().unwrap();
    assert_eq!(
        (got.workspace_id, got.uploader.id, got.size),
        (f.ws.id, f.visitor.id.0.into(), 10)
    );
    let msg = NewEvent::message(
        visitor_sender(&f.visitor),
        ClientId::parse("att").unwrap(),
        MessageBody::parse("").unwrap(),
        vec![got.public()],
    );
    let r = s
        .append_message(
            f.ws.id,
            current(&f.visitor),
            &msg,
            &MessageEffects::default(),
            now_millis(),
        )
        .await
        .unwrap();
    let e = &s
        .events_after(f.ws.id, r.conversation.id, 0, 10)
        .await
        .unwrap()[0];
    assert_eq!(e.attachments, vec![got.public()]);
    let summary = s
        .conversation_summary(f.ws.id, r.conversation.id, f.admin.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(summary.last_message.unwrap().body, "[a.png]");
    // A long message's preview is its first 200 characters (not bytes); a status change
    // leaves the preview alone.
    let long = format!("{}尾巴", "问".repeat(199));
    s.append_message(
        f.ws.id,
        current(&f.visitor),
        &visitor_msg(&f.visitor, "long", &long),
        &MessageEffects::default(),
        now_millis(),
    )
    .await
    .unwrap();
    s.append_change(
        f.ws.id,
        r.conversation.id,
        &NewEvent::status(agent_sender(&f.admin), ConversationStatus::Resolved),
        now_millis(),
    )
    .await
    .unwrap();
    let last = s
        .conversation_summary(f.ws.id, r.conversation.id, f.admin.id)
        .await
        .unwrap()
        .unwrap()
        .last_message
        .unwrap();
    assert_eq!(last.body, format!("{}尾", "问".repeat(199)));
}
