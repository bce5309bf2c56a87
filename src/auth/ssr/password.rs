//! Password hashing with argon2id (PHC strings). Hashing runs on its own
//! `threads`, never on the async runtime, so at most that many hashes run at
//! once and a sign-in flood cannot exhaust memory (each hash holds `memory_kib`).
//!
//! Those threads run under the ordinary scheduling policy at a high nice value
//! (`HashingPolicy::nice`, 19 by default): below the request threads, so that
//! a sign-in flood leaves pages their CPU. A hash starved by other work (busy
//! processes, a page load that fills every core) is raised to an ordinary
//! share by `starvation`'s watchdog, so that sign-ins never wait for an idle
//! CPU. (`SCHED_IDLE`, used before, gave a thread no CPU at all while anything
//! else ran: a sign-in took 10 to 20 s. BENCHMARKS.md has the measurements.)
//!
//! A hash waits for a thread at most `queue_timeout`, with at most `max_queued`
//! waiting; past either the request is answered 503 with `Retry-After`.
//!
//! An unknown user is checked against a dummy hash made with the same
//! parameters, so both answers cost the same. It is made on a hashing thread
//! after start-up, so the server answers at once even on a busy machine; a
//! sign-in that needs it first waits for it like for any other hash.

use super::{
    starvation::{self, HashingThread},
    AuthError,
};
use crate::auth::Password;
use argon2::{
    password_hash::{self, rand_core::OsRng, Output, ParamsString, PasswordHash, Salt, SaltString},
    Algorithm, Argon2, Block, Params, Version,
};
use secrecy::{ExposeSecret, SecretString};
use std::{
    cell::RefCell,
    panic::{catch_unwind, AssertUnwindSafe},
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        mpsc::{sync_channel, SyncSender},
        Arc, Mutex,
    },
    time::Duration,
};
use tokio::sync::{oneshot, OnceCell, Semaphore, TryAcquireError};

impl From<Password> for SecretString {
    fn from(password: Password) -> Self {
        SecretString::from(password.into_inner())
    }
}

/// argon2id cost; the defaults are OWASP's (19 MiB, 2 passes, 1 lane).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for PasswordParams {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// How hashes are scheduled: threads, their priority, and the queue before them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashingPolicy {
    pub threads: usize,
    /// The hashing threads' nice value (0 to 19; higher yields more).
    pub nice: i32,
    /// How long a hash may wait for a free thread before the request is refused.
    pub queue_timeout: Duration,
    /// How many hashes may wait at once; more are refused at once.
    pub max_queued: usize,
}

pub struct PasswordHasher {
    argon2: Argon2<'static>,
    params: PasswordParams,
    /// Made on first need (or by `prepare`), never at construction.
    dummy_hash: OnceCell<String>,
    permits: Arc<Semaphore>,
    queue_timeout: Duration,
    max_queued: usize,
    queued: AtomicUsize,
    /// Requests refused because no thread was free in time, since start.
    refused: AtomicU64,
    pool: HashPool,
}

/// One place in the queue for a hashing thread, given back when dropped.
struct QueuePlace<'a>(&'a AtomicUsize);

impl<'a> QueuePlace<'a> {
    /// A place, unless `max` are taken already.
    fn take(queued: &'a AtomicUsize, max: usize) -> Option<Self> {
        let place = QueuePlace(queued);
        (queued.fetch_add(1, Ordering::SeqCst) < max).then_some(place)
    }
}

impl Drop for QueuePlace<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads. They stop when the hasher is dropped (the queue closes).
struct HashPool {
    jobs: SyncSender<Job>,
}

impl HashPool {
    fn start(threads: usize, nice: i32) -> Result<Self, AuthError> {
        let (jobs, queue) = sync_channel::<Job>(threads);
        let queue = Arc::new(Mutex::new(queue));
        let (started, watched) = std::sync::mpsc::channel();
        for n in 0..threads {
            let queue = queue.clone();
            let started = started.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    let me = HashingThread::current(nice);
                    let _ = started.send(Arc::downgrade(&me));
                    loop {
                        let next = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = next else { return };
                        // A panicking job drops its answer channel (the caller
                        // sees an error); the thread stays for the next one.
                        let _ = me.run(|| catch_unwind(AssertUnwindSafe(job)));
                    }
                })
                .map_err(|error| AuthError::Hashing(error.to_string()))?;
        }
        drop(started);
        starvation::watch(watched.iter().take(threads).collect());
        Ok(Self { jobs })
    }

    /// Queues `job` for the next free thread, without waiting: callers keep
    /// fewer jobs in flight than the queue holds.
    fn submit(&self, job: impl FnOnce() + Send + 'static) -> Result<(), AuthError> {
        self.jobs
            .try_send(Box::new(job))
            .map_err(|error| AuthError::Hashing(error.to_string()))
    }
}

