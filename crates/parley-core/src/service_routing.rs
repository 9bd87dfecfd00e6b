//! Groups, routing, the queue and the background jobs that keep conversations moving.

use crate::bus::{BusMessage, Topic};
use crate::routing::{positions, Outcome, RouteContext};
use crate::service::{Agent, Parley};
use crate::{ServiceError, ServiceResult};
use parley_domain::routing::Step;
use parley_domain::*;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub struct GroupInput {
    pub name: String,
    pub policy: Vec<Step>,
    pub tier: Option<i32>,
    pub reply_timeout_secs: Option<i64>,
    pub queue_timeout_secs: Option<i64>,
    /// Working hours; `None` = always open. Checked by [`WeeklyHours::parse`].
    pub hours: Option<HoursInput>,
}

/// How long an agent may be gone before their open conversations are handed on.
pub const OFFLINE_GRACE: Duration = Duration::from_secs(60);

fn require_admin(agent: &Agent) -> ServiceResult<()> {
    if agent.user.role.can_administer() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden("only admins can do this".into()))
    }
}

fn validate(input: &GroupInput) -> ServiceResult<()> {
    if input.policy.is_empty() {
        return Err(ServiceError::Invalid(
            "the policy needs at least one step".into(),
        ));
    }
    for (what, v) in [
        ("reply timeout", input.reply_timeout_secs),
        ("queue timeout", input.queue_timeout_secs),
    ] {
        if v.is_some_and(|s| !(5..=86_400).contains(&s)) {
            return Err(ServiceError::Invalid(format!(
                "{what} must be between 5 s and 24 h"
            )));
        }
    }
    if input.tier.is_some_and(|t| !(1..=9).contains(&t)) {
        return Err(ServiceError::Invalid("tier must be between 1 and 9".into()));
    }
    Ok(())
}

fn parse_hours(input: &GroupInput) -> ServiceResult<Option<WeeklyHours>> {
    input
        .hours
        .clone()
        .map(WeeklyHours::parse)
        .transpose()
        .map_err(|e| ServiceError::Invalid(format!("working hours: {e}")))
}

impl Parley {
    pub async fn list_groups(&self, agent: &Agent) -> ServiceResult<Vec<Group>> {
        Ok(self.store.list_groups(agent.user.workspace_id).await?)
    }

    pub async fn get_group(&self, agent: &Agent, id: GroupId) -> ServiceResult<Group> {
        self.store
            .get_group(agent.user.workspace_id, id)
            .await?
            .ok_or(ServiceError::NotFound("group"))
    }

    pub async fn create_group(&self, agent: &Agent, input: GroupInput) -> ServiceResult<Group> {
        require_admin(agent)?;
        validate(&input)?;
        let hours = parse_hours(&input)?;
        let g = Group {
            id: GroupId::new(),
            workspace_id: agent.user.workspace_id,
            name: Label::parse(&input.name, "name")?.into_string(),
            policy: input.policy,
            tier: input.tier.unwrap_or(1),
            reply_timeout_secs: input.reply_timeout_secs,
            queue_timeout_secs: input.queue_timeout_secs,
            hours,
            members: vec![],
            created_at: now_millis(),
        };
        self.store.create_group(&g).await?;
        Ok(g)
    }

    pub async fn update_group(
        &self,
        agent: &Agent,
        id: GroupId,
        input: GroupInput,
    ) -> ServiceResult<Group> {
        require_admin(agent)?;
        validate(&input)?;
        let hours = parse_hours(&input)?;
        let mut g = self.get_group(agent, id).await?;
        g.name = Label::parse(&input.name, "name")?.into_string();
        g.policy = input.policy;
        g.tier = input.tier.unwrap_or(g.tier);
        g.reply_timeout_secs = input.reply_timeout_secs;
        g.queue_timeout_secs = input.queue_timeout_secs;
        g.hours = hours;
        self.store.update_group(&g).await?;
        self.backfill_group(g.workspace_id, g.id).await;
        self.get_group(agent, id).await
    }

    /// Replaces the members (user id and priority, 1 first).
    pub async fn set_group_members(
        &self,
        agent: &Agent,
        id: GroupId,
        members: &[(UserId, i32)],
    ) -> ServiceResult<Group> {
        require_admin(agent)?;
        let ws = agent.user.workspace_id;
        self.get_group(agent, id).await?;
        for (u, p) in members {
            self.store
                .get_user(ws, *u)
                .await?
                .ok_or(ServiceError::NotFound("user"))?;
            if !(1..=9).contains(p) {
                return Err(ServiceError::Invalid(
                    "member priority must be between 1 and 9".into(),
                ));
            }
        }
        self.store.set_group_members(ws, id, members).await?;
        self.backfill_group(ws, id).await;
        self.get_group(agent, id).await
    }

