//! The public help centre (帮助中心): what anyone may read of a workspace's knowledge base
//! through one of its channels' widget keys (already public in the embed snippet) — published
//! versions only — and the views and "did this solve it?" votes it counts.
//!
//! A vote is counted once per voter (the caller passes the client's address; only a digest of
//! it is stored, for [`VOTE_WINDOW_MS`]) and article, on every node; the page adds a per-browser
//! cookie. This keeps casual repeats out of the counts; it is no defence against someone with
//! many addresses.

use crate::service::Parley;
use crate::service_kb::KbSearch;
use crate::{ServiceError, ServiceResult};
use parley_domain::*;
use sha2::{Digest, Sha256};

/// A voter's second vote on an article within this window is not counted (24 hours).
pub const VOTE_WINDOW_MS: Millis = 24 * 3600 * 1000;

/// What is stored of a voter: a digest of their address, per article, so the stored values do
/// not link one visitor's votes across articles.
pub fn voter_digest(id: ArticleId, voter: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(id.0.as_bytes());
    h.update(voter.as_bytes());
    h.finalize().into()
}

/// The front page of a help centre.
pub struct HelpIndex {
    /// In their order.
    pub categories: Vec<Category>,
    /// Published versions; most helpful first (yes minus no votes, then views, then title).
    pub articles: Vec<PublishedArticle>,
}

impl Parley {
    /// The channel whose help centre a widget key opens.
    pub async fn help_channel(&self, widget_key: &str) -> ServiceResult<Channel> {
        if widget_key.is_empty() || widget_key.len() > 100 {
            return Err(ServiceError::NotFound("help centre"));
        }
        self.store
            .channel_by_key(widget_key)
            .await?
            .ok_or(ServiceError::NotFound("help centre"))
    }

    pub async fn help_index(&self, ws: WorkspaceId) -> ServiceResult<HelpIndex> {
        let mut articles = self.store.published_kb_articles(ws).await?;
        articles.sort_by(|a, b| {
            (b.helpful_yes - b.helpful_no)
                .cmp(&(a.helpful_yes - a.helpful_no))
                .then(b.views.cmp(&a.views))
                .then_with(|| a.title.cmp(&b.title))
        });
        Ok(HelpIndex {
            categories: self.store.list_kb_categories(ws).await?,
            articles,
        })
    }

    /// A published article as the public sees it, with current counters; counts a view first
    /// when `count_view`. Drafts and other workspaces' articles are not found.
    pub async fn help_article(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        count_view: bool,
    ) -> ServiceResult<PublishedArticle> {
        let built = self.kb_matcher(ws).await?;
        let mut article = built
            .articles
            .get(&id)
            .cloned()
            .ok_or(ServiceError::NotFound("article"))?;
        if count_view {
            self.store.record_kb_view(ws, id).await?;
        }
        let now = self
            .store
            .get_kb_article(ws, id)
            .await?
            .filter(|a| a.published_version.is_some())
            .ok_or(ServiceError::NotFound("article"))?;
        (article.views, article.helpful_yes, article.helpful_no) =
            (now.views, now.helpful_yes, now.helpful_no);
        Ok(article)
    }

    /// Published articles ranked for a visitor's question.
    pub async fn help_search(
        &self,
        ws: WorkspaceId,
        question: &str,
        locale: Option<KbLocale>,
    ) -> ServiceResult<KbSearch> {
        self.search_published_kb(ws, question, locale).await
    }

    /// Counts a "did this solve it?" answer unless `voter` had one counted on this article
    /// within [`VOTE_WINDOW_MS`]; true when counted.
    pub async fn help_vote(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        helpful: bool,
        voter: &str,
    ) -> ServiceResult<bool> {
        let now = now_millis();
        self.store
            .record_kb_vote_once(
                ws,
                id,
                &voter_digest(id, voter),
                helpful,
                now,
                now - VOTE_WINDOW_MS,
            )
            .await?
            .ok_or(ServiceError::NotFound("article"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voter_digests_differ_per_article_and_voter() {
        let (a, b) = (ArticleId::new(), ArticleId::new());
        assert_eq!(voter_digest(a, "10.0.0.1"), voter_digest(a, "10.0.0.1"));
        assert_ne!(voter_digest(a, "10.0.0.1"), voter_digest(b, "10.0.0.1"));
        assert_ne!(voter_digest(a, "10.0.0.1"), voter_digest(a, "10.0.0.2"));
    }
}
