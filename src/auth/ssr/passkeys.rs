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

use super::{
    activity, alerts, devices,
    flows::{begin_session, Via},
    notices::{self, Change},
    random::{self, TokenCookie},
    reauth, throttle,
    throttle::Scope,
    users::{self, UserRecord},
    AuthError, RequestContext, SignedIn,
};
use crate::auth::{ActivityKind, InvalidInput, PasskeyInfo, PASSKEY_NAME_MAX_CHARS};
use crate::digest::secret_hash;
use crate::server::store::{query_on, Database, RunsQueries, SerialLock, Transaction};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::sync::Arc;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder, WebauthnError,
};

/// How long a ceremony's challenge may be answered.
pub const CEREMONY_SECS: i64 = 300;

/// The relying party: the site passkeys are made for (its id, the origins a
/// ceremony may come from, its name), and how many passkeys an account may
/// have.
#[derive(Clone, Debug)]
pub struct RelyingParty {
    webauthn: Arc<Webauthn>,
    pub max_per_user: usize,
    /// The cookie a sign-in ceremony is carried in.
    pub cookie: TokenCookie,
}

/// The cookie that names a sign-in ceremony (a random token; its hash keys
/// the ceremony's row): `__Host-passkey` beside a `__Host-` session cookie,
/// else `passkey`, for `CEREMONY_SECS`.
pub fn ceremony_cookie(session_cookie: &str, secure: bool) -> TokenCookie {
    TokenCookie::beside_session_cookie("passkey", session_cookie, secure, CEREMONY_SECS)
}

impl RelyingParty {
    /// Checks the settings: at least one origin; each an `https://` origin
    /// (or `http://` on `localhost`) whose host is `rp_id` or under it.
    pub fn new(rp_id: &str, origins: &[&str], rp_name: &str) -> Result<Self, String> {
        let rp_id = rp_id.trim();
        if rp_id.is_empty() || rp_id.contains(['/', ':', ' ']) {
            return Err("webauthn.rp_id must be a domain, such as example.com".into());
        }
        let mut parsed = Vec::new();
        for origin in origins {
            parsed.push(parse_origin(origin, rp_id)?);
        }
        let Some((first, others)) = parsed.split_first() else {
            return Err("webauthn.origins must name at least one origin".into());
        };
        let mut builder = WebauthnBuilder::new(rp_id, first)
            .map_err(|_| format!("webauthn.origins: {first} is not on {rp_id}"))?
            .rp_name(rp_name)
            .timeout(std::time::Duration::from_secs(CEREMONY_SECS as u64));
        for origin in others {
            builder = builder.append_allowed_origin(origin);
        }
        let webauthn = builder
            .build()
            .map_err(|error| format!("webauthn settings: {error}"))?;
        Ok(Self {
            webauthn: Arc::new(webauthn),
            max_per_user: 10,
            cookie: ceremony_cookie("session", false),
        })
    }

    /// Whether a page at `origin` (an `Origin` header) may run a ceremony.
    pub fn allows(&self, origin: &str) -> bool {
        self.webauthn
            .get_allowed_origins()
            .iter()
            .any(|allowed| allowed.origin().ascii_serialization() == origin)
    }

    pub fn with_max_per_user(self, max_per_user: usize) -> Self {
        Self {
            max_per_user,
            ..self
        }
    }

    pub fn with_cookie(self, cookie: TokenCookie) -> Self {
        Self { cookie, ..self }
    }
}

/// One allowed origin: scheme, host and port only; HTTPS except on
/// `localhost` (browsers allow WebAuthn nowhere else without it).
fn parse_origin(origin: &str, rp_id: &str) -> Result<Url, String> {
    let invalid = || format!("webauthn.origins: {origin} is not an origin such as https://{rp_id}");
    let url = Url::parse(origin).map_err(|_| invalid())?;
    let host = url.host_str().ok_or_else(invalid)?.to_string();
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(invalid());
    }
    let local = host == "localhost" || host.ends_with(".localhost");
    match url.scheme() {
        "https" => {}
        "http" if local => {}
        _ => {
            return Err(format!(
                "webauthn.origins: {origin} must use https:// (only localhost may use http://)"
            ))
        }
    }
    if host != rp_id && !host.ends_with(&format!(".{rp_id}")) {
        return Err(format!(
            "webauthn.origins: {origin} is not on webauthn.rp_id {rp_id}"
        ));
    }
    Ok(url)
}

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

