//! The records of the system. Those that appear in the API serialize to exactly the shapes
//! documented in docs/protocol.md.

use crate::*;
use serde::{Serialize, Serializer};
use utoipa::ToSchema;

pub(crate) fn ts<S: Serializer>(ms: &Millis, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*ms))
}

fn parse_ts<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Millis, D::Error> {
    let s = <String as serde::Deserialize>::deserialize(d)?;
    let t = time::OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339)
        .map_err(serde::de::Error::custom)?;
    Ok((t.unix_timestamp_nanos() / 1_000_000) as Millis)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    #[serde(serialize_with = "ts")]
    #[schema(value_type = String)]
    pub created_at: Millis,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    pub id: UserId,
    #[serde(skip)]
    pub workspace_id: WorkspaceId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub status: AgentStatus,
    pub avatar_url: Option<String>,
    /// Most conversations at once (最大接待数).
    pub capacity: u32,
    pub skills: Vec<String>,
    #[serde(serialize_with = "ts")]
    #[schema(value_type = String)]
    pub created_at: Millis,
}

impl User {
    pub fn as_ref(&self) -> UserRef {
        UserRef {
            id: self.id,
            name: self.name.clone(),
            avatar_url: self.avatar_url.clone(),
        }
    }
}

/// A person as shown next to something they did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct UserRef {
    pub id: UserId,
    pub name: String,
    pub avatar_url: Option<String>,
}

/// A user with the secret needed to sign in; never serialized.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Channel {
    pub id: ChannelId,
    #[serde(skip)]
    pub workspace_id: WorkspaceId,
    pub kind: &'static str,
    pub name: String,
    pub widget_key: String,
    pub color: String,
    pub welcome_text: String,
    /// Shown by the widget as a message from the channel `greeting_delay_secs` after the chat
    /// opens, once per visitor session; not stored (主动邀请语). Empty: none.
    pub greeting_text: String,
    /// 0: no greeting; at most 600.
    pub greeting_delay_secs: u32,
    /// Conversations from this channel are routed to this group; none means agents pick them
    /// from the unassigned list.
    pub group_id: Option<GroupId>,
    /// The groups the visitor may pick from before the chat starts, in order; empty: none
    /// offered (conversations go to `group_id`).
    pub entry_points: Vec<EntryPoint>,
    /// The FAQ bot that answers first; `None`: no bot.
    pub bot: Option<crate::BotSettings>,
    #[schema(value_type = Vec<String>)]
    #[serde(serialize_with = "origins")]
    pub allowed_origins: OriginList,
    #[serde(serialize_with = "ts")]
    #[schema(value_type = String)]
    pub created_at: Millis,
}

fn origins<S: Serializer>(o: &OriginList, s: S) -> Result<S::Ok, S::Error> {
    o.as_slice().serialize(s)
}

