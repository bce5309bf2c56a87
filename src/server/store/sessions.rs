//! Session records and the index from users to their sessions.
//!
//! Records live in the application's database, in tower-sessions-sqlx-store's
//! table (`tower_sessions`, its columns and its MessagePack encoding of the
//! whole record) for SQLite or PostgreSQL, or in Redis (`redis`, the same
//! encoding). In the database, that store reads them when nothing
//! faster can; everything that writes is ours, for the rules below.
//!
//! Expired records are purged by us, in batches through the expiry index from
//! the migrations. The store's own SQLite sweep (`datetime(expiry_date) <
//! datetime('now')`) wraps the column in a function, so no index can serve it:
//! at a million rows it scans the whole table while holding SQLite's single
//! write lock. Ours compares the column itself, and deletes `PURGE_BATCH` rows
//! per statement so sign-ins (which write) wait for one batch at most.
//!
//! Session reads, the one query of every signed-in page, go through
//! `sqlite_readers` on the request's own thread when the database is a SQLite
//! file, and through the store (the pool) otherwise or when no reader can
//! answer at once.
//!
//! `save` only ever updates a record that still exists. The store's own save is
//! an insert-or-update, so a request that loaded a session before a sign-out
//! deleted it and saved after (a sliding refresh) brought the session back.
//! Here that save changes nothing and answers `SESSION_ENDED`; `session_layer`
//! then clears the cookie instead of sending it again. New records go through
//! `create`.
//!
//! The index (`user_sessions`): a record that carries the signed-in state gets
//! its index row in the same transaction that writes the record; a save moves
//! its `last_seen` in the same transaction as the record (once per refresh
//! interval); deleting the record deletes the row (`ON DELETE CASCADE`),
//! whichever path deletes it: sign-out, expiry, revocation, the purge.
//! Revocation deletes records by their public handle, so nothing outside this
//! module ever holds another session's id.

use super::record::{SignedIn, SIGNED_IN_KEY};
use super::{
    query_on,
    redis::{RedisError, RedisSessions},
    sqlite_readers::{SqliteReaders, TOKEN_HOLDER},
    Database, Pool,
};
use async_trait::async_trait;
use std::{sync::Arc, time::Duration};
use time::OffsetDateTime;
use tower_sessions::{
    session::{Id, Record},
    session_store, SessionStore,
};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// Rows deleted per statement by the purge.
pub const PURGE_BATCH: i64 = 2_000;

/// The table both backends keep records in (the store's own columns).
const TABLE: &str = "tower_sessions";

/// Updates a record only while it exists, in the store's own encoding
/// (MessagePack of the whole record) and expiry column.
const UPDATE_EXISTING: &str = "UPDATE tower_sessions SET data = $2, expiry_date = $3 WHERE id = $1";

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

const INSERT_RECORD: &str = "INSERT INTO tower_sessions (id, data, expiry_date) \
     VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING";

const INDEX_SESSION: &str = "INSERT INTO user_sessions \
     (session_id, handle, user_id, device, client, remember, signed_in_at, last_seen) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (session_id) DO UPDATE SET last_seen = excluded.last_seen";

const LIST_SESSIONS: &str =
    "SELECT s.handle, s.device, s.client, s.remember, s.signed_in_at, s.last_seen \
     FROM user_sessions s JOIN tower_sessions t ON t.id = s.session_id \
     WHERE s.user_id = $1 AND t.expiry_date > $2 \
     ORDER BY s.last_seen DESC, s.signed_in_at DESC";

const REVOKE_ONE: &str = "DELETE FROM tower_sessions WHERE id = \
     (SELECT session_id FROM user_sessions WHERE handle = $1 AND user_id = $2)";

const REVOKE_ALL_BUT: &str = "DELETE FROM tower_sessions WHERE id IN \
     (SELECT session_id FROM user_sessions WHERE user_id = $1 AND handle IS DISTINCT FROM $2)";

const DELETE_RECORD: &str = "DELETE FROM tower_sessions WHERE id = $1";

