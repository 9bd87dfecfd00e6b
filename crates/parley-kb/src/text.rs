//! Text normalization and segmentation shared by indexing and querying.
//!
//! Everything here is deterministic and pure. Chinese runs are segmented with jieba (its
//! embedded dictionary is loaded once per process, on first use); runs of ASCII letters and
//! digits become lowercased English tokens, stemmed with the Snowball English stemmer.

use std::sync::OnceLock;

use jieba_rs::Jieba;
use rust_stemmers::{Algorithm, Stemmer};

/// The process-wide jieba instance (loading its dictionary takes a few tens of milliseconds).
pub(crate) fn jieba() -> &'static Jieba {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    JIEBA.get_or_init(Jieba::new)
}

/// Whether jieba may guess unknown words with its HMM. Off: its guesses in colloquial text
/// are mostly junk spanning word boundaries (买能, 钱到); unknown words stay as characters.
pub(crate) const HMM: bool = false;

fn stemmer() -> &'static Stemmer {
    static STEMMER: OnceLock<Stemmer> = OnceLock::new();
    STEMMER.get_or_init(|| Stemmer::create(Algorithm::English))
}

/// Whether `c` is a CJK ideograph (Han character).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2A6DF | 0x2A700..=0x2EBEF)
}

/// Whether the text contains at least one CJK ideograph.
pub fn contains_cjk(s: &str) -> bool {
    s.chars().any(is_cjk)
}

/// Language family of a question, inferred from its script: `"zh"` when it contains any CJK
/// ideograph, `"en"` when it contains Latin letters, `None` otherwise (digits, emoji, …).
pub fn script_family(s: &str) -> Option<&'static str> {
    if contains_cjk(s) {
        Some("zh")
    } else if s.chars().any(|c| c.is_ascii_alphabetic()) {
        Some("en")
    } else {
        None
    }
}

/// Language family of a locale tag: its primary subtag, lowercased (`"zh-CN"` → `"zh"`).
pub fn locale_family(locale: &str) -> String {
    locale
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Colloquial or internet spellings rewritten to their standard form before segmentation.
/// These are general (not tied to any knowledge base): people type 咋 for 怎么 and 啥 for 什么.
const COLLOQUIAL: &[(&str, &str)] = &[
    ("肿么", "怎么"),
    ("咋", "怎么"),
    ("神马", "什么"),
    ("啥", "什么"),
    ("为毛", "为什么"),
    ("木有", "没有"),
    ("没得", "没有"),
    ("登陆", "登录"),
    ("帐号", "账号"),
    ("帐户", "账户"),
    ("俺", "我"),
];

/// Normalizes text for matching: full-width ASCII becomes half-width, all whitespace and the
/// ideographic space become a single space, Latin letters are lowercased, and a few colloquial
/// spellings are rewritten to standard ones (咋 → 怎么, 啥 → 什么, 登陆 → 登录 …).
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last_space = true;
    for c in s.chars() {
        let c = match c as u32 {
            0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            0x3000 => ' ',
            _ => c,
        };
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
            continue;
        }
        last_space = false;
        out.extend(c.to_lowercase());
    }
    let trimmed = out.trim_end();
    let mut out = trimmed.to_string();
    if COLLOQUIAL.iter().any(|(from, _)| out.contains(from)) {
        for (from, to) in COLLOQUIAL {
            if out.contains(from) {
                out = out.replace(from, to);
            }
        }
    }
    out
}

/// One token of normalized text. Offsets are in `char`s of the normalized string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The token: a jieba word for Chinese, a lowercased stem for English.
    pub text: String,
    /// First char (inclusive).
    pub start: usize,
    /// Last char (exclusive).
    pub end: usize,
    /// Chinese (true) or Latin/digits (false).
    pub cjk: bool,
    /// Part of speech from jieba's dictionary (query mode; `"eng"` for Latin, `""` when
    /// unknown or in index mode). See [`is_topic_pos`].
    pub pos: &'static str,
}

