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
//! Session reads, the one query of every signed-in page, are ours too: they go
//! through `session_reader` on the request's own thread, and through the store
//! (the pool) only when no reader can answer at once.
//!
//! `save` only ever updates a record that still exists. The store's own save is an
//! insert-or-update, so a request that loaded a session before a sign-out deleted
//! it and saved after (a sliding refresh) brought the session back. Here that
//! save changes nothing and answers `SESSION_ENDED`; `session_layer` then clears
//! the cookie instead of sending it again. New records go through `create`.
//!
//! Another store (Redis, PostgreSQL) replaces `SessionBackend` here and nowhere else,
//! with the same rule: no save recreates a deleted record.

use super::session_reader::SessionReaders;
use async_trait::async_trait;
use sqlx::SqlitePool;
use std::{sync::Arc, time::Duration};
use time::OffsetDateTime;
use tower_sessions::{
    session::{Id, Record},
    session_store, SessionStore,
};
use tower_sessions_sqlx_store::SqliteStore;

/// Rows deleted per statement by the purge.
pub const PURGE_BATCH: i64 = 2_000;

/// Updates a record only while it exists, in the store's own encoding
/// (MessagePack of the whole record) and expiry column.
const UPDATE_EXISTING: &str = "UPDATE tower_sessions SET data = ?, expiry_date = ? WHERE id = ?";

/// The reason a `save` gives when its record was deleted meanwhile.
const SESSION_ENDED: &str = "the session ended while this request ran";

/// Whether a session error means its record was deleted (sign-out, expiry,
/// revocation) after this request loaded it.
pub fn session_ended(error: &tower_sessions::session::Error) -> bool {
    matches!(
        error,
        tower_sessions::session::Error::Store(session_store::Error::Backend(reason))
            if reason == SESSION_ENDED
    )
}

const PURGE_EXPIRED: &str = "DELETE FROM tower_sessions WHERE rowid IN \
     (SELECT rowid FROM tower_sessions WHERE expiry_date < ? LIMIT ?)";

/// Read-only connections for session reads: one per async worker thread
/// would do (a read never yields), a few more cover other callers.
pub const READERS: usize = 4;

/// The application's session store.
#[derive(Clone, Debug)]
pub struct SessionBackend {
    store: SqliteStore,
    pool: SqlitePool,
    /// `None` for an in-memory database: then every read goes through the pool.
    readers: Option<Arc<SessionReaders>>,
}

