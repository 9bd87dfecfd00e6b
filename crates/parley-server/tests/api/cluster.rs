//! Several nodes on one PostgreSQL database and one Redis: a conversation spans nodes, a Redis
//! restart converges, settings saved on one node apply on all, and the cluster's jobs run on
//! one node at a time.
//!
//! Each test starts its own `redis-server` on a free port (so it can stop and restart it) and
//! its own database. They run when PostgreSQL is configured; with `CI=true` a missing
//! `redis-server` fails them.

use crate::helpers::*;
use parley_conformance::pg;
use parley_server::{Running, Settings};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

pub(crate) struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    pub(crate) fn start() -> Option<RedisServer> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut r = RedisServer { port, child: None };
        if !r.spawn() {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("redis-server must be installed for the cluster tests");
            }
            eprintln!("skipped: redis-server is not installed");
            return None;
        }
        Some(r)
    }

    fn spawn(&mut self) -> bool {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = child else { return false };
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub(crate) fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Cluster {
    nodes: Vec<Option<Running>>,
    db: Option<pg::TestDatabase>,
    redis: RedisServer,
    _dirs: Vec<tempfile::TempDir>,
}

impl Cluster {
    async fn start(n: usize, tweak: impl Fn(&mut Settings)) -> Option<Cluster> {
        let admin = pg::admin_url()?;
        let redis = RedisServer::start()?;
        std::env::set_var("PARLEY_ADMIN_EMAIL", ADMIN_EMAIL);
        std::env::set_var("PARLEY_ADMIN_PASSWORD", ADMIN_PASSWORD);
        let db = pg::TestDatabase::create(&admin)
            .await
            .expect("PostgreSQL must be reachable for these tests");
        let mut nodes = Vec::new();
        let mut dirs = Vec::new();
        for _ in 0..n {
            let dir = tempfile::tempdir().unwrap();
            let mut s = Settings::for_tests(dir.path().to_owned(), Some(db.url.clone()));
            s.redis_url = Some(redis.url());
            tweak(&mut s);
            nodes.push(Some(parley_server::start(s).await.expect("node starts")));
            dirs.push(dir);
        }
        Some(Cluster {
            nodes,
            db: Some(db),
            redis,
            _dirs: dirs,
        })
    }

    /// A `TestApp`-like view of node `i` for the shared helpers.
    fn url(&self, i: usize, path: &str) -> String {
        format!("http://{}{}", self.node(i).addr, path)
    }

    fn ws_url(&self, i: usize, path: &str) -> String {
        format!("ws://{}{}", self.node(i).addr, path)
    }

    fn node(&self, i: usize) -> &Running {
        self.nodes[i].as_ref().expect("node running")
    }

    async fn finish(mut self) {
        for n in self.nodes.iter_mut() {
            if let Some(r) = n.take() {
                let _ = r.stop().await;
            }
        }
        self.redis.stop();
        if let Some(db) = self.db.take() {
            db.drop_db().await;
        }
    }
}

async fn login(c: &Cluster, node: usize) -> Session {
    login_at(&c.url(node, ""), ADMIN_EMAIL, ADMIN_PASSWORD).await
}

async fn visitor_ws(c: &Cluster, node: usize, channel: &serde_json::Value) -> Ws {
    let key = channel["widget_key"].as_str().unwrap();
    let res: serde_json::Value = reqwest::Client::new()
        .post(c.url(node, "/api/widget/v1/session"))
        .json(&json!({"widget_key": key, "page": {"url": "https://shop.example/", "title": "Shop"}, "language": "zh-CN"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut ws = connect(&c.ws_url(node, "/ws/widget"), &[]).await;
    ws.send(json!({"type": "hello", "token": res["visitor_token"]}))
        .await;
    ws.recv_type("ready").await;
    ws
}

async fn agent_ws(c: &Cluster, node: usize, token: &str) -> Ws {
    let mut ws = connect(&c.ws_url(node, &format!("/ws/agent?token={token}")), &[]).await;
    ws.send(json!({"type": "hello"})).await;
    ws.recv_type("ready").await;
    ws
}

/// The next event frame of `conv` on `ws`, skipping everything else.
async fn next_event(ws: &mut Ws, conv: &str) -> serde_json::Value {
    loop {
        let f = ws.recv().await;
        if f["type"] == "event" && f["conversation_id"] == conv {
            return f["event"].clone();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_spans_nodes_and_survives_a_redis_restart() {
    let Some(mut c) = Cluster::start(2, |_| {}).await else {
        return;
    };
    let admin = login(&c, 0).await;
    let channel: serde_json::Value = admin
        .post("/api/v1/channels", json!({"name": "Shop"}))
        .await
        .json()
        .await
        .unwrap();
    let token = admin.token().await;

    // The visitor is on node 0, the agent on node 1.
    let mut agent = agent_ws(&c, 1, &token).await;
    let mut visitor = visitor_ws(&c, 0, &channel).await;
    let ack = visitor.send_message("v-1", None, "你好，在吗？").await;
    let conv = ack["conversation_id"].as_str().unwrap().to_owned();
    visitor
        .send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 1}))
        .await;
    visitor.recv_type("subscribed").await;
    // The agent hears of the new conversation across nodes, opens it and answers.
    let inbox = agent.recv_type("inbox").await;
    assert_eq!(inbox["conversation"]["id"], conv.as_str());
    agent
        .send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 0}))
        .await;
    let first = next_event(&mut agent, &conv).await;
    assert_eq!(first["body"], "你好，在吗？");
    agent
        .send(json!({"type": "send", "client_id": "a-1", "conversation_id": conv, "body": "在的，请讲"}))
        .await;
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|e: &serde_json::Value| e["body"] == "在的，请讲")
    {
        seen.push(next_event(&mut visitor, &conv).await);
    }

    // Redis goes away; the visitor keeps writing. Node 0 stores the message (the database is
    // the record) but cannot tell node 1.
    c.redis.stop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ack = visitor
        .send_message("v-2", Some(&conv), "刚才断线了吗？")
        .await;
    let lost_seq = ack["seq"].as_i64().unwrap();
    // Redis comes back on the same address: node 1 resyncs and the agent gets exactly the gap.
    assert!(c.redis.spawn());
    let mut bodies = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let e = tokio::time::timeout_at(deadline, next_event(&mut agent, &conv))
            .await
            .expect("the agent converges after Redis returns");
        bodies.push((e["seq"].as_i64().unwrap(), e["body"].clone()));
        if e["seq"].as_i64().unwrap() >= lost_seq {
            break;
        }
    }
    assert_eq!(bodies.last().unwrap(), &(lost_seq, json!("刚才断线了吗？")));
    let seqs: Vec<i64> = bodies.iter().map(|b| b.0).collect();
    let mut dedup = seqs.clone();
    dedup.dedup();
    assert_eq!(seqs, dedup, "no event delivered twice");
    // And live delivery works again in both directions.
    let ack = visitor.send_message("v-3", Some(&conv), "好的").await;
    let e = next_event(&mut agent, &conv).await;
    assert_eq!(
        (e["seq"].as_i64(), e["body"].as_str()),
        (ack["seq"].as_i64(), Some("好的"))
    );
    c.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_jobs_run_on_one_node_at_a_time_and_fail_over() {
    let Some(mut c) = Cluster::start(2, |s| s.jobs_interval = Duration::from_millis(100)).await
    else {
        return;
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let runs = |c: &Cluster, i: usize| c.node(i).parley.cluster_job_runs.load(Ordering::Relaxed);
    let (a, b) = (runs(&c, 0), runs(&c, 1));
    assert!(
        (a > 5 && b == 0) || (b > 5 && a == 0),
        "exactly one node runs the jobs: {a} / {b}"
    );
    // The holder stops; the other takes over once the lease expires (3 s).
    let holder = if a > 0 { 0 } else { 1 };
    let other = 1 - holder;
    c.nodes[holder].take().unwrap().stop().await.unwrap();
    let before = runs(&c, other);
    tokio::time::sleep(Duration::from_millis(4500)).await;
    assert!(runs(&c, other) > before + 5, "the other node took over");
    c.finish().await;
}

/// Routing on one node counts agents connected to another, and stops counting them when
/// that node goes away: the visitor is told, and the next conversation waits in the queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_sees_agents_on_other_nodes() {
    let Some(mut c) = Cluster::start(2, |_| {}).await else {
        return;
    };
    let admin = login(&c, 0).await;
    let token = admin.token().await;
    let r = admin
        .post(
            "/api/v1/groups",
            json!({"name": "售前", "policy": ["least_load"]}),
        )
        .await;
    let group: serde_json::Value = r.json().await.unwrap();
    let gid = group["id"].as_str().unwrap();
    let r = admin
        .client
        .put(c.url(0, &format!("/api/v1/groups/{gid}/members")))
        .header("x-csrf-token", &admin.csrf)
        .json(&json!({"members": [{"user_id": admin.user_id()}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let channel: serde_json::Value = admin
        .post("/api/v1/channels", json!({"name": "Shop"}))
        .await
        .json()
        .await
        .unwrap();
    let r = admin
        .patch(
            &format!("/api/v1/channels/{}", channel["id"].as_str().unwrap()),
            json!({"group_id": gid}),
        )
        .await;
    assert_eq!(r.status(), 200);

    // The only agent signs in on node 1; a visitor on node 0 learns someone is there.
    let mut visitor = visitor_ws(&c, 0, &channel).await;
    let mut agent = agent_ws(&c, 1, &token).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        let f = tokio::time::timeout_at(deadline, visitor.recv())
            .await
            .expect("the visitor hears that an agent is online");
        if f["type"] == "presence" && f["agents_online"] == true {
            break;
        }
    }
    let ack = visitor.send_message("v-1", None, "有人吗").await;
    let conv = ack["conversation_id"].as_str().unwrap().to_owned();
    let detail = admin.json(&format!("/api/v1/conversations/{conv}")).await;
    assert_eq!(
        detail["conversation"]["assignee"]["id"],
        admin.user_id().as_str(),
        "routed on node 0 to the agent on node 1: {detail}"
    );
    drop(agent.stream.close(None).await);

    // Node 1 stops; node 0 no longer counts its agent.
    c.nodes[1].take().unwrap().stop().await.unwrap();
    let mut frames = Vec::new();
    while !frames
        .iter()
        .any(|f: &serde_json::Value| f["type"] == "presence" && f["agents_online"] == false)
    {
        let got = visitor.drain(Duration::from_secs(20)).await;
        assert!(
            !got.is_empty(),
            "the visitor hears that nobody is online any more: {frames:?}"
        );
        frames.extend(got);
    }
    let mut second = visitor_ws(&c, 0, &channel).await;
    let ack = second.send_message("v-2", None, "还有人吗").await;
    let conv2 = ack["conversation_id"].as_str().unwrap().to_owned();
    let detail = admin.json(&format!("/api/v1/conversations/{conv2}")).await;
    assert!(detail["conversation"]["assignee"].is_null(), "{detail}");
    assert!(!detail["conversation"]["queued_at"].is_null(), "{detail}");
    c.finish().await;
}

/// Nodes keep the settings a visitor's message consults in memory: a save on one node reaches
/// the others over the bus, and a save whose word the bus lost (Redis was down) still reaches
/// them, because a node that reconnects drops what it cached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_saved_on_one_node_apply_on_the_others_even_across_a_redis_restart() {
    let Some(mut c) = Cluster::start(2, |_| {}).await else {
        return;
    };
    let admin = login(&c, 0).await;
    let channel: serde_json::Value = admin
        .post("/api/v1/channels", json!({"name": "Shop"}))
        .await
        .json()
        .await
        .unwrap();
    let save = |reply: &'static str| {
        let rules = json!({"rules": [{"name": "价格", "mode": "contains", "keywords": ["价格"], "reply": reply}]});
        let admin = &admin;
        async move {
            let r = admin.put("/api/v1/auto_replies", rules).await;
            assert_eq!(r.status(), 200);
        }
    };
    save("v1").await;
    let mut visitor = visitor_ws(&c, 1, &channel).await;
    let mut asker = Asker {
        ws: &mut visitor,
        conv: None,
        sent: 0,
    };
    asker.until("v1", Duration::ZERO).await;

    save("v2").await;
    asker.until("v2", Duration::from_secs(3)).await;

    // Redis goes away while node 0 saves: node 1 cannot hear of it, but drops its cache when
    // the link comes back.
    c.redis.stop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    save("v3").await;
    assert!(c.redis.spawn());
    asker.until("v3", Duration::from_secs(10)).await;
    c.finish().await;
}

/// A visitor asking the same question again and again in one conversation.
struct Asker<'a> {
    ws: &'a mut Ws,
    conv: Option<String>,
    sent: usize,
}

