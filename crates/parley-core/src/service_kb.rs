//! The knowledge base (知识库): admins and supervisors write it, agents read it (drafts
//! included), the public (help centre, FAQ bot) sees only published versions.
//!
//! Each workspace's FAQ matcher ([`parley_kb::LexicalMatcher`]) is built from its published
//! articles and cached on this node together with the workspace's `kb_generation`, which the
//! store bumps in the transaction of every change the public can see. A question first reads the
//! generation (one indexed row) and rebuilds the matcher when it moved, so a publish on any node
//! reaches every node's bot with its next question.

use crate::ports::{ArticleQuery, CategoryDeletion};
use crate::service::{Agent, Parley};
use crate::{ServiceError, ServiceResult, StoreError};
use dashmap::DashMap;
use parley_domain::*;
use parley_kb::{Answer, LexicalMatcher, Matcher};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use utoipa::ToSchema;

/// Suggestions to visitors need this much confidence: below the bot's answering threshold (a
/// suggestion costs a glance, a wrong answer more), well above noise.
pub const SUGGEST_MIN_CONFIDENCE: f32 = 0.3;

/// An article suggested to a visitor while they type.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticleSuggestion {
    pub id: ArticleId,
    pub title: String,
    /// The help-centre page (absolute when the public URL is configured).
    pub url: String,
}

/// Longest search question, in characters.
pub const MAX_QUESTION_CHARS: usize = 500;

pub struct CategoryInput {
    /// Required when creating.
    pub name: Option<String>,
    /// Default when creating: after the last one.
    pub position: Option<i32>,
}

pub struct ArticleInput {
    pub title: String,
    pub body_markdown: String,
    pub keywords: Vec<String>,
    pub tags: Vec<String>,
    pub locale: String,
    pub category_id: Option<CategoryId>,
}

/// A change as sent; `None` keeps a field.
#[derive(Default)]
pub struct ArticleChangeInput {
    pub title: Option<String>,
    pub body_markdown: Option<String>,
    pub keywords: Option<Vec<String>>,
    pub tags: Option<Vec<String>>,
    pub locale: Option<String>,
    /// `Some(None)` takes the article out of its category.
    pub category_id: Option<Option<CategoryId>>,
}

/// One search result: a published article and how confident the matcher is that it answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchHit {
    pub article: PublishedArticle,
    /// In [0, 1]: the share of the question the article explains.
    pub confidence: f32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KbSearch {
    /// Best first (at most 4: the best and related ones).
    pub items: Vec<SearchHit>,
    /// The bot answers with the best hit when its confidence reaches this.
    pub threshold: f32,
}

/// Questions longer than this are segmented on a blocking thread: jieba's cost grows with the
/// text, and the async workers must stay free for sockets.
const INLINE_RANK_CHARS: usize = 200;

/// Ranks a question with a built matcher, off the async runtime when the text is long.
pub(crate) async fn rank(
    built: &Arc<BuiltMatcher>,
    question: &str,
    hint: Option<&str>,
) -> ServiceResult<parley_kb::Ranking> {
    if question.chars().count() <= INLINE_RANK_CHARS {
        return Ok(built.matcher.rank(question, hint));
    }
    let (built, question, hint) = (built.clone(), question.to_owned(), hint.map(str::to_owned));
    tokio::task::spawn_blocking(move || built.matcher.rank(&question, hint.as_deref()))
        .await
        .map_err(|e| ServiceError::Internal(anyhow::anyhow!("ranking a question: {e}")))
}

/// A workspace's matcher over its published articles, as of `generation`.
pub struct BuiltMatcher {
    pub generation: i64,
    pub matcher: LexicalMatcher,
    /// The published articles it was built from.
    pub articles: HashMap<ArticleId, PublishedArticle>,
}

/// The per-workspace matcher cache of one node.
#[derive(Default)]
pub struct KbMatchers {
    built: DashMap<WorkspaceId, Arc<BuiltMatcher>>,
    /// One build per workspace at a time; others wait for it and take its result.
    building: DashMap<WorkspaceId, Arc<tokio::sync::Mutex<()>>>,
    rebuilds: AtomicU64,
    /// The bot's answering threshold when not the matcher's default (`parley eval faq
    /// --threshold`); set before the first question.
    pub threshold: std::sync::OnceLock<f32>,
}

impl KbMatchers {
    /// How many matchers this node has built (for tests and metrics).
    pub fn rebuilds(&self) -> u64 {
        self.rebuilds.load(Ordering::Relaxed)
    }

