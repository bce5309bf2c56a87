//! Request middleware, in the order a request meets them:
//! security headers → body limit → cross-origin check → cache headers →
//! (session layer) → who is signed in
//! → protected pages.

use super::errors::Refusal;
use crate::{
    auth::{
        ssr::{session, AuthService, SignedIn},
        AppError,
    },
    routes::PROTECTED_PAGES,
    server::store::SessionFault,
};
use axum::extract::ConnectInfo;
use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderMap, HeaderName, HeaderValue, Method},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};
use tower_sessions::Session;

/// How large a request body may be, and how long its sender may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyLimits {
    pub max_bytes: usize,
    pub timeout: Duration,
}

/// Answers 413 to a body over `max_bytes`, before any parsing, and 408 to one
/// not received within `timeout` (a client sending a byte now and then).
pub async fn limit_body(
    State(limits): State<BodyLimits>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limits.max_bytes as u64) {
        return Refusal::BodyTooLarge.into_response();
    }
    if matches!(*request.method(), Method::GET | Method::HEAD) && declared.is_none() {
        return next.run(request).await;
    }
    // Bodies without a declared length (chunked) are read up to the limit.
    let (parts, body) = request.into_parts();
    match tokio::time::timeout(limits.timeout, axum::body::to_bytes(body, limits.max_bytes)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(_)) => Refusal::BodyTooLarge.into_response(),
        Err(_) => Refusal::BodyTooSlow.into_response(),
    }
}

/// Static files built by cargo-leptos (wasm, JS, CSS) and the icon: no user
/// data, so no session look-up and normal caching.
fn is_static_asset(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg"
}

