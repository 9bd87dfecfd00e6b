//! Guided flows (多轮引导): saved and checked as a whole; a trigger phrase starts one in the
//! widget, buttons move through its steps, a link opens a page, and "a person" hands over.

use crate::bot::{bot_says, conversation, follow, shop};
use crate::both_backends;
use crate::helpers::*;
use serde_json::{json, Value};

both_backends!(
    flows_are_validated_saved_and_for_editors_only,
    a_flow_leads_the_visitor_to_a_link_or_a_person,
);

fn account_flow() -> Value {
    json!({
        "id": "account", "name": "账户问题", "enabled": true, "triggers": ["账号", "账户问题"],
        "steps": [
            {"id": "start", "text": "请问是哪类账户问题？", "options": [
                {"label": "登录问题", "action": "step", "step": "login"},
                {"label": "找人工", "action": "human"}]},
            {"id": "login", "text": "登录遇到什么问题？", "options": [
                {"label": "忘记密码", "action": "step", "step": "reset"},
                {"label": "返回", "action": "step", "step": "start"}]},
            {"id": "reset", "text": "点击下方链接重置密码。", "options": [
                {"label": "重置密码", "action": "link", "url": "https://shop.test/reset"},
                {"label": "解决了", "action": "end"}]}
        ]
    })
}

async fn put_flows(s: &Session, _app: &TestApp, items: Value) -> reqwest::Response {
    s.put("/api/v1/flows", json!({ "items": items })).await
}

async fn flows_are_validated_saved_and_for_editors_only(app: TestApp) {
    let admin = app.admin().await;
    assert_eq!(admin.json("/api/v1/flows").await["items"], json!([]));
    let r = put_flows(&admin, &app, json!([account_flow()])).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        admin.json("/api/v1/flows").await["items"],
        json!([account_flow()])
    );

    let mut bad_link = account_flow();
    bad_link["steps"][2]["options"][0]["url"] = json!("javascript:alert(1)");
    let mut dangling = account_flow();
    dangling["steps"][0]["options"][0]["step"] = json!("nowhere");
    for (flows, says) in [
        (json!([bad_link]), "flows[1].steps[3].options[1]"),
        (json!([dangling]), "no step “nowhere”"),
        (json!([account_flow(), account_flow()]), "flows[2].id"),
    ] {
        let r = put_flows(&admin, &app, flows).await;
        assert_eq!(r.status(), 422);
        let body: Value = r.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
    }
    assert_eq!(
        admin.json("/api/v1/flows").await["items"],
        json!([account_flow()]),
        "refused saves changed nothing"
    );
    let agent = app.person(&admin, "agent").await;
    assert_eq!(agent.get("/api/v1/flows").await.status(), 403);
    assert_eq!(put_flows(&agent, &app, json!([])).await.status(), 403);
}

fn labels(e: &Value) -> Vec<String> {
    e["buttons"]
        .as_array()
        .map(|b| {
            b.iter()
                .map(|b| b["label"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn a_flow_leads_the_visitor_to_a_link_or_a_person(app: TestApp) {
    let admin = app.admin().await;
    assert_eq!(
        put_flows(&admin, &app, json!([account_flow()]))
            .await
            .status(),
        200
    );
    let (channel, agent, _agent_ws) = shop(&app, &admin).await;
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;

    // A question the bot cannot answer: it offers the flows (their first trigger) and a person.
    let ack = vws.send_message("f0", None, "火星上的仓库营业吗").await;
    let conv = ack["conversation_id"].as_str().unwrap().to_owned();
    follow(&mut vws, &conv, &ack).await;
    let miss = bot_says(&mut vws).await;
    assert_eq!(labels(&miss), vec!["账号", "转人工"]);

    // Clicking the flow's button sends its label, which starts the flow.
    vws.send_message("f1", Some(&conv), "账号").await;
    let start = bot_says(&mut vws).await;
    assert_eq!(start["body"], "请问是哪类账户问题？");
    assert_eq!(labels(&start), vec!["登录问题", "找人工"]);

    vws.send_message("f2", Some(&conv), "登录问题").await;
    let login = bot_says(&mut vws).await;
    assert_eq!(login["body"], "登录遇到什么问题？");
    // The bot holds the conversation, so a way to a person is always offered.
    assert_eq!(labels(&login), vec!["忘记密码", "返回", "转人工"]);

    vws.send_message("f3", Some(&conv), "忘记密码！").await;
    let reset = bot_says(&mut vws).await;
    assert_eq!(reset["buttons"][0]["url"], "https://shop.test/reset");
    vws.send_message("f4", Some(&conv), "解决了").await;
    assert!(bot_says(&mut vws).await["body"]
        .as_str()
        .unwrap()
        .contains("还有其他问题"));

    // Started again, "找人工" hands the conversation to the group's agent.
    vws.send_message("f5", Some(&conv), "还是账户问题").await;
    assert_eq!(bot_says(&mut vws).await["body"], "请问是哪类账户问题？");
    vws.send_message("f6", Some(&conv), "找人工").await;
    assert!(bot_says(&mut vws).await["body"]
        .as_str()
        .unwrap()
        .contains("转接人工"));
    let c = loop {
        let c = conversation(&admin, &conv).await;
        if c["assignee"] != Value::Null {
            break c;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(c["assignee"]["id"], agent.user_id());
}
