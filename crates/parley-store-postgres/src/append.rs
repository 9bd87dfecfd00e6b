//! Appending a message, two ways with the same result.
//!
//! - **Optimistic**, for the common message (the conversation exists, nothing precedes the
//!   message, it is no duplicate): one read, then one statement that updates the conversation
//!   only if its row version (`xmin`) is still the one read, inserts the event and records the
//!   agent's response time. Two round trips and no explicit transaction.
//! - **Locking**, for everything else: a message that starts a conversation, reopens or claims
//!   one (events precede it), a duplicate, or a conversation that changed between the read and
//!   the write. Seven round trips: BEGIN, the duplicate check, the visitor's lock, the
//!   conversation's lock, the insert, the update, COMMIT.
//!
//! Two messages to one conversation at once would make the optimistic path fail for one of
//! them, which then pays for both paths; messages to the same target therefore take turns
//! within a node (`Turns`). Across nodes, or against other writers of the conversation, the
//! row version decides.
//!
//! The database's CPU per round trip is what limits the message rate of a PostgreSQL
//! installation (docs/benchmarks.md, "append"), hence the first path.

use super::*;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::Row;

type PgQuery<'q> = Query<'q, Postgres, PgArguments>;

/// The conversation a message goes to (`$1`, in workspace `$2`), its row version, and whether
/// the sender (`$3` kind, `$4` id) already sent client id `$5`. By id, or a visitor's latest.
pub(crate) static READ_BY_ID: LazyLock<String> =
    LazyLock::new(|| read(&format!("id = $1 AND {IN_WORKSPACE_2}")));
static READ_CURRENT: LazyLock<String> = LazyLock::new(|| {
    read(&format!(
        "visitor_id = $1 AND {IN_WORKSPACE_2} ORDER BY created_at DESC, id DESC LIMIT 1"
    ))
});

fn read(filter: &str) -> String {
    format!(
        "SELECT xmin::text AS version, {CONVERSATION_COLS}, EXISTS (SELECT 1 FROM events \
         WHERE sender_kind = $3 AND sender_id = $4 AND client_id = $5) AS duplicate \
         FROM conversations WHERE {filter}"
    )
}

/// The conversation's state columns, `$1`..`$13` as `bind_state` binds them; `$7` is its id.
/// The preview is the last message among the new events (see `parley_store_rows::preview`).
const STATE_SET: &str = "status = $1, assignee_id = $2, last_seq = $3, updated_at = $4, \
     queued_at = $5, awaiting_reply_since = $6, bot_active = $8, bot_misses = $9, \
     last_message_body = CASE WHEN $12::text IS NULL THEN last_message_body \
         WHEN COALESCE($10::text, '') = '' AND jsonb_array_length($11::jsonb) > 0 \
             THEN '[' || ($11::jsonb -> 0 ->> 'filename') || ']' \
         ELSE left(COALESCE($10::text, ''), 200) END, \
     last_message_sender = COALESCE($12::text, last_message_sender), \
     last_message_at = COALESCE($13::bigint, last_message_at)";

fn bind_state<'q>(q: PgQuery<'q>, c: &Conversation, p: Preview<'q>) -> PgQuery<'q> {
    q.bind(c.status.as_str())
        .bind(c.assignee_id.map(|u| u.0))
        .bind(c.last_seq)
        .bind(c.updated_at)
        .bind(c.queued_at)
        .bind(c.awaiting_reply_since)
        .bind(c.id.0)
        .bind(c.bot_active as i64)
        .bind(c.bot_misses as i64)
        .bind(p.body)
        .bind(p.attachments)
        .bind(p.sender)
        .bind(p.at)
}