    fn current(&self, ws: WorkspaceId, generation: i64) -> Option<Arc<BuiltMatcher>> {
        self.built
            .get(&ws)
            .filter(|b| b.generation >= generation)
            .map(|b| b.clone())
    }
}

fn require_editor(agent: &Agent) -> ServiceResult<()> {
    if agent.user.role.can_edit_kb() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "only admins and supervisors can edit the knowledge base".into(),
        ))
    }
}

fn parse_position(p: i32) -> ServiceResult<i32> {
    if (0..=10_000).contains(&p) {
        Ok(p)
    } else {
        Err(ServiceError::Invalid(
            "position must be between 0 and 10000".into(),
        ))
    }
}

/// A store error about the category an article refers to, or a category's name.
fn category_error(e: StoreError) -> ServiceError {
    match e {
        StoreError::NotFound => ServiceError::NotFound("category"),
        StoreError::Conflict(_) => {
            ServiceError::Conflict("a category with this name already exists".into())
        }
        e => e.into(),
    }
}

/// The matcher's view of a published article: its id as text, the published version's
/// content, the Markdown body without link targets.
pub fn matcher_article(a: &PublishedArticle, category: Option<&str>) -> parley_kb::Article {
    parley_kb::Article {
        id: a.id.to_string(),
        locale: a.locale.as_str().to_owned(),
        title: a.title.clone(),
        keywords: a.keywords.clone(),
        body: markdown_words(&a.body_markdown),
        category: category.map(str::to_owned),
        same_topic: vec![],
    }
}

impl Parley {
    // ----- categories -----------------------------------------------------------------------

    pub async fn list_kb_categories(&self, agent: &Agent) -> ServiceResult<Vec<Category>> {
        Ok(self
            .store
            .list_kb_categories(agent.user.workspace_id)
            .await?)
    }

    pub async fn create_kb_category(
        &self,
        agent: &Agent,
        input: CategoryInput,
    ) -> ServiceResult<Category> {
        require_editor(agent)?;
        let ws = agent.user.workspace_id;
        let name = Label::parse(input.name.as_deref().unwrap_or(""), "name")?.into_string();
        let position = match input.position {
            Some(p) => parse_position(p)?,
            None => self.store.list_kb_categories(ws).await?.len() as i32,
        };
        let c = Category {
            id: CategoryId::new(),
            workspace_id: ws,
            name,
            position,
            created_at: now_millis(),
        };
        self.store
            .create_kb_category(&c)
            .await
            .map_err(category_error)?;
        Ok(c)
    }

    pub async fn update_kb_category(
        &self,
        agent: &Agent,
        id: CategoryId,
        input: CategoryInput,
    ) -> ServiceResult<Category> {
        require_editor(agent)?;
        let name = input
            .name
            .map(|n| Label::parse(&n, "name").map(Label::into_string))
            .transpose()?;
        let position = input.position.map(parse_position).transpose()?;
        let mut c = self
            .store
            .get_kb_category(agent.user.workspace_id, id)
            .await?
            .ok_or(ServiceError::NotFound("category"))?;
        c.name = name.unwrap_or(c.name);
        c.position = position.unwrap_or(c.position);
        if !self
            .store
            .update_kb_category(&c)
            .await
            .map_err(category_error)?
        {
            return Err(ServiceError::NotFound("category"));
        }
        Ok(c)
    }

    /// Deletes an empty category; one that still has articles is refused (409).
    pub async fn delete_kb_category(&self, agent: &Agent, id: CategoryId) -> ServiceResult<()> {
        require_editor(agent)?;
        match self
            .store
            .delete_kb_category(agent.user.workspace_id, id)
            .await?
        {
            CategoryDeletion::Deleted => Ok(()),
            CategoryDeletion::NotFound => Err(ServiceError::NotFound("category")),
            CategoryDeletion::HasArticles(n) => Err(ServiceError::Conflict(format!(
                "{n} article(s) are still in this category; move or delete them first"
            ))),
        }
    }

    // ----- articles -------------------------------------------------------------------------

    /// Drafts included: agents read everything of their workspace.
    pub async fn list_kb_articles(
        &self,
        agent: &Agent,
        q: &ArticleQuery,
    ) -> ServiceResult<Vec<Article>> {
        Ok(self
            .store
            .list_kb_articles(agent.user.workspace_id, q)
            .await?)
    }

    pub async fn get_kb_article(&self, agent: &Agent, id: ArticleId) -> ServiceResult<Article> {
        self.store
            .get_kb_article(agent.user.workspace_id, id)
            .await?
            .ok_or(ServiceError::NotFound("article"))
    }

