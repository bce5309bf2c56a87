//! `Instance` runs the built binary as a server on a free port, with the
//! environment given, and stops it (SIGKILL) when dropped; `client` and
//! `session_cookie` carry a session from one instance to another by hand.

use std::{
    net::{TcpListener, TcpStream},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub const BINARY: &str = env!("CARGO_BIN_EXE_persistent-login");

/// The binary the instances run: the one this test build made, or the one
/// `TEST_BINARY` names (say, `target/release/persistent-login` after
/// `cargo leptos build --release`).
pub fn binary() -> String {
    std::env::var("TEST_BINARY").unwrap_or_else(|_| BINARY.to_string())
}

/// The settings every instance gets: cheap argon2 (the production cost is
/// the unit tests' concern), the built site, no stray configuration.
pub fn base_env(command: &mut Command) {
    command
        .env("LEPTOS_SITE_ROOT", "target/site")
        .env("LEPTOS_OUTPUT_NAME", "persistent-login")
        .env("ARGON2_MEMORY_KIB", "64")
        .env("ARGON2_ITERATIONS", "1")
        .env(
            "MAIL_DIR",
            std::env::temp_dir().join("persistent-login-test-mail"),
        )
        .env_remove("MAIL_SMTP_URL")
        .env_remove("APP_CONFIG")
        .env_remove("TOKEN_KEYS")
        .env_remove("RUST_LOG");
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Instance {
    child: Child,
    pub port: u16,
    /// The server's log (its standard output).
    log: tempfile::NamedTempFile,
}

impl Instance {
    /// Starts the server with `env` on top of `base_env`; `ready` waits for it.
    pub fn spawn(env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut command = Command::new(binary());
        base_env(&mut command);
        command.env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"));
        for (name, value) in env {
            command.env(name, value);
        }
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = command
            .stdout(log.reopen().unwrap())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary runs");
        Self { child, port, log }
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// A handle that SIGKILLs the process from anywhere (another task).
    pub fn killer(&self) -> impl Fn() + Send + Sync + 'static {
        let pid = self.child.id().to_string();
        move || {
            let _ = Command::new("kill").args(["-9", &pid]).status();
        }
    }

    /// Ends the process at once (SIGKILL), as a crash or an OOM kill would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits until the server accepts connections (at most a minute).
    pub fn ready(self) -> Self {
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the server on port {} did not start",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        self
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A browser without a cookie jar and without following redirects: the test
/// carries the session cookie itself, from one instance to another as a load
/// balancer's client would.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `session=…` pair a response sets, if any.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    named_cookie(response, "session")
}

/// The cookie `name` the response sets, as `name=value` for a `Cookie` header.
pub fn named_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(&prefix))
        .and_then(|value| value.split(';').next())
        .map(str::to_string)
}
