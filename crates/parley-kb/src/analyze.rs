//! Analysis of questions and articles: phrase-aware segmentation, synonym concepts and
//! homophone typo repair.
//!
//! Segmentation first takes the longest known phrase at each position (synonym terms and
//! article keywords — a per-workspace "user dictionary"), then lets jieba segment the gaps.
//! This keeps 花呗, 换绑, 价保 whole although jieba's general dictionary does not know them.

use std::collections::{HashMap, HashSet};

use crate::synonyms::{CompiledSynonyms, ConceptHit};
use crate::text::{self, Mode, Token};
use crate::Article;

/// Part of speech given to phrase tokens.
const PHRASE_POS: &str = "phrase";

/// Longest phrase considered, in characters.
const MAX_PHRASE: usize = 12;

#[derive(Debug, Clone)]
pub(crate) struct Analyzer {
    synonyms: CompiledSynonyms,
    phrases: HashSet<String>,
    max_phrase: usize,
    /// Toneless pinyin → the one vocabulary word with that reading (`None`: ambiguous).
    pinyin: HashMap<String, Option<String>>,
}

/// A text after analysis.
#[derive(Debug, Clone)]
pub(crate) struct Analysis {
    /// Normalized (and, for questions, typo-repaired) text.
    pub norm: String,
    /// Tokens in order (index mode: with overlapping sub-words).
    pub tokens: Vec<Token>,
    /// Synonym concepts found.
    pub concepts: Vec<ConceptHit>,
}

impl Analyzer {
    /// Phrases come from the synonym table and from the articles' keywords.
    pub fn new(synonyms: CompiledSynonyms, articles: &[Article]) -> Self {
        let mut phrases: HashSet<String> = synonyms
            .cjk_terms()
            .filter(|t| t.chars().all(text::is_cjk))
            .map(str::to_string)
            .collect();
        for a in articles {
            for k in &a.keywords {
                let k = text::normalize(k);
                if k.chars().count() >= 2 && k.chars().all(text::is_cjk) {
                    phrases.insert(k);
                }
            }
        }
        let max_phrase = phrases
            .iter()
            .map(|p| p.chars().count())
            .max()
            .unwrap_or(0)
            .min(MAX_PHRASE);
        let mut analyzer = Self {
            synonyms,
            phrases,
            max_phrase,
            pinyin: HashMap::new(),
        };
        analyzer.index_pinyin();
        analyzer
    }

    pub fn synonyms(&self) -> &CompiledSynonyms {
        &self.synonyms
    }

    /// Prepares typo repair: the curated phrases (synonym terms and article keywords) that
    /// unknown words may be repaired to.
    fn index_pinyin(&mut self) {
        let mut map: HashMap<String, Option<String>> = HashMap::new();
        for w in &self.phrases {
            let w = w.as_str();
            if let Some(key) = text::pinyin_key(w) {
                map.entry(key)
                    .and_modify(|e| {
                        if e.as_deref() != Some(w) {
                            *e = None;
                        }
                    })
                    .or_insert_with(|| Some(w.to_string()));
            }
        }
        self.pinyin = map;
    }

