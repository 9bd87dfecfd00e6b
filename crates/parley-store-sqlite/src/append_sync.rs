//! `append_message`'s work as plain synchronous SQLite calls, run by the group commit on its
//! own connection (see `group_commit`), with the row decoders of `sync_sql`.

use crate::other;
use crate::sync_sql::one;
use parley_core::ports::*;
use parley_core::{StoreError, StoreResult};
use parley_domain::*;
use parley_store_rows::{conversation, event, CONVERSATION_COLS, EVENT_COLS};
use rusqlite::{params, Connection};
use std::sync::LazyLock;
use uuid::Uuid;

// The hot statements' texts, built once rather than formatted for every message.
static EVENT_BY_CLIENT_ID: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {EVENT_COLS} FROM events WHERE sender_kind = ?1 AND sender_id = ?2 AND client_id = ?3 AND workspace_id = ?4")
});
static LATEST_CONVERSATION: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {CONVERSATION_COLS} FROM conversations WHERE visitor_id = ?1 AND workspace_id = ?2 ORDER BY created_at DESC, id DESC LIMIT 1")
});

fn unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.code == rusqlite::ErrorCode::ConstraintViolation
            && matches!(f.extended_code, rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY))
}

pub(crate) fn append(
    db: &Connection,
    ws: WorkspaceId,
    target: Target,
    msg: &NewEvent,
    effects: &MessageEffects,
    now: Millis,
) -> StoreResult<Appended> {
    if let Some(existing) = event_by_client_id(db, ws, msg)? {
        let conv =
            conversation_in(db, ws, existing.conversation_id)?.ok_or(StoreError::NotFound)?;
        return Ok(Appended {
            events: vec![],
            message: existing,
            duplicate: true,
            conversation: conv,
            created_conversation: false,
        });
    }
    let (mut conv, created) = match target {
        Target::Conversation(id) => (
            conversation_in(db, ws, id)?.ok_or(StoreError::NotFound)?,
            false,
        ),
        Target::VisitorConversation { id, visitor_id } => (
            conversation_in(db, ws, id)?
                .filter(|c| c.visitor_id == visitor_id)
                .ok_or(StoreError::NotFound)?,
            false,
        ),
        Target::VisitorCurrent {
            channel_id,
            visitor_id,
            group_id,
        } => {
            let latest = one(db, &LATEST_CONVERSATION, params![visitor_id.0, ws.0], |r| {
                conversation(r)
            })?;
            match latest {
                Some(c) => (c, false),
                None => (
                    insert_conversation(db, ws, channel_id, visitor_id, group_id, now)?,
                    true,
                ),
            }
        }
    };
    let assignee_before = conv.assignee_id;
    let starts_bot = effects.starts_bot(&conv, created);
    let mut events = Vec::new();
    for e in effects.preceding(&conv, &msg.sender) {
        events.push(insert_event(db, &mut conv, &e, now)?);
    }
    let message = insert_event(db, &mut conv, msg, now)?;
    events.push(message.clone());
    if starts_bot {
        conv.bot_active = true;
        conv.bot_misses = 0;
    }
    let same_assignee = conv.assignee_id == assignee_before;
    save_conversation_state(db, &conv, &events, same_assignee)?;
    Ok(Appended {
        events,
        message,
        duplicate: false,
        conversation: conv,
        created_conversation: created,
    })
}

fn event_by_client_id(
    db: &Connection,
    ws: WorkspaceId,
    msg: &NewEvent,
) -> StoreResult<Option<Event>> {
    let Some(cid) = &msg.client_id else {
        return Ok(None);
    };
    one(
        db,
        &EVENT_BY_CLIENT_ID,
        params![msg.sender.kind.as_str(), msg.sender.id, cid.as_str(), ws.0],
        |r| event(r),
    )
}

