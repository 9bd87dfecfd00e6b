//! Keyword auto-replies (关键词自动回复): admins and supervisors keep an ordered list of rules;
//! the first enabled rule matching a visitor's message answers it at once as an automatic
//! message with quick-reply buttons (routing still brings a person).
//!
//! Each node keeps the workspace's compiled rules in its settings cache (see `settings_cache`):
//! a save on any node drops them on every node, which compiles them again with the next
//! message, so regexes are never compiled per message and messages read no rules.

use crate::service::{Actor, Agent, Parley};
use crate::{ServiceError, ServiceResult};
use parley_domain::template::{fill, TemplateValues};
use parley_domain::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Longest filled-in reply sent, in characters (a message holds 5000).
const MAX_SENT_CHARS: usize = 4000;

/// One rule as sent by the console; `id` keeps an existing rule's hit count.
#[derive(Debug, Clone)]
pub struct AutoReplyInput {
    pub id: Option<AutoReplyId>,
    pub name: String,
    pub keywords: Vec<String>,
    /// `exact`, `contains` or `regex`.
    pub mode: String,
    pub channel_ids: Vec<ChannelId>,
    pub window: Option<WindowInput>,
    /// Only for visitors with one of these tags; empty: everyone.
    pub visitor_tags: Vec<String>,
    pub reply: String,
    pub buttons: Vec<String>,
    pub enabled: bool,
}

/// A daily window as `HH:MM` times and an IANA zone (empty: UTC).
#[derive(Debug, Clone)]
pub struct WindowInput {
    pub start: String,
    pub end: String,
    pub time_zone: String,
}

/// A workspace's compiled rules.
pub struct BuiltRules {
    pub rules: CompiledRules,
}

/// How often this node compiled rules.
#[derive(Default)]
pub struct AutoReplyCache {
    builds: AtomicU64,
}

impl AutoReplyCache {
    /// How many times this node compiled a workspace's rules (for tests and metrics).
    pub fn builds(&self) -> u64 {
        self.builds.load(Ordering::Relaxed)
    }
}

fn require_manager(agent: &Agent) -> ServiceResult<()> {
    if matches!(agent.user.role, Role::Admin | Role::Supervisor) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "only admins and supervisors can manage auto-replies".into(),
        ))
    }
}

/// `rules[i].field (“name”): message`, so the console can put it next to the field.
fn rule_error(i: usize, name: &str, field: &str, message: &str) -> ServiceError {
    let name = name.trim();
    if name.is_empty() {
        ServiceError::Invalid(format!("rules[{i}].{field}: {message}"))
    } else {
        ServiceError::Invalid(format!("rules[{i}].{field} (“{name}”): {message}"))
    }
}

impl Parley {
    pub async fn list_auto_replies(&self, agent: &Agent) -> ServiceResult<Vec<AutoReply>> {
        require_manager(agent)?;
        Ok(self
            .store
            .list_auto_replies(agent.user.workspace_id)
            .await?)
    }

    /// Replaces the workspace's rules with `inputs`, in this order. Every rule is checked (and
    /// its patterns compiled) before anything is written; the first problem is reported.
    pub async fn replace_auto_replies(
        &self,
        agent: &Agent,
        inputs: Vec<AutoReplyInput>,
    ) -> ServiceResult<Vec<AutoReply>> {
        require_manager(agent)?;
        let ws = agent.user.workspace_id;
        if inputs.len() > MAX_AUTO_REPLIES {
            return Err(ServiceError::Invalid(format!(
                "at most {MAX_AUTO_REPLIES} auto-reply rules"
            )));
        }
        let channels: Vec<ChannelId> = self
            .store
            .list_channels(ws)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let existing: HashMap<AutoReplyId, AutoReply> = self
            .store
            .list_auto_replies(ws)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let now = now_millis();
        let mut rules = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.into_iter().enumerate() {
            let err = |field: &str, message: &str| rule_error(i, &input.name, field, message);
            let mode = MatchMode::parse(&input.mode).map_err(|e| err("mode", &e.0))?;
            if let Some(c) = input.channel_ids.iter().find(|c| !channels.contains(c)) {
                return Err(err(
                    "channel_ids",
                    &format!("no channel {c} in this workspace"),
                ));
            }
            let window = match &input.window {
                None => None,
                Some(w) => {
                    let start = parse_clock(&w.start).map_err(|e| err("window", &e.0))?;
                    let end = parse_clock(&w.end).map_err(|e| err("window", &e.0))?;
                    Some(
                        TimeWindow::parse(start, end, &w.time_zone)
                            .map_err(|e| err("window", &e.0))?,
                    )
                }
            };
            let content = AutoReplyContent::parse(
                &input.name,
                &input.keywords,
                mode,
                input.channel_ids.clone(),
                window,
                &input.reply,
                &input.buttons,
                input.enabled,
            )
            .map_err(|e| err(e.field, &e.message))?;
            let visitor_tags =
                parse_tags(&input.visitor_tags).map_err(|e| err("visitor_tags", &e.0))?;
            // An id of another workspace (or a stale one) is a new rule.
            let before = input.id.and_then(|id| existing.get(&id));
            let id = match before {
                Some(b) if !rules.iter().any(|r: &AutoReply| r.id == b.id) => b.id,
                _ => AutoReplyId::new(),
            };
            let before = existing.get(&id);
            let rule = AutoReply {
                id,
                workspace_id: ws,
                position: i as i32,
                name: content.name,
                keywords: content.keywords,
                mode: content.mode,
                channel_ids: content.channel_ids,
                window: content.window,
                visitor_tags,
                reply: content.reply,
                buttons: content.buttons,
                enabled: content.enabled,
                hits: before.map_or(0, |b| b.hits),
                created_at: before.map_or(now, |b| b.created_at),
                updated_at: now,
            };
            rules.push(rule);
        }
        self.store.replace_auto_replies(ws, &rules).await?;
        self.settings_changed(ws);
        Ok(rules)
    }

