//! The shipped deployment recipe, run for real: nginx with `deploy/nginx/parley.conf` in front
//! of one node, and with `deploy/nginx/parley-cluster.conf` in front of two nodes on PostgreSQL
//! and Redis, driven over HTTPS and WSS with a certificate made for the test.
//!
//! The files are used as shipped, with their example values replaced (each replacement must
//! match, so a changed file fails here instead of going untested): `chat.example.com` →
//! `parley.test`, the Let's Encrypt paths → the test's certificate, `listen 443` / `listen 80`
//! → free ports on 127.0.0.1 (the `listen [::]:…` lines are dropped), and the upstream
//! addresses → the test's nodes. nginx runs with a private prefix and its logs and temp files in
//! a temporary directory; the site file is included in a minimal `http { }` block, as Debian's
//! nginx.conf includes conf.d/.
//!
//! Skipped when nginx is not installed; with `CI=true` a missing nginx fails.

use crate::cluster::RedisServer;
use crate::helpers::*;
use parley_conformance::pg;
use serde_json::{json, Value};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The site name the test's certificate is made for; it resolves to 127.0.0.1 in the clients.
const SITE: &str = "parley.test";

fn nginx_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin"].map(PathBuf::from))
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file());
    if found.is_none() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("nginx must be installed for the deployment tests (scripts/test installs it)");
        }
        eprintln!("skipped: nginx is not installed");
    }
    found
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn repo_file(relative: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

/// Replaces every `from`, which must occur.
fn replace(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "the shipped config no longer contains `{from}`; update the recipe test"
    );
    text.replace(from, to)
}

struct Nginx {
    child: Option<Child>,
    bin: PathBuf,
    dir: tempfile::TempDir,
    https: u16,
    http: u16,
    cert: rustls::pki_types::CertificateDer<'static>,
    cert_pem: String,
}

