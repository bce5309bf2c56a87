//! Session records in the application's database (SQLite or PostgreSQL), in
//! tower-sessions-sqlx-store's table (`tower_sessions`, its columns and its
//! encoding), with the index in `user_sessions`.
//!
//! That store reads records when nothing faster can; everything that writes
//! is ours, for the rules of `sessions`. Session reads, the one query of every
//! signed-in page, go through `sqlite_readers` on the request's own thread
//! when the database is a SQLite file, and through the store (the pool)
//! otherwise or when no reader can answer at once.
//!
//! The index row is written in the same transaction as its record, and
//! deleted with it by the database (`ON DELETE CASCADE`), whichever path
//! deletes the record.
//!
//! Expired records are deleted by the purge, in batches through the expiry
//! index from the migrations. The store's own SQLite sweep
//! (`datetime(expiry_date) < datetime('now')`) wraps the column in a
//! function, so no index can serve it: at a million rows it scans the whole
//! table while holding SQLite's single write lock. Ours compares the column
//! itself, and deletes `PURGE_BATCH` rows per statement so sign-ins (which
//! write) wait for one batch at most.

use super::{
    decode, encode, id_hash, unchanged, BackendError, EndedSession, IndexedSession, Replaced,
    RetiredId, Rotation, SessionBackend, StoreError, Write, Written, ENDED_KEPT_MAX,
    ENDED_KEPT_SECS,
};
use crate::server::store::{
    health::Health, query_on, record::SignedIn, Database, Pool, SerialLock, Transaction,
};
use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::{
    session::{Id, Record},
    session_store, SessionStore,
};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// Rows deleted per statement by the purge.
pub const PURGE_BATCH: i64 = 2_000;

/// The table both engines keep records in (the store's own columns).
const TABLE: &str = "tower_sessions";

const INSERT_RECORD: &str = "INSERT INTO tower_sessions (id, data, expiry_date) \
     VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING";

/// Updates a record only while it exists.
const UPDATE_EXISTING: &str = "UPDATE tower_sessions SET data = $2, expiry_date = $3 WHERE id = $1";

const INDEX_SESSION: &str = "INSERT INTO user_sessions \
     (session_id, handle, user_id, device, client, remember, signed_in_at, last_seen) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (session_id) DO UPDATE \
     SET last_seen = excluded.last_seen, remember = excluded.remember";

pub(super) const LIST_SESSIONS: &str =
    "SELECT s.handle, s.device, s.client, s.remember, s.signed_in_at, s.last_seen \
     FROM user_sessions s JOIN tower_sessions t ON t.id = s.session_id \
     WHERE s.user_id = $1 AND t.expiry_date > $2 \
     ORDER BY s.last_seen DESC, s.signed_in_at DESC";

const REVOKE_ONE: &str = "DELETE FROM tower_sessions WHERE id = \
     (SELECT session_id FROM user_sessions WHERE handle = $1 AND user_id = $2)";

const REVOKE_ALL_BUT: &str = "DELETE FROM tower_sessions WHERE id IN \
     (SELECT session_id FROM user_sessions WHERE user_id = $1 AND handle IS DISTINCT FROM $2)";

const DELETE_RECORD: &str = "DELETE FROM tower_sessions WHERE id = $1";

/// The user's live sessions other than `$2` past the newest `$4`: those a
/// new sign-in ends to stay within the limit, least recently active first
/// once reversed. (`LIMIT $5` is "all": SQLite has no `LIMIT ALL`.)
const PAST_THE_LIMIT: &str =
    "SELECT s.session_id, s.device, s.client, s.signed_in_at, s.last_seen \
     FROM user_sessions s JOIN tower_sessions t ON t.id = s.session_id \
     WHERE s.user_id = $1 AND s.session_id <> $2 AND t.expiry_date > $3 \
     ORDER BY s.last_seen DESC, s.signed_in_at DESC LIMIT $5 OFFSET $4";

const NOTE_ENDED: &str = "INSERT INTO ended_sessions \
     (user_id, device, client, signed_in_at, last_seen, ended_at, reason) \
     VALUES ($1, $2, $3, $4, $5, $6, 'session_limit')";

