//! Business hours of the workspace (营业时间) with holidays, the off-hours reply, and the
//! leave-a-message form (留言).
//!
//! The clock is real: a holiday on today's date (in Shanghai) closes the workspace for the
//! whole day, so the next opening is tomorrow 09:00 Shanghai time whenever the test runs.

use crate::both_backends;
use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;
use time::{Date, OffsetDateTime, UtcOffset};

both_backends!(
    workspace_hours_are_validated_and_saved,
    a_visitor_on_a_holiday_gets_the_off_hours_reply_once,
    leave_a_message_creates_a_tagged_conversation_in_the_inbox,
    the_bot_answers_off_hours_and_the_reply_follows_its_hand_off,
);

/// Today's date in Shanghai (UTC+8, no daylight saving time).
fn shanghai_today() -> Date {
    OffsetDateTime::now_utc()
        .to_offset(UtcOffset::from_hms(8, 0, 0).unwrap())
        .date()
}

fn ymd(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

/// Every day 09:00–18:00 in Shanghai, today a holiday.
fn holiday_today() -> Value {
    let r = [540, 1080];
    json!({
        "enabled": true,
        "time_zone": "Asia/Shanghai",
        "days": {"mon": [r], "tue": [r], "wed": [r], "thu": [r], "fri": [r], "sat": [r], "sun": [r]},
        "special_days": [{"date": ymd(shanghai_today()), "note": "公司活动日"}],
    })
}

/// Tomorrow 09:00 in Shanghai as RFC 3339 UTC (01:00Z).
fn tomorrow_nine_utc() -> String {
    format!("{}T01:00:00Z", ymd(shanghai_today().next_day().unwrap()))
}

async fn put_hours(s: &Session, body: &Value) -> reqwest::Response {
    s.client
        .put(format!("{}/api/v1/workspace/hours", s.base))
        .header("x-csrf-token", &s.csrf)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn events(admin: &Session, conv: &str) -> Vec<Value> {
    admin
        .json(&format!("/api/v1/conversations/{conv}/events"))
        .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn bot_messages(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["kind"] == "message" && e["sender"]["kind"] == "bot")
        .map(|e| e["body"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Polls until the conversation has `n` automatic messages (or 5 s passed).
async fn wait_for_bot_messages(admin: &Session, conv: &str, n: usize) -> Vec<String> {
    for _ in 0..50 {
        let found = bot_messages(&events(admin, conv).await);
        if found.len() >= n {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bot_messages(&events(admin, conv).await)
}

async fn session_for(app: &TestApp, channel: &Value, language: &str) -> Visitor {
    let res = reqwest::Client::new()
        .post(app.url("/api/widget/v1/session"))
        .header("origin", "https://shop.test")
        .json(&json!({"widget_key": channel["widget_key"], "language": language}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    Visitor {
        token: v["visitor_token"].as_str().unwrap().to_owned(),
        origin: "https://shop.test".into(),
        session: v,
    }
}

async fn leave(app: &TestApp, v: &Visitor, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/api/widget/v1/leave_message"))
        .header("origin", &v.origin)
        .bearer_auth(&v.token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn workspace_hours_are_validated_and_saved(app: TestApp) {
    let admin = app.admin().await;
    let agent = app.person(&admin, "agent").await;

    // Never saved: switched off, with a proposal to start from.
    let h = admin.json("/api/v1/workspace/hours").await;
    assert_eq!(h["enabled"], false);
    assert_eq!(h["time_zone"], "Asia/Shanghai");
    assert_eq!(h["days"]["mon"], json!([[540, 1080]]));
    assert_eq!(h["open_now"], true);

    // Agents may read, not change.
    assert_eq!(
        agent.json("/api/v1/workspace/hours").await["enabled"],
        false
    );
    let r = put_hours(&agent, &holiday_today()).await;
    assert_eq!(r.status(), 403);

    let with = |patch: Value| {
        let mut b = holiday_today();
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    for (bad, says) in [
        (with(json!({"time_zone": "Mars/Olympus"})), "time zone"),
        (
            with(json!({"days": {"mon": [[600, 700], [650, 800]]}})),
            "overlap",
        ),
        (with(json!({"days": {"tue": [[900, 800]]}})), "1440"),
        (
            with(json!({"special_days": [{"date": "2026-02-30"}]})),
            "not a date",
        ),
        (
            with(json!({"special_days": [{"date": "10/01/2026"}]})),
            "not a date",
        ),
        (
            with(json!({"special_days": [{"date": "2026-10-01"}, {"date": "2026-10-01"}]})),
            "twice",
        ),
        (
            with(
                json!({"special_days": [{"date": "2026-09-27", "ranges": [[540, 800], [700, 900]]}]}),
            ),
            "overlap",
        ),
        (
            with(json!({"off_hours_text": "字".repeat(1001)})),
            "off-hours",
        ),
    ] {
        let r = put_hours(&admin, &bad).await;
        assert_eq!(r.status(), 422, "{bad}");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["error"]["message"].as_str().unwrap().contains(says),
            "{body}"
        );
    }
    // Nothing was saved.
    assert_eq!(
        admin.json("/api/v1/workspace/hours").await["enabled"],
        false
    );

    // 国庆: closed 10-01, a 调休 Sunday 09-27 with its own hours; sorted by date on the way in.
    let good = with(json!({
        "special_days": [
            {"date": "2026-10-01", "note": "国庆节"},
            {"date": "2026-09-27", "ranges": [[540, 1080]], "note": "调休"},
        ],
        "off_hours_text": "下班啦，{next_open} 见",
    }));
    let r = put_hours(&admin, &good).await;
    assert_eq!(r.status(), 200);
    let saved = admin.json("/api/v1/workspace/hours").await;
    assert_eq!(saved["enabled"], true);
    assert_eq!(saved["special_days"][0]["date"], "2026-09-27");
    assert_eq!(saved["special_days"][0]["ranges"], json!([[540, 1080]]));
    assert_eq!(saved["special_days"][1]["date"], "2026-10-01");
    assert_eq!(saved["special_days"][1]["ranges"], json!([]));
    assert_eq!(saved["special_days"][1]["note"], "国庆节");
    assert_eq!(saved["off_hours_text"], "下班啦，{next_open} 见");
    assert_eq!(saved["days"]["sun"], json!([[540, 1080]]));
    // Another workspace's admin would see its own (the store test checks scoping); the
    // OpenAPI document lists the endpoint.
    let doc: Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/workspace/hours"]["put"].is_object());
    assert!(doc["paths"]["/api/widget/v1/leave_message"]["post"].is_object());
}

async fn a_visitor_on_a_holiday_gets_the_off_hours_reply_once(app: TestApp) {
    let admin = app.admin().await;
    let agent = app.person(&admin, "agent").await;
    let _online = Ws::agent(&app, &agent.token().await).await;
    // A group without its own hours follows the workspace calendar.
    let r = admin
        .post(
            "/api/v1/groups",
            json!({"name": "售后", "policy": ["least_load"]}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let gid = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = admin
        .client
        .put(app.url(&format!("/api/v1/groups/{gid}/members")))
        .header("x-csrf-token", &admin.csrf)
        .json(&json!({"members": [{"user_id": agent.user_id()}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let channel = app.channel(&admin, &[]).await;
    let r = admin
        .patch(
            &format!("/api/v1/channels/{}", channel["id"].as_str().unwrap()),
            json!({"group_id": gid}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(put_hours(&admin, &holiday_today()).await.status(), 200);

    // The widget knows before the visitor writes.
    let v = app.visitor(&channel, "https://shop.test").await;
    let bh = &v.session["business_hours"];
    assert_eq!(bh["open"], false, "{bh}");
    assert_eq!(bh["next_open_at"], tomorrow_nine_utc());
    assert_eq!(bh["next_open_text"], "明天 09:00");
    let hours = admin.json("/api/v1/workspace/hours").await;
    assert_eq!(hours["open_now"], false);

    // The first message gets the reply, telling when the team is back.
    let mut vws = Ws::visitor(&app, &v).await;
    let conv = vws.send_message("oh-1", None, "在吗").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let replies = wait_for_bot_messages(&admin, &conv, 1).await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert!(
        replies[0].contains("我们将于 明天 09:00 回来"),
        "{}",
        replies[0]
    );
    // The widget subscribes after its first message's ack and gets the reply too.
    vws.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 0}))
        .await;
    let mut seen = false;
    for _ in 0..20 {
        let f = vws.recv().await;
        if f["type"] == "event" && f["event"]["sender"]["kind"] == "bot" {
            assert!(f["event"]["body"].as_str().unwrap().contains("明天 09:00"));
            seen = true;
            break;
        }
    }
    assert!(seen, "the visitor got the reply on their socket");
    // The holiday closes the group although its agent is online with room: queued.
    let c = admin.json(&format!("/api/v1/conversations/{conv}")).await;
    assert!(c["conversation"]["assignee"].is_null(), "{c}");
    assert!(c["conversation"]["queued_at"].is_string(), "{c}");
    let evs = events(&admin, &conv).await;
    let queued = evs.iter().find(|e| e["kind"] == "queued").expect("queued");
    assert!(queued["reason"]
        .as_array()
        .unwrap()
        .contains(&json!({"code": "outside_hours"})));

    // More messages in the same closed period: no second reply.
    vws.send_message("oh-2", Some(&conv), "有人吗").await;
    vws.send_message("oh-3", Some(&conv), "？").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let evs = events(&admin, &conv).await;
    assert_eq!(bot_messages(&evs).len(), 1);
    assert_eq!(
        evs.iter()
            .filter(|e| e["kind"] == "message" && e["sender"]["kind"] == "visitor")
            .count(),
        3
    );

    // An English visitor reads English; the admin's own text replaces the built-in one.
    let en = session_for(&app, &channel, "en-US").await;
    assert_eq!(
        en.session["business_hours"]["next_open_text"],
        "tomorrow at 09:00"
    );
    let mut ews = Ws::visitor(&app, &en).await;
    let conv_en = ews.send_message("en-1", None, "hello?").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let replies = wait_for_bot_messages(&admin, &conv_en, 1).await;
    assert!(
        replies[0].contains("will be back tomorrow at 09:00"),
        "{}",
        replies[0]
    );
    let mut custom = holiday_today();
    custom["off_hours_text"] = json!("下班啦，{next_open} 见");
    assert_eq!(put_hours(&admin, &custom).await.status(), 200);
    let zh = app.visitor(&channel, "https://shop.test").await;
    let mut zws = Ws::visitor(&app, &zh).await;
    let conv_zh = zws.send_message("zh-1", None, "你好").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        wait_for_bot_messages(&admin, &conv_zh, 1).await,
        vec!["下班啦，明天 09:00 见".to_owned()]
    );

    // Switched off: open, no reply, and the agent gets the next conversation.
    let mut off = holiday_today();
    off["enabled"] = json!(false);
    assert_eq!(put_hours(&admin, &off).await.status(), 200);
    let open = app.visitor(&channel, "https://shop.test").await;
    assert_eq!(open.session["business_hours"]["open"], true);
    assert!(open.session["business_hours"]["next_open_at"].is_null());
    let mut ows = Ws::visitor(&app, &open).await;
    let conv_open = ows.send_message("op-1", None, "在吗").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(bot_messages(&events(&admin, &conv_open).await).is_empty());
    let c = admin
        .json(&format!("/api/v1/conversations/{conv_open}"))
        .await;
    assert_eq!(
        c["conversation"]["assignee"]["id"],
        agent.user_id().as_str()
    );
}

async fn leave_a_message_creates_a_tagged_conversation_in_the_inbox(app: TestApp) {
    let admin = app.admin().await;
    let agent = app.person(&admin, "agent").await;
    assert_eq!(put_hours(&admin, &holiday_today()).await.status(), 200);
    let channel = app.channel(&admin, &[]).await;
    let v = app.visitor(&channel, "https://shop.test").await;

    // Not a visitor: 401.
    let r = reqwest::Client::new()
        .post(app.url("/api/widget/v1/leave_message"))
        .header("origin", "https://shop.test")
        .json(&json!({"message": "x", "phone": "13800138000", "client_id": "l-0"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Bad contact details are refused and nothing is stored.
    for (bad, says) in [
        (
            json!({"name": "王小明", "message": "请回电", "client_id": "l-1"}),
            "phone number or an e-mail",
        ),
        (
            json!({"email": "not-an-address", "message": "请回电", "client_id": "l-2"}),
            "e-mail",
        ),
        (
            json!({"phone": "call me maybe", "message": "请回电", "client_id": "l-3"}),
            "phone",
        ),
        (
            json!({"phone": "123", "message": "请回电", "client_id": "l-4"}),
            "phone",
        ),
        (
            json!({"phone": "13800138000", "message": "   ", "client_id": "l-5"}),
            "message",
        ),
    ] {
        let r = leave(&app, &v, bad.clone()).await;
        assert_eq!(r.status(), 422, "{bad}");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["error"]["message"].as_str().unwrap().contains(says),
            "{body}"
        );
    }
    let list = agent
        .json("/api/v1/conversations?view=all&status=open")
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");

    let r = leave(
        &app,
        &v,
        json!({"name": "王小明", "phone": "+86 138 0013 8000", "email": "Ming@Example.com",
               "message": "想咨询企业版报价，明天请给我回电话", "client_id": "l-ok"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let left: Value = r.json().await.unwrap();
    let conv = left["conversation_id"].as_str().unwrap().to_owned();
    assert_eq!(left["event"]["sender"]["kind"], "visitor");
    assert_eq!(left["event"]["sender"]["name"], "王小明");
    // A retry of the same submission is not stored twice.
    let r = leave(
        &app,
        &v,
        json!({"name": "王小明", "phone": "+86 138 0013 8000",
               "message": "想咨询企业版报价，明天请给我回电话", "client_id": "l-ok"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["duplicate"], true);

    // The team finds it in the inbox next morning: unassigned, tagged 留言, the visitor's
    // details in the visitor panel.
    let list = agent
        .json("/api/v1/conversations?view=all&status=open")
        .await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["id"], conv.as_str());
    assert_eq!(items[0]["tags"], json!(["留言"]));
    assert!(items[0]["assignee"].is_null());
    let detail = agent.json(&format!("/api/v1/conversations/{conv}")).await;
    assert_eq!(detail["visitor"]["name"], "王小明");
    assert_eq!(detail["visitor"]["phone"], "+86 138 0013 8000");
    assert_eq!(detail["visitor"]["email"], "ming@example.com");
    let evs = events(&agent, &conv).await;
    let msgs: Vec<&Value> = evs.iter().filter(|e| e["kind"] == "message").collect();
    assert_eq!(msgs.len(), 1, "no off-hours reply after the form: {evs:?}");
    assert_eq!(msgs[0]["body"], "想咨询企业版报价，明天请给我回电话");

    // Writing on in the chat during the same closed period: still no reply.
    let mut vws = Ws::visitor(&app, &v).await;
    vws.send_message("l-chat", Some(&conv), "补充：公司 50 人")
        .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(bot_messages(&events(&agent, &conv).await).is_empty());
    // A second form in the same conversation keeps one 留言 tag.
    let r = leave(
        &app,
        &v,
        json!({"email": "ming@example.com", "message": "或者发邮件也可以", "client_id": "l-2nd"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.json::<Value>().await.unwrap()["conversation_id"],
        conv.as_str()
    );
    let list = agent
        .json("/api/v1/conversations?view=all&status=open")
        .await;
    assert_eq!(list["items"][0]["tags"], json!(["留言"]));

    // Too many submissions from one visitor: 429.
    let mut limited = false;
    for i in 0..12 {
        let r = leave(
            &app,
            &v,
            json!({"phone": "13800138000", "message": "再问一次", "client_id": format!("l-many-{i}")}),
        )
        .await;
        if r.status() == 429 {
            limited = true;
            break;
        }
        assert_eq!(r.status(), 201);
    }
    assert!(limited, "the form is rate-limited");
}

async fn the_bot_answers_off_hours_and_the_reply_follows_its_hand_off(app: TestApp) {
    let admin = app.admin().await;
    let r = admin
        .post(
            "/api/v1/kb/articles",
            json!({"title": "退货流程", "body_markdown": "收到商品 7 天内可申请退货。",
                   "keywords": ["退货", "怎么退"], "locale": "zh-CN"}),
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
    // A channel with the bot, routed to a group whose agent is online; today is a holiday.
    let (channel, _agent, _agent_ws) = crate::bot::shop(&app, &admin).await;
    assert_eq!(put_hours(&admin, &holiday_today()).await.status(), 200);

    let v = app.visitor(&channel, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;
    let ack = vws.send_message("b1", None, "请问怎么退货？").await;
    let conv = ack["conversation_id"].as_str().unwrap().to_owned();
    // The bot answers during off hours, and nobody tells the visitor the team is away yet.
    let said = wait_for_bot_messages(&admin, &conv, 1).await;
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].starts_with("退货流程"), "{said:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(bot_messages(&events(&admin, &conv).await).len(), 1);

    // 转人工: the bot hands over, and then the off-hours reply says when people are back.
    vws.send_message("b2", Some(&conv), "转人工").await;
    let said = wait_for_bot_messages(&admin, &conv, 3).await;
    assert_eq!(said.len(), 3, "{said:?}");
    assert!(said[1].contains("转接人工"), "{said:?}");
    assert!(said[2].contains("我们将于 明天 09:00 回来"), "{said:?}");
    // Nobody is assigned on a holiday: it waits in the queue.
    let c = admin.json(&format!("/api/v1/conversations/{conv}")).await;
    assert!(c["conversation"]["assignee"].is_null(), "{c}");
    assert!(c["conversation"]["queued_at"].is_string(), "{c}");
}
