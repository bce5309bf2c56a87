//! The store-agnostic suite: every rule of the seam, proven the same way on
//! every backend (SQLite in memory and on a file, PostgreSQL, Redis).

use super::*;
use crate::server::store::{
    query_on,
    scratch::{ScratchDatabase, ScratchPrefix},
    sessions::sql::{LIST_SESSIONS, PURGE_BATCH, PURGE_EXPIRED_SQLITE},
    sqlite_readers::READERS,
    Database, Pool,
};
use std::collections::HashMap;
use time::Duration as Span;

/// One backend under test, with what the tests look at beside it.
struct Subject {
    sessions: Sessions,
    /// The application's database (the records' too, unless in Redis).
    database: Database,
    redis: Option<RedisSessions>,
}

impl std::ops::Deref for Subject {
    type Target = Sessions;
    fn deref(&self) -> &Sessions {
        &self.sessions
    }
}

impl Subject {
    fn in_database(database: Database) -> Self {
        Self {
            sessions: Sessions::new(SqlSessions::new(database.clone())),
            database,
            redis: None,
        }
    }

    fn in_redis(database: Database, redis: RedisSessions) -> Self {
        Self {
            sessions: Sessions::new(redis.clone()),
            database,
            redis: Some(redis),
        }
    }
}

/// In memory: every read goes through the pool.
async fn backend() -> Subject {
    let backend = Subject::in_database(Database::in_memory().await);
    assert!(backend.database.readers().is_none());
    backend
}

/// On a file, as served: reads go through the SQLite readers.
async fn file_backend() -> (tempfile::TempDir, Subject) {
    let folder = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", folder.path().join("app.db").display());
    let database = Database::connect(&url).await.unwrap();
    database.migrate().await.unwrap();
    let backend = Subject::in_database(database);
    assert!(backend.database.readers().is_some());
    (folder, backend)
}

/// Every kind of backend the seam serves, each on a fresh database:
/// SQLite in memory and on a file, PostgreSQL, and Redis (beside SQLite).
struct Backends {
    all: Vec<Subject>,
    _folder: tempfile::TempDir,
    _scratch: ScratchDatabase,
    _prefix: ScratchPrefix,
}

impl Backends {
    /// Those that keep records in the database, which the purge deletes.
    fn purged(&self) -> impl Iterator<Item = &Subject> {
        self.all
            .iter()
            .filter(|backend| !backend.expires_records_itself())
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
            Subject::in_database(database),
            Subject::in_redis(Database::in_memory().await, redis),
        ],
        _folder: folder,
        _scratch: scratch,
        _prefix: prefix,
    }
}

#[test]
fn each_fault_reads_the_same_after_its_way_through_tower_sessions() {
    let through = |error: StoreError| tower_sessions::session::Error::Store(error.into());
    for (error, fault) in [
        (StoreError::Ended, SessionFault::Ended),
        (sqlx::Error::PoolTimedOut.into(), SessionFault::Unavailable),
        (RedisError::Unavailable.into(), SessionFault::Unavailable),
        (sqlx::Error::RowNotFound.into(), SessionFault::Other),
        (StoreError::Encoding("bad".into()), SessionFault::Other),
    ] {
        let shown = error.to_string();
        assert_eq!(SessionFault::of(&through(error)), fault, "{shown}");
    }
}

