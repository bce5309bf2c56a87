//! Links sent by mail (#24): a random token in a `token=` query parameter,
//! stored only as its hash, single-use, expiring, and dead once the
//! account's password changes by any path (the link keeps a fingerprint of
//! the password hash it was sent under).
//!
//! A browser that follows one is sent on at once to the same page without
//! the token in its address (`server::http::mail_links`): the token waits in
//! an HttpOnly cookie of its own for `HELD_SECS` (one per purpose, beside the
//! session cookie), so it cannot leak through `Referer` or the history, and
//! an anonymous visit stores nothing on the server (#35: a session per
//! visit was a record of 14 days that anyone could make by the thousand).

use super::{random::TokenCookie, RequestContext};
use crate::auth::LinkState;
use crate::digest::{hex, secret_hash};
use crate::server::store::{query_on, Database, RunsQueries, Transaction};

/// What a link is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Proves an email address.
    VerifyEmail,
    /// Sets a new password (forgot password).
    ResetPassword,
    /// "This wasn't me" in a new-device alert (about `session_handle`): ends
    /// every session of the account.
    NotMe,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
            Purpose::NotMe => "not_me",
        }
    }

    /// The page the link leads to.
    pub fn page(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => crate::routes::VERIFY_EMAIL_PAGE,
            Purpose::ResetPassword => crate::routes::RESET_PASSWORD_PAGE,
            Purpose::NotMe => crate::routes::NOT_ME_LINK_PAGE,
        }
    }

    /// The cookie a followed link's token waits in.
    fn cookie_base(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "link-verify",
            Purpose::ResetPassword => "link-reset",
            Purpose::NotMe => "link-not-me",
        }
    }

    /// Whether a link of this purpose works only while the account's
    /// verified address is the one it was sent to: a reset or alert link in
    /// a mailbox the account has left opens nothing (#35). A verification
    /// link proves the address it was sent to, verified or not yet.
    fn bound_to_its_address_now(self, row: &Row) -> bool {
        match self {
            Purpose::VerifyEmail => true,
            Purpose::ResetPassword | Purpose::NotMe => {
                row.address_key.is_some() && row.address_key == row.verified_key
            }
        }
    }

    /// The purpose of the page at `path`, if links lead there.
    pub fn of_page(path: &str) -> Option<Self> {
        [Purpose::VerifyEmail, Purpose::ResetPassword, Purpose::NotMe]
            .into_iter()
            .find(|purpose| purpose.page() == path)
    }
}

/// A link to issue: for whom, and what it carries.
pub struct NewLink<'a> {
    pub purpose: Purpose,
    pub user_id: i64,
    /// The account's password hash now: a change of it kills the link.
    pub password_hash: &'a str,
    /// The address the link is sent to, as typed and normalised: the one a
    /// verification link proves; the verified address a reset or alert link
    /// is bound to.
    pub address: Option<(&'a str, &'a str)>,
    /// The session a "This wasn't me" link ends.
    pub session_handle: Option<&'a str>,
    pub lifetime_secs: i64,
}

/// A link that worked: whose, and what it carried.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Redeemed {
    pub user_id: i64,
    pub username: String,
    pub address: Option<String>,
    pub address_key: Option<String>,
    pub session_handle: Option<String>,
    /// When it was sent (Unix seconds).
    pub sent_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    user_id: i64,
    address: Option<String>,
    address_key: Option<String>,
    session_handle: Option<String>,
    password_fingerprint: String,
    created_at: i64,
    expires_at: i64,
    username: Option<String>,
    password_hash: Option<String>,
    /// The account's verified address now.
    verified_key: Option<String>,
}

const FORGET_OTHERS: &str = "DELETE FROM email_links WHERE user_id = $1 AND purpose = $2";
const INSERT: &str =
    "INSERT INTO email_links (token_hash, purpose, user_id, address, address_key, \
     session_handle, password_fingerprint, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
const FIND: &str = "SELECT l.user_id, l.address, l.address_key, l.session_handle, \
     l.password_fingerprint, l.created_at, l.expires_at, u.username, u.password_hash, \
     e.address_key AS verified_key FROM email_links l LEFT JOIN users u ON u.id = l.user_id \
     LEFT JOIN email_addresses e ON e.user_id = l.user_id \
     WHERE l.token_hash = $1 AND l.purpose = $2";
const USE: &str = "DELETE FROM email_links WHERE token_hash = $1 AND purpose = $2";
const PENDING_ADDRESS: &str = "SELECT address FROM email_links \
     WHERE user_id = $1 AND purpose = $2 AND expires_at > $3 ORDER BY created_at DESC LIMIT 1";
const PURGE: &str = "DELETE FROM email_links WHERE expires_at <= $1";

/// The fingerprint of a password hash that a link is bound to.
fn fingerprint(password_hash: &str) -> String {
    secret_hash(password_hash)
}

/// How long a followed link's token waits in its cookie: long enough to
/// read the page and answer it.
pub const HELD_SECS: i64 = 3_600;

