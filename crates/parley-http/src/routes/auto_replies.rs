//! Keyword auto-replies (关键词自动回复): the workspace's ordered rules, read and replaced as a
//! whole (admins and supervisors).

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Auth, Json};
use crate::state::AppState;
use axum::extract::State;
use parley_core::service_autoreply::{AutoReplyInput, WindowInput};
use parley_domain::{format_clock, AutoReply, AutoReplyId, ChannelId, MatchMode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A daily window; `start` after `end` crosses midnight.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct WindowBody {
    /// `HH:MM`, inclusive.
    pub start: String,
    /// `HH:MM`, exclusive.
    pub end: String,
    /// IANA name such as `Asia/Shanghai`; empty or `UTC` for UTC.
    #[serde(default)]
    pub time_zone: String,
}

#[derive(Deserialize, ToSchema)]
pub struct AutoReplyRequest {
    /// An existing rule's id keeps its hit count; omit for a new rule.
    pub id: Option<String>,
    /// 1 to 60 characters.
    pub name: String,
    /// Up to 30 keywords (100 characters each), or patterns (200 characters) in regex mode.
    pub keywords: Vec<String>,
    /// `exact` (the whole message), `contains` or `regex`.
    pub mode: String,
    /// Only messages from these channels; empty or omitted: every channel.
    #[serde(default)]
    pub channel_ids: Vec<String>,
    /// Only in this daily window; omitted: at any time.
    pub window: Option<WindowBody>,
    /// Only for visitors with one of these tags (set by agents); empty or omitted: everyone.
    #[serde(default)]
    pub visitor_tags: Vec<String>,
    /// 1 to 2000 characters; `{visitor.name}`, `{page.title}`, `{page.url}`, `{agent.name}`,
    /// `{channel.name}` are filled in, `{visitor.name|朋友}` gives a fallback.
    pub reply: String,
    /// Up to 5 quick-reply labels (40 characters); a click sends the label.
    #[serde(default)]
    pub buttons: Vec<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, ToSchema)]
pub struct AutoRepliesRequest {
    /// In priority order: the first matching rule answers.
    pub rules: Vec<AutoReplyRequest>,
}

#[derive(Serialize, ToSchema)]
pub struct AutoReplyView {
    pub id: AutoReplyId,
    /// 0 is tried first.
    pub position: i32,
    pub name: String,
    pub keywords: Vec<String>,
    pub mode: MatchMode,
    pub channel_ids: Vec<ChannelId>,
    pub window: Option<WindowBody>,
    pub visitor_tags: Vec<String>,
    pub reply: String,
    pub buttons: Vec<String>,
    pub enabled: bool,
    /// Messages it has answered.
    pub hits: i64,
    pub updated_at: String,
}

impl From<AutoReply> for AutoReplyView {
    fn from(r: AutoReply) -> Self {
        AutoReplyView {
            id: r.id,
            position: r.position,
            name: r.name,
            keywords: r.keywords,
            mode: r.mode,
            channel_ids: r.channel_ids,
            window: r.window.map(|w| WindowBody {
                start: format_clock(w.start),
                end: format_clock(w.end),
                time_zone: w.time_zone,
            }),
            visitor_tags: r.visitor_tags,
            reply: r.reply,
            buttons: r.buttons,
            enabled: r.enabled,
            hits: r.hits,
            updated_at: parley_domain::rfc3339(r.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AutoReplies {
    pub rules: Vec<AutoReplyView>,
}

fn view(rules: Vec<AutoReply>) -> axum::Json<AutoReplies> {
    axum::Json(AutoReplies {
        rules: rules.into_iter().map(Into::into).collect(),
    })
}

#[utoipa::path(get, path = "/api/v1/auto_replies", tag = "auto_replies",
    responses((status = 200, description = "The rules in priority order, with hit counts", body = AutoReplies),
        (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(agent): Auth,
) -> ApiResult<axum::Json<AutoReplies>> {
    Ok(view(state.parley.list_auto_replies(&agent).await?))
}

#[utoipa::path(put, path = "/api/v1/auto_replies", tag = "auto_replies", request_body = AutoRepliesRequest,
    responses((status = 200, body = AutoReplies), (status = 403, body = ErrorBody),
        (status = 422, description = "Nothing saved; the message starts with the field, e.g. `rules[2].keywords (“订单”): invalid pattern …`", body = ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Json(req): Json<AutoRepliesRequest>,
) -> ApiResult<axum::Json<AutoReplies>> {
    let inputs = req
        .rules
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let channel_ids = r
                .channel_ids
                .iter()
                .map(|c| {
                    ChannelId::parse(c).ok_or_else(|| {
                        ApiError::Validation(format!(
                            "rules[{i}].channel_ids: '{c}' is not a channel id"
                        ))
                    })
                })
                .collect::<ApiResult<Vec<_>>>()?;
            Ok(AutoReplyInput {
                id: r.id.as_deref().and_then(AutoReplyId::parse),
                name: r.name,
                keywords: r.keywords,
                mode: r.mode,
                channel_ids,
                window: r.window.map(|w| WindowInput {
                    start: w.start,
                    end: w.end,
                    time_zone: w.time_zone,
                }),
                visitor_tags: r.visitor_tags,
                reply: r.reply,
                buttons: r.buttons,
                enabled: r.enabled,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(view(
        state.parley.replace_auto_replies(&agent, inputs).await?,
    ))
}
