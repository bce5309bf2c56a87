//! Server-only authentication: input rules, passwords (argon2id), the typed
//! session, user queries and the error type with its status codes. The server
//! functions in `auth` are thin wrappers over the flows here.

mod accounts;
pub mod activity;
pub mod alerts;
pub mod deletion;
mod devices;
pub mod email;
mod error;
mod flows;
pub mod housekeeping;
pub mod links;
pub mod mailbox;
mod notices;
pub mod passkeys;
mod password;
mod password_check;
mod random;
pub mod reauth;
pub mod recovery;
pub mod session;
mod starvation;
mod throttle;
pub mod tokens;
mod user_agent;
pub mod users;
mod validation;

pub use crate::clock::Clock;
pub use accounts::{
    change_password, ended_sessions, keep_signed_in, list_sessions, live_sessions, not_me,
    revoke_other_sessions, revoke_session, sign_out_everywhere, SignedOutEverywhere,
};
pub use devices::device_cookie;
pub use error::{AuthError, OUTAGE_RETRY_AFTER_SECS};
pub use flows::{create_user, register_account, sign_in, sign_out, sign_up};
pub use password::{HashingPolicy, PasswordHasher, PasswordParams};
pub use session::{Origin, SessionPolicy, SignedIn, SIGNED_IN_KEY};
pub use throttle::{Limit, ThrottleRules};
pub use user_agent::describe as describe_device;
pub use validation::{parse_username, referring_path, safe_next, safe_return, PasswordRules};

use super::{AppError, CurrentUser};
use crate::server::store::Database;
use crate::server::store::Sessions;
use axum::{extract::ConnectInfo, http::request::Parts};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use std::{net::SocketAddr, sync::Arc};
use tower_sessions::Session;

/// What the authentication flows need from the running server: one shared
/// value, so that the many clones a request makes (axum hands every handler
/// and layer its own copy of the state, and each server function takes one)
/// cost one reference count each.
#[derive(Clone)]
pub struct AuthService(Arc<Services>);

impl AuthService {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AuthService {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The parts of [`AuthService`].
pub struct Services {
    pub database: Database,
    pub hasher: Arc<PasswordHasher>,
    pub policy: SessionPolicy,
    pub password_rules: PasswordRules,
    pub throttle: ThrottleRules,
    pub clock: Clock,
    pub device_cookie: random::TokenCookie,
    /// The session store seam: the index of users' sessions and revocation.
    pub sessions: Sessions,
    /// How bearer tokens are signed and checked.
    pub tokens: tokens::SharedTokenRules,
    /// How long each user's security activity is kept.
    pub activity: activity::ActivityRules,
    /// Where messages wait for the sender.
    pub outbox: crate::server::store::outbox::Outbox,
    /// How the links in messages are made.
    pub mail: mailbox::MailRules,
    /// The relying party passkeys are made for (#25).
    pub passkeys: passkeys::RelyingParty,
    /// The cookies followed mail links' tokens wait in.
    pub link_cookies: links::LinkCookies,
}

/// Everything a server function needs about the request it answers.
pub struct RequestContext {
    pub state: AuthService,
    pub session: Session,
    /// Who is signed in on this request (the session layer resolved it).
    pub signed_in: Option<SignedIn>,
    /// The session this request presented was just ended because a copy of
    /// its cookie came back.
    pub reused: bool,
    pub client: Option<SocketAddr>,
}

impl RequestContext {
    /// Reads the request from the Leptos context. Missing pieces are a wiring
    /// fault of ours, so they answer 500.
    pub fn get() -> Result<Self, AppError> {
        let fault = |what: &str| {
            tracing::error!(missing = what, "server function called without its context");
            AppError::Internal
        };
        let state = use_context::<AuthService>().ok_or_else(|| fault("AuthService"))?;
        let parts = use_context::<Parts>().ok_or_else(|| fault("request parts"))?;
        let session = parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or_else(|| fault("session layer"))?;
        let signed_in = parts
            .extensions
            .get::<Option<SignedIn>>()
            .cloned()
            .flatten();
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0);
        let reused = parts.extensions.get::<session::ReusedSession>().is_some();
        Ok(Self {
            state,
            session,
            signed_in,
            reused,
            client,
        })
    }

