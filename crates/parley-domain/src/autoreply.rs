//! Keyword auto-replies (关键词自动回复): a workspace's ordered rules, each with keywords
//! matched exactly, by containment ("fuzzy") or as regular expressions, conditions (channels,
//! a daily time window) and a reply with variables and quick-reply buttons. The first enabled
//! rule (lowest position) that matches a visitor's message answers it, once.
//!
//! Matching is pure: [`CompiledRules::find`] takes the text, channel and time. Regexes use the
//! `regex` crate (linear time, no backtracking) with size limits, and are compiled when a rule
//! is saved, so an invalid or oversized pattern is refused then, never at message time.

use crate::model::ts;
use crate::*;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Most rules per workspace.
pub const MAX_AUTO_REPLIES: usize = 200;
/// Most keywords (or patterns) per rule.
pub const MAX_AUTO_REPLY_KEYWORDS: usize = 30;
/// Longest keyword, in characters.
pub const MAX_AUTO_REPLY_KEYWORD_CHARS: usize = 100;
/// Longest regular expression, in characters.
pub const MAX_PATTERN_CHARS: usize = 200;
/// Longest rule name, in characters.
pub const MAX_AUTO_REPLY_NAME_CHARS: usize = 60;
/// Longest reply, in characters (variables may grow it; a message holds 5000).
pub const MAX_AUTO_REPLY_TEXT_CHARS: usize = 2000;
/// Most quick-reply buttons under a reply.
pub const MAX_AUTO_REPLY_BUTTONS: usize = 5;
/// Longest button label, in characters.
pub const MAX_BUTTON_CHARS: usize = 40;
/// Compiled program size per pattern; far above any sensible keyword pattern.
const REGEX_SIZE_LIMIT: usize = 256 * 1024;
/// Lazy DFA cache per pattern; when full the engine falls back to a slower linear one.
const REGEX_DFA_SIZE_LIMIT: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MatchMode {
    /// The whole message is one of the keywords (after normalisation).
    Exact,
    /// The message contains one of the keywords (after normalisation): the "fuzzy" mode.
    Contains,
    /// One of the patterns matches somewhere in the message (case-insensitive).
    Regex,
}

impl MatchMode {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchMode::Exact => "exact",
            MatchMode::Contains => "contains",
            MatchMode::Regex => "regex",
        }
    }
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw.trim() {
            "exact" => Ok(Self::Exact),
            "contains" => Ok(Self::Contains),
            "regex" => Ok(Self::Regex),
            _ => Err(Invalid::new("mode must be exact, contains or regex")),
        }
    }
}

/// A daily time window in a time zone; `start > end` crosses midnight (22:00–06:00).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TimeWindow {
    /// Minutes after midnight, inclusive.
    pub start: u16,
    /// Minutes after midnight, exclusive.
    pub end: u16,
    /// IANA name, e.g. `Asia/Shanghai`, or `UTC`.
    pub time_zone: String,
}

impl TimeWindow {
    pub fn parse(start: u16, end: u16, time_zone: &str) -> Result<Self, Invalid> {
        let time_zone = match time_zone.trim() {
            "" => "UTC".to_owned(),
            z => z.to_owned(),
        };
        if TimeZone::get(&time_zone).is_err() {
            return Err(Invalid::new(format!(
                "unknown time zone '{time_zone}' (use an IANA name such as Asia/Shanghai, or UTC)"
            )));
        }
        if start >= 1440 || end >= 1440 {
            return Err(Invalid::new("times must be between 00:00 and 23:59"));
        }
        if start == end {
            return Err(Invalid::new(
                "the window must not start and end at the same time",
            ));
        }
        Ok(TimeWindow {
            start,
            end,
            time_zone,
        })
    }

