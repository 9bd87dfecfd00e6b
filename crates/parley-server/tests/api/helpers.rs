//! `spawn_app`: the real server on a free port, on a fresh SQLite file or a fresh PostgreSQL
//! database, plus small clients for the REST API and the WebSocket protocol.

use futures::{SinkExt, StreamExt};
use parley_conformance::pg;
use parley_server::{Running, Settings};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "correct horse battery";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each listed test against both backends: `mod sqlite { … }` and `mod postgres { … }`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await {
                    super::$name(app).await;
                }
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await {
                    let guard = app.db_guard();
                    let result = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(super::$name(app))).await;
                    guard.drop_db().await;
                    if let Err(p) = result { std::panic::resume_unwind(p); }
                }
            })*
        }
    };
}

pub struct TestApp {
    pub running: Option<Running>,
    pub addr: std::net::SocketAddr,
    pub settings: Settings,
    pub backend: Backend,
    pub _dir: std::sync::Arc<tempfile::TempDir>,
    db: Option<std::sync::Arc<tokio::sync::Mutex<Option<pg::TestDatabase>>>>,
}

pub struct DbGuard(Option<std::sync::Arc<tokio::sync::Mutex<Option<pg::TestDatabase>>>>);

impl DbGuard {
    pub async fn drop_db(self) {
        if let Some(db) = self.0 {
            if let Some(db) = db.lock().await.take() {
                db.drop_db().await;
            }
        }
    }
}

/// `None` (the test is skipped) for PostgreSQL when no server is configured; with `CI=true`
/// a missing server fails instead.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(
    backend: Backend,
    tweak: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    std::env::set_var("PARLEY_ADMIN_EMAIL", ADMIN_EMAIL);
    std::env::set_var("PARLEY_ADMIN_PASSWORD", ADMIN_PASSWORD);
    let dir = tempfile::tempdir().unwrap();
    let (db, url) = match backend {
        Backend::Sqlite => (None, None),
        Backend::Postgres => {
            let Some(admin) = pg::admin_url() else {
                eprintln!("skipped: set PARLEY_TEST_POSTGRES_URL to run PostgreSQL tests");
                return None;
            };
            let db = pg::TestDatabase::create(&admin)
                .await
                .expect("PostgreSQL must be reachable for these tests");
            let url = db.url.clone();
            (
                Some(std::sync::Arc::new(tokio::sync::Mutex::new(Some(db)))),
                Some(url),
            )
        }
    };
    let mut settings = Settings::for_tests(dir.path().to_owned(), url);
    tweak(&mut settings);
    let running = parley_server::start(settings.clone())
        .await
        .expect("server starts");
    let addr = running.addr;
    Some(TestApp {
        running: Some(running),
        addr,
        settings,
        backend,
        _dir: std::sync::Arc::new(dir),
        db,
    })
}

