//! The lexical matcher: BM25F over words, synonym concepts, Chinese character bigrams and
//! characters, with a confidence built from how much of the question the best article
//! explains.
//!
//! ## Ranking
//!
//! Articles are indexed per language family (zh, en, …); a question is searched in the
//! family of its script. Each article has three fields (title, keywords, body, weighted
//! 2 : 2 : 1) and four kinds of features:
//!
//! * words (jieba segmentation, longest known phrase first; English stems),
//! * concepts (synonym groups, see [`SynonymTable`]),
//! * Chinese character bigrams, and single characters (catch colloquial variants that
//!   segment differently: 删掉 vs 删除, 店里 vs 门店).
//!
//! The score is BM25F over question words and concepts plus smaller BM25F contributions of
//! bigrams and characters.
//!
//! ## Confidence
//!
//! The question is reduced to *units*: its concepts and its topic-bearing words (stopwords,
//! adverbs, time words, numerals … dropped; a word inside a concept is explained by the
//! concept; a clause the visitor rules out with 不是 is dropped). Each unit weighs its idf;
//! a word no article contains weighs like a fairly rare word
//! ([`MatcherConfig::unknown_word_weight`]), because it is evidence that the question is
//! about something the knowledge base does not cover (投诉, 加盟, reseller).
//!
//! Confidence is the article's *coverage*: the weighted share of the question's units it
//! explains — fully when found in its title or keywords, [`MatcherConfig::body_strength`]
//! when only in its body, partly (by shared characters, [`MatcherConfig::char_credit`]) for
//! an unknown word. It lies in `[0, 1]` and does not depend on the size of the knowledge
//! base or the length of the question. Adding the margin over the runner-up, the raw score
//! or the strongest single match was tried and made the separation of answerable from
//! unanswerable questions worse.
//!
//! The default threshold, 0.42, was chosen on one half of the evaluation set (the even
//! lines of `dev.jsonl`) as the lowest confidence that answers none of its unanswerable
//! questions, and confirmed on the other half; see the crate README for the figures.

use std::collections::HashMap;

use crate::analyze::{Analysis, Analyzer};
use crate::handoff::HandoffDetector;
use crate::synonyms::{CompiledSynonyms, SynonymTable};
use crate::text;
use crate::{Article, Candidate, Matcher, Ranking};

/// Tunables of [`LexicalMatcher`]. [`MatcherConfig::default`] holds the shipped values.
#[derive(Debug, Clone, PartialEq)]
pub struct MatcherConfig {
    /// Minimum confidence (coverage) for answering. Default 0.42.
    pub threshold: f32,
    /// BM25F weight of the title field.
    pub title_weight: f32,
    /// BM25F weight of the keywords field.
    pub keywords_weight: f32,
    /// BM25F weight of the body field.
    pub body_weight: f32,
    /// BM25 term-frequency saturation.
    pub k1: f32,
    /// BM25 length normalization.
    pub b: f32,
    /// Weight of Chinese character-bigram matches in the ranking score (words and concepts
    /// weigh 1).
    pub bigram_weight: f32,
    /// Weight of single Chinese character matches in the ranking score.
    pub char_weight: f32,
    /// Weight, relative to the rarest known word, of a question word that no article of the
    /// locale contains (it is evidence that the question is about something else).
    pub unknown_word_weight: f32,
    /// Weight factor for one-character Chinese words (often vague verbs: 用, 买, 发).
    pub single_char_weight: f32,
    /// How much a unit found only in an article's body counts towards coverage (title or
    /// keywords: 1).
    pub body_strength: f32,
    /// How much of an unknown word its characters can explain (0 = none).
    pub char_credit: f32,
    /// Related articles must score at least this fraction of the best score.
    pub related_ratio: f32,
}

impl Default for MatcherConfig {
    fn default() -> Self {
        Self {
            threshold: 0.42,
            title_weight: 2.0,
            keywords_weight: 2.0,
            body_weight: 1.0,
            k1: 1.2,
            b: 0.75,
            bigram_weight: 0.3,
            char_weight: 0.15,
            unknown_word_weight: 0.7,
            single_char_weight: 0.5,
            body_strength: 0.6,
            char_credit: 0.5,
            related_ratio: 0.5,
        }
    }
}

