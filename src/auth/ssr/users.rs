//! User queries. `username_key` (normalised, unique) is what lookups use;
//! `username` is what the user typed, for display.

use crate::server::store::{query_on, Database, RunsQueries};

#[derive(Debug, sqlx::FromRow)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub username_key: String,
    pub password_hash: String,
}

pub async fn find_by_key(
    database: &Database,
    key: &str,
) -> Result<Option<UserRecord>, sqlx::Error> {
    query_on!(database, |executor| sqlx::query_as(
        "SELECT id, username, username_key, password_hash FROM users WHERE username_key = $1",
    )
    .bind(key)
    .fetch_optional(executor)
    .await)
}

pub async fn find_by_id(database: &Database, id: i64) -> Result<Option<UserRecord>, sqlx::Error> {
    query_on!(database, |executor| sqlx::query_as(
        "SELECT id, username, username_key, password_hash FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(executor)
    .await)
}

/// Inserts a user, on the database or in a transaction; `Ok(None)` when
/// the username is taken.
pub async fn insert<'a>(
    on: impl RunsQueries<'a>,
    username: &str,
    key: &str,
    password_hash: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let result = query_on!(on, |executor| sqlx::query_scalar(
        "INSERT INTO users (username, username_key, password_hash) VALUES ($1, $2, $3) \
         RETURNING id",
    )
    .bind(username)
    .bind(key)
    .bind(password_hash)
    .fetch_one(executor)
    .await);
    match result {
        Ok(id) => Ok(Some(id)),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => Ok(None),
        Err(error) => Err(error),
    }
}

/// Replaces a user's password hash (a parameter upgrade or a new password),
/// on the database or in a transaction.
pub async fn update_password_hash<'a>(
    on: impl RunsQueries<'a>,
    user_id: i64,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    query_on!(on, |executor| sqlx::query(
        "UPDATE users SET password_hash = $1 WHERE id = $2"
    )
    .bind(password_hash)
    .bind(user_id)
    .execute(executor)
    .await
    .map(|_| ()))
}

/// A user as the admin command line lists them.
#[derive(Debug, sqlx::FromRow)]
pub struct UserSummary {
    pub id: i64,
    pub username: String,
    pub created_at: String,
}

/// Every user, oldest first.
pub async fn list(database: &Database) -> Result<Vec<UserSummary>, sqlx::Error> {
    query_on!(database, |executor| sqlx::query_as(
        "SELECT id, username, created_at FROM users ORDER BY id"
    )
    .fetch_all(executor)
    .await)
}

/// Deletes a user and the browsers trusted for them; their sessions must have
/// ended first (the session index refers to the user). `false` if no such user.
pub async fn delete(database: &Database, user: &UserRecord) -> Result<bool, sqlx::Error> {
    let mut transaction = database.begin().await?;
    query_on!(&mut transaction, |executor| sqlx::query(
        "DELETE FROM trusted_devices WHERE username_key = $1"
    )
    .bind(&user.username_key)
    .execute(executor)
    .await
    .map(|_| ()))?;
    let deleted = query_on!(&mut transaction, |executor| sqlx::query(
        "DELETE FROM users WHERE id = $1"
    )
    .bind(user.id)
    .execute(executor)
    .await
    .map(|done| done.rows_affected()))?;
    transaction.commit().await?;
    Ok(deleted > 0)
}
