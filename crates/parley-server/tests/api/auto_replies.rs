//! Keyword auto-replies through the API and the visitor's socket: the reply with its variables
//! and buttons, priority, conditions, refused patterns, hit counts, workspace scoping and who
//! may edit the rules.

use crate::both_backends;
use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

both_backends!(
    a_matching_message_gets_the_reply_with_variables_and_buttons,
    the_highest_priority_rule_answers_and_reordering_keeps_hits,
    channel_and_time_window_conditions_are_respected,
    an_invalid_pattern_is_refused_and_nothing_is_saved,
    other_workspaces_rules_never_fire_and_agents_cannot_edit,
    an_auto_reply_stands_in_for_the_bots_turn,
    the_channel_greeting_is_saved_and_given_to_the_widget,
    rules_are_compiled_once_and_follow_changes_made_elsewhere,
    a_rule_for_tagged_visitors_answers_only_them,
);

const PATH: &str = "/api/v1/auto_replies";

async fn put(s: &Session, body: Value) -> reqwest::Response {
    s.client
        .put(format!("{}{}", s.base, PATH))
        .header("x-csrf-token", &s.csrf)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn save(s: &Session, rules: Value) -> Value {
    let r = put(s, json!({ "rules": rules })).await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

fn rule(name: &str, mode: &str, keywords: &[&str], reply: &str) -> Value {
    json!({"name": name, "mode": mode, "keywords": keywords, "reply": reply})
}

/// The automatic messages the visitor's socket receives within a moment of sending `body`.
async fn replies_to(ws: &mut Ws, client_id: &str, conv: Option<&str>, body: &str) -> Vec<Value> {
    replies_in(ws, client_id, conv, body).await.1
}

/// The conversation the message went to, and the automatic messages that followed it.
async fn replies_in(
    ws: &mut Ws,
    client_id: &str,
    conv: Option<&str>,
    body: &str,
) -> (String, Vec<Value>) {
    ws.send(json!({"type": "send", "client_id": client_id, "conversation_id": conv, "body": body}))
        .await;
    // The reply is stored while the message is handled, so it may arrive before the ack.
    let mut frames = ws.drain(Duration::from_millis(1500)).await;
    let ack = frames
        .iter()
        .find(|f| f["type"] == "ack" && f["client_id"] == client_id)
        .expect("the message is acknowledged")
        .clone();
    let id = ack["conversation_id"].as_str().unwrap().to_owned();
    if conv.is_none() {
        // A new conversation: follow it from the message on, as the widget does.
        ws.send(json!({"type": "subscribe", "conversation_id": id, "after_seq": ack["seq"]}))
            .await;
        frames.extend(ws.drain(Duration::from_millis(1000)).await);
    }
    let got = frames
        .into_iter()
        .filter(|f| f["type"] == "event" && f["event"]["sender"]["kind"] == "bot")
        .map(|f| f["event"].clone())
        .collect();
    (id, got)
}

async fn hits(s: &Session) -> Vec<(String, i64)> {
    s.json(PATH).await["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_owned(),
                r["hits"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn minute_now() -> i64 {
    (parley_domain::now_millis() / 60_000) % 1440
}

fn clock(m: i64) -> String {
    let m = m.rem_euclid(1440);
    format!("{:02}:{:02}", m / 60, m % 60)
}

async fn a_matching_message_gets_the_reply_with_variables_and_buttons(app: TestApp) {
    let admin = app.admin().await;
    let channel = app.channel(&admin, &["https://shop.test"]).await;
    let mut r = rule(
        "退款",
        "contains",
        &["退款", "refund"],
        "{visitor.name|您好}，这里是{channel.name}。您正在看「{page.title}」，{order.id} 不是变量。",
    );
    r["buttons"] = json!(["退款进度", "转人工"]);
    let saved = save(&admin, json!([r])).await;
    assert_eq!(saved["rules"][0]["hits"], 0);

    let v = app.visitor(&channel, "https://shop.test").await;
    let mut ws = Ws::visitor(&app, &v).await;
    let got = replies_to(&mut ws, "m1", None, "请问怎么退款？").await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        got[0]["body"],
        "您好，这里是Shop。您正在看「Pricing」，{order.id} 不是变量。"
    );
    assert_eq!(got[0]["sender"]["name"], "Shop");
    assert_eq!(
        got[0]["buttons"],
        json!([{"label": "退款进度"}, {"label": "转人工"}])
    );

    // Exactly one reply per message; a message that matches nothing gets none.
    let conv = got[0]["conversation_id"].as_str().unwrap().to_owned();
    assert!(replies_to(&mut ws, "m2", Some(&conv), "你好")
        .await
        .is_empty());
    assert_eq!(
        replies_to(&mut ws, "m3", Some(&conv), "REFUND please")
            .await
            .len(),
        1
    );
    assert_eq!(hits(&admin).await, vec![("退款".to_owned(), 2)]);

    // The reply is part of the conversation's record, for the agent too.
    let events = admin
        .json(&format!("/api/v1/conversations/{conv}/events"))
        .await;
    let bot: Vec<&Value> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["sender"]["kind"] == "bot")
        .collect();
    assert_eq!(bot.len(), 2);
}

async fn the_highest_priority_rule_answers_and_reordering_keeps_hits(app: TestApp) {
    let admin = app.admin().await;
    let channel = app.channel(&admin, &["https://shop.test"]).await;
    let saved = save(
        &admin,
        json!([
            rule("精确", "exact", &["退款"], "A"),
            rule("包含", "contains", &["退"], "B"),
        ]),
    )
    .await;
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut ws = Ws::visitor(&app, &v).await;
    let got = replies_to(&mut ws, "p1", None, "退款!").await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["body"], "A");
    let conv = got[0]["conversation_id"].as_str().unwrap().to_owned();
    // Only the second matches this one.
    let got = replies_to(&mut ws, "p2", Some(&conv), "我想退货").await;
    assert_eq!(got[0]["body"], "B");

    // Swapped (ids kept): the contains rule now comes first, and the counts stay with the rules.
    let mut first = saved["rules"][1].clone();
    let mut second = saved["rules"][0].clone();
    for r in [&mut first, &mut second] {
        r.as_object_mut().unwrap().remove("hits");
    }
    save(&admin, json!([first, second])).await;
    assert_eq!(
        hits(&admin).await,
        vec![("包含".to_owned(), 1), ("精确".to_owned(), 1)]
    );
    let got = replies_to(&mut ws, "p3", Some(&conv), "退款").await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["body"], "B");

    // A disabled rule is skipped.
    let mut list = admin.json(PATH).await["rules"].clone();
    list[0]["enabled"] = json!(false);
    save(&admin, list).await;
    let got = replies_to(&mut ws, "p4", Some(&conv), "退款").await;
    assert_eq!(got[0]["body"], "A");
    assert_eq!(
        hits(&admin).await,
        vec![("包含".to_owned(), 2), ("精确".to_owned(), 2)]
    );
}

async fn channel_and_time_window_conditions_are_respected(app: TestApp) {
    let admin = app.admin().await;
    let shop = app.channel(&admin, &["https://shop.test"]).await;
    let blog = app.channel(&admin, &["https://blog.test"]).await;
    let now = minute_now();
    let mut only_blog = rule("博客", "contains", &["价格"], "blog price");
    only_blog["channel_ids"] = json!([blog["id"]]);
    // Closed now: opens in two hours.
    let mut later = rule("稍后", "contains", &["价格"], "later");
    later["window"] =
        json!({"start": clock(now + 120), "end": clock(now + 180), "time_zone": "UTC"});
    // Open now, crossing midnight (start after end): all day but the hour from 60 to 30
    // minutes ago, in Shanghai's local time (UTC+8).
    let mut open = rule("现在", "contains", &["价格"], "open now");
    open["window"] = json!({"start": clock(now + 480 - 30), "end": clock(now + 480 - 60),
        "time_zone": "Asia/Shanghai"});
    let saved = save(&admin, json!([only_blog, later, open])).await;
    assert_eq!(saved["rules"][2]["window"]["time_zone"], "Asia/Shanghai");

    let v = app.visitor(&shop, "https://shop.test").await;
    let mut ws = Ws::visitor(&app, &v).await;
    let got = replies_to(&mut ws, "c1", None, "价格多少").await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0]["body"], "open now",
        "the blog's rule and the closed one are skipped"
    );

    let v = app.visitor(&blog, "https://blog.test").await;
    let mut ws = Ws::visitor(&app, &v).await;
    let got = replies_to(&mut ws, "c2", None, "价格多少").await;
    assert_eq!(got[0]["body"], "blog price");

    // With only the closed window left, nothing answers.
    let mut list = admin.json(PATH).await["rules"].clone();
    let closed = list[1].take();
    save(&admin, json!([closed])).await;
    let conv = got[0]["conversation_id"].as_str().unwrap().to_owned();
    assert!(replies_to(&mut ws, "c3", Some(&conv), "价格多少")
        .await
        .is_empty());
}