/// Segmentation mode: `Query` keeps jieba's default segmentation; `Index` also emits the
/// shorter dictionary words inside long words (jieba's search mode), so that a query word
/// matches an article that only has the longer compound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Default segmentation, one token per word.
    Query,
    /// Search-mode segmentation with overlapping sub-words.
    Index,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunKind {
    Cjk,
    Latin,
}

/// Splits normalized text into runs of CJK ideographs and runs of ASCII letters/digits; every
/// other character separates runs. Returns (kind, start char, run).
fn runs(s: &str) -> Vec<(RunKind, usize, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(RunKind, usize, String)> = None;
    for (i, c) in s.chars().enumerate() {
        let kind = if is_cjk(c) {
            Some(RunKind::Cjk)
        } else if c.is_ascii_alphanumeric() {
            Some(RunKind::Latin)
        } else {
            None
        };
        match (&mut cur, kind) {
            (Some((k, _, text)), Some(kind)) if *k == kind => text.push(c),
            (_, Some(kind)) => {
                if let Some(run) = cur.take() {
                    out.push(run);
                }
                cur = Some((kind, i, c.to_string()));
            }
            (_, None) => {
                if let Some(run) = cur.take() {
                    out.push(run);
                }
            }
        }
    }
    if let Some(run) = cur {
        out.push(run);
    }
    out
}

/// Stems one lowercased English word.
pub fn stem(word: &str) -> String {
    stemmer().stem(word).into_owned()
}

/// Segments normalized text into tokens (stopwords included; see [`is_stopword`]).
pub fn segment(normalized: &str, mode: Mode) -> Vec<Token> {
    let mut out = Vec::new();
    for (kind, start, run) in runs(normalized) {
        match kind {
            RunKind::Latin => out.push(Token {
                text: stem(&run),
                start,
                end: start + run.chars().count(),
                cjk: false,
                pos: "eng",
            }),
            RunKind::Cjk => segment_cjk(&run, start, mode, &mut out),
        }
    }
    out
}

/// Segments one run of CJK characters starting at char offset `start`.
pub(crate) fn segment_cjk(run: &str, start: usize, mode: Mode, out: &mut Vec<Token>) {
    match mode {
        Mode::Query => {
            for w in jieba().tag(run, HMM) {
                out.push(Token {
                    text: w.word.to_string(),
                    start: start + w.start,
                    end: start + w.end,
                    cjk: true,
                    pos: pos_static(w.tag),
                });
            }
        }
        Mode::Index => {
            for w in jieba().cut_for_search(run, HMM) {
                out.push(Token {
                    text: w.word.to_string(),
                    start: start + w.start,
                    end: start + w.end,
                    cjk: true,
                    pos: "",
                });
            }
        }
    }
}

/// jieba's tags borrow from the process-wide instance; map them to the few we care about.
fn pos_static(tag: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "n", "nr", "nrt", "nrfg", "ns", "nt", "nz", "ng", "v", "vn", "vd", "vg", "vi", "vq", "a",
        "ad", "an", "ag", "i", "l", "j", "s", "b", "z", "eng", "x",
    ];
    KNOWN
        .iter()
        .find(|k| **k == tag)
        .copied()
        .unwrap_or("other")
}

/// Whether a part of speech can carry a topic: nouns, verbs, adjectives, idioms, place and
/// distinguishing words, unknown words. Not: pronouns, adverbs, time words, numerals,
/// measure words, prepositions, conjunctions, particles, interjections, direction words.
pub fn is_topic_pos(pos: &str) -> bool {
    pos != "other"
}

/// Toneless pinyin of a Chinese word, syllables separated by spaces (`注销` → `zhu xiao`);
/// `None` if some character has no reading. Used to repair homophone typos (注消 → 注销),
/// the usual kind of typo with a pinyin input method.
pub fn pinyin_key(word: &str) -> Option<String> {
    use pinyin::ToPinyin;
    let mut out = String::new();
    for c in word.chars() {
        let p = c.to_pinyin()?;
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(p.plain());
    }
    Some(out)
}

/// Whether jieba's dictionary knows the word (typo repair only touches unknown words).
pub(crate) fn in_dictionary(word: &str) -> bool {
    jieba().has_word(word)
}

