//! Quick replies through the REST API: team and personal replies, who may see and change
//! them, bad input, workspace scoping, and suggestions for the visitor's last message.

use crate::both_backends;
use crate::helpers::*;
use serde_json::{json, Value};

both_backends!(
    quick_replies_team_and_personal_crud,
    personal_replies_are_invisible_and_immutable_to_others,
    team_replies_need_admins_or_supervisors,
    quick_reply_bad_input_is_refused_and_changes_nothing,
    quick_reply_ids_of_another_workspace_are_not_found,
    suggestions_propose_the_matching_article_and_quick_reply,
);

const PATH: &str = "/api/v1/quick_replies";

async fn status_code(r: reqwest::Response) -> (u16, String) {
    let s = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    (s, v["error"]["code"].as_str().unwrap_or("").to_owned())
}

async fn delete(s: &Session, path: &str) -> reqwest::Response {
    s.client
        .delete(format!("{}{}", s.base, path))
        .header("x-csrf-token", &s.csrf)
        .send()
        .await
        .unwrap()
}

async fn created(r: reqwest::Response) -> Value {
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

async fn ok(r: reqwest::Response) -> Value {
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn item(scope: &str, shortcut: &str, text: &str) -> Value {
    json!({"scope": scope, "shortcut": shortcut, "title": format!("标题 {shortcut}"), "text": text, "category": "常用"})
}

/// The shortcuts the session sees, in list order.
async fn shortcuts(s: &Session) -> Vec<String> {
    s.json(PATH).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["shortcut"].as_str().unwrap().to_owned())
        .collect()
}

async fn other_workspace(app: &TestApp) -> Session {
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
    app.login(&email, "other long password").await
}

async fn quick_replies_team_and_personal_crud(app: TestApp) {
    let admin = app.admin().await;
    let agent = app.person(&admin, "agent").await;

    let team = created(
        admin
            .post(
                PATH,
                item("team", "/hi", "您好，{visitor.name}！我是{agent.name}。"),
            )
            .await,
    )
    .await;
    assert_eq!(
        (
            team["scope"].as_str(),
            team["shortcut"].as_str(),
            team["owner_id"].is_null(),
            team["category"].as_str()
        ),
        (Some("team"), Some("hi"), true, Some("常用")),
        "a leading / is dropped from the shortcut"
    );
    let mine = created(agent.post(PATH, item("personal", "bye", "再见")).await).await;
    assert_eq!(mine["scope"], "personal");
    assert_eq!(mine["owner_id"].as_str(), Some(agent.user_id().as_str()));

    // Everyone sees the team's; the agent also sees their own.
    assert_eq!(shortcuts(&agent).await, vec!["hi", "bye"]);
    assert_eq!(shortcuts(&admin).await, vec!["hi"]);

    // The owner edits their reply; fields left out stay.
    let changed = ok(agent
        .patch(
            &format!("{PATH}/{}", id(&mine)),
            json!({"text": "再见，欢迎下次光临", "category": ""}),
        )
        .await)
    .await;
    assert_eq!(
        (
            changed["text"].as_str(),
            changed["category"].as_str(),
            changed["shortcut"].as_str()
        ),
        (Some("再见，欢迎下次光临"), Some(""), Some("bye"))
    );
    let listed = agent.json(PATH).await;
    assert_eq!(listed["items"][1]["text"], "再见，欢迎下次光临");

    // Delete; a second delete is not found.
    assert_eq!(
        delete(&agent, &format!("{PATH}/{}", id(&mine)))
            .await
            .status(),
        204
    );
    assert_eq!(
        status_code(delete(&agent, &format!("{PATH}/{}", id(&mine))).await).await,
        (404, "not_found".into())
    );
    assert_eq!(shortcuts(&agent).await, vec!["hi"]);

    // The routes are in the OpenAPI document.
    let doc: Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (p, method) in [
        ("/api/v1/quick_replies", "get"),
        ("/api/v1/quick_replies", "post"),
        ("/api/v1/quick_replies/{id}", "patch"),
        ("/api/v1/quick_replies/{id}", "delete"),
        ("/api/v1/conversations/{id}/suggestions", "get"),
    ] {
        assert!(doc["paths"][p][method].is_object(), "{method} {p} missing");
    }
    assert!(doc["components"]["schemas"]["QuickReply"].is_object());
}

async fn personal_replies_are_invisible_and_immutable_to_others(app: TestApp) {
    let admin = app.admin().await;
    let alice = app.person(&admin, "agent").await;
    let bob = app.person(&admin, "agent").await;
    let sup = app.person(&admin, "supervisor").await;
    let mine = created(alice.post(PATH, item("personal", "mine", "私人")).await).await;
    let path = format!("{PATH}/{}", id(&mine));

    for other in [&bob, &sup, &admin] {
        assert!(shortcuts(other).await.is_empty(), "others do not see it");
        assert_eq!(
            status_code(other.patch(&path, json!({"text": "改掉"})).await).await,
            (404, "not_found".into()),
            "its existence is not revealed"
        );
        assert_eq!(
            status_code(delete(other, &path).await).await,
            (404, "not_found".into())
        );
    }
    let still = alice.json(PATH).await;
    assert_eq!(still["items"][0]["text"], "私人");
}

async fn team_replies_need_admins_or_supervisors(app: TestApp) {
    let admin = app.admin().await;
    let agent = app.person(&admin, "agent").await;
    let sup = app.person(&admin, "supervisor").await;

    assert_eq!(
        status_code(agent.post(PATH, item("team", "x", "x")).await).await,
        (403, "forbidden".into())
    );
    let team = created(sup.post(PATH, item("team", "hi", "您好")).await).await;
    let path = format!("{PATH}/{}", id(&team));
    assert_eq!(
        status_code(agent.patch(&path, json!({"text": "改掉"})).await).await,
        (403, "forbidden".into())
    );
    assert_eq!(
        status_code(delete(&agent, &path).await).await,
        (403, "forbidden".into())
    );
    assert_eq!(agent.json(PATH).await["items"][0]["text"], "您好");

    // Admins and supervisors manage any team reply.
    ok(admin.patch(&path, json!({"text": "您好！"})).await).await;
    assert_eq!(agent.json(PATH).await["items"][0]["text"], "您好！");
    assert_eq!(delete(&sup, &path).await.status(), 204);
    assert!(shortcuts(&agent).await.is_empty());
}

async fn quick_reply_bad_input_is_refused_and_changes_nothing(app: TestApp) {
    let admin = app.admin().await;
    let good = created(admin.post(PATH, item("team", "hi", "您好")).await).await;
    let path = format!("{PATH}/{}", id(&good));

    for bad in [
        json!({"scope": "global", "shortcut": "a", "title": "t", "text": "x"}),
        json!({"scope": "team", "shortcut": "", "title": "t", "text": "x"}),
        json!({"scope": "team", "shortcut": "a b", "title": "t", "text": "x"}),
        json!({"scope": "team", "shortcut": "a", "title": "  ", "text": "x"}),
        json!({"scope": "team", "shortcut": "a", "title": "t", "text": " \n "}),
        json!({"scope": "team", "shortcut": "a", "title": "t", "text": "字".repeat(2001)}),
        json!({"scope": "team", "shortcut": "a", "title": "t", "text": "x", "category": "类".repeat(31)}),
        json!({"scope": "team", "shortcut": "a".repeat(31), "title": "t", "text": "x"}),
    ] {
        let (s, _) = status_code(admin.post(PATH, bad.clone()).await).await;
        assert!((400..500).contains(&s), "{bad} → {s}");
    }
    let r = admin
        .client
        .post(format!("{}{PATH}", admin.base))
        .header("x-csrf-token", &admin.csrf)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // A bad field in a change refuses the whole change.
    for bad in [
        json!({"title": "新标题", "text": ""}),
        json!({"shortcut": "has space", "text": "新的"}),
        json!({"title": "长".repeat(101)}),
    ] {
        let (s, _) = status_code(admin.patch(&path, bad.clone()).await).await;
        assert_eq!(s, 422, "{bad}");
    }
    assert_eq!(
        status_code(admin.patch(&format!("{PATH}/not-a-uuid"), json!({})).await).await,
        (404, "not_found".into())
    );
    let list = admin.json(PATH).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0], good, "nothing changed");
}

