//! An account's email address (#24): given at sign-up or on the account page
//! (a sensitive action there), proven by a single-use link before it is used
//! for anything, and unique among the verified ones.
//!
//! Addresses are compared in a normalised form (trimmed, lower case): what
//! the user typed is kept for display. The verified address stays in use
//! until a new one is proven. An address already verified by another
//! account gets a notice instead of a link, and the answer is the same as
//! for any other address, so the form does not tell who has an account.
//! Each message is queued in the transaction of the change that causes it
//! (`server::store::outbox`).

use super::{
    activity::{self, Event},
    links::{self, NewLink, Purpose},
    mailbox::{verified_address_of, MailRules},
    notices::{self, Change},
    reauth,
    throttle::{self, Scope},
    users::UserRecord,
    validation::invisible,
    AuthError, AuthService, RequestContext,
};
use crate::auth::{ActivityKind, EmailStatus, InvalidInput, EMAIL_MAX_CHARS};
use crate::server::store::{
    outbox::{self, OutgoingMail},
    query_on, Transaction,
};

/// An email address as typed (trimmed), and its normalised form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailAddress {
    pub display: String,
    pub key: String,
}

/// Checks an address: `name@domain`, at most `EMAIL_MAX_CHARS`, in the
/// shape mail is delivered to (#35): the name a dot-atom (no quoted names
/// such as `"a\"b"`), the domain a host name of two or more labels (no
/// `[127.0.0.1]`, no bare numbers), and nothing a reader cannot see
/// (`validation::invisible`: no zero widths, no direction overrides).
pub fn parse_address(text: &str) -> Result<EmailAddress, AuthError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AuthError::Invalid(InvalidInput::EmailEmpty));
    }
    if text.chars().count() > EMAIL_MAX_CHARS {
        return Err(AuthError::Invalid(InvalidInput::EmailTooLong {
            max: EMAIL_MAX_CHARS,
        }));
    }
    let deliverable = text
        .rsplit_once('@')
        .is_some_and(|(name, domain)| deliverable_name(name) && deliverable_domain(domain))
        && text.parse::<lettre::Address>().is_ok();
    if !deliverable {
        return Err(AuthError::Invalid(InvalidInput::EmailInvalid));
    }
    Ok(EmailAddress {
        display: text.to_string(),
        key: text.to_lowercase(),
    })
}

/// A dot-atom (RFC 5322 3.2.3, with the letters of any script of RFC 6531):
/// dot-separated runs of letters, digits and ``!#$%&'*+-/=?^_`{|}~``.
fn deliverable_name(name: &str) -> bool {
    let allowed = |c: char| {
        c.is_ascii_alphanumeric()
            || "!#$%&'*+-/=?^_`{|}~".contains(c)
            || (!c.is_ascii() && !c.is_whitespace() && !invisible(c))
    };
    !name.is_empty()
        && name
            .split('.')
            .all(|run| !run.is_empty() && run.chars().all(allowed))
}

/// A host name: two or more dot-separated labels of letters and digits (of
/// any script, for internationalised domains) and inner hyphens, at most 63
/// characters each; the last (the top-level domain) not only digits.
fn deliverable_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |label: &&str| {
        !label.is_empty()
            && label.chars().count() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c == '-' || (c.is_alphanumeric() && !invisible(c)))
    };
    labels.len() >= 2
        && labels.iter().all(label_ok)
        && labels
            .last()
            .is_some_and(|top| !top.chars().all(|c| c.is_ascii_digit()))
}

/// An optional address (a sign-up form's empty field is none).
pub fn parse_optional_address(text: Option<&str>) -> Result<Option<EmailAddress>, AuthError> {
    text.filter(|text| !text.trim().is_empty())
        .map(parse_address)
        .transpose()
}

