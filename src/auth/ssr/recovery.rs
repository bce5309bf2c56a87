//! A way back in (#24): "Forgot your password?" mails a single-use link to
//! the account's verified address; following it sets a new password, ends
//! every session and token, and signs the user in on this browser.
//!
//! The form answers the same, in the same time, whoever is named: it counts
//! the request on the throttle (per name and per client address, known or
//! not) and answers; finding the account and queuing the message happen
//! after the answer, on a task of their own.
//!
//! The "This wasn't me" link of a new-device alert (`alerts`) leads here
//! too: it ends every session and token, then to a new password.
//!
//! Every recovery (that link, "This wasn't me" on the activity page, a
//! reset) also removes every passkey and forgets every browser trusted for
//! the account but the one recovering (`remove_credentials`): an intruder
//! who had the password could have added a passkey, which no new password
//! would shut out, and their browser's device cookie would keep their next
//! sign-in from being reported (#35; SECURITY.md says why all of them).

use super::{
    activity::{self, Event},
    devices, email,
    flows::{begin_session, judged_strong, Via},
    links::{self, NewLink, Purpose},
    mailbox::{self, MailRules},
    notices::{self, Change},
    passkeys,
    throttle::{self, Scope},
    tokens, users,
    validation::{new_password, parse_username},
    AuthError, AuthService, RequestContext,
};
use crate::auth::{ActivityKind, InvalidInput, Password, EMAIL_MAX_CHARS};
use crate::server::store::outbox::{self, OutgoingMail};
use crate::server::store::{SerialLock, Transaction};
use secrecy::SecretString;

/// What the throttle counts a request under: the username's key when the
/// text is a username, else the text in lower case (an address).
fn subject_of(login: &str) -> String {
    parse_username(login).map_or_else(|_| login.to_lowercase(), |username| username.key)
}

/// Asks for a reset link for `login` (a username or an email address).
/// Throttled; otherwise always `Ok`, whether or not a message is sent.
pub async fn forgot(cx: &RequestContext, login: &str) -> Result<(), AuthError> {
    let login = login.trim();
    if login.is_empty() {
        return Err(AuthError::Invalid(InvalidInput::LoginEmpty));
    }
    if login.chars().count() > EMAIL_MAX_CHARS {
        return Err(AuthError::Invalid(InvalidInput::EmailTooLong {
            max: EMAIL_MAX_CHARS,
        }));
    }
    // The recipient is known only once the account is found, after the
    // answer: it is counted then (`send_reset_link`).
    email::count_mail_request(cx, (Scope::AccountMail, &subject_of(login)), None).await?;
    let client = cx.client_address();
    tracing::info!(target: "audit", event = "password_forgot", client, outcome = "accepted");
    let (service, login) = (cx.state.clone(), login.to_string());
    tokio::spawn(async move {
        match send_reset_link(&service, &login).await {
            Ok(ResetLink::Queued { user_id }) => {
                tracing::info!(target: "audit", event = "password_reset_link", user_id, outcome = "queued");
            }
            Ok(ResetLink::NoVerifiedAddress) => {
                tracing::info!(target: "audit", event = "password_reset_link", outcome = "no_verified_address");
            }
            Ok(ResetLink::RecipientPaused { user_id }) => {
                tracing::warn!(target: "audit", event = "password_reset_link", user_id, throttled_by = ?Scope::RecipientMail, outcome = "throttled");
            }
            Err(error) => tracing::error!(%error, "password reset link not queued"),
        }
    });
    Ok(())
}

/// The account `login` names (its username, else its verified address),
/// with its verified address (as typed, and normalised); `None` when there
/// is no such account or it has no verified address.
async fn account_to_mail(
    service: &AuthService,
    login: &str,
) -> Result<Option<(users::UserRecord, (String, String))>, AuthError> {
    let database = &service.database;
    // An address first: a username shaped like it (allowed before #35)
    // must not shadow the account that has that address verified.
    if let Ok(address) = email::parse_address(login) {
        if let Some((user_id, display)) = email::owner_of(database, &address.key).await? {
            return Ok(users::find_by_id(database, user_id)
                .await?
                .map(|user| (user, (display, address.key))));
        }
    }
    let by_name = match parse_username(login) {
        Ok(username) => users::find_by_key(database, &username.key).await?,
        Err(_) => None,
    };
    let Some(user) = by_name else {
        return Ok(None);
    };
    let address = mailbox::verified_address_of(database, user.id).await?;
    Ok(address.map(|address| (user, address)))
}