    /// Routes one conversation and tells everyone concerned. Routing failures are logged, not
    /// returned: the conversation is safe in the database and the jobs retry.
    pub async fn route_conversation(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        mut ctx: RouteContext,
    ) -> Option<crate::routing::Routed> {
        ctx.availability = self.presence.availability(ws);
        ctx.calendar = self.workspace_calendar(ws).await;
        match self.store.route(ws, id, &ctx, now_millis()).await {
            Ok(r) => {
                if !r.events.is_empty() {
                    self.publish_events(&r.conversation, &r.events, false);
                }
                if let Some(g) = r.conversation.group_id {
                    if !r.events.is_empty() {
                        self.publish_queue(ws, g).await;
                    }
                }
                if let Outcome::Assigned(_) = r.outcome {
                    self.bus.publish(
                        Topic::Visitor(r.conversation.visitor_id),
                        BusMessage::QueuePosition {
                            conversation_id: id,
                            position: None,
                        },
                    );
                }
                Some(r)
            }
            Err(e) => {
                tracing::error!(error = %e, conversation = %id, "routing failed");
                None
            }
        }
    }

    /// Assigns queued conversations of a group, head first, while agents have room.
    pub async fn backfill_group(&self, ws: WorkspaceId, group: GroupId) {
        loop {
            let queue = match self.store.queue(ws, group).await {
                Ok(q) => q,
                Err(e) => return tracing::error!(error = %e, "reading the queue"),
            };
            let Some(head) = queue.first() else { return };
            match self
                .route_conversation(ws, head.conversation_id, RouteContext::default())
                .await
                .map(|r| r.outcome)
            {
                Some(Outcome::Assigned(_)) => continue,
                // Still nobody with room (or another node took it and the next loop sees that).
                Some(Outcome::Unchanged) if queue.len() > 1 => continue,
                _ => return,
            }
        }
    }

    /// An agent gained room (resolved a chat, came online, got a higher cap): backfill their groups.
    pub async fn backfill_for(&self, ws: WorkspaceId, user: UserId) {
        match self.store.groups_of(ws, user).await {
            Ok(groups) => {
                for g in groups {
                    self.backfill_group(ws, g).await;
                }
            }
            Err(e) => tracing::error!(error = %e, "reading an agent's groups"),
        }
    }

    /// Tells every waiting visitor of the group their position.
    pub async fn publish_queue(&self, ws: WorkspaceId, group: GroupId) {
        if let Ok(queue) = self.store.queue(ws, group).await {
            for (conversation_id, visitor_id, position) in positions(&queue) {
                self.bus.publish(
                    Topic::Visitor(visitor_id),
                    BusMessage::QueuePosition {
                        conversation_id,
                        position: Some(position),
                    },
                );
            }
        }
    }

    pub async fn queue_position(&self, ws: WorkspaceId, conv: &Conversation) -> Option<usize> {
        let g = conv.group_id?;
        conv.queued_at?;
        let queue = self.store.queue(ws, g).await.ok()?;
        positions(&queue)
            .into_iter()
            .find(|(c, _, _)| *c == conv.id)
            .map(|(_, _, p)| p)
    }

    /// After a status or assignment change made by a person.
    pub(crate) async fn after_change(&self, conv: &Conversation, event: &Event, kind: EventKind) {
        match (kind, event.status) {
            (EventKind::Status, Some(ConversationStatus::Resolved)) => {
                if let Some(a) = conv.assignee_id {
                    self.backfill_for(conv.workspace_id, a).await;
                }
                if let Some(g) = conv.group_id {
                    self.publish_queue(conv.workspace_id, g).await;
                }
            }
            (EventKind::Status, Some(ConversationStatus::Open)) if conv.assignee_id.is_none() => {
                self.route_conversation(conv.workspace_id, conv.id, RouteContext::default())
                    .await;
            }
            _ => {}
        }
    }

    /// One pass of the routing jobs: reassign conversations whose agent did not reply in time,
    /// and hand on the conversations of agents who have been offline past the grace period.
    pub async fn routing_tick(&self, offline_grace: Duration) {
        self.cluster_jobs().await;
        self.node_jobs(offline_grace).await;
    }

