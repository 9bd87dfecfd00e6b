//! `parley-bench append`: the store's message path alone, in-process — no sockets, no
//! service, no generator sharing the cores through the kernel's network stack. Visitors'
//! messages go straight to `Store::append_message` over a SQLite store in a temporary
//! directory (and, with `--backends sqlite,postgres`, a fresh PostgreSQL database), from
//! a fixed number of concurrent senders spread over many conversations, as fast as the store
//! takes them (closed loop). It reports messages stored per second and the CPU the store's
//! threads spent per message, the writer's above all: the numbers that changes to the group
//! commit move, measured without the noise of the whole chat scenario. The store is compiled
//! in, so builds are compared by keeping each build's `parley-bench` and running them back to
//! back, in both orders.

use crate::stats::{thread_cpu_pct, Proc};
use anyhow::{Context, Result};
use parley_core::ports::{MessageEffects, Store, Target};
use parley_domain::*;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

#[derive(clap::Args)]
pub struct AppendArgs {
    /// Conversations the messages are spread over (one visitor each).
    #[arg(long, default_value_t = 200)]
    conversations: usize,
    /// Concurrent senders, one run each: few make small batches (the commit's fixed cost
    /// shows), many make full ones (the cost per message shows).
    #[arg(long, value_delimiter = ',', default_value = "4,32,400")]
    senders: Vec<usize>,
    /// Messages per run.
    #[arg(long, default_value_t = 40_000)]
    messages: usize,
    /// Stores to run, in order: sqlite, postgres.
    #[arg(long, value_delimiter = ',', default_value = "sqlite")]
    backends: Vec<String>,
    #[command(flatten)]
    postgres: crate::routing::pg::AdminUrl,
    /// Write the results as JSON here.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Serialize)]
struct RunReport {
    backend: String,
    senders: usize,
    messages: usize,
    seconds: f64,
    messages_per_s: f64,
    /// CPU of the whole process (senders included) per message.
    process_us_per_message: f64,
    /// CPU of the group commit's thread per message (SQLite).
    writer_us_per_message: f64,
    /// CPU of the local PostgreSQL server's processes per message (PostgreSQL).
    database_us_per_message: f64,
    /// Busiest threads, % of one core.
    threads: Vec<(String, f64)>,
}

pub async fn main(args: AppendArgs) -> Result<bool> {
    let mut reports = Vec::new();
    for backend in &args.backends {
        match backend.as_str() {
            "sqlite" => {
                let dir = tempfile::tempdir()?;
                let url = format!("sqlite://{}", dir.path().join("parley.db").display());
                let store = parley_store_sqlite::SqliteStore::connect(&url)
                    .await
                    .context("opening the SQLite store")?;
                let store = Arc::new(store);
                reports.extend(runs(&args, "sqlite", store.clone()).await?);
                store.close().await;
            }
            "postgres" => {
                let db = crate::routing::pg::Database::create(&args.postgres.postgres_url).await?;
                let result = async {
                    let store = parley_store_postgres::PostgresStore::connect(&db.url).await?;
                    let store = Arc::new(store);
                    let r = runs(&args, "postgres", store.clone()).await;
                    store.close().await;
                    r
                }
                .await;
                db.drop_db().await;
                reports.extend(result?);
            }
            other => anyhow::bail!("unknown backend {other}: sqlite or postgres"),
        }
    }
    if let Some(out) = args.out {
        std::fs::write(out, serde_json::to_string_pretty(&reports)?)?;
    }
    Ok(true)
}

async fn runs(args: &AppendArgs, backend: &str, store: Arc<dyn Store>) -> Result<Vec<RunReport>> {
    let (ws, targets) = setup(&store, args.conversations).await?;
    let mut reports = Vec::new();
    let mut next_client_id = 0usize;
    for &senders in &args.senders {
        let mut r = run(
            &store,
            ws,
            &targets,
            senders,
            args.messages,
            &mut next_client_id,
        )
        .await?;
        r.backend = backend.to_owned();
        let own = match backend {
            "postgres" => format!("database {:>5.1}", r.database_us_per_message),
            _ => format!("writer {:>5.1}", r.writer_us_per_message),
        };
        println!(
            "[append {backend}] {:>4} senders: {:>7.0} messages/s, {own} µs/message, process {:>5.1} µs/message ({})",
            r.senders,
            r.messages_per_s,
            r.process_us_per_message,
            r.threads
                .iter()
                .take(4)
                .map(|(t, p)| format!("{t} {p:.0} %"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        reports.push(r);
    }
    Ok(reports)
}

/// A workspace with one channel and a conversation per visitor, each started by a message (the
/// conformance suite's fixtures).
async fn setup(store: &Arc<dyn Store>, n: usize) -> Result<(WorkspaceId, Vec<(Visitor, Target)>)> {
    let f = parley_conformance::fixture(store, "bench").await;
    let mut targets = Vec::with_capacity(n);
    for i in 0..n {
        let v =
            parley_conformance::new_visitor(store, &f.channel, &format!("bench-token-{i}")).await;
        let first = store
            .append_message(
                f.ws.id,
                Target::VisitorCurrent {
                    channel_id: f.channel.id,
                    visitor_id: v.id,
                    group_id: None,
                },
                &message(&v, &format!("start-{i}")),
                &MessageEffects::default(),
                now_millis(),
            )
            .await?;
        let target = Target::VisitorConversation {
            id: first.conversation.id,
            visitor_id: v.id,
        };
        targets.push((v, target));
    }
    Ok((f.ws.id, targets))
}

/// About the size of a chat line (the chat scenario sends 100 bytes).
fn message(v: &Visitor, client_id: &str) -> NewEvent {
    parley_conformance::visitor_msg(v, client_id, &format!("{client_id}: {}", "x".repeat(90)))
}

async fn run(
    store: &Arc<dyn Store>,
    ws: WorkspaceId,
    targets: &[(Visitor, Target)],
    senders: usize,
    messages: usize,
    next_client_id: &mut usize,
) -> Result<RunReport> {
    let first_id = *next_client_id;
    *next_client_id += messages;
    let next = Arc::new(AtomicUsize::new(0));
    let targets: Arc<Vec<(Visitor, Target)>> = Arc::new(targets.to_vec());
    let me = Proc::me();
    let db0 = crate::routing::pg::server_cpu_seconds();
    let (cpu0, threads0, t0) = (me.cpu_seconds(), me.thread_cpu(), Instant::now());
    let mut tasks = Vec::new();
    for _ in 0..senders {
        let (store, next, targets) = (store.clone(), next.clone(), targets.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= messages {
                    return Ok::<_, anyhow::Error>(());
                }
                // Round robin over the conversations: with fewer senders than conversations,
                // a conversation seldom has two messages in flight, as in a chat.
                let (visitor, target) = &targets[i % targets.len()];
                let msg = message(visitor, &format!("m{}", first_id + i));
                let appended = store
                    .append_message(ws, *target, &msg, &MessageEffects::default(), now_millis())
                    .await?;
                anyhow::ensure!(!appended.duplicate, "message {i} came back as a duplicate");
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let seconds = t0.elapsed().as_secs_f64();
    let threads = thread_cpu_pct(&threads0, &me.thread_cpu(), seconds);
    let writer_pct: f64 = threads
        .iter()
        .filter(|(t, _)| t.starts_with("parley-writer/"))
        .map(|(_, p)| p)
        .sum();
    let per_message = |cpu_s: f64| cpu_s / messages as f64 * 1e6;
    let database_s = crate::routing::pg::server_cpu_seconds() - db0;
    Ok(RunReport {
        backend: String::new(),
        senders,
        messages,
        seconds,
        messages_per_s: messages as f64 / seconds,
        process_us_per_message: per_message(me.cpu_seconds() - cpu0),
        writer_us_per_message: per_message(writer_pct / 100.0 * seconds),
        database_us_per_message: per_message(database_s),
        threads,
    })
}
