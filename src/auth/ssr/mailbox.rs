//! What every message needs, whatever sends it (verification, reset links,
//! alerts, notices): how its links are made, how it tells a moment, and the
//! account's verified address it goes to. A leaf of `auth::ssr`: it imports
//! none of the flows that send mail.

use crate::server::store::{query_on, RunsQueries};

/// How links in messages are made: the site they lead to, and how long
/// each kind works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailRules {
    /// Scheme, host and port, without a trailing `/`.
    pub site_url: String,
    pub verify_link_secs: i64,
    pub reset_link_secs: i64,
    pub alert_link_secs: i64,
}

impl MailRules {
    /// The address of `page` with `token`.
    pub fn link(&self, page: &str, token: &str) -> String {
        format!(
            "{}{page}?token={token}",
            self.site_url.trim_end_matches('/')
        )
    }
}

/// A moment (Unix seconds) as a message tells it: `2026-12-07 16:05 UTC`.
pub fn mail_time(now: i64) -> String {
    let at = crate::clock::utc(now);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

const ADDRESS_OF: &str = "SELECT address, address_key FROM email_addresses WHERE user_id = $1";

/// The verified address of `user_id`, if any: as typed, and normalised; on
/// the database or in a transaction.
pub async fn verified_address_of<'a>(
    on: impl RunsQueries<'a>,
    user_id: i64,
) -> Result<Option<(String, String)>, sqlx::Error> {
    query_on!(on, |executor| sqlx::query_as(ADDRESS_OF)
        .bind(user_id)
        .fetch_optional(executor)
        .await)
}
