//! The store seam: the one place that knows which backend runs.
//!
//! - `database`: the application's tables (users, throttle counters, trusted
//!   browsers, the session index, bearer tokens) in SQLite or PostgreSQL, chosen
//!   by the scheme of `DATABASE_URL`, each with its own migrations
//!   (`migrations/sqlite/`, `migrations/postgres/`) applied at start.
//! - `sessions`: the session records and the index from users to their
//!   sessions, with the rules every backend keeps (no save brings back a deleted
//!   record; the index moves with its record).
//! - `redis`: session records and their index in Redis instead
//!   (`SESSION_STORE=redis`), under a key prefix.
//! - `sqlite_readers`: session reads on the request's own thread, for SQLite
//!   only, where they pay (BENCHMARKS.md).
//!
//! Code outside the seam writes its SQL once, in the dialect both engines
//! share (`$1` placeholders, `ON CONFLICT`, `RETURNING`), and runs it through
//! [`query_on!`], which compiles it for each backend and runs the one in use.

mod database;
mod redis;
pub mod scratch;
mod sessions;
mod sqlite_readers;

pub use database::{Database, DatabaseError, Executor, SerialLock, Transaction};
pub use redis::{RedisError, RedisSessions};
pub use sessions::{
    session_ended, IndexedSession, SessionBackend, StoreError, PURGE_BATCH, READERS,
};

/// Runs `$body` with `$executor` bound to the backend's own sqlx executor
/// (a pool, or a transaction's connection), for whichever backend `$on` (a
/// `&Database` or a `&mut Transaction`) is. The body is compiled once per
/// backend, so it must give the same type on each: map driver-specific results
/// (`rows_affected()`, rows through `FromRow`) before returning them.
macro_rules! query_on {
    ($on:expr, |$executor:ident| $body:expr) => {
        match $crate::server::store::Executor::from($on) {
            $crate::server::store::Executor::SqlitePool($executor) => $body,
            $crate::server::store::Executor::PostgresPool($executor) => $body,
            $crate::server::store::Executor::SqliteTransaction($executor) => $body,
            $crate::server::store::Executor::PostgresTransaction($executor) => $body,
        }
    };
}
pub(crate) use query_on;