    /// A new draft, version 1.
    pub async fn create_kb_article(
        &self,
        agent: &Agent,
        input: ArticleInput,
    ) -> ServiceResult<Article> {
        require_editor(agent)?;
        let content = ArticleContent::parse(
            &input.title,
            &input.body_markdown,
            &input.keywords,
            &input.tags,
        )?;
        let locale = KbLocale::parse(&input.locale)?;
        let a = Article::new(
            agent.user.workspace_id,
            input.category_id,
            locale,
            content,
            now_millis(),
        );
        self.store
            .create_kb_article(&a, agent.user.id)
            .await
            .map_err(category_error)?;
        Ok(a)
    }

    /// Changes an article: a changed title, body, keywords or tags is a new version; locale
    /// and category change in place. Everything is checked before anything is written.
    pub async fn update_kb_article(
        &self,
        agent: &Agent,
        id: ArticleId,
        input: ArticleChangeInput,
    ) -> ServiceResult<Article> {
        require_editor(agent)?;
        let patch = ArticlePatch {
            title: input
                .title
                .as_deref()
                .map(parse_article_title)
                .transpose()?,
            body_markdown: input
                .body_markdown
                .as_deref()
                .map(parse_article_body)
                .transpose()?,
            keywords: input.keywords.as_deref().map(parse_keywords).transpose()?,
            tags: input.tags.as_deref().map(parse_tags).transpose()?,
            locale: input.locale.as_deref().map(KbLocale::parse).transpose()?,
            category_id: input.category_id,
        };
        self.store
            .update_kb_article(
                agent.user.workspace_id,
                id,
                &patch,
                agent.user.id,
                now_millis(),
            )
            .await
            .map_err(category_error)?
            .ok_or(ServiceError::NotFound("article"))
    }

    /// Shows the current version to the public.
    pub async fn publish_kb_article(&self, agent: &Agent, id: ArticleId) -> ServiceResult<Article> {
        require_editor(agent)?;
        self.store
            .publish_kb_article(agent.user.workspace_id, id, now_millis())
            .await?
            .ok_or(ServiceError::NotFound("article"))
    }

    pub async fn unpublish_kb_article(
        &self,
        agent: &Agent,
        id: ArticleId,
    ) -> ServiceResult<Article> {
        require_editor(agent)?;
        self.store
            .unpublish_kb_article(agent.user.workspace_id, id, now_millis())
            .await?
            .ok_or(ServiceError::NotFound("article"))
    }

    /// Newest first, below version `before` when given.
    pub async fn kb_article_versions(
        &self,
        agent: &Agent,
        id: ArticleId,
        before: Option<i64>,
        limit: i64,
    ) -> ServiceResult<Vec<ArticleVersion>> {
        let ws = agent.user.workspace_id;
        self.get_kb_article(agent, id).await?;
        Ok(self
            .store
            .kb_article_versions(ws, id, before, limit)
            .await?)
    }

    /// Makes a copy of version `version` the newest version (history is never rewritten). The
    /// public keeps seeing the published version until the article is published again.
    pub async fn restore_kb_version(
        &self,
        agent: &Agent,
        id: ArticleId,
        version: i64,
    ) -> ServiceResult<Article> {
        require_editor(agent)?;
        self.get_kb_article(agent, id).await?;
        self.store
            .restore_kb_version(
                agent.user.workspace_id,
                id,
                version,
                agent.user.id,
                now_millis(),
            )
            .await?
            .map(|(a, _)| a)
            .ok_or(ServiceError::NotFound("version"))
    }

    /// Deletes an article and its history.
    pub async fn delete_kb_article(&self, agent: &Agent, id: ArticleId) -> ServiceResult<()> {
        require_editor(agent)?;
        if self
            .store
            .delete_kb_article(agent.user.workspace_id, id)
            .await?
        {
            Ok(())
        } else {
            Err(ServiceError::NotFound("article"))
        }
    }

    // ----- synonyms ----------------------------------------------------------------------------

    /// The workspace's own synonym groups as the admin wrote them, and how they parse.
    pub async fn kb_synonyms(&self, agent: &Agent) -> ServiceResult<KbSynonyms> {
        let text = self.store.kb_synonyms(agent.user.workspace_id).await?;
        Ok(KbSynonyms::of(text))
    }