/// Character bigrams of every CJK run of normalized text, with the char offset of their first
/// character. Bigrams made only of function characters (的了吗我你…) are left out.
pub fn cjk_bigrams(normalized: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (kind, start, run) in runs(normalized) {
        if kind != RunKind::Cjk {
            continue;
        }
        let chars: Vec<char> = run.chars().collect();
        for (i, pair) in chars.windows(2).enumerate() {
            if STOP_CHARS.contains(pair[0]) && STOP_CHARS.contains(pair[1]) {
                continue;
            }
            out.push((pair.iter().collect(), start + i));
        }
    }
    out
}

/// The CJK characters of normalized text that are not function characters, in order.
pub fn cjk_chars(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars().filter(|&c| is_cjk(c) && !STOP_CHARS.contains(c))
}

/// Function characters: particles, pronouns, very common verbs and adverbs.
const STOP_CHARS: &str = "的了吗呢吧啊呀哦嘛啦哈嗯么吖哇呗噢喔我你您他她它们这那是有在和与及或就都也还又再很太挺好请想要能可以会不没个一下上里中后前时候给让把被对从到去来吧得地着过么什怎样哪些么多少几就";

/// Chinese stopwords: particles, pronouns, politeness formulas, question words, modal verbs,
/// time adverbs and fillers that carry no topic. Kept general on purpose.
const ZH_STOPWORDS: &[&str] = &[
    "的",
    "了",
    "吗",
    "呢",
    "吧",
    "啊",
    "呀",
    "哦",
    "嘛",
    "啦",
    "哈",
    "嗯",
    "么",
    "吖",
    "哇",
    "呗",
    "噢",
    "喔",
    "哎",
    "诶",
    "额",
    "呃",
    "嘞",
    "咯",
    "哒",
    "滴",
    "亲",
    "我",
    "你",
    "您",
    "他",
    "她",
    "它",
    "我们",
    "你们",
    "他们",
    "她们",
    "咱",
    "咱们",
    "自己",
    "人家",
    "本人",
    "这",
    "那",
    "这个",
    "那个",
    "这些",
    "那些",
    "这样",
    "那样",
    "这么",
    "那么",
    "这边",
    "那边",
    "这里",
    "那里",
    "这儿",
    "那儿",
    "此",
    "该",
    "其",
    "是",
    "是不是",
    "有",
    "有没有",
    "在",
    "和",
    "跟",
    "与",
    "及",
    "或",
    "或者",
    "还是",
    "就",
    "都",
    "也",
    "还",
    "又",
    "再",
    "很",
    "太",
    "挺",
    "好",
    "好的",
    "请问",
    "请",
    "您好",
    "你好",
    "在吗",
    "麻烦",
    "谢谢",
    "多谢",
    "感谢",
    "想",
    "想要",
    "想问",
    "问",
    "问下",
    "问一下",
    "咨询",
    "一下",
    "下",
    "要",
    "需要",
    "能",
    "能不能",
    "能否",
    "可以",
    "可不可以",
    "可否",
    "会",
    "会不会",
    "应该",
    "得",
    "必须",
    "怎么",
    "怎么样",
    "怎样",
    "如何",
    "什么",
    "为什么",
    "为何",
    "怎么办",
    "哪",
    "哪里",
    "哪儿",
    "哪个",
    "哪些",
    "多少",
    "几",
    "不",
    "没",
    "没有",
    "给",
    "让",
    "把",
    "被",
    "对",
    "从",
    "到",
    "去",
    "来",
    "上",
    "里",
    "中",
    "后",
    "之后",
    "以后",
    "前",
    "之前",
    "以前",
    "时",
    "时候",
    "现在",
    "今天",
    "昨天",
    "明天",
    "昨晚",
    "今晚",
    "刚才",
    "刚刚",
    "已经",
    "但是",
    "可是",
    "但",
    "因为",
    "所以",
    "如果",
    "然后",
    "一直",
    "一个",
    "个",
    "只",
    "才",
    "着",
    "过",
    "地",
    "啥",
    "咋",
    "呐",
    "嗨",
    "hi",
    "hello",
    "一",
    "说",
    "看",
    "看看",
    "弄",
    "搞",
    "做",
    "办",
    "东西",
    "一点",
    "有点",
    "点",
    "比较",
    "非常",
    "特别",
    "真的",
    "到底",
    "究竟",
    "而且",
    "并且",
    "还有",
    "其他",
    "其它",
    "别的",
    "怎么回事",
    "回事",
    "情况",
    "事",
    "知道",
    "告诉",
    "帮",
    "帮忙",
    "帮我",
    "一般",
    "大概",
    "大约",
    "左右",
    "吗么",
    // generic verbs and modal words that never name a topic
    "开始",
    "觉得",
    "感觉",
    "发现",
    "出来",
    "进行",
    "打算",
    "准备",
    "希望",
    "记得",
    "以为",
    "认为",
    "可能",
    "一定",
    "肯定",
    "为了",
    "结果",
    "方便",
    "直接",
    "马上",
    "赶紧",
    "尽快",
    // modal and negated modal words
    "不会",
    "会不会",
    "不用",
    "不行",
    "行不行",
    "不能",
    "没法",
    "没办法",
    "不了",
    "要不要",
    "好不好",
    "是否",
    "能够",
    "允许",
    // quantifiers and what an app "says" (一直提示…, 显示…)
    "所有",
    "全部",
    "提示",
    "显示",
    "出现",
    "弹出",
    "一直",
    // money units (amounts themselves are dropped as numbers)
    "块",
    "块钱",
    "元",
    "毛",
    "角",
    "分钱",
];

