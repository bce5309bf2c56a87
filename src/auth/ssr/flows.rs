//! The three things a user does: create an account, sign in, sign out. Each
//! writes one audit line under the `audit` target (user id, client address,
//! outcome; never a password, hash or session id).

use super::{
    activity, alerts, devices, email,
    password_check::{given_back_if_busy, PasswordCheck},
    session,
    throttle::{self, Scope},
    users,
    validation::{new_password, parse_username, presented_password, strong_enough, Username},
    AuthError, AuthService, RequestContext, SignedIn,
};
use crate::auth::{ActivityKind, InvalidInput, Password};
use secrecy::SecretString;

/// Creates an account, with an email address to verify if one is given
/// (its link queued in the same transaction). Sign-ups are limited per
/// client address.
pub async fn register_account(
    service: &AuthService,
    client: &str,
    username: &str,
    password: Password,
    email: Option<&str>,
) -> Result<i64, AuthError> {
    let username = new_username(username)?;
    let password = new_password(password.into_inner(), service.password_rules)?;
    let email = email::parse_optional_address(email)?;
    let now = service.clock.now();
    let limit = service.throttle.limit(Scope::AddressSignUp);
    // Refuse a throttled address before the strength estimate and the hash.
    if let Some(retry_after_secs) =
        throttle::retry_after(&service.database, limit, Scope::AddressSignUp, client, now).await?
    {
        tracing::warn!(target: "audit", event = "register", client, outcome = "throttled");
        return Err(AuthError::Throttled { retry_after_secs });
    }
    let (password, username) = judged_strong(password, username).await?;
    let sign_up = service.throttle.attempt(Scope::AddressSignUp, client);
    // A sign-up with an address sends a link to it: counted as mail too (#35).
    let mut attempts = vec![sign_up];
    if let Some(address) = &email {
        attempts.extend(email::mail_attempts(
            service,
            client,
            None,
            Some(&address.key),
        ));
    }
    if let Some(refusal) = throttle::admit(&service.database, &attempts, now).await? {
        tracing::warn!(target: "audit", event = "register", client, throttled_by = ?refusal.scope, outcome = "throttled");
        return Err(AuthError::Throttled {
            retry_after_secs: refusal.retry_after_secs,
        });
    }
    let hashed = service.hasher.hash(SecretString::from(password)).await;
    let hash = given_back_if_busy(&service.database, &attempts, hashed).await?;
    let mut transaction = service.database.begin().await?;
    match users::insert(&mut transaction, &username.display, &username.key, &hash).await? {
        Some(user_id) => {
            if let Some(address) = &email {
                let user = users::UserRecord {
                    id: user_id,
                    username: username.display.clone(),
                    username_key: username.key.clone(),
                    password_hash: hash,
                };
                email::request_verification(service, &mut transaction, &user, address, now).await?;
            }
            transaction.commit().await?;
            if email.is_some() {
                service.outbox.wake();
            }
            tracing::info!(target: "audit", event = "register", user_id, client, outcome = "created", with_email = email.is_some());
            Ok(user_id)
        }
        None => {
            tracing::info!(target: "audit", event = "register", client, outcome = "username_taken");
            Err(AuthError::UsernameTaken)
        }
    }
}

/// Signs up: creates the account (`register_account`) and signs it in on
/// this browser, as a sign-in does (a new session id, a device cookie, the
/// activity), without asking for the password again.
pub async fn sign_up(
    cx: &RequestContext,
    username: &str,
    password: Password,
    email: Option<&str>,
    remember: bool,
) -> Result<(), AuthError> {
    let client = cx.client_address();
    let user_id = register_account(&cx.state, &client, username, password, email).await?;
    // Deleted in the instant since? Then there is nobody to sign in.
    let user = users::find_by_id(&cx.state.database, user_id)
        .await?
        .ok_or(AuthError::SessionEnded)?;
    begin_session(cx, &user, Via::SignUp, remember).await?;
    tracing::info!(target: "audit", event = "sign_in", via = "sign_up", user_id, client, remember, outcome = "success");
    Ok(())
}