    /// Whether `at` (Unix ms) falls in the window. A zone that cannot be loaded (it was valid
    /// when saved) counts as UTC.
    pub fn contains(&self, at: Millis) -> bool {
        let Ok(ts) = Timestamp::from_millisecond(at) else {
            return false;
        };
        let tz = TimeZone::get(&self.time_zone).unwrap_or(TimeZone::UTC);
        let z = ts.to_zoned(tz);
        let m = z.hour() as u16 * 60 + z.minute() as u16;
        if self.start < self.end {
            self.start <= m && m < self.end
        } else {
            m >= self.start || m < self.end
        }
    }
}

/// `HH:MM` as minutes after midnight.
pub fn parse_clock(raw: &str) -> Result<u16, Invalid> {
    let bad = || Invalid::new(format!("'{raw}' is not a time of day (HH:MM)"));
    let (h, m) = raw.trim().split_once(':').ok_or_else(bad)?;
    let h: u16 = h.parse().map_err(|_| bad())?;
    let m: u16 = m.parse().map_err(|_| bad())?;
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

pub fn format_clock(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AutoReply {
    pub id: AutoReplyId,
    #[serde(skip)]
    pub workspace_id: WorkspaceId,
    /// 0 is tried first.
    pub position: i32,
    pub name: String,
    pub keywords: Vec<String>,
    pub mode: MatchMode,
    /// Only messages from these channels; empty: every channel.
    pub channel_ids: Vec<ChannelId>,
    /// Only in this daily window; `None`: at any time.
    pub window: Option<TimeWindow>,
    /// Only for visitors with at least one of these tags; empty: every visitor.
    pub visitor_tags: Vec<String>,
    /// May contain `{visitor.name}`, `{page.title}`, `{page.url}`, `{agent.name}`,
    /// `{channel.name}`.
    pub reply: String,
    /// Quick replies offered under the reply; a click sends the label.
    pub buttons: Vec<String>,
    pub enabled: bool,
    /// How many messages it has answered.
    pub hits: i64,
    #[serde(serialize_with = "ts")]
    #[schema(value_type = String)]
    pub created_at: Millis,
    #[serde(serialize_with = "ts")]
    #[schema(value_type = String)]
    pub updated_at: Millis,
}

/// The editable fields of a rule, checked (regexes compiled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoReplyContent {
    pub name: String,
    pub keywords: Vec<String>,
    pub mode: MatchMode,
    pub channel_ids: Vec<ChannelId>,
    pub window: Option<TimeWindow>,
    pub reply: String,
    pub buttons: Vec<String>,
    pub enabled: bool,
}

/// What was wrong with one field of one rule; shown as `rules[i].field: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInvalid {
    pub field: &'static str,
    pub message: String,
}

fn field(field: &'static str, message: impl Into<String>) -> RuleInvalid {
    RuleInvalid {
        field,
        message: message.into(),
    }
}

fn one_line(raw: &str, max: usize) -> Option<String> {
    let s = raw.trim();
    (s.chars().count() <= max && !s.chars().any(char::is_control)).then(|| s.to_owned())
}

