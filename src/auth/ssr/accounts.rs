//! What a signed-in user does with their account: see where they are signed in,
//! end those sessions, change the password. Each needs a live session (else
//! `SessionEnded`, which sends the user to sign in again) and writes an audit
//! line as sign-in does.

use super::{
    activity::Event,
    devices,
    flows::judged_strong,
    notices::{self, Change},
    reauth, recovery, session, tokens, users,
    validation::{new_password, parse_username, presented_password},
    AuthError, AuthService, RequestContext, SignedIn,
};
use crate::auth::{
    ActivityKind, EndedSessionInfo, EndedSessions, InvalidInput, Password, SessionInfo,
};
use crate::server::store::{SerialLock, StoreError};
use secrecy::SecretString;

/// The user's live sessions, most recently active first, this one marked.
pub async fn list_sessions(cx: &RequestContext) -> Result<Vec<SessionInfo>, AuthError> {
    let signed_in = cx.require_signed_in()?;
    Ok(live_sessions(&cx.state, signed_in.user_id, Some(&signed_in.handle)).await?)
}

/// The user's sessions that the server ended to make room for a new
/// sign-in, within the last month, newest first.
pub async fn ended_sessions(cx: &RequestContext) -> Result<EndedSessions, AuthError> {
    let signed_in = cx.require_signed_in()?;
    let sessions = cx
        .state
        .sessions
        .ended_sessions_of(signed_in.user_id)
        .await?;
    Ok(EndedSessions {
        max_per_user: cx.state.sessions.max_per_user(),
        sessions: sessions
            .into_iter()
            .map(|ended| EndedSessionInfo {
                device: ended.device,
                client: ended.client,
                signed_in_at: ended.signed_in_at,
                last_active_at: ended.last_seen,
                ended_at: ended.ended_at,
            })
            .collect(),
    })
}

/// The live sessions of `user_id`, most recently active first; the one named
/// `current` is marked. For the account page and the admin command line.
pub async fn live_sessions(
    service: &AuthService,
    user_id: i64,
    current: Option<&str>,
) -> Result<Vec<SessionInfo>, StoreError> {
    let now = service.clock.now();
    let at = crate::clock::utc(now);
    let policy = &service.policy;
    Ok(service
        .sessions
        .sessions_of(user_id, at)
        .await?
        .into_iter()
        // A browser-session cookie's record outlives its idle timeout in the
        // store; the policy says whether it is still live.
        .filter(|indexed| now < policy.idle_deadline_of(indexed.signed_in_at, indexed.last_seen))
        .map(|indexed| {
            let is_current = current == Some(indexed.handle.as_str());
            policy.describe_session(&indexed, is_current)
        })
        .collect())
}

/// Keeps this session signed in after the browser closes, asked after the
/// sign-in: a passkey picked from the autofill signs in before the box can
/// be ticked, and anyone may have forgotten it. Not a sensitive action: the
/// server's idle timeout and cap are the same either way, so only this
/// browser's cookie lasts longer. Already kept, nothing changes.
pub async fn keep_signed_in(cx: &RequestContext) -> Result<(), AuthError> {
    let signed_in = cx.require_signed_in()?;
    if signed_in.remember {
        return Ok(());
    }
    session::keep(&cx.session, &cx.state.policy, signed_in).await?;
    let client = cx.client_address();
    tracing::info!(target: "audit", event = "session_kept", user_id = signed_in.user_id, client, outcome = "success");
    Ok(())
}

/// Ends one of the user's sessions by its handle. Ending this very session
/// signs out here; ending another is a sensitive action, as ending them all
/// is (an intruder holding a session must not sign the owner's devices out
/// one by one). A handle the user does not have is `UnknownSession`,
/// whoever's it is.
pub async fn revoke_session(cx: &RequestContext, handle: &str) -> Result<(), AuthError> {
    let signed_in = cx.require_signed_in()?;
    let this_session = handle == signed_in.handle;
    let signed_in = if this_session {
        signed_in
    } else {
        reauth::require_confirmed(cx)?
    };
    let client = cx.client_address();
    let kind = if this_session {
        session::end(&cx.session).await?;
        ActivityKind::SignedOut
    } else if cx.state.sessions.revoke(signed_in.user_id, handle).await? {
        reauth::renew_confirmation(cx, signed_in).await?;
        ActivityKind::SessionEnded
    } else {
        return Err(AuthError::UnknownSession);
    };
    super::activity::record_here(cx, signed_in.user_id, kind, Some(&signed_in.handle)).await?;
    tracing::info!(target: "audit", event = "session_revoked", user_id = signed_in.user_id, client, this_session = handle == signed_in.handle, outcome = "success");
    Ok(())
}

/// What "sign out everywhere" ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedOutEverywhere {
    pub sessions: u64,
    pub tokens: i64,
}

