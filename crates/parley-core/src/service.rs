//! The use-cases. Every method re-checks what the caller may do: the HTTP layer only
//! authenticates, it never decides.

use crate::auth::{dummy_hash, hash_password, verify_password};
use crate::bus::{Bus, BusMessage, Topic, TypingFrom};
use crate::files::Files;
use crate::ports::*;
use crate::presence::{Presence, PresenceChange};
use crate::secrets;
use crate::{ServiceError, ServiceResult};
use parley_domain::*;
use std::sync::Arc;
use std::time::Duration;

pub struct Config {
    /// The URL people and widgets reach this server at, for snippets.
    pub public_url: String,
    pub max_upload_bytes: usize,
    pub session_ttl: Duration,
}

pub struct Parley {
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    pub presence: Presence,
    pub files: Files,
    pub config: Config,
    /// This process among the nodes sharing the database (for leases).
    pub node: uuid::Uuid,
    /// How many times this node ran the cluster's jobs (it held their lease).
    pub cluster_job_runs: std::sync::atomic::AtomicU64,
    /// Each workspace's FAQ matcher over its published articles (see `service_kb`).
    pub kb: crate::service_kb::KbMatchers,
    /// Leave-a-message submissions per visitor and IP (see `service_hours`).
    pub(crate) leave_limits: crate::service_hours::LeaveLimits,
    /// How often this node compiled auto-reply rules (see `service_autoreply`).
    pub auto_replies: crate::service_autoreply::AutoReplyCache,
    /// The settings a visitor's message consults, per workspace (see `settings_cache`).
    pub settings: crate::settings_cache::SettingsCache,
    /// Inbox lines for this node's agent sockets, read once per change (see `inbox_feed`).
    pub inbox: Arc<crate::inbox_feed::InboxFeed>,
}

/// Failed sign-ins allowed per account and per client IP within the window.
const LOGIN_FAILURES_PER_ACCOUNT: i64 = 5;
const LOGIN_FAILURES_PER_IP: i64 = 30;
const LOGIN_FAILURE_WINDOW_MS: i64 = 300_000;

/// A signed-in person, with the session if they came with a cookie.
#[derive(Debug, Clone)]
pub struct Agent {
    pub user: User,
    pub session: Option<Session>,
}

/// A website visitor, authenticated by their visitor token.
#[derive(Debug, Clone)]
pub struct VisitorActor {
    pub visitor: Visitor,
    pub channel: Channel,
}

#[derive(Debug, Clone)]
pub enum Actor {
    Agent(Agent),
    Visitor(VisitorActor),
}

impl Actor {
    pub fn workspace(&self) -> WorkspaceId {
        match self {
            Actor::Agent(a) => a.user.workspace_id,
            Actor::Visitor(v) => v.visitor.workspace_id,
        }
    }
    pub fn sender(&self) -> Sender {
        match self {
            Actor::Agent(a) => Sender {
                kind: SenderKind::Agent,
                id: Some(a.user.id.0),
                name: Some(a.user.name.clone()),
                avatar_url: a.user.avatar_url.clone(),
            },
            Actor::Visitor(v) => Sender {
                kind: SenderKind::Visitor,
                id: Some(v.visitor.id.0),
                name: Some(
                    v.visitor
                        .name
                        .clone()
                        .unwrap_or_else(|| v.visitor.display_name.clone()),
                ),
                avatar_url: None,
            },
        }
    }
}

pub struct LoggedIn {
    /// The cookie value; only its digest is stored.
    pub token: String,
    pub session: Session,
    pub user: User,
}

pub struct WidgetSession {
    pub visitor_token: String,
    pub visitor: Visitor,
    pub channel: Channel,
    pub conversation: Option<Conversation>,
    pub agents_online: bool,
}

pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
}

pub struct ChannelInput {
    pub name: Option<String>,
    pub color: Option<String>,
    pub welcome_text: Option<String>,
    /// The greeting shown after `greeting_delay_secs` (0 to 600; 0: none).
    pub greeting_text: Option<String>,
    pub greeting_delay_secs: Option<u32>,
    pub allowed_origins: Option<Vec<String>>,
    /// `Some(None)` switches routing off for the channel.
    pub group_id: Option<Option<GroupId>>,
    /// The groups visitors pick from before the chat starts (group, label), in order;
    /// `Some(vec![])` removes them.
    pub entry_points: Option<Vec<(GroupId, String)>>,
    /// The FAQ bot; `Some(None)` removes it.
    pub bot: Option<Option<BotInput>>,
}

/// The FAQ bot's settings as an admin sends them; left-out fields take the defaults.
#[derive(Debug, Clone, Default)]
pub struct BotInput {
    pub enabled: bool,
    pub name: Option<String>,
    pub miss_limit: Option<u8>,
    pub handoff_keywords: Option<Vec<String>>,
}

impl BotInput {
    pub fn parse(self) -> Result<BotSettings, Invalid> {
        let d = BotSettings::default();
        BotSettings::parse(
            self.enabled,
            self.name.as_deref().unwrap_or(&d.name),
            self.miss_limit.unwrap_or(d.miss_limit),
            self.handoff_keywords.unwrap_or_default(),
        )
    }
}

