//! The FAQ bot (智能机器人): on a channel with the bot switched on, a new conversation starts
//! with the bot. It answers visitors' questions from the published knowledge base, says so when
//! it has no answer, and hands the conversation to routing when the visitor asks for a person,
//! after `miss_limit` misses in a row, or on one of the admin's hand-off phrases. Until then the
//! conversation is not routed; an agent who writes in it takes it from the bot.
//!
//! [`Parley::bot_reply`] is the bot's whole decision for one question and is what
//! `parley eval faq` measures, so the evaluation and the widget share one code path.

use crate::ports::*;
use crate::service::{Actor, Agent, Parley};
use crate::{ServiceError, ServiceResult};
use parley_domain::*;
use parley_kb::{Answer, Matcher};

/// Longest answer text before it is cut (the full article is one click away).
const MAX_ANSWER_CHARS: usize = 600;

/// What the bot says to one question.
#[derive(Debug, Clone, PartialEq)]
pub enum BotReply {
    /// An article answers it; up to three related ones are offered as buttons.
    Answer {
        article: PublishedArticle,
        related: Vec<PublishedArticle>,
        confidence: f32,
    },
    /// Nothing confident; `misses` in a row so far.
    Miss { misses: u8 },
    /// A person takes over.
    Handoff(HandoffTrigger),
}

impl BotReply {
    pub fn article_id(&self) -> Option<ArticleId> {
        match self {
            BotReply::Answer { article, .. } => Some(article.id),
            _ => None,
        }
    }
}

/// The bot's own lines, in the visitor's language: Chinese unless the question has no Chinese
/// in it and the visitor's browser is not Chinese.
struct Lines {
    en: bool,
}

impl Lines {
    fn for_question(question: &str, language: Option<&str>) -> Self {
        let cjk = question
            .chars()
            .any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c));
        let zh_browser = language.is_some_and(|l| l.to_ascii_lowercase().starts_with("zh"));
        Lines {
            en: !cjk && !zh_browser,
        }
    }
    fn miss(&self) -> &'static str {
        if self.en {
            "Sorry, I don't have an answer to that yet. Could you put it another way? Or tap “Talk to a person”."
        } else {
            "抱歉，我暂时没有找到答案。换个说法试试，或点击“转人工”。"
        }
    }
    fn handoff(&self) -> &'static str {
        if self.en {
            "I'm passing you to a person on our team. Please wait a moment."
        } else {
            "正在为您转接人工客服，请稍候。"
        }
    }
    fn human_button(&self) -> &'static str {
        if self.en {
            "Talk to a person"
        } else {
            "转人工"
        }
    }
    fn read_more(&self) -> &'static str {
        if self.en {
            "Read the full article"
        } else {
            "查看全文"
        }
    }
}

/// Markdown as plain text for a chat bubble: the words, paragraphs and list items on their
/// own lines, no markup.
pub fn markdown_to_text(md: &str) -> String {
    use pulldown_cmark::{Event as Md, Parser, Tag, TagEnd};
    let mut out = String::new();
    for ev in Parser::new(md) {
        match ev {
            Md::Text(t) | Md::Code(t) => out.push_str(&t),
            Md::SoftBreak | Md::HardBreak => out.push('\n'),
            Md::Start(Tag::Item) => out.push_str("• "),
            Md::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::CodeBlock) => {
                out.push('\n')
            }
            // Raw HTML is shown as nothing rather than as tags.
            _ => {}
        }
    }
    out.trim().to_owned()
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(max).collect();
        s.push('…');
        s
    }
}

impl Parley {
    /// The bot's decision for one question in a workspace, given the misses so far. Shared by
    /// the widget's bot and `parley eval faq`.
    pub async fn bot_reply(
        &self,
        ws: WorkspaceId,
        settings: &BotSettings,
        question: &str,
        language: Option<&str>,
        misses_before: u8,
    ) -> ServiceResult<BotReply> {
        let built = self.kb_matcher(ws).await?;
        let ranking = crate::service_kb::rank(&built, question, language).await?;
        let answer = parley_kb::decide(ranking, built.matcher.threshold());
        let asked = matches!(answer, Answer::Handoff);
        let step = next_step(
            settings,
            question,
            asked,
            matches!(answer, Answer::Matched { .. }),
            misses_before,
        );
        Ok(match step {
            BotStep::Handoff(t) => BotReply::Handoff(t),
            BotStep::Miss { misses } => BotReply::Miss { misses },
            BotStep::Answer => {
                let Answer::Matched {
                    article_id,
                    confidence,
                    related,
                } = answer
                else {
                    unreachable!("next_step answers only a match")
                };
                let find =
                    |id: &str| ArticleId::parse(id).and_then(|id| built.articles.get(&id).cloned());
                let article = find(&article_id).ok_or_else(|| {
                    ServiceError::Internal(anyhow::anyhow!("matched an unknown article"))
                })?;
                BotReply::Answer {
                    article,
                    related: related.iter().filter_map(|id| find(id)).take(3).collect(),
                    confidence,
                }
            }
        })
    }