impl Channel {
    /// The `<script>` tag a site owner pastes into their pages.
    pub fn snippet(&self, public_url: &str) -> String {
        format!(
            "<script async src=\"{}/widget/loader.js\" data-parley-key=\"{}\"></script>",
            public_url.trim_end_matches('/'),
            self.widget_key
        )
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Visitor {
    pub id: VisitorId,
    #[serde(skip)]
    pub workspace_id: WorkspaceId,
    #[serde(skip)]
    pub channel_id: ChannelId,
    pub name: Option<String>,
    pub email: Option<String>,
    /// Given in the leave-a-message form.
    pub phone: Option<String>,
    /// Set by agents (VIP, 老客户 …); never shown to the visitor.
    pub tags: Vec<String>,
    pub display_name: String,
    pub current_url: Option<String>,
    pub current_title: Option<String>,
    pub referrer: Option<String>,
    pub user_agent: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub language: Option<String>,
    pub ip: Option<String>,
    #[serde(serialize_with = "ts")]
    #[schema(value_type = String)]
    pub first_seen_at: Millis,
    #[serde(serialize_with = "ts")]
    #[schema(value_type = String)]
    pub last_seen_at: Millis,
}

impl Visitor {
    /// "Visitor 3FA2" from the random tail of the id, for visitors who have not given a name.
    pub fn default_display_name(id: VisitorId) -> String {
        let s = id.0.simple().to_string();
        format!("Visitor {}", s[s.len() - 4..].to_uppercase())
    }
}

/// What a visitor's browser tells us about where they are; all fields optional and clipped.
#[derive(Debug, Clone, Default)]
pub struct VisitorContext {
    pub url: Option<String>,
    pub title: Option<String>,
    pub referrer: Option<String>,
    pub user_agent: Option<String>,
    pub language: Option<String>,
    pub ip: Option<String>,
}

impl VisitorContext {
    pub fn clipped(
        url: Option<&str>,
        title: Option<&str>,
        referrer: Option<&str>,
        user_agent: Option<&str>,
        language: Option<&str>,
        ip: Option<&str>,
    ) -> Self {
        VisitorContext {
            url: clip(url, 2000),
            title: clip(title, 300),
            referrer: clip(referrer, 2000),
            user_agent: clip(user_agent, 500),
            language: clip(language, 35),
            ip: clip(ip, 64),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Conversation {
    pub id: ConversationId,
    pub workspace_id: WorkspaceId,
    pub channel_id: ChannelId,
    pub visitor_id: VisitorId,
    pub status: ConversationStatus,
    pub assignee_id: Option<UserId>,
    pub group_id: Option<GroupId>,
    /// Higher waits less in the queue (VIP).
    pub priority: i32,
    /// Set while waiting in the queue.
    pub queued_at: Option<Millis>,
    /// Set on assignment until the assignee first replies.
    pub awaiting_reply_since: Option<Millis>,
    /// The skill routing must look for (set by a keyword rule).
    pub required_skill: Option<String>,
    /// The channel's bot is answering; the conversation is not routed until it hands over or
    /// an agent replies.
    pub bot_active: bool,
    /// Questions in a row the bot could not answer.
    pub bot_misses: i32,
    pub last_seq: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VisitorRef {
    pub id: VisitorId,
    pub display_name: String,
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LastMessage {
    pub body: String,
    pub sender_kind: SenderKind,
    #[serde(serialize_with = "ts")]
    #[schema(value_type = String)]
    pub created_at: Millis,
}

/// A conversation as listed in the workspace, from the point of view of one user.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConversationSummary {
    pub id: ConversationId,
    pub channel_id: ChannelId,
    pub channel_name: String,
    pub status: ConversationStatus,
    pub visitor: VisitorRef,
    pub assignee: Option<UserRef>,
    pub group_id: Option<GroupId>,
    pub tags: Vec<String>,
    /// 待跟进: someone has to come back to it.
    pub follow_up: bool,
    /// When it started waiting, while it is in the queue.
    #[schema(value_type = Option<String>)]
    #[serde(serialize_with = "opt_ts")]
    pub queued_at: Option<Millis>,
    pub last_seq: i64,
    /// The viewer's unread visitor messages, counted up to 100 (shown as "99+").
    pub unread_count: i64,
    pub last_message: Option<LastMessage>,
    #[serde(serialize_with = "ts")]
    #[schema(value_type = String)]
    pub created_at: Millis,
    #[serde(serialize_with = "ts")]
    #[schema(value_type = String)]
    pub updated_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct Sender {
    pub kind: SenderKind,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub id: Option<uuid::Uuid>,
    pub name: Option<String>,
    pub avatar_url: Option<String>,
}

/// A stored file. `key` is the unguessable capability that appears in its URL.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub id: AttachmentId,
    pub workspace_id: WorkspaceId,
    pub uploader: Sender,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub key: String,
    pub created_at: Millis,
}

impl Attachment {
    pub fn public(&self) -> AttachmentRef {
        AttachmentRef {
            id: self.id,
            filename: self.filename.clone(),
            content_type: self.content_type.clone(),
            size: self.size,
            is_image: is_inline_image(&self.content_type),
            url: format!(
                "/files/{}/{}/{}",
                self.id,
                self.key,
                url_safe_name(&self.filename)
            ),
        }
    }
}

/// Raster images that browsers display inline. SVG is excluded: it can carry script.
pub fn is_inline_image(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp"
    )
}

fn url_safe_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        "file".into()
    } else {
        s
    }
}

/// An attachment as it appears inside a message event (a snapshot stored with the event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct AttachmentRef {
    pub id: AttachmentId,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub is_image: bool,
    pub url: String,
}

/// Everything that happens in a conversation, numbered by `seq` without gaps.
/// Deserialize is for the cross-node bus, which carries the workspace beside the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct Event {
    pub id: EventId,
    #[serde(skip)]
    pub workspace_id: WorkspaceId,
    pub conversation_id: ConversationId,
    pub seq: i64,
    pub kind: EventKind,
    #[serde(serialize_with = "ts", deserialize_with = "parse_ts")]
    #[schema(value_type = String)]
    pub created_at: Millis,
    pub sender: Sender,
    pub client_id: Option<String>,
    pub body: Option<String>,
    pub attachments: Vec<AttachmentRef>,
    pub status: Option<ConversationStatus>,
    pub assignee: Option<UserRef>,
    /// A colleague's note (transfers). Events written before reasons were structured may also
    /// carry an English routing explanation here.
    pub note: Option<String>,
    /// Why the system did this (routing, timeouts, transfers), clause by clause; empty for
    /// ordinary messages. Clients render it in the reader's language.
    pub reason: Vec<crate::Reason>,
    /// Buttons under an automatic message (the bot's related questions, a help-centre link);
    /// empty for people's messages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Button>,
}

/// A button under an automatic message. Without `url` a click sends `label` as the visitor's
/// message; with one it opens that page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct Button {
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// An event before the store gives it an id and a sequence number.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: EventKind,
    pub sender: Sender,
    pub client_id: Option<ClientId>,
    pub body: Option<String>,
    pub attachments: Vec<AttachmentRef>,
    pub status: Option<ConversationStatus>,
    pub assignee: Option<UserRef>,
    pub note: Option<String>,
    pub reason: Vec<crate::Reason>,
    pub buttons: Vec<Button>,
}