impl AutoReplyContent {
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        name: &str,
        keywords: &[String],
        mode: MatchMode,
        channel_ids: Vec<ChannelId>,
        window: Option<TimeWindow>,
        reply: &str,
        buttons: &[String],
        enabled: bool,
    ) -> Result<Self, RuleInvalid> {
        let name = one_line(name, MAX_AUTO_REPLY_NAME_CHARS)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                field(
                    "name",
                    format!("a name of 1 to {MAX_AUTO_REPLY_NAME_CHARS} characters is required"),
                )
            })?;
        let mut kept: Vec<String> = Vec::new();
        for k in keywords {
            let max = match mode {
                MatchMode::Regex => MAX_PATTERN_CHARS,
                _ => MAX_AUTO_REPLY_KEYWORD_CHARS,
            };
            let k = one_line(k, max).ok_or_else(|| {
                field(
                    "keywords",
                    format!("“{}…” is longer than {max} characters", clip(k, 20)),
                )
            })?;
            if k.is_empty() || kept.contains(&k) {
                continue;
            }
            if mode == MatchMode::Regex {
                compile_pattern(&k).map_err(|e| field("keywords", e.0))?;
            } else if normalize(&k).is_empty() {
                return Err(field(
                    "keywords",
                    format!("“{k}” is only punctuation, it would match nothing"),
                ));
            }
            kept.push(k);
        }
        if kept.is_empty() {
            return Err(field("keywords", "at least one keyword is required"));
        }
        if kept.len() > MAX_AUTO_REPLY_KEYWORDS {
            return Err(field(
                "keywords",
                format!("at most {MAX_AUTO_REPLY_KEYWORDS} keywords"),
            ));
        }
        let reply = reply.trim();
        if reply.is_empty() || reply.chars().count() > MAX_AUTO_REPLY_TEXT_CHARS {
            return Err(field(
                "reply",
                format!("a reply of 1 to {MAX_AUTO_REPLY_TEXT_CHARS} characters is required"),
            ));
        }
        let mut labels: Vec<String> = Vec::new();
        for b in buttons {
            let b = one_line(b, MAX_BUTTON_CHARS).ok_or_else(|| {
                field(
                    "buttons",
                    format!("a button label has at most {MAX_BUTTON_CHARS} characters on one line"),
                )
            })?;
            if !b.is_empty() && !labels.contains(&b) {
                labels.push(b);
            }
        }
        if labels.len() > MAX_AUTO_REPLY_BUTTONS {
            return Err(field(
                "buttons",
                format!("at most {MAX_AUTO_REPLY_BUTTONS} buttons"),
            ));
        }
        let mut channels = channel_ids;
        channels.sort();
        channels.dedup();
        Ok(AutoReplyContent {
            name,
            keywords: kept,
            mode,
            channel_ids: channels,
            window,
            reply: reply.to_owned(),
            buttons: labels,
            enabled,
        })
    }
}

fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// A pattern compiled the way rules use it, or why it cannot be.
pub fn compile_pattern(pattern: &str) -> Result<regex::Regex, Invalid> {
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(Invalid::new(format!(
            "pattern “{}…” is longer than {MAX_PATTERN_CHARS} characters",
            clip(pattern, 20)
        )));
    }
    regex::RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            let why = match e {
                regex::Error::CompiledTooBig(_) => "it is too large".to_owned(),
                regex::Error::Syntax(s) => {
                    // The last line of the report says what is wrong ("error: unclosed group").
                    let last = s.lines().last().unwrap_or("syntax error").trim();
                    last.strip_prefix("error:")
                        .unwrap_or(last)
                        .trim()
                        .to_owned()
                }
                _ => "it is not a valid pattern".to_owned(),
            };
            Invalid::new(format!("invalid pattern “{pattern}”: {why}"))
        })
}

/// Full-width ASCII forms (Ａ-ｚ, ０-９, ！-～) and the ideographic space as their half-width
/// counterparts.
pub fn fold_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

fn is_trailing_punct(c: char) -> bool {
    c.is_ascii_punctuation()
        || c.is_whitespace()
        || matches!(
            c,
            '。' | '，' | '、' | '；' | '：' | '…' | '～' | '·' | '」' | '』' | '】' | '》'
        )
}

/// How keywords and messages are compared: width-folded, lower case, spaces collapsed,
/// trimmed, without trailing punctuation ("退款？" is "退款", "Hello!!" is "hello").
pub fn normalize(s: &str) -> String {
    let folded = fold_width(s).to_lowercase();
    let collapsed = folded.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.trim_end_matches(is_trailing_punct).to_owned()
}

/// One rule ready to match.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    pub rule: AutoReply,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    Exact(Vec<String>),
    Contains(Vec<String>),
    Regex(Vec<regex::Regex>),
}

/// A workspace's enabled rules in order, compiled once and used for every message.
#[derive(Debug, Clone, Default)]
pub struct CompiledRules {
    rules: Vec<CompiledRule>,
}

