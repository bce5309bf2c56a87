//! Device cookies (OWASP's defence against locking owners out): a browser that
//! has signed in to an account receives a random token in a cookie. Its later
//! sign-ins to that account are throttled on a counter of their own, not on the
//! account's, so failures from anywhere else cannot keep the owner out, while
//! guesses from browsers that never signed in still meet the account's limit.
//!
//! Only a hash of each token is stored (`trusted_devices`), so a copy of the
//! database yields no cookie. A token is trusted for one account for
//! `DEVICE_LIFETIME_SECS` after it was issued.

use super::random::TokenCookie;
use crate::digest::secret_hash;
use crate::server::store::{query_on, Database, RunsQueries};

/// How long a browser stays trusted for an account after signing in.
pub const DEVICE_LIFETIME_SECS: i64 = 365 * 86_400;

/// The device cookie: `__Host-device` beside a `__Host-` session cookie,
/// else `device`, for `DEVICE_LIFETIME_SECS`.
pub fn device_cookie(session_cookie: &str, secure: bool) -> TokenCookie {
    TokenCookie::beside_session_cookie("device", session_cookie, secure, DEVICE_LIFETIME_SECS)
}

/// A new device token.
pub fn new_token() -> String {
    super::random::token()
}

/// What is stored and counted for a token: its hash, in hex.
pub fn token_hash(token: &str) -> String {
    secret_hash(token)
}

/// Whether `token_hash` was issued to a browser that signed in to `username_key`.
pub async fn is_trusted(
    database: &Database,
    token_hash: &str,
    username_key: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = query_on!(database, |executor| sqlx::query_scalar(
        "SELECT created_at FROM trusted_devices \
         WHERE token_hash = $1 AND username_key = $2 AND created_at > $3",
    )
    .bind(token_hash)
    .bind(username_key)
    .bind(now - DEVICE_LIFETIME_SECS)
    .fetch_optional(executor)
    .await)?;
    Ok(found.is_some())
}

/// The hash of this request's device cookie when it was issued by a
/// sign-in to `username_key` (still within its lifetime).
pub async fn trusted_here(
    cx: &super::RequestContext,
    username_key: &str,
    now: i64,
) -> Result<Option<String>, sqlx::Error> {
    let Some(device) = cx.device_token().as_deref().map(token_hash) else {
        return Ok(None);
    };
    let trusted = is_trusted(&cx.state.database, &device, username_key, now).await?;
    Ok(trusted.then_some(device))
}

/// Whether any browser has signed in to `username_key` within the
/// lifetime: none means this is the account's first sign-in.
pub async fn any_trusted(
    database: &Database,
    username_key: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = query_on!(database, |executor| {
        sqlx::query_scalar(
        "SELECT created_at FROM trusted_devices WHERE username_key = $1 AND created_at > $2 LIMIT 1",
    )
    .bind(username_key)
    .bind(now - DEVICE_LIFETIME_SECS)
    .fetch_optional(executor)
    .await
    })?;
    Ok(found.is_some())
}

pub async fn trust(
    database: &Database,
    token_hash: &str,
    username_key: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    query_on!(database, |executor| sqlx::query(
        "INSERT INTO trusted_devices (token_hash, username_key, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (token_hash, username_key) DO UPDATE SET created_at = excluded.created_at",
    )
    .bind(token_hash)
    .bind(username_key)
    .bind(now)
    .execute(executor)
    .await
    .map(|_| ()))
}

/// Forgets every browser trusted for `username_key` but `keep` (a token
/// hash): their next sign-in is a new device's, reported to the owner.
/// Recovery does this (#35); how many were forgotten.
pub async fn forget_all_but<'a>(
    on: impl RunsQueries<'a>,
    username_key: &str,
    keep: Option<&str>,
) -> Result<u64, sqlx::Error> {
    query_on!(on, |executor| sqlx::query(
        "DELETE FROM trusted_devices WHERE username_key = $1 AND token_hash <> $2"
    )
    .bind(username_key)
    .bind(keep.unwrap_or_default())
    .execute(executor)
    .await
    .map(|done| done.rows_affected()))
}

/// Forgets devices trusted longer ago than the lifetime.
pub async fn purge_expired(database: &Database, now: i64) -> Result<u64, sqlx::Error> {
    query_on!(database, |executor| sqlx::query(
        "DELETE FROM trusted_devices WHERE created_at <= $1"
    )
    .bind(now - DEVICE_LIFETIME_SECS)
    .execute(executor)
    .await
    .map(|done| done.rows_affected()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_found_only_when_well_formed() {
        use axum::http::HeaderMap;
        let cookie = device_cookie("session", false);
        let token = new_token();
        let headers = |value: String| {
            let mut headers = HeaderMap::new();
            headers.insert(axum::http::header::COOKIE, value.parse().unwrap());
            headers
        };
        let sent = headers(format!("session=abc; device={token}; theme=dark"));
        assert_eq!(cookie.find(&sent), Some(token));
        assert_eq!(cookie.find(&headers("device=not-hex".into())), None);
        assert_eq!(cookie.find(&headers("session=abc".into())), None);
        let secure = device_cookie("__Host-session", true);
        assert_eq!(secure.name, "__Host-device");
        assert!(secure.set_cookie("t").contains("; Secure"));
    }

    #[tokio::test]
    async fn a_token_is_trusted_for_its_account_until_its_lifetime_ends() {
        let database = Database::in_memory().await;
        let hash = token_hash(&new_token());
        trust(&database, &hash, "alice", 1_000).await.unwrap();
        assert!(is_trusted(&database, &hash, "alice", 1_001).await.unwrap());
        assert!(!is_trusted(&database, &hash, "bob", 1_001).await.unwrap());
        let later = 1_000 + DEVICE_LIFETIME_SECS;
        assert!(!is_trusted(&database, &hash, "alice", later).await.unwrap());
        assert_eq!(purge_expired(&database, later).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn recovery_forgets_every_browser_of_the_account_but_the_one_kept() {
        let database = Database::in_memory().await;
        let [kept, other, bobs] = [new_token(), new_token(), new_token()].map(|t| token_hash(&t));
        for (hash, account) in [(&kept, "alice"), (&other, "alice"), (&bobs, "bob")] {
            trust(&database, hash, account, 1_000).await.unwrap();
        }
        let forgotten = forget_all_but(&database, "alice", Some(&kept)).await;
        assert_eq!(forgotten.unwrap(), 1);
        assert!(is_trusted(&database, &kept, "alice", 1_001).await.unwrap());
        assert!(!is_trusted(&database, &other, "alice", 1_001).await.unwrap());
        assert!(is_trusted(&database, &bobs, "bob", 1_001).await.unwrap());
        assert_eq!(forget_all_but(&database, "alice", None).await.unwrap(), 1);
        assert!(!any_trusted(&database, "alice", 1_001).await.unwrap());
    }
}