/// What asking for a reset link led to, after the answer.
enum ResetLink {
    Queued {
        user_id: i64,
    },
    NoVerifiedAddress,
    /// Its address had been sent `throttle.mail_per_recipient` messages.
    RecipientPaused {
        user_id: i64,
    },
}

/// Queues a reset link for the account `login` names, within its
/// address's limit.
async fn send_reset_link(service: &AuthService, login: &str) -> Result<ResetLink, AuthError> {
    let Some((user, (address, address_key))) = account_to_mail(service, login).await? else {
        return Ok(ResetLink::NoVerifiedAddress);
    };
    let rules = &service.mail;
    let now = service.clock.now();
    // Past the recipient's limit nothing goes, and the answer (given
    // already) said nothing of it, as for any name.
    let recipient = service.throttle.attempt(Scope::RecipientMail, &address_key);
    if throttle::admit(&service.database, &[recipient], now)
        .await?
        .is_some()
    {
        return Ok(ResetLink::RecipientPaused { user_id: user.id });
    }
    let mut transaction = service.database.begin().await?;
    let link = NewLink {
        purpose: Purpose::ResetPassword,
        user_id: user.id,
        password_hash: &user.password_hash,
        address: Some((&address, &address_key)),
        session_handle: None,
        lifetime_secs: rules.reset_link_secs,
    };
    let token = links::issue(&mut transaction, &link, now).await?;
    let message = reset_message(rules, &user.username, &address, &token);
    outbox::enqueue(&mut transaction, &message, now).await?;
    transaction.commit().await?;
    service.outbox.wake();
    Ok(ResetLink::Queued { user_id: user.id })
}

fn reset_message(rules: &MailRules, username: &str, address: &str, token: &str) -> OutgoingMail {
    let minutes = rules.reset_link_secs / 60;
    let link = rules.link(Purpose::ResetPassword.page(), token);
    OutgoingMail {
        recipient: address.into(),
        subject: "Reset your password".into(),
        body: format!(
            "Hello {username},\n\n\
             Someone (we hope you) asked to reset the password of your account \"{username}\". \
             To choose a new one, open this link:\n\n{link}\n\n\
             It works once, within {minutes} minutes. Setting a new password signs out every \
             device and revokes every API token.\n\n\
             If you did not ask for this, ignore this message: your password stays as it is.\n"
        ),
    }
}