async fn an_invalid_pattern_is_refused_and_nothing_is_saved(app: TestApp) {
    let admin = app.admin().await;
    save(&admin, json!([rule("好的", "exact", &["好"], "👍")])).await;
    let before = admin.json(PATH).await;

    let bad = json!([
        rule("好的", "exact", &["好"], "changed"),
        rule("订单", "regex", &[r"订单\d{6}", r"订单(\d+"], "查询中"),
    ]);
    let r = put(&admin, json!({ "rules": bad })).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "validation_failed");
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(msg.starts_with("rules[1].keywords"), "{msg}");
    assert!(msg.contains("订单") && msg.contains(r"订单(\d+"), "{msg}");

    for (field, rules) in [
        (
            "rules[0].window",
            json!([{"name": "n", "mode": "exact", "keywords": ["a"], "reply": "r",
                "window": {"start": "09:00", "end": "18:00", "time_zone": "Mars/Base"}}]),
        ),
        (
            "rules[0].window",
            json!([{"name": "n", "mode": "exact", "keywords": ["a"], "reply": "r",
                "window": {"start": "25:00", "end": "18:00"}}]),
        ),
        (
            "rules[0].mode",
            json!([rule("n", "fuzzy-ish", &["a"], "r")]),
        ),
        (
            "rules[0].buttons",
            json!([{"name": "n", "mode": "exact", "keywords": ["a"], "reply": "r",
                "buttons": ["1", "2", "3", "4", "5", "6"]}]),
        ),
        (
            "rules[0].channel_ids",
            json!([{"name": "n", "mode": "exact", "keywords": ["a"], "reply": "r",
                "channel_ids": [uuid::Uuid::now_v7().to_string()]}]),
        ),
        (
            "rules[0].keywords",
            json!([rule("n", "regex", &[&"a".repeat(201)], "r")]),
        ),
        ("rules[0].reply", json!([rule("n", "exact", &["a"], "  ")])),
    ] {
        let r = put(&admin, json!({ "rules": rules })).await;
        assert_eq!(r.status(), 422, "{field}");
        let body: Value = r.json().await.unwrap();
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(msg.starts_with(field), "{field}: {msg}");
    }
    assert_eq!(admin.json(PATH).await, before, "nothing was saved");
}

