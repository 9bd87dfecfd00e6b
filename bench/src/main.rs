//! parley-bench: a load generator that drives Parley's real protocol (REST setup, agent and
//! widget WebSockets) and, in the same run, a bare WebSocket relay as the baseline.
//!
//! `parley-bench run …` measures a running server; `parley-bench relay` is the baseline relay
//! (started by `run` itself); `bench/run.sh` does everything end to end. `parley-bench routing`
//! is a separate, in-process benchmark of routing decisions over SQLite and PostgreSQL;
//! `parley-bench append` one of the SQLite store's message path.
//! `fanout`, `startup` and `cluster` measure one event to every visitor of a workspace, an idle
//! server's start-up and memory, and a node kill in a cluster (see docs/benchmarks.md).

mod append;
mod baseline;
mod clients;
mod cluster;
mod fanout;
mod latest;
mod net;
mod report;
mod routing;
mod scenario;
mod setup;
mod startup;
mod stats;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use scenario::{Plan, Target};
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "parley-bench",
    about = "Load generator for Parley's chat protocol"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Benchmark a running Parley server, then the baseline relay.
    Run(RunArgs),
    /// The baseline relay (normally started by `run`).
    Relay {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
        /// Set TCP_NODELAY on accepted sockets (as Parley does).
        #[arg(long)]
        nodelay: bool,
        /// Per-socket read buffer in KiB (Parley uses 4; tungstenite's default is 128).
        #[arg(long, default_value_t = 4)]
        read_buffer_kib: usize,
    },
    /// Print a free TCP port on 127.0.0.1.
    FreePort,
    /// Routing decisions per second and fairness: a simulated contact centre driven through the
    /// real service over SQLite and PostgreSQL, with the pure policy function as the baseline.
    Routing(routing::RoutingArgs),
    /// The SQLite store's message path alone, in-process: messages stored per second and the
    /// group commit's CPU per message, for comparing builds.
    Append(append::AppendArgs),
    /// One event to every visitor socket of a workspace: the only agent comes online and goes
    /// offline, and every visitor gets a `presence` frame (then the same against the relay).
    Fanout(fanout::FanoutArgs),
    /// Start-up time and idle memory of `parley serve` on SQLite, empty and with 1M messages.
    Startup(startup::StartupArgs),
    /// Several nodes on PostgreSQL + Redis: chat, SIGKILL one node, clients reconnect elsewhere.
    Cluster(cluster::ClusterArgs),
    /// Create or drop a throw-away PostgreSQL database (for bench/run.sh).
    PgDb {
        #[command(subcommand)]
        action: PgDbAction,
    },
    /// Rewrite the generated block of docs/benchmarks.md from the JSON results of a run.
    Latest(latest::LatestArgs),
    /// Time 4 KiB write + fdatasync in a directory (a lower bound for one durable commit).
    FsyncProbe {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 300)]
        count: usize,
    },
}

#[derive(Subcommand)]
enum PgDbAction {
    /// Creates `parley_bench_<random>` and prints its URL.
    Create {
        /// A URL of the PostgreSQL server (any existing database) with the right to create one.
        #[arg(long)]
        admin_url: String,
    },
    /// Drops a database made by `create` (closing its connections).
    Drop {
        #[arg(long)]
        admin_url: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Args)]
