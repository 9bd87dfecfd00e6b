use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// "ok" or "degraded"
    pub status: &'static str,
    pub database: &'static str,
    pub backend: &'static str,
    pub version: &'static str,
}

/// Liveness plus a database round trip: 503 when the database does not answer, so a load
/// balancer takes the node out.
#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> Response {
    let db_ok = tokio::time::timeout(std::time::Duration::from_secs(2), state.parley.store.ping())
        .await
        .map(|r| r.is_ok())
        .unwrap_or(false);
    let body = Health {
        status: if db_ok { "ok" } else { "degraded" },
        database: if db_ok { "ok" } else { "unreachable" },
        backend: state.parley.store.backend(),
        version: env!("CARGO_PKG_VERSION"),
    };
    let code = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(body)).into_response()
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

pub async fn openapi_json() -> Response {
    axum::Json(crate::openapi::document()).into_response()
}

/// A self-contained page that renders the OpenAPI document (no CDN: it works offline).
pub async fn docs() -> Html<&'static str> {
    Html(include_str!("../../assets/api-docs.html"))
}