const ENDED_OF: &str = "SELECT device, client, signed_in_at, last_seen, ended_at \
     FROM ended_sessions WHERE user_id = $1 AND ended_at >= $2 \
     ORDER BY ended_at DESC LIMIT $3";

const PURGE_ENDED: &str = "DELETE FROM ended_sessions WHERE ended_at < $1";

/// Takes the row lock of a record (a write that changes nothing), so that a
/// rotation and a save of the same record run one after the other, each
/// taking the record before its index row: in one order, no deadlock.
/// Locks a record's row until the transaction ends (a write racing it
/// waits) and reads it, in one statement on both backends.
const LOCK_AND_READ: &str =
    "UPDATE tower_sessions SET expiry_date = expiry_date WHERE id = $1 RETURNING data";

/// Moves a session's index row to its new id: the statement only one
/// rotation of an id can win (the row is locked by the first, and no longer
/// matches for the others).
const MOVE_INDEX: &str = "UPDATE user_sessions SET session_id = $2 WHERE session_id = $1";

const RETIRE: &str = "INSERT INTO retired_session_ids \
     (id_hash, handle, user_id, successor_id, retired_at) \
     SELECT $1, handle, user_id, $2, $3 FROM user_sessions WHERE session_id = $2";

const SUCCESSOR_OF: &str = "SELECT successor_id FROM retired_session_ids WHERE id_hash = $1";

const RETIRED_ID: &str = "SELECT successor_id, retired_at, user_id, handle \
     FROM retired_session_ids WHERE id_hash = $1";

/// A retired id as `RETIRED_ID` reads it.
#[derive(sqlx::FromRow)]
struct RetiredRow {
    successor_id: String,
    retired_at: i64,
    user_id: i64,
    handle: String,
}

/// A session past the limit, as `PAST_THE_LIMIT` reads it.
#[derive(sqlx::FromRow)]
struct PastTheLimit {
    session_id: String,
    device: String,
    client: String,
    signed_in_at: i64,
    last_seen: i64,
}

/// One batch of the purge. SQLite's finds the rows by `rowid` through the
/// covering expiry index; PostgreSQL has no `rowid`, and its index leads to
/// the primary key.
pub(super) const PURGE_EXPIRED_SQLITE: &str = "DELETE FROM tower_sessions WHERE rowid IN \
     (SELECT rowid FROM tower_sessions WHERE expiry_date < $1 LIMIT $2)";
const PURGE_EXPIRED_POSTGRES: &str = "DELETE FROM tower_sessions WHERE id IN \
     (SELECT id FROM tower_sessions WHERE expiry_date < $1 LIMIT $2)";

/// The tower-sessions-sqlx-store store of the database's engine.
#[derive(Clone, Debug)]
enum SqlStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// Records and their index in the application's database.
#[derive(Clone, Debug)]
pub struct SqlSessions {
    database: Database,
    store: SqlStore,
}

impl SqlSessions {
    /// The table and its expiry index come from the migrations, which must
    /// have run.
    pub fn new(database: Database) -> Self {
        let store = match database.pool() {
            Pool::Sqlite(pool) => SqlStore::Sqlite(SqliteStore::new(pool.clone())),
            Pool::Postgres(pool) => SqlStore::Postgres(
                PostgresStore::new(pool.clone())
                    .with_schema_name("public")
                    .and_then(|store| store.with_table_name(TABLE))
                    .expect("fixed, valid identifiers"),
            ),
        };
        Self { database, store }
    }

    /// What became of `old`, which another rotation (or an ending) took first.
    async fn rotated_before(&self, old: &Id) -> Result<Rotation, StoreError> {
        let successor: Option<String> =
            query_on!(&self.database, |executor| sqlx::query_scalar(SUCCESSOR_OF)
                .bind(id_hash(old))
                .fetch_optional(executor)
                .await)?;
        Ok(match successor.and_then(|id| id.parse().ok()) {
            Some(successor) => Rotation::AlreadyRotated { successor },
            None => Rotation::Gone,
        })
    }

