//! The knowledge base (知识库): categories, Markdown articles in Chinese or English, their
//! version history, and what the public (help centre, FAQ bot) may see of them.
//!
//! An article's row holds its **current** version (what editors work on). Every change of the
//! versioned content (title, body, keywords, tags) writes the next version number, 1, 2, 3 …
//! without gaps; restoring version N writes a new version copying N, so history is never
//! rewritten. Publishing points `published_version` at the current version: the public sees that
//! version's content until the article is published again or unpublished, however many drafts
//! are written meanwhile. Locale and category are not versioned.

use crate::model::{opt_ts, ts};
use crate::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest article title, in characters.
pub const MAX_ARTICLE_TITLE_CHARS: usize = 200;
/// Largest article body, in bytes of UTF-8 (100 KB).
pub const MAX_ARTICLE_BODY_BYTES: usize = 100 * 1024;
/// Most keywords per article.
pub const MAX_ARTICLE_KEYWORDS: usize = 30;
/// Longest keyword, in characters.
pub const MAX_KEYWORD_CHARS: usize = 50;

impl Role {
    /// Writing the knowledge base: categories, articles, publishing. Agents only read it.
    pub fn can_edit_kb(self) -> bool {
        matches!(self, Role::Admin | Role::Supervisor)
    }
}

/// The languages articles are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum KbLocale {
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl KbLocale {
    pub const ALL: [KbLocale; 2] = [KbLocale::ZhCn, KbLocale::En];

    pub fn as_str(self) -> &'static str {
        match self {
            KbLocale::ZhCn => "zh-CN",
            KbLocale::En => "en",
        }
    }

    /// `zh-CN` or `en`, in any letter case.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim();
        Self::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| Invalid::new("locale must be zh-CN or en"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ArticleStatus {
    /// Not visible to the public.
    Draft,
    /// The public sees `published_version`.
    Published,
}

impl ArticleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ArticleStatus::Draft => "draft",
            ArticleStatus::Published => "published",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "draft" => Some(Self::Draft),
            "published" => Some(Self::Published),
            _ => None,
        }
    }
}

/// A category of articles (物流配送, 售后服务 …), listed by `position`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Category {
    pub id: CategoryId,
    #[serde(skip)]
    pub workspace_id: WorkspaceId,
    pub name: String,
    /// Smaller comes first.
    pub position: i32,
    #[serde(serialize_with = "ts")]
    #[schema(value_type = String)]
    pub created_at: Millis,
}

/// An article as editors see it: the current version's content plus publishing state and
/// counters. It has unpublished changes when `status` is published and `version` is not
/// `published_version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Article {
    pub id: ArticleId,
    #[serde(skip)]
    pub workspace_id: WorkspaceId,
    pub category_id: Option<CategoryId>,
    pub locale: KbLocale,
    pub title: String,
    pub body_markdown: String,
    /// Words and phrases visitors use for this topic (they help matching).
    pub keywords: Vec<String>,
    pub tags: Vec<String>,
    pub status: ArticleStatus,
    /// The current version number.
    pub version: i64,
    /// The version the public sees; `None` while a draft.
    pub published_version: Option<i64>,
    #[schema(value_type = Option<String>)]
    #[serde(serialize_with = "opt_ts")]
    pub published_at: Option<Millis>,
    pub views: i64,
    /// "Did this solve it?" — yes.
    pub helpful_yes: i64,
    /// "Did this solve it?" — no.
    pub helpful_no: i64,
    #[serde(serialize_with = "ts")]
    #[schema(value_type = String)]
    pub created_at: Millis,
    #[serde(serialize_with = "ts")]
    #[schema(value_type = String)]
    pub updated_at: Millis,
}

/// One version of an article's content, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ArticleVersion {
    pub article_id: ArticleId,
    pub version: i64,
    pub title: String,
    pub body_markdown: String,
    pub keywords: Vec<String>,
    pub tags: Vec<String>,
    /// Set when this version was made by restoring an earlier one.
    pub restored_from: Option<i64>,
    pub edited_by: UserId,
    #[serde(serialize_with = "ts")]
    #[schema(value_type = String)]
    pub created_at: Millis,
}

