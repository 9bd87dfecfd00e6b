//! Parley's domain: identifiers, parse-validated values and the records the rest of the system
//! passes around. Nothing here performs I/O, so everything can be unit-tested in isolation.

mod autoreply;
mod bot;
pub mod calendar;
mod entry;
pub mod flow;
mod hours;
mod ids;
mod kb;
mod model;
mod origin;
mod quick_replies;
mod reason;
pub mod routing;
pub mod template;
mod uploads;
mod useragent;
mod values;

pub use autoreply::*;
pub use bot::*;
pub use calendar::{BusinessCalendar, CalendarInput, SpecialDay, WorkspaceHours};
pub use entry::*;
pub use hours::{HoursInput, MinuteRange, WeekDays, WeeklyHours};
pub use ids::*;
pub use kb::*;
pub use model::*;
pub use origin::{normalize_origin, OriginList};
pub use quick_replies::*;
pub use reason::{Reason, Reasons};
pub use uploads::{clean_filename, detect_upload_type};
pub use useragent::describe_user_agent;
pub use values::*;

/// A value failed validation; the message is safe to show to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(msg: impl Into<String>) -> Self {
        Invalid(msg.into())
    }
}

/// Milliseconds since the Unix epoch; the one time representation stored in both databases,
/// so ordering and cursors behave identically on SQLite and PostgreSQL.
pub type Millis = i64;

pub fn now_millis() -> Millis {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as Millis
}

/// RFC 3339 rendering used by every API shape.
pub fn rfc3339(ms: Millis) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