/// Builds a [`LexicalMatcher`]: articles, synonyms, hand-off detector and config.
#[derive(Debug, Clone)]
pub struct LexicalMatcherBuilder {
    articles: Vec<Article>,
    synonyms: SynonymTable,
    handoff: HandoffDetector,
    config: MatcherConfig,
}

impl LexicalMatcherBuilder {
    /// Replaces the synonym table (default: [`SynonymTable::builtin`]).
    pub fn synonyms(mut self, synonyms: SynonymTable) -> Self {
        self.synonyms = synonyms;
        self
    }

    /// Replaces the hand-off detector (default: [`HandoffDetector::default`]).
    pub fn handoff(mut self, handoff: HandoffDetector) -> Self {
        self.handoff = handoff;
        self
    }

    /// Replaces the config (default: [`MatcherConfig::default`]).
    pub fn config(mut self, config: MatcherConfig) -> Self {
        self.config = config;
        self
    }

    /// Sets only the answering threshold.
    pub fn threshold(mut self, threshold: f32) -> Self {
        self.config.threshold = threshold;
        self
    }

    /// Builds the index. Cheap (milliseconds for dozens of articles): rebuild whenever
    /// articles or synonyms change.
    pub fn build(self) -> LexicalMatcher {
        let analyzer = Analyzer::new(CompiledSynonyms::new(&self.synonyms), &self.articles);
        // Each article analyzed once: title, keywords, body.
        let counted: Vec<[FieldCounts; 3]> = self
            .articles
            .iter()
            .map(|a| {
                [
                    count_field(&analyzer.analyze_index(&a.title)),
                    count_field(&analyzer.analyze_index(&a.keywords.join("；"))),
                    count_field(&analyzer.analyze_index(&a.body)),
                ]
            })
            .collect();
        let mut families: Vec<String> = Vec::new();
        for a in &self.articles {
            let f = text::locale_family(&a.locale);
            if !families.contains(&f) {
                families.push(f);
            }
        }
        let partitions: Vec<Partition> = families
            .iter()
            .map(|f| {
                let docs: Vec<usize> = (0..self.articles.len())
                    .filter(|&i| text::locale_family(&self.articles[i].locale) == *f)
                    .collect();
                Partition::build(f.clone(), docs, &counted, &self.config)
            })
            .collect();
        let all = (0..self.articles.len()).collect();
        let everything = Partition::build(String::new(), all, &counted, &self.config);
        LexicalMatcher {
            articles: self.articles,
            analyzer,
            handoff: self.handoff,
            config: self.config,
            partitions,
            everything,
        }
    }
}

/// Feature keys are prefixed by channel.
const WORD: &str = "w:";
const CONCEPT: &str = "c:";
const BIGRAM: &str = "b:";
const CHAR: &str = "u:";

#[derive(Debug, Clone, Copy)]
struct Posting {
    /// Local doc index in the partition.
    doc: u32,
    /// Saturated BM25F term frequency.
    sat: f32,
    /// 1 when the feature is in the title or keywords, `body_strength` when only in the body.
    strength: f32,
}

/// An inverted index over the articles of one language family.
#[derive(Debug, Clone)]
struct Partition {
    family: String,
    /// Article indices (into `LexicalMatcher::articles`) of this partition.
    docs: Vec<usize>,
    features: HashMap<String, u32>,
    idf: Vec<f32>,
    postings: Vec<Vec<Posting>>,
    /// Largest idf of any word or concept (the weight of an unseen word is relative to it).
    max_idf: f32,
}

#[derive(Default)]
struct FieldCounts {
    tf: HashMap<String, f32>,
    len: f32,
}

