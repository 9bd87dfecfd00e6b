//! The store port. Every method that touches workspace data takes the workspace id and must
//! filter by it: a record of another workspace is "not found", never returned.

use crate::StoreResult;
use async_trait::async_trait;
use parley_domain::*;

#[derive(Debug, Clone)]
pub struct Session {
    /// SHA-256 of the cookie value.
    pub id_hash: String,
    pub user_id: UserId,
    pub workspace_id: WorkspaceId,
    pub csrf_token: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Mine,
    Unassigned,
    /// Waiting in a queue for an agent.
    Queued,
    All,
}

#[derive(Debug, Clone)]
pub struct ConversationQuery {
    pub viewer: UserId,
    pub view: View,
    pub status: ConversationStatus,
    /// Keyset cursor: conversations strictly older than (updated_at, id).
    pub before: Option<(Millis, ConversationId)>,
    pub limit: i64,
}

/// A conversation's line in every agent's inbox: the summary as seen by someone who never read
/// the conversation, plus the unread counts of those who read some of it. Everyone else's
/// count is the summary's, so one line serves every agent of the workspace.
#[derive(Debug, Clone)]
pub struct InboxLine {
    pub summary: ConversationSummary,
    pub unread_by_reader: Vec<(UserId, i64)>,
}

/// Where a message goes: a known conversation, or the visitor's current one (created if none).
#[derive(Debug, Clone, Copy)]
pub enum Target {
    Conversation(ConversationId),
    /// A conversation of this visitor's: any other, like an unknown one, is `NotFound`. The
    /// check rides on the append's own read instead of a read before it.
    VisitorConversation {
        id: ConversationId,
        visitor_id: VisitorId,
    },
    /// A new conversation starts in the channel's group, if it has one.
    VisitorCurrent {
        channel_id: ChannelId,
        visitor_id: VisitorId,
        group_id: Option<GroupId>,
    },
}

/// What a message implies for its conversation, applied in the same transaction.
#[derive(Debug, Clone, Default)]
pub struct MessageEffects {
    /// A resolved conversation is reopened (a status event precedes the message).
    pub reopen: bool,
    /// An unassigned conversation is assigned to this agent (an assignment event precedes it).
    pub claim_by: Option<UserRef>,
    /// The channel's bot takes a conversation this message creates or reopens.
    pub start_bot: bool,
}

impl MessageEffects {
    /// The events that must come before a message in `conv`, in order.
    pub fn preceding(&self, conv: &Conversation, sender: &Sender) -> Vec<NewEvent> {
        let mut out = Vec::new();
        if self.reopen && conv.status == ConversationStatus::Resolved {
            out.push(NewEvent::status(sender.clone(), ConversationStatus::Open));
        }
        if let (Some(agent), None) = (&self.claim_by, conv.assignee_id) {
            out.push(NewEvent::assignment(sender.clone(), Some(agent.clone())));
        }
        out
    }

    /// Whether the bot takes over `conv` (as it was before this message, `created` if the
    /// message creates it). Stores set `bot_active` accordingly after writing the events.
    pub fn starts_bot(&self, conv: &Conversation, created: bool) -> bool {
        self.start_bot
            && conv.assignee_id.is_none()
            && (created || (self.reopen && conv.status == ConversationStatus::Resolved))
    }
}

/// Whether a status or assignment event would change the conversation at all.
pub fn changes(conv: &Conversation, e: &NewEvent) -> bool {
    match e.kind {
        EventKind::Status => e.status != Some(conv.status),
        EventKind::Assignment => e.assignee.as_ref().map(|a| a.id) != conv.assignee_id,
        EventKind::Message | EventKind::Queued | EventKind::Note | EventKind::Internal => true,
    }
}

/// How long the assignee took to answer, when `e` (already applied to `conv`) is their first
/// reply since the assignment; `awaiting_before` is the conversation's state before `e`.
pub fn first_response_ms(
    awaiting_before: Option<Millis>,
    conv: &Conversation,
    e: &Event,
) -> Option<Millis> {
    match (awaiting_before, conv.awaiting_reply_since, e.kind) {
        (Some(since), None, EventKind::Message) => Some((e.created_at - since).max(0)),
        _ => None,
    }
}

