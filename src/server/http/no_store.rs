//! No caching of anything that can carry user data; static assets keep theirs.

use axum::{
    extract::Request,
    http::{header, HeaderValue},
    middleware::Next,
    response::Response,
};

/// Static files built by cargo-leptos (wasm, JS, CSS) and the icon: no user
/// data, so no session look-up and normal caching.
pub fn is_static_asset(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg"
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
