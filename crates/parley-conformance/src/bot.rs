//! The FAQ bot's state on conversations and its unanswered questions.

use crate::*;

fn starting_bot() -> MessageEffects {
    MessageEffects {
        reopen: true,
        claim_by: None,
        start_bot: true,
    }
}

pub async fn bot_phase_starts_ends_once_and_collects_questions(s: DynStore) {
    let f = fixture(&s, "bot").await;
    let other = fixture(&s, "bot-other").await;
    let now = now_millis();
    let target = Target::VisitorCurrent {
        channel_id: f.visitor.channel_id,
        visitor_id: f.visitor.id,
        group_id: None,
    };
    // The message that creates the conversation starts the bot; buttons survive the round trip.
    let a = s
        .append_message(
            f.ws.id,
            target,
            &visitor_msg(&f.visitor, "b1", "怎么退货"),
            &starting_bot(),
            now,
        )
        .await
        .unwrap();
    assert!(a.created_conversation && a.conversation.bot_active);
    let id = a.conversation.id;
    let reply = NewEvent::bot(
        "小智",
        ClientId::parse("bot-1").unwrap(),
        MessageBody::parse("7 天内可退货").unwrap(),
        vec![
            Button {
                label: "发货时间".into(),
                url: None,
            },
            Button {
                label: "查看全文".into(),
                url: Some("/help/x".into()),
            },
        ],
    );
    let r = s
        .append_message(
            f.ws.id,
            Target::Conversation(id),
            &reply,
            &MessageEffects::default(),
            now,
        )
        .await
        .unwrap();
    assert!(
        r.conversation.bot_active,
        "the bot's own message keeps its phase"
    );
    let events = s.events_after(f.ws.id, id, 0, 10).await.unwrap();
    assert_eq!(events[1].sender.kind, SenderKind::Bot);
    assert_eq!(events[1].buttons, reply.buttons);
    assert!(events[0].buttons.is_empty());

    // Misses are counted on the conversation, only while the bot has it, and only in its workspace.
    assert!(s.set_bot_misses(f.ws.id, id, 1).await.unwrap());
    assert!(!s.set_bot_misses(other.ws.id, id, 2).await.unwrap());
    let c = s.get_conversation(f.ws.id, id).await.unwrap().unwrap();
    assert_eq!((c.bot_active, c.bot_misses), (true, 1));

    // Ending it: exactly one of several concurrent callers wins.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = s.clone();
        let ws = f.ws.id;
        tasks.push(tokio::spawn(
            async move { s.end_bot(ws, id).await.unwrap() },
        ));
    }
    let mut won = 0;
    for t in tasks {
        won += t.await.unwrap() as usize;
    }
    assert_eq!(won, 1);
    let c = s.get_conversation(f.ws.id, id).await.unwrap().unwrap();
    assert_eq!((c.bot_active, c.bot_misses), (false, 0));
    assert!(!s.set_bot_misses(f.ws.id, id, 1).await.unwrap());

    // A later message in the same (open) conversation does not restart the bot.
    let a = s
        .append_message(
            f.ws.id,
            Target::Conversation(id),
            &visitor_msg(&f.visitor, "b2", "还在吗"),
            &starting_bot(),
            now,
        )
        .await
        .unwrap();
    assert!(!a.conversation.bot_active);

    // Unanswered questions: newest first, scoped, linked only to the workspace's own articles.
    let q = |text: &str, at: Millis| Unanswered {
        id: UnansweredId::new(),
        workspace_id: f.ws.id,
        channel_id: f.channel.id,
        conversation_id: id,
        question: text.into(),
        article_id: None,
        resolved_at: None,
        created_at: at,
    };
    let first = q("火星仓库营业吗", now);
    let second = q("量子加速器", now + 1);
    s.add_unanswered(&first).await.unwrap();
    s.add_unanswered(&second).await.unwrap();
    let open = s.list_unanswered(f.ws.id, false, 10).await.unwrap();
    assert_eq!(open, vec![second.clone(), first.clone()]);
    assert!(s
        .list_unanswered(other.ws.id, true, 10)
        .await
        .unwrap()
        .is_empty());

    let foreign = article_in(&s, &other).await;
    assert!(!s
        .resolve_unanswered(f.ws.id, first.id, Some(foreign), now)
        .await
        .unwrap());
    assert!(!s
        .resolve_unanswered(other.ws.id, first.id, None, now)
        .await
        .unwrap());
    let own = article_in(&s, &f).await;
    assert!(s
        .resolve_unanswered(f.ws.id, first.id, Some(own), now + 5)
        .await
        .unwrap());
    assert_eq!(
        s.list_unanswered(f.ws.id, false, 10).await.unwrap(),
        vec![second.clone()]
    );
    let all = s.list_unanswered(f.ws.id, true, 10).await.unwrap();
    let linked = all.iter().find(|x| x.id == first.id).unwrap();
    assert_eq!(
        (linked.article_id, linked.resolved_at),
        (Some(own), Some(now + 5))
    );
}