fn conversation_in(
    db: &Connection,
    ws: WorkspaceId,
    id: ConversationId,
) -> StoreResult<Option<Conversation>> {
    one(
        db,
        &crate::sql::CONVERSATION_BY_ID,
        params![id.0, ws.0],
        |r| conversation(r),
    )
}

fn insert_conversation(
    db: &Connection,
    ws: WorkspaceId,
    channel_id: ChannelId,
    visitor_id: VisitorId,
    group_id: Option<GroupId>,
    now: Millis,
) -> StoreResult<Conversation> {
    let c = parley_core::ports::new_conversation(ws, channel_id, visitor_id, group_id, now);
    db.prepare_cached(&format!("INSERT INTO conversations ({CONVERSATION_COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,0,0)"))
        .and_then(|mut s| s.execute(params![
            c.id.0,
            ws.0,
            channel_id.0,
            visitor_id.0,
            c.status.as_str(),
            None::<Uuid>,
            group_id.map(|g| g.0),
            0i64,
            None::<i64>,
            None::<i64>,
            None::<String>,
            0i64,
            now,
            now,
        ]))
        .map_err(other)?;
    Ok(c)
}

fn insert_event(
    db: &Connection,
    conv: &mut Conversation,
    e: &NewEvent,
    now: Millis,
) -> StoreResult<Event> {
    let event = next_event(conv, e, now);
    let attachments = serde_json::to_string(&event.attachments).map_err(other)?;
    let reason = if event.reason.is_empty() {
        None
    } else {
        Some(serde_json::to_string(&event.reason).map_err(other)?)
    };
    let buttons = if event.buttons.is_empty() {
        None
    } else {
        Some(serde_json::to_string(&event.buttons).map_err(other)?)
    };
    db.prepare_cached(&crate::sql::INSERT_EVENT)
        .and_then(|mut s| {
            s.execute(params![
                event.id.0,
                event.workspace_id.0,
                event.conversation_id.0,
                event.seq,
                event.kind.as_str(),
                event.sender.kind.as_str(),
                event.sender.id,
                event.sender.name,
                event.sender.avatar_url,
                event.client_id,
                event.body,
                attachments,
                event.status.map(|s| s.as_str()),
                event.assignee.as_ref().map(|a| a.id.0),
                event.assignee.as_ref().map(|a| a.name.clone()),
                event.assignee.as_ref().and_then(|a| a.avatar_url.clone()),
                event.note,
                event.created_at,
                reason,
                buttons,
            ])
        })
        .map_err(|e| {
            if unique_violation(&e) {
                StoreError::Conflict("message")
            } else {
                other(e)
            }
        })?;
    let awaiting = conv.awaiting_reply_since;
    apply(conv, &event);
    if let Some(ms) = first_response_ms(awaiting, conv, &event) {
        db.prepare_cached(crate::sql::RESPONSE_MS)
            .and_then(|mut s| s.execute(params![ms, conv.assignee_id.map(|u| u.0)]))
            .map_err(other)?;
    }
    // The conversation's last-message preview: `save_conversation_state`.
    Ok(event)
}

fn save_conversation_state(
    db: &Connection,
    c: &Conversation,
    new: &[Event],
    same_assignee: bool,
) -> StoreResult<()> {
    let p = parley_store_rows::preview(new);
    let sql = match same_assignee {
        true => &crate::sql::SAVE_CONVERSATION_STATE_SAME_ASSIGNEE,
        false => crate::sql::SAVE_CONVERSATION_STATE,
    };
    db.prepare_cached(sql)
        .and_then(|mut s| {
            s.execute(params![
                c.status.as_str(),
                c.assignee_id.map(|u| u.0),
                c.last_seq,
                c.updated_at,
                c.queued_at,
                c.awaiting_reply_since,
                c.id.0,
                c.bot_active as i64,
                c.bot_misses as i64,
                p.body,
                p.attachments,
                p.sender,
                p.at,
            ])
        })
        .map_err(other)?;
    Ok(())
}