impl CompiledRules {
    /// Enabled rules by position. A stored pattern that no longer compiles (it was checked on
    /// save) disables only itself.
    pub fn new(mut rules: Vec<AutoReply>) -> Self {
        rules.sort_by_key(|r| (r.position, r.id));
        let rules = rules
            .into_iter()
            .filter(|r| r.enabled)
            .map(|rule| {
                let matcher = match rule.mode {
                    MatchMode::Exact => {
                        Matcher::Exact(rule.keywords.iter().map(|k| normalize(k)).collect())
                    }
                    MatchMode::Contains => {
                        Matcher::Contains(rule.keywords.iter().map(|k| normalize(k)).collect())
                    }
                    MatchMode::Regex => Matcher::Regex(
                        rule.keywords
                            .iter()
                            .filter_map(|k| compile_pattern(k).ok())
                            .collect(),
                    ),
                };
                CompiledRule { rule, matcher }
            })
            .collect();
        CompiledRules { rules }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether any rule looks at the visitor's tags (then callers read them fresh).
    pub fn uses_visitor_tags(&self) -> bool {
        self.rules.iter().any(|c| !c.rule.visitor_tags.is_empty())
    }

    /// The first rule that answers `text` sent on `channel` at `now` by an untagged visitor.
    pub fn find(&self, text: &str, channel: ChannelId, now: Millis) -> Option<&AutoReply> {
        self.find_for(text, channel, now, &[])
    }

    /// The first rule that answers `text` sent on `channel` at `now` by a visitor with these
    /// tags.
    pub fn find_for(
        &self,
        text: &str,
        channel: ChannelId,
        now: Millis,
        visitor_tags: &[String],
    ) -> Option<&AutoReply> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let normalized = normalize(text);
        let folded = fold_width(text);
        self.rules
            .iter()
            .filter(|c| c.rule.channel_ids.is_empty() || c.rule.channel_ids.contains(&channel))
            .filter(|c| c.rule.window.as_ref().is_none_or(|w| w.contains(now)))
            .filter(|c| {
                c.rule.visitor_tags.is_empty()
                    || c.rule.visitor_tags.iter().any(|t| visitor_tags.contains(t))
            })
            .find(|c| match &c.matcher {
                Matcher::Exact(ks) => ks.contains(&normalized),
                Matcher::Contains(ks) => ks.iter().any(|k| normalized.contains(k.as_str())),
                Matcher::Regex(rs) => rs.iter().any(|r| r.is_match(&folded)),
            })
            .map(|c| &c.rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(position: i32, mode: MatchMode, keywords: &[&str]) -> AutoReply {
        AutoReply {
            id: AutoReplyId::new(),
            workspace_id: WorkspaceId::new(),
            position,
            name: format!("rule {position}"),
            keywords: keywords.iter().map(|s| s.to_string()).collect(),
            mode,
            channel_ids: vec![],
            window: None,
            visitor_tags: vec![],
            reply: "ok".into(),
            buttons: vec![],
            enabled: true,
            hits: 0,
            created_at: 0,
            updated_at: 0,
        }
    }

    /// 2026-12-04 at `h:m` UTC, in ms.
    fn at(h: i64, m: i64) -> Millis {
        (1_796_342_400 + h * 3600 + m * 60) * 1000
    }

    #[test]
    fn normalisation_folds_width_case_space_and_trailing_punctuation() {
        assert_eq!(normalize("  退款？ "), "退款");
        assert_eq!(normalize("ＨＥＬＬＯ！！"), "hello");
        assert_eq!(normalize("Hello,   World..."), "hello, world");
        assert_eq!(normalize("价格。"), "价格");
        assert_eq!(normalize("？！"), "");
    }

    #[test]
    fn exact_mode_needs_the_whole_message() {
        let rules = CompiledRules::new(vec![rule(0, MatchMode::Exact, &["价格", "Price"])]);
        let ch = ChannelId::new();
        assert!(rules.find("价格", ch, 0).is_some());
        assert!(rules.find(" 价格？", ch, 0).is_some());
        assert!(rules.find("ＰＲＩＣＥ!", ch, 0).is_some());
        assert!(rules.find("价格多少", ch, 0).is_none());
        assert!(rules.find("", ch, 0).is_none());
    }

    #[test]
    fn contains_mode_finds_the_keyword_anywhere() {
        let rules = CompiledRules::new(vec![rule(0, MatchMode::Contains, &["退款", "refund"])]);
        let ch = ChannelId::new();
        assert!(rules.find("请问怎么退款呢", ch, 0).is_some());
        assert!(rules.find("I want a REFUND please", ch, 0).is_some());
        assert!(rules.find("我要退货", ch, 0).is_none());
    }

    #[test]
    fn regex_mode_matches_case_insensitively_on_folded_text() {
        let rules = CompiledRules::new(vec![rule(0, MatchMode::Regex, &[r"订单\s*号?\s*\d{6}"])]);
        let ch = ChannelId::new();
        assert!(rules.find("我的订单号 123456 到哪了", ch, 0).is_some());
        assert!(
            rules.find("订单１２３４５６", ch, 0).is_some(),
            "full-width digits"
        );
        assert!(rules.find("订单 12", ch, 0).is_none());
        let rules = CompiledRules::new(vec![rule(0, MatchMode::Regex, &["^hello"])]);
        assert!(rules.find("HELLO there", ch, 0).is_some());
    }

    #[test]
    fn lowest_position_wins_and_disabled_rules_never_answer() {
        let first = rule(1, MatchMode::Contains, &["退款"]);
        let second = rule(2, MatchMode::Contains, &["退"]);
        let mut off = rule(0, MatchMode::Contains, &["退款"]);
        off.enabled = false;
        let rules = CompiledRules::new(vec![second.clone(), off, first.clone()]);
        let ch = ChannelId::new();
        assert_eq!(rules.find("我要退款", ch, 0).unwrap().id, first.id);
        assert_eq!(rules.find("退货", ch, 0).unwrap().id, second.id);
    }

    #[test]
    fn channel_condition() {
        let (a, b) = (ChannelId::new(), ChannelId::new());
        let mut only_a = rule(0, MatchMode::Contains, &["价格"]);
        only_a.channel_ids = vec![a];
        let everywhere = rule(1, MatchMode::Contains, &["价格"]);
        let rules = CompiledRules::new(vec![only_a.clone(), everywhere.clone()]);
        assert_eq!(rules.find("价格", a, 0).unwrap().id, only_a.id);
        assert_eq!(rules.find("价格", b, 0).unwrap().id, everywhere.id);
    }

    #[test]
    fn visitor_tag_condition() {
        let ch = ChannelId::new();
        let mut vip = rule(0, MatchMode::Contains, &["价格"]);
        vip.visitor_tags = vec!["VIP".into(), "老客户".into()];
        let everyone = rule(1, MatchMode::Contains, &["价格"]);
        let rules = CompiledRules::new(vec![vip.clone(), everyone.clone()]);
        let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            rules
                .find_for("价格", ch, 0, &tags(&["老客户"]))
                .unwrap()
                .id,
            vip.id
        );
        assert_eq!(
            rules.find_for("价格", ch, 0, &tags(&["新客"])).unwrap().id,
            everyone.id
        );
        assert_eq!(rules.find("价格", ch, 0).unwrap().id, everyone.id);
    }

    #[test]
    fn time_windows_including_across_midnight() {
        let day = TimeWindow::parse(9 * 60, 18 * 60, "UTC").unwrap();
        assert!(day.contains(at(9, 0)));
        assert!(day.contains(at(17, 59)));
        assert!(!day.contains(at(18, 0)));
        assert!(!day.contains(at(8, 59)));
        let night = TimeWindow::parse(22 * 60, 6 * 60, "UTC").unwrap();
        assert!(night.contains(at(23, 30)));
        assert!(night.contains(at(0, 0)));
        assert!(night.contains(at(5, 59)));
        assert!(!night.contains(at(6, 0)));
        assert!(!night.contains(at(12, 0)));
        // 09:00–18:00 in Shanghai is 01:00–10:00 UTC.
        let sh = TimeWindow::parse(9 * 60, 18 * 60, "Asia/Shanghai").unwrap();
        assert!(sh.contains(at(1, 0)));
        assert!(!sh.contains(at(10, 0)));

        let mut r = rule(0, MatchMode::Contains, &["hi"]);
        r.window = Some(night);
        let rules = CompiledRules::new(vec![r]);
        let ch = ChannelId::new();
        assert!(rules.find("hi", ch, at(23, 0)).is_some());
        assert!(rules.find("hi", ch, at(12, 0)).is_none());
    }

    #[test]
    fn bad_windows_and_clocks_are_refused() {
        assert!(TimeWindow::parse(60, 60, "UTC").is_err());
        assert!(TimeWindow::parse(0, 1440, "UTC").is_err());
        assert!(TimeWindow::parse(0, 60, "Mars/Olympus").is_err());
        assert_eq!(TimeWindow::parse(0, 60, "").unwrap().time_zone, "UTC");
        assert_eq!(parse_clock("09:30").unwrap(), 570);
        assert_eq!(parse_clock("23:59").unwrap(), 1439);
        assert!(parse_clock("24:00").is_err());
        assert!(parse_clock("9h").is_err());
        assert_eq!(format_clock(570), "09:30");
    }

    fn parse(mode: MatchMode, keywords: &[&str]) -> Result<AutoReplyContent, RuleInvalid> {
        let ks: Vec<String> = keywords.iter().map(|s| s.to_string()).collect();
        AutoReplyContent::parse("退款", &ks, mode, vec![], None, "您好", &[], true)
    }

    #[test]
    fn invalid_and_oversized_patterns_are_refused_on_save() {
        let e = parse(MatchMode::Regex, &["订单(\\d+"]).unwrap_err();
        assert_eq!(e.field, "keywords");
        assert!(e.message.contains("订单(\\d+"), "{}", e.message);
        assert!(e.message.ends_with(": unclosed group"), "{}", e.message);
        let long = "a".repeat(MAX_PATTERN_CHARS + 1);
        assert!(parse(MatchMode::Regex, &[&long]).is_err());
        // Short but enormous once compiled.
        let e = parse(MatchMode::Regex, &[r"\w{1000}\w{1000}\w{1000}"]).unwrap_err();
        assert!(e.message.contains("too large"), "{}", e.message);
        // The same text is a fine literal keyword.
        assert!(parse(MatchMode::Contains, &["订单(\\d+"]).is_ok());
    }

    #[test]
    fn content_is_checked_and_tidied() {
        assert_eq!(parse(MatchMode::Exact, &[]).unwrap_err().field, "keywords");
        assert_eq!(
            parse(MatchMode::Exact, &["？？"]).unwrap_err().field,
            "keywords"
        );
        let ok = parse(MatchMode::Exact, &[" 价格 ", "", "价格"]).unwrap();
        assert_eq!(ok.keywords, vec!["价格"]);
        let ks = vec!["a".to_string()];
        let six: Vec<String> = (0..6).map(|i| format!("b{i}")).collect();
        let e = AutoReplyContent::parse("n", &ks, MatchMode::Exact, vec![], None, "r", &six, true)
            .unwrap_err();
        assert_eq!(e.field, "buttons");
        let e = AutoReplyContent::parse(" ", &ks, MatchMode::Exact, vec![], None, "r", &[], true)
            .unwrap_err();
        assert_eq!(e.field, "name");
        let e = AutoReplyContent::parse("n", &ks, MatchMode::Exact, vec![], None, " ", &[], true)
            .unwrap_err();
        assert_eq!(e.field, "reply");
    }

    #[test]
    fn pathological_patterns_stay_fast_on_long_input() {
        let rules = CompiledRules::new(vec![rule(
            0,
            MatchMode::Regex,
            &["(a+)+$", "(a|aa)+b", "(x+x+)+y"],
        )]);
        let text = format!("{}!", "a".repeat(5000));
        let ch = ChannelId::new();
        let started = std::time::Instant::now();
        for _ in 0..10 {
            assert!(rules.find(&text, ch, 0).is_none());
            assert!(rules.find(&"x".repeat(5000), ch, 0).is_none());
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
    }
}
