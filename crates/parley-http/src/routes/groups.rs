use super::people::{parse_id, Items};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use parley_core::service_routing::{GroupInput, RuleInput};
use parley_domain::routing::{RoutingRule, Step};
use parley_domain::{Group, GroupId, HoursInput, UserId};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct GroupRequest {
    pub name: String,
    /// Routing steps in order, e.g. ["sticky", "skill", "least_load"].
    pub policy: Vec<Step>,
    pub tier: Option<i32>,
    /// Reassign when the assigned agent has not replied within this many seconds.
    pub reply_timeout_secs: Option<i64>,
    pub queue_timeout_secs: Option<i64>,
    /// Weekly working hours in an IANA time zone; absent or null = always open. Outside them
    /// new conversations wait in the group's queue.
    pub hours: Option<HoursInput>,
}

impl From<GroupRequest> for GroupInput {
    fn from(r: GroupRequest) -> Self {
        GroupInput {
            name: r.name,
            policy: r.policy,
            tier: r.tier,
            reply_timeout_secs: r.reply_timeout_secs,
            queue_timeout_secs: r.queue_timeout_secs,
            hours: r.hours,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct MemberRequest {
    pub user_id: String,
    /// 1 is served first; higher numbers take the overflow.
    #[serde(default = "one")]
    pub priority: i32,
}

fn one() -> i32 {
    1
}

#[derive(Deserialize, ToSchema)]
pub struct MembersRequest {
    pub members: Vec<MemberRequest>,
}

#[utoipa::path(get, path = "/api/v1/groups", tag = "routing", responses((status = 200, body = Items<Group>)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(agent): Auth,
) -> ApiResult<axum::Json<Items<Group>>> {
    Ok(axum::Json(Items {
        items: state.parley.list_groups(&agent).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/groups", tag = "routing", request_body = GroupRequest,
    responses((status = 201, body = Group), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Json(req): Json<GroupRequest>,
) -> ApiResult<(StatusCode, axum::Json<Group>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(state.parley.create_group(&agent, req.into()).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/groups/{id}", tag = "routing", params(("id" = String, Path)),
    responses((status = 200, body = Group), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Group>> {
    let id = parse_id(&id, "group", GroupId)?;
    Ok(axum::Json(state.parley.get_group(&agent, id).await?))
}

#[utoipa::path(put, path = "/api/v1/groups/{id}", tag = "routing", params(("id" = String, Path)), request_body = GroupRequest,
    responses((status = 200, body = Group), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
    Json(req): Json<GroupRequest>,
) -> ApiResult<axum::Json<Group>> {
    let id = parse_id(&id, "group", GroupId)?;
    Ok(axum::Json(
        state.parley.update_group(&agent, id, req.into()).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/groups/{id}", tag = "routing", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id, "group", GroupId)?;
    state.parley.delete_group(&agent, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/groups/{id}/members", tag = "routing", params(("id" = String, Path)), request_body = MembersRequest,
    responses((status = 200, body = Group), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_members(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
    Json(req): Json<MembersRequest>,
) -> ApiResult<axum::Json<Group>> {
    let id = parse_id(&id, "group", GroupId)?;
    let members = req
        .members
        .iter()
        .map(|m| Ok((parse_id(&m.user_id, "user", UserId)?, m.priority)))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(axum::Json(
        state.parley.set_group_members(&agent, id, &members).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct RuleRequest {
    /// Matched case-insensitively anywhere in the visitor's message.
    pub keywords: Vec<String>,
    pub group_id: Option<String>,
    pub skill: Option<String>,
    /// Queue priority: higher waits less (VIP).
    pub priority: Option<i32>,
    /// Also applies to later messages, moving the conversation (escalation to another tier).
    #[serde(default)]
    pub escalation: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct RulesRequest {
    pub rules: Vec<RuleRequest>,
}

#[derive(serde::Serialize, ToSchema)]
pub struct Rules {
    pub rules: Vec<RoutingRule>,
}

#[utoipa::path(get, path = "/api/v1/routing/rules", tag = "routing", responses((status = 200, body = Rules)))]
pub async fn rules(
    State(state): State<AppState>,
    Auth(agent): Auth,
) -> ApiResult<axum::Json<Rules>> {
    Ok(axum::Json(Rules {
        rules: state.parley.list_rules(&agent).await?,
    }))
}

#[utoipa::path(put, path = "/api/v1/routing/rules", tag = "routing", request_body = RulesRequest,
    responses((status = 200, body = Rules), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace_rules(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Json(req): Json<RulesRequest>,
) -> ApiResult<axum::Json<Rules>> {
    let inputs = req
        .rules
        .into_iter()
        .map(|r| {
            Ok(RuleInput {
                keywords: r.keywords,
                group_id: r
                    .group_id
                    .as_deref()
                    .map(|g| parse_id(g, "group", GroupId))
                    .transpose()?,
                skill: r.skill,
                priority: r.priority,
                escalation: r.escalation,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(axum::Json(Rules {
        rules: state.parley.replace_rules(&agent, inputs).await?,
    }))
}