fn thread_stopped() -> AuthError {
    AuthError::Hashing("the hashing thread stopped".into())
}

impl PasswordHasher {
    pub fn new(wanted: PasswordParams, policy: HashingPolicy) -> Result<Self, AuthError> {
        let params = Params::new(
            wanted.memory_kib,
            wanted.iterations,
            wanted.parallelism,
            None,
        )
        .map_err(|error| AuthError::Hashing(error.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let threads = policy.threads.max(1);
        Ok(Self {
            argon2,
            params: wanted,
            dummy_hash: OnceCell::new(),
            permits: Arc::new(Semaphore::new(threads)),
            queue_timeout: policy.queue_timeout,
            max_queued: policy.max_queued,
            queued: AtomicUsize::new(0),
            refused: AtomicU64::new(0),
            pool: HashPool::start(threads, policy.nice)?,
        })
    }

    /// Makes the dummy hash for unknown users now, so that the first such
    /// sign-in need not wait for it. Called once after start-up.
    pub async fn prepare(&self) -> Result<(), AuthError> {
        self.dummy_hash().await.map(|_| ())
    }

    async fn dummy_hash(&self) -> Result<&String, AuthError> {
        self.dummy_hash
            .get_or_try_init(|| {
                let dummy =
                    SecretString::from(format!("dummy-{}", SaltString::generate(&mut OsRng)));
                self.hash(dummy)
            })
            .await
    }

    pub async fn hash(&self, password: SecretString) -> Result<String, AuthError> {
        let argon2 = self.argon2.clone();
        self.run_blocking(move || hash_blocking(&argon2, &password))
            .await
    }

    /// True only when `stored` is present and matches. With `None` (unknown
    /// user) the dummy hash is verified, so the cost is the same, and the answer
    /// is always false.
    pub async fn verify(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<bool, AuthError> {
        let known_user = stored.is_some();
        let hash = match stored {
            Some(hash) => hash,
            None => self.dummy_hash().await?.clone(),
        };
        let matches = self
            .run_blocking(move || verify_blocking(&password, &hash))
            .await?;
        Ok(known_user && matches)
    }

    /// Whether a stored hash was made with other (older) parameters than the
    /// configured ones, and should be replaced at the next successful sign-in.
    pub fn needs_upgrade(&self, stored: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return true;
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return true;
        };
        parsed.algorithm.as_str() != "argon2id"
            || parsed.version != Some(Version::V0x13.into())
            || params.m_cost() != self.params.memory_kib
            || params.t_cost() != self.params.iterations
            || params.p_cost() != self.params.parallelism
    }

    /// Runs `work` on a hashing thread once one is free; callers wait here,
    /// on the async side, without holding a thread, for `queue_timeout` at most.
    async fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
    ) -> Result<T, AuthError> {
        let _permit = match self.permits.try_acquire() {
            Ok(permit) => permit,
            Err(TryAcquireError::NoPermits) => {
                let Some(_place) = QueuePlace::take(&self.queued, self.max_queued) else {
                    return Err(self.busy());
                };
                match tokio::time::timeout(self.queue_timeout, self.permits.acquire()).await {
                    Ok(permit) => permit.map_err(|error| AuthError::Hashing(error.to_string()))?,
                    Err(_) => return Err(self.busy()),
                }
            }
            Err(error) => return Err(AuthError::Hashing(error.to_string())),
        };
        let (answer, answered) = oneshot::channel();
        // With a permit held, fewer jobs are queued than the queue holds, so
        // this never waits.
        self.pool.submit(move || {
            let _ = answer.send(work());
        })?;
        answered.await.map_err(|_| thread_stopped())?
    }
}

impl PasswordHasher {
    /// The refusal of a hash that found no free thread in time, logged with
    /// how many there have been since start.
    fn busy(&self) -> AuthError {
        let refused = self.refused.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::warn!(
            refused,
            "sign-in refused: no password-hashing thread free in time"
        );
        AuthError::Busy {
            retry_after_secs: i64::try_from(self.queue_timeout.as_secs().max(1))
                .unwrap_or(i64::MAX),
        }
    }
}

fn hash_blocking(argon2: &Argon2<'_>, password: &SecretString) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut OsRng);
    let hash = compute(
        Algorithm::Argon2id,
        Version::V0x13,
        argon2.params().clone(),
        password.expose_secret().as_bytes(),
        salt.as_salt(),
    )
    .map_err(|error| AuthError::Hashing(error.to_string()))?;
    Ok(hash.to_string())
}

/// Checks `password` against a stored PHC hash, with the parameters stored in it.
fn verify_blocking(password: &SecretString, stored: &str) -> Result<bool, AuthError> {
    let fault = |error: password_hash::Error| AuthError::Hashing(error.to_string());
    let parsed = PasswordHash::new(stored).map_err(fault)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(AuthError::Hashing(
            "stored hash has no salt or output".into(),
        ));
    };
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(fault)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|error| AuthError::Hashing(error.to_string()))?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(fault)?;
    let computed = compute(
        algorithm,
        version,
        params,
        password.expose_secret().as_bytes(),
        salt,
    )
    .map_err(fault)?;
    // `Output` compares in constant time.
    Ok(computed.hash.as_ref() == Some(&expected))
}

