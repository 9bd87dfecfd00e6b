//! Entry points (咨询入口): a channel offers visitors a list of groups before the chat starts;
//! the visitor's pick travels with their first message and routes the conversation there.

use crate::both_backends;
use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

both_backends!(
    entry_options_are_saved_and_validated,
    the_visitors_choice_routes_to_that_groups_agent,
    a_forged_group_is_refused_and_nothing_is_created,
    groups_in_use_cannot_be_deleted,
);

async fn group(admin: &Session, name: &str) -> String {
    let r = admin
        .post(
            "/api/v1/groups",
            json!({"name": name, "policy": ["least_load"]}),
        )
        .await;
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A group with one online agent (their socket is returned, so they stay online).
async fn staffed_group(app: &TestApp, admin: &Session, name: &str) -> (String, Session, Ws) {
    app.staffed_group(admin, name).await
}

async fn patch_channel(admin: &Session, channel: &Value, body: Value) -> reqwest::Response {
    admin
        .patch(
            &format!("/api/v1/channels/{}", channel["id"].as_str().unwrap()),
            body,
        )
        .await
}

async fn delete(app: &TestApp, s: &Session, path: &str) -> reqwest::Response {
    s.client
        .delete(app.url(path))
        .header("x-csrf-token", &s.csrf)
        .send()
        .await
        .unwrap()
}

/// The error of a refused request: (status, code, message).
async fn refused(r: reqwest::Response) -> (u16, String, String) {
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

fn options(v: &Value) -> Vec<(String, String)> {
    v["entry_points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["group_id"].as_str().unwrap().to_owned(),
                o["label"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn entry_options_are_saved_and_validated(app: TestApp) {
    let admin = app.admin().await;
    let pre = group(&admin, "售前").await;
    let after = group(&admin, "售后").await;
    let channel = app.channel(&admin, &[]).await;
    assert_eq!(channel["entry_points"], json!([]), "none by default");

    // Ordered, labels trimmed; an empty label means "the group's name".
    let r = patch_channel(
        &admin,
        &channel,
        json!({"entry_points": [{"group_id": after, "label": " 订单与售后 "}, {"group_id": pre}]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let saved: Value = r.json().await.unwrap();
    let want = vec![
        (after.clone(), "订单与售后".to_owned()),
        (pre.clone(), String::new()),
    ];
    assert_eq!(options(&saved), want);
    let id = channel["id"].as_str().unwrap();
    assert_eq!(
        options(&admin.json(&format!("/api/v1/channels/{id}")).await),
        want
    );
    assert_eq!(
        options(&admin.json("/api/v1/channels").await["items"][0]),
        want
    );

    // Other fields can change without touching the options.
    let r = patch_channel(&admin, &channel, json!({"name": "Shop 2"})).await;
    assert_eq!(options(&r.json::<Value>().await.unwrap()), want);

    // The widget gets ids and visitor-facing labels only.
    let v = app.visitor(&channel, "https://shop.test").await;
    assert_eq!(
        v.session["channel"]["entry_points"],
        json!([{"group_id": after, "label": "订单与售后"}, {"group_id": pre, "label": "售前"}])
    );

    // A group of another workspace is no option here.
    let ws2 = parley_domain::Workspace {
        id: parley_domain::WorkspaceId::new(),
        name: "Other".into(),
        created_at: parley_domain::now_millis(),
    };
    app.parley().store.create_workspace(&ws2).await.unwrap();
    app.parley()
        .operator_create_user(
            Some(ws2.id),
            parley_core::service::NewUser {
                email: "boss@other.test".into(),
                name: "Boss".into(),
                role: parley_domain::Role::Admin,
                password: "other long password".into(),
            },
        )
        .await
        .unwrap();
    let other = app.login("boss@other.test", "other long password").await;
    let foreign = group(&other, "他们的组").await;

    let many: Vec<Value> = (0..11)
        .map(|_| json!({"group_id": uuid::Uuid::now_v7().to_string()}))
        .collect();
    let bad = [
        (
            json!([{"group_id": pre}, {"group_id": pre, "label": "again"}]),
            "option 2",
        ),
        (json!(many), "at most 10"),
        (
            json!([{"group_id": pre, "label": "长".repeat(41)}]),
            "at most 40",
        ),
        (
            json!([{"group_id": pre}, {"group_id": uuid::Uuid::now_v7().to_string()}]),
            "option 2: no such group",
        ),
        (json!([{"group_id": foreign}]), "option 1: no such group"),
        (json!([{"group_id": "not-a-uuid"}]), "option 1"),
    ];
    for (list, says) in bad {
        let r = patch_channel(&admin, &channel, json!({"entry_points": list})).await;
        let (status, code, message) = refused(r).await;
        assert_eq!(
            (status, code.as_str()),
            (422, "validation_failed"),
            "{message}"
        );
        assert!(message.contains(says), "{message:?} should say {says:?}");
    }
    // A label of exactly 40 characters is fine.
    let r = patch_channel(
        &admin,
        &channel,
        json!({"entry_points": [{"group_id": pre, "label": "长".repeat(40)}]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    // Refused changes changed nothing else either.
    let r = patch_channel(
        &admin,
        &channel,
        json!({"name": "Renamed", "entry_points": [{"group_id": pre}, {"group_id": pre}]}),
    )
    .await;
    assert_eq!(r.status(), 422);
    let now = admin.json(&format!("/api/v1/channels/{id}")).await;
    assert_eq!(now["name"], "Shop 2");
    assert_eq!(options(&now), vec![(pre.clone(), "长".repeat(40))]);

    // Only admins configure them; other workspaces cannot see or change them.
    let agent = app.person(&admin, "agent").await;
    let r = patch_channel(&agent, &channel, json!({"entry_points": []})).await;
    assert_eq!(r.status(), 403);
    let r = patch_channel(&other, &channel, json!({"entry_points": []})).await;
    assert_eq!(r.status(), 404);

    // An empty list switches the choice off.
    let r = patch_channel(&admin, &channel, json!({"entry_points": []})).await;
    assert_eq!(options(&r.json::<Value>().await.unwrap()), vec![]);
    let v = app.visitor(&channel, "https://shop.test").await;
    assert_eq!(v.session["channel"]["entry_points"], json!([]));
}

/// The visitor's conversation events until an assignment arrives; returns the assignee's id.
async fn assigned_to(ws: &mut Ws) -> String {
    loop {
        let f = ws.recv().await;
        if f["type"] == "event" && f["event"]["kind"] == "assignment" {
            return f["event"]["assignee"]["id"].as_str().unwrap().to_owned();
        }
    }
}

/// Starts a chat: the first message (with the pick, if any), then subscribes to it.
async fn start_chat(
    app: &TestApp,
    channel: &Value,
    pick: Option<&str>,
    body: &str,
) -> (Ws, String) {
    let v = app.visitor(channel, "https://shop.test").await;
    let mut ws = Ws::visitor(app, &v).await;
    let mut frame = json!({"type": "send", "client_id": "first", "body": body});
    if let Some(g) = pick {
        frame["group_id"] = json!(g);
    }
    ws.send(frame).await;
    let ack = ws.recv_type("ack").await;
    assert_eq!(ack["seq"], 1, "{ack}");
    let conv = ack["conversation_id"].as_str().unwrap().to_owned();
    ws.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 0}))
        .await;
    (ws, conv)
}

async fn the_visitors_choice_routes_to_that_groups_agent(app: TestApp) {
    let admin = app.admin().await;
    let (pre, pre_agent, _pre_ws) = staffed_group(&app, &admin, "售前").await;
    let (after, after_agent, mut after_ws) = staffed_group(&app, &admin, "售后").await;
    let channel = app.channel(&admin, &[]).await;
    // Pre-sales is the default; a keyword rule would send "退款" to pre-sales as well.
    let r = patch_channel(
        &admin,
        &channel,
        json!({"group_id": pre, "entry_points": [{"group_id": pre, "label": "购买咨询"}, {"group_id": after, "label": "订单与售后"}]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = admin
        .client
        .put(app.url("/api/v1/routing/rules"))
        .header("x-csrf-token", &admin.csrf)
        .json(&json!({"rules": [{"keywords": ["退款"], "group_id": pre, "priority": 5}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // The visitor picks 订单与售后: the conversation is in 售后 and its agent gets it.
    let (mut vws, conv) = start_chat(&app, &channel, Some(&after), "我要退款，订单还没到").await;
    assert_eq!(assigned_to(&mut vws).await, after_agent.user_id());
    let detail = admin.json(&format!("/api/v1/conversations/{conv}")).await;
    assert_eq!(detail["conversation"]["group_id"], after.as_str());
    assert_eq!(
        detail["conversation"]["assignee"]["id"],
        after_agent.user_id()
    );
    // The agent's inbox hears about it.
    loop {
        let f = after_ws.recv_type("inbox").await;
        if f["conversation"]["id"] == conv.as_str()
            && f["conversation"]["assignee"]["id"] == after_agent.user_id().as_str()
        {
            break;
        }
    }
    let mine = after_agent.json("/api/v1/conversations?view=mine").await;
    assert_eq!(mine["items"][0]["id"], conv.as_str());
    assert!(
        pre_agent.json("/api/v1/conversations?view=mine").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The timeline shows the routing into the chosen group, as any assignment does.
    let events = admin
        .json(&format!("/api/v1/conversations/{conv}/events"))
        .await;
    let kinds: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["message", "assignment"]);
    assert_eq!(
        events["items"][1]["reason"][0],
        json!({"code": "visitor_chose", "group": "售后"}),
        "the timeline says the visitor chose the group"
    );

    // Later messages need no pick; a valid pick for an existing conversation changes nothing.
    vws.send(json!({"type": "send", "client_id": "second", "body": "还在吗", "group_id": pre}))
        .await;
    let ack = vws.recv_type("ack").await;
    assert_eq!(
        (ack["conversation_id"].as_str(), ack["seq"].as_i64()),
        (Some(conv.as_str()), Some(3))
    );
    let detail = admin.json(&format!("/api/v1/conversations/{conv}")).await;
    assert_eq!(detail["conversation"]["group_id"], after.as_str());

    // Writing without choosing goes to the channel's default group.
    let (mut v2, conv2) = start_chat(&app, &channel, None, "你好").await;
    assert_eq!(assigned_to(&mut v2).await, pre_agent.user_id());
    let detail = admin.json(&format!("/api/v1/conversations/{conv2}")).await;
    assert_eq!(detail["conversation"]["group_id"], pre.as_str());
}

async fn a_forged_group_is_refused_and_nothing_is_created(app: TestApp) {
    let admin = app.admin().await;
    let (pre, _pre_agent, _pre_ws) = staffed_group(&app, &admin, "售前").await;
    let (vip, vip_agent, mut vip_ws) = staffed_group(&app, &admin, "VIP").await;
    let channel = app.channel(&admin, &[]).await;
    let r = patch_channel(
        &admin,
        &channel,
        json!({"entry_points": [{"group_id": pre}]}),
    )
    .await;
    assert_eq!(r.status(), 200);

    let v = app.visitor(&channel, "https://shop.test").await;
    let mut ws = Ws::visitor(&app, &v).await;
    // A real group that is not an option, an unknown id and garbage are all refused.
    for forged in [
        vip.clone(),
        uuid::Uuid::now_v7().to_string(),
        "../../etc".to_owned(),
    ] {
        ws.send(
            json!({"type": "send", "client_id": "c-1", "body": "让我插队", "group_id": forged}),
        )
        .await;
        let err = ws.recv_type("error").await;
        assert_eq!(
            (err["code"].as_str(), err["ref"].as_str()),
            (Some("validation_failed"), Some("c-1")),
            "{err}"
        );
        assert!(err["message"].as_str().unwrap().contains("option"), "{err}");
    }
    // Nothing was stored: no conversation, nothing for the VIP agent.
    assert!(admin.json("/api/v1/conversations?view=all").await["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let again = app
        .parley()
        .widget_session(
            channel["widget_key"].as_str().unwrap(),
            Some(&v.token),
            Default::default(),
            Some("https://shop.test"),
        )
        .await
        .unwrap();
    assert!(again.conversation.is_none());
    assert!(vip_ws
        .drain(Duration::from_millis(300))
        .await
        .iter()
        .all(|f| f["type"] != "inbox"));
    assert!(
        vip_agent.json("/api/v1/conversations?view=mine").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // The same client id with a real option goes through as the first message.
    ws.send(json!({"type": "send", "client_id": "c-1", "body": "好的", "group_id": pre}))
        .await;
    let ack = ws.recv_type("ack").await;
    assert_eq!(
        (ack["seq"].as_i64(), ack["duplicate"].as_bool()),
        (Some(1), Some(false))
    );

    // Agents do not pick groups for visitors.
    let mut aws = Ws::agent(&app, &admin.token().await).await;
    aws.send(json!({"type": "send", "client_id": "a-1", "conversation_id": ack["conversation_id"], "body": "hi", "group_id": pre}))
        .await;
    let err = aws.recv_type("error").await;
    assert_eq!(err["code"], "validation_failed");
}

async fn groups_in_use_cannot_be_deleted(app: TestApp) {
    let admin = app.admin().await;
    let pre = group(&admin, "售前").await;
    let after = group(&admin, "售后").await;
    let unused = group(&admin, "临时").await;
    let channel = app.channel(&admin, &[]).await;
    let r = patch_channel(
        &admin,
        &channel,
        json!({"group_id": pre, "entry_points": [{"group_id": after, "label": "订单与售后"}]}),
    )
    .await;
    assert_eq!(r.status(), 200);

    // Only admins delete groups.
    let agent = app.person(&admin, "agent").await;
    let r = delete(&app, &agent, &format!("/api/v1/groups/{unused}")).await;
    assert_eq!(r.status(), 403);

    // An entry option keeps its group: the admin is told where it is used.
    let (status, code, message) =
        refused(delete(&app, &admin, &format!("/api/v1/groups/{after}")).await).await;
    assert_eq!((status, code.as_str()), (409, "conflict"), "{message}");
    assert!(
        message.contains("\"Shop\"") && message.contains("entry option"),
        "{message}"
    );
    let id = channel["id"].as_str().unwrap();
    let now = admin.json(&format!("/api/v1/channels/{id}")).await;
    assert_eq!(
        options(&now),
        vec![(after.clone(), "订单与售后".to_owned())]
    );
    assert_eq!(
        admin.json(&format!("/api/v1/groups/{after}")).await["name"],
        "售后"
    );
    // So does the channel's default group.
    let (status, _, message) =
        refused(delete(&app, &admin, &format!("/api/v1/groups/{pre}")).await).await;
    assert_eq!(status, 409);
    assert!(message.contains("routes its conversations"), "{message}");

    // Once the option is removed, the group can go.
    let r = patch_channel(&admin, &channel, json!({"entry_points": []})).await;
    assert_eq!(r.status(), 200);
    let r = delete(&app, &admin, &format!("/api/v1/groups/{after}")).await;
    assert_eq!(r.status(), 204);
    assert_eq!(
        admin.get(&format!("/api/v1/groups/{after}")).await.status(),
        404
    );
    let r = delete(&app, &admin, &format!("/api/v1/groups/{after}")).await;
    assert_eq!(r.status(), 404);

    // A group with an open conversation waits until it is resolved; then the conversation
    // keeps its history without a group.
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;
    let conv = vws.send_message("m-1", None, "有人吗").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = patch_channel(&admin, &channel, json!({"group_id": null})).await;
    assert_eq!(r.status(), 200);
    let (status, _, message) =
        refused(delete(&app, &admin, &format!("/api/v1/groups/{pre}")).await).await;
    assert_eq!(status, 409);
    assert!(message.contains("open conversation"), "{message}");
    let r = admin
        .post(&format!("/api/v1/conversations/{conv}/resolve"), json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let r = delete(&app, &admin, &format!("/api/v1/groups/{pre}")).await;
    assert_eq!(r.status(), 204);
    let detail = admin.json(&format!("/api/v1/conversations/{conv}")).await;
    assert!(detail["conversation"]["group_id"].is_null());

    // A keyword rule that sends conversations to a group keeps it too.
    let r = admin
        .client
        .put(app.url("/api/v1/routing/rules"))
        .header("x-csrf-token", &admin.csrf)
        .json(&json!({"rules": [{"keywords": ["急"], "group_id": unused}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, _, message) =
        refused(delete(&app, &admin, &format!("/api/v1/groups/{unused}")).await).await;
    assert_eq!(status, 409);
    assert!(message.contains("keyword rule 1"), "{message}");
}
