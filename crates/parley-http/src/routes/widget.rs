//! The widget's REST endpoints. They run cross-origin (the widget lives in the customer's page),
//! so every call checks the page's `Origin` against the channel's allowed origins.

use super::conversations::{event_page, EventPage, EventsQuery};
use super::people::Items;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{origin, ClientIp, Json};
use crate::state::AppState;
use axum::extract::{FromRequestParts, Multipart, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use parley_core::service::{Actor, VisitorActor};
use parley_domain::{AttachmentRef, ConversationStatus, VisitorContext};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A visitor authenticated by `authorization: Bearer vt_…` from an allowed origin.
pub struct VisitorAuth(pub VisitorActor);

impl FromRequestParts<AppState> for VisitorAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| ApiError::Unauthorized("visitor token missing".into()))?;
        let v = state
            .parley
            .authenticate_visitor(token.trim(), origin(&parts.headers))
            .await?;
        Ok(VisitorAuth(v))
    }
}

#[derive(Deserialize, ToSchema, Default)]
pub struct PageInfo {
    pub url: Option<String>,
    pub title: Option<String>,
    pub referrer: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct SessionRequest {
    pub widget_key: String,
    pub visitor_token: Option<String>,
    #[serde(default)]
    pub page: PageInfo,
    pub language: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct VisitorView {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ConversationState {
    pub id: String,
    pub status: ConversationStatus,
    pub last_seq: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ChannelLook {
    pub name: String,
    pub color: String,
    pub welcome_text: String,
    /// Shown as a message from the channel `greeting_delay_secs` after the chat opens, once
    /// per visitor session; variables are filled in by the widget. Empty: none.
    pub greeting_text: String,
    /// 0: no greeting.
    pub greeting_delay_secs: u32,
    /// The groups the visitor may pick from before their first message, in order; empty:
    /// no choice offered.
    pub entry_points: Vec<EntryOption>,
}

/// One button of the widget's entry menu: only what the visitor needs.
#[derive(Serialize, ToSchema)]
pub struct EntryOption {
    /// Send it back as `group_id` with the first message.
    pub group_id: String,
    pub label: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionResponse {
    /// Keep it: it is the visitor's identity across reloads.
    pub visitor_token: String,
    pub visitor: VisitorView,
    pub conversation: Option<ConversationState>,
    pub channel: ChannelLook,
    pub agents_online: bool,
    /// Whether the team is working now, so the widget can show the off-hours notice and the
    /// leave-a-message form before the visitor writes.
    pub business_hours: OpenStatus,
}

#[derive(Serialize, ToSchema)]
pub struct OpenStatus {
    pub open: bool,
    /// RFC 3339, while closed.
    pub next_open_at: Option<String>,
    /// The same in the visitor's language, in the team's time zone ("周一 09:00").
    pub next_open_text: Option<String>,
}

pub fn context(
    page: &PageInfo,
    language: Option<&str>,
    headers: &HeaderMap,
    ip: &str,
) -> VisitorContext {
    VisitorContext::clipped(
        page.url.as_deref(),
        page.title.as_deref(),
        page.referrer.as_deref(),
        headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
        language,
        Some(ip),
    )
}

#[utoipa::path(post, path = "/api/widget/v1/session", tag = "widget", request_body = SessionRequest,
    responses((status = 200, body = SessionResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn session(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Json(req): Json<SessionRequest>,
) -> ApiResult<axum::Json<SessionResponse>> {
    let ctx = context(&req.page, req.language.as_deref(), &headers, &ip);
    let s = state
        .parley
        .widget_session(
            &req.widget_key,
            req.visitor_token.as_deref(),
            ctx,
            origin(&headers),
        )
        .await?;
    // The conversation's group, or the one a new conversation would start in.
    let group = match &s.conversation {
        Some(c) => c.group_id,
        None => s.channel.group_id,
    };
    let hours = state
        .parley
        .open_now(
            s.channel.workspace_id,
            group,
            req.language.as_deref(),
            parley_domain::now_millis(),
        )
        .await?;
    Ok(axum::Json(SessionResponse {
        visitor_token: s.visitor_token,
        visitor: VisitorView {
            id: s.visitor.id.to_string(),
            name: s.visitor.name,
            email: s.visitor.email,
            phone: s.visitor.phone,
        },
        conversation: s.conversation.map(|c| ConversationState {
            id: c.id.to_string(),
            status: c.status,
            last_seq: c.last_seq,
        }),
        channel: ChannelLook {
            name: s.channel.name,
            color: s.channel.color,
            welcome_text: s.channel.welcome_text,
            greeting_text: s.channel.greeting_text,
            greeting_delay_secs: s.channel.greeting_delay_secs,
            entry_points: s
                .channel
                .entry_points
                .iter()
                .map(|e| EntryOption {
                    group_id: e.group_id.to_string(),
                    label: e.visitor_label().to_owned(),
                })
                .collect(),
        },
        agents_online: s.agents_online,
        business_hours: OpenStatus {
            open: hours.open,
            next_open_at: hours.next_open.map(parley_domain::rfc3339),
            next_open_text: hours.next_open_text,
        },
    }))
}

#[utoipa::path(get, path = "/api/widget/v1/events", tag = "widget", params(EventsQuery),
    responses((status = 200, body = EventPage), (status = 401, body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    VisitorAuth(v): VisitorAuth,
    Query(q): Query<EventsQuery>,
) -> ApiResult<axum::Json<EventPage>> {
    let ws = v.visitor.workspace_id;
    let Some(c) = state
        .parley
        .store
        .current_conversation(ws, v.visitor.id)
        .await
        .map_err(|e| ApiError::from(parley_core::ServiceError::from(e)))?
    else {
        return Ok(axum::Json(EventPage {
            items: vec![],
            has_more: false,
        }));
    };
    let mut page = event_page(&state, &Actor::Visitor(v), c.id, &q).await?;
    page.items = page.items.iter().map(|e| e.for_visitor()).collect();
    Ok(axum::Json(page))
}

#[utoipa::path(post, path = "/api/widget/v1/uploads", tag = "widget", request_body(content_type = "multipart/form-data", content = String),
    responses((status = 201, body = AttachmentRef), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    VisitorAuth(v): VisitorAuth,
    form: Multipart,
) -> ApiResult<(StatusCode, axum::Json<AttachmentRef>)> {
    super::files::receive(&state, &Actor::Visitor(v), form).await
}

#[derive(Deserialize, IntoParams)]
pub struct SuggestQuery {
    /// What the visitor has typed so far.
    pub q: String,
}

#[utoipa::path(get, path = "/api/widget/v1/kb/suggest", tag = "widget", params(SuggestQuery),
    responses((status = 200, body = Items<parley_core::service_kb::ArticleSuggestion>), (status = 401, body = ErrorBody)))]
pub async fn suggest(
    State(state): State<AppState>,
    VisitorAuth(v): VisitorAuth,
    Query(q): Query<SuggestQuery>,
) -> ApiResult<axum::Json<Items<parley_core::service_kb::ArticleSuggestion>>> {
    Ok(axum::Json(Items {
        items: state.parley.suggest_articles(&v, &q.q).await?,
    }))
}
