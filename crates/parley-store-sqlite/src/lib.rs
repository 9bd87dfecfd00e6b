//! The embedded SQLite store. One writer connection serialises all writes (SQLite allows one
//! writer at a time anyway; queuing in the pool avoids SQLITE_BUSY), while a pool of read-only
//! connections serves reads in parallel thanks to WAL mode.

use anyhow::Context;
use async_trait::async_trait;
use parley_core::ports::*;
use parley_core::{StoreError, StoreResult};
use parley_domain::routing::RoutingRule;
use parley_domain::*;
use parley_store_rows::*;

mod append_sync;
mod auto_replies;
pub mod backup;
mod bot;
mod checkpointer;
mod flows;
mod group_commit;
mod hours;
mod inbox_reads;
mod kb;
mod quick_replies;
mod routing;
mod sql;
mod sync_sql;
mod wal_sync;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// Chat messages, committed in batches on the writer (see `group_commit`).
    commits: group_commit::GroupCommit,
    /// The inbox feed's reads, on a reader connection (see `inbox_reads`).
    inbox_reads: inbox_reads::InboxReads,
    /// Checkpoints the WAL off the writer's path (see `checkpointer`); `None` once closed.
    checkpointer: std::sync::Mutex<Option<checkpointer::Checkpointer>>,
}

fn other(e: impl Into<anyhow::Error>) -> StoreError {
    StoreError::Other(e.into())
}

fn unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at a `sqlite://path` URL and migrates it.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let opts = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("bad SQLite URL {url}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL in WAL mode is durable across application crashes; FULL adds an fsync per
            // commit so that acknowledged writes also survive power loss. (Chat messages go
            // through the group commit, which syncs the WAL on a thread of its own: `wal_sync`.)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer_opts = opts.clone().pragma(
            "wal_autocheckpoint",
            checkpointer::WRITER_AUTOCHECKPOINT_PAGES.to_string(),
        );
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            // A ping is a round trip to the connection's thread, and the group commit takes
            // this connection for every batch.
            .test_before_acquire(false)
            .connect_with(writer_opts)
            .await
            .with_context(|| format!("opening {url}"))?;
        sqlx::migrate!("./migrations")
            .run(&writer)
            .await
            .context("migrating SQLite")?;
        let file = opts.get_filename().to_owned();
        if file.as_os_str().is_empty() || file.to_string_lossy().contains(":memory:") {
            // The readers and the group commit open the file again.
            anyhow::bail!("SQLite needs a database file, not an in-memory database");
        }
        let commits = group_commit::GroupCommit::start(writer.clone(), &file)
            .context("starting the database writer")?;
        let checkpointer =
            checkpointer::Checkpointer::start(file).context("starting the checkpointer")?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            // A file's connection does not go stale, and a ping is a round trip to its thread.
            .test_before_acquire(false)
            .connect_with(opts.read_only(true))
            .await?;
        Ok(SqliteStore {
            checkpointer: std::sync::Mutex::new(Some(checkpointer)),
            commits,
            inbox_reads: inbox_reads::InboxReads::start(reader.clone())
                .context("starting the inbox reader")?,
            writer,
            reader,
        })
    }

    pub async fn open_file(path: &Path) -> anyhow::Result<Self> {
        Self::connect(&format!("sqlite://{}", path.display())).await
    }

    pub async fn close(&self) {
        let checkpointer = self.checkpointer.lock().ok().and_then(|mut c| c.take());
        // Their connections must be closed before this returns (see `Checkpointer`).
        self.commits.stop().await;
        if let Some(c) = checkpointer {
            // Joins a thread that may be in the middle of a checkpoint: not on the runtime.
            let _ = tokio::task::spawn_blocking(move || c.stop()).await;
        }
        self.writer.close().await;
        self.reader.close().await;
    }

    async fn begin(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.writer.begin().await.map_err(other)
    }
}

async fn conversation_in(
    tx: &mut Transaction<'_, Sqlite>,
    ws: WorkspaceId,
    id: ConversationId,
) -> StoreResult<Option<Conversation>> {
    let row = sqlx::query(&sql::CONVERSATION_BY_ID)
        .bind(id.0)
        .bind(ws.0)
        .fetch_optional(&mut **tx)
        .await
        .map_err(other)?;
    row.as_ref().map(conversation).transpose().map_err(other)
}

/// Replaces a channel's entry options, in the transaction that writes the channel.
async fn replace_entry_points(
    tx: &mut Transaction<'_, Sqlite>,
    ws: WorkspaceId,
    channel: ChannelId,
    options: &[(GroupId, String)],
) -> StoreResult<()> {
    sqlx::query("DELETE FROM channel_entry_points WHERE channel_id = $1 AND workspace_id = $2")
        .bind(channel.0)
        .bind(ws.0)
        .execute(&mut **tx)
        .await
        .map_err(other)?;
    for (i, (group, label)) in options.iter().enumerate() {
        sqlx::query(
            "INSERT INTO channel_entry_points (channel_id, group_id, workspace_id, position, label) \
             VALUES ($1,$2,$3,$4,$5)",
        )
        .bind(channel.0)
        .bind(group.0)
        .bind(ws.0)
        .bind(i as i64)
        .bind(label)
        .execute(&mut **tx)
        .await
        .map_err(other)?;
    }
    Ok(())
}

/// The entry options of one channel, or of every channel of the workspace, in order.
async fn entry_points<'e>(
    ex: impl sqlx::Executor<'e, Database = Sqlite>,
    ws: WorkspaceId,
    channel: Option<ChannelId>,
) -> StoreResult<Vec<(ChannelId, EntryPoint)>> {
    let rows = sqlx::query(&format!(
        "{ENTRY_POINT_SELECT} WHERE e.workspace_id = $1 AND ($2 IS NULL OR e.channel_id = $2) \
         ORDER BY e.channel_id, e.position"
    ))
    .bind(ws.0)
    .bind(channel.map(|c| c.0))
    .fetch_all(ex)
    .await
    .map_err(other)?;
    rows.iter()
        .map(entry_point)
        .collect::<Result<_, _>>()
        .map_err(other)
}

async fn insert_event(
    tx: &mut Transaction<'_, Sqlite>,
    conv: &mut Conversation,
    e: &NewEvent,
    now: Millis,
) -> StoreResult<Event> {
    let event = next_event(conv, e, now);
    sqlx::query(&sql::INSERT_EVENT)
        .bind(event.id.0)
        .bind(event.workspace_id.0)
        .bind(event.conversation_id.0)
        .bind(event.seq)
        .bind(event.kind.as_str())
        .bind(event.sender.kind.as_str())
        .bind(event.sender.id)
        .bind(&event.sender.name)
        .bind(&event.sender.avatar_url)
        .bind(&event.client_id)
        .bind(&event.body)
        .bind(serde_json::to_string(&event.attachments).map_err(other)?)
        .bind(event.status.map(|s| s.as_str()))
        .bind(event.assignee.as_ref().map(|a| a.id.0))
        .bind(event.assignee.as_ref().map(|a| a.name.clone()))
        .bind(event.assignee.as_ref().and_then(|a| a.avatar_url.clone()))
        .bind(&event.note)
        .bind(event.created_at)
        .bind(if event.reason.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&event.reason).map_err(other)?)
        })
        .bind(if event.buttons.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&event.buttons).map_err(other)?)
        })
        .execute(&mut **tx)
        .await
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
        sqlx::query(sql::RESPONSE_MS)
            .bind(ms)
            .bind(conv.assignee_id.map(|u| u.0))
            .execute(&mut **tx)
            .await
            .map_err(other)?;
    }
    // The conversation's last-message preview: `save_conversation_state`.
    Ok(event)
}

