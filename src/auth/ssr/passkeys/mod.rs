//! Passkeys (#25): WebAuthn credentials an account adds from its account page
//! and signs in with, from the browser's autofill or its own prompt.
//!
//! The rules a relying party owes: every challenge is single-use and expires
//! after `CEREMONY_SECS`, and any instance can finish a ceremony another
//! began. Adding a passkey keeps its state in the signed-in session and,
//! once answered, its hash in `passkey_ceremonies_done`, so a second answer
//! is refused however close in time. A sign-in's state is a row of
//! `passkey_sign_ins` under the hash of a random token in a cookie of its own
//! ([`ceremony_cookie`]), taken (deleted) by its one answer: a sign-in page's
//! challenge never writes the session, so a password sign-in that answers
//! while it is under way keeps its new session id (the two answers set
//! different cookies). The relying party id and origins come from the settings
//! (`webauthn.*`) and every ceremony is checked against them (by
//! `webauthn-rs`); user verification is required; a signature counter that
//! goes backwards is refused and logged; a credential id belongs to one
//! account. A failed sign-in counts toward the client address's sign-in
//! throttle and answers the same whatever failed.
//!
//! Here: adding, listing, renaming and removing a passkey. `party` is the
//! relying party, `ceremonies` the challenges waiting for their answer,
//! `stored` every query on the stored passkeys, `sign_in` the sign-in.
//! A refusal is an error (`PasskeyNotAdded`, `PasskeyRefused`) carrying its
//! reason for the audit log.

mod ceremonies;
mod party;
mod sign_in;
mod stored;

pub use ceremonies::purge_expired;
pub use party::{ceremony_cookie, RelyingParty, CEREMONY_SECS};
pub use sign_in::{sign_in, sign_in_options};
pub use stored::remove_all;

use super::{
    activity,
    notices::{self, Change},
    reauth, users, AuthError, RequestContext, SignedIn,
};
use crate::auth::{ActivityKind, InvalidInput, PasskeyInfo, PASSKEY_NAME_MAX_CHARS};
use crate::server::store::SerialLock;
use ceremonies::Ceremony;
use stored::NewPasskey;
use webauthn_rs::prelude::{Passkey, PasskeyRegistration, RegisterPublicKeyCredential};

/// Refuses to begin a ceremony for a page at an origin the passkeys are not
/// for (the site opened at another address, such as its IP address), before
/// anything is stored: its answer could never verify. A request without an
/// `Origin` header (not a browser's) may begin one; its answer is checked
/// all the same.
fn require_allowed_origin(cx: &RequestContext) -> Result<(), AuthError> {
    match cx.request_origin() {
        Some(origin) if !cx.state.passkeys.allows(&origin) => Err(AuthError::PasskeyWrongSite),
        _ => Ok(()),
    }
}

/// A passkey's name: trimmed, 1 to `PASSKEY_NAME_MAX_CHARS` characters,
/// no control characters.
pub fn parse_name(name: &str) -> Result<String, AuthError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AuthError::Invalid(InvalidInput::PasskeyNameEmpty));
    }
    if name.chars().count() > PASSKEY_NAME_MAX_CHARS {
        return Err(AuthError::Invalid(InvalidInput::PasskeyNameTooLong {
            max: PASSKEY_NAME_MAX_CHARS,
        }));
    }
    if name.chars().any(char::is_control) {
        return Err(AuthError::Invalid(InvalidInput::PasskeyNameCharacters));
    }
    Ok(name.to_string())
}

