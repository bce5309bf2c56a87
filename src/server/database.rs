//! The SQLite pool (WAL, created on first start) and migrations. Users and
//! sessions share one file; the session table belongs to the session store.

use sqlx::{
    migrate::MigrateError,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    SqlitePool,
};
use std::{str::FromStr, time::Duration};

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("invalid database URL: {0}")]
    Url(sqlx::Error),
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Open(sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] MigrateError),
}

pub async fn connect(url: &str) -> Result<SqlitePool, DatabaseError> {
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
        .map_err(DatabaseError::Open)
}

/// Applies `migrations/` (embedded in the binary at build time).
pub async fn migrate(pool: &SqlitePool) -> Result<(), DatabaseError> {
    sqlx::migrate!("./migrations").run(pool).await?;
    Ok(())
}
