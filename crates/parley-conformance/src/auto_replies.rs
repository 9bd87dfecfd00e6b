//! Keyword auto-replies: workspace scoping, order, round trip of every field, and hit counts
//! that add up under concurrent messages.

use crate::{fixture, DynStore};
use parley_domain::*;

fn rule(ws: WorkspaceId, position: i32, name: &str, mode: MatchMode) -> AutoReply {
    AutoReply {
        id: AutoReplyId::new(),
        workspace_id: ws,
        position,
        name: name.into(),
        keywords: vec!["退款".into(), "refund".into()],
        mode,
        channel_ids: vec![],
        window: None,
        visitor_tags: vec!["VIP".into()],
        reply: "{visitor.name|您好}，退款请看这里".into(),
        buttons: vec!["人工".into()],
        enabled: true,
        hits: 0,
        created_at: 1_000,
        updated_at: 2_000,
    }
}

pub async fn auto_replies_are_scoped_ordered_and_counted(s: DynStore) {
    let a = fixture(&s, "ara").await;
    let b = fixture(&s, "arb").await;
    assert!(s.list_auto_replies(a.ws.id).await.unwrap().is_empty());

    let mut first = rule(a.ws.id, 0, "退款", MatchMode::Contains);
    first.channel_ids = vec![a.channel.id];
    first.window = Some(TimeWindow::parse(22 * 60, 6 * 60, "Asia/Shanghai").unwrap());
    first.hits = 7;
    let mut second = rule(a.ws.id, 1, "订单", MatchMode::Regex);
    second.keywords = vec![r"订单\d+".into()];
    second.enabled = false;
    s.replace_auto_replies(a.ws.id, &[second.clone(), first.clone()])
        .await
        .unwrap();
    let other = rule(b.ws.id, 0, "other", MatchMode::Exact);
    s.replace_auto_replies(b.ws.id, std::slice::from_ref(&other))
        .await
        .unwrap();

    // Every field round-trips; listed by position; nothing of the other workspace.
    assert_eq!(
        s.list_auto_replies(a.ws.id).await.unwrap(),
        vec![first.clone(), second.clone()]
    );
    assert_eq!(
        s.list_auto_replies(b.ws.id).await.unwrap(),
        vec![other.clone()]
    );

    // Hits: only in the rule's own workspace, and none lost when counted at once.
    assert!(!s.count_auto_reply_hit(b.ws.id, first.id).await.unwrap());
    let counts = (0..20).map(|_| {
        let s = s.clone();
        let (ws, id) = (a.ws.id, first.id);
        tokio::spawn(async move { s.count_auto_reply_hit(ws, id).await.unwrap() })
    });
    for c in counts {
        assert!(c.await.unwrap());
    }
    let listed = s.list_auto_replies(a.ws.id).await.unwrap();
    assert_eq!(listed[0].hits, 27);
    assert_eq!(s.list_auto_replies(b.ws.id).await.unwrap()[0].hits, 0);

    // Replacing drops what is not given; b is untouched.
    s.replace_auto_replies(a.ws.id, &[second.clone()])
        .await
        .unwrap();
    assert_eq!(s.list_auto_replies(a.ws.id).await.unwrap(), vec![second]);
    assert!(!s.count_auto_reply_hit(a.ws.id, first.id).await.unwrap());
    s.replace_auto_replies(a.ws.id, &[]).await.unwrap();
    assert!(s.list_auto_replies(a.ws.id).await.unwrap().is_empty());
    assert_eq!(s.list_auto_replies(b.ws.id).await.unwrap(), vec![other]);
}
