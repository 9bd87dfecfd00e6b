//! Business hours (营业时间): the workspace's weekly hours, holidays and off-hours reply, and
//! the widget's leave-a-message form (留言).

use super::widget::VisitorAuth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, ClientIp, Json};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use parley_core::service_hours::LeaveMessageInput;
use parley_domain::{
    now_millis, rfc3339, CalendarInput, Event, SpecialDay, WeekDays, WorkspaceHours,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct HoursRequest {
    /// Off: always open, no holidays.
    pub enabled: bool,
    /// IANA time zone, e.g. `Asia/Shanghai`.
    pub time_zone: String,
    /// Per weekday up to four `[start, end)` ranges in minutes after midnight.
    #[serde(default)]
    pub days: WeekDays,
    /// Holidays (no ranges: closed all day) and days with their own hours (e.g. 调休).
    #[serde(default)]
    pub special_days: Vec<SpecialDay>,
    /// Sent to visitors who write while closed; `{next_open}` becomes when the team is back.
    /// Empty or absent: the built-in text in the visitor's language.
    pub off_hours_text: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct HoursView {
    pub enabled: bool,
    pub time_zone: String,
    pub days: WeekDays,
    pub special_days: Vec<SpecialDay>,
    pub off_hours_text: Option<String>,
    /// Whether the workspace calendar is open right now (groups with their own hours may differ).
    pub open_now: bool,
    /// RFC 3339; the next opening while closed.
    pub next_open_at: Option<String>,
}

async fn view(state: &AppState, ws: parley_domain::WorkspaceId, h: WorkspaceHours) -> HoursView {
    let now = now_millis();
    let status = state.parley.open_now(ws, None, Some("zh"), now).await.ok();
    HoursView {
        enabled: h.enabled,
        time_zone: h.calendar.time_zone,
        days: h.calendar.days,
        special_days: h.calendar.special_days,
        off_hours_text: h.off_hours_text,
        open_now: status.as_ref().is_none_or(|s| s.open),
        next_open_at: status.and_then(|s| s.next_open).map(rfc3339),
    }
}

#[utoipa::path(get, path = "/api/v1/workspace/hours", tag = "hours",
    responses((status = 200, body = HoursView)))]
pub async fn get(
    State(state): State<AppState>,
    Auth(agent): Auth,
) -> ApiResult<axum::Json<HoursView>> {
    let h = state.parley.workspace_hours(&agent).await?;
    Ok(axum::Json(view(&state, agent.user.workspace_id, h).await))
}

#[utoipa::path(put, path = "/api/v1/workspace/hours", tag = "hours", request_body = HoursRequest,
    responses((status = 200, body = HoursView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Json(req): Json<HoursRequest>,
) -> ApiResult<axum::Json<HoursView>> {
    let h = state
        .parley
        .set_workspace_hours(
            &agent,
            req.enabled,
            CalendarInput {
                time_zone: req.time_zone,
                days: req.days,
                special_days: req.special_days,
            },
            req.off_hours_text,
        )
        .await?;
    Ok(axum::Json(view(&state, agent.user.workspace_id, h).await))
}

#[derive(Deserialize, ToSchema)]
pub struct LeaveMessageRequest {
    pub name: Option<String>,
    /// At least one of `email` and `phone`.
    pub email: Option<String>,
    pub phone: Option<String>,
    pub message: String,
    /// The widget's id for this submission: a retry returns the stored message.
    pub client_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct LeaveMessageResponse {
    pub conversation_id: String,
    pub event: Event,
    pub duplicate: bool,
}

#[utoipa::path(post, path = "/api/widget/v1/leave_message", tag = "widget", request_body = LeaveMessageRequest,
    responses((status = 201, body = LeaveMessageResponse), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn leave_message(
    State(state): State<AppState>,
    VisitorAuth(v): VisitorAuth,
    ClientIp(ip): ClientIp,
    Json(req): Json<LeaveMessageRequest>,
) -> ApiResult<(StatusCode, axum::Json<LeaveMessageResponse>)> {
    let a = state
        .parley
        .leave_message(
            &v,
            LeaveMessageInput {
                name: req.name,
                email: req.email,
                phone: req.phone,
                message: req.message,
                client_id: req.client_id,
            },
            &ip,
        )
        .await?;
    crate::ws::count_sent(&state, &a);
    Ok((
        if a.duplicate {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        axum::Json(LeaveMessageResponse {
            conversation_id: a.conversation.id.to_string(),
            event: a.message.for_visitor(),
            duplicate: a.duplicate,
        }),
    ))
}
