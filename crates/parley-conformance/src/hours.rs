//! Business hours: the workspace's settings round-trip and stay in their workspace, the
//! off-hours reply is claimed once per closed period, and a visitor's contact details are kept.

use crate::*;

fn settings(enabled: bool, holiday: &str) -> WorkspaceHours {
    WorkspaceHours::parse(
        enabled,
        CalendarInput {
            time_zone: "Asia/Shanghai".into(),
            days: WeekDays {
                mon: vec![[540, 1080]],
                ..Default::default()
            },
            special_days: vec![
                SpecialDay {
                    date: holiday.into(),
                    ranges: vec![],
                    note: Some("国庆节".into()),
                },
                SpecialDay {
                    date: "2026-09-27".into(),
                    ranges: vec![[540, 1080]],
                    note: None,
                },
            ],
        },
        Some("下班啦，{next_open} 见".into()),
    )
    .unwrap()
}

pub async fn workspace_hours_round_trip_and_claim_once(s: DynStore) {
    let a = fixture(&s, "hours-a").await;
    let b = fixture(&s, "hours-b").await;
    assert_eq!(s.workspace_hours(a.ws.id).await.unwrap(), None);

    let h = settings(true, "2026-10-01");
    s.set_workspace_hours(a.ws.id, &h, now_millis())
        .await
        .unwrap();
    assert_eq!(s.workspace_hours(a.ws.id).await.unwrap(), Some(h));
    assert_eq!(s.workspace_hours(b.ws.id).await.unwrap(), None);
    // Saving again replaces everything.
    let h2 = settings(false, "2026-10-02");
    s.set_workspace_hours(a.ws.id, &h2, now_millis())
        .await
        .unwrap();
    assert_eq!(s.workspace_hours(a.ws.id).await.unwrap(), Some(h2));

    // The off-hours reply: claimed once while the closed period runs, again after it ended.
    let now = now_millis();
    let conv = s
        .append_message(
            a.ws.id,
            Target::VisitorCurrent {
                channel_id: a.visitor.channel_id,
                visitor_id: a.visitor.id,
                group_id: None,
            },
            &visitor_msg(&a.visitor, "h1", "在吗"),
            &MessageEffects {
                reopen: true,
                claim_by: None,
                start_bot: false,
            },
            now,
        )
        .await
        .unwrap()
        .conversation;
    let until = now + 3_600_000;
    assert!(s
        .claim_off_hours_reply(a.ws.id, conv.id, now, until)
        .await
        .unwrap());
    assert!(!s
        .claim_off_hours_reply(a.ws.id, conv.id, now + 1000, until)
        .await
        .unwrap());
    // Another workspace cannot claim (or see) it.
    assert!(!s
        .claim_off_hours_reply(b.ws.id, conv.id, until + 1, until + 2)
        .await
        .unwrap());
    assert!(s
        .claim_off_hours_reply(a.ws.id, conv.id, until, until + 3_600_000)
        .await
        .unwrap());

    // Contact details: given fields are saved, left-out ones kept; scoped to the workspace.
    let v = s
        .set_visitor_contact(
            a.ws.id,
            a.visitor.id,
            Some("王小明"),
            None,
            Some("+86 138 0013 8000"),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v.name.as_deref(), Some("王小明"));
    assert_eq!(v.display_name, "王小明");
    assert_eq!(v.phone.as_deref(), Some("+86 138 0013 8000"));
    let v = s
        .set_visitor_contact(a.ws.id, a.visitor.id, None, Some("ming@x.test"), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v.name.as_deref(), Some("王小明"));
    assert_eq!(v.email.as_deref(), Some("ming@x.test"));
    assert_eq!(v.phone.as_deref(), Some("+86 138 0013 8000"));
    let again = s.get_visitor(a.ws.id, a.visitor.id).await.unwrap().unwrap();
    assert_eq!(again.phone, v.phone);
    assert!(s
        .set_visitor_contact(b.ws.id, a.visitor.id, Some("x"), None, None)
        .await
        .unwrap()
        .is_none());
}
