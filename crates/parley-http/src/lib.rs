//! Parley's HTTP and WebSocket layer: routing, authentication extractors, the API error type,
//! the OpenAPI document and the embedded web UI. It decides nothing itself: every rule lives in
//! the services of `parley-core`.

pub mod error;
pub mod extract;
mod markdown;
pub mod metrics;
mod openapi;
pub mod routes;
pub mod state;
pub mod ws;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, patch, post, put};
use axum::Router;
use routes::*;
pub use state::{AppState, HttpConfig};
use std::net::SocketAddr;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

const JSON_LIMIT: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    let upload_limit = DefaultBodyLimit::max(state.parley.config.max_upload_bytes + 64 * 1024);
    // The knowledge base takes larger bodies (articles of up to 100 KB of Markdown).
    let knowledge_base = Router::new()
        .route(
            "/kb/categories",
            get(kb::list_categories).post(kb::create_category),
        )
        .route(
            "/kb/categories/{id}",
            patch(kb::update_category).delete(kb::delete_category),
        )
        .route(
            "/kb/articles",
            get(kb::list_articles).post(kb::create_article),
        )
        .route(
            "/kb/articles/{id}",
            get(kb::get_article)
                .patch(kb::update_article)
                .delete(kb::delete_article),
        )
        .route("/kb/articles/{id}/publish", post(kb::publish))
        .route("/kb/articles/{id}/unpublish", post(kb::unpublish))
        .route("/kb/articles/{id}/versions", get(kb::versions))
        .route(
            "/kb/articles/{id}/versions/{version}/restore",
            post(kb::restore),
        )
        .route("/kb/unanswered", get(bot::list))
        .route("/kb/unanswered/{id}/resolve", post(bot::resolve))
        .route("/kb/synonyms", get(kb::synonyms).put(kb::set_synonyms))
        .route("/kb/search", get(kb::search))
        .route("/kb/preview", post(kb::preview))
        .layer(DefaultBodyLimit::max(kb::KB_JSON_LIMIT));
    let api = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/me", get(auth::me))
        .route("/auth/password", post(auth::change_password))
        .route("/me/status", put(auth::set_status))
        .route("/users", get(people::list_users).post(people::create_user))
        .route("/users/{id}", patch(people::update_user))
        .route(
            "/tokens",
            get(people::list_tokens).post(people::create_token),
        )
        .route("/tokens/{id}", axum::routing::delete(people::delete_token))
        .route("/channels", get(channels::list).post(channels::create))
        .route("/groups", get(groups::list).post(groups::create))
        .route(
            "/groups/{id}",
            get(groups::get).put(groups::update).delete(groups::delete),
        )
        .route("/groups/{id}/members", put(groups::set_members))
        .route(
            "/routing/rules",
            get(groups::rules).put(groups::replace_rules),
        )
        .route(
            "/auto_replies",
            get(auto_replies::list).put(auto_replies::replace),
        )
        .route("/flows", get(flows::list).put(flows::replace))
        .route("/workspace/hours", get(hours::get).put(hours::put))
        .route("/channels/{id}", get(channels::get).patch(channels::update))
        .route("/conversations", get(conversations::list))
        .route("/conversations/{id}", get(conversations::get))
        .route("/conversations/{id}/events", get(conversations::events))
        .route("/conversations/{id}/messages", post(conversations::send))
        .route("/conversations/{id}/read", post(conversations::read))
        .route("/conversations/{id}/resolve", post(conversations::resolve))
        .route("/conversations/{id}/reopen", post(conversations::reopen))
        .route("/conversations/{id}/assign", post(conversations::assign))
        .route("/conversations/{id}/notes", post(teamwork::note))
        .route("/conversations/{id}/transfer", post(teamwork::transfer))
        .route("/conversations/{id}/take_over", post(teamwork::take_over))
        .route("/conversations/{id}/tags", put(teamwork::tags))
        .route("/visitors/{id}/tags", put(teamwork::visitor_tags))
        .route("/conversations/{id}/follow_up", put(teamwork::follow_up))
        .route("/supervisor/overview", get(teamwork::overview))
        .route(
            "/quick_replies",
            get(quick_replies::list).post(quick_replies::create),
        )
        .route(
            "/quick_replies/{id}",
            patch(quick_replies::update).delete(quick_replies::delete),
        )
        .route(
            "/conversations/{id}/suggestions",
            get(quick_replies::suggestions),
        )
        .layer(DefaultBodyLimit::max(JSON_LIMIT))
        .route("/uploads", post(files::upload).layer(upload_limit.clone()))
        .merge(knowledge_base);
    // The widget runs inside customers' pages: answer CORS for any origin here; each handler
    // then checks the origin against the channel's allowed list.
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(600));
    let widget = Router::new()
        .route("/session", post(widget::session))
        .route("/events", get(widget::events))
        .route("/kb/suggest", get(widget::suggest))
        .route("/leave_message", post(hours::leave_message))
        .layer(DefaultBodyLimit::max(JSON_LIMIT))
        .route("/uploads", post(widget::upload).layer(upload_limit))
        .layer(cors);
    Router::new()
        .nest("/api/v1", api)
        .nest("/api/widget/v1", widget)
        .route("/api/openapi.json", get(system::openapi_json))
        .route("/api/docs", get(system::docs))
        .route("/ws/agent", get(ws::agent_socket))
        .route("/ws/widget", get(ws::widget_socket))
        .route("/healthz", get(system::healthz))
        .route("/metrics", get(system::metrics))
        .route("/files/{id}/{key}/{name}", get(files::download))
        .route("/", get(assets::root))
        .route("/app", get(|| async { Redirect::permanent("/app/") }))
        .route("/app/", get(assets::console_root))
        .route("/app/{*path}", get(assets::console))
        .route("/widget/{*path}", get(assets::widget))
        // The public help centre (no sign-in): pages of published articles per channel key.
        .route("/help/{key}", get(help::index))
        .route("/help/{key}/search", get(help::search))
        .route("/help/{key}/articles/{id}", get(help::article))
        .route(
            "/help/{key}/articles/{id}/vote",
            post(help::vote).layer(DefaultBodyLimit::max(4 * 1024)),
        )
        .fallback(|| async { error::ApiError::NotFound("no such endpoint".into()) })
        .layer(middleware::from_fn_with_state(state.clone(), count_requests))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

async fn count_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let class = match res.status().as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    state
        .metrics
        .http_requests
        .get_or_create(&metrics::StatusLabels { class })
        .inc();
    res.into_response()
}

/// Serves until `state.shutdown` is cancelled, then stops accepting, lets open requests finish
/// and closes sockets with 1001.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    let shutdown = state.shutdown.clone();
    let sockets = state.sockets.clone();
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    // Chat frames are small and latency-sensitive: no Nagle delay.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await?;
    // Upgraded sockets live outside the HTTP server's bookkeeping: give them a moment to send
    // their close frames (1001) so clients reconnect cleanly instead of seeing a reset.
    sockets.close();
    if tokio::time::timeout(std::time::Duration::from_secs(5), sockets.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            open = sockets.len(),
            "sockets still open after 5 s of shutdown"
        );
    }
    Ok(())
}
