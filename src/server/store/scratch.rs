//! Throwaway stores for tests and the bench, each dropped with its guard:
//! - a PostgreSQL database, made on the server `TEST_POSTGRES_URL` names
//!   (default: this machine's, `postgres://postgres@127.0.0.1:5432/postgres`)
//!   and dropped connections and all;
//! - a Redis key prefix on the server `TEST_REDIS_URL` names (default: this
//!   machine's, `redis://127.0.0.1:6379`), whose keys are deleted.

use rand_core::{OsRng, RngCore};
use sqlx::{Connection, PgConnection};

const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const DEFAULT_REDIS: &str = "redis://127.0.0.1:6379";

/// A fresh, empty database; dropped with this guard.
#[derive(Debug)]
pub struct ScratchDatabase {
    server: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    /// Creates one. Panics with the reason when the server cannot be reached:
    /// a test that needs PostgreSQL must not pass without it.
    pub async fn create() -> Self {
        let server = std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_SERVER.into());
        let name = format!("pl_scratch_{:016x}", OsRng.next_u64());
        let mut connection = PgConnection::connect(&server)
            .await
            .unwrap_or_else(|error| {
                panic!("PostgreSQL for tests ({server}; set TEST_POSTGRES_URL): {error}")
            });
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut connection)
            .await
            .expect("CREATE DATABASE");
        let _ = connection.close().await;
        let (base, _) = server
            .rsplit_once('/')
            .expect("TEST_POSTGRES_URL ends in a database name");
        let url = format!("{base}/{name}");
        Self { server, name, url }
    }

    /// The URL of this database, for `DATABASE_URL`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        let dropped = on_own_runtime(async move {
            let mut connection = PgConnection::connect(&server).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut connection)
                .await?;
            connection.close().await
        });
        if !matches!(dropped, Some(Ok(()))) {
            eprintln!("scratch database {} was not dropped", self.name);
        }
    }
}

/// Runs `work` to its end from `Drop`, which may run inside a runtime that
/// cannot be blocked on: on a thread and a runtime of its own. `None` when
/// that thread or runtime could not be had.
fn on_own_runtime<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> Option<T> {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()
            .map(|runtime| runtime.block_on(work))
    })
    .join()
    .ok()
    .flatten()
}

/// A key prefix of its own on a Redis server; its keys are deleted with it.
#[derive(Debug)]
pub struct ScratchPrefix {
    url: String,
    prefix: String,
}

impl ScratchPrefix {
    /// A new prefix. Panics with the reason when the server cannot be reached.
    pub async fn create() -> Self {
        let url = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS.into());
        let prefix = format!("pl_scratch:{:016x}:session:", OsRng.next_u64());
        if let Err(error) = redis_keys(&url, &prefix, false).await {
            panic!("Redis for tests ({url}; set TEST_REDIS_URL): {error}");
        }
        Self { url, prefix }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

/// Counts (or deletes) the keys under `prefix` on the Redis at `url`.
async fn redis_keys(url: &str, prefix: &str, delete: bool) -> Result<i64, fred::error::Error> {
    use fred::interfaces::{ClientLike, LuaInterface};
    let client = fred::clients::Client::new(
        fred::types::config::Config::from_url(url)?,
        None,
        None,
        None,
    );
    client.init().await?;
    let found: i64 = client
        .eval(
            "local keys = redis.call('KEYS', ARGV[1] .. '*')
             if ARGV[2] == '1' then for _, key in ipairs(keys) do redis.call('DEL', key) end end
             return #keys",
            Vec::<String>::new(),
            vec![
                prefix.to_string(),
                if delete { "1" } else { "0" }.to_string(),
            ],
        )
        .await?;
    client.quit().await?;
    Ok(found)
}

impl Drop for ScratchPrefix {
    fn drop(&mut self) {
        let (url, prefix) = (self.url.clone(), self.prefix.clone());
        let deleted = on_own_runtime(async move { redis_keys(&url, &prefix, true).await });
        if !matches!(deleted, Some(Ok(_))) {
            eprintln!("the Redis keys under {} were not deleted", self.prefix);
        }
    }
}
