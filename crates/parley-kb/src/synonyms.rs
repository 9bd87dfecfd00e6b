//! Editable synonym groups ("concepts") of customer-service vocabulary.
//!
//! A group is a list of terms that mean the same thing to a shop's customers (退款 / 退钱 /
//! money back). When a question and an article both contain a term of one group they share
//! that concept, even if they use different words. The built-in table
//! ([`SynonymTable::builtin`]) covers general online-shop vocabulary; an admin extends it with
//! [`SynonymTable::add_group`] or by parsing their own text with [`SynonymTable::parse`].
//!
//! Text format, one group per line, the first term naming the group:
//!
//! ```text
//! # comment
//! 退款, 退钱, 返款, money back
//! 快递, 物流、包裹 | parcel
//! ```
//!
//! Terms are separated by `,` `，` `、` or `|`. Terms with Chinese characters match as
//! substrings of the normalized text (one-character terms only as whole words); Latin terms
//! match whole words after lowercasing and stemming (so `refund` also matches "refunds" and
//! "refunded").

use serde::{Deserialize, Serialize};

use crate::text::{self, Token};

const BUILTIN: &str = include_str!("default_synonyms.txt");

/// A list of synonym groups. Order does not matter for matching.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SynonymTable {
    groups: Vec<Vec<String>>,
}

impl SynonymTable {
    /// No groups at all.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The built-in groups: general customer-service vocabulary (shipping, returns, refunds,
    /// invoices, payment, coupons, membership, account security, business customers).
    pub fn builtin() -> Self {
        Self::parse(BUILTIN)
    }

    /// Parses the text format described in the module docs. Blank lines, `#` comments and
    /// lines with fewer than two terms are ignored; groups whose first term repeats an
    /// existing group's first term are merged into it.
    pub fn parse(text: &str) -> Self {
        let mut table = Self::empty();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let terms: Vec<&str> = line
                .split([',', '，', '、', '|'])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect();
            if terms.len() >= 2 {
                table.add_group(terms);
            }
        }
        table
    }

    /// Adds a group (the first term names it). If a group with the same first term exists,
    /// the new terms are appended to it. Empty terms are dropped; terms are kept as written
    /// (matching normalizes them).
    pub fn add_group<I, S>(&mut self, terms: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let terms: Vec<String> = terms
            .into_iter()
            .map(Into::into)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        let Some(first) = terms.first() else {
            return;
        };
        if let Some(existing) = self.groups.iter_mut().find(|g| g[0] == *first) {
            for t in terms.into_iter().skip(1) {
                if !existing.contains(&t) {
                    existing.push(t);
                }
            }
        } else {
            self.groups.push(terms);
        }
    }

    /// Adds every group of `other` (merging by first term).
    pub fn extend(&mut self, other: &SynonymTable) {
        for g in &other.groups {
            self.add_group(g.iter().cloned());
        }
    }

    /// The groups, each starting with its name.
    pub fn groups(&self) -> &[Vec<String>] {
        &self.groups
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether there are no groups.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Serializes back to the text format (one group per line).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for g in &self.groups {
            out.push_str(&g.join(", "));
            out.push('\n');
        }
        out
    }
}

/// One occurrence of a concept in a text. Offsets in chars of the normalized text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConceptHit {
    pub group: u32,
    pub start: usize,
    pub end: usize,
}

/// Synonym table prepared for matching.
#[derive(Debug, Clone)]
pub(crate) struct CompiledSynonyms {
    /// (normalized term, group) for terms containing CJK (two characters or more).
    cjk: Vec<(String, u32)>,
    /// One-character Chinese terms, matched only as whole words (修 but not 修改).
    cjk_single: Vec<(String, u32)>,
    /// (stems, group) for Latin terms.
    latin: Vec<(Vec<String>, u32)>,
    names: Vec<String>,
}

impl CompiledSynonyms {
    pub fn new(table: &SynonymTable) -> Self {
        let mut cjk = Vec::new();
        let mut cjk_single = Vec::new();
        let mut latin = Vec::new();
        let mut names = Vec::new();
        for (gi, group) in table.groups.iter().enumerate() {
            let gi = gi as u32;
            names.push(group[0].clone());
            for term in group {
                let norm = text::normalize(term);
                if norm.is_empty() {
                    continue;
                }
                if text::contains_cjk(&norm) && norm.chars().count() == 1 {
                    cjk_single.push((norm, gi));
                } else if text::contains_cjk(&norm) {
                    cjk.push((norm, gi));
                } else {
                    let stems: Vec<String> = text::segment(&norm, text::Mode::Query)
                        .into_iter()
                        .map(|t| t.text)
                        .collect();
                    if !stems.is_empty() {
                        latin.push((stems, gi));
                    }
                }
            }
        }
        // Longer terms first, so that overlapping hits prefer the more specific term.
        cjk.sort_by_key(|t| std::cmp::Reverse(t.0.chars().count()));
        latin.sort_by_key(|t| std::cmp::Reverse(t.0.len()));
        Self {
            cjk,
            cjk_single,
            latin,
            names,
        }
    }