/// Changes an admin makes to a person.
#[derive(Default)]
pub struct UserChange {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub capacity: Option<u32>,
    pub skills: Option<Vec<String>>,
}

const DEFAULT_COLOR: &str = "#1f6feb";
const MAX_ATTACHMENTS: usize = 10;
const MAX_WELCOME_CHARS: usize = 1000;

impl Parley {
    pub fn new(store: Arc<dyn Store>, bus: Arc<dyn Bus>, files: Files, config: Config) -> Self {
        Parley {
            inbox: crate::inbox_feed::InboxFeed::new(store.clone(), bus.clone()),
            store,
            bus,
            presence: Presence::default(),
            files,
            config,
            node: uuid::Uuid::now_v7(),
            cluster_job_runs: Default::default(),
            kb: Default::default(),
            leave_limits: Default::default(),
            auto_replies: Default::default(),
            settings: Default::default(),
        }
    }

    // ----- set-up and operators -------------------------------------------------------------

    /// On first start (no users at all) creates a workspace and its admin. Returns the admin's
    /// e-mail and, when the password was generated, that password (to be shown once).
    pub async fn bootstrap(
        &self,
        email: Option<&str>,
        password: Option<&str>,
    ) -> ServiceResult<Option<(String, Option<String>)>> {
        if self.store.count_users().await? > 0 {
            return Ok(None);
        }
        let now = now_millis();
        let ws = Workspace {
            id: WorkspaceId::new(),
            name: "Parley".into(),
            created_at: now,
        };
        self.store.create_workspace(&ws).await?;
        let email = email.unwrap_or("admin@parley.local");
        let generated = password.is_none().then(secrets::generated_password);
        let pw = password
            .map(str::to_owned)
            .or_else(|| generated.clone())
            .unwrap_or_default();
        self.create_user_in(
            ws.id,
            NewUser {
                email: email.into(),
                name: "Admin".into(),
                role: Role::Admin,
                password: pw,
            },
        )
        .await?;
        Ok(Some((email.to_owned(), generated)))
    }

    /// `parley admin create-user`: into the given workspace, or the first one.
    pub async fn operator_create_user(
        &self,
        ws: Option<WorkspaceId>,
        input: NewUser,
    ) -> ServiceResult<User> {
        let ws = match ws {
            Some(id) => self
                .store
                .get_workspace(id)
                .await?
                .ok_or(ServiceError::NotFound("workspace"))?,
            None => self
                .store
                .first_workspace()
                .await?
                .ok_or(ServiceError::NotFound("workspace"))?,
        };
        self.create_user_in(ws.id, input).await
    }

    /// `parley admin reset-password`: sets the password and signs the person out everywhere.
    pub async fn operator_reset_password(&self, email: &str, password: &str) -> ServiceResult<()> {
        let email = Email::parse(email)?;
        let pw = NewPassword::parse(password)?;
        let creds = self
            .store
            .credentials_by_email(&email)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        let hash = hash_password(pw.expose().to_owned()).await?;
        self.store.set_password(creds.user.id, &hash, None).await?;
        Ok(())
    }

    async fn create_user_in(&self, ws: WorkspaceId, input: NewUser) -> ServiceResult<User> {
        let email = Email::parse(&input.email)?;
        let name = Label::parse(&input.name, "name")?.into_string();
        let pw = NewPassword::parse(&input.password)?;
        let user = User {
            id: UserId::new(),
            workspace_id: ws,
            email: email.as_str().to_owned(),
            name,
            role: input.role,
            status: AgentStatus::Online,
            avatar_url: None,
            capacity: 5,
            skills: vec![],
            created_at: now_millis(),
        };
        let hash = hash_password(pw.expose().to_owned()).await?;
        self.store.create_user(&user, &hash).await?;
        Ok(user)
    }

    // ----- sign-in ----------------------------------------------------------------------------

    pub async fn login(&self, email: &str, password: &str, ip: &str) -> ServiceResult<LoggedIn> {
        // Kept in the store, so that guesses spread over the nodes of a cluster add up. Keys are
        // digests: the table holds no addresses.
        let email_key = secrets::digest(&format!("email:{}", email.trim().to_lowercase()));
        let ip_key = secrets::digest(&format!("ip:{ip}"));
        let now = now_millis();
        for (key, max) in [
            // Per e-mail address: protects one account from guessing.
            (&email_key, LOGIN_FAILURES_PER_ACCOUNT),
            // Per IP, looser: one office behind NAT shares an address.
            (&ip_key, LOGIN_FAILURES_PER_IP),
        ] {
            let (failures, oldest) = self
                .store
                .login_failures(key, now - LOGIN_FAILURE_WINDOW_MS)
                .await?;
            if failures >= max {
                let until = oldest.unwrap_or(now) + LOGIN_FAILURE_WINDOW_MS;
                return Err(ServiceError::RateLimited(
                    ((until - now) / 1000).max(1) as u64
                ));
            }
        }
        let creds = match Email::parse(email) {
            Ok(e) => self.store.credentials_by_email(&e).await?,
            Err(_) => None,
        };
        let ok = match &creds {
            Some(c) => verify_password(password.to_owned(), c.password_hash.clone()).await?,
            None => {
                // Same work as a real check, so timing does not reveal unknown accounts.
                let _ = verify_password(password.to_owned(), dummy_hash().await).await;
                false
            }
        };
        let Some(creds) = creds.filter(|_| ok) else {
            self.store
                .record_login_failure(
                    &[email_key, ip_key],
                    now_millis(),
                    now_millis() - LOGIN_FAILURE_WINDOW_MS,
                )
                .await?;
            return Err(ServiceError::Unauthorized);
        };
        self.store.clear_login_failures(&email_key).await?;
        self.start_session(creds.user).await
    }