/// Signs `user_id` out everywhere: ends every session but the one named
/// `keep` (all when `None`) and revokes every bearer token, recording
/// `event` with the tokens' revocation. The one way the account page, a
/// password change, "This wasn't me" and the admin command line do it.
pub async fn sign_out_everywhere(
    service: &AuthService,
    user_id: i64,
    keep: Option<&str>,
    event: Event,
) -> Result<SignedOutEverywhere, AuthError> {
    let sessions = service.sessions.revoke_all_but(user_id, keep).await?;
    let now = service.clock.now();
    let tokens = tokens::revoke_all(&service.database, user_id, now, &event).await?;
    Ok(SignedOutEverywhere { sessions, tokens })
}

/// Ends every session of the user but this one, and every bearer token
/// ("sign out everywhere else"); returns how many sessions ended.
pub async fn revoke_other_sessions(cx: &RequestContext) -> Result<u64, AuthError> {
    let signed_in = reauth::require_confirmed(cx)?;
    let client = cx.client_address();
    let (user_id, handle) = (signed_in.user_id, Some(signed_in.handle.as_str()));
    let event = Event::here(cx, ActivityKind::SignedOutElsewhere, handle);
    let ended = sign_out_everywhere(&cx.state, user_id, handle, event).await?;
    let (sessions_ended, tokens_ended) = (ended.sessions, ended.tokens);
    tracing::info!(target: "audit", event = "sessions_revoked", user_id = signed_in.user_id, client, ended = sessions_ended, tokens_ended, outcome = "success");
    reauth::renew_confirmation(cx, signed_in).await?;
    Ok(sessions_ended)
}

/// "This wasn't me": every other session of the user and every token end,
/// recorded; then the user is sent to change the password. A sensitive
/// action, as signing out everywhere else is.
pub async fn not_me(cx: &RequestContext) -> Result<(), AuthError> {
    let signed_in = reauth::require_confirmed(cx)?.clone();
    let service = &cx.state;
    let (user_id, handle) = (signed_in.user_id, Some(signed_in.handle.as_str()));
    let Some(user) = users::find_by_id(&service.database, user_id).await? else {
        return Err(AuthError::SessionEnded);
    };
    let event = Event::here(cx, ActivityKind::NotMe, handle);
    let ended = sign_out_everywhere(service, user_id, handle, event.clone()).await?;
    let now = service.clock.now();
    let this_device = devices::trusted_here(cx, &user.username_key, now).await?;
    let mut transaction = service
        .database
        .begin_serialized(SerialLock::PasskeysOf(user_id))
        .await?;
    let removed =
        recovery::remove_credentials(&mut transaction, &user, this_device.as_deref(), &event, now)
            .await?;
    let passkeys_removed = removed.passkeys.len();
    let change = Change::Recovered { passkeys_removed };
    notices::to_account(&mut transaction, service, user_id, &change, &event).await?;
    transaction.commit().await?;
    service.outbox.wake();
    let client = cx.client_address();
    let (sessions_ended, tokens_ended) = (ended.sessions, ended.tokens);
    let devices_forgotten = removed.devices;
    tracing::warn!(target: "audit", event = "not_me", user_id = signed_in.user_id, client, sessions_ended, tokens_ended, passkeys_removed, devices_forgotten, outcome = "success");
    reauth::renew_confirmation(cx, &signed_in).await
}

/// Changes the password after checking the current one, which is counted on
/// the sign-in throttle of the account (or of this browser) and of the client
/// address exactly as a sign-in is. On success every other session of the
/// user ends, as does every bearer token, and this one continues under a new
/// session id.
pub async fn change_password(
    cx: &RequestContext,
    current: Password,
    new: Password,
    confirmation: Option<Password>,
) -> Result<(), AuthError> {
    let signed_in = cx.require_signed_in()?.clone();
    let service = &cx.state;
    let client = cx.client_address();
    let current = presented_password(current.into_inner())?;
    let new = new.into_inner();
    if confirmation.is_some_and(|confirmation| confirmation.into_inner() != new) {
        return Err(AuthError::Invalid(InvalidInput::PasswordsDiffer));
    }
    let new = new_password(new, service.password_rules)?;
    if new == current {
        return Err(AuthError::Invalid(InvalidInput::PasswordUnchanged));
    }
    let Some(user) = users::find_by_id(&service.database, signed_in.user_id).await? else {
        return Err(AuthError::SessionEnded);
    };
    reauth::check_own_password(cx, &user, current, "password_change").await?;

    let username = parse_username(&user.username)?;
    let (new, _) = judged_strong(new, username).await?;
    let hash = service.hasher.hash(SecretString::from(new)).await?;
    users::update_password_hash(&service.database, user.id, &hash).await?;
    let event = Event::here(cx, ActivityKind::PasswordChanged, Some(&signed_in.handle));
    let ended =
        sign_out_everywhere(service, user.id, Some(&signed_in.handle), event.clone()).await?;
    notices::notify(service, user.id, &Change::PasswordChanged, &event).await?;
    // The password was just entered: the re-authentication window opens.
    let state = SignedIn {
        confirmed_at: service.clock.now(),
        ..signed_in
    };
    session::renew(&cx.session, &service.policy, &state).await?;
    let (sessions_ended, tokens_ended) = (ended.sessions, ended.tokens);
    tracing::info!(target: "audit", event = "password_change", user_id = user.id, client, sessions_ended, tokens_ended, outcome = "success");
    Ok(())
}
