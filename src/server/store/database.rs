//! The application's database: SQLite (embedded, the default; WAL, created on
//! first start) or PostgreSQL (shared by every instance), by the scheme of
//! `DATABASE_URL`, and the migrations of each, embedded in the binary.

use crate::server::config::redact_password;
use sqlx::{
    migrate::MigrateError,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool,
};
use std::{str::FromStr, time::Duration};

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

/// A pool of connections to the application's database.
#[derive(Clone, Debug)]
pub enum Database {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A write transaction on either backend; dropped without `commit`, it rolls back.
#[derive(Debug)]
pub enum Transaction {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// Where a query runs: what [`query_on!`](super::query_on) matches on.
pub enum Executor<'a> {
    SqlitePool(&'a SqlitePool),
    PostgresPool(&'a PgPool),
    SqliteTransaction(&'a mut SqliteConnection),
    PostgresTransaction(&'a mut PgConnection),
}

impl<'a> From<&'a Database> for Executor<'a> {
    fn from(database: &'a Database) -> Self {
        match database {
            Database::Sqlite(pool) => Self::SqlitePool(pool),
            Database::Postgres(pool) => Self::PostgresPool(pool),
        }
    }
}

impl<'a> From<&'a mut Transaction> for Executor<'a> {
    fn from(transaction: &'a mut Transaction) -> Self {
        match transaction {
            Transaction::Sqlite(transaction) => Self::SqliteTransaction(transaction),
            Transaction::Postgres(transaction) => Self::PostgresTransaction(transaction),
        }
    }
}

/// Transactions that read and then write the same rows, and so must run one
/// after another on every instance (`Database::begin_serialized`).
#[derive(Clone, Copy, Debug)]
pub enum SerialLock {
    /// The sign-in and sign-up throttle counters.
    Throttle,
}

impl SerialLock {
    /// The PostgreSQL advisory lock's key: any fixed number unique in this app.
    fn key(self) -> i64 {
        match self {
            Self::Throttle => 0x706c_7468, // "plth"
        }
    }
}

/// How long a request waits for a PostgreSQL connection before it fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

impl Database {
    /// Opens the database `url` names: `sqlite://…` or `postgres://…`
    /// (`DatabaseSettings::check_url` has refused any other scheme).
    pub async fn connect(url: &str) -> Result<Self, DatabaseError> {
        let opened = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            connect_postgres(url).await.map(Self::Postgres)
        } else {
            connect_sqlite(url).await.map(Self::Sqlite)
        };
        opened.map_err(|error| match error {
            OpenError::Settings(error) => error,
            OpenError::Driver(source) => DatabaseError::Open {
                url: redact_password(url),
                source,
            },
        })
    }

    /// Applies the backend's migrations (`migrations/sqlite/` or
    /// `migrations/postgres/`). Instances starting together on one PostgreSQL
    /// database take turns: sqlx holds an advisory lock while it migrates.
    pub async fn migrate(&self) -> Result<(), DatabaseError> {
        match self {
            Self::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Self::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// A transaction that writes. SQLite takes its one write lock at the start
    /// (`BEGIN IMMEDIATE`): a transaction that read first could not wait for
    /// that lock later and would fail busy under concurrent writers.
    pub async fn begin(&self) -> Result<Transaction, sqlx::Error> {
        Ok(match self {
            Self::Sqlite(pool) => Transaction::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Self::Postgres(pool) => Transaction::Postgres(pool.begin().await?),
        })
    }

    /// A write transaction that runs alone among those holding `lock`, on
    /// every instance, until it commits or rolls back: SQLite's write lock
    /// already does that; PostgreSQL takes a transaction advisory lock.
    pub async fn begin_serialized(&self, lock: SerialLock) -> Result<Transaction, sqlx::Error> {
        let mut transaction = self.begin().await?;
        if let Transaction::Postgres(connection) = &mut transaction {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(lock.key())
                .execute(&mut **connection)
                .await?;
        }
        Ok(transaction)
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

impl Transaction {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Sqlite(transaction) => transaction.commit().await,
            Self::Postgres(transaction) => transaction.commit().await,
        }
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
        let database = Self::Sqlite(SqlitePool::connect("sqlite::memory:").await.unwrap());
        database.migrate().await.unwrap();
        database
    }
}
