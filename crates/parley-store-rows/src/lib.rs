//! Rows to domain records, for both SQL backends. The stores use the same column names and
//! value types (UUIDs, Unix milliseconds as 64-bit integers, JSON as text), so one decoder per
//! record serves SQLite and PostgreSQL. Column lists live next to their decoders so they stay
//! in step.

use anyhow::Context;
use parley_domain::*;
use sqlx::Row;
use uuid::Uuid;

pub type R<T> = anyhow::Result<T>;

/// Typed column access, implemented for each backend's row type.
pub trait Get {
    fn text(&self, col: &str) -> R<String>;
    fn opt_text(&self, col: &str) -> R<Option<String>>;
    fn int(&self, col: &str) -> R<i64>;
    fn opt_int(&self, col: &str) -> R<Option<i64>>;
    fn uuid(&self, col: &str) -> R<Uuid>;
    fn opt_uuid(&self, col: &str) -> R<Option<Uuid>>;
}

macro_rules! impl_get {
    ($row:ty) => {
        impl Get for $row {
            fn text(&self, col: &str) -> R<String> {
                Ok(self.try_get(col)?)
            }
            fn opt_text(&self, col: &str) -> R<Option<String>> {
                Ok(self.try_get(col)?)
            }
            fn int(&self, col: &str) -> R<i64> {
                Ok(self.try_get(col)?)
            }
            fn opt_int(&self, col: &str) -> R<Option<i64>> {
                Ok(self.try_get(col)?)
            }
            fn uuid(&self, col: &str) -> R<Uuid> {
                Ok(self.try_get(col)?)
            }
            fn opt_uuid(&self, col: &str) -> R<Option<Uuid>> {
                Ok(self.try_get(col)?)
            }
        }
    };
}
impl_get!(sqlx::sqlite::SqliteRow);
impl_get!(sqlx::postgres::PgRow);

pub const USER_COLS: &str =
    "id, workspace_id, email, name, role, status, avatar_url, capacity, skills, created_at";

pub fn user(r: &impl Get) -> R<User> {
    Ok(User {
        id: UserId(r.uuid("id")?),
        workspace_id: WorkspaceId(r.uuid("workspace_id")?),
        email: r.text("email")?,
        name: r.text("name")?,
        role: Role::parse(&r.text("role")?).context("role")?,
        status: AgentStatus::parse(&r.text("status")?).context("status")?,
        avatar_url: r.opt_text("avatar_url")?,
        capacity: r.int("capacity")?.clamp(0, u32::MAX as i64) as u32,
        skills: serde_json::from_str(&r.text("skills")?)?,
        created_at: r.int("created_at")?,
    })
}

pub const CHANNEL_COLS: &str =
    "id, workspace_id, name, widget_key, color, welcome_text, group_id, allowed_origins, created_at, bot, \
     greeting_text, greeting_delay_secs";

pub fn channel(r: &impl Get) -> R<Channel> {
    let origins: String = r.text("allowed_origins")?;
    Ok(Channel {
        id: ChannelId(r.uuid("id")?),
        workspace_id: WorkspaceId(r.uuid("workspace_id")?),
        kind: "website",
        name: r.text("name")?,
        widget_key: r.text("widget_key")?,
        color: r.text("color")?,
        welcome_text: r.text("welcome_text")?,
        greeting_text: r.text("greeting_text")?,
        greeting_delay_secs: r.int("greeting_delay_secs")?.clamp(0, 600) as u32,
        group_id: r.opt_uuid("group_id")?.map(GroupId),
        // Loaded separately (ENTRY_POINT_SELECT) and put in place by attach_entry_points.
        entry_points: vec![],
        allowed_origins: OriginList::from_stored(serde_json::from_str(&origins)?),
        created_at: r.int("created_at")?,
        bot: match r.opt_text("bot")? {
            Some(json) => Some(serde_json::from_str(&json)?),
            None => None,
        },
    })
}