    /// Chinese terms of two characters or more (they also guide segmentation).
    pub fn cjk_terms(&self) -> impl Iterator<Item = &str> {
        self.cjk.iter().map(|(t, _)| t.as_str())
    }

    /// Name (first term) of a group.
    pub fn name(&self, group: u32) -> &str {
        &self.names[group as usize]
    }

    /// Every concept occurrence in `normalized` (whose tokens are `tokens`, query mode).
    pub fn find(&self, normalized: &str, tokens: &[Token]) -> Vec<ConceptHit> {
        let mut hits = Vec::new();
        if text::contains_cjk(normalized) {
            // byte offset -> char offset
            let mut char_at = vec![0usize; normalized.len() + 1];
            let mut n = 0;
            for (b, c) in normalized.char_indices() {
                for slot in char_at.iter_mut().skip(b).take(c.len_utf8()) {
                    *slot = n;
                }
                n += 1;
            }
            char_at[normalized.len()] = n;
            for (term, group) in &self.cjk {
                for (b, m) in normalized.match_indices(term.as_str()) {
                    hits.push(ConceptHit {
                        group: *group,
                        start: char_at[b],
                        end: char_at[b + m.len()],
                    });
                }
            }
        }
        if !self.cjk_single.is_empty() {
            // A one-character term matches a one-character word, or a character of a word
            // jieba's HMM made up (能修 in 能修不) — never part of a dictionary word (修改).
            for t in tokens.iter().filter(|t| t.cjk) {
                let n = t.end - t.start;
                let made_up = n > 1 && n <= 3 && t.pos != "phrase" && !text::in_dictionary(&t.text);
                if n != 1 && !made_up {
                    continue;
                }
                for (i, c) in t.text.chars().enumerate() {
                    for (term, group) in &self.cjk_single {
                        if term.starts_with(c) {
                            hits.push(ConceptHit {
                                group: *group,
                                start: t.start + i,
                                end: t.start + i + 1,
                            });
                        }
                    }
                }
            }
        }
        let latin: Vec<&Token> = tokens.iter().filter(|t| !t.cjk).collect();
        if !latin.is_empty() {
            for (stems, group) in &self.latin {
                if stems.len() > latin.len() {
                    continue;
                }
                for w in latin.windows(stems.len()) {
                    if w.iter().zip(stems).all(|(t, s)| t.text == *s) {
                        hits.push(ConceptHit {
                            group: *group,
                            start: w[0].start,
                            end: w[w.len() - 1].end,
                        });
                    }
                }
            }
        }
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn concepts(table: &SynonymTable, s: &str) -> Vec<String> {
        let c = CompiledSynonyms::new(table);
        let norm = text::normalize(s);
        let toks = text::segment(&norm, text::Mode::Query);
        let mut names: Vec<String> = c
            .find(&norm, &toks)
            .into_iter()
            .map(|h| c.name(h.group).to_string())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    #[test]
    fn parse_and_merge() {
        let mut t = SynonymTable::parse("# c\n退款, 退钱，返款\n\n单独\n快递 | 物流、包裹\n");
        assert_eq!(t.len(), 2);
        t.add_group(["退款", "退米", "退钱"]);
        assert_eq!(t.groups()[0], vec!["退款", "退钱", "返款", "退米"]);
        let round = SynonymTable::parse(&t.to_text());
        assert_eq!(round, t);
    }

    #[test]
    fn builtin_parses() {
        let t = SynonymTable::builtin();
        assert!(t.len() > 50, "{}", t.len());
        assert!(t.groups().iter().all(|g| g.len() >= 2));
    }

    #[test]
    fn finds_chinese_and_english_terms() {
        let t = SynonymTable::parse("退款, 退钱, money back\n快递, 物流\n");
        assert_eq!(concepts(&t, "我想退钱"), vec!["退款"]);
        assert_eq!(concepts(&t, "When do I get my MONEY back?"), vec!["退款"]);
        assert_eq!(concepts(&t, "物流到哪了 退款呢"), vec!["快递", "退款"]);
        assert!(concepts(&t, "money is back").is_empty());
    }

    #[test]
    fn single_character_terms_match_whole_words_only() {
        let t = SynonymTable::parse("维修, 修\n");
        assert_eq!(concepts(&t, "能修吗"), vec!["维修"]);
        assert!(concepts(&t, "怎么修改地址").is_empty());
    }

    #[test]
    fn latin_terms_are_stemmed() {
        let t = SynonymTable::parse("refund, reimburse\n");
        assert_eq!(concepts(&t, "were the items refunded"), vec!["refund"]);
        assert_eq!(concepts(&t, "reimbursement status"), vec!["refund"]);
    }
}
