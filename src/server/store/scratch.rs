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
        // Drop may run inside a runtime, which cannot be blocked on: a thread
        // of its own with a runtime of its own drops the database.
        let (server, name) = (self.server.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut connection = PgConnection::connect(&server).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut connection)
                    .await?;
                connection.close().await
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("scratch database {} was not dropped", self.name);
        }
    }
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
        let deleted = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(redis_keys(&url, &prefix, true)).ok()
        })
        .join();
        if !matches!(deleted, Ok(Some(_))) {
            eprintln!("the Redis keys under {} were not deleted", self.prefix);
        }
    }
}
