//! The expiry purge as a piece of its own: every interval, the records that
//! expired by the server's clock (the one tests move) are deleted, for as
//! long as the server runs. Redis expires records itself; for it the purge
//! does nothing.

use super::{Sessions, StoreError};
use crate::clock::Clock;
use std::time::Duration;

/// Deletes the records that expired by `clock`; how many went.
pub async fn purge_now(sessions: &Sessions, clock: &Clock) -> Result<u64, StoreError> {
    sessions.purge_expired(clock.now_utc()).await
}

/// Purges every `every`, the first time one interval after start (so
/// start-up stays quick).
pub async fn purge_continuously(sessions: Sessions, clock: Clock, every: Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        ticks.tick().await;
        match purge_now(&sessions, &clock).await {
            Ok(0) => {}
            Ok(deleted) => tracing::debug!(deleted, "expired sessions purged"),
            Err(error) => tracing::error!(error = %error, "expired-session purge failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::{sessions::SqlSessions, Database};
    use std::collections::HashMap;
    use time::OffsetDateTime;
    use tower_sessions::{
        session::{Id, Record},
        SessionStore,
    };

    /// SQLite in memory, with one record that expires in an hour.
    async fn one_record_for_an_hour() -> (Sessions, Record) {
        let sessions = Sessions::new(SqlSessions::new(Database::in_memory().await));
        let mut record = Record {
            id: Id::default(),
            data: HashMap::new(),
            expiry_date: OffsetDateTime::now_utc() + time::Duration::hours(1),
        };
        sessions.create(&mut record).await.unwrap();
        (sessions, record)
    }

    #[tokio::test]
    async fn the_purge_follows_the_servers_clock_not_the_wall_clock() {
        let (sessions, _) = one_record_for_an_hour().await;
        let clock = Clock::default();
        assert_eq!(purge_now(&sessions, &clock).await.unwrap(), 0);
        clock.advance(2 * 3_600);
        assert_eq!(purge_now(&sessions, &clock).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn the_continuous_purge_deletes_what_expired_on_the_clock() {
        let (sessions, record) = one_record_for_an_hour().await;
        let clock = Clock::default();
        let task = tokio::spawn(purge_continuously(
            sessions.clone(),
            clock.clone(),
            Duration::from_millis(20),
        ));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(sessions.load(&record.id).await.unwrap().is_some());
        // Two hours on the server's clock: the next round deletes the record
        // (whose expiry the wall clock has not reached).
        clock.advance(2 * 3_600);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while sessions.load(&record.id).await.unwrap().is_some() {
            assert!(tokio::time::Instant::now() < deadline, "never purged");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        task.abort();
    }
}