async fn other_workspaces_rules_never_fire_and_agents_cannot_edit(app: TestApp) {
    let admin = app.admin().await;
    let channel = app.channel(&admin, &["https://shop.test"]).await;

    // Another workspace's admin saves a rule that would match.
    let ws2 = parley_domain::Workspace {
        id: parley_domain::WorkspaceId::new(),
        name: "Other".into(),
        created_at: parley_domain::now_millis(),
    };
    app.parley().store.create_workspace(&ws2).await.unwrap();
    let email = format!("boss-{}@other.test", ws2.id.0.simple());
    app.parley()
        .operator_create_user(
            Some(ws2.id),
            parley_core::service::NewUser {
                email: email.clone(),
                name: "Boss".into(),
                role: parley_domain::Role::Admin,
                password: "other long password".into(),
            },
        )
        .await
        .unwrap();
    let boss = app.login(&email, "other long password").await;
    save(
        &boss,
        json!([rule("别家", "contains", &["你好"], "not yours")]),
    )
    .await;
    assert!(admin.json(PATH).await["rules"]
        .as_array()
        .unwrap()
        .is_empty());

    let v = app.visitor(&channel, "https://shop.test").await;
    let mut ws = Ws::visitor(&app, &v).await;
    let (conv, got) = replies_in(&mut ws, "o1", None, "你好").await;
    assert!(got.is_empty());
    assert_eq!(hits(&boss).await, vec![("别家".to_owned(), 0)]);

    // Agents may neither read nor change the rules; supervisors may.
    let agent = app.person(&admin, "agent").await;
    assert_eq!(agent.get(PATH).await.status(), 403);
    let r = put(&agent, json!({"rules": [rule("x", "exact", &["x"], "x")]})).await;
    assert_eq!(r.status(), 403);
    assert!(admin.json(PATH).await["rules"]
        .as_array()
        .unwrap()
        .is_empty());
    let supervisor = app.person(&admin, "supervisor").await;
    save(
        &supervisor,
        json!([rule("你好", "exact", &["你好"], "{agent.name}为您服务")]),
    )
    .await;
    let got = replies_to(&mut ws, "o2", Some(&conv), "你好").await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0]["body"], "Shop为您服务",
        "no agent yet: the team's name"
    );
}

