//! The FAQ bot's settings per channel and its pure decision: what the bot does with a question
//! given the matcher's verdict. Whether a message asks for a person is the matcher's call
//! (`parley_kb::HandoffDetector`); the admin's own hand-off phrases are checked here.

use crate::Invalid;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The bot of a channel. Stored on the channel; `None` there means no bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BotSettings {
    pub enabled: bool,
    /// Shown as the sender of the bot's messages (智能助手).
    pub name: String,
    /// Questions in a row the bot may fail to answer before it hands over (1 to 5).
    pub miss_limit: u8,
    /// Extra phrases on which the bot hands over at once, besides 人工 / human and the like.
    pub handoff_keywords: Vec<String>,
}

impl Default for BotSettings {
    fn default() -> Self {
        BotSettings {
            enabled: true,
            name: "智能助手".into(),
            miss_limit: 2,
            handoff_keywords: vec![],
        }
    }
}

impl BotSettings {
    /// Checks what an admin sent; the result is what gets stored.
    pub fn parse(
        enabled: bool,
        name: &str,
        miss_limit: u8,
        handoff_keywords: Vec<String>,
    ) -> Result<Self, Invalid> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 40 {
            return Err(Invalid::new("bot name must be 1 to 40 characters"));
        }
        if !(1..=5).contains(&miss_limit) {
            return Err(Invalid::new("bot miss_limit must be 1 to 5"));
        }
        if handoff_keywords.len() > 50 {
            return Err(Invalid::new("at most 50 hand-off keywords"));
        }
        let mut keywords = Vec::with_capacity(handoff_keywords.len());
        for k in handoff_keywords {
            let k = k.trim().to_owned();
            if k.is_empty() || k.chars().count() > 50 {
                return Err(Invalid::new("hand-off keywords must be 1 to 50 characters"));
            }
            if !keywords.contains(&k) {
                keywords.push(k);
            }
        }
        Ok(BotSettings {
            enabled,
            name: name.to_owned(),
            miss_limit,
            handoff_keywords: keywords,
        })
    }
}

/// Why the bot passed the conversation to a person; recorded in the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HandoffTrigger {
    /// The visitor asked for a person (人工, human …).
    Asked,
    /// One of the admin's hand-off keywords matched.
    Keyword,
    /// The bot failed to answer this many questions in a row.
    Misses,
}

/// Whether one of the admin's hand-off phrases occurs in the message.
pub fn matches_handoff_keyword(text: &str, keywords: &[String]) -> bool {
    // The same folding as guided-flow triggers: case, width and punctuation do not count.
    let t = crate::flow::normalize(text);
    keywords.iter().any(|k| {
        let k = crate::flow::normalize(k);
        !k.is_empty() && t.contains(&k)
    })
}

/// What the bot does with a visitor's message once the matcher has had its say.
#[derive(Debug, Clone, PartialEq)]
pub enum BotStep {
    /// Answer with this article (index into what the matcher returned).
    Answer,
    /// Say it did not understand; `misses` in a row so far.
    Miss { misses: u8 },
    /// Pass the conversation to a person.
    Handoff(HandoffTrigger),
}

/// Decides the bot's step. `asked_for_human`: the matcher's hand-off detector fired;
/// `answered`: it found an article above the threshold; `misses_before`: unanswered questions
/// in a row before this one.
pub fn next_step(
    settings: &BotSettings,
    text: &str,
    asked_for_human: bool,
    answered: bool,
    misses_before: u8,
) -> BotStep {
    if asked_for_human {
        return BotStep::Handoff(HandoffTrigger::Asked);
    }
    if matches_handoff_keyword(text, &settings.handoff_keywords) {
        return BotStep::Handoff(HandoffTrigger::Keyword);
    }
    if answered {
        return BotStep::Answer;
    }
    let misses = misses_before.saturating_add(1);
    if misses >= settings.miss_limit {
        BotStep::Handoff(HandoffTrigger::Misses)
    } else {
        BotStep::Miss { misses }
    }
}

/// A question the bot could not answer, for admins to link to an article (or write one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Unanswered {
    pub id: crate::UnansweredId,
    #[serde(skip)]
    pub workspace_id: crate::WorkspaceId,
    pub channel_id: crate::ChannelId,
    pub conversation_id: crate::ConversationId,
    pub question: String,
    /// The article an admin linked it to.
    pub article_id: Option<crate::ArticleId>,
    #[serde(serialize_with = "crate::model::opt_ts")]
    #[schema(value_type = Option<String>)]
    pub resolved_at: Option<crate::Millis>,
    #[serde(serialize_with = "crate::model::ts")]
    #[schema(value_type = String)]
    pub created_at: crate::Millis,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_keywords_hand_over_anywhere_in_the_message() {
        let s = BotSettings {
            handoff_keywords: vec!["投诉".to_string(), "Refund Now".to_string()],
            ..BotSettings::default()
        };
        assert_eq!(
            next_step(&s, "我要投诉你们的快递员，他态度太差了", false, true, 0),
            BotStep::Handoff(HandoffTrigger::Keyword)
        );
        assert_eq!(
            next_step(&s, "ＲＥＦＵＮＤ now!!", false, false, 0),
            BotStep::Handoff(HandoffTrigger::Keyword)
        );
        assert_eq!(next_step(&s, "怎么开发票", false, true, 0), BotStep::Answer);
    }

    #[test]
    fn two_misses_in_a_row_hand_over_by_default() {
        let s = BotSettings::default();
        assert_eq!(
            next_step(&s, "xyz", false, false, 0),
            BotStep::Miss { misses: 1 }
        );
        assert_eq!(
            next_step(&s, "xyz", false, false, 1),
            BotStep::Handoff(HandoffTrigger::Misses)
        );
        assert_eq!(next_step(&s, "怎么退货", false, true, 1), BotStep::Answer);
        assert_eq!(
            next_step(&s, "转人工", true, true, 0),
            BotStep::Handoff(HandoffTrigger::Asked)
        );
        let patient = BotSettings { miss_limit: 3, ..s };
        assert_eq!(
            next_step(&patient, "xyz", false, false, 1),
            BotStep::Miss { misses: 2 }
        );
    }

    #[test]
    fn settings_are_validated() {
        assert!(BotSettings::parse(true, " ", 2, vec![]).is_err());
        assert!(BotSettings::parse(true, "助手", 0, vec![]).is_err());
        assert!(BotSettings::parse(true, "助手", 6, vec![]).is_err());
        assert!(BotSettings::parse(true, "助手", 2, vec![" ".into()]).is_err());
        let s = BotSettings::parse(true, " 小智 ", 2, vec!["投诉".into(), "投诉".into()]).unwrap();
        assert_eq!(s.name, "小智");
        assert_eq!(s.handoff_keywords, vec!["投诉".to_string()]);
    }
}