struct RunArgs {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The server's process id (for RSS and CPU).
    #[arg(long)]
    server_pid: u32,
    #[arg(long, env = "PARLEY_ADMIN_EMAIL")]
    admin_email: String,
    #[arg(long, env = "PARLEY_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: String,
    /// Visitor sockets held open (all idle except the chatters).
    #[arg(long, default_value_t = 2000)]
    visitors: usize,
    /// Agent sockets.
    #[arg(long, default_value_t = 10)]
    agents: usize,
    /// Visitors that chat (one conversation each) during the chat runs.
    #[arg(long, default_value_t = 200)]
    chatters: usize,
    /// Total visitor message rates (msg/s), one chat run each, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "500")]
    rates: Vec<f64>,
    /// Seconds of sending per chat run.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Agents reply to every n-th message (0: never).
    #[arg(long, default_value_t = 5)]
    reply_every: u64,
    /// Size of a message body in bytes.
    #[arg(long, default_value_t = 100)]
    body_bytes: usize,
    /// Loopback source addresses to spread client sockets over (127.0.0.2 …).
    #[arg(long, default_value_t = 16)]
    source_ips: usize,
    /// Stop raising the rate after the first run that is not sustained.
    #[arg(long)]
    stop_at_knee: bool,
    /// Skip the baseline relay.
    #[arg(long)]
    no_baseline: bool,
    /// Experiment: leave Nagle's algorithm on in the relay (by default the relay sets TCP_NODELAY,
    /// as Parley does, so that its latency is the machine's, not delayed-ACK timers').
    #[arg(long)]
    relay_nagle: bool,
    /// Experiment: the relay's per-socket read buffer in KiB (default as Parley's: 4).
    #[arg(long, default_value_t = 4)]
    relay_read_buffer_kib: usize,
    /// Pause before memory readings and between runs, in ms.
    #[arg(long, default_value_t = 2000)]
    settle_ms: u64,
    /// Write the full results as JSON here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// CI mode: fail (exit 1) on any error, loss, duplicate or undrained run.
    #[arg(long)]
    smoke: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Relay {
            listen,
            nodelay,
            read_buffer_kib,
        } => baseline::serve(&listen, nodelay, read_buffer_kib).await,
        Command::FreePort => {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            println!("{}", l.local_addr()?.port());
            Ok(())
        }
        Command::FsyncProbe { dir, count } => {
            let l = stats::fsync_probe(&dir, count)?;
            println!(
                "fdatasync of a 4 KiB append in {}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} ({:.0} per second at p50)",
                dir.display(), l.p50_ms, l.p99_ms, l.max_ms, l.count, 1000.0 / l.p50_ms.max(0.001)
            );
            Ok(())
        }
        Command::Run(args) => {
            let ok = run(args).await?;
            std::process::exit(if ok { 0 } else { 1 })
        }
        Command::Routing(args) => {
            let ok = routing::main(args).await?;
            std::process::exit(if ok { 0 } else { 1 })
        }
        Command::Append(args) => {
            let ok = append::main(args).await?;
            std::process::exit(if ok { 0 } else { 1 })
        }
        Command::Fanout(args) => {
            let ok = fanout::main(args).await?;
            std::process::exit(if ok { 0 } else { 1 })
        }
        Command::Startup(args) => {
            let ok = startup::main(args).await?;
            std::process::exit(if ok { 0 } else { 1 })
        }
        Command::Cluster(args) => {
            let ok = cluster::main(args).await?;
            std::process::exit(if ok { 0 } else { 1 })
        }
        Command::PgDb { action } => pg_db(action).await,
        Command::Latest(args) => latest::main(args),
    }
}

/// `pg-db create|drop`: the cluster scenario's own database, created and dropped by run.sh.
async fn pg_db(action: PgDbAction) -> Result<()> {
    use sqlx::{Connection, Executor, PgConnection};
    match action {
        PgDbAction::Create { admin_url } => {
            let name = format!(
                "parley_bench_{}",
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            );
            let mut conn = PgConnection::connect(&admin_url)
                .await
                .with_context(|| "connecting to PostgreSQL".to_string())?;
            conn.execute(format!("CREATE DATABASE {name}").as_str())
                .await?;
            let base = admin_url
                .split('?')
                .next()
                .unwrap_or(&admin_url)
                .rsplit_once('/')
                .map(|(b, _)| b)
                .unwrap_or(&admin_url);
            println!("{name} {base}/{name}");
            Ok(())
        }
        PgDbAction::Drop { admin_url, name } => {
            if !name.starts_with("parley_bench_")
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                bail!("refusing to drop {name:?}: not a database made by pg-db create");
            }
            let mut conn = PgConnection::connect(&admin_url).await?;
            conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await?;
            Ok(())
        }
    }
}

