//! Deleting an account (#23): by its owner from the account page, inside the
//! re-authentication window and with the username typed again, or by an
//! operator on the command line. Either way every session ends on every
//! instance and store, every bearer token and trusted browser goes with the
//! user's row, and the audit log keeps one line that names no one. User ids
//! are never given out again, so nothing that still names the old id (a
//! token, a session in flight) can open the next account registered.

use super::{
    reauth, session, users, users::UserRecord, validation::parse_username, AuthError, AuthService,
    RequestContext,
};
use crate::auth::InvalidInput;

/// How often a deletion ends the sessions again when a sign-in indexed one
/// between its ending them and its deleting the row (only SQL sessions can
/// meet this: the index row refers to the user's row).
const ATTEMPTS: usize = 5;

/// Deletes `user`: every session ended for good, then the row with their
/// tokens, trusted browsers and notes. How many live sessions ended; `None`
/// when there was no such user any more.
pub async fn delete_user(
    service: &AuthService,
    user: &UserRecord,
) -> Result<Option<u64>, AuthError> {
    let mut ended = 0;
    for _ in 0..ATTEMPTS {
        ended += service.sessions.end_user(user.id).await?;
        match users::delete(&service.database, user).await {
            Ok(true) => return Ok(Some(ended)),
            Ok(false) => return Ok(None),
            Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => {
                tracing::info!(
                    user_id = user.id,
                    "a sign-in indexed a session while the user was being deleted; ending it"
                );
            }
            Err(error) => return Err(error.into()),
        }
    }
    Err(AuthError::Busy {
        retry_after_secs: 1,
    })
}

/// The signed-in user deletes their own account, having typed its name
/// (compared as sign-in compares names) inside the re-authentication window.
/// This browser is signed out too. How many sessions ended, this one with
/// them.
pub async fn delete_account(cx: &RequestContext, typed_username: &str) -> Result<u64, AuthError> {
    let signed_in = reauth::require_confirmed(cx)?.clone();
    let service = &cx.state;
    let Some(user) = users::find_by_id(&service.database, signed_in.user_id).await? else {
        return Err(AuthError::SessionEnded);
    };
    let typed = parse_username(typed_username)
        .map_err(|_| AuthError::Invalid(InvalidInput::UsernameMismatch))?;
    if typed.key != user.username_key {
        return Err(AuthError::Invalid(InvalidInput::UsernameMismatch));
    }
    let Some(ended) = delete_user(service, &user).await? else {
        return Err(AuthError::SessionEnded);
    };
    session::end(&cx.session).await?;
    let client = cx.client_address();
    tracing::info!(target: "audit", event = "account_deleted", user_id = user.id, client, by = "owner", sessions_ended = ended, outcome = "success");
    Ok(ended)
}
