//! The server functions: fixed endpoints (see the table in `auth`), each a
//! few lines over `auth::ssr`, where the rules live and are unit-tested.

#[cfg(feature = "ssr")]
use super::ssr;
use super::{
    ActivityPage, AppError, CurrentUser, EmailStatus, EndedSessions, LinkState, PasskeyInfo,
    Password, SessionInfo, TokenAnswer,
};
use leptos::prelude::*;

/// Creates an account (with an email address to verify, if given) and signs
/// it in on this browser.
#[server(prefix = "/api", endpoint = "register")]
pub async fn register(
    username: String,
    password: Password,
    email: Option<String>,
    remember: Option<String>,
) -> Result<(), AppError> {
    let cx = ssr::RequestContext::get()?;
    let remember = remember.is_some_and(|value| !value.is_empty());
    let email = email.as_deref();
    cx.answer(ssr::sign_up(&cx, &username, password, email, remember).await)?;
    // Given an address (the sign-up accepted it), a link is on its way.
    let gave_address = email.is_some_and(|email| !email.trim().is_empty());
    ssr::go_on_to(if gave_address {
        crate::routes::SIGNED_UP_CHECK_INBOX_PAGE
    } else {
        crate::routes::DASHBOARD_PAGE
    });
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
    ssr::go_on_to(&ssr::safe_next(next.as_deref()));
    Ok(())
}

#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::sign_out(&cx).await)?;
    ssr::go_on_to(crate::routes::SIGNED_OUT_PAGE);
    Ok(())
}

/// Keeps this session signed in after the browser closes ("keep me signed
/// in", asked after the sign-in).
#[server(prefix = "/api", endpoint = "sessions/keep")]
pub async fn keep_signed_in() -> Result<(), AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::keep_signed_in(&cx).await)?;
    ssr::go_on_to(crate::routes::KEPT_PAGE);
    Ok(())
}

/// The signed-in user's sessions, most recently active first.
#[server(prefix = "/api", endpoint = "sessions")]
pub async fn list_sessions() -> Result<Vec<SessionInfo>, AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::list_sessions(&cx).await)
}

/// The signed-in user's sessions that the server ended to make room for a
/// new sign-in past the limit per user, newest first.
#[server(prefix = "/api", endpoint = "sessions/ended")]
pub async fn list_ended_sessions() -> Result<EndedSessions, AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::ended_sessions(&cx).await)
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
    let (result, done) = match (session.filter(|handle| !handle.is_empty()), others) {
        (None, true) => (
            ssr::revoke_other_sessions(&cx).await.map(|_| ()),
            crate::routes::OTHERS_SIGNED_OUT_PAGE,
        ),
        (Some(handle), false) => (
            ssr::revoke_session(&cx, &handle).await,
            crate::routes::SESSION_SIGNED_OUT_PAGE,
        ),
        _ => (Err(ssr::AuthError::BadRequest), crate::routes::ACCOUNT_PAGE),
    };
    cx.answer(result)?;
    ssr::go_on_to(done);
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
    ssr::go_on_to("/account?password_changed=1");
    Ok(())
}

/// Confirms the signed-in user's password for the sensitive actions (a new
/// session id, as at sign-in), then goes back to `next`, a path on this site
/// (the account page otherwise). A script's call is answered with that path
/// and goes on by itself.
#[server(prefix = "/api", endpoint = "confirm")]
pub async fn confirm(password: Password, next: Option<String>) -> Result<String, AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::reauth::confirm(&cx, password).await)?;
    let back = ssr::safe_return(next.as_deref());
    ssr::go_on_to(&back);
    Ok(back)
}

/// Ends this session's re-authentication window early: the next sensitive
/// action asks for the password again.
#[server(prefix = "/api", endpoint = "confirm/end")]
pub async fn end_confirmation() -> Result<(), AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::reauth::end_confirmation(&cx).await)?;
    ssr::go_on_to(crate::routes::ACCOUNT_PAGE);
    Ok(())
}

/// The signed-in user's own security activity, newest first, a page at a
/// time: `before` is the `older` cursor of the previous page.
#[server(prefix = "/api", endpoint = "activity")]
pub async fn list_activity(before: Option<i64>) -> Result<ActivityPage, AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::activity::for_session(&cx, before).await)
}