impl SessionBackend {
    /// The table and its expiry index come from `migrations/`, which must have run.
    pub fn new(pool: SqlitePool) -> Self {
        let readers = SessionReaders::for_file(pool.connect_options().get_filename(), READERS);
        Self {
            store: SqliteStore::new(pool.clone()),
            readers: readers.map(Arc::new),
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
        let data = rmp_serde::to_vec(record)
            .map_err(|error| session_store::Error::Encode(error.to_string()))?;
        let updated = sqlx::query(UPDATE_EXISTING)
            .bind(data)
            .bind(record.expiry_date)
            .bind(record.id.to_string())
            .execute(&self.pool)
            .await
            .map_err(|error| session_store::Error::Backend(error.to_string()))?
            .rows_affected();
        if updated == 0 {
            return Err(session_store::Error::Backend(SESSION_ENDED.into()));
        }
        Ok(())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let Some(data) = self
            .readers
            .as_ref()
            .and_then(|readers| readers.read(&session_id.to_string()))
        else {
            return self.store.load(session_id).await;
        };
        let Some(data) = data else { return Ok(None) };
        let record: Record = rmp_serde::from_slice(&data)
            .map_err(|error| session_store::Error::Decode(error.to_string()))?;
        // As the store's own query: a record past its expiry is not there.
        Ok((record.expiry_date > OffsetDateTime::now_utc()).then_some(record))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        self.store.delete(session_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use time::Duration as Span;

    /// In memory: every read goes through the pool.
    async fn backend() -> SessionBackend {
        let pool = SqlitePool::connect("sqlite::memory:").await.unwrap();
        sqlx::migrate!("./migrations").run(&pool).await.unwrap();
        let backend = SessionBackend::new(pool);
        assert!(backend.readers.is_none());
        backend
    }

    /// On a file, as served: reads go through the session readers.
    async fn file_backend() -> (tempfile::TempDir, SessionBackend) {
        let folder = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", folder.path().join("app.db").display());
        let pool = crate::server::database::connect(&url).await.unwrap();
        crate::server::database::migrate(&pool).await.unwrap();
        let backend = SessionBackend::new(pool);
        assert!(backend.readers.is_some());
        (folder, backend)
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
        // A record expiring in one second is live for both read paths and kept
        // by the purge; after that second all treat it as gone.
        let (_folder, on_file) = file_backend().await;
        for backend in [backend().await, on_file] {
            let now = OffsetDateTime::now_utc();
            let id = stored(&backend, now + Span::milliseconds(1_500)).await;
            assert_eq!(backend.purge_expired(now).await.unwrap(), 0);
            assert!(backend.load(&id).await.unwrap().is_some());
            assert_eq!(
                backend.purge_expired(now + Span::seconds(2)).await.unwrap(),
                1
            );
        }
    }

    #[tokio::test]
    async fn both_read_paths_give_back_the_record_the_store_wrote_until_it_expires() {
        let (_folder, on_file) = file_backend().await;
        for backend in [backend().await, on_file] {
            let mut record = Record {
                id: Id::default(),
                data: HashMap::from([(
                    "signed_in".to_string(),
                    serde_json::json!({"user_id": 7, "username": "alice"}),
                )]),
                expiry_date: OffsetDateTime::now_utc() + Span::hours(1),
            };
            backend.create(&mut record).await.unwrap();
            assert_eq!(
                backend.load(&record.id).await.unwrap(),
                Some(record.clone())
            );

            let expired = stored(&backend, OffsetDateTime::now_utc() - Span::seconds(1)).await;
            assert_eq!(backend.load(&expired).await.unwrap(), None);

            backend.delete(&record.id).await.unwrap();
            assert_eq!(backend.load(&record.id).await.unwrap(), None);
        }
    }

    #[tokio::test]
    async fn a_save_never_brings_back_a_deleted_record() {
        let (_folder, on_file) = file_backend().await;
        for backend in [backend().await, on_file] {
            let id = stored(&backend, OffsetDateTime::now_utc() + Span::hours(1)).await;
            let mut loaded = backend.load(&id).await.unwrap().unwrap();
            backend.delete(&id).await.unwrap();
            loaded.expiry_date += Span::hours(1);
            let saved = backend.save(&loaded).await;
            let error = tower_sessions::session::Error::Store(saved.unwrap_err());
            assert!(session_ended(&error), "{error}");
            assert_eq!(backend.load(&id).await.unwrap(), None);
        }
    }

    #[tokio::test]
    async fn a_save_moves_the_expiry_of_a_live_record() {
        let backend = backend().await;
        let id = stored(&backend, OffsetDateTime::now_utc() + Span::hours(1)).await;
        let mut loaded = backend.load(&id).await.unwrap().unwrap();
        loaded.expiry_date += Span::hours(1);
        backend.save(&loaded).await.unwrap();
        assert_eq!(backend.load(&id).await.unwrap(), Some(loaded));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_more_concurrent_reads_than_readers_all_answer() {
        let (_folder, backend) = file_backend().await;
        let live = stored(&backend, OffsetDateTime::now_utc() + Span::hours(1)).await;
        let reads = (0..READERS * 16).map(|_| {
            let backend = backend.clone();
            tokio::spawn(async move { backend.load(&live).await })
        });
        for read in reads {
            assert!(read.await.unwrap().unwrap().is_some());
        }
    }

    #[tokio::test]
    async fn with_every_reader_taken_a_read_goes_through_the_pool() {
        let (_folder, backend) = file_backend().await;
        let live = stored(&backend, OffsetDateTime::now_utc() + Span::hours(1)).await;
        let readers = backend.readers.clone().unwrap();
        let _taken: Vec<_> = readers.taken_for_test();
        assert!(backend.load(&live).await.unwrap().is_some());
    }
}