/// One batch of the purge. SQLite's finds the rows by `rowid` through the
/// covering expiry index; PostgreSQL has no `rowid`, and its index leads to
/// the primary key.
const PURGE_EXPIRED_SQLITE: &str = "DELETE FROM tower_sessions WHERE rowid IN \
     (SELECT rowid FROM tower_sessions WHERE expiry_date < $1 LIMIT $2)";
const PURGE_EXPIRED_POSTGRES: &str = "DELETE FROM tower_sessions WHERE id IN \
     (SELECT id FROM tower_sessions WHERE expiry_date < $1 LIMIT $2)";

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

fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    rmp_serde::to_vec(record).map_err(|error| session_store::Error::Encode(error.to_string()))
}

/// Writes or moves the index row of a record in `transaction`.
async fn index(
    transaction: &mut super::Transaction,
    id: &Id,
    state: &SignedIn,
) -> Result<(), sqlx::Error> {
    query_on!(transaction, |executor| sqlx::query(INDEX_SESSION)
        .bind(id.to_string())
        .bind(&state.handle)
        .bind(state.user_id)
        .bind(&state.device)
        .bind(&state.client)
        .bind(state.remember)
        .bind(state.signed_in_at)
        .bind(state.last_seen)
        .execute(executor)
        .await
        .map(|_| ()))
}

/// Where records live, and what reads them when no faster path can.
#[derive(Clone, Debug)]
enum Store {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
    Redis(RedisSessions),
}

/// Why the session store failed: its backend's error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Redis(#[from] RedisError),
}

impl StoreError {
    /// Whether the backend could not be reached (an outage), as opposed to an
    /// operation it refused.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(error) => super::is_unavailable(error),
            StoreError::Redis(error) => error.is_unavailable(),
        }
    }
}

/// How an outage reads in a `session_store::Error`, which carries only text.
const STORE_UNAVAILABLE: &str = "session store unavailable: ";

impl From<StoreError> for session_store::Error {
    fn from(error: StoreError) -> Self {
        if error.is_unavailable() {
            session_store::Error::Backend(format!("{STORE_UNAVAILABLE}{error}"))
        } else {
            session_store::Error::Backend(error.to_string())
        }
    }
}

/// Whether a session error means the store could not be reached.
pub fn session_store_unavailable(error: &tower_sessions::session::Error) -> bool {
    matches!(
        error,
        tower_sessions::session::Error::Store(session_store::Error::Backend(reason))
            if reason.starts_with(STORE_UNAVAILABLE)
    )
}

/// The application's session store.
#[derive(Clone, Debug)]
pub struct SessionBackend {
    /// The application's database: records and their index unless they are
    /// in Redis, and bearer tokens' holders always.
    database: Database,
    store: Store,
    /// For a SQLite file only: `None` for every other store and for an
    /// in-memory database, and then every read goes through the store.
    readers: Option<Arc<SqliteReaders>>,
}

impl SessionBackend {
    /// Records in the application's database. The table and its expiry index
    /// come from the migrations, which must have run.
    pub fn new(database: Database) -> Self {
        let (store, readers) = match database.pool() {
            Pool::Sqlite(pool) => (
                Store::Sqlite(SqliteStore::new(pool.clone())),
                SqliteReaders::for_file(pool.connect_options().get_filename(), READERS),
            ),
            Pool::Postgres(pool) => (
                Store::Postgres(
                    PostgresStore::new(pool.clone())
                        .with_schema_name("public")
                        .and_then(|store| store.with_table_name(TABLE))
                        .expect("fixed, valid identifiers"),
                ),
                None,
            ),
        };
        Self {
            database,
            store,
            readers: readers.map(Arc::new),
        }
    }

    /// Records in Redis; the database serves bearer tokens' holders.
    pub fn in_redis(database: Database, redis: RedisSessions) -> Self {
        Self {
            database,
            store: Store::Redis(redis),
            readers: None,
        }
    }

    /// The live sessions of `user_id` at `now`, most recently active first.
    pub async fn sessions_of(
        &self,
        user_id: i64,
        now: OffsetDateTime,
    ) -> Result<Vec<IndexedSession>, StoreError> {
        if let Store::Redis(redis) = &self.store {
            return Ok(redis.sessions_of(user_id, now).await?);
        }
        Ok(query_on!(&self.database, |executor| sqlx::query_as(
            LIST_SESSIONS
        )
        .bind(user_id)
        .bind(now)
        .fetch_all(executor)
        .await)?)
    }