async fn an_auto_reply_stands_in_for_the_bots_turn(app: TestApp) {
    let admin = app.admin().await;
    let channel = app.channel(&admin, &["https://shop.test"]).await;
    let id = channel["id"].as_str().unwrap();
    let r = admin
        .patch(
            &format!("/api/v1/channels/{id}"),
            json!({"bot": {"enabled": true, "name": "小助手"}}),
        )
        .await;
    assert_eq!(r.status(), 200);
    save(
        &admin,
        json!([rule(
            "营业时间",
            "contains",
            &["几点"],
            "我们9点到18点在线。"
        )]),
    )
    .await;

    let v = app.visitor(&channel, "https://shop.test").await;
    let mut ws = Ws::visitor(&app, &v).await;
    let (conv, got) = replies_in(&mut ws, "b1", None, "你们几点上班").await;
    assert_eq!(got.len(), 1, "only the rule answers: {got:?}");
    assert_eq!(got[0]["body"], "我们9点到18点在线。");
    // Anything else is still the bot's.
    let got = replies_to(&mut ws, "b2", Some(&conv), "量子纠缠怎么退").await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["sender"]["name"], "小助手");
}

async fn the_channel_greeting_is_saved_and_given_to_the_widget(app: TestApp) {
    let admin = app.admin().await;
    let channel = app.channel(&admin, &["https://shop.test"]).await;
    assert_eq!(
        (&channel["greeting_text"], &channel["greeting_delay_secs"]),
        (&json!(""), &json!(0)),
        "no greeting by default"
    );
    let path = format!("/api/v1/channels/{}", channel["id"].as_str().unwrap());
    let greeting = "{visitor.name|朋友}，在看{page.title}吗？";
    let r = admin
        .patch(
            &path,
            json!({"greeting_text": greeting, "greeting_delay_secs": 15}),
        )
        .await;
    assert_eq!(r.status(), 200);
    for bad in [
        json!({"greeting_delay_secs": 601}),
        json!({"greeting_text": "长".repeat(1001), "greeting_delay_secs": 5}),
    ] {
        let r = admin.patch(&path, bad).await;
        assert_eq!(r.status(), 422);
    }
    let saved = admin.json(&path).await;
    assert_eq!(saved["greeting_text"], greeting);
    assert_eq!(saved["greeting_delay_secs"], 15);

    // The widget gets the text as written; it fills the variables in itself.
    let v = app.visitor(&channel, "https://shop.test").await;
    assert_eq!(v.session["channel"]["greeting_text"], greeting);
    assert_eq!(v.session["channel"]["greeting_delay_secs"], 15);

    // Agents cannot change it.
    let agent = app.person(&admin, "agent").await;
    let r = agent.patch(&path, json!({"greeting_delay_secs": 0})).await;
    assert_eq!(r.status(), 403);
    assert_eq!(admin.json(&path).await["greeting_delay_secs"], 15);
}