fn count_field(a: &Analysis) -> FieldCounts {
    let mut fc = FieldCounts::default();
    for t in a.tokens.iter().filter(|t| text::is_content(t)) {
        *fc.tf.entry(format!("{WORD}{}", t.text)).or_default() += 1.0;
        fc.len += 1.0;
    }
    for hit in &a.concepts {
        *fc.tf.entry(format!("{CONCEPT}{}", hit.group)).or_default() += 1.0;
    }
    for (g, _) in text::cjk_bigrams(&a.norm) {
        *fc.tf.entry(format!("{BIGRAM}{g}")).or_default() += 1.0;
    }
    for c in text::cjk_chars(&a.norm) {
        *fc.tf.entry(format!("{CHAR}{c}")).or_default() += 1.0;
    }
    fc
}

impl Partition {
    fn build(
        family: String,
        docs: Vec<usize>,
        counted_all: &[[FieldCounts; 3]],
        config: &MatcherConfig,
    ) -> Self {
        // fields: title, keywords, body
        let weights = [
            config.title_weight,
            config.keywords_weight,
            config.body_weight,
        ];
        let counted: Vec<&[FieldCounts; 3]> = docs.iter().map(|&i| &counted_all[i]).collect();
        let n = docs.len().max(1) as f32;
        let mut avg = [0f32; 3];
        for d in &counted {
            for (f, slot) in avg.iter_mut().enumerate() {
                *slot += d[f].len / n;
            }
        }
        let mut features: HashMap<String, u32> = HashMap::new();
        let mut postings: Vec<Vec<Posting>> = Vec::new();
        for (local, d) in counted.iter().enumerate() {
            let mut keys: Vec<&String> = d.iter().flat_map(|f| f.tf.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let mut tf = 0f32;
                let mut strength = config.body_strength;
                for f in 0..3 {
                    if let Some(c) = d[f].tf.get(key) {
                        let norm = 1.0 - config.b + config.b * d[f].len / avg[f].max(1.0);
                        tf += weights[f] * c / norm.max(0.1);
                        if f < 2 {
                            strength = 1.0;
                        }
                    }
                }
                let sat = tf * (config.k1 + 1.0) / (config.k1 + tf);
                let id = *features.entry(key.clone()).or_insert_with(|| {
                    postings.push(Vec::new());
                    (postings.len() - 1) as u32
                });
                postings[id as usize].push(Posting {
                    doc: local as u32,
                    sat,
                    strength,
                });
            }
        }
        let idf: Vec<f32> = postings
            .iter()
            .map(|p| {
                let df = p.len() as f32;
                (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
            })
            .collect();
        let max_idf = (1.0 + (n - 0.5) / 1.5f32).ln();
        Self {
            family,
            docs,
            features,
            idf,
            postings,
            max_idf,
        }
    }

    fn feature(&self, prefix: &str, s: &str) -> Option<u32> {
        let mut key = String::with_capacity(prefix.len() + s.len());
        key.push_str(prefix);
        key.push_str(s);
        self.features.get(&key).copied()
    }
}

/// One unit of meaning in a question: a concept or a word not covered by a concept.
#[derive(Debug, Clone)]
struct Unit {
    /// Display form (`~name` for concepts).
    label: String,
    /// Importance for coverage (idf × factors, or the unknown-word weight).
    weight: f32,
    /// Feature id if some article of the partition has it.
    feature: Option<u32>,
    /// For an unknown Chinese word: its characters' (feature, idf).
    chars: Vec<(Option<u32>, f32)>,
}

/// Why the matcher ranked what it ranked (for admins and debugging).
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// Language family searched.
    pub family: String,
    /// The question after normalization and typo repair.
    pub normalized: String,
    /// The question's units: (display form, weight, known to the index).
    pub units: Vec<(String, f32, bool)>,
    /// Top articles, best first.
    pub top: Vec<ExplainedCandidate>,
}

/// One article in an [`Explanation`].
#[derive(Debug, Clone, PartialEq)]
pub struct ExplainedCandidate {
    /// Article id.
    pub article_id: String,
    /// Ranking score.
    pub score: f32,
    /// Weighted share of the question's units the article explains.
    pub coverage: f32,
    /// Calibrated confidence.
    pub confidence: f32,
    /// Units found in the article.
    pub matched: Vec<String>,
    /// `(score − best other score) / score`: how clearly it wins (for admins; not part of
    /// the confidence, which it made worse when tried).
    pub margin: f32,
}

