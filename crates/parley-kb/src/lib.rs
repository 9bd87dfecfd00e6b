//! # parley-kb — the FAQ bot's matching engine
//!
//! Given the articles of a workspace's knowledge base and a visitor's question, decide one of:
//! answer with an article ([`Answer::Matched`]), say that no article answers it
//! ([`Answer::NoAnswer`]), or hand the conversation to a human ([`Answer::Handoff`]) because
//! the visitor asked for one. Pure: no database or network I/O; the caller loads articles
//! and rebuilds the matcher when they change (building is cheap: a few milliseconds for
//! dozens of articles).
//!
//! ```no_run
//! use parley_kb::{Article, Answer, LexicalMatcher, Matcher, SynonymTable};
//!
//! let articles: Vec<Article> = vec![/* loaded from storage */];
//! let mut synonyms = SynonymTable::builtin();
//! synonyms.add_group(["退款", "退钱", "返现"]);
//! let matcher = LexicalMatcher::builder(articles).synonyms(synonyms).build();
//! match matcher.answer("钱啥时候退回来", Some("zh-CN")) {
//!     Answer::Matched { article_id, .. } => println!("answer with {article_id}"),
//!     Answer::NoAnswer { .. } => println!("say we do not know, offer a human"),
//!     Answer::Handoff => println!("route to an agent"),
//! }
//! ```
//!
//! The [`Matcher`] trait separates the engine from its users so that another engine (an
//! embedding model, a hybrid) can be added later; [`eval`] measures any of them on a
//! question set.

mod analyze;
pub mod eval;
pub mod handoff;
pub mod lexical;
pub mod synonyms;
pub mod text;

use serde::{Deserialize, Serialize};

pub use handoff::HandoffDetector;
pub use lexical::{
    ExplainedCandidate, Explanation, LexicalMatcher, LexicalMatcherBuilder, MatcherConfig,
};
pub use synonyms::SynonymTable;

/// A knowledge-base article, as the matcher sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Article {
    /// Stable id (e.g. `kb-001`).
    pub id: String,
    /// BCP 47 tag such as `zh-CN` or `en`; its primary subtag picks which questions it serves.
    pub locale: String,
    /// Title, usually phrased like the question it answers.
    pub title: String,
    /// Words and short phrases visitors use for this topic.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The answer text.
    #[serde(default)]
    pub body: String,
    /// Category shown to admins; not used for matching.
    #[serde(default)]
    pub category: Option<String>,
    /// Ids of articles on the same topic in other locales (a translation counts as the same
    /// answer).
    #[serde(default)]
    pub same_topic: Vec<String>,
}

impl Article {
    /// Whether `a` and `b` are the same article or declared as the same topic (either side).
    pub fn same_answer(a: &Article, b: &Article) -> bool {
        a.id == b.id || a.same_topic.contains(&b.id) || b.same_topic.contains(&a.id)
    }
}

/// The bot's decision for one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Answer {
    /// Answer with this article.
    Matched {
        /// The chosen article.
        article_id: String,
        /// Calibrated confidence in `[0, 1]`; at least the matcher's threshold.
        confidence: f32,
        /// Up to 3 other likely articles ("you may also be asking about …").
        related: Vec<String>,
    },
    /// No article is a confident answer: say so and offer a human.
    NoAnswer {
        /// The best candidate and its confidence, below the threshold (for logs and admins).
        best: Option<(String, f32)>,
    },
    /// The visitor asked for a human.
    Handoff,
}

impl Answer {
    /// The chosen article id, if any.
    pub fn article_id(&self) -> Option<&str> {
        match self {
            Answer::Matched { article_id, .. } => Some(article_id),
            _ => None,
        }
    }
}

/// One ranked candidate article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Article id.
    pub article_id: String,
    /// Calibrated confidence in `[0, 1]` that this article answers the question.
    pub confidence: f32,
}

/// Everything a matcher knows about a question before the threshold is applied.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Ranking {
    /// The visitor asked for a human (decided independently of the candidates).
    pub handoff: bool,
    /// Likely articles, best first (at most 4: the best and up to 3 related ones).
    pub candidates: Vec<Candidate>,
}

/// A question-answering engine over a knowledge base.
///
/// Implementors provide [`Matcher::rank`] and [`Matcher::threshold`]; [`Matcher::answer`]
/// applies the threshold. Keeping the two apart lets the evaluation harness score every
/// question once and then study any threshold.
pub trait Matcher: Send + Sync {
    /// Ranks articles for `question`. `locale_hint` is the visitor's UI locale (`zh-CN`,
    /// `en`…); the script of the question itself takes precedence when it is clear.
    fn rank(&self, question: &str, locale_hint: Option<&str>) -> Ranking;

    /// Minimum confidence for answering (the shipped default unless configured).
    fn threshold(&self) -> f32;

    /// Decides: hand off, answer with the best candidate if its confidence reaches the
    /// threshold, otherwise no answer.
    fn answer(&self, question: &str, locale_hint: Option<&str>) -> Answer {
        decide(self.rank(question, locale_hint), self.threshold())
    }
}

/// Applies a threshold to a ranking (see [`Matcher::answer`]).
pub fn decide(ranking: Ranking, threshold: f32) -> Answer {
    if ranking.handoff {
        return Answer::Handoff;
    }
    let mut candidates = ranking.candidates.into_iter();
    match candidates.next() {
        Some(best) if best.confidence >= threshold => Answer::Matched {
            article_id: best.article_id,
            confidence: best.confidence,
            related: candidates.take(3).map(|c| c.article_id).collect(),
        },
        Some(best) => Answer::NoAnswer {
            best: Some((best.article_id, best.confidence)),
        },
        None => Answer::NoAnswer { best: None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranking(confs: &[(&str, f32)], handoff: bool) -> Ranking {
        Ranking {
            handoff,
            candidates: confs
                .iter()
                .map(|(id, c)| Candidate {
                    article_id: id.to_string(),
                    confidence: *c,
                })
                .collect(),
        }
    }

    #[test]
    fn threshold_decides_between_matched_and_no_answer() {
        let r = ranking(&[("a", 0.6), ("b", 0.3), ("c", 0.2), ("d", 0.1)], false);
        assert_eq!(
            decide(r.clone(), 0.5),
            Answer::Matched {
                article_id: "a".into(),
                confidence: 0.6,
                related: vec!["b".into(), "c".into(), "d".into()],
            }
        );
        assert_eq!(
            decide(r.clone(), 0.6).article_id(),
            Some("a"),
            "threshold is inclusive"
        );
        assert_eq!(
            decide(r, 0.7),
            Answer::NoAnswer {
                best: Some(("a".into(), 0.6))
            }
        );
        assert_eq!(
            decide(Ranking::default(), 0.0),
            Answer::NoAnswer { best: None }
        );
    }

    #[test]
    fn handoff_wins_over_a_confident_match() {
        let r = ranking(&[("a", 0.99)], true);
        assert_eq!(decide(r, 0.5), Answer::Handoff);
    }

    #[test]
    fn answer_serializes_with_a_kind_tag() {
        let json = serde_json::to_string(&Answer::Handoff).unwrap();
        assert_eq!(json, r#"{"kind":"handoff"}"#);
    }
}
