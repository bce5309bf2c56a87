//! Signing in with a passkey, from the browser's autofill or its own
//! prompt: a sign-in as a password sign-in is (a new session id, "keep me
//! signed in", the device cookie, the activity and the new-device alert),
//! counted on the client address's sign-in throttle, and answering the same
//! whatever failed.

use super::{ceremonies, ceremonies::Ceremony, require_allowed_origin, stored};
use crate::auth::ssr::{
    alerts, devices,
    flows::{begin_session, Via},
    throttle::{self, Scope},
    users::{self, UserRecord},
    AuthError, RequestContext,
};
use webauthn_rs::prelude::{DiscoverableAuthentication, PublicKeyCredential, WebauthnError};

/// Begins a passkey sign-in: the options for the browser's
/// `navigator.credentials.get`, as JSON, with no credentials listed (the
/// browser offers whichever passkeys it holds for this site, in the
/// autofill or its own prompt). Refused while the client address's sign-ins
/// are throttled, and past `throttle.passkey_challenges_per_address`.
pub async fn sign_in_options(cx: &RequestContext) -> Result<String, AuthError> {
    require_allowed_origin(cx)?;
    let service = &cx.state;
    let client = cx.client_address();
    let now = service.clock.now();
    let by_address = service.throttle.limit(Scope::AddressSignIn);
    let database = &service.database;
    if let Some(retry_after_secs) =
        throttle::retry_after(database, by_address, Scope::AddressSignIn, &client, now).await?
    {
        return Err(AuthError::Throttled { retry_after_secs });
    }
    let challenge = service
        .throttle
        .attempt(Scope::AddressPasskeyChallenge, &client);
    if let Some(refusal) = throttle::admit(database, &[challenge], now).await? {
        tracing::warn!(target: "audit", event = "passkey_challenge", client, outcome = "throttled");
        return Err(AuthError::Throttled {
            retry_after_secs: refusal.retry_after_secs,
        });
    }
    let (options, state) = service
        .passkeys
        .webauthn
        .start_discoverable_authentication()
        .map_err(|error| AuthError::Passkey(format!("passkey authentication: {error}")))?;
    let ceremony = Ceremony::<DiscoverableAuthentication> {
        started_at: now,
        user_id: None,
        state,
    };
    ceremonies::begin_sign_in(cx, &ceremony).await?;
    serde_json::to_string(&options)
        .map_err(|error| AuthError::Passkey(format!("passkey options: {error}")))
}

/// Signs in with the browser's answer to this session's sign-in ceremony
/// (`credential`, the JSON of its `PublicKeyCredential`), as a password
/// sign-in does: a new session id, "keep me signed in", the device cookie,
/// the activity and the new-device alert. Each attempt counts on the client
/// address's sign-in throttle (a success gives it back); every refusal
/// answers the same.
pub async fn sign_in(
    cx: &RequestContext,
    credential: &str,
    remember: bool,
) -> Result<(), AuthError> {
    let service = &cx.state;
    let client = cx.client_address();
    let now = service.clock.now();
    let attempt = service.throttle.attempt(Scope::AddressSignIn, &client);
    if let Some(refusal) = throttle::admit(&service.database, &[attempt], now).await? {
        let retry_after_secs = refusal.retry_after_secs;
        tracing::warn!(target: "audit", event = "sign_in", via = "passkey", client, throttled_by = ?refusal.scope, retry_after_secs, outcome = "throttled");
        return Err(AuthError::Throttled { retry_after_secs });
    }
    // A refusal keeps the attempt counted.
    let user = verify_assertion(cx, credential, now).await?;
    throttle::refund(&service.database, &[attempt]).await?;
    let known_device = devices::trusted_here(cx, &user.username_key, now)
        .await?
        .is_some();
    let begun = begin_session(cx, &user, Via::Passkey { known_device }, remember).await?;
    tracing::info!(target: "audit", event = "sign_in", via = "passkey", user_id = user.id, client, remember, known_device, outcome = "success");
    if begun.new_device && !begun.first_device {
        alerts::on_new_device(service, &user, &begun.state, now).await?;
    }
    Ok(())
}

/// Checks a sign-in answer against this browser's ceremony and the stored
/// passkey it names, and records the passkey's new counter and use. A
/// refusal is `PasskeyRefused`, the same whatever failed, with the reason
/// and the account (when the passkey was known) in the audit log.
async fn verify_assertion(
    cx: &RequestContext,
    credential: &str,
    now: i64,
) -> Result<UserRecord, AuthError> {
    let refused = |reason: &'static str, user_id: Option<i64>| {
        let user_id = user_id.map_or_else(|| "unknown".to_string(), |id| id.to_string());
        let client = cx.client_address();
        tracing::info!(target: "audit", event = "sign_in", via = "passkey", user_id, client, reason, outcome = "failure");
        AuthError::PasskeyRefused(reason)
    };
    let service = &cx.state;
    let webauthn = &service.passkeys.webauthn;
    let ceremony = ceremonies::take_sign_in(cx)
        .await
        .map_err(|error| match error {
            AuthError::PasskeyRefused(reason) => refused(reason, None),
            fault => fault,
        })?;
    let answer = serde_json::from_str::<PublicKeyCredential>(credential)
        .map_err(|_| refused("malformed credential", None))?;
    let (handle, id) = webauthn
        .identify_discoverable_authentication(&answer)
        .map_err(|_| refused("no user handle", None))?;
    let Some(found) = stored::find(&service.database, id).await? else {
        return Err(refused("unknown passkey", None));
    };
    let (passkey_id, user_id) = (found.id, found.user_id);
    if found.handle != handle.to_string() {
        return Err(refused("passkey of another account", Some(user_id)));
    }
    let mut passkey = found.passkey;
    let result = match webauthn.finish_discoverable_authentication_v2(
        &answer,
        ceremony.state,
        &passkey,
    ) {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            tracing::warn!(target: "audit", event = "passkey_counter_went_back", user_id, passkey_id, client = cx.client_address(), outcome = "refused");
            return Err(refused("signature counter went backwards", Some(user_id)));
        }
        Err(error) => {
            tracing::info!(user_id, passkey_id, %error, "passkey assertion refused");
            return Err(refused("assertion did not verify", Some(user_id)));
        }
    };
    passkey.update_credential(&result);
    stored::record_use(
        &service.database,
        passkey_id,
        &passkey,
        result.backup_state(),
        now,
    )
    .await?;
    users::find_by_id(&service.database, user_id)
        .await?
        .ok_or_else(|| refused("account deleted", None))
}