    /// A read through tower-sessions-sqlx-store, inside the database's
    /// health: refused at once while the database is down, and a failure (the
    /// store's errors are text) counts as an outage, which the health then
    /// checks.
    async fn store_read(&self, id: &Id) -> Result<Option<Record>, StoreError> {
        let health = self.database.health();
        if health.is_down() {
            return Err(crate::server::store::unavailable_error().into());
        }
        let read = match &self.store {
            SqlStore::Sqlite(store) => store.load(id).await,
            SqlStore::Postgres(store) => store.load(id).await,
        };
        match read {
            Ok(record) => Ok(record),
            Err(session_store::Error::Backend(reason)) => {
                health.suspect();
                Err(StoreError::Unavailable(BackendError::Text(reason)))
            }
            Err(error) => Err(StoreError::Encoding(error.to_string())),
        }
    }
}

/// The record `id`, its row locked in `transaction` ([`LOCK_AND_READ`]);
/// `None` when it is gone.
async fn lock_and_read(
    transaction: &mut Transaction,
    id: &str,
) -> Result<Option<Record>, StoreError> {
    let stored: Option<Vec<u8>> = query_on!(transaction, |executor| {
        sqlx::query_scalar(LOCK_AND_READ)
            .bind(id)
            .fetch_optional(executor)
            .await
    })?;
    stored.map(|data| decode(&data)).transpose()
}

/// Writes the index row of the signed-in session `id`; `Ended` when its
/// user was deleted while the request ran (`end_user`).
async fn index(transaction: &mut Transaction, id: &Id, state: &SignedIn) -> Result<(), StoreError> {
    let indexed = query_on!(transaction, |executor| sqlx::query(INDEX_SESSION)
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
        .map(|_| ()));
    match indexed {
        Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => {
            Err(StoreError::Ended)
        }
        indexed => Ok(indexed?),
    }
}

#[async_trait]
impl SessionBackend for SqlSessions {
    /// One transaction: the record (`INSERT … ON CONFLICT DO NOTHING` to
    /// create, `UPDATE` of a row that still exists), its index row, and on a
    /// signed-in create the sessions past the limit with their notes. That
    /// transaction takes its turn per user (SQLite's write lock; on
    /// PostgreSQL an advisory lock on the user), so concurrent sign-ins
    /// cannot each see room for one more.
    async fn write(
        &self,
        record: &Record,
        signed_in: Option<&SignedIn>,
        mode: Write,
    ) -> Result<Written, StoreError> {
        let data = encode(record)?;
        let (statement, limit) = match (mode, signed_in) {
            (Write::Create { max_per_user, now }, Some(state)) if max_per_user > 0 => {
                (INSERT_RECORD, Some((state.user_id, max_per_user, now)))
            }
            (Write::Create { .. }, _) => (INSERT_RECORD, None),
            (Write::Update, _) => (UPDATE_EXISTING, None),
        };
        let mut transaction = match limit {
            Some((user_id, ..)) => {
                self.database
                    .begin_serialized(SerialLock::SessionsOf(user_id))
                    .await?
            }
            None => self.database.begin().await?,
        };
        let written = query_on!(&mut transaction, |executor| sqlx::query(statement)
            .bind(record.id.to_string())
            .bind(&data)
            .bind(record.expiry_date)
            .execute(executor)
            .await
            .map(|done| done.rows_affected()))?;
        if written == 0 {
            return Ok(Written::Nothing);
        }
        if let Some(state) = signed_in {
            index(&mut transaction, &record.id, state).await?;
        }
        let made_room = match limit {
            Some((user_id, max_per_user, now)) => {
                make_room(&mut transaction, &record.id, user_id, max_per_user, now).await?
            }
            None => Vec::new(),
        };
        transaction.commit().await?;
        Ok(Written::Stored { made_room })
    }

