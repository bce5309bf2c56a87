//! `spawn_app` starts the real application on 127.0.0.1:0 with a fresh
//! database: a SQLite file, or with `TEST_DATABASE=postgres` a throwaway
//! PostgreSQL database (`TEST_POSTGRES_URL` says which server); with
//! `TEST_SESSION_STORE=redis` its sessions are in Redis under a throwaway key
//! prefix (`TEST_REDIS_URL` says which server). `TestApp`
//! drives it like a browser without JavaScript would, except that it does not
//! follow redirects, so tests can assert them.

use persistent_login::{
    auth::ssr::Clock,
    server::{
        config::{SecretText, SessionStoreKind, Settings},
        startup,
        store::scratch::{ScratchDatabase, ScratchPrefix},
    },
};
use reqwest::{header, redirect::Policy, Client, Response, StatusCode};
use std::{net::SocketAddr, sync::Arc};
use tokio::{sync::oneshot, task::JoinHandle};

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub address: SocketAddr,
    pub settings: Settings,
    /// A client with its own cookie jar (one "browser").
    pub client: Client,
    /// The server's clock: `advance` it instead of sleeping.
    pub clock: Clock,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    storage: Arc<TestStorage>,
}

/// Where a test's data lives, deleted with it: a temporary folder (the
/// SQLite file) and, for PostgreSQL, a throwaway database.
pub struct TestStorage {
    _dir: tempfile::TempDir,
    _postgres: Option<ScratchDatabase>,
    _redis: Option<ScratchPrefix>,
}

/// Whether this run tests against PostgreSQL (`TEST_DATABASE=postgres`).
pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE").is_ok_and(|kind| kind == "postgres")
}

/// Whether this run keeps sessions in Redis (`TEST_SESSION_STORE=redis`).
pub fn on_redis() -> bool {
    std::env::var("TEST_SESSION_STORE").is_ok_and(|kind| kind == "redis")
}

/// Settings for tests: a fresh database and cheap argon2 parameters (the
/// production cost is covered by the unit tests' parameter checks).
pub async fn test_settings() -> (Settings, TestStorage) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings::default();
    let postgres = if on_postgres() {
        let scratch = ScratchDatabase::create().await;
        settings.database.url = scratch.url().to_string();
        Some(scratch)
    } else {
        settings.database.url = format!("sqlite://{}", dir.path().join("app.db").display());
        None
    };
    let redis = if on_redis() {
        let scratch = ScratchPrefix::create().await;
        settings.session.store = SessionStoreKind::Redis;
        settings.session.redis_url = Some(SecretText::from(scratch.url().to_string()));
        settings.session.key_prefix = scratch.prefix().to_string();
        Some(scratch)
    } else {
        None
    };
    settings.password.argon2_memory_kib = 64;
    settings.password.argon2_iterations = 1;
    // Without an SMTP server, messages are files in the test's own folder.
    settings.mail.dir = dir.path().join("mail").display().to_string();
    settings.validate().expect("test settings are valid");
    (
        settings,
        TestStorage {
            _dir: dir,
            _postgres: postgres,
            _redis: redis,
        },
    )
}

pub async fn spawn_app() -> TestApp {
    let (settings, storage) = test_settings().await;
    spawn_app_with(settings, Arc::new(storage)).await
}

pub async fn spawn_app_with(settings: Settings, storage: Arc<TestStorage>) -> TestApp {
    spawn_app_serving(settings, storage, "target/site").await
}

/// An app that serves its files (`/pkg/…`) from `site_root`.
pub async fn spawn_app_serving(
    settings: Settings,
    storage: Arc<TestStorage>,
    site_root: &str,
) -> TestApp {
    // `TEST_LOG=1` shows the servers' log (filter: `RUST_LOG`, default `info`).
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "info".into()),
            )
            .with_thread_names(true)
            .with_test_writer()
            .try_init();
    }
    let options = leptos::config::LeptosOptions::builder()
        .output_name("persistent-login")
        .site_root(site_root)
        .site_addr(SocketAddr::from(([127, 0, 0, 1], 0)))
        .build();
    let app = startup::build(&settings, options)
        .await
        .expect("app builds");
    let address = app.local_addr();
    let clock = app.clock();
    let (shutdown, stop) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run_until(async {
            let _ = stop.await;
        })
        .await
        .expect("server runs");
    });
    let jar = Arc::new(reqwest::cookie::Jar::default());
    TestApp {
        address,
        settings,
        client: client_with(jar),
        clock,
        shutdown: Some(shutdown),
        server: Some(server),
        storage,
    }
}

