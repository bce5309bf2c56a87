//! The session store seam: the one place that decides where sessions live.
//!
//! Today it is tower-sessions-sqlx-store's SQLite store in the users' database
//! file. Records are read and written by that store; only the expired-session
//! purge is ours. The store's own sweep (`datetime(expiry_date) < datetime('now')`)
//! wraps the column in a function, so no index can serve it: at a million rows it
//! scans the whole table while holding SQLite's single write lock. Ours compares
//! the column itself against the same RFC 3339 text the store writes, through the
//! index from `migrations/`, and deletes in small batches so sign-ins (which write)
//! wait for one batch at most, never for the whole sweep.
//!
//! Session reads, the one query of every signed-in page, also are ours: they go
//! through a few connections of their own instead of the pool. sqlx runs each
//! SQLite connection on its own thread and, on every return to the pool, pings it
//! (a second round trip to that thread) from a freshly spawned task; a dedicated
//! read-only connection answers a read in one round trip. See BENCHMARKS.md.
//!
//! Another store (Redis, PostgreSQL) replaces `SessionBackend` here and nowhere else.

use async_trait::async_trait;
use sqlx::{
    sqlite::SqliteConnectOptions, ConnectOptions, Connection, SqliteConnection, SqlitePool,
};
use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};
use time::OffsetDateTime;
use tokio::sync::{Mutex, MutexGuard};
use tower_sessions::{
    session::{Id, Record},
    session_store, SessionStore,
};
use tower_sessions_sqlx_store::SqliteStore;

/// Rows deleted per statement by the purge.
pub const PURGE_BATCH: i64 = 2_000;

const PURGE_EXPIRED: &str = "DELETE FROM tower_sessions WHERE rowid IN \
     (SELECT rowid FROM tower_sessions WHERE expiry_date < ? LIMIT ?)";

/// Connections kept for session reads. More would only queue on the same cores.
pub const READERS: usize = 4;

/// The store's own load query, with the same text comparison of the expiry.
const LOAD: &str = "SELECT data FROM tower_sessions WHERE id = ? AND expiry_date > ?";

/// The application's session store.
#[derive(Clone, Debug)]
pub struct SessionBackend {
    store: SqliteStore,
    pool: SqlitePool,
    readers: Arc<Readers>,
}

impl SessionBackend {
    /// The table and its expiry index come from `migrations/`, which must have run.
    pub fn new(pool: SqlitePool) -> Self {
        let options = (*pool.connect_options()).clone().read_only(true);
        Self {
            store: SqliteStore::new(pool.clone()),
            readers: Arc::new(Readers::new(options, READERS)),
            pool,
        }
    }

    /// Deletes every record that expired before `now`, `PURGE_BATCH` rows per
    /// statement, and returns how many went.
    pub async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, sqlx::Error> {
        let mut deleted = 0;
        loop {
            let batch = sqlx::query(PURGE_EXPIRED)
                .bind(now)
                .bind(PURGE_BATCH)
                .execute(&self.pool)
                .await?
                .rows_affected();
            deleted += batch;
            if batch < PURGE_BATCH as u64 {
                return Ok(deleted);
            }
            // Let queued writers (sign-ins, sliding expiry) take the lock.
            tokio::task::yield_now().await;
        }
    }

    /// Purges expired records every `every`, the first time one interval after
    /// start (so start-up stays quick), for as long as the server runs.
    pub async fn purge_continuously(self, every: Duration) {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            ticks.tick().await;
            match self.purge_expired(OffsetDateTime::now_utc()).await {
                Ok(0) => {}
                Ok(deleted) => tracing::debug!(deleted, "expired sessions purged"),
                Err(error) => tracing::error!(error = %error, "expired-session purge failed"),
            }
        }
    }
}

#[async_trait]
impl SessionStore for SessionBackend {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.store.create(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.store.save(record).await
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let data = self
            .readers
            .fetch_data(session_id, OffsetDateTime::now_utc())
            .await
            .map_err(|error| session_store::Error::Backend(error.to_string()))?;
        data.map(|data| {
            rmp_serde::from_slice(&data)
                .map_err(|error| session_store::Error::Decode(error.to_string()))
        })
        .transpose()
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        self.store.delete(session_id).await
    }
}

/// Read-only connections outside the pool, opened on first use and reopened
/// after an error. A read takes a free one, or waits its turn on one of them.
#[derive(Debug)]
struct Readers {
    options: SqliteConnectOptions,
    slots: Box<[Mutex<Option<SqliteConnection>>]>,
    next: AtomicUsize,
}

impl Readers {
    fn new(options: SqliteConnectOptions, count: usize) -> Self {
        Self {
            options,
            slots: (0..count.max(1)).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
        }
    }

