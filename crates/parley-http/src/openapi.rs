//! The OpenAPI document served at `/api/openapi.json`, generated from the handlers' annotations.

use crate::routes::*;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Parley API", description = "REST API of Parley. The live protocol (WebSocket) is described in docs/protocol.md."),
    paths(
        auth::login, auth::logout, auth::me, auth::change_password, auth::set_status,
        people::list_users, people::create_user, people::update_user, people::list_tokens, people::create_token, people::delete_token,
        channels::list, channels::create, channels::get, channels::update,
        conversations::list, conversations::get, conversations::events, conversations::send, conversations::read,
        conversations::resolve, conversations::reopen, conversations::assign,
        groups::list, groups::create, groups::get, groups::update, groups::delete, groups::set_members, groups::rules, groups::replace_rules,
        teamwork::note, teamwork::transfer, teamwork::take_over, teamwork::tags, teamwork::visitor_tags, teamwork::follow_up, teamwork::overview,
        kb::list_categories, kb::create_category, kb::update_category, kb::delete_category,
        kb::list_articles, kb::create_article, kb::get_article, kb::update_article, kb::delete_article,
        kb::publish, kb::unpublish, kb::versions, kb::restore, kb::search, kb::preview,
        bot::list, bot::resolve, kb::synonyms, kb::set_synonyms,
        quick_replies::list, quick_replies::create, quick_replies::update, quick_replies::delete, quick_replies::suggestions,
        auto_replies::list, auto_replies::replace,
        flows::list, flows::replace,
        hours::get, hours::put, hours::leave_message,
        files::upload,
        widget::session, widget::events, widget::upload, widget::suggest,
        system::healthz,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail)),
    modifiers(&Security),
    tags(
        (name = "auth", description = "Signing in, sessions, own status"),
        (name = "people", description = "Users and personal API tokens"),
        (name = "channels", description = "Website channels and their embed snippet"),
        (name = "conversations", description = "Conversations and their events"),
        (name = "routing", description = "Groups of agents, routing policies and the queue"),
        (name = "kb", description = "Knowledge base: categories, articles, versions, publishing and search"),
        (name = "quick_replies", description = "Quick replies (team and personal) and suggestions for agents"),
        (name = "auto_replies", description = "Keyword auto-replies: rules in priority order with hit counts"),
        (name = "automation", description = "Guided flows: steps with buttons started by trigger phrases"),
        (name = "hours", description = "Business hours of the workspace: weekly hours, holidays, the off-hours reply"),
        (name = "files", description = "Uploads"),
        (name = "widget", description = "Endpoints used by the website widget (cross-origin)"),
        (name = "system", description = "Health"),
    )
)]
struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("parley_session"))),
        );
        c.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
