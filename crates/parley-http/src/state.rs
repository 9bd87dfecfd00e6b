use crate::metrics::Metrics;
use parley_core::Parley;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Settings of the HTTP layer itself.
#[derive(Clone)]
pub struct HttpConfig {
    /// Take the client IP from `x-forwarded-for` (only behind a trusted reverse proxy).
    pub trust_forwarded_for: bool,
    /// Sessions cookies get `Secure` when the public URL is https.
    pub secure_cookies: bool,
    pub heartbeat_interval: Duration,
    /// A socket silent for this long is closed with 4000.
    pub idle_timeout: Duration,
    pub hello_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            trust_forwarded_for: false,
            secure_cookies: false,
            heartbeat_interval: Duration::from_secs(25),
            idle_timeout: Duration::from_secs(60),
            hello_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub parley: Arc<Parley>,
    pub metrics: Arc<Metrics>,
    pub config: Arc<HttpConfig>,
    /// Cancelled on shutdown: sockets close with 1001.
    pub shutdown: CancellationToken,
    /// Every open WebSocket: on shutdown the server waits (briefly) for them to send their
    /// close frames, which the HTTP server's own graceful shutdown does not track.
    pub sockets: tokio_util::task::TaskTracker,
}