/// `EVENT_COLS` as placeholders from `$first` on, in the order `bind_event` binds them.
fn event_params(first: usize) -> String {
    (first..first + 20)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn bind_event<'q>(q: PgQuery<'q>, e: &Event) -> StoreResult<PgQuery<'q>> {
    let json = |r: serde_json::Result<String>| r.map_err(other);
    Ok(q.bind(e.id.0)
        .bind(e.workspace_id.0)
        .bind(e.conversation_id.0)
        .bind(e.seq)
        .bind(e.kind.as_str())
        .bind(e.sender.kind.as_str())
        .bind(e.sender.id)
        .bind(e.sender.name.clone())
        .bind(e.sender.avatar_url.clone())
        .bind(e.client_id.clone())
        .bind(e.body.clone())
        .bind(json(serde_json::to_string(&e.attachments))?)
        .bind(e.status.map(|s| s.as_str()))
        .bind(e.assignee.as_ref().map(|a| a.id.0))
        .bind(e.assignee.as_ref().map(|a| a.name.clone()))
        .bind(e.assignee.as_ref().and_then(|a| a.avatar_url.clone()))
        .bind(e.note.clone())
        .bind(e.created_at)
        .bind(if e.reason.is_empty() {
            None
        } else {
            Some(json(serde_json::to_string(&e.reason))?)
        })
        .bind(if e.buttons.is_empty() {
            None
        } else {
            Some(json(serde_json::to_string(&e.buttons))?)
        }))
}

/// An agent's response time as an exponentially weighted average, `$n` the new sample: recent
/// replies count most, one slow reply does not ruin an agent's score.
fn response_ms_set(n: usize) -> String {
    format!(
        "response_ms = CASE WHEN response_ms IS NULL THEN ${n} ELSE (response_ms * 4 + ${n}) / 5 END"
    )
}

/// The optimistic path's write: `$14` is the row version read, `$15`.. the event, then the
/// assignee and their response time (NULL when the message is not a first response). Counts
/// the conversations updated: 0 when the row changed since the read, and nothing was written.
static WRITE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH c AS (UPDATE conversations SET {STATE_SET} \
             WHERE id = $7 AND xmin = $14::text::xid RETURNING id), \
         e AS (INSERT INTO events ({EVENT_COLS}) SELECT {events} FROM c), \
         u AS (UPDATE users SET {response} \
             WHERE id = $35 AND $36::bigint IS NOT NULL AND EXISTS (SELECT 1 FROM c)) \
         SELECT count(*) FROM c",
        events = event_params(15),
        response = response_ms_set(36),
    )
});

/// The locking path's statements.
static INSERT_EVENT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO events ({EVENT_COLS}) VALUES ({})",
        event_params(1)
    )
});
static SAVE_STATE: LazyLock<String> =
    LazyLock::new(|| format!("UPDATE conversations SET {STATE_SET} WHERE id = $7"));
static RECORD_RESPONSE: LazyLock<String> =
    LazyLock::new(|| format!("UPDATE users SET {} WHERE id = $2", response_ms_set(1)));

fn conflict_or_other(e: sqlx::Error) -> StoreError {
    if unique_violation(&e) {
        StoreError::Conflict("message")
    } else {
        other(e)
    }
}

/// Striped locks, one turn at a time per stripe, keyed by the message's target.
pub(crate) struct Turns(Box<[tokio::sync::Mutex<()>]>);

impl Default for Turns {
    fn default() -> Self {
        Turns((0..256).map(|_| tokio::sync::Mutex::new(())).collect())
    }
}

impl Turns {
    async fn take(&self, target: Target) -> tokio::sync::MutexGuard<'_, ()> {
        let key = match target {
            Target::Conversation(id) | Target::VisitorConversation { id, .. } => id.0,
            Target::VisitorCurrent { visitor_id, .. } => visitor_id.0,
        };
        // The low bits of v4 and v7 ids are random.
        self.0[key.as_u128() as usize % self.0.len()].lock().await
    }
}

impl PostgresStore {
    pub(crate) async fn try_append_message(
        &self,
        ws: WorkspaceId,
        target: Target,
        msg: &NewEvent,
        effects: &MessageEffects,
        now: Millis,
    ) -> StoreResult<Appended> {
        let _turn = self.turns.take(target).await;
        match self
            .append_optimistically(ws, target, msg, effects, now)
            .await?
        {
            Some(done) => Ok(done),
            None => self.append_locking(ws, target, msg, effects, now).await,
        }
    }