    /// The bot's turn after a visitor's message in a conversation it holds.
    pub(crate) async fn bot_turn(&self, conv: &Conversation, actor: &Actor, text: &str) {
        let Actor::Visitor(v) = actor else { return };
        let ws = conv.workspace_id;
        let settings = match &v.channel.bot {
            Some(b) if b.enabled => b.clone(),
            // Switched off since the conversation started: people take it from here.
            _ => {
                return self
                    .bot_handoff(conv, HandoffTrigger::Keyword, &Lines { en: false }, None)
                    .await
            }
        };
        let lines = Lines::for_question(text, v.visitor.language.as_deref());
        if text.trim().is_empty() {
            return; // an attachment alone: nothing to answer
        }
        let misses = conv.bot_misses.clamp(0, 255) as u8;
        let reply = match self
            .bot_reply(ws, &settings, text, v.visitor.language.as_deref(), misses)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                // A bot that cannot think hands over rather than leaving the visitor alone.
                tracing::error!(error = %e, "the FAQ bot failed; handing over");
                BotReply::Handoff(HandoffTrigger::Misses)
            }
        };
        let name = settings.name.as_str();
        match reply {
            BotReply::Answer {
                article, related, ..
            } => {
                if !self.keep_bot_tally(ws, conv.id, 0).await {
                    return;
                }
                let body = format!(
                    "{}\n\n{}",
                    article.title,
                    clip(&markdown_to_text(&article.body_markdown), MAX_ANSWER_CHARS)
                );
                let mut buttons: Vec<Button> = related
                    .iter()
                    .map(|a| Button {
                        label: a.title.clone(),
                        url: None,
                    })
                    .collect();
                buttons.push(Button {
                    label: lines.read_more().into(),
                    url: Some(format!(
                        "{}/help/{}/articles/{}",
                        self.config.public_url.trim_end_matches('/'),
                        v.channel.widget_key,
                        article.id
                    )),
                });
                self.post_bot_message(conv, name, &body, buttons).await;
            }
            BotReply::Miss { misses } => {
                self.remember_unanswered(conv, text).await;
                if !self.keep_bot_tally(ws, conv.id, misses as i32).await {
                    return;
                }
                // The workspace's guided flows are offered too: a click sends the flow's first
                // trigger phrase, which starts it.
                let mut buttons: Vec<Button> = match self.store.flows(ws).await {
                    Ok(flows) => flows
                        .iter()
                        .filter(|f| f.enabled)
                        .filter_map(|f| f.triggers.first())
                        .take(3)
                        .map(|t| Button {
                            label: t.clone(),
                            url: None,
                        })
                        .collect(),
                    Err(e) => {
                        tracing::error!(error = %e, "reading guided flows");
                        vec![]
                    }
                };
                buttons.push(Button {
                    label: lines.human_button().into(),
                    url: None,
                });
                self.post_bot_message(conv, name, lines.miss(), buttons)
                    .await;
            }
            BotReply::Handoff(trigger) => {
                if trigger == HandoffTrigger::Misses {
                    self.remember_unanswered(conv, text).await;
                }
                self.bot_handoff(conv, trigger, &lines, Some(name)).await;
            }
        }
    }

    /// Hands a bot-held conversation to people for another part of the automation (a guided
    /// flow's "person" button), speaking as the channel's bot.
    pub(crate) async fn hand_over_from_bot(
        &self,
        conv: &Conversation,
        actor: &Actor,
        trigger: HandoffTrigger,
        text: &str,
    ) {
        let Actor::Visitor(v) = actor else { return };
        let lines = Lines::for_question(text, v.visitor.language.as_deref());
        let name = v.channel.bot.as_ref().map(|b| b.name.clone());
        self.bot_handoff(conv, trigger, &lines, name.as_deref())
            .await;
    }

    /// Saves the bot's tally; false when the bot no longer holds the conversation (an agent
    /// took it meanwhile), and then the bot stays quiet.
    async fn keep_bot_tally(&self, ws: WorkspaceId, id: ConversationId, misses: i32) -> bool {
        match self.store.set_bot_misses(ws, id, misses).await {
            Ok(held) => held,
            Err(e) => {
                tracing::error!(error = %e, "saving the bot's tally");
                false
            }
        }
    }

    async fn remember_unanswered(&self, conv: &Conversation, question: &str) {
        let q = Unanswered {
            id: UnansweredId::new(),
            workspace_id: conv.workspace_id,
            channel_id: conv.channel_id,
            conversation_id: conv.id,
            question: clip(question.trim(), 500),
            article_id: None,
            resolved_at: None,
            created_at: now_millis(),
        };
        if let Err(e) = self.store.add_unanswered(&q).await {
            tracing::error!(error = %e, "recording an unanswered question");
        }
    }

    /// Ends the bot's phase and routes the conversation like a new one, with the visitor's
    /// questions to the bot as the text keyword rules look at.
    async fn bot_handoff(
        &self,
        conv: &Conversation,
        trigger: HandoffTrigger,
        lines: &Lines,
        bot_name: Option<&str>,
    ) {
        let ws = conv.workspace_id;
        match self.store.end_bot(ws, conv.id).await {
            Ok(true) => {}
            Ok(false) => return, // someone else ended it first
            Err(e) => return tracing::error!(error = %e, "ending the bot's phase"),
        }
        if let Some(name) = bot_name {
            self.post_bot_message(conv, name, lines.handoff(), vec![])
                .await;
        }
        let asked = match self.store.events_after(ws, conv.id, 0, 200).await {
            Ok(events) => events
                .iter()
                .filter(|e| e.kind == EventKind::Message && e.sender.kind == SenderKind::Visitor)
                .filter_map(|e| e.body.clone())
                .collect::<Vec<_>>()
                .join("\n"),
            Err(e) => {
                tracing::error!(error = %e, "reading the bot transcript");
                String::new()
            }
        };
        let fresh = match self.store.get_conversation(ws, conv.id).await {
            Ok(Some(c)) => c,
            Ok(None) => return,
            Err(e) => return tracing::error!(error = %e, "reading a conversation"),
        };
        self.route_after_handoff(&fresh, &asked, Reason::BotHandoff { trigger })
            .await;
    }

    /// Appends a bot message to the conversation and delivers it.
    pub(crate) async fn post_bot_message(
        &self,
        conv: &Conversation,
        name: &str,
        body: &str,
        buttons: Vec<Button>,
    ) {
        let body = match MessageBody::parse(body) {
            Ok(b) => b,
            Err(e) => return tracing::error!(error = %e, "a bot message was refused"),
        };
        let client_id =
            ClientId::parse(&format!("bot-{}", EventId::new())).expect("a bot client id is valid");
        let msg = NewEvent::bot(name, client_id, body, buttons);
        match self
            .store
            .append_message(
                conv.workspace_id,
                Target::Conversation(conv.id),
                &msg,
                &MessageEffects::default(),
                now_millis(),
            )
            .await
        {
            Ok(a) => self.publish_events(&a.conversation, &a.events, false),
            Err(e) => tracing::error!(error = %e, "storing a bot message"),
        }
    }

    // ----- unanswered questions (admins and supervisors) ----------------------------------

    pub async fn list_unanswered(
        &self,
        agent: &Agent,
        include_resolved: bool,
    ) -> ServiceResult<Vec<Unanswered>> {
        require_kb_editor(agent)?;
        Ok(self
            .store
            .list_unanswered(agent.user.workspace_id, include_resolved, 200)
            .await?)
    }

    /// Links a question to an article (`Some`) or dismisses it (`None`).
    pub async fn resolve_unanswered(
        &self,
        agent: &Agent,
        id: UnansweredId,
        article: Option<ArticleId>,
    ) -> ServiceResult<()> {
        require_kb_editor(agent)?;
        let ws = agent.user.workspace_id;
        if let Some(a) = article {
            if self.store.get_kb_article(ws, a).await?.is_none() {
                return Err(ServiceError::NotFound("article"));
            }
        }
        if self
            .store
            .resolve_unanswered(ws, id, article, now_millis())
            .await?
        {
            Ok(())
        } else {
            Err(ServiceError::NotFound("question"))
        }
    }
}

fn require_kb_editor(agent: &Agent) -> ServiceResult<()> {
    if agent.user.role.can_edit_kb() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "only admins and supervisors can see the bot's unanswered questions".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_plain_lines() {
        let md =
            "# 退货\n\n收到商品**7天内**可申请。\n\n- 保持包装\n- 附上发票\n\n<script>x()</script>";
        assert_eq!(
            markdown_to_text(md),
            "退货\n收到商品7天内可申请。\n• 保持包装\n• 附上发票"
        );
    }

    #[test]
    fn the_bot_speaks_the_visitors_language() {
        assert!(!Lines::for_question("怎么退货", Some("en-US")).en);
        assert!(Lines::for_question("how do I return this", Some("en-US")).en);
        assert!(!Lines::for_question("how do I return this", Some("zh-CN")).en);
        assert!(Lines::for_question("refund", None).en);
    }
}