    async fn start_session(&self, user: User) -> ServiceResult<LoggedIn> {
        let token = secrets::new_secret("ps_");
        let now = now_millis();
        let session = Session {
            id_hash: secrets::digest(&token),
            user_id: user.id,
            workspace_id: user.workspace_id,
            csrf_token: secrets::new_secret(""),
            created_at: now,
            expires_at: now + self.config.session_ttl.as_millis() as i64,
        };
        self.store.create_session(&session).await?;
        Ok(LoggedIn {
            token,
            session,
            user,
        })
    }

    /// The person behind a session cookie. Sessions slide: use extends them, at most hourly.
    pub async fn authenticate_session(&self, token: &str) -> ServiceResult<Agent> {
        let now = now_millis();
        let hash = secrets::digest(token);
        let (mut session, user) = self
            .store
            .session(&hash, now)
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        let ttl = self.config.session_ttl.as_millis() as i64;
        if session.expires_at - now < ttl - 3_600_000 {
            session.expires_at = now + ttl;
            self.store.extend_session(&hash, session.expires_at).await?;
        }
        Ok(Agent {
            user,
            session: Some(session),
        })
    }

    pub async fn authenticate_token(&self, token: &str) -> ServiceResult<Agent> {
        if !token.starts_with("pat_") {
            return Err(ServiceError::Unauthorized);
        }
        let user = self
            .store
            .token_user(&secrets::digest(token), now_millis())
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        Ok(Agent {
            user,
            session: None,
        })
    }

    pub async fn logout(&self, agent: &Agent) -> ServiceResult<()> {
        if let Some(s) = &agent.session {
            self.store.delete_session(&s.id_hash).await?;
        }
        Ok(())
    }

    /// Changes the password and revokes every other session of the person. The current
    /// session is replaced by a fresh one (returned), so a stolen cookie dies too.
    pub async fn change_password(
        &self,
        agent: &Agent,
        current: &str,
        new: &str,
    ) -> ServiceResult<LoggedIn> {
        let stored = self
            .store
            .password_hash(agent.user.workspace_id, agent.user.id)
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        if !verify_password(current.to_owned(), stored).await? {
            return Err(ServiceError::Forbidden(
                "the current password is wrong".into(),
            ));
        }
        let pw = NewPassword::parse(new)?;
        let hash = hash_password(pw.expose().to_owned()).await?;
        self.store.set_password(agent.user.id, &hash, None).await?;
        self.start_session(agent.user.clone()).await
    }

    pub async fn set_my_status(&self, agent: &Agent, status: AgentStatus) -> ServiceResult<()> {
        let u = &agent.user;
        self.store
            .set_user_status(u.workspace_id, u.id, status)
            .await?;
        let change = self.presence.set_status(u.workspace_id, u.id, status);
        let now_online = change.user_status == Some("online");
        self.announce_presence(u.workspace_id, u.id, change);
        if now_online {
            self.backfill_for(u.workspace_id, u.id).await;
        }
        Ok(())
    }

    /// An agent socket opened: they count as present with their stored status.
    pub async fn agent_connected(&self, user: &User) -> ServiceResult<()> {
        let status = self
            .store
            .get_user(user.workspace_id, user.id)
            .await?
            .map(|u| u.status)
            .unwrap_or(user.status);
        let change = self.presence.connect(user.workspace_id, user.id, status);
        let now_online = change.user_status == Some("online");
        self.announce_presence(user.workspace_id, user.id, change);
        if now_online {
            // Someone with room arrived: the queue can move.
            self.backfill_for(user.workspace_id, user.id).await;
        }
        Ok(())
    }

    pub fn agent_disconnected(&self, user: &User) {
        let change = self.presence.disconnect(user.workspace_id, user.id);
        self.announce_presence(user.workspace_id, user.id, change);
    }

    fn announce_presence(&self, ws: WorkspaceId, user: UserId, change: PresenceChange) {
        self.announce_snapshot(ws);
        if let Some(status) = change.user_status {
            self.bus.publish(
                Topic::Inbox(ws),
                BusMessage::AgentStatus {
                    user_id: user,
                    status: status.to_owned(),
                },
            );
        }
        if change.agents_online_changed {
            self.bus.publish(
                Topic::Presence(ws),
                BusMessage::AgentsOnline(self.presence.agents_online(ws)),
            );
        }
    }