    /// Ends the session of `user_id` named `handle`; `false` when the user has
    /// no such session (whether or not another user has).
    pub async fn revoke(&self, user_id: i64, handle: &str) -> Result<bool, StoreError> {
        if let Store::Redis(redis) = &self.store {
            return Ok(redis.revoke(user_id, handle).await?);
        }
        Ok(query_on!(&self.database, |executor| sqlx::query(
            REVOKE_ONE
        )
        .bind(handle)
        .bind(user_id)
        .execute(executor)
        .await
        .map(|done| done.rows_affected() > 0))?)
    }

    /// Ends every session of `user_id` except the one named `keep` (all of
    /// them when `None`), and returns how many ended.
    pub async fn revoke_all_but(
        &self,
        user_id: i64,
        keep: Option<&str>,
    ) -> Result<u64, StoreError> {
        if let Store::Redis(redis) = &self.store {
            return Ok(redis.revoke_all_but(user_id, keep).await?);
        }
        Ok(query_on!(&self.database, |executor| sqlx::query(
            REVOKE_ALL_BUT
        )
        .bind(user_id)
        .bind(keep)
        .execute(executor)
        .await
        .map(|done| done.rows_affected()))?)
    }

    /// Deletes every record that expired before `now`, `PURGE_BATCH` rows per
    /// statement, and returns how many went. Redis expires records itself
    /// (and the index drops their entries when it is next read): nothing to do.
    pub async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        if self.expire_by_themselves() {
            return Ok(0);
        }
        let purge = match self.database.pool() {
            Pool::Sqlite(_) => PURGE_EXPIRED_SQLITE,
            Pool::Postgres(_) => PURGE_EXPIRED_POSTGRES,
        };
        let mut deleted = 0;
        loop {
            let batch = query_on!(&self.database, |executor| sqlx::query(purge)
                .bind(now)
                .bind(PURGE_BATCH)
                .execute(executor)
                .await
                .map(|done| done.rows_affected()))?;
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
        query_on!(&self.database, |executor| sqlx::query_as(TOKEN_HOLDER)
            .bind(user_id)
            .fetch_optional(executor)
            .await)
    }

    /// `Ok` when the database and the session store both answer now; the
    /// name of the first that does not.
    pub async fn ready(&self) -> Result<(), &'static str> {
        if !self.database.health().check().await {
            return Err("database");
        }
        if let Store::Redis(redis) = &self.store {
            if !redis.health().check().await {
                return Err("redis");
            }
        }
        Ok(())
    }

    /// Whether the store deletes expired records itself (Redis), so that
    /// `purge_expired` has nothing to do.
    pub fn expire_by_themselves(&self) -> bool {
        matches!(self.store, Store::Redis(_))
    }

    /// Closes the store's own connections (the database is closed by its owner).
    pub async fn close(&self) {
        if let Store::Redis(redis) = &self.store {
            redis.close().await;
        }
    }

    /// A read through the tower-sessions-sqlx-store store, inside the
    /// database's health: refused at once while the database is down, and a
    /// backend failure (the store's errors are text) counts as an outage,
    /// which the health then checks.
    async fn store_load(
        &self,
        load: impl std::future::Future<Output = session_store::Result<Option<Record>>>,
    ) -> session_store::Result<Option<Record>> {
        let health = self.database.health();
        if health.is_down() {
            return Err(StoreError::Database(super::unavailable_error()).into());
        }
        match load.await {
            Err(session_store::Error::Backend(reason)) => {
                health.suspect();
                Err(session_store::Error::Backend(format!(
                    "{STORE_UNAVAILABLE}{reason}"
                )))
            }
            other => other,
        }
    }

    /// Writes a record in the database with its index row: a new one
    /// (`create`) or one that still exists; `false` when nothing was written.
    async fn write_in_database(
        &self,
        record: &Record,
        data: Vec<u8>,
        create: bool,
        state: Option<&SignedIn>,
    ) -> Result<bool, sqlx::Error> {
        let statement = if create {
            INSERT_RECORD
        } else {
            UPDATE_EXISTING
        };
        let mut transaction = self.database.begin().await?;
        let written = query_on!(&mut transaction, |executor| sqlx::query(statement)
            .bind(record.id.to_string())
            .bind(&data)
            .bind(record.expiry_date)
            .execute(executor)
            .await
            .map(|done| done.rows_affected()))?;
        if written == 0 {
            return Ok(false);
        }
        if let Some(state) = state {
            index(&mut transaction, &record.id, state).await?;
        }
        transaction.commit().await?;
        Ok(true)
    }

    /// Writes a record and its index entry wherever they live; `false` when
    /// nothing was written (`create`: the id is taken; otherwise: the record
    /// is gone).
    async fn write(&self, record: &Record, create: bool) -> session_store::Result<bool> {
        let data = encode(record)?;
        let state = signed_in(record);
        Ok(match &self.store {
            Store::Redis(redis) => redis
                .write(&record.id, data, record.expiry_date, create, state.as_ref())
                .await
                .map_err(StoreError::from)?,
            Store::Sqlite(_) | Store::Postgres(_) => self
                .write_in_database(record, data, create, state.as_ref())
                .await
                .map_err(StoreError::from)?,
        })
    }
}

