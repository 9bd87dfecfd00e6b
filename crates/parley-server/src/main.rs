use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use parley_core::service::NewUser;
use parley_domain::{Role, WorkspaceId};
use parley_server::settings::{FileSettings, Settings};
use std::path::PathBuf;

/// Parley: self-hosted customer service. One binary: web widget, agent workspace, API.
#[derive(Parser)]
#[command(name = "parley", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Operator tasks on the database.
    Admin {
        #[command(flatten)]
        common: CommonArgs,
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Online backup while the server runs: SQLite database snapshot, uploads and a manifest
    /// into a new directory. For PostgreSQL use pg_dump, then `backup --uploads-only`.
    Backup {
        #[command(flatten)]
        common: CommonArgs,
        /// The directory to write; must not exist or be empty.
        #[arg(long)]
        out: PathBuf,
        /// Copy only the uploads directory (after pg_dump, for PostgreSQL installations).
        #[arg(long)]
        uploads_only: bool,
    },
    /// Restore a backup made by `parley backup` into an empty data directory (server stopped).
    Restore {
        #[command(flatten)]
        common: CommonArgs,
        /// The backup directory (with manifest.json).
        #[arg(long)]
        from: PathBuf,
        /// Restore only the uploads (PostgreSQL installations, next to pg_restore).
        #[arg(long)]
        uploads_only: bool,
    },
    /// Measure the FAQ bot on a question set.
    Eval {
        #[command(subcommand)]
        command: EvalCommand,
    },
}

#[derive(Subcommand)]
enum EvalCommand {
    /// Asks every question of FILE and reports top-1 accuracy and wrong answers on questions the
    /// bot should not answer; exits 1 if the quality bar (top-1 >= 85 %, wrong <= 10 %) is
    /// missed. The last line of the report is one JSON object.
    Faq {
        /// Articles, one JSON object per line (id, locale, title, keywords, body, same_topic).
        #[arg(long)]
        kb: PathBuf,
        /// Questions, one JSON object per line: {"q": …, "expected": "<article id>" | null}.
        #[arg(long)]
        questions: PathBuf,
        /// Confidence threshold [default: the bot's shipped default].
        #[arg(long)]
        threshold: Option<f32>,
    },
}