    // ----- API tokens and people --------------------------------------------------------------

    pub async fn list_tokens(&self, agent: &Agent) -> ServiceResult<Vec<ApiToken>> {
        Ok(self
            .store
            .list_tokens(agent.user.workspace_id, agent.user.id)
            .await?)
    }

    /// Returns the token record and its secret, which is never shown again.
    pub async fn create_token(
        &self,
        agent: &Agent,
        name: &str,
    ) -> ServiceResult<(ApiToken, String)> {
        let name = Label::parse(name, "token name")?.into_string();
        let secret = secrets::new_secret("pat_");
        let t = ApiToken {
            id: TokenId::new(),
            name,
            created_at: now_millis(),
            last_used_at: None,
        };
        self.store
            .create_token(
                agent.user.workspace_id,
                agent.user.id,
                &t,
                &secrets::digest(&secret),
            )
            .await?;
        Ok((t, secret))
    }

    pub async fn delete_token(&self, agent: &Agent, id: TokenId) -> ServiceResult<()> {
        if self
            .store
            .delete_token(agent.user.workspace_id, agent.user.id, id)
            .await?
        {
            Ok(())
        } else {
            Err(ServiceError::NotFound("token"))
        }
    }

    pub async fn list_users(&self, agent: &Agent) -> ServiceResult<Vec<User>> {
        let mut users = self.store.list_users(agent.user.workspace_id).await?;
        for u in &mut users {
            if self.presence.status_of(u.workspace_id, u.id) == "offline" {
                // Stored status is a preference; without a socket nobody is online.
                u.status = AgentStatus::Away;
            }
        }
        Ok(users)
    }

    pub async fn create_user(&self, agent: &Agent, input: NewUser) -> ServiceResult<User> {
        require_admin(agent)?;
        self.create_user_in(agent.user.workspace_id, input).await
    }

    pub async fn update_user(
        &self,
        agent: &Agent,
        id: UserId,
        change: UserChange,
    ) -> ServiceResult<User> {
        require_admin(agent)?;
        let name = change
            .name
            .as_deref()
            .map(|n| Label::parse(n, "name").map(Label::into_string))
            .transpose()?;
        if id == agent.user.id && change.role.is_some_and(|r| r != Role::Admin) {
            return Err(ServiceError::Invalid(
                "you cannot remove your own admin role".into(),
            ));
        }
        if change.capacity.is_some_and(|c| c > 100) {
            return Err(ServiceError::Invalid(
                "capacity must be between 0 and 100".into(),
            ));
        }
        let skills = change.skills.as_deref().map(parse_skills).transpose()?;
        let patch = UserPatch {
            name,
            role: change.role,
            capacity: change.capacity,
            skills,
        };
        let user = self
            .store
            .update_user(agent.user.workspace_id, id, &patch)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        if patch.capacity.is_some() || patch.skills.is_some() {
            // More room or new skills may let queued conversations through.
            self.backfill_for(user.workspace_id, user.id).await;
        }
        Ok(user)
    }

    // ----- channels -----------------------------------------------------------------------------

    pub async fn list_channels(&self, agent: &Agent) -> ServiceResult<Vec<Channel>> {
        Ok(self.store.list_channels(agent.user.workspace_id).await?)
    }

    pub async fn get_channel(&self, agent: &Agent, id: ChannelId) -> ServiceResult<Channel> {
        self.store
            .get_channel(agent.user.workspace_id, id)
            .await?
            .ok_or(ServiceError::NotFound("channel"))
    }

    pub async fn create_channel(
        &self,
        agent: &Agent,
        input: ChannelInput,
    ) -> ServiceResult<Channel> {
        require_admin(agent)?;
        let (patch, entry_points) =
            channel_patch(self.store.as_ref(), agent.user.workspace_id, input).await?;
        let c = Channel {
            id: ChannelId::new(),
            workspace_id: agent.user.workspace_id,
            kind: "website",
            name: patch
                .name
                .ok_or_else(|| ServiceError::Invalid("name must not be empty".into()))?,
            widget_key: secrets::new_key("wk_", 12),
            color: patch.color.unwrap_or_else(|| DEFAULT_COLOR.into()),
            welcome_text: patch.welcome_text.unwrap_or_default(),
            greeting_text: patch.greeting_text.unwrap_or_default(),
            greeting_delay_secs: patch.greeting_delay_secs.unwrap_or(0),
            allowed_origins: patch.allowed_origins.unwrap_or_default(),
            group_id: patch.group_id.flatten(),
            entry_points: entry_points.unwrap_or_default(),
            bot: patch.bot.clone().flatten(),
            created_at: now_millis(),
        };
        self.store.create_channel(&c).await?;
        Ok(c)
    }

    pub async fn update_channel(
        &self,
        agent: &Agent,
        id: ChannelId,
        input: ChannelInput,
    ) -> ServiceResult<Channel> {
        require_admin(agent)?;
        let (patch, _) = channel_patch(self.store.as_ref(), agent.user.workspace_id, input).await?;
        self.store
            .update_channel(agent.user.workspace_id, id, &patch)
            .await?
            .ok_or(ServiceError::NotFound("channel"))
    }

