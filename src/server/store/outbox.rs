//! The mail outbox (#24): messages written in the transaction of the change
//! that causes them, and handed out one at a time to the senders of every
//! instance.
//!
//! A sender claims a message before it sends it: the claim sets a random
//! `claim` and a lease (`claimed_until`) in one `UPDATE` whose `WHERE`
//! checks again that nobody holds it, so of two instances racing for one
//! message exactly one gets it (PostgreSQL re-reads the row after the
//! other's update commits; SQLite has one writer). Delivered, the message is
//! deleted (its body may carry a link's token, which must not outlive its
//! use); failed, it is released for a later try. A sender that dies
//! mid-send leaves its lease to run out, and the message is tried again.

use super::{query_on, Database, RunsQueries};
use std::sync::Arc;
use tokio::sync::Notify;

/// A message to send, as the rules write it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMail {
    pub recipient: String,
    pub subject: String,
    /// Plain text.
    pub body: String,
}

/// A message a sender holds the claim of.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ClaimedMail {
    pub id: i64,
    pub message_id: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
    /// Tries so far, this one included.
    pub attempts: i64,
    pub claim: String,
}

/// The outbox of the application's database, and the bell that wakes this
/// instance's sender when a message is queued here.
#[derive(Clone, Debug)]
pub struct Outbox {
    database: Database,
    wake: Arc<Notify>,
}

const INSERT: &str = "INSERT INTO mail_outbox \
     (message_id, recipient, subject, body, created_at, next_attempt_at) \
     VALUES ($1, $2, $3, $4, $5, $5)";
const CLAIM: &str =
    "UPDATE mail_outbox SET claim = $1, claimed_until = $2, attempts = attempts + 1 \
     WHERE id = (SELECT id FROM mail_outbox WHERE next_attempt_at <= $3 AND claimed_until <= $3 \
                 ORDER BY next_attempt_at, id LIMIT 1) \
       AND next_attempt_at <= $3 AND claimed_until <= $3 \
     RETURNING id, message_id, recipient, subject, body, created_at, attempts, claim";
const DELIVERED: &str = "DELETE FROM mail_outbox WHERE id = $1 AND claim = $2";
const RELEASE: &str = "UPDATE mail_outbox SET claim = NULL, claimed_until = 0, \
     next_attempt_at = $3, last_error = $4 WHERE id = $1 AND claim = $2";
const WAITING: &str = "SELECT COUNT(*) FROM mail_outbox";

/// Queues `mail`, created at `now`, in the transaction (or on the database)
/// of the change that causes it. The caller rings [`Outbox::wake`] once the
/// change is committed.
pub async fn enqueue<'a>(
    on: impl RunsQueries<'a>,
    mail: &OutgoingMail,
    now: i64,
) -> Result<(), sqlx::Error> {
    let message_id = format!(
        "<{}.{}@persistent-login>",
        now,
        crate::digest::hex(&random_bytes())
    );
    query_on!(on, |executor| sqlx::query(INSERT)
        .bind(&message_id)
        .bind(&mail.recipient)
        .bind(&mail.subject)
        .bind(&mail.body)
        .bind(now)
        .execute(executor)
        .await
        .map(|_| ()))
}