    /// One transaction: the record's row lock (a write racing it waits),
    /// the comparison with `expected`, the update and its index row.
    async fn replace(
        &self,
        record: &Record,
        signed_in: Option<&SignedIn>,
        expected: &Record,
    ) -> Result<Replaced, StoreError> {
        let data = encode(record)?;
        let id = record.id.to_string();
        let mut transaction = self.database.begin().await?;
        match lock_and_read(&mut transaction, &id).await? {
            Some(stored) if unchanged(expected, &stored) => {}
            Some(_) => return Ok(Replaced::Changed),
            None => return Ok(Replaced::Gone),
        }
        query_on!(&mut transaction, |executor| sqlx::query(UPDATE_EXISTING)
            .bind(&id)
            .bind(&data)
            .bind(record.expiry_date)
            .execute(executor)
            .await
            .map(|_| ()))?;
        if let Some(state) = signed_in {
            index(&mut transaction, &record.id, state).await?;
        }
        transaction.commit().await?;
        Ok(Replaced::Done)
    }

    /// One transaction: the old record's row lock (a second rotation of it
    /// waits, then finds it gone and reads the winner's successor), the new
    /// record, the index row moved to it, the old record deleted and its
    /// hash kept.
    async fn rotate(
        &self,
        old: &Id,
        read: &Record,
        record: &Record,
        _signed_in: &SignedIn,
        now: i64,
        _retired_until: i64,
    ) -> Result<Rotation, StoreError> {
        let data = encode(record)?;
        let new = record.id.to_string();
        let mut transaction = self.database.begin().await?;
        // Locked: no write lands on it until this commits.
        match lock_and_read(&mut transaction, &old.to_string()).await? {
            Some(stored) if unchanged(read, &stored) => {}
            Some(_) => return Ok(Rotation::Changed),
            None => {
                drop(transaction);
                return self.rotated_before(old).await;
            }
        }
        let inserted = query_on!(&mut transaction, |executor| sqlx::query(INSERT_RECORD)
            .bind(&new)
            .bind(&data)
            .bind(record.expiry_date)
            .execute(executor)
            .await
            .map(|done| done.rows_affected()))?;
        if inserted == 0 {
            return Ok(Rotation::IdTaken);
        }
        let moved = query_on!(&mut transaction, |executor| sqlx::query(MOVE_INDEX)
            .bind(old.to_string())
            .bind(&new)
            .execute(executor)
            .await
            .map(|done| done.rows_affected()))?;
        if moved == 0 {
            // An anonymous record: nothing indexed to move.
            return Ok(Rotation::Gone);
        }
        query_on!(&mut transaction, |executor| sqlx::query(DELETE_RECORD)
            .bind(old.to_string())
            .execute(executor)
            .await
            .map(|_| ()))?;
        query_on!(&mut transaction, |executor| sqlx::query(RETIRE)
            .bind(id_hash(old))
            .bind(&new)
            .bind(now)
            .execute(executor)
            .await
            .map(|_| ()))?;
        transaction.commit().await?;
        Ok(Rotation::Rotated)
    }

    /// The row of a retired id: deleted with its session (`ON DELETE
    /// CASCADE` from the index row).
    async fn retired_id(&self, id: &Id) -> Result<Option<RetiredId>, StoreError> {
        let row: Option<RetiredRow> =
            query_on!(&self.database, |executor| sqlx::query_as(RETIRED_ID)
                .bind(id_hash(id))
                .fetch_optional(executor)
                .await)?;
        Ok(row.and_then(|row| {
            Some(RetiredId {
                successor: row.successor_id.parse().ok()?,
                retired_at: row.retired_at,
                user_id: row.user_id,
                handle: row.handle,
            })
        }))
    }

    async fn ended_sessions_of(
        &self,
        user_id: i64,
        since: i64,
    ) -> Result<Vec<EndedSession>, StoreError> {
        Ok(query_on!(&self.database, |executor| sqlx::query_as(
            ENDED_OF
        )
        .bind(user_id)
        .bind(since)
        .bind(ENDED_KEPT_MAX as i64)
        .fetch_all(executor)
        .await)?)
    }

