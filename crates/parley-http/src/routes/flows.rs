//! Guided flows (多轮引导): the workspace's flows, read and replaced as a whole.

use super::people::Items;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json};
use crate::state::AppState;
use axum::extract::State;
use parley_domain::flow::Flow;
use serde::Deserialize;
use utoipa::ToSchema;

#[utoipa::path(get, path = "/api/v1/flows", tag = "automation",
    responses((status = 200, body = Items<Flow>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(agent): Auth,
) -> ApiResult<axum::Json<Items<Flow>>> {
    Ok(axum::Json(Items {
        items: state.parley.list_flows(&agent).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct ReplaceFlows {
    /// Every flow of the workspace, in the order triggers are tried.
    pub items: Vec<Flow>,
}

#[utoipa::path(put, path = "/api/v1/flows", tag = "automation", request_body = ReplaceFlows,
    responses((status = 200, body = Items<Flow>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Json(req): Json<ReplaceFlows>,
) -> ApiResult<axum::Json<Items<Flow>>> {
    Ok(axum::Json(Items {
        items: state.parley.replace_flows(&agent, req.items).await?,
    }))
}
