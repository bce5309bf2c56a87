//! Mail delivery (#24): the background sender that empties the outbox
//! (`store::outbox`) through the configured transport, with retries.
//!
//! - With `mail.smtp_url`, messages go to that server over SMTP (lettre;
//!   `smtps://` for TLS, `?tls=required` for STARTTLS). An answer the server
//!   gives as temporary, or no answer, is tried again later (10 s, doubling
//!   to 15 minutes) for `mail.give_up_after_hours`; a permanent refusal
//!   (`5xx`) drops the message at once. Either is logged without the
//!   message's text.
//! - Without it (the development default), each message is written as a
//!   `.eml` file in `mail.dir`, and in development the link it carries is
//!   logged too, so that `./scripts/run.sh` works with no mail server.
//!
//! A request only writes to the outbox, so it answers at once whether the
//! mail server is there or not.

use super::store::outbox::{ClaimedMail, Outbox};
use crate::clock::Clock;
use lettre::{
    message::{header::ContentType, Mailbox},
    transport::smtp::Error as SmtpError,
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use std::{path::PathBuf, time::Duration};

/// How long one message is held by the sender that claimed it: longer than
/// an SMTP conversation may last (`SMTP_TIMEOUT`).
const LEASE_SECS: i64 = 120;
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
const FIRST_RETRY_SECS: i64 = 10;
const LAST_RETRY_SECS: i64 = 900;

/// Where messages go.
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files {
        dir: PathBuf,
        files: AsyncFileTransport<Tokio1Executor>,
        /// In development, the site whose links a message carries, to log
        /// them (only there: a link is a secret).
        log_links_to: Option<String>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid mail.smtp_url: {0}")]
    Url(SmtpError),
    #[error("invalid mail.from: {0}")]
    From(lettre::address::AddressError),
    #[error("cannot create the mail folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
}

/// What went wrong with one try.
enum Failure {
    /// Worth another try later.
    Transient(String),
    /// The message can never be sent as it is.
    Permanent(String),
}

/// The sender: the outbox, the transport and the rules of retrying.
pub struct Sender {
    pub outbox: Outbox,
    pub transport: Transport,
    pub from: Mailbox,
    pub clock: Clock,
    pub poll: Duration,
    pub give_up_after_secs: i64,
}

impl Transport {
    /// SMTP to `smtp_url`, or files in `dir` when there is none (logging
    /// the links to `log_links_to` each carries, when given).
    pub fn new(
        smtp_url: Option<&str>,
        dir: &str,
        log_links_to: Option<String>,
    ) -> Result<Self, MailError> {
        match smtp_url {
            Some(url) => Ok(Self::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(MailError::Url)?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            )),
            None => {
                std::fs::create_dir_all(dir).map_err(|source| MailError::Folder {
                    path: dir.into(),
                    source,
                })?;
                Ok(Self::Files {
                    dir: dir.into(),
                    files: AsyncFileTransport::new(dir),
                    log_links_to,
                })
            }
        }
    }

    async fn send(&self, message: Message, body: &str) -> Result<(), Failure> {
        match self {
            Self::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|error| {
                if error.is_permanent() {
                    Failure::Permanent(error.to_string())
                } else {
                    Failure::Transient(error.to_string())
                }
            }),
            Self::Files {
                dir,
                files,
                log_links_to,
            } => {
                let id = files
                    .send(message)
                    .await
                    .map_err(|error| Failure::Transient(error.to_string()))?;
                let file = dir.join(format!("{id}.eml"));
                match log_links_to
                    .as_deref()
                    .and_then(|site| site_link(body, site))
                {
                    Some(link) => {
                        tracing::info!(file = %file.display(), link, "mail written (no mail.smtp_url)")
                    }
                    None => {
                        tracing::info!(file = %file.display(), "mail written (no mail.smtp_url)")
                    }
                }
                Ok(())
            }
        }
    }
}

/// The link to `site` a message carries: the first line that is one link
/// to a page of the site and nothing else, as the app writes its links.
/// Text a user chose (a username, an address) always stands among other
/// words, so it is never taken for the link (#35).
fn site_link<'a>(body: &'a str, site: &str) -> Option<&'a str> {
    let site = site.trim_end_matches('/');
    body.lines().map(str::trim).find(|line| {
        line.strip_prefix(site)
            .is_some_and(|rest| rest.starts_with('/'))
            && !line.contains(char::is_whitespace)
    })
}

