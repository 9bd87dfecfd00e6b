use super::conversations::{ChangeResult, SentMessage};
use super::people::parse_id;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Auth, Json};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use parley_core::service_team::{Overview, TransferTo};
use parley_domain::{ConversationId, GroupId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct NoteRequest {
    pub client_id: String,
    pub body: String,
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/notes", tag = "conversations", params(("id" = String, Path)), request_body = NoteRequest,
    responses((status = 200, body = SentMessage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn note(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
    Json(req): Json<NoteRequest>,
) -> ApiResult<axum::Json<SentMessage>> {
    let id = parse_id(&id, "conversation", ConversationId)?;
    let a = state
        .parley
        .add_note(&agent, id, &req.client_id, &req.body)
        .await?;
    Ok(axum::Json(SentMessage {
        event: a.message,
        duplicate: a.duplicate,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct TransferRequest {
    pub to_user_id: Option<String>,
    pub to_group_id: Option<String>,
    /// For the colleague who takes over; never shown to the visitor.
    pub note: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/transfer", tag = "conversations", params(("id" = String, Path)), request_body = TransferRequest,
    responses((status = 200, body = ChangeResult), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn transfer(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
    Json(req): Json<TransferRequest>,
) -> ApiResult<axum::Json<ChangeResult>> {
    let id = parse_id(&id, "conversation", ConversationId)?;
    let to = match (req.to_user_id, req.to_group_id) {
        (Some(u), None) => TransferTo::Agent(parse_id(&u, "user", UserId)?),
        (None, Some(g)) => TransferTo::Group(parse_id(&g, "group", GroupId)?),
        _ => {
            return Err(ApiError::BadRequest(
                "give exactly one of to_user_id and to_group_id".into(),
            ))
        }
    };
    let event = state
        .parley
        .transfer(&agent, id, to, req.note.as_deref())
        .await?;
    Ok(axum::Json(ChangeResult { event }))
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/take_over", tag = "conversations", params(("id" = String, Path)),
    responses((status = 200, body = ChangeResult), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn take_over(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ChangeResult>> {
    let id = parse_id(&id, "conversation", ConversationId)?;
    Ok(axum::Json(ChangeResult {
        event: state.parley.take_over(&agent, id).await?,
    }))
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct Tags {
    pub tags: Vec<String>,
}

#[utoipa::path(put, path = "/api/v1/conversations/{id}/tags", tag = "conversations", params(("id" = String, Path)), request_body = Tags,
    responses((status = 200, body = Tags), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn tags(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
    Json(req): Json<Tags>,
) -> ApiResult<axum::Json<Tags>> {
    let id = parse_id(&id, "conversation", ConversationId)?;
    Ok(axum::Json(Tags {
        tags: state.parley.set_tags(&agent, id, &req.tags).await?,
    }))
}

#[utoipa::path(put, path = "/api/v1/visitors/{id}/tags", tag = "conversations", params(("id" = String, Path)), request_body = Tags,
    responses((status = 200, body = Tags), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn visitor_tags(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
    Json(req): Json<Tags>,
) -> ApiResult<axum::Json<Tags>> {
    let id = parse_id(&id, "visitor", parley_domain::VisitorId)?;
    Ok(axum::Json(Tags {
        tags: state.parley.set_visitor_tags(&agent, id, &req.tags).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct FollowUp {
    pub follow_up: bool,
}

#[utoipa::path(put, path = "/api/v1/conversations/{id}/follow_up", tag = "conversations", params(("id" = String, Path)), request_body = FollowUp,
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn follow_up(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
    Json(req): Json<FollowUp>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id, "conversation", ConversationId)?;
    state
        .parley
        .set_follow_up(&agent, id, req.follow_up)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/supervisor/overview", tag = "routing",
    responses((status = 200, body = Overview), (status = 403, body = ErrorBody)))]
pub async fn overview(
    State(state): State<AppState>,
    Auth(agent): Auth,
) -> ApiResult<axum::Json<Overview>> {
    Ok(axum::Json(state.parley.overview(&agent).await?))
}