/// `e` as the next event of `conv` (numbered after its last one; not yet applied to it).
pub fn next_event(conv: &Conversation, e: &NewEvent, now: Millis) -> Event {
    Event {
        id: EventId::new(),
        workspace_id: conv.workspace_id,
        conversation_id: conv.id,
        seq: conv.last_seq + 1,
        kind: e.kind,
        created_at: now,
        sender: e.sender.clone(),
        client_id: e.client_id.as_ref().map(|c| c.as_str().to_owned()),
        body: e.body.clone(),
        attachments: e.attachments.clone(),
        status: e.status,
        assignee: e.assignee.clone(),
        note: e.note.clone(),
        reason: e.reason.clone(),
        buttons: e.buttons.clone(),
    }
}

/// A visitor's new conversation, as a message that starts one stores it.
pub fn new_conversation(
    ws: WorkspaceId,
    channel_id: ChannelId,
    visitor_id: VisitorId,
    group_id: Option<GroupId>,
    now: Millis,
) -> Conversation {
    Conversation {
        id: ConversationId::new(),
        workspace_id: ws,
        channel_id,
        visitor_id,
        status: ConversationStatus::Open,
        assignee_id: None,
        group_id,
        priority: 0,
        queued_at: None,
        awaiting_reply_since: None,
        required_skill: None,
        bot_active: false,
        bot_misses: 0,
        last_seq: 0,
        created_at: now,
        updated_at: now,
    }
}

/// The conversation after `e`; stores persist the result in the transaction that wrote `e`.
pub fn apply(conv: &mut Conversation, e: &Event) {
    conv.last_seq = e.seq;
    conv.updated_at = e.created_at;
    match e.kind {
        EventKind::Status => {
            conv.status = e.status.unwrap_or(conv.status);
            if conv.status == ConversationStatus::Resolved {
                conv.queued_at = None;
                conv.awaiting_reply_since = None;
                conv.bot_active = false;
            }
        }
        EventKind::Assignment => {
            conv.assignee_id = e.assignee.as_ref().map(|a| a.id);
            // A new assignee owes a reply; an assigned conversation no longer waits.
            conv.awaiting_reply_since = conv.assignee_id.map(|_| e.created_at);
            if conv.assignee_id.is_some() {
                conv.queued_at = None;
                conv.bot_active = false;
            }
        }
        EventKind::Queued => conv.queued_at = conv.queued_at.or(Some(e.created_at)),
        EventKind::Note | EventKind::Internal => {}
        EventKind::Message => {
            // An agent who writes takes the conversation from the bot.
            if e.sender.kind == SenderKind::Agent {
                conv.bot_active = false;
            }
            if e.sender.kind == SenderKind::Agent
                && e.sender.id.is_some()
                && e.sender.id == conv.assignee_id.map(|u| u.0)
            {
                conv.awaiting_reply_since = None;
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Appended {
    /// Every event written, in seq order (the message last); empty for a duplicate.
    pub events: Vec<Event>,
    /// The message: the new one, or the one stored earlier under the same client id.
    pub message: Event,
    pub duplicate: bool,
    pub conversation: Conversation,
    pub created_conversation: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ChannelPatch {
    pub name: Option<String>,
    pub color: Option<String>,
    pub welcome_text: Option<String>,
    pub greeting_text: Option<String>,
    pub greeting_delay_secs: Option<u32>,
    pub allowed_origins: Option<OriginList>,
    /// `Some(None)` removes the group (manual assignment).
    pub group_id: Option<Option<GroupId>>,
    /// Replaces the entry options (group, label) in this order; `Some(vec![])` removes them.
    pub entry_points: Option<Vec<(GroupId, String)>>,
    /// `Some(None)` removes the bot.
    pub bot: Option<Option<BotSettings>>,
}

/// What deleting a group came to. A group still in use is kept, so that nothing points at a
/// group that is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupDeletion {
    Deleted,
    NotFound,
    /// A channel routes to it (`option: false`) or offers it to visitors (`option: true`).
    UsedByChannel {
        channel: String,
        option: bool,
    },
    /// A keyword rule (1-based position) sends conversations to it.
    UsedByRule(usize),
    /// Open conversations are still in it.
    OpenConversations(i64),
}

#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub capacity: Option<u32>,
    pub skills: Option<Vec<String>>,
}

/// A conversation waiting in a group's queue, in queue order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    pub conversation_id: ConversationId,
    pub visitor_id: VisitorId,
    pub priority: i32,
    pub queued_at: Millis,
}

/// A conversation whose assignee has not replied in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overdue {
    pub workspace_id: WorkspaceId,
    pub conversation_id: ConversationId,
    pub assignee: UserId,
    pub timeout_secs: i64,
}

/// A page of the knowledge base's articles, most recently changed first.
#[derive(Debug, Clone, Default)]
pub struct ArticleQuery {
    pub status: Option<ArticleStatus>,
    pub category: Option<CategoryId>,
    pub locale: Option<KbLocale>,
    /// Keyset cursor: articles strictly older than (updated_at, id).
    pub before: Option<(Millis, ArticleId)>,
    pub limit: i64,
}

/// What deleting a category came to: one that still has articles is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CategoryDeletion {
    Deleted,
    NotFound,
    HasArticles(i64),
}

