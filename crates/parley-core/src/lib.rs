//! Parley's use-cases. Services here talk to the outside world only through the ports in
//! [`ports`] (the store, the bus, the file store), so the HTTP layer, the store backends and the
//! tests can all plug in behind them.

pub mod auth;
pub mod bus;
pub mod error;
pub mod files;
pub mod inbox_feed;
pub mod ports;
pub mod presence;
pub mod rate_limit;
pub mod routing;
pub mod secrets;
pub mod service;
pub mod service_autoreply;
pub mod service_bot;
pub mod service_cluster;
pub mod service_entry;
pub mod service_flow;
pub mod service_help;
pub mod service_hours;
pub mod service_kb;
pub mod service_quick_replies;
pub mod service_routing;
pub mod service_team;
pub mod settings_cache;

pub use error::{ServiceError, ServiceResult, StoreError, StoreResult};
pub use service::{Actor, Config, Parley};