impl Asker<'_> {
    /// Asks until the auto-reply reads `want`, failing once `within` has passed.
    async fn until(&mut self, want: &str, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            self.sent += 1;
            let client_id = format!("q-{}", self.sent);
            let (id, reply) = auto_reply(self.ws, &client_id, self.conv.as_deref()).await;
            self.conv = Some(id);
            if reply == want {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "node 1 still answers {reply:?} instead of {want:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Sends a question on the visitor's socket; the conversation and the auto-reply's text.
async fn auto_reply(ws: &mut Ws, client_id: &str, conv: Option<&str>) -> (String, String) {
    ws.send(json!({"type": "send", "client_id": client_id, "conversation_id": conv, "body": "价格多少"}))
        .await;
    let mut frames = Vec::new();
    let ack = loop {
        let f = ws.recv().await;
        if f["type"] == "ack" && f["client_id"] == client_id {
            break f;
        }
        frames.push(f);
    };
    let id = ack["conversation_id"].as_str().unwrap().to_owned();
    if conv.is_none() {
        ws.send(json!({"type": "subscribe", "conversation_id": id, "after_seq": ack["seq"]}))
            .await;
    }
    let seq = ack["seq"].as_i64().unwrap();
    loop {
        let f = match frames.is_empty() {
            true => ws.recv().await,
            false => frames.remove(0),
        };
        let e = &f["event"];
        if f["type"] == "event" && e["sender"]["kind"] == "bot" && e["seq"].as_i64() > Some(seq) {
            return (id, e["body"].as_str().unwrap().to_owned());
        }
    }
}

/// Guesses spread over the nodes add up: the sign-in limit is the cluster's, not each node's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_limits_hold_across_nodes() {
    let Some(c) = Cluster::start(2, |_| {}).await else {
        return;
    };
    let http = reqwest::Client::new();
    let attempt = |node: usize, password: &'static str| {
        let req = http
            .post(c.url(node, "/api/v1/auth/login"))
            .json(&json!({"email": ADMIN_EMAIL, "password": password}));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    for i in 0..5 {
        assert_eq!(attempt(i % 2, "wrong guess").await, 401);
    }
    for node in 0..2 {
        assert_eq!(
            attempt(node, ADMIN_PASSWORD).await,
            429,
            "node {node} counts the guesses made on the other node"
        );
    }
    c.finish().await;
}

/// Many threads publishing on one node at once: the receiving node sees every message and no
/// gap in the sender's numbers, so it never resyncs its subscribers for nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_publishers_cause_no_false_resyncs() {
    use parley_bus_redis::RedisBus;
    use parley_core::bus::{Bus, BusMessage, LocalBus, Topic};
    use std::sync::Arc;
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let stop = tokio_util::sync::CancellationToken::new();
    let a = RedisBus::connect(&redis.url(), Arc::new(LocalBus::new(64)), stop.clone())
        .await
        .unwrap();
    let b = RedisBus::connect(&redis.url(), Arc::new(LocalBus::new(64)), stop.clone())
        .await
        .unwrap();
    let (threads, each) = (8, 2_000);
    // OS threads on two cores: publishers are preempted mid-publish, as under real load.
    let publishers: Vec<_> = (0..threads)
        .map(|_| {
            let a = a.clone();
            std::thread::spawn(move || {
                for i in 0..each {
                    a.publish(Topic::Cluster, BusMessage::AgentsOnline(i % 2 == 0));
                }
            })
        })
        .collect();
    for p in publishers {
        p.join().unwrap();
    }
    let total = (threads * each) as u64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while b.stats().relayed.load(Ordering::Relaxed) < total {
        assert!(
            tokio::time::Instant::now() < deadline,
            "relayed {} of {total}",
            b.stats().relayed.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(a.stats().dropped.load(Ordering::Relaxed), 0);
    assert_eq!(
        b.stats().resyncs.load(Ordering::Relaxed),
        0,
        "no false gaps"
    );
    stop.cancel();
}
