//! `parley eval faq`: loads a knowledge base into a fresh temporary workspace (an embedded
//! database in a temporary directory), publishes it through the same service calls an admin's
//! console makes, and asks every question through [`Parley::bot_reply`], the bot's decision in
//! the widget. The report's figures come from those decisions.

use crate::settings::Settings;
use anyhow::Context;
use parley_core::service::Parley;
use parley_core::service_bot::BotReply;
use parley_core::service_kb::{ArticleInput, CategoryInput};
use parley_domain::{ArticleId, BotSettings, HandoffTrigger};
use parley_kb::eval::{self, EvalReport, EvalRun, Question};
use parley_kb::{Answer, Candidate, Matcher, Ranking};
use std::collections::HashMap;
use std::path::Path;

pub struct FaqEval {
    pub report: EvalReport,
    pub articles: usize,
}

pub async fn run(kb: &Path, questions: &Path, threshold: Option<f32>) -> anyhow::Result<FaqEval> {
    let articles = eval::load_articles(kb).with_context(|| format!("reading {}", kb.display()))?;
    let questions = eval::load_questions(questions)
        .with_context(|| format!("reading {}", questions.display()))?;
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let settings = Settings {
        data_dir: dir.path().to_path_buf(),
        ..Settings::default()
    };
    let (parley, close) = crate::build(&settings).await?;
    let result = ask_all(&parley, &articles, &questions, threshold).await;
    close().await;
    let report = result?;
    Ok(FaqEval {
        report,
        articles: articles.len(),
    })
}

async fn ask_all(
    parley: &Parley,
    articles: &[parley_kb::Article],
    questions: &[Question],
    threshold: Option<f32>,
) -> anyhow::Result<EvalReport> {
    if let Some(t) = threshold {
        let _ = parley.kb.threshold.set(t);
    }
    let password = parley_core::secrets::generated_password();
    parley
        .bootstrap(Some("eval@parley.local"), Some(&password))
        .await?
        .context("the temporary workspace already had users")?;
    let login = parley
        .login("eval@parley.local", &password, "127.0.0.1")
        .await?;
    let admin = parley.authenticate_session(&login.token).await?;
    let ws = admin.user.workspace_id;

    // Load the knowledge base as an admin would: categories, articles, publish.
    let mut categories = HashMap::new();
    let mut source_of: HashMap<ArticleId, String> = HashMap::new();
    for a in articles {
        let category_id = match &a.category {
            Some(name) => match categories.get(name) {
                Some(id) => Some(*id),
                None => {
                    let c = parley
                        .create_kb_category(
                            &admin,
                            CategoryInput {
                                name: Some(name.clone()),
                                position: None,
                            },
                        )
                        .await
                        .with_context(|| format!("category {name}"))?;
                    categories.insert(name.clone(), c.id);
                    Some(c.id)
                }
            },
            None => None,
        };
        let created = parley
            .create_kb_article(
                &admin,
                ArticleInput {
                    title: a.title.clone(),
                    body_markdown: a.body.clone(),
                    keywords: a.keywords.clone(),
                    tags: vec![],
                    locale: a.locale.clone(),
                    category_id,
                },
            )
            .await
            .with_context(|| format!("article {}", a.id))?;
        parley.publish_kb_article(&admin, created.id).await?;
        source_of.insert(created.id, a.id.clone());
    }

    let source = |id: &str| -> String {
        ArticleId::parse(id)
            .and_then(|a| source_of.get(&a).cloned())
            .unwrap_or_else(|| id.to_owned())
    };
    let bot = BotSettings::default();
    let built = parley.kb_matcher(ws).await?;
    let mut items = Vec::with_capacity(questions.len());
    for q in questions {
        // The ranking is for the report's "best guess" and candidates; the decision is the bot's.
        let ranking = built.matcher.rank(&q.q, None);
        let ranking = Ranking {
            handoff: ranking.handoff,
            candidates: ranking
                .candidates
                .iter()
                .map(|c| Candidate {
                    article_id: source(&c.article_id),
                    confidence: c.confidence,
                })
                .collect(),
        };
        let reply = parley.bot_reply(ws, &bot, &q.q, None, 0).await?;
        let answer = match reply {
            BotReply::Answer {
                article,
                related,
                confidence,
            } => Answer::Matched {
                article_id: source(&article.id.to_string()),
                confidence,
                related: related.iter().map(|a| source(&a.id.to_string())).collect(),
            },
            BotReply::Miss { .. } | BotReply::Handoff(HandoffTrigger::Misses) => Answer::NoAnswer {
                best: ranking
                    .candidates
                    .first()
                    .map(|c| (c.article_id.clone(), c.confidence)),
            },
            BotReply::Handoff(_) => Answer::Handoff,
        };
        items.push((q.clone(), ranking, answer));
    }
    Ok(EvalRun::decided(items).report(articles, built.matcher.threshold()))
}