#[async_trait]
impl SessionStore for SessionBackend {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A new id until one is free (a collision of 128 random bits is
        // theoretical, but an existing record must never be overwritten).
        while !self.write(record, true).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        if self.write(record, false).await? {
            Ok(())
        } else {
            Err(session_store::Error::Backend(SESSION_ENDED.into()))
        }
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let data = match &self.store {
            Store::Redis(redis) => redis.read(session_id).await.map_err(StoreError::from)?,
            Store::Sqlite(store) => match self
                .readers
                .as_ref()
                .and_then(|readers| readers.read(&session_id.to_string()))
            {
                Some(data) => data,
                None => return self.store_load(store.load(session_id)).await,
            },
            Store::Postgres(store) => return self.store_load(store.load(session_id)).await,
        };
        let Some(data) = data else { return Ok(None) };
        let record: Record = rmp_serde::from_slice(&data)
            .map_err(|error| session_store::Error::Decode(error.to_string()))?;
        // As the stores' own reads: a record past its expiry is not there.
        Ok((record.expiry_date > OffsetDateTime::now_utc()).then_some(record))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        if let Store::Redis(redis) = &self.store {
            // The index entry goes too, when the record says whose it is.
            let state = match redis.read(session_id).await.map_err(StoreError::from)? {
                Some(data) => rmp_serde::from_slice::<Record>(&data)
                    .ok()
                    .and_then(|record| signed_in(&record)),
                None => None,
            };
            redis
                .delete(session_id, state.as_ref())
                .await
                .map_err(StoreError::from)?;
            return Ok(());
        }
        // The index row goes with the record (ON DELETE CASCADE).
        query_on!(&self.database, |executor| sqlx::query(DELETE_RECORD)
            .bind(session_id.to_string())
            .execute(executor)
            .await
            .map(|_| ()))
        .map_err(|error| StoreError::from(error).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use time::Duration as Span;

    use crate::server::store::scratch::{ScratchDatabase, ScratchPrefix};

    /// In memory: every read goes through the pool.
    async fn backend() -> SessionBackend {
        let backend = SessionBackend::new(Database::in_memory().await);
        assert!(backend.readers.is_none());
        backend
    }

    /// On a file, as served: reads go through the SQLite readers.
    async fn file_backend() -> (tempfile::TempDir, SessionBackend) {
        let folder = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", folder.path().join("app.db").display());
        let database = Database::connect(&url).await.unwrap();
        database.migrate().await.unwrap();
        let backend = SessionBackend::new(database);
        assert!(backend.readers.is_some());
        (folder, backend)
    }

    /// Every kind of backend the seam serves, each on a fresh database:
    /// SQLite in memory and on a file, PostgreSQL, and Redis (beside SQLite).
    struct Backends {
        all: Vec<SessionBackend>,
        _folder: tempfile::TempDir,
        _scratch: ScratchDatabase,
        _prefix: ScratchPrefix,
    }

    impl Backends {
        /// Those that keep records in the database, which the purge deletes.
        fn purged(&self) -> impl Iterator<Item = &SessionBackend> {
            self.all
                .iter()
                .filter(|backend| !backend.expire_by_themselves())
        }
    }

    async fn every_backend() -> Backends {
        let (folder, on_file) = file_backend().await;
        let scratch = ScratchDatabase::create().await;
        let database = Database::connect(scratch.url()).await.unwrap();
        database.migrate().await.unwrap();
        let prefix = ScratchPrefix::create().await;
        let redis = RedisSessions::connect(prefix.url(), prefix.prefix())
            .await
            .unwrap();
        Backends {
            all: vec![
                backend().await,
                on_file,
                SessionBackend::new(database),
                SessionBackend::in_redis(Database::in_memory().await, redis),
            ],
            _folder: folder,
            _scratch: scratch,
            _prefix: prefix,
        }
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
        let backends = every_backend().await;
        for backend in backends.purged() {
            let now = OffsetDateTime::now_utc();
            let mut expired = Vec::new();
            // More than one batch, so the loop is exercised.
            for n in 0..(PURGE_BATCH + 5) {
                expired.push(stored(backend, now - Span::seconds(n + 1)).await);
            }
            let live = stored(backend, now + Span::hours(1)).await;

            assert_eq!(
                backend.purge_expired(now).await.unwrap(),
                PURGE_BATCH as u64 + 5
            );
            assert_eq!(count(backend, "tower_sessions").await, 1);
            assert!(backend.load(&live).await.unwrap().is_some());
            assert!(backend.load(&expired[0]).await.unwrap().is_none());
        }
    }

    #[tokio::test]
    async fn purge_reads_the_expiry_index_not_the_whole_table() {
        let backend = backend().await;
        let Pool::Sqlite(pool) = backend.database.pool() else {
            unreachable!("in memory is SQLite")
        };
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!(
            "EXPLAIN QUERY PLAN {}",
            PURGE_EXPIRED_SQLITE.replace("DELETE FROM", "SELECT rowid FROM")
        ))
        .bind(OffsetDateTime::now_utc())
        .bind(PURGE_BATCH)
        .fetch_all(pool)
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
        let backends = every_backend().await;
        for backend in backends.purged() {
            let now = OffsetDateTime::now_utc();
            let id = stored(backend, now + Span::milliseconds(1_500)).await;
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
        let backends = every_backend().await;
        for backend in &backends.all {
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

            let expired = stored(backend, OffsetDateTime::now_utc() - Span::seconds(1)).await;
            assert_eq!(backend.load(&expired).await.unwrap(), None);

            backend.delete(&record.id).await.unwrap();
            assert_eq!(backend.load(&record.id).await.unwrap(), None);
        }
    }

    #[tokio::test]
    async fn a_save_never_brings_back_a_deleted_record() {
        let backends = every_backend().await;
        for backend in &backends.all {
            let id = stored(backend, OffsetDateTime::now_utc() + Span::hours(1)).await;
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
        let backends = every_backend().await;
        for backend in &backends.all {
            let id = stored(backend, OffsetDateTime::now_utc() + Span::hours(1)).await;
            let mut loaded = backend.load(&id).await.unwrap().unwrap();
            loaded.expiry_date += Span::hours(1);
            backend.save(&loaded).await.unwrap();
            assert_eq!(backend.load(&id).await.unwrap(), Some(loaded));
        }
    }

    async fn user(backend: &SessionBackend, name: &str) -> i64 {
        query_on!(&backend.database, |executor| sqlx::query_scalar(
            "INSERT INTO users (username, username_key, password_hash) VALUES ($1, $1, 'x') \
             RETURNING id"
        )
        .bind(name)
        .fetch_one(executor)
        .await)
        .unwrap()
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

    async fn count(backend: &SessionBackend, table: &str) -> i64 {
        let query = format!("SELECT count(*) FROM {table}");
        query_on!(&backend.database, |executor| sqlx::query_scalar(&query)
            .fetch_one(executor)
            .await)
        .unwrap()
    }

    async fn index_rows(backend: &SessionBackend) -> i64 {
        match &backend.store {
            Store::Redis(redis) => redis.index_entries().await,
            _ => count(backend, "user_sessions").await,
        }
    }

    #[tokio::test]
    async fn redis_expires_a_record_at_its_own_expiry() {
        let backends = every_backend().await;
        let redis = backends
            .all
            .iter()
            .find_map(|backend| match &backend.store {
                Store::Redis(redis) => Some(redis),
                _ => None,
            });
        let redis = redis.unwrap();
        let backend = backends.all.last().unwrap();
        let expiry = OffsetDateTime::now_utc() + Span::hours(1);
        let id = stored(backend, expiry).await;
        assert_eq!(redis.expires_at(&id).await, expiry.unix_timestamp());
        let expired = stored(backend, OffsetDateTime::now_utc() - Span::seconds(1)).await;
        assert!(redis.read(&expired).await.unwrap().is_none());
    }

    fn handles(sessions: &[IndexedSession]) -> Vec<&str> {
        sessions
            .iter()
            .map(|session| session.handle.as_str())
            .collect()
    }

    #[tokio::test]
    async fn a_signed_in_record_is_indexed_and_anonymous_ones_are_not() {
        let backends = every_backend().await;
        for backend in &backends.all {
            let alice = user(backend, "alice").await;
            stored(backend, OffsetDateTime::now_utc() + Span::hours(1)).await;
            assert_eq!(index_rows(backend).await, 0);
            signed_in_record(backend, alice, "a1").await;
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
    }

    #[tokio::test]
    async fn a_save_moves_the_index_with_the_record_and_every_deletion_removes_it() {
        let backends = every_backend().await;
        for backend in &backends.all {
            let alice = user(backend, "alice").await;
            let mut record = signed_in_record(backend, alice, "a1").await;
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
            assert_eq!(index_rows(backend).await, 0);
            signed_in_record(backend, alice, "a2").await;
            assert!(backend.revoke(alice, "a2").await.unwrap());
            assert_eq!(index_rows(backend).await, 0);
            signed_in_record(backend, alice, "a3").await;
            if backend.expire_by_themselves() {
                // Redis deletes the record at its expiry; the index then
                // drops its entry when it is next read.
                let later = now + Span::hours(2);
                assert!(backend.sessions_of(alice, later).await.unwrap().is_empty());
                continue;
            }
            assert_eq!(
                backend.purge_expired(now + Span::hours(2)).await.unwrap(),
                1
            );
            assert_eq!(index_rows(backend).await, 0);
        }
    }

    #[tokio::test]
    async fn revocation_reaches_only_the_users_own_sessions() {
        let backends = every_backend().await;
        for backend in &backends.all {
            let (alice, bob) = (user(backend, "alice").await, user(backend, "bob").await);
            let kept = signed_in_record(backend, alice, "a1").await;
            let other = signed_in_record(backend, alice, "a2").await;
            let third = signed_in_record(backend, alice, "a3").await;
            let bobs = signed_in_record(backend, bob, "b1").await;

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
    }

    #[tokio::test]
    async fn a_refresh_save_after_a_revocation_brings_back_neither_record_nor_row() {
        let backends = every_backend().await;
        for backend in &backends.all {
            let alice = user(backend, "alice").await;
            let record = signed_in_record(backend, alice, "a1").await;
            backend.revoke(alice, "a1").await.unwrap();
            assert!(backend.save(&record).await.is_err());
            assert_eq!(index_rows(backend).await, 0);
            assert!(backend.load(&record.id).await.unwrap().is_none());
        }
    }

    #[tokio::test]
    async fn the_list_leaves_out_records_past_their_store_expiry() {
        let backends = every_backend().await;
        for backend in &backends.all {
            let alice = user(backend, "alice").await;
            signed_in_record(backend, alice, "a1").await;
            let later = OffsetDateTime::now_utc() + Span::hours(2);
            assert!(backend.sessions_of(alice, later).await.unwrap().is_empty());
        }
    }

    #[tokio::test]
    async fn the_list_reads_the_users_index_not_the_whole_table() {
        let backend = backend().await;
        let Pool::Sqlite(pool) = backend.database.pool() else {
            unreachable!("in memory is SQLite")
        };
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {LIST_SESSIONS}"))
                .bind(1)
                .bind(OffsetDateTime::now_utc())
                .fetch_all(pool)
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
