//! Two `parley serve` processes on one PostgreSQL database and one Redis; one is killed with
//! SIGKILL (no graceful shutdown) mid-conversation. Its agent resumes on the survivor and gets
//! every message exactly once, retried messages are not stored twice, visitors learn that
//! nobody is online any more, and the cluster's jobs lease moves to the survivor.
//!
//! Runs when PostgreSQL is configured (`PARLEY_TEST_POSTGRES_URL`, or `CI=true`); with
//! `CI=true` a missing `redis-server` fails it, as in `cluster.rs`.

use crate::cluster::RedisServer;
use crate::helpers::*;
use futures::{FutureExt, StreamExt};
use parley_conformance::pg;
use parley_core::presence::{EXPIRE_EVERY_MS, REMOTE_TTL_MS};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::process::{Child, Command};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const BIN: &str = env!("CARGO_BIN_EXE_parley");

/// One `parley serve` process; killed (and reaped) on drop, so a failing test leaks nothing.
struct Node {
    name: &'static str,
    child: Option<Child>,
    addr: String,
    dir: tempfile::TempDir,
}

impl Node {
    async fn start(name: &'static str, database_url: &str, redis_url: &str) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        // Logs go to a file, shown if the test fails.
        let log = std::fs::File::create(dir.path().join("node.log")).unwrap();
        let child = Command::new(BIN)
            .args(["serve", "--listen", &addr, "--database-url", database_url])
            .args(["--redis-url", redis_url])
            .arg("--data-dir")
            .arg(dir.path())
            .env("PARLEY_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("PARLEY_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env_remove("PARLEY_CONFIG")
            .env_remove("PARLEY_PUBLIC_URL")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("parley starts");
        let mut node = Node {
            name,
            child: Some(child),
            addr,
            dir,
        };
        // Ready when /healthz answers 200 (the database is migrated and reachable).
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(node.url("/healthz")).send().await {
                if r.status() == 200 {
                    break;
                }
            }
            if let Ok(Some(status)) = node.child.as_mut().unwrap().try_wait() {
                panic!("node {name} exited ({status}):\n{}", node.logs());
            }
            assert!(Instant::now() < deadline, "node {name} is not ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        node
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("node.log")).unwrap_or_default()
    }

    /// SIGKILL: no graceful shutdown, no 1001 close frames, no lease released.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            let status = c.wait().unwrap();
            assert!(!status.success(), "node {} was killed: {status}", self.name);
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if std::thread::panicking() {
            eprintln!("--- log of node {} ---\n{}", self.name, self.logs());
        }
    }
}

/// A socket that keeps every frame it reads, so later checks can look back at them.
struct Client {
    ws: Ws,
    log: Vec<Value>,
}

impl Client {
    async fn open(url: &str, hello: Value) -> (Client, Value) {
        let mut ws = connect(url, &[]).await;
        ws.send(hello).await;
        let ready = ws.recv_type("ready").await;
        (
            Client {
                ws,
                log: Vec::new(),
            },
            ready,
        )
    }

    /// Reads until a frame matches `pred` (returned; every frame is logged); panics after
    /// `within`.
    async fn wait_for(&mut self, within: Duration, pred: impl Fn(&Value) -> bool) -> Value {
        self.try_wait_for(within, pred)
            .await
            .unwrap_or_else(|| panic!("no matching frame within {within:?}: {:?}", self.log))
    }

    /// Like `wait_for`, but `None` when `within` passes first.
    async fn try_wait_for(
        &mut self,
        within: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let m = tokio::time::timeout_at(deadline, self.ws.stream.next())
                .await
                .ok()?
                .expect("socket open")
                .expect("frame ok");
            if let Message::Text(t) = m {
                let v: Value = serde_json::from_str(&t).unwrap();
                self.log.push(v.clone());
                if pred(&v) {
                    return Some(v);
                }
            }
        }
    }

    /// Reads until the socket ends (its node died) or `within` passes; true if it ended.
    async fn read_until_closed(&mut self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.stream.next()).await {
                Err(_) => return false,
                Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(Message::Text(t)))) => {
                    self.log.push(serde_json::from_str(&t).unwrap());
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    async fn send(&mut self, v: Value) {
        self.ws.send(v).await;
    }

    async fn send_message(&mut self, client_id: &str, conv: Option<&str>, body: &str) -> Value {
        self.send(
            json!({"type": "send", "client_id": client_id, "conversation_id": conv, "body": body}),
        )
        .await;
        self.wait_for(Duration::from_secs(10), |f| {
            f["type"] == "ack" && f["client_id"] == client_id
        })
        .await
    }

    /// The events of `conv` read so far, in arrival order.
    fn events(&self, conv: &str) -> Vec<Value> {
        self.log
            .iter()
            .filter(|f| f["type"] == "event" && f["conversation_id"] == conv)
            .map(|f| f["event"].clone())
            .collect()
    }
}

