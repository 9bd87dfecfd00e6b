//! Rows to domain records. Column lists live next to their decoders so they stay in step.

use anyhow::Context;
use parley_domain::*;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use uuid::Uuid;

pub type R<T> = anyhow::Result<T>;

pub const USER_COLS: &str = "id, workspace_id, email, name, role, status, avatar_url, created_at";

pub fn user(r: &SqliteRow) -> R<User> {
    Ok(User {
        id: UserId(r.try_get("id")?),
        workspace_id: WorkspaceId(r.try_get("workspace_id")?),
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        role: Role::parse(r.try_get("role")?).context("role")?,
        status: AgentStatus::parse(r.try_get("status")?).context("status")?,
        avatar_url: r.try_get("avatar_url")?,
        created_at: r.try_get("created_at")?,
    })
}

pub const CHANNEL_COLS: &str =
    "id, workspace_id, name, widget_key, color, welcome_text, allowed_origins, created_at";

pub fn channel(r: &SqliteRow) -> R<Channel> {
    let origins: String = r.try_get("allowed_origins")?;
    Ok(Channel {
        id: ChannelId(r.try_get("id")?),
        workspace_id: WorkspaceId(r.try_get("workspace_id")?),
        kind: "website",
        name: r.try_get("name")?,
        widget_key: r.try_get("widget_key")?,
        color: r.try_get("color")?,
        welcome_text: r.try_get("welcome_text")?,
        allowed_origins: OriginList::from_stored(serde_json::from_str(&origins)?),
        created_at: r.try_get("created_at")?,
    })
}

pub const VISITOR_COLS: &str =
    "id, workspace_id, channel_id, name, email, current_url, current_title, referrer, \
     user_agent, browser, os, language, ip, first_seen_at, last_seen_at";

pub fn visitor(r: &SqliteRow) -> R<Visitor> {
    let id = VisitorId(r.try_get("id")?);
    Ok(Visitor {
        id,
        workspace_id: WorkspaceId(r.try_get("workspace_id")?),
        channel_id: ChannelId(r.try_get("channel_id")?),
        name: r.try_get("name")?,
        email: r.try_get("email")?,
        display_name: r
            .try_get::<Option<String>, _>("name")?
            .unwrap_or_else(|| Visitor::default_display_name(id)),
        current_url: r.try_get("current_url")?,
        current_title: r.try_get("current_title")?,
        referrer: r.try_get("referrer")?,
        user_agent: r.try_get("user_agent")?,
        browser: r.try_get("browser")?,
        os: r.try_get("os")?,
        language: r.try_get("language")?,
        ip: r.try_get("ip")?,
        first_seen_at: r.try_get("first_seen_at")?,
        last_seen_at: r.try_get("last_seen_at")?,
    })
}

pub const CONVERSATION_COLS: &str =
    "id, workspace_id, channel_id, visitor_id, status, assignee_id, last_seq, created_at, updated_at";

