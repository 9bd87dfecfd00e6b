use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Auth, Json};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use parley_core::service::{NewUser, UserChange};
use parley_domain::{ApiToken, Role, TokenId, User, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

#[utoipa::path(get, path = "/api/v1/users", tag = "people", responses((status = 200, body = Items<User>)))]
pub async fn list_users(
    State(state): State<AppState>,
    Auth(agent): Auth,
) -> ApiResult<axum::Json<Items<User>>> {
    Ok(axum::Json(Items {
        items: state.parley.list_users(&agent).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
}

#[utoipa::path(post, path = "/api/v1/users", tag = "people", request_body = CreateUser,
    responses((status = 201, body = User), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Json(req): Json<CreateUser>,
) -> ApiResult<(StatusCode, axum::Json<User>)> {
    let u = state
        .parley
        .create_user(
            &agent,
            NewUser {
                email: req.email,
                name: req.name,
                role: req.role,
                password: req.password,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(u)))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateUser {
    pub name: Option<String>,
    pub role: Option<Role>,
    /// Most conversations at once (0-100).
    pub capacity: Option<u32>,
    pub skills: Option<Vec<String>>,
}

pub fn parse_id<T>(raw: &str, what: &str, f: impl Fn(uuid::Uuid) -> T) -> ApiResult<T> {
    uuid::Uuid::parse_str(raw)
        .map(f)
        .map_err(|_| ApiError::NotFound(format!("{what} not found")))
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "people", request_body = UpdateUser,
    params(("id" = String, Path)), responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
    Json(req): Json<UpdateUser>,
) -> ApiResult<axum::Json<User>> {
    let id = parse_id(&id, "user", UserId)?;
    Ok(axum::Json(
        state
            .parley
            .update_user(
                &agent,
                id,
                UserChange {
                    name: req.name,
                    role: req.role,
                    capacity: req.capacity,
                    skills: req.skills,
                },
            )
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "people", responses((status = 200, body = Items<ApiToken>)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Auth(agent): Auth,
) -> ApiResult<axum::Json<Items<ApiToken>>> {
    Ok(axum::Json(Items {
        items: state.parley.list_tokens(&agent).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateToken {
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: ApiToken,
    /// Shown once: use as `authorization: Bearer <secret>`.
    pub secret: String,
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "people", request_body = CreateToken, responses((status = 201, body = CreatedToken)))]
pub async fn create_token(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Json(req): Json<CreateToken>,
) -> ApiResult<(StatusCode, axum::Json<CreatedToken>)> {
    let (token, secret) = state.parley.create_token(&agent, &req.name).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedToken { token, secret }),
    ))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "people", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_token(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id, "token", TokenId)?;
    state.parley.delete_token(&agent, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