    // ----- the widget ---------------------------------------------------------------------------

    /// The channel for a widget request, refusing origins the channel does not allow.
    pub async fn widget_channel(
        &self,
        widget_key: &str,
        origin: Option<&str>,
    ) -> ServiceResult<Channel> {
        let channel = self
            .store
            .channel_by_key(widget_key)
            .await?
            .ok_or(ServiceError::NotFound("channel"))?;
        if !channel.allowed_origins.allows(origin) {
            return Err(ServiceError::Forbidden(
                "this site is not allowed to use this chat widget".into(),
            ));
        }
        Ok(channel)
    }

    /// Starts or resumes a visitor. An unknown or missing token makes a new visitor.
    pub async fn widget_session(
        &self,
        widget_key: &str,
        token: Option<&str>,
        ctx: VisitorContext,
        origin: Option<&str>,
    ) -> ServiceResult<WidgetSession> {
        let channel = self.widget_channel(widget_key, origin).await?;
        let ws = channel.workspace_id;
        let now = now_millis();
        let existing = match token {
            Some(t) if t.starts_with("vt_") => self
                .store
                .visitor_by_token(&secrets::digest(t))
                .await?
                .filter(|v| v.channel_id == channel.id),
            _ => None,
        };
        let (visitor, visitor_token) = match existing {
            Some(v) => {
                let v = self
                    .store
                    .touch_visitor(ws, v.id, &ctx, now)
                    .await?
                    .ok_or(ServiceError::NotFound("visitor"))?;
                (v, token.unwrap_or_default().to_owned())
            }
            None => {
                let id = VisitorId::new();
                let (browser, os) = ctx
                    .user_agent
                    .as_deref()
                    .map(describe_user_agent)
                    .unwrap_or((None, None));
                let v = Visitor {
                    id,
                    workspace_id: ws,
                    channel_id: channel.id,
                    name: None,
                    email: None,
                    phone: None,
                    tags: vec![],
                    display_name: Visitor::default_display_name(id),
                    current_url: ctx.url,
                    current_title: ctx.title,
                    referrer: ctx.referrer,
                    user_agent: ctx.user_agent,
                    browser,
                    os,
                    language: ctx.language,
                    ip: ctx.ip,
                    first_seen_at: now,
                    last_seen_at: now,
                };
                let token = secrets::new_secret("vt_");
                self.store
                    .create_visitor(&v, &secrets::digest(&token))
                    .await?;
                (v, token)
            }
        };
        let conversation = self.store.current_conversation(ws, visitor.id).await?;
        if let Some(c) = &conversation {
            self.bus.publish(
                Topic::Conversation(c.id),
                BusMessage::VisitorChanged {
                    visitor_id: visitor.id,
                },
            );
        }
        Ok(WidgetSession {
            visitor_token,
            agents_online: self.presence.agents_online(ws),
            visitor,
            channel,
            conversation,
        })
    }

    pub async fn authenticate_visitor(
        &self,
        token: &str,
        origin: Option<&str>,
    ) -> ServiceResult<VisitorActor> {
        if !token.starts_with("vt_") {
            return Err(ServiceError::Unauthorized);
        }
        let visitor = self
            .store
            .visitor_by_token(&secrets::digest(token))
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        let channel = self
            .store
            .get_channel(visitor.workspace_id, visitor.channel_id)
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        if !channel.allowed_origins.allows(origin) {
            return Err(ServiceError::Forbidden(
                "this site is not allowed to use this chat widget".into(),
            ));
        }
        Ok(VisitorActor { visitor, channel })
    }

    pub async fn visitor_page(&self, v: &VisitorActor, ctx: VisitorContext) -> ServiceResult<()> {
        let ws = v.visitor.workspace_id;
        self.store
            .touch_visitor(ws, v.visitor.id, &ctx, now_millis())
            .await?;
        if let Some(c) = self.store.current_conversation(ws, v.visitor.id).await? {
            self.bus.publish(
                Topic::Conversation(c.id),
                BusMessage::VisitorChanged {
                    visitor_id: v.visitor.id,
                },
            );
        }
        Ok(())
    }

    // ----- conversations ------------------------------------------------------------------------

    /// A conversation the actor may see: agents any in their workspace, visitors only theirs.
    pub async fn visible_conversation(
        &self,
        actor: &Actor,
        id: ConversationId,
    ) -> ServiceResult<Conversation> {
        let c = self
            .store
            .get_conversation(actor.workspace(), id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        match actor {
            Actor::Visitor(v) if c.visitor_id != v.visitor.id => {
                Err(ServiceError::NotFound("conversation"))
            }
            _ => Ok(c),
        }
    }

    pub async fn list_conversations(
        &self,
        agent: &Agent,
        view: View,
        status: ConversationStatus,
        before: Option<(Millis, ConversationId)>,
        limit: i64,
    ) -> ServiceResult<Vec<ConversationSummary>> {
        let q = ConversationQuery {
            viewer: agent.user.id,
            view,
            status,
            before,
            limit: limit.clamp(1, 100),
        };
        Ok(self
            .store
            .list_conversations(agent.user.workspace_id, &q)
            .await?)
    }

    pub async fn conversation_summary(
        &self,
        agent: &Agent,
        id: ConversationId,
    ) -> ServiceResult<ConversationSummary> {
        self.store
            .conversation_summary(agent.user.workspace_id, id, agent.user.id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))
    }

