//! Extractors: who is calling (session cookie or API token, with CSRF for cookie writes),
//! JSON bodies with our error shape, and the client's IP.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum_extra::extract::CookieJar;
use parley_core::service::Agent;
use parley_core::{secrets, ServiceError};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::net::SocketAddr;

pub const SESSION_COOKIE: &str = "parley_session";

/// The signed-in caller of a workspace endpoint.
pub struct Auth(pub Agent);

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(token) = bearer(parts) {
            let agent = state
                .parley
                .authenticate_token(token)
                .await
                .map_err(expired)?;
            return Ok(Auth(agent));
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let cookie = jar
            .get(SESSION_COOKIE)
            .ok_or_else(|| ApiError::Unauthorized("sign in first".into()))?;
        let agent = state
            .parley
            .authenticate_session(cookie.value())
            .await
            .map_err(expired)?;
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let expected = agent
                .session
                .as_ref()
                .map(|s| s.csrf_token.as_str())
                .unwrap_or("");
            if expected.is_empty() || !secrets::same(sent, expected) {
                return Err(ApiError::CsrfFailed);
            }
        }
        Ok(Auth(agent))
    }
}

fn expired(e: ServiceError) -> ApiError {
    match e {
        ServiceError::Unauthorized => {
            ApiError::Unauthorized("your session has expired or was revoked; sign in again".into())
        }
        e => e.into(),
    }
}

/// A JSON body whose rejections use the API's error shape.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(JsonRejection::BytesRejection(r))
                if r.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(ApiError::PayloadTooLarge("request body too large".into()))
            }
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::BadRequest(
                "expected a JSON body with content-type: application/json".into(),
            )),
            Err(r) => Err(ApiError::BadRequest(r.body_text())),
        }
    }
}

/// The client's IP address, from the socket or, when configured, `x-forwarded-for`.
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if state.config.trust_forwarded_for {
            let forwarded = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok());
            if let Some(ip) = forwarded_client(forwarded) {
                return Ok(ClientIp(ip));
            }
        }
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_default();
        Ok(ClientIp(ip))
    }
}

/// The client address a trusted reverse proxy reports: the LAST `x-forwarded-for` entry, the
/// one our proxy appended. Earlier entries come from the client and can be forged (a client
/// choosing its own address would slip past per-IP limits). Not an IP address: none.
fn forwarded_client<'a>(headers: impl Iterator<Item = &'a str>) -> Option<String> {
    let last = headers.flat_map(|h| h.split(',')).last()?.trim();
    last.parse::<std::net::IpAddr>()
        .ok()
        .map(|ip| ip.to_string())
}

#[cfg(test)]
mod forwarded_tests {
    use super::forwarded_client;

    #[test]
    fn the_proxys_entry_wins_over_what_the_client_sent() {
        let one = |h: &'static str| forwarded_client([h].into_iter());
        assert_eq!(one("203.0.113.7"), Some("203.0.113.7".into()));
        assert_eq!(one("6.6.6.6, 203.0.113.7"), Some("203.0.113.7".into()));
        assert_eq!(
            forwarded_client(["6.6.6.6", "203.0.113.7"].into_iter()),
            Some("203.0.113.7".into())
        );
        assert_eq!(one(" 2001:db8::1 "), Some("2001:db8::1".into()));
        assert_eq!(one("203.0.113.7, not-an-ip"), None);
        assert_eq!(one(""), None);
        assert_eq!(forwarded_client(std::iter::empty()), None);
    }
}

pub fn origin(parts_headers: &axum::http::HeaderMap) -> Option<&str> {
    parts_headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
}

/// For PATCH fields where "absent" (keep) and `null` (clear) differ: absent stays `None` via
/// `#[serde(default)]`, `null` becomes `Some(None)`.
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
