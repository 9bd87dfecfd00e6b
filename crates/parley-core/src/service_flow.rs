//! Guided flows (多轮引导) at run time: a visitor's message either moves them through the flow
//! they are in (a button's label), starts a flow (a trigger phrase), or leaves the flow and is
//! handled as usual (auto-replies, the bot, routing). The flows themselves are checked and
//! stepped by `parley_domain::flow`.

use crate::service::{Actor, Agent, Parley};
use crate::{ServiceError, ServiceResult};
use parley_domain::flow::{self, Flow, FlowAction, FlowMove, FlowStep};
use parley_domain::*;

impl Parley {
    pub async fn list_flows(&self, agent: &Agent) -> ServiceResult<Vec<Flow>> {
        require_editor(agent)?;
        Ok(self.store.flows(agent.user.workspace_id).await?)
    }

    /// Replaces the workspace's flows; nothing changes when one of them is invalid.
    pub async fn replace_flows(&self, agent: &Agent, flows: Vec<Flow>) -> ServiceResult<Vec<Flow>> {
        require_editor(agent)?;
        flow::check_flows(&flows)?;
        let ws = agent.user.workspace_id;
        self.store.replace_flows(ws, &flows, now_millis()).await?;
        self.settings_changed(ws);
        Ok(flows)
    }

    /// The flow's turn after a visitor's message; true when the message belonged to a flow
    /// (and nothing else should answer it).
    pub(crate) async fn flow_turn(&self, conv: &Conversation, actor: &Actor, text: &str) -> bool {
        let Actor::Visitor(v) = actor else {
            return false;
        };
        if text.trim().is_empty() {
            return false;
        }
        let ws = conv.workspace_id;
        // Most workspaces have no flows: no per-conversation lookup then.
        let flows = match self.cached_flows(ws).await {
            Ok(f) if f.is_empty() => return false,
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %e, "reading guided flows");
                return false;
            }
        };
        let at = match self.store.flow_state(ws, conv.id).await {
            Ok(at) => at,
            Err(e) => {
                tracing::error!(error = %e, "reading a conversation's flow step");
                return false;
            }
        };
        let en = v
            .visitor
            .language
            .as_deref()
            .is_some_and(|l| l.to_ascii_lowercase().starts_with("en"));
        let speaker = v
            .channel
            .bot
            .as_ref()
            .filter(|b| b.enabled)
            .map(|b| b.name.clone())
            .unwrap_or_else(|| v.channel.name.clone());
        if let Some((flow_id, step_id)) = at {
            let current = flows.iter().find(|f| f.id == flow_id && f.enabled);
            let mv = match current {
                Some(f) => flow::step(f, &step_id, text),
                None => FlowMove::End,
            };
            match mv {
                FlowMove::Show(step) => {
                    let f = current.expect("a step comes from a flow");
                    self.save_flow_state(ws, conv.id, Some((&f.id, &step.id)))
                        .await;
                    self.show_step(conv, &speaker, step, en).await;
                    return true;
                }
                FlowMove::Human => {
                    self.save_flow_state(ws, conv.id, None).await;
                    if conv.bot_active {
                        self.hand_over_from_bot(conv, actor, HandoffTrigger::Asked, text)
                            .await;
                    } else {
                        let line = if en {
                            "Someone from our team will be with you shortly."
                        } else {
                            "好的，客服马上为您服务。"
                        };
                        self.post_bot_message(conv, &speaker, line, vec![]).await;
                    }
                    return true;
                }
                FlowMove::End => {
                    self.save_flow_state(ws, conv.id, None).await;
                    if current.is_some() {
                        let line = if en {
                            "Glad to help. Ask me anything else any time."
                        } else {
                            "好的，还有其他问题随时问我。"
                        };
                        self.post_bot_message(conv, &speaker, line, vec![]).await;
                        return true;
                    }
                }
                FlowMove::NotAnOption => self.save_flow_state(ws, conv.id, None).await,
            }
        }
        match flow::flow_started_by(&flows, text) {
            Some(f) => {
                let first = &f.steps[0];
                self.save_flow_state(ws, conv.id, Some((&f.id, &first.id)))
                    .await;
                self.show_step(conv, &speaker, first, en).await;
                true
            }
            None => false,
        }
    }

    async fn save_flow_state(&self, ws: WorkspaceId, id: ConversationId, at: Option<(&str, &str)>) {
        if let Err(e) = self.store.set_flow_state(ws, id, at).await {
            tracing::error!(error = %e, "saving a conversation's flow step");
        }
    }

    /// A step as a message with its options as buttons; while the bot holds the conversation
    /// a "person" button is always there, so the visitor can leave the flow for a human.
    async fn show_step(&self, conv: &Conversation, speaker: &str, step: &FlowStep, en: bool) {
        let mut buttons: Vec<Button> = step
            .options
            .iter()
            .map(|o| Button {
                label: o.label.clone(),
                url: match &o.action {
                    FlowAction::Link { url } => Some(url.clone()),
                    _ => None,
                },
            })
            .collect();
        let has_human = step.options.iter().any(|o| o.action == FlowAction::Human);
        if conv.bot_active && !has_human {
            buttons.push(Button {
                label: if en { "Talk to a person" } else { "转人工" }.into(),
                url: None,
            });
        }
        self.post_bot_message(conv, speaker, &step.text, buttons)
            .await;
    }
}

fn require_editor(agent: &Agent) -> ServiceResult<()> {
    if agent.user.role.can_edit_kb() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "only admins and supervisors can edit guided flows".into(),
        ))
    }
}