/// An article as the public sees it: the published version's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PublishedArticle {
    pub id: ArticleId,
    #[serde(skip)]
    pub workspace_id: WorkspaceId,
    pub category_id: Option<CategoryId>,
    pub locale: KbLocale,
    /// The published version number.
    pub version: i64,
    pub title: String,
    pub body_markdown: String,
    pub keywords: Vec<String>,
    pub tags: Vec<String>,
    pub views: i64,
    pub helpful_yes: i64,
    pub helpful_no: i64,
    #[serde(serialize_with = "ts")]
    #[schema(value_type = String)]
    pub published_at: Millis,
}

/// The versioned part of an article, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleContent {
    pub title: String,
    pub body_markdown: String,
    pub keywords: Vec<String>,
    pub tags: Vec<String>,
}

impl ArticleContent {
    pub fn parse<S: AsRef<str>>(
        title: &str,
        body_markdown: &str,
        keywords: &[S],
        tags: &[S],
    ) -> Result<Self, Invalid> {
        Ok(ArticleContent {
            title: parse_article_title(title)?,
            body_markdown: parse_article_body(body_markdown)?,
            keywords: parse_keywords(keywords)?,
            tags: parse_tags(tags)?,
        })
    }
}

/// A checked change to an article; `None` keeps a field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArticlePatch {
    pub title: Option<String>,
    pub body_markdown: Option<String>,
    pub keywords: Option<Vec<String>>,
    pub tags: Option<Vec<String>>,
    pub locale: Option<KbLocale>,
    /// `Some(None)` takes the article out of its category.
    pub category_id: Option<Option<CategoryId>>,
}

/// What [`Article::apply`] changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArticleChange {
    Nothing,
    /// Only locale or category: no new version.
    Metadata,
    /// The content changed: `version` was bumped and that version must be written.
    NewVersion,
}

/// Trimmed, 1 to [`MAX_ARTICLE_TITLE_CHARS`] characters, no control characters.
pub fn parse_article_title(raw: &str) -> Result<String, Invalid> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(Invalid::new("title must not be empty"));
    }
    if s.chars().count() > MAX_ARTICLE_TITLE_CHARS || s.chars().any(char::is_control) {
        return Err(Invalid::new(format!(
            "title must be at most {MAX_ARTICLE_TITLE_CHARS} characters on one line"
        )));
    }
    Ok(s.to_owned())
}

/// Markdown as written, with `\n` line ends and without trailing whitespace or leading blank
/// lines; at most [`MAX_ARTICLE_BODY_BYTES`]; no control characters but tab and newline. May be
/// empty (a draft in progress).
pub fn parse_article_body(raw: &str) -> Result<String, Invalid> {
    let s = raw.replace("\r\n", "\n").replace('\r', "\n");
    let s = s.trim_end();
    // Blank lines before the text go; the first line's indentation is Markdown and stays.
    let start = match s.find(|c: char| !c.is_whitespace()) {
        Some(first) => s[..first].rfind('\n').map(|i| i + 1).unwrap_or(0),
        None => s.len(),
    };
    let s = &s[start..];
    if s.len() > MAX_ARTICLE_BODY_BYTES {
        return Err(Invalid::new(format!(
            "body must be at most {} KB",
            MAX_ARTICLE_BODY_BYTES / 1024
        )));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Invalid::new(
            "body must not contain control characters other than tab and newline",
        ));
    }
    Ok(s.to_owned())
}