    pub async fn conversation_visitor(
        &self,
        agent: &Agent,
        c: &ConversationSummary,
    ) -> ServiceResult<Visitor> {
        self.store
            .get_visitor(agent.user.workspace_id, c.visitor.id)
            .await?
            .ok_or(ServiceError::NotFound("visitor"))
    }

    pub async fn visitor_of(
        &self,
        ws: WorkspaceId,
        id: VisitorId,
    ) -> ServiceResult<Option<Visitor>> {
        Ok(self.store.get_visitor(ws, id).await?)
    }

    pub async fn events_after(
        &self,
        actor: &Actor,
        id: ConversationId,
        after_seq: i64,
        limit: i64,
    ) -> ServiceResult<Vec<Event>> {
        self.visible_conversation(actor, id).await?;
        Ok(self
            .store
            .events_after(
                actor.workspace(),
                id,
                after_seq.max(0),
                limit.clamp(1, 1000),
            )
            .await?)
    }

    pub async fn events_before(
        &self,
        actor: &Actor,
        id: ConversationId,
        before_seq: i64,
        limit: i64,
    ) -> ServiceResult<Vec<Event>> {
        self.visible_conversation(actor, id).await?;
        Ok(self
            .store
            .events_before(actor.workspace(), id, before_seq, limit.clamp(1, 200))
            .await?)
    }

    /// Sends a message. Visitors may leave out the conversation: their current one is used, or
    /// a new one started. Agents replying to an unassigned conversation take it.
    pub async fn send(
        &self,
        actor: &Actor,
        conversation: Option<ConversationId>,
        client_id: &str,
        body: &str,
        attachment_ids: &[AttachmentId],
    ) -> ServiceResult<Appended> {
        self.send_choosing(actor, conversation, client_id, body, attachment_ids, None)
            .await
    }

    /// [`Self::send`] with the group a visitor picked from their channel's entry options. It
    /// must be one of them (else nothing is stored); it applies when the message starts the
    /// visitor's conversation, which is then routed to that group. An existing conversation
    /// keeps its group.
    pub async fn send_choosing(
        &self,
        actor: &Actor,
        conversation: Option<ConversationId>,
        client_id: &str,
        body: &str,
        attachment_ids: &[AttachmentId],
        chosen_group: Option<GroupId>,
    ) -> ServiceResult<Appended> {
        let chosen = match (actor, chosen_group) {
            (_, None) => None,
            (Actor::Visitor(v), Some(g)) => Some(self.chosen_group(v, g).await?),
            (Actor::Agent(_), Some(_)) => {
                return Err(ServiceError::Invalid(
                    "only visitors choose a group when they start a chat".into(),
                ))
            }
        };
        let client_id = ClientId::parse(client_id)?;
        let body = MessageBody::parse(body)?;
        let sender = actor.sender();
        let attachments = self.own_attachments(actor, &sender, attachment_ids).await?;
        if body.is_empty() && attachments.is_empty() {
            return Err(ServiceError::Invalid("message must not be empty".into()));
        }
        let ws = actor.workspace();
        let start_bot = match actor {
            Actor::Visitor(v) => v.channel.bot.as_ref().is_some_and(|b| b.enabled),
            Actor::Agent(_) => false,
        };
        let (target, effects) = match (actor, conversation) {
            (Actor::Visitor(v), None) => (
                Target::VisitorCurrent {
                    channel_id: v.channel.id,
                    visitor_id: v.visitor.id,
                    group_id: chosen.or(v.channel.group_id),
                },
                MessageEffects {
                    reopen: true,
                    claim_by: None,
                    start_bot,
                },
            ),
            (_, None) => return Err(ServiceError::Invalid("conversation_id is required".into())),
            (Actor::Visitor(v), Some(id)) => (
                Target::VisitorConversation {
                    id,
                    visitor_id: v.visitor.id,
                },
                MessageEffects {
                    reopen: true,
                    claim_by: None,
                    start_bot,
                },
            ),
            // Agents see every conversation of their workspace, which the store checks.
            (Actor::Agent(a), Some(id)) => (
                Target::Conversation(id),
                MessageEffects {
                    reopen: true,
                    claim_by: Some(a.user.as_ref()),
                    start_bot: false,
                },
            ),
        };
        let msg = NewEvent::message(sender, client_id, body, attachments);
        let appended = self
            .store
            .append_message(ws, target, &msg, &effects, now_millis())
            .await
            .map_err(|e| match e {
                crate::StoreError::NotFound => ServiceError::NotFound("conversation"),
                e => e.into(),
            })?;
        if !appended.duplicate {
            self.publish_events(
                &appended.conversation,
                &appended.events,
                appended.created_conversation,
            );
            // A matching auto-reply answers at once; it stands in for the bot's turn, and
            // routing still brings a person.
            // A guided flow the visitor is in (or starts) takes the message first.
            let in_flow = matches!(actor, Actor::Visitor(_))
                && self
                    .flow_turn(
                        &appended.conversation,
                        actor,
                        appended.message.body.as_deref().unwrap_or_default(),
                    )
                    .await;
            let auto_replied = in_flow
                || matches!(actor, Actor::Visitor(_))
                    && self
                        .auto_reply(
                            &appended.conversation,
                            actor,
                            appended.message.body.as_deref().unwrap_or_default(),
                        )
                        .await;
            // Keyword rules and routing look at what visitors write, unless the bot holds the
            // conversation: it answers, and routing waits for its hand-off.
            if appended.conversation.bot_active {
                if !auto_replied {
                    let text = appended.message.body.clone().unwrap_or_default();
                    self.bot_turn(&appended.conversation, actor, &text).await;
                }
            } else if let Actor::Visitor(_) = actor {
                let text = appended.message.body.clone().unwrap_or_default();
                // The picked group counts only if this message started the conversation in it.
                let chose = appended.created_conversation
                    && chosen.is_some()
                    && appended.conversation.group_id == chosen;
                self.route_after_visitor_message(
                    &appended.conversation,
                    &text,
                    appended.created_conversation,
                    chose,
                )
                .await;
                self.off_hours_reply(&appended.conversation).await;
            }
        }
        Ok(appended)
    }

