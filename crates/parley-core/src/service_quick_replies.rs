//! Quick replies (快捷回复) and suggestions for agents (智能提示).
//!
//! Team replies are managed by admins and supervisors; personal replies only by their owner,
//! and nobody else learns they exist (another agent's personal reply is "not found").
//!
//! Suggestions take the visitor's last message in a conversation and propose published
//! knowledge-base articles (the FAQ matcher's ranking, shown even below the bot's answering
//! threshold but above [`SUGGESTION_MIN_CONFIDENCE`]) and quick replies sharing words with it
//! (segmented with the matcher's own tokenizer, so Chinese works without spaces).

use crate::service::{Actor, Agent, Parley};
use crate::{ServiceError, ServiceResult};
use parley_domain::*;
use parley_kb::text::{is_content, normalize, segment, Mode};
use parley_kb::Matcher;
use serde::Serialize;
use std::collections::HashSet;
use utoipa::ToSchema;

/// Articles below this confidence are not suggested (they are mostly noise).
pub const SUGGESTION_MIN_CONFIDENCE: f32 = 0.2;
/// At most this many articles and this many quick replies are suggested.
pub const MAX_SUGGESTIONS: usize = 3;
/// How far back to look for the visitor's last message.
const LOOKBACK_EVENTS: i64 = 50;
/// Characters of an article's text shown (and inserted) as its excerpt.
const EXCERPT_CHARS: usize = 80;

pub struct QuickReplyInput {
    /// `team` or `personal`.
    pub scope: String,
    pub shortcut: String,
    pub title: String,
    pub text: String,
    pub category: String,
}

/// A change as sent; `None` keeps a field. The scope never changes.
#[derive(Default)]
pub struct QuickReplyChange {
    pub shortcut: Option<String>,
    pub title: Option<String>,
    pub text: Option<String>,
    pub category: Option<String>,
}

/// A published article proposed to the agent.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticleSuggestion {
    pub id: ArticleId,
    pub title: String,
    /// The start of the article as plain text (Markdown marks removed).
    pub excerpt: String,
    /// The article in the public help centre, relative to Parley's address.
    pub url: String,
    /// In [0, 1].
    pub confidence: f32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Suggestions {
    /// Sequence number of the visitor message they are for; `None` when the visitor has not
    /// written (recently).
    pub seq: Option<i64>,
    /// That message's text.
    pub message: Option<String>,
    /// Best first, at most 3.
    pub articles: Vec<ArticleSuggestion>,
    /// Best first, at most 3; only replies the caller can see.
    pub quick_replies: Vec<QuickReply>,
}

impl Parley {
    /// The team's replies and the caller's own.
    pub async fn list_quick_replies(&self, agent: &Agent) -> ServiceResult<Vec<QuickReply>> {
        Ok(self
            .store
            .list_quick_replies(agent.user.workspace_id, agent.user.id)
            .await?)
    }

    pub async fn create_quick_reply(
        &self,
        agent: &Agent,
        input: QuickReplyInput,
    ) -> ServiceResult<QuickReply> {
        let scope = ReplyScope::parse(&input.scope)?;
        let content =
            QuickReplyContent::parse(&input.shortcut, &input.title, &input.text, &input.category)?;
        let owner = match scope {
            ReplyScope::Personal => Some(agent.user.id),
            ReplyScope::Team => {
                require_team_manager(agent)?;
                None
            }
        };
        let r = QuickReply::new(agent.user.workspace_id, owner, content, now_millis());
        self.store.create_quick_reply(&r).await?;
        Ok(r)
    }