/// Begins adding a passkey (a sensitive action): the options for the
/// browser's `navigator.credentials.create`, as JSON. The passkey is made
/// discoverable (the autofill offers it) and verified by the user; the
/// user's other passkeys are excluded.
pub async fn registration_options(cx: &RequestContext) -> Result<String, AuthError> {
    let signed_in = reauth::require_confirmed(cx)?.clone();
    require_allowed_origin(cx)?;
    let service = &cx.state;
    let Some(user) = users::find_by_id(&service.database, signed_in.user_id).await? else {
        return Err(AuthError::SessionEnded);
    };
    let party = &service.passkeys;
    let mut transaction = service.database.begin().await?;
    let held = stored::credentials_of(&mut transaction, user.id).await?;
    if held.len() >= party.max_per_user {
        return Err(AuthError::TooManyPasskeys {
            max: party.max_per_user,
        });
    }
    let handle = stored::handle_of(&mut transaction, user.id).await?;
    transaction.commit().await?;
    let exclude = held
        .iter()
        .map(|passkey| passkey.cred_id().clone())
        .collect();
    let (options, state) = party
        .webauthn
        .start_passkey_registration(handle, &user.username, &user.username, Some(exclude))
        .map_err(|error| AuthError::Passkey(format!("passkey registration: {error}")))?;
    let mut options = serde_json::to_value(options)
        .map_err(|error| AuthError::Passkey(format!("passkey options: {error}")))?;
    // A passkey the autofill can offer must be discoverable (resident).
    if let Some(selection) = options
        .pointer_mut("/publicKey/authenticatorSelection")
        .and_then(serde_json::Value::as_object_mut)
    {
        selection.insert("residentKey".into(), "required".into());
        selection.insert("requireResidentKey".into(), true.into());
    }
    let ceremony = Ceremony::<PasskeyRegistration> {
        started_at: service.clock.now(),
        user_id: Some(user.id),
        state,
    };
    ceremonies::begin_registration(cx, &ceremony).await?;
    Ok(options.to_string())
}

/// Finishes adding a passkey (a sensitive action) with the browser's answer
/// (`credential`, the JSON of its `PublicKeyCredential`), under `name` (the
/// browser's device when none is given).
pub async fn add(
    cx: &RequestContext,
    credential: &str,
    name: Option<&str>,
) -> Result<PasskeyInfo, AuthError> {
    let signed_in = reauth::require_confirmed(cx)?.clone();
    let name = match name.filter(|name| !name.trim().is_empty()) {
        Some(name) => parse_name(name)?,
        None => parse_name(&cx.session_origin().device)?,
    };
    let service = &cx.state;
    let client = cx.client_address();
    let user_id = signed_in.user_id;
    let passkey = verify_registration(cx, credential, user_id).await.inspect_err(|error| {
        if let AuthError::PasskeyNotAdded(reason) = error {
            tracing::info!(target: "audit", event = "passkey_added", user_id, client, reason, outcome = "refused");
        }
    })?;
    let now = service.clock.now();
    let record = serde_json::to_value(&passkey)
        .map_err(|error| AuthError::Passkey(format!("passkey: {error}")))?;
    // Whether the provider syncs it (its backup state flag), read from the
    // library's own record of it.
    let backed_up = record
        .pointer("/cred/backup_state")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    let stored = record.to_string();
    let max = service.passkeys.max_per_user;
    let mut transaction = service
        .database
        .begin_serialized(SerialLock::PasskeysOf(user_id))
        .await?;
    // A recovery ends the sessions first, then removes every passkey under
    // this lock: an answer racing it is refused here, or its passkey is
    // among those removed (#35).
    if !still_signed_in(cx, &signed_in).await? {
        tracing::info!(target: "audit", event = "passkey_added", user_id, client, reason = "session ended", outcome = "refused");
        return Err(AuthError::SessionEnded);
    }
    if stored::count_of(&mut transaction, user_id).await? >= max {
        return Err(AuthError::TooManyPasskeys { max });
    }
    let new = NewPasskey {
        user_id,
        credential_id: &stored::credential_id(passkey.cred_id()),
        name: &name,
        credential: &stored,
        backed_up,
    };
    let Some(id) = stored::insert(&mut transaction, &new, now).await? else {
        tracing::info!(target: "audit", event = "passkey_added", user_id, client, outcome = "taken");
        return Err(AuthError::PasskeyTaken);
    };
    let event =
        activity::Event::here(cx, ActivityKind::PasskeyAdded, Some(&signed_in.handle)).about(&name);
    activity::record(&mut transaction, user_id, now, &event).await?;
    let notice = Change::PasskeyAdded { name: name.clone() };
    notices::to_account(&mut transaction, service, user_id, &notice, &event).await?;
    transaction.commit().await?;
    service.outbox.wake();
    reauth::renew_confirmation(cx, &signed_in).await?;
    tracing::info!(target: "audit", event = "passkey_added", user_id, client, passkey_id = id, backed_up, outcome = "success");
    Ok(PasskeyInfo {
        id,
        name,
        created_at: now,
        last_used_at: None,
        backed_up,
    })
}

