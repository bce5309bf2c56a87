//! The app's cookies (the session's, the device's and a passkey sign-in's):
//! one way to name one, one way to read one from a request and one way to
//! write one, `HttpOnly`, `SameSite=Lax`, `Path=/`, no `Domain`, and
//! `Secure` when configured.

use axum::http::{header, HeaderMap};
use time::{Duration, OffsetDateTime};
use tower_sessions::cookie::{Cookie, SameSite};

/// The name of the app's cookie `base` beside the session cookie: with its
/// `__Host-` prefix when the session cookie has it (HTTPS deployments).
pub fn beside_session(session_cookie: &str, base: &str) -> String {
    if session_cookie.starts_with("__Host-") {
        format!("__Host-{base}")
    } else {
        base.to_string()
    }
}

/// The value of the cookie `name` among the request's `Cookie` headers.
pub fn find(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_string())
}

/// A cookie for `Set-Cookie`; without `max_age` it ends with the browser session.
pub fn build(
    name: &str,
    value: String,
    secure: bool,
    max_age: Option<Duration>,
) -> Cookie<'static> {
    let mut cookie = Cookie::build((name.to_string(), value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/");
    if let Some(max_age) = max_age {
        cookie = cookie.max_age(max_age);
    }
    cookie.build()
}

/// The `Set-Cookie` that makes the browser drop the cookie `name`.
pub fn removal(name: &str, secure: bool) -> Cookie<'static> {
    let mut cookie = build(name, String::new(), secure, Some(Duration::ZERO));
    cookie.set_expires(OffsetDateTime::UNIX_EPOCH);
    cookie
}