    async fn own_attachments(
        &self,
        actor: &Actor,
        sender: &Sender,
        ids: &[AttachmentId],
    ) -> ServiceResult<Vec<AttachmentRef>> {
        if ids.len() > MAX_ATTACHMENTS {
            return Err(ServiceError::Invalid(format!(
                "at most {MAX_ATTACHMENTS} attachments per message"
            )));
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            match self.store.get_attachment(*id).await? {
                Some(a)
                    if a.workspace_id == actor.workspace()
                        && a.uploader.kind == sender.kind
                        && a.uploader.id == sender.id =>
                {
                    out.push(a.public())
                }
                _ => return Err(ServiceError::NotFound("attachment")),
            }
        }
        Ok(out)
    }

    pub async fn set_conversation_status(
        &self,
        agent: &Agent,
        id: ConversationId,
        status: ConversationStatus,
    ) -> ServiceResult<Option<Event>> {
        let actor = Actor::Agent(agent.clone());
        self.visible_conversation(&actor, id).await?;
        let change = NewEvent::status(actor.sender(), status);
        self.apply_change(agent.user.workspace_id, id, change).await
    }

    pub async fn assign(
        &self,
        agent: &Agent,
        id: ConversationId,
        assignee: Option<UserId>,
    ) -> ServiceResult<Option<Event>> {
        let ws = agent.user.workspace_id;
        if assignee != Some(agent.user.id) && !agent.user.role.can_assign_others() {
            return Err(ServiceError::Forbidden(
                "agents can only assign conversations to themselves".into(),
            ));
        }
        let actor = Actor::Agent(agent.clone());
        self.visible_conversation(&actor, id).await?;
        let assignee = match assignee {
            Some(uid) => Some(
                self.store
                    .get_user(ws, uid)
                    .await?
                    .ok_or(ServiceError::NotFound("user"))?
                    .as_ref(),
            ),
            None => None,
        };
        self.apply_change(ws, id, NewEvent::assignment(actor.sender(), assignee))
            .await
    }

    async fn apply_change(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        change: NewEvent,
    ) -> ServiceResult<Option<Event>> {
        match self
            .store
            .append_change(ws, id, &change, now_millis())
            .await?
        {
            Some((event, conv)) => {
                self.publish_events(&conv, std::slice::from_ref(&event), false);
                self.after_change(&conv, &event, change.kind).await;
                Ok(Some(event))
            }
            None => Ok(None),
        }
    }

    pub(crate) fn publish_events(&self, conv: &Conversation, events: &[Event], created: bool) {
        for e in events {
            self.bus
                .publish(Topic::Conversation(conv.id), BusMessage::Event(e.clone()));
        }
        self.bus.publish(
            Topic::Inbox(conv.workspace_id),
            BusMessage::ConversationChanged {
                conversation_id: conv.id,
            },
        );
        if created || events.iter().any(|e| e.kind == EventKind::Status) {
            self.bus.publish(
                Topic::Visitor(conv.visitor_id),
                BusMessage::VisitorConversation {
                    conversation_id: conv.id,
                    status: conv.status,
                    last_seq: conv.last_seq,
                },
            );
        }
    }

    pub async fn mark_read(
        &self,
        agent: &Agent,
        id: ConversationId,
        seq: i64,
    ) -> ServiceResult<()> {
        let c = self
            .visible_conversation(&Actor::Agent(agent.clone()), id)
            .await?;
        self.store
            .mark_read(
                agent.user.workspace_id,
                id,
                agent.user.id,
                seq.clamp(0, c.last_seq),
            )
            .await?;
        self.bus.publish(
            Topic::Inbox(agent.user.workspace_id),
            BusMessage::ConversationChanged {
                conversation_id: id,
            },
        );
        Ok(())
    }