/// Checks the browser's answer (`credential`) against the registration
/// waiting on this session, begun by `user_id`: the new passkey, or
/// `PasskeyNotAdded` with the reason.
async fn verify_registration(
    cx: &RequestContext,
    credential: &str,
    user_id: i64,
) -> Result<Passkey, AuthError> {
    let ceremony = ceremonies::take_registration(cx).await?;
    if ceremony.user_id != Some(user_id) {
        return Err(AuthError::PasskeyNotAdded("ceremony of another user"));
    }
    let answer: RegisterPublicKeyCredential = serde_json::from_str(credential)
        .map_err(|_| AuthError::PasskeyNotAdded("malformed credential"))?;
    cx.state
        .passkeys
        .webauthn
        .finish_passkey_registration(&answer, &ceremony.state)
        .map_err(|error| {
            tracing::info!(user_id, %error, "passkey registration refused");
            AuthError::PasskeyNotAdded("registration did not verify")
        })
}

/// Whether the session `signed_in` names is still there (not ended by a
/// recovery, a sign-out elsewhere or a password change meanwhile).
async fn still_signed_in(cx: &RequestContext, signed_in: &SignedIn) -> Result<bool, AuthError> {
    let at = crate::clock::utc(cx.state.clock.now());
    let sessions = cx.state.sessions.sessions_of(signed_in.user_id, at).await?;
    Ok(sessions
        .iter()
        .any(|session| session.handle == signed_in.handle))
}

/// The signed-in user's passkeys, oldest first.
pub async fn list(cx: &RequestContext) -> Result<Vec<PasskeyInfo>, AuthError> {
    let signed_in = cx.require_signed_in()?;
    Ok(stored::list(&cx.state.database, signed_in.user_id).await?)
}

/// Renames one of the signed-in user's passkeys (a sensitive action).
pub async fn rename(cx: &RequestContext, id: i64, name: &str) -> Result<(), AuthError> {
    let signed_in = reauth::require_confirmed(cx)?.clone();
    let name = parse_name(name)?;
    if !stored::rename(&cx.state.database, signed_in.user_id, id, &name).await? {
        return Err(AuthError::UnknownPasskey);
    }
    reauth::renew_confirmation(cx, &signed_in).await?;
    let client = cx.client_address();
    tracing::info!(target: "audit", event = "passkey_renamed", user_id = signed_in.user_id, client, passkey_id = id, outcome = "success");
    Ok(())
}

/// Removes one of the signed-in user's passkeys (a sensitive action): it
/// signs in no more.
pub async fn remove(cx: &RequestContext, id: i64) -> Result<(), AuthError> {
    let signed_in = reauth::require_confirmed(cx)?.clone();
    let service = &cx.state;
    let mut transaction = service.database.begin().await?;
    let Some(name) = stored::remove(&mut transaction, signed_in.user_id, id).await? else {
        return Err(AuthError::UnknownPasskey);
    };
    let event = activity::Event::here(cx, ActivityKind::PasskeyRemoved, Some(&signed_in.handle))
        .about(&name);
    let now = service.clock.now();
    activity::record(&mut transaction, signed_in.user_id, now, &event).await?;
    let notice = Change::PasskeyRemoved { name };
    let user_id = signed_in.user_id;
    notices::to_account(&mut transaction, service, user_id, &notice, &event).await?;
    transaction.commit().await?;
    service.outbox.wake();
    reauth::renew_confirmation(cx, &signed_in).await?;
    let client = cx.client_address();
    tracing::info!(target: "audit", event = "passkey_removed", user_id = signed_in.user_id, client, passkey_id = id, outcome = "success");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed_and_limited() {
        assert_eq!(parse_name("  My phone ").unwrap(), "My phone");
        assert!(matches!(
            parse_name("   "),
            Err(AuthError::Invalid(InvalidInput::PasskeyNameEmpty))
        ));
        assert!(matches!(
            parse_name(&"x".repeat(PASSKEY_NAME_MAX_CHARS + 1)),
            Err(AuthError::Invalid(InvalidInput::PasskeyNameTooLong { .. }))
        ));
        assert!(matches!(
            parse_name("a\u{7}b"),
            Err(AuthError::Invalid(InvalidInput::PasskeyNameCharacters))
        ));
    }
}
