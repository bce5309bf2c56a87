//! Request middleware, in the order a request meets them:
//! body limit → (session layer) → viewer → protected pages → cache headers.

use crate::auth::ssr::{resolve_viewer, SessionPolicy, Viewer};
use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use tower_sessions::Session;

/// Pages only a signed-in user may see. An anonymous request is redirected
/// (303) to `/login?next=<page>` before anything is rendered.
pub const PROTECTED_PAGES: &[&str] = &["/dashboard"];

/// Answers 413 to a body over `limit` bytes, before any parsing.
pub async fn limit_body(State(limit): State<usize>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return too_large();
    }
    if matches!(*request.method(), Method::GET | Method::HEAD) && declared.is_none() {
        return next.run(request).await;
    }
    // Bodies without a declared length (chunked) are read up to the limit.
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(_) => too_large(),
    }
}

fn too_large() -> Response {
    (StatusCode::PAYLOAD_TOO_LARGE, "Request body too large").into_response()
}

/// Resolves who is signed in (applying idle and absolute expiry) once per
/// request and hands it on as a `Viewer` extension.
pub async fn resolve_current_user(
    State(policy): State<SessionPolicy>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(session) = request.extensions().get::<Session>().cloned() else {
        tracing::error!("session layer missing");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    match resolve_viewer(&session, &policy).await {
        Ok(viewer) => {
            request.extensions_mut().insert(Viewer(viewer));
            next.run(request).await
        }
        Err(error) => {
            tracing::error!(error = %error, "session store unavailable");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Characters escaped when a page path travels in the `next` query parameter.
const QUERY_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'>')
    .add(b'%')
    .add(b'?')
    .add(b'=');

pub async fn require_sign_in(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let signed_in = request
        .extensions()
        .get::<Viewer>()
        .is_some_and(|viewer| viewer.0.is_some());
    if !signed_in && PROTECTED_PAGES.contains(&path) {
        let target = request
            .uri()
            .path_and_query()
            .map_or(path, |path_and_query| path_and_query.as_str());
        let encoded = utf8_percent_encode(target, QUERY_VALUE);
        return Redirect::to(&format!("/login?next={encoded}")).into_response();
    }
    next.run(request).await
}

/// Pages and API answers can carry user data: no shared or browser caching.
/// Static assets under `/pkg/` keep their caching.
pub async fn no_store(request: Request, next: Next) -> Response {
    let is_asset = request.uri().path().starts_with("/pkg/");
    let mut response = next.run(request).await;
    if !is_asset {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
