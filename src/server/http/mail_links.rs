//! A link from a message (`/email/verify?token=…`) is followed by moving its
//! token into a cookie of its own (`links::LinkCookies`, HttpOnly, one hour)
//! and sending the browser on (303) to the same page without it: the token is
//! then in no address bar, history entry or `Referer` header, nothing is
//! stored on the server for the visit, and a mail scanner that fetches the
//! link changes nothing (the page asks before it acts).

use crate::auth::ssr::links::{self, LinkCookies};
use axum::{
    extract::{Request, State},
    http::{header, HeaderValue},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};

pub async fn hold_link_token(
    State(cookies): State<LinkCookies>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let (Some(purpose), true) = (
        links::Purpose::of_page(path),
        request.method() == axum::http::Method::GET,
    ) else {
        return next.run(request).await;
    };
    let Some(token) = token_of(request.uri().query()) else {
        return next.run(request).await;
    };
    let held = cookies.of(purpose).set_cookie(&token);
    match HeaderValue::from_str(&held) {
        Ok(held) => ([(header::SET_COOKIE, held)], Redirect::to(purpose.page())).into_response(),
        // A token of another shape is no link of ours: the page says so.
        Err(_) => Redirect::to(purpose.page()).into_response(),
    }
}

/// The `token` parameter of a query, if any (at most 128 characters: a
/// longer one is no token of ours).
fn token_of(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == "token")
        .map(|(_, value)| value.to_string())
        .filter(|value| !value.is_empty() && value.len() <= 128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_its_own_parameter_only() {
        assert_eq!(token_of(Some("token=abc")), Some("abc".into()));
        assert_eq!(token_of(Some("a=1&token=abc&b=2")), Some("abc".into()));
        assert_eq!(token_of(Some("notatoken=abc")), None);
        assert_eq!(token_of(Some("token=")), None);
        assert_eq!(token_of(None), None);
        assert_eq!(token_of(Some(&format!("token={}", "a".repeat(129)))), None);
    }
}
