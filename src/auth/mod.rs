//! Authentication as both sides see it: the signed-in user, the error a form
//! shows, the password wrapper, and the server functions.
//!
//! The server functions have fixed endpoints and take form-encoded bodies, like
//! a plain HTML form, so the forms work with and without JavaScript:
//!
//! | endpoint             | fields                                                  | success                         |
//! |----------------------|---------------------------------------------------------|---------------------------------|
//! | `POST /api/register` | `username`, `password`                                  | redirect to `/login?registered=1` |
//! | `POST /api/login`    | `username`, `password`, `remember=on`?, `next`?         | redirect to `next` or `/dashboard` |
//! | `POST /api/logout`   | none                                                    | redirect to `/login`            |
//! | `POST /api/me`       | none                                                    | the current user, or `null`     |
//! | `POST /api/sessions` | none                                                    | the user's sessions (JSON)      |
//! | `POST /api/sessions/revoke` | `session` (a handle) or `others=on`              | redirect to `/account`          |
//! | `POST /api/password` | `current_password`, `new_password`, `confirm_password`? | redirect to `/account?password_changed=1` |
//! | `POST /api/token`    | `username`, `password`                                  | a bearer token (JSON `TokenAnswer`) |
//! | `POST /api/tokens`   | none                                                    | how many tokens the user holds  |
//! | `POST /api/tokens/new` | none                                                  | a bearer token (JSON `TokenAnswer`) |
//! | `POST /api/tokens/revoke` | none                                               | how many tokens were revoked    |
//!
//! `/api/sessions…`, `/api/password` and `/api/tokens…` need a live session:
//! without one they answer 401 `session_ended` and send the browser to
//! `/login?ended=1`. `GET /api/me` (a bearer token or the session) is a plain
//! handler in `server::api`.
//!
//! Each body is a few lines over `ssr`, where the rules live and are unit-tested.

mod error;
mod password;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use error::{AppError, InvalidInput};
pub use password::Password;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in user as the UI shows it. Times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub username: String,
    /// When this session began (sign-in time).
    pub signed_in_at: i64,
    /// When the session ends if the user does nothing.
    pub idle_expires_at: i64,
    /// When the session ends whatever the activity.
    pub absolute_expires_at: i64,
    /// Whether "keep me signed in" was ticked.
    pub remembered: bool,
}

/// One session of the signed-in user, as the account page lists it. `handle`
/// names it for revocation; the session id itself never leaves the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub handle: String,
    /// Browser and OS, e.g. "Chrome on Linux".
    pub device: String,
    /// The client address it signed in from.
    pub client: String,
    pub signed_in_at: i64,
    pub last_active_at: i64,
    pub idle_expires_at: i64,
    pub absolute_expires_at: i64,
    pub remembered: bool,
    /// The session of the browser asking.
    pub current: bool,
}

/// A bearer token as `POST /api/token` answers it (RFC 6749's field names).
/// Its `Debug` form hides the token, a secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenAnswer {
    pub token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: i64,
}

impl std::fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAnswer")
            .field("token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

#[server(prefix = "/api", endpoint = "register")]
pub async fn register(username: String, password: Password) -> Result<(), AppError> {
    let cx = ssr::RequestContext::get()?;
    let client = cx.client_address();
    cx.answer(ssr::register_account(&cx.state, &client, &username, password).await)?;
    leptos_axum::redirect("/login?registered=1");
    Ok(())
}

#[server(prefix = "/api", endpoint = "login")]
pub async fn login(
    username: String,
    password: Password,
    remember: Option<String>,
    next: Option<String>,
) -> Result<(), AppError> {
    let cx = ssr::RequestContext::get()?;
    let remember = remember.is_some_and(|value| !value.is_empty());
    cx.answer(ssr::sign_in(&cx, &username, password, remember).await)?;
    leptos_axum::redirect(&ssr::safe_next(next.as_deref()));
    Ok(())
}

#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::sign_out(&cx).await)?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in user's sessions, most recently active first.
#[server(prefix = "/api", endpoint = "sessions")]
pub async fn list_sessions() -> Result<Vec<SessionInfo>, AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::list_sessions(&cx).await)
}

/// Ends one session of the signed-in user (`session` = its handle), or every
/// other one (`others=on`).
#[server(prefix = "/api", endpoint = "sessions/revoke")]
pub async fn revoke_session(
    session: Option<String>,
    others: Option<String>,
) -> Result<(), AppError> {
    let cx = ssr::RequestContext::get()?;
    let others = others.is_some_and(|value| !value.is_empty());
    let result = match (session.filter(|handle| !handle.is_empty()), others) {
        (None, true) => ssr::revoke_other_sessions(&cx).await.map(|_| ()),
        (Some(handle), false) => ssr::revoke_session(&cx, &handle).await,
        _ => Err(ssr::AuthError::BadRequest),
    };
    cx.answer(result)?;
    ssr::redirect_form_post("/account");
    Ok(())
}

/// Changes the signed-in user's password; every other session ends.
#[server(prefix = "/api", endpoint = "password")]
pub async fn change_password(
    current_password: Password,
    new_password: Password,
    confirm_password: Option<Password>,
) -> Result<(), AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::change_password(&cx, current_password, new_password, confirm_password).await)?;
    ssr::redirect_form_post("/account?password_changed=1");
    Ok(())
}

/// A bearer token for a username and password: the sign-in's checks and
/// throttling, for clients that are not browsers.
#[server(prefix = "/api", endpoint = "token")]
pub async fn issue_token(username: String, password: Password) -> Result<TokenAnswer, AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::tokens::issue_for_credentials(&cx, &username, password).await)
}

/// How many bearer tokens the signed-in user holds (issued since the last
/// revocation and not yet expired).
#[server(prefix = "/api", endpoint = "tokens")]
pub async fn count_tokens() -> Result<i64, AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::tokens::outstanding_for_session(&cx).await)
}

/// A new bearer token for the signed-in user, shown once.
#[server(prefix = "/api", endpoint = "tokens/new")]
pub async fn create_token() -> Result<TokenAnswer, AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::tokens::issue_for_session(&cx).await)
}

/// Revokes every bearer token of the signed-in user.
#[server(prefix = "/api", endpoint = "tokens/revoke")]
pub async fn revoke_tokens() -> Result<i64, AppError> {
    let cx = ssr::RequestContext::get()?;
    let ended = cx.answer(ssr::tokens::revoke_for_session(&cx).await)?;
    ssr::redirect_form_post("/account");
    Ok(ended)
}

#[server(prefix = "/api", endpoint = "me")]
pub async fn get_current_user() -> Result<Option<CurrentUser>, AppError> {
    let cx = ssr::RequestContext::get()?;
    Ok(cx.current_user())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_function_argument_struct_never_prints_the_password() {
        let input = Login {
            username: "alice".into(),
            password: Password::new("hunter2-is-my-password"),
            remember: None,
            next: None,
        };
        let shown = format!("{input:?}");
        assert!(
            shown.contains("alice") && !shown.contains("hunter2"),
            "{shown}"
        );
        let shown = format!(
            "{:?}",
            Register {
                username: "bob".into(),
                password: Password::new("hunter2-is-my-password")
            }
        );
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