/// Refuses a new password that is easy to guess (`strong_enough`), judged off
/// the async threads (the estimate takes milliseconds); hands both back.
pub(super) async fn judged_strong(
    password: String,
    username: Username,
) -> Result<(String, Username), AuthError> {
    tokio::task::spawn_blocking(move || {
        strong_enough(&password, &username).map(|()| (password, username))
    })
    .await
    .map_err(|error| AuthError::Hashing(error.to_string()))?
}

/// A username for a new account: the sign-in rules, and no `@` (#35: a name
/// shaped like an address would shadow that address in "Forgot your
/// password?"). Accounts named so before keep signing in.
fn new_username(text: &str) -> Result<Username, AuthError> {
    let username = parse_username(text)?;
    if username.display.contains('@') {
        return Err(AuthError::Invalid(InvalidInput::UsernameLooksLikeEmail));
    }
    Ok(username)
}

/// Creates an account from the admin command line: the sign-up rules, without
/// the per-address limit (there is no client address).
pub async fn create_user(
    service: &AuthService,
    username: &str,
    password: Password,
) -> Result<i64, AuthError> {
    let username = new_username(username)?;
    let password = new_password(password.into_inner(), service.password_rules)?;
    let (password, username) = judged_strong(password, username).await?;
    let hash = service.hasher.hash(SecretString::from(password)).await?;
    match users::insert(&service.database, &username.display, &username.key, &hash).await? {
        Some(user_id) => {
            tracing::info!(target: "audit", event = "register", user_id, client = "admin", outcome = "created");
            Ok(user_id)
        }
        None => Err(AuthError::UsernameTaken),
    }
}

/// Checks the credentials and signs the user in on this session (see
/// `check_credentials`). A browser that signed in to the account is given a
/// device cookie, so that its own later failures count on it alone.
pub async fn sign_in(
    cx: &RequestContext,
    username: &str,
    password: Password,
    remember: bool,
) -> Result<(), AuthError> {
    let client = cx.client_address();
    let checked = check_credentials(cx, username, password, "session").await?;
    let user = &checked.user;
    let known_device = checked.on_trusted_device;
    let begun = begin_session(cx, user, Via::Password { known_device }, remember).await?;
    tracing::info!(target: "audit", event = "sign_in", via = "session", user_id = user.id, client, remember, known_device, outcome = "success");
    if begun.new_device && !begun.first_device {
        let now = cx.state.clock.now();
        alerts::on_new_device(&cx.state, user, &begun.state, now).await?;
    }
    Ok(())
}

/// A session just begun, and on what kind of browser.
pub(super) struct Begun {
    pub state: SignedIn,
    /// The browser had not signed in to the account before.
    pub new_device: bool,
    /// Nor had any other: the account's first sign-in.
    pub first_device: bool,
}

/// How a session begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Via {
    /// The password (a sign-in, or a new one set by a reset link), on a
    /// browser that signed in to the account before or not.
    Password { known_device: bool },
    /// The account was just created here. The browser is not trusted yet:
    /// the first sign-in with the password trusts it (and is never alerted,
    /// wherever it happens).
    SignUp,
    /// A passkey (#25), on a browser that signed in to the account before
    /// or not.
    Passkey { known_device: bool },
}

impl Via {
    /// Whether the browser signed in to the account before.
    fn known_device(self) -> bool {
        match self {
            Via::Password { known_device } | Via::Passkey { known_device } => known_device,
            Via::SignUp => false,
        }
    }
}

