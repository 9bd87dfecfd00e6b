//! Integration tests: the real server on a free port, driven over HTTP and WebSocket, on SQLite
//! and (when configured, always on CI) PostgreSQL.

mod helpers;

mod auth;
mod backup;
mod bad_input;
mod binary;
mod chat;
mod cluster;
mod entry_points;
mod hours;
mod kb;
mod routing;
mod system;
mod teamwork;