async fn stored(backend: &Subject, expiry_date: OffsetDateTime) -> Id {
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
        assert_eq!(SessionFault::of(&error), SessionFault::Ended, "{error}");
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

async fn user(backend: &Subject, name: &str) -> i64 {
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
async fn signed_in_record(backend: &Sessions, user_id: i64, handle: &str) -> Record {
    signed_in_last_seen(backend, user_id, handle, 1_000).await
}

/// The same, last active at `last_seen`.
async fn signed_in_last_seen(
    backend: &Sessions,
    user_id: i64,
    handle: &str,
    last_seen: i64,
) -> Record {
    let mut record = signed_in_unsaved(user_id, handle, last_seen);
    backend.create(&mut record).await.unwrap();
    record
}

/// A signed-in record of `user_id` as sign-in makes it, not stored yet.
fn signed_in_record_unsaved(user_id: i64, handle: &str) -> Record {
    signed_in_unsaved(user_id, handle, 1_000)
}

fn signed_in_unsaved(user_id: i64, handle: &str, last_seen: i64) -> Record {
    let state = SignedIn {
        user_id,
        username: "someone".into(),
        remember: true,
        signed_in_at: 1_000,
        last_seen,
        handle: handle.into(),
        device: "Chrome on Linux".into(),
        client: "192.0.2.1".into(),
        id_issued_at: 1_000,
        id_presented: true,
        confirmed_at: 0,
    };
    Record {
        id: Id::default(),
        data: HashMap::from([(
            SIGNED_IN_KEY.to_string(),
            serde_json::to_value(&state).unwrap(),
        )]),
        expiry_date: OffsetDateTime::now_utc() + Span::hours(1),
    }
}

async fn count(backend: &Subject, table: &str) -> i64 {
    let query = format!("SELECT count(*) FROM {table}");
    query_on!(&backend.database, |executor| sqlx::query_scalar(&query)
        .fetch_one(executor)
        .await)
    .unwrap()
}

async fn index_rows(backend: &Subject) -> i64 {
    match &backend.redis {
        Some(redis) => redis.index_entries().await,
        None => count(backend, "user_sessions").await,
    }
}

#[tokio::test]
async fn redis_expires_a_record_at_its_own_expiry() {
    let backends = every_backend().await;
    let redis = backends
        .all
        .iter()
        .find_map(|backend| backend.redis.as_ref());
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
        if backend.expires_records_itself() {
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

/// A user being deleted: every session ends with its notes, and a sign-in
/// still in flight stores nothing (once the user's row is gone, on SQL).
#[tokio::test]
async fn a_deleted_users_sessions_end_and_a_sign_in_in_flight_stores_nothing() {
    let backends = every_backend().await;
    for backend in &backends.all {
        let (alice, bob) = (user(backend, "alice").await, user(backend, "bob").await);
        let first = signed_in_record(backend, alice, "a1").await;
        let second = signed_in_record(backend, alice, "a2").await;
        let bobs = signed_in_record(backend, bob, "b1").await;

        assert_eq!(backend.end_user(alice).await.unwrap(), 2);
        query_on!(&backend.database, |executor| sqlx::query(
            "DELETE FROM users WHERE id = $1"
        )
        .bind(alice)
        .execute(executor)
        .await
        .map(|_| ()))
        .unwrap();
        for record in [&first, &second] {
            assert!(backend.load(&record.id).await.unwrap().is_none());
        }
        let mut late = signed_in_record_unsaved(alice, "a3");
        let refused = backend.create(&mut late).await.unwrap_err();
        assert_eq!(SessionFault::of_store(&refused), SessionFault::Ended);
        assert!(backend.load(&late.id).await.unwrap().is_none());
        let now = OffsetDateTime::now_utc();
        assert!(backend.sessions_of(alice, now).await.unwrap().is_empty());
        assert_eq!(index_rows(backend).await, 1, "bob's session only");
        assert!(backend.load(&bobs.id).await.unwrap().is_some());
        // Bob still signs in.
        signed_in_record(backend, bob, "b2").await;
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
    let readers = backend.database.readers().unwrap();
    let _taken: Vec<_> = readers.taken_for_test();
    assert!(backend.load(&live).await.unwrap().is_some());
}

#[tokio::test]
async fn past_the_limit_a_sign_in_ends_the_least_recently_active_session_and_notes_it() {
    let backends = every_backend().await;
    for backend in &backends.all {
        let clock = crate::clock::Clock::default();
        let limited = backend.sessions.clone().with_max_per_user(3, clock.clone());
        let alice = user(backend, "alice").await;
        let bob = user(backend, "bob").await;
        signed_in_last_seen(&limited, bob, "b1", 500).await;
        let oldest = signed_in_last_seen(&limited, alice, "a1", 1_000).await;
        signed_in_last_seen(&limited, alice, "a2", 3_000).await;
        signed_in_last_seen(&limited, alice, "a3", 2_000).await;
        assert!(limited.ended_sessions_of(alice).await.unwrap().is_empty());

        let before = clock.now();
        signed_in_last_seen(&limited, alice, "a4", 4_000).await;
        let after = clock.now();
        let now = OffsetDateTime::now_utc();
        let listed = limited.sessions_of(alice, now).await.unwrap();
        assert_eq!(handles(&listed), ["a4", "a2", "a3"]);
        assert_eq!(limited.load(&oldest.id).await.unwrap(), None);
        let ended = limited.ended_sessions_of(alice).await.unwrap();
        // Noted when that sign-in ran (a second may turn meanwhile).
        let ended_at = ended.first().map_or(0, |ended| ended.ended_at);
        assert!((before..=after).contains(&ended_at), "{ended:?}");
        assert_eq!(
            ended,
            vec![EndedSession {
                device: "Chrome on Linux".into(),
                client: "192.0.2.1".into(),
                signed_in_at: 1_000,
                last_seen: 1_000,
                ended_at,
            }]
        );
        // Another user's sessions neither count nor end.
        assert_eq!(
            handles(&limited.sessions_of(bob, now).await.unwrap()),
            ["b1"]
        );
        assert!(limited.ended_sessions_of(bob).await.unwrap().is_empty());
        // Without a limit nothing ends.
        signed_in_last_seen(backend, alice, "a5", 5_000).await;
        assert_eq!(limited.sessions_of(alice, now).await.unwrap().len(), 4);
    }
}

#[tokio::test]
async fn concurrent_sign_ins_never_pass_the_limit() {
    let backends = every_backend().await;
    for backend in &backends.all {
        let limited = backend
            .sessions
            .clone()
            .with_max_per_user(4, crate::clock::Clock::default());
        let alice = user(backend, "alice").await;
        let sign_ins = (0..16).map(|n| {
            let limited = limited.clone();
            tokio::spawn(async move {
                signed_in_last_seen(&limited, alice, &format!("a{n}"), 1_000 + n).await;
            })
        });
        for sign_in in sign_ins.collect::<Vec<_>>() {
            sign_in.await.unwrap();
        }
        let listed = limited
            .sessions_of(alice, OffsetDateTime::now_utc())
            .await
            .unwrap();
        assert_eq!(listed.len(), 4, "{:?}", handles(&listed));
        assert_eq!(index_rows(backend).await, 4);
        assert_eq!(limited.ended_sessions_of(alice).await.unwrap().len(), 12);
    }
}

#[tokio::test]
async fn the_purge_forgets_notes_of_ended_sessions_after_a_month() {
    let backends = every_backend().await;
    for backend in backends.purged() {
        let limited = backend
            .sessions
            .clone()
            .with_max_per_user(1, crate::clock::Clock::default());
        let alice = user(backend, "alice").await;
        signed_in_record(&limited, alice, "a1").await;
        signed_in_record(&limited, alice, "a2").await;
        assert_eq!(count(backend, "ended_sessions").await, 1);
        let now = OffsetDateTime::now_utc();
        backend.purge_expired(now).await.unwrap();
        assert_eq!(count(backend, "ended_sessions").await, 1);
        backend
            .purge_expired(now + Span::seconds(ENDED_KEPT_SECS + 1))
            .await
            .unwrap();
        assert_eq!(count(backend, "ended_sessions").await, 0);
    }
}

/// `backend` on a clock the test moves.
fn on_clock(backend: &Subject) -> (Sessions, crate::clock::Clock) {
    let clock = crate::clock::Clock::default();
    let sessions = backend.sessions.clone().with_max_per_user(0, clock.clone());
    (sessions, clock)
}

/// Alice's session ("a1") on `backend`, on a clock the test moves, rotated
/// once: its first record and the id that replaced it.
async fn rotated_once(backend: &Subject) -> (Sessions, crate::clock::Clock, i64, Record, Id) {
    let (sessions, clock) = on_clock(backend);
    let alice = user(backend, "alice").await;
    let record = signed_in_record(&sessions, alice, "a1").await;
    let new = sessions.rotate(&record.id, ahead()).await.unwrap().unwrap();
    (sessions, clock, alice, record, new)
}

/// Whether the backend still keeps the retired id `id`.
async fn kept(backend: &Subject, id: &Id) -> bool {
    backend
        .sessions
        .backend
        .retired_id(id)
        .await
        .unwrap()
        .is_some()
}

/// The signed-in state of live record `id`.
async fn state_of(sessions: &Sessions, id: &Id) -> Option<SignedIn> {
    let record = sessions.load(id).await.unwrap()?;
    signed_in(&record)
}

/// A request presents the new id: its record says so.
async fn present(sessions: &Sessions, id: &Id) {
    let mut record = sessions.load(id).await.unwrap().unwrap();
    let mut state = signed_in(&record).unwrap();
    state.id_presented = true;
    record.data.insert(
        SIGNED_IN_KEY.to_string(),
        serde_json::to_value(&state).unwrap(),
    );
    sessions.save(&record).await.unwrap();
}

const GRACE: i64 = 60;
const A_DAY_LATER: i64 = 86_400 * 2;

fn ahead() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp() + A_DAY_LATER
}

#[tokio::test]
async fn a_rotation_moves_the_session_to_a_new_id_with_its_handle_and_index_entry() {
    let backends = every_backend().await;
    for backend in &backends.all {
        let (sessions, clock) = on_clock(backend);
        let alice = user(backend, "alice").await;
        let record = signed_in_record(&sessions, alice, "a1").await;
        let rotated_at = clock.now();
        let new = sessions.rotate(&record.id, ahead()).await.unwrap().unwrap();
        assert_ne!(new, record.id);
        assert_eq!(sessions.load(&record.id).await.unwrap(), None);
        let moved = state_of(&sessions, &new).await.unwrap();
        let before = signed_in(&record).unwrap();
        assert_eq!(
            (
                moved.handle.as_str(),
                moved.user_id,
                moved.signed_in_at,
                moved.last_seen
            ),
            ("a1", alice, before.signed_in_at, before.last_seen)
        );
        assert!((rotated_at..=clock.now()).contains(&moved.id_issued_at));
        assert_eq!(
            (moved.id_issued_at.min(rotated_at), moved.id_presented),
            (rotated_at, false)
        );
        let listed = sessions
            .sessions_of(alice, OffsetDateTime::now_utc())
            .await
            .unwrap();
        assert_eq!(handles(&listed), ["a1"]);
        assert_eq!(index_rows(backend).await, 1);
        // A rotated session ends like any other.
        assert!(sessions.revoke(alice, "a1").await.unwrap());
        assert_eq!(sessions.load(&new).await.unwrap(), None);
    }
}

#[tokio::test]
async fn twenty_rotations_of_one_id_at_once_make_one_successor() {
    let backends = every_backend().await;
    for backend in &backends.all {
        let (sessions, _) = on_clock(backend);
        let alice = user(backend, "alice").await;
        let record = signed_in_record(&sessions, alice, "a1").await;
        let rotations: Vec<_> = (0..20)
            .map(|_| {
                let (sessions, record) = (sessions.clone(), record.clone());
                tokio::spawn(async move { sessions.rotate(&record.id, ahead()).await })
            })
            .collect();
        let mut successors = Vec::new();
        for rotation in rotations {
            successors.push(rotation.await.unwrap().unwrap().unwrap());
        }
        successors.dedup();
        assert_eq!(successors.len(), 1, "{successors:?}");
        assert!(state_of(&sessions, &successors[0]).await.is_some());
        assert_eq!(index_rows(backend).await, 1);
    }
}

#[tokio::test]
async fn the_replaced_id_leads_to_its_successor_in_the_grace_and_until_the_successor_is_presented()
{
    let backends = every_backend().await;
    for backend in &backends.all {
        let (sessions, clock, alice, record, new) = rotated_once(backend).await;
        let replaced = Retired::Replaced { successor: new };
        assert_eq!(sessions.retired(&record.id, GRACE).await.unwrap(), replaced);
        // After the grace, the new cookie may never have arrived: still led on.
        clock.advance(GRACE + 1);
        assert_eq!(sessions.retired(&record.id, GRACE).await.unwrap(), replaced);
        // Once the new id has been presented, the old one coming back is a copy.
        present(&sessions, &new).await;
        assert_eq!(
            sessions.retired(&record.id, GRACE).await.unwrap(),
            Retired::Reused {
                user_id: alice,
                handle: "a1".into(),
                device: "Chrome on Linux".into(),
                client: "192.0.2.1".into(),
            }
        );
        assert_eq!(
            sessions.load(&new).await.unwrap(),
            None,
            "the session ended"
        );
        assert_eq!(index_rows(backend).await, 0);
        assert_eq!(
            sessions.retired(&record.id, GRACE).await.unwrap(),
            Retired::Unknown
        );
    }
}

#[tokio::test]
async fn within_the_grace_a_presented_successor_still_lets_the_old_id_lead_to_it() {
    let backends = every_backend().await;
    for backend in &backends.all {
        let (sessions, _, _, record, new) = rotated_once(backend).await;
        present(&sessions, &new).await;
        assert_eq!(
            sessions.retired(&record.id, GRACE).await.unwrap(),
            Retired::Replaced { successor: new }
        );
    }
}

#[tokio::test]
async fn an_id_older_than_the_one_replaced_last_is_a_reuse_at_any_time() {
    let backends = every_backend().await;
    for backend in &backends.all {
        let (sessions, _, _, first, second) = rotated_once(backend).await;
        let third = sessions.rotate(&second, ahead()).await.unwrap().unwrap();
        assert_eq!(
            sessions.retired(&second, GRACE).await.unwrap(),
            Retired::Replaced { successor: third }
        );
        assert!(matches!(
            sessions.retired(&first.id, GRACE).await.unwrap(),
            Retired::Reused { .. }
        ));
        assert_eq!(sessions.load(&third).await.unwrap(), None);
        assert_eq!(
            sessions.retired(&second, GRACE).await.unwrap(),
            Retired::Unknown
        );
    }
}

#[tokio::test]
async fn retired_ids_go_with_their_session_and_others_are_unknown() {
    let backends = every_backend().await;
    for backend in &backends.all {
        let (sessions, _) = on_clock(backend);
        let alice = user(backend, "alice").await;
        assert_eq!(
            sessions.retired(&Id::default(), GRACE).await.unwrap(),
            Retired::Unknown
        );
        // Ended by revocation, by signing out everywhere, by signing out.
        for (n, end) in ["revoke", "revoke_all_but", "delete"]
            .into_iter()
            .enumerate()
        {
            let handle = format!("a{n}");
            let record = signed_in_record(&sessions, alice, &handle).await;
            let new = sessions.rotate(&record.id, ahead()).await.unwrap().unwrap();
            match end {
                "revoke" => assert!(sessions.revoke(alice, &handle).await.unwrap()),
                "revoke_all_but" => {
                    assert_eq!(sessions.revoke_all_but(alice, None).await.unwrap(), 1)
                }
                _ => SessionStore::delete(&sessions, &new).await.unwrap(),
            }
            assert!(!kept(backend, &record.id).await, "{end}");
            assert_eq!(
                sessions.retired(&record.id, GRACE).await.unwrap(),
                Retired::Unknown
            );
        }
        // Ended to make room for a sign-in past the limit.
        let limited = sessions
            .clone()
            .with_max_per_user(1, crate::clock::Clock::default());
        let record = signed_in_record(&limited, alice, "b1").await;
        limited.rotate(&record.id, ahead()).await.unwrap().unwrap();
        signed_in_record(&limited, alice, "b2").await;
        assert!(!kept(backend, &record.id).await, "made room");
        if backend.redis.is_none() {
            assert_eq!(count(backend, "retired_session_ids").await, 0);
        }
    }
}

#[tokio::test]
async fn deleting_an_id_a_rotation_moved_ends_the_session_under_its_new_id() {
    let backends = every_backend().await;
    for backend in &backends.all {
        let (sessions, _, alice, record, new) = rotated_once(backend).await;
        // A sign-out that loaded the old id before the rotation deletes it after.
        SessionStore::delete(&sessions, &record.id).await.unwrap();
        assert_eq!(sessions.load(&new).await.unwrap(), None);
        let listed = sessions
            .sessions_of(alice, OffsetDateTime::now_utc())
            .await
            .unwrap();
        assert!(listed.is_empty());
        assert!(!kept(backend, &record.id).await);
    }
}

/// `record` with its signed-in state changed by `change`.
fn with_state(record: &Record, change: impl FnOnce(&mut SignedIn)) -> Record {
    let mut record = record.clone();
    let mut state: SignedIn = serde_json::from_value(record.data[SIGNED_IN_KEY].clone()).unwrap();
    change(&mut state);
    record
        .data
        .insert(SIGNED_IN_KEY.into(), serde_json::to_value(&state).unwrap());
    record
}

/// Two requests that loaded one record and write it at once each keep what
/// they changed (#35): a page load's sliding `last_seen` beside an action's
/// `confirmed_at`, merged field by field and written only onto what the
/// store still holds; an update or a rotation made from a record written
/// since writes nothing. On every backend.
#[tokio::test]
async fn writes_of_one_record_at_once_each_keep_what_they_changed() {
    let backends = every_backend().await;
    for backend in &backends.all {
        let alice = user(backend, "alice").await;
        let loaded = signed_in_record(backend, alice, "a1").await;
        let slid = with_state(&loaded, |state| state.last_seen = 2_000);
        let confirmed = with_state(&loaded, |state| state.confirmed_at = 1_500);
        let (first, second) = tokio::join!(
            backend.save_changes(&loaded, &slid, loaded.id),
            backend.save_changes(&loaded, &confirmed, loaded.id),
        );
        assert!(first.unwrap() && second.unwrap());
        let now = backend.backend.read(&loaded.id).await.unwrap().unwrap();
        let state = signed_in(&now).unwrap();
        assert_eq!((state.last_seen, state.confirmed_at), (2_000, 1_500));
        assert_eq!(
            backend
                .sessions_of(alice, OffsetDateTime::now_utc())
                .await
                .unwrap()[0]
                .last_seen,
            2_000,
            "the index follows"
        );

        let stale = signed_in(&slid).unwrap();
        let replaced = backend.backend.replace(&slid, Some(&stale), &loaded).await;
        assert_eq!(replaced.unwrap(), Replaced::Changed);
        let mut moved = with_state(&loaded, |state| state.id_presented = false);
        moved.id = Id::default();
        let rotated = backend
            .backend
            .rotate(&loaded.id, &loaded, &moved, &stale, 3_000, 9_000)
            .await;
        assert_eq!(rotated.unwrap(), Rotation::Changed);
        assert!(backend.backend.read(&moved.id).await.unwrap().is_none());

        backend.delete(&loaded.id).await.unwrap();
        let gone = backend.save_changes(&loaded, &slid, loaded.id).await;
        assert!(!gone.unwrap(), "a deleted record stays deleted");
    }
}

#[test]
fn a_merge_keeps_what_each_side_changed_and_what_one_removed() {
    let loaded = signed_in_unsaved(1, "a1", 1_000);
    let mut mine = with_state(&loaded, |state| state.confirmed_at = 0);
    mine.data
        .insert("mail_link.not_me".into(), serde_json::json!("t"));
    let mut current = with_state(&loaded, |state| {
        state.id_issued_at = 5_000;
        state.id_presented = false;
    });
    current.id = Id::default();
    current
        .data
        .insert("passkey.registration".into(), serde_json::json!({"x": 1}));
    let merged = merged(
        &with_state(&loaded, |state| state.confirmed_at = 900),
        &mine,
        &current,
    );
    let state = signed_in(&merged).unwrap();
    assert_eq!(state.confirmed_at, 0, "mine");
    assert_eq!(
        (state.id_issued_at, state.id_presented),
        (5_000, false),
        "theirs"
    );
    assert_eq!(merged.id, current.id);
    assert_eq!(merged.data["mail_link.not_me"], serde_json::json!("t"));
    assert_eq!(
        merged.data["passkey.registration"],
        serde_json::json!({"x": 1})
    );

    let removed = merged_without(&loaded, &current, "passkey.registration");
    assert!(!removed.data.contains_key("passkey.registration"));
}

/// What a request that removed `key` from `current`, loaded as `loaded`
/// plus `key`, writes.
fn merged_without(loaded: &Record, current: &Record, key: &str) -> Record {
    let mut before = loaded.clone();
    before.data.insert(key.into(), current.data[key].clone());
    merged(&before, loaded, current)
}