    /// `None` when the message needs the locking path; nothing is written then.
    async fn append_optimistically(
        &self,
        ws: WorkspaceId,
        target: Target,
        msg: &NewEvent,
        effects: &MessageEffects,
        now: Millis,
    ) -> StoreResult<Option<Appended>> {
        let (sql, key) = match target {
            Target::Conversation(id) | Target::VisitorConversation { id, .. } => {
                (&READ_BY_ID, id.0)
            }
            Target::VisitorCurrent { visitor_id, .. } => (&READ_CURRENT, visitor_id.0),
        };
        let row = sqlx::query(sql)
            .bind(key)
            .bind(ws.0)
            .bind(msg.sender.kind.as_str())
            .bind(msg.sender.id)
            .bind(msg.client_id.as_ref().map(|c| c.as_str()))
            .fetch_optional(&self.pool)
            .await
            .map_err(other)?;
        let Some(row) = row else {
            return Ok(None);
        };
        if row.try_get::<bool, _>("duplicate").map_err(other)? {
            return Ok(None);
        }
        let version: String = row.try_get("version").map_err(other)?;
        let mut conv = conversation(&row).map_err(other)?;
        let wrong_visitor = matches!(target,
            Target::VisitorConversation { visitor_id, .. } if visitor_id != conv.visitor_id);
        if wrong_visitor
            || !effects.preceding(&conv, &msg.sender).is_empty()
            || effects.starts_bot(&conv, false)
        {
            return Ok(None);
        }
        let message = next_event(&conv, msg, now);
        let awaiting = conv.awaiting_reply_since;
        apply(&mut conv, &message);
        let response_ms = first_response_ms(awaiting, &conv, &message);
        let events = vec![message];
        let q = bind_state(sqlx::query(&WRITE), &conv, preview(&events)).bind(version);
        let written: i64 = bind_event(q, &events[0])?
            .bind(conv.assignee_id.map(|u| u.0))
            .bind(response_ms)
            .fetch_one(&self.pool)
            .await
            .map_err(conflict_or_other)?
            .try_get(0)
            .map_err(other)?;
        if written == 0 {
            return Ok(None);
        }
        let message = events[0].clone();
        Ok(Some(Appended {
            events,
            message,
            duplicate: false,
            conversation: conv,
            created_conversation: false,
        }))
    }