/// The PHC hash of `password`, as `argon2::PasswordHasher::hash_password`
/// makes it, but computed in this thread's reusable memory (`with_memory`).
fn compute<'a>(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: Salt<'a>,
) -> Result<PasswordHash<'a>, password_hash::Error> {
    let mut salt_buffer = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buffer)?;
    let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let blocks = params.block_count();
    let phc_params = ParamsString::try_from(&params)?;
    let argon2 = Argon2::new(algorithm, version, params);
    let output = Output::init_with(output_len, |out| {
        with_memory(blocks, |memory| {
            argon2.hash_password_into_with_memory(password, salt_bytes, out, memory)
        })
        .map_err(password_hash::Error::from)
    })?;
    Ok(PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: phc_params,
        salt: Some(salt),
        hash: Some(output),
    })
}

thread_local! {
    /// argon2's working memory, kept by each hashing thread between hashes.
    /// Allocating and freeing `memory_kib` per hash made a sign-in flood churn
    /// the allocator (resident memory well above threads × `memory_kib`, and
    /// page faults and unmaps that slowed the request threads too).
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn with_memory<T>(blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        // Every block is written before it is read, so what an earlier hash
        // left there cannot change the result.
        work(&mut memory[..blocks])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: PasswordParams = PasswordParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(CHEAP, policy(2)).unwrap()
    }

    fn policy(threads: usize) -> HashingPolicy {
        HashingPolicy {
            threads,
            nice: 10,
            queue_timeout: Duration::from_secs(5),
            max_queued: 64,
        }
    }

    fn secret(text: &str) -> SecretString {
        SecretString::from(text.to_string())
    }

    #[tokio::test]
    async fn a_hash_is_argon2id_and_verifies_only_its_password() {
        let hasher = cheap();
        let hash = hasher.hash(secret("correct horse")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert!(hasher
            .verify(secret("correct horse"), Some(hash.clone()))
            .await
            .unwrap());
        assert!(!hasher
            .verify(secret("wrong horse"), Some(hash))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn hashes_match_the_argon2_crate_both_ways() {
        use argon2::{PasswordHasher as _, PasswordVerifier as _};
        let hasher = cheap();
        // Made by the library (fresh memory), checked by ours (reused memory
        // that earlier hashes have dirtied), and the other way round.
        let _ = hasher.hash(secret("warm the memory up")).await.unwrap();
        let salt = SaltString::generate(&mut OsRng);
        let theirs = hasher
            .argon2
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert!(hasher
            .verify(secret("correct horse"), Some(theirs.clone()))
            .await
            .unwrap());
        let ours = hasher.hash(secret("correct horse")).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(hasher
            .argon2
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        assert!(hasher
            .argon2
            .verify_password(b"wrong horse", &parsed)
            .is_err());
        // Same salt and parameters: the very same string.
        let again = compute(
            Algorithm::Argon2id,
            Version::V0x13,
            hasher.argon2.params().clone(),
            b"correct horse",
            salt.as_salt(),
        )
        .unwrap();
        assert_eq!(again.to_string(), theirs);
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        let hasher = cheap();
        assert!(!hasher
            .verify(secret("anything at all"), None)
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn a_corrupt_stored_hash_is_a_fault_not_a_match() {
        let hasher = cheap();
        let result = hasher
            .verify(secret("x"), Some("not a phc string".into()))
            .await;
        assert!(matches!(result, Err(AuthError::Hashing(_))));
    }

    #[tokio::test]
    async fn hashes_made_with_other_parameters_need_an_upgrade() {
        let old = cheap();
        let stored = old.hash(secret("correct horse")).await.unwrap();
        assert!(!old.needs_upgrade(&stored));
        let stronger = PasswordParams {
            memory_kib: 128,
            iterations: 1,
            parallelism: 1,
        };
        let new = PasswordHasher::new(stronger, policy(1)).unwrap();
        assert!(new.needs_upgrade(&stored));
        assert!(new.needs_upgrade("$argon2i$v=19$m=128,t=1,p=1$c29tZXNhbHQ$aGFzaA"));
    }

    /// The calling thread's scheduling policy and nice value, from /proc (Linux).
    #[cfg(target_os = "linux")]
    fn own_policy_and_nice() -> (i64, i64) {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        // Fields after "(comm)", counted from 3: nice is field 19, the policy 41.
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        let field = |n: usize| after_name.split(' ').nth(n - 3).unwrap().parse().unwrap();
        (field(41), field(19))
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_runs_at_the_ordinary_policy_below_request_threads() {
        const SCHED_OTHER: i64 = 0;
        let hasher = cheap();
        let hashing = hasher
            .run_blocking(|| Ok(own_policy_and_nice()))
            .await
            .unwrap();
        let request_thread = own_policy_and_nice();
        assert_eq!(request_thread.0, SCHED_OTHER);
        // Never SCHED_IDLE (5), which starves on a busy machine.
        assert_eq!(hashing, (SCHED_OTHER, request_thread.1 + 10));
    }

    /// A hash that gets no CPU for a while (here it sleeps, as a starved
    /// thread would wait) is raised to nice 0, and the next runs low again.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_starved_hash_is_raised_to_an_ordinary_share_until_it_ends() {
        let hasher = PasswordHasher::new(
            CHEAP,
            HashingPolicy {
                nice: 19,
                ..policy(1)
            },
        )
        .unwrap();
        let (at_start, at_end) = hasher
            .run_blocking(|| {
                let at_start = own_policy_and_nice().1;
                std::thread::sleep(Duration::from_millis(400));
                Ok((at_start, own_policy_and_nice().1))
            })
            .await
            .unwrap();
        assert_eq!((at_start, at_end), (19, 0));
        let next = hasher
            .run_blocking(|| Ok(own_policy_and_nice().1))
            .await
            .unwrap();
        assert_eq!(next, 19);
    }

    #[tokio::test]
    async fn a_hash_that_cannot_start_in_time_is_refused_as_busy() {
        let hasher = Arc::new(
            PasswordHasher::new(
                CHEAP,
                HashingPolicy {
                    threads: 1,
                    nice: 10,
                    queue_timeout: Duration::from_millis(100),
                    max_queued: 1,
                },
            )
            .unwrap(),
        );
        let (release, released) = std::sync::mpsc::channel::<()>();
        let holder = {
            let hasher = hasher.clone();
            tokio::spawn(async move {
                hasher
                    .run_blocking(move || {
                        let _ = released.recv();
                        Ok(())
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        // One waits its 100 ms and is refused; meanwhile a second finds the queue full.
        let waiting = {
            let hasher = hasher.clone();
            tokio::spawn(async move { hasher.hash(secret("waits")).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        let started = std::time::Instant::now();
        let full = hasher.hash(secret("queue full")).await;
        assert!(matches!(
            full,
            Err(AuthError::Busy {
                retry_after_secs: 1
            })
        ));
        assert!(started.elapsed() < Duration::from_millis(50));
        let waited = waiting.await.unwrap();
        assert!(matches!(waited, Err(AuthError::Busy { .. })));
        release.send(()).unwrap();
        holder.await.unwrap().unwrap();
        assert!(hasher.hash(secret("free again")).await.is_ok());
    }

    #[tokio::test]
    async fn the_dummy_hash_is_made_once_on_first_need() {
        let hasher = cheap();
        assert!(hasher.dummy_hash.get().is_none());
        assert!(!hasher.verify(secret("anything"), None).await.unwrap());
        let made = hasher.dummy_hash.get().cloned().unwrap();
        hasher.prepare().await.unwrap();
        assert_eq!(hasher.dummy_hash.get(), Some(&made));
    }

    #[tokio::test]
    async fn no_more_hashes_run_at_once_than_configured() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let hasher = Arc::new(PasswordHasher::new(CHEAP, policy(2)).unwrap());
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs = (0..8).map(|_| {
            let (hasher, running, most) = (hasher.clone(), running.clone(), most.clone());
            tokio::spawn(async move {
                hasher
                    .run_blocking(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        running.fetch_sub(1, Ordering::SeqCst);
                        Ok(())
                    })
                    .await
            })
        });
        for job in jobs.collect::<Vec<_>>() {
            job.await.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_the_pool_keeps_working() {
        let hasher = PasswordHasher::new(CHEAP, policy(1)).unwrap();
        let failed = hasher.run_blocking::<()>(|| panic!("job failed")).await;
        assert!(matches!(failed, Err(AuthError::Hashing(_))));
        assert!(hasher.hash(secret("still works")).await.is_ok());
    }

    #[test]
    fn defaults_follow_owasp() {
        let params = PasswordParams::default();
        assert_eq!(
            (params.memory_kib, params.iterations, params.parallelism),
            (19_456, 2, 1)
        );
    }
}