    /// The jobs that read the database: reply timeouts and queue timeouts. One node at a time
    /// runs them (see [`Self::run_jobs`]); they are also safe if two ever overlap.
    pub async fn cluster_jobs(&self) {
        match self.store.overdue_replies(now_millis()).await {
            Ok(overdue) => {
                for o in overdue {
                    let ctx = RouteContext {
                        replacing: Some(o.assignee),
                        why: vec![Reason::NoReply {
                            secs: o.timeout_secs,
                        }],
                        ..Default::default()
                    };
                    self.route_conversation(o.workspace_id, o.conversation_id, ctx)
                        .await;
                }
            }
            Err(e) => tracing::error!(error = %e, "looking for unanswered conversations"),
        }
        match self.store.queue_timeouts(now_millis()).await {
            Ok(list) => {
                for (_, conversation_id, visitor_id, waited_secs) in list {
                    self.bus.publish(
                        Topic::Visitor(visitor_id),
                        BusMessage::LeaveMessage {
                            conversation_id,
                            waited_secs,
                        },
                    );
                }
            }
            Err(e) => tracing::error!(error = %e, "looking for queue timeouts"),
        }
        self.backfill_opened_groups(now_millis()).await;
    }

    /// Groups with working hours that are open at `now` and have conversations waiting: assign
    /// from their queues (the conversations queued while they were closed). One indexed query
    /// per tick, and one routing transaction per such group while nobody has room.
    async fn backfill_opened_groups(&self, now: Millis) {
        match self.store.waiting_groups_with_hours().await {
            Ok(groups) => {
                for g in groups {
                    let calendar = self.workspace_calendar(g.workspace_id).await;
                    if calendar::group_open(g.hours.as_ref(), calendar.as_ref(), now) {
                        self.backfill_group(g.workspace_id, g.id).await;
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "looking for groups that opened"),
        }
    }

    /// The jobs about this node's own sockets: agents whose last connection here closed.
    pub async fn node_jobs(&self, offline_grace: Duration) {
        for (ws, user) in self
            .presence
            .take_offline_longer_than(offline_grace.as_millis() as i64)
        {
            if self.presence.availability(ws).contains_key(&user) {
                continue; // back, or connected to another node
            }
            let convs = match self.store.assigned_open(ws, user).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(error = %e, "reading an offline agent's conversations");
                    continue;
                }
            };
            for c in convs {
                let ctx = RouteContext {
                    replacing: Some(user),
                    why: vec![Reason::AgentOffline],
                    ..Default::default()
                };
                self.route_conversation(ws, c, ctx).await;
            }
        }
    }

    /// Every `every` until shutdown: this node's jobs, and the cluster's jobs while this node
    /// holds their lease in the database.
    pub async fn run_jobs(
        &self,
        every: Duration,
        offline_grace: Duration,
        shutdown: CancellationToken,
    ) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Long enough to survive a slow tick, short enough that another node takes over soon
        // after this one dies.
        let ttl = (every * 3).max(Duration::from_secs(3)).as_millis() as i64;
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    match self.store.try_lease(JOBS_LEASE, self.node, ttl, now_millis()).await {
                        Ok(true) => {
                            self.cluster_job_runs
                                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            self.cluster_jobs().await
                        }
                        Ok(false) => {}
                        Err(e) => tracing::error!(error = %e, "taking the jobs lease"),
                    }
                    self.node_jobs(offline_grace).await;
                }
                _ = shutdown.cancelled() => return,
            }
        }
    }
}

/// The lease that makes one node at a time run [`Parley::cluster_jobs`].
pub const JOBS_LEASE: &str = "routing-jobs";

pub struct RuleInput {
    pub keywords: Vec<String>,
    pub group_id: Option<GroupId>,
    pub skill: Option<String>,
    pub priority: Option<i32>,
    pub escalation: bool,
}

impl Parley {
    pub async fn list_rules(
        &self,
        agent: &Agent,
    ) -> ServiceResult<Vec<parley_domain::routing::RoutingRule>> {
        Ok(self.store.list_rules(agent.user.workspace_id).await?)
    }

