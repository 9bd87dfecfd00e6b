//! Teamwork on a conversation: internal notes and mentions, transfers, taking over, tags, the
//! follow-up marker, who is viewing, and the supervisor's overview.

use crate::bus::{BusMessage, Topic};
use crate::ports::Appended;
use crate::routing::{Outcome, RouteContext};
use crate::service::{Actor, Agent, Parley};
use crate::{ServiceError, ServiceResult};
use parley_domain::*;
use serde::Serialize;

pub enum TransferTo {
    Agent(UserId),
    Group(GroupId),
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GroupLoad {
    pub id: GroupId,
    pub name: String,
    pub queue_length: usize,
    pub longest_wait_secs: i64,
    pub agents_online: usize,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AgentLoad {
    pub id: UserId,
    pub name: String,
    /// online, busy, away or offline
    pub status: &'static str,
    pub load: i64,
    pub capacity: u32,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Overview {
    pub groups: Vec<GroupLoad>,
    pub agents: Vec<AgentLoad>,
    pub open: i64,
    pub unassigned: i64,
    pub queued: i64,
}

const MAX_NOTE_CHARS: usize = 1000;

fn require_supervisor(agent: &Agent) -> ServiceResult<()> {
    if agent.user.role.can_assign_others() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "only supervisors and admins can do this".into(),
        ))
    }
}

impl Parley {
    /// An internal note: stored in the timeline, shown to agents, never to the visitor.
    pub async fn add_note(
        &self,
        agent: &Agent,
        id: ConversationId,
        client_id: &str,
        body: &str,
    ) -> ServiceResult<Appended> {
        let client_id = ClientId::parse(client_id)?;
        let body = MessageBody::parse(body)?;
        if body.is_empty() {
            return Err(ServiceError::Invalid("note must not be empty".into()));
        }
        let actor = Actor::Agent(agent.clone());
        self.visible_conversation(&actor, id).await?;
        let ws = agent.user.workspace_id;
        let note = NewEvent::note(actor.sender(), client_id, body);
        let a = self
            .store
            .append_message(
                ws,
                crate::ports::Target::Conversation(id),
                &note,
                &Default::default(),
                now_millis(),
            )
            .await?;
        if !a.duplicate {
            self.publish_events(&a.conversation, &a.events, false);
            let users = self.store.list_users(ws).await?;
            let names: Vec<String> = users.iter().map(|u| u.name.clone()).collect();
            let text = a.message.body.clone().unwrap_or_default();
            for name in mentioned(&text, &names) {
                for u in users
                    .iter()
                    .filter(|u| &u.name == name && u.id != agent.user.id)
                {
                    self.bus.publish(
                        Topic::User(u.id),
                        BusMessage::Mention {
                            conversation_id: id,
                            event: a.message.clone(),
                        },
                    );
                }
            }
        }
        Ok(a)
    }

    /// Hands a conversation to a colleague or to a group, with a note for whoever gets it.
    pub async fn transfer(
        &self,
        agent: &Agent,
        id: ConversationId,
        to: TransferTo,
        note: Option<&str>,
    ) -> ServiceResult<Option<Event>> {
        let ws = agent.user.workspace_id;
        let actor = Actor::Agent(agent.clone());
        let conv = self.visible_conversation(&actor, id).await?;
        let note = clip(note, MAX_NOTE_CHARS);
        let from = agent.user.as_ref();
        let by = agent.user.name.clone();
        let (event, receiver) = match to {
            TransferTo::Agent(uid) => {
                let target = self
                    .store
                    .get_user(ws, uid)
                    .await?
                    .ok_or(ServiceError::NotFound("user"))?;
                if conv.assignee_id == Some(uid) {
                    return Err(ServiceError::Invalid(format!(
                        "{} already has this conversation",
                        target.name
                    )));
                }
                let mut e = NewEvent::assignment(actor.sender(), Some(target.as_ref()))
                    .with_reason(vec![Reason::Transfer { by, group: None }]);
                e.note = note.clone();
                let (event, c) = self
                    .store
                    .append_change(ws, id, &e, now_millis())
                    .await?
                    .ok_or(ServiceError::NotFound("conversation"))?;
                self.publish_events(&c, std::slice::from_ref(&event), false);
                (Some(event), Some(uid))
            }
            TransferTo::Group(gid) => {
                let group = self
                    .store
                    .get_group(ws, gid)
                    .await?
                    .ok_or(ServiceError::NotFound("group"))?;
                self.store.move_to_group(ws, id, gid).await?;
                let ctx = RouteContext {
                    replacing: conv.assignee_id,
                    why: vec![Reason::Transfer {
                        by,
                        group: Some(group.name.clone()),
                    }],
                    note: note.clone(),
                    ..Default::default()
                };
                let routed = self.route_conversation(ws, id, ctx).await;
                let receiver = match routed.as_ref().map(|r| r.outcome) {
                    Some(Outcome::Assigned(u)) => Some(u),
                    _ => None,
                };
                (routed.and_then(|r| r.events.last().cloned()), receiver)
            }
        };
        if let Some(uid) = receiver {
            self.bus.publish(
                Topic::User(uid),
                BusMessage::Transfer {
                    conversation_id: id,
                    from,
                    note,
                },
            );
        }
        if let Some(prev) = conv.assignee_id {
            self.backfill_for(ws, prev).await;
        }
        Ok(event)
    }