    /// The workspace's compiled rules, compiled first when they changed (on any node).
    pub async fn auto_reply_rules(&self, ws: WorkspaceId) -> ServiceResult<Arc<BuiltRules>> {
        let load = || async move {
            let rules = self.store.list_auto_replies(ws).await?;
            let compiled = tokio::task::spawn_blocking(move || CompiledRules::new(rules))
                .await
                .map_err(|e| anyhow::anyhow!("compiling auto-replies: {e}"))?;
            self.auto_replies.builds.fetch_add(1, Ordering::Relaxed);
            Ok(Arc::new(BuiltRules { rules: compiled }))
        };
        let cache = &self.settings.auto_replies;
        Ok(cache.get_or_load(&self.settings.epoch, ws, load).await?)
    }

    /// Answers a visitor's message with the first matching rule; true when it did.
    pub(crate) async fn auto_reply(&self, conv: &Conversation, actor: &Actor, text: &str) -> bool {
        let Actor::Visitor(v) = actor else {
            return false;
        };
        if text.trim().is_empty() {
            return false;
        }
        let ws = conv.workspace_id;
        let built = match self.auto_reply_rules(ws).await {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "loading auto-replies");
                return false;
            }
        };
        // Tags change while the visitor's socket stays open: read them when a rule needs them.
        let tags = if built.rules.uses_visitor_tags() {
            match self.store.get_visitor(ws, v.visitor.id).await {
                Ok(Some(fresh)) => fresh.tags,
                _ => v.visitor.tags.clone(),
            }
        } else {
            vec![]
        };
        let Some(rule) = built
            .rules
            .find_for(text, conv.channel_id, now_millis(), &tags)
        else {
            return false;
        };
        let agent_name = match conv.assignee_id {
            Some(a) => self
                .store
                .get_user(ws, a)
                .await
                .ok()
                .flatten()
                .map(|u| u.name),
            None => None,
        };
        let values = TemplateValues {
            visitor_name: v.visitor.name.clone(),
            page_title: v.visitor.current_title.clone(),
            page_url: v.visitor.current_url.clone(),
            agent_name,
            channel_name: Some(v.channel.name.clone()),
        };
        // Without an inline fallback: the page's address stands in for its title, the team
        // (channel) for an agent not yet assigned.
        let fallback = TemplateValues {
            page_title: v.visitor.current_url.clone(),
            agent_name: Some(v.channel.name.clone()),
            ..Default::default()
        };
        let body: String = fill(&rule.reply, &values, &fallback)
            .chars()
            .take(MAX_SENT_CHARS)
            .collect();
        if body.trim().is_empty() {
            return false;
        }
        if let Err(e) = self.store.count_auto_reply_hit(ws, rule.id).await {
            tracing::error!(error = %e, "counting an auto-reply hit");
        }
        let buttons = rule
            .buttons
            .iter()
            .map(|label| Button {
                label: label.clone(),
                url: None,
            })
            .collect();
        self.post_bot_message(conv, &v.channel.name, &body, buttons)
            .await;
        true
    }
}