/// A ceremony begun, waiting for its answer.
#[derive(Serialize, Deserialize)]
struct Ceremony<T> {
    started_at: i64,
    /// Who is adding a passkey (none for a sign-in).
    user_id: Option<i64>,
    state: T,
}

const REGISTRATION_KEY: &str = "passkey.registration";

/// Why a ceremony's answer was refused, for the log (the user is told the
/// same for each).
type Refusal = &'static str;

/// Stores a new ceremony on this (signed-in) session.
async fn begin<T: Serialize>(
    cx: &RequestContext,
    key: &str,
    ceremony: &Ceremony<T>,
) -> Result<(), AuthError> {
    cx.session.insert(key, ceremony).await?;
    Ok(())
}

/// Stores a new sign-in ceremony under a new token, and hands the browser
/// the token in its cookie (replacing the one of an earlier ceremony, which
/// then only waits for its expiry).
async fn begin_sign_in(
    cx: &RequestContext,
    ceremony: &Ceremony<DiscoverableAuthentication>,
) -> Result<(), AuthError> {
    let token = random::token();
    let ceremony = serde_json::to_string(ceremony)
        .map_err(|error| AuthError::Passkey(format!("ceremony state: {error}")))?;
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
async fn take_sign_in(
    cx: &RequestContext,
) -> Result<Result<Ceremony<DiscoverableAuthentication>, Refusal>, AuthError> {
    let cookie = &cx.state.passkeys.cookie;
    let Some(token) = cx.from_headers(|headers| cookie.find(headers)) else {
        return Ok(Err("no ceremony for this browser"));
    };
    cx.set_cookie(&cookie.removal());
    let row: Option<(String, i64)> = query_on!(&cx.state.database, |executor| sqlx::query_as(
        "DELETE FROM passkey_sign_ins WHERE token_hash = $1 RETURNING ceremony, expires_at"
    )
    .bind(secret_hash(&token))
    .fetch_optional(executor)
    .await)?;
    let Some((ceremony, expires_at)) = row else {
        return Ok(Err("ceremony answered already, or never begun"));
    };
    if cx.state.clock.now() > expires_at {
        return Ok(Err("ceremony expired"));
    }
    serde_json::from_str(&ceremony)
        .map(Ok)
        .map_err(|error| AuthError::Passkey(format!("ceremony state: {error}")))
}

/// Takes the ceremony waiting on this session, once: it is removed from the
/// session and its hash recorded as answered, so neither a second request
/// of this session nor one racing it on another instance can answer it.
async fn take<T: Serialize + DeserializeOwned>(
    cx: &RequestContext,
    key: &str,
) -> Result<Result<Ceremony<T>, Refusal>, AuthError> {
    let Some(ceremony) = cx.session.remove::<Ceremony<T>>(key).await? else {
        return Ok(Err("no ceremony on this session"));
    };
    let now = cx.state.clock.now();
    let expires_at = ceremony.started_at + CEREMONY_SECS;
    if now > expires_at {
        return Ok(Err("ceremony expired"));
    }
    let state = serde_json::to_string(&ceremony.state)
        .map_err(|error| AuthError::Passkey(format!("ceremony state: {error}")))?;
    let first = query_on!(&cx.state.database, |executor| sqlx::query(
        "INSERT INTO passkey_ceremonies_done (state_hash, expires_at) VALUES ($1, $2) \
         ON CONFLICT (state_hash) DO NOTHING",
    )
    .bind(secret_hash(&state))
    .bind(expires_at)
    .execute(executor)
    .await
    .map(|done| done.rows_affected() == 1))?;
    Ok(if first {
        Ok(ceremony)
    } else {
        Err("ceremony answered already")
    })
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

/// The handle `user`'s passkeys carry, made on first use.
async fn handle_of(transaction: &mut Transaction, user_id: i64) -> Result<Uuid, AuthError> {
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
fn stored_passkey(id: i64, credential: &str) -> Result<Passkey, AuthError> {
    serde_json::from_str(credential)
        .map_err(|error| AuthError::Passkey(format!("stored passkey {id}: {error}")))
}

/// The passkeys `user_id` holds.
async fn credentials_of(
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
        .map(|(id, credential)| stored_passkey(*id, credential))
        .collect()
}

/// How many passkeys `user_id` holds.
async fn count_of(transaction: &mut Transaction, user_id: i64) -> Result<usize, AuthError> {
    let count: i64 = query_on!(&mut *transaction, |executor| sqlx::query_scalar(
        "SELECT COUNT(*) FROM passkeys WHERE user_id = $1"
    )
    .bind(user_id)
    .fetch_one(executor)
    .await)?;
    Ok(usize::try_from(count).unwrap_or(usize::MAX))
}

fn credential_id(passkey: &Passkey) -> String {
    URL_SAFE_NO_PAD.encode(passkey.cred_id().as_slice())
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
    let held = credentials_of(&mut transaction, user.id).await?;
    if held.len() >= party.max_per_user {
        return Err(AuthError::TooManyPasskeys {
            max: party.max_per_user,
        });
    }
    let handle = handle_of(&mut transaction, user.id).await?;
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
    begin(cx, REGISTRATION_KEY, &ceremony).await?;
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
    let refused = |reason: Refusal| {
        tracing::info!(target: "audit", event = "passkey_added", user_id, client, reason, outcome = "refused");
        AuthError::PasskeyNotAdded(reason)
    };
    let ceremony = match take::<PasskeyRegistration>(cx, REGISTRATION_KEY).await? {
        Ok(ceremony) if ceremony.user_id == Some(user_id) => ceremony,
        Ok(_) => return Err(refused("ceremony of another user")),
        Err(reason) => return Err(refused(reason)),
    };
    let answer: RegisterPublicKeyCredential =
        serde_json::from_str(credential).map_err(|_| refused("malformed credential"))?;
    let passkey = service
        .passkeys
        .webauthn
        .finish_passkey_registration(&answer, &ceremony.state)
        .map_err(|error| {
            tracing::info!(user_id, %error, "passkey registration refused");
            refused("registration did not verify")
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
    if count_of(&mut transaction, user_id).await? >= max {
        return Err(AuthError::TooManyPasskeys { max });
    }
    let new = NewPasskey {
        user_id,
        credential_id: &credential_id(&passkey),
        name: &name,
        credential: &stored,
        backed_up,
    };
    let Some(id) = insert(&mut transaction, &new, now).await? else {
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

/// Whether the session `signed_in` names is still there (not ended by a
/// recovery, a sign-out elsewhere or a password change meanwhile).
async fn still_signed_in(cx: &RequestContext, signed_in: &SignedIn) -> Result<bool, AuthError> {
    let at = crate::clock::utc(cx.state.clock.now());
    let sessions = cx.state.sessions.sessions_of(signed_in.user_id, at).await?;
    Ok(sessions
        .iter()
        .any(|session| session.handle == signed_in.handle))
}

/// Removes every passkey of `user_id` (recovery, #35), in a transaction
/// begun with `SerialLock::PasskeysOf(user_id)`; their names, oldest first.
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

/// A passkey to store.
struct NewPasskey<'a> {
    user_id: i64,
    credential_id: &'a str,
    name: &'a str,
    credential: &'a str,
    backed_up: bool,
}

/// Stores a passkey; `None` when its credential id is registered already,
/// to this account or any other.
async fn insert<'a>(
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

/// The signed-in user's passkeys, oldest first.
pub async fn list(cx: &RequestContext) -> Result<Vec<PasskeyInfo>, AuthError> {
    let signed_in = cx.require_signed_in()?;
    let rows: Vec<(i64, String, i64, Option<i64>, bool)> =
        query_on!(&cx.state.database, |executor| sqlx::query_as(
            "SELECT id, name, created_at, last_used_at, backed_up FROM passkeys \
             WHERE user_id = $1 ORDER BY id",
        )
        .bind(signed_in.user_id)
        .fetch_all(executor)
        .await)?;
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

/// Renames one of the signed-in user's passkeys (a sensitive action).
pub async fn rename(cx: &RequestContext, id: i64, name: &str) -> Result<(), AuthError> {
    let signed_in = reauth::require_confirmed(cx)?.clone();
    let name = parse_name(name)?;
    let renamed = query_on!(&cx.state.database, |executor| sqlx::query(
        "UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3"
    )
    .bind(&name)
    .bind(id)
    .bind(signed_in.user_id)
    .execute(executor)
    .await
    .map(|done| done.rows_affected()))?;
    if renamed == 0 {
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
    let removed: Option<String> = query_on!(&mut transaction, |executor| sqlx::query_scalar(
        "DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING name"
    )
    .bind(id)
    .bind(signed_in.user_id)
    .fetch_optional(executor)
    .await)?;
    let Some(name) = removed else {
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
    begin_sign_in(cx, &ceremony).await?;
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
    let user = match verify_assertion(cx, credential, now).await? {
        Ok(user) => user,
        Err((reason, user_id)) => {
            let user_id = user_id.map_or_else(|| "unknown".to_string(), |id| id.to_string());
            tracing::info!(target: "audit", event = "sign_in", via = "passkey", user_id, client, reason, outcome = "failure");
            return Err(AuthError::PasskeyRefused(reason));
        }
    };
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

/// Checks a sign-in answer against this session's ceremony and the stored
/// passkey it names, and records the passkey's new counter and use. A
/// refusal gives its reason, and the account when the passkey was known.
async fn verify_assertion(
    cx: &RequestContext,
    credential: &str,
    now: i64,
) -> Result<Result<UserRecord, (Refusal, Option<i64>)>, AuthError> {
    let service = &cx.state;
    let webauthn = &service.passkeys.webauthn;
    let ceremony = match take_sign_in(cx).await? {
        Ok(ceremony) => ceremony,
        Err(reason) => return Ok(Err((reason, None))),
    };
    let Ok(answer) = serde_json::from_str::<PublicKeyCredential>(credential) else {
        return Ok(Err(("malformed credential", None)));
    };
    let Ok((handle, id)) = webauthn.identify_discoverable_authentication(&answer) else {
        return Ok(Err(("no user handle", None)));
    };
    let row: Option<(i64, i64, String, String)> =
        query_on!(&service.database, |executor| sqlx::query_as(
            "SELECT p.id, p.user_id, p.credential, h.handle FROM passkeys p \
             JOIN passkey_handles h ON h.user_id = p.user_id WHERE p.credential_id = $1",
        )
        .bind(URL_SAFE_NO_PAD.encode(id))
        .fetch_optional(executor)
        .await)?;
    let Some((passkey_id, user_id, stored, stored_handle)) = row else {
        return Ok(Err(("unknown passkey", None)));
    };
    if stored_handle != handle.to_string() {
        return Ok(Err(("passkey of another account", Some(user_id))));
    }
    let mut passkey = stored_passkey(passkey_id, &stored)?;
    let result = match webauthn.finish_discoverable_authentication_v2(
        &answer,
        ceremony.state,
        &passkey,
    ) {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            tracing::warn!(target: "audit", event = "passkey_counter_went_back", user_id, passkey_id, client = cx.client_address(), outcome = "refused");
            return Ok(Err(("signature counter went backwards", Some(user_id))));
        }
        Err(error) => {
            tracing::info!(user_id, passkey_id, %error, "passkey assertion refused");
            return Ok(Err(("assertion did not verify", Some(user_id))));
        }
    };
    passkey.update_credential(&result);
    let stored = serde_json::to_string(&passkey)
        .map_err(|error| AuthError::Passkey(format!("passkey: {error}")))?;
    query_on!(&service.database, |executor| sqlx::query(
        "UPDATE passkeys SET credential = $1, backed_up = $2, last_used_at = $3 WHERE id = $4"
    )
    .bind(&stored)
    .bind(result.backup_state())
    .bind(now)
    .bind(passkey_id)
    .execute(executor)
    .await
    .map(|_| ()))?;
    let Some(user) = users::find_by_id(&service.database, user_id).await? else {
        return Ok(Err(("account deleted", None)));
    };
    Ok(Ok(user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_must_be_on_the_relying_party_and_secure_outside_localhost() {
        let party = |id: &str, origins: &[&str]| RelyingParty::new(id, origins, "Test");
        assert!(party("localhost", &["http://localhost:3000"]).is_ok());
        assert!(party(
            "example.com",
            &["https://example.com", "https://login.example.com"]
        )
        .is_ok());
        for (id, origins) in [
            ("example.com", &["http://example.com"][..]),
            ("example.com", &["https://example.org"][..]),
            ("example.com", &["https://notexample.com"][..]),
            ("example.com", &["https://example.com/login"][..]),
            ("example.com", &[][..]),
            ("127.0.0.1", &["http://127.0.0.1:3000"][..]),
            ("", &["https://example.com"][..]),
        ] {
            assert!(party(id, origins).is_err(), "{id} {origins:?}");
        }
    }

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