#[derive(Args, Clone)]
struct CommonArgs {
    /// Optional TOML config file.
    #[arg(long, env = "PARLEY_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Directory for the SQLite database and uploads [default: ./parley-data]
    #[arg(long, env = "PARLEY_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://… [default: sqlite in the data directory]
    #[arg(long, env = "PARLEY_DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Log format: text or json.
    #[arg(long, env = "PARLEY_LOG_FORMAT", global = true)]
    log_format: Option<String>,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "PARLEY_LISTEN")]
    listen: Option<String>,
    /// redis://HOST:PORT to run several nodes on one PostgreSQL database (cross-node fan-out).
    #[arg(long, env = "PARLEY_REDIS_URL")]
    redis_url: Option<String>,
    /// The URL people reach this server at, e.g. https://chat.example.com (used in snippets).
    #[arg(long, env = "PARLEY_PUBLIC_URL")]
    public_url: Option<String>,
    /// Largest upload in bytes [default: 10 MiB]
    #[arg(long, env = "PARLEY_MAX_UPLOAD_BYTES")]
    max_upload_bytes: Option<usize>,
    /// Take client IPs from X-Forwarded-For (only behind a trusted reverse proxy).
    #[arg(long, env = "PARLEY_TRUST_FORWARDED_FOR")]
    trust_forwarded_for: Option<bool>,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Add a person to a workspace (the first one unless --workspace is given).
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, supervisor or agent
        #[arg(long, default_value = "agent")]
        role: String,
        /// Prefer the environment variable, so the password stays out of shell history.
        #[arg(long, env = "PARLEY_NEW_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long)]
        workspace: Option<String>,
    },
    /// Set a new password; signs the person out everywhere.
    ResetPassword {
        #[arg(long)]
        email: String,
        #[arg(long, env = "PARLEY_NEW_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

fn settings(common: &CommonArgs, file: &FileSettings) -> Settings {
    let mut s = Settings::default();
    if let Some(d) = common.data_dir.clone().or_else(|| file.data_dir.clone()) {
        s.data_dir = d;
    }
    s.database_url = common
        .database_url
        .clone()
        .or_else(|| file.database_url.clone());
    if let Some(h) = file.session_ttl_hours {
        s.session_ttl = std::time::Duration::from_secs(h * 3600);
    }
    s
}

fn init_logs(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    if format == "json" {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Eval { command } = &cli.command {
        return eval(command).await;
    }
    let common = match &cli.command {
        Command::Serve(a) => a.common.clone(),
        Command::Admin { common, .. } => common.clone(),
        Command::Backup { common, .. } | Command::Restore { common, .. } => common.clone(),
        Command::Eval { .. } => unreachable!("handled above"),
    };
    let file = match &common.config {
        Some(p) => FileSettings::load(p)?,
        None => FileSettings::default(),
    };
    let log_format = common
        .log_format
        .clone()
        .or_else(|| file.log_format.clone())
        .unwrap_or_else(|| "text".into());
    if log_format != "text" && log_format != "json" {
        anyhow::bail!("--log-format must be text or json");
    }
    init_logs(&log_format);
    let mut s = settings(&common, &file);
    match cli.command {
        Command::Serve(a) => {
            if let Some(l) = a.listen.or(file.listen) {
                s.listen = l;
            }
            s.public_url = a.public_url.or(file.public_url);
            s.redis_url = a.redis_url.or(file.redis_url).filter(|u| !u.is_empty());
            if let Some(m) = a.max_upload_bytes.or(file.max_upload_bytes) {
                s.max_upload_bytes = m;
            }
            s.trust_forwarded_for = a
                .trust_forwarded_for
                .or(file.trust_forwarded_for)
                .unwrap_or(false);
            serve(s).await
        }
        Command::Admin { command, .. } => admin(s, command).await,
        Command::Backup {
            out, uploads_only, ..
        } => {
            let m = parley_server::backup::backup(&s, &out, uploads_only).await?;
            println!("backup written to {}", out.display());
            print_manifest(&m);
            Ok(())
        }
        Command::Restore {
            from, uploads_only, ..
        } => {
            let m = parley_server::backup::restore(&s, &from, uploads_only).await?;
            println!(
                "restored the backup of {} (Parley {}) into {}",
                m.created_at,
                m.parley_version,
                s.data_dir.display()
            );
            print_manifest(&m);
            Ok(())
        }
        Command::Eval { .. } => unreachable!("handled above"),
    }
}

fn print_manifest(m: &parley_server::backup::Manifest) {
    if let Some(d) = &m.database {
        let counts: Vec<String> = d.counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!(
            "  database: {} bytes, sha256 {}, schema {}; {}",
            d.bytes,
            d.sha256,
            d.schema_version,
            counts.join(", ")
        );
    }
    println!(
        "  uploads: {} files, {} bytes",
        m.uploads.files, m.uploads.bytes
    );
}

async fn eval(command: &EvalCommand) -> anyhow::Result<()> {
    let EvalCommand::Faq {
        kb,
        questions,
        threshold,
    } = command;
    let run = parley_server::eval_faq::run(kb, questions, *threshold).await?;
    println!(
        "{} articles loaded into a temporary workspace and published; every question asked the bot.",
        run.articles
    );
    println!("{}", run.report.to_text());
    if !run.report.meets(0.85, 0.10) {
        eprintln!(
            "quality bar missed at threshold {}: top-1 must be >= 0.85, wrong on unanswerable <= 0.10",
            run.report.threshold
        );
        std::process::exit(1);
    }
    Ok(())
}

async fn serve(s: Settings) -> anyhow::Result<()> {
    let running = parley_server::start(s).await?;
    let token = running.shutdown_token();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down: closing sockets and the database");
        token.cancel();
    });
    running.wait().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

async fn admin(s: Settings, cmd: AdminCommand) -> anyhow::Result<()> {
    let (parley, close) = parley_server::build(&s).await?;
    let result = match cmd {
        AdminCommand::CreateUser {
            email,
            name,
            role,
            password,
            workspace,
        } => {
            let role = Role::parse(&role).context("role must be admin, supervisor or agent")?;
            let ws = workspace
                .map(|w| WorkspaceId::parse(&w).context("workspace must be a UUID"))
                .transpose()?;
            parley
                .operator_create_user(
                    ws,
                    NewUser {
                        email,
                        name,
                        role,
                        password,
                    },
                )
                .await
                .map(|u| {
                    println!(
                        "created {} ({}) in workspace {}",
                        u.email,
                        u.role.as_str(),
                        u.workspace_id
                    )
                })
        }
        AdminCommand::ResetPassword { email, password } => parley
            .operator_reset_password(&email, &password)
            .await
            .map(|_| println!("password changed for {email}; all their sessions were signed out")),
    };
    close().await;
    result.map_err(|e| anyhow::anyhow!("{e}"))
}
