//! Prometheus metrics, one registry per server instance (so tests can run several servers in
//! one process).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<StatusLabels, Counter>,
    pub ws_connections: Family<KindLabels, Gauge>,
    pub ws_frames_in: Family<KindLabels, Counter>,
    pub messages_stored: Family<KindLabels, Counter>,
    pub messages_duplicate: Counter,
}

impl Metrics {
    pub fn new(backend: &'static str) -> Self {
        let mut registry = Registry::with_prefix("parley");
        let m = Metrics {
            http_requests: Family::default(),
            ws_connections: Family::default(),
            ws_frames_in: Family::default(),
            messages_stored: Family::default(),
            messages_duplicate: Counter::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests answered, by status class",
            m.http_requests.clone(),
        );
        registry.register(
            "ws_connections",
            "Open WebSocket connections, by kind",
            m.ws_connections.clone(),
        );
        registry.register(
            "ws_frames_received",
            "WebSocket frames received, by kind",
            m.ws_frames_in.clone(),
        );
        registry.register(
            "messages_stored",
            "Messages stored, by sender kind",
            m.messages_stored.clone(),
        );
        registry.register(
            "messages_duplicate",
            "Message re-sends answered from the store",
            m.messages_duplicate.clone(),
        );
        let info: Family<KindLabels, Gauge> = Family::default();
        info.get_or_create(&KindLabels { kind: backend }).set(1);
        registry.register("store_backend", "The database backend in use", info);
        Metrics { registry, ..m }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String");
        out
    }
}