    /// Turns a flow's result into the server function's answer: the detail of a
    /// fault is logged once, the user gets a message fit to show (its status is
    /// given by `server::errors`). A request whose session has ended is sent
    /// to sign in again.
    pub fn answer<T>(&self, result: Result<T, AuthError>) -> Result<T, AppError> {
        result.map_err(|error| {
            if error.is_fault() {
                tracing::error!(error = %error, "request failed");
            }
            let public = error.to_public();
            if let Some(page) = public.sign_in_again_page() {
                leptos_axum::redirect(page);
            } else if public == AppError::ReauthRequired {
                // Back to the page the form was on, once confirmed.
                let back = request_header(axum::http::header::REFERER)
                    .as_deref()
                    .and_then(referring_path)
                    .unwrap_or_else(|| crate::routes::ACCOUNT_PAGE.to_string());
                let action = use_context::<Parts>()
                    .map(|parts| parts.uri.path().to_string())
                    .unwrap_or_default();
                leptos_axum::redirect(&crate::routes::confirm_page(&action, &back));
            }
            public
        })
    }

    /// Where this session signed in from: the device named from the
    /// User-Agent, and the client address.
    pub fn session_origin(&self) -> Origin {
        let user_agent = request_header(axum::http::header::USER_AGENT);
        Origin {
            device: user_agent::describe(user_agent.as_deref()),
            client: self.client_address(),
        }
    }

    /// The page a browser's request came from (its `Origin` header), if any.
    pub fn request_origin(&self) -> Option<String> {
        request_header(axum::http::header::ORIGIN)
    }

    /// The client's IP address as text, for throttling and the audit log.
    pub fn client_address(&self) -> String {
        self.client
            .map_or_else(|| "unknown".to_string(), |address| address.ip().to_string())
    }

    /// The device cookie's token, when the browser sent a well-formed one
    /// (read only by sign-in, so other requests do not parse it).
    pub fn device_token(&self) -> Option<String> {
        self.from_headers(|headers| self.state.device_cookie.find(headers))
    }

    /// What `read` finds in the request's headers (a cookie, say).
    pub fn from_headers<T>(
        &self,
        read: impl FnOnce(&axum::http::HeaderMap) -> Option<T>,
    ) -> Option<T> {
        use_context::<Parts>().and_then(|parts| read(&parts.headers))
    }

    /// Hands the browser a cookie beside the session's (`set_cookie`: a
    /// `Set-Cookie` value, such as `TokenCookie::set_cookie` makes).
    pub fn set_cookie(&self, set_cookie: &str) {
        match (
            use_context::<ResponseOptions>(),
            axum::http::HeaderValue::from_str(set_cookie),
        ) {
            (Some(response), Ok(value)) => {
                response.append_header(axum::http::header::SET_COOKIE, value)
            }
            _ => tracing::warn!("cookie not set"),
        }
    }

    /// The signed-in state of this request, or `SessionEnded` (or
    /// `SessionReused`, when that is why).
    pub fn require_signed_in(&self) -> Result<&SignedIn, AuthError> {
        self.signed_in.as_ref().ok_or(if self.reused {
            AuthError::SessionReused
        } else {
            AuthError::SessionEnded
        })
    }

    pub fn current_user(&self) -> Option<CurrentUser> {
        self.signed_in.as_ref().map(|signed_in| {
            self.state
                .policy
                .describe(signed_in, self.state.clock.now())
        })
    }
}

/// A header of the request a server function answers, as text.
fn request_header(name: axum::http::HeaderName) -> Option<String> {
    use_context::<Parts>().and_then(|parts| {
        parts
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    })
}

/// After success, the browser goes on to `path`: a plain form post is
/// redirected there (302); a script's call gets its answer as before, with
/// `path` in `Location` and Leptos's redirect header, which the page's forms
/// follow (and other clients may ignore).
pub fn go_on_to(path: &str) {
    leptos_axum::redirect(path);
}
