//! Whether a backend (the database, Redis) can be reached, as this process
//! last found it.
//!
//! The first request that finds a backend gone marks it down and logs one
//! error. While it is down, requests that need it fail at once (the app
//! answers 503 with `Retry-After`) instead of each waiting for a connection
//! that cannot come. One probe per backend tries it again every
//! `PROBE_EVERY`; when it answers, the backend is up again, with one log line.
//! So an outage costs two log lines, however many requests meet it.
//!
//! This is each process's own view, not shared state: every instance finds
//! the outage and the recovery for itself.

use std::{
    future::Future,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

/// How often a backend that is down is tried again.
pub const PROBE_EVERY: Duration = Duration::from_millis(250);

/// How long one probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// One attempt to reach the backend: `true` when it answered.
pub type Probe = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

/// The state of one backend.
#[derive(Clone)]
pub struct Health {
    name: &'static str,
    down: Arc<AtomicBool>,
    probe: Probe,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health")
            .field("name", &self.name)
            .field("down", &self.is_down())
            .finish()
    }
}

impl Health {
    /// `name` appears in the log lines; `probe` tries the backend.
    pub fn new(name: &'static str, probe: Probe) -> Self {
        Self {
            name,
            down: Arc::new(AtomicBool::new(false)),
            probe,
        }
    }

    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Acquire)
    }

    /// Records that a request could not reach the backend: the first time
    /// since it was last up, logs it and starts the probe.
    pub fn went_down(&self, error: &dyn std::fmt::Display) {
        if self.down.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::error!(backend = self.name, error = %error, "backend unavailable; answering 503 until it is back");
        let health = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PROBE_EVERY).await;
                let answered = tokio::time::timeout(PROBE_TIMEOUT, (health.probe)())
                    .await
                    .unwrap_or(false);
                if answered {
                    health.down.store(false, Ordering::Release);
                    tracing::info!(backend = health.name, "backend available again");
                    return;
                }
            }
        });
    }

    /// Hands on an operation's outcome, marking the backend down when it
    /// failed with an error that `unavailable` says is an outage.
    pub fn observe<T, E: std::fmt::Display>(
        &self,
        result: Result<T, E>,
        unavailable: impl Fn(&E) -> bool,
    ) -> Result<T, E> {
        if let Err(error) = &result {
            if unavailable(error) {
                self.went_down(error);
            }
        }
        result
    }

    /// A request failed in a way that may mean an outage: checks the backend
    /// in the background (and marks it down if it does not answer).
    pub fn suspect(&self) {
        if !self.is_down() {
            let health = self.clone();
            tokio::spawn(async move {
                health.check().await;
            });
        }
    }

    /// Tries the backend now (the readiness check), whatever the last request
    /// found; a failure marks it down.
    pub async fn check(&self) -> bool {
        if self.is_down() {
            return false;
        }
        let answered = tokio::time::timeout(PROBE_TIMEOUT, (self.probe)())
            .await
            .unwrap_or(false);
        if !answered {
            self.went_down(&"no answer to a probe");
        }
        answered
    }
}

/// The name of the first of `backends` that does not answer now (the
/// readiness check), each tried once however often it is named.
pub async fn first_unready(backends: &[&Health]) -> Option<&'static str> {
    let mut tried = Vec::new();
    for health in backends {
        if tried.contains(&health.name) {
            continue;
        }
        tried.push(health.name);
        if !health.check().await {
            return Some(health.name);
        }
    }
    None
}
