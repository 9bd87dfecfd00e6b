use super::people::{parse_id, Items};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Auth, Json};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use parley_core::service::{BotInput, ChannelInput};
use parley_domain::{Channel, ChannelId, GroupId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A channel with the snippet to embed it.
#[derive(Serialize, ToSchema)]
pub struct ChannelView {
    #[serde(flatten)]
    pub channel: Channel,
    pub snippet: String,
}

/// The snippet points at the configured public URL or, failing that, at the address the admin
/// is using right now.
pub fn view(state: &AppState, headers: &HeaderMap, channel: Channel) -> ChannelView {
    let configured = &state.parley.config.public_url;
    let base = if configured.is_empty() {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost:8080");
        let proto = headers
            .get("x-forwarded-proto")
            .and_then(|h| h.to_str().ok())
            .filter(|p| state.config.trust_forwarded_for && (*p == "https" || *p == "http"))
            .unwrap_or("http");
        format!("{proto}://{host}")
    } else {
        configured.clone()
    };
    let snippet = channel.snippet(&base);
    ChannelView { channel, snippet }
}

#[derive(Deserialize, ToSchema)]
pub struct ChannelRequest {
    pub name: Option<String>,
    pub color: Option<String>,
    pub welcome_text: Option<String>,
    /// Shown by the widget as a message from the channel `greeting_delay_secs` after the chat
    /// opens (not stored); variables as in auto-replies. Empty: none.
    pub greeting_text: Option<String>,
    /// 0 (off) to 600.
    pub greeting_delay_secs: Option<u32>,
    pub allowed_origins: Option<Vec<String>>,
    /// The group conversations are routed to; `null` switches routing off (agents pick
    /// conversations from the unassigned list). Leave out to keep.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<String>)]
    pub group_id: Option<Option<String>>,
    /// The groups the visitor picks from before the chat starts, in order (at most 10);
    /// `[]` removes them. Leave out to keep.
    pub entry_points: Option<Vec<EntryPointRequest>>,
    /// The FAQ bot that answers first; `null` removes it. Leave out to keep.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<BotRequest>)]
    pub bot: Option<Option<BotRequest>>,
}

#[derive(Deserialize, ToSchema)]
pub struct BotRequest {
    pub enabled: bool,
    /// 1 to 40 characters; default 智能助手.
    pub name: Option<String>,
    /// Unanswered questions in a row before a person takes over, 1 to 5; default 2.
    pub miss_limit: Option<u8>,
    /// Extra phrases that hand over at once (besides 人工, human …).
    pub handoff_keywords: Option<Vec<String>>,
}

#[derive(Deserialize, ToSchema)]
pub struct EntryPointRequest {
    pub group_id: String,
    /// What the visitor reads (at most 40 characters); empty or left out: the group's name.
    #[serde(default)]
    pub label: Option<String>,
}

impl TryFrom<ChannelRequest> for ChannelInput {
    type Error = crate::error::ApiError;
    fn try_from(r: ChannelRequest) -> Result<Self, Self::Error> {
        let group_id = match r.group_id {
            Some(Some(g)) => Some(Some(parse_id(&g, "group", GroupId)?)),
            Some(None) => Some(None),
            None => None,
        };
        let entry_points = match r.entry_points {
            Some(list) => Some(
                list.into_iter()
                    .enumerate()
                    .map(|(i, e)| {
                        let group = GroupId::parse(e.group_id.trim()).ok_or_else(|| {
                            ApiError::Validation(format!("entry option {}: no such group", i + 1))
                        })?;
                        Ok((group, e.label.unwrap_or_default()))
                    })
                    .collect::<Result<Vec<_>, ApiError>>()?,
            ),
            None => None,
        };
        Ok(ChannelInput {
            name: r.name,
            color: r.color,
            welcome_text: r.welcome_text,
            greeting_text: r.greeting_text,
            greeting_delay_secs: r.greeting_delay_secs,
            allowed_origins: r.allowed_origins,
            group_id,
            entry_points,
            bot: r.bot.map(|b| {
                b.map(|b| BotInput {
                    enabled: b.enabled,
                    name: b.name,
                    miss_limit: b.miss_limit,
                    handoff_keywords: b.handoff_keywords,
                })
            }),
        })
    }
}

#[utoipa::path(get, path = "/api/v1/channels", tag = "channels", responses((status = 200, body = Items<ChannelView>)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(agent): Auth,
    headers: HeaderMap,
) -> ApiResult<axum::Json<Items<ChannelView>>> {
    let items = state
        .parley
        .list_channels(&agent)
        .await?
        .into_iter()
        .map(|c| view(&state, &headers, c))
        .collect();
    Ok(axum::Json(Items { items }))
}

#[utoipa::path(post, path = "/api/v1/channels", tag = "channels", request_body = ChannelRequest,
    responses((status = 201, body = ChannelView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(agent): Auth,
    headers: HeaderMap,
    Json(req): Json<ChannelRequest>,
) -> ApiResult<(StatusCode, axum::Json<ChannelView>)> {
    let c = state.parley.create_channel(&agent, req.try_into()?).await?;
    Ok((StatusCode::CREATED, axum::Json(view(&state, &headers, c))))
}

#[utoipa::path(get, path = "/api/v1/channels/{id}", tag = "channels", params(("id" = String, Path)),
    responses((status = 200, body = ChannelView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Auth(agent): Auth,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ChannelView>> {
    let id = parse_id(&id, "channel", ChannelId)?;
    Ok(axum::Json(view(
        &state,
        &headers,
        state.parley.get_channel(&agent, id).await?,
    )))
}

#[utoipa::path(patch, path = "/api/v1/channels/{id}", tag = "channels", params(("id" = String, Path)), request_body = ChannelRequest,
    responses((status = 200, body = ChannelView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(agent): Auth,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(req): Json<ChannelRequest>,
) -> ApiResult<axum::Json<ChannelView>> {
    let id = parse_id(&id, "channel", ChannelId)?;
    Ok(axum::Json(view(
        &state,
        &headers,
        state
            .parley
            .update_channel(&agent, id, req.try_into()?)
            .await?,
    )))
}