/// The cookies followed links' tokens wait in, named beside the session
/// cookie (`__Host-link-reset` beside `__Host-session`).
#[derive(Clone, Debug)]
pub struct LinkCookies {
    session_cookie: String,
    secure: bool,
}

impl LinkCookies {
    pub fn new(session_cookie: &str, secure: bool) -> Self {
        Self {
            session_cookie: session_cookie.to_string(),
            secure,
        }
    }

    /// The cookie of `purpose`'s links.
    pub fn of(&self, purpose: Purpose) -> TokenCookie {
        TokenCookie::beside_session_cookie(
            purpose.cookie_base(),
            &self.session_cookie,
            self.secure,
            HELD_SECS,
        )
        .holding(well_formed)
    }
}

/// Whether `token` has the shape of a link's token (64 hex digits).
fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Forgets every link of `user_id` for `purpose`.
pub async fn forget(
    transaction: &mut Transaction,
    user_id: i64,
    purpose: Purpose,
) -> Result<(), sqlx::Error> {
    query_on!(&mut *transaction, |executor| sqlx::query(FORGET_OTHERS)
        .bind(user_id)
        .bind(purpose.as_str())
        .execute(executor)
        .await
        .map(|_| ()))
}

/// Issues a link in `transaction` at `now`, replacing any earlier one of the
/// user for the same purpose (only the newest works); its token, for the
/// message.
pub async fn issue(
    transaction: &mut Transaction,
    link: &NewLink<'_>,
    now: i64,
) -> Result<String, sqlx::Error> {
    forget(transaction, link.user_id, link.purpose).await?;
    issue_beside_others(transaction, link, now).await
}

/// Issues a link in `transaction` at `now`, leaving the user's others of the
/// same purpose working (each alert's "This wasn't me").
pub async fn issue_beside_others(
    transaction: &mut Transaction,
    link: &NewLink<'_>,
    now: i64,
) -> Result<String, sqlx::Error> {
    let token = hex(&super::random::bytes::<32>());
    let purpose = link.purpose.as_str();
    let (address, address_key) = link.address.unzip();
    query_on!(&mut *transaction, |executor| sqlx::query(INSERT)
        .bind(secret_hash(&token))
        .bind(purpose)
        .bind(link.user_id)
        .bind(address)
        .bind(address_key)
        .bind(link.session_handle)
        .bind(fingerprint(link.password_hash))
        .bind(now)
        .bind(now + link.lifetime_secs)
        .execute(executor)
        .await
        .map(|_| ()))?;
    Ok(token)
}

/// The link `token` for `purpose`, if it works at `now`, without using it.
pub async fn find<'a>(
    on: impl RunsQueries<'a>,
    purpose: Purpose,
    token: &str,
    now: i64,
) -> Result<Option<Redeemed>, sqlx::Error> {
    if !well_formed(token) {
        return Ok(None);
    }
    let row: Option<Row> = query_on!(on, |executor| sqlx::query_as(FIND)
        .bind(secret_hash(token))
        .bind(purpose.as_str())
        .fetch_optional(executor)
        .await)?;
    Ok(row
        .filter(|row| {
            now < row.expires_at
                && row.password_hash.as_deref().map(fingerprint).as_deref()
                    == Some(row.password_fingerprint.as_str())
                && purpose.bound_to_its_address_now(row)
        })
        .map(|row| Redeemed {
            user_id: row.user_id,
            username: row.username.unwrap_or_default(),
            address: row.address,
            address_key: row.address_key,
            session_handle: row.session_handle,
            sent_at: row.created_at,
        }))
}

/// Uses the link `token` for `purpose` in `transaction`: it works no more
/// once the transaction commits. `None` when it does not work at `now`.
pub async fn redeem(
    transaction: &mut Transaction,
    purpose: Purpose,
    token: &str,
    now: i64,
) -> Result<Option<Redeemed>, sqlx::Error> {
    let Some(found) = find(&mut *transaction, purpose, token, now).await? else {
        return Ok(None);
    };
    let used = query_on!(&mut *transaction, |executor| sqlx::query(USE)
        .bind(secret_hash(token))
        .bind(purpose.as_str())
        .execute(executor)
        .await
        .map(|done| done.rows_affected()))?;
    // Another request used it first.
    Ok((used == 1).then_some(found))
}

/// The address a working verification link of `user_id` would prove.
pub async fn pending_address(
    database: &Database,
    user_id: i64,
    now: i64,
) -> Result<Option<String>, sqlx::Error> {
    query_on!(database, |executor| sqlx::query_scalar(PENDING_ADDRESS)
        .bind(user_id)
        .bind(Purpose::VerifyEmail.as_str())
        .bind(now)
        .fetch_optional(executor)
        .await)
    .map(Option::flatten)
}

