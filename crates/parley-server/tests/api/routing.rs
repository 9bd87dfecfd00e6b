use crate::both_backends;
use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

both_backends!(
    queue_positions_and_backfill,
    groups_need_admins_and_stay_in_their_workspace,
    keyword_rules_skills_priority_and_escalation,
);

/// A group with `n` agents (capacity `cap`), each online on its own socket, behind the channel.
async fn routed_channel(
    app: &TestApp,
    admin: &Session,
    n: usize,
    cap: u32,
    reply_timeout: Option<i64>,
) -> (Value, Vec<(Session, Ws)>) {
    let mut agents = Vec::new();
    for _ in 0..n {
        let a = app.person(admin, "agent").await;
        let r = admin
            .patch(
                &format!("/api/v1/users/{}", a.user_id()),
                json!({"capacity": cap, "skills": ["售前"]}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let ws = Ws::agent(app, &a.token().await).await;
        agents.push((a, ws));
    }
    let r = admin.post("/api/v1/groups", json!({"name": "售前", "policy": ["sticky", "least_load"], "reply_timeout_secs": reply_timeout})).await;
    assert_eq!(r.status(), 201);
    let group: Value = r.json().await.unwrap();
    let gid = group["id"].as_str().unwrap();
    let members: Vec<Value> = agents
        .iter()
        .map(|(a, _)| json!({"user_id": a.user_id()}))
        .collect();
    let r = admin
        .client
        .put(app.url(&format!("/api/v1/groups/{gid}/members")))
        .header("x-csrf-token", &admin.csrf)
        .json(&json!({"members": members}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["members"]
            .as_array()
            .unwrap()
            .len(),
        n
    );
    let channel = app.channel(admin, &[]).await;
    let r = admin
        .patch(
            &format!("/api/v1/channels/{}", channel["id"].as_str().unwrap()),
            json!({"group_id": gid}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let channel: Value = r.json().await.unwrap();
    assert_eq!(channel["group_id"], gid);
    (channel, agents)
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

async fn queue_positions_and_backfill(app: TestApp) {
    let admin = app.admin().await;
    let (channel, agents) = routed_channel(&app, &admin, 2, 1, None).await;
    let mut visitors = Vec::new();
    for i in 0..3 {
        let v = app.visitor(&channel, "https://shop.test").await;
        let mut ws = Ws::visitor(&app, &v).await;
        let conv = ws.send_message(&format!("q-{i}"), None, "需要帮助").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        ws.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 0}))
            .await;
        visitors.push((ws, conv));
    }
    let a0 = assigned_to(&mut visitors[0].0).await;
    let a1 = assigned_to(&mut visitors[1].0).await;
    assert_ne!(a0, a1, "least load spreads the first two");
    // The third waits and is told its position.
    let q = visitors[2].0.recv_type("queue").await;
    assert_eq!(
        (q["conversation_id"].as_str(), q["position"].as_u64()),
        (Some(visitors[2].1.as_str()), Some(1))
    );
    let detail = admin
        .json(&format!("/api/v1/conversations/{}", visitors[2].1))
        .await;
    assert!(detail["conversation"]["queued_at"].is_string());
    assert!(detail["conversation"]["assignee"].is_null());
    // The timeline explains the decisions.
    let events = admin
        .json(&format!("/api/v1/conversations/{}/events", visitors[0].1))
        .await;
    let why0 = why(&events["items"][1]);
    assert!(why0.starts_with("售前: least load"), "{why0}");
    assert_eq!(events["items"][1]["reason"][1]["code"], "least_load");
    assert!(events["items"][1]["note"].is_null());
    let events = admin
        .json(&format!("/api/v1/conversations/{}/events", visitors[2].1))
        .await;
    assert_eq!(events["items"][1]["kind"], "queued");

    // An agent resolves: the queued conversation is assigned to them at once.
    let (freed, _) = agents.iter().find(|(a, _)| a.user_id() == a0).unwrap();
    let r = freed
        .post(
            &format!("/api/v1/conversations/{}/resolve", visitors[0].1),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(assigned_to(&mut visitors[2].0).await, a0);
    let q = visitors[2].0.recv_type("queue").await;
    assert!(q["position"].is_null(), "out of the queue");
    let mine = freed.json("/api/v1/conversations?view=mine").await;
    assert_eq!(mine["items"][0]["id"], visitors[2].1.as_str());
}

async fn groups_need_admins_and_stay_in_their_workspace(app: TestApp) {
    let admin = app.admin().await;
    let agent = app.person(&admin, "agent").await;
    let r = agent
        .post(
            "/api/v1/groups",
            json!({"name": "x", "policy": ["round_robin"]}),
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = admin
        .post("/api/v1/groups", json!({"name": "x", "policy": []}))
        .await;
    assert_eq!(r.status(), 422);
    let r = admin
        .post(
            "/api/v1/groups",
            json!({"name": "x", "policy": ["fastest_typist"]}),
        )
        .await;
    assert_eq!(r.status(), 400);
    let r = admin
        .post(
            "/api/v1/groups",
            json!({"name": "售后", "policy": ["round_robin"], "reply_timeout_secs": 1}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let g: Value = admin
        .post(
            "/api/v1/groups",
            json!({"name": "售后", "policy": ["round_robin"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let gid = g["id"].as_str().unwrap();
    let put = |s: &Session, body: Value| {
        s.client
            .put(app.url(&format!("/api/v1/groups/{gid}/members")))
            .header("x-csrf-token", s.csrf.clone())
            .json(&body)
            .send()
    };
    assert_eq!(
        put(&agent, json!({"members": [{"user_id": agent.user_id()}]}))
            .await
            .unwrap()
            .status(),
        403
    );
    let stranger = uuid::Uuid::now_v7().to_string();
    assert_eq!(
        put(&admin, json!({"members": [{"user_id": stranger}]}))
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        admin.json(&format!("/api/v1/groups/{gid}")).await["members"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let r = admin
        .patch(
            &format!("/api/v1/users/{}", agent.user_id()),
            json!({"capacity": 1000}),
        )
        .await;
    assert_eq!(r.status(), 422);
    // A channel cannot point at a group that does not exist here.
    let channel = app.channel(&admin, &[]).await;
    let r = admin
        .patch(
            &format!("/api/v1/channels/{}", channel["id"].as_str().unwrap()),
            json!({"group_id": stranger}),
        )
        .await;
    assert_eq!(r.status(), 404);
    assert!(
        agent.json("/api/v1/groups").await["items"]
            .as_array()
            .unwrap()
            .len()
            == 1,
        "agents can read groups"
    );
}

/// Reply timeouts and offline agents, with fast job ticks.
async fn fast_app() -> TestApp {
    spawn_app_with(Backend::Sqlite, |s| {
        s.jobs_interval = Duration::from_millis(100);
        s.offline_grace = Duration::from_millis(500);
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_reply_in_time_moves_the_conversation_on() {
    let app = fast_app().await;
    let admin = app.admin().await;
    let (channel, agents) = routed_channel(&app, &admin, 2, 3, Some(5)).await;
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;
    let conv = vws.send_message("t-1", None, "在吗").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    vws.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 0}))
        .await;
    let first = assigned_to(&mut vws).await;
    // Nobody answers for 5 s: the other agent gets it, and the timeline says why.
    let started = std::time::Instant::now();
    let second = assigned_to(&mut vws).await;
    assert!(started.elapsed() >= Duration::from_secs(4));
    assert_ne!(first, second);
    let events = admin
        .json(&format!("/api/v1/conversations/{conv}/events"))
        .await;
    let last = events["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["reason"][0], json!({"code": "no_reply", "secs": 5}));
    assert!(why(&last).starts_with("no reply within 5 s"), "{last}");
    // The new agent answers in time: it stays.
    let (b, _) = agents.iter().find(|(a, _)| a.user_id() == second).unwrap();
    b.post(
        &format!("/api/v1/conversations/{conv}/messages"),
        json!({"client_id": "r-1", "body": "您好"}),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let c = admin.json(&format!("/api/v1/conversations/{conv}")).await;
    assert_eq!(c["conversation"]["assignee"]["id"], second.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_agents_conversations_are_redistributed() {
    let app = fast_app().await;
    let admin = app.admin().await;
    let (channel, mut agents) = routed_channel(&app, &admin, 2, 3, None).await;
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;
    let conv = vws.send_message("o-1", None, "hello").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    vws.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 0}))
        .await;
    let first = assigned_to(&mut vws).await;
    // The assigned agent's connection drops and does not come back within the grace period.
    let i = agents
        .iter()
        .position(|(a, _)| a.user_id() == first)
        .unwrap();
    let (_gone, ws) = agents.remove(i);
    drop(ws);
    let second = assigned_to(&mut vws).await;
    assert_eq!(second, agents[0].0.user_id());
    let events = admin
        .json(&format!("/api/v1/conversations/{conv}/events"))
        .await;
    let last = events["items"].as_array().unwrap().last().unwrap().clone();
    assert!(why(&last).starts_with("the agent went offline"), "{last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_survives_a_restart() {
    let mut app = spawn_app(Backend::Sqlite).await.unwrap();
    let admin = app.admin().await;
    let (channel, agents) = routed_channel(&app, &admin, 1, 1, None).await;
    let mut convs = Vec::new();
    for i in 0..3 {
        let v = app.visitor(&channel, "https://shop.test").await;
        let mut ws = Ws::visitor(&app, &v).await;
        convs.push(
            ws.send_message(&format!("r-{i}"), None, "hi").await["conversation_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let email = agents[0].0.me["user"]["email"].as_str().unwrap().to_owned();
    drop(agents);
    let before = admin.json("/api/v1/conversations?view=queued").await;
    assert_eq!(before["items"].as_array().unwrap().len(), 2);

    app.restart().await;
    let admin = app.admin().await;
    let queued = admin.json("/api/v1/conversations?view=queued").await;
    assert_eq!(
        queued["items"].as_array().unwrap().len(),
        2,
        "the queue is in the database"
    );
    // The agent comes back, resolves their chat, and the head of the queue (oldest first) follows.
    let agent = app.login(&email, "a long password").await;
    let _ws = Ws::agent(&app, &agent.token().await).await;
    agent
        .post(
            &format!("/api/v1/conversations/{}/resolve", convs[0]),
            json!({}),
        )
        .await;
    let mine = agent.json("/api/v1/conversations?view=mine").await;
    assert_eq!(mine["items"][0]["id"], convs[1].as_str());
    assert_eq!(
        admin.json("/api/v1/conversations?view=queued").await["items"][0]["id"],
        convs[2].as_str()
    );
}

/// Keyword rules send the first message to a group or skill and set priority; escalation rules
/// move a conversation to tier 2 when the visitor writes a trigger word later.
async fn keyword_rules_skills_priority_and_escalation(app: TestApp) {
    let admin = app.admin().await;
    let (channel, agents) = routed_channel(&app, &admin, 2, 1, None).await;
    // Only the second agent knows refunds.
    let (refunds, _) = &agents[1];
    admin
        .patch(
            &format!("/api/v1/users/{}", refunds.user_id()),
            json!({"skills": ["退款"]}),
        )
        .await;
    let lead = app.person(&admin, "agent").await;
    let _lead_ws = Ws::agent(&app, &lead.token().await).await;
    let tier2: Value = admin
        .post(
            "/api/v1/groups",
            json!({"name": "二线", "policy": ["least_load"], "tier": 2}),
        )
        .await
        .json()
        .await
        .unwrap();
    let t2 = tier2["id"].as_str().unwrap().to_owned();
    admin
        .client
        .put(app.url(&format!("/api/v1/groups/{t2}/members")))
        .header("x-csrf-token", &admin.csrf)
        .json(&json!({"members": [{"user_id": lead.user_id()}]}))
        .send()
        .await
        .unwrap();
    let rules = json!({"rules": [
        {"keywords": ["投诉", "complaint"], "group_id": t2, "escalation": true},
        {"keywords": ["退款", "refund"], "skill": "退款"},
        {"keywords": ["VIP"], "priority": 10},
    ]});
    let r = admin
        .client
        .put(app.url("/api/v1/routing/rules"))
        .header("x-csrf-token", &admin.csrf)
        .json(&rules)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bad = admin
        .client
        .put(app.url("/api/v1/routing/rules"))
        .header("x-csrf-token", &admin.csrf)
        .json(&json!({"rules": [{"keywords": ["x"]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422, "a rule that does nothing is refused");
    assert_eq!(
        admin.json("/api/v1/routing/rules").await["rules"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // A refund question goes to the agent with the skill, and the timeline says why.
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;
    let conv = vws.send_message("k-1", None, "我想申请退款").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    vws.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 0}))
        .await;
    assert_eq!(assigned_to(&mut vws).await, refunds.user_id());
    let events = admin
        .json(&format!("/api/v1/conversations/{conv}/events"))
        .await;
    let note = why(&events["items"][1]);
    assert!(
        note.starts_with("keyword '退款'; 售前: skill 退款"),
        "{note}"
    );

    // Everyone in 售前 is now full (capacity 1): a normal question waits, a VIP one jumps ahead.
    let other = app.visitor(&channel, "https://shop.test").await;
    let mut ows = Ws::visitor(&app, &other).await;
    let c2 = ows.send_message("k-2", None, "你好").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let _c2b = {
        let v3 = app.visitor(&channel, "https://shop.test").await;
        let mut w3 = Ws::visitor(&app, &v3).await;
        w3.send_message("k-3", None, "hello").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let vip = app.visitor(&channel, "https://shop.test").await;
    let mut vip_ws = Ws::visitor(&app, &vip).await;
    let c_vip = vip_ws
        .send_message("k-4", None, "I am a VIP customer")
        .await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let q = vip_ws.recv_type("queue").await;
    assert_eq!(q["position"], 1, "the VIP goes to the head of the queue");
    let queued = admin.json("/api/v1/conversations?view=queued").await;
    assert_eq!(queued["items"].as_array().unwrap().len(), 2, "{queued}");
    let _ = (c2, c_vip);

    // Later in the refund chat the visitor complains: escalated to tier 2, away from the agent.
    vws.send_message("k-5", None, "我要投诉你们的服务").await;
    assert_eq!(assigned_to(&mut vws).await, lead.user_id());
    let detail = admin.json(&format!("/api/v1/conversations/{conv}")).await;
    assert_eq!(detail["conversation"]["group_id"], t2.as_str());
    let events = admin
        .json(&format!("/api/v1/conversations/{conv}/events"))
        .await;
    let last = events["items"].as_array().unwrap().last().unwrap().clone();
    assert!(
        why(&last).starts_with("escalated by keyword '投诉' → 二线"),
        "{last}"
    );
    // The freed refund agent takes the head of the 售前 queue: the VIP.
    let mine = refunds.json("/api/v1/conversations?view=mine").await;
    let ids: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&c_vip_id(&admin, &vip).await.as_str()),
        "{ids:?}"
    );
}

async fn c_vip_id(admin: &Session, _v: &Visitor) -> String {
    let all = admin.json("/api/v1/conversations?view=all").await;
    all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["last_message"]["body"] == "I am a VIP customer")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_wait_offers_to_leave_a_message_once() {
    let app = fast_app().await;
    let admin = app.admin().await;
    let (channel, agents) = routed_channel(&app, &admin, 1, 0, None).await; // nobody has room
    let gid = channel["group_id"].as_str().unwrap().to_owned();
    let r = admin
        .client
        .put(app.url(&format!("/api/v1/groups/{gid}")))
        .header("x-csrf-token", &admin.csrf)
        .json(&json!({"name": "售前", "policy": ["least_load"], "queue_timeout_secs": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;
    let conv = vws.send_message("w-1", None, "有人吗").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(vws.recv_type("queue").await["position"], 1);
    let offer = vws.recv_type("leave_message").await;
    assert_eq!(offer["conversation_id"], conv.as_str());
    assert!(offer["waited_secs"].as_i64().unwrap() >= 5);
    // Offered once; the conversation still waits, and what the visitor writes is kept.
    vws.send_message("w-2", None, "我的电话是 138xxxx，请回电")
        .await;
    let later = vws.drain(Duration::from_millis(1500)).await;
    assert!(
        !later.iter().any(|f| f["type"] == "leave_message"),
        "{later:?}"
    );
    let queued = admin.json("/api/v1/conversations?view=queued").await;
    assert_eq!(queued["items"][0]["id"], conv.as_str());
    assert_eq!(
        queued["items"][0]["last_message"]["body"],
        "我的电话是 138xxxx，请回电"
    );
    drop(agents);
}