fn random_bytes() -> [u8; 16] {
    use rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

impl Outbox {
    pub fn new(database: Database) -> Self {
        Self {
            database,
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Tells this instance's sender that a message is waiting.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Waits for [`wake`](Self::wake), or at most `poll`: another instance's
    /// messages ring no bell here.
    pub async fn wait(&self, poll: std::time::Duration) {
        let _ = tokio::time::timeout(poll, self.wake.notified()).await;
    }

    /// The next message due at `now` that nobody holds, claimed for
    /// `lease_secs`; `None` when there is none (or another sender won it).
    pub async fn claim(
        &self,
        now: i64,
        lease_secs: i64,
    ) -> Result<Option<ClaimedMail>, sqlx::Error> {
        let claim = crate::digest::hex(&random_bytes());
        query_on!(&self.database, |executor| sqlx::query_as(CLAIM)
            .bind(&claim)
            .bind(now + lease_secs)
            .bind(now)
            .fetch_optional(executor)
            .await)
    }

    /// The mail server accepted `mail`: it leaves the outbox. `false` when
    /// the claim had run out and another sender took the message meanwhile.
    pub async fn delivered(&self, mail: &ClaimedMail) -> Result<bool, sqlx::Error> {
        query_on!(&self.database, |executor| sqlx::query(DELIVERED)
            .bind(mail.id)
            .bind(&mail.claim)
            .execute(executor)
            .await
            .map(|done| done.rows_affected() > 0))
    }

    /// A try failed with `error` (no secret in it: the mail server's
    /// answer); `mail` waits until `retry_at`.
    pub async fn release(
        &self,
        mail: &ClaimedMail,
        retry_at: i64,
        error: &str,
    ) -> Result<(), sqlx::Error> {
        query_on!(&self.database, |executor| sqlx::query(RELEASE)
            .bind(mail.id)
            .bind(&mail.claim)
            .bind(retry_at)
            .bind(error)
            .execute(executor)
            .await
            .map(|_| ()))
    }

    /// Gives up on `mail` (the mail server refused it for good): it leaves
    /// the outbox without being sent.
    pub async fn abandon(&self, mail: &ClaimedMail) -> Result<bool, sqlx::Error> {
        self.delivered(mail).await
    }

    /// How many messages wait, claimed or not.
    pub async fn waiting(&self) -> Result<i64, sqlx::Error> {
        query_on!(&self.database, |executor| sqlx::query_scalar(WAITING)
            .fetch_one(executor)
            .await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(to: &str) -> OutgoingMail {
        OutgoingMail {
            recipient: to.into(),
            subject: "Hello".into(),
            body: "A body".into(),
        }
    }

    #[tokio::test]
    async fn a_claimed_message_is_nobody_elses_until_its_lease_runs_out() {
        let database = Database::in_memory().await;
        let outbox = Outbox::new(database.clone());
        enqueue(&database, &mail("a@example.com"), 100)
            .await
            .unwrap();
        let first = outbox.claim(100, 60).await.unwrap().expect("due");
        assert_eq!(
            (first.recipient.as_str(), first.attempts),
            ("a@example.com", 1)
        );
        assert_eq!(outbox.claim(100, 60).await.unwrap(), None, "held");
        assert_eq!(outbox.claim(159, 60).await.unwrap(), None, "still held");
        // The first sender died: after the lease, another takes it over, and
        // the first one's late report changes nothing.
        let second = outbox.claim(160, 60).await.unwrap().expect("lease over");
        assert_eq!((second.id, second.attempts), (first.id, 2));
        assert!(!outbox.delivered(&first).await.unwrap());
        assert!(outbox.delivered(&second).await.unwrap());
        assert_eq!(outbox.waiting().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_failed_message_waits_for_its_retry_and_keeps_its_message_id() {
        let database = Database::in_memory().await;
        let outbox = Outbox::new(database.clone());
        enqueue(&database, &mail("a@example.com"), 100)
            .await
            .unwrap();
        enqueue(&database, &mail("b@example.com"), 101)
            .await
            .unwrap();
        let first = outbox.claim(101, 60).await.unwrap().unwrap();
        assert_eq!(first.recipient, "a@example.com", "oldest first");
        outbox.release(&first, 200, "451 try later").await.unwrap();
        let next = outbox.claim(102, 60).await.unwrap().unwrap();
        assert_eq!(next.recipient, "b@example.com");
        assert!(outbox.delivered(&next).await.unwrap());
        assert_eq!(outbox.claim(199, 60).await.unwrap(), None);
        let again = outbox.claim(200, 60).await.unwrap().unwrap();
        assert_eq!((again.message_id, again.attempts), (first.message_id, 2));
    }
}