    /// Replaces the workspace's keyword rules with `inputs`, in that order.
    pub async fn replace_rules(
        &self,
        agent: &Agent,
        inputs: Vec<RuleInput>,
    ) -> ServiceResult<Vec<parley_domain::routing::RoutingRule>> {
        require_admin(agent)?;
        let ws = agent.user.workspace_id;
        if inputs.len() > 200 {
            return Err(ServiceError::Invalid("at most 200 rules".into()));
        }
        let mut rules = Vec::new();
        for (i, r) in inputs.into_iter().enumerate() {
            let n = i + 1;
            let keywords: Vec<String> = r
                .keywords
                .iter()
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty())
                .collect();
            if keywords.is_empty()
                || keywords.len() > 50
                || keywords.iter().any(|k| k.chars().count() > 50)
            {
                return Err(ServiceError::Invalid(format!(
                    "rule {n}: give 1 to 50 keywords of at most 50 characters"
                )));
            }
            if r.group_id.is_none() && r.skill.is_none() && r.priority.is_none() {
                return Err(ServiceError::Invalid(format!(
                    "rule {n}: choose a group, a skill or a priority"
                )));
            }
            if let Some(g) = r.group_id {
                self.store
                    .get_group(ws, g)
                    .await?
                    .ok_or(ServiceError::NotFound("group"))?;
            }
            if r.priority.is_some_and(|p| !(-100..=100).contains(&p)) {
                return Err(ServiceError::Invalid(format!(
                    "rule {n}: priority must be between -100 and 100"
                )));
            }
            let skill = match r.skill.as_deref() {
                Some(s) => parse_skills(&[s])?.pop(),
                None => None,
            };
            rules.push(parley_domain::routing::RoutingRule {
                id: RuleId::new(),
                workspace_id: ws,
                keywords,
                group_id: r.group_id,
                skill,
                priority: r.priority,
                escalation: r.escalation,
            });
        }
        self.store.replace_rules(ws, &rules).await?;
        self.settings_changed(ws);
        Ok(rules)
    }

    /// Routes a conversation after a visitor's message: keyword rules first (the first message,
    /// or escalation rules on any message), otherwise plain routing of an unassigned one.
    /// `chose`: the visitor picked the conversation's group from the channel's entry options
    /// with this (first) message.
    pub(crate) async fn route_after_visitor_message(
        &self,
        conv: &Conversation,
        text: &str,
        first: bool,
        chose: bool,
    ) {
        self.route_new_or_escalated(conv, text, first, chose, None)
            .await
    }

    /// Routes a conversation the bot hands over, as if it had just started: keyword rules look
    /// at everything the visitor asked the bot; `lead` opens the timeline's explanation.
    pub(crate) async fn route_after_handoff(&self, conv: &Conversation, asked: &str, lead: Reason) {
        self.route_new_or_escalated(conv, asked, true, false, Some(lead))
            .await;
        self.off_hours_reply(conv).await;
    }

    async fn route_new_or_escalated(
        &self,
        conv: &Conversation,
        text: &str,
        first: bool,
        chose: bool,
        lead: Option<Reason>,
    ) {
        let lead: Vec<Reason> = lead.into_iter().collect();
        let ws = conv.workspace_id;
        let rules = match self.cached_routing_rules(ws).await {
            Ok(r) => r,
            Err(e) => return tracing::error!(error = %e, "reading routing rules"),
        };
        if chose {
            // The visitor's own choice wins over a keyword rule's group; the rule's skill and
            // queue priority still apply.
            if let Some((rule, _)) = parley_domain::routing::matching_rule(&rules, text, true) {
                if rule.skill.is_some() || rule.priority.is_some() {
                    let rule = parley_domain::routing::RoutingRule {
                        group_id: None,
                        ..rule.clone()
                    };
                    if let Err(e) = self.store.apply_rule(ws, conv.id, &rule).await {
                        tracing::error!(error = %e, "applying a routing rule");
                    }
                }
            }
            let chosen = match conv.group_id {
                Some(g) => self.store.get_group(ws, g).await.ok().flatten(),
                None => None,
            };
            let ctx = RouteContext {
                why: lead
                    .iter()
                    .cloned()
                    .chain(chosen.map(|g| Reason::VisitorChose { group: g.name }))
                    .collect(),
                ..Default::default()
            };
            self.route_conversation(ws, conv.id, ctx).await;
            return;
        }
        if let Some((rule, keyword)) = parley_domain::routing::matching_rule(&rules, text, first) {
            // An escalation only moves the conversation if it is not in that group already.
            let moves = rule.group_id.is_some_and(|g| conv.group_id != Some(g));
            if first || moves {
                let group_name = match rule.group_id {
                    Some(g) => self
                        .store
                        .get_group(ws, g)
                        .await
                        .ok()
                        .flatten()
                        .map(|g| g.name),
                    None => None,
                };
                if let Err(e) = self.store.apply_rule(ws, conv.id, rule).await {
                    return tracing::error!(error = %e, "applying a routing rule");
                }
                let keyword = keyword.to_string();
                let reason = if rule.escalation && !first {
                    Reason::Escalated {
                        keyword,
                        group: group_name,
                    }
                } else {
                    Reason::Keyword {
                        keyword,
                        group: group_name,
                    }
                };
                let ctx = RouteContext {
                    replacing: if first { None } else { conv.assignee_id },
                    why: lead.iter().cloned().chain([reason]).collect(),
                    ..Default::default()
                };
                self.route_conversation(ws, conv.id, ctx).await;
                if let (Some(prev), false) = (conv.assignee_id, first) {
                    self.backfill_for(ws, prev).await;
                }
                return;
            }
        }
        if conv.assignee_id.is_none() && conv.queued_at.is_none() && conv.group_id.is_some() {
            let ctx = RouteContext {
                why: lead,
                ..Default::default()
            };
            self.route_conversation(ws, conv.id, ctx).await;
        }
    }
}