    async fn slot(&self) -> MutexGuard<'_, Option<SqliteConnection>> {
        for slot in self.slots.iter() {
            if let Ok(guard) = slot.try_lock() {
                return guard;
            }
        }
        let turn = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        self.slots[turn].lock().await
    }

    /// The stored bytes of a live record, as the store wrote them.
    async fn fetch_data(
        &self,
        id: &Id,
        now: OffsetDateTime,
    ) -> Result<Option<Vec<u8>>, sqlx::Error> {
        let mut slot = self.slot().await;
        let connection = match slot.as_mut() {
            Some(connection) => connection,
            None => slot.insert(self.options.connect().await?),
        };
        let found = sqlx::query_scalar(LOAD)
            .bind(id.to_string())
            .bind(now)
            .fetch_optional(&mut *connection)
            .await;
        if found.is_err() {
            // Whatever went wrong, the next read starts on a fresh connection.
            if let Some(connection) = slot.take() {
                let _ = connection.close().await;
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use time::Duration as Span;

    async fn backend() -> SessionBackend {
        let pool = SqlitePool::connect("sqlite::memory:").await.unwrap();
        sqlx::migrate!("./migrations").run(&pool).await.unwrap();
        SessionBackend::new(pool)
    }

    async fn stored(backend: &SessionBackend, expiry_date: OffsetDateTime) -> Id {
        let mut record = Record {
            id: Id::default(),
            data: HashMap::new(),
            expiry_date,
        };
        backend.create(&mut record).await.unwrap();
        record.id
    }

    #[tokio::test]
    async fn purge_deletes_expired_records_and_keeps_live_ones() {
        let backend = backend().await;
        let now = OffsetDateTime::now_utc();
        let mut expired = Vec::new();
        // More than one batch, so the loop is exercised.
        for n in 0..(PURGE_BATCH + 5) {
            expired.push(stored(&backend, now - Span::seconds(n + 1)).await);
        }
        let live = stored(&backend, now + Span::hours(1)).await;

        assert_eq!(
            backend.purge_expired(now).await.unwrap(),
            PURGE_BATCH as u64 + 5
        );
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM tower_sessions")
            .fetch_one(&backend.pool)
            .await
            .unwrap();
        assert_eq!(left, 1);
        assert!(backend.load(&live).await.unwrap().is_some());
        assert!(backend.load(&expired[0]).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn purge_reads_the_expiry_index_not_the_whole_table() {
        let backend = backend().await;
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!(
            "EXPLAIN QUERY PLAN {}",
            PURGE_EXPIRED.replace("DELETE FROM", "SELECT rowid FROM")
        ))
        .bind(OffsetDateTime::now_utc())
        .bind(PURGE_BATCH)
        .fetch_all(&backend.pool)
        .await
        .unwrap();
        let steps: Vec<&str> = plan.iter().map(|row| row.3.as_str()).collect();
        assert!(
            steps
                .iter()
                .any(|step| step.contains("USING COVERING INDEX tower_sessions_expiry_date")),
            "{steps:?}"
        );
        assert!(
            !steps
                .iter()
                .any(|step| step.starts_with("SCAN tower_sessions")),
            "{steps:?}"
        );
    }

    #[tokio::test]
    async fn the_store_and_the_purge_agree_on_the_expiry_encoding() {
        // A record expiring in one second is live for the store and kept by
        // the purge; after that second both treat it as gone.
        let backend = backend().await;
        let now = OffsetDateTime::now_utc();
        let id = stored(&backend, now + Span::milliseconds(1_500)).await;
        assert_eq!(backend.purge_expired(now).await.unwrap(), 0);
        assert!(backend.load(&id).await.unwrap().is_some());
        assert_eq!(
            backend.purge_expired(now + Span::seconds(2)).await.unwrap(),
            1
        );
    }

    #[tokio::test]
    async fn a_record_the_store_wrote_reads_back_whole_through_the_readers() {
        let backend = backend().await;
        let mut record = Record {
            id: Id::default(),
            data: HashMap::from([("signed_in".to_string(), serde_json::json!({"user_id": 7}))]),
            expiry_date: OffsetDateTime::now_utc() + Span::hours(1),
        };
        backend.create(&mut record).await.unwrap();
        assert_eq!(
            backend.load(&record.id).await.unwrap(),
            Some(record.clone())
        );
        backend.delete(&record.id).await.unwrap();
        assert_eq!(backend.load(&record.id).await.unwrap(), None);
    }

    #[tokio::test]
    async fn many_more_concurrent_reads_than_readers_all_answer() {
        let backend = backend().await;
        let live = stored(&backend, OffsetDateTime::now_utc() + Span::hours(1)).await;
        let reads = (0..READERS * 8).map(|_| {
            let backend = backend.clone();
            tokio::spawn(async move { backend.load(&live).await })
        });
        for read in reads {
            assert!(read.await.unwrap().unwrap().is_some());
        }
    }

    #[tokio::test]
    async fn on_a_database_file_readers_see_every_committed_write_and_cannot_write() {
        let folder = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", folder.path().join("app.db").display());
        let pool = crate::server::database::connect(&url).await.unwrap();
        crate::server::database::migrate(&pool).await.unwrap();
        let backend = SessionBackend::new(pool);
        let now = OffsetDateTime::now_utc();
        let first = stored(&backend, now + Span::hours(1)).await;
        assert!(backend.load(&first).await.unwrap().is_some());
        // Written after the readers opened: still seen at once.
        let second = stored(&backend, now + Span::hours(1)).await;
        assert!(backend.load(&second).await.unwrap().is_some());

        let mut slot = backend.readers.slot().await;
        let reader = slot.as_mut().expect("opened by the reads above");
        let write = sqlx::query("DELETE FROM tower_sessions")
            .execute(&mut *reader)
            .await;
        assert!(write.is_err(), "a reader wrote: {write:?}");
        drop(slot);
        assert!(backend.load(&first).await.unwrap().is_some());
    }
}