async fn article_in(s: &DynStore, f: &Fixture) -> ArticleId {
    let a = Article {
        id: ArticleId::new(),
        workspace_id: f.ws.id,
        category_id: None,
        locale: KbLocale::ZhCn,
        title: "退货".into(),
        body_markdown: "7 天".into(),
        keywords: vec![],
        tags: vec![],
        status: ArticleStatus::Draft,
        version: 1,
        published_version: None,
        published_at: None,
        views: 0,
        helpful_yes: 0,
        helpful_no: 0,
        created_at: now_millis(),
        updated_at: now_millis(),
    };
    s.create_kb_article(&a, f.admin.id).await.unwrap();
    a.id
}

pub async fn flows_and_flow_steps_are_scoped(s: DynStore) {
    use parley_domain::flow::{Flow, FlowStep};
    let f = fixture(&s, "flows").await;
    let other = fixture(&s, "flows-other").await;
    let flows = vec![Flow {
        id: "account".into(),
        name: "账户".into(),
        enabled: true,
        triggers: vec!["账号".into()],
        steps: vec![FlowStep {
            id: "start".into(),
            text: "哪类问题？".into(),
            options: vec![],
        }],
    }];
    assert!(s.flows(f.ws.id).await.unwrap().is_empty());
    s.replace_flows(f.ws.id, &flows, now_millis())
        .await
        .unwrap();
    assert_eq!(s.flows(f.ws.id).await.unwrap(), flows);
    assert!(s.flows(other.ws.id).await.unwrap().is_empty());
    s.replace_flows(f.ws.id, &[], now_millis()).await.unwrap();
    assert!(s.flows(f.ws.id).await.unwrap().is_empty());

    let a = s
        .append_message(
            f.ws.id,
            current(&f.visitor),
            &visitor_msg(&f.visitor, "fl1", "账号"),
            &MessageEffects::default(),
            now_millis(),
        )
        .await
        .unwrap();
    let id = a.conversation.id;
    assert_eq!(s.flow_state(f.ws.id, id).await.unwrap(), None);
    s.set_flow_state(f.ws.id, id, Some(("account", "start")))
        .await
        .unwrap();
    s.set_flow_state(f.ws.id, id, Some(("account", "login")))
        .await
        .unwrap();
    assert_eq!(
        s.flow_state(f.ws.id, id).await.unwrap(),
        Some(("account".into(), "login".into()))
    );
    // Another workspace neither sees nor moves it.
    assert_eq!(s.flow_state(other.ws.id, id).await.unwrap(), None);
    s.set_flow_state(other.ws.id, id, None).await.unwrap();
    s.set_flow_state(other.ws.id, id, Some(("x", "y")))
        .await
        .unwrap();
    assert_eq!(
        s.flow_state(f.ws.id, id).await.unwrap(),
        Some(("account".into(), "login".into()))
    );
    s.set_flow_state(f.ws.id, id, None).await.unwrap();
    assert_eq!(s.flow_state(f.ws.id, id).await.unwrap(), None);
}

pub async fn kb_synonyms_round_trip_and_move_the_generation(s: DynStore) {
    let f = fixture(&s, "syn").await;
    let other = fixture(&s, "syn-other").await;
    assert_eq!(s.kb_synonyms(f.ws.id).await.unwrap(), "");
    let before = s.kb_generation(f.ws.id).await.unwrap();
    assert!(s.set_kb_synonyms(f.ws.id, "退款, 退钱").await.unwrap());
    assert_eq!(s.kb_synonyms(f.ws.id).await.unwrap(), "退款, 退钱");
    assert!(s.kb_generation(f.ws.id).await.unwrap() > before);
    assert_eq!(s.kb_synonyms(other.ws.id).await.unwrap(), "");
    assert!(!s.set_kb_synonyms(WorkspaceId::new(), "x, y").await.unwrap());
}
