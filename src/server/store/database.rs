//! The application's database: SQLite (embedded, the default; WAL, created on
//! first start) or PostgreSQL (shared by every instance), by the scheme of
//! `DATABASE_URL`, and the migrations of each, embedded in the binary.

use super::health::{Health, Probe};
use super::sqlite_readers::{SqliteReaders, READERS};
use sqlx::{
    migrate::MigrateError,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool,
};
use std::{str::FromStr, sync::Arc, time::Duration};

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("invalid database URL (DATABASE_URL): {0}")]
    Url(sqlx::Error),
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    /// `url` without its password.
    #[error("cannot open the database {url} (DATABASE_URL): {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("migration failed: {0}")]
    Migrate(#[from] MigrateError),
}

/// The application's database: a pool of connections, and whether the
/// database answers (`Health`: while it is down, queries fail at once).
#[derive(Clone, Debug)]
pub struct Database {
    pool: Pool,
    health: Health,
    /// For a SQLite file only: reads on the request's own thread
    /// (`sqlite_readers`). `None` for PostgreSQL and an in-memory database.
    readers: Option<Arc<SqliteReaders>>,
}

/// A pool of connections to one of the two engines.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A write transaction on either backend; dropped without `commit`, it rolls back.
#[derive(Debug)]
pub struct Transaction {
    inner: TransactionOn,
    health: Health,
}

#[derive(Debug)]
enum TransactionOn {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// Where a query runs: what [`query_on!`](super::query_on) matches on.
pub enum Executor<'a> {
    SqlitePool(&'a SqlitePool),
    PostgresPool(&'a PgPool),
    SqliteTransaction(&'a mut SqliteConnection),
    PostgresTransaction(&'a mut PgConnection),
    /// The database is down: the query is not tried.
    Unavailable,
}

/// What a query can run on, with the health its outcome is reported to.
pub trait RunsQueries<'a> {
    fn executor(self) -> (Executor<'a>, &'a Health);
}

impl<'a> RunsQueries<'a> for &'a Database {
    fn executor(self) -> (Executor<'a>, &'a Health) {
        let executor = match &self.pool {
            _ if self.health.is_down() => Executor::Unavailable,
            Pool::Sqlite(pool) => Executor::SqlitePool(pool),
            Pool::Postgres(pool) => Executor::PostgresPool(pool),
        };
        (executor, &self.health)
    }
}

impl<'a> RunsQueries<'a> for &'a mut Transaction {
    fn executor(self) -> (Executor<'a>, &'a Health) {
        let Transaction { inner, health } = self;
        let executor = match inner {
            TransactionOn::Sqlite(transaction) => Executor::SqliteTransaction(transaction),
            TransactionOn::Postgres(transaction) => Executor::PostgresTransaction(transaction),
        };
        (executor, health)
    }
}

/// The error of a query that was not tried because the database is down.
pub fn unavailable_error() -> sqlx::Error {
    sqlx::Error::PoolTimedOut
}

/// Whether `error` means the database could not be reached (as opposed to a
/// query it refused): no connection, a lost one, a server shutting down.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // Class 08: connection exception; 57P0x: the server is shutting
        // down or starting up.
        sqlx::Error::Database(error) => error
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0")),
        _ => false,
    }
}

/// Reports a query's outcome to `health` and hands it on.
pub fn observed<T>(health: &Health, result: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
    health.observe(result, is_unavailable)
}

/// Transactions that read and then write the same rows, and so must run one
/// after another on every instance (`Database::begin_serialized`).
#[derive(Clone, Copy, Debug)]
pub enum SerialLock {
    /// The sign-in and sign-up throttle counters.
    Throttle,
    /// Issuing bearer tokens, whose number per user is limited.
    TokenIssue,
    /// Creating a signed-in session of one user, whose number is limited.
    SessionsOf(i64),
    /// Adding a passkey to one user, whose number is limited.
    PasskeysOf(i64),
}

impl SerialLock {
    /// The PostgreSQL advisory lock's key: a fixed number unique in this app,
    /// or for one user's sessions "pls" in the top bits above the user's id
    /// (which never reaches them), so no two locks share a key.
    fn key(self) -> i64 {
        match self {
            Self::Throttle => 0x706c_7468,   // "plth"
            Self::TokenIssue => 0x706c_746b, // "pltk"
            Self::SessionsOf(user_id) => 0x0070_6c73 << 40 | (user_id & 0x00ff_ffff_ffff),
            Self::PasskeysOf(user_id) => 0x0070_6c70 << 40 | (user_id & 0x00ff_ffff_ffff),
        }
    }
}

