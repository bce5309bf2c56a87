//! Re-authentication for sensitive actions ("sudo mode", #23): creating an
//! API token, revoking every token, signing out everywhere else and deleting
//! the account need the password entered on this session within
//! `session.reauth_window_secs`, counted from the sign-in or the last
//! confirmation on `/confirm`; each sensitive action renews it. The window is
//! a time in the server-side session (`SignedIn::confirmed_at`), so every
//! instance sees it and it ends with the session. A bearer token never
//! reaches these flows: its requests carry no session.

use super::{
    password_check::PasswordCheck, session, users::UserRecord, validation::presented_password,
    AuthError, RequestContext, SignedIn, SIGNED_IN_KEY,
};
use crate::auth::{ActivityKind, Password};
use secrecy::SecretString;

/// The signed-in state of this request when its password was entered within
/// the window; `ReauthRequired` when it was not (and nothing may change),
/// `SessionEnded` when no one is signed in.
pub fn require_confirmed(cx: &RequestContext) -> Result<&SignedIn, AuthError> {
    let signed_in = cx.require_signed_in()?;
    match cx
        .state
        .policy
        .confirmed_until(signed_in, cx.state.clock.now())
    {
        Some(_) => Ok(signed_in),
        None => {
            let client = cx.client_address();
            tracing::info!(target: "audit", event = "reauth_required", user_id = signed_in.user_id, client, outcome = "refused");
            Err(AuthError::ReauthRequired)
        }
    }
}

/// After a sensitive action: the window starts again from now.
pub async fn renew_confirmation(cx: &RequestContext, state: &SignedIn) -> Result<(), AuthError> {
    store_confirmed_at(cx, state, cx.state.clock.now()).await
}

/// Stores `state` on this session with the window counted from `at` (0:
/// closed).
async fn store_confirmed_at(
    cx: &RequestContext,
    state: &SignedIn,
    at: i64,
) -> Result<(), AuthError> {
    let state = SignedIn {
        confirmed_at: at,
        ..state.clone()
    };
    cx.session.insert(SIGNED_IN_KEY, &state).await?;
    Ok(())
}

/// `/confirm`: checks the signed-in user's password, counted on the sign-in
/// throttle of the account (or of this browser) and of the client address as
/// a sign-in is, and opens the window under a new session id, as a sign-in
/// does.
pub async fn confirm(cx: &RequestContext, password: Password) -> Result<(), AuthError> {
    let signed_in = cx.require_signed_in()?.clone();
    let service = &cx.state;
    let password = presented_password(password.into_inner())?;
    let Some(user) = super::users::find_by_id(&service.database, signed_in.user_id).await? else {
        return Err(AuthError::SessionEnded);
    };
    check_own_password(cx, &user, password, "confirm").await?;
    let now = service.clock.now();
    let state = SignedIn {
        confirmed_at: now,
        id_issued_at: now,
        id_presented: true,
        ..signed_in
    };
    session::renew(&cx.session, &service.policy, &state).await?;
    let kind = ActivityKind::Confirmed;
    super::activity::record_here(cx, user.id, kind, Some(&state.handle)).await?;
    let client = cx.client_address();
    tracing::info!(target: "audit", event = "confirm", user_id = user.id, client, outcome = "success");
    Ok(())
}

/// Ends this session's window early (the account page's button): the next
/// sensitive action asks for the password again.
pub async fn end_confirmation(cx: &RequestContext) -> Result<(), AuthError> {
    let signed_in = cx.require_signed_in()?;
    store_confirmed_at(cx, signed_in, 0).await?;
    let client = cx.client_address();
    tracing::info!(target: "audit", event = "confirm_ended", user_id = signed_in.user_id, client, outcome = "success");
    Ok(())
}

/// Checks the password a signed-in user entered for `user` (a confirmation,
/// or the current password of a password change), counted on the sign-in
/// throttle as a sign-in is; `WrongPassword` when it does not match. The
/// refusals are audited under `event`.
pub(super) async fn check_own_password(
    cx: &RequestContext,
    user: &UserRecord,
    password: String,
    event: &'static str,
) -> Result<(), AuthError> {
    let service = &cx.state;
    let client = cx.client_address();
    let now = service.clock.now();
    let check = PasswordCheck::for_account(cx, &user.username_key, now).await?;
    if let Some(refusal) = check.admit(service, now).await? {
        let retry_after_secs = refusal.retry_after_secs;
        tracing::warn!(target: "audit", event, user_id = user.id, client, throttled_by = ?refusal.scope, retry_after_secs, outcome = "throttled");
        return Err(AuthError::Throttled { retry_after_secs });
    }
    let verified = service
        .hasher
        .verify(
            SecretString::from(password),
            Some(user.password_hash.clone()),
        )
        .await;
    if !check.verified(service, verified).await? {
        let handle = cx.signed_in.as_ref().map(|state| state.handle.as_str());
        check.failed(cx, user.id, handle, now).await?;
        tracing::info!(target: "audit", event, user_id = user.id, client, outcome = "wrong_password");
        return Err(AuthError::WrongPassword);
    }
    check.succeeded(service).await
}
