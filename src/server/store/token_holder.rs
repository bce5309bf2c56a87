//! The one look-up of every bearer-token request: the holder's name and token
//! generation, which must see a revocation at once (never cached). Read on the
//! request's own thread when the database is a SQLite file and a reader is
//! free (`sqlite_readers`), as session records are; through the pool otherwise.

use super::{query_on, Database};

/// A bearer token's holder, by the user's primary key.
const TOKEN_HOLDER: &str = "SELECT username, token_generation FROM users WHERE id = $1";

impl Database {
    /// The name and token generation of user `user_id`, if there is one.
    pub async fn token_holder(&self, user_id: i64) -> Result<Option<(String, i64)>, sqlx::Error> {
        let on_this_thread = self.readers().and_then(|readers| {
            readers.look_up(TOKEN_HOLDER, user_id, |row| Ok((row.get(0)?, row.get(1)?)))
        });
        if let Some(found) = on_this_thread {
            return Ok(found);
        }
        query_on!(self, |executor| sqlx::query_as(TOKEN_HOLDER)
            .bind(user_id)
            .fetch_optional(executor)
            .await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_holder_is_read_on_a_reader_and_through_the_pool_alike() {
        let folder = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", folder.path().join("app.db").display());
        let on_file = Database::connect(&url).await.unwrap();
        on_file.migrate().await.unwrap();
        let in_memory = Database::in_memory().await;
        for database in [&on_file, &in_memory] {
            let id: i64 = query_on!(database, |executor| sqlx::query_scalar(
                "INSERT INTO users (username, username_key, password_hash) \
                 VALUES ('alice', 'alice', 'x') RETURNING id"
            )
            .fetch_one(executor)
            .await)
            .unwrap();
            assert_eq!(
                database.token_holder(id).await.unwrap(),
                Some(("alice".to_string(), 0))
            );
            assert_eq!(database.token_holder(id + 1).await.unwrap(), None);
        }
        assert!(on_file.readers().is_some());
        assert!(in_memory.readers().is_none());
    }
}
