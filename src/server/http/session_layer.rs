//! The session layer: finds the session named by the request's cookie, hands it
//! to the request as a `tower_sessions::Session`, then stores what the request
//! changed and answers the cookie.
//!
//! It takes the place of tower-sessions' `SessionManagerLayer` for one rule that
//! layer cannot keep: a session deleted while a request ran (a sign-out, an
//! expiry, a revocation from another device) stays deleted and its cookie is not
//! sent again. tower-sessions sends the cookie after every successful save;
//! here the store refuses to save a deleted record (`store::sessions`) and this
//! layer answers with a removal cookie instead.

use crate::server::store::{SessionFault, Sessions};
use crate::{auth::AppError, cookies};
use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::sync::Arc;
use time::OffsetDateTime;
use tower_sessions::{cookie::Cookie, session::Id, Expiry, Session};

/// The store and the cookie's name and flags.
#[derive(Clone, Debug)]
pub struct SessionLayer {
    store: Arc<Sessions>,
    cookie_name: Arc<str>,
    secure: bool,
}

impl SessionLayer {
    pub fn new(store: Sessions, cookie_name: &str, secure: bool) -> Self {
        Self {
            store: Arc::new(store),
            cookie_name: cookie_name.into(),
            secure,
        }
    }

    /// The session id in the request's cookies, if one parses.
    fn session_id(&self, headers: &HeaderMap) -> Option<Id> {
        let value = cookies::find(headers, &self.cookie_name)?;
        let id = value.parse::<Id>().ok();
        if id.is_none() {
            tracing::warn!("malformed session cookie ignored");
        }
        id
    }

    fn session_cookie(&self, id: Id, expiry: Option<Expiry>) -> Cookie<'static> {
        let max_age = match expiry {
            Some(Expiry::OnInactivity(span)) => Some(span),
            Some(Expiry::AtDateTime(at)) => Some(at - OffsetDateTime::now_utc()),
            Some(Expiry::OnSessionEnd) | None => None,
        };
        cookies::build(&self.cookie_name, id.to_string(), self.secure, max_age)
    }

    fn removal_cookie(&self) -> Cookie<'static> {
        cookies::removal(&self.cookie_name, self.secure)
    }
}

fn set_cookie(response: &mut Response, cookie: &Cookie<'_>) {
    match HeaderValue::from_str(&cookie.to_string()) {
        Ok(value) => {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        Err(error) => tracing::error!(error = %error, "session cookie is not a header value"),
    }
}

/// The middleware. A session nobody signed into is never stored, so anonymous
/// pages cost no write.
pub async fn manage_sessions(
    State(layer): State<SessionLayer>,
    mut request: Request,
    next: Next,
) -> Response {
    let presented = layer.session_id(request.headers());
    let session = Session::new(presented, layer.store.clone(), None);
    request.extensions_mut().insert(session.clone());
    let mut response = next.run(request).await;

    if session.is_empty().await {
        if presented.is_some() {
            set_cookie(&mut response, &layer.removal_cookie());
        }
        return response;
    }
    if !session.is_modified() || response.status().is_server_error() {
        return response;
    }
    match session.save().await {
        Ok(()) => match session.id() {
            Some(id) => set_cookie(&mut response, &layer.session_cookie(id, session.expiry())),
            None => {
                tracing::error!("a saved session has no id");
                return AppError::Internal.into_response();
            }
        },
        Err(error) => match SessionFault::of(&error) {
            SessionFault::Ended => {
                tracing::info!("session ended while a request ran; its cookie is cleared");
                set_cookie(&mut response, &layer.removal_cookie());
            }
            SessionFault::Unavailable => return crate::server::outage::unavailable_page(),
            SessionFault::Other => {
                tracing::error!(error = %error, "session save failed");
                return AppError::Internal.into_response();
            }
        },
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn layer() -> SessionLayer {
        let database = crate::server::store::Database::in_memory().await;
        let store = Sessions::new(crate::server::store::SqlSessions::new(database));
        SessionLayer::new(store, "session", true)
    }

    #[tokio::test]
    async fn the_cookie_is_found_among_others_and_a_malformed_one_is_ignored() {
        let layer = layer().await;
        let id = Id::default();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            format!("theme=dark; session={id}; other=1")
                .parse()
                .unwrap(),
        );
        assert_eq!(layer.session_id(&headers), Some(id));
        headers.insert(header::COOKIE, "session=not-an-id".parse().unwrap());
        assert_eq!(layer.session_id(&headers), None);
    }

    #[tokio::test]
    async fn cookies_carry_the_flags_and_max_age_of_the_expiry() {
        let layer = layer().await;
        let id = Id::default();
        let browser_session = layer
            .session_cookie(id, Some(Expiry::OnSessionEnd))
            .to_string();
        assert_eq!(
            browser_session,
            format!("session={id}; HttpOnly; SameSite=Lax; Secure; Path=/")
        );
        let in_a_day = OffsetDateTime::now_utc() + time::Duration::days(1);
        let remembered = layer
            .session_cookie(id, Some(Expiry::AtDateTime(in_a_day)))
            .to_string();
        assert!(remembered.contains("Max-Age=86399") || remembered.contains("Max-Age=86400"));
        let removal = layer.removal_cookie().to_string();
        assert!(removal.starts_with("session=; "), "{removal}");
        assert!(removal.contains("Max-Age=0"), "{removal}");
    }
}
