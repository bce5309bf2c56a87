//! Ceremonies waiting for their answer, each answerable once, on any
//! instance. Adding a passkey keeps its state in the signed-in session and,
//! once answered, its hash in `passkey_ceremonies_done`. A sign-in's state
//! is a row of `passkey_sign_ins` under the hash of a random token in a
//! cookie of its own, taken (deleted) by its one answer: a sign-in page's
//! challenge never writes the session.
//!
//! A ceremony that cannot be answered (none, expired, answered already) is
//! refused with the error its flow answers, carrying the reason for the log.

use super::party::CEREMONY_SECS;
use crate::auth::ssr::{random, AuthError, RequestContext};
use crate::digest::secret_hash;
use crate::server::store::{query_on, Database};
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{DiscoverableAuthentication, PasskeyRegistration};

/// A ceremony begun, waiting for its answer.
#[derive(Serialize, Deserialize)]
pub(super) struct Ceremony<T> {
    pub started_at: i64,
    /// Who is adding a passkey (none for a sign-in).
    pub user_id: Option<i64>,
    pub state: T,
}

const REGISTRATION_KEY: &str = "passkey.registration";

fn unreadable(error: serde_json::Error) -> AuthError {
    AuthError::Passkey(format!("ceremony state: {error}"))
}

/// Stores a new registration on this (signed-in) session.
pub(super) async fn begin_registration(
    cx: &RequestContext,
    ceremony: &Ceremony<PasskeyRegistration>,
) -> Result<(), AuthError> {
    cx.session.insert(REGISTRATION_KEY, ceremony).await?;
    Ok(())
}

/// Takes the registration waiting on this session, once: it is removed from
/// the session and its hash recorded as answered, so neither a second
/// request of this session nor one racing it on another instance can answer
/// it. Refused: `PasskeyNotAdded`.
pub(super) async fn take_registration(
    cx: &RequestContext,
) -> Result<Ceremony<PasskeyRegistration>, AuthError> {
    let Some(ceremony) = cx
        .session
        .remove::<Ceremony<PasskeyRegistration>>(REGISTRATION_KEY)
        .await?
    else {
        return Err(AuthError::PasskeyNotAdded("no ceremony on this session"));
    };
    let expires_at = ceremony.started_at + CEREMONY_SECS;
    if cx.state.clock.now() > expires_at {
        return Err(AuthError::PasskeyNotAdded("ceremony expired"));
    }
    let state = serde_json::to_string(&ceremony.state).map_err(unreadable)?;
    let first = query_on!(&cx.state.database, |executor| sqlx::query(
        "INSERT INTO passkey_ceremonies_done (state_hash, expires_at) VALUES ($1, $2) \
         ON CONFLICT (state_hash) DO NOTHING",
    )
    .bind(secret_hash(&state))
    .bind(expires_at)
    .execute(executor)
    .await
    .map(|done| done.rows_affected() == 1))?;
    if !first {
        return Err(AuthError::PasskeyNotAdded("ceremony answered already"));
    }
    Ok(ceremony)
}

/// Stores a new sign-in ceremony under a new token, and hands the browser
/// the token in its cookie (replacing the one of an earlier ceremony, which
/// then only waits for its expiry).
pub(super) async fn begin_sign_in(
    cx: &RequestContext,
    ceremony: &Ceremony<DiscoverableAuthentication>,
) -> Result<(), AuthError> {
    let token = random::token();
    let ceremony = serde_json::to_string(ceremony).map_err(unreadable)?;
    query_on!(&cx.state.database, |executor| sqlx::query(
        "INSERT INTO passkey_sign_ins (token_hash, ceremony, expires_at) VALUES ($1, $2, $3)"
    )
    .bind(secret_hash(&token))
    .bind(&ceremony)
    .bind(cx.state.clock.now() + CEREMONY_SECS)
    .execute(executor)
    .await
    .map(|_| ()))?;
    cx.set_cookie(&cx.state.passkeys.cookie.set_cookie(&token));
    Ok(())
}

/// Takes the sign-in ceremony this browser's cookie names, once: its row is
/// deleted as it is read, so neither a second request nor one racing it on
/// another instance can answer it. The cookie is dropped either way.
/// Refused: `PasskeyRefused`.
pub(super) async fn take_sign_in(
    cx: &RequestContext,
) -> Result<Ceremony<DiscoverableAuthentication>, AuthError> {
    let cookie = &cx.state.passkeys.cookie;
    let Some(token) = cx.from_headers(|headers| cookie.find(headers)) else {
        return Err(AuthError::PasskeyRefused("no ceremony for this browser"));
    };
    cx.set_cookie(&cookie.removal());
    let row: Option<(String, i64)> = query_on!(&cx.state.database, |executor| sqlx::query_as(
        "DELETE FROM passkey_sign_ins WHERE token_hash = $1 RETURNING ceremony, expires_at"
    )
    .bind(secret_hash(&token))
    .fetch_optional(executor)
    .await)?;
    let Some((ceremony, expires_at)) = row else {
        return Err(AuthError::PasskeyRefused(
            "ceremony answered already, or never begun",
        ));
    };
    if cx.state.clock.now() > expires_at {
        return Err(AuthError::PasskeyRefused("ceremony expired"));
    }
    serde_json::from_str(&ceremony).map_err(unreadable)
}

/// Forgets answered ceremonies, and sign-in ceremonies never answered, past
/// their expiry.
pub async fn purge_expired(database: &Database, now: i64) -> Result<u64, sqlx::Error> {
    let mut purged = 0;
    for table in ["passkey_ceremonies_done", "passkey_sign_ins"] {
        let statement = format!("DELETE FROM {table} WHERE expires_at < $1");
        purged += query_on!(database, |executor| sqlx::query(&statement)
            .bind(now)
            .execute(executor)
            .await
            .map(|done| done.rows_affected()))?;
    }
    Ok(purged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ceremonies_are_forgotten_once_past_their_expiry() {
        let database = Database::in_memory().await;
        let inserts = [
            "INSERT INTO passkey_sign_ins (token_hash, ceremony, expires_at) VALUES ($1, '{}', $2)",
            "INSERT INTO passkey_ceremonies_done (state_hash, expires_at) VALUES ($1, $2)",
        ];
        for (insert, (key, expires_at)) in inserts
            .into_iter()
            .flat_map(|insert| [("gone", 100), ("kept", 500)].map(|row| (insert, row)))
        {
            query_on!(&database, |executor| sqlx::query(insert)
                .bind(key)
                .bind(expires_at)
                .execute(executor)
                .await
                .map(|_| ()))
            .unwrap();
        }
        assert_eq!(purge_expired(&database, 300).await.unwrap(), 2);
        for table in ["passkey_sign_ins", "passkey_ceremonies_done"] {
            let statement = format!("SELECT COUNT(*) FROM {table}");
            let left: i64 = query_on!(&database, |executor| sqlx::query_scalar(&statement)
                .fetch_one(executor)
                .await)
            .unwrap();
            assert_eq!(left, 1, "{table}");
        }
    }
}
