//! The three things a user does: create an account, sign in, sign out. Each
//! writes one audit line (user, client address, outcome; never a password,
//! hash or session id).

use super::{
    session, users,
    validation::{new_password, parse_username, presented_password},
    AuthError, AuthService, RequestContext,
};
use crate::auth::Password;
use secrecy::SecretString;

pub async fn register_account(
    service: &AuthService,
    username: &str,
    password: Password,
) -> Result<i64, AuthError> {
    let username = parse_username(username)?;
    let password = new_password(password.into_inner(), service.password_rules)?;
    let hash = service.hasher.hash(SecretString::from(password)).await?;
    match users::insert(&service.pool, &username.display, &username.key, &hash).await? {
        Some(user_id) => {
            tracing::info!(target: "audit", event = "register", user_id, outcome = "created");
            Ok(user_id)
        }
        None => {
            tracing::info!(target: "audit", event = "register", outcome = "username_taken");
            Err(AuthError::UsernameTaken)
        }
    }
}

pub async fn sign_in(
    cx: &RequestContext,
    username: &str,
    password: Password,
    remember: bool,
) -> Result<(), AuthError> {
    let client = cx
        .client
        .map(|address| address.ip().to_string())
        .unwrap_or_default();
    let username = parse_username(username)?;
    let password = presented_password(password.into_inner())?;
    let user = users::find_by_key(&cx.state.pool, &username.key).await?;
    let stored_hash = user.as_ref().map(|user| user.password_hash.clone());
    // Always verify (a dummy hash for unknown users) so both failures cost the same.
    let matches = cx
        .state
        .hasher
        .verify(SecretString::from(password.clone()), stored_hash)
        .await?;
    let user = match user {
        Some(user) if matches => user,
        user => {
            let user_id = user.map(|user| user.id);
            tracing::info!(target: "audit", event = "sign_in", ?user_id, client, outcome = "failure");
            return Err(AuthError::InvalidCredentials);
        }
    };
    if cx.state.hasher.needs_upgrade(&user.password_hash) {
        let upgraded = cx.state.hasher.hash(SecretString::from(password)).await?;
        users::update_password_hash(&cx.state.pool, user.id, &upgraded).await?;
        tracing::info!(target: "audit", event = "password_hash_upgraded", user_id = user.id, outcome = "success");
    }
    session::start(
        &cx.session,
        &cx.state.policy,
        user.id,
        &user.username,
        remember,
    )
    .await?;
    tracing::info!(target: "audit", event = "sign_in", user_id = user.id, client, remember, outcome = "success");
    Ok(())
}

pub async fn sign_out(cx: &RequestContext) -> Result<(), AuthError> {
    let user_id = cx.viewer.as_ref().map(|viewer| viewer.user_id);
    session::end(&cx.session).await?;
    if let Some(user_id) = user_id {
        let client = cx
            .client
            .map(|address| address.ip().to_string())
            .unwrap_or_default();
        tracing::info!(target: "audit", event = "sign_out", user_id, client, outcome = "success");
    }
    Ok(())
}