/// What asking to use an address led to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requested {
    /// A verification link is on its way.
    LinkSent,
    /// It is already this account's verified address: nothing to prove.
    AlreadyYours,
    /// Another account has verified it: that address was told, no more.
    InUse,
}

const OWNER: &str = "SELECT user_id FROM email_addresses WHERE address_key = $1";
const VERIFIED: &str = "SELECT address, new_device_alerts FROM email_addresses WHERE user_id = $1";
const SAVE: &str = "INSERT INTO email_addresses (user_id, address, address_key, verified_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET address = excluded.address, \
     address_key = excluded.address_key, verified_at = excluded.verified_at";

/// Queues, in `transaction`, what `user` asking to use `address` sends:
/// a verification link, or a notice to an address another account has.
pub async fn request_verification(
    service: &AuthService,
    transaction: &mut Transaction,
    user: &UserRecord,
    address: &EmailAddress,
    now: i64,
) -> Result<Requested, AuthError> {
    let owner: Option<i64> = query_on!(&mut *transaction, |executor| sqlx::query_scalar(OWNER)
        .bind(&address.key)
        .fetch_optional(executor)
        .await)?;
    match owner {
        Some(owner) if owner == user.id => {
            links::forget(transaction, user.id, Purpose::VerifyEmail).await?;
            Ok(Requested::AlreadyYours)
        }
        Some(_) => {
            // Waiting like any other address (status, "Send the link
            // again"), so the form tells nobody who has an account (#35):
            // a link is recorded whose token nobody ever learns.
            let link = verification_link(service, user, address);
            links::issue(transaction, &link, now).await?;
            let notice = in_use_notice(&address.display);
            outbox::enqueue(&mut *transaction, &notice, now).await?;
            Ok(Requested::InUse)
        }
        None => {
            let rules = &service.mail;
            let link = verification_link(service, user, address);
            let token = links::issue(transaction, &link, now).await?;
            let message = verification_message(rules, &address.display, &token);
            outbox::enqueue(&mut *transaction, &message, now).await?;
            Ok(Requested::LinkSent)
        }
    }
}

/// The link that proves `address` for `user`.
fn verification_link<'a>(
    service: &AuthService,
    user: &'a UserRecord,
    address: &'a EmailAddress,
) -> NewLink<'a> {
    NewLink {
        purpose: Purpose::VerifyEmail,
        user_id: user.id,
        password_hash: &user.password_hash,
        address: Some((&address.display, &address.key)),
        session_handle: None,
        lifetime_secs: service.mail.verify_link_secs,
    }
}

/// The message with the link that proves `address`. It goes to an address
/// nobody has proven yet, which anyone may have typed, so it carries no text
/// they chose (#35: not the username): only the address and the site.
fn verification_message(rules: &MailRules, address: &str, token: &str) -> OutgoingMail {
    let hours = rules.verify_link_secs / 3_600;
    let link = rules.link(Purpose::VerifyEmail.page(), token);
    let site = rules.site_url.trim_end_matches('/');
    OutgoingMail {
        recipient: address.into(),
        subject: "Confirm your email address".into(),
        body: format!(
            "Hello,\n\n\
             Someone (we hope you) gave {address} as the email address of an account on \
             {site}. To confirm it, open this link:\n\n{link}\n\n\
             It works once, within {hours} hours. If you did not ask for this, ignore this \
             message: nothing changes.\n"
        ),
    }
}

fn in_use_notice(address: &str) -> OutgoingMail {
    OutgoingMail {
        recipient: address.into(),
        subject: "Your email address was entered on another account".into(),
        body: format!(
            "Hello,\n\nSomeone entered {address} as the email address of an account. It is \
             already the address of another account, so nothing changed.\n\n\
             If that was you, sign in to the account this address belongs to (\"Forgot your \
             password?\" on the sign-in page helps if needed). If it was not, ignore this \
             message.\n"
        ),
    }
}

