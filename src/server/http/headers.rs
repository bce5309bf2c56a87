//! Security headers on every answer, and the Content-Security-Policy of pages.
//!
//! Pages get a policy whose only inline scripts are Leptos's hydration
//! scripts, marked with Leptos's per-request nonce (no `unsafe-inline`);
//! `wasm-unsafe-eval` lets the app's own wasm compile. Other answers get
//! `default-src 'none'`.

use axum::{
    extract::{Request, State},
    http::{header, HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use leptos::{nonce::use_nonce, prelude::use_context};
use leptos_axum::ResponseOptions;

/// The policy of an HTML page. `live_reload` allows the development
/// websocket of `cargo leptos watch`.
pub fn page_policy(nonce: &str, live_reload: bool) -> String {
    let connect = if live_reload {
        "'self' ws: wss:"
    } else {
        "'self'"
    };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src {connect}; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

const NON_PAGE_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Called while Leptos renders a page (its per-request context): puts the
/// page policy with this request's nonce on the response.
pub fn provide_page_policy(live_reload: bool) {
    if let (Some(nonce), Some(response)) = (use_nonce(), use_context::<ResponseOptions>()) {
        if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce, live_reload)) {
            response.insert_header(header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

/// `Strict-Transport-Security`, when the site is served over HTTPS only.
#[derive(Clone, Debug, Default)]
pub struct Hsts(Option<HeaderValue>);

impl Hsts {
    /// `max_age_secs` 0 sends no header.
    pub fn new(max_age_secs: u64) -> Self {
        Self((max_age_secs > 0).then(|| {
            HeaderValue::from_str(&format!("max-age={max_age_secs}"))
                .expect("a number is a valid header value")
        }))
    }
}

/// The outermost layer: every answer gets these headers, error answers of
/// the layers inside it (413, 403, 400) included.
pub async fn security_headers(State(hsts): State<Hsts>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if let Some(hsts) = hsts.0 {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, hsts);
    }
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(NON_PAGE_POLICY));
    let fixed: [(HeaderName, &'static str); 3] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Full URL within the site (the no-script error redirect needs it), origin only elsewhere.
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_policy_allows_only_nonced_inline_scripts() {
        let policy = page_policy("abc123", false);
        assert!(policy.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'"));
        assert!(!policy.contains("unsafe-inline"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("ws:"));
        assert!(page_policy("abc123", true).contains("connect-src 'self' ws: wss:"));
    }
}
