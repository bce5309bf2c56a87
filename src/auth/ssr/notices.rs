//! Notices (#35; ASVS 2.5.5, 2.2.3): after every change of a credential, or
//! of what guards the account, its verified address is told: the password
//! changed or reset, the address changed (the old address is told), a passkey
//! added or removed, an API token created, new-device alerts turned off,
//! passkeys removed by "This wasn't me". A notice says what changed, on which
//! device, from which address and when, and what to do if it was not the
//! owner; it carries no link that grants anything (only the site's own pages,
//! which ask for a password or send a reset link to this address). It is
//! queued in the change's transaction where the change has one
//! (`server::store::outbox`), so a change is not committed without it.

use super::{
    activity::Event,
    mailbox::{mail_time, verified_address_of, MailRules},
    validation::invisible,
    AuthError, AuthService,
};
use crate::server::store::{
    outbox::{self, OutgoingMail},
    Transaction,
};

/// What changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    PasswordChanged,
    PasswordReset,
    /// The verified address became another (`to`, masked); told to the old one.
    AddressChanged {
        to: String,
    },
    PasskeyAdded {
        name: String,
    },
    PasskeyRemoved {
        name: String,
    },
    /// "This wasn't me": every passkey removed, every other browser forgotten.
    Recovered {
        passkeys_removed: usize,
    },
    TokenCreated,
    AlertsOff,
}

impl Change {
    fn subject(&self) -> &'static str {
        match self {
            Change::PasswordChanged => "Your password was changed",
            Change::PasswordReset => "Your password was reset",
            Change::AddressChanged { .. } => "Your account's email address was changed",
            Change::PasskeyAdded { .. } => "A passkey was added to your account",
            Change::PasskeyRemoved { .. } => "A passkey was removed from your account",
            Change::Recovered { .. } => "Your account was secured",
            Change::TokenCreated => "An API token was created for your account",
            Change::AlertsOff => "New-device alerts were turned off",
        }
    }

    fn what(&self) -> String {
        match self {
            Change::PasswordChanged => "The password of your account was changed.".into(),
            Change::PasswordReset => {
                "The password of your account was reset with a link sent \
                 to this address. Every session and API token ended, and every passkey was removed."
                    .into()
            }
            Change::AddressChanged { to } => format!(
                "The email address of your account was changed to {to}. This address will get \
                 no more messages about the account."
            ),
            Change::PasskeyAdded { name } => {
                format!("A passkey named {} was added to your account. It signs in without the password.", quoted(name))
            }
            Change::PasskeyRemoved { name } => {
                format!(
                    "The passkey named {} was removed from your account.",
                    quoted(name)
                )
            }
            Change::Recovered { passkeys_removed } => format!(
                "\"This wasn't me\" was used on your account: sessions and API tokens ended, \
                 {passkeys_removed} passkey(s) removed and every other browser forgotten."
            ),
            Change::TokenCreated => {
                "An API token was created for your account. It acts as you until it expires or \
                 is revoked."
                    .into()
            }
            Change::AlertsOff => "Emails about sign-ins from new devices were turned off for \
                 your account."
                .into(),
        }
    }
}

/// A name a user typed, quoted so that it cannot pass for the message's own
/// text or a link: control and invisible or direction-changing characters
/// dropped, `://` broken up.
fn quoted(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !invisible(*c)).collect();
    format!("\"{}\"", clean.replace("://", ": //"))
}

/// An address shown to another mailbox: its first character and its domain.
pub fn masked(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// The notice of `change` to `to`, made as `event` says (its device and
/// address) at `now`.
pub fn message(
    rules: &MailRules,
    to: &str,
    change: &Change,
    event: &Event,
    now: i64,
) -> OutgoingMail {
    let site = rules.site_url.trim_end_matches('/');
    let when = mail_time(now);
    OutgoingMail {
        recipient: to.into(),
        subject: change.subject().into(),
        body: format!(
            "Hello,\n\n{}\n\nDevice: {}\nAddress: {}\nTime: {when}\n\n\
             If this was you, there is nothing to do.\n\n\
             If it was not, someone else may be using your account: sign in at {site}/login \
             and look at its security activity, or use \"Forgot your password?\" there to \
             choose a new password (a reset ends every session, API token and passkey).\n",
            change.what(),
            event.device,
            event.client,
        ),
    }
}

/// Queues the notice of `change` to `user_id`'s verified address in
/// `transaction` (the change's own), now; whether it has one. The caller
/// wakes the sender once it is committed.
pub async fn to_account(
    transaction: &mut Transaction,
    service: &AuthService,
    user_id: i64,
    change: &Change,
    event: &Event,
) -> Result<bool, sqlx::Error> {
    let Some((address, _)) = verified_address_of(&mut *transaction, user_id).await? else {
        return Ok(false);
    };
    let now = service.clock.now();
    let mail = message(&service.mail, &address, change, event, now);
    outbox::enqueue(&mut *transaction, &mail, now).await?;
    Ok(true)
}

/// Queues the notice of `change` to `user_id`'s verified address (a change
/// made outside a transaction of its own), and wakes the sender.
pub(super) async fn notify(
    service: &AuthService,
    user_id: i64,
    change: &Change,
    event: &Event,
) -> Result<(), AuthError> {
    let mut transaction = service.database.begin().await?;
    let queued = to_account(&mut transaction, service, user_id, change, event).await?;
    transaction.commit().await?;
    if queued {
        service.outbox.wake();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> MailRules {
        MailRules {
            site_url: "https://example.com/".into(),
            verify_link_secs: 86_400,
            reset_link_secs: 1_800,
            alert_link_secs: 86_400,
        }
    }

    fn event() -> Event {
        Event {
            kind: crate::auth::ActivityKind::PasswordChanged,
            device: "Firefox on Linux".into(),
            client: "203.0.113.5".into(),
            handle: None,
            detail: None,
        }
    }

    #[test]
    fn a_notice_says_what_where_and_when_and_grants_nothing() {
        let changes = [
            Change::PasswordChanged,
            Change::PasswordReset,
            Change::AddressChanged {
                to: masked("new@example.org"),
            },
            Change::PasskeyAdded {
                name: "Laptop".into(),
            },
            Change::PasskeyRemoved {
                name: "Laptop".into(),
            },
            Change::Recovered {
                passkeys_removed: 2,
            },
            Change::TokenCreated,
            Change::AlertsOff,
        ];
        for change in changes {
            let mail = message(&rules(), "a@example.com", &change, &event(), 1_796_000_000);
            assert_eq!(mail.recipient, "a@example.com");
            assert!(
                mail.body.contains("Device: Firefox on Linux"),
                "{}",
                mail.body
            );
            assert!(mail.body.contains("Address: 203.0.113.5"));
            assert!(mail.body.contains("2026-"), "{}", mail.body);
            assert!(
                !mail.body.contains("token="),
                "no link that grants: {}",
                mail.body
            );
            assert!(mail.body.contains("https://example.com/login"));
        }
    }

    #[test]
    fn typed_names_are_quoted_and_cannot_pass_for_a_link_and_addresses_are_masked() {
        let change = Change::PasskeyAdded {
            name: "https://evil.example/x\u{202e}".into(),
        };
        let mail = message(&rules(), "a@example.com", &change, &event(), 0);
        assert!(
            mail.body.contains("\"https: //evil.example/x"),
            "{}",
            mail.body
        );
        assert!(!mail.body.contains('\u{202e}'));
        assert_eq!(masked("jane.doe@example.org"), "j***@example.org");
        assert_eq!(masked("nonsense"), "***");
    }
}