impl NewEvent {
    pub fn message(
        sender: Sender,
        client_id: ClientId,
        body: MessageBody,
        attachments: Vec<AttachmentRef>,
    ) -> Self {
        NewEvent {
            kind: EventKind::Message,
            sender,
            client_id: Some(client_id),
            body: Some(body.as_str().to_owned()),
            attachments,
            status: None,
            assignee: None,
            note: None,
            reason: vec![],
            buttons: vec![],
        }
    }
    pub fn status(sender: Sender, status: ConversationStatus) -> Self {
        NewEvent {
            kind: EventKind::Status,
            sender,
            client_id: None,
            body: None,
            attachments: vec![],
            status: Some(status),
            assignee: None,
            note: None,
            reason: vec![],
            buttons: vec![],
        }
    }
    pub fn assignment(sender: Sender, assignee: Option<UserRef>) -> Self {
        NewEvent {
            kind: EventKind::Assignment,
            sender,
            client_id: None,
            body: None,
            attachments: vec![],
            status: None,
            assignee,
            note: None,
            reason: vec![],
            buttons: vec![],
        }
    }
}

impl Event {
    /// The event as a visitor may see it: no internal notes, no routing explanations.
    pub fn for_visitor(&self) -> Event {
        let mut e = self.clone();
        e.note = None;
        e.reason.clear();
        if e.kind == EventKind::Note {
            e.kind = EventKind::Internal;
            e.sender = Sender {
                kind: SenderKind::System,
                id: None,
                name: None,
                avatar_url: None,
            };
            e.body = None;
            e.client_id = None;
            e.attachments.clear();
        }
        e
    }
}

impl NewEvent {
    pub fn note(sender: Sender, client_id: ClientId, body: MessageBody) -> Self {
        NewEvent {
            kind: EventKind::Note,
            sender,
            client_id: Some(client_id),
            body: Some(body.as_str().to_owned()),
            attachments: vec![],
            status: None,
            assignee: None,
            note: None,
            reason: vec![],
            buttons: vec![],
        }
    }
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
    pub fn with_reason(mut self, reason: Vec<crate::Reason>) -> Self {
        self.reason = reason;
        self
    }
    pub fn queued(sender: Sender, reason: Vec<crate::Reason>) -> Self {
        NewEvent {
            kind: EventKind::Queued,
            sender,
            client_id: None,
            body: None,
            attachments: vec![],
            status: None,
            assignee: None,
            note: None,
            reason,
            buttons: vec![],
        }
    }
    /// A message from the bot (or an automatic reply), with optional buttons.
    pub fn bot(name: &str, client_id: ClientId, body: MessageBody, buttons: Vec<Button>) -> Self {
        NewEvent {
            kind: EventKind::Message,
            sender: Sender {
                kind: SenderKind::Bot,
                id: None,
                name: Some(name.to_owned()),
                avatar_url: None,
            },
            client_id: Some(client_id),
            body: Some(body.as_str().to_owned()),
            attachments: vec![],
            status: None,
            assignee: None,
            note: None,
            reason: vec![],
            buttons,
        }
    }
}

/// A team of agents that conversations are routed to (售前, 售后, 技术支持 …).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Group {
    pub id: GroupId,
    #[serde(skip)]
    pub workspace_id: WorkspaceId,
    pub name: String,
    /// Routing steps applied in order.
    pub policy: Vec<crate::routing::Step>,
    /// 1 = first line, 2 = second line …
    pub tier: i32,
    /// Reassign when the assigned agent has not replied within this many seconds.
    pub reply_timeout_secs: Option<i64>,
    /// Offer to leave a message after waiting this long in the queue.
    pub queue_timeout_secs: Option<i64>,
    /// Weekly working hours; outside them new conversations wait in the queue. `None`: always open.
    pub hours: Option<WeeklyHours>,
    pub members: Vec<GroupMember>,
    #[serde(serialize_with = "ts")]
    #[schema(value_type = String)]
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct GroupMember {
    pub user_id: UserId,
    pub name: String,
    /// 1 is served first.
    pub priority: i32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiToken {
    pub id: TokenId,
    pub name: String,
    #[serde(serialize_with = "ts")]
    #[schema(value_type = String)]
    pub created_at: Millis,
    #[schema(value_type = Option<String>)]
    #[serde(serialize_with = "opt_ts")]
    pub last_used_at: Option<Millis>,
}

pub(crate) fn opt_ts<S: Serializer>(ms: &Option<Millis>, s: S) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => s.serialize_str(&rfc3339(*ms)),
        None => s.serialize_none(),
    }
}
