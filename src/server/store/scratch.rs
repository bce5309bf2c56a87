//! Throwaway PostgreSQL databases for tests and the bench: each gets its own,
//! made on the server `TEST_POSTGRES_URL` names (default: this machine's
//! PostgreSQL, `postgres://postgres@127.0.0.1:5432/postgres`) and dropped when
//! its guard goes, connections and all.

use rand_core::{OsRng, RngCore};
use sqlx::{Connection, PgConnection};

const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

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
