//! Evaluation harness: run a question set through any [`Matcher`] and report.
//!
//! Data files are JSON Lines: articles as in [`Article`] (`kb.jsonl`), questions as
//! `{"q": "...", "expected": "kb-001"}` or `"expected": null` when no article answers
//! (`dev.jsonl`). An answer counts as correct when the chosen article is the expected one or
//! declared on the same topic ([`Article::same_answer`]). For an unanswerable question,
//! "no answer" and "hand-off" are both right; answering with any article is wrong.
//!
//! ```no_run
//! use parley_kb::{eval, LexicalMatcher};
//! let (articles, questions) = eval::load_dir("shared/eval/faq".as_ref()).unwrap();
//! let matcher = LexicalMatcher::builder(articles.clone()).build();
//! let report = eval::evaluate(&matcher, &articles, &questions);
//! print!("{}", report.to_text()); // ends with one JSON summary line
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{decide, text, Answer, Article, Matcher, Ranking};

/// One evaluation question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// The visitor's message.
    pub q: String,
    /// The article that answers it, or `None` when none does.
    pub expected: Option<String>,
}

impl Question {
    /// `"zh"` when the question contains CJK characters, otherwise `"en"`.
    pub fn locale(&self) -> &'static str {
        if text::contains_cjk(&self.q) {
            "zh"
        } else {
            "en"
        }
    }
}

/// Errors while loading evaluation data.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A line is not valid JSON of the expected shape.
    #[error("{path}:{line}: {source}")]
    Parse {
        /// The file (or `<text>`).
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The cause.
        source: serde_json::Error,
    },
    /// A question expects an article that is not in the knowledge base.
    #[error("question {line} expects unknown article {id}")]
    UnknownArticle {
        /// 1-based line number in the questions file.
        line: usize,
        /// The unknown id.
        id: String,
    },
}

fn parse_jsonl<T: serde::de::DeserializeOwned>(
    text: &str,
    path: &Path,
) -> Result<Vec<T>, EvalError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        out.push(
            serde_json::from_str(line).map_err(|source| EvalError::Parse {
                path: path.to_path_buf(),
                line: i + 1,
                source,
            })?,
        );
    }
    Ok(out)
}

