//! User queries. `username_key` (normalised, unique) is what lookups use;
//! `username` is what the user typed, for display.

use sqlx::SqlitePool;

#[derive(Debug, sqlx::FromRow)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub username_key: String,
    pub password_hash: String,
}

pub async fn find_by_key(pool: &SqlitePool, key: &str) -> Result<Option<UserRecord>, sqlx::Error> {
    sqlx::query_as::<_, UserRecord>(
        "SELECT id, username, username_key, password_hash FROM users WHERE username_key = ?",
    )
    .bind(key)
    .fetch_optional(pool)
    .await
}

pub async fn find_by_id(pool: &SqlitePool, id: i64) -> Result<Option<UserRecord>, sqlx::Error> {
    sqlx::query_as::<_, UserRecord>(
        "SELECT id, username, username_key, password_hash FROM users WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Inserts a user; `Ok(None)` when the username is taken.
pub async fn insert(
    pool: &SqlitePool,
    username: &str,
    key: &str,
    password_hash: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let result =
        sqlx::query("INSERT INTO users (username, username_key, password_hash) VALUES (?, ?, ?)")
            .bind(username)
            .bind(key)
            .bind(password_hash)
            .execute(pool)
            .await;
    match result {
        Ok(done) => Ok(Some(done.last_insert_rowid())),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => Ok(None),
        Err(error) => Err(error),
    }
}

/// Replaces a user's password hash (a parameter upgrade or a new password).
pub async fn update_password_hash(
    pool: &SqlitePool,
    user_id: i64,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
        .bind(password_hash)
        .bind(user_id)
        .execute(pool)
        .await?;
    Ok(())
}
