//! Request middleware, in the order a request meets them:
//! body limit → cross-origin check → cache headers → (session layer) → viewer
//! → protected pages.

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

/// Static files built by cargo-leptos (wasm, JS, CSS): no user data, so no
/// session look-up and normal caching.
fn is_static_asset(path: &str) -> bool {
    path.starts_with("/pkg/")
}

/// Resolves who is signed in (applying idle and absolute expiry) once per
/// request and hands it on as a `Viewer` extension. Static assets skip it, so
/// loading the app's wasm and JS costs no session-store read.
pub async fn resolve_current_user(
    State(policy): State<SessionPolicy>,
    mut request: Request,
    next: Next,
) -> Response {
    if is_static_asset(request.uri().path()) {
        return next.run(request).await;
    }
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
    let is_asset = is_static_asset(request.uri().path());
    let mut response = next.run(request).await;
    if !is_asset {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Refuses state-changing requests from another site with 403, on top of
/// SameSite=Lax. Browsers send `Origin` on POST; older ones may send only
/// `Sec-Fetch-Site` or `Referer`. A request with none of them is not a
/// browser's cross-site request (curl, API clients) and passes.
pub async fn same_origin_only(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && is_cross_origin(request.headers()) {
        tracing::warn!(target: "audit", event = "cross_origin_refused", path = %request.uri().path(), outcome = "refused");
        return (StatusCode::FORBIDDEN, "Cross-origin request refused").into_response();
    }
    next.run(request).await
}

pub fn is_cross_origin(headers: &axum::http::HeaderMap) -> bool {
    let text = |name: header::HeaderName| headers.get(name).and_then(|value| value.to_str().ok());
    let Some(host) = text(header::HOST) else {
        return false;
    };
    if let Some(origin) = text(header::ORIGIN) {
        return authority(origin) != Some(host);
    }
    if let Some(site) = headers
        .get("sec-fetch-site")
        .and_then(|value| value.to_str().ok())
    {
        return !matches!(site, "same-origin" | "none");
    }
    if let Some(referer) = text(header::REFERER) {
        return authority(referer) != Some(host);
    }
    false
}

/// `host[:port]` of an absolute http(s) URL.
fn authority(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&rest[..end]).filter(|authority| !authority.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn same_origin_posts_pass() {
        let host = ("host", "app.example:3000");
        assert!(!is_cross_origin(&headers(&[
            host,
            ("origin", "http://app.example:3000")
        ])));
        assert!(!is_cross_origin(&headers(&[
            host,
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(!is_cross_origin(&headers(&[
            host,
            ("referer", "https://app.example:3000/login?x=1")
        ])));
        assert!(
            !is_cross_origin(&headers(&[host])),
            "no browser headers: not a browser"
        );
    }

    #[test]
    fn cross_origin_posts_are_caught_by_any_of_the_three_headers() {
        let host = ("host", "app.example:3000");
        assert!(is_cross_origin(&headers(&[
            host,
            ("origin", "https://evil.example")
        ])));
        assert!(is_cross_origin(&headers(&[host, ("origin", "null")])));
        assert!(is_cross_origin(&headers(&[
            host,
            ("origin", "http://app.example:3000.evil.example")
        ])));
        assert!(is_cross_origin(&headers(&[
            host,
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(is_cross_origin(&headers(&[
            host,
            ("sec-fetch-site", "same-site")
        ])));
        assert!(is_cross_origin(&headers(&[
            host,
            ("referer", "https://evil.example/app.example:3000")
        ])));
    }
}
