//! `GET /api/me`: who is calling, as JSON, for scripts and apps. A bearer
//! token (`Authorization: Bearer …`) or the session cookie identifies the
//! caller; a request with a bearer token is judged by that token alone (the
//! origin check has already dropped its cookies, see `middleware`).
//!
//! Refusals are 401 with `WWW-Authenticate` (RFC 6750): with
//! `error="invalid_token"` and an `error_description` when a token (or an
//! `Authorization` header without one) was sent, and without an error when
//! the request carried no credentials at all.

use super::state::AppState;
use crate::auth::{
    ssr::{
        tokens::{self, jwt::InvalidToken, BearerError},
        SignedIn,
    },
    AppError,
};
use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Response},
    Extension, Json,
};
use serde::Serialize;

/// The realm named in `WWW-Authenticate`.
const REALM: &str = "persistent-login";

/// Who is calling, as `GET /api/me` answers.
#[derive(Debug, Serialize)]
pub struct Caller {
    pub user_id: i64,
    pub username: String,
    /// `token` or `session`.
    pub authenticated_by: &'static str,
    /// Unix seconds: when the token expires, or when the session ends if idle.
    pub expires_at: i64,
}

/// What an `Authorization` header holds: nothing, a bearer token, or
/// something else (another scheme, an empty token).
#[derive(Debug, PartialEq, Eq)]
pub enum Authorization<'a> {
    None,
    Bearer(&'a str),
    Unusable,
}

pub fn authorization(headers: &HeaderMap) -> Authorization<'_> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Authorization::None;
    };
    let Ok(value) = value.to_str() else {
        return Authorization::Unusable;
    };
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            let token = token.trim();
            if token.is_empty() || token.contains(' ') {
                Authorization::Unusable
            } else {
                Authorization::Bearer(token)
            }
        }
        _ => Authorization::Unusable,
    }
}

pub async fn me(
    State(state): State<AppState>,
    signed_in: Option<Extension<Option<SignedIn>>>,
    headers: HeaderMap,
) -> Response {
    let service = &state.auth;
    match authorization(&headers) {
        Authorization::Bearer(token) => match tokens::authenticate(service, token).await {
            Ok(holder) => Json(Caller {
                user_id: holder.user_id,
                username: holder.username,
                authenticated_by: "token",
                expires_at: holder.expires_at,
            })
            .into_response(),
            Err(BearerError::Invalid(reason)) => refused(Some(reason)),
            Err(BearerError::Database(error)) if crate::server::store::is_unavailable(&error) => {
                super::outage::outage().into_response()
            }
            Err(BearerError::Database(error)) => {
                tracing::error!(%error, "bearer token check failed");
                AppError::Internal.into_response()
            }
        },
        Authorization::Unusable => refused(Some(InvalidToken::Missing)),
        Authorization::None => match signed_in.and_then(|Extension(signed_in)| signed_in) {
            Some(signed_in) => Json(Caller {
                user_id: signed_in.user_id,
                username: signed_in.username.clone(),
                authenticated_by: "session",
                expires_at: service.policy.idle_deadline(&signed_in),
            })
            .into_response(),
            None => refused(None),
        },
    }
}

/// 401 with its `WWW-Authenticate` challenge: the reason a token was
/// refused, or none when no credentials came at all.
fn refused(reason: Option<InvalidToken>) -> Response {
    let (challenge, error) = match reason {
        Some(reason) => (
            format!(
                "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{}\"",
                reason.description()
            ),
            AppError::InvalidToken,
        ),
        None => (
            format!("Bearer realm=\"{REALM}\""),
            AppError::Unauthenticated,
        ),
    };
    let mut response = error.into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn the_bearer_scheme_is_read_in_any_case_and_nothing_else_passes_as_a_token() {
        assert_eq!(authorization(&HeaderMap::new()), Authorization::None);
        assert_eq!(
            authorization(&with("Bearer abc.def.ghi")),
            Authorization::Bearer("abc.def.ghi")
        );
        assert_eq!(
            authorization(&with("bearer abc")),
            Authorization::Bearer("abc")
        );
        for unusable in [
            "Bearer",
            "Bearer ",
            "Basic dXNlcjpwYXNz",
            "Bearer a b",
            "abc",
        ] {
            assert_eq!(
                authorization(&with(unusable)),
                Authorization::Unusable,
                "{unusable}"
            );
        }
    }

    #[test]
    fn a_refusal_names_the_reason_in_its_challenge() {
        let response = refused(Some(InvalidToken::Expired));
        assert_eq!(response.status(), axum::http::StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            "Bearer realm=\"persistent-login\", error=\"invalid_token\", error_description=\"the token has expired\""
        );
        let anonymous = refused(None);
        assert_eq!(
            anonymous.headers()[header::WWW_AUTHENTICATE],
            "Bearer realm=\"persistent-login\""
        );
    }
}