    async fn read(&self, id: &Id) -> Result<Option<Record>, StoreError> {
        let on_this_thread = self
            .database
            .readers()
            .and_then(|readers| readers.read(&id.to_string()));
        match on_this_thread {
            Some(Some(data)) => decode(&data).map(Some),
            Some(None) => Ok(None),
            None => self.store_read(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> Result<(), StoreError> {
        // The index row goes with the record (ON DELETE CASCADE).
        Ok(query_on!(&self.database, |executor| sqlx::query(
            DELETE_RECORD
        )
        .bind(id.to_string())
        .execute(executor)
        .await
        .map(|_| ()))?)
    }

    async fn sessions_of(
        &self,
        user_id: i64,
        now: OffsetDateTime,
    ) -> Result<Vec<IndexedSession>, StoreError> {
        Ok(query_on!(&self.database, |executor| sqlx::query_as(
            LIST_SESSIONS
        )
        .bind(user_id)
        .bind(now)
        .fetch_all(executor)
        .await)?)
    }

    async fn revoke(&self, user_id: i64, handle: &str) -> Result<bool, StoreError> {
        Ok(query_on!(&self.database, |executor| sqlx::query(
            REVOKE_ONE
        )
        .bind(handle)
        .bind(user_id)
        .execute(executor)
        .await
        .map(|done| done.rows_affected() > 0))?)
    }

    async fn revoke_all_but(&self, user_id: i64, keep: Option<&str>) -> Result<u64, StoreError> {
        Ok(query_on!(&self.database, |executor| sqlx::query(
            REVOKE_ALL_BUT
        )
        .bind(user_id)
        .bind(keep)
        .execute(executor)
        .await
        .map(|done| done.rows_affected()))?)
    }

    /// The user's row, which every index row refers to, goes next; until it
    /// has, a sign-in may still index a session, and deleting the row fails:
    /// the caller ends the sessions again and retries. The notes go with the
    /// row (`ON DELETE CASCADE`).
    async fn end_user(&self, user_id: i64) -> Result<u64, StoreError> {
        self.revoke_all_but(user_id, None).await
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let purge = match self.database.pool() {
            Pool::Sqlite(_) => PURGE_EXPIRED_SQLITE,
            Pool::Postgres(_) => PURGE_EXPIRED_POSTGRES,
        };
        let notes_before = now.unix_timestamp() - ENDED_KEPT_SECS;
        query_on!(&self.database, |executor| sqlx::query(PURGE_ENDED)
            .bind(notes_before)
            .execute(executor)
            .await
            .map(|_| ()))?;
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

    fn health(&self) -> &Health {
        self.database.health()
    }
}

/// Ends `user_id`'s live sessions other than `new` past the newest
/// `max_per_user - 1`, noting each, inside the write's transaction; the
/// ended ones, least recently active first.
async fn make_room(
    transaction: &mut Transaction,
    new: &Id,
    user_id: i64,
    max_per_user: usize,
    now: i64,
) -> Result<Vec<EndedSession>, StoreError> {
    let keep = i64::try_from(max_per_user - 1).unwrap_or(i64::MAX);
    let past: Vec<PastTheLimit> =
        query_on!(&mut *transaction, |executor| sqlx::query_as(PAST_THE_LIMIT)
            .bind(user_id)
            .bind(new.to_string())
            .bind(crate::clock::utc(now))
            .bind(keep)
            .bind(i64::MAX)
            .fetch_all(executor)
            .await)?;
    let mut ended = Vec::with_capacity(past.len());
    for session in past.into_iter().rev() {
        // The index row goes with the record (ON DELETE CASCADE).
        query_on!(&mut *transaction, |executor| sqlx::query(DELETE_RECORD)
            .bind(&session.session_id)
            .execute(executor)
            .await
            .map(|_| ()))?;
        query_on!(&mut *transaction, |executor| sqlx::query(NOTE_ENDED)
            .bind(user_id)
            .bind(&session.device)
            .bind(&session.client)
            .bind(session.signed_in_at)
            .bind(session.last_seen)
            .bind(now)
            .execute(executor)
            .await
            .map(|_| ()))?;
        ended.push(EndedSession {
            device: session.device,
            client: session.client,
            signed_in_at: session.signed_in_at,
            last_seen: session.last_seen,
            ended_at: now,
        });
    }
    Ok(ended)
}