/// What one message with a link counts against (#35): the client address
/// that asked; the account it concerns when there is one (`account`: its
/// key, on `AccountMail` when anyone may ask, `OwnerMail` when only its owner
/// can); and its recipient (an address's key) when known as it is asked for.
pub fn mail_attempts<'a>(
    service: &AuthService,
    client: &'a str,
    account: Option<(Scope, &'a str)>,
    recipient: Option<&'a str>,
) -> Vec<throttle::Attempt<'a>> {
    let rules = service.throttle;
    let account = account.map(|(scope, key)| rules.attempt(scope, key));
    let recipient = recipient.map(|key| rules.attempt(Scope::RecipientMail, key));
    [
        Some(rules.attempt(Scope::AddressMail, client)),
        account,
        recipient,
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Counts a message with a link asked for by this request (`mail_attempts`);
/// refused past any of its limits.
pub async fn count_mail_request(
    cx: &RequestContext,
    account: (Scope, &str),
    recipient: Option<&EmailAddress>,
) -> Result<(), AuthError> {
    let service = &cx.state;
    let client = cx.client_address();
    let recipient = recipient.map(|address| address.key.as_str());
    let attempts = mail_attempts(service, &client, Some(account), recipient);
    match throttle::admit(&service.database, &attempts, service.clock.now()).await? {
        Some(refusal) => {
            tracing::warn!(target: "audit", event = "mail_request", client, throttled_by = ?refusal.scope, outcome = "throttled");
            Err(AuthError::Throttled {
                retry_after_secs: refusal.retry_after_secs,
            })
        }
        None => Ok(()),
    }
}

/// The signed-in user, as the database has them now.
async fn account_of(cx: &RequestContext, user_id: i64) -> Result<UserRecord, AuthError> {
    super::users::find_by_id(&cx.state.database, user_id)
        .await?
        .ok_or(AuthError::SessionEnded)
}

/// Sets or changes the signed-in user's address (a sensitive action): the
/// link goes to the new address; the verified one stays until it is used.
pub async fn set_address(cx: &RequestContext, text: &str) -> Result<Requested, AuthError> {
    let signed_in = reauth::require_confirmed(cx)?.clone();
    let address = parse_address(text)?;
    let user = account_of(cx, signed_in.user_id).await?;
    count_mail_request(cx, (Scope::OwnerMail, &user.username_key), Some(&address)).await?;
    let requested = queue_verification(cx, &user, &address).await?;
    let client = cx.client_address();
    tracing::info!(target: "audit", event = "email_set", user_id = user.id, client, outcome = ?requested);
    reauth::renew_confirmation(cx, &signed_in).await?;
    Ok(requested)
}

/// Sends the link for the address waiting for one again (a new link; the
/// old one stops working).
pub async fn resend(cx: &RequestContext) -> Result<Requested, AuthError> {
    let signed_in = cx.require_signed_in()?;
    let service = &cx.state;
    let pending =
        links::pending_address(&service.database, signed_in.user_id, service.clock.now()).await?;
    let Some(pending) = pending else {
        return Err(AuthError::Invalid(InvalidInput::NoEmailPending));
    };
    let address = parse_address(&pending)?;
    let user = account_of(cx, signed_in.user_id).await?;
    count_mail_request(cx, (Scope::OwnerMail, &user.username_key), Some(&address)).await?;
    let requested = queue_verification(cx, &user, &address).await?;
    let client = cx.client_address();
    tracing::info!(target: "audit", event = "email_resent", user_id = user.id, client, outcome = ?requested);
    Ok(requested)
}

/// `request_verification` in a transaction of its own, and the sender woken.
async fn queue_verification(
    cx: &RequestContext,
    user: &UserRecord,
    address: &EmailAddress,
) -> Result<Requested, AuthError> {
    let service = &cx.state;
    let mut transaction = service.database.begin().await?;
    let requested = request_verification(
        service,
        &mut transaction,
        user,
        address,
        service.clock.now(),
    )
    .await?;
    transaction.commit().await?;
    service.outbox.wake();
    Ok(requested)
}

/// Proves an address with its link: `token`, or the one this browser
/// followed. Whoever holds the link may use it; signed in or not.
pub async fn verify(cx: &RequestContext, token: Option<&str>) -> Result<(), AuthError> {
    let service = &cx.state;
    let token = links::presented(cx, Purpose::VerifyEmail, token)?;
    let now = service.clock.now();
    let client = cx.client_address();
    let mut transaction = service.database.begin().await?;
    let Some(link) = links::redeem(&mut transaction, Purpose::VerifyEmail, &token, now).await?
    else {
        tracing::info!(target: "audit", event = "email_verify", client, outcome = "invalid_link");
        return Err(AuthError::LinkInvalid);
    };
    let (Some(address), Some(key)) = (link.address, link.address_key) else {
        return Err(AuthError::LinkInvalid);
    };
    let previous = verified_address_of(&mut transaction, link.user_id).await?;
    let saved = query_on!(&mut transaction, |executor| sqlx::query(SAVE)
        .bind(link.user_id)
        .bind(&address)
        .bind(&key)
        .bind(now)
        .execute(executor)
        .await
        .map(|_| ()));
    match saved {
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            tracing::info!(target: "audit", event = "email_verify", user_id = link.user_id, client, outcome = "taken");
            return Err(AuthError::EmailTaken);
        }
        saved => saved?,
    }
    let handle = cx
        .signed_in
        .as_ref()
        .filter(|signed_in| signed_in.user_id == link.user_id)
        .map(|signed_in| signed_in.handle.as_str());
    let event = Event::here(cx, ActivityKind::EmailVerified, handle);
    activity::record(&mut transaction, link.user_id, now, &event).await?;
    // The old address hears of it (the new one just proved itself).
    if let Some((old, _)) = previous.filter(|(_, old_key)| *old_key != key) {
        let change = Change::AddressChanged {
            to: notices::masked(&address),
        };
        let mail = notices::message(&service.mail, &old, &change, &event, now);
        outbox::enqueue(&mut transaction, &mail, now).await?;
    }
    transaction.commit().await?;
    service.outbox.wake();
    links::release(cx, Purpose::VerifyEmail);
    tracing::info!(target: "audit", event = "email_verify", user_id = link.user_id, client, outcome = "success");
    Ok(())
}