/// BM25F lexical matcher with synonym concepts, Chinese bigrams and a coverage-based
/// confidence. Build with [`LexicalMatcher::builder`]; see the module docs for the design.
#[derive(Debug, Clone)]
pub struct LexicalMatcher {
    articles: Vec<Article>,
    analyzer: Analyzer,
    handoff: HandoffDetector,
    config: MatcherConfig,
    partitions: Vec<Partition>,
    /// All articles together, for questions whose language has no articles.
    everything: Partition,
}

struct ScoredDoc {
    doc: usize,
    score: f32,
    coverage: f32,
    confidence: f32,
    matched: Vec<usize>,
    margin: f32,
}

struct Scored {
    norm: String,
    docs: Vec<ScoredDoc>,
    units: Vec<Unit>,
}

impl LexicalMatcher {
    /// Starts a builder with the built-in synonyms, the default hand-off detector and the
    /// default config.
    pub fn builder(articles: Vec<Article>) -> LexicalMatcherBuilder {
        LexicalMatcherBuilder {
            articles,
            synonyms: SynonymTable::builtin(),
            handoff: HandoffDetector::default(),
            config: MatcherConfig::default(),
        }
    }

    /// The articles indexed.
    pub fn articles(&self) -> &[Article] {
        &self.articles
    }

    /// The config in use.
    pub fn config(&self) -> &MatcherConfig {
        &self.config
    }

    fn partition_for(&self, question: &str, locale_hint: Option<&str>) -> &Partition {
        let family = match text::script_family(question) {
            Some("en") => match locale_hint.map(text::locale_family) {
                // Latin script in a non-Chinese UI locale: trust the UI locale (fr, de …).
                Some(h) if h != "zh" && self.partitions.iter().any(|p| p.family == h) => h,
                _ => "en".to_string(),
            },
            Some(f) => f.to_string(),
            None => locale_hint.map(text::locale_family).unwrap_or_default(),
        };
        self.partitions
            .iter()
            .find(|p| p.family == family)
            .unwrap_or(&self.everything)
    }

    fn units(&self, p: &Partition, a: &Analysis) -> Vec<Unit> {
        let cfg = &self.config;
        let mut units: Vec<Unit> = Vec::new();
        let mut push = |label: String, feature: Option<u32>, factor: f32, word: &str| {
            if units.iter().any(|u| u.label == label) {
                return;
            }
            let weight = match feature {
                Some(id) => p.idf[id as usize],
                None => p.max_idf * cfg.unknown_word_weight,
            } * factor;
            let chars = if feature.is_none() {
                text::cjk_chars(word)
                    .map(|c| {
                        let f = p.feature(CHAR, c.encode_utf8(&mut [0; 4]));
                        (f, f.map_or(p.max_idf, |id| p.idf[id as usize]))
                    })
                    .collect()
            } else {
                Vec::new()
            };
            units.push(Unit {
                label,
                weight,
                feature,
                chars,
            });
        };
        for h in &a.concepts {
            let name = self.analyzer.synonyms().name(h.group);
            push(
                format!("~{name}"),
                p.feature(CONCEPT, &h.group.to_string()),
                1.0,
                "",
            );
        }
        for t in a.tokens.iter().filter(|t| text::is_content(t)) {
            if a.concepts
                .iter()
                .any(|h| h.start <= t.start && t.end <= h.end)
            {
                continue; // explained by a concept
            }
            let single = t.cjk && t.end - t.start == 1;
            // A one-character word is explained by an article containing that character
            // anywhere (segmentation seldom leaves it alone in an article).
            let feature = if single {
                p.feature(CHAR, &t.text)
            } else {
                p.feature(WORD, &t.text)
            };
            let topic = text::is_topic_pos(t.pos);
            if feature.is_none() && !topic {
                continue; // an unknown adverb, time word, numeral … says nothing
            }
            let mut factor = if topic { 1.0 } else { 0.5 };
            if single {
                factor *= cfg.single_char_weight;
            }
            if feature.is_none() && t.cjk && t.end - t.start >= 3 {
                // An unknown long word: use its known dictionary sub-words instead, if any.
                let subs: Vec<(String, u32)> = text::jieba()
                    .cut_for_search(&t.text, true)
                    .into_iter()
                    .filter(|w| w.word != t.text)
                    .filter_map(|w| p.feature(WORD, w.word).map(|id| (w.word.to_string(), id)))
                    .collect();
                if !subs.is_empty() {
                    for (w, id) in subs {
                        push(w.clone(), Some(id), factor, &w);
                    }
                    continue;
                }
            }
            push(t.text.clone(), feature, factor, &t.text);
        }
        units
    }