/// Sets a new password with a reset link (`token`, or the one this browser
/// followed): every session and token of the user ends, then this browser
/// is signed in.
pub async fn reset(
    cx: &RequestContext,
    token: Option<&str>,
    new: Password,
    confirmation: Option<Password>,
    remember: bool,
) -> Result<(), AuthError> {
    let service = &cx.state;
    let token = links::presented(cx, Purpose::ResetPassword, token)?;
    let client = cx.client_address();
    let found = links::find(
        &service.database,
        Purpose::ResetPassword,
        &token,
        service.clock.now(),
    )
    .await?;
    let Some(user) = (match found {
        Some(link) => users::find_by_id(&service.database, link.user_id).await?,
        None => None,
    }) else {
        tracing::info!(target: "audit", event = "password_reset", client, outcome = "invalid_link");
        return Err(AuthError::LinkInvalid);
    };
    let new = new.into_inner();
    if confirmation.is_some_and(|confirmation| confirmation.into_inner() != new) {
        return Err(AuthError::Invalid(InvalidInput::PasswordsDiffer));
    }
    let new = new_password(new, service.password_rules)?;
    let (new, _) = judged_strong(new, parse_username(&user.username)?).await?;
    let hash = service.hasher.hash(SecretString::from(new)).await?;

    // What the old password opened ends first (if the change below fails,
    // the link still works for another try), and again after it, for a
    // sign-in with the old password that raced it.
    let sessions_ended = service.sessions.revoke_all_but(user.id, None).await?;
    let now = service.clock.now();
    // This browser, the mailbox holder's, stays trusted if it was.
    let this_device = devices::trusted_here(cx, &user.username_key, now).await?;
    let mut transaction = service
        .database
        .begin_serialized(SerialLock::PasskeysOf(user.id))
        .await?;
    if links::redeem(&mut transaction, Purpose::ResetPassword, &token, now)
        .await?
        .is_none()
    {
        return Err(AuthError::LinkInvalid);
    }
    users::update_password_hash(&mut transaction, user.id, &hash).await?;
    let event = Event::here(cx, ActivityKind::PasswordReset, None);
    tokens::revoke_all_in(&mut transaction, user.id, now, &event).await?;
    let removed =
        remove_credentials(&mut transaction, &user, this_device.as_deref(), &event, now).await?;
    let change = Change::PasswordReset;
    notices::to_account(&mut transaction, service, user.id, &change, &event).await?;
    transaction.commit().await?;
    service.outbox.wake();
    if let Err(error) = service.sessions.revoke_all_but(user.id, None).await {
        tracing::error!(%error, user_id = user.id, "sessions begun during a password reset not ended");
    }
    links::release(cx, Purpose::ResetPassword);

    let known_device = this_device.is_some();
    begin_session(cx, &user, Via::Password { known_device }, remember).await?;
    let (passkeys_removed, devices_forgotten) = (removed.passkeys.len(), removed.devices);
    tracing::warn!(target: "audit", event = "password_reset", user_id = user.id, client, sessions_ended, passkeys_removed, devices_forgotten, outcome = "success");
    Ok(())
}

/// What a recovery removed beside the sessions and tokens.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Removed {
    /// The passkeys' names, oldest first.
    pub passkeys: Vec<String>,
    /// How many browsers are trusted no more.
    pub devices: u64,
}

/// The cut every recovery makes (#35), recorded with `recovery` (its
/// device, address and session): every passkey of `user` is removed, each
/// on the activity by name, and every browser trusted for the account is
/// forgotten but `keep_device` (the hash of the recovering browser's token,
/// when it was trusted). `transaction` must have been begun with
/// `SerialLock::PasskeysOf(user.id)` after the intruder's sessions ended:
/// a passkey being added by one of them is then refused, or is committed
/// first and removed here.
pub(super) async fn remove_credentials(
    transaction: &mut Transaction,
    user: &users::UserRecord,
    keep_device: Option<&str>,
    recovery: &Event,
    now: i64,
) -> Result<Removed, AuthError> {
    let passkeys = passkeys::remove_all(transaction, user.id).await?;
    for name in &passkeys {
        let removed = Event {
            kind: ActivityKind::PasskeyRemovedByRecovery,
            ..recovery.clone()
        };
        activity::record(&mut *transaction, user.id, now, &removed.about(name)).await?;
    }
    let devices =
        devices::forget_all_but(&mut *transaction, &user.username_key, keep_device).await?;
    Ok(Removed { passkeys, devices })
}