impl Nginx {
    /// Runs nginx with the shipped site file `shipped` (a path in the repository), its
    /// upstream addresses replaced by `upstreams` (shipped address → test node).
    fn start(bin: &Path, shipped: &str, https: u16, upstreams: &[(&str, SocketAddr)]) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let http = free_port();
        let ck = rcgen::generate_simple_self_signed(vec![SITE.to_owned()]).unwrap();
        let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert_path, ck.cert.pem()).unwrap();
        std::fs::write(&key_path, ck.key_pair.serialize_pem()).unwrap();

        let mut site = repo_file(shipped);
        site = replace(
            &site,
            "/etc/letsencrypt/live/chat.example.com/fullchain.pem",
            &cert_path.display().to_string(),
        );
        site = replace(
            &site,
            "/etc/letsencrypt/live/chat.example.com/privkey.pem",
            &key_path.display().to_string(),
        );
        site = replace(&site, "chat.example.com", SITE);
        site = replace(
            &site,
            "listen 443 ssl",
            &format!("listen 127.0.0.1:{https} ssl"),
        );
        site = replace(&site, "listen 80;", &format!("listen 127.0.0.1:{http};"));
        site = site
            .lines()
            .filter(|l| !l.trim_start().starts_with("listen [::]:"))
            .collect::<Vec<_>>()
            .join("\n");
        for (from, to) in upstreams {
            site = replace(&site, &format!("server {from}"), &format!("server {to}"));
        }
        std::fs::write(dir.path().join("parley.conf"), site).unwrap();

        // As root, nginx's workers would run as nobody, who cannot enter the private temp dir.
        let user = if is_root() { "user root;" } else { "" };
        let main = format!(
            "{user}
worker_processes 1;
error_log {d}/error.log info;
events {{ worker_connections 256; }}
http {{
    log_format upstream '$upstream_addr $status $request';
    access_log {d}/access.log upstream;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    include {d}/parley.conf;
}}
"
        );
        std::fs::write(dir.path().join("nginx.conf"), main).unwrap();
        let stderr = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
        let mut n = Nginx {
            child: None,
            bin: bin.to_owned(),
            https,
            http,
            cert: ck.cert.der().clone(),
            cert_pem: ck.cert.pem(),
            dir,
        };
        let child = n
            .command(&["daemon off;"])
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("nginx starts");
        n.child = Some(child);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", https)).is_err() {
            if let Ok(Some(status)) = n.child.as_mut().unwrap().try_wait() {
                panic!("nginx exited ({status}):\n{}", n.logs());
            }
            assert!(
                std::time::Instant::now() < deadline,
                "nginx did not listen:\n{}",
                n.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        n
    }

    fn command(&self, extra: &[&str]) -> Command {
        let d = self.dir.path().display().to_string();
        let mut c = Command::new(&self.bin);
        c.args(["-p", &d, "-e", &format!("{d}/error.log")])
            .args(["-c", &format!("{d}/nginx.conf")])
            .args(["-g", &format!("pid {d}/nginx.pid; {}", extra.join(" "))]);
        c
    }

    fn logs(&self) -> String {
        let read = |f: &str| std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default();
        format!("{}{}", read("stderr.log"), read("error.log"))
    }

    /// The upstream addresses that answered, from the access log.
    fn upstreams_used(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }

    fn base(&self) -> String {
        format!("https://{SITE}:{}", self.https)
    }

    /// An HTTPS client that trusts only the test's certificate and finds `parley.test` on
    /// loopback, connecting from `from` (another 127.x address stands for another client).
    fn client(&self, from: Option<Ipv4Addr>) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(self.cert_pem.as_bytes()).unwrap())
            .resolve(SITE, SocketAddr::from(([127, 0, 0, 1], 0)))
            .redirect(reqwest::redirect::Policy::none())
            .local_address(from.map(IpAddr::V4))
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client(None)
            .build()
            .unwrap()
            .get(format!("{}{path}", self.base()))
            .send()
            .await
            .unwrap()
    }

    /// Signs in as the console does: `Origin` is the site, port included.
    async fn login(&self, email: &str, password: &str) -> Session {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = self
            .client(None)
            .cookie_provider(jar.clone())
            .build()
            .unwrap();
        let base = self.base();
        let res = client
            .post(format!("{base}/api/v1/auth/login"))
            .header("origin", &base)
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "sign-in through nginx");
        let me: Value = res.json().await.unwrap();
        use reqwest::cookie::CookieStore;
        let cookie = jar
            .cookies(&format!("{base}/").parse().unwrap())
            .map(|h| h.to_str().unwrap().to_owned())
            .expect("a session cookie");
        Session {
            client,
            csrf: me["csrf_token"].as_str().unwrap().to_owned(),
            base,
            me,
            cookie,
        }
    }

    /// A WebSocket over TLS through nginx.
    async fn wss(&self, path: &str, headers: &[(&str, &str)]) -> Ws {
        let mut req = format!("wss://{SITE}:{}{path}", self.https)
            .into_client_request()
            .unwrap();
        for (k, v) in headers {
            req.headers_mut().insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.cert.clone()).unwrap();
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.https))
            .await
            .unwrap();
        let (stream, _) = tokio_tungstenite::client_async_tls_with_config(
            req,
            tcp,
            None,
            Some(tokio_tungstenite::Connector::Rustls(Arc::new(tls))),
        )
        .await
        .expect("the socket upgrades through nginx");
        Ws { stream }
    }

    async fn agent_ws(&self, admin: &Session) -> Ws {
        let base = self.base();
        let mut ws = self
            .wss("/ws/agent", &[("cookie", &admin.cookie), ("origin", &base)])
            .await;
        ws.send(json!({"type": "hello"})).await;
        ws.recv_type("ready").await;
        ws
    }

    async fn visitor_ws(&self, token: &str) -> Ws {
        let mut ws = self.wss("/ws/widget", &[("origin", SHOP)]).await;
        ws.send(json!({"type": "hello", "token": token})).await;
        ws.recv_type("ready").await;
        ws
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let stopped = self
                .command(&[])
                .args(["-s", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            if !stopped.is_ok_and(|s| s.success()) {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

const SHOP: &str = "https://shop.test";

/// A visitor's widget session, started from `from` through nginx.
async fn visitor_session(n: &Nginx, channel: &Value, from: Ipv4Addr, forged_ip: &str) -> String {
    let res = n
        .client(Some(from))
        .build()
        .unwrap()
        .post(format!("{}/api/widget/v1/session", n.base()))
        .header("origin", SHOP)
        // What a client may send; nginx must replace it.
        .header("x-forwarded-for", forged_ip)
        .json(&json!({"widget_key": channel["widget_key"], "page": {"url": format!("{SHOP}/pricing"), "title": "Pricing"}, "language": "zh-CN"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["visitor_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn upload(n: &Nginx, token: &str, name: &'static str, bytes: Vec<u8>) -> reqwest::Response {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name),
    );
    n.client(None)
        .build()
        .unwrap()
        .post(format!("{}/api/widget/v1/uploads", n.base()))
        .bearer_auth(token)
        .header("origin", SHOP)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The visitor writes, the agent (listening on its inbox) answers; returns the conversation
/// and the seq of the answer.
async fn chat(agent: &mut Ws, visitor: &mut Ws, conv: Option<&str>, n: u32) -> (String, i64) {
    let ack = visitor
        .send_message(&format!("v-{n}"), conv, &format!("你好 {n}"))
        .await;
    let conv = ack["conversation_id"].as_str().unwrap().to_owned();
    visitor
        .send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": ack["seq"]}))
        .await;
    visitor.recv_type("subscribed").await;
    agent
        .send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 0}))
        .await;
    agent.recv_type("subscribed").await;
    let reply = format!("在的 {n}");
    let ack = agent
        .send_message(&format!("a-{n}"), Some(&conv), &reply)
        .await;
    let seq = ack["seq"].as_i64().unwrap();
    let events = events_until(visitor, seq).await;
    assert_eq!(events.last().unwrap()["body"], reply.as_str());
    (conv, seq)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_behind_nginx_over_https_and_wss() {
    let Some(bin) = nginx_binary() else { return };
    let app = spawn_app_with(Backend::Sqlite, |s| s.trust_forwarded_for = true)
        .await
        .unwrap();
    let n = Nginx::start(
        &bin,
        "deploy/nginx/parley.conf",
        free_port(),
        &[("127.0.0.1:8080", app.addr)],
    );
    let base = n.base();

    // Health through the proxy; plain HTTP is sent to HTTPS; /metrics is not public.
    let r = n.get("/healthz").await;
    assert_eq!(r.status(), 200, "{}", n.logs());
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "ok");
    let r = n
        .client(None)
        .build()
        .unwrap()
        .get(format!("http://{SITE}:{}/app/?x=1", n.http))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 301);
    assert_eq!(r.headers()["location"], "https://parley.test/app/?x=1");
    assert_eq!(n.get("/metrics").await.status(), 404);

    // Signing in with the browser's Origin works: nginx passes Host as sent, port included.
    let admin = n.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let r = admin
        .post("/api/v1/channels", json!({"name": "Shop"}))
        .await;
    assert_eq!(r.status(), 201);
    let channel: Value = r.json().await.unwrap();
    // Without PARLEY_PUBLIC_URL the snippet uses the forwarded scheme and host.
    assert!(
        channel["snippet"]
            .as_str()
            .unwrap()
            .contains(&format!("src=\"{base}/widget/loader.js\"")),
        "{}",
        channel["snippet"]
    );

    // The agent's socket (session cookie + Origin) and a visitor's socket, both over wss.
    let mut agent = n.agent_ws(&admin).await;
    let visitor_ip = Ipv4Addr::new(127, 0, 0, 2);
    let token = visitor_session(&n, &channel, visitor_ip, "203.0.113.7").await;
    let mut visitor = n.visitor_ws(&token).await;
    let (conv, _) = chat(&mut agent, &mut visitor, None, 1).await;
    // Parley recorded the visitor's own address: not nginx's, not the one the client made up.
    let detail = admin.json(&format!("/api/v1/conversations/{conv}")).await;
    assert_eq!(detail["visitor"]["ip"], "127.0.0.2");

    // nginx lets an upload of Parley's largest size through; one byte more is refused by
    // Parley itself (its JSON error), not by nginx.
    let max = app.settings.max_upload_bytes;
    let r = upload(&n, &token, "big.txt", vec![b'a'; max]).await;
    assert_eq!(r.status(), 201, "{}", n.logs());
    let r = upload(&n, &token, "big.txt", vec![b'a'; max + 1]).await;
    assert_eq!(r.status(), 413);
    let body: Value = r.json().await.expect("Parley's error, not nginx's page");
    assert!(body["error"]["code"].is_string(), "{body}");

    // The sign-in rate limit counts the real client: inventing a new X-Forwarded-For for every
    // guess does not help, and nobody else is locked out.
    let guesser = n.client(Some(Ipv4Addr::new(127, 0, 0, 3))).build().unwrap();
    let mut statuses = Vec::new();
    for i in 0..31 {
        let r = guesser
            .post(format!("{base}/api/v1/auth/login"))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .json(&json!({"email": format!("guess{i}@example.com"), "password": "wrong"}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses[0], 401);
    assert_eq!(statuses[30], 429, "{statuses:?}");
    n.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    drop(n);
    app.running.unwrap().stop().await.unwrap();
}

/// Two nodes on one PostgreSQL database and one Redis, sharing the data directory (uploads),
/// behind nginx: both serve, and when one stops everything still works through the balancer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_behind_nginx_survives_a_node_stopping() {
    let Some(bin) = nginx_binary() else { return };
    let Some(admin_url) = pg::admin_url() else {
        eprintln!("skipped: set PARLEY_TEST_POSTGRES_URL to run the cluster recipe test");
        return;
    };
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    std::env::set_var("PARLEY_ADMIN_EMAIL", ADMIN_EMAIL);
    std::env::set_var("PARLEY_ADMIN_PASSWORD", ADMIN_PASSWORD);
    let db = pg::TestDatabase::create(&admin_url)
        .await
        .expect("PostgreSQL must be reachable for these tests");
    let shared = tempfile::tempdir().unwrap();
    let https = free_port();
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let mut s =
            parley_server::Settings::for_tests(shared.path().to_owned(), Some(db.url.clone()));
        s.redis_url = Some(redis.url());
        s.trust_forwarded_for = true;
        s.public_url = Some(format!("https://{SITE}:{https}"));
        nodes.push(Some(parley_server::start(s).await.expect("node starts")));
    }
    let addr = |i: usize| nodes[i].as_ref().unwrap().addr;
    let n = Nginx::start(
        &bin,
        "deploy/nginx/parley-cluster.conf",
        https,
        &[("10.0.0.11:8080", addr(0)), ("10.0.0.12:8080", addr(1))],
    );

    // No stickiness: both nodes answer.
    for _ in 0..4 {
        assert_eq!(n.get("/healthz").await.status(), 200, "{}", n.logs());
    }
    let used = n.upstreams_used();
    for i in 0..2 {
        assert!(
            used.contains(&addr(i).to_string()),
            "node {i} unused:\n{used}"
        );
    }

    let admin = n.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let channel: Value = admin
        .post("/api/v1/channels", json!({"name": "Shop"}))
        .await
        .json()
        .await
        .unwrap();
    let mut agent = n.agent_ws(&admin).await;
    let token = visitor_session(&n, &channel, Ipv4Addr::LOCALHOST, "192.0.2.1").await;
    let mut visitor = n.visitor_ws(&token).await;
    let (conv, seq) = chat(&mut agent, &mut visitor, None, 1).await;
    let r = upload(&n, &token, "notes.txt", "订单号 42".as_bytes().to_vec()).await;
    assert_eq!(r.status(), 201);
    let file_url = r.json::<Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();

    // Node 0 stops (an upgrade, a reboot). Its sockets close; nginx's next tries go to node 1.
    nodes[0].take().unwrap().stop().await.unwrap();
    drop((agent, visitor));
    for _ in 0..6 {
        assert_eq!(n.get("/healthz").await.status(), 200, "{}", n.logs());
    }
    // The session, a write, and a file stored before, wherever it was uploaded.
    assert_eq!(admin.get("/api/v1/auth/me").await.status(), 200);
    let r = admin
        .post("/api/v1/channels", json!({"name": "Shop 2"}))
        .await;
    assert_eq!(r.status(), 201);
    let r = n.get(&file_url).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "订单号 42");

    // Both sides reconnect through nginx (to node 1) and resume where they were.
    let mut agent = n.agent_ws(&admin).await;
    let mut visitor = n.visitor_ws(&token).await;
    visitor
        .send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": seq}))
        .await;
    visitor.recv_type("subscribed").await;
    let ack = agent.send_message("a-2", Some(&conv), "还在").await;
    let events = events_until(&mut visitor, ack["seq"].as_i64().unwrap()).await;
    assert_eq!(events.first().unwrap()["seq"].as_i64(), Some(seq + 1));
    assert_eq!(events.last().unwrap()["body"], "还在");

    drop(n);
    nodes[1].take().unwrap().stop().await.unwrap();
    redis.stop();
    db.drop_db().await;
}

/// Every `parley` flag and `PARLEY_*` variable the recipe names exists in this binary.
#[test]
fn the_recipe_names_only_real_flags_and_variables() {
    const BIN: &str = env!("CARGO_BIN_EXE_parley");
    let commands: [&[&str]; 5] = [
        &["serve"],
        &["backup"],
        &["restore"],
        &["admin", "create-user"],
        &["admin", "reset-password"],
    ];
    let mut known = String::new();
    for args in commands {
        let out = Command::new(BIN).args(args).arg("--help").output().unwrap();
        assert!(out.status.success(), "parley {args:?} --help");
        known.push_str(&String::from_utf8(out.stdout).unwrap());
    }
    // Read by the server itself at the first start, not a flag.
    known.push_str(&repo_file("crates/parley-server/src/lib.rs"));
    for file in [
        "docs/deploy.md",
        "deploy/parley.env",
        "deploy/parley.service",
        "deploy/nginx/parley.conf",
        "deploy/nginx/parley-cluster.conf",
    ] {
        let text = repo_file(file);
        for flag in parley_flags(&text) {
            assert!(
                known.contains(&format!("{flag} ")) || known.contains(&format!("{flag}\n")),
                "{file} mentions `{flag}`, which parley does not have"
            );
        }
        for var in text.split("PARLEY_").skip(1) {
            let name: String = var
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            let name = format!("PARLEY_{}", name.trim_end_matches('_'));
            assert!(
                ["=", "]", "\""]
                    .iter()
                    .any(|end| known.contains(&format!("{name}{end}"))),
                "{file} mentions {name}, which parley does not read"
            );
        }
    }
}

/// The `--flags` after `parley <command>` on each line (up to a closing quote or backtick).
fn parley_flags(text: &str) -> Vec<String> {
    let mut flags = Vec::new();
    for line in text.lines() {
        let mut rest = line;
        while let Some(i) = rest.find("parley ") {
            let word_before = rest[..i]
                .chars()
                .last()
                .is_some_and(|c| c.is_alphanumeric() || "/-_.".contains(c));
            rest = &rest[i + "parley ".len()..];
            let command = ["serve", "backup", "restore", "admin"]
                .iter()
                .any(|c| rest.starts_with(c));
            if word_before || !command {
                continue;
            }
            let invocation = rest.split(['`', '\'', ')']).next().unwrap_or_default();
            flags.extend(
                invocation
                    .split_whitespace()
                    .filter(|w| w.starts_with("--") && w.len() > 2)
                    .map(|w| w.split('=').next().unwrap().to_owned()),
            );
        }
    }
    flags
}

/// The unit passes `systemd-analyze verify` (where systemd-analyze is installed): no unknown
/// keys, no bad values. A throw-away root holds the unit, a stand-in binary and the host's units.
#[test]
fn the_systemd_unit_verifies() {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let Some(analyze) = std::env::split_paths(&path)
        .map(|d| d.join("systemd-analyze"))
        .find(|p| p.is_file())
    else {
        eprintln!("skipped: systemd-analyze is not installed");
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    std::fs::create_dir_all(r.join("usr/local/bin")).unwrap();
    std::fs::create_dir_all(r.join("etc/systemd/system")).unwrap();
    std::fs::create_dir_all(r.join("usr/lib/systemd")).unwrap();
    let stub = r.join("usr/local/bin/parley");
    std::fs::write(&stub, "#!/bin/sh\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("/lib/systemd/system", r.join("usr/lib/systemd/system")).unwrap();
    let unit = r.join("etc/systemd/system/parley.service");
    std::fs::write(&unit, repo_file("deploy/parley.service")).unwrap();
    let out = Command::new(analyze)
        .arg("verify")
        .arg(format!("--root={}", r.display()))
        .arg(&unit)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && said.trim().is_empty(),
        "systemd-analyze verify: {said}"
    );
}
