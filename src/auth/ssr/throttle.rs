//! Throttling of password guessing and sign-up floods, kept in the database.
//!
//! Each counter counts events (failed sign-ins, or sign-ups) that follow each
//! other with less than `window` of quiet between them. From `max_events`
//! on, each further event blocks the subject for a delay that doubles from
//! `base_delay` up to `max_delay`. A block always ends: an attacker can slow a
//! victim's sign-in, never lock the account for good.

use crate::server::store::{query_on, Database, SerialLock, Transaction};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    AccountSignIn,
    /// Sign-ins from a browser that has signed in to the account before.
    DeviceSignIn,
    AddressSignIn,
    AddressSignUp,
    /// Messages with a link asked for from one client address.
    AddressMail,
    /// Messages with a link sent for one account (or one name asked for),
    /// asked for by anyone ("Forgot your password?").
    AccountMail,
    /// Messages with a link the signed-in owner asked for (an address to
    /// verify): counted apart, so that strangers cannot pause them (#35).
    OwnerMail,
    /// Messages with a link sent to one address (normalised), whoever asked
    /// for them and from wherever (#35).
    RecipientMail,
    /// Passkey sign-in ceremonies begun from one client address (#25).
    AddressPasskeyChallenge,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::AccountSignIn => "sign_in_account",
            Scope::DeviceSignIn => "sign_in_device",
            Scope::AddressSignIn => "sign_in_address",
            Scope::AddressSignUp => "sign_up_address",
            Scope::AddressMail => "mail_address",
            Scope::AccountMail => "mail_account",
            Scope::OwnerMail => "mail_owner",
            Scope::RecipientMail => "mail_recipient",
            Scope::AddressPasskeyChallenge => "passkey_challenge_address",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub max_events: u32,
    pub window_secs: i64,
    pub base_delay_secs: i64,
    pub max_delay_secs: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottleRules {
    pub sign_in_account: Limit,
    pub sign_in_address: Limit,
    pub sign_up_address: Limit,
    pub mail_address: Limit,
    pub mail_account: Limit,
    pub mail_recipient: Limit,
    pub passkey_challenge_address: Limit,
}

impl ThrottleRules {
    pub fn limit(&self, scope: Scope) -> Limit {
        match scope {
            Scope::AccountSignIn | Scope::DeviceSignIn => self.sign_in_account,
            Scope::AddressSignIn => self.sign_in_address,
            Scope::AddressSignUp => self.sign_up_address,
            Scope::AddressMail => self.mail_address,
            Scope::AccountMail | Scope::OwnerMail => self.mail_account,
            Scope::RecipientMail => self.mail_recipient,
            Scope::AddressPasskeyChallenge => self.passkey_challenge_address,
        }
    }

    /// One attempt of `subject` on `scope`, under that scope's limit.
    pub fn attempt(self, scope: Scope, subject: &str) -> Attempt<'_> {
        Attempt {
            limit: self.limit(scope),
            scope,
            subject,
        }
    }

    /// The longest quiet time after which any counter is meaningless.
    pub fn longest_window_secs(&self) -> i64 {
        [
            self.sign_in_account,
            self.sign_in_address,
            self.sign_up_address,
            self.mail_address,
            self.mail_account,
            self.mail_recipient,
            self.passkey_challenge_address,
        ]
        .iter()
        .map(|limit| limit.window_secs.max(limit.max_delay_secs))
        .max()
        .unwrap_or(0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Counter {
    pub count: i64,
    pub last_at: i64,
    pub blocked_until: i64,
}

impl Limit {
    /// Seconds until the subject may try again, if it is blocked now.
    pub fn retry_after(&self, counter: Option<&Counter>, now: i64) -> Option<i64> {
        counter
            .map(|counter| counter.blocked_until - now)
            .filter(|remaining| *remaining > 0)
    }

    /// The counter with one event taken back. A block that only the
    /// refunded event reached is lifted.
    pub fn refund(&self, counter: Counter) -> Counter {
        let count = (counter.count - 1).max(0);
        let blocked_until = if count < i64::from(self.max_events) {
            0
        } else {
            counter.blocked_until
        };
        Counter {
            count,
            blocked_until,
            ..counter
        }
    }

    /// The counter after one more event at `now`.
    pub fn record(&self, counter: Option<Counter>, now: i64) -> Counter {
        let count = match counter {
            Some(counter) if now - counter.last_at < self.window_secs => counter.count + 1,
            _ => 1,
        };
        let over = count - i64::from(self.max_events);
        let blocked_until = if over >= 0 {
            let doublings = u32::try_from(over.min(20)).unwrap_or(20);
            let delay = self
                .base_delay_secs
                .saturating_mul(1_i64 << doublings)
                .min(self.max_delay_secs);
            now + delay
        } else {
            0
        };
        Counter {
            count,
            last_at: now,
            blocked_until,
        }
    }
}

const SELECT_COUNTER: &str =
    "SELECT count, last_at, blocked_until FROM throttle WHERE scope = $1 AND subject = $2";

pub async fn load(
    database: &Database,
    scope: Scope,
    subject: &str,
) -> Result<Option<Counter>, sqlx::Error> {
    query_on!(database, |executor| sqlx::query_as(SELECT_COUNTER)
        .bind(scope.as_str())
        .bind(subject)
        .fetch_optional(executor)
        .await)
}

/// Seconds until `subject` may try again, if it is blocked now. A cheap early
/// refusal only: an attempt is counted by `admit`.
pub async fn retry_after(
    database: &Database,
    limit: Limit,
    scope: Scope,
    subject: &str,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let counter = load(database, scope, subject).await?;
    Ok(limit.retry_after(counter.as_ref(), now))
}

/// One attempt to count against one subject.
#[derive(Clone, Copy, Debug)]
pub struct Attempt<'a> {
    pub limit: Limit,
    pub scope: Scope,
    pub subject: &'a str,
}

const UPSERT_COUNTER: &str =
    "INSERT INTO throttle (scope, subject, count, last_at, blocked_until) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (scope, subject) DO UPDATE SET
       count = excluded.count, last_at = excluded.last_at, blocked_until = excluded.blocked_until";

/// Why `admit` refused: the first blocked scope and how long it stays blocked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub scope: Scope,
    pub retry_after_secs: i64,
}

