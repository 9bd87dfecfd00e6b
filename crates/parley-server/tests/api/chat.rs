use crate::both_backends;
use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

both_backends!(
    visitor_and_agent_chat_live_both_ways,
    reconnect_resumes_without_loss_or_duplicates,
    restart_keeps_conversations_and_visitors,
    visitors_are_told_whether_agents_are_online,
    uploads_are_checked_and_served_safely,
    resolve_reopen_and_assignment_rules,
    sends_without_waiting_are_stored_in_order_and_acked_before_their_events,
);

async fn visitor_and_agent_chat_live_both_ways(app: TestApp) {
    let admin = app.admin().await;
    let channel = app.channel(&admin, &[]).await;
    let agent = app.person(&admin, "agent").await;
    let mut aws = Ws::agent(&app, &agent.token().await).await;
    let mut admin_ws = Ws::agent(&app, &admin.token().await).await;

    let v = app.visitor(&channel, "https://shop.test").await;
    assert!(
        v.session["conversation"].is_null(),
        "no conversation before the first message"
    );
    assert_eq!(v.session["channel"]["welcome_text"], "欢迎");
    let mut vws = Ws::visitor(&app, &v).await;
    let ack = vws.send_message("v-1", None, "你好，在吗？😀").await;
    assert_eq!(
        (ack["seq"].as_i64(), ack["duplicate"].as_bool()),
        (Some(1), Some(false))
    );
    let conv = ack["conversation_id"].as_str().unwrap().to_owned();

    // The agent's inbox hears of it at once, with an unread count.
    let inbox = aws.recv_type("inbox").await;
    assert_eq!(inbox["conversation"]["id"], conv.as_str());
    assert_eq!(inbox["conversation"]["unread_count"], 1);
    assert_eq!(
        inbox["conversation"]["last_message"]["body"],
        "你好，在吗？😀"
    );

    // The visitor panel shows where the visitor is and what they use.
    let detail = agent.json(&format!("/api/v1/conversations/{conv}")).await;
    let vis = &detail["visitor"];
    assert_eq!(vis["current_url"], "https://shop.test/pricing");
    assert_eq!(vis["current_title"], "Pricing");
    assert_eq!(vis["referrer"], "https://www.baidu.com/");
    assert_eq!(vis["browser"], "Chrome 120");
    assert_eq!(vis["language"], "zh-CN");
    assert_eq!(vis["ip"], "127.0.0.1");

    aws.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 0}))
        .await;
    let first = aws.recv_type("event").await;
    assert_eq!(first["event"]["body"], "你好，在吗？😀");
    assert_eq!(first["event"]["sender"]["kind"], "visitor");
    assert_eq!(aws.recv_type("subscribed").await["last_seq"], 1);
    vws.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 1}))
        .await;
    vws.recv_type("subscribed").await;

    // Typing both ways; the agent sees the visitor's draft, the visitor never sees drafts.
    vws.send(
        json!({"type": "typing", "conversation_id": conv, "typing": true, "draft": "我想问一下"}),
    )
    .await;
    let t = aws.recv_type("typing").await;
    assert_eq!(
        (t["from"]["kind"].as_str(), t["draft"].as_str()),
        (Some("visitor"), Some("我想问一下"))
    );
    aws.send(json!({"type": "typing", "conversation_id": conv, "typing": true, "draft": "secret"}))
        .await;
    let t = vws.recv_type("typing").await;
    assert_eq!(t["from"]["kind"], "agent");
    assert!(t["draft"].is_null());

    // The reply reaches the visitor with the agent's name; replying claims the conversation.
    let ack = aws
        .send_message("a-1", Some(&conv), "您好！请问有什么可以帮您？")
        .await;
    assert_eq!(ack["seq"], 3, "assignment (2) precedes the reply (3)");
    let evs = events_until(&mut vws, 3).await;
    assert_eq!(evs[0]["kind"], "assignment");
    assert_eq!(evs[1]["body"], "您好！请问有什么可以帮您？");
    assert_eq!(evs[1]["sender"]["name"], "agent one");
    let page = agent
        .json(&format!("/api/v1/conversations?view=mine"))
        .await;
    assert_eq!(page["items"][0]["id"], conv.as_str());

    // Marking read clears the unread count for this agent only.
    agent
        .post(
            &format!("/api/v1/conversations/{conv}/read"),
            json!({"seq": 3}),
        )
        .await;
    assert_eq!(
        agent.json(&format!("/api/v1/conversations/{conv}")).await["conversation"]["unread_count"],
        0
    );
    assert_eq!(
        admin.json(&format!("/api/v1/conversations/{conv}")).await["conversation"]["unread_count"],
        1
    );

    // A page change is seen live in the agent's visitor panel.
    vws.send(json!({"type": "page", "url": "https://shop.test/cart", "title": "购物车"}))
        .await;
    let vf = aws.recv_type("visitor").await;
    assert_eq!(vf["visitor"]["current_url"], "https://shop.test/cart");

    // Message bodies are stored as text, exactly as sent (rendering escapes them).
    let xss = "<img src=x onerror=alert(1)>";
    vws.send_message("v-2", None, xss).await;
    let e = aws.recv_type("event").await;
    assert_eq!(e["event"]["body"], xss);

    // Each agent's live inbox line carries that agent's own unread count: the one who read up
    // to the reply has one unread message, the admin who never opened it more.
    for (ws, who) in [(&mut aws, &agent), (&mut admin_ws, &admin)] {
        let line = loop {
            let f = ws.recv_type("inbox").await;
            if f["conversation"]["last_message"]["body"] == xss {
                break f;
            }
        };
        let rest = who.json(&format!("/api/v1/conversations/{conv}")).await;
        assert_eq!(
            line["conversation"]["unread_count"],
            rest["conversation"]["unread_count"]
        );
    }
    let admin_unread = admin.json(&format!("/api/v1/conversations/{conv}")).await["conversation"]
        ["unread_count"]
        .as_i64();
    assert_eq!(
        agent.json(&format!("/api/v1/conversations/{conv}")).await["conversation"]["unread_count"],
        1
    );
    assert!(admin_unread > Some(1), "admin: {admin_unread:?}");
}