/// Signs `user` in on this request's session (a new session id), recorded
/// on their activity; a browser signing in with the password or a passkey
/// that had not before is given a device cookie, so that its own later
/// failures count on it alone.
pub(super) async fn begin_session(
    cx: &RequestContext,
    user: &users::UserRecord,
    via: Via,
    remember: bool,
) -> Result<Begun, AuthError> {
    let service = &cx.state;
    let now = service.clock.now();
    let known_device = via.known_device();
    let first_device =
        !known_device && !devices::any_trusted(&service.database, &user.username_key, now).await?;
    if !known_device && via != Via::SignUp {
        let token = devices::new_token();
        devices::trust(
            &service.database,
            &devices::token_hash(&token),
            &user.username_key,
            now,
        )
        .await?;
        cx.set_cookie(&cx.state.device_cookie.set_cookie(&token));
    }
    let state = session::start(
        &cx.session,
        &service.policy,
        now,
        user.id,
        &user.username,
        remember,
        cx.session_origin(),
    )
    .await?;
    let kind = match via {
        Via::SignUp => ActivityKind::SignedUp,
        Via::Password { known_device: true } => ActivityKind::SignedIn,
        Via::Password {
            known_device: false,
        } => ActivityKind::SignedInNewDevice,
        Via::Passkey { known_device: true } => ActivityKind::SignedInWithPasskey,
        Via::Passkey {
            known_device: false,
        } => ActivityKind::SignedInWithPasskeyNewDevice,
    };
    let event = activity::Event::on_new_session(kind, &state);
    activity::record(&service.database, user.id, now, &event).await?;
    Ok(Begun {
        state,
        new_device: !known_device,
        first_device,
    })
}

/// A user whose password was just checked.
pub(super) struct CheckedUser {
    pub user: users::UserRecord,
    /// Whether this browser signed in to the account before.
    pub on_trusted_device: bool,
}

/// Checks a username and password, for a session (`via = "session"`) or a
/// bearer token (`"token"`). Every attempt is counted per account and per
/// client address before its password is hashed (a success is given back);
/// while either is throttled the answer is 429 and no password is hashed. A
/// browser that signed in to this account before (its device cookie) is
/// counted on its own instead of the account, so strangers' failures cannot
/// lock the owner out. Unknown users and wrong passwords get the same answer
/// in the same time. Failures are audited here; the caller audits success.
pub(super) async fn check_credentials(
    cx: &RequestContext,
    username: &str,
    password: Password,
    via: &'static str,
) -> Result<CheckedUser, AuthError> {
    let service = &cx.state;
    let client = cx.client_address();
    let username = parse_username(username)?;
    let password = presented_password(password.into_inner())?;
    let now = service.clock.now();
    let check = PasswordCheck::for_account(cx, &username.key, now).await?;
    let on_trusted_device = check.on_trusted_device();
    if let Some(refusal) = check.admit(service, now).await? {
        let retry_after_secs = refusal.retry_after_secs;
        tracing::warn!(target: "audit", event = "sign_in", via, client, throttled_by = ?refusal.scope, retry_after_secs, outcome = "throttled");
        return Err(AuthError::Throttled { retry_after_secs });
    }

    let user = users::find_by_key(&service.database, &username.key).await?;
    let stored_hash = user.as_ref().map(|user| user.password_hash.clone());
    // Always verify (a dummy hash for unknown users) so both failures cost the same.
    let verified = service
        .hasher
        .verify(SecretString::from(password.clone()), stored_hash)
        .await;
    let matches = check.verified(service, verified).await?;
    let user = match user {
        Some(user) if matches => user,
        user => {
            // Already counted by `admit`.
            if let Some(user) = &user {
                check.failed(cx, user.id, None, now).await?;
            }
            let user_id = user.map_or_else(|| "unknown".to_string(), |user| user.id.to_string());
            tracing::info!(target: "audit", event = "sign_in", via, user_id, client, outcome = "failure");
            return Err(AuthError::InvalidCredentials);
        }
    };
    check.succeeded(service).await?;
    if service.hasher.needs_upgrade(&user.password_hash) {
        let upgraded = service.hasher.hash(SecretString::from(password)).await?;
        users::update_password_hash(&service.database, user.id, &upgraded).await?;
        tracing::info!(target: "audit", event = "password_hash_upgraded", user_id = user.id, outcome = "success");
    }
    Ok(CheckedUser {
        user,
        on_trusted_device,
    })
}

pub async fn sign_out(cx: &RequestContext) -> Result<(), AuthError> {
    let signed_in = cx.signed_in.as_ref();
    session::end(&cx.session).await?;
    if let Some(SignedIn {
        user_id, handle, ..
    }) = signed_in
    {
        let user_id = *user_id;
        activity::record_here(cx, user_id, ActivityKind::SignedOut, Some(handle)).await?;
        let client = cx.client_address();
        tracing::info!(target: "audit", event = "sign_out", user_id, client, outcome = "success");
    }
    Ok(())
}