fn read(path: &Path) -> Result<String, EvalError> {
    std::fs::read_to_string(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Parses articles from JSON Lines text.
pub fn parse_articles(text: &str) -> Result<Vec<Article>, EvalError> {
    parse_jsonl(text, Path::new("<text>"))
}

/// Parses questions from JSON Lines text.
pub fn parse_questions(text: &str) -> Result<Vec<Question>, EvalError> {
    parse_jsonl(text, Path::new("<text>"))
}

/// Loads articles from a JSON Lines file (`kb.jsonl`).
pub fn load_articles(path: &Path) -> Result<Vec<Article>, EvalError> {
    parse_jsonl(&read(path)?, path)
}

/// Loads questions from a JSON Lines file (`dev.jsonl`).
pub fn load_questions(path: &Path) -> Result<Vec<Question>, EvalError> {
    parse_jsonl(&read(path)?, path)
}

/// Loads `kb.jsonl` and `dev.jsonl` from a directory and checks that every expected article
/// exists.
pub fn load_dir(dir: &Path) -> Result<(Vec<Article>, Vec<Question>), EvalError> {
    let articles = load_articles(&dir.join("kb.jsonl"))?;
    let questions = load_questions(&dir.join("dev.jsonl"))?;
    for (i, q) in questions.iter().enumerate() {
        if let Some(id) = &q.expected {
            if !articles.iter().any(|a| &a.id == id) {
                return Err(EvalError::UnknownArticle {
                    line: i + 1,
                    id: id.clone(),
                });
            }
        }
    }
    Ok((articles, questions))
}

/// Every question ranked once; reports at any threshold come from it.
#[derive(Debug, Clone)]
pub struct EvalRun {
    /// (question, ranking) in input order.
    pub items: Vec<(Question, Ranking)>,
    /// The decision made for each item by a caller that decides itself (the running bot);
    /// `None`: decide from the ranking at the report's threshold.
    pub decided: Option<Vec<Answer>>,
}

impl EvalRun {
    /// Items whose decisions were made elsewhere (the bot in a running workspace); reports
    /// use those decisions, and the rankings only for candidates and the best guess.
    pub fn decided(items: Vec<(Question, Ranking, Answer)>) -> Self {
        let mut run = EvalRun {
            items: Vec::with_capacity(items.len()),
            decided: Some(Vec::with_capacity(items.len())),
        };
        for (q, r, a) in items {
            run.items.push((q, r));
            run.decided.as_mut().expect("set above").push(a);
        }
        run
    }
}

/// Ranks every question with `matcher`.
pub fn run(matcher: &dyn Matcher, questions: &[Question]) -> EvalRun {
    EvalRun {
        items: questions
            .iter()
            .map(|q| (q.clone(), matcher.rank(&q.q, None)))
            .collect(),
        decided: None,
    }
}

/// Runs and reports at the matcher's own threshold.
pub fn evaluate(matcher: &dyn Matcher, articles: &[Article], questions: &[Question]) -> EvalReport {
    run(matcher, questions).report(articles, matcher.threshold())
}

/// Figures for one slice of the questions.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Questions with an expected article.
    pub answerable: usize,
    /// Of those, answered with the right article.
    pub correct: usize,
    /// `correct / answerable` (0 when there are none).
    pub top1: f64,
    /// Of the answerable, how many had the right article among the candidates at all
    /// (best or related), whatever the threshold.
    pub in_candidates: usize,
    /// Questions without an expected article.
    pub unanswerable: usize,
    /// Of those, answered with some article (wrong).
    pub wrongly_answered: usize,
    /// `wrongly_answered / unanswerable` (0 when there are none).
    pub wrong_on_unanswerable: f64,
    /// Questions (of either kind) handed off.
    pub handoffs: usize,
}

impl Figures {
    fn finish(&mut self) {
        self.top1 = ratio(self.correct, self.answerable);
        self.wrong_on_unanswerable = ratio(self.wrongly_answered, self.unanswerable);
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// A question the matcher got wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Miss {
    /// The question.
    pub question: String,
    /// `"zh"` or `"en"`.
    pub locale: &'static str,
    /// The expected article (None: unanswerable).
    pub expected: Option<String>,
    /// What the matcher decided.
    pub answer: Answer,
    /// The best candidate and its confidence, whatever was decided.
    pub best: Option<(String, f32)>,
}

/// Result of an evaluation at one threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// Threshold used.
    pub threshold: f32,
    /// All questions.
    pub overall: Figures,
    /// Per question locale (`"zh"`, `"en"`), in that order when present.
    pub per_locale: Vec<(String, Figures)>,
    /// Every wrong decision, in input order.
    pub misses: Vec<Miss>,
}

impl EvalRun {
    /// Figures and misses at `threshold`.
    pub fn report(&self, articles: &[Article], threshold: f32) -> EvalReport {
        let by_id = |id: &str| articles.iter().find(|a| a.id == id);
        let same = |a: &str, b: &str| match (by_id(a), by_id(b)) {
            (Some(x), Some(y)) => Article::same_answer(x, y),
            _ => a == b,
        };
        let mut overall = Figures::default();
        let mut zh = Figures::default();
        let mut en = Figures::default();
        let mut misses = Vec::new();
        for (i, (q, ranking)) in self.items.iter().enumerate() {
            let locale = q.locale();
            let answer = match &self.decided {
                Some(d) => d[i].clone(),
                None => decide(ranking.clone(), threshold),
            };
            let best = ranking
                .candidates
                .first()
                .map(|c| (c.article_id.clone(), c.confidence));
            let slice = if locale == "zh" { &mut zh } else { &mut en };
            let handoff = matches!(answer, Answer::Handoff);
            let ok = match &q.expected {
                Some(exp) => {
                    let correct = answer.article_id().is_some_and(|got| same(got, exp));
                    let listed = ranking.candidates.iter().any(|c| same(&c.article_id, exp));
                    for f in [&mut overall, &mut *slice] {
                        f.answerable += 1;
                        f.correct += correct as usize;
                        f.in_candidates += listed as usize;
                        f.handoffs += handoff as usize;
                    }
                    correct
                }
                None => {
                    let wrong = answer.article_id().is_some();
                    for f in [&mut overall, &mut *slice] {
                        f.unanswerable += 1;
                        f.wrongly_answered += wrong as usize;
                        f.handoffs += handoff as usize;
                    }
                    !wrong
                }
            };
            if !ok {
                misses.push(Miss {
                    question: q.q.clone(),
                    locale,
                    expected: q.expected.clone(),
                    answer,
                    best,
                });
            }
        }
        overall.finish();
        zh.finish();
        en.finish();
        let mut per_locale = Vec::new();
        for (name, f) in [("zh", zh), ("en", en)] {
            if f.answerable + f.unanswerable > 0 {
                per_locale.push((name.to_string(), f));
            }
        }
        EvalReport {
            threshold,
            overall,
            per_locale,
            misses,
        }
    }

    /// `(threshold, top1, wrong_on_unanswerable)` for each threshold.
    pub fn sweep(&self, articles: &[Article], thresholds: &[f32]) -> Vec<(f32, f64, f64)> {
        thresholds
            .iter()
            .map(|&t| {
                let r = self.report(articles, t);
                (t, r.overall.top1, r.overall.wrong_on_unanswerable)
            })
            .collect()
    }
}

impl EvalReport {
    /// Whether top-1 is at least `min_top1` and the wrong-answer rate on unanswerable
    /// questions at most `max_wrong`.
    pub fn meets(&self, min_top1: f64, max_wrong: f64) -> bool {
        self.overall.top1 >= min_top1 && self.overall.wrong_on_unanswerable <= max_wrong
    }

    /// The one-line JSON summary:
    /// `{"answerable": N, "top1": 0.xxxx, "unanswerable": N, "wrong_on_unanswerable": 0.xxxx}`.
    pub fn summary_json(&self) -> String {
        let o = &self.overall;
        format!(
            "{{\"answerable\": {}, \"top1\": {:.4}, \"unanswerable\": {}, \"wrong_on_unanswerable\": {:.4}}}",
            o.answerable, o.top1, o.unanswerable, o.wrong_on_unanswerable
        )
    }

    /// A readable report: figures overall and per locale, the misses, and as its last line
    /// the JSON summary ([`EvalReport::summary_json`]).
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let line = |s: &mut String, name: &str, f: &Figures| {
            let _ = writeln!(
                s,
                "{name:<8} answerable {:>4}  top-1 {:>6.2}% ({}/{}, right article among candidates {})  \
                 unanswerable {:>3}  wrongly answered {:>6.2}% ({}/{})  hand-offs {}",
                f.answerable,
                f.top1 * 100.0,
                f.correct,
                f.answerable,
                f.in_candidates,
                f.unanswerable,
                f.wrong_on_unanswerable * 100.0,
                f.wrongly_answered,
                f.unanswerable,
                f.handoffs,
            );
        };
        let _ = writeln!(s, "FAQ bot evaluation at threshold {:.2}", self.threshold);
        line(&mut s, "overall", &self.overall);
        for (name, f) in &self.per_locale {
            line(&mut s, name, f);
        }
        let _ = writeln!(s, "\nmisses ({}):", self.misses.len());
        for m in &self.misses {
            let got = match &m.answer {
                Answer::Matched {
                    article_id,
                    confidence,
                    ..
                } => format!("answered {article_id} ({confidence:.2})"),
                Answer::NoAnswer {
                    best: Some((id, c)),
                } => format!("no answer (best {id} {c:.2})"),
                Answer::NoAnswer { best: None } => "no answer (no candidate)".to_string(),
                Answer::Handoff => "hand-off".to_string(),
            };
            let _ = writeln!(
                s,
                "  [{}] expected {:<7} {:<32} {}",
                m.locale,
                m.expected.as_deref().unwrap_or("none"),
                got,
                m.question
            );
        }
        let _ = writeln!(s);
        s.push_str(&self.summary_json());
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Candidate;

    fn art(id: &str, locale: &str, same: &[&str]) -> Article {
        Article {
            id: id.into(),
            locale: locale.into(),
            title: id.into(),
            keywords: vec![],
            body: String::new(),
            category: None,
            same_topic: same.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn item(q: &str, expected: Option<&str>, best: Option<(&str, f32)>) -> (Question, Ranking) {
        (
            Question {
                q: q.into(),
                expected: expected.map(Into::into),
            },
            Ranking {
                handoff: false,
                candidates: best
                    .map(|(id, c)| Candidate {
                        article_id: id.into(),
                        confidence: c,
                    })
                    .into_iter()
                    .collect(),
            },
        )
    }

    #[test]
    fn scores_same_topic_and_unanswerable() {
        let articles = vec![art("zh1", "zh-CN", &[]), art("en1", "en", &["zh1"])];
        let run = EvalRun {
            decided: None,
            items: vec![
                item("退款", Some("zh1"), Some(("zh1", 0.9))),
                item("refund", Some("zh1"), Some(("en1", 0.9))),
                item("weather", None, Some(("en1", 0.2))),
                item("天气", None, Some(("zh1", 0.8))),
                item("低分", Some("zh1"), Some(("zh1", 0.1))),
            ],
        };
        let r = run.report(&articles, 0.5);
        assert_eq!(r.overall.answerable, 3);
        assert_eq!(r.overall.correct, 2);
        assert_eq!(r.overall.in_candidates, 3);
        assert_eq!(r.overall.unanswerable, 2);
        assert_eq!(r.overall.wrongly_answered, 1);
        assert_eq!(r.misses.len(), 2);
        assert_eq!(r.per_locale[0].0, "zh");
        assert_eq!(r.per_locale[0].1.answerable, 2);
        let text = r.to_text();
        let last = text.lines().last().unwrap();
        let v: serde_json::Value = serde_json::from_str(last).unwrap();
        assert_eq!(v["answerable"], 3);
        assert_eq!(v["unanswerable"], 2);
        assert!((v["top1"].as_f64().unwrap() - 0.6667).abs() < 1e-9);
        assert!((v["wrong_on_unanswerable"].as_f64().unwrap() - 0.5).abs() < 1e-9);
        assert_eq!(text.lines().filter(|l| l.starts_with('{')).count(), 1);
    }

    #[test]
    fn parse_errors_name_the_line() {
        let err = parse_questions("{\"q\": \"a\", \"expected\": null}\nnot json\n").unwrap_err();
        assert!(err.to_string().contains(":2:"), "{err}");
        let qs = parse_questions("{\"q\": \"a\", \"expected\": \"kb-1\"}\n\n").unwrap();
        assert_eq!(qs[0].expected.as_deref(), Some("kb-1"));
        let arts = parse_articles(
            r#"{"id": "kb-1", "locale": "en", "title": "T", "keywords": ["k"], "body": "B"}"#,
        )
        .unwrap();
        assert!(arts[0].same_topic.is_empty());
    }
}
