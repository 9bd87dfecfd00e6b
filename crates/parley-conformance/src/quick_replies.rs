//! Quick replies: workspace scoping, team plus the caller's own personal replies in listings,
//! updates and deletes.

use crate::{fixture, user, DynStore};
use parley_domain::*;

fn reply(ws: WorkspaceId, owner: Option<UserId>, shortcut: &str, category: &str) -> QuickReply {
    let c = QuickReplyContent::parse(shortcut, shortcut, "您好，{visitor.name}", category).unwrap();
    QuickReply::new(ws, owner, c, now_millis())
}

pub async fn quick_replies_are_scoped_and_personal(s: DynStore) {
    let a = fixture(&s, "qra").await;
    let b = fixture(&s, "qrb").await;
    let agent = user(
        a.ws.id,
        &format!("qr-{}@x.test", a.ws.id.0.simple()),
        Role::Agent,
    );
    s.create_user(&agent, "hash").await.unwrap();

    let team = reply(a.ws.id, None, "hi", "问候");
    let mine = reply(a.ws.id, Some(agent.id), "bye", "");
    let admins = reply(a.ws.id, Some(a.admin.id), "refund", "售后");
    let other_ws = reply(b.ws.id, None, "hi", "问候");
    for r in [&team, &mine, &admins, &other_ws] {
        s.create_quick_reply(r).await.unwrap();
    }

    // Round trip.
    let got = s.get_quick_reply(a.ws.id, mine.id).await.unwrap().unwrap();
    assert_eq!(got, mine);
    assert_eq!(got.scope, ReplyScope::Personal);
    assert_eq!(
        s.get_quick_reply(a.ws.id, team.id)
            .await
            .unwrap()
            .unwrap()
            .scope,
        ReplyScope::Team
    );

    // The team's replies and one's own, oldest first.
    let ids = |v: Vec<QuickReply>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.list_quick_replies(a.ws.id, agent.id).await.unwrap()),
        vec![team.id, mine.id]
    );
    assert_eq!(
        ids(s.list_quick_replies(a.ws.id, a.admin.id).await.unwrap()),
        vec![team.id, admins.id]
    );
    assert_eq!(
        ids(s.list_quick_replies(b.ws.id, b.admin.id).await.unwrap()),
        vec![other_ws.id]
    );

    // Another workspace's id is not found, for reading, writing and deleting.
    assert!(s.get_quick_reply(b.ws.id, team.id).await.unwrap().is_none());
    let mut foreign = team.clone();
    foreign.workspace_id = b.ws.id;
    foreign.text = "改了".into();
    assert!(!s.update_quick_reply(&foreign).await.unwrap());
    assert!(!s.delete_quick_reply(b.ws.id, team.id).await.unwrap());
    assert_eq!(
        s.get_quick_reply(a.ws.id, team.id)
            .await
            .unwrap()
            .unwrap()
            .text,
        team.text
    );

    // Update writes the editable fields.
    let mut changed = team.clone();
    changed.shortcut = "hello".into();
    changed.title = "问候语".into();
    changed.text = "{agent.name}为您服务".into();
    changed.category = "常用".into();
    changed.updated_at = team.updated_at + 5;
    assert!(s.update_quick_reply(&changed).await.unwrap());
    assert_eq!(
        s.get_quick_reply(a.ws.id, team.id).await.unwrap().unwrap(),
        changed
    );

    // Delete.
    assert!(s.delete_quick_reply(a.ws.id, mine.id).await.unwrap());
    assert!(!s.delete_quick_reply(a.ws.id, mine.id).await.unwrap());
    assert_eq!(
        ids(s.list_quick_replies(a.ws.id, agent.id).await.unwrap()),
        vec![team.id]
    );
}
