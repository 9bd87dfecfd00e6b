//! The FAQ bot's unanswered questions, for admins and supervisors to link to an article or
//! dismiss. (The bot's settings live on the channel.)

use super::people::{parse_id, Items};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use parley_domain::{ArticleId, Unanswered, UnansweredId};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
pub struct UnansweredQuery {
    /// Also list the ones already linked or dismissed.
    #[serde(default)]
    pub all: bool,
}

#[utoipa::path(get, path = "/api/v1/kb/unanswered", tag = "kb", params(UnansweredQuery),
    responses((status = 200, body = Items<Unanswered>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Query(q): Query<UnansweredQuery>,
) -> ApiResult<axum::Json<Items<Unanswered>>> {
    Ok(axum::Json(Items {
        items: state.parley.list_unanswered(&agent, q.all).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct ResolveRequest {
    /// The article that answers it; `null` dismisses the question.
    pub article_id: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/kb/unanswered/{id}/resolve", tag = "kb", params(("id" = String, Path)),
    request_body = ResolveRequest,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn resolve(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
    Json(req): Json<ResolveRequest>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id, "question", UnansweredId)?;
    let article = req
        .article_id
        .map(|a| parse_id(&a, "article", ArticleId))
        .transpose()?;
    state.parley.resolve_unanswered(&agent, id, article).await?;
    Ok(StatusCode::NO_CONTENT)
}
