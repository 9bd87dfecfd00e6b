//! Statements both message paths run: sqlx's (every write but messages) and the group commit's
//! synchronous one (`append_sync`). One text each, so the two cannot drift apart. Parameters
//! are numbered (`?N`), which SQLite binds by number under both drivers.

use parley_store_rows::{CONVERSATION_COLS, EVENT_COLS};
use std::sync::LazyLock;

pub(crate) static CONVERSATION_BY_ID: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {CONVERSATION_COLS} FROM conversations WHERE id = ?1 AND workspace_id = ?2")
});

pub(crate) static INSERT_EVENT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO events ({EVENT_COLS}) VALUES \
         (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20)"
    )
});

/// An exponentially weighted average of the assignee's first-reply time: recent replies count
/// most, one slow reply does not ruin an agent's score.
pub(crate) const RESPONSE_MS: &str =
    "UPDATE users SET response_ms = CASE WHEN response_ms IS NULL \
     THEN ?1 ELSE (response_ms * 4 + ?1) / 5 END WHERE id = ?2";

/// The conversation's state after new events and, when they include a message (`?12`, its
/// sender kind, is not NULL), its last-message preview: the body's first 200 characters, or the
/// first attachment's name for a message without text. One UPDATE of the row per message (a
/// trigger on `events` wrote the preview separately until migration 0021).
pub(crate) const SAVE_CONVERSATION_STATE: &str =
    "UPDATE conversations SET status = ?1, assignee_id = ?2, last_seq = ?3, updated_at = ?4, \
     queued_at = ?5, awaiting_reply_since = ?6, bot_active = ?8, bot_misses = ?9, \
     last_message_body = CASE WHEN ?12 IS NULL THEN last_message_body \
         WHEN COALESCE(?10, '') = '' AND json_array_length(?11) > 0 \
             THEN '[' || json_extract(?11, '$[0].filename') || ']' \
         ELSE substr(COALESCE(?10, ''), 1, 200) END, \
     last_message_sender = COALESCE(?12, last_message_sender), \
     last_message_at = COALESCE(?13, last_message_at) \
     WHERE id = ?7";

/// `SAVE_CONVERSATION_STATE` for when the assignee has not changed, as for most messages. A
/// statement that sets a column with a foreign key may have to undo itself after changing rows,
/// so SQLite copies every page it changes that the transaction had already changed (a statement
/// journal); without that column it cannot fail halfway and needs none (docs/benchmarks.md).
pub(crate) static SAVE_CONVERSATION_STATE_SAME_ASSIGNEE: LazyLock<String> =
    LazyLock::new(|| SAVE_CONVERSATION_STATE.replace("assignee_id = ?2, ", ""));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_update_for_an_unchanged_assignee_leaves_the_column_alone() {
        assert!(SAVE_CONVERSATION_STATE.contains("assignee_id = ?2, "));
        assert!(!SAVE_CONVERSATION_STATE_SAME_ASSIGNEE.contains("assignee_id"));
    }
}