/// Deletes the links expired at `now`; how many.
pub async fn purge_expired(database: &Database, now: i64) -> Result<u64, sqlx::Error> {
    query_on!(database, |executor| sqlx::query(PURGE)
        .bind(now)
        .execute(executor)
        .await
        .map(|done| done.rows_affected()))
}

/// Keeps a link's token in this browser (its cookie), for the page it is
/// sent to next.
pub fn hold(cx: &RequestContext, purpose: Purpose, token: &str) {
    cx.set_cookie(&cx.state.link_cookies.of(purpose).set_cookie(token));
}

/// The token of the link this browser followed, if any.
pub fn held(cx: &RequestContext, purpose: Purpose) -> Option<String> {
    let cookie = cx.state.link_cookies.of(purpose);
    cx.from_headers(|headers| cookie.find(headers))
}

/// The token a request presents for `purpose`: the `token` field when
/// given, else the link this browser followed; `LinkInvalid` when neither.
pub fn presented(
    cx: &RequestContext,
    purpose: Purpose,
    token: Option<&str>,
) -> Result<String, super::AuthError> {
    match token.filter(|token| !token.is_empty()) {
        Some(token) => Ok(token.to_string()),
        None => held(cx, purpose).ok_or(super::AuthError::LinkInvalid),
    }
}

/// Forgets the followed link's token (once used).
pub fn release(cx: &RequestContext, purpose: Purpose) {
    cx.set_cookie(&cx.state.link_cookies.of(purpose).removal());
}

/// Whether the link this browser followed to `purpose`'s page works.
pub async fn state(cx: &RequestContext, purpose: Purpose) -> Result<LinkState, super::AuthError> {
    let Some(token) = held(cx, purpose) else {
        return Ok(LinkState::Invalid);
    };
    let service = &cx.state;
    let Some(link) = find(&service.database, purpose, &token, service.clock.now()).await? else {
        return Ok(LinkState::Invalid);
    };
    let sign_in = match (purpose, &link.session_handle) {
        (Purpose::NotMe, Some(handle)) => {
            super::activity::sign_in_of_session(&service.database, link.user_id, handle).await?
        }
        _ => None,
    };
    Ok(LinkState::Valid {
        username: link.username,
        address: link.address,
        sign_in,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn user(database: &Database, hash: &str) -> i64 {
        let mut transaction = database.begin().await.unwrap();
        let id = query_on!(&mut transaction, |executor| sqlx::query_scalar(
            "INSERT INTO users (username, username_key, password_hash) VALUES ('a', 'a', $1) RETURNING id"
        )
        .bind(hash)
        .fetch_one(executor)
        .await)
        .unwrap();
        transaction.commit().await.unwrap();
        id
    }

    fn link(user_id: i64, hash: &str) -> NewLink<'_> {
        NewLink {
            purpose: Purpose::VerifyEmail,
            user_id,
            password_hash: hash,
            address: Some(("A@example.com", "a@example.com")),
            session_handle: None,
            lifetime_secs: 100,
        }
    }

    async fn issued(database: &Database, link: &NewLink<'_>, now: i64) -> String {
        let mut transaction = database.begin().await.unwrap();
        let token = issue(&mut transaction, link, now).await.unwrap();
        transaction.commit().await.unwrap();
        token
    }

    async fn redeemed(database: &Database, token: &str, now: i64) -> Option<Redeemed> {
        let mut transaction = database.begin().await.unwrap();
        let found = redeem(&mut transaction, Purpose::VerifyEmail, token, now)
            .await
            .unwrap();
        transaction.commit().await.unwrap();
        found
    }

    #[tokio::test]
    async fn a_link_works_once_before_it_expires_and_only_the_newest_works() {
        let database = Database::in_memory().await;
        let id = user(&database, "hash-1").await;
        let first = issued(&database, &link(id, "hash-1"), 1_000).await;
        let second = issued(&database, &link(id, "hash-1"), 1_000).await;
        assert_eq!(second.len(), 64);
        assert_eq!(redeemed(&database, &first, 1_001).await, None, "replaced");
        let used = redeemed(&database, &second, 1_099).await.expect("works");
        assert_eq!(used.address_key.as_deref(), Some("a@example.com"));
        assert_eq!(redeemed(&database, &second, 1_099).await, None, "used");
        let late = issued(&database, &link(id, "hash-1"), 1_000).await;
        assert_eq!(redeemed(&database, &late, 1_100).await, None, "expired");
        assert_eq!(redeemed(&database, "not a token", 1_000).await, None);
    }

    #[tokio::test]
    async fn a_link_dies_when_the_password_changes() {
        let database = Database::in_memory().await;
        let id = user(&database, "hash-1").await;
        let token = issued(&database, &link(id, "hash-1"), 1_000).await;
        crate::auth::ssr::users::update_password_hash(&database, id, "hash-2")
            .await
            .unwrap();
        assert_eq!(
            find(&database, Purpose::VerifyEmail, &token, 1_001)
                .await
                .unwrap(),
            None
        );
        assert_eq!(redeemed(&database, &token, 1_001).await, None);
    }
}
