//! Start-up: how long `parley serve` takes from spawn until it answers its health check, and how
//! much memory (VmRSS) it holds when idle, with an empty SQLite database and with one holding a
//! million messages.
//!
//! The big database is built fast: the server is started once on an empty data directory (it
//! migrates the schema and creates the admin), one visitor starts one conversation over the real
//! protocol, the server is stopped, and the remaining rows are copied from those template rows
//! with `INSERT … SELECT` in one transaction (visitors, conversations with a consistent
//! `last_seq`, and their message events). Columns this code does not set are copied from the
//! template, so new columns added by later migrations keep their server-written values. After
//! each restart on that database the server must serve one of the generated conversations over
//! the REST API (the events, in order, with the generated bodies), so the data is real.

use crate::stats::Proc;
use anyhow::{bail, Context, Result};
use clap::Args;
use futures::{SinkExt, StreamExt};
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, Row, SqliteConnection};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

#[derive(Args)]
pub struct StartupArgs {
    /// The server binary to start.
    #[arg(long, env = "PARLEY_BIN")]
    parley_bin: PathBuf,
    #[arg(long, env = "PARLEY_ADMIN_EMAIL")]
    admin_email: String,
    #[arg(long, env = "PARLEY_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: String,
    /// Conversations in the big database.
    #[arg(long, default_value_t = 10_000)]
    conversations: usize,
    /// Messages per conversation (conversations × this = the big database's messages).
    #[arg(long, default_value_t = 100)]
    messages_per_conversation: usize,
    /// Restarts measured per database (the median and the worst are reported).
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// How long the server idles after it is ready before the idle RSS reading.
    #[arg(long, default_value_t = 2000)]
    idle_ms: u64,
    /// What "ready" means: the first 200 answer from this path.
    #[arg(long, default_value = "/healthz")]
    ready_path: String,
    /// Where to create the data directories (default: a temporary directory, removed afterwards).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Targets (reported, not enforced).
    #[arg(long, default_value_t = 30.0)]
    target_rss_mib: f64,
    #[arg(long, default_value_t = 200.0)]
    target_ready_ms: f64,
    /// Write the results as JSON here.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// One start of the server.
#[derive(Serialize, Clone, Debug)]
pub struct Start {
    /// From spawn until the first 200 from the ready path.
    pub ready_ms: f64,
    pub rss_ready_kib: u64,
    /// After `idle_ms` of idling with no connection.
    pub rss_idle_kib: u64,
    pub threads: usize,
}

#[derive(Serialize, Clone, Debug)]
pub struct Case {
    pub name: String,
    pub messages: u64,
    pub database_bytes: u64,
    /// The very first start on this data directory, where there is one.
    pub first_start: Option<Start>,
    pub restarts: Vec<Start>,
    pub ready_median_ms: f64,
    pub ready_max_ms: f64,
    pub rss_idle_median_kib: u64,
    pub rss_idle_max_kib: u64,
    /// The data check after a restart (big database only).
    pub verified: Option<String>,
}

#[derive(Serialize)]
pub struct StartupReport {
    pub kind: &'static str,
    pub unix_time: u64,
    pub machine: crate::report::Machine,
    pub ready_path: String,
    pub idle_ms: u64,
    pub empty: Case,
    pub big: Case,
    /// Seconds to build the big database (bulk insert and checkpoint).
    pub build_seconds: f64,
    pub target_rss_mib: f64,
    pub target_ready_ms: f64,
    pub rss_target_met: bool,
    pub ready_target_met: bool,
}

struct Server {
    child: Child,
    port: u16,
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

impl Server {
    /// Spawns `parley serve` on `dir` and waits until `ready_path` answers 200.
    async fn start(a: &StartupArgs, dir: &Path, http: &reqwest::Client) -> Result<(Server, f64)> {
        let port = free_port()?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("server.log"))?;
        let url = format!("http://127.0.0.1:{port}{}", a.ready_path);
        let t0 = Instant::now();
        let child = Command::new(&a.parley_bin)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(dir)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .env_remove("PARLEY_DATABASE_URL")
            .env_remove("PARLEY_REDIS_URL")
            .env_remove("PARLEY_LISTEN")
            .env_remove("PARLEY_DATA_DIR")
            .stdout(log.try_clone()?)
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", a.parley_bin.display()))?;
        let mut server = Server { child, port };
        loop {
            if let Ok(r) = http.get(&url).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "the server exited ({status}) before it was ready; see {}",
                    dir.join("server.log").display()
                );
            }
            if t0.elapsed() > Duration::from_secs(60) {
                server.stop();
                bail!("the server was not ready within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let ready_ms = t0.elapsed().as_secs_f64() * 1000.0;
        Ok((server, ready_ms))
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SIGTERM, then SIGKILL after 10 s.
    fn stop(&mut self) {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn threads_of(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Starts the server, reads its memory when ready and after idling, and (optionally) runs
/// `check` against it before stopping it.
async fn measure(
    a: &StartupArgs,
    dir: &Path,
    http: &reqwest::Client,
    check: Option<&dyn Fn(String) -> futures::future::BoxFuture<'static, Result<String>>>,
) -> Result<(Start, Option<String>)> {
    let (mut server, ready_ms) = Server::start(a, dir, http).await?;
    let proc = Proc::new(server.child.id());
    let rss_ready_kib = proc.rss_kib();
    tokio::time::sleep(Duration::from_millis(a.idle_ms)).await;
    let rss_idle_kib = proc.rss_kib();
    let threads = threads_of(server.child.id());
    let verified = match check {
        Some(f) => Some(f(server.base()).await),
        None => None,
    };
    server.stop();
    let start = Start {
        ready_ms,
        rss_ready_kib,
        rss_idle_kib,
        threads,
    };
    eprintln!(
        "[startup] {}: ready after {:.1} ms, RSS {} KiB when ready, {} KiB after {} ms idle, {} threads",
        dir.file_name().unwrap_or_default().to_string_lossy(),
        ready_ms,
        rss_ready_kib,
        rss_idle_kib,
        a.idle_ms,
        threads
    );
    Ok((start, verified.transpose()?))
}

fn median_f(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    if s.is_empty() {
        f64::NAN
    } else {
        s[(s.len() - 1) / 2]
    }
}

fn case(
    name: &str,
    messages: u64,
    db: &Path,
    first_start: Option<Start>,
    restarts: Vec<Start>,
    verified: Option<String>,
) -> Case {
    let ready: Vec<f64> = restarts.iter().map(|s| s.ready_ms).collect();
    let mut rss: Vec<u64> = restarts.iter().map(|s| s.rss_idle_kib).collect();
    rss.sort_unstable();
    Case {
        name: name.into(),
        messages,
        database_bytes: db_bytes(db),
        first_start,
        ready_median_ms: median_f(&ready),
        ready_max_ms: ready.iter().cloned().fold(f64::NAN, f64::max),
        rss_idle_median_kib: rss.get((rss.len().max(1) - 1) / 2).copied().unwrap_or(0),
        rss_idle_max_kib: rss.last().copied().unwrap_or(0),
        restarts,
        verified,
    }
}

/// The database file plus its WAL.
fn db_bytes(db: &Path) -> u64 {
    let size = |p: PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    size(db.to_path_buf()) + size(PathBuf::from(format!("{}-wal", db.display())))
}

pub async fn main(a: StartupArgs) -> Result<bool> {
    let tmp;
    let root = match &a.work_dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => {
            tmp = tempfile::Builder::new()
                .prefix("parley-startup.")
                .tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(2))
        .build()?;

    // Empty database: the first start creates it; then restarts.
    let empty_dir = root.join("empty");
    std::fs::create_dir_all(&empty_dir)?;
    let (first, _) = measure(&a, &empty_dir, &http, None).await?;
    let mut restarts = Vec::new();
    for _ in 0..a.repeats.max(1) {
        restarts.push(measure(&a, &empty_dir, &http, None).await?.0);
    }
    let empty = case(
        "empty",
        0,
        &empty_dir.join("parley.db"),
        Some(first),
        restarts,
        None,
    );

    // The big database.
    let big_dir = root.join("big");
    std::fs::create_dir_all(&big_dir)?;
    let (mut server, _) = Server::start(&a, &big_dir, &http).await?;
    let template = template_conversation(&server.base(), &a).await;
    server.stop();
    let template = template?;
    let db = big_dir.join("parley.db");
    let built = Instant::now();
    let (sample, messages) =
        bulk_load(&db, template, a.conversations, a.messages_per_conversation).await?;
    let build_seconds = built.elapsed().as_secs_f64();
    eprintln!(
        "[startup] big database: {messages} messages in {} conversations, built in {build_seconds:.1} s, {} MiB",
        a.conversations + 1,
        db_bytes(&db) / (1024 * 1024)
    );
    let per = a.messages_per_conversation;
    let (email, password) = (a.admin_email.clone(), a.admin_password.clone());
    let check = move |base: String| -> futures::future::BoxFuture<'static, Result<String>> {
        let (email, password) = (email.clone(), password.clone());
        Box::pin(async move { verify(&base, &email, &password, sample, per).await })
    };
    let mut restarts = Vec::new();
    let mut verified = None;
    for i in 0..a.repeats.max(1) {
        // Check the data on the first restart (after the measurement, so it does not count).
        let (s, v) = measure(&a, &big_dir, &http, (i == 0).then_some(&check as _)).await?;
        if v.is_some() {
            verified = v;
        }
        restarts.push(s);
    }
    let big = case(
        &format!("{messages} messages"),
        messages,
        &db,
        None,
        restarts,
        verified,
    );

    let rss_target_met =
        (empty.rss_idle_max_kib.max(big.rss_idle_max_kib) as f64) / 1024.0 <= a.target_rss_mib;
    let ready_target_met = big.ready_median_ms <= a.target_ready_ms;
    let report = StartupReport {
        kind: "startup",
        unix_time: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        machine: crate::report::Machine::probe(crate::net::raise_nofile()),
        ready_path: a.ready_path.clone(),
        idle_ms: a.idle_ms,
        empty,
        big,
        build_seconds,
        target_rss_mib: a.target_rss_mib,
        target_ready_ms: a.target_ready_ms,
        rss_target_met,
        ready_target_met,
    };
    print(&report);
    crate::report::write_json(&report, a.out.as_deref())?;
    Ok(report.big.verified.is_some())
}

fn print(r: &StartupReport) {
    println!();
    println!(
        "start-up of an idle server on SQLite (ready = first 200 from {}; idle RSS after {} ms)",
        r.ready_path, r.idle_ms
    );
    println!("  database          messages   size MiB  start        ready ms  RSS ready KiB  RSS idle KiB  threads");
    for c in [&r.empty, &r.big] {
        let mib = c.database_bytes as f64 / 1048576.0;
        if let Some(s) = &c.first_start {
            println!(
                "  {:<16} {:>9} {:>10.1}  first      {:>10.1} {:>14} {:>13} {:>8}",
                c.name, c.messages, mib, s.ready_ms, s.rss_ready_kib, s.rss_idle_kib, s.threads
            );
        }
        for (i, s) in c.restarts.iter().enumerate() {
            println!(
                "  {:<16} {:>9} {:>10.1}  restart {:<2} {:>10.1} {:>14} {:>13} {:>8}",
                c.name,
                c.messages,
                mib,
                i + 1,
                s.ready_ms,
                s.rss_ready_kib,
                s.rss_idle_kib,
                s.threads
            );
        }
        println!(
            "  {:<16} restarts: ready median {:.1} ms, max {:.1} ms; idle RSS median {:.1} MiB, max {:.1} MiB",
            c.name,
            c.ready_median_ms,
            c.ready_max_ms,
            c.rss_idle_median_kib as f64 / 1024.0,
            c.rss_idle_max_kib as f64 / 1024.0
        );
    }
    if let Some(v) = &r.big.verified {
        println!("  data check after restart: {v}");
    }
    println!("  big database built in {:.1} s", r.build_seconds);
    println!(
        "targets: idle RSS ≤ {} MiB: {}; ready ≤ {} ms with {} messages: {} (median {:.1} ms)",
        r.target_rss_mib,
        if r.rss_target_met { "met" } else { "NOT met" },
        r.target_ready_ms,
        r.big.messages,
        if r.ready_target_met { "met" } else { "NOT met" },
        r.big.ready_median_ms
    );
}

/// One visitor starts one conversation over the real protocol; returns its id.
async fn template_conversation(base: &str, a: &StartupArgs) -> Result<uuid::Uuid> {
    let admin = crate::setup::Session::login(base, &a.admin_email, &a.admin_password).await?;
    let key = crate::setup::create_channel(&admin, "Start-up bench").await?;
    let token = crate::setup::visitor_sessions(base, &key, 1)
        .await?
        .remove(0);
    let addr = tokio::net::lookup_host(base.trim_start_matches("http://"))
        .await?
        .next()
        .context("server address")?;
    let mut ws = crate::net::Dialer::new(addr, 1)
        .connect("/ws/widget", Some(crate::setup::ORIGIN))
        .await?;
    crate::clients::hello(&mut ws, Some(&token)).await?;
    ws.send(crate::clients::text(
        json!({"type": "send", "client_id": "template-1", "body": "template message"}),
    ))
    .await?;
    let conv = loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .context("no ack within 10 s")?
            .context("socket closed")??;
        if let Message::Text(t) = m {
            let v: Value = serde_json::from_str(&t)?;
            if v["type"] == "ack" {
                break v["conversation_id"]
                    .as_str()
                    .context("ack without conversation_id")?
                    .parse::<uuid::Uuid>()?;
            }
            if v["type"] == "error" {
                bail!("template message refused: {t}");
            }
        }
    };
    let _ = ws.send(Message::Close(None)).await;
    Ok(conv)
}

/// The columns of a table, in order.
async fn columns(conn: &mut SqliteConnection, table: &str) -> Result<Vec<String>> {
    let rows = sqlx::query(&format!("PRAGMA table_info({table})"))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| r.try_get::<String, _>("name").map_err(Into::into))
        .collect()
}

/// `INSERT INTO table (all columns) SELECT <override or t.column> … FROM <from>`.
async fn copy_rows(
    conn: &mut SqliteConnection,
    table: &str,
    overrides: &[(&str, String)],
    from: &str,
) -> Result<u64> {
    let cols = columns(conn, table).await?;
    for (c, _) in overrides {
        if !cols.iter().any(|x| x == c) {
            bail!("{table} has no column {c}: the schema changed, update bench/src/startup.rs");
        }
    }
    let select: Vec<String> = cols
        .iter()
        .map(|c| {
            overrides
                .iter()
                .find(|(o, _)| o == c)
                .map(|(_, e)| e.clone())
                .unwrap_or_else(|| format!("t.{c}"))
        })
        .collect();
    let sql = format!(
        "INSERT INTO {table} ({}) SELECT {} FROM {from}",
        cols.join(", "),
        select.join(", ")
    );
    Ok(sqlx::query(&sql)
        .execute(&mut *conn)
        .await
        .with_context(|| format!("bulk insert into {table}"))?
        .rows_affected())
}

/// Copies the template conversation into `n` conversations of `per` visitor messages each, every
/// one with its own visitor. Returns one generated conversation's id and the database's message
/// count.
async fn bulk_load(
    db: &Path,
    template: uuid::Uuid,
    n: usize,
    per: usize,
) -> Result<(uuid::Uuid, u64)> {
    let opts = SqliteConnectOptions::new().filename(db).foreign_keys(true);
    let mut conn = SqliteConnection::connect_with(&opts).await?;
    // A one-off fixture: no journal and no fsync while loading, WAL again afterwards (as the
    // server leaves it).
    for p in [
        "PRAGMA journal_mode = DELETE",
        "PRAGMA synchronous = OFF",
        "PRAGMA cache_size = -262144",
        "PRAGMA temp_store = MEMORY",
    ] {
        sqlx::query(p).execute(&mut conn).await?;
    }
    let t: &[u8] = template.as_bytes();
    let row = sqlx::query("SELECT visitor_id, created_at FROM conversations WHERE id = ?1")
        .bind(t)
        .fetch_one(&mut conn)
        .await
        .context("template conversation")?;
    let visitor: Vec<u8> = row.try_get("visitor_id")?;
    let created: i64 = row.try_get("created_at")?;
    let seq: i64 = sqlx::query_scalar(
        "SELECT seq FROM events WHERE conversation_id = ?1 AND kind = 'message' AND sender_kind = 'visitor' ORDER BY seq LIMIT 1",
    )
    .bind(t)
    .fetch_one(&mut conn)
    .await
    .context("template message")?;

    // Each conversation spans `per` seconds, 200 s apart, ending before the template's.
    let span = 200_000i64;
    let base = created - span * (n as i64 + 1);
    let at = |seq: &str| format!("({base} + b.i * {span} + {seq} * 1000)");
    let body = |seq: &str| {
        format!("printf('bench message %d/%d: a visitor asks about their order, delivery and the refund policy', b.i, {seq})")
    };
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let (tv, tc) = (hex(&visitor), hex(t));

    let mut tx = conn.begin().await?;
    sqlx::query(&format!(
        "CREATE TEMP TABLE bench_ids AS WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {}) \
         SELECT i, randomblob(16) AS vid, randomblob(16) AS cid FROM n",
        n as i64 - 1
    ))
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "CREATE TEMP TABLE bench_seq AS WITH RECURSIVE s(seq) AS (SELECT 1 UNION ALL SELECT seq + 1 FROM s WHERE seq < {per}) SELECT seq FROM s"
    ))
    .execute(&mut *tx)
    .await?;
    let visitors = copy_rows(
        &mut tx,
        "visitors",
        &[
            ("id", "b.vid".into()),
            ("token_hash", "'bench-' || lower(hex(b.vid))".into()),
            ("first_seen_at", at("0")),
            ("last_seen_at", at(&per.to_string())),
        ],
        &format!("visitors t, bench_ids b WHERE t.id = x'{tv}'"),
    )
    .await?;
    let open = "b.i % 10 = 0";
    let conversations = copy_rows(
        &mut tx,
        "conversations",
        &[
            ("id", "b.cid".into()),
            ("visitor_id", "b.vid".into()),
            (
                "status",
                format!("CASE WHEN {open} THEN 'open' ELSE 'resolved' END"),
            ),
            ("last_seq", per.to_string()),
            ("last_message_body", body(&per.to_string())),
            ("last_message_sender", "'visitor'".into()),
            ("last_message_at", at(&per.to_string())),
            ("created_at", at("1")),
            ("updated_at", at(&per.to_string())),
            (
                "awaiting_reply_since",
                format!(
                    "CASE WHEN {open} THEN {} ELSE NULL END",
                    at(&per.to_string())
                ),
            ),
        ],
        &format!("conversations t, bench_ids b WHERE t.id = x'{tc}'"),
    )
    .await?;
    let events = copy_rows(
        &mut tx,
        "events",
        &[
            ("conversation_id", "b.cid".into()),
            ("seq", "s.seq".into()),
            ("id", "randomblob(16)".into()),
            ("sender_id", "b.vid".into()),
            ("client_id", "'bulk-' || s.seq".into()),
            ("body", body("s.seq")),
            ("created_at", at("s.seq")),
        ],
        &format!(
            "events t, bench_ids b, bench_seq s WHERE t.conversation_id = x'{tc}' AND t.seq = {seq} ORDER BY b.i, s.seq"
        ),
    )
    .await?;
    if visitors != n as u64 || conversations != n as u64 || events != (n * per) as u64 {
        bail!(
            "bulk insert wrote {visitors} visitors, {conversations} conversations, {events} events"
        );
    }
    let sample: Vec<u8> = sqlx::query_scalar("SELECT cid FROM bench_ids WHERE i = ?1")
        .bind((n / 2) as i64)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query("DROP TABLE bench_ids")
        .execute(&mut *tx)
        .await?;
    sqlx::query("DROP TABLE bench_seq")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE kind = 'message'")
        .fetch_one(&mut conn)
        .await?;
    sqlx::query("PRAGMA journal_mode = WAL")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok((uuid::Uuid::from_slice(&sample)?, total as u64))
}

/// The server serves a generated conversation: its events in order, with the generated bodies.
async fn verify(
    base: &str,
    email: &str,
    password: &str,
    conv: uuid::Uuid,
    per: usize,
) -> Result<String> {
    let admin = crate::setup::Session::login(base, email, password).await?;
    let c = admin.get(&format!("/api/v1/conversations/{conv}")).await?;
    let last_seq = c["conversation"]["last_seq"].as_i64().unwrap_or(-1);
    if last_seq != per as i64 {
        bail!("conversation {conv}: last_seq {last_seq}, expected {per}");
    }
    let mut seen = 0usize;
    let mut after = 0i64;
    loop {
        let page = admin
            .get(&format!(
                "/api/v1/conversations/{conv}/events?after_seq={after}&limit=200"
            ))
            .await?;
        let items = page["items"].as_array().context("events without items")?;
        if items.is_empty() {
            break;
        }
        for e in items {
            let seq = e["seq"].as_i64().unwrap_or(-1);
            let body = e["body"].as_str().unwrap_or("");
            if seq != after + 1
                || !body.starts_with("bench message ")
                || !body.contains(&format!("/{seq}:"))
            {
                bail!(
                    "conversation {conv}: event after seq {after} is seq {seq} with body {body:?}"
                );
            }
            after = seq;
            seen += 1;
        }
    }
    if seen != per {
        bail!("conversation {conv}: {seen} events served, expected {per}");
    }
    let list = admin
        .get("/api/v1/conversations?view=all&status=resolved&limit=50")
        .await?;
    let listed = list["items"].as_array().map(|v| v.len()).unwrap_or(0);
    if listed == 0 {
        bail!("the conversation list is empty");
    }
    Ok(format!(
        "GET /api/v1/conversations/{conv}/events served all {seen} events in order (last_seq {last_seq}); the resolved list has {listed}+ items"
    ))
}
