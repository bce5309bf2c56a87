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
//!
//! It also rotates a signed-in session's id once `RotationRules::interval_secs`
//! has passed since it was issued, and serves a request that presents a
//! replaced id as `rotation` says.

use super::rotation::{Found, RequestStore, RotationRules};
use crate::server::store::{Database, SessionFault, Sessions};
use crate::{
    auth::{
        ssr::{activity, describe_device, Clock, SessionPolicy, SignedIn, SIGNED_IN_KEY},
        ActivityKind, AppError,
    },
    cookies,
};
use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderMap, HeaderValue},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::{net::SocketAddr, sync::Arc};
use time::OffsetDateTime;
use tower_sessions::{cookie::Cookie, session::Id, Expiry, Session};

/// The store, the cookie's name and flags, and the rotation of session ids.
#[derive(Clone, Debug)]
pub struct SessionLayer {
    store: Arc<Sessions>,
    cookie_name: Arc<str>,
    secure: bool,
    rotation: Rotation,
    /// Where a reused session is told to its owner (their activity page).
    activity: Option<Database>,
}

/// What rotating needs: the rules, the expiry rules (a rotated cookie keeps
/// the session's expiry) and the server's clock.
#[derive(Clone, Debug)]
struct Rotation {
    rules: RotationRules,
    policy: Option<SessionPolicy>,
    clock: Clock,
}

impl SessionLayer {
    /// Without rotation.
    pub fn new(store: Sessions, cookie_name: &str, secure: bool) -> Self {
        Self {
            store: Arc::new(store),
            cookie_name: cookie_name.into(),
            secure,
            rotation: Rotation {
                rules: RotationRules::OFF,
                policy: None,
                clock: Clock::default(),
            },
            activity: None,
        }
    }

    /// Recording a reused session on its owner's activity in `database`.
    pub fn with_activity(self, database: Database) -> Self {
        Self {
            activity: Some(database),
            ..self
        }
    }

    /// Rotating session ids by `rules`, on `clock`.
    pub fn with_rotation(self, rules: RotationRules, policy: SessionPolicy, clock: Clock) -> Self {
        Self {
            rotation: Rotation {
                rules,
                policy: Some(policy),
                clock,
            },
            ..self
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
    let rules = layer.rotation.rules;
    let store = Arc::new(RequestStore::new(layer.store.clone(), rules, presented));
    let session = Session::new(presented, store.clone(), None);
    request.extensions_mut().insert(session.clone());
    request.extensions_mut().insert(store.clone());
    let requester = Requester::of(&request);
    // An asset's answer may be cached, so it never carries a new session id.
    let may_rotate = !super::no_store::is_static_asset(request.uri().path());
    let mut response = next.run(request).await;

    let empty = session.is_empty().await;
    let found = store.found();
    if let Found::Reused {
        user_id,
        device,
        client,
    } = &found
    {
        tracing::warn!(target: "audit", event = "session_reused", user_id, owner_device = device.as_str(), owner_client = client.as_str(), client = requester.client().as_str(), device = requester.device().as_str(), outcome = "session_ended");
        if let Some(database) = &layer.activity {
            let event = activity::Event {
                kind: ActivityKind::SessionReused,
                device: requester.device(),
                client: requester.client(),
                handle: None,
                detail: None,
            };
            let now = layer.rotation.clock.now();
            if let Err(error) = activity::record(database, *user_id, now, &event).await {
                tracing::error!(error = %error, "a reused session is not on its owner's activity");
            }
        }
    }
    if empty {
        if presented.is_some() {
            set_cookie(&mut response, &layer.removal_cookie());
        }
        return response;
    }
    if response.status().is_server_error() {
        return response;
    }
    let mut state: Option<SignedIn> = session.get(SIGNED_IN_KEY).await.ok().flatten();
    // The first request to present an id issued by rotation: from now on the
    // id it replaced is a copy once the grace is over.
    if let Some(signed_in) = state.as_mut().filter(|signed_in| !signed_in.id_presented) {
        if found == Found::AsPresented {
            signed_in.id_presented = true;
            if let Err(error) = session.insert(SIGNED_IN_KEY, &*signed_in).await {
                tracing::error!(error = %error, "session state not marked presented");
            }
        }
    }
    let mut current = match &found {
        Found::Successor(successor) => Some(*successor),
        _ => session.id(),
    };
    let mut send_cookie = matches!(found, Found::Successor(_));
    // Only the id this request loaded as live rotates: a successor is fresh,
    // and this request's state would be stale for it.
    let mut may_rotate = may_rotate && found == Found::AsPresented;
    if session.is_modified() {
        match session.save().await {
            Ok(()) => {
                // A rotation that ran beside this request may have moved the
                // session: then the answer names the successor.
                current = match store.found() {
                    Found::Successor(successor) => {
                        may_rotate = false;
                        Some(successor)
                    }
                    _ => session.id(),
                };
                send_cookie = true;
            }
            Err(error) => match SessionFault::of(&error) {
                SessionFault::Ended => {
                    tracing::info!("session ended while a request ran; its cookie is cleared");
                    set_cookie(&mut response, &layer.removal_cookie());
                    return response;
                }
                SessionFault::Unavailable => return crate::server::outage::unavailable_page(),
                SessionFault::Other => {
                    tracing::error!(error = %error, "session save failed");
                    return AppError::Internal.into_response();
                }
            },
        }
    }
    let Some(mut id) = current else {
        if send_cookie {
            tracing::error!("a saved session has no id");
            return AppError::Internal.into_response();
        }
        return response;
    };
    if let Some(signed_in) = &state {
        if may_rotate && rules.due(signed_in.id_issued_at, layer.rotation.clock.now()) {
            let keep_until = signed_in
                .signed_in_at
                .saturating_add(rules.keep_retired_secs);
            match layer.store.rotate(&id, keep_until).await {
                Ok(Some(successor)) => {
                    id = successor;
                    send_cookie = true;
                }
                Ok(None) => {}
                // The request is answered all the same; the next one rotates.
                Err(error) => tracing::warn!(error = %error, "session id not rotated"),
            }
        }
    }
    if send_cookie {
        let expiry = match (&state, &layer.rotation.policy) {
            (Some(signed_in), Some(policy)) => Some(policy.expiry(signed_in)),
            _ => session.expiry(),
        };
        set_cookie(&mut response, &layer.session_cookie(id, expiry));
    }
    response
}

/// Who sent a request, for the audit line of a reused session id: kept as
/// read (a cheap copy), described only for that rare line.
struct Requester {
    client: Option<SocketAddr>,
    user_agent: Option<HeaderValue>,
}

impl Requester {
    fn of(request: &Request) -> Self {
        Self {
            client: request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0),
            user_agent: request.headers().get(header::USER_AGENT).cloned(),
        }
    }

    fn client(&self) -> String {
        self.client
            .map_or_else(|| "unknown".to_string(), |client| client.ip().to_string())
    }

    fn device(&self) -> String {
        describe_device(
            self.user_agent
                .as_ref()
                .and_then(|value| value.to_str().ok()),
        )
    }
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