fn seq(v: &Value) -> i64 {
    v["seq"].as_i64().unwrap()
}

/// Notes a first ack (not a duplicate) in `acked`: seq → (client_id, body).
fn record(acked: &mut BTreeMap<i64, (String, String)>, ack: &Value, body: &str) {
    assert_eq!(ack["duplicate"], false, "{ack}");
    let cid = ack["client_id"].as_str().unwrap().to_owned();
    let prev = acked.insert(seq(ack), (cid, body.to_owned()));
    assert!(prev.is_none(), "two messages acked with one seq: {ack}");
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The holder and expiry of the cluster jobs' lease (`routing-jobs`), if anyone took it.
async fn jobs_lease(db: &mut sqlx::PgConnection) -> Option<(String, i64)> {
    sqlx::query_as("SELECT holder::text, expires_at FROM leases WHERE name = 'routing-jobs'")
        .fetch_optional(db)
        .await
        .unwrap()
}

/// Starts (or resumes, with `token`) a visitor of `channel` over REST on `node`.
async fn widget_session(node: &Node, channel: &Value, token: Option<&str>) -> Value {
    let r = reqwest::Client::new()
        .post(node.url("/api/widget/v1/session"))
        .json(
            &json!({"widget_key": channel["widget_key"], "visitor_token": token,
            "page": {"url": "https://shop.example/", "title": "Shop"}, "language": "zh-CN"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_loses_and_duplicates_nothing() {
    let Some(admin) = pg::admin_url() else {
        eprintln!("skipped: set PARLEY_TEST_POSTGRES_URL to run the node-kill test");
        return;
    };
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let db = pg::TestDatabase::create(&admin)
        .await
        .expect("PostgreSQL must be reachable for these tests");
    // The nodes live inside the scenario, so a panic kills them before the database goes.
    let result = std::panic::AssertUnwindSafe(scenario(&db.url, &redis.url()))
        .catch_unwind()
        .await;
    db.drop_db().await;
    drop(redis);
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

async fn scenario(database_url: &str, redis_url: &str) {
    let started = Instant::now();
    let mut pgc = <sqlx::PgConnection as sqlx::Connection>::connect(database_url)
        .await
        .unwrap();
    // A starts alone (no migration race) and takes the jobs lease on its first tick; B, started
    // after that, cannot take it while A renews it, so the node we kill is the holder.
    let mut a = Node::start("A", database_url, redis_url).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let held_by_a = loop {
        if let Some((holder, _)) = jobs_lease(&mut pgc).await {
            break holder;
        }
        assert!(Instant::now() < deadline, "node A takes the jobs lease");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let b = Node::start("B", database_url, redis_url).await;

    let admin = login_at(&a.url(""), ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let r = admin
        .post("/api/v1/channels", json!({"name": "Shop"}))
        .await;
    assert_eq!(r.status(), 201);
    let channel: Value = r.json().await.unwrap();
    let token = admin.token().await;
    let agent_url = |n: &Node| n.ws_url(&format!("/ws/agent?token={token}"));

    // The workspace's only agent connects to A; B learns of it from A's announcement.
    let (mut agent, _) = Client::open(&agent_url(&a), json!({"type": "hello"})).await;
    let session = widget_session(&b, &channel, None).await;
    let vt = session["visitor_token"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(5);
    while widget_session(&b, &channel, Some(&vt)).await["agents_online"] != true {
        assert!(Instant::now() < deadline, "B sees the agent connected to A");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (mut visitor, ready) = Client::open(
        &b.ws_url("/ws/widget"),
        json!({"type": "hello", "token": vt}),
    )
    .await;
    assert_eq!(ready["agents_online"], true);

    // Every acked message: seq → (client_id, body).
    let mut acked: BTreeMap<i64, (String, String)> = BTreeMap::new();

    // They chat both ways across the nodes.
    let ack = visitor.send_message("v-1", None, "你好，在吗？").await;
    record(&mut acked, &ack, "你好，在吗？");
    let conv = ack["conversation_id"].as_str().unwrap().to_owned();
    visitor
        .send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": seq(&ack)}))
        .await;
    visitor
        .wait_for(Duration::from_secs(10), |f| f["type"] == "subscribed")
        .await;
    agent
        .wait_for(Duration::from_secs(10), |f| {
            f["type"] == "inbox" && f["conversation"]["id"] == conv.as_str()
        })
        .await;
    agent
        .send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 0}))
        .await;
    agent
        .wait_for(Duration::from_secs(10), |f| {
            f["type"] == "event" && f["event"]["body"] == "你好，在吗？"
        })
        .await;
    let reply = agent.send_message("a-1", Some(&conv), "在的，请讲").await;
    record(&mut acked, &reply, "在的，请讲");
    visitor
        .wait_for(Duration::from_secs(10), |f| {
            f["type"] == "event" && f["event"]["body"] == "在的，请讲"
        })
        .await;

    // The visitor keeps writing; A is killed after the third message. The agent's socket
    // reads whatever A delivered until it dies.
    let reader = tokio::spawn(async move {
        let ended = agent.read_until_closed(Duration::from_secs(20)).await;
        (agent, ended)
    });
    let mut killed_at = None;
    let mut outage_acks = Vec::new();
    for i in 2..=9 {
        let body = format!("第{i}条消息");
        let ack = visitor
            .send_message(&format!("v-{i}"), Some(&conv), &body)
            .await;
        assert_eq!(ack["conversation_id"], conv.as_str());
        record(&mut acked, &ack, &body);
        if killed_at.is_some() {
            outage_acks.push(ack);
        }
        if i == 4 {
            a.kill();
            killed_at = Some(Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let killed_at = killed_at.unwrap();
    assert_eq!(
        outage_acks.len(),
        5,
        "B acked every message sent after the kill"
    );
    let last_visitor_seq = seq(outage_acks.last().unwrap());
    let (agent, ended) = reader.await.unwrap();
    assert!(ended, "the agent's socket on the killed node ends");

    // What the agent holds: events of the conversation, each once, and its last contiguous seq.
    let before: Vec<i64> = agent.events(&conv).iter().map(seq).collect();
    let unique: HashSet<i64> = before.iter().copied().collect();
    assert_eq!(
        unique.len(),
        before.len(),
        "no event twice before the kill: {before:?}"
    );
    let mut last_seen = 0;
    while unique.contains(&(last_seen + 1)) {
        last_seen += 1;
    }
    assert!(
        last_seen >= seq(&reply) - 1,
        "the agent was up to date: {before:?}"
    );

    // The cluster's jobs lease, held by the killed node, moves to the survivor once it
    // expires (3 s) — no graceful release happened.
    let deadline = killed_at + Duration::from_secs(10);
    loop {
        let (holder, expires) = jobs_lease(&mut pgc).await.expect("the lease row stays");
        if holder != held_by_a && expires > now_ms() {
            eprintln!(
                "jobs lease moved to the survivor {:.1} s after the kill",
                killed_at.elapsed().as_secs_f64()
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the jobs lease of the killed node moves to the survivor"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // With the only agent's node gone, the visitor hears that nobody is online once A's
    // last announcement is older than the presence TTL; the expiry check runs every
    // EXPIRE_EVERY_MS, so that is at most TTL + one check after the kill; a margin covers a
    // loaded machine. The agent has not reconnected yet, on purpose. The REST answer
    // is polled alongside, to report when each side changes.
    let bound = Duration::from_millis(REMOTE_TTL_MS as u64 + EXPIRE_EVERY_MS + 5_000);
    let offline = |f: &Value| f["type"] == "presence" && f["agents_online"] == false;
    let mut rest_offline_after = None;
    let mut pushed = visitor.log.iter().any(offline);
    while !pushed {
        assert!(
            killed_at.elapsed() < bound,
            "the visitor hears that nobody is online within {bound:?} of the kill"
        );
        if rest_offline_after.is_none()
            && widget_session(&b, &channel, Some(&vt)).await["agents_online"] == false
        {
            rest_offline_after = Some(killed_at.elapsed());
        }
        pushed = visitor
            .try_wait_for(Duration::from_millis(200), offline)
            .await
            .is_some();
    }
    let pushed_after = killed_at.elapsed();
    eprintln!(
        "after the kill: REST agents_online false at {rest_offline_after:.1?}, presence frame at {pushed_after:.1?}"
    );
    assert_eq!(
        widget_session(&b, &channel, Some(&vt)).await["agents_online"],
        false
    );

    // The agent resumes on B from its last seen seq: the replay is exactly the gap, in order.
    let (mut agent2, _) = Client::open(&agent_url(&b), json!({"type": "hello"})).await;
    agent2
        .send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": last_seen}))
        .await;
    let subscribed = agent2
        .wait_for(Duration::from_secs(10), |f| {
            f["type"] == "subscribed" && f["conversation_id"] == conv.as_str()
        })
        .await;
    assert_eq!(subscribed["last_seq"], last_visitor_seq, "{subscribed}");
    let replay = agent2.events(&conv);
    let replay_seqs: Vec<i64> = replay.iter().map(seq).collect();
    assert_eq!(
        replay_seqs,
        ((last_seen + 1)..=last_visitor_seq).collect::<Vec<_>>(),
        "the replay is contiguous from the last seen seq, each event once"
    );
    for e in &replay {
        if e["kind"] == "message" {
            let (cid, body) = &acked[&seq(e)];
            assert_eq!(
                (&e["client_id"], &e["body"]),
                (&json!(cid), &json!(body)),
                "{e}"
            );
        }
    }
    // Nothing lost: every visitor message reached the agent, live before the kill or replayed.
    for (s, (cid, _)) in &acked {
        if cid.starts_with("v-") {
            let times = before.iter().filter(|x| *x == s).count()
                + replay_seqs.iter().filter(|x| *x == s).count();
            assert_eq!(times, 1, "{cid} (seq {s}) reached the agent once");
        }
    }

    eprintln!(
        "agent saw seqs {before:?} live, last seen {last_seen}; replayed on B: {:?}",
        replay
            .iter()
            .map(|e| format!("{}:{}", seq(e), e["kind"].as_str().unwrap_or("?")))
            .collect::<Vec<_>>()
    );

    // The agent answers from B; the visitor gets it once.
    let reply2 = agent2
        .send_message("a-2", Some(&conv), "刚才我掉线了，抱歉")
        .await;
    record(&mut acked, &reply2, "刚才我掉线了，抱歉");
    visitor
        .wait_for(Duration::from_secs(10), |f| {
            f["type"] == "event" && f["event"]["body"] == "刚才我掉线了，抱歉"
        })
        .await;

    // Messages whose ack was lost are resent with their client_id: the agent's reply acked
    // by the dead node, and a visitor message acked by B during the outage. Same seq, nothing new.
    agent2
        .send(json!({"type": "send", "client_id": "a-1", "conversation_id": conv, "body": "在的，请讲"}))
        .await;
    let dup = agent2
        .wait_for(Duration::from_secs(10), |f| {
            f["type"] == "ack" && f["client_id"] == "a-1"
        })
        .await;
    assert_eq!(
        (dup["seq"].as_i64(), &dup["duplicate"]),
        (Some(seq(&reply)), &json!(true))
    );
    let resent = &outage_acks[2];
    let cid = resent["client_id"].as_str().unwrap();
    visitor
        .send(json!({"type": "send", "client_id": cid, "conversation_id": conv, "body": acked[&seq(resent)].1}))
        .await;
    let dup = visitor
        .wait_for(Duration::from_secs(10), |f| {
            f["type"] == "ack" && f["client_id"] == cid
        })
        .await;
    assert_eq!(
        (dup["seq"].as_i64(), &dup["duplicate"]),
        (Some(seq(resent)), &json!(true))
    );

    // No event after the reply reaches either side, and the visitor saw the reply once.
    for c in [&mut visitor, &mut agent2] {
        let quiet = c.ws.drain(Duration::from_millis(700)).await;
        assert!(
            !quiet.iter().any(|f| f["type"] == "event"),
            "no event from a resent message: {quiet:?}"
        );
    }
    let replies = visitor
        .events(&conv)
        .iter()
        .filter(|e| e["body"] == "刚才我掉线了，抱歉")
        .count();
    assert_eq!(replies, 1, "the visitor got the reply once");

    // The record: seqs 1..=n without gaps, each message once, each as acked.
    let r = reqwest::Client::new()
        .get(b.url(&format!(
            "/api/v1/conversations/{conv}/events?after_seq=0&limit=200"
        )))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let items = r.json::<Value>().await.unwrap()["items"].clone();
    let items = items.as_array().unwrap();
    let seqs: Vec<i64> = items.iter().map(seq).collect();
    assert_eq!(seqs, (1..=seq(&reply2)).collect::<Vec<_>>());
    let stored: BTreeMap<i64, (String, String)> = items
        .iter()
        .filter(|e| e["kind"] == "message")
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap().to_owned();
            (seq(e), (s("client_id"), s("body")))
        })
        .collect();
    assert_eq!(stored, acked, "the messages stored are exactly those acked");
    eprintln!(
        "node-kill test took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    drop(b);
}
