use super::people::parse_id;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Auth, Json};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use parley_core::ports::View;
use parley_core::service::Actor;
use parley_domain::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// mine | unassigned | all (default all)
    pub view: Option<String>,
    /// open | resolved (default open)
    pub status: Option<String>,
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub before: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ConversationPage {
    pub items: Vec<ConversationSummary>,
    pub next_cursor: Option<String>,
}

fn cursor_of(c: &ConversationSummary) -> String {
    format!("{}_{}", c.updated_at, c.id)
}

fn parse_cursor(s: &str) -> ApiResult<(Millis, ConversationId)> {
    let bad = || ApiError::BadRequest("invalid cursor".into());
    let (t, id) = s.split_once('_').ok_or_else(bad)?;
    Ok((
        t.parse().map_err(|_| bad())?,
        ConversationId::parse(id).ok_or_else(bad)?,
    ))
}

#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations", params(ListQuery),
    responses((status = 200, body = ConversationPage), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<ConversationPage>> {
    let view = match q.view.as_deref().unwrap_or("all") {
        "mine" => View::Mine,
        "unassigned" => View::Unassigned,
        "queued" => View::Queued,
        "all" => View::All,
        other => {
            return Err(ApiError::BadRequest(format!(
                "unknown view '{other}' (mine, unassigned, queued, all)"
            )))
        }
    };
    let status = ConversationStatus::parse(q.status.as_deref().unwrap_or("open"))
        .ok_or_else(|| ApiError::BadRequest("status must be open or resolved".into()))?;
    let before = q.before.as_deref().map(parse_cursor).transpose()?;
    let limit = q.limit.unwrap_or(50).clamp(1, 100);
    let items = state
        .parley
        .list_conversations(&agent, view, status, before, limit)
        .await?;
    let next_cursor = (items.len() as i64 == limit)
        .then(|| items.last().map(cursor_of))
        .flatten();
    Ok(axum::Json(ConversationPage { items, next_cursor }))
}

#[derive(Serialize, ToSchema)]
pub struct ConversationDetail {
    pub conversation: ConversationSummary,
    pub visitor: Visitor,
}

#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "conversations", params(("id" = String, Path)),
    responses((status = 200, body = ConversationDetail), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ConversationDetail>> {
    let id = parse_id(&id, "conversation", ConversationId)?;
    let conversation = state.parley.conversation_summary(&agent, id).await?;
    let visitor = state
        .parley
        .conversation_visitor(&agent, &conversation)
        .await?;
    Ok(axum::Json(ConversationDetail {
        conversation,
        visitor,
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct EventsQuery {
    pub after_seq: Option<i64>,
    pub before_seq: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct EventPage {
    pub items: Vec<Event>,
    pub has_more: bool,
}

/// Events after or before a sequence number, ascending; shared by the workspace and the widget.
pub async fn event_page(
    state: &AppState,
    actor: &Actor,
    id: ConversationId,
    q: &EventsQuery,
) -> ApiResult<EventPage> {
    match (q.after_seq, q.before_seq) {
        (Some(_), Some(_)) => Err(ApiError::BadRequest(
            "give after_seq or before_seq, not both".into(),
        )),
        (_, Some(before)) => {
            let limit = q.limit.unwrap_or(50).clamp(1, 200);
            let items = state
                .parley
                .events_before(actor, id, before, limit + 1)
                .await?;
            let has_more = items.len() as i64 > limit;
            let skip = items.len().saturating_sub(limit as usize);
            Ok(EventPage {
                items: items.into_iter().skip(skip).collect(),
                has_more,
            })
        }
        (after, None) => {
            let limit = q.limit.unwrap_or(200).clamp(1, 1000);
            let mut items = state
                .parley
                .events_after(actor, id, after.unwrap_or(0), limit + 1)
                .await?;
            let has_more = items.len() as i64 > limit;
            items.truncate(limit as usize);
            Ok(EventPage { items, has_more })
        }
    }
}

#[utoipa::path(get, path = "/api/v1/conversations/{id}/events", tag = "conversations", params(("id" = String, Path), EventsQuery),
    responses((status = 200, body = EventPage), (status = 404, body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
    Query(q): Query<EventsQuery>,
) -> ApiResult<axum::Json<EventPage>> {
    let id = parse_id(&id, "conversation", ConversationId)?;
    Ok(axum::Json(
        event_page(&state, &Actor::Agent(agent), id, &q).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct SendMessage {
    /// The client's unique id for this message; re-sending it stores nothing new.
    pub client_id: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub attachment_ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SentMessage {
    pub event: Event,
    pub duplicate: bool,
}

pub fn parse_attachment_ids(ids: &[String]) -> ApiResult<Vec<AttachmentId>> {
    ids.iter()
        .map(|s| {
            AttachmentId::parse(s).ok_or_else(|| ApiError::NotFound("attachment not found".into()))
        })
        .collect()
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "conversations", params(("id" = String, Path)), request_body = SendMessage,
    responses((status = 200, body = SentMessage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
    Json(req): Json<SendMessage>,
) -> ApiResult<axum::Json<SentMessage>> {
    let id = parse_id(&id, "conversation", ConversationId)?;
    let ids = parse_attachment_ids(&req.attachment_ids)?;
    let a = state
        .parley
        .send(
            &Actor::Agent(agent),
            Some(id),
            &req.client_id,
            &req.body,
            &ids,
        )
        .await?;
    crate::ws::count_sent(&state, &a);
    Ok(axum::Json(SentMessage {
        event: a.message,
        duplicate: a.duplicate,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct ReadRequest {
    pub seq: i64,
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/read", tag = "conversations", params(("id" = String, Path)), request_body = ReadRequest,
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
    Json(req): Json<ReadRequest>,
) -> ApiResult<axum::http::StatusCode> {
    let id = parse_id(&id, "conversation", ConversationId)?;
    state.parley.mark_read(&agent, id, req.seq).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct ChangeResult {
    /// The event recorded, or null when the conversation was already in that state.
    pub event: Option<Event>,
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/resolve", tag = "conversations", params(("id" = String, Path)),
    responses((status = 200, body = ChangeResult), (status = 404, body = ErrorBody)))]
pub async fn resolve(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ChangeResult>> {
    let id = parse_id(&id, "conversation", ConversationId)?;
    let event = state
        .parley
        .set_conversation_status(&agent, id, ConversationStatus::Resolved)
        .await?;
    Ok(axum::Json(ChangeResult { event }))
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/reopen", tag = "conversations", params(("id" = String, Path)),
    responses((status = 200, body = ChangeResult), (status = 404, body = ErrorBody)))]
pub async fn reopen(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ChangeResult>> {
    let id = parse_id(&id, "conversation", ConversationId)?;
    let event = state
        .parley
        .set_conversation_status(&agent, id, ConversationStatus::Open)
        .await?;
    Ok(axum::Json(ChangeResult { event }))
}

#[derive(Deserialize, ToSchema)]
pub struct AssignRequest {
    /// null unassigns.
    pub assignee_id: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/assign", tag = "conversations", params(("id" = String, Path)), request_body = AssignRequest,
    responses((status = 200, body = ChangeResult), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn assign(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
    Json(req): Json<AssignRequest>,
) -> ApiResult<axum::Json<ChangeResult>> {
    let id = parse_id(&id, "conversation", ConversationId)?;
    let assignee = req
        .assignee_id
        .as_deref()
        .map(|s| parse_id(s, "user", UserId))
        .transpose()?;
    let event = state.parley.assign(&agent, id, assignee).await?;
    Ok(axum::Json(ChangeResult { event }))
}
