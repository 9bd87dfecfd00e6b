use crate::both_backends;
use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

both_backends!(
    notes_mentions_and_what_the_visitor_sees,
    transfers_take_over_tags_and_overview
);

async fn notes_mentions_and_what_the_visitor_sees(app: TestApp) {
    let admin = app.admin().await;
    let channel = app.channel(&admin, &[]).await;
    let ana = app.person(&admin, "agent").await; // named "agent one"
    let mut ana_ws = Ws::agent(&app, &ana.token().await).await;
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;
    let conv = vws.send_message("n-1", None, "退款怎么操作？").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    vws.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 1}))
        .await;
    vws.recv_type("subscribed").await;

    // Two colleagues open the conversation: each sees the other.
    let mut admin_ws = Ws::agent(&app, &admin.token().await).await;
    admin_ws
        .send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 0}))
        .await;
    ana_ws
        .send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 0}))
        .await;
    let viewers = loop {
        let f = admin_ws.recv_type("viewers").await;
        if f["viewers"].as_array().unwrap().len() == 2 {
            break f;
        }
    };
    let names: Vec<&str> = viewers["viewers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"agent one") && names.contains(&"Admin"),
        "{names:?}"
    );

    // An internal note mentioning Ana: she is told; the visitor only sees a placeholder.
    let r = admin
        .post(
            &format!("/api/v1/conversations/{conv}/notes"),
            json!({"client_id": "note-1", "body": "@agent one 这位客户上周已经退过一次款"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let note: Value = r.json().await.unwrap();
    assert_eq!(note["event"]["kind"], "note");
    let m = ana_ws.recv_type("mention").await;
    assert_eq!(
        (m["conversation_id"].as_str(), m["event"]["body"].as_str()),
        (
            Some(conv.as_str()),
            Some("@agent one 这位客户上周已经退过一次款")
        )
    );
    let seen = vws.recv_type("event").await;
    assert_eq!(seen["event"]["kind"], "internal");
    assert!(
        seen["event"]["body"].is_null()
            && seen["event"]["sender"]["name"].is_null()
            && seen["event"]["note"].is_null(),
        "{seen}"
    );
    let again: Value = admin
        .post(
            &format!("/api/v1/conversations/{conv}/notes"),
            json!({"client_id": "note-1", "body": "x"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["duplicate"], true);
    // Notes are not messages: no unread count, no last-message preview for the visitor's text.
    let summary = admin.json(&format!("/api/v1/conversations/{conv}")).await;
    assert_eq!(
        summary["conversation"]["last_message"]["body"],
        "退款怎么操作？"
    );

    // A visitor reconnecting later gets the placeholder too, never the text.
    let page: Value = reqwest::Client::new()
        .get(app.url("/api/widget/v1/events?after_seq=0"))
        .bearer_auth(&v.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = page.to_string();
    assert!(
        !text.contains("退过一次款"),
        "note text leaked to the visitor: {text}"
    );
    assert_eq!(page["items"][1]["kind"], "internal");
    let mut v2 = Ws::visitor(&app, &v).await;
    v2.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 0}))
        .await;
    let frames = v2.drain(Duration::from_millis(300)).await;
    assert!(!serde_json::to_string(&frames)
        .unwrap()
        .contains("退过一次款"));

    // Closing the conversation updates the viewers.
    ana_ws
        .send(json!({"type": "unsubscribe", "conversation_id": conv}))
        .await;
    let f = admin_ws.recv_type("viewers").await;
    assert_eq!(f["viewers"].as_array().unwrap().len(), 1);
}

async fn transfers_take_over_tags_and_overview(app: TestApp) {
    let admin = app.admin().await;
    let channel = app.channel(&admin, &[]).await;
    let ana = app.person(&admin, "agent").await;
    let bo = app.person(&admin, "agent").await;
    let sup = app.person(&admin, "supervisor").await;
    let mut bo_ws = Ws::agent(&app, &bo.token().await).await;
    let mut ana_ws = Ws::agent(&app, &ana.token().await).await;
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;
    let conv = vws.send_message("t-1", None, "发票问题").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    vws.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 1}))
        .await;
    vws.recv_type("subscribed").await;
    ana.post(
        &format!("/api/v1/conversations/{conv}/messages"),
        json!({"client_id": "a-1", "body": "我看一下"}),
    )
    .await;

    // Ana hands it to Bo with a note: Bo is alerted with the note; the visitor sees the change, not the note.
    let r = ana
        .post(
            &format!("/api/v1/conversations/{conv}/transfer"),
            json!({"to_user_id": bo.user_id(), "note": "开票需要财务权限"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let t = bo_ws.recv_type("transfer").await;
    assert_eq!(
        (
            t["conversation_id"].as_str(),
            t["note"].as_str(),
            t["from"]["name"].as_str()
        ),
        (
            Some(conv.as_str()),
            Some("开票需要财务权限"),
            Some("agent one")
        )
    );
    let frames = vws.drain(Duration::from_millis(400)).await;
    let assignment = frames
        .iter()
        .rev()
        .find(|f| f["type"] == "event" && f["event"]["kind"] == "assignment")
        .expect("visitor sees the handover");
    assert_eq!(assignment["event"]["assignee"]["id"], bo.user_id().as_str());
    assert!(assignment["event"]["note"].is_null());
    assert_eq!(
        assignment["event"]["reason"],
        json!([]),
        "no explanations for visitors"
    );
    assert!(
        !serde_json::to_string(&frames).unwrap().contains("财务"),
        "transfer note leaked to the visitor"
    );
    let events = bo
        .json(&format!("/api/v1/conversations/{conv}/events"))
        .await;
    let last = events["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["note"], "开票需要财务权限");
    assert_eq!(
        last["reason"],
        json!([{"code": "transfer", "by": "agent one", "group": null}])
    );
    // Bo sees the whole history.
    assert_eq!(events["items"][0]["body"], "发票问题");
    let r = ana
        .post(
            &format!("/api/v1/conversations/{conv}/transfer"),
            json!({"to_user_id": bo.user_id(), "to_group_id": bo.user_id()}),
        )
        .await;
    assert_eq!(r.status(), 400);

    // Transfer to a group: routed there.
    let g: Value = admin
        .post(
            "/api/v1/groups",
            json!({"name": "财务", "policy": ["least_load"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let gid = g["id"].as_str().unwrap().to_owned();
    admin
        .client
        .put(app.url(&format!("/api/v1/groups/{gid}/members")))
        .header("x-csrf-token", &admin.csrf)
        .json(&json!({"members": [{"user_id": ana.user_id()}]}))
        .send()
        .await
        .unwrap();
    let r: Value = bo
        .post(
            &format!("/api/v1/conversations/{conv}/transfer"),
            json!({"to_group_id": gid, "note": "请财务处理"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["event"]["assignee"]["id"], ana.user_id().as_str());
    assert_eq!(r["event"]["note"], "请财务处理");
    assert!(
        why(&r["event"]).starts_with("transferred by agent one → 财务; 财务: "),
        "{r}"
    );
    assert_eq!(ana_ws.recv_type("transfer").await["note"], "请财务处理");

    // Only supervisors and admins take over.
    assert_eq!(
        bo.post(
            &format!("/api/v1/conversations/{conv}/take_over"),
            json!({})
        )
        .await
        .status(),
        403
    );
    let r: Value = sup
        .post(
            &format!("/api/v1/conversations/{conv}/take_over"),
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["event"]["assignee"]["id"], sup.user_id().as_str());
    assert!(r["event"]["note"].is_null());
    assert_eq!(
        r["event"]["reason"],
        json!([{"code": "taken_over", "by": "supervisor one"}])
    );

    // Tags and the follow-up marker show in the list.
    let r = ana
        .client
        .put(app.url(&format!("/api/v1/conversations/{conv}/tags")))
        .header("x-csrf-token", &ana.csrf)
        .json(&json!({"tags": ["发票", " VIP ", "vip"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["tags"],
        json!(["发票", "VIP"])
    );
    let r = ana
        .client
        .put(app.url(&format!("/api/v1/conversations/{conv}/follow_up")))
        .header("x-csrf-token", &ana.csrf)
        .json(&json!({"follow_up": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let item = &ana.json("/api/v1/conversations?view=all").await["items"][0];
    assert_eq!(
        (item["tags"].clone(), item["follow_up"].clone()),
        (json!(["发票", "VIP"]), json!(true))
    );

    // The supervisor's overview.
    assert_eq!(ana.get("/api/v1/supervisor/overview").await.status(), 403);
    let o = sup.json("/api/v1/supervisor/overview").await;
    assert_eq!(
        (
            o["open"].as_i64(),
            o["unassigned"].as_i64(),
            o["queued"].as_i64()
        ),
        (Some(1), Some(0), Some(0))
    );
    let row = o["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == sup.user_id().as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (row["load"].as_i64(), row["capacity"].as_i64()),
        (Some(1), Some(5))
    );
    let ana_row = o["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == ana.user_id().as_str())
        .unwrap()
        .clone();
    assert_eq!(ana_row["status"], "online");
    assert_eq!(o["groups"][0]["name"], "财务");
    assert_eq!(o["groups"][0]["agents_online"], 1);
}
