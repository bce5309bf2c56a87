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
//! The index from users to their sessions (`user_sessions`) lives here too. A
//! record that carries the signed-in state gets its index row in the same
//! transaction that writes the record; a save moves its `last_seen` in the same
//! transaction as the record (once per refresh interval); deleting the record
//! deletes the row (`ON DELETE CASCADE`), whichever path deletes it: sign-out,
//! expiry, revocation, the purge. Revocation deletes records by their public
//! handle, so nothing outside this module ever holds another session's id.
//!
//! Another store (Redis, PostgreSQL) replaces `SessionBackend` here and nowhere else,
//! with the same rules: no save recreates a deleted record, and the index moves
//! with the records.

use super::session_reader::SessionReaders;
use crate::auth::ssr::{SignedIn, SIGNED_IN_KEY};
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

const INSERT_RECORD: &str = "INSERT INTO tower_sessions (id, data, expiry_date) VALUES (?, ?, ?) \
     ON CONFLICT (id) DO NOTHING";

const INDEX_SESSION: &str = "INSERT INTO user_sessions \
     (session_id, handle, user_id, device, client, remember, signed_in_at, last_seen) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
     ON CONFLICT (session_id) DO UPDATE SET last_seen = excluded.last_seen";

const LIST_SESSIONS: &str =
    "SELECT s.handle, s.device, s.client, s.remember, s.signed_in_at, s.last_seen \
     FROM user_sessions s JOIN tower_sessions t ON t.id = s.session_id \
     WHERE s.user_id = ? AND t.expiry_date > ? ORDER BY s.last_seen DESC, s.signed_in_at DESC";

const REVOKE_ONE: &str = "DELETE FROM tower_sessions WHERE id = \
     (SELECT session_id FROM user_sessions WHERE handle = ? AND user_id = ?)";

const REVOKE_ALL_BUT: &str = "DELETE FROM tower_sessions WHERE id IN \
     (SELECT session_id FROM user_sessions WHERE user_id = ? AND handle IS NOT ?)";

const PURGE_EXPIRED: &str = "DELETE FROM tower_sessions WHERE rowid IN \
     (SELECT rowid FROM tower_sessions WHERE expiry_date < ? LIMIT ?)";

/// Read-only connections for session reads: one per async worker thread
/// would do (a read never yields), a few more cover other callers.
pub const READERS: usize = 4;

/// One signed-in session as the index keeps it: what its owner sees on the
/// account page. Times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct IndexedSession {
    pub handle: String,
    pub device: String,
    pub client: String,
    pub remember: bool,
    pub signed_in_at: i64,
    pub last_seen: i64,
}

/// The signed-in state a record carries, if any.
fn signed_in(record: &Record) -> Option<SignedIn> {
    let value = record.data.get(SIGNED_IN_KEY)?;
    match serde_json::from_value(value.clone()) {
        Ok(state) => Some(state),
        Err(error) => {
            tracing::warn!(error = %error, "a session record's signed-in state is unreadable; not indexed");
            None
        }
    }
}

fn backend_error(error: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    rmp_serde::to_vec(record).map_err(|error| session_store::Error::Encode(error.to_string()))
}

