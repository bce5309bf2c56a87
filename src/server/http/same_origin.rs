//! The cross-origin check on state-changing requests (on top of SameSite=Lax).

use crate::server::{
    api::{authorization, Authorization},
    errors::Refusal,
};
use axum::{
    extract::{Request, State},
    http::{header, HeaderName, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};

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
    if matches!(authorization(request.headers()), Authorization::Bearer(_)) {
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
}
