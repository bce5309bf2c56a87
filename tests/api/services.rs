//! Throwaway Redis and PostgreSQL servers of the test's own, on free ports in
//! temporary folders, that a test can stop (an outage) and start again on the
//! same data. The machine's own services are never touched.

use super::instance::free_port;
use std::{
    net::TcpStream,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

fn wait_for_port(port: u16, what: &str) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{what} on port {port} did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A server a test can take away and bring back.
pub trait Backend {
    /// The outage: ended as a crash would end it.
    fn stop(&mut self);
    /// Back on the same port with the same data.
    fn start_again(&mut self);
}

/// `redis-server` with append-only persistence, every write on disk before
/// its answer (`appendfsync always`), so a kill loses nothing answered.
pub struct ThrowawayRedis {
    dir: tempfile::TempDir,
    pub port: u16,
    child: Option<Child>,
}

impl ThrowawayRedis {
    pub fn start() -> Self {
        let mut redis = Self {
            dir: tempfile::tempdir().unwrap(),
            port: free_port(),
            child: None,
        };
        redis.start_again();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Backend for ThrowawayRedis {
    /// SIGKILL.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn start_again(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--dir", &self.dir.path().display().to_string()])
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (Debian package redis-server)");
        self.child = Some(child);
        wait_for_port(self.port, "redis-server");
    }
}

impl Drop for ThrowawayRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A PostgreSQL cluster made by `initdb` and run by `pg_ctl` (as the
/// `postgres` user when the test runs as root, which PostgreSQL refuses).
pub struct ThrowawayPostgres {
    dir: tempfile::TempDir,
    pub port: u16,
    running: bool,
}

fn bindir() -> PathBuf {
    let output = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .expect("pg_config runs (Debian package postgresql)");
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

fn as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}

/// `program` from PostgreSQL's bindir, as its owner.
fn pg_command(program: &str) -> Command {
    let program = bindir().join(program);
    if as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

impl ThrowawayPostgres {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        if as_root() {
            let chowned = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(chowned.success());
        }
        let data = dir.path().join("data");
        let made = pg_command("initdb")
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(made.success(), "initdb failed");
        let mut postgres = Self {
            dir,
            port: free_port(),
            running: false,
        };
        postgres.start_again();
        postgres
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, args: &[&str]) -> bool {
        pg_command("pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-w", "-l"])
            .arg(self.dir.path().join("log"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }
}

impl Backend for ThrowawayPostgres {
    /// An immediate stop: no checkpoint, as after a crash.
    fn stop(&mut self) {
        if self.running {
            let _ = self.pg_ctl(&["stop", "-m", "immediate"]);
            self.running = false;
        }
    }

    fn start_again(&mut self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.dir.path().display()
        );
        assert!(
            self.pg_ctl(&["start", "-o", &options]),
            "pg_ctl start failed"
        );
        self.running = true;
        wait_for_port(self.port, "postgres");
    }
}

impl Drop for ThrowawayPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}