/// English stopwords (before stemming). Question words and auxiliaries are included: the
/// topic words carry the meaning.
const EN_STOPWORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "and",
    "or",
    "but",
    "if",
    "then",
    "so",
    "of",
    "to",
    "in",
    "on",
    "at",
    "for",
    "with",
    "by",
    "from",
    "as",
    "into",
    "about",
    "over",
    "after",
    "before",
    "up",
    "out",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "am",
    "do",
    "does",
    "did",
    "done",
    "have",
    "has",
    "had",
    "having",
    "can",
    "could",
    "will",
    "would",
    "shall",
    "should",
    "may",
    "might",
    "must",
    "i",
    "me",
    "my",
    "mine",
    "we",
    "us",
    "our",
    "you",
    "your",
    "yours",
    "he",
    "she",
    "it",
    "its",
    "they",
    "them",
    "their",
    "this",
    "that",
    "these",
    "those",
    "there",
    "here",
    "what",
    "which",
    "who",
    "whom",
    "whose",
    "how",
    "why",
    "where",
    "when",
    "please",
    "pls",
    "plz",
    "hi",
    "hello",
    "hey",
    "thanks",
    "thank",
    "thx",
    "just",
    "also",
    "too",
    "very",
    "really",
    "any",
    "some",
    "all",
    "no",
    "not",
    "yes",
    "ok",
    "okay",
    "u",
    "ur",
    "im",
    "i'm",
    "dont",
    "don't",
    "doesnt",
    "cant",
    "can't",
    "want",
    "need",
    "get",
    "got",
    "like",
    "know",
    "tell",
    "still",
    "yet",
    "now",
    "today",
    "yesterday",
    "one",
    "much",
    "many",
    "way",
    "s",
    "t",
    "d",
    "ll",
    "ve",
    "re",
    "m",
    "again",
    "something",
    "anything",
    "someone",
    "is",
    "possible",
    "possibly",
    "keep",
    "keeps",
    "getting",
    "around",
    "take",
    "takes",
    "make",
    "go",
    "goes",
    "going",
    "ever",
    "already",
    "guys",
    "guy",
    "anymore",
    "able",
    "let",
    "wanna",
    "gonna",
    "try",
    "tried",
    "trying",
    "sure",
    "maybe",
    "even",
    "every",
];

/// Whether a token (Chinese word, or English word before stemming) is a stopword.
pub fn is_stopword(token: &str) -> bool {
    ZH_STOPWORDS.contains(&token) || EN_STOPWORDS.contains(&token)
}