async fn quick_reply_ids_of_another_workspace_are_not_found(app: TestApp) {
    let admin = app.admin().await;
    let team = created(admin.post(PATH, item("team", "hi", "您好")).await).await;
    let path = format!("{PATH}/{}", id(&team));
    let boss = other_workspace(&app).await;

    assert!(shortcuts(&boss).await.is_empty());
    assert_eq!(
        status_code(boss.patch(&path, json!({"text": "改掉"})).await).await,
        (404, "not_found".into())
    );
    assert_eq!(
        status_code(delete(&boss, &path).await).await,
        (404, "not_found".into())
    );
    assert_eq!(admin.json(PATH).await["items"][0]["text"], "您好");

    // Suggestions for another workspace's conversation are not found either.
    let ch = app.channel(&admin, &["https://shop.test"]).await;
    let v = app.visitor(&ch, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;
    let conv = vws.send_message("v-1", None, "你好").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        status_code(
            boss.get(&format!("/api/v1/conversations/{conv}/suggestions"))
                .await
        )
        .await,
        (404, "not_found".into())
    );
}

async fn suggestions_propose_the_matching_article_and_quick_reply(app: TestApp) {
    let admin = app.admin().await;
    let agent = app.person(&admin, "agent").await;
    // A small knowledge base: the shipping article published, a better-matching draft not.
    let mut published = Vec::new();
    for (title, body, keywords) in [
        (
            "发货时间说明",
            "现货商品在付款后**48小时内**发货，预售商品以页面时间为准。",
            vec!["发货", "几天发货", "什么时候发货"],
        ),
        (
            "如何申请退款",
            "在订单详情页点击“申请退款”，审核通过后3个工作日内原路退回。",
            vec!["退款", "退钱"],
        ),
        (
            "修改收货地址",
            "发货前可在订单详情页修改收货地址。",
            vec!["改地址", "收货地址"],
        ),
    ] {
        let a = created(
            admin
                .post(
                    "/api/v1/kb/articles",
                    json!({"title": title, "body_markdown": body, "keywords": keywords, "locale": "zh-CN"}),
                )
                .await,
        )
        .await;
        ok(admin
            .post(
                &format!("/api/v1/kb/articles/{}/publish", id(&a)),
                json!({}),
            )
            .await)
        .await;
        published.push(a);
    }
    created(
        admin
            .post(
                "/api/v1/kb/articles",
                json!({"title": "发货草稿", "body_markdown": "几天发货", "keywords": ["几天发货"], "locale": "zh-CN"}),
            )
            .await,
    )
    .await;
    let ship = created(
        admin
            .post(
                PATH,
                json!({"scope": "team", "shortcut": "ship", "title": "发货时间", "text": "您好，{visitor.name}，现货48小时内发货。", "category": "物流"}),
            )
            .await,
    )
    .await;
    created(
        admin
            .post(
                PATH,
                json!({"scope": "team", "shortcut": "refund", "title": "退款", "text": "退款3个工作日内到账。", "category": "售后"}),
            )
            .await,
    )
    .await;
    // Another agent's personal reply about shipping is never suggested to this agent.
    let bob = app.person(&admin, "agent").await;
    created(
        bob.post(PATH, item("personal", "bobship", "发货很快的"))
            .await,
    )
    .await;

    let ch = app.channel(&admin, &["https://shop.test"]).await;
    let v = app.visitor(&ch, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;
    let conv = vws.send_message("v-1", None, "你好").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/conversations/{conv}/suggestions");
    let ack = vws
        .send_message("v-2", Some(&conv), "请问下单后几天能发货？")
        .await;

    let s = agent.json(&path).await;
    assert_eq!(s["seq"], ack["seq"], "{s}");
    assert_eq!(s["message"], "请问下单后几天能发货？");
    let articles = s["articles"].as_array().unwrap();
    assert!(!articles.is_empty() && articles.len() <= 3, "{s}");
    assert_eq!(articles[0]["id"], published[0]["id"], "{s}");
    assert_eq!(articles[0]["title"], "发货时间说明");
    assert!(
        articles[0]["excerpt"]
            .as_str()
            .unwrap()
            .starts_with("现货商品在付款后48小时内发货"),
        "{s}"
    );
    assert_eq!(
        articles[0]["url"].as_str().unwrap(),
        format!(
            "/help/{}/articles/{}",
            ch["widget_key"].as_str().unwrap(),
            id(&published[0])
        )
    );
    let replies = s["quick_replies"].as_array().unwrap();
    assert_eq!(replies.len(), 1, "{s}");
    assert_eq!(replies[0]["id"], ship["id"]);

    // A new visitor message moves the suggestions on.
    vws.send_message("v-3", Some(&conv), "我想申请退款").await;
    let s = agent.json(&path).await;
    assert_eq!(s["articles"][0]["id"], published[1]["id"], "{s}");
    assert_eq!(s["quick_replies"][0]["shortcut"], "refund", "{s}");

    // Unknown conversation: 404.
    let (st, _) = status_code(
        agent
            .get(&format!(
                "/api/v1/conversations/{}/suggestions",
                uuid::Uuid::now_v7()
            ))
            .await,
    )
    .await;
    assert_eq!(st, 404);
}
