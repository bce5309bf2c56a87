//! Bearer tokens for scripts, command-line tools and apps (the origin
//! article's second method, made revocable). Browsers stay on their sessions.
//!
//! A token is a signed JWT (`jwt`) that carries the user's token generation.
//! "Sign out everywhere" (the account page, the admin command line) and a
//! password change move the generation on, so every older token is refused
//! on its next request, on every instance: each bearer request reads the
//! user's row by its key (one indexed look-up, through the store seam's
//! readers like a session), and nothing is cached.
//! The issued tokens are recorded only to count those outstanding; their
//! rows go when they expire (at the user's next token) or are revoked.

pub mod jwt;

use super::{
    activity::{self, Event},
    flows::check_credentials,
    notices::{self, Change},
    random, AuthError, AuthService, RequestContext,
};
use crate::auth::{ActivityKind, Password, TokenAnswer};
use crate::server::store::{query_on, Database, SerialLock, Transaction};
use jwt::{InvalidToken, TokenRules};

/// The user a valid bearer token names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenHolder {
    pub user_id: i64,
    pub username: String,
    pub expires_at: i64,
}

const ISSUE: &str = "INSERT INTO api_tokens (jti, user_id, generation, issued_at, expires_at) \
     SELECT $1, id, token_generation, $2, $3 FROM users WHERE id = $4 RETURNING generation";

/// A token for whoever gives a right username and password: the sign-in's
/// checks, throttling, identical refusals and audit line.
pub async fn issue_for_credentials(
    cx: &RequestContext,
    username: &str,
    password: Password,
) -> Result<TokenAnswer, AuthError> {
    let user = check_credentials(cx, username, password, "token")
        .await?
        .user;
    let client = cx.client_address();
    tracing::info!(target: "audit", event = "sign_in", via = "token", user_id = user.id, client, outcome = "success");
    let event = Event::here(cx, ActivityKind::TokenCreated, None);
    issue(&cx.state, user.id, event).await
}

/// A token for the signed-in user of this session (the account page).
pub async fn issue_for_session(cx: &RequestContext) -> Result<TokenAnswer, AuthError> {
    let signed_in = super::reauth::require_confirmed(cx)?;
    let event = Event::here(cx, ActivityKind::TokenCreated, Some(&signed_in.handle));
    let answer = issue(&cx.state, signed_in.user_id, event).await?;
    super::reauth::renew_confirmation(cx, signed_in).await?;
    Ok(answer)
}

/// Issues a token to `user_id`, recorded on their activity as `event` in the
/// same transaction.
async fn issue(
    service: &AuthService,
    user_id: i64,
    event: Event,
) -> Result<TokenAnswer, AuthError> {
    let client = event.client.as_str();
    let rules = &service.tokens;
    if rules.keys.signing_kid().is_none() {
        return Err(AuthError::NoSigningKey);
    }
    let now = service.clock.now();
    let jti = random::token();
    let expires_at = now + rules.lifetime_secs;
    // One issue at a time, on every instance, so that the limit holds
    // exactly under concurrent requests.
    let mut transaction = service
        .database
        .begin_serialized(SerialLock::TokenIssue)
        .await?;
    query_on!(&mut transaction, |executor| sqlx::query(
        "DELETE FROM api_tokens WHERE user_id = $1 AND expires_at <= $2"
    )
    .bind(user_id)
    .bind(now)
    .execute(executor)
    .await
    .map(|_| ()))?;
    let max = rules.max_outstanding;
    if max > 0 {
        let (held, first_expiry) = held_tokens(&mut transaction, user_id, now).await?;
        if held >= max as i64 {
            let retry_after_secs = first_expiry.map_or(1, |at| (at - now).max(1));
            tracing::warn!(target: "audit", event = "token_issued", user_id, client, held, outcome = "too_many_tokens");
            return Err(AuthError::TooManyTokens {
                max,
                retry_after_secs,
            });
        }
    }
    let generation: Option<i64> =
        query_on!(&mut transaction, |executor| sqlx::query_scalar(ISSUE)
            .bind(&jti)
            .bind(now)
            .bind(expires_at)
            .bind(user_id)
            .fetch_optional(executor)
            .await)?;
    let Some(generation) = generation else {
        return Err(AuthError::SessionEnded);
    };
    activity::record(&mut transaction, user_id, now, &event).await?;
    let notice = Change::TokenCreated;
    notices::to_account(&mut transaction, service, user_id, &notice, &event).await?;
    transaction.commit().await?;
    service.outbox.wake();
    let token = rules
        .sign(&rules.claims_for(user_id, generation, jti.clone(), now))
        .ok_or(AuthError::NoSigningKey)?;
    tracing::info!(target: "audit", event = "token_issued", user_id, client, jti, expires_at, outcome = "success");
    Ok(TokenAnswer {
        token,
        token_type: "Bearer".into(),
        expires_in: rules.lifetime_secs,
    })
}

