//! Session reads (and the other look-up of every authenticated request, a
//! bearer token's holder) on the request's own thread, when the database is a
//! SQLite file.
//!
//! Every signed-in page reads its session record once. Through sqlx that read
//! is a hand-off to the SQLite connection's own thread and back, plus a second
//! round trip when the pool pings the connection on its return: thread switches
//! that cost a signed-in page more than the read itself (BENCHMARKS.md). These
//! readers run the read where the request runs. That is safe here because the
//! read is bounded:
//!
//! - the connections are read-only and their busy timeout is zero, so they never
//!   wait for a lock (in WAL mode readers do not wait for writers at all): SQLite
//!   answers "busy" at once instead;
//! - the read is a point look-up by primary key through a cached statement, a few
//!   microseconds, less than rendering the page it is for;
//! - a connection is only ever taken when free (`try_lock`), never waited for.
//!
//! When no reader is free, or SQLite answers busy or fails, `read` says so and the
//! caller reads through the pool instead, off the runtime.

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::{
    path::{Path, PathBuf},
    sync::{Mutex, TryLockError},
    time::Duration,
};

/// The session table's primary-key look-up; the caller checks the expiry.
const LOAD: &str = "SELECT data FROM tower_sessions WHERE id = $1";

/// Read-only connections for session reads: one per async worker thread
/// would do (a read never yields), a few more cover other callers.
pub const READERS: usize = 4;

/// Read-only connections to one database file, opened on first use and
/// reopened after a failure.
#[derive(Debug)]
pub struct SqliteReaders {
    path: PathBuf,
    slots: Box<[Mutex<Option<Connection>>]>,
}

impl SqliteReaders {
    /// Readers for the SQLite file at `path`, or `None` when it is not a file on
    /// disk (an in-memory database is private to the pool's connections).
    pub fn for_file(path: &Path, count: usize) -> Option<Self> {
        path.is_file().then(|| Self {
            path: path.to_path_buf(),
            slots: (0..count.max(1)).map(|_| Mutex::new(None)).collect(),
        })
    }

    /// The stored bytes of the record `id`, `Some(None)` when there is none, or
    /// `None` when no answer could be had here (no free reader, busy, an error).
    pub fn read(&self, id: &str) -> Option<Option<Vec<u8>>> {
        self.look_up(LOAD, id, |row| row.get(0))
    }

    /// One primary-key look-up on a free reader, answered as `read` answers.
    pub fn look_up<K: rusqlite::ToSql, T>(
        &self,
        query: &str,
        key: K,
        row: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Option<Option<T>> {
        self.slots.iter().find_map(|slot| {
            let mut connection = match slot.try_lock() {
                Ok(guard) => guard,
                Err(TryLockError::WouldBlock) => return None,
                Err(TryLockError::Poisoned(poisoned)) => {
                    // A panic mid-read: start that slot over on a new connection.
                    slot.clear_poison();
                    let mut guard = poisoned.into_inner();
                    *guard = None;
                    guard
                }
            };
            Some(self.look_up_on(&mut connection, query, &key, &row))
        })?
    }

    fn look_up_on<K: rusqlite::ToSql, T>(
        &self,
        slot: &mut Option<Connection>,
        query: &str,
        key: &K,
        row: &impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Option<Option<T>> {
        let connection = match slot {
            Some(connection) => connection,
            None => match open(&self.path) {
                Ok(connection) => slot.insert(connection),
                Err(error) => {
                    tracing::warn!(error = %error, "cannot open a session reader");
                    return None;
                }
            },
        };
        let found = connection
            .prepare_cached(query)
            .and_then(|mut statement| statement.query_row([key], row).optional());
        match found {
            Ok(found) => Some(found),
            Err(error) if is_busy(&error) => None,
            Err(error) => {
                tracing::warn!(error = %error, "session reader failed; reopening it");
                *slot = None;
                None
            }
        }
    }
}

#[cfg(test)]
impl SqliteReaders {
    /// Holds every reader, as busy requests would.
    pub fn taken_for_test(&self) -> Vec<std::sync::MutexGuard<'_, Option<Connection>>> {
        self.slots.iter().map(|slot| slot.lock().unwrap()).collect()
    }
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(Duration::ZERO)?;
    Ok(connection)
}

fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

#[cfg(test)]
mod tests {
    // This file's items, named from the crate: `super` reads as the store's
    // `mod.rs` to the import-cycle check.
    use crate::server::store::sqlite_readers::*;

    fn database() -> (tempfile::TempDir, PathBuf, Connection) {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("app.db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 CREATE TABLE tower_sessions (id TEXT PRIMARY KEY NOT NULL, data BLOB NOT NULL, expiry_date INTEGER NOT NULL);
                 INSERT INTO tower_sessions VALUES ('a', x'0102', '2999-01-01');",
            )
            .unwrap();
        (folder, path, writer)
    }

    #[test]
    fn reads_a_record_and_answers_none_for_an_unknown_id() {
        let (_folder, path, _writer) = database();
        let readers = SqliteReaders::for_file(&path, 2).unwrap();
        assert_eq!(readers.read("a"), Some(Some(vec![1, 2])));
        assert_eq!(readers.read("nobody"), Some(None));
    }

    #[test]
    fn sees_a_write_committed_after_it_opened_and_cannot_write_itself() {
        let (_folder, path, writer) = database();
        let readers = SqliteReaders::for_file(&path, 1).unwrap();
        assert_eq!(readers.read("b"), Some(None));
        writer
            .execute(
                "INSERT INTO tower_sessions VALUES ('b', x'03', '2999-01-01')",
                [],
            )
            .unwrap();
        assert_eq!(readers.read("b"), Some(Some(vec![3])));

        let slot = readers.slots[0].lock().unwrap();
        let write = slot
            .as_ref()
            .unwrap()
            .execute("DELETE FROM tower_sessions", []);
        assert!(write.is_err(), "a reader wrote: {write:?}");
    }

    #[test]
    fn a_writer_holding_the_lock_does_not_block_a_read() {
        let (_folder, path, writer) = database();
        let readers = SqliteReaders::for_file(&path, 1).unwrap();
        writer
            .execute_batch("BEGIN IMMEDIATE; DELETE FROM tower_sessions;")
            .unwrap();
        // WAL: the reader sees the last committed state, at once.
        assert_eq!(readers.read("a"), Some(Some(vec![1, 2])));
        writer.execute_batch("COMMIT").unwrap();
        assert_eq!(readers.read("a"), Some(None));
    }

    #[test]
    fn when_every_reader_is_taken_it_says_so_instead_of_waiting() {
        let (_folder, path, _writer) = database();
        let readers = SqliteReaders::for_file(&path, 2).unwrap();
        let _first = readers.slots[0].lock().unwrap();
        assert_eq!(
            readers.read("a"),
            Some(Some(vec![1, 2])),
            "the second is free"
        );
        let _second = readers.slots[1].lock().unwrap();
        assert_eq!(readers.read("a"), None);
    }

    #[test]
    fn an_exclusive_lock_gives_busy_at_once_not_a_wait() {
        let (_folder, path, writer) = database();
        let readers = SqliteReaders::for_file(&path, 1).unwrap();
        writer
            .execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;")
            .unwrap();
        let started = std::time::Instant::now();
        assert_eq!(readers.read("a"), None);
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn no_readers_for_an_in_memory_database_or_a_missing_file() {
        assert!(SqliteReaders::for_file(Path::new("file:sqlx-in-memory-0"), 2).is_none());
        let folder = tempfile::tempdir().unwrap();
        assert!(SqliteReaders::for_file(&folder.path().join("none.db"), 2).is_none());
    }
}
