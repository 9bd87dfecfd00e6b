//! Opening client WebSockets from many loopback source addresses, and the file-descriptor limit.
//!
//! One (source IP, destination IP:port) pair has only ~28,000 ephemeral ports on Linux, so the
//! dialer binds each socket to one of 127.0.0.2, 127.0.0.3 … in turn before connecting (the whole
//! 127.0.0.0/8 block routes to `lo` without configuration).

use anyhow::{Context, Result};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::WebSocketStream;

pub type Ws = WebSocketStream<TcpStream>;

pub struct Dialer {
    target: SocketAddr,
    sources: Vec<Ipv4Addr>,
    next: AtomicUsize,
}

impl Dialer {
    /// Dials `target` from `n_sources` loopback addresses, starting at 127.0.0.2.
    pub fn new(target: SocketAddr, n_sources: usize) -> Self {
        let sources = (0..n_sources.clamp(1, 250))
            .map(|i| Ipv4Addr::new(127, 0, 0, 2 + i as u8))
            .collect();
        Dialer {
            target,
            sources,
            next: AtomicUsize::new(0),
        }
    }

    /// A WebSocket to `path` (with query), with an `Origin` header when given.
    pub async fn connect(&self, path: &str, origin: Option<&str>) -> Result<Ws> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.sources.len();
        let socket = TcpSocket::new_v4()?;
        socket
            .bind(SocketAddr::new(IpAddr::V4(self.sources[i]), 0))
            .with_context(|| format!("binding source address {}", self.sources[i]))?;
        let stream = socket
            .connect(self.target)
            .await
            .with_context(|| format!("connecting to {}", self.target))?;
        stream.set_nodelay(true)?;
        let mut req = format!("ws://{}{}", self.target, path).into_client_request()?;
        if let Some(o) = origin {
            req.headers_mut().insert("origin", o.parse()?);
        }
        // The generator holds thousands of sockets: keep its own read buffers small (the
        // library default is 128 KiB each). This does not change what the server allocates.
        let config = WebSocketConfig::default().read_buffer_size(16 * 1024);
        let (ws, _) = tokio_tungstenite::client_async_with_config(req, stream, Some(config))
            .await
            .context("WebSocket handshake")?;
        Ok(ws)
    }
}

/// Raises the soft RLIMIT_NOFILE to the hard limit and returns the new soft limit.
pub fn raise_nofile() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(_) => rlimit::getrlimit(rlimit::Resource::NOFILE)
            .map(|(soft, _)| soft)
            .unwrap_or(1024),
    }
}