/// Channels' entry options with their group's name; callers add a WHERE on `e.workspace_id`
/// (and `e.channel_id`) and order by `e.position`.
pub const ENTRY_POINT_SELECT: &str =
    "SELECT e.channel_id, e.group_id, e.label, g.name AS group_name \
     FROM channel_entry_points e JOIN agent_groups g ON g.id = e.group_id";

pub fn entry_point(r: &impl Get) -> R<(ChannelId, EntryPoint)> {
    Ok((
        ChannelId(r.uuid("channel_id")?),
        EntryPoint {
            group_id: GroupId(r.uuid("group_id")?),
            label: r.text("label")?,
            group_name: r.text("group_name")?,
        },
    ))
}

/// Gives each channel its entry options, keeping their order.
pub fn attach_entry_points(channels: &mut [Channel], options: Vec<(ChannelId, EntryPoint)>) {
    for (channel, option) in options {
        if let Some(c) = channels.iter_mut().find(|c| c.id == channel) {
            c.entry_points.push(option);
        }
    }
}

pub const VISITOR_COLS: &str =
    "id, workspace_id, channel_id, name, email, current_url, current_title, referrer, \
     user_agent, browser, os, language, ip, first_seen_at, last_seen_at, phone, tags";

pub fn visitor(r: &impl Get) -> R<Visitor> {
    let id = VisitorId(r.uuid("id")?);
    Ok(Visitor {
        id,
        workspace_id: WorkspaceId(r.uuid("workspace_id")?),
        channel_id: ChannelId(r.uuid("channel_id")?),
        name: r.opt_text("name")?,
        email: r.opt_text("email")?,
        phone: r.opt_text("phone")?,
        tags: serde_json::from_str(&r.text("tags")?)?,
        display_name: r
            .opt_text("name")?
            .unwrap_or_else(|| Visitor::default_display_name(id)),
        current_url: r.opt_text("current_url")?,
        current_title: r.opt_text("current_title")?,
        referrer: r.opt_text("referrer")?,
        user_agent: r.opt_text("user_agent")?,
        browser: r.opt_text("browser")?,
        os: r.opt_text("os")?,
        language: r.opt_text("language")?,
        ip: r.opt_text("ip")?,
        first_seen_at: r.int("first_seen_at")?,
        last_seen_at: r.int("last_seen_at")?,
    })
}

pub const CONVERSATION_COLS: &str =
    "id, workspace_id, channel_id, visitor_id, status, assignee_id, group_id, priority, \
     queued_at, awaiting_reply_since, required_skill, last_seq, created_at, updated_at, bot_active, bot_misses";

pub fn conversation(r: &impl Get) -> R<Conversation> {
    Ok(Conversation {
        id: ConversationId(r.uuid("id")?),
        workspace_id: WorkspaceId(r.uuid("workspace_id")?),
        channel_id: ChannelId(r.uuid("channel_id")?),
        visitor_id: VisitorId(r.uuid("visitor_id")?),
        status: ConversationStatus::parse(&r.text("status")?).context("status")?,
        assignee_id: r.opt_uuid("assignee_id")?.map(UserId),
        group_id: r.opt_uuid("group_id")?.map(GroupId),
        priority: r.int("priority")? as i32,
        queued_at: r.opt_int("queued_at")?,
        awaiting_reply_since: r.opt_int("awaiting_reply_since")?,
        required_skill: r.opt_text("required_skill")?,
        bot_active: r.int("bot_active")? != 0,
        bot_misses: r.int("bot_misses")? as i32,
        last_seq: r.int("last_seq")?,
        created_at: r.int("created_at")?,
        updated_at: r.int("updated_at")?,
    })
}

/// Unread counts stop at this (the console shows "99+"): counting is then at most this many
/// rows per conversation, where an exact count read every unread message on every new one,
/// which made a busy conversation nobody had read cost more with each message.
pub const UNREAD_CAP: i64 = 100;