impl TestApp {
    pub fn db_guard(&self) -> DbGuard {
        DbGuard(self.db.clone())
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    /// Stops the server gracefully and starts it again on the same data (a new port).
    pub async fn restart(&mut self) {
        self.running.take().unwrap().stop().await.unwrap();
        let running = parley_server::start(self.settings.clone())
            .await
            .expect("server restarts");
        self.addr = running.addr;
        self.running = Some(running);
    }

    pub fn parley(&self) -> &parley_core::Parley {
        &self.running.as_ref().unwrap().parley
    }

    pub async fn login(&self, email: &str, password: &str) -> Session {
        login_at(&self.url(""), email, password).await
    }

    pub async fn admin(&self) -> Session {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// An admin-created person, signed in.
    pub async fn person(&self, admin: &Session, role: &str) -> Session {
        let email = format!("{role}-{}@example.com", uuid::Uuid::new_v4().simple());
        let r = admin.post("/api/v1/users", json!({"email": email, "name": format!("{role} one"), "role": role, "password": "a long password"})).await;
        assert_eq!(r.status(), 201);
        self.login(&email, "a long password").await
    }

    /// A website channel; `origins` restricts who may embed it.
    pub async fn channel(&self, admin: &Session, origins: &[&str]) -> Value {
        let r = admin
            .post(
                "/api/v1/channels",
                json!({"name": "Shop", "welcome_text": "欢迎", "allowed_origins": origins}),
            )
            .await;
        assert_eq!(r.status(), 201);
        r.json().await.unwrap()
    }

    /// A group with a new agent as its only member, online (the socket keeps them online).
    pub async fn staffed_group(&self, admin: &Session, name: &str) -> (String, Session, Ws) {
        let r = admin
            .post(
                "/api/v1/groups",
                json!({"name": name, "policy": ["least_load"]}),
            )
            .await;
        assert_eq!(r.status(), 201);
        let gid = r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let agent = self.person(admin, "agent").await;
        let r = admin
            .put(
                &format!("/api/v1/groups/{gid}/members"),
                json!({"members": [{"user_id": agent.user_id()}]}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let ws = Ws::agent(self, &agent.token().await).await;
        (gid, agent, ws)
    }

    pub async fn visitor(&self, channel: &Value, origin: &str) -> Visitor {
        let key = channel["widget_key"].as_str().unwrap();
        let res = reqwest::Client::new()
            .post(self.url("/api/widget/v1/session"))
            .header("origin", origin)
            .header("user-agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36")
            .json(&json!({"widget_key": key, "page": {"url": format!("{origin}/pricing"), "title": "Pricing", "referrer": "https://www.baidu.com/"}, "language": "zh-CN"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let v: Value = res.json().await.unwrap();
        Visitor {
            token: v["visitor_token"].as_str().unwrap().to_owned(),
            origin: origin.to_owned(),
            session: v,
        }
    }
}

pub struct Session {
    pub client: reqwest::Client,
    pub base: String,
    pub csrf: String,
    pub me: Value,
    /// The `cookie` header value of this session, for WebSocket upgrades.
    pub cookie: String,
}

impl Session {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .unwrap()
    }
    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(format!("{}{}", self.base, path))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
    }
    pub async fn patch(&self, path: &str, body: Value) -> reqwest::Response {
        self.client
            .patch(format!("{}{}", self.base, path))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
    }
    pub async fn put(&self, path: &str, body: Value) -> reqwest::Response {
        self.client
            .put(format!("{}{}", self.base, path))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
    }
    pub async fn json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }
    pub fn user_id(&self) -> String {
        self.me["user"]["id"].as_str().unwrap().to_owned()
    }
    /// An API token for this person, for sockets and programs.
    pub async fn token(&self) -> String {
        let r = self.post("/api/v1/tokens", json!({"name": "test"})).await;
        assert_eq!(r.status(), 201);
        r.json::<Value>().await.unwrap()["secret"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

pub struct Visitor {
    pub token: String,
    pub origin: String,
    pub session: Value,
}

pub type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Ws {
    pub stream: WsStream,
}

pub async fn connect(url: &str, headers: &[(&str, &str)]) -> Ws {
    let mut req = url.into_client_request().unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(
            reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    let (stream, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("websocket connects");
    Ws { stream }
}

impl Ws {
    pub async fn visitor(app: &TestApp, v: &Visitor) -> Ws {
        let mut ws = connect(&app.ws_url("/ws/widget"), &[("origin", &v.origin)]).await;
        ws.send(json!({"type": "hello", "token": v.token})).await;
        let ready = ws.recv_type("ready").await;
        assert!(ready["heartbeat_ms"].as_u64().unwrap() > 0);
        ws
    }

    pub async fn agent(app: &TestApp, token: &str) -> Ws {
        let mut ws = connect(&app.ws_url(&format!("/ws/agent?token={token}")), &[]).await;
        ws.send(json!({"type": "hello"})).await;
        ws.recv_type("ready").await;
        ws
    }

    pub async fn send(&mut self, v: Value) {
        self.stream
            .send(Message::Text(v.to_string().into()))
            .await
            .unwrap();
    }

    pub async fn send_raw(&mut self, m: Message) {
        self.stream.send(m).await.unwrap();
    }

    /// The next JSON frame, skipping pings; panics after 10 s.
    pub async fn recv(&mut self) -> Value {
        loop {
            let m = tokio::time::timeout(Duration::from_secs(10), self.stream.next())
                .await
                .expect("a frame within 10 s")
                .expect("socket open")
                .expect("frame ok");
            match m {
                Message::Text(t) => return serde_json::from_str(&t).unwrap(),
                Message::Close(c) => panic!("socket closed: {c:?}"),
                _ => continue,
            }
        }
    }

    /// Skips frames until one of `type`.
    pub async fn recv_type(&mut self, ty: &str) -> Value {
        loop {
            let v = self.recv().await;
            if v["type"] == ty {
                return v;
            }
        }
    }

    /// The frames that arrive within `wait`, stopping early when the socket is idle.
    pub async fn drain(&mut self, wait: Duration) -> Vec<Value> {
        let mut out = Vec::new();
        while let Ok(Some(Ok(m))) = tokio::time::timeout(wait, self.stream.next()).await {
            if let Message::Text(t) = m {
                out.push(serde_json::from_str(&t).unwrap());
            }
        }
        out
    }

    /// Waits for the server to close the socket and returns the close code.
    pub async fn closed_with(&mut self) -> u16 {
        loop {
            match tokio::time::timeout(Duration::from_secs(10), self.stream.next())
                .await
                .expect("closed within 10 s")
            {
                Some(Ok(Message::Close(Some(f)))) => return u16::from(f.code),
                Some(Ok(Message::Close(None))) => return u16::from(CloseCode::Status),
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("socket error instead of a close frame: {e}"),
                None => panic!("socket ended without a close frame"),
            }
        }
    }

    pub async fn send_message(
        &mut self,
        client_id: &str,
        conversation: Option<&str>,
        body: &str,
    ) -> Value {
        self.send(json!({"type": "send", "client_id": client_id, "conversation_id": conversation, "body": body})).await;
        let ack = self.recv_type("ack").await;
        assert_eq!(ack["client_id"], client_id);
        ack
    }
}

/// Events of a conversation received on `ws` until `until_seq`, in arrival order.
pub async fn events_until(ws: &mut Ws, until_seq: i64) -> Vec<Value> {
    let mut got = Vec::new();
    loop {
        let f = ws.recv().await;
        if f["type"] == "event" {
            let seq = f["event"]["seq"].as_i64().unwrap();
            got.push(f["event"].clone());
            if seq >= until_seq {
                return got;
            }
        }
    }
}

/// An event's structured routing explanation, rendered in English.
pub fn why(event: &Value) -> String {
    let clauses: Vec<parley_domain::Reason> =
        serde_json::from_value(event["reason"].clone()).expect("reason is a list of clauses");
    parley_domain::Reasons(clauses).to_string()
}

/// Signs in at a server's base URL (e.g. one node of several).
pub async fn login_at(base: &str, email: &str, password: &str) -> Session {
    let url = |p: &str| format!("{base}{p}");
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    let res = client
        .post(url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "login of {email} failed: {}",
        res.text().await.unwrap()
    );
    let me: Value = res.json().await.unwrap();
    use reqwest::cookie::CookieStore;
    let cookie = jar
        .cookies(&url("/").parse().unwrap())
        .map(|h| h.to_str().unwrap().to_owned())
        .unwrap_or_default();
    Session {
        client,
        base: url(""),
        csrf: me["csrf_token"].as_str().unwrap().to_owned(),
        me,
        cookie,
    }
}