/// Keywords: trimmed, empty ones dropped, de-duplicated ignoring case, at most
/// [`MAX_ARTICLE_KEYWORDS`] of at most [`MAX_KEYWORD_CHARS`] characters.
pub fn parse_keywords<S: AsRef<str>>(raw: &[S]) -> Result<Vec<String>, Invalid> {
    let mut out: Vec<String> = Vec::new();
    for k in raw {
        let k = k.as_ref().trim();
        if k.is_empty() {
            continue;
        }
        if k.chars().count() > MAX_KEYWORD_CHARS || k.chars().any(char::is_control) {
            return Err(Invalid::new(format!(
                "a keyword is at most {MAX_KEYWORD_CHARS} characters"
            )));
        }
        if !out.iter().any(|o| o.to_lowercase() == k.to_lowercase()) {
            out.push(k.to_owned());
        }
    }
    if out.len() > MAX_ARTICLE_KEYWORDS {
        return Err(Invalid::new(format!(
            "at most {MAX_ARTICLE_KEYWORDS} keywords"
        )));
    }
    Ok(out)
}

impl Article {
    /// A new draft at version 1.
    pub fn new(
        workspace_id: WorkspaceId,
        category_id: Option<CategoryId>,
        locale: KbLocale,
        content: ArticleContent,
        now: Millis,
    ) -> Self {
        Article {
            id: ArticleId::new(),
            workspace_id,
            category_id,
            locale,
            title: content.title,
            body_markdown: content.body_markdown,
            keywords: content.keywords,
            tags: content.tags,
            status: ArticleStatus::Draft,
            version: 1,
            published_version: None,
            published_at: None,
            views: 0,
            helpful_yes: 0,
            helpful_no: 0,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn content(&self) -> ArticleContent {
        ArticleContent {
            title: self.title.clone(),
            body_markdown: self.body_markdown.clone(),
            keywords: self.keywords.clone(),
            tags: self.tags.clone(),
        }
    }

    fn set_content(&mut self, c: ArticleContent) {
        self.title = c.title;
        self.body_markdown = c.body_markdown;
        self.keywords = c.keywords;
        self.tags = c.tags;
    }

    /// The current version as a history row.
    pub fn current_version(
        &self,
        edited_by: UserId,
        restored_from: Option<i64>,
        now: Millis,
    ) -> ArticleVersion {
        ArticleVersion {
            article_id: self.id,
            version: self.version,
            title: self.title.clone(),
            body_markdown: self.body_markdown.clone(),
            keywords: self.keywords.clone(),
            tags: self.tags.clone(),
            restored_from,
            edited_by,
            created_at: now,
        }
    }

    /// Applies a checked patch. A change of the content bumps `version` (the store writes
    /// [`Article::current_version`] in the same transaction); a patch that changes nothing
    /// leaves the article as it was.
    pub fn apply(&mut self, p: &ArticlePatch, now: Millis) -> ArticleChange {
        let mut content = self.content();
        if let Some(t) = &p.title {
            content.title = t.clone();
        }
        if let Some(b) = &p.body_markdown {
            content.body_markdown = b.clone();
        }
        if let Some(k) = &p.keywords {
            content.keywords = k.clone();
        }
        if let Some(t) = &p.tags {
            content.tags = t.clone();
        }
        let mut change = ArticleChange::Nothing;
        if p.locale.is_some_and(|l| l != self.locale)
            || p.category_id.is_some_and(|c| c != self.category_id)
        {
            self.locale = p.locale.unwrap_or(self.locale);
            self.category_id = p.category_id.unwrap_or(self.category_id);
            change = ArticleChange::Metadata;
        }
        if content != self.content() {
            self.set_content(content);
            self.version += 1;
            change = ArticleChange::NewVersion;
        }
        if change != ArticleChange::Nothing {
            self.updated_at = now;
        }
        change
    }

    /// Makes a copy of `old` the next version (restoring never rewrites history).
    pub fn restore(
        &mut self,
        old: &ArticleVersion,
        edited_by: UserId,
        now: Millis,
    ) -> ArticleVersion {
        self.set_content(ArticleContent {
            title: old.title.clone(),
            body_markdown: old.body_markdown.clone(),
            keywords: old.keywords.clone(),
            tags: old.tags.clone(),
        });
        self.version += 1;
        self.updated_at = now;
        self.current_version(edited_by, Some(old.version), now)
    }

    /// Publishes the current version; false when it already is the published one.
    pub fn publish(&mut self, now: Millis) -> bool {
        if self.published_version == Some(self.version) {
            return false;
        }
        self.published_version = Some(self.version);
        self.status = ArticleStatus::Published;
        self.published_at = Some(now);
        self.updated_at = now;
        true
    }

    /// Takes the article away from the public; false when it was a draft.
    pub fn unpublish(&mut self, now: Millis) -> bool {
        if self.published_version.is_none() {
            return false;
        }
        self.published_version = None;
        self.status = ArticleStatus::Draft;
        self.published_at = None;
        self.updated_at = now;
        true
    }
}

/// The words of a Markdown body for matching: links and images keep their text but lose their
/// targets, bare URLs go (their parts — `https`, `www`, path segments — are not what visitors
/// ask about). Everything else stays: the matcher ignores punctuation.
pub fn markdown_words(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    let mut rest = md;
    while let Some(c) = rest.chars().next() {
        // [text](target) and ![alt](target) → text / alt
        if c == '[' || rest.starts_with("![") {
            let open = if c == '[' { 1 } else { 2 };
            if let Some(close) = rest[open..].find(']').map(|i| i + open) {
                let text = &rest[open..close];
                if !text.contains('\n') && rest[close + 1..].starts_with('(') {
                    if let Some(end) = rest[close + 2..].find(')').map(|i| i + close + 2) {
                        if !rest[close + 2..end].contains(char::is_whitespace) {
                            out.push_str(text);
                            rest = &rest[end + 1..];
                            continue;
                        }
                    }
                }
            }
        }
        if rest.starts_with("http://") || rest.starts_with("https://") {
            let end = rest
                .find(|c: char| c.is_whitespace() || !c.is_ascii() || matches!(c, ')' | '>' | '"'))
                .unwrap_or(rest.len());
            rest = &rest[end..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Whether going from `before` to `after` changes what the public sees (stores then bump the
/// workspace's knowledge-base generation, which tells every node to rebuild its FAQ matcher).
pub fn changes_public_view(before: &Article, after: &Article) -> bool {
    before.published_version != after.published_version
        || (after.published_version.is_some()
            && (before.locale != after.locale || before.category_id != after.category_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> Article {
        Article::new(
            WorkspaceId::new(),
            None,
            KbLocale::ZhCn,
            ArticleContent::parse("发货时间说明", "付款后48小时内发货。", &["发货"], &[]).unwrap(),
            1,
        )
    }

    #[test]
    fn inputs_are_checked() {
        assert_eq!(parse_article_title("  运费说明 ").unwrap(), "运费说明");
        assert!(parse_article_title("  ").is_err());
        assert!(parse_article_title(&"长".repeat(201)).is_err());
        assert!(parse_article_title(&"长".repeat(200)).is_ok());
        assert!(parse_article_title("a\nb").is_err());

        assert_eq!(
            parse_article_body("\r\n\r\n  code\r\nline\r\n\r\n").unwrap(),
            "  code\nline"
        );
        assert_eq!(parse_article_body(" \n ").unwrap(), "");
        assert!(parse_article_body(&"x".repeat(MAX_ARTICLE_BODY_BYTES)).is_ok());
        assert!(parse_article_body(&"x".repeat(MAX_ARTICLE_BODY_BYTES + 1)).is_err());
        // 100 KB is bytes: 34 000 Chinese characters are 102 000 bytes.
        assert!(parse_article_body(&"字".repeat(34_200)).is_err());
        assert!(parse_article_body("a\u{0}b").is_err());
        assert!(parse_article_body("a\tb").is_ok());

        assert_eq!(
            parse_keywords(&[" 发货 ", "", "Refund", "refund"]).unwrap(),
            vec!["发货", "Refund"]
        );
        let many: Vec<String> = (0..=MAX_ARTICLE_KEYWORDS)
            .map(|i| format!("k{i}"))
            .collect();
        assert!(parse_keywords(&many).is_err());
        assert!(parse_keywords(&many[..MAX_ARTICLE_KEYWORDS]).is_ok());
        assert!(parse_keywords(&["x".repeat(51)]).is_err());

        assert_eq!(KbLocale::parse("zh-cn").unwrap(), KbLocale::ZhCn);
        assert_eq!(KbLocale::parse("en").unwrap(), KbLocale::En);
        assert!(KbLocale::parse("fr").is_err());
        assert_eq!(serde_json::to_string(&KbLocale::ZhCn).unwrap(), "\"zh-CN\"");
        assert!(Role::Supervisor.can_edit_kb() && !Role::Agent.can_edit_kb());
    }

    #[test]
    fn markdown_words_drop_link_targets_and_urls() {
        assert_eq!(
            markdown_words("见[退货流程](/help/returns)和![示意图](https://x.test/a.png)。"),
            "见退货流程和示意图。"
        );
        assert_eq!(
            markdown_words("Track at https://shop.test/track?id=1 or <https://a.test>."),
            "Track at  or <>."
        );
        assert_eq!(
            markdown_words("# 标题\n- [ ] 待办\n[不是链接] (x)"),
            "# 标题\n- [ ] 待办\n[不是链接] (x)"
        );
        assert_eq!(
            markdown_words("网址：https://a.test/x，谢谢"),
            "网址：，谢谢"
        );
    }

    #[test]
    fn content_changes_make_versions_metadata_does_not() {
        let mut a = draft();
        assert_eq!(a.apply(&ArticlePatch::default(), 2), ArticleChange::Nothing);
        let same = ArticlePatch {
            title: Some(a.title.clone()),
            ..Default::default()
        };
        assert_eq!(a.apply(&same, 2), ArticleChange::Nothing);
        assert_eq!((a.version, a.updated_at), (1, 1));
        let cat = ArticlePatch {
            category_id: Some(Some(CategoryId::new())),
            ..Default::default()
        };
        assert_eq!(a.apply(&cat, 3), ArticleChange::Metadata);
        assert_eq!((a.version, a.updated_at), (1, 3));
        let body = ArticlePatch {
            body_markdown: Some("现货48小时内发货。".into()),
            locale: Some(KbLocale::En),
            ..Default::default()
        };
        assert_eq!(a.apply(&body, 4), ArticleChange::NewVersion);
        assert_eq!((a.version, a.locale), (2, KbLocale::En));
        assert_eq!(a.current_version(UserId::new(), None, 4).version, 2);
    }

    #[test]
    fn publish_restore_and_public_view() {
        let mut a = draft();
        let v1 = a.current_version(UserId::new(), None, 1);
        let before = a.clone();
        assert!(a.publish(5));
        assert!(
            !a.publish(6),
            "publishing the published version again is a no-op"
        );
        assert_eq!(
            (a.status, a.published_version, a.published_at),
            (ArticleStatus::Published, Some(1), Some(5))
        );
        assert!(changes_public_view(&before, &a));
        let before = a.clone();
        a.apply(
            &ArticlePatch {
                title: Some("新标题".into()),
                ..Default::default()
            },
            7,
        );
        assert!(
            !changes_public_view(&before, &a),
            "a new draft is not public"
        );
        assert_eq!((a.version, a.published_version), (2, Some(1)));
        let v3 = a.restore(&v1, UserId::new(), 8);
        assert_eq!((v3.version, v3.restored_from), (3, Some(1)));
        assert_eq!((a.title.as_str(), a.version), ("发货时间说明", 3));
        let before = a.clone();
        a.apply(
            &ArticlePatch {
                locale: Some(KbLocale::En),
                ..Default::default()
            },
            9,
        );
        assert!(changes_public_view(&before, &a));
        assert!(a.unpublish(10));
        assert!(!a.unpublish(11));
        assert_eq!(
            (a.status, a.published_version),
            (ArticleStatus::Draft, None)
        );
    }
}