    /// Replaces the workspace's synonym groups: one group per line, terms separated by commas
    /// (, ， 、 |), `#` starts a comment. Every node's bot uses them from its next question.
    pub async fn set_kb_synonyms(&self, agent: &Agent, text: &str) -> ServiceResult<KbSynonyms> {
        require_editor(agent)?;
        check_synonyms(text)?;
        self.store
            .set_kb_synonyms(agent.user.workspace_id, text)
            .await?;
        Ok(KbSynonyms::of(text.to_owned()))
    }

    // ----- the public side and the bot ------------------------------------------------------

    /// The workspace's published articles as the matcher takes them (published versions only).
    pub async fn published_articles(
        &self,
        ws: WorkspaceId,
    ) -> ServiceResult<Vec<parley_kb::Article>> {
        let published = self.store.published_kb_articles(ws).await?;
        let categories = self.store.list_kb_categories(ws).await?;
        Ok(to_matcher(&published, &categories))
    }

    /// The workspace's matcher, rebuilt first when its published articles changed (on any
    /// node) since this node built it.
    pub async fn kb_matcher(&self, ws: WorkspaceId) -> ServiceResult<Arc<BuiltMatcher>> {
        // Read before the articles: a publish in between makes the next call rebuild again
        // instead of keeping newer articles under an older generation.
        let generation = self.store.kb_generation(ws).await?;
        if let Some(b) = self.kb.current(ws, generation) {
            return Ok(b);
        }
        let lock = self.kb.building.entry(ws).or_default().clone();
        let _building = lock.lock().await;
        if let Some(b) = self.kb.current(ws, generation) {
            return Ok(b);
        }
        let published = self.store.published_kb_articles(ws).await?;
        let categories = self.store.list_kb_categories(ws).await?;
        let articles = to_matcher(&published, &categories);
        // Building segments every article (and loads jieba's dictionary once per process).
        let own = self.store.kb_synonyms(ws).await?;
        let threshold = self.kb.threshold.get().copied();
        let matcher = tokio::task::spawn_blocking(move || {
            // The workspace's groups add to the built-in customer-service vocabulary.
            let mut synonyms = parley_kb::SynonymTable::builtin();
            synonyms.extend(&parley_kb::SynonymTable::parse(&own));
            let builder = LexicalMatcher::builder(articles).synonyms(synonyms);
            match threshold {
                Some(t) => builder.threshold(t),
                None => builder,
            }
            .build()
        })
        .await
        .map_err(|e| anyhow::anyhow!("building the FAQ matcher: {e}"))?;
        let built = Arc::new(BuiltMatcher {
            generation,
            matcher,
            articles: published.into_iter().map(|a| (a.id, a)).collect(),
        });
        self.kb.built.insert(ws, built.clone());
        self.kb.rebuilds.fetch_add(1, Ordering::Relaxed);
        Ok(built)
    }

    /// The bot's decision for a visitor's question: answer with a published article, say there
    /// is no answer, or hand off to a human. `locale_hint` is the visitor's UI language.
    pub async fn kb_answer(
        &self,
        ws: WorkspaceId,
        question: &str,
        locale_hint: Option<&str>,
    ) -> ServiceResult<Answer> {
        let built = self.kb_matcher(ws).await?;
        Ok(built.matcher.answer(question, locale_hint))
    }

    /// Published articles ranked for a question, for agents looking for an answer to paste.
    pub async fn kb_search(
        &self,
        agent: &Agent,
        question: &str,
        locale: Option<KbLocale>,
    ) -> ServiceResult<KbSearch> {
        self.search_published_kb(agent.user.workspace_id, question, locale)
            .await
    }

    /// Articles to suggest to a visitor while they type (A15): up to three published articles
    /// the matcher is reasonably sure about, with their help-centre address. Nothing for text
    /// too short to mean anything.
    pub async fn suggest_articles(
        &self,
        visitor: &crate::service::VisitorActor,
        typed: &str,
    ) -> ServiceResult<Vec<ArticleSuggestion>> {
        let q = typed.trim();
        if q.chars().filter(|c| c.is_alphanumeric()).count() < 2 {
            return Ok(vec![]);
        }
        let q: String = q.chars().take(MAX_QUESTION_CHARS).collect();
        let built = self.kb_matcher(visitor.visitor.workspace_id).await?;
        let ranking = rank(&built, &q, visitor.visitor.language.as_deref()).await?;
        if ranking.handoff {
            return Ok(vec![]);
        }
        let base = self.config.public_url.trim_end_matches('/');
        Ok(ranking
            .candidates
            .iter()
            .filter(|c| c.confidence >= SUGGEST_MIN_CONFIDENCE)
            .filter_map(|c| ArticleId::parse(&c.article_id).and_then(|id| built.articles.get(&id)))
            .take(3)
            .map(|a| ArticleSuggestion {
                id: a.id,
                title: a.title.clone(),
                url: format!(
                    "{base}/help/{}/articles/{}",
                    visitor.channel.widget_key, a.id
                ),
            })
            .collect())
    }

