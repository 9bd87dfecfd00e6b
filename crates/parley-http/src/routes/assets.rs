//! The web UI, embedded in the binary: the console SPA under `/app/` and the widget under
//! `/widget/`.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../web/dist"]
struct Dist;

const CONSOLE_CSP: &str = "default-src 'self'; img-src 'self' data: blob: https:; connect-src 'self' ws: wss:; \
     style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

fn serve(path: &str, cache: &'static str) -> Option<Response> {
    let file = Dist::get(path)?;
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let mut res = file.data.into_owned().into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(mime.as_ref()).ok()?,
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Some(res)
}

fn not_built() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "The web UI is not built into this binary. Run `npm ci && npm run build` in web/ and rebuild.",
    )
        .into_response()
}

pub async fn root() -> Redirect {
    Redirect::temporary("/app/")
}

fn console_index() -> Response {
    match serve("console/index.html", "no-cache") {
        Some(mut r) => {
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONSOLE_CSP),
            );
            h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            h.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("strict-origin-when-cross-origin"),
            );
            r
        }
        None => not_built(),
    }
}

pub async fn console_root() -> Response {
    console_index()
}

/// Hashed build assets are cached forever; any other path is a client-side route.
pub async fn console(Path(path): Path<String>) -> Response {
    if path.starts_with("assets/") {
        return serve(
            &format!("console/{path}"),
            "public, max-age=31536000, immutable",
        )
        .unwrap_or_else(|| StatusCode::NOT_FOUND.into_response());
    }
    match serve(&format!("console/{path}"), "public, max-age=300") {
        Some(r) if !path.is_empty() && path != "index.html" => r,
        _ => console_index(),
    }
}

/// The widget files are referenced by customers' pages under fixed names, so they are cached
/// briefly and revalidated.
pub async fn widget(Path(path): Path<String>) -> Response {
    let mut r = match serve(
        &format!("widget/{path}"),
        "public, max-age=300, must-revalidate",
    ) {
        Some(r) => r,
        None if Dist::get("widget/loader.js").is_none() => return not_built(),
        None => return StatusCode::NOT_FOUND.into_response(),
    };
    r.headers_mut().insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    r.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}