/// Columns of the conversation list: the conversation joined with its channel, visitor and
/// assignee, and the viewer's unread count (bound as parameter `$2`, at most `UNREAD_CAP`).
pub const SUMMARY_SELECT: &str = "SELECT c.id, c.channel_id, ch.name AS channel_name, c.status, c.visitor_id, \
     v.name AS visitor_name, v.email AS visitor_email, c.assignee_id, u.name AS assignee_name, \
     u.avatar_url AS assignee_avatar, c.group_id, c.tags, c.follow_up, c.queued_at, c.last_seq, c.last_message_body, c.last_message_sender, \
     c.last_message_at, c.created_at, c.updated_at, \
     (SELECT COUNT(*) FROM (SELECT 1 FROM events e WHERE e.conversation_id = c.id AND e.kind = 'message' \
        AND e.sender_kind = 'visitor' AND e.seq > COALESCE((SELECT r.last_read_seq FROM conversation_reads r \
        WHERE r.conversation_id = c.id AND r.user_id = $2), 0) LIMIT 100) unread) AS unread_count \
     FROM conversations c JOIN channels ch ON ch.id = c.channel_id JOIN visitors v ON v.id = c.visitor_id \
     LEFT JOIN users u ON u.id = c.assignee_id";

/// Unread visitor messages (at most `UNREAD_CAP`) per reader of a conversation; each backend
/// adds its WHERE on `c.workspace_id` and `r.conversation_id`.
pub const UNREAD_BY_READER_SELECT: &str = "SELECT r.conversation_id, r.user_id, \
     (SELECT COUNT(*) FROM (SELECT 1 FROM events e WHERE e.conversation_id = r.conversation_id \
        AND e.kind = 'message' AND e.sender_kind = 'visitor' AND e.seq > r.last_read_seq LIMIT 100) unread) AS unread \
     FROM conversation_reads r JOIN conversations c ON c.id = r.conversation_id";

pub fn summary(r: &impl Get) -> R<ConversationSummary> {
    let visitor_id = VisitorId(r.uuid("visitor_id")?);
    let visitor_name: Option<String> = r.opt_text("visitor_name")?;
    let assignee = match r.opt_uuid("assignee_id")? {
        Some(id) => Some(UserRef {
            id: UserId(id),
            name: r.opt_text("assignee_name")?.unwrap_or_default(),
            avatar_url: r.opt_text("assignee_avatar")?,
        }),
        None => None,
    };
    let last_message = match (
        r.opt_text("last_message_body")?,
        r.opt_text("last_message_sender")?,
        r.opt_int("last_message_at")?,
    ) {
        (Some(body), Some(sender), Some(at)) => Some(LastMessage {
            body,
            sender_kind: SenderKind::parse(&sender).context("sender")?,
            created_at: at,
        }),
        _ => None,
    };
    Ok(ConversationSummary {
        id: ConversationId(r.uuid("id")?),
        channel_id: ChannelId(r.uuid("channel_id")?),
        channel_name: r.text("channel_name")?,
        status: ConversationStatus::parse(&r.text("status")?).context("status")?,
        visitor: VisitorRef {
            id: visitor_id,
            display_name: visitor_name
                .clone()
                .unwrap_or_else(|| Visitor::default_display_name(visitor_id)),
            name: visitor_name,
            email: r.opt_text("visitor_email")?,
        },
        assignee,
        group_id: r.opt_uuid("group_id")?.map(GroupId),
        tags: serde_json::from_str(&r.text("tags")?)?,
        follow_up: r.int("follow_up")? != 0,
        queued_at: r.opt_int("queued_at")?,
        last_seq: r.int("last_seq")?,
        unread_count: r.int("unread_count")?,
        last_message,
        created_at: r.int("created_at")?,
        updated_at: r.int("updated_at")?,
    })
}

pub const EVENT_COLS: &str = "id, workspace_id, conversation_id, seq, kind, sender_kind, sender_id, sender_name, \
     sender_avatar, client_id, body, attachments, status, assignee_id, assignee_name, assignee_avatar, note, created_at, reason, buttons";

