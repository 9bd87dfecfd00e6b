//! Why the system did something to a conversation (routing, timeouts, transfers), as data.
//!
//! Events carry a list of [`Reason`]s instead of prose so that each client can say it in the
//! reader's language; [`Reasons`]'s `Display` is the English rendering used in logs and tests.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One clause of an explanation. Serialized with a `code` tag, e.g.
/// `{"code":"least_load","agent":"Ann","load":1,"capacity":3}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Reason {
    /// The group whose policy decided.
    Group { name: String },
    /// The agent who served this visitor before.
    Sticky { agent: String },
    /// Only agents with these skills were considered.
    Skill { skills: Vec<String> },
    /// Nobody in the group has these skills, so everyone was considered.
    NoSkill { skills: Vec<String> },
    /// The best member-priority tier with room; `overflow` when higher tiers were full.
    Tier { tier: i32, overflow: bool },
    LeastLoad {
        agent: String,
        load: u32,
        capacity: u32,
    },
    /// Best agent score, in percent.
    Score { agent: String, score: u32 },
    /// The agent who waited longest for a conversation.
    RoundRobin { agent: String },
    /// No eligible agent has room: the conversation waits.
    NoRoom,
    /// The group is outside its working hours: the conversation waits until it opens.
    OutsideHours,
    /// The assignee did not reply within the group's limit.
    NoReply { secs: i64 },
    /// The assignee went offline (or lost the connection past the grace period).
    AgentOffline,
    /// A keyword rule matched the visitor's first message.
    Keyword {
        keyword: String,
        group: Option<String>,
    },
    /// An escalation rule matched a later message.
    Escalated {
        keyword: String,
        group: Option<String>,
    },
    /// A colleague transferred the conversation (to `group`, when it went to a group).
    Transfer { by: String, group: Option<String> },
    /// A supervisor took the conversation over (强制接入).
    TakenOver { by: String },
    /// No group to route to: back to the unassigned list.
    Released,
    /// The visitor picked this entry before the chat started.
    VisitorChose { group: String },
    /// The FAQ bot passed the conversation to a person.
    BotHandoff { trigger: crate::HandoffTrigger },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Group { name } => write!(f, "{name}"),
            Reason::Sticky { agent } => write!(f, "sticky: {agent} served this visitor before"),
            Reason::Skill { skills } => write!(f, "skill {}", skills.join("+")),
            Reason::NoSkill { skills } => write!(f, "nobody has skill {}", skills.join("+")),
            Reason::Tier { tier, overflow } => {
                write!(f, "priority tier {tier}")?;
                if *overflow {
                    write!(f, " (higher tiers full)")?;
                }
                Ok(())
            }
            Reason::LeastLoad {
                agent,
                load,
                capacity,
            } => write!(f, "least load: {agent} has {load}/{capacity} chats"),
            Reason::Score { agent, score } => write!(f, "best score: {agent} ({score}%)"),
            Reason::RoundRobin { agent } => {
                write!(f, "round robin: {agent} waited longest for a chat")
            }
            Reason::NoRoom => write!(f, "no eligible agent has room"),
            Reason::OutsideHours => write!(f, "outside working hours"),
            Reason::NoReply { secs } => write!(f, "no reply within {secs} s"),
            Reason::AgentOffline => write!(f, "the agent went offline"),
            Reason::Keyword { keyword, group } => {
                write!(f, "keyword '{keyword}'")?;
                arrow(f, group)
            }
            Reason::Escalated { keyword, group } => {
                write!(f, "escalated by keyword '{keyword}'")?;
                arrow(f, group)
            }
            Reason::Transfer { by, group } => {
                write!(f, "transferred by {by}")?;
                arrow(f, group)
            }
            Reason::TakenOver { by } => write!(f, "taken over by {by}"),
            Reason::Released => write!(f, "back to the unassigned list"),
            Reason::VisitorChose { group } => write!(f, "the visitor chose {group}"),
            Reason::BotHandoff { trigger } => match trigger {
                crate::HandoffTrigger::Asked => write!(f, "the visitor asked the bot for a person"),
                crate::HandoffTrigger::Keyword => write!(f, "a hand-off keyword reached the bot"),
                crate::HandoffTrigger::Misses => {
                    write!(f, "the bot could not answer twice in a row")
                }
            },
        }
    }
}

fn arrow(f: &mut fmt::Formatter<'_>, group: &Option<String>) -> fmt::Result {
    match group {
        Some(g) => write!(f, " → {g}"),
        None => Ok(()),
    }
}

/// An explanation: clauses from the cause to the decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reasons(pub Vec<Reason>);

impl fmt::Display for Reasons {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.0.iter().enumerate() {
            match (i, r) {
                (0, _) => {}
                // "售前: least load …" reads better than "售前; least load …".
                (_, _) if matches!(self.0[i - 1], Reason::Group { .. }) => write!(f, ": ")?,
                _ => write!(f, "; ")?,
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_with_a_code_tag() {
        let r = Reason::LeastLoad {
            agent: "Ann".into(),
            load: 1,
            capacity: 3,
        };
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            json,
            r#"{"code":"least_load","agent":"Ann","load":1,"capacity":3}"#
        );
        assert_eq!(serde_json::from_str::<Reason>(&json).unwrap(), r);
        assert_eq!(
            serde_json::to_string(&Reason::NoRoom).unwrap(),
            r#"{"code":"no_room"}"#
        );
        assert_eq!(
            serde_json::to_string(&Reason::OutsideHours).unwrap(),
            r#"{"code":"outside_hours"}"#
        );
        assert_eq!(Reason::OutsideHours.to_string(), "outside working hours");
    }

    #[test]
    fn renders_english_clauses() {
        let r = Reasons(vec![
            Reason::NoReply { secs: 60 },
            Reason::Group {
                name: "售前".into(),
            },
            Reason::Tier {
                tier: 2,
                overflow: true,
            },
            Reason::RoundRobin { agent: "Bo".into() },
        ]);
        assert_eq!(
            r.to_string(),
            "no reply within 60 s; 售前: priority tier 2 (higher tiers full); round robin: Bo waited longest for a chat"
        );
    }
}
