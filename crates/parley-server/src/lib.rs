//! Wiring: settings → store → services → HTTP. `main.rs` parses the command line; tests call
//! [`start`] directly to run the real server on a free port.

pub mod backup;
pub mod eval_faq;
pub mod settings;

use anyhow::Context;
use parley_core::bus::LocalBus;
use parley_core::files::Files;
use parley_core::ports::Store;
use parley_core::{Config, Parley};
use parley_http::{metrics::Metrics, AppState, HttpConfig};
pub use settings::Settings;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub parley: Arc<Parley>,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    closer: Box<dyn FnOnce() -> futures_close::CloseFuture + Send>,
}

mod futures_close {
    pub type CloseFuture = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
}

impl Running {
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Graceful stop: no new connections, sockets closed with 1001, database closed.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.wait().await
    }

    /// Waits until the server stops (after its shutdown token is cancelled).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await.context("server task")??;
        (self.closer)().await;
        Ok(())
    }
}

pub async fn open_store(
    settings: &Settings,
) -> anyhow::Result<(
    Arc<dyn Store>,
    Box<dyn FnOnce() -> futures_close::CloseFuture + Send>,
)> {
    let url = settings.database_url();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let s = Arc::new(parley_store_postgres::PostgresStore::connect(&url).await?);
        let c = s.clone();
        Ok((
            s,
            Box::new(move || Box::pin(async move { c.close().await })),
        ))
    } else if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("creating {}", settings.data_dir.display()))?;
        let s = Arc::new(parley_store_sqlite::SqliteStore::connect(&url).await?);
        let c = s.clone();
        Ok((
            s,
            Box::new(move || Box::pin(async move { c.close().await })),
        ))
    } else {
        anyhow::bail!("database URL must start with sqlite:// or postgres://")
    }
}

pub async fn build(
    settings: &Settings,
) -> anyhow::Result<(
    Arc<Parley>,
    Box<dyn FnOnce() -> futures_close::CloseFuture + Send>,
)> {
    let (store, close_store) = open_store(settings).await?;
    let local = Arc::new(LocalBus::new(1024));
    let bus_stop = CancellationToken::new();
    let bus: Arc<dyn parley_core::bus::Bus> = match &settings.redis_url {
        Some(url) => {
            if !store.backend().starts_with("postgres") {
                tracing::warn!("--redis-url joins nodes that share one PostgreSQL database; with SQLite there is only one node");
            }
            let bus = parley_bus_redis::RedisBus::connect(url, local, bus_stop.clone())
                .await
                .context("connecting to Redis (--redis-url)")?;
            tracing::info!(node = %bus.node_id(), "cross-node bus on Redis");
            bus
        }
        None => local,
    };
    let closer: Box<dyn FnOnce() -> futures_close::CloseFuture + Send> = Box::new(move || {
        bus_stop.cancel();
        close_store()
    });
    let files = Files::new(settings.data_dir.join("uploads"));
    let config = Config {
        public_url: settings.public_url(),
        max_upload_bytes: settings.max_upload_bytes,
        session_ttl: settings.session_ttl,
    };
    Ok((Arc::new(Parley::new(store, bus, files, config)), closer))
}

/// Opens the database (migrating it), creates the first admin if there is nobody yet, binds
/// and serves in a background task.
pub async fn start(settings: Settings) -> anyhow::Result<Running> {
    let (parley, closer) = build(&settings).await?;
    let admin_password = std::env::var("PARLEY_ADMIN_PASSWORD")
        .ok()
        .filter(|s| !s.is_empty());
    let admin_email = std::env::var("PARLEY_ADMIN_EMAIL")
        .ok()
        .filter(|s| !s.is_empty());
    if let Some((email, generated)) = parley
        .bootstrap(admin_email.as_deref(), admin_password.as_deref())
        .await?
    {
        match generated {
            // Shown exactly once, on the very first start, so the operator can sign in.
            Some(pw) => {
                tracing::warn!(email = %email, password = %pw, "created the first admin with a generated password; sign in and change it")
            }
            None => tracing::info!(email = %email, "created the first admin"),
        }
    }
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("binding {}", settings.listen))?;
    let addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let state = AppState {
        metrics: Arc::new(Metrics::new(parley.store.backend())),
        parley: parley.clone(),
        config: Arc::new(HttpConfig {
            secure_cookies: settings.public_url().starts_with("https://"),
            trust_forwarded_for: settings.trust_forwarded_for,
            heartbeat_interval: settings.heartbeat_interval,
            idle_timeout: settings.idle_timeout,
            ..HttpConfig::default()
        }),
        shutdown: shutdown.clone(),
        sockets: Default::default(),
    };
    tracing::info!(%addr, backend = parley.store.backend(), "parley listening on http://{addr}");
    let jobs = parley.clone();
    let (every, grace, stop) = (
        settings.jobs_interval,
        settings.offline_grace,
        shutdown.clone(),
    );
    tokio::spawn(async move { jobs.run_jobs(every, grace, stop).await });
    let (announcer, stop) = (parley.clone(), shutdown.clone());
    tokio::spawn(async move { announcer.run_presence(stop).await });
    let task = tokio::spawn(parley_http::serve(listener, state));
    Ok(Running {
        addr,
        parley,
        shutdown,
        task,
        closer,
    })
}