/// Counts `attempts` before the work they guard starts (a password hash), or
/// refuses them all when any subject is blocked now, and then
/// nothing is counted. Read and write happen in one serialized transaction
/// (`SerialLock::Throttle`), so concurrent attempts are counted one after the
/// other, on every instance: however many arrive at once, at most `max_events`
/// are admitted before the block.
pub async fn admit(
    database: &Database,
    attempts: &[Attempt<'_>],
    now: i64,
) -> Result<Option<Refusal>, sqlx::Error> {
    let mut transaction = database.begin_serialized(SerialLock::Throttle).await?;
    let mut counted = Vec::with_capacity(attempts.len());
    for attempt in attempts {
        let current = counter_in(&mut transaction, attempt).await?;
        if let Some(retry_after_secs) = attempt.limit.retry_after(current.as_ref(), now) {
            // Dropping the transaction rolls it back: nothing was written.
            return Ok(Some(Refusal {
                scope: attempt.scope,
                retry_after_secs,
            }));
        }
        counted.push(attempt.limit.record(current, now));
    }
    for (attempt, next) in attempts.iter().zip(counted) {
        write(&mut transaction, attempt, next).await?;
    }
    transaction.commit().await?;
    Ok(None)
}

/// Gives back attempts that `admit` counted and that turned out not to be
/// failures (a successful sign-in, a hash refused as busy), in one transaction,
/// so that only failures add up.
pub async fn refund(database: &Database, attempts: &[Attempt<'_>]) -> Result<(), sqlx::Error> {
    let mut transaction = database.begin_serialized(SerialLock::Throttle).await?;
    for attempt in attempts {
        let current = counter_in(&mut transaction, attempt).await?;
        if let Some(current) = current {
            write(&mut transaction, attempt, attempt.limit.refund(current)).await?;
        }
    }
    transaction.commit().await
}

async fn counter_in(
    transaction: &mut Transaction,
    attempt: &Attempt<'_>,
) -> Result<Option<Counter>, sqlx::Error> {
    query_on!(transaction, |executor| sqlx::query_as(SELECT_COUNTER)
        .bind(attempt.scope.as_str())
        .bind(attempt.subject)
        .fetch_optional(executor)
        .await)
}

async fn write(
    transaction: &mut Transaction,
    attempt: &Attempt<'_>,
    counter: Counter,
) -> Result<(), sqlx::Error> {
    query_on!(transaction, |executor| sqlx::query(UPSERT_COUNTER)
        .bind(attempt.scope.as_str())
        .bind(attempt.subject)
        .bind(counter.count)
        .bind(counter.last_at)
        .bind(counter.blocked_until)
        .execute(executor)
        .await
        .map(|_| ()))
}

pub async fn clear(database: &Database, scope: Scope, subject: &str) -> Result<(), sqlx::Error> {
    query_on!(database, |executor| sqlx::query(
        "DELETE FROM throttle WHERE scope = $1 AND subject = $2"
    )
    .bind(scope.as_str())
    .bind(subject)
    .execute(executor)
    .await
    .map(|_| ()))
}

/// Deletes counters that can no longer block or add up: quiet for longer
/// than `quiet_secs` and not blocked. Keeps the table small when an attacker
/// sprays many usernames.
pub async fn purge_stale(
    database: &Database,
    now: i64,
    quiet_secs: i64,
) -> Result<u64, sqlx::Error> {
    query_on!(database, |executor| sqlx::query(
        "DELETE FROM throttle WHERE last_at < $1 AND blocked_until <= $2"
    )
    .bind(now.saturating_sub(quiet_secs))
    .bind(now)
    .execute(executor)
    .await
    .map(|done| done.rows_affected()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stale_counters_are_purged_and_live_ones_kept() {
        let database = Database::in_memory().await;
        let attempt = |scope, subject| Attempt {
            limit: LIMIT,
            scope,
            subject,
        };
        admit(&database, &[attempt(Scope::AccountSignIn, "old")], 0)
            .await
            .unwrap();
        admit(&database, &[attempt(Scope::AccountSignIn, "recent")], 5_000)
            .await
            .unwrap();
        for _ in 0..5 {
            admit(&database, &[attempt(Scope::AddressSignIn, "blocked")], 0)
                .await
                .unwrap();
        }
        // "blocked" was last seen at 0 but is blocked until 30: kept at 20.
        assert_eq!(purge_stale(&database, 20, 10).await.unwrap(), 1);
        assert!(load(&database, Scope::AccountSignIn, "old")
            .await
            .unwrap()
            .is_none());
        assert!(load(&database, Scope::AddressSignIn, "blocked")
            .await
            .unwrap()
            .is_some());
        assert!(load(&database, Scope::AccountSignIn, "recent")
            .await
            .unwrap()
            .is_some());
    }

    const LIMIT: Limit = Limit {
        max_events: 5,
        window_secs: 900,
        base_delay_secs: 30,
        max_delay_secs: 900,
    };

    fn after(events: u32, every: i64) -> Counter {
        (0..events)
            .fold(None, |counter, i| {
                Some(LIMIT.record(counter, i64::from(i) * every))
            })
            .unwrap()
    }

    #[test]
    fn four_failures_do_not_block_the_fifth_does() {
        let four = after(4, 1);
        assert_eq!(four.count, 4);
        assert_eq!(LIMIT.retry_after(Some(&four), 4), None);
        let five = LIMIT.record(Some(four), 4);
        assert_eq!(LIMIT.retry_after(Some(&five), 4), Some(30));
    }

    #[test]
    fn delays_double_and_stop_at_the_maximum() {
        let delays: Vec<i64> = (5..=12)
            .map(|events| {
                let counter = after(events, 1);
                counter.blocked_until - counter.last_at
            })
            .collect();
        assert_eq!(delays, vec![30, 60, 120, 240, 480, 900, 900, 900]);
    }

    #[test]
    fn a_refund_takes_back_one_event_and_the_block_it_alone_reached() {
        let five = after(5, 1);
        assert!(five.blocked_until > 0);
        let refunded = LIMIT.refund(five);
        assert_eq!((refunded.count, refunded.blocked_until), (4, 0));
        let six = LIMIT.record(Some(five), 40);
        assert_eq!(LIMIT.refund(six).blocked_until, six.blocked_until);
        assert_eq!(LIMIT.refund(Counter { count: 0, ..five }).count, 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_attempts_are_admitted_only_up_to_the_limit() {
        let folder = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", folder.path().join("t.db").display());
        let database = Database::connect(&url).await.unwrap();
        database.migrate().await.unwrap();
        let tries = (0..32).map(|_| {
            let database = database.clone();
            tokio::spawn(async move {
                let attempts = [
                    Attempt {
                        limit: LIMIT,
                        scope: Scope::AccountSignIn,
                        subject: "alice",
                    },
                    Attempt {
                        limit: Limit {
                            max_events: 100,
                            ..LIMIT
                        },
                        scope: Scope::AddressSignIn,
                        subject: "10.0.0.1",
                    },
                ];
                admit(&database, &attempts, 1_000).await
            })
        });
        let mut admitted = 0;
        for attempt in tries.collect::<Vec<_>>() {
            if attempt.await.unwrap().unwrap().is_none() {
                admitted += 1;
            }
        }
        assert_eq!(admitted, LIMIT.max_events);
        let account = load(&database, Scope::AccountSignIn, "alice")
            .await
            .unwrap();
        assert_eq!(account.unwrap().count, 5);
        // Refused attempts were counted nowhere.
        let address = load(&database, Scope::AddressSignIn, "10.0.0.1")
            .await
            .unwrap();
        assert_eq!(address.unwrap().count, 5);
    }

    #[test]
    fn a_block_always_ends() {
        let counter = after(50, 1);
        assert_eq!(
            LIMIT.retry_after(Some(&counter), counter.blocked_until),
            None
        );
    }

    #[test]
    fn a_quiet_window_starts_the_count_again() {
        let counter = after(4, 1);
        let later = LIMIT.record(Some(counter), counter.last_at + 900);
        assert_eq!(later.count, 1);
        assert_eq!(later.blocked_until, 0);
    }
}