pub fn conversation(r: &SqliteRow) -> R<Conversation> {
    Ok(Conversation {
        id: ConversationId(r.try_get("id")?),
        workspace_id: WorkspaceId(r.try_get("workspace_id")?),
        channel_id: ChannelId(r.try_get("channel_id")?),
        visitor_id: VisitorId(r.try_get("visitor_id")?),
        status: ConversationStatus::parse(r.try_get("status")?).context("status")?,
        assignee_id: r.try_get::<Option<Uuid>, _>("assignee_id")?.map(UserId),
        last_seq: r.try_get("last_seq")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Columns of the conversation list: the conversation joined with its channel, visitor and
/// assignee, and the viewer's unread count (bound as parameter `$2`).
pub const SUMMARY_SELECT: &str = "SELECT c.id, c.channel_id, ch.name AS channel_name, c.status, c.visitor_id, \
     v.name AS visitor_name, v.email AS visitor_email, c.assignee_id, u.name AS assignee_name, \
     u.avatar_url AS assignee_avatar, c.last_seq, c.last_message_body, c.last_message_sender, \
     c.last_message_at, c.created_at, c.updated_at, \
     (SELECT COUNT(*) FROM events e WHERE e.conversation_id = c.id AND e.kind = 'message' \
        AND e.sender_kind = 'visitor' AND e.seq > COALESCE((SELECT r.last_read_seq FROM conversation_reads r \
        WHERE r.conversation_id = c.id AND r.user_id = $2), 0)) AS unread_count \
     FROM conversations c JOIN channels ch ON ch.id = c.channel_id JOIN visitors v ON v.id = c.visitor_id \
     LEFT JOIN users u ON u.id = c.assignee_id";

pub fn summary(r: &SqliteRow) -> R<ConversationSummary> {
    let visitor_id = VisitorId(r.try_get("visitor_id")?);
    let visitor_name: Option<String> = r.try_get("visitor_name")?;
    let assignee = match r.try_get::<Option<Uuid>, _>("assignee_id")? {
        Some(id) => Some(UserRef {
            id: UserId(id),
            name: r
                .try_get::<Option<String>, _>("assignee_name")?
                .unwrap_or_default(),
            avatar_url: r.try_get("assignee_avatar")?,
        }),
        None => None,
    };
    let last_message = match (
        r.try_get::<Option<String>, _>("last_message_body")?,
        r.try_get::<Option<String>, _>("last_message_sender")?,
        r.try_get::<Option<i64>, _>("last_message_at")?,
    ) {
        (Some(body), Some(sender), Some(at)) => Some(LastMessage {
            body,
            sender_kind: SenderKind::parse(&sender).context("sender")?,
            created_at: at,
        }),
        _ => None,
    };
    Ok(ConversationSummary {
        id: ConversationId(r.try_get("id")?),
        channel_id: ChannelId(r.try_get("channel_id")?),
        channel_name: r.try_get("channel_name")?,
        status: ConversationStatus::parse(r.try_get("status")?).context("status")?,
        visitor: VisitorRef {
            id: visitor_id,
            display_name: visitor_name
                .clone()
                .unwrap_or_else(|| Visitor::default_display_name(visitor_id)),
            name: visitor_name,
            email: r.try_get("visitor_email")?,
        },
        assignee,
        last_seq: r.try_get("last_seq")?,
        unread_count: r.try_get("unread_count")?,
        last_message,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub const EVENT_COLS: &str = "id, workspace_id, conversation_id, seq, kind, sender_kind, sender_id, sender_name, \
     sender_avatar, client_id, body, attachments, status, assignee_id, assignee_name, assignee_avatar, created_at";

pub fn event(r: &SqliteRow) -> R<Event> {
    let attachments: String = r.try_get("attachments")?;
    let status: Option<String> = r.try_get("status")?;
    let assignee = match r.try_get::<Option<Uuid>, _>("assignee_id")? {
        Some(id) => Some(UserRef {
            id: UserId(id),
            name: r
                .try_get::<Option<String>, _>("assignee_name")?
                .unwrap_or_default(),
            avatar_url: r.try_get("assignee_avatar")?,
        }),
        None => None,
    };
    Ok(Event {
        id: EventId(r.try_get("id")?),
        workspace_id: WorkspaceId(r.try_get("workspace_id")?),
        conversation_id: ConversationId(r.try_get("conversation_id")?),
        seq: r.try_get("seq")?,
        kind: EventKind::parse(r.try_get("kind")?).context("kind")?,
        created_at: r.try_get("created_at")?,
        sender: Sender {
            kind: SenderKind::parse(r.try_get("sender_kind")?).context("sender kind")?,
            id: r.try_get("sender_id")?,
            name: r.try_get("sender_name")?,
            avatar_url: r.try_get("sender_avatar")?,
        },
        client_id: r.try_get("client_id")?,
        body: r.try_get("body")?,
        attachments: serde_json::from_str(&attachments)?,
        status: status.as_deref().and_then(ConversationStatus::parse),
        assignee,
    })
}

pub const ATTACHMENT_COLS: &str =
    "id, workspace_id, uploader_kind, uploader_id, uploader_name, filename, content_type, size, key, created_at";

pub fn attachment(r: &SqliteRow) -> R<Attachment> {
    Ok(Attachment {
        id: AttachmentId(r.try_get("id")?),
        workspace_id: WorkspaceId(r.try_get("workspace_id")?),
        uploader: Sender {
            kind: SenderKind::parse(r.try_get("uploader_kind")?).context("uploader kind")?,
            id: r.try_get("uploader_id")?,
            name: r.try_get("uploader_name")?,
            avatar_url: None,
        },
        filename: r.try_get("filename")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        key: r.try_get("key")?,
        created_at: r.try_get("created_at")?,
    })
}

pub const TOKEN_COLS: &str = "id, name, created_at, last_used_at";

pub fn token(r: &SqliteRow) -> R<ApiToken> {
    Ok(ApiToken {
        id: TokenId(r.try_get("id")?),
        name: r.try_get("name")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}