async fn rules_are_compiled_once_and_follow_changes_made_elsewhere(app: TestApp) {
    let admin = app.admin().await;
    let channel = app.channel(&admin, &["https://shop.test"]).await;
    save(
        &admin,
        json!([rule("价格", "regex", &["价格|多少钱"], "v1")]),
    )
    .await;
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut ws = Ws::visitor(&app, &v).await;
    let (conv, got) = replies_in(&mut ws, "g1", None, "多少钱").await;
    assert_eq!(got[0]["body"], "v1");
    let builds = app.parley().auto_replies.builds();
    for i in 0..3 {
        let got = replies_to(&mut ws, &format!("g2-{i}"), Some(&conv), "价格？").await;
        assert_eq!(got[0]["body"], "v1");
    }
    assert_eq!(
        app.parley().auto_replies.builds(),
        builds,
        "unchanged rules are not compiled again"
    );

    // Another node saves new rules: it writes them to the shared database and says so on the
    // bus. This node drops its compiled rules when word arrives and answers with the new ones
    // from the next message on.
    let p = app.parley();
    let ws_id = admin.me["workspace"]["id"]
        .as_str()
        .and_then(parley_domain::WorkspaceId::parse)
        .unwrap();
    let mut rules = p.store.list_auto_replies(ws_id).await.unwrap();
    assert_eq!(rules.len(), 1);
    rules[0].reply = "v2".into();
    p.store.replace_auto_replies(ws_id, &rules).await.unwrap();
    assert!(p.settings.holds_auto_replies(ws_id));
    p.bus.publish(
        parley_core::bus::Topic::Cluster,
        parley_core::bus::BusMessage::SettingsChanged {
            workspace_id: ws_id,
        },
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while p.settings.holds_auto_replies(ws_id) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the word never arrived"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let got = replies_to(&mut ws, "g3", Some(&conv), "价格").await;
    assert_eq!(got[0]["body"], "v2");
    assert_eq!(p.auto_replies.builds(), builds + 1);
}

async fn a_rule_for_tagged_visitors_answers_only_them(app: TestApp) {
    let admin = app.admin().await;
    let agent = app.person(&admin, "agent").await;
    let channel = app.channel(&admin, &["https://shop.test"]).await;
    let mut vip = rule(
        "VIP 价格",
        "contains",
        &["价格"],
        "尊敬的会员，您有专属折扣。",
    );
    vip["visitor_tags"] = json!(["VIP"]);
    let everyone = rule("价格", "contains", &["价格"], "价格见商品页。");
    let saved = save(&admin, json!([vip, everyone])).await;
    assert_eq!(saved["rules"][0]["visitor_tags"], json!(["VIP"]));

    let v = app.visitor(&channel, "https://shop.test").await;
    let mut ws = Ws::visitor(&app, &v).await;
    let (conv, got) = replies_in(&mut ws, "t1", None, "价格多少").await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["body"], "价格见商品页。");

    // An agent tags the visitor VIP (agents of another workspace cannot).
    let visitor_id = v.session["visitor"]["id"].as_str().unwrap().to_owned();
    let r = agent
        .put(
            &format!("/api/v1/visitors/{visitor_id}/tags"),
            json!({"tags": ["VIP", " VIP "]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["tags"], json!(["VIP"]));
    let r = agent
        .put(
            &format!("/api/v1/visitors/{}/tags", uuid::Uuid::now_v7()),
            json!({"tags": ["VIP"]}),
        )
        .await;
    assert_eq!(r.status(), 404);
    let shown = agent.json(&format!("/api/v1/conversations/{conv}")).await;
    assert_eq!(shown["visitor"]["tags"], json!(["VIP"]));

    let got = replies_to(&mut ws, "t2", Some(&conv), "价格还能便宜吗").await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["body"], "尊敬的会员，您有专属折扣。");
    // The widget never learns its visitor's tags.
    let again = app.visitor(&channel, "https://shop.test").await;
    assert!(again.session["visitor"].get("tags").is_none());
}
