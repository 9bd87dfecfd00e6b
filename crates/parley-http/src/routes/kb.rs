//! The knowledge base (知识库) for the workspace: categories, articles with their versions,
//! publishing, and a search over the published articles with the FAQ matcher.

use super::people::{parse_id, Items};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Auth, Json};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use parley_core::ports::ArticleQuery;
use parley_core::service_kb::{ArticleChangeInput, ArticleInput, CategoryInput, KbSearch};
use parley_domain::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Articles are up to 100 KB of Markdown, which JSON escaping can double: the KB routes take
/// bodies up to this size (the rest of the API: 64 KiB).
pub const KB_JSON_LIMIT: usize = 512 * 1024;

fn category_id(raw: &str) -> ApiResult<CategoryId> {
    parse_id(raw, "category", CategoryId)
}

fn article_id(raw: &str) -> ApiResult<ArticleId> {
    parse_id(raw, "article", ArticleId)
}

// ----- categories ---------------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
pub struct CategoryRequest {
    /// 1 to 100 characters, unique in the workspace; required when creating.
    pub name: Option<String>,
    /// 0 to 10000, smaller first; default when creating: after the last one.
    pub position: Option<i32>,
}

impl From<CategoryRequest> for CategoryInput {
    fn from(r: CategoryRequest) -> Self {
        CategoryInput {
            name: r.name,
            position: r.position,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/kb/categories", tag = "kb", responses((status = 200, body = Items<Category>)))]
pub async fn list_categories(
    State(state): State<AppState>,
    Auth(agent): Auth,
) -> ApiResult<axum::Json<Items<Category>>> {
    Ok(axum::Json(Items {
        items: state.parley.list_kb_categories(&agent).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/kb/categories", tag = "kb", request_body = CategoryRequest,
    responses((status = 201, body = Category), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_category(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Json(req): Json<CategoryRequest>,
) -> ApiResult<(StatusCode, axum::Json<Category>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(state.parley.create_kb_category(&agent, req.into()).await?),
    ))
}

#[utoipa::path(patch, path = "/api/v1/kb/categories/{id}", tag = "kb", params(("id" = String, Path)), request_body = CategoryRequest,
    responses((status = 200, body = Category), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_category(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
    Json(req): Json<CategoryRequest>,
) -> ApiResult<axum::Json<Category>> {
    let id = category_id(&id)?;
    Ok(axum::Json(
        state
            .parley
            .update_kb_category(&agent, id, req.into())
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/kb/categories/{id}", tag = "kb", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_category(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = category_id(&id)?;
    state.parley.delete_kb_category(&agent, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- articles -----------------------------------------------------------------------------

#[derive(Deserialize, IntoParams)]
pub struct ArticleListQuery {
    /// draft | published (default: both)
    pub status: Option<String>,
    pub category_id: Option<String>,
    /// zh-CN | en
    pub locale: Option<String>,
    /// 1 to 100, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub before: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ArticlePage {
    /// Most recently changed first.
    pub items: Vec<Article>,
    pub next_cursor: Option<String>,
}

fn cursor_of(a: &Article) -> String {
    format!("{}_{}", a.updated_at, a.id)
}

fn parse_cursor(s: &str) -> ApiResult<(Millis, ArticleId)> {
    let bad = || ApiError::BadRequest("invalid cursor".into());
    let (t, id) = s.split_once('_').ok_or_else(bad)?;
    Ok((
        t.parse().map_err(|_| bad())?,
        ArticleId::parse(id).ok_or_else(bad)?,
    ))
}

fn query_locale(raw: Option<&str>) -> ApiResult<Option<KbLocale>> {
    raw.map(|l| KbLocale::parse(l).map_err(|e| ApiError::BadRequest(e.0)))
        .transpose()
}

#[utoipa::path(get, path = "/api/v1/kb/articles", tag = "kb", params(ArticleListQuery),
    responses((status = 200, body = ArticlePage), (status = 400, body = ErrorBody)))]
pub async fn list_articles(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Query(q): Query<ArticleListQuery>,
) -> ApiResult<axum::Json<ArticlePage>> {
    let status = q
        .status
        .as_deref()
        .map(|s| {
            ArticleStatus::parse(s)
                .ok_or_else(|| ApiError::BadRequest("status must be draft or published".into()))
        })
        .transpose()?;
    let category = q
        .category_id
        .as_deref()
        .map(|c| {
            CategoryId::parse(c)
                .ok_or_else(|| ApiError::BadRequest("category_id must be a UUID".into()))
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(50).clamp(1, 100);
    let query = ArticleQuery {
        status,
        category,
        locale: query_locale(q.locale.as_deref())?,
        before: q.before.as_deref().map(parse_cursor).transpose()?,
        limit,
    };
    let items = state.parley.list_kb_articles(&agent, &query).await?;
    let next_cursor = (items.len() as i64 == limit)
        .then(|| items.last().map(cursor_of))
        .flatten();
    Ok(axum::Json(ArticlePage { items, next_cursor }))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateArticle {
    /// 1 to 200 characters.
    pub title: String,
    /// Markdown, at most 100 KB.
    #[serde(default)]
    pub body_markdown: String,
    /// At most 30, each at most 50 characters.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// At most 20, each at most 30 characters.
    #[serde(default)]
    pub tags: Vec<String>,
    /// zh-CN | en
    pub locale: String,
    pub category_id: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/kb/articles", tag = "kb", request_body = CreateArticle,
    responses((status = 201, body = Article), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_article(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Json(req): Json<CreateArticle>,
) -> ApiResult<(StatusCode, axum::Json<Article>)> {
    let input = ArticleInput {
        title: req.title,
        body_markdown: req.body_markdown,
        keywords: req.keywords,
        tags: req.tags,
        locale: req.locale,
        category_id: req.category_id.as_deref().map(category_id).transpose()?,
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(state.parley.create_kb_article(&agent, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/kb/articles/{id}", tag = "kb", params(("id" = String, Path)),
    responses((status = 200, body = Article), (status = 404, body = ErrorBody)))]
pub async fn get_article(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Article>> {
    let id = article_id(&id)?;
    Ok(axum::Json(state.parley.get_kb_article(&agent, id).await?))
}

/// Fields left out are kept. A changed title, body, keywords or tags is a new version.
#[derive(Deserialize, ToSchema)]
pub struct UpdateArticle {
    pub title: Option<String>,
    pub body_markdown: Option<String>,
    pub keywords: Option<Vec<String>>,
    pub tags: Option<Vec<String>>,
    pub locale: Option<String>,
    /// `null` takes the article out of its category.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<String>)]
    pub category_id: Option<Option<String>>,
}

#[utoipa::path(patch, path = "/api/v1/kb/articles/{id}", tag = "kb", params(("id" = String, Path)), request_body = UpdateArticle,
    responses((status = 200, body = Article), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_article(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
    Json(req): Json<UpdateArticle>,
) -> ApiResult<axum::Json<Article>> {
    let id = article_id(&id)?;
    let input = ArticleChangeInput {
        title: req.title,
        body_markdown: req.body_markdown,
        keywords: req.keywords,
        tags: req.tags,
        locale: req.locale,
        category_id: req
            .category_id
            .map(|c| c.as_deref().map(category_id).transpose())
            .transpose()?,
    };
    Ok(axum::Json(
        state.parley.update_kb_article(&agent, id, input).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/kb/articles/{id}", tag = "kb", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_article(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = article_id(&id)?;
    state.parley.delete_kb_article(&agent, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/kb/articles/{id}/publish", tag = "kb", params(("id" = String, Path)),
    responses((status = 200, body = Article), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Article>> {
    let id = article_id(&id)?;
    Ok(axum::Json(
        state.parley.publish_kb_article(&agent, id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/kb/articles/{id}/unpublish", tag = "kb", params(("id" = String, Path)),
    responses((status = 200, body = Article), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unpublish(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Article>> {
    let id = article_id(&id)?;
    Ok(axum::Json(
        state.parley.unpublish_kb_article(&agent, id).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct VersionsQuery {
    /// 1 to 100, default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (versions below this number).
    pub before: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct VersionPage {
    /// Newest first.
    pub items: Vec<ArticleVersion>,
    pub next_cursor: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/kb/articles/{id}/versions", tag = "kb", params(("id" = String, Path), VersionsQuery),
    responses((status = 200, body = VersionPage), (status = 404, body = ErrorBody)))]
pub async fn versions(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
    Query(q): Query<VersionsQuery>,
) -> ApiResult<axum::Json<VersionPage>> {
    let id = article_id(&id)?;
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    let items = state
        .parley
        .kb_article_versions(&agent, id, q.before, limit)
        .await?;
    let next_cursor = (items.len() as i64 == limit)
        .then(|| items.last().map(|v| v.version))
        .flatten()
        .filter(|v| *v > 1);
    Ok(axum::Json(VersionPage { items, next_cursor }))
}

#[utoipa::path(post, path = "/api/v1/kb/articles/{id}/versions/{version}/restore", tag = "kb",
    params(("id" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = Article), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn restore(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path((id, version)): Path<(String, String)>,
) -> ApiResult<axum::Json<Article>> {
    let id = article_id(&id)?;
    let version: i64 = version
        .parse()
        .map_err(|_| ApiError::NotFound("version not found".into()))?;
    Ok(axum::Json(
        state.parley.restore_kb_version(&agent, id, version).await?,
    ))
}

// ----- search -------------------------------------------------------------------------------

#[derive(Deserialize, IntoParams)]
pub struct SearchQuery {
    /// The question, in Chinese or English (at most 500 characters).
    pub q: Option<String>,
    /// zh-CN | en: a hint for questions whose script does not tell (the script wins).
    pub locale: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/kb/search", tag = "kb", params(SearchQuery),
    responses((status = 200, body = KbSearch), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Query(q): Query<SearchQuery>,
) -> ApiResult<axum::Json<KbSearch>> {
    let locale = query_locale(q.locale.as_deref())?;
    Ok(axum::Json(
        state
            .parley
            .kb_search(&agent, q.q.as_deref().unwrap_or(""), locale)
            .await?,
    ))
}

// ----- preview ------------------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
pub struct PreviewRequest {
    /// Markdown, at most 100 KB.
    pub body_markdown: String,
}

#[derive(Serialize, ToSchema)]
pub struct PreviewResponse {
    /// The HTML the help centre shows for this Markdown (raw HTML in it is escaped).
    pub html: String,
}

#[utoipa::path(post, path = "/api/v1/kb/preview", tag = "kb", request_body = PreviewRequest,
    responses((status = 200, body = PreviewResponse), (status = 422, body = ErrorBody)))]
pub async fn preview(
    Auth(_agent): Auth,
    Json(req): Json<PreviewRequest>,
) -> ApiResult<axum::Json<PreviewResponse>> {
    let body = parse_article_body(&req.body_markdown).map_err(|e| ApiError::Validation(e.0))?;
    Ok(axum::Json(PreviewResponse {
        html: crate::markdown::to_html(&body),
    }))
}

// ----- synonyms -----------------------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/kb/synonyms", tag = "kb",
    responses((status = 200, body = parley_core::service_kb::KbSynonyms)))]
pub async fn synonyms(
    State(state): State<AppState>,
    Auth(agent): Auth,
) -> ApiResult<axum::Json<parley_core::service_kb::KbSynonyms>> {
    Ok(axum::Json(state.parley.kb_synonyms(&agent).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct SynonymsRequest {
    /// One group per line, terms separated by commas (, ， 、 |); `#` starts a comment.
    pub text: String,
}

#[utoipa::path(put, path = "/api/v1/kb/synonyms", tag = "kb", request_body = SynonymsRequest,
    responses((status = 200, body = parley_core::service_kb::KbSynonyms), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_synonyms(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Json(req): Json<SynonymsRequest>,
) -> ApiResult<axum::Json<parley_core::service_kb::KbSynonyms>> {
    Ok(axum::Json(
        state.parley.set_kb_synonyms(&agent, &req.text).await?,
    ))
}