/// How many tokens user `$1` holds at `$2` (issued since the last
/// revocation, not expired), and when the first of them expires.
const HELD: &str = "SELECT COUNT(*), MIN(t.expires_at) FROM api_tokens t \
     JOIN users u ON u.id = t.user_id \
     WHERE t.user_id = $1 AND t.generation = u.token_generation AND t.expires_at > $2";

/// [`HELD`] inside the issuing transaction.
async fn held_tokens(
    transaction: &mut Transaction,
    user_id: i64,
    now: i64,
) -> Result<(i64, Option<i64>), sqlx::Error> {
    query_on!(transaction, |executor| sqlx::query_as(HELD)
        .bind(user_id)
        .bind(now)
        .fetch_one(executor)
        .await)
}

/// Why a bearer request was refused: the token's fault (401), or ours.
#[derive(Debug, thiserror::Error)]
pub enum BearerError {
    #[error("invalid token: {}", .0.description())]
    Invalid(InvalidToken),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// The user a bearer token names, if it is valid now and not revoked.
pub async fn authenticate(service: &AuthService, token: &str) -> Result<TokenHolder, BearerError> {
    let claims = service
        .tokens
        .verify(token, service.clock.now())
        .map_err(BearerError::Invalid)?;
    let user_id = claims
        .user_id()
        .ok_or(BearerError::Invalid(InvalidToken::Malformed))?;
    match service.database.token_holder(user_id).await? {
        Some((username, generation)) if generation == claims.generation => Ok(TokenHolder {
            user_id,
            username,
            expires_at: claims.exp,
        }),
        _ => Err(BearerError::Invalid(InvalidToken::Revoked)),
    }
}

/// Tokens issued to the user since the last revocation and not yet expired.
pub async fn outstanding(database: &Database, user_id: i64, now: i64) -> Result<i64, sqlx::Error> {
    let (held, _): (i64, Option<i64>) = query_on!(database, |executor| sqlx::query_as(HELD)
        .bind(user_id)
        .bind(now)
        .fetch_one(executor)
        .await)?;
    Ok(held)
}

/// Refuses every token the user holds from now on, recording `event` in the
/// same transaction; returns how many outstanding ones that ended.
pub async fn revoke_all(
    database: &Database,
    user_id: i64,
    now: i64,
    event: &Event,
) -> Result<i64, sqlx::Error> {
    // Counted outside the revocation's transaction: the count is only
    // reported, and the transaction stays two writes long.
    let ended = outstanding(database, user_id, now).await?;
    let mut transaction = database.begin().await?;
    revoke_all_in(&mut transaction, user_id, now, event).await?;
    transaction.commit().await?;
    Ok(ended)
}

/// Revokes every token of `user_id` in `transaction` (with the change that
/// causes it, as a password reset does), recording `event`.
pub async fn revoke_all_in(
    transaction: &mut Transaction,
    user_id: i64,
    now: i64,
    event: &Event,
) -> Result<(), sqlx::Error> {
    query_on!(&mut *transaction, |executor| sqlx::query(
        "UPDATE users SET token_generation = token_generation + 1 WHERE id = $1"
    )
    .bind(user_id)
    .execute(executor)
    .await
    .map(|_| ()))?;
    query_on!(&mut *transaction, |executor| sqlx::query(
        "DELETE FROM api_tokens WHERE user_id = $1"
    )
    .bind(user_id)
    .execute(executor)
    .await
    .map(|_| ()))?;
    activity::record(&mut *transaction, user_id, now, event).await
}

/// How many tokens the signed-in user holds (the account page).
pub async fn outstanding_for_session(cx: &RequestContext) -> Result<i64, AuthError> {
    let user_id = cx.require_signed_in()?.user_id;
    Ok(outstanding(&cx.state.database, user_id, cx.state.clock.now()).await?)
}

/// Revokes the signed-in user's tokens (the account page).
pub async fn revoke_for_session(cx: &RequestContext) -> Result<i64, AuthError> {
    let signed_in = super::reauth::require_confirmed(cx)?;
    let user_id = signed_in.user_id;
    let event = Event::here(cx, ActivityKind::TokensRevoked, Some(&signed_in.handle));
    let ended = revoke_all(&cx.state.database, user_id, cx.state.clock.now(), &event).await?;
    let client = cx.client_address();
    tracing::info!(target: "audit", event = "tokens_revoked", user_id, client, ended, outcome = "success");
    super::reauth::renew_confirmation(cx, signed_in).await?;
    Ok(ended)
}

/// The rules a running server signs and checks with.
pub type SharedTokenRules = std::sync::Arc<TokenRules>;
