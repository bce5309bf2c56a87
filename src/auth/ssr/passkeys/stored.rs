//! The stored passkeys: every query on `passkeys` and `passkey_handles`. A
//! credential id belongs to one account.

use crate::auth::{ssr::AuthError, PasskeyInfo};
use crate::server::store::{query_on, RunsQueries, Transaction};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use webauthn_rs::prelude::{Passkey, Uuid};

/// The handle `user`'s passkeys carry, made on first use.
pub(super) async fn handle_of(
    transaction: &mut Transaction,
    user_id: i64,
) -> Result<Uuid, AuthError> {
    query_on!(&mut *transaction, |executor| sqlx::query(
        "INSERT INTO passkey_handles (user_id, handle) VALUES ($1, $2) \
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(Uuid::new_v4().to_string())
    .execute(executor)
    .await
    .map(|_| ()))?;
    let handle: String = query_on!(&mut *transaction, |executor| sqlx::query_scalar(
        "SELECT handle FROM passkey_handles WHERE user_id = $1"
    )
    .bind(user_id)
    .fetch_one(executor)
    .await)?;
    Uuid::parse_str(&handle).map_err(|error| AuthError::Passkey(format!("passkey handle: {error}")))
}

/// The passkey stored as `credential` (the row `id`, for the log).
fn parse(id: i64, credential: &str) -> Result<Passkey, AuthError> {
    serde_json::from_str(credential)
        .map_err(|error| AuthError::Passkey(format!("stored passkey {id}: {error}")))
}

/// The passkeys `user_id` holds.
pub(super) async fn credentials_of(
    transaction: &mut Transaction,
    user_id: i64,
) -> Result<Vec<Passkey>, AuthError> {
    let rows: Vec<(i64, String)> = query_on!(&mut *transaction, |executor| sqlx::query_as(
        "SELECT id, credential FROM passkeys WHERE user_id = $1"
    )
    .bind(user_id)
    .fetch_all(executor)
    .await)?;
    rows.iter()
        .map(|(id, credential)| parse(*id, credential))
        .collect()
}

/// How many passkeys `user_id` holds.
pub(super) async fn count_of(
    transaction: &mut Transaction,
    user_id: i64,
) -> Result<usize, AuthError> {
    let count: i64 = query_on!(&mut *transaction, |executor| sqlx::query_scalar(
        "SELECT COUNT(*) FROM passkeys WHERE user_id = $1"
    )
    .bind(user_id)
    .fetch_one(executor)
    .await)?;
    Ok(usize::try_from(count).unwrap_or(usize::MAX))
}

/// A passkey's credential id as stored (base64url).
pub(super) fn credential_id(id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

/// A passkey to store.
pub(super) struct NewPasskey<'a> {
    pub user_id: i64,
    pub credential_id: &'a str,
    pub name: &'a str,
    pub credential: &'a str,
    pub backed_up: bool,
}

/// Stores a passkey; `None` when its credential id is registered already,
/// to this account or any other.
pub(super) async fn insert<'a>(
    on: impl RunsQueries<'a>,
    new: &NewPasskey<'_>,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let inserted = query_on!(on, |executor| {
        sqlx::query_scalar(
        "INSERT INTO passkeys (user_id, credential_id, name, credential, backed_up, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(new.user_id)
    .bind(new.credential_id)
    .bind(new.name)
    .bind(new.credential)
    .bind(new.backed_up)
    .bind(now)
    .fetch_one(executor)
    .await
    });
    match inserted {
        Ok(id) => Ok(Some(id)),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => Ok(None),
        Err(error) => Err(error),
    }
}

