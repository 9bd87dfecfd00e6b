//! The public help centre (帮助中心): server-rendered pages of a workspace's published articles
//! under `/help/{widget_key}`, no sign-in. The pages carry no script at all (their CSP forbids
//! it); search is a GET form and "did this solve it?" a POST form.

use crate::error::ApiError;
use crate::extract::ClientIp;
use crate::markdown;
use crate::state::AppState;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use parley_core::service_kb::KbSearch;
use parley_domain::*;
use serde::Deserialize;

const CSP: &str = "default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; \
     form-action 'self'; base-uri 'none'";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lang {
    ZhCn,
    En,
}

/// The page language: `?lang=` when given (kept in links), else the browser's first of
/// Chinese or English, else Chinese.
#[derive(Clone, Copy)]
struct Ui {
    lang: Lang,
    explicit: bool,
}

impl Ui {
    fn new(query: Option<&str>, headers: &HeaderMap) -> Self {
        let pick = |tag: &str| {
            let tag = tag.trim().to_ascii_lowercase();
            if tag.starts_with("zh") {
                Some(Lang::ZhCn)
            } else if tag.starts_with("en") {
                Some(Lang::En)
            } else {
                None
            }
        };
        if let Some(lang) = query.and_then(pick) {
            return Ui {
                lang,
                explicit: true,
            };
        }
        let lang = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').find_map(|t| pick(t.split(';').next()?)))
            .unwrap_or(Lang::ZhCn);
        Ui {
            lang,
            explicit: false,
        }
    }

    fn code(self) -> &'static str {
        match self.lang {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    fn locale(self) -> KbLocale {
        match self.lang {
            Lang::ZhCn => KbLocale::ZhCn,
            Lang::En => KbLocale::En,
        }
    }

    /// `path` with `lang` kept when it was chosen explicitly.
    fn link(self, path: &str) -> String {
        if !self.explicit {
            return path.to_owned();
        }
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{path}{sep}lang={}", self.code())
    }

    fn t(self) -> &'static Texts {
        match self.lang {
            Lang::ZhCn => &ZH,
            Lang::En => &EN,
        }
    }
}

struct Texts {
    help_centre: &'static str,
    search: &'static str,
    search_placeholder: &'static str,
    no_articles: &'static str,
    other: &'static str,
    results_for: &'static str,
    no_results: &'static str,
    empty_query: &'static str,
    did_it_help: &'static str,
    yes: &'static str,
    no: &'static str,
    thanks: &'static str,
    all_articles: &'static str,
    not_found: &'static str,
    not_found_body: &'static str,
    error: &'static str,
    refused: &'static str,
    other_lang: &'static str,
    updated: &'static str,
}

static ZH: Texts = Texts {
    help_centre: "帮助中心",
    search: "搜索",
    search_placeholder: "输入您的问题，例如：怎么退货",
    no_articles: "还没有文章。",
    other: "其他",
    results_for: "搜索结果",
    no_results: "没有找到相关文章，换个说法试试。",
    empty_query: "请输入要搜索的问题。",
    did_it_help: "这篇文章解决您的问题了吗？",
    yes: "是",
    no: "否",
    thanks: "感谢您的反馈！",
    all_articles: "← 全部文章",
    not_found: "页面不存在",
    not_found_body: "您要找的页面不存在或已下线。",
    error: "出错了，请稍后再试。",
    refused: "无法处理该请求，请返回文章页面重试。",
    other_lang: "English",
    updated: "更新于",
};

static EN: Texts = Texts {
    help_centre: "Help centre",
    search: "Search",
    search_placeholder: "Ask a question, e.g. how do I return an item",
    no_articles: "No articles yet.",
    other: "Other",
    results_for: "Results",
    no_results: "No matching articles. Try other words.",
    empty_query: "Type a question to search.",
    did_it_help: "Did this solve your problem?",
    yes: "Yes",
    no: "No",
    thanks: "Thanks for your feedback!",
    all_articles: "← All articles",
    not_found: "Page not found",
    not_found_body: "The page you are looking for does not exist or was taken down.",
    error: "Something went wrong. Please try again later.",
    refused: "This request could not be handled. Go back to the article and try again.",
    other_lang: "中文",
    updated: "Updated",
};

#[derive(Deserialize)]
pub struct HelpQuery {
    lang: Option<String>,
    q: Option<String>,
    /// Set on the redirect after a vote: that page load is not another view.
    voted: Option<String>,
}