/// How long a request waits for a PostgreSQL connection before it fails:
/// also how long the first request to meet an outage waits (sqlx retries a
/// refused connection until then); the ones after it fail at once.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

impl Database {
    /// Opens the database `url` names: `sqlite://…` or `postgres://…`
    /// (`DatabaseSettings::check_url` has refused any other scheme).
    pub async fn connect(url: &str) -> Result<Self, DatabaseError> {
        let opened = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            connect_postgres(url).await.map(Pool::Postgres)
        } else {
            connect_sqlite(url).await.map(Pool::Sqlite)
        };
        match opened {
            Ok(pool) => Ok(Self::on(pool)),
            Err(OpenError::Settings(error)) => Err(error),
            Err(OpenError::Driver(source)) => Err(DatabaseError::Open {
                url: redact_password(url),
                source,
            }),
        }
    }

    /// The database on `pool`, up until a query finds otherwise.
    fn on(pool: Pool) -> Self {
        let probed = pool.clone();
        let probe: Probe = Arc::new(move || {
            let pool = probed.clone();
            Box::pin(async move {
                match &pool {
                    Pool::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.is_ok(),
                    Pool::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.is_ok(),
                }
            })
        });
        let readers = match &pool {
            Pool::Sqlite(pool) => {
                SqliteReaders::for_file(pool.connect_options().get_filename(), READERS)
            }
            Pool::Postgres(_) => None,
        };
        Self {
            pool,
            health: Health::new("database", probe),
            readers: readers.map(Arc::new),
        }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub fn health(&self) -> &Health {
        &self.health
    }

    /// The readers on the request's thread, for a SQLite file.
    pub(super) fn readers(&self) -> Option<&SqliteReaders> {
        self.readers.as_deref()
    }

    /// Applies the backend's migrations (`migrations/sqlite/` or
    /// `migrations/postgres/`). Instances starting together on one PostgreSQL
    /// database take turns: sqlx holds an advisory lock while it migrates.
    pub async fn migrate(&self) -> Result<(), DatabaseError> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Pool::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// A transaction that writes. SQLite takes its one write lock at the start
    /// (`BEGIN IMMEDIATE`): a transaction that read first could not wait for
    /// that lock later and would fail busy under concurrent writers.
    pub async fn begin(&self) -> Result<Transaction, sqlx::Error> {
        if self.health.is_down() {
            return Err(unavailable_error());
        }
        let inner = match &self.pool {
            Pool::Sqlite(pool) => pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map(TransactionOn::Sqlite),
            Pool::Postgres(pool) => pool.begin().await.map(TransactionOn::Postgres),
        };
        Ok(Transaction {
            inner: observed(&self.health, inner)?,
            health: self.health.clone(),
        })
    }

    /// A write transaction that runs alone among those holding `lock`, on
    /// every instance, until it commits or rolls back: SQLite's write lock
    /// already does that; PostgreSQL takes a transaction advisory lock.
    pub async fn begin_serialized(&self, lock: SerialLock) -> Result<Transaction, sqlx::Error> {
        let mut transaction = self.begin().await?;
        if let TransactionOn::Postgres(connection) = &mut transaction.inner {
            let locked = sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(lock.key())
                .execute(&mut **connection)
                .await;
            observed(&transaction.health, locked)?;
        }
        Ok(transaction)
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

impl Transaction {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        let committed = match self.inner {
            TransactionOn::Sqlite(transaction) => transaction.commit().await,
            TransactionOn::Postgres(transaction) => transaction.commit().await,
        };
        observed(&self.health, committed)
    }
}

/// Why a pool did not open: its settings, or the driver.
enum OpenError {
    Settings(DatabaseError),
    Driver(sqlx::Error),
}

impl From<DatabaseError> for OpenError {
    fn from(error: DatabaseError) -> Self {
        Self::Settings(error)
    }
}

async fn connect_sqlite(url: &str) -> Result<SqlitePool, OpenError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(DatabaseError::Url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    let file = options.get_filename();
    if let Some(folder) = file
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
    {
        std::fs::create_dir_all(folder).map_err(|source| DatabaseError::Folder {
            path: folder.display().to_string(),
            source,
        })?;
    }
    SqlitePoolOptions::new()
        .max_connections(8)
        // sqlx pings a connection on every acquire by default, to catch a
        // dropped network link. A SQLite connection is a local file handle
        // with its own worker thread, so the ping only doubled the thread
        // hand-offs of every query (the session read of each signed-in page).
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(OpenError::Driver)
}

async fn connect_postgres(url: &str) -> Result<PgPool, OpenError> {
    let options = PgConnectOptions::from_str(url).map_err(DatabaseError::Url)?;
    PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(OpenError::Driver)
}

#[cfg(test)]
impl Database {
    /// A private in-memory SQLite database, migrated: for unit tests.
    pub async fn in_memory() -> Self {
        let database = Self::on(Pool::Sqlite(
            SqlitePool::connect("sqlite::memory:").await.unwrap(),
        ));
        database.migrate().await.unwrap();
        database
    }
}

/// `scheme://user:password@host/…` with the password replaced by `***`; any
/// other text as it is.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    // This file's items, named from the crate: `super` reads as the store's
    // `mod.rs` to the import-cycle check.
    use crate::server::store::database::*;

    #[test]
    fn a_database_password_never_shows_in_the_redacted_url() {
        for (url, shown) in [
            (
                "postgres://app:s3cret@db.internal:5432/app?sslmode=require",
                "postgres://app:***@db.internal:5432/app?sslmode=require",
            ),
            ("postgres://a:p@ss:w@rd@host/db", "postgres://a:***@host/db"),
            ("postgres://app@host/db", "postgres://app@host/db"),
            ("postgres://host/db", "postgres://host/db"),
            ("sqlite://data/app.db", "sqlite://data/app.db"),
            ("sqlite::memory:", "sqlite::memory:"),
        ] {
            assert_eq!(redact_password(url), shown, "{url}");
        }
    }

    /// A database made before user ids were kept from reuse keeps every row
    /// and every link between them through the migration that rebuilds its
    /// tables, and then never gives a deleted user's id out again.
    #[tokio::test]
    async fn upgrading_keeps_every_row_and_then_never_reuses_a_user_id() {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                "sqlite::memory:"
                    .parse::<SqliteConnectOptions>()
                    .unwrap()
                    .foreign_keys(true),
            )
            .await
            .unwrap();
        let mut migrator = sqlx::migrate!("./migrations/sqlite");
        let rebuilt = migrator
            .migrations
            .iter()
            .position(|migration| migration.description == "never reuse user ids")
            .expect("the migration that rebuilds the users table");
        let all = migrator.migrations.clone();
        migrator.migrations = all[..rebuilt].to_vec().into();
        migrator.run(&pool).await.unwrap();
        for statement in [
            "INSERT INTO users (username, username_key, password_hash) \
             VALUES ('a', 'a', 'h'), ('b', 'b', 'h'), ('c', 'c', 'h')",
            "INSERT INTO tower_sessions VALUES ('s1', x'00', 4102444800), ('s2', x'00', 4102444800)",
            "INSERT INTO user_sessions VALUES ('s1', 'h1', 1, 'd', 'c', 1, 1, 1), \
             ('s2', 'h2', 3, 'd', 'c', 0, 1, 1)",
            "INSERT INTO retired_session_ids VALUES ('r1', 'h1', 1, 's1', 1)",
            "INSERT INTO api_tokens VALUES ('j1', 3, 0, 1, 2)",
            "INSERT INTO ended_sessions VALUES (3, 'd', 'c', 1, 1, 1, 'session_limit')",
        ] {
            sqlx::query(statement).execute(&pool).await.unwrap();
        }
        migrator.migrations = all;
        migrator.run(&pool).await.unwrap();

        let count = |table: &'static str| {
            let pool = pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>(&format!("SELECT count(*) FROM {table}"))
                    .fetch_one(&pool)
                    .await
                    .unwrap()
            }
        };
        for (table, rows) in [
            ("users", 3),
            ("user_sessions", 2),
            ("retired_session_ids", 1),
            ("api_tokens", 1),
            ("ended_sessions", 1),
        ] {
            assert_eq!(count(table).await, rows, "{table}");
        }
        let broken: Vec<(String,)> = sqlx::query_as("PRAGMA foreign_key_check")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert!(broken.is_empty(), "{broken:?}");

        // The links still hold: ending a session drops its retired ids, and
        // deleting the user drops their tokens and ended sessions.
        for statement in [
            "DELETE FROM tower_sessions WHERE id = 's1'",
            "DELETE FROM user_sessions WHERE user_id = 3",
            "DELETE FROM users WHERE id = 3",
        ] {
            sqlx::query(statement).execute(&pool).await.unwrap();
        }
        assert_eq!(count("retired_session_ids").await, 0);
        assert_eq!(count("api_tokens").await, 0);
        assert_eq!(count("ended_sessions").await, 0);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, username_key, password_hash) \
             VALUES ('d', 'd', 'h') RETURNING id",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(id, 4, "the deleted user's id 3 was given out again");
    }
}