/// `user_id`'s passkeys, oldest first.
pub(super) async fn list<'a>(
    on: impl RunsQueries<'a>,
    user_id: i64,
) -> Result<Vec<PasskeyInfo>, sqlx::Error> {
    let rows: Vec<(i64, String, i64, Option<i64>, bool)> = query_on!(on, |executor| {
        sqlx::query_as(
            "SELECT id, name, created_at, last_used_at, backed_up FROM passkeys \
             WHERE user_id = $1 ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(executor)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(
            |(id, name, created_at, last_used_at, backed_up)| PasskeyInfo {
                id,
                name,
                created_at,
                last_used_at,
                backed_up,
            },
        )
        .collect())
}

/// Renames `user_id`'s passkey `id`; whether it was there.
pub(super) async fn rename<'a>(
    on: impl RunsQueries<'a>,
    user_id: i64,
    id: i64,
    name: &str,
) -> Result<bool, sqlx::Error> {
    let renamed = query_on!(on, |executor| sqlx::query(
        "UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3"
    )
    .bind(name)
    .bind(id)
    .bind(user_id)
    .execute(executor)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(renamed > 0)
}

/// Removes `user_id`'s passkey `id`; its name, when it was there.
pub(super) async fn remove(
    transaction: &mut Transaction,
    user_id: i64,
    id: i64,
) -> Result<Option<String>, sqlx::Error> {
    query_on!(transaction, |executor| sqlx::query_scalar(
        "DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING name"
    )
    .bind(id)
    .bind(user_id)
    .fetch_optional(executor)
    .await)
}

/// Removes every passkey of `user_id` (recovery), in a transaction begun
/// with `SerialLock::PasskeysOf(user_id)`; their names, oldest first.
pub async fn remove_all(
    transaction: &mut Transaction,
    user_id: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let mut removed: Vec<(i64, String)> = query_on!(transaction, |executor| {
        sqlx::query_as("DELETE FROM passkeys WHERE user_id = $1 RETURNING id, name")
            .bind(user_id)
            .fetch_all(executor)
            .await
    })?;
    removed.sort();
    Ok(removed.into_iter().map(|(_, name)| name).collect())
}

/// A stored passkey found by its credential id, for a sign-in.
pub(super) struct Found {
    pub id: i64,
    pub user_id: i64,
    /// The handle of the account that holds it.
    pub handle: String,
    pub passkey: Passkey,
}

/// The passkey whose credential id is `id`, with its account's handle.
pub(super) async fn find<'a>(
    on: impl RunsQueries<'a>,
    id: &[u8],
) -> Result<Option<Found>, AuthError> {
    let row: Option<(i64, i64, String, String)> = query_on!(on, |executor| sqlx::query_as(
        "SELECT p.id, p.user_id, p.credential, h.handle FROM passkeys p \
         JOIN passkey_handles h ON h.user_id = p.user_id WHERE p.credential_id = $1",
    )
    .bind(credential_id(id))
    .fetch_optional(executor)
    .await)?;
    row.map(|(id, user_id, credential, handle)| {
        Ok(Found {
            id,
            user_id,
            handle,
            passkey: parse(id, &credential)?,
        })
    })
    .transpose()
}

/// Records a sign-in with passkey `id`: its new counter (`passkey`), its
/// backup state, and when.
pub(super) async fn record_use<'a>(
    on: impl RunsQueries<'a>,
    id: i64,
    passkey: &Passkey,
    backed_up: bool,
    now: i64,
) -> Result<(), AuthError> {
    let stored = serde_json::to_string(passkey)
        .map_err(|error| AuthError::Passkey(format!("passkey: {error}")))?;
    query_on!(on, |executor| sqlx::query(
        "UPDATE passkeys SET credential = $1, backed_up = $2, last_used_at = $3 WHERE id = $4"
    )
    .bind(&stored)
    .bind(backed_up)
    .bind(now)
    .bind(id)
    .execute(executor)
    .await
    .map(|_| ()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::ssr::users;
    use crate::server::store::Database;

    #[tokio::test]
    async fn a_credential_id_belongs_to_one_account() {
        let database = Database::in_memory().await;
        let alice = users::insert(&database, "alice", "alice", "hash")
            .await
            .unwrap()
            .unwrap();
        let bob = users::insert(&database, "bob", "bob", "hash")
            .await
            .unwrap()
            .unwrap();
        let passkey = |user_id| NewPasskey {
            user_id,
            credential_id: "Jk2BT12lK03v9GDZ_zVDrw",
            name: "Phone",
            credential: "{}",
            backed_up: true,
        };
        assert!(insert(&database, &passkey(alice), 1)
            .await
            .unwrap()
            .is_some());
        assert_eq!(insert(&database, &passkey(bob), 2).await.unwrap(), None);
        assert_eq!(insert(&database, &passkey(alice), 3).await.unwrap(), None);
    }
}