/// Writes or moves the index row of a record in `transaction`.
async fn index(
    transaction: &mut sqlx::SqliteConnection,
    id: &Id,
    state: &SignedIn,
) -> Result<(), sqlx::Error> {
    sqlx::query(INDEX_SESSION)
        .bind(id.to_string())
        .bind(&state.handle)
        .bind(state.user_id)
        .bind(&state.device)
        .bind(&state.client)
        .bind(state.remember)
        .bind(state.signed_in_at)
        .bind(state.last_seen)
        .execute(transaction)
        .await?;
    Ok(())
}

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

    /// The live sessions of `user_id` at `now`, most recently active first.
    pub async fn sessions_of(
        &self,
        user_id: i64,
        now: OffsetDateTime,
    ) -> Result<Vec<IndexedSession>, sqlx::Error> {
        sqlx::query_as(LIST_SESSIONS)
            .bind(user_id)
            .bind(now)
            .fetch_all(&self.pool)
            .await
    }

    /// Ends the session of `user_id` named `handle`; `false` when the user has
    /// no such session (whether or not another user has).
    pub async fn revoke(&self, user_id: i64, handle: &str) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(REVOKE_ONE)
            .bind(handle)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Ends every session of `user_id` except the one named `keep` (all of
    /// them when `None`), and returns how many ended.
    pub async fn revoke_all_but(
        &self,
        user_id: i64,
        keep: Option<&str>,
    ) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(REVOKE_ALL_BUT)
            .bind(user_id)
            .bind(keep)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
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

impl SessionBackend {
    /// The name and token generation of user `user_id`: the one look-up of a
    /// bearer request, which must see a revocation at once (never cached).
    /// Read on the request's thread where a reader is free, as sessions are.
    pub async fn token_holder(&self, user_id: i64) -> Result<Option<(String, i64)>, sqlx::Error> {
        if let Some(found) = self
            .readers
            .as_ref()
            .and_then(|readers| readers.token_holder(user_id))
        {
            return Ok(found);
        }
        sqlx::query_as(super::session_reader::TOKEN_HOLDER)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
    }
}

#[async_trait]
impl SessionStore for SessionBackend {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let state = signed_in(record);
        let mut transaction = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(backend_error)?;
        // A new id until one is free (a collision of 128 random bits is
        // theoretical, but an existing record must never be overwritten).
        loop {
            let inserted = sqlx::query(INSERT_RECORD)
                .bind(record.id.to_string())
                .bind(encode(record)?)
                .bind(record.expiry_date)
                .execute(&mut *transaction)
                .await
                .map_err(backend_error)?
                .rows_affected();
            if inserted > 0 {
                break;
            }
            record.id = Id::default();
        }
        if let Some(state) = state {
            index(&mut transaction, &record.id, &state)
                .await
                .map_err(backend_error)?;
        }
        transaction.commit().await.map_err(backend_error)
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = encode(record)?;
        let mut transaction = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(backend_error)?;
        let updated = sqlx::query(UPDATE_EXISTING)
            .bind(data)
            .bind(record.expiry_date)
            .bind(record.id.to_string())
            .execute(&mut *transaction)
            .await
            .map_err(backend_error)?
            .rows_affected();
        if updated == 0 {
            return Err(session_store::Error::Backend(SESSION_ENDED.into()));
        }
        if let Some(state) = signed_in(record) {
            index(&mut transaction, &record.id, &state)
                .await
                .map_err(backend_error)?;
        }
        transaction.commit().await.map_err(backend_error)
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
        // The index row goes with the record (ON DELETE CASCADE).
        sqlx::query("DELETE FROM tower_sessions WHERE id = ?")
            .bind(session_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend_error)?;
        Ok(())
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

    async fn user(backend: &SessionBackend, name: &str) -> i64 {
        sqlx::query("INSERT INTO users (username, username_key, password_hash) VALUES (?, ?, 'x')")
            .bind(name)
            .bind(name)
            .execute(&backend.pool)
            .await
            .unwrap()
            .last_insert_rowid()
    }

    /// A signed-in record of `user_id`, as sign-in creates it.
    async fn signed_in_record(backend: &SessionBackend, user_id: i64, handle: &str) -> Record {
        let state = SignedIn {
            user_id,
            username: "someone".into(),
            remember: true,
            signed_in_at: 1_000,
            last_seen: 1_000,
            handle: handle.into(),
            device: "Chrome on Linux".into(),
            client: "192.0.2.1".into(),
        };
        let mut record = Record {
            id: Id::default(),
            data: HashMap::from([(
                SIGNED_IN_KEY.to_string(),
                serde_json::to_value(&state).unwrap(),
            )]),
            expiry_date: OffsetDateTime::now_utc() + Span::hours(1),
        };
        backend.create(&mut record).await.unwrap();
        record
    }

    async fn index_rows(backend: &SessionBackend) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM user_sessions")
            .fetch_one(&backend.pool)
            .await
            .unwrap()
    }

    fn handles(sessions: &[IndexedSession]) -> Vec<&str> {
        sessions
            .iter()
            .map(|session| session.handle.as_str())
            .collect()
    }

    #[tokio::test]
    async fn a_signed_in_record_is_indexed_and_anonymous_ones_are_not() {
        let backend = backend().await;
        let alice = user(&backend, "alice").await;
        stored(&backend, OffsetDateTime::now_utc() + Span::hours(1)).await;
        assert_eq!(index_rows(&backend).await, 0);
        signed_in_record(&backend, alice, "a1").await;
        let listed = backend
            .sessions_of(alice, OffsetDateTime::now_utc())
            .await
            .unwrap();
        assert_eq!(
            listed,
            vec![IndexedSession {
                handle: "a1".into(),
                device: "Chrome on Linux".into(),
                client: "192.0.2.1".into(),
                remember: true,
                signed_in_at: 1_000,
                last_seen: 1_000,
            }]
        );
    }

    #[tokio::test]
    async fn a_save_moves_the_index_with_the_record_and_every_deletion_removes_it() {
        let (_folder, on_file) = file_backend().await;
        for backend in [backend().await, on_file] {
            let alice = user(&backend, "alice").await;
            let mut record = signed_in_record(&backend, alice, "a1").await;
            let mut state: SignedIn =
                serde_json::from_value(record.data[SIGNED_IN_KEY].clone()).unwrap();
            state.last_seen = 2_000;
            record
                .data
                .insert(SIGNED_IN_KEY.into(), serde_json::to_value(&state).unwrap());
            backend.save(&record).await.unwrap();
            let now = OffsetDateTime::now_utc();
            assert_eq!(
                backend.sessions_of(alice, now).await.unwrap()[0].last_seen,
                2_000
            );

            // Sign-out (delete), revocation and the purge each take the row along.
            backend.delete(&record.id).await.unwrap();
            assert_eq!(index_rows(&backend).await, 0);
            signed_in_record(&backend, alice, "a2").await;
            assert!(backend.revoke(alice, "a2").await.unwrap());
            assert_eq!(index_rows(&backend).await, 0);
            signed_in_record(&backend, alice, "a3").await;
            assert_eq!(
                backend.purge_expired(now + Span::hours(2)).await.unwrap(),
                1
            );
            assert_eq!(index_rows(&backend).await, 0);
        }
    }

    #[tokio::test]
    async fn revocation_reaches_only_the_users_own_sessions() {
        let backend = backend().await;
        let (alice, bob) = (user(&backend, "alice").await, user(&backend, "bob").await);
        let kept = signed_in_record(&backend, alice, "a1").await;
        let other = signed_in_record(&backend, alice, "a2").await;
        let third = signed_in_record(&backend, alice, "a3").await;
        let bobs = signed_in_record(&backend, bob, "b1").await;

        assert!(!backend.revoke(alice, "b1").await.unwrap(), "bob's handle");
        assert!(!backend.revoke(alice, "nope").await.unwrap());
        assert!(backend.load(&bobs.id).await.unwrap().is_some());

        assert_eq!(backend.revoke_all_but(alice, Some("a1")).await.unwrap(), 2);
        let now = OffsetDateTime::now_utc();
        assert_eq!(
            handles(&backend.sessions_of(alice, now).await.unwrap()),
            ["a1"]
        );
        assert!(backend.load(&kept.id).await.unwrap().is_some());
        assert!(backend.load(&other.id).await.unwrap().is_none());
        assert!(backend.load(&third.id).await.unwrap().is_none());
        assert_eq!(
            handles(&backend.sessions_of(bob, now).await.unwrap()),
            ["b1"]
        );

        assert_eq!(backend.revoke_all_but(alice, None).await.unwrap(), 1);
        assert!(backend.load(&kept.id).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_refresh_save_after_a_revocation_brings_back_neither_record_nor_row() {
        let backend = backend().await;
        let alice = user(&backend, "alice").await;
        let record = signed_in_record(&backend, alice, "a1").await;
        backend.revoke(alice, "a1").await.unwrap();
        assert!(backend.save(&record).await.is_err());
        assert_eq!(index_rows(&backend).await, 0);
        assert!(backend.load(&record.id).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn the_list_leaves_out_records_past_their_store_expiry() {
        let backend = backend().await;
        let alice = user(&backend, "alice").await;
        signed_in_record(&backend, alice, "a1").await;
        let later = OffsetDateTime::now_utc() + Span::hours(2);
        assert!(backend.sessions_of(alice, later).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_list_reads_the_users_index_not_the_whole_table() {
        let backend = backend().await;
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {LIST_SESSIONS}"))
                .bind(1)
                .bind(OffsetDateTime::now_utc())
                .fetch_all(&backend.pool)
                .await
                .unwrap();
        let steps: Vec<&str> = plan.iter().map(|row| row.3.as_str()).collect();
        assert!(
            steps.iter().any(|step| step.contains("user_sessions_user")),
            "{steps:?}"
        );
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