pub fn client_with(jar: Arc<reqwest::cookie::Jar>) -> Client {
    Client::builder()
        .redirect(Policy::none())
        .cookie_provider(jar)
        .build()
        .expect("client")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// A GET from another "browser" that sends only `cookie` (a copied or
    /// replayed session cookie), with its own empty jar.
    pub async fn get_with_cookie(&self, path: &str, cookie: &str) -> Response {
        client_with(Arc::default())
            .get(self.url(path))
            .header(header::COOKIE, cookie)
            .send()
            .await
            .expect("GET with cookie")
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .expect("POST")
    }

    /// An empty POST that a page on `origin` would send.
    pub async fn post_from_origin(&self, path: &str, origin: &str) -> Response {
        self.client
            .post(self.url(path))
            .header(header::ORIGIN, origin)
            .send()
            .await
            .expect("POST from another origin")
    }

    /// Registers `username` with the email address `email` (see `register`).
    pub async fn register_with_email(&self, username: &str, email: &str) -> Response {
        self.sign_up_elsewhere(&[
            ("username", username),
            ("password", PASSWORD),
            ("email", email),
        ])
        .await
    }

    /// Creates the account `username` the way someone would on a browser of
    /// their own that then signs out (a sign-up signs in): the account
    /// exists, no session of it is left, and this client's cookies are
    /// untouched. `sign_up` is the sign-up on this client, session and all.
    pub async fn register(&self, username: &str, password: &str) -> Response {
        self.sign_up_elsewhere(&[("username", username), ("password", password)])
            .await
    }

    async fn sign_up_elsewhere(&self, fields: &[(&str, &str)]) -> Response {
        let elsewhere = client_with(Arc::default());
        let response = elsewhere
            .post(self.url("/api/register"))
            .form(fields)
            .send()
            .await
            .expect("POST /api/register");
        if response.status() == StatusCode::OK {
            let signed_out = elsewhere
                .post(self.url("/api/logout"))
                .send()
                .await
                .expect("POST /api/logout");
            assert_eq!(
                signed_out.status(),
                StatusCode::OK,
                "sign-out after sign-up"
            );
        }
        response
    }

    /// Signs up on this client: the account, and this client signed in to it.
    pub async fn sign_up(&self, username: &str, password: &str, remember: bool) -> Response {
        let mut fields = vec![("username", username), ("password", password)];
        if remember {
            fields.push(("remember", "on"));
        }
        self.post_form("/api/register", &fields).await
    }

    pub async fn login(&self, username: &str, password: &str, remember: bool) -> Response {
        let mut fields = vec![("username", username), ("password", password)];
        if remember {
            fields.push(("remember", "on"));
        }
        self.post_form("/api/login", &fields).await
    }

    /// A bearer token for `username` (password [`PASSWORD`]), from
    /// `POST /api/token`.
    pub async fn token_for(&self, username: &str) -> String {
        let answer: serde_json::Value = self
            .post_form(
                "/api/token",
                &[("username", username), ("password", PASSWORD)],
            )
            .await
            .json()
            .await
            .unwrap();
        answer["token"].as_str().expect("a token").to_string()
    }

    /// Registers `username` and signs in; returns the sign-in response.
    pub async fn signed_in_as(&self, username: &str, remember: bool) -> Response {
        let registered = self.register(username, PASSWORD).await;
        assert_eq!(registered.status(), StatusCode::OK, "register {username}");
        let response = self.login(username, PASSWORD, remember).await;
        assert_eq!(response.status(), StatusCode::OK, "login {username}");
        response
    }

    /// What `GET /api/me` answers the bearer `token` alone (no cookie).
    pub async fn bearer_status(&self, token: &str) -> StatusCode {
        Client::new()
            .get(self.url("/api/me"))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET /api/me")
            .status()
    }

    pub async fn logout(&self) -> Response {
        self.post_form("/api/logout", &[]).await
    }

    /// The same server configuration on the same database file, as after a restart.
    pub async fn restart(mut self) -> TestApp {
        self.stop().await;
        let settings = self.settings.clone();
        spawn_app_with(settings, self.storage.clone()).await
    }

    pub async fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server stopped cleanly");
        }
    }

    /// The test's own connection to the app's database, for what a test
    /// must see or set up beneath the app (either backend; `$1` placeholders).
    pub async fn database(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&self.settings.database.url)
            .await
            .expect("the test reaches the app's database")
    }
}

/// The session cookie's `Set-Cookie` header, if the response sets one.
/// The handle of this browser's session (`current`) or of another, in a
/// `GET /api/sessions` list.
pub fn handle_of(sessions: &[serde_json::Value], current: bool) -> String {
    sessions
        .iter()
        .find(|session| session["current"] == current)
        .expect("such a session")["handle"]
        .as_str()
        .unwrap()
        .to_string()
}

pub fn session_set_cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// The `name=value` pair of a `Set-Cookie` header, to replay it by hand.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Attributes of a `Set-Cookie` header, lower-cased, without the value.
pub fn cookie_attributes(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|attribute| attribute.trim().to_ascii_lowercase())
        .collect()
}

pub fn location(response: &Response) -> Option<String> {
    response
        .headers()
        .get(header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
}

/// Another browser: its own cookie jar, its own User-Agent.
pub struct Browser<'a> {
    app: &'a TestApp,
    pub client: Client,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp, user_agent: &str) -> Self {
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_provider(Arc::new(reqwest::cookie::Jar::default()))
            .user_agent(user_agent)
            .build()
            .unwrap();
        Self { app, client }
    }

    pub fn url(&self, path: &str) -> String {
        self.app.url(path)
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.client
            .post(self.app.url(path))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// The same post as a plain HTML form (no JavaScript) sends it.
    pub async fn form_post(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.client
            .post(self.app.url(path))
            .header(header::ACCEPT, "text/html")
            .header(header::REFERER, self.app.url("/account"))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    pub async fn sign_in(&self, username: &str, password: &str) -> Response {
        let response = self
            .post(
                "/api/login",
                &[
                    ("username", username),
                    ("password", password),
                    ("remember", "on"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "sign-in of {username}");
        response
    }

    pub async fn sessions(&self) -> Vec<serde_json::Value> {
        let response = self.post("/api/sessions", &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// The HTML of the page at `path`.
    pub async fn page(&self, path: &str) -> String {
        let response = self.client.get(self.app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.text().await.unwrap()
    }

    pub async fn dashboard(&self) -> StatusCode {
        self.client
            .get(self.app.url("/dashboard"))
            .send()
            .await
            .unwrap()
            .status()
    }
}