/// Only `#rrggbb` reaches the stylesheet.
fn accent(color: &str) -> &str {
    let ok = color.len() == 7
        && color.starts_with('#')
        && color[1..].chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        color
    } else {
        "#4f46e5"
    }
}

const STYLE: &str = r#"
*{box-sizing:border-box}
body{margin:0;font:16px/1.65 -apple-system,BlinkMacSystemFont,"Segoe UI","PingFang SC","Hiragino Sans GB","Microsoft YaHei",sans-serif;color:#1f2937;background:#f7f7fb}
a{color:var(--accent)}
.wrap{max-width:760px;margin:0 auto;padding:0 18px}
header{background:var(--accent);color:#fff;padding:18px 0 22px}
header .bar{display:flex;justify-content:space-between;align-items:center;gap:12px}
header a{color:#fff;text-decoration:none}
.brand{font-weight:650;font-size:18px}
.lang{font-size:14px;opacity:.9}
form.search{display:flex;gap:8px;margin-top:14px}
form.search input{flex:1;min-width:0;padding:11px 14px;border:0;border-radius:10px;font-size:16px}
form.search button{padding:0 18px;border:0;border-radius:10px;background:#111827;color:#fff;font-size:15px;cursor:pointer}
main.wrap{padding-top:22px;padding-bottom:60px}
section{background:#fff;border:1px solid #e5e7eb;border-radius:12px;padding:16px 20px;margin-bottom:16px}
h2{font-size:17px;margin:0 0 8px}
ul.list{list-style:none;margin:0;padding:0}
ul.list li{padding:8px 0;border-top:1px solid #f0f0f4}
ul.list li:first-child{border-top:0}
ul.list a{text-decoration:none;font-weight:500}
.muted{color:#6b7280;font-size:14px}
article{background:#fff;border:1px solid #e5e7eb;border-radius:12px;padding:20px 24px}
article h1.title{font-size:24px;line-height:1.35;margin:0 0 4px}
.body img{max-width:100%}
.body pre{background:#f3f4f6;padding:12px;border-radius:8px;overflow-x:auto}
.body code{background:#f3f4f6;padding:1px 4px;border-radius:4px}
.body table{border-collapse:collapse}.body td,.body th{border:1px solid #e5e7eb;padding:4px 8px}
.body blockquote{margin:0;padding-left:14px;border-left:3px solid #e5e7eb;color:#4b5563}
.vote{margin-top:24px;padding-top:16px;border-top:1px solid #e5e7eb}
.vote form{display:flex;flex-wrap:wrap;align-items:center;gap:10px}
.vote .q{flex:1 1 auto}
.vote button{padding:7px 22px;border:1px solid #d1d5db;border-radius:999px;background:#fff;font-size:15px;cursor:pointer}
.vote button:hover{border-color:var(--accent);color:var(--accent)}
.back{display:inline-block;margin-bottom:12px;text-decoration:none}
@media (max-width:520px){article{padding:16px}article h1.title{font-size:21px}}
"#;

struct Site<'a> {
    ui: Ui,
    key: &'a str,
    channel: &'a Channel,
}

impl Site<'_> {
    fn base(&self) -> String {
        format!("/help/{}", self.key)
    }

    fn page(&self, title: &str, q: &str, body: Markup) -> Markup {
        let t = self.ui.t();
        let other = Ui {
            lang: if self.ui.lang == Lang::ZhCn {
                Lang::En
            } else {
                Lang::ZhCn
            },
            explicit: true,
        };
        html! {
            (DOCTYPE)
            html lang=(self.ui.code()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · " (self.channel.name) }
                    style { (PreEscaped(STYLE)) }
                }
                body style={ "--accent:" (accent(&self.channel.color)) } {
                    header {
                        div.wrap {
                            div.bar {
                                a.brand href=(self.ui.link(&self.base())) { (self.channel.name) " · " (t.help_centre) }
                                a.lang href=(other.link(&self.base())) lang=(other.code()) { (t.other_lang) }
                            }
                            form.search action={ (self.base()) "/search" } method="get" role="search" {
                                input type="search" name="q" value=(q) placeholder=(t.search_placeholder)
                                    aria-label=(t.search) maxlength="500";
                                @if self.ui.explicit { input type="hidden" name="lang" value=(self.ui.code()); }
                                button type="submit" { (t.search) }
                            }
                        }
                    }
                    main.wrap { (body) }
                }
            }
        }
    }

    fn article_link(&self, a: &PublishedArticle) -> String {
        self.ui.link(&format!("{}/articles/{}", self.base(), a.id))
    }
}

fn html_response(status: StatusCode, markup: Markup) -> Response {
    let mut res = (status, markup.into_string()).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    // Views are counted per page load, and the vote form depends on a cookie.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// An error as a page: 404 for anything not found (unknown key, draft, other workspace).
fn error_page(ui: Ui, e: ApiError) -> Response {
    let t = ui.t();
    let status = e.status();
    let (title, text) = match status {
        StatusCode::NOT_FOUND => (t.not_found, t.not_found_body),
        s if s.is_client_error() => (t.refused, t.refused),
        _ => (t.error, t.error),
    };
    if let ApiError::Internal(err) = &e {
        tracing::error!(error = %format!("{err:#}"), "help centre");
    }
    html_response(
        status,
        html! {
            (DOCTYPE)
            html lang=(ui.code()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) }
                    style { (PreEscaped(STYLE)) }
                }
                body style="--accent:#4f46e5" {
                    main.wrap { section { h2 { (title) } p.muted { (text) } } }
                }
            }
        },
    )
}

type PageResult = Result<Response, (Ui, ApiError)>;

fn respond(r: PageResult) -> Response {
    r.unwrap_or_else(|(ui, e)| error_page(ui, e))
}

async fn channel(state: &AppState, ui: Ui, key: &str) -> Result<Channel, (Ui, ApiError)> {
    state
        .parley
        .help_channel(key)
        .await
        .map_err(|e| (ui, e.into()))
}

fn parse_article(ui: Ui, raw: &str) -> Result<ArticleId, (Ui, ApiError)> {
    ArticleId::parse(raw).ok_or((ui, ApiError::NotFound("article not found".into())))
}

/// One cookie lists the articles this browser voted on (a cookie per article would crowd out
/// others of the domain): simple ids separated by dots, the latest [`VOTED_KEPT`].
const VOTED_COOKIE: &str = "hc_voted";
const VOTED_KEPT: usize = 50;

fn voted_ids(jar: &CookieJar) -> Vec<String> {
    jar.get(VOTED_COOKIE)
        .map(|c| {
            c.value()
                .split('.')
                .filter(|s| s.len() == 32 && s.chars().all(|c| c.is_ascii_hexdigit()))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn simple_id(id: ArticleId) -> String {
    id.0.simple().to_string()
}

/// The front page: categories in order with their published articles, most helpful first.
pub async fn index(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<HelpQuery>,
    headers: HeaderMap,
) -> Response {
    let ui = Ui::new(q.lang.as_deref(), &headers);
    respond(
        async {
            let channel = channel(&state, ui, &key).await?;
            let index = state
                .parley
                .help_index(channel.workspace_id)
                .await
                .map_err(|e| (ui, e.into()))?;
            let site = Site {
                ui,
                key: &key,
                channel: &channel,
            };
            let t = ui.t();
            let in_category = |c: Option<CategoryId>| {
                index
                    .articles
                    .iter()
                    .filter(move |a| a.category_id == c)
                    .collect::<Vec<_>>()
            };
            let mut groups: Vec<(&str, Vec<&PublishedArticle>)> = index
                .categories
                .iter()
                .map(|c| (c.name.as_str(), in_category(Some(c.id))))
                .collect();
            groups.push((t.other, in_category(None)));
            groups.retain(|(_, list)| !list.is_empty());
            let body = html! {
                @if groups.is_empty() { section { p.muted { (t.no_articles) } } }
                @for (name, list) in &groups {
                    section data-category=(name) {
                        h2 { (name) }
                        ul.list {
                            @for a in list {
                                li { a href=(site.article_link(a)) lang=(a.locale.as_str()) { (a.title) } }
                            }
                        }
                    }
                }
            };
            Ok(html_response(
                StatusCode::OK,
                site.page(t.help_centre, "", body),
            ))
        }
        .await,
    )
}

/// One article: the published version rendered from Markdown; serving it counts a view.
pub async fn article(
    State(state): State<AppState>,
    Path((key, id)): Path<(String, String)>,
    Query(q): Query<HelpQuery>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Response {
    let ui = Ui::new(q.lang.as_deref(), &headers);
    respond(
        async {
            let channel = channel(&state, ui, &key).await?;
            let id = parse_article(ui, &id)?;
            let a = state
                .parley
                .help_article(channel.workspace_id, id, q.voted.is_none())
                .await
                .map_err(|e| (ui, e.into()))?;
            let voted = q.voted.is_some() || voted_ids(&jar).contains(&simple_id(id));
            let site = Site {
                ui,
                key: &key,
                channel: &channel,
            };
            let t = ui.t();
            let published = time::OffsetDateTime::from_unix_timestamp(a.published_at / 1000)
                .map(|d| format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day()))
                .unwrap_or_default();
            let body = html! {
                a.back href=(ui.link(&site.base())) { (t.all_articles) }
                article lang=(a.locale.as_str()) {
                    h1.title { (a.title) }
                    p.muted { (t.updated) " " (published) }
                    div.body { (PreEscaped(markdown::to_html(&a.body_markdown))) }
                    div.vote id="feedback" {
                        @if voted {
                            span data-testid="vote-thanks" { (t.thanks) }
                        } @else {
                            form method="post" action=(ui.link(&format!("{}/articles/{}/vote", site.base(), a.id))) {
                                span.q { (t.did_it_help) }
                                span {
                                    button type="submit" name="helpful" value="yes" { (t.yes) }
                                    " "
                                    button type="submit" name="helpful" value="no" { (t.no) }
                                }
                            }
                        }
                    }
                }
            };
            Ok(html_response(StatusCode::OK, site.page(&a.title, "", body)))
        }
        .await,
    )
}

/// Search over the published articles, Chinese or English.
pub async fn search(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<HelpQuery>,
    headers: HeaderMap,
) -> Response {
    let ui = Ui::new(q.lang.as_deref(), &headers);
    respond(
        async {
            let channel = channel(&state, ui, &key).await?;
            let site = Site {
                ui,
                key: &key,
                channel: &channel,
            };
            let t = ui.t();
            let question: String = q.q.as_deref().unwrap_or("").trim().chars().take(500).collect();
            let found: Option<KbSearch> = if question.is_empty() {
                None
            } else {
                Some(
                    state
                        .parley
                        .help_search(channel.workspace_id, &question, Some(ui.locale()))
                        .await
                        .map_err(|e| (ui, e.into()))?,
                )
            };
            let body = html! {
                section {
                    @match &found {
                        None => p.muted { (t.empty_query) },
                        Some(s) if s.items.is_empty() => {
                            h2 { (t.results_for) } p.muted data-testid="no-results" { (t.no_results) }
                        },
                        Some(s) => {
                            h2 { (t.results_for) }
                            ul.list {
                                @for hit in &s.items {
                                    li { a href=(site.article_link(&hit.article)) lang=(hit.article.locale.as_str()) { (hit.article.title) } }
                                }
                            }
                        },
                    }
                }
            };
            Ok(html_response(
                StatusCode::OK,
                site.page(t.search, &question, body),
            ))
        }
        .await,
    )
}

#[derive(Deserialize)]
pub struct VoteForm {
    helpful: String,
}

/// "Did this solve it?": counted once per browser (cookie) and, within a day, per IP address.
pub async fn vote(
    State(state): State<AppState>,
    Path((key, id)): Path<(String, String)>,
    Query(q): Query<HelpQuery>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    form: Result<Form<VoteForm>, FormRejection>,
) -> Response {
    let ui = Ui::new(q.lang.as_deref(), &headers);
    let result: Result<Response, (Ui, ApiError)> = async {
        let channel = channel(&state, ui, &key).await?;
        let id = parse_article(ui, &id)?;
        // A form posted from another site is not a visitor of this page.
        if !same_origin(&headers) {
            return Err((ui, ApiError::Forbidden("cross-site vote".into())));
        }
        let helpful = match form.as_ref().ok().map(|f| f.helpful.as_str()) {
            Some("yes") => true,
            Some("no") => false,
            _ => return Err((ui, ApiError::BadRequest("helpful must be yes or no".into()))),
        };
        let mut voted = voted_ids(&jar);
        if !voted.contains(&simple_id(id)) {
            state
                .parley
                .help_vote(channel.workspace_id, id, helpful, &ip)
                .await
                .map_err(|e| (ui, e.into()))?;
        }
        voted.retain(|v| *v != simple_id(id));
        voted.push(simple_id(id));
        let keep_from = voted.len().saturating_sub(VOTED_KEPT);
        let cookie = Cookie::build((VOTED_COOKIE, voted[keep_from..].join(".")))
            .path("/help/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .max_age(time::Duration::days(365))
            .build();
        let to = format!(
            "{}#feedback",
            ui.link(&format!("/help/{key}/articles/{id}?voted=1"))
        );
        Ok((jar.add(cookie), Redirect::to(&to)).into_response())
    }
    .await;
    respond(result)
}

/// No `Origin`, or one naming this host.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| !host.is_empty() && rest == host)
}