/// Resolves who is signed in (applying idle and absolute expiry) once per
/// request and hands it on as an `Option<SignedIn>` extension. Static assets skip it, so
/// loading the app's wasm and JS costs no session-store read.
pub async fn resolve_signed_in(
    State(auth): State<AuthService>,
    mut request: Request,
    next: Next,
) -> Response {
    if is_static_asset(request.uri().path()) {
        return next.run(request).await;
    }
    let Some(session) = request.extensions().get::<Session>().cloned() else {
        tracing::error!("session layer missing");
        return AppError::Internal.into_response();
    };
    match session::resolve(&session, &auth.policy, auth.clock.now()).await {
        Ok(signed_in) => {
            request.extensions_mut().insert(signed_in);
            next.run(request).await
        }
        // The store seam has logged the outage once.
        Err(error) if SessionFault::of(&error) == SessionFault::Unavailable => {
            super::outage::unavailable_page()
        }
        Err(error) => {
            tracing::error!(error = %error, "session read failed");
            AppError::Internal.into_response()
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

/// An anonymous request for one of `PROTECTED_PAGES` is redirected (303) to
/// `/login?next=<page>` before anything is rendered.
pub async fn require_sign_in(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let signed_in = request
        .extensions()
        .get::<Option<SignedIn>>()
        .is_some_and(Option::is_some);
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

/// The scheme this site is served over, for the origin check: `https` when
/// the session cookie is `Secure` (an HTTPS deployment), else `http`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SiteScheme(pub &'static str);

/// Refuses state-changing requests from another origin with 403, on top of
/// SameSite=Lax, and those without a `Host` with 400. Browsers send `Origin` on
/// POST; older ones may send only `Sec-Fetch-Site` or `Referer`. A request with
/// none of them is not a browser's cross-site request (curl, API clients) and passes.
///
/// A request with a bearer token needs no such check: a browser never adds
/// that header by itself, so it is no ambient credential. Its cookies are
/// dropped here, so that it is judged by the token alone and no cookie can
/// ride along past the check.
pub async fn same_origin_only(
    State(scheme): State<SiteScheme>,
    mut request: Request,
    next: Next,
) -> Response {
    if matches!(
        super::api::authorization(request.headers()),
        super::api::Authorization::Bearer(_)
    ) {
        request.headers_mut().remove(header::COOKIE);
        return next.run(request).await;
    }
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe {
        match origin_check(request.headers(), scheme) {
            OriginCheck::SameOrigin => {}
            OriginCheck::NoHost => return Refusal::NoHost.into_response(),
            OriginCheck::CrossOrigin => {
                tracing::warn!(target: "audit", event = "cross_origin_refused", path = %request.uri().path(), outcome = "refused");
                return Refusal::CrossOrigin.into_response();
            }
        }
    }
    next.run(request).await
}

#[derive(Debug, PartialEq, Eq)]
pub enum OriginCheck {
    SameOrigin,
    CrossOrigin,
    NoHost,
}

/// Compares the origin the browser names (scheme, host and port) with this
/// site's: `scheme://Host`.
pub fn origin_check(headers: &axum::http::HeaderMap, scheme: SiteScheme) -> OriginCheck {
    let text = |name: header::HeaderName| headers.get(name).and_then(|value| value.to_str().ok());
    let Some(site) =
        text(header::HOST).and_then(|host| Origin::parse(&format!("{}://{host}", scheme.0)))
    else {
        return OriginCheck::NoHost;
    };
    let same = |url: &str| Origin::parse(url).as_ref() == Some(&site);
    let same_origin = if let Some(origin) = text(header::ORIGIN) {
        same(origin)
    } else if let Some(fetch_site) = text(HeaderName::from_static("sec-fetch-site")) {
        matches!(fetch_site, "same-origin" | "none")
    } else if let Some(referer) = text(header::REFERER) {
        same(referer)
    } else {
        true
    };
    if same_origin {
        OriginCheck::SameOrigin
    } else {
        OriginCheck::CrossOrigin
    }
}

/// The origin of an absolute http(s) URL: scheme, lower-case host and port
/// (the scheme's default when none is written).
#[derive(Debug, PartialEq, Eq)]
struct Origin {
    scheme: &'static str,
    host: String,
    port: u16,
}

impl Origin {
    fn parse(url: &str) -> Option<Self> {
        let (scheme, rest, default_port) = if let Some(rest) = url.strip_prefix("https://") {
            ("https", rest, 443)
        } else if let Some(rest) = url.strip_prefix("http://") {
            ("http", rest, 80)
        } else {
            return None;
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..end];
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        // `[v6]:port`, `host:port` or a bare host.
        let (host, port) = match authority.rfind(':') {
            Some(colon) if !authority[colon..].contains(']') => {
                (&authority[..colon], authority[colon + 1..].parse().ok()?)
            }
            _ => (authority, default_port),
        };
        (!host.is_empty()).then(|| Self {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The reverse proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(pub Arc<[IpAddr]>);

impl TrustedProxies {
    /// The client behind `peer`: `peer` itself unless it is a trusted proxy;
    /// then, reading `X-Forwarded-For` from the right (the nearest hop
    /// first), the first address that is not a trusted proxy. Addresses left
    /// of it were written by the client and prove nothing.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.0.contains(&peer) {
            return peer;
        }
        let mut client = peer;
        let hops = headers
            .get_all(X_FORWARDED_FOR)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for hop in hops.into_iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(address) => {
                    client = address;
                    if !self.0.contains(&address) {
                        break;
                    }
                }
                // Garbage from the client side: stop at the last good hop.
                Err(_) => break,
            }
        }
        client
    }
}

/// Makes the request's client address (`ConnectInfo`, which throttling, the
/// session list and the audit log read) the one behind trusted proxies.
pub async fn forwarded_client(
    State(proxies): State<TrustedProxies>,
    mut request: Request,
    next: Next,
) -> Response {
    if !proxies.0.is_empty() {
        if let Some(ConnectInfo(peer)) = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
        {
            let client = proxies.client(peer.ip(), request.headers());
            if client != peer.ip() {
                request
                    .extensions_mut()
                    .insert(ConnectInfo(SocketAddr::new(client, 0)));
            }
        }
    }
    next.run(request).await
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

    const HTTP: SiteScheme = SiteScheme("http");

    fn check(pairs: &[(&'static str, &str)]) -> OriginCheck {
        origin_check(&headers(pairs), HTTP)
    }

    #[test]
    fn same_origin_posts_pass() {
        let host = ("host", "app.example:3000");
        for pairs in [
            vec![host, ("origin", "http://app.example:3000")],
            vec![host, ("origin", "http://APP.example:3000")],
            vec![host, ("sec-fetch-site", "same-origin")],
            vec![host, ("referer", "http://app.example:3000/login?x=1")],
            // No browser headers: not a browser.
            vec![host],
            vec![("host", "app.example"), ("origin", "http://app.example:80")],
        ] {
            assert_eq!(check(&pairs), OriginCheck::SameOrigin, "{pairs:?}");
        }
    }

    #[test]
    fn another_scheme_host_or_port_is_cross_origin() {
        let host = ("host", "app.example:3000");
        for pairs in [
            vec![host, ("origin", "https://evil.example")],
            vec![host, ("origin", "null")],
            vec![host, ("origin", "http://app.example:3000.evil.example")],
            vec![host, ("origin", "https://app.example:3000")],
            vec![host, ("origin", "http://app.example:3001")],
            vec![host, ("origin", "http://app.example")],
            vec![host, ("sec-fetch-site", "cross-site")],
            vec![host, ("sec-fetch-site", "same-site")],
            vec![host, ("referer", "http://evil.example/app.example:3000")],
            vec![host, ("referer", "https://app.example:3000/")],
        ] {
            assert_eq!(check(&pairs), OriginCheck::CrossOrigin, "{pairs:?}");
        }
    }

    #[test]
    fn an_https_site_refuses_its_plain_http_origin() {
        let pairs = [("host", "app.example"), ("origin", "http://app.example")];
        assert_eq!(
            origin_check(&headers(&pairs), SiteScheme("https")),
            OriginCheck::CrossOrigin
        );
        let pairs = [("host", "app.example"), ("origin", "https://app.example")];
        assert_eq!(
            origin_check(&headers(&pairs), SiteScheme("https")),
            OriginCheck::SameOrigin
        );
    }

    #[test]
    fn a_state_change_without_host_is_refused() {
        assert_eq!(check(&[]), OriginCheck::NoHost);
        assert_eq!(
            check(&[("origin", "http://app.example")]),
            OriginCheck::NoHost
        );
    }

    #[test]
    fn only_a_trusted_proxy_names_the_client_and_only_its_own_hop_counts() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let proxies = TrustedProxies(vec![proxy].into());
        let forwarded = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(X_FORWARDED_FOR, HeaderValue::from_str(value).unwrap());
            headers
        };
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        // The proxy appends the address it saw; what the client wrote before
        // it (a spoofed hop) is not believed.
        assert_eq!(
            proxies.client(proxy, &forwarded("198.51.100.1, 203.0.113.7")),
            ip("203.0.113.7")
        );
        // Not from a trusted proxy: the header is the client's own words.
        assert_eq!(
            proxies.client(ip("203.0.113.9"), &forwarded("198.51.100.1")),
            ip("203.0.113.9")
        );
        // Two trusted hops in a row are both skipped.
        assert_eq!(
            proxies.client(proxy, &forwarded("203.0.113.7, 10.0.0.5")),
            ip("203.0.113.7")
        );
        // No header, or garbage: the proxy itself.
        assert_eq!(proxies.client(proxy, &HeaderMap::new()), proxy);
        assert_eq!(proxies.client(proxy, &forwarded("not-an-address")), proxy);
        // None trusted: never read.
        assert_eq!(
            TrustedProxies::default().client(proxy, &forwarded("203.0.113.7")),
            proxy
        );
    }
}
