use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Auth;
use crate::state::AppState;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use parley_core::service::Actor;
use parley_domain::{is_inline_image, AttachmentId, AttachmentRef};

/// Reads the `file` field of a multipart upload and stores it for `actor`.
pub async fn receive(
    state: &AppState,
    actor: &Actor,
    mut form: Multipart,
) -> ApiResult<(StatusCode, axum::Json<AttachmentRef>)> {
    let too_large = || {
        ApiError::PayloadTooLarge(format!(
            "files may be at most {} MiB",
            state.parley.config.max_upload_bytes / (1024 * 1024)
        ))
    };
    while let Some(field) = form.next_field().await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::BadRequest(e.body_text())
        }
    })? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("file").to_owned();
        let bytes = field.bytes().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                ApiError::BadRequest(e.body_text())
            }
        })?;
        let a = state.parley.upload(actor, &name, &bytes).await?;
        return Ok((StatusCode::CREATED, axum::Json(a.public())));
    }
    Err(ApiError::BadRequest(
        "multipart field 'file' is missing".into(),
    ))
}

#[utoipa::path(post, path = "/api/v1/uploads", tag = "files", request_body(content_type = "multipart/form-data", content = String),
    responses((status = 201, body = AttachmentRef), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    Auth(agent): Auth,
    form: Multipart,
) -> ApiResult<(StatusCode, axum::Json<AttachmentRef>)> {
    receive(&state, &Actor::Agent(agent), form).await
}

/// Files are served so that nothing uploaded can run as a page of this origin: no sniffing,
/// a sandbox CSP, and everything but raster images as a download.
pub async fn download(
    State(state): State<AppState>,
    Path((id, key, _name)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let id = AttachmentId::parse(&id).ok_or_else(|| ApiError::NotFound("file not found".into()))?;
    let (a, bytes) = state.parley.download(id, &key).await?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&a.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    let ascii: String = a
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = a
        .filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let disposition = if is_inline_image(&a.content_type) {
        "inline"
    } else {
        "attachment"
    };
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