const OWNER_AND_ADDRESS: &str =
    "SELECT user_id, address FROM email_addresses WHERE address_key = $1";
/// The account whose verified address is `key` (normalised), and the
/// address as its owner typed it.
pub async fn owner_of(
    database: &crate::server::store::Database,
    key: &str,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    query_on!(database, |executor| sqlx::query_as(OWNER_AND_ADDRESS)
        .bind(key)
        .fetch_optional(executor)
        .await)
}

const SET_ALERTS: &str = "UPDATE email_addresses SET new_device_alerts = $1 WHERE user_id = $2";

/// Turns new-device alerts (`alerts`) on or off (a sensitive action: an intruder would turn
/// them off first).
pub async fn set_alerts(cx: &RequestContext, enabled: bool) -> Result<(), AuthError> {
    let signed_in = reauth::require_confirmed(cx)?.clone();
    let changed = query_on!(&cx.state.database, |executor| sqlx::query(SET_ALERTS)
        .bind(enabled)
        .bind(signed_in.user_id)
        .execute(executor)
        .await
        .map(|done| done.rows_affected()))?;
    if changed == 0 {
        // No verified address: nothing to send alerts to.
        return Err(AuthError::Invalid(
            crate::auth::InvalidInput::NoVerifiedEmail,
        ));
    }
    if !enabled {
        // Recorded and told like a credential change: an intruder turns
        // alerts off first.
        let event = Event::here(cx, ActivityKind::AlertsTurnedOff, Some(&signed_in.handle));
        let now = cx.state.clock.now();
        activity::record(&cx.state.database, signed_in.user_id, now, &event).await?;
        notices::notify(&cx.state, signed_in.user_id, &Change::AlertsOff, &event).await?;
    }
    let client = cx.client_address();
    tracing::info!(target: "audit", event = "new_device_alerts", user_id = signed_in.user_id, client, enabled, outcome = "success");
    reauth::renew_confirmation(cx, &signed_in).await
}