pub fn event(r: &impl Get) -> R<Event> {
    let attachments: String = r.text("attachments")?;
    let status: Option<String> = r.opt_text("status")?;
    let assignee = match r.opt_uuid("assignee_id")? {
        Some(id) => Some(UserRef {
            id: UserId(id),
            name: r.opt_text("assignee_name")?.unwrap_or_default(),
            avatar_url: r.opt_text("assignee_avatar")?,
        }),
        None => None,
    };
    Ok(Event {
        id: EventId(r.uuid("id")?),
        workspace_id: WorkspaceId(r.uuid("workspace_id")?),
        conversation_id: ConversationId(r.uuid("conversation_id")?),
        seq: r.int("seq")?,
        kind: EventKind::parse(&r.text("kind")?).context("kind")?,
        created_at: r.int("created_at")?,
        sender: Sender {
            kind: SenderKind::parse(&r.text("sender_kind")?).context("sender kind")?,
            id: r.opt_uuid("sender_id")?,
            name: r.opt_text("sender_name")?,
            avatar_url: r.opt_text("sender_avatar")?,
        },
        client_id: r.opt_text("client_id")?,
        body: r.opt_text("body")?,
        attachments: serde_json::from_str(&attachments)?,
        status: status.as_deref().and_then(ConversationStatus::parse),
        assignee,
        note: r.opt_text("note")?,
        reason: match r.opt_text("reason")? {
            Some(json) => serde_json::from_str(&json)?,
            None => vec![],
        },
        buttons: match r.opt_text("buttons")? {
            Some(json) => serde_json::from_str(&json)?,
            None => vec![],
        },
    })
}

pub const ATTACHMENT_COLS: &str =
    "id, workspace_id, uploader_kind, uploader_id, uploader_name, filename, content_type, size, key, created_at";

pub fn attachment(r: &impl Get) -> R<Attachment> {
    Ok(Attachment {
        id: AttachmentId(r.uuid("id")?),
        workspace_id: WorkspaceId(r.uuid("workspace_id")?),
        uploader: Sender {
            kind: SenderKind::parse(&r.text("uploader_kind")?).context("uploader kind")?,
            id: r.opt_uuid("uploader_id")?,
            name: r.opt_text("uploader_name")?,
            avatar_url: None,
        },
        filename: r.text("filename")?,
        content_type: r.text("content_type")?,
        size: r.int("size")?,
        key: r.text("key")?,
        created_at: r.int("created_at")?,
    })
}

pub const TOKEN_COLS: &str = "id, name, created_at, last_used_at";

pub fn token(r: &impl Get) -> R<ApiToken> {
    Ok(ApiToken {
        id: TokenId(r.uuid("id")?),
        name: r.text("name")?,
        created_at: r.int("created_at")?,
        last_used_at: r.opt_int("last_used_at")?,
    })
}

pub const GROUP_COLS: &str =
    "id, workspace_id, name, policy, tier, reply_timeout_secs, queue_timeout_secs, created_at, hours";

/// A group without its members (the stores add them from `group_members`).
pub fn group(r: &impl Get) -> R<Group> {
    Ok(Group {
        id: GroupId(r.uuid("id")?),
        workspace_id: WorkspaceId(r.uuid("workspace_id")?),
        name: r.text("name")?,
        policy: serde_json::from_str(&r.text("policy")?)?,
        tier: r.int("tier")? as i32,
        reply_timeout_secs: r.opt_int("reply_timeout_secs")?,
        queue_timeout_secs: r.opt_int("queue_timeout_secs")?,
        hours: match r.opt_text("hours")? {
            Some(h) => Some(serde_json::from_str(&h)?),
            None => None,
        },
        members: vec![],
        created_at: r.int("created_at")?,
    })
}

/// A group member row joined with the user's name (`gm.*`, `u.name`).
pub fn member(r: &impl Get) -> R<(GroupId, GroupMember)> {
    Ok((
        GroupId(r.uuid("group_id")?),
        GroupMember {
            user_id: UserId(r.uuid("user_id")?),
            name: r.text("name")?,
            priority: r.int("priority")? as i32,
        },
    ))
}

pub const RULE_COLS: &str = "id, workspace_id, keywords, group_id, skill, priority, escalation";