    /// Published articles of a workspace ranked for a question (agents' search, help centre).
    pub async fn search_published_kb(
        &self,
        ws: WorkspaceId,
        question: &str,
        locale: Option<KbLocale>,
    ) -> ServiceResult<KbSearch> {
        let q = question.trim();
        if q.is_empty() {
            return Err(ServiceError::Invalid("q must not be empty".into()));
        }
        if q.chars().count() > MAX_QUESTION_CHARS {
            return Err(ServiceError::Invalid(format!(
                "q must be at most {MAX_QUESTION_CHARS} characters"
            )));
        }
        let built = self.kb_matcher(ws).await?;
        let ranking = rank(&built, q, locale.map(KbLocale::as_str)).await?;
        let mut items = Vec::with_capacity(ranking.candidates.len());
        for c in ranking.candidates {
            let Some(a) = ArticleId::parse(&c.article_id).and_then(|id| built.articles.get(&id))
            else {
                continue;
            };
            // The cached content is current (the generation said so), its counters are not.
            let Some(now) = self.store.get_kb_article(ws, a.id).await? else {
                continue;
            };
            let mut article = a.clone();
            (article.views, article.helpful_yes, article.helpful_no) =
                (now.views, now.helpful_yes, now.helpful_no);
            items.push(SearchHit {
                article,
                confidence: c.confidence,
            });
        }
        Ok(KbSearch {
            items,
            threshold: built.matcher.threshold(),
        })
    }

    /// Counts a view of a published article (help centre, bot answer).
    pub async fn record_kb_view(&self, ws: WorkspaceId, id: ArticleId) -> ServiceResult<()> {
        self.require_published(ws, id).await?;
        self.store.record_kb_view(ws, id).await?;
        Ok(())
    }

    /// Counts a "did this solve it?" answer on a published article.
    pub async fn record_kb_vote(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        helpful: bool,
    ) -> ServiceResult<()> {
        self.require_published(ws, id).await?;
        self.store.record_kb_vote(ws, id, helpful).await?;
        Ok(())
    }

    /// Drafts are not found by the public.
    async fn require_published(&self, ws: WorkspaceId, id: ArticleId) -> ServiceResult<()> {
        match self.store.get_kb_article(ws, id).await? {
            Some(a) if a.published_version.is_some() => Ok(()),
            _ => Err(ServiceError::NotFound("article")),
        }
    }
}

fn to_matcher(published: &[PublishedArticle], categories: &[Category]) -> Vec<parley_kb::Article> {
    published
        .iter()
        .map(|a| {
            let category = a
                .category_id
                .and_then(|c| categories.iter().find(|x| x.id == c))
                .map(|c| c.name.as_str());
            matcher_article(a, category)
        })
        .collect()
}

/// A workspace's synonyms: the text as written and the groups it makes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KbSynonyms {
    pub text: String,
    pub groups: Vec<Vec<String>>,
    /// How many built-in groups apply besides these.
    pub builtin_groups: usize,
}

impl KbSynonyms {
    fn of(text: String) -> Self {
        let groups = parley_kb::SynonymTable::parse(&text).groups().to_vec();
        KbSynonyms {
            text,
            groups,
            builtin_groups: parley_kb::SynonymTable::builtin().len(),
        }
    }
}

/// Limits on what an admin may save: the text, the groups and each term.
fn check_synonyms(text: &str) -> Result<(), ServiceError> {
    if text.chars().count() > 20_000 {
        return Err(ServiceError::Invalid(
            "synonyms: at most 20000 characters".into(),
        ));
    }
    let table = parley_kb::SynonymTable::parse(text);
    if table.len() > 500 {
        return Err(ServiceError::Invalid("synonyms: at most 500 groups".into()));
    }
    for g in table.groups() {
        if g.len() > 30 {
            return Err(ServiceError::Invalid(format!(
                "synonyms: the group “{}” has more than 30 terms",
                g[0]
            )));
        }
        if let Some(t) = g.iter().find(|t| t.chars().count() > 30) {
            return Err(ServiceError::Invalid(format!(
                "synonyms: “{t}” is longer than 30 characters"
            )));
        }
    }
    Ok(())
}
