use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Auth, ClientIp, Json, SESSION_COOKIE};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use parley_core::service::LoggedIn;
use parley_domain::{AgentStatus, User, Workspace};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub user: User,
    pub workspace: Workspace,
    /// Send back as `x-csrf-token` on cookie-authenticated writes.
    pub csrf_token: Option<String>,
}

fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    let ttl = state.parley.config.session_ttl;
    Cookie::build((SESSION_COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies)
        .path("/")
        .max_age(time::Duration::seconds(ttl.as_secs() as i64))
        .build()
}

async fn me_for(state: &AppState, user: User, csrf: Option<String>) -> ApiResult<Me> {
    let workspace = state
        .parley
        .store
        .get_workspace(user.workspace_id)
        .await
        .map_err(|e| ApiError::from(parley_core::ServiceError::from(e)))?
        .ok_or_else(|| ApiError::Unauthorized("workspace gone".into()))?;
    Ok(Me {
        user,
        workspace,
        csrf_token: csrf,
    })
}

/// A login form posted from another site is refused (login CSRF): browsers send `Origin`.
fn same_origin(headers: &HeaderMap) -> bool {
    let (Some(origin), Some(host)) = (
        headers.get("origin").and_then(|v| v.to_str().ok()),
        headers.get("host").and_then(|v| v.to_str().ok()),
    ) else {
        return true;
    };
    origin
        .split_once("://")
        .map(|(_, h)| h == host)
        .unwrap_or(false)
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = Me), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    Json(req): Json<LoginRequest>,
) -> ApiResult<(CookieJar, axum::Json<Me>)> {
    if !same_origin(&headers) {
        return Err(ApiError::Forbidden("cross-site sign-in refused".into()));
    }
    let LoggedIn {
        token,
        session,
        user,
    } = state.parley.login(&req.email, &req.password, &ip).await?;
    tracing::info!(user = %user.id, "signed in");
    let me = me_for(&state, user, Some(session.csrf_token)).await?;
    Ok((jar.add(session_cookie(&state, token)), axum::Json(me)))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(
    State(state): State<AppState>,
    Auth(agent): Auth,
    jar: CookieJar,
) -> ApiResult<(CookieJar, StatusCode)> {
    state.parley.logout(&agent).await?;
    Ok((
        jar.remove(Cookie::build(SESSION_COOKIE).path("/")),
        StatusCode::NO_CONTENT,
    ))
}

#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, Auth(agent): Auth) -> ApiResult<axum::Json<Me>> {
    let csrf = agent.session.as_ref().map(|s| s.csrf_token.clone());
    Ok(axum::Json(me_for(&state, agent.user, csrf).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordChange,
    responses((status = 200, body = Me), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    Auth(agent): Auth,
    jar: CookieJar,
    Json(req): Json<PasswordChange>,
) -> ApiResult<(CookieJar, axum::Json<Me>)> {
    let LoggedIn {
        token,
        session,
        user,
    } = state
        .parley
        .change_password(&agent, &req.current_password, &req.new_password)
        .await?;
    tracing::info!(user = %user.id, "password changed; other sessions revoked");
    let me = me_for(&state, user, Some(session.csrf_token)).await?;
    let jar = if agent.session.is_some() {
        jar.add(session_cookie(&state, token))
    } else {
        jar
    };
    Ok((jar, axum::Json(me)))
}

#[derive(Deserialize, ToSchema)]
pub struct StatusChange {
    pub status: AgentStatus,
}

#[utoipa::path(put, path = "/api/v1/me/status", tag = "auth", request_body = StatusChange, responses((status = 204)))]
pub async fn set_status(
    State(state): State<AppState>,
    Auth(agent): Auth,
    Json(req): Json<StatusChange>,
) -> ApiResult<StatusCode> {
    state.parley.set_my_status(&agent, req.status).await?;
    Ok(StatusCode::NO_CONTENT)
}