/// The wait before try `attempts + 1`: 10 s, doubling, at most 15 minutes.
pub fn retry_delay_secs(attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    FIRST_RETRY_SECS
        .saturating_mul(1_i64 << doublings)
        .min(LAST_RETRY_SECS)
}

/// Only the domain of an address, for the log.
fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, domain)| domain)
}

impl Sender {
    /// Delivers every due message, then waits for a new one (or the poll),
    /// for as long as the server runs.
    pub async fn deliver_continuously(self) {
        loop {
            self.deliver_due().await;
            self.outbox.wait(self.poll).await;
        }
    }

    /// Delivers the messages due now, one at a time; how many were sent.
    pub async fn deliver_due(&self) -> usize {
        let mut sent = 0;
        loop {
            match self.outbox.claim(self.clock.now(), LEASE_SECS).await {
                Ok(Some(mail)) => sent += usize::from(self.deliver(mail).await),
                Ok(None) => return sent,
                // An outage is logged once by the store seam; the next turn
                // tries again.
                Err(error) => {
                    if !super::store::is_unavailable(&error) {
                        tracing::error!(%error, "mail outbox read failed");
                    }
                    return sent;
                }
            }
        }
    }

    /// One try of one message; whether it was sent.
    async fn deliver(&self, mail: ClaimedMail) -> bool {
        let outcome = match self.message(&mail) {
            Ok(message) => self.transport.send(message, &mail.body).await,
            Err(error) => Err(Failure::Permanent(error)),
        };
        let domain = domain_of(&mail.recipient);
        let (id, attempts) = (mail.id, mail.attempts);
        let recorded = match outcome {
            Ok(()) => {
                tracing::info!(target: "audit", event = "mail_sent", id, domain, attempts, outcome = "success");
                self.outbox.delivered(&mail).await.map(|_| true)
            }
            Err(Failure::Permanent(error)) => {
                tracing::error!(target: "audit", event = "mail_sent", id, domain, attempts, error, outcome = "refused");
                self.outbox.abandon(&mail).await.map(|_| false)
            }
            Err(Failure::Transient(error)) => {
                let now = self.clock.now();
                if now - mail.created_at > self.give_up_after_secs {
                    tracing::error!(target: "audit", event = "mail_sent", id, domain, attempts, error, outcome = "given_up");
                    self.outbox.abandon(&mail).await.map(|_| false)
                } else {
                    let retry_at = now + retry_delay_secs(attempts);
                    tracing::warn!(target: "audit", event = "mail_sent", id, domain, attempts, error, retry_at, outcome = "retry");
                    self.outbox
                        .release(&mail, retry_at, &error)
                        .await
                        .map(|()| false)
                }
            }
        };
        // Not recorded: the lease runs out and the message is tried again
        // (a second copy is possible only then).
        recorded.unwrap_or_else(|error| {
            tracing::warn!(%error, id, "mail outcome not recorded");
            false
        })
    }

    fn message(&self, mail: &ClaimedMail) -> Result<Message, String> {
        let to: Mailbox = mail
            .recipient
            .parse()
            .map_err(|error| format!("recipient: {error}"))?;
        Message::builder()
            .message_id(Some(mail.message_id.clone()))
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|error| error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_come_later_each_time_up_to_a_quarter_hour() {
        let delays: Vec<i64> = (1..=9).map(retry_delay_secs).collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 320, 640, 900, 900]);
        assert_eq!(retry_delay_secs(i64::MAX), 900);
    }

    #[test]
    fn the_link_logged_is_the_sites_link_on_its_own_line_never_typed_text() {
        let site = "http://localhost:3000";
        let body = "Hello http://localhost:3000/evil,\n\n\
                    Your account \"http://evil.example/x\" asked.\n\n\
                    http://localhost:3000/password/reset?token=1\n\nThanks";
        assert_eq!(
            site_link(body, site),
            Some("http://localhost:3000/password/reset?token=1")
        );
        assert_eq!(
            site_link(body, "http://localhost:3000/"),
            site_link(body, site)
        );
        assert_eq!(site_link("no link\nhttp://other.example/a", site), None);
        assert_eq!(site_link("http://localhost:30000/a", site), None);
        assert_eq!(domain_of("a@b.example"), "b.example");
    }
}