    fn score(&self, p: &Partition, question: &str) -> Scored {
        let cfg = &self.config;
        let known = |w: &str| p.feature(WORD, w).is_some();
        let analysis = self.analyzer.analyze_query(question, &known);
        let units = self.units(p, &analysis);
        let n = p.docs.len();
        let mut score = vec![0f32; n];
        let mut covered = vec![0f32; n];
        let mut matched: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (ui, u) in units.iter().enumerate() {
            if let Some(id) = u.feature {
                let idf = p.idf[id as usize];
                for post in &p.postings[id as usize] {
                    let d = post.doc as usize;
                    score[d] += u.weight.min(idf) * post.sat;
                    covered[d] += u.weight * post.strength;
                    matched[d].push(ui);
                }
            } else if !u.chars.is_empty() && cfg.char_credit > 0.0 {
                // Unknown word: partial credit for the characters an article shares.
                let total: f32 = u.chars.iter().map(|c| c.1).sum();
                let mut credit = vec![0f32; n];
                for (f, idf) in &u.chars {
                    if let Some(id) = f {
                        for post in &p.postings[*id as usize] {
                            credit[post.doc as usize] += idf * post.strength;
                        }
                    }
                }
                for (d, c) in credit.into_iter().enumerate() {
                    if c > 0.0 {
                        covered[d] += u.weight * cfg.char_credit * c / total;
                    }
                }
            }
        }
        let mut add_channel = |prefix: &str, grams: Vec<String>, weight: f32| {
            let mut seen: Vec<u32> = Vec::new();
            for g in grams {
                let Some(id) = p.feature(prefix, &g) else {
                    continue;
                };
                if seen.contains(&id) {
                    continue;
                }
                seen.push(id);
                let idf = p.idf[id as usize];
                for post in &p.postings[id as usize] {
                    score[post.doc as usize] += weight * idf * post.sat;
                }
            }
        };
        let norm = &analysis.norm;
        add_channel(
            BIGRAM,
            text::cjk_bigrams(norm).into_iter().map(|g| g.0).collect(),
            cfg.bigram_weight,
        );
        add_channel(
            CHAR,
            text::cjk_chars(norm).map(String::from).collect(),
            cfg.char_weight,
        );
        let total: f32 = units.iter().map(|u| u.weight).sum();
        let mut order: Vec<usize> = (0..n).filter(|&d| score[d] > 0.0).collect();
        order.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(a.cmp(&b)));
        let s1 = order.first().map(|&d| score[d]).unwrap_or(0.0);
        let s2 = order.get(1).map(|&d| score[d]).unwrap_or(0.0);
        let docs = order
            .iter()
            .map(|&d| {
                let coverage = if total > 0.0 {
                    (covered[d] / total).min(1.0)
                } else {
                    0.0
                };
                // margin of this doc over the best other doc
                let other = if score[d] >= s1 { s2 } else { s1 };
                let margin = ((score[d] - other) / score[d]).clamp(0.0, 1.0);
                ScoredDoc {
                    doc: d,
                    score: score[d],
                    coverage,
                    confidence: coverage,
                    matched: std::mem::take(&mut matched[d]),
                    margin,
                }
            })
            .collect();
        Scored {
            norm: analysis.norm,
            docs,
            units,
        }
    }

    /// Ranks like [`Matcher::rank`] and tells why: the question's units and the top five
    /// articles with score, coverage, confidence and matched units.
    pub fn explain(&self, question: &str, locale_hint: Option<&str>) -> Explanation {
        let p = self.partition_for(question, locale_hint);
        let s = self.score(p, question);
        Explanation {
            family: p.family.clone(),
            normalized: s.norm.clone(),
            units: s
                .units
                .iter()
                .map(|u| (u.label.clone(), u.weight, u.feature.is_some()))
                .collect(),
            top: s
                .docs
                .iter()
                .take(5)
                .map(|d| ExplainedCandidate {
                    article_id: self.articles[p.docs[d.doc]].id.clone(),
                    score: d.score,
                    coverage: d.coverage,
                    confidence: d.confidence,
                    matched: d
                        .matched
                        .iter()
                        .map(|&ui| s.units[ui].label.clone())
                        .collect(),
                    margin: d.margin,
                })
                .collect(),
        }
    }
}