    /// Segments normalized text, longest known phrase first.
    fn tokens(&self, norm: &str, mode: Mode) -> Vec<Token> {
        let chars: Vec<char> = norm.chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            if !text::is_cjk(chars[i]) {
                // Latin and separators: let the plain segmenter handle this stretch.
                let start = i;
                while i < chars.len() && !text::is_cjk(chars[i]) {
                    i += 1;
                }
                let s: String = chars[start..i].iter().collect();
                for mut t in text::segment(&s, mode) {
                    t.start += start;
                    t.end += start;
                    out.push(t);
                }
                continue;
            }
            let start = i;
            while i < chars.len() && text::is_cjk(chars[i]) {
                i += 1;
            }
            self.segment_run(&chars[start..i], start, mode, &mut out);
        }
        out
    }

    fn segment_run(&self, run: &[char], offset: usize, mode: Mode, out: &mut Vec<Token>) {
        let mut gap = 0;
        let mut i = 0;
        let flush = |from: usize, to: usize, out: &mut Vec<Token>| {
            if from < to {
                let s: String = run[from..to].iter().collect();
                text::segment_cjk(&s, offset + from, mode, out);
            }
        };
        while i < run.len() {
            let longest = (2..=self.max_phrase.min(run.len() - i)).rev().find(|&len| {
                let s: String = run[i..i + len].iter().collect();
                self.phrases.contains(&s)
            });
            let Some(len) = longest else {
                i += 1;
                continue;
            };
            flush(gap, i, out);
            let phrase: String = run[i..i + len].iter().collect();
            if mode == Mode::Index {
                // Sub-words too, so that a question naming part of a keyword matches.
                for w in text::jieba().cut_for_search(&phrase, true) {
                    if w.word != phrase {
                        out.push(Token {
                            text: w.word.to_string(),
                            start: offset + i + w.start,
                            end: offset + i + w.end,
                            cjk: true,
                            pos: "",
                        });
                    }
                }
            }
            out.push(Token {
                text: phrase,
                start: offset + i,
                end: offset + i + len,
                cjk: true,
                pos: PHRASE_POS,
            });
            i += len;
            gap = i;
        }
        flush(gap, run.len(), out);
    }

    /// Repairs homophone typos: a word that no article contains but jieba's dictionary knows
    /// (its dictionary has common typos such as 注消) and that reads exactly like one curated
    /// phrase (synonym term or article keyword) is replaced by that phrase. Words jieba's HMM
    /// made up at a word boundary (钱到 in 钱到现在) are left alone: they are not typos.
    fn repair(&self, norm: &str, tokens: &[Token], known: &dyn Fn(&str) -> bool) -> Option<String> {
        let mut chars: Vec<char> = norm.chars().collect();
        let mut changed = false;
        for t in tokens {
            let n = t.end - t.start;
            if !t.cjk
                || n < 2
                || t.pos == PHRASE_POS
                || known(&t.text)
                || text::is_stopword(&t.text)
                || !text::in_dictionary(&t.text)
            {
                continue;
            }
            let Some(key) = text::pinyin_key(&t.text) else {
                continue;
            };
            if let Some(Some(word)) = self.pinyin.get(&key) {
                let w: Vec<char> = word.chars().collect();
                if w.len() == n {
                    chars[t.start..t.end].copy_from_slice(&w);
                    changed = true;
                }
            }
        }
        changed.then(|| chars.into_iter().collect())
    }

    /// Analyzes an article field (index mode).
    pub fn analyze_index(&self, s: &str) -> Analysis {
        let norm = text::normalize(s);
        let tokens = self.tokens(&norm, Mode::Index);
        let concepts = self.synonyms.find(&norm, &tokens);
        Analysis {
            norm,
            tokens,
            concepts,
        }
    }

    /// Analyzes a question (query mode), repairing typos against `known` words.
    pub fn analyze_query(&self, s: &str, known: &dyn Fn(&str) -> bool) -> Analysis {
        let mut norm = text::normalize(s);
        let mut tokens = self.tokens(&norm, Mode::Query);
        if let Some(repaired) = self.repair(&norm, &tokens, known) {
            norm = repaired;
            tokens = self.tokens(&norm, Mode::Query);
        }
        let mut concepts = self.synonyms.find(&norm, &tokens);
        let negated = negated_spans(&norm);
        if !negated.is_empty() {
            let inside =
                |start: usize, end: usize| negated.iter().any(|&(a, b)| a <= start && end <= b);
            tokens.retain(|t| !inside(t.start, t.end));
            concepts.retain(|h| !inside(h.start, h.end));
        }
        Analysis {
            norm,
            tokens,
            concepts,
        }
    }
}