    async fn append_locking(
        &self,
        ws: WorkspaceId,
        target: Target,
        msg: &NewEvent,
        effects: &MessageEffects,
        now: Millis,
    ) -> StoreResult<Appended> {
        let mut tx = self.begin().await?;
        if let Some(existing) = event_by_client_id(&mut tx, ws, msg).await? {
            let conv = conversation_in(&mut tx, ws, existing.conversation_id)
                .await?
                .ok_or(StoreError::NotFound)?;
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
                conversation_in(&mut tx, ws, id)
                    .await?
                    .ok_or(StoreError::NotFound)?,
                false,
            ),
            Target::VisitorConversation { id, visitor_id } => (
                conversation_in(&mut tx, ws, id)
                    .await?
                    .filter(|c| c.visitor_id == visitor_id)
                    .ok_or(StoreError::NotFound)?,
                false,
            ),
            Target::VisitorCurrent {
                channel_id,
                visitor_id,
                group_id,
            } => {
                // Serialises a visitor's first messages (two tabs) so only one conversation starts.
                sqlx::query(
                    "SELECT id FROM visitors WHERE id = $1 AND workspace_id = $2 FOR NO KEY UPDATE",
                )
                .bind(visitor_id.0)
                .bind(ws.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(other)?
                .ok_or(StoreError::NotFound)?;
                let row = sqlx::query(&format!(
                    "SELECT {CONVERSATION_COLS} FROM conversations WHERE visitor_id = $1 AND {IN_WORKSPACE_2} ORDER BY created_at DESC, id DESC LIMIT 1 FOR NO KEY UPDATE"
                ))
                .bind(visitor_id.0)
                .bind(ws.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(other)?;
                match row {
                    Some(r) => (conversation(&r).map_err(other)?, false),
                    None => {
                        let c = new_conversation(ws, channel_id, visitor_id, group_id, now);
                        sqlx::query(&format!("INSERT INTO conversations ({CONVERSATION_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,0,0)"))
                            .bind(c.id.0)
                            .bind(ws.0)
                            .bind(channel_id.0)
                            .bind(visitor_id.0)
                            .bind(c.status.as_str())
                            .bind(None::<Uuid>)
                            .bind(group_id.map(|g| g.0))
                            .bind(0i64)
                            .bind(None::<i64>)
                            .bind(None::<i64>)
                            .bind(None::<String>)
                            .bind(0i64)
                            .bind(now)
                            .bind(now)
                            .execute(&mut *tx)
                            .await
                            .map_err(other)?;
                        (c, true)
                    }
                }
            }
        };
        let starts_bot = effects.starts_bot(&conv, created);
        let mut events = Vec::new();
        for e in effects.preceding(&conv, &msg.sender) {
            events.push(insert_event(&mut tx, &mut conv, &e, now).await?);
        }
        let message = insert_event(&mut tx, &mut conv, msg, now).await?;
        events.push(message.clone());
        if starts_bot {
            conv.bot_active = true;
            conv.bot_misses = 0;
        }
        save_conversation_state(&mut tx, &conv, &events).await?;
        tx.commit().await.map_err(other)?;
        Ok(Appended {
            events,
            message,
            duplicate: false,
            conversation: conv,
            created_conversation: created,
        })
    }
}

/// `e` as the next event of `conv`, written in `tx`, and applied to `conv`; the caller saves
/// `conv` with `save_conversation_state`.
pub(crate) async fn insert_event(
    tx: &mut Transaction<'_, Postgres>,
    conv: &mut Conversation,
    e: &NewEvent,
    now: Millis,
) -> StoreResult<Event> {
    let event = next_event(conv, e, now);
    bind_event(sqlx::query(&INSERT_EVENT), &event)?
        .execute(&mut **tx)
        .await
        .map_err(conflict_or_other)?;
    let awaiting = conv.awaiting_reply_since;
    apply(conv, &event);
    if let Some(ms) = first_response_ms(awaiting, conv, &event) {
        sqlx::query(&RECORD_RESPONSE)
            .bind(ms)
            .bind(conv.assignee_id.map(|u| u.0))
            .execute(&mut **tx)
            .await
            .map_err(other)?;
    }
    Ok(event)
}

/// The conversation's state after `new` events and, when they include a message, its
/// last-message preview. One UPDATE of the row per message: a trigger on `events` wrote the
/// preview as a second one until migration 0021.
pub(crate) async fn save_conversation_state(
    tx: &mut Transaction<'_, Postgres>,
    c: &Conversation,
    new: &[Event],
) -> StoreResult<()> {
    bind_state(sqlx::query(&SAVE_STATE), c, preview(new))
        .execute(&mut **tx)
        .await
        .map_err(other)?;
    Ok(())
}

async fn event_by_client_id(
    tx: &mut Transaction<'_, Postgres>,
    ws: WorkspaceId,
    msg: &NewEvent,
) -> StoreResult<Option<Event>> {
    let Some(cid) = &msg.client_id else {
        return Ok(None);
    };
    let row = sqlx::query(&format!(
        "SELECT {EVENT_COLS} FROM events WHERE sender_kind = $1 AND sender_id = $2 AND client_id = $3 AND workspace_id = $4"
    ))
    .bind(msg.sender.kind.as_str())
    .bind(msg.sender.id)
    .bind(cid.as_str())
    .bind(ws.0)
    .fetch_optional(&mut **tx)
    .await
    .map_err(other)?;
    row.as_ref().map(event).transpose().map_err(other)
}