/// "This wasn't me" from an alert's link (`token`, or the one this browser
/// followed): every session of the account ends but this browser's (not
/// only the one the alert named: an intruder may hold others, begun with a
/// passkey or from a browser that was trusted, which no alert reported), every token is
/// revoked, every passkey removed, every other browser forgotten, and this
/// browser is given a reset link (its token held in the session), for the
/// new password. Whoever holds the link may use it; nobody need be signed in.
pub async fn not_me_by_link(
    cx: &RequestContext,
    token: Option<&str>,
) -> Result<AfterNotMe, AuthError> {
    let service = &cx.state;
    let token = links::presented(cx, Purpose::NotMe, token)?;
    let client = cx.client_address();
    let now = service.clock.now();
    let found = links::find(&service.database, Purpose::NotMe, &token, now).await?;
    let Some(user) = (match found {
        Some(link) => users::find_by_id(&service.database, link.user_id).await?,
        None => None,
    }) else {
        tracing::info!(target: "audit", event = "not_me", via = "mail", client, outcome = "invalid_link");
        return Err(AuthError::LinkInvalid);
    };
    // The sessions first: ending them again is harmless if what follows
    // fails and the link is used once more. A browser signed in to the
    // account that follows the link (the mailbox holder's) keeps its own.
    let this_session = cx
        .signed_in
        .as_ref()
        .filter(|signed_in| signed_in.user_id == user.id)
        .map(|signed_in| signed_in.handle.as_str());
    let sessions_ended = service
        .sessions
        .revoke_all_but(user.id, this_session)
        .await?;
    let this_device = devices::trusted_here(cx, &user.username_key, now).await?;
    let mut transaction = service
        .database
        .begin_serialized(SerialLock::PasskeysOf(user.id))
        .await?;
    let Some(link) = links::redeem(&mut transaction, Purpose::NotMe, &token, now).await? else {
        return Err(AuthError::LinkInvalid);
    };
    // One alert's link used, the others die: each was one more way in.
    links::forget(&mut transaction, user.id, Purpose::NotMe).await?;
    let event = Event::here(cx, ActivityKind::NotMe, None);
    tokens::revoke_all_in(&mut transaction, user.id, now, &event).await?;
    let removed =
        remove_credentials(&mut transaction, &user, this_device.as_deref(), &event, now).await?;
    let change = Change::Recovered {
        passkeys_removed: removed.passkeys.len(),
    };
    notices::to_account(&mut transaction, service, user.id, &change, &event).await?;
    // A new password straight away only while a reset link sent with the
    // alert would still work: the alert's link grants no more than a reset
    // link does. Later, the owner asks for one ("Forgot your password?").
    let lifetime_secs = service.mail.reset_link_secs;
    let reset_token = match (&link.address, &link.address_key) {
        (Some(address), Some(key)) if now - link.sent_at <= lifetime_secs => {
            let reset = NewLink {
                purpose: Purpose::ResetPassword,
                user_id: user.id,
                password_hash: &user.password_hash,
                address: Some((address, key)),
                session_handle: None,
                lifetime_secs,
            };
            Some(links::issue(&mut transaction, &reset, now).await?)
        }
        _ => None,
    };
    transaction.commit().await?;
    service.outbox.wake();
    links::release(cx, Purpose::NotMe);
    if let Some(reset_token) = &reset_token {
        links::hold(cx, Purpose::ResetPassword, reset_token);
    }
    let (passkeys_removed, devices_forgotten) = (removed.passkeys.len(), removed.devices);
    let new_password_here = reset_token.is_some();
    tracing::warn!(target: "audit", event = "not_me", via = "mail", user_id = user.id, client, sessions_ended, passkeys_removed, devices_forgotten, new_password_here, outcome = "success");
    Ok(if new_password_here {
        AfterNotMe::ChooseAPassword
    } else {
        AfterNotMe::AskForAResetLink
    })
}

/// Where "This wasn't me" from an alert's link leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterNotMe {
    /// To a new password, with the reset link this browser now holds.
    ChooseAPassword,
    /// The alert is older than a reset link lives: to "Forgot your
    /// password?", which mails one.
    AskForAResetLink,
}

impl AfterNotMe {
    pub fn page(self) -> &'static str {
        match self {
            AfterNotMe::ChooseAPassword => crate::routes::RESET_PASSWORD_PAGE,
            AfterNotMe::AskForAResetLink => crate::routes::AFTER_LATE_NOT_ME_PAGE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_and_an_address_are_counted_under_their_normal_form() {
        assert_eq!(subject_of("Alice"), subject_of("alice"));
        assert_eq!(subject_of("Bob@Example.com"), subject_of("bob@example.com"));
    }

    #[test]
    fn the_reset_message_names_the_account_and_how_long_the_link_works() {
        let rules = MailRules {
            site_url: "https://example.com".into(),
            verify_link_secs: 86_400,
            reset_link_secs: 1_800,
            alert_link_secs: 86_400,
        };
        let message = reset_message(&rules, "alice", "a@example.com", "abc");
        assert_eq!(message.recipient, "a@example.com");
        assert!(message.body.contains("\"alice\""));
        assert!(message
            .body
            .contains("https://example.com/password/reset?token=abc"));
        assert!(message.body.contains("30 minutes"));
    }
}