    /// 强制接入: a supervisor takes the conversation, whatever the caps.
    pub async fn take_over(
        &self,
        agent: &Agent,
        id: ConversationId,
    ) -> ServiceResult<Option<Event>> {
        require_supervisor(agent)?;
        let ws = agent.user.workspace_id;
        let actor = Actor::Agent(agent.clone());
        let conv = self.visible_conversation(&actor, id).await?;
        let e = NewEvent::assignment(actor.sender(), Some(agent.user.as_ref())).with_reason(vec![
            Reason::TakenOver {
                by: agent.user.name.clone(),
            },
        ]);
        let Some((event, c)) = self.store.append_change(ws, id, &e, now_millis()).await? else {
            return Ok(None);
        };
        self.publish_events(&c, std::slice::from_ref(&event), false);
        if let Some(prev) = conv.assignee_id {
            self.bus.publish(
                Topic::User(prev),
                BusMessage::Transfer {
                    conversation_id: id,
                    from: agent.user.as_ref(),
                    note: Some(format!("taken over by {}", agent.user.name)),
                },
            );
            self.backfill_for(ws, prev).await;
        }
        Ok(Some(event))
    }

    pub async fn set_tags(
        &self,
        agent: &Agent,
        id: ConversationId,
        tags: &[String],
    ) -> ServiceResult<Vec<String>> {
        let tags = parse_tags(tags)?;
        self.visible_conversation(&Actor::Agent(agent.clone()), id)
            .await?;
        self.store
            .set_tags(agent.user.workspace_id, id, &tags)
            .await?;
        self.bus.publish(
            Topic::Inbox(agent.user.workspace_id),
            BusMessage::ConversationChanged {
                conversation_id: id,
            },
        );
        Ok(tags)
    }

    /// Tags a visitor (VIP, 老客户 …): any agent of the workspace; colleagues see it live.
    pub async fn set_visitor_tags(
        &self,
        agent: &Agent,
        id: VisitorId,
        tags: &[String],
    ) -> ServiceResult<Vec<String>> {
        let tags = parse_tags(tags)?;
        let ws = agent.user.workspace_id;
        if !self.store.set_visitor_tags(ws, id, &tags).await? {
            return Err(ServiceError::NotFound("visitor"));
        }
        // Agents who have the visitor's conversation open see the change.
        if let Some(c) = self.store.current_conversation(ws, id).await? {
            self.bus.publish(
                Topic::Conversation(c.id),
                BusMessage::VisitorChanged { visitor_id: id },
            );
        }
        Ok(tags)
    }

    pub async fn set_follow_up(
        &self,
        agent: &Agent,
        id: ConversationId,
        follow_up: bool,
    ) -> ServiceResult<()> {
        self.visible_conversation(&Actor::Agent(agent.clone()), id)
            .await?;
        self.store
            .set_follow_up(agent.user.workspace_id, id, follow_up)
            .await?;
        self.bus.publish(
            Topic::Inbox(agent.user.workspace_id),
            BusMessage::ConversationChanged {
                conversation_id: id,
            },
        );
        Ok(())
    }

    /// An agent's socket subscribed to (opened) a conversation.
    pub fn viewing(&self, user: &User, id: ConversationId) {
        let viewers = self.presence.view(id, &user.as_ref());
        self.bus.publish(
            Topic::Conversation(id),
            BusMessage::Viewers {
                conversation_id: id,
                viewers,
            },
        );
    }

    pub fn stopped_viewing(&self, user: &User, id: ConversationId) {
        let viewers = self.presence.unview(id, user.id);
        self.bus.publish(
            Topic::Conversation(id),
            BusMessage::Viewers {
                conversation_id: id,
                viewers,
            },
        );
    }

    /// Queues per group, agents' status and load, and the open totals.
    pub async fn overview(&self, agent: &Agent) -> ServiceResult<Overview> {
        require_supervisor(agent)?;
        let ws = agent.user.workspace_id;
        let now = now_millis();
        let availability = self.presence.availability(ws);
        let mut groups = Vec::new();
        for g in self.store.list_groups(ws).await? {
            let queue = self.store.queue(ws, g.id).await?;
            groups.push(GroupLoad {
                id: g.id,
                name: g.name.clone(),
                queue_length: queue.len(),
                longest_wait_secs: queue
                    .iter()
                    .map(|q| (now - q.queued_at) / 1000)
                    .max()
                    .unwrap_or(0),
                agents_online: g
                    .members
                    .iter()
                    .filter(|m| {
                        availability.get(&m.user_id)
                            == Some(&parley_domain::routing::Availability::Online)
                    })
                    .count(),
            });
        }
        let loads = self.store.loads(ws).await?;
        let agents = self
            .store
            .list_users(ws)
            .await?
            .into_iter()
            .map(|u| AgentLoad {
                id: u.id,
                status: self.presence.status_of(ws, u.id),
                load: loads
                    .iter()
                    .find(|(id, _)| *id == u.id)
                    .map(|(_, n)| *n)
                    .unwrap_or(0),
                capacity: u.capacity,
                name: u.name,
            })
            .collect();
        let (open, unassigned, queued) = self.store.open_counts(ws).await?;
        Ok(Overview {
            groups,
            agents,
            open,
            unassigned,
            queued,
        })
    }
}