/// Whether a stemmed English token is a stopword (stems of stopwords are precomputed).
pub(crate) fn is_stopword_stem(stemmed: &str) -> bool {
    static STEMS: OnceLock<Vec<String>> = OnceLock::new();
    let stems = STEMS.get_or_init(|| EN_STOPWORDS.iter().map(|w| stem(w)).collect());
    EN_STOPWORDS.contains(&stemmed) || stems.iter().any(|s| s == stemmed)
}

/// Whether a token carries content: not a stopword and not a number, time or size (`50`,
/// `3pm`, `2kg`); long codes such as order numbers stay.
pub fn is_content(token: &Token) -> bool {
    if token.cjk {
        !is_stopword(&token.text)
    } else {
        let digits = token.text.chars().filter(|c| c.is_ascii_digit()).count();
        // numbers, times, sizes (3pm, 2kg) say nothing; long codes (order numbers) stay
        !is_stopword_stem(&token.text) && (digits == 0 || token.text.len() >= 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_width_case_and_colloquial() {
        assert_eq!(normalize("ＡＰＩ　Key"), "api key");
        assert_eq!(normalize("咋撤单"), "怎么撤单");
        assert_eq!(normalize("优惠券是啥"), "优惠券是什么");
        assert_eq!(normalize("  hello \n\t world  "), "hello world");
        assert_eq!(normalize("登陆不上"), "登录不上");
    }

    #[test]
    fn script_detection() {
        assert_eq!(script_family("怎么退款"), Some("zh"));
        assert_eq!(script_family("API 怎么接"), Some("zh"));
        assert_eq!(script_family("refund please"), Some("en"));
        assert_eq!(script_family("123 ???"), None);
        assert_eq!(locale_family("zh-CN"), "zh");
        assert_eq!(locale_family("en"), "en");
    }

    #[test]
    fn segments_chinese_and_english() {
        let toks = segment(&normalize("我想申请退款 refunds"), Mode::Query);
        let words: Vec<&str> = toks.iter().map(|t| t.text.as_str()).collect();
        assert!(words.contains(&"退款"), "{words:?}");
        assert!(words.contains(&"refund"), "{words:?}");
        let content: Vec<&str> = toks
            .iter()
            .filter(|t| is_content(t))
            .map(|t| t.text.as_str())
            .collect();
        assert!(!content.contains(&"我"), "{content:?}");
    }

    #[test]
    fn index_mode_emits_sub_words() {
        let toks = segment("中华人民共和国", Mode::Index);
        let words: Vec<&str> = toks.iter().map(|t| t.text.as_str()).collect();
        assert!(words.contains(&"中华"), "{words:?}");
        assert!(words.contains(&"中华人民共和国"), "{words:?}");
    }

    #[test]
    fn offsets_are_in_chars() {
        let toks = segment("退款 refund", Mode::Query);
        let last = toks.last().unwrap();
        assert_eq!((last.start, last.end), (3, 9));
    }

    #[test]
    fn pos_tags_mark_function_words() {
        let toks = segment("我前天买的便宜好多", Mode::Query);
        let topic: Vec<&str> = toks
            .iter()
            .filter(|t| is_topic_pos(t.pos))
            .map(|t| t.text.as_str())
            .collect();
        assert!(topic.contains(&"买"), "{toks:?}");
        assert!(!topic.contains(&"前天"), "{toks:?}");
        assert!(!topic.contains(&"我"), "{toks:?}");
    }

    #[test]
    fn pinyin_keys() {
        assert_eq!(pinyin_key("注销").as_deref(), Some("zhu xiao"));
        assert_eq!(pinyin_key("注消"), pinyin_key("注销"));
        assert_eq!(pinyin_key("abc"), None);
    }

    #[test]
    fn bigrams_skip_function_pairs() {
        let grams: Vec<String> = cjk_bigrams("我的退款").into_iter().map(|g| g.0).collect();
        assert_eq!(grams, vec!["的退", "退款"]);
    }

    #[test]
    fn english_stopwords_are_not_content() {
        let toks = segment("where is my refund", Mode::Query);
        let content: Vec<&str> = toks
            .iter()
            .filter(|t| is_content(t))
            .map(|t| t.text.as_str())
            .collect();
        assert_eq!(content, vec!["refund"]);
    }
}
