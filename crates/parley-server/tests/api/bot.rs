//! The FAQ bot (智能机器人): on a channel with the bot on it answers first from the published
//! knowledge base, hands the conversation to routing when the visitor asks for a person or after
//! two misses, and collects the questions it could not answer.

use crate::both_backends;
use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

both_backends!(
    the_bot_answers_first_and_hands_over_with_the_transcript,
    two_misses_hand_over_and_are_collected_for_admins,
    an_agent_who_replies_takes_the_conversation_from_the_bot,
    bot_settings_are_validated,
    the_workspaces_synonyms_teach_the_bot,
    visitors_get_help_articles_while_they_type,
);

/// A published article; returns its id.
async fn article(admin: &Session, title: &str, body: &str, keywords: &[&str]) -> String {
    let r = admin
        .post(
            "/api/v1/kb/articles",
            json!({"title": title, "body_markdown": body, "keywords": keywords, "locale": "zh-CN"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = admin
        .post(&format!("/api/v1/kb/articles/{id}/publish"), json!({}))
        .await;
    assert_eq!(r.status(), 200);
    id
}

/// A group with one online agent, and a channel routed to it with the bot on.
pub(crate) async fn shop(app: &TestApp, admin: &Session) -> (Value, Session, Ws) {
    let (gid, agent, agent_ws) = app.staffed_group(admin, "售后").await;
    let channel = app.channel(admin, &[]).await;
    let r = admin
        .patch(
            &format!("/api/v1/channels/{}", channel["id"].as_str().unwrap()),
            json!({"group_id": gid, "bot": {"enabled": true, "name": "小智"}}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let channel: Value = r.json().await.unwrap();
    assert_eq!(channel["bot"]["name"], "小智");
    assert_eq!(channel["bot"]["miss_limit"], 2);
    (channel, agent, agent_ws)
}

/// Subscribes the visitor's socket to the conversation their first message started.
pub(crate) async fn follow(vws: &mut Ws, conv: &str, ack: &Value) {
    vws.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": ack["seq"]}))
        .await;
}

/// The next message event from the bot on a visitor's socket.
pub(crate) async fn bot_says(ws: &mut Ws) -> Value {
    loop {
        let f = ws.recv_type("event").await;
        let e = &f["event"];
        if e["kind"] == "message" && e["sender"]["kind"] == "bot" {
            return e.clone();
        }
    }
}

pub(crate) async fn conversation(s: &Session, id: &str) -> Value {
    s.json(&format!("/api/v1/conversations/{id}")).await["conversation"].clone()
}

async fn the_bot_answers_first_and_hands_over_with_the_transcript(app: TestApp) {
    let admin = app.admin().await;
    let returns = article(
        &admin,
        "退货流程",
        "收到商品 **7 天内** 可在订单页申请退货。\n\n- 保持包装完好\n- 寄回后 3 天内退款",
        &["退货", "退款", "怎么退"],
    )
    .await;
    article(
        &admin,
        "发货时间",
        "付款后 48 小时内发货。",
        &["发货", "几天发货"],
    )
    .await;
    let (channel, agent, mut agent_ws) = shop(&app, &admin).await;
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;

    let ack = vws.send_message("q1", None, "请问怎么退货？").await;
    let conv = ack["conversation_id"].as_str().unwrap().to_owned();
    follow(&mut vws, &conv, &ack).await;
    let answer = bot_says(&mut vws).await;
    assert_eq!(answer["sender"]["name"], "小智");
    let body = answer["body"].as_str().unwrap();
    assert!(body.starts_with("退货流程\n"), "{body}");
    assert!(body.contains("7 天内"), "markdown shown as text: {body}");
    assert!(!body.contains("**"), "{body}");
    let buttons = answer["buttons"].as_array().unwrap();
    let link = buttons.last().unwrap();
    assert_eq!(link["label"], "查看全文");
    assert!(
        link["url"].as_str().unwrap().ends_with(&format!(
            "/help/{}/articles/{returns}",
            channel["widget_key"].as_str().unwrap()
        )),
        "{link}"
    );

    // The bot holds it: nobody is assigned and nothing waits in the queue.
    let c = conversation(&admin, &conv).await;
    assert_eq!(c["assignee"], Value::Null, "{c}");
    let quiet = agent_ws.drain(Duration::from_millis(300)).await;
    assert!(
        !quiet
            .iter()
            .any(|f| f["type"] == "event" && f["event"]["kind"] == "assignment"),
        "no assignment while the bot answers: {quiet:?}"
    );

    // 转人工: the bot says so, and routing assigns the group's agent, saying why.
    vws.send_message("q2", Some(&conv), "转人工").await;
    let bye = bot_says(&mut vws).await;
    assert!(bye["body"].as_str().unwrap().contains("转接人工"), "{bye}");
    let assigned = loop {
        let f = vws.recv_type("event").await;
        if f["event"]["kind"] == "assignment" {
            break f["event"].clone();
        }
    };
    assert_eq!(assigned["assignee"]["id"], agent.user_id());
    let c = conversation(&agent, &conv).await;
    assert_eq!(c["assignee"]["id"], agent.user_id(), "{c}");

    // The agent sees the whole bot transcript, and why the conversation came to them.
    let events = agent
        .json(&format!("/api/v1/conversations/{conv}/events"))
        .await;
    let items = events["items"].as_array().unwrap();
    let said: Vec<(String, String)> = items
        .iter()
        .filter(|e| e["kind"] == "message")
        .map(|e| {
            (
                e["sender"]["kind"].as_str().unwrap().to_owned(),
                e["body"].as_str().unwrap().chars().take(4).collect(),
            )
        })
        .collect();
    assert_eq!(
        said,
        vec![
            ("visitor".into(), "请问怎么".into()),
            ("bot".into(), "退货流程".into()),
            ("visitor".into(), "转人工".into()),
            ("bot".into(), "正在为您".into()),
        ]
    );
    let assignment = items.iter().find(|e| e["kind"] == "assignment").unwrap();
    assert_eq!(
        assignment["reason"][0],
        json!({"code": "bot_handoff", "trigger": "asked"})
    );

    // From now on people answer: the bot stays quiet.
    vws.send_message("q3", Some(&conv), "发货要几天？").await;
    let after = vws.drain(Duration::from_millis(500)).await;
    assert!(
        !after.iter().any(|f| f["event"]["sender"]["kind"] == "bot"),
        "{after:?}"
    );
}

async fn two_misses_hand_over_and_are_collected_for_admins(app: TestApp) {
    let admin = app.admin().await;
    let returns = article(&admin, "退货流程", "7 天内可退货。", &["退货"]).await;
    let (channel, agent, _agent_ws) = shop(&app, &admin).await;
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;

    let ack = vws
        .send_message("m1", None, "你们的量子纠缠加速器支持几种频段")
        .await;
    let conv = ack["conversation_id"].as_str().unwrap().to_owned();
    follow(&mut vws, &conv, &ack).await;
    let miss = bot_says(&mut vws).await;
    assert!(
        miss["body"].as_str().unwrap().contains("没有找到答案"),
        "{miss}"
    );
    assert_eq!(miss["buttons"], json!([{"label": "转人工"}]));
    assert_eq!(conversation(&admin, &conv).await["assignee"], Value::Null);

    vws.send_message("m2", Some(&conv), "火星上的仓库今天营业吗")
        .await;
    let bye = bot_says(&mut vws).await;
    assert!(bye["body"].as_str().unwrap().contains("转接人工"), "{bye}");
    let c = loop {
        let c = conversation(&admin, &conv).await;
        if c["assignee"] != Value::Null {
            break c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(c["assignee"]["id"], agent.user_id());
    let events = admin
        .json(&format!("/api/v1/conversations/{conv}/events"))
        .await;
    let assignment = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "assignment")
        .cloned()
        .unwrap();
    assert_eq!(assignment["reason"][0]["trigger"], "misses");

    // Both questions wait for an admin, newest first; agents may not see the list.
    let list = admin.json("/api/v1/kb/unanswered").await;
    let questions: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["question"].as_str().unwrap())
        .collect();
    assert_eq!(
        questions,
        vec!["火星上的仓库今天营业吗", "你们的量子纠缠加速器支持几种频段"]
    );
    assert_eq!(agent.get("/api/v1/kb/unanswered").await.status(), 403);

    // Linking one to an article takes it off the open list; a bogus article changes nothing.
    let first = list["items"][0]["id"].as_str().unwrap().to_owned();
    let r = admin
        .post(
            &format!("/api/v1/kb/unanswered/{first}/resolve"),
            json!({"article_id": uuid::Uuid::now_v7().to_string()}),
        )
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        admin.json("/api/v1/kb/unanswered").await["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let r = admin
        .post(
            &format!("/api/v1/kb/unanswered/{first}/resolve"),
            json!({"article_id": returns}),
        )
        .await;
    assert_eq!(r.status(), 204);
    let open = admin.json("/api/v1/kb/unanswered").await;
    assert_eq!(open["items"].as_array().unwrap().len(), 1);
    let all = admin.json("/api/v1/kb/unanswered?all=true").await;
    let linked = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == first.as_str())
        .unwrap();
    assert_eq!(linked["article_id"], returns.as_str());
    assert!(linked["resolved_at"].is_string());
}

async fn an_agent_who_replies_takes_the_conversation_from_the_bot(app: TestApp) {
    let admin = app.admin().await;
    article(&admin, "退货流程", "7 天内可退货。", &["退货"]).await;
    let (channel, agent, _agent_ws) = shop(&app, &admin).await;
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;
    let ack = vws.send_message("a1", None, "怎么退货").await;
    let conv = ack["conversation_id"].as_str().unwrap().to_owned();
    follow(&mut vws, &conv, &ack).await;
    bot_says(&mut vws).await;

    // An agent steps in from the unassigned list and writes.
    let r = agent
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"client_id": "agent-1", "body": "您好，我来帮您处理退货。"}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let c = conversation(&agent, &conv).await;
    assert_eq!(c["assignee"]["id"], agent.user_id());

    // The visitor's next question is for the agent, not the bot.
    vws.send_message("a2", Some(&conv), "退货要多久到账").await;
    let after = vws.drain(Duration::from_millis(500)).await;
    assert!(
        !after
            .iter()
            .any(|f| f["type"] == "event" && f["event"]["sender"]["kind"] == "bot"),
        "{after:?}"
    );
}

async fn bot_settings_are_validated(app: TestApp) {
    let admin = app.admin().await;
    let channel = app.channel(&admin, &[]).await;
    let path = format!("/api/v1/channels/{}", channel["id"].as_str().unwrap());
    for (bot, says) in [
        (json!({"enabled": true, "name": " "}), "name"),
        (json!({"enabled": true, "miss_limit": 9}), "miss_limit"),
        (
            json!({"enabled": true, "handoff_keywords": ["", "投诉"]}),
            "keywords",
        ),
    ] {
        let r = admin.patch(&path, json!({"bot": bot})).await;
        assert_eq!(r.status(), 422);
        let body: Value = r.json().await.unwrap();
        assert!(
            body["error"]["message"].as_str().unwrap().contains(says),
            "{body}"
        );
    }
    let saved = admin.json(&path).await;
    assert_eq!(saved["bot"], Value::Null, "refused settings left nothing");
    // A visitor of a channel without a bot is routed at once (no bot message).
    let agent = app.person(&admin, "agent").await;
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;
    vws.send_message("n1", None, "怎么退货").await;
    let frames = vws.drain(Duration::from_millis(400)).await;
    assert!(
        !frames.iter().any(|f| f["event"]["sender"]["kind"] == "bot"),
        "{frames:?}"
    );
    drop(agent);
    // Switching the bot off keeps its settings for later.
    let r = admin
        .patch(
            &path,
            json!({"bot": {"enabled": false, "name": "小智", "handoff_keywords": ["投诉"]}}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let c: Value = r.json().await.unwrap();
    assert_eq!(
        c["bot"],
        json!({"enabled": false, "name": "小智", "miss_limit": 2, "handoff_keywords": ["投诉"]})
    );
}

async fn the_workspaces_synonyms_teach_the_bot(app: TestApp) {
    let admin = app.admin().await;
    let r = admin
        .post(
            "/api/v1/kb/articles",
            json!({"title": "Refund policy", "body_markdown": "Refunds are paid within 3 days.",
                   "keywords": ["refund"], "locale": "en"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = admin
        .post(&format!("/api/v1/kb/articles/{id}/publish"), json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let (channel, agent, _agent_ws) = shop(&app, &admin).await;

    // A word the knowledge base does not use: the bot has no answer.
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;
    let ack = vws.send_message("s1", None, "where is my kickback").await;
    let conv = ack["conversation_id"].as_str().unwrap().to_owned();
    follow(&mut vws, &conv, &ack).await;
    let miss = bot_says(&mut vws).await;
    assert_eq!(miss["buttons"][0]["label"], "转人工", "{miss}");

    // Only editors change synonyms; bad ones are refused and change nothing.
    assert_eq!(admin.json("/api/v1/kb/synonyms").await["text"], "");
    let r = agent
        .put("/api/v1/kb/synonyms", json!({"text": "refund, kickback"}))
        .await;
    assert_eq!(r.status(), 403);
    let r = admin
        .put(
            "/api/v1/kb/synonyms",
            json!({"text": format!("refund, {}", "k".repeat(31))}),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(admin.json("/api/v1/kb/synonyms").await["text"], "");

    let r = admin
        .put(
            "/api/v1/kb/synonyms",
            json!({"text": "# our customers' words\nrefund, kickback"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let saved: Value = r.json().await.unwrap();
    assert_eq!(saved["groups"], json!([["refund", "kickback"]]));
    assert!(saved["builtin_groups"].as_u64().unwrap() > 10);

    // The same question from another visitor is now answered with the article.
    let v2 = app.visitor(&channel, "https://shop.test").await;
    let mut vws2 = Ws::visitor(&app, &v2).await;
    let ack = vws2.send_message("s2", None, "where is my kickback").await;
    let conv2 = ack["conversation_id"].as_str().unwrap().to_owned();
    follow(&mut vws2, &conv2, &ack).await;
    let answer = bot_says(&mut vws2).await;
    assert!(
        answer["body"]
            .as_str()
            .unwrap()
            .starts_with("Refund policy"),
        "{answer}"
    );
}

async fn visitors_get_help_articles_while_they_type(app: TestApp) {
    let admin = app.admin().await;
    let returns = article(&admin, "退货流程", "7 天内可退货。", &["退货", "怎么退"]).await;
    // A draft is never suggested.
    let r = admin
        .post(
            "/api/v1/kb/articles",
            json!({"title": "退货新政（草稿）", "body_markdown": "草稿", "keywords": ["退货"], "locale": "zh-CN"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let channel = app.channel(&admin, &[]).await;
    let v = app.visitor(&channel, "https://shop.test").await;
    let suggest = |q: &str| {
        reqwest::Client::new()
            .get(app.url("/api/widget/v1/kb/suggest"))
            .query(&[("q", q)])
            .bearer_auth(&v.token)
            .send()
    };
    let r: Value = suggest("我想退货").await.unwrap().json().await.unwrap();
    let items = r["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{r}");
    assert_eq!(items[0]["title"], "退货流程");
    assert!(items[0]["url"].as_str().unwrap().ends_with(&format!(
        "/help/{}/articles/{returns}",
        channel["widget_key"].as_str().unwrap()
    )));
    // A long message is ranked too (on a blocking thread, past 200 characters).
    let long = format!("{}我想退货", "您好，".repeat(80));
    let r: Value = suggest(&long).await.unwrap().json().await.unwrap();
    assert_eq!(r["items"][0]["title"], "退货流程", "{r}");
    // Too short, unrelated, or a request for a person: nothing.
    for q in ["退", "火星天气怎么样", "转人工"] {
        let r: Value = suggest(q).await.unwrap().json().await.unwrap();
        assert_eq!(r["items"], json!([]), "{q}: {r}");
    }
    // Only visitors of this server ask.
    let r = reqwest::Client::new()
        .get(app.url("/api/widget/v1/kb/suggest?q=退货"))
        .bearer_auth("vt_forged")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
