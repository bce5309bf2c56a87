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

/// A user as the admin command line lists them.
#[derive(Debug, sqlx::FromRow)]
pub struct UserSummary {
    pub id: i64,
    pub username: String,
    pub created_at: String,
}

/// Every user, oldest first.
pub async fn list(pool: &SqlitePool) -> Result<Vec<UserSummary>, sqlx::Error> {
    sqlx::query_as::<_, UserSummary>("SELECT id, username, created_at FROM users ORDER BY id")
        .fetch_all(pool)
        .await
}

/// Deletes a user and the browsers trusted for them; their sessions must have
/// ended first (the session index refers to the user). `false` if no such user.
pub async fn delete(pool: &SqlitePool, user: &UserRecord) -> Result<bool, sqlx::Error> {
    let mut transaction = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query("DELETE FROM trusted_devices WHERE username_key = ?")
        .bind(&user.username_key)
        .execute(&mut *transaction)
        .await?;
    let deleted = sqlx::query("DELETE FROM users WHERE id = ?")
        .bind(user.id)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
    transaction.commit().await?;
    Ok(deleted > 0)
}
