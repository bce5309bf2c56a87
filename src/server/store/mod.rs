//! The store seam: the one place that knows which backend runs.
//!
//! - `database`: the application's tables (users, throttle counters, trusted
//!   browsers, the session index, bearer tokens) in SQLite or PostgreSQL, chosen
//!   by the scheme of `DATABASE_URL`, each with its own migrations
//!   (`migrations/sqlite/`, `migrations/postgres/`) applied at start.
//! - `sessions`: the session records and the index from users to their
//!   sessions: one contract (`SessionBackend`) with the rules every backend
//!   keeps (no save brings back a deleted record; the index moves with its
//!   record), implemented in the database (`sessions/sql.rs`) and in Redis
//!   (`sessions/redis.rs`, `SESSION_STORE=redis`), and the expiry purge on
//!   the server's clock (`sessions/purge.rs`).
//! - `record`: the part of a session record the store indexes.
//! - `sqlite_readers`: session reads (and a bearer token's holder,
//!   `token_holder`) on the request's own thread, for a SQLite file only,
//!   where they pay (BENCHMARKS.md).
//! - `health`: whether each backend answers, and the readiness check.
//! - `outbox`: the mail waiting to be sent, claimed by one sender at a time.
//!
//! Code outside the seam writes its SQL once, in the dialect both engines
//! share (`$1` placeholders, `ON CONFLICT`, `RETURNING`), and runs it through
//! [`query_on!`], which compiles it for each backend and runs the one in use.

mod database;
mod health;
pub mod outbox;
mod record;
pub mod scratch;
mod sessions;
mod sqlite_readers;
mod token_holder;

pub use database::{
    is_unavailable, observed, redact_password, unavailable_error, Database, DatabaseError,
    Executor, Pool, RunsQueries, SerialLock, Transaction,
};
pub use health::{first_unready, Health};
pub use record::{SignedIn, SIGNED_IN_KEY};
pub use sessions::{
    purge_continuously, purge_now, EndedSession, IndexedSession, RedisError, RedisSessions,
    Replaced, Retired, RetiredId, Rotation, SessionBackend, SessionFault, Sessions, SqlSessions,
    StoreError,
};

/// Runs `$body` with `$executor` bound to the backend's own sqlx executor
/// (a pool, or a transaction's connection), for whichever backend `$on` (a
/// `&Database` or a `&mut Transaction`) is. The body is compiled once per
/// backend, so it must give the same type on each: map driver-specific results
/// (`rows_affected()`, rows through `FromRow`) before returning them.
///
/// While the database is down (`health`), the body is not run and the query
/// fails at once; a failure that means the database cannot be reached marks
/// it down.
macro_rules! query_on {
    ($on:expr, |$executor:ident| $body:expr) => {{
        use $crate::server::store::{Executor, RunsQueries};
        let (executor, health) = RunsQueries::executor($on);
        let result = match executor {
            Executor::SqlitePool($executor) => $body,
            Executor::PostgresPool($executor) => $body,
            Executor::SqliteTransaction($executor) => $body,
            Executor::PostgresTransaction($executor) => $body,
            Executor::Unavailable => Err($crate::server::store::unavailable_error()),
        };
        $crate::server::store::observed(health, result)
    }};
}
pub(crate) use query_on;
