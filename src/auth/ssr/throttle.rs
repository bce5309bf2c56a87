//! Throttling of password guessing and sign-up floods, kept in the database.
//!
//! Each counter counts events (failed sign-ins, or sign-ups) that follow each
//! other with less than `window` of quiet between them. From `max_events`
//! on, each further event blocks the subject for a delay that doubles from
//! `base_delay` up to `max_delay`. A block always ends: an attacker can slow a
//! victim's sign-in, never lock the account for good.

use sqlx::SqlitePool;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    AccountSignIn,
    AddressSignIn,
    AddressSignUp,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::AccountSignIn => "sign_in_account",
            Scope::AddressSignIn => "sign_in_address",
            Scope::AddressSignUp => "sign_up_address",
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
}

impl ThrottleRules {
    pub fn limit(&self, scope: Scope) -> Limit {
        match scope {
            Scope::AccountSignIn => self.sign_in_account,
            Scope::AddressSignIn => self.sign_in_address,
            Scope::AddressSignUp => self.sign_up_address,
        }
    }

    /// The longest quiet time after which any counter is meaningless.
    pub fn longest_window_secs(&self) -> i64 {
        [
            self.sign_in_account,
            self.sign_in_address,
            self.sign_up_address,
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
    "SELECT count, last_at, blocked_until FROM throttle WHERE scope = ? AND subject = ?";

pub async fn load(
    pool: &SqlitePool,
    scope: Scope,
    subject: &str,
) -> Result<Option<Counter>, sqlx::Error> {
    sqlx::query_as::<_, Counter>(SELECT_COUNTER)
        .bind(scope.as_str())
        .bind(subject)
        .fetch_optional(pool)
        .await
}

/// Seconds until `subject` may try again, if it is blocked now.
pub async fn retry_after(
    pool: &SqlitePool,
    limit: Limit,
    scope: Scope,
    subject: &str,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let counter = load(pool, scope, subject).await?;
    Ok(limit.retry_after(counter.as_ref(), now))
}

/// Counts one event; returns the new counter.
pub async fn record(
    pool: &SqlitePool,
    limit: Limit,
    scope: Scope,
    subject: &str,
    now: i64,
) -> Result<Counter, sqlx::Error> {
    let mut transaction = pool.begin().await?;
    let current = sqlx::query_as::<_, Counter>(SELECT_COUNTER)
        .bind(scope.as_str())
        .bind(subject)
        .fetch_optional(&mut *transaction)
        .await?;
    let next = limit.record(current, now);
    sqlx::query(
        "INSERT INTO throttle (scope, subject, count, last_at, blocked_until) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (scope, subject) DO UPDATE SET
           count = excluded.count, last_at = excluded.last_at, blocked_until = excluded.blocked_until",
    )
    .bind(scope.as_str())
    .bind(subject)
    .bind(next.count)
    .bind(next.last_at)
    .bind(next.blocked_until)
    .execute(&mut *transaction)
    .await?;
    transaction.commit().await?;
    Ok(next)
}

pub async fn clear(pool: &SqlitePool, scope: Scope, subject: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM throttle WHERE scope = ? AND subject = ?")
        .bind(scope.as_str())
        .bind(subject)
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes counters that can no longer block or add up: quiet for longer
/// than `quiet_secs` and not blocked. Keeps the table small when an attacker
/// sprays many usernames.
pub async fn purge_stale(pool: &SqlitePool, now: i64, quiet_secs: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM throttle WHERE last_at < ? AND blocked_until <= ?")
        .bind(now.saturating_sub(quiet_secs))
        .bind(now)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

/// Runs `purge_stale` every `every`, for as long as the server runs.
pub async fn purge_continuously(pool: SqlitePool, every: std::time::Duration, quiet_secs: i64) {
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        if let Err(error) = purge_stale(&pool, super::session::now(), quiet_secs).await {
            tracing::error!(error = %error, "throttle counter cleanup failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stale_counters_are_purged_and_live_ones_kept() {
        let pool = SqlitePool::connect("sqlite::memory:").await.unwrap();
        sqlx::migrate!("./migrations").run(&pool).await.unwrap();
        record(&pool, LIMIT, Scope::AccountSignIn, "old", 0)
            .await
            .unwrap();
        record(&pool, LIMIT, Scope::AccountSignIn, "recent", 5_000)
            .await
            .unwrap();
        for _ in 0..5 {
            record(&pool, LIMIT, Scope::AddressSignIn, "blocked", 0)
                .await
                .unwrap();
        }
        // "blocked" was last seen at 0 but is blocked until 30: kept at 20.
        assert_eq!(purge_stale(&pool, 20, 10).await.unwrap(), 1);
        assert!(load(&pool, Scope::AccountSignIn, "old")
            .await
            .unwrap()
            .is_none());
        assert!(load(&pool, Scope::AddressSignIn, "blocked")
            .await
            .unwrap()
            .is_some());
        assert!(load(&pool, Scope::AccountSignIn, "recent")
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
