//! New-device alerts (#24): a sign-in from a browser that has not signed in
//! to the account before (no trusted-device cookie for it) mails the
//! verified address the device, the address and the time, with a link
//! "This wasn't me" (single-use, `recovery.alert_link_hours`) that ends that
//! session and every API token without signing in, then leads to a new
//! password. Never for the account's first sign-in (no browser is trusted
//! for it yet), and not when the owner turned alerts off on the account
//! page (a sensitive action: `email::set_alerts`). The link's own action is
//! `recovery::not_me_by_link`.

use super::{
    links::{self, NewLink, Purpose},
    mailbox::{mail_time, MailRules},
    users, AuthError, AuthService, SignedIn,
};
use crate::server::store::{
    outbox::{self, OutgoingMail},
    query_on,
};

const ALERTS_TO: &str = "SELECT address, address_key FROM email_addresses \
     WHERE user_id = $1 AND new_device_alerts = $2";

/// Queues the alert for the sign-in `state` of `user` from a new browser,
/// if the account has a verified address with alerts on; whether it did.
pub async fn on_new_device(
    service: &AuthService,
    user: &users::UserRecord,
    state: &SignedIn,
    now: i64,
) -> Result<bool, AuthError> {
    let address: Option<(String, String)> = query_on!(&service.database, |executor| {
        sqlx::query_as(ALERTS_TO)
            .bind(user.id)
            .bind(true)
            .fetch_optional(executor)
            .await
    })?;
    let Some((address, address_key)) = address else {
        return Ok(false);
    };
    let rules = &service.mail;
    let mut transaction = service.database.begin().await?;
    let link = NewLink {
        purpose: Purpose::NotMe,
        user_id: user.id,
        password_hash: &user.password_hash,
        address: Some((&address, &address_key)),
        session_handle: Some(&state.handle),
        lifetime_secs: rules.alert_link_secs,
    };
    // Each alert keeps its own link: a second sign-in's alert must not
    // disable the first one's.
    let token = links::issue_beside_others(&mut transaction, &link, now).await?;
    let place = (state.device.as_str(), state.client.as_str());
    let message = alert_message(rules, &user.username, &address, place, now, &token);
    outbox::enqueue(&mut transaction, &message, now).await?;
    transaction.commit().await?;
    service.outbox.wake();
    tracing::info!(target: "audit", event = "new_device_alert", user_id = user.id, outcome = "queued");
    Ok(true)
}

fn alert_message(
    rules: &MailRules,
    username: &str,
    address: &str,
    (device, client): (&str, &str),
    now: i64,
    token: &str,
) -> OutgoingMail {
    let hours = rules.alert_link_secs / 3_600;
    let link = rules.link(Purpose::NotMe.page(), token);
    let when = mail_time(now);
    OutgoingMail {
        recipient: address.into(),
        subject: format!("New sign-in to your account \"{username}\""),
        body: format!(
            "Hello {username},\n\n\
             Your account \"{username}\" was just signed in to from a device that had not \
             signed in to it before:\n\n\
             Device: {device}\nAddress: {client}\nTime: {when}\n\n\
             If this was you, there is nothing to do.\n\n\
             If it was not, open this link. It signs that device out and revokes every API \
             token, without signing in, then lets you choose a new password:\n\n{link}\n\n\
             It works once, within {hours} hours. You can turn these alerts off on your \
             account page.\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_names_the_device_the_address_the_time_and_the_link() {
        let rules = MailRules {
            site_url: "https://example.com".into(),
            verify_link_secs: 86_400,
            reset_link_secs: 1_800,
            alert_link_secs: 86_400,
        };
        let place = ("Firefox on Linux", "203.0.113.5");
        let message = alert_message(
            &rules,
            "alice",
            "a@example.com",
            place,
            1_796_000_000,
            "abc",
        );
        assert!(message.body.contains("Device: Firefox on Linux"));
        assert!(message.body.contains("Address: 203.0.113.5"));
        assert!(
            message.body.contains("Time: 2026-11-30"),
            "{}",
            message.body
        );
        assert!(message
            .body
            .contains("https://example.com/alerts/not-me?token=abc"));
        assert!(message.body.contains("24 hours"));
    }
}
