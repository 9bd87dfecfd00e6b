//! Integration tests: the real server on a free port, driven over HTTP and WebSocket, on SQLite
//! and (when configured, always on CI) PostgreSQL.

mod helpers;

mod auth;
mod auto_replies;
mod backup;
mod bad_input;
mod binary;
mod bot;
mod business_hours;
mod chat;
mod cluster;
mod deploy;
mod entry_points;
mod flows;
mod help_centre;
mod hours;
mod kb;
mod node_kill;
mod quick_replies;
mod routing;
mod system;
mod teamwork;