async fn reconnect_resumes_without_loss_or_duplicates(app: TestApp) {
    let admin = app.admin().await;
    let channel = app.channel(&admin, &[]).await;
    let token = admin.token().await;
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;
    let conv = vws.send_message("m-0", None, "start").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut aws = Ws::agent(&app, &token).await;
    aws.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 0}))
        .await;
    assert_eq!(events_until(&mut aws, 1).await.len(), 1);
    for i in 1..=3 {
        vws.send_message(&format!("m-{i}"), None, &format!("msg {i}"))
            .await;
    }
    let got = events_until(&mut aws, 4).await;
    let last_seen = got.last().unwrap()["seq"].as_i64().unwrap();
    assert_eq!(last_seen, 4);

    // The agent's connection drops mid-stream; the visitor keeps writing meanwhile.
    drop(aws);
    for i in 4..=8 {
        vws.send_message(&format!("m-{i}"), None, &format!("msg {i}"))
            .await;
    }
    // The visitor's own socket also drops right after sending m-9, before the ack is read.
    vws.send(json!({"type": "send", "client_id": "m-9", "body": "msg 9"}))
        .await;
    drop(vws);
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Reconnect and re-send the unacknowledged message with the same client id: stored once.
    let mut vws = Ws::visitor(&app, &v).await;
    let again = vws.send_message("m-9", None, "msg 9").await;
    assert_eq!(again["seq"], 10);
    let dup = vws.send_message("m-5", None, "msg 5").await;
    assert_eq!(
        (dup["duplicate"].as_bool(), dup["seq"].as_i64()),
        (Some(true), Some(6))
    );

    // The agent resumes from the last seq it saw and gets exactly what it missed.
    let mut aws = Ws::agent(&app, &token).await;
    aws.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": last_seen}))
        .await;
    let frames = aws.drain(Duration::from_millis(500)).await;
    let seqs: Vec<i64> = frames
        .iter()
        .filter(|f| f["type"] == "event")
        .map(|f| f["event"]["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (5..=10).collect::<Vec<_>>());
    let bodies: Vec<&str> = frames
        .iter()
        .filter(|f| f["type"] == "event")
        .map(|f| f["event"]["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        ["msg 4", "msg 5", "msg 6", "msg 7", "msg 8", "msg 9"]
    );

    // The record holds every message exactly once.
    let all = admin
        .json(&format!("/api/v1/conversations/{conv}/events?after_seq=0"))
        .await;
    let ids: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, (0..=9).map(|i| format!("m-{i}")).collect::<Vec<_>>());
    // Older history pages backwards.
    let older = admin
        .json(&format!(
            "/api/v1/conversations/{conv}/events?before_seq=4&limit=2"
        ))
        .await;
    assert_eq!(
        older["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![2, 3]
    );
    assert_eq!(older["has_more"], true);
    // The REST send is idempotent too.
    let r1: Value = admin
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"client_id": "rest-1", "body": "via REST"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let r2: Value = admin
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"client_id": "rest-1", "body": "via REST"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (r1["duplicate"].as_bool(), r2["duplicate"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(r1["event"]["seq"], r2["event"]["seq"]);
}

async fn restart_keeps_conversations_and_visitors(mut app: TestApp) {
    let admin = app.admin().await;
    let channel = app.channel(&admin, &[]).await;
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;
    let conv = vws.send_message("r-1", None, "before restart").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = admin.token().await;

    app.restart().await;
    // Open sockets were closed with "going away" so clients reconnect.
    assert_eq!(vws.closed_with().await, 1001);

    let admin = app.admin().await;
    let events = admin
        .json(&format!("/api/v1/conversations/{conv}/events"))
        .await;
    assert_eq!(events["items"][0]["body"], "before restart");
    // The visitor's identity survives: the same token resumes the same conversation.
    let again = reqwest::Client::new()
        .post(app.url("/api/widget/v1/session"))
        .json(&json!({"widget_key": channel["widget_key"], "visitor_token": v.token, "page": {"url": "https://shop.test/"}}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(again["visitor"]["id"], v.session["visitor"]["id"]);
    assert_eq!(again["conversation"]["id"], conv.as_str());
    assert_eq!(again["conversation"]["last_seq"], 1);
    let mut vws = Ws::visitor(&app, &v).await;
    let ack = vws.send_message("r-2", None, "after restart").await;
    assert_eq!(
        (ack["conversation_id"].as_str(), ack["seq"].as_i64()),
        (Some(conv.as_str()), Some(2))
    );
    // Tokens survive too.
    let mut aws = Ws::agent(&app, &token).await;
    aws.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 0}))
        .await;
    assert_eq!(events_until(&mut aws, 2).await.len(), 2);
}

async fn visitors_are_told_whether_agents_are_online(app: TestApp) {
    let admin = app.admin().await;
    let channel = app.channel(&admin, &[]).await;
    let v = app.visitor(&channel, "https://shop.test").await;
    assert_eq!(v.session["agents_online"], false);
    let mut vws = Ws::visitor(&app, &v).await;
    // Nobody online: the message is still kept for the team.
    let conv = vws.send_message("o-1", None, "anyone there?").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        admin.json("/api/v1/conversations?view=unassigned").await["items"][0]["id"],
        conv.as_str()
    );

    let token = admin.token().await;
    let mut aws = Ws::agent(&app, &token).await;
    assert_eq!(vws.recv_type("presence").await["agents_online"], true);
    aws.send(json!({"type": "status", "status": "away"})).await;
    assert_eq!(vws.recv_type("presence").await["agents_online"], false);
    aws.send(json!({"type": "status", "status": "online"}))
        .await;
    assert_eq!(vws.recv_type("presence").await["agents_online"], true);
    drop(aws);
    assert_eq!(vws.recv_type("presence").await["agents_online"], false);
}

fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend_from_slice(&[0u8; 64]);
    b
}

async fn uploads_are_checked_and_served_safely(app: TestApp) {
    let admin = app.admin().await;
    let channel = app.channel(&admin, &[]).await;
    let v = app.visitor(&channel, "https://shop.test").await;
    let c = reqwest::Client::new();
    let upload = |name: &'static str, bytes: Vec<u8>| {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name),
        );
        c.post(app.url("/api/widget/v1/uploads"))
            .bearer_auth(&v.token)
            .header("origin", "https://shop.test")
            .multipart(form)
            .send()
    };
    let r = upload("photo.png", png()).await.unwrap();
    assert_eq!(r.status(), 201);
    let att: Value = r.json().await.unwrap();
    assert_eq!(
        (att["content_type"].as_str(), att["is_image"].as_bool()),
        (Some("image/png"), Some(true))
    );

    // A script disguised as an image, an SVG, and an HTML page are refused.
    for (name, body) in [
        ("evil.png", b"<script>alert(1)</script>".to_vec()),
        ("x.svg", b"<svg onload=alert(1)>".to_vec()),
        ("x.html", b"<html>".to_vec()),
    ] {
        let r = upload(name, body).await.unwrap();
        assert_eq!(r.status(), 415, "{name}");
        assert_eq!(
            r.json::<Value>().await.unwrap()["error"]["code"],
            "unsupported_media_type"
        );
    }
    let r = upload("big.txt", vec![b'a'; 10 * 1024 * 1024 + 1])
        .await
        .unwrap();
    assert_eq!(r.status(), 413);

    // Sent with a message; the agent sees it; the file is served with protective headers.
    let mut vws = Ws::visitor(&app, &v).await;
    vws.send(
        json!({"type": "send", "client_id": "f-1", "body": "", "attachment_ids": [att["id"]]}),
    )
    .await;
    let ack = vws.recv_type("ack").await;
    let conv = ack["conversation_id"].as_str().unwrap();
    let events = admin
        .json(&format!("/api/v1/conversations/{conv}/events"))
        .await;
    assert_eq!(events["items"][0]["attachments"][0]["id"], att["id"]);
    let url = att["url"].as_str().unwrap();
    let r = c.get(app.url(url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("inline"));
    assert_eq!(r.bytes().await.unwrap().to_vec(), png());
    // The key in the URL is the permission.
    let forged = url.replacen(
        &url.split('/').nth(3).unwrap().to_string(),
        "00000000000000000000000000000000",
        1,
    );
    assert_eq!(c.get(app.url(&forged)).send().await.unwrap().status(), 404);

    // Text files download instead of rendering.
    let r = upload("notes.txt", b"hello".to_vec()).await.unwrap();
    let txt: Value = r.json().await.unwrap();
    let r = c
        .get(app.url(txt["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));

    // Someone else's attachment id cannot be attached.
    let other = app.visitor(&channel, "https://shop.test").await;
    let mut ows = Ws::visitor(&app, &other).await;
    ows.send(
        json!({"type": "send", "client_id": "f-2", "body": "look", "attachment_ids": [att["id"]]}),
    )
    .await;
    assert_eq!(ows.recv_type("error").await["code"], "not_found");
}

async fn resolve_reopen_and_assignment_rules(app: TestApp) {
    let admin = app.admin().await;
    let channel = app.channel(&admin, &[]).await;
    let agent = app.person(&admin, "agent").await;
    let other_agent = app.person(&admin, "agent").await;
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;
    let conv = vws.send_message("s-1", None, "help").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    vws.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 1}))
        .await;
    vws.recv_type("subscribed").await;

    // Agents may only take conversations themselves; supervisors and admins assign anyone.
    let r = agent
        .post(
            &format!("/api/v1/conversations/{conv}/assign"),
            json!({"assignee_id": other_agent.user_id()}),
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = agent
        .post(
            &format!("/api/v1/conversations/{conv}/assign"),
            json!({"assignee_id": agent.user_id()}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = admin
        .post(
            &format!("/api/v1/conversations/{conv}/assign"),
            json!({"assignee_id": other_agent.user_id()}),
        )
        .await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["event"]["assignee"]["id"],
        other_agent.user_id().as_str()
    );

    let r: Value = agent
        .post(&format!("/api/v1/conversations/{conv}/resolve"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["event"]["status"], "resolved");
    let again: Value = agent
        .post(&format!("/api/v1/conversations/{conv}/resolve"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(again["event"].is_null(), "resolving twice records nothing");
    assert_eq!(
        agent.json("/api/v1/conversations?status=resolved").await["items"][0]["id"],
        conv.as_str()
    );
    assert!(
        agent.json("/api/v1/conversations?status=open").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The visitor sees the status event and a conversation update (in either order).
    let frames = vws.drain(Duration::from_millis(500)).await;
    assert!(
        frames.iter().any(|f| f["type"] == "event"
            && f["event"]["seq"] == 4
            && f["event"]["status"] == "resolved"),
        "{frames:?}"
    );
    assert!(
        frames
            .iter()
            .any(|f| f["type"] == "conversation" && f["conversation"]["status"] == "resolved"),
        "{frames:?}"
    );

    // The visitor writing again reopens it.
    let ack = vws.send_message("s-2", None, "one more thing").await;
    assert_eq!(ack["seq"], 6);
    assert_eq!(
        agent.json(&format!("/api/v1/conversations/{conv}")).await["conversation"]["status"],
        "open"
    );
    let r: Value = agent
        .post(&format!("/api/v1/conversations/{conv}/resolve"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["event"]["seq"], 7);
    let r: Value = agent
        .post(&format!("/api/v1/conversations/{conv}/reopen"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["event"]["status"], "open");
}

/// Clients may send several messages without waiting for acks (an agent answering many chats, a
/// visitor typing fast): each conversation keeps the order they were sent in, every send is acked
/// once, and a sender sees its ack before its own message's event.
async fn sends_without_waiting_are_stored_in_order_and_acked_before_their_events(app: TestApp) {
    const CHATS: usize = 3;
    const EACH: usize = 6;
    let admin = app.admin().await;
    let channel = app.channel(&admin, &[]).await;
    let agent = app.person(&admin, "agent").await;
    let mut aws = Ws::agent(&app, &agent.token().await).await;

    // A visitor sends twice in a row before any ack: one conversation, in order.
    let mut convs = Vec::new();
    let mut visitors = Vec::new();
    for i in 0..CHATS {
        let v = app.visitor(&channel, "https://shop.test").await;
        let mut vws = Ws::visitor(&app, &v).await;
        for n in 1..=2 {
            vws.send(json!({"type": "send", "client_id": format!("v{i}-{n}"), "body": format!("visitor {i} says {n}")}))
                .await;
        }
        let first = vws.recv_type("ack").await;
        let second = vws.recv_type("ack").await;
        assert_eq!(
            (first["client_id"].as_str(), first["seq"].as_i64()),
            (Some(&*format!("v{i}-1")), Some(1))
        );
        assert_eq!(
            (second["client_id"].as_str(), second["seq"].as_i64()),
            (Some(&*format!("v{i}-2")), Some(2))
        );
        assert_eq!(first["conversation_id"], second["conversation_id"]);
        let conv = first["conversation_id"].as_str().unwrap().to_owned();
        vws.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 2}))
            .await;
        vws.recv_type("subscribed").await;
        convs.push(conv);
        visitors.push(vws);
    }
    for conv in &convs {
        aws.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 2}))
            .await;
        aws.recv_type("subscribed").await;
    }

    // The agent answers all three chats, interleaved, without waiting for a single ack.
    for n in 0..EACH {
        for (i, conv) in convs.iter().enumerate() {
            aws.send(json!({"type": "send", "client_id": format!("a{i}-{n}"), "conversation_id": conv, "body": format!("reply {n} to {i}")}))
                .await;
        }
    }
    let mut acked = std::collections::HashMap::new();
    let mut own_events: Vec<Vec<Value>> = vec![Vec::new(); CHATS];
    while acked.len() < CHATS * EACH
        || own_events.iter().map(Vec::len).sum::<usize>() < CHATS * EACH
    {
        let f = aws.recv().await;
        match f["type"].as_str() {
            Some("ack") => {
                let cid = f["client_id"].as_str().unwrap().to_owned();
                assert_eq!(f["duplicate"], false);
                assert!(
                    acked
                        .insert(cid.clone(), f["seq"].as_i64().unwrap())
                        .is_none(),
                    "{cid} acked twice"
                );
            }
            Some("event") if f["event"]["kind"] == "message" => {
                let i = convs
                    .iter()
                    .position(|c| f["conversation_id"] == c.as_str())
                    .unwrap();
                let body = f["event"]["body"].as_str().unwrap().to_owned();
                let n: usize = body.split(' ').nth(1).unwrap().parse().unwrap();
                let cid = format!("a{i}-{n}");
                assert_eq!(
                    acked.get(&cid).copied(),
                    f["event"]["seq"].as_i64(),
                    "{cid}: its ack comes first, with its seq"
                );
                own_events[i].push(f["event"].clone());
            }
            Some("error") => panic!("send refused: {f}"),
            _ => {}
        }
    }
    for (i, events) in own_events.iter().enumerate() {
        let bodies: Vec<_> = events
            .iter()
            .map(|e| e["body"].as_str().unwrap().to_owned())
            .collect();
        let sent: Vec<_> = (0..EACH).map(|n| format!("reply {n} to {i}")).collect();
        assert_eq!(bodies, sent, "chat {i} keeps the agent's order");
        // The visitor sees the same, once each, after the assignment the first reply made.
        let last = events.last().unwrap()["seq"].as_i64().unwrap();
        let seen: Vec<_> = events_until(&mut visitors[i], last)
            .await
            .into_iter()
            .filter(|e| e["kind"] == "message")
            .map(|e| e["body"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(seen, sent);
    }
}