/// Clauses the visitor explicitly rules out: 不是X (not 是不是), up to the end of the clause
/// or a contrast (是, 而是, 只是, 就是). "不是忘记密码，是验证码收不到" is about the code, not
/// the password. Char offsets, end exclusive.
fn negated_spans(norm: &str) -> Vec<(usize, usize)> {
    let chars: Vec<char> = norm.chars().collect();
    let mut spans = Vec::new();
    let mut i = 0;
    while i + 1 < chars.len() {
        if chars[i] == '不' && chars[i + 1] == '是' && (i == 0 || chars[i - 1] != '是') {
            let start = i + 2;
            let mut end = start;
            while end < chars.len() {
                let c = chars[end];
                let contrast = c == '是'
                    || (matches!(c, '而' | '只' | '就') && chars.get(end + 1) == Some(&'是'));
                if !(text::is_cjk(c) || c.is_ascii_alphanumeric()) || (end > start && contrast) {
                    break;
                }
                end += 1;
            }
            if end > start {
                spans.push((start, end));
            }
            i = end;
        } else {
            i += 1;
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SynonymTable;

    fn analyzer() -> Analyzer {
        let syn = CompiledSynonyms::new(&SynonymTable::parse("花呗, huabei\n注销, 销户\n"));
        let art = Article {
            id: "a".into(),
            locale: "zh-CN".into(),
            title: "注销账号".into(),
            keywords: vec!["换绑".into()],
            body: "在设置中注销账号。".into(),
            category: None,
            same_topic: vec![],
        };
        Analyzer::new(syn, std::slice::from_ref(&art))
    }

    #[test]
    fn phrases_stay_whole() {
        let a = analyzer();
        let q = a.analyze_query("用花呗付的 怎么换绑", &|_| false);
        let words: Vec<&str> = q.tokens.iter().map(|t| t.text.as_str()).collect();
        assert!(words.contains(&"花呗"), "{words:?}");
        assert!(words.contains(&"换绑"), "{words:?}");
        assert_eq!(q.concepts.len(), 1);
    }

    #[test]
    fn repairs_homophone_typos_of_unknown_words() {
        let a = analyzer();
        let q = a.analyze_query("注消以后积分还在吗", &|_| false);
        assert!(q.norm.starts_with("注销"), "{}", q.norm);
        // A known word is left alone even if it sounds like a vocabulary word.
        let q = a.analyze_query("注消", &|w| w == "注消");
        assert_eq!(q.norm, "注消");
    }

    #[test]
    fn negated_clauses_are_ruled_out() {
        assert_eq!(negated_spans("不是忘记密码,是验证码收不到"), vec![(2, 6)]);
        assert_eq!(negated_spans("不是要退货 就是想换个颜色"), vec![(2, 5)]);
        assert_eq!(negated_spans("我不是要注销只是想换个手机号"), vec![(3, 6)]);
        assert!(negated_spans("是不是漏发了").is_empty());
        let a = analyzer();
        let q = a.analyze_query("不是注销 是换绑", &|_| false);
        let words: Vec<&str> = q.tokens.iter().map(|t| t.text.as_str()).collect();
        assert!(!words.contains(&"注销"), "{words:?}");
        assert!(words.contains(&"换绑"), "{words:?}");
    }

    #[test]
    fn index_mode_adds_sub_words_of_phrases() {
        let syn = CompiledSynonyms::new(&SynonymTable::empty());
        let art = Article {
            id: "a".into(),
            locale: "zh-CN".into(),
            title: String::new(),
            keywords: vec!["退货地址".into()],
            body: String::new(),
            category: None,
            same_topic: vec![],
        };
        let a = Analyzer::new(syn, &[art]);
        let idx = a.analyze_index("退货地址");
        let words: Vec<&str> = idx.tokens.iter().map(|t| t.text.as_str()).collect();
        assert!(words.contains(&"退货地址"), "{words:?}");
        assert!(words.contains(&"退货"), "{words:?}");
        assert!(words.contains(&"地址"), "{words:?}");
    }
}