/// The signed-in user's addresses, for the account page.
pub async fn status(cx: &RequestContext) -> Result<EmailStatus, AuthError> {
    let signed_in = cx.require_signed_in()?;
    let service = &cx.state;
    let verified: Option<(String, bool)> = query_on!(&service.database, |executor| {
        sqlx::query_as(VERIFIED)
            .bind(signed_in.user_id)
            .fetch_optional(executor)
            .await
    })?;
    let pending =
        links::pending_address(&service.database, signed_in.user_id, service.clock.now()).await?;
    Ok(EmailStatus {
        new_device_alerts: verified.as_ref().is_none_or(|(_, alerts)| *alerts),
        verified: verified.map(|(address, _)| address),
        pending,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_kept_as_typed_and_compared_in_lower_case() {
        let address = parse_address("  Alice.Smith@Example.COM ").unwrap();
        assert_eq!(address.display, "Alice.Smith@Example.COM");
        assert_eq!(address.key, "alice.smith@example.com");
    }

    #[test]
    fn every_deliverable_shape_is_accepted() {
        for text in [
            "o'brien+news@example.co.uk",
            "a.b-c_d@sub-domain.example.com",
            "josé@exämple.de",
            "user@xn--bcher-kva.example",
            "x@a1.io",
        ] {
            assert!(parse_address(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn what_is_not_an_address_is_refused_with_its_reason() {
        let invalid = |text: &str| match parse_address(text) {
            Err(AuthError::Invalid(input)) => input,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(invalid("   "), InvalidInput::EmailEmpty);
        for text in [
            "alice",
            "alice@",
            "@example.com",
            "alice@localhost",
            "alice@example.",
            "a b@example.com",
            "Alice <alice@example.com>",
            "alice@exa\u{7}mple.com",
            // Accepted by the grammar, delivered by nobody (#35).
            "\"a\\\"b\"@example.com",
            "\"alice\"@example.com",
            "a@[127.0.0.1]",
            "a@127.0.0.1",
            "alice..smith@example.com",
            ".alice@example.com",
            "alice@-example.com",
            "alice@exa_mple.com",
            // What a reader cannot see, or that turns the text around.
            "al\u{200B}ice@example.com",
            "alice@exam\u{200B}ple.com",
            "\u{202E}moc.elpmaxe@ecila",
            "alice\u{2066}@example.com",
            "alice@example.com\u{FEFF}",
        ] {
            assert_eq!(invalid(text), InvalidInput::EmailInvalid, "{text}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(
            invalid(&long),
            InvalidInput::EmailTooLong {
                max: EMAIL_MAX_CHARS
            }
        );
        assert_eq!(parse_optional_address(Some(" ")).unwrap(), None);
        assert_eq!(parse_optional_address(None).unwrap(), None);
    }

    #[test]
    fn a_link_leads_to_the_configured_site_never_the_request_host() {
        let rules = MailRules {
            site_url: "https://example.com/".into(),
            verify_link_secs: 86_400,
            reset_link_secs: 1_800,
            alert_link_secs: 86_400,
        };
        assert_eq!(
            rules.link("/email/verify", "abc"),
            "https://example.com/email/verify?token=abc"
        );
        let message = verification_message(&rules, "a@example.com", "abc");
        assert!(message
            .body
            .contains("https://example.com/email/verify?token=abc"));
        assert!(message.body.contains("24 hours"), "{}", message.body);
    }
}