pub fn rule(r: &impl Get) -> R<parley_domain::routing::RoutingRule> {
    Ok(parley_domain::routing::RoutingRule {
        id: RuleId(r.uuid("id")?),
        workspace_id: WorkspaceId(r.uuid("workspace_id")?),
        keywords: serde_json::from_str(&r.text("keywords")?)?,
        group_id: r.opt_uuid("group_id")?.map(GroupId),
        skill: r.opt_text("skill")?,
        priority: r.opt_int("priority")?.map(|p| p as i32),
        escalation: r.int("escalation")? != 0,
    })
}

pub const KB_CATEGORY_COLS: &str = "id, workspace_id, name, position, created_at";

pub fn kb_category(r: &impl Get) -> R<Category> {
    Ok(Category {
        id: CategoryId(r.uuid("id")?),
        workspace_id: WorkspaceId(r.uuid("workspace_id")?),
        name: r.text("name")?,
        position: r.int("position")? as i32,
        created_at: r.int("created_at")?,
    })
}

pub const KB_ARTICLE_COLS: &str =
    "id, workspace_id, category_id, locale, title, body_markdown, keywords, tags, status, \
     version, published_version, published_at, views, helpful_yes, helpful_no, created_at, updated_at";

pub fn kb_article(r: &impl Get) -> R<Article> {
    Ok(Article {
        id: ArticleId(r.uuid("id")?),
        workspace_id: WorkspaceId(r.uuid("workspace_id")?),
        category_id: r.opt_uuid("category_id")?.map(CategoryId),
        locale: KbLocale::parse(&r.text("locale")?)?,
        title: r.text("title")?,
        body_markdown: r.text("body_markdown")?,
        keywords: serde_json::from_str(&r.text("keywords")?)?,
        tags: serde_json::from_str(&r.text("tags")?)?,
        status: ArticleStatus::parse(&r.text("status")?).context("status")?,
        version: r.int("version")?,
        published_version: r.opt_int("published_version")?,
        published_at: r.opt_int("published_at")?,
        views: r.int("views")?,
        helpful_yes: r.int("helpful_yes")?,
        helpful_no: r.int("helpful_no")?,
        created_at: r.int("created_at")?,
        updated_at: r.int("updated_at")?,
    })
}

/// Also has `workspace_id`, written but not decoded.
pub const KB_VERSION_COLS: &str =
    "article_id, version, title, body_markdown, keywords, tags, restored_from, edited_by, created_at";

pub fn kb_version(r: &impl Get) -> R<ArticleVersion> {
    Ok(ArticleVersion {
        article_id: ArticleId(r.uuid("article_id")?),
        version: r.int("version")?,
        title: r.text("title")?,
        body_markdown: r.text("body_markdown")?,
        keywords: serde_json::from_str(&r.text("keywords")?)?,
        tags: serde_json::from_str(&r.text("tags")?)?,
        restored_from: r.opt_int("restored_from")?,
        edited_by: UserId(r.uuid("edited_by")?),
        created_at: r.int("created_at")?,
    })
}

/// Published articles with their published version's content; callers add a WHERE on
/// `a.workspace_id`.
pub const KB_PUBLISHED_SELECT: &str =
    "SELECT a.id, a.workspace_id, a.category_id, a.locale, v.version, v.title, v.body_markdown, \
     v.keywords, v.tags, a.views, a.helpful_yes, a.helpful_no, a.published_at \
     FROM kb_articles a JOIN kb_article_versions v ON v.article_id = a.id AND v.version = a.published_version";

pub fn kb_published(r: &impl Get) -> R<PublishedArticle> {
    Ok(PublishedArticle {
        id: ArticleId(r.uuid("id")?),
        workspace_id: WorkspaceId(r.uuid("workspace_id")?),
        category_id: r.opt_uuid("category_id")?.map(CategoryId),
        locale: KbLocale::parse(&r.text("locale")?)?,
        version: r.int("version")?,
        title: r.text("title")?,
        body_markdown: r.text("body_markdown")?,
        keywords: serde_json::from_str(&r.text("keywords")?)?,
        tags: serde_json::from_str(&r.text("tags")?)?,
        views: r.int("views")?,
        helpful_yes: r.int("helpful_yes")?,
        helpful_no: r.int("helpful_no")?,
        published_at: r.opt_int("published_at")?.unwrap_or_default(),
    })
}