pub use crate::routing::{RouteContext, Routed};

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is, for logs and metrics.
    fn backend(&self) -> &'static str;
    async fn ping(&self) -> StoreResult<()>;

    // Workspaces and people
    async fn create_workspace(&self, ws: &Workspace) -> StoreResult<()>;
    async fn get_workspace(&self, id: WorkspaceId) -> StoreResult<Option<Workspace>>;
    async fn first_workspace(&self) -> StoreResult<Option<Workspace>>;
    async fn count_users(&self) -> StoreResult<i64>;
    /// Fails with `Conflict("e-mail")` when the address is taken (in any workspace).
    async fn create_user(&self, user: &User, password_hash: &str) -> StoreResult<()>;
    async fn credentials_by_email(&self, email: &Email) -> StoreResult<Option<Credentials>>;
    async fn get_user(&self, ws: WorkspaceId, id: UserId) -> StoreResult<Option<User>>;
    async fn password_hash(&self, ws: WorkspaceId, id: UserId) -> StoreResult<Option<String>>;
    async fn list_users(&self, ws: WorkspaceId) -> StoreResult<Vec<User>>;
    async fn update_user(
        &self,
        ws: WorkspaceId,
        id: UserId,
        patch: &UserPatch,
    ) -> StoreResult<Option<User>>;
    async fn set_user_status(
        &self,
        ws: WorkspaceId,
        id: UserId,
        status: AgentStatus,
    ) -> StoreResult<()>;
    /// Replaces the password hash and, in the same transaction, deletes every session of the
    /// user except `keep_session` (a session id hash).
    async fn set_password(
        &self,
        id: UserId,
        hash: &str,
        keep_session: Option<&str>,
    ) -> StoreResult<()>;

    // Sessions and tokens
    async fn create_session(&self, s: &Session) -> StoreResult<()>;
    /// A session that has not expired at `now`, with its user.
    async fn session(&self, id_hash: &str, now: Millis) -> StoreResult<Option<(Session, User)>>;
    async fn extend_session(&self, id_hash: &str, expires_at: Millis) -> StoreResult<()>;
    async fn delete_session(&self, id_hash: &str) -> StoreResult<()>;
    async fn create_token(
        &self,
        ws: WorkspaceId,
        user: UserId,
        token: &ApiToken,
        hash: &str,
    ) -> StoreResult<()>;
    async fn list_tokens(&self, ws: WorkspaceId, user: UserId) -> StoreResult<Vec<ApiToken>>;
    async fn delete_token(&self, ws: WorkspaceId, user: UserId, id: TokenId) -> StoreResult<bool>;
    /// The token's user; records the use.
    async fn token_user(&self, hash: &str, now: Millis) -> StoreResult<Option<User>>;

    // Channels
    async fn create_channel(&self, c: &Channel) -> StoreResult<()>;
    async fn get_channel(&self, ws: WorkspaceId, id: ChannelId) -> StoreResult<Option<Channel>>;
    async fn channel_by_key(&self, widget_key: &str) -> StoreResult<Option<Channel>>;
    async fn list_channels(&self, ws: WorkspaceId) -> StoreResult<Vec<Channel>>;
    async fn update_channel(
        &self,
        ws: WorkspaceId,
        id: ChannelId,
        patch: &ChannelPatch,
    ) -> StoreResult<Option<Channel>>;

    // Visitors
    async fn create_visitor(&self, v: &Visitor, token_hash: &str) -> StoreResult<()>;
    async fn visitor_by_token(&self, token_hash: &str) -> StoreResult<Option<Visitor>>;
    async fn get_visitor(&self, ws: WorkspaceId, id: VisitorId) -> StoreResult<Option<Visitor>>;
    /// Records a sighting: updates last_seen and every context field that is `Some`.
    async fn touch_visitor(
        &self,
        ws: WorkspaceId,
        id: VisitorId,
        ctx: &VisitorContext,
        now: Millis,
    ) -> StoreResult<Option<Visitor>>;

    // Conversations and their events
    async fn get_conversation(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
    ) -> StoreResult<Option<Conversation>>;
    async fn current_conversation(
        &self,
        ws: WorkspaceId,
        visitor: VisitorId,
    ) -> StoreResult<Option<Conversation>>;
    async fn list_conversations(
        &self,
        ws: WorkspaceId,
        q: &ConversationQuery,
    ) -> StoreResult<Vec<ConversationSummary>>;
    async fn conversation_summary(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        viewer: UserId,
    ) -> StoreResult<Option<ConversationSummary>>;
    /// The inbox lines of changed conversations, for every agent at once (see `inbox_feed`),
    /// in the order of `ids`. Conversations not in `ws` are left out.
    async fn inbox_lines(
        &self,
        ws: WorkspaceId,
        ids: &[ConversationId],
    ) -> StoreResult<Vec<InboxLine>>;
    /// Appends a message (and the events its `effects` imply) with the next sequence numbers,
    /// atomically. A message whose (sender, client id) was stored before is not stored again:
    /// the earlier one comes back with `duplicate: true`. `NotFound` for an unknown conversation.
    async fn append_message(
        &self,
        ws: WorkspaceId,
        target: Target,
        msg: &NewEvent,
        effects: &MessageEffects,
        now: Millis,
    ) -> StoreResult<Appended>;
    /// Appends a status or assignment event and applies it to the conversation, unless the
    /// conversation is already in that state (then `None`).
    async fn append_change(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        change: &NewEvent,
        now: Millis,
    ) -> StoreResult<Option<(Event, Conversation)>>;
    async fn events_after(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<Event>>;
    async fn events_before(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        before_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<Event>>;
    /// Failed sign-ins, shared by every node (see `Parley::login`). Records one failure under
    /// each key and forgets failures older than `forget_before`.
    async fn record_login_failure(
        &self,
        keys: &[String],
        at: Millis,
        forget_before: Millis,
    ) -> StoreResult<()>;
    /// How many failures `key` had since `since`, and when the oldest of them was.
    async fn login_failures(&self, key: &str, since: Millis) -> StoreResult<(i64, Option<Millis>)>;
    async fn clear_login_failures(&self, key: &str) -> StoreResult<()>;
    async fn mark_read(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        user: UserId,
        seq: i64,
    ) -> StoreResult<()>;

    // Routing
    async fn create_group(&self, g: &Group) -> StoreResult<()>;
    /// Replaces name, policy, tier and timeouts (members are set separately).
    async fn update_group(&self, g: &Group) -> StoreResult<bool>;
    async fn get_group(&self, ws: WorkspaceId, id: GroupId) -> StoreResult<Option<Group>>;
    async fn list_groups(&self, ws: WorkspaceId) -> StoreResult<Vec<Group>>;
    /// Replaces the members; users outside the workspace are ignored.
    async fn set_group_members(
        &self,
        ws: WorkspaceId,
        id: GroupId,
        members: &[(UserId, i32)],
    ) -> StoreResult<()>;
    async fn groups_of(&self, ws: WorkspaceId, user: UserId) -> StoreResult<Vec<GroupId>>;
    /// Deletes a group that nothing uses any more (see [`GroupDeletion`]), in one transaction:
    /// its members go with it, and resolved conversations keep their history without a group.
    async fn delete_group(&self, ws: WorkspaceId, id: GroupId) -> StoreResult<GroupDeletion>;
    /// Routes one conversation in one transaction (see [`crate::routing::plan`]): the
    /// conversation row and the group members' rows are locked while loads are counted, so
    /// concurrent routing on any number of nodes never exceeds an agent's capacity.
    async fn route(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        ctx: &RouteContext,
        now: Millis,
    ) -> StoreResult<Routed>;
    async fn queue(&self, ws: WorkspaceId, group: GroupId) -> StoreResult<Vec<QueueEntry>>;
    /// Open conversations whose assignee has not replied within the group's reply timeout.
    async fn overdue_replies(&self, now: Millis) -> StoreResult<Vec<Overdue>>;
    async fn assigned_open(
        &self,
        ws: WorkspaceId,
        user: UserId,
    ) -> StoreResult<Vec<ConversationId>>;
    /// Moves a conversation to another group (a transfer); routing happens separately.
    async fn move_to_group(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        group: GroupId,
    ) -> StoreResult<bool>;
    async fn set_tags(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        tags: &[String],
    ) -> StoreResult<bool>;
    /// Replaces a visitor's tags; false for a visitor of another workspace or none.
    async fn set_visitor_tags(
        &self,
        ws: WorkspaceId,
        id: VisitorId,
        tags: &[String],
    ) -> StoreResult<bool>;
    async fn set_follow_up(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        follow_up: bool,
    ) -> StoreResult<bool>;
    /// Open conversations of the workspace: (open, unassigned, queued).
    async fn open_counts(&self, ws: WorkspaceId) -> StoreResult<(i64, i64, i64)>;
    /// Open conversations per assignee.
    async fn loads(&self, ws: WorkspaceId) -> StoreResult<Vec<(UserId, i64)>>;
    /// Queued conversations that have waited past their group's queue timeout and were not yet
    /// offered to leave a message; marks them offered. Returns (workspace, conversation,
    /// visitor, seconds waited).
    /// Takes or renews the named lease for `holder` until `now + ttl_ms`. False while another
    /// holder's lease has not expired, so one node at a time runs a cluster-wide job.
    async fn try_lease(
        &self,
        name: &str,
        holder: uuid::Uuid,
        ttl_ms: i64,
        now: Millis,
    ) -> StoreResult<bool>;
    async fn queue_timeouts(
        &self,
        now: Millis,
    ) -> StoreResult<Vec<(WorkspaceId, ConversationId, VisitorId, i64)>>;
    /// Groups (of every workspace, without members) that have working hours (their own, or an
    /// enabled workspace calendar) and conversations
    /// waiting in their queue: the jobs backfill those that have opened since.
    async fn waiting_groups_with_hours(&self) -> StoreResult<Vec<Group>>;
    /// Keyword routing rules, in order.
    async fn list_rules(
        &self,
        ws: WorkspaceId,
    ) -> StoreResult<Vec<parley_domain::routing::RoutingRule>>;
    async fn replace_rules(
        &self,
        ws: WorkspaceId,
        rules: &[parley_domain::routing::RoutingRule],
    ) -> StoreResult<()>;
    /// Applies a matched rule's group, skill and priority to a conversation.
    async fn apply_rule(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        rule: &parley_domain::routing::RoutingRule,
    ) -> StoreResult<bool>;

    // Attachments
    async fn create_attachment(&self, a: &Attachment) -> StoreResult<()>;
    async fn get_attachment(&self, id: AttachmentId) -> StoreResult<Option<Attachment>>;

    // Knowledge base. Every change of what the public sees (publishing, unpublishing,
    // deleting a published article, moving one to another locale or category, renaming a
    // category) bumps the workspace's `kb_generation` in the same transaction.
    /// Fails with `Conflict("category")` when the workspace has a category of that name.
    async fn create_kb_category(&self, c: &Category) -> StoreResult<()>;
    async fn get_kb_category(
        &self,
        ws: WorkspaceId,
        id: CategoryId,
    ) -> StoreResult<Option<Category>>;
    /// By position, then name.
    async fn list_kb_categories(&self, ws: WorkspaceId) -> StoreResult<Vec<Category>>;
    /// Replaces name and position; false when not found. `Conflict("category")` on a taken name.
    async fn update_kb_category(&self, c: &Category) -> StoreResult<bool>;
    /// Deletes a category without articles (checked in the same transaction).
    async fn delete_kb_category(
        &self,
        ws: WorkspaceId,
        id: CategoryId,
    ) -> StoreResult<CategoryDeletion>;
    /// Writes a new article and its version 1 in one transaction. `NotFound` when its category
    /// is not one of the workspace's.
    async fn create_kb_article(&self, a: &Article, edited_by: UserId) -> StoreResult<()>;
    async fn get_kb_article(&self, ws: WorkspaceId, id: ArticleId) -> StoreResult<Option<Article>>;
    async fn list_kb_articles(
        &self,
        ws: WorkspaceId,
        q: &ArticleQuery,
    ) -> StoreResult<Vec<Article>>;
    /// Applies a patch under the article's row lock ([`Article::apply`]): a content change
    /// writes the next version in the same transaction, so concurrent edits get gapless version
    /// numbers. `None` when not found; `NotFound` when the new category is not the workspace's.
    async fn update_kb_article(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        patch: &ArticlePatch,
        edited_by: UserId,
        now: Millis,
    ) -> StoreResult<Option<Article>>;
    /// Points `published_version` at the current version.
    async fn publish_kb_article(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        now: Millis,
    ) -> StoreResult<Option<Article>>;
    async fn unpublish_kb_article(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        now: Millis,
    ) -> StoreResult<Option<Article>>;
    /// Versions newest first, strictly below `before` when given.
    async fn kb_article_versions(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<ArticleVersion>>;
    /// Writes a new version copying version `version` ([`Article::restore`]). `None` when the
    /// article or that version does not exist.
    async fn restore_kb_version(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        version: i64,
        edited_by: UserId,
        now: Millis,
    ) -> StoreResult<Option<(Article, ArticleVersion)>>;
    /// Deletes an article with its history; false when not found.
    async fn delete_kb_article(&self, ws: WorkspaceId, id: ArticleId) -> StoreResult<bool>;
    /// Counts one view; false when not found.
    async fn record_kb_view(&self, ws: WorkspaceId, id: ArticleId) -> StoreResult<bool>;
    /// Counts one "did this solve it?" answer; false when not found.
    async fn record_kb_vote(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        helpful: bool,
    ) -> StoreResult<bool>;
    /// Counts a "did this solve it?" answer on a published article unless `voter` (an opaque
    /// digest) had one counted on it at or after `since`, and remembers it at `now`; votes of
    /// the workspace older than `since` are forgotten. `None` when no published article of the
    /// workspace has this id, else whether this answer was counted.
    async fn record_kb_vote_once(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        voter: &[u8],
        helpful: bool,
        now: Millis,
        since: Millis,
    ) -> StoreResult<Option<bool>>;
    /// The published articles with their published version's content.
    async fn published_kb_articles(&self, ws: WorkspaceId) -> StoreResult<Vec<PublishedArticle>>;

    // ----- the FAQ bot ----------------------------------------------------------------------
    /// Records the bot's count of unanswered questions in a row (0 after an answer). False
    /// when the bot no longer has the conversation (it handed over, or an agent replied).
    async fn set_bot_misses(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        misses: i32,
    ) -> StoreResult<bool>;
    /// Ends the bot's phase of a conversation; true only for the call that ended it.
    async fn end_bot(&self, ws: WorkspaceId, id: ConversationId) -> StoreResult<bool>;

    // ----- guided flows ---------------------------------------------------------------------
    /// The workspace's flows, in order (none saved: empty).
    async fn flows(&self, ws: WorkspaceId) -> StoreResult<Vec<parley_domain::flow::Flow>>;
    async fn replace_flows(
        &self,
        ws: WorkspaceId,
        flows: &[parley_domain::flow::Flow],
        now: Millis,
    ) -> StoreResult<()>;
    /// Where a conversation is in a flow: (flow id, step id).
    async fn flow_state(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
    ) -> StoreResult<Option<(String, String)>>;
    /// Moves the conversation to a step, or out of its flow (`None`).
    async fn set_flow_state(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        at: Option<(&str, &str)>,
    ) -> StoreResult<()>;
    async fn add_unanswered(&self, q: &Unanswered) -> StoreResult<()>;
    /// Newest first; resolved ones only when asked.
    async fn list_unanswered(
        &self,
        ws: WorkspaceId,
        include_resolved: bool,
        limit: i64,
    ) -> StoreResult<Vec<Unanswered>>;
    /// Marks a question handled, linked to `article` (which must be the workspace's) or
    /// dismissed; false for an unknown id.
    async fn resolve_unanswered(
        &self,
        ws: WorkspaceId,
        id: UnansweredId,
        article: Option<ArticleId>,
        now: Millis,
    ) -> StoreResult<bool>;
    /// Increases with every change of what the public sees (0 for a new workspace).
    async fn kb_generation(&self, ws: WorkspaceId) -> StoreResult<i64>;
    /// The workspace's own synonym groups (the matcher's text format; empty: none).
    async fn kb_synonyms(&self, ws: WorkspaceId) -> StoreResult<String>;
    /// Replaces them and moves `kb_generation`; false for an unknown workspace.
    async fn set_kb_synonyms(&self, ws: WorkspaceId, text: &str) -> StoreResult<bool>;

    // ----- keyword auto-replies (关键词自动回复) ------------------------------------------
    /// The workspace's rules by position.
    async fn list_auto_replies(&self, ws: WorkspaceId) -> StoreResult<Vec<AutoReply>>;
    /// Replaces all of the workspace's rules (as given, hits included) in one transaction.
    async fn replace_auto_replies(&self, ws: WorkspaceId, rules: &[AutoReply]) -> StoreResult<()>;
    /// Adds one to a rule's hit counter; false when there is no such rule (deleted meanwhile).
    async fn count_auto_reply_hit(&self, ws: WorkspaceId, id: AutoReplyId) -> StoreResult<bool>;

    // ----- business hours (营业时间) and leave-a-message ---------------------------------
    /// The workspace's saved hours; `None` when never saved (always open).
    async fn workspace_hours(&self, ws: WorkspaceId) -> StoreResult<Option<WorkspaceHours>>;
    async fn set_workspace_hours(
        &self,
        ws: WorkspaceId,
        hours: &WorkspaceHours,
        now: Millis,
    ) -> StoreResult<()>;
    /// Claims the off-hours reply of a conversation for the closed period ending `until`:
    /// true only when no reply was sent for a period still running at `now`, so one call of
    /// several (messages, nodes) wins.
    async fn claim_off_hours_reply(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        now: Millis,
        until: Millis,
    ) -> StoreResult<bool>;
    /// Saves the contact details a visitor gave; `None` fields keep their value.
    async fn set_visitor_contact(
        &self,
        ws: WorkspaceId,
        id: VisitorId,
        name: Option<&str>,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> StoreResult<Option<Visitor>>;

    // ----- quick replies (快捷回复) -----
    async fn create_quick_reply(&self, r: &QuickReply) -> StoreResult<()>;
    async fn get_quick_reply(
        &self,
        ws: WorkspaceId,
        id: QuickReplyId,
    ) -> StoreResult<Option<QuickReply>>;
    /// The team's replies and `owner`'s personal ones (nobody else's), oldest first.
    async fn list_quick_replies(
        &self,
        ws: WorkspaceId,
        owner: UserId,
    ) -> StoreResult<Vec<QuickReply>>;
    /// Writes shortcut, title, text, category and updated_at; false when not found.
    async fn update_quick_reply(&self, r: &QuickReply) -> StoreResult<bool>;
    /// False when not found.
    async fn delete_quick_reply(&self, ws: WorkspaceId, id: QuickReplyId) -> StoreResult<bool>;
}