    /// Typing indicators are not stored; they only go to the conversation's other sockets.
    pub async fn typing(
        &self,
        actor: &Actor,
        id: ConversationId,
        typing: bool,
        draft: Option<&str>,
    ) -> ServiceResult<()> {
        self.visible_conversation(actor, id).await?;
        let s = actor.sender();
        let from = TypingFrom {
            kind: s.kind,
            id: s.id.unwrap_or_default(),
            name: s.name,
        };
        let draft = match actor {
            Actor::Visitor(_) if typing => clip(draft, MessageBody::MAX_CHARS),
            _ => None,
        };
        self.bus.publish(
            Topic::Conversation(id),
            BusMessage::Typing {
                conversation_id: id,
                from,
                typing,
                draft,
            },
        );
        Ok(())
    }

    // ----- files ----------------------------------------------------------------------------------

    pub async fn upload(
        &self,
        actor: &Actor,
        filename: &str,
        bytes: &[u8],
    ) -> ServiceResult<Attachment> {
        if bytes.len() > self.config.max_upload_bytes {
            return Err(ServiceError::TooLarge(format!(
                "files may be at most {} MiB",
                self.config.max_upload_bytes / (1024 * 1024)
            )));
        }
        if bytes.is_empty() {
            return Err(ServiceError::Invalid("the file is empty".into()));
        }
        let filename = clean_filename(filename);
        let content_type =
            detect_upload_type(&filename, bytes).map_err(|e| ServiceError::Unsupported(e.0))?;
        let a = Attachment {
            id: AttachmentId::new(),
            workspace_id: actor.workspace(),
            uploader: actor.sender(),
            filename,
            content_type: content_type.to_owned(),
            size: bytes.len() as i64,
            key: secrets::new_key("", 16),
            created_at: now_millis(),
        };
        self.files
            .save(a.workspace_id, a.id, bytes)
            .await
            .map_err(|e| anyhow::anyhow!("saving upload: {e}"))?;
        self.store.create_attachment(&a).await?;
        Ok(a)
    }

    /// A file by its capability URL: the key must match.
    pub async fn download(
        &self,
        id: AttachmentId,
        key: &str,
    ) -> ServiceResult<(Attachment, Vec<u8>)> {
        let a = self
            .store
            .get_attachment(id)
            .await?
            .ok_or(ServiceError::NotFound("file"))?;
        if !secrets::same(&a.key, key) {
            return Err(ServiceError::NotFound("file"));
        }
        let bytes = self
            .files
            .read(a.workspace_id, a.id)
            .await
            .map_err(|e| anyhow::anyhow!("reading upload: {e}"))?;
        Ok((a, bytes))
    }
}

fn require_admin(agent: &Agent) -> ServiceResult<()> {
    if agent.user.role.can_administer() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden("only admins can do this".into()))
    }
}

/// The checked change, and the entry options with their group names when they change.
async fn channel_patch(
    store: &dyn Store,
    ws: WorkspaceId,
    input: ChannelInput,
) -> ServiceResult<(ChannelPatch, Option<Vec<EntryPoint>>)> {
    if let Some(Some(g)) = input.group_id {
        store
            .get_group(ws, g)
            .await?
            .ok_or(ServiceError::NotFound("group"))?;
    }
    let welcome_text = match input.welcome_text {
        Some(w) if w.chars().count() > MAX_WELCOME_CHARS => {
            return Err(ServiceError::Invalid(format!(
                "welcome text must be at most {MAX_WELCOME_CHARS} characters"
            )))
        }
        Some(w) => Some(w.trim().to_owned()),
        None => None,
    };
    let greeting_text = match input.greeting_text {
        Some(g) if g.chars().count() > MAX_WELCOME_CHARS => {
            return Err(ServiceError::Invalid(format!(
                "greeting text must be at most {MAX_WELCOME_CHARS} characters"
            )))
        }
        Some(g) => Some(g.trim().to_owned()),
        None => None,
    };
    if input.greeting_delay_secs.is_some_and(|d| d > 600) {
        return Err(ServiceError::Invalid(
            "greeting delay must be between 0 and 600 seconds".into(),
        ));
    }
    let entry_points = match &input.entry_points {
        Some(raw) => Some(crate::service_entry::entry_options(store, ws, raw).await?),
        None => None,
    };
    let patch = ChannelPatch {
        name: input
            .name
            .map(|n| Label::parse(&n, "name").map(Label::into_string))
            .transpose()?,
        color: input.color.map(|c| parse_color(&c)).transpose()?,
        welcome_text,
        greeting_text,
        greeting_delay_secs: input.greeting_delay_secs,
        allowed_origins: input
            .allowed_origins
            .map(|o| OriginList::parse(&o))
            .transpose()?,
        group_id: input.group_id,
        entry_points: entry_points
            .as_ref()
            .map(|list| list.iter().map(|e| (e.group_id, e.label.clone())).collect()),
        bot: match input.bot {
            Some(Some(b)) => Some(Some(b.parse()?)),
            Some(None) => Some(None),
            None => None,
        },
    };
    Ok((patch, entry_points))
}