/// "This wasn't me": ends every other session of the user and revokes every
/// token, then leads to the password change (a sensitive action).
#[server(prefix = "/api", endpoint = "activity/not-me")]
pub async fn not_me() -> Result<(), AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::not_me(&cx).await)?;
    ssr::go_on_to(crate::routes::AFTER_NOT_ME_PAGE);
    Ok(())
}

/// Deletes the signed-in user's account, `username` typed again to confirm,
/// inside the re-authentication window: every session ends (this one too),
/// every token and trusted browser goes. Answers how many sessions ended; a
/// plain form post goes on to the home page, which says it is done.
#[server(prefix = "/api", endpoint = "account/delete")]
pub async fn delete_account(username: String) -> Result<u64, AppError> {
    let cx = ssr::RequestContext::get()?;
    let ended = cx.answer(ssr::deletion::delete_account(&cx, &username).await)?;
    ssr::go_on_to(crate::routes::ACCOUNT_DELETED_PAGE);
    Ok(ended)
}

/// Sets or changes the signed-in user's email address (a sensitive action):
/// a link to verify it goes there.
#[server(prefix = "/api", endpoint = "email")]
pub async fn set_email(email: String) -> Result<(), AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::email::set_address(&cx, &email).await)?;
    ssr::go_on_to(crate::routes::EMAIL_SENT_PAGE);
    Ok(())
}

/// Sends the verification link again, to the address waiting for it.
#[server(prefix = "/api", endpoint = "email/resend")]
pub async fn resend_email() -> Result<(), AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::email::resend(&cx).await)?;
    ssr::go_on_to(crate::routes::EMAIL_SENT_PAGE);
    Ok(())
}

/// Proves an address with its link: `token`, or the link this browser
/// followed (the page it leads to holds it in the session).
#[server(prefix = "/api", endpoint = "email/verify")]
pub async fn verify_email(token: Option<String>) -> Result<(), AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::email::verify(&cx, token.as_deref()).await)?;
    ssr::go_on_to(crate::routes::EMAIL_VERIFIED_PAGE);
    Ok(())
}

/// The signed-in user's email addresses: verified, and waiting.
#[server(prefix = "/api", endpoint = "email/status")]
pub async fn get_email_status() -> Result<EmailStatus, AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::email::status(&cx).await)
}

/// Whether the verification link this browser followed works.
#[server(prefix = "/api", endpoint = "email/link")]
pub async fn verification_link() -> Result<LinkState, AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::links::state(&cx, ssr::links::Purpose::VerifyEmail).await)
}

/// "Forgot your password?": a reset link to the verified address of the
/// account `login` names (a username or an email address). The same answer
/// whoever is named.
#[server(prefix = "/api", endpoint = "password/forgot")]
pub async fn forgot_password(login: String) -> Result<(), AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::recovery::forgot(&cx, &login).await)?;
    ssr::go_on_to(crate::routes::RESET_REQUESTED_PAGE);
    Ok(())
}

/// Sets a new password with a reset link (`token`, or the one this browser
/// followed): every session and token ends, and this browser is signed in.
#[server(prefix = "/api", endpoint = "password/reset")]
pub async fn reset_password(
    token: Option<String>,
    new_password: Password,
    confirm_password: Option<Password>,
    remember: Option<String>,
) -> Result<(), AppError> {
    let cx = ssr::RequestContext::get()?;
    let remember = remember.is_some_and(|value| !value.is_empty());
    let result = ssr::recovery::reset(
        &cx,
        token.as_deref(),
        new_password,
        confirm_password,
        remember,
    )
    .await;
    cx.answer(result)?;
    ssr::go_on_to(crate::routes::DASHBOARD_PAGE);
    Ok(())
}

/// Whether the reset link this browser followed works, and for whom.
#[server(prefix = "/api", endpoint = "password/reset/link")]
pub async fn reset_link() -> Result<LinkState, AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::links::state(&cx, ssr::links::Purpose::ResetPassword).await)
}