    /// A reply the caller may change: every field is checked before anything is written.
    pub async fn update_quick_reply(
        &self,
        agent: &Agent,
        id: QuickReplyId,
        input: QuickReplyChange,
    ) -> ServiceResult<QuickReply> {
        let shortcut = input.shortcut.as_deref().map(parse_shortcut).transpose()?;
        let title = input.title.as_deref().map(parse_reply_title).transpose()?;
        let text = input.text.as_deref().map(parse_reply_text).transpose()?;
        let category = input
            .category
            .as_deref()
            .map(parse_reply_category)
            .transpose()?;
        let mut r = self.editable_reply(agent, id).await?;
        let before = r.clone();
        r.shortcut = shortcut.unwrap_or(r.shortcut);
        r.title = title.unwrap_or(r.title);
        r.text = text.unwrap_or(r.text);
        r.category = category.unwrap_or(r.category);
        if r == before {
            return Ok(r);
        }
        r.updated_at = now_millis();
        if !self.store.update_quick_reply(&r).await? {
            return Err(ServiceError::NotFound("quick reply"));
        }
        Ok(r)
    }

    pub async fn delete_quick_reply(&self, agent: &Agent, id: QuickReplyId) -> ServiceResult<()> {
        self.editable_reply(agent, id).await?;
        if self
            .store
            .delete_quick_reply(agent.user.workspace_id, id)
            .await?
        {
            Ok(())
        } else {
            Err(ServiceError::NotFound("quick reply"))
        }
    }

    /// Someone else's personal reply is not found (its existence is private); a team reply the
    /// caller may not manage is forbidden.
    async fn editable_reply(&self, agent: &Agent, id: QuickReplyId) -> ServiceResult<QuickReply> {
        let r = self
            .store
            .get_quick_reply(agent.user.workspace_id, id)
            .await?
            .filter(|r| r.visible_to(&agent.user))
            .ok_or(ServiceError::NotFound("quick reply"))?;
        if !r.editable_by(&agent.user) {
            return Err(ServiceError::Forbidden(
                "only admins and supervisors can change team quick replies".into(),
            ));
        }
        Ok(r)
    }

    /// Articles and quick replies for the visitor's last message in a conversation the agent
    /// may see.
    pub async fn suggestions(
        &self,
        agent: &Agent,
        id: ConversationId,
    ) -> ServiceResult<Suggestions> {
        let ws = agent.user.workspace_id;
        let conv = self
            .visible_conversation(&Actor::Agent(agent.clone()), id)
            .await?;
        let events = self
            .store
            .events_before(ws, id, i64::MAX, LOOKBACK_EVENTS)
            .await?;
        let last = events.iter().rev().find(|e| {
            e.kind == EventKind::Message
                && e.sender.kind == SenderKind::Visitor
                && e.body.as_deref().is_some_and(|b| !b.trim().is_empty())
        });
        let Some(last) = last else {
            return Ok(Suggestions {
                seq: None,
                message: None,
                articles: vec![],
                quick_replies: vec![],
            });
        };
        let message = last.body.clone().unwrap_or_default();
        // The matcher takes questions up to this length; a longer message is cut.
        let question: String = message
            .chars()
            .take(crate::service_kb::MAX_QUESTION_CHARS)
            .collect();

        let widget_key = self
            .store
            .get_channel(ws, conv.channel_id)
            .await?
            .map(|c| c.widget_key)
            .unwrap_or_default();
        let built = self.kb_matcher(ws).await?;
        let articles = built
            .matcher
            .rank(&question, None)
            .candidates
            .into_iter()
            .filter(|c| c.confidence >= SUGGESTION_MIN_CONFIDENCE)
            .filter_map(|c| {
                let a = ArticleId::parse(&c.article_id).and_then(|id| built.articles.get(&id))?;
                Some(ArticleSuggestion {
                    id: a.id,
                    title: a.title.clone(),
                    excerpt: excerpt(&a.body_markdown, EXCERPT_CHARS),
                    url: format!("/help/{widget_key}/articles/{}", a.id),
                    confidence: c.confidence,
                })
            })
            .take(MAX_SUGGESTIONS)
            .collect();

        let replies = self.list_quick_replies(agent).await?;
        let quick_replies = rank_replies(&question, &replies)
            .into_iter()
            .take(MAX_SUGGESTIONS)
            .map(|i| replies[i].clone())
            .collect();
        Ok(Suggestions {
            seq: Some(last.seq),
            message: Some(message),
            articles,
            quick_replies,
        })
    }
}