pub const QUICK_REPLY_COLS: &str =
    "id, workspace_id, owner_id, shortcut, title, text, category, created_at, updated_at";

pub fn quick_reply(r: &impl Get) -> R<QuickReply> {
    let owner_id = r.opt_uuid("owner_id")?.map(UserId);
    Ok(QuickReply {
        id: QuickReplyId(r.uuid("id")?),
        workspace_id: WorkspaceId(r.uuid("workspace_id")?),
        scope: if owner_id.is_some() {
            ReplyScope::Personal
        } else {
            ReplyScope::Team
        },
        owner_id,
        shortcut: r.text("shortcut")?,
        title: r.text("title")?,
        text: r.text("text")?,
        category: r.text("category")?,
        created_at: r.int("created_at")?,
        updated_at: r.int("updated_at")?,
    })
}

pub const UNANSWERED_COLS: &str =
    "id, workspace_id, channel_id, conversation_id, question, article_id, resolved_at, created_at";

pub fn unanswered(r: &impl Get) -> R<Unanswered> {
    Ok(Unanswered {
        id: UnansweredId(r.uuid("id")?),
        workspace_id: WorkspaceId(r.uuid("workspace_id")?),
        channel_id: ChannelId(r.uuid("channel_id")?),
        conversation_id: ConversationId(r.uuid("conversation_id")?),
        question: r.text("question")?,
        article_id: r.opt_uuid("article_id")?.map(ArticleId),
        resolved_at: r.opt_int("resolved_at")?,
        created_at: r.int("created_at")?,
    })
}

pub const AUTO_REPLY_COLS: &str = "id, workspace_id, position, name, keywords, mode, channel_ids, \
     time_window, reply, buttons, enabled, hits, created_at, updated_at, visitor_tags";

pub fn auto_reply(r: &impl Get) -> R<AutoReply> {
    Ok(AutoReply {
        id: AutoReplyId(r.uuid("id")?),
        workspace_id: WorkspaceId(r.uuid("workspace_id")?),
        position: r.int("position")? as i32,
        name: r.text("name")?,
        keywords: serde_json::from_str(&r.text("keywords")?)?,
        mode: MatchMode::parse(&r.text("mode")?).context("mode")?,
        channel_ids: serde_json::from_str(&r.text("channel_ids")?)?,
        window: match r.opt_text("time_window")? {
            Some(json) => Some(serde_json::from_str(&json)?),
            None => None,
        },
        visitor_tags: serde_json::from_str(&r.text("visitor_tags")?)?,
        reply: r.text("reply")?,
        buttons: serde_json::from_str(&r.text("buttons")?)?,
        enabled: r.int("enabled")? != 0,
        hits: r.int("hits")?,
        created_at: r.int("created_at")?,
        updated_at: r.int("updated_at")?,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn unread_counts_stop_at_the_cap() {
        let limit = format!("LIMIT {}", super::UNREAD_CAP);
        assert!(super::SUMMARY_SELECT.contains(&limit));
        assert!(super::UNREAD_BY_READER_SELECT.contains(&limit));
    }
}

/// What the state UPDATE after new events writes as the conversation's last-message preview:
/// the last message among `events`, or nothing (every field `None`) when there is none. The
/// SQL of each backend cuts the body to 200 characters, or names the first attachment of a
/// message without text.
pub struct Preview<'a> {
    pub body: Option<&'a str>,
    /// The attachments as JSON.
    pub attachments: Option<String>,
    pub sender: Option<&'static str>,
    pub at: Option<i64>,
}

pub fn preview(events: &[Event]) -> Preview<'_> {
    match events.iter().rev().find(|e| e.kind == EventKind::Message) {
        Some(m) => Preview {
            body: m.body.as_deref(),
            attachments: serde_json::to_string(&m.attachments).ok(),
            sender: Some(m.sender.kind.as_str()),
            at: Some(m.created_at),
        },
        None => Preview {
            body: None,
            attachments: None,
            sender: None,
            at: None,
        },
    }
}