async fn save_conversation_state(
    tx: &mut Transaction<'_, Sqlite>,
    c: &Conversation,
    new: &[Event],
) -> StoreResult<()> {
    let p = parley_store_rows::preview(new);
    sqlx::query(sql::SAVE_CONVERSATION_STATE)
        .bind(c.status.as_str())
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
        .execute(&mut **tx)
        .await
        .map_err(other)?;
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(other)?;
        Ok(())
    }

    async fn create_workspace(&self, ws: &Workspace) -> StoreResult<()> {
        sqlx::query("INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(ws.id.0)
            .bind(&ws.name)
            .bind(ws.created_at)
            .execute(&self.writer)
            .await
            .map_err(other)?;
        Ok(())
    }

    async fn get_workspace(&self, id: WorkspaceId) -> StoreResult<Option<Workspace>> {
        let row: Option<(Uuid, String, i64)> =
            sqlx::query_as("SELECT id, name, created_at FROM workspaces WHERE id = $1")
                .bind(id.0)
                .fetch_optional(&self.reader)
                .await
                .map_err(other)?;
        Ok(row.map(|(id, name, created_at)| Workspace {
            id: WorkspaceId(id),
            name,
            created_at,
        }))
    }

    async fn first_workspace(&self) -> StoreResult<Option<Workspace>> {
        let row: Option<(Uuid, String, i64)> = sqlx::query_as(
            "SELECT id, name, created_at FROM workspaces ORDER BY created_at, id LIMIT 1",
        )
        .fetch_optional(&self.reader)
        .await
        .map_err(other)?;
        Ok(row.map(|(id, name, created_at)| Workspace {
            id: WorkspaceId(id),
            name,
            created_at,
        }))
    }

    async fn count_users(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.reader)
            .await
            .map_err(other)
    }

    async fn create_user(&self, u: &User, password_hash: &str) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO users ({USER_COLS}, password_hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)"
        ))
        .bind(u.id.0)
        .bind(u.workspace_id.0)
        .bind(&u.email)
        .bind(&u.name)
        .bind(u.role.as_str())
        .bind(u.status.as_str())
        .bind(&u.avatar_url)
        .bind(u.capacity as i64)
        .bind(serde_json::to_string(&u.skills).map_err(other)?)
        .bind(u.created_at)
        .bind(password_hash)
        .execute(&self.writer)
        .await
        .map_err(|e| {
            if unique_violation(&e) {
                StoreError::Conflict("e-mail")
            } else {
                other(e)
            }
        })?;
        Ok(())
    }

    async fn credentials_by_email(&self, email: &Email) -> StoreResult<Option<Credentials>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLS}, password_hash FROM users WHERE email = $1"
        ))
        .bind(email.as_str())
        .fetch_optional(&self.reader)
        .await
        .map_err(other)?;
        match row {
            Some(r) => Ok(Some(Credentials {
                user: user(&r).map_err(other)?,
                password_hash: sqlx::Row::try_get(&r, "password_hash").map_err(other)?,
            })),
            None => Ok(None),
        }
    }

    async fn get_user(&self, ws: WorkspaceId, id: UserId) -> StoreResult<Option<User>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users WHERE id = $1 AND workspace_id = $2"
        ))
        .bind(id.0)
        .bind(ws.0)
        .fetch_optional(&self.reader)
        .await
        .map_err(other)?;
        row.as_ref().map(user).transpose().map_err(other)
    }

    async fn password_hash(&self, ws: WorkspaceId, id: UserId) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1 AND workspace_id = $2")
            .bind(id.0)
            .bind(ws.0)
            .fetch_optional(&self.reader)
            .await
            .map_err(other)
    }

    async fn list_users(&self, ws: WorkspaceId) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users WHERE workspace_id = $1 ORDER BY name, id"
        ))
        .bind(ws.0)
        .fetch_all(&self.reader)
        .await
        .map_err(other)?;
        rows.iter()
            .map(user)
            .collect::<Result<_, _>>()
            .map_err(other)
    }

    async fn update_user(
        &self,
        ws: WorkspaceId,
        id: UserId,
        patch: &UserPatch,
    ) -> StoreResult<Option<User>> {
        let skills = patch
            .skills
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(other)?;
        let row = sqlx::query(&format!(
            "UPDATE users SET name = COALESCE($1, name), role = COALESCE($2, role), capacity = COALESCE($5, capacity), \
             skills = COALESCE($6, skills) WHERE id = $3 AND workspace_id = $4 RETURNING {USER_COLS}"
        ))
        .bind(&patch.name)
        .bind(patch.role.map(|r| r.as_str()))
        .bind(id.0)
        .bind(ws.0)
        .bind(patch.capacity.map(|c| c as i64))
        .bind(skills)
        .fetch_optional(&self.writer)
        .await
        .map_err(other)?;
        row.as_ref().map(user).transpose().map_err(other)
    }

    async fn set_user_status(
        &self,
        ws: WorkspaceId,
        id: UserId,
        status: AgentStatus,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE users SET status = $1 WHERE id = $2 AND workspace_id = $3")
            .bind(status.as_str())
            .bind(id.0)
            .bind(ws.0)
            .execute(&self.writer)
            .await
            .map_err(other)?;
        Ok(())
    }

    async fn set_password(
        &self,
        id: UserId,
        hash: &str,
        keep_session: Option<&str>,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> COALESCE($2, '')")
            .bind(id.0)
            .bind(keep_session)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        tx.commit().await.map_err(other)
    }

    async fn create_session(&self, s: &Session) -> StoreResult<()> {
        sqlx::query("INSERT INTO sessions (id_hash, user_id, workspace_id, csrf_token, created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6)")
            .bind(&s.id_hash)
            .bind(s.user_id.0)
            .bind(s.workspace_id.0)
            .bind(&s.csrf_token)
            .bind(s.created_at)
            .bind(s.expires_at)
            .execute(&self.writer)
            .await
            .map_err(other)?;
        Ok(())
    }

    async fn session(&self, id_hash: &str, now: Millis) -> StoreResult<Option<(Session, User)>> {
        let row = sqlx::query(&format!(
            "SELECT s.id_hash, s.csrf_token, s.created_at AS s_created, s.expires_at, {} FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id_hash = $1 AND s.expires_at > $2",
            USER_COLS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ")
        ))
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.reader)
        .await
        .map_err(other)?;
        let Some(r) = row else { return Ok(None) };
        let u = user(&r).map_err(other)?;
        use sqlx::Row;
        let s = Session {
            id_hash: r.try_get("id_hash").map_err(other)?,
            user_id: u.id,
            workspace_id: u.workspace_id,
            csrf_token: r.try_get("csrf_token").map_err(other)?,
            created_at: r.try_get("s_created").map_err(other)?,
            expires_at: r.try_get("expires_at").map_err(other)?,
        };
        Ok(Some((s, u)))
    }

    async fn extend_session(&self, id_hash: &str, expires_at: Millis) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET expires_at = $1 WHERE id_hash = $2")
            .bind(expires_at)
            .bind(id_hash)
            .execute(&self.writer)
            .await
            .map_err(other)?;
        Ok(())
    }

    async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.writer)
            .await
            .map_err(other)?;
        Ok(())
    }

    async fn create_token(
        &self,
        ws: WorkspaceId,
        user_id: UserId,
        t: &ApiToken,
        hash: &str,
    ) -> StoreResult<()> {
        sqlx::query("INSERT INTO api_tokens (id, workspace_id, user_id, name, token_hash, created_at) VALUES ($1,$2,$3,$4,$5,$6)")
            .bind(t.id.0)
            .bind(ws.0)
            .bind(user_id.0)
            .bind(&t.name)
            .bind(hash)
            .bind(t.created_at)
            .execute(&self.writer)
            .await
            .map_err(other)?;
        Ok(())
    }

    async fn list_tokens(&self, ws: WorkspaceId, user_id: UserId) -> StoreResult<Vec<ApiToken>> {
        let rows = sqlx::query(&format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE workspace_id = $1 AND user_id = $2 ORDER BY created_at"))
            .bind(ws.0)
            .bind(user_id.0)
            .fetch_all(&self.reader)
            .await
            .map_err(other)?;
        rows.iter()
            .map(token)
            .collect::<Result<_, _>>()
            .map_err(other)
    }

    async fn delete_token(
        &self,
        ws: WorkspaceId,
        user_id: UserId,
        id: TokenId,
    ) -> StoreResult<bool> {
        let r = sqlx::query(
            "DELETE FROM api_tokens WHERE id = $1 AND workspace_id = $2 AND user_id = $3",
        )
        .bind(id.0)
        .bind(ws.0)
        .bind(user_id.0)
        .execute(&self.writer)
        .await
        .map_err(other)?;
        Ok(r.rows_affected() == 1)
    }

    async fn token_user(&self, hash: &str, now: Millis) -> StoreResult<Option<User>> {
        let row = sqlx::query(&format!(
            "UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2 RETURNING user_id, workspace_id"
        ))
        .bind(now)
        .bind(hash)
        .fetch_optional(&self.writer)
        .await
        .map_err(other)?;
        let Some(r) = row else { return Ok(None) };
        use sqlx::Row;
        let uid: Uuid = r.try_get("user_id").map_err(other)?;
        let ws: Uuid = r.try_get("workspace_id").map_err(other)?;
        self.get_user(WorkspaceId(ws), UserId(uid)).await
    }

    async fn create_channel(&self, c: &Channel) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(&format!("INSERT INTO channels ({CHANNEL_COLS}, kind) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,'website')"))
            .bind(c.id.0)
            .bind(c.workspace_id.0)
            .bind(&c.name)
            .bind(&c.widget_key)
            .bind(&c.color)
            .bind(&c.welcome_text)
            .bind(c.group_id.map(|g| g.0))
            .bind(serde_json::to_string(c.allowed_origins.as_slice()).map_err(other)?)
            .bind(c.created_at)
            .bind(c.bot.as_ref().map(serde_json::to_string).transpose().map_err(other)?)
            .bind(&c.greeting_text)
            .bind(c.greeting_delay_secs as i64)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        let options: Vec<(GroupId, String)> = c
            .entry_points
            .iter()
            .map(|e| (e.group_id, e.label.clone()))
            .collect();
        replace_entry_points(&mut tx, c.workspace_id, c.id, &options).await?;
        tx.commit().await.map_err(other)?;
        Ok(())
    }

    async fn get_channel(&self, ws: WorkspaceId, id: ChannelId) -> StoreResult<Option<Channel>> {
        let row = sqlx::query(&format!(
            "SELECT {CHANNEL_COLS} FROM channels WHERE id = $1 AND workspace_id = $2"
        ))
        .bind(id.0)
        .bind(ws.0)
        .fetch_optional(&self.reader)
        .await
        .map_err(other)?;
        let Some(mut c) = row.as_ref().map(channel).transpose().map_err(other)? else {
            return Ok(None);
        };
        let options = entry_points(&self.reader, ws, Some(id)).await?;
        attach_entry_points(std::slice::from_mut(&mut c), options);
        Ok(Some(c))
    }

    async fn channel_by_key(&self, widget_key: &str) -> StoreResult<Option<Channel>> {
        let row = sqlx::query(&format!(
            "SELECT {CHANNEL_COLS} FROM channels WHERE widget_key = $1"
        ))
        .bind(widget_key)
        .fetch_optional(&self.reader)
        .await
        .map_err(other)?;
        let Some(mut c) = row.as_ref().map(channel).transpose().map_err(other)? else {
            return Ok(None);
        };
        let options = entry_points(&self.reader, c.workspace_id, Some(c.id)).await?;
        attach_entry_points(std::slice::from_mut(&mut c), options);
        Ok(Some(c))
    }

    async fn list_channels(&self, ws: WorkspaceId) -> StoreResult<Vec<Channel>> {
        let rows = sqlx::query(&format!(
            "SELECT {CHANNEL_COLS} FROM channels WHERE workspace_id = $1 ORDER BY created_at, id"
        ))
        .bind(ws.0)
        .fetch_all(&self.reader)
        .await
        .map_err(other)?;
        let mut channels: Vec<Channel> = rows
            .iter()
            .map(channel)
            .collect::<Result<_, _>>()
            .map_err(other)?;
        attach_entry_points(&mut channels, entry_points(&self.reader, ws, None).await?);
        Ok(channels)
    }

    async fn update_channel(
        &self,
        ws: WorkspaceId,
        id: ChannelId,
        p: &ChannelPatch,
    ) -> StoreResult<Option<Channel>> {
        let origins = p
            .allowed_origins
            .as_ref()
            .map(|o| serde_json::to_string(o.as_slice()))
            .transpose()
            .map_err(other)?;
        let mut tx = self.begin().await?;
        let row = sqlx::query(&format!(
            "UPDATE channels SET name = COALESCE($1, name), color = COALESCE($2, color), \
             welcome_text = COALESCE($3, welcome_text), allowed_origins = COALESCE($4, allowed_origins), \
             group_id = CASE WHEN $7 THEN $8 ELSE group_id END, \
             bot = CASE WHEN $9 THEN $10 ELSE bot END, \
             greeting_text = COALESCE($11, greeting_text), \
             greeting_delay_secs = COALESCE($12, greeting_delay_secs) \
             WHERE id = $5 AND workspace_id = $6 RETURNING {CHANNEL_COLS}"
        ))
        .bind(&p.name)
        .bind(&p.color)
        .bind(&p.welcome_text)
        .bind(origins)
        .bind(id.0)
        .bind(ws.0)
        .bind(p.group_id.is_some())
        .bind(p.group_id.flatten().map(|g| g.0))
        .bind(p.bot.is_some())
        .bind(
            p.bot
                .as_ref()
                .and_then(|b| b.as_ref())
                .map(serde_json::to_string)
                .transpose()
                .map_err(other)?,
        )
        .bind(&p.greeting_text)
        .bind(p.greeting_delay_secs.map(|d| d as i64))
        .fetch_optional(&mut *tx)
        .await
        .map_err(other)?;
        let Some(mut c) = row.as_ref().map(channel).transpose().map_err(other)? else {
            return Ok(None);
        };
        if let Some(options) = &p.entry_points {
            replace_entry_points(&mut tx, ws, id, options).await?;
        }
        let options = entry_points(&mut *tx, ws, Some(id)).await?;
        attach_entry_points(std::slice::from_mut(&mut c), options);
        tx.commit().await.map_err(other)?;
        Ok(Some(c))
    }

    async fn create_visitor(&self, v: &Visitor, token_hash: &str) -> StoreResult<()> {
        sqlx::query(&format!("INSERT INTO visitors ({VISITOR_COLS}, token_hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)"))
            .bind(v.id.0)
            .bind(v.workspace_id.0)
            .bind(v.channel_id.0)
            .bind(&v.name)
            .bind(&v.email)
            .bind(&v.current_url)
            .bind(&v.current_title)
            .bind(&v.referrer)
            .bind(&v.user_agent)
            .bind(&v.browser)
            .bind(&v.os)
            .bind(&v.language)
            .bind(&v.ip)
            .bind(v.first_seen_at)
            .bind(v.last_seen_at)
            .bind(&v.phone)
            .bind(serde_json::to_string(&v.tags).map_err(other)?)
            .bind(token_hash)
            .execute(&self.writer)
            .await
            .map_err(other)?;
        Ok(())
    }

    async fn visitor_by_token(&self, token_hash: &str) -> StoreResult<Option<Visitor>> {
        let row = sqlx::query(&format!(
            "SELECT {VISITOR_COLS} FROM visitors WHERE token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&self.reader)
        .await
        .map_err(other)?;
        row.as_ref().map(visitor).transpose().map_err(other)
    }

    async fn get_visitor(&self, ws: WorkspaceId, id: VisitorId) -> StoreResult<Option<Visitor>> {
        let row = sqlx::query(&format!(
            "SELECT {VISITOR_COLS} FROM visitors WHERE id = $1 AND workspace_id = $2"
        ))
        .bind(id.0)
        .bind(ws.0)
        .fetch_optional(&self.reader)
        .await
        .map_err(other)?;
        row.as_ref().map(visitor).transpose().map_err(other)
    }

    async fn touch_visitor(
        &self,
        ws: WorkspaceId,
        id: VisitorId,
        ctx: &VisitorContext,
        now: Millis,
    ) -> StoreResult<Option<Visitor>> {
        let (browser, os) = ctx
            .user_agent
            .as_deref()
            .map(describe_user_agent)
            .unwrap_or((None, None));
        let row = sqlx::query(&format!(
            "UPDATE visitors SET last_seen_at = $1, current_url = COALESCE($2, current_url), \
             current_title = COALESCE($3, current_title), referrer = COALESCE($4, referrer), \
             user_agent = COALESCE($5, user_agent), browser = COALESCE($6, browser), os = COALESCE($7, os), \
             language = COALESCE($8, language), ip = COALESCE($9, ip) \
             WHERE id = $10 AND workspace_id = $11 RETURNING {VISITOR_COLS}"
        ))
        .bind(now)
        .bind(&ctx.url)
        .bind(&ctx.title)
        .bind(&ctx.referrer)
        .bind(&ctx.user_agent)
        .bind(browser)
        .bind(os)
        .bind(&ctx.language)
        .bind(&ctx.ip)
        .bind(id.0)
        .bind(ws.0)
        .fetch_optional(&self.writer)
        .await
        .map_err(other)?;
        row.as_ref().map(visitor).transpose().map_err(other)
    }

    async fn get_conversation(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
    ) -> StoreResult<Option<Conversation>> {
        let row = sqlx::query(&sql::CONVERSATION_BY_ID)
            .bind(id.0)
            .bind(ws.0)
            .fetch_optional(&self.reader)
            .await
            .map_err(other)?;
        // What was read may not be on the disk yet (see `wal_sync`).
        self.commits.durable().await;
        row.as_ref().map(conversation).transpose().map_err(other)
    }

    async fn current_conversation(
        &self,
        ws: WorkspaceId,
        visitor_id: VisitorId,
    ) -> StoreResult<Option<Conversation>> {
        let row = sqlx::query(&format!(
            "SELECT {CONVERSATION_COLS} FROM conversations WHERE visitor_id = $1 AND workspace_id = $2 ORDER BY created_at DESC, id DESC LIMIT 1"
        ))
        .bind(visitor_id.0)
        .bind(ws.0)
        .fetch_optional(&self.reader)
        .await
        .map_err(other)?;
        // What was read may not be on the disk yet (see `wal_sync`).
        self.commits.durable().await;
        row.as_ref().map(conversation).transpose().map_err(other)
    }

    async fn list_conversations(
        &self,
        ws: WorkspaceId,
        q: &ConversationQuery,
    ) -> StoreResult<Vec<ConversationSummary>> {
        let view = match q.view {
            View::Mine => "AND c.assignee_id = $2",
            View::Unassigned => "AND c.assignee_id IS NULL",
            View::Queued => "AND c.assignee_id IS NULL AND c.queued_at IS NOT NULL",
            View::All => "",
        };
        let sql = format!(
            "{SUMMARY_SELECT} WHERE c.workspace_id = $1 AND c.status = $3 {view} \
             AND (CAST($4 AS BIGINT) IS NULL OR c.updated_at < $4 OR (c.updated_at = $4 AND c.id < $5)) \
             ORDER BY c.updated_at DESC, c.id DESC LIMIT $6"
        );
        let rows = sqlx::query(&sql)
            .bind(ws.0)
            .bind(q.viewer.0)
            .bind(q.status.as_str())
            .bind(q.before.map(|b| b.0))
            .bind(q.before.map(|b| b.1 .0))
            .bind(q.limit)
            .fetch_all(&self.reader)
            .await
            .map_err(other)?;
        // What was read may not be on the disk yet (see `wal_sync`).
        self.commits.durable().await;
        rows.iter()
            .map(summary)
            .collect::<Result<_, _>>()
            .map_err(other)
    }

    async fn conversation_summary(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        viewer: UserId,
    ) -> StoreResult<Option<ConversationSummary>> {
        let row = sqlx::query(&inbox_reads::SUMMARY_BY_ID)
            .bind(ws.0)
            .bind(viewer.0)
            .bind(id.0)
            .fetch_optional(&self.reader)
            .await
            .map_err(other)?;
        // What was read may not be on the disk yet (see `wal_sync`).
        self.commits.durable().await;
        row.as_ref().map(summary).transpose().map_err(other)
    }

    async fn inbox_lines(
        &self,
        ws: WorkspaceId,
        ids: &[ConversationId],
    ) -> StoreResult<Vec<InboxLine>> {
        let lines = self.inbox_reads.lines(ws, ids).await;
        self.commits.durable().await;
        lines
    }

    async fn append_message(
        &self,
        ws: WorkspaceId,
        target: Target,
        msg: &NewEvent,
        effects: &MessageEffects,
        now: Millis,
    ) -> StoreResult<Appended> {
        let (msg, effects) = (msg.clone(), effects.clone());
        self.commits
            .run(move |db| append_sync::append(db, ws, target, &msg, &effects, now))
            .await
    }

    async fn append_change(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        change: &NewEvent,
        now: Millis,
    ) -> StoreResult<Option<(Event, Conversation)>> {
        let mut tx = self.begin().await?;
        let mut conv = conversation_in(&mut tx, ws, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if !changes(&conv, change) {
            return Ok(None);
        }
        let e = insert_event(&mut tx, &mut conv, change, now).await?;
        save_conversation_state(&mut tx, &conv, std::slice::from_ref(&e)).await?;
        tx.commit().await.map_err(other)?;
        Ok(Some((e, conv)))
    }

    async fn events_after(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<Event>> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLS} FROM events WHERE conversation_id = $1 AND workspace_id = $2 AND seq > $3 ORDER BY seq LIMIT $4"
        ))
        .bind(id.0)
        .bind(ws.0)
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.reader)
        .await
        .map_err(other)?;
        // What was read may not be on the disk yet (see `wal_sync`).
        self.commits.durable().await;
        rows.iter()
            .map(event)
            .collect::<Result<_, _>>()
            .map_err(other)
    }

    async fn events_before(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        before_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<Event>> {
        let rows = sqlx::query(&format!(
            "SELECT * FROM (SELECT {EVENT_COLS} FROM events WHERE conversation_id = $1 AND workspace_id = $2 AND seq < $3 \
             ORDER BY seq DESC LIMIT $4) AS page ORDER BY seq"
        ))
        .bind(id.0)
        .bind(ws.0)
        .bind(before_seq)
        .bind(limit)
        .fetch_all(&self.reader)
        .await
        .map_err(other)?;
        // What was read may not be on the disk yet (see `wal_sync`).
        self.commits.durable().await;
        rows.iter()
            .map(event)
            .collect::<Result<_, _>>()
            .map_err(other)
    }

    async fn record_login_failure(
        &self,
        keys: &[String],
        at: Millis,
        forget_before: Millis,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(other)?;
        sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(forget_before)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        for key in keys {
            sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
                .bind(key)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(other)?;
        }
        tx.commit().await.map_err(other)
    }

    async fn login_failures(&self, key: &str, since: Millis) -> StoreResult<(i64, Option<Millis>)> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(at) AS oldest FROM login_failures WHERE key = $1 AND at >= $2",
        )
        .bind(key)
        .bind(since)
        .fetch_one(&self.reader)
        .await
        .map_err(other)?;
        Ok((
            row.int("n").map_err(other)?,
            row.opt_int("oldest").map_err(other)?,
        ))
    }

    async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(key)
            .execute(&self.writer)
            .await
            .map_err(other)?;
        Ok(())
    }

    async fn mark_read(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        user_id: UserId,
        seq: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO conversation_reads (conversation_id, user_id, last_read_seq) \
             SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM conversations WHERE id = $1 AND workspace_id = $4) \
             ON CONFLICT (conversation_id, user_id) DO UPDATE SET last_read_seq = MAX(last_read_seq, excluded.last_read_seq)",
        )
        .bind(id.0)
        .bind(user_id.0)
        .bind(seq)
        .bind(ws.0)
        .execute(&self.writer)
        .await
        .map_err(other)?;
        Ok(())
    }

    async fn create_group(&self, g: &Group) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO agent_groups ({GROUP_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
        ))
        .bind(g.id.0)
        .bind(g.workspace_id.0)
        .bind(&g.name)
        .bind(serde_json::to_string(&g.policy).map_err(other)?)
        .bind(g.tier as i64)
        .bind(g.reply_timeout_secs)
        .bind(g.queue_timeout_secs)
        .bind(g.created_at)
        .bind(hours_json(g)?)
        .execute(&self.writer)
        .await
        .map_err(other)?;
        Ok(())
    }

    async fn update_group(&self, g: &Group) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE agent_groups SET name = $1, policy = $2, tier = $3, reply_timeout_secs = $4, queue_timeout_secs = $5, hours = $8 \
             WHERE id = $6 AND workspace_id = $7",
        )
        .bind(&g.name)
        .bind(serde_json::to_string(&g.policy).map_err(other)?)
        .bind(g.tier as i64)
        .bind(g.reply_timeout_secs)
        .bind(g.queue_timeout_secs)
        .bind(g.id.0)
        .bind(g.workspace_id.0)
        .bind(hours_json(g)?)
        .execute(&self.writer)
        .await
        .map_err(other)?;
        Ok(r.rows_affected() == 1)
    }

    async fn get_group(&self, ws: WorkspaceId, id: GroupId) -> StoreResult<Option<Group>> {
        let row = sqlx::query(&format!(
            "SELECT {GROUP_COLS} FROM agent_groups WHERE id = $1 AND workspace_id = $2"
        ))
        .bind(id.0)
        .bind(ws.0)
        .fetch_optional(&self.reader)
        .await
        .map_err(other)?;
        let Some(g) = row.as_ref().map(group).transpose().map_err(other)? else {
            return Ok(None);
        };
        let members = self.group_members(ws, Some(id)).await?;
        Ok(routing::attach_members(vec![g], members).pop())
    }

    async fn list_groups(&self, ws: WorkspaceId) -> StoreResult<Vec<Group>> {
        let rows = sqlx::query(&format!(
            "SELECT {GROUP_COLS} FROM agent_groups WHERE workspace_id = $1 ORDER BY tier, name, id"
        ))
        .bind(ws.0)
        .fetch_all(&self.reader)
        .await
        .map_err(other)?;
        let groups = rows
            .iter()
            .map(group)
            .collect::<Result<Vec<_>, _>>()
            .map_err(other)?;
        let members = self.group_members(ws, None).await?;
        Ok(routing::attach_members(groups, members))
    }

    async fn set_group_members(
        &self,
        ws: WorkspaceId,
        id: GroupId,
        members: &[(UserId, i32)],
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let existing: Vec<Uuid> = sqlx::query_scalar(
            "SELECT user_id FROM group_members WHERE group_id = $1 AND workspace_id = $2",
        )
        .bind(id.0)
        .bind(ws.0)
        .fetch_all(&mut *tx)
        .await
        .map_err(other)?;
        for gone in existing
            .iter()
            .filter(|u| !members.iter().any(|(m, _)| m.0 == **u))
        {
            sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
                .bind(id.0)
                .bind(gone)
                .execute(&mut *tx)
                .await
                .map_err(other)?;
        }
        for (user, priority) in members {
            // Only people of this workspace, into a group of this workspace.
            sqlx::query(
                "INSERT INTO group_members (group_id, user_id, workspace_id, priority) \
                 SELECT g.id, u.id, g.workspace_id, $4 FROM agent_groups g JOIN users u ON u.workspace_id = g.workspace_id \
                 WHERE g.id = $1 AND u.id = $2 AND g.workspace_id = $3 \
                 ON CONFLICT (group_id, user_id) DO UPDATE SET priority = excluded.priority",
            )
            .bind(id.0)
            .bind(user.0)
            .bind(ws.0)
            .bind(*priority as i64)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        }
        tx.commit().await.map_err(other)
    }

    async fn groups_of(&self, ws: WorkspaceId, user_id: UserId) -> StoreResult<Vec<GroupId>> {
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT group_id FROM group_members WHERE user_id = $1 AND workspace_id = $2",
        )
        .bind(user_id.0)
        .bind(ws.0)
        .fetch_all(&self.reader)
        .await
        .map_err(other)?;
        Ok(ids.into_iter().map(GroupId).collect())
    }

    async fn route(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        ctx: &RouteContext,
        now: Millis,
    ) -> StoreResult<Routed> {
        self.do_route(ws, id, ctx, now).await
    }

    async fn delete_group(&self, ws: WorkspaceId, id: GroupId) -> StoreResult<GroupDeletion> {
        // The single writer serialises this with every change that could start using the group.
        let mut tx = self.begin().await?;
        let found: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM agent_groups WHERE id = $1 AND workspace_id = $2")
                .bind(id.0)
                .bind(ws.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(other)?;
        if found.is_none() {
            return Ok(GroupDeletion::NotFound);
        }
        let channel: Option<(String, bool)> = sqlx::query_as(
            "SELECT c.name, c.group_id IS NOT $1 FROM channels c WHERE c.workspace_id = $2 \
             AND (c.group_id = $1 OR EXISTS (SELECT 1 FROM channel_entry_points e \
                  WHERE e.channel_id = c.id AND e.group_id = $1)) \
             ORDER BY c.created_at, c.id LIMIT 1",
        )
        .bind(id.0)
        .bind(ws.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(other)?;
        if let Some((channel, option)) = channel {
            return Ok(GroupDeletion::UsedByChannel { channel, option });
        }
        let rule: Option<i64> = sqlx::query_scalar(
            "SELECT position FROM routing_rules WHERE workspace_id = $1 AND group_id = $2 \
             ORDER BY position LIMIT 1",
        )
        .bind(ws.0)
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(other)?;
        if let Some(position) = rule {
            return Ok(GroupDeletion::UsedByRule(position as usize + 1));
        }
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM conversations WHERE workspace_id = $1 AND group_id = $2 AND status = 'open'",
        )
        .bind(ws.0)
        .bind(id.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(other)?;
        if open > 0 {
            return Ok(GroupDeletion::OpenConversations(open));
        }
        sqlx::query("UPDATE conversations SET group_id = NULL, queued_at = NULL WHERE workspace_id = $1 AND group_id = $2")
            .bind(ws.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        sqlx::query("DELETE FROM agent_groups WHERE id = $1 AND workspace_id = $2")
            .bind(id.0)
            .bind(ws.0)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        tx.commit().await.map_err(other)?;
        Ok(GroupDeletion::Deleted)
    }

    async fn queue(&self, ws: WorkspaceId, group_id: GroupId) -> StoreResult<Vec<QueueEntry>> {
        let rows: Vec<(Uuid, Uuid, i64, i64)> = sqlx::query_as(
            "SELECT id, visitor_id, priority, queued_at FROM conversations WHERE workspace_id = $1 AND group_id = $2 \
             AND queued_at IS NOT NULL AND status = 'open' AND assignee_id IS NULL ORDER BY priority DESC, queued_at, id",
        )
        .bind(ws.0)
        .bind(group_id.0)
        .fetch_all(&self.reader)
        .await
        .map_err(other)?;
        Ok(rows
            .into_iter()
            .map(|(c, v, p, q)| QueueEntry {
                conversation_id: ConversationId(c),
                visitor_id: VisitorId(v),
                priority: p as i32,
                queued_at: q,
            })
            .collect())
    }

    async fn overdue_replies(&self, now: Millis) -> StoreResult<Vec<Overdue>> {
        let rows: Vec<(Uuid, Uuid, Uuid, i64)> = sqlx::query_as(
            "SELECT c.workspace_id, c.id, c.assignee_id, g.reply_timeout_secs FROM conversations c \
             JOIN agent_groups g ON g.id = c.group_id WHERE c.status = 'open' AND c.assignee_id IS NOT NULL \
             AND c.awaiting_reply_since IS NOT NULL AND g.reply_timeout_secs IS NOT NULL \
             AND c.awaiting_reply_since + g.reply_timeout_secs * 1000 <= $1",
        )
        .bind(now)
        .fetch_all(&self.reader)
        .await
        .map_err(other)?;
        Ok(rows
            .into_iter()
            .map(|(w, c, a, t)| Overdue {
                workspace_id: WorkspaceId(w),
                conversation_id: ConversationId(c),
                assignee: UserId(a),
                timeout_secs: t,
            })
            .collect())
    }

    async fn assigned_open(
        &self,
        ws: WorkspaceId,
        user_id: UserId,
    ) -> StoreResult<Vec<ConversationId>> {
        let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM conversations WHERE workspace_id = $1 AND assignee_id = $2 AND status = 'open'")
            .bind(ws.0)
            .bind(user_id.0)
            .fetch_all(&self.reader)
            .await
            .map_err(other)?;
        Ok(ids.into_iter().map(ConversationId).collect())
    }

    async fn move_to_group(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        group_id: GroupId,
    ) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE conversations SET group_id = $1 WHERE id = $2 AND workspace_id = $3 \
             AND EXISTS (SELECT 1 FROM agent_groups g WHERE g.id = $1 AND g.workspace_id = $3)",
        )
        .bind(group_id.0)
        .bind(id.0)
        .bind(ws.0)
        .execute(&self.writer)
        .await
        .map_err(other)?;
        Ok(r.rows_affected() == 1)
    }

    async fn set_tags(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        tags: &[String],
    ) -> StoreResult<bool> {
        let r =
            sqlx::query("UPDATE conversations SET tags = $1 WHERE id = $2 AND workspace_id = $3")
                .bind(serde_json::to_string(tags).map_err(other)?)
                .bind(id.0)
                .bind(ws.0)
                .execute(&self.writer)
                .await
                .map_err(other)?;
        Ok(r.rows_affected() == 1)
    }

    async fn set_visitor_tags(
        &self,
        ws: WorkspaceId,
        id: VisitorId,
        tags: &[String],
    ) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE visitors SET tags = $1 WHERE id = $2 AND workspace_id = $3")
            .bind(serde_json::to_string(tags).map_err(other)?)
            .bind(id.0)
            .bind(ws.0)
            .execute(&self.writer)
            .await
            .map_err(other)?;
        Ok(done.rows_affected() == 1)
    }
    async fn set_follow_up(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        follow_up: bool,
    ) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE conversations SET follow_up = $1 WHERE id = $2 AND workspace_id = $3",
        )
        .bind(follow_up as i64)
        .bind(id.0)
        .bind(ws.0)
        .execute(&self.writer)
        .await
        .map_err(other)?;
        Ok(r.rows_affected() == 1)
    }

    async fn open_counts(&self, ws: WorkspaceId) -> StoreResult<(i64, i64, i64)> {
        sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN assignee_id IS NULL THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN assignee_id IS NULL AND queued_at IS NOT NULL THEN 1 ELSE 0 END), 0) \
             FROM conversations WHERE workspace_id = $1 AND status = 'open'",
        )
        .bind(ws.0)
        .fetch_one(&self.reader)
        .await
        .map_err(other)
    }

    async fn loads(&self, ws: WorkspaceId) -> StoreResult<Vec<(UserId, i64)>> {
        let rows: Vec<(Uuid, i64)> = sqlx::query_as(
            "SELECT assignee_id, COUNT(*) FROM conversations WHERE workspace_id = $1 AND status = 'open' \
             AND assignee_id IS NOT NULL GROUP BY assignee_id",
        )
        .bind(ws.0)
        .fetch_all(&self.reader)
        .await
        .map_err(other)?;
        Ok(rows.into_iter().map(|(u, n)| (UserId(u), n)).collect())
    }

    async fn list_rules(&self, ws: WorkspaceId) -> StoreResult<Vec<RoutingRule>> {
        let rows = sqlx::query(&format!(
            "SELECT {RULE_COLS} FROM routing_rules WHERE workspace_id = $1 ORDER BY position"
        ))
        .bind(ws.0)
        .fetch_all(&self.reader)
        .await
        .map_err(other)?;
        rows.iter()
            .map(rule)
            .collect::<Result<_, _>>()
            .map_err(other)
    }

    async fn replace_rules(&self, ws: WorkspaceId, rules: &[RoutingRule]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM routing_rules WHERE workspace_id = $1")
            .bind(ws.0)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        for (i, r) in rules.iter().enumerate() {
            sqlx::query(
                "INSERT INTO routing_rules (id, workspace_id, position, keywords, group_id, skill, priority, escalation, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(r.id.0)
            .bind(ws.0)
            .bind(i as i64)
            .bind(serde_json::to_string(&r.keywords).map_err(other)?)
            .bind(r.group_id.map(|g| g.0))
            .bind(&r.skill)
            .bind(r.priority.map(|p| p as i64))
            .bind(r.escalation as i64)
            .bind(now_millis())
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        }
        tx.commit().await.map_err(other)
    }

    async fn apply_rule(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        r: &RoutingRule,
    ) -> StoreResult<bool> {
        let res = sqlx::query(
            "UPDATE conversations SET group_id = COALESCE($1, group_id), required_skill = COALESCE($2, required_skill), \
             priority = COALESCE($3, priority) WHERE id = $4 AND workspace_id = $5",
        )
        .bind(r.group_id.map(|g| g.0))
        .bind(&r.skill)
        .bind(r.priority.map(|p| p as i64))
        .bind(id.0)
        .bind(ws.0)
        .execute(&self.writer)
        .await
        .map_err(other)?;
        Ok(res.rows_affected() == 1)
    }

    async fn try_lease(
        &self,
        name: &str,
        holder: Uuid,
        ttl_ms: i64,
        now: Millis,
    ) -> StoreResult<bool> {
        // Insert, or take over a lease that is ours or has expired; a row back means we hold it.
        let row: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at <= $4 \
             RETURNING expires_at",
        )
        .bind(name)
        .bind(holder)
        .bind(now + ttl_ms)
        .bind(now)
        .fetch_optional(&self.writer)
        .await
        .map_err(other)?;
        Ok(row.is_some())
    }

    async fn queue_timeouts(
        &self,
        now: Millis,
    ) -> StoreResult<Vec<(WorkspaceId, ConversationId, VisitorId, i64)>> {
        // Claims them in the same statement, so each visitor is offered once (on any node).
        let rows: Vec<(Uuid, Uuid, Uuid, i64)> = sqlx::query_as(
            "UPDATE conversations SET leave_message_offered_at = $1 WHERE id IN ( \
               SELECT c.id FROM conversations c JOIN agent_groups g ON g.id = c.group_id \
               WHERE c.status = 'open' AND c.assignee_id IS NULL AND c.queued_at IS NOT NULL \
               AND c.leave_message_offered_at IS NULL AND g.queue_timeout_secs IS NOT NULL \
               AND c.queued_at + g.queue_timeout_secs * 1000 <= $1) \
             RETURNING workspace_id, id, visitor_id, queued_at",
        )
        .bind(now)
        .fetch_all(&self.writer)
        .await
        .map_err(other)?;
        Ok(rows
            .into_iter()
            .map(|(w, c, v, q)| {
                (
                    WorkspaceId(w),
                    ConversationId(c),
                    VisitorId(v),
                    (now - q) / 1000,
                )
            })
            .collect())
    }

    async fn waiting_groups_with_hours(&self) -> StoreResult<Vec<Group>> {
        let rows = sqlx::query(&format!(
            "SELECT {GROUP_COLS} FROM agent_groups g WHERE (g.hours IS NOT NULL OR EXISTS ( \
               SELECT 1 FROM workspace_hours w WHERE w.workspace_id = g.workspace_id AND w.enabled)) \
             AND EXISTS ( \
               SELECT 1 FROM conversations c WHERE c.group_id = g.id AND c.status = 'open' \
               AND c.assignee_id IS NULL AND c.queued_at IS NOT NULL)"
        ))
        .fetch_all(&self.reader)
        .await
        .map_err(other)?;
        rows.iter()
            .map(parley_store_rows::group)
            .collect::<Result<_, _>>()
            .map_err(other)
    }

    // Knowledge base (kb.rs)
    async fn create_kb_category(&self, c: &Category) -> StoreResult<()> {
        self.kb_create_category(c).await
    }
    async fn get_kb_category(
        &self,
        ws: WorkspaceId,
        id: CategoryId,
    ) -> StoreResult<Option<Category>> {
        self.kb_get_category(ws, id).await
    }
    async fn list_kb_categories(&self, ws: WorkspaceId) -> StoreResult<Vec<Category>> {
        self.kb_list_categories(ws).await
    }
    async fn update_kb_category(&self, c: &Category) -> StoreResult<bool> {
        self.kb_update_category(c).await
    }
    async fn delete_kb_category(
        &self,
        ws: WorkspaceId,
        id: CategoryId,
    ) -> StoreResult<CategoryDeletion> {
        self.kb_delete_category(ws, id).await
    }
    async fn create_kb_article(&self, a: &Article, edited_by: UserId) -> StoreResult<()> {
        self.kb_create_article(a, edited_by).await
    }
    async fn get_kb_article(&self, ws: WorkspaceId, id: ArticleId) -> StoreResult<Option<Article>> {
        self.kb_get_article(ws, id).await
    }
    async fn list_kb_articles(
        &self,
        ws: WorkspaceId,
        q: &ArticleQuery,
    ) -> StoreResult<Vec<Article>> {
        self.kb_list_articles(ws, q).await
    }
    async fn update_kb_article(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        patch: &ArticlePatch,
        edited_by: UserId,
        now: Millis,
    ) -> StoreResult<Option<Article>> {
        self.kb_update_article(ws, id, patch, edited_by, now).await
    }
    async fn publish_kb_article(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        now: Millis,
    ) -> StoreResult<Option<Article>> {
        self.kb_set_published(ws, id, true, now).await
    }
    async fn unpublish_kb_article(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        now: Millis,
    ) -> StoreResult<Option<Article>> {
        self.kb_set_published(ws, id, false, now).await
    }
    async fn kb_article_versions(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<ArticleVersion>> {
        self.kb_versions(ws, id, before, limit).await
    }
    async fn restore_kb_version(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        version: i64,
        edited_by: UserId,
        now: Millis,
    ) -> StoreResult<Option<(Article, ArticleVersion)>> {
        self.kb_restore(ws, id, version, edited_by, now).await
    }
    async fn delete_kb_article(&self, ws: WorkspaceId, id: ArticleId) -> StoreResult<bool> {
        self.kb_delete_article(ws, id).await
    }
    async fn record_kb_view(&self, ws: WorkspaceId, id: ArticleId) -> StoreResult<bool> {
        self.kb_count(ws, id, "views").await
    }
    async fn record_kb_vote(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        helpful: bool,
    ) -> StoreResult<bool> {
        let column = if helpful { "helpful_yes" } else { "helpful_no" };
        self.kb_count(ws, id, column).await
    }
    async fn record_kb_vote_once(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        voter: &[u8],
        helpful: bool,
        now: Millis,
        since: Millis,
    ) -> StoreResult<Option<bool>> {
        self.kb_vote_once(ws, id, voter, helpful, now, since).await
    }
    async fn published_kb_articles(&self, ws: WorkspaceId) -> StoreResult<Vec<PublishedArticle>> {
        self.kb_published(ws).await
    }
    async fn kb_generation(&self, ws: WorkspaceId) -> StoreResult<i64> {
        self.kb_generation_of(ws).await
    }
    async fn kb_synonyms(&self, ws: WorkspaceId) -> StoreResult<String> {
        self.kb_synonyms_of(ws).await
    }
    async fn set_kb_synonyms(&self, ws: WorkspaceId, text: &str) -> StoreResult<bool> {
        self.kb_set_synonyms(ws, text).await
    }

    async fn list_auto_replies(&self, ws: WorkspaceId) -> StoreResult<Vec<AutoReply>> {
        self.ar_list(ws).await
    }
    async fn replace_auto_replies(&self, ws: WorkspaceId, rules: &[AutoReply]) -> StoreResult<()> {
        self.ar_replace(ws, rules).await
    }
    async fn count_auto_reply_hit(&self, ws: WorkspaceId, id: AutoReplyId) -> StoreResult<bool> {
        self.ar_hit(ws, id).await
    }

    async fn set_bot_misses(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        misses: i32,
    ) -> StoreResult<bool> {
        self.bot_set_misses(ws, id, misses).await
    }
    async fn end_bot(&self, ws: WorkspaceId, id: ConversationId) -> StoreResult<bool> {
        self.bot_end(ws, id).await
    }
    async fn flows(&self, ws: WorkspaceId) -> StoreResult<Vec<parley_domain::flow::Flow>> {
        self.flows_get(ws).await
    }
    async fn replace_flows(
        &self,
        ws: WorkspaceId,
        flows: &[parley_domain::flow::Flow],
        now: Millis,
    ) -> StoreResult<()> {
        self.flows_replace(ws, flows, now).await
    }
    async fn flow_state(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
    ) -> StoreResult<Option<(String, String)>> {
        self.flow_state_get(ws, id).await
    }
    async fn set_flow_state(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        at: Option<(&str, &str)>,
    ) -> StoreResult<()> {
        self.flow_state_set(ws, id, at).await
    }
    async fn add_unanswered(&self, q: &Unanswered) -> StoreResult<()> {
        self.unanswered_add(q).await
    }
    async fn list_unanswered(
        &self,
        ws: WorkspaceId,
        include_resolved: bool,
        limit: i64,
    ) -> StoreResult<Vec<Unanswered>> {
        self.unanswered_list(ws, include_resolved, limit).await
    }
    async fn resolve_unanswered(
        &self,
        ws: WorkspaceId,
        id: UnansweredId,
        article: Option<ArticleId>,
        now: Millis,
    ) -> StoreResult<bool> {
        self.unanswered_resolve(ws, id, article, now).await
    }

    // Business hours (hours.rs)
    async fn workspace_hours(&self, ws: WorkspaceId) -> StoreResult<Option<WorkspaceHours>> {
        self.hours_get(ws).await
    }
    async fn set_workspace_hours(
        &self,
        ws: WorkspaceId,
        hours: &WorkspaceHours,
        now: Millis,
    ) -> StoreResult<()> {
        self.hours_set(ws, hours, now).await
    }
    async fn claim_off_hours_reply(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        now: Millis,
        until: Millis,
    ) -> StoreResult<bool> {
        self.hours_claim_reply(ws, id, now, until).await
    }
    async fn set_visitor_contact(
        &self,
        ws: WorkspaceId,
        id: VisitorId,
        name: Option<&str>,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> StoreResult<Option<Visitor>> {
        self.visitor_set_contact(ws, id, name, email, phone).await
    }

    async fn create_quick_reply(&self, r: &QuickReply) -> StoreResult<()> {
        self.qr_create(r).await
    }
    async fn get_quick_reply(
        &self,
        ws: WorkspaceId,
        id: QuickReplyId,
    ) -> StoreResult<Option<QuickReply>> {
        self.qr_get(ws, id).await
    }
    async fn list_quick_replies(
        &self,
        ws: WorkspaceId,
        owner: UserId,
    ) -> StoreResult<Vec<QuickReply>> {
        self.qr_list(ws, owner).await
    }
    async fn update_quick_reply(&self, r: &QuickReply) -> StoreResult<bool> {
        self.qr_update(r).await
    }
    async fn delete_quick_reply(&self, ws: WorkspaceId, id: QuickReplyId) -> StoreResult<bool> {
        self.qr_delete(ws, id).await
    }

    async fn create_attachment(&self, a: &Attachment) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO attachments ({ATTACHMENT_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
        ))
        .bind(a.id.0)
        .bind(a.workspace_id.0)
        .bind(a.uploader.kind.as_str())
        .bind(a.uploader.id)
        .bind(&a.uploader.name)
        .bind(&a.filename)
        .bind(&a.content_type)
        .bind(a.size)
        .bind(&a.key)
        .bind(a.created_at)
        .execute(&self.writer)
        .await
        .map_err(other)?;
        Ok(())
    }

    async fn get_attachment(&self, id: AttachmentId) -> StoreResult<Option<Attachment>> {
        let row = sqlx::query(&format!(
            "SELECT {ATTACHMENT_COLS} FROM attachments WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&self.reader)
        .await
        .map_err(other)?;
        row.as_ref().map(attachment).transpose().map_err(other)
    }
}

/// A group's working hours as stored (JSON text), `None` when always open.
fn hours_json(g: &Group) -> StoreResult<Option<String>> {
    g.hours
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(other)
}