fn require_team_manager(agent: &Agent) -> ServiceResult<()> {
    if agent.user.role.can_manage_team_replies() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "only admins and supervisors can manage team quick replies".into(),
        ))
    }
}

/// Content words of a text: jieba words (two characters or more) and English stems, without
/// stopwords. `Index` mode also yields the shorter words inside compounds.
fn words(text: &str, mode: Mode) -> HashSet<String> {
    segment(&normalize(text), mode)
        .into_iter()
        .filter(|t| is_content(t) && (!t.cjk || t.text.chars().count() >= 2))
        .map(|t| t.text)
        .collect()
}

/// Removes `{…}` placeholders, so `{visitor.name}` does not match a visitor asking for a name.
fn without_variables(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0;
    for c in text.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Indexes of the replies sharing words with `message`, best first. A word found in a reply's
/// shortcut, title or category counts twice as much as one found only in its text; ties keep
/// the list's order.
pub fn rank_replies(message: &str, replies: &[QuickReply]) -> Vec<usize> {
    let asked = words(message, Mode::Query);
    if asked.is_empty() {
        return vec![];
    }
    let mut scored: Vec<(u32, usize)> = replies
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let head = words(
                &format!("{} {} {}", r.shortcut, r.title, r.category),
                Mode::Index,
            );
            let body = words(&without_variables(&r.text), Mode::Index);
            let score: u32 = asked
                .iter()
                .map(|w| {
                    if head.contains(w) {
                        2
                    } else if body.contains(w) {
                        1
                    } else {
                        0
                    }
                })
                .sum();
            (score > 0).then_some((score, i))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, i)| i).collect()
}

/// The start of a Markdown text as one line of plain text, at most `max` characters (an
/// ellipsis marks a cut).
pub fn excerpt(markdown: &str, max: usize) -> String {
    let words = markdown_words(markdown);
    let mut plain = String::with_capacity(words.len());
    for line in words.lines() {
        let line = line
            .trim()
            .trim_start_matches(['#', '>', '-', '*', '+', ' '])
            .replace(['*', '`', '_'], "");
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if !plain.is_empty() {
            plain.push(' ');
        }
        plain.push_str(line);
    }
    if plain.chars().count() <= max {
        return plain;
    }
    let mut cut: String = plain.chars().take(max).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(shortcut: &str, title: &str, text: &str, category: &str) -> QuickReply {
        QuickReply::new(
            WorkspaceId::new(),
            None,
            QuickReplyContent::parse(shortcut, title, text, category).unwrap(),
            1,
        )
    }

    #[test]
    fn replies_are_ranked_by_shared_words() {
        let replies = vec![
            reply(
                "hi",
                "问候",
                "您好，{visitor.name}，有什么可以帮您？",
                "常用",
            ),
            reply(
                "refund",
                "退款流程",
                "退款将在3个工作日内原路退回。",
                "售后",
            ),
            reply(
                "ship",
                "发货时间",
                "付款后48小时内发货，退款请联系售后。",
                "物流",
            ),
        ];
        assert_eq!(rank_replies("我想申请退款", &replies), vec![1, 2]);
        assert_eq!(rank_replies("什么时候发货？", &replies), vec![2]);
        assert_eq!(rank_replies("How do I get a refund?", &replies), vec![1]);
        assert!(rank_replies("嗯", &replies).is_empty());
        assert!(
            rank_replies("my name is", &replies).is_empty(),
            "variables are not words"
        );
    }

    #[test]
    fn excerpts_are_plain_and_short() {
        assert_eq!(
            excerpt(
                "# 发货\n\n现货**48小时**内发货，详见[物流说明](https://x.test)。",
                80
            ),
            "发货 现货48小时内发货，详见物流说明。"
        );
        assert_eq!(excerpt("一二三四五", 3), "一二三…");
        assert_eq!(excerpt("", 3), "");
    }
}
