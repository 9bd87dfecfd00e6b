//! Quick replies (快捷回复): the team's and one's own, and suggestions for a conversation.

use super::people::{parse_id, Items};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use parley_core::service_quick_replies::{QuickReplyChange, QuickReplyInput, Suggestions};
use parley_domain::{ConversationId, QuickReply, QuickReplyId};
use serde::Deserialize;
use utoipa::ToSchema;

fn reply_id(raw: &str) -> ApiResult<QuickReplyId> {
    parse_id(raw, "quick reply", QuickReplyId)
}

#[derive(Deserialize, ToSchema)]
pub struct CreateQuickReply {
    /// `team` (admins and supervisors) or `personal` (only the creator sees it).
    pub scope: String,
    /// 1 to 30 characters without spaces; a leading `/` is dropped.
    pub shortcut: String,
    /// 1 to 100 characters.
    pub title: String,
    /// 1 to 2000 characters; `{visitor.name}`, `{agent.name}` and `{channel.name}` are filled
    /// in when inserted.
    pub text: String,
    /// At most 30 characters; empty = uncategorised.
    #[serde(default)]
    pub category: String,
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateQuickReply {
    pub shortcut: Option<String>,
    pub title: Option<String>,
    pub text: Option<String>,
    pub category: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/quick_replies", tag = "quick_replies",
    responses((status = 200, description = "The team's replies and the caller's personal ones, oldest first", body = Items<QuickReply>)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(agent): Auth,
) -> ApiResult<axum::Json<Items<QuickReply>>> {
    Ok(axum::Json(Items {
        items: state.parley.list_quick_replies(&agent).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/quick_replies", tag = "quick_replies", request_body = CreateQuickReply,
    responses((status = 201, body = QuickReply), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Json(req): Json<CreateQuickReply>,
) -> ApiResult<(StatusCode, axum::Json<QuickReply>)> {
    let input = QuickReplyInput {
        scope: req.scope,
        shortcut: req.shortcut,
        title: req.title,
        text: req.text,
        category: req.category,
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(state.parley.create_quick_reply(&agent, input).await?),
    ))
}

#[utoipa::path(patch, path = "/api/v1/quick_replies/{id}", tag = "quick_replies", params(("id" = String, Path)),
    request_body = UpdateQuickReply,
    responses((status = 200, body = QuickReply), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
    Json(req): Json<UpdateQuickReply>,
) -> ApiResult<axum::Json<QuickReply>> {
    let id = reply_id(&id)?;
    let change = QuickReplyChange {
        shortcut: req.shortcut,
        title: req.title,
        text: req.text,
        category: req.category,
    };
    Ok(axum::Json(
        state.parley.update_quick_reply(&agent, id, change).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/quick_replies/{id}", tag = "quick_replies", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = reply_id(&id)?;
    state.parley.delete_quick_reply(&agent, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/conversations/{id}/suggestions", tag = "quick_replies", params(("id" = String, Path)),
    responses((status = 200, description = "Articles and quick replies for the visitor's last message", body = Suggestions),
        (status = 404, body = ErrorBody)))]
pub async fn suggestions(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Suggestions>> {
    let id = parse_id(&id, "conversation", ConversationId)?;
    Ok(axum::Json(state.parley.suggestions(&agent, id).await?))
}