impl Matcher for LexicalMatcher {
    fn rank(&self, question: &str, locale_hint: Option<&str>) -> Ranking {
        let handoff = self.handoff.is_handoff(question);
        let p = self.partition_for(question, locale_hint);
        let s = self.score(p, question);
        let mut candidates: Vec<Candidate> = Vec::new();
        if let Some(best) = s.docs.first() {
            let best_article = &self.articles[p.docs[best.doc]];
            candidates.push(Candidate {
                article_id: best_article.id.clone(),
                confidence: best.confidence,
            });
            for d in s.docs.iter().skip(1) {
                if candidates.len() >= 4 || d.score < best.score * self.config.related_ratio {
                    break;
                }
                let a = &self.articles[p.docs[d.doc]];
                if Article::same_answer(a, best_article) {
                    continue;
                }
                candidates.push(Candidate {
                    article_id: a.id.clone(),
                    confidence: d.confidence,
                });
            }
        }
        Ranking {
            handoff,
            candidates,
        }
    }

    fn threshold(&self) -> f32 {
        self.config.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Answer;

    fn art(id: &str, locale: &str, title: &str, keywords: &[&str], body: &str) -> Article {
        Article {
            id: id.into(),
            locale: locale.into(),
            title: title.into(),
            keywords: keywords.iter().map(|k| k.to_string()).collect(),
            body: body.into(),
            category: None,
            same_topic: vec![],
        }
    }

    fn kb() -> Vec<Article> {
        let mut en = art(
            "en-refund",
            "en",
            "Refund timelines",
            &["refund", "money back"],
            "Refunds arrive within 1-3 business days after the returned item passes inspection.",
        );
        en.same_topic = vec!["zh-refund".into()];
        vec![
            art(
                "zh-refund",
                "zh-CN",
                "退款到账时间",
                &["退款", "到账", "退款多久"],
                "仓库验收通过后系统会立即发起退款，微信支付和支付宝一般1-3个工作日到账。",
            ),
            art(
                "zh-invoice",
                "zh-CN",
                "电子普通发票开具",
                &["发票", "开发票", "电子发票"],
                "所有订单都支持开具电子普通发票，下单时在发票栏选择个人或单位抬头即可。",
            ),
            art(
                "zh-password",
                "zh-CN",
                "重置登录密码",
                &["忘记密码", "重置密码", "找回密码"],
                "在登录页点击忘记密码，输入注册手机号并获取短信验证码，验证通过后即可设置新密码。",
            ),
            en,
        ]
    }

    #[test]
    fn answers_through_synonyms_and_colloquial_spelling() {
        let m = LexicalMatcher::builder(kb()).build();
        assert_eq!(m.answer("退钱要多久", None).article_id(), Some("zh-refund"));
        assert_eq!(
            m.answer("密码忘了咋办", None).article_id(),
            Some("zh-password")
        );
        assert_eq!(
            m.answer("怎么开发票", None).article_id(),
            Some("zh-invoice")
        );
    }

    #[test]
    fn script_picks_the_locale() {
        let m = LexicalMatcher::builder(kb()).build();
        assert_eq!(
            m.answer("when do I get my money back?", Some("zh-CN"))
                .article_id(),
            Some("en-refund")
        );
        // No English article on invoices: the English question is not answered with a
        // Chinese one.
        assert!(m
            .answer("how do I get an invoice", None)
            .article_id()
            .is_none());
    }

    #[test]
    fn unknown_topics_get_no_answer() {
        let m = LexicalMatcher::builder(kb()).build();
        assert!(matches!(
            m.answer("今天上海下雨不", None),
            Answer::NoAnswer { .. }
        ));
        assert!(matches!(
            m.answer("想做你们家代理 怎么加盟", None),
            Answer::NoAnswer { .. }
        ));
        assert_eq!(m.answer("", None), Answer::NoAnswer { best: None });
    }

    #[test]
    fn requests_for_a_human_are_handed_off() {
        let m = LexicalMatcher::builder(kb()).build();
        assert_eq!(m.answer("转人工", None), Answer::Handoff);
        assert_eq!(m.answer("退款太慢了 转人工", None), Answer::Handoff);
    }

    #[test]
    fn threshold_moves_the_decision() {
        let q = "退款是退到花呗吗";
        let conf = LexicalMatcher::builder(kb())
            .build()
            .rank(q, None)
            .candidates[0]
            .confidence;
        assert!(conf > 0.0 && conf < 1.0, "{conf}");
        let low = LexicalMatcher::builder(kb()).threshold(conf).build();
        assert_eq!(low.answer(q, None).article_id(), Some("zh-refund"));
        let high = LexicalMatcher::builder(kb()).threshold(conf + 0.01).build();
        assert_eq!(
            high.answer(q, None),
            Answer::NoAnswer {
                best: Some(("zh-refund".into(), conf))
            }
        );
    }

    #[test]
    fn confidence_is_a_coverage_share() {
        let m = LexicalMatcher::builder(kb()).build();
        let full = m.rank("忘记密码", None).candidates[0].confidence;
        let partial = m.rank("忘记密码 沙发 上楼", None).candidates[0].confidence;
        assert!((full - 1.0).abs() < 1e-6, "{full}");
        assert!(partial < 0.6, "{partial}");
    }

    #[test]
    fn related_articles_exclude_the_answer_and_its_translations() {
        let m = LexicalMatcher::builder(kb()).threshold(0.0).build();
        if let Answer::Matched {
            article_id,
            related,
            ..
        } = m.answer("退款和发票", None)
        {
            assert!(!related.contains(&article_id));
            assert!(related.len() <= 3);
        } else {
            panic!("expected a match");
        }
    }

    #[test]
    fn rebuilding_picks_up_new_articles_and_synonyms() {
        let q = "能寄到美国吗";
        let m = LexicalMatcher::builder(kb()).build();
        assert!(m.answer(q, None).article_id().is_none());
        let mut articles = kb();
        articles.push(art(
            "zh-overseas",
            "zh-CN",
            "海外配送",
            &["海外配送", "国际快递"],
            "目前支持配送至美国、加拿大、日本。",
        ));
        let m = LexicalMatcher::builder(articles.clone()).build();
        assert_eq!(m.answer(q, None).article_id(), Some("zh-overseas"));

        let q = "奶茶能开票吗";
        let before = LexicalMatcher::builder(articles.clone()).build();
        let c0 = before.rank(q, None).candidates[0].confidence;
        let mut syn = SynonymTable::builtin();
        syn.add_group(["发票", "奶茶"]); // an admin's (odd) extension
        let after = LexicalMatcher::builder(articles).synonyms(syn).build();
        let c1 = after.rank(q, None).candidates[0].confidence;
        assert!(c1 > c0, "{c0} -> {c1}");
    }

    #[test]
    fn explain_lists_units_and_candidates() {
        let m = LexicalMatcher::builder(kb()).build();
        let ex = m.explain("退钱要多久", None);
        assert_eq!(ex.family, "zh");
        assert!(ex.units.iter().any(|u| u.0 == "~退款"), "{:?}", ex.units);
        assert_eq!(ex.top[0].article_id, "zh-refund");
    }
}