/// Turns new-device alerts on (`enabled=on`) or off (a sensitive action).
#[server(prefix = "/api", endpoint = "email/alerts")]
pub async fn set_alerts(enabled: Option<String>) -> Result<(), AppError> {
    let cx = ssr::RequestContext::get()?;
    let enabled = enabled.is_some_and(|value| !value.is_empty());
    cx.answer(ssr::email::set_alerts(&cx, enabled).await)?;
    ssr::go_on_to(crate::routes::ALERTS_SAVED_PAGE);
    Ok(())
}

/// "This wasn't me" from a new-device alert's link (`token`, or the one this
/// browser followed): every session and token end, then on to a new
/// password (or, for an alert older than a reset link lives, to ask for
/// one). Needs no session.
#[server(prefix = "/api", endpoint = "alerts/not-me")]
pub async fn not_me_by_link(token: Option<String>) -> Result<(), AppError> {
    let cx = ssr::RequestContext::get()?;
    let after = cx.answer(ssr::recovery::not_me_by_link(&cx, token.as_deref()).await)?;
    ssr::go_on_to(after.page());
    Ok(())
}

/// Whether the alert link this browser followed works, and for whom.
#[server(prefix = "/api", endpoint = "alerts/not-me/link")]
pub async fn not_me_link() -> Result<LinkState, AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::links::state(&cx, ssr::links::Purpose::NotMe).await)
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
    ssr::go_on_to("/account");
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
                password: Password::new("hunter2-is-my-password"),
                email: None,
                remember: None,
            }
        );
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}

/// Begins a passkey sign-in (#25): the options for the browser's
/// `navigator.credentials.get`, as JSON.
#[server(prefix = "/api", endpoint = "passkeys/sign-in/options")]
pub async fn passkey_sign_in_options() -> Result<String, AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::passkeys::sign_in_options(&cx).await)
}

/// Signs in with the browser's answer (`credential`, its JSON) to this
/// session's passkey sign-in; the page to go on to (`next`, when it is on
/// this site, or the dashboard).
#[server(prefix = "/api", endpoint = "passkeys/sign-in")]
pub async fn passkey_sign_in(
    credential: String,
    remember: Option<String>,
    next: Option<String>,
) -> Result<String, AppError> {
    let cx = ssr::RequestContext::get()?;
    let remember = remember.is_some_and(|value| !value.is_empty());
    cx.answer(ssr::passkeys::sign_in(&cx, &credential, remember).await)?;
    Ok(ssr::safe_next(next.as_deref()))
}

/// The signed-in user's passkeys, oldest first.
#[server(prefix = "/api", endpoint = "passkeys")]
pub async fn list_passkeys() -> Result<Vec<PasskeyInfo>, AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::passkeys::list(&cx).await)
}

/// Begins adding a passkey (a sensitive action): the options for the
/// browser's `navigator.credentials.create`, as JSON.
#[server(prefix = "/api", endpoint = "passkeys/new/options")]
pub async fn passkey_registration_options() -> Result<String, AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::passkeys::registration_options(&cx).await)
}

/// Adds the passkey the browser made (`credential`, its JSON) under `name`
/// (the browser's device when none), a sensitive action.
#[server(prefix = "/api", endpoint = "passkeys/new")]
pub async fn add_passkey(
    credential: String,
    name: Option<String>,
) -> Result<PasskeyInfo, AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::passkeys::add(&cx, &credential, name.as_deref()).await)
}

/// Renames one of the signed-in user's passkeys (a sensitive action).
#[server(prefix = "/api", endpoint = "passkeys/rename")]
pub async fn rename_passkey(id: i64, name: String) -> Result<(), AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::passkeys::rename(&cx, id, &name).await)?;
    ssr::go_on_to(crate::routes::PASSKEYS_SAVED_PAGE);
    Ok(())
}

/// Removes one of the signed-in user's passkeys (a sensitive action).
#[server(prefix = "/api", endpoint = "passkeys/remove")]
pub async fn remove_passkey(id: i64) -> Result<(), AppError> {
    let cx = ssr::RequestContext::get()?;
    cx.answer(ssr::passkeys::remove(&cx, id).await)?;
    ssr::go_on_to(crate::routes::PASSKEYS_SAVED_PAGE);
    Ok(())
}