async fn run(a: RunArgs) -> Result<bool> {
    let plan = Plan {
        visitors: a.visitors,
        agents: a.agents.max(1),
        chatters: a.chatters.clamp(1, a.visitors.max(1)),
        rates: a.rates.clone(),
        duration_s: a.duration,
        reply_every: a.reply_every,
        body_bytes: a.body_bytes,
        source_ips: a.source_ips,
        stop_at_knee: a.stop_at_knee,
        settle_ms: a.settle_ms,
    };
    if plan.visitors == 0 || plan.rates.is_empty() {
        bail!("need at least one visitor and one rate");
    }
    let nofile = net::raise_nofile();
    let needed = (plan.visitors + plan.agents + 100) as u64;
    if needed > nofile {
        bail!("{} sockets need about {needed} file descriptors but this process may open {nofile} (RLIMIT_NOFILE hard limit); lower --visitors", plan.visitors + plan.agents);
    }
    let base = a.url.trim_end_matches('/').to_owned();
    let addr: SocketAddr = tokio::net::lookup_host(base.trim_start_matches("http://"))
        .await?
        .next()
        .context("server address")?;

    // Parley: REST setup, then the phases.
    eprintln!(
        "[parley] setup: admin login, channel, {} agents, {} visitor sessions",
        plan.agents, plan.visitors
    );
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let admin = setup::Session::login(&base, &a.admin_email, &a.admin_password).await?;
    let widget_key = setup::create_channel(&admin, &format!("Bench {tag}")).await?;
    let agent_tokens = setup::create_agents(&admin, &base, plan.agents, &tag).await?;
    let visitor_tokens = setup::visitor_sessions(&base, &widget_key, plan.visitors).await?;
    let parley = scenario::run_target(
        Target {
            name: "parley",
            dialer: net::Dialer::new(addr, plan.source_ips),
            pid: a.server_pid,
            agent_tokens,
            visitor_tokens,
        },
        &plan,
    )
    .await?;

    // The baseline relay, as a child process, with the same plan.
    let baseline = if a.no_baseline {
        None
    } else {
        let (mut child, relay_addr) = spawn_relay(!a.relay_nagle, a.relay_read_buffer_kib)?;
        let pid = child.id();
        let r = scenario::run_target(
            Target {
                name: "baseline",
                dialer: net::Dialer::new(relay_addr, plan.source_ips),
                pid,
                agent_tokens: (0..plan.agents).map(|i| format!("agent-{i}")).collect(),
                visitor_tokens: (0..plan.visitors).map(|i| format!("bv-{i}")).collect(),
            },
            &plan,
        )
        .await;
        let _ = child.kill();
        let _ = child.wait();
        Some(r?)
    };

    let report = report::Report::new(plan, nofile, parley, baseline);
    report.print();
    crate::report::write_json(&report, a.out.as_deref())?;
    let passed = report::all_passed(&report.failures());
    // Outside smoke mode the checks are reported, not enforced (overload runs may not drain).
    Ok(!a.smoke || passed)
}

/// Starts `parley-bench relay` and reads the address it listens on.
pub(crate) fn spawn_relay(
    nodelay: bool,
    read_buffer_kib: usize,
) -> Result<(std::process::Child, SocketAddr)> {
    let mut cmd = std::process::Command::new(std::env::current_exe()?);
    cmd.args(["relay", "--listen", "127.0.0.1:0", "--read-buffer-kib"])
        .arg(read_buffer_kib.to_string());
    if nodelay {
        cmd.arg("--nodelay");
    }
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("starting the baseline relay")?;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().context("relay stdout")?).read_line(&mut line)?;
    let addr = line
        .trim()
        .strip_prefix("listening ")
        .context("relay did not say where it listens")?
        .parse()?;
    Ok((child, addr))
}
