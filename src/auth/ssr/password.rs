//! Password hashing with argon2id (PHC strings). Hashing runs on its own
//! `concurrency` threads, never on the async runtime, so at most that many
//! hashes run at once and a sign-in flood cannot exhaust memory (each hash
//! holds `memory_kib`). Those threads run at the lowest CPU priority (Linux's
//! `SCHED_IDLE` policy): under a flood, pages keep their latency and sign-ins queue,
//! instead of every request slowing down together.
//! An unknown user is checked against a dummy hash made with the same
//! parameters, so both answers cost the same.

use super::AuthError;
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
        mpsc::{sync_channel, SyncSender},
        Arc, Mutex,
    },
};
use tokio::sync::{oneshot, Semaphore};

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

pub struct PasswordHasher {
    argon2: Argon2<'static>,
    params: PasswordParams,
    dummy_hash: String,
    permits: Arc<Semaphore>,
    pool: HashPool,
}

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads. They stop when the hasher is dropped (the queue closes).
struct HashPool {
    jobs: SyncSender<Job>,
}

impl HashPool {
    fn start(threads: usize) -> Result<Self, AuthError> {
        let (jobs, queue) = sync_channel::<Job>(threads);
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let next = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = next else { return };
                        // A panicking job drops its answer channel (the caller
                        // sees an error); the thread stays for the next one.
                        let _ = catch_unwind(AssertUnwindSafe(job));
                    }
                })
                .map_err(|error| AuthError::Hashing(error.to_string()))?;
        }
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

/// The lowest priority there is: on Linux the `SCHED_IDLE` policy, which a
/// waking request thread preempts at once (a nice-19 thread may first finish
/// its time slice), elsewhere the lowest nice value.
fn lower_priority() {
    use thread_priority::ThreadPriority;
    #[cfg(target_os = "linux")]
    let lowered = thread_priority::set_thread_priority_and_policy(
        thread_priority::thread_native_id(),
        ThreadPriority::Min,
        thread_priority::ThreadSchedulePolicy::Normal(
            thread_priority::NormalThreadSchedulePolicy::Idle,
        ),
    );
    #[cfg(not(target_os = "linux"))]
    let lowered = thread_priority::set_current_thread_priority(ThreadPriority::Min);
    if let Err(error) = lowered {
        tracing::warn!(
            ?error,
            "cannot lower the password-hashing threads' priority"
        );
    }
}

impl PasswordHasher {
    pub fn new(wanted: PasswordParams, concurrency: usize) -> Result<Self, AuthError> {
        let params = Params::new(
            wanted.memory_kib,
            wanted.iterations,
            wanted.parallelism,
            None,
        )
        .map_err(|error| AuthError::Hashing(error.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy = SecretString::from(format!("dummy-{}", SaltString::generate(&mut OsRng)));
        let concurrency = concurrency.max(1);
        let pool = HashPool::start(concurrency)?;
        // On a hashing thread, whose argon2 memory is kept anyway, rather
        // than leaving 19 MiB with whichever thread builds the hasher.
        let (answer, answered) = std::sync::mpsc::channel();
        let for_dummy = argon2.clone();
        pool.submit(move || {
            let _ = answer.send(hash_blocking(&for_dummy, &dummy));
        })?;
        let dummy_hash = answered.recv().map_err(|_| thread_stopped())??;
        Ok(Self {
            argon2,
            params: wanted,
            dummy_hash,
            permits: Arc::new(Semaphore::new(concurrency)),
            pool,
        })
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
        let hash = stored.unwrap_or_else(|| self.dummy_hash.clone());
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
    /// on the async side, without holding a thread.
    async fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
    ) -> Result<T, AuthError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|error| AuthError::Hashing(error.to_string()))?;
        let (answer, answered) = oneshot::channel();
        // With a permit held, fewer jobs are queued than the queue holds, so
        // this never waits.
        self.pool.submit(move || {
            let _ = answer.send(work());
        })?;
        answered.await.map_err(|_| thread_stopped())?
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

    fn cheap() -> PasswordHasher {
        let params = PasswordParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        PasswordHasher::new(params, 2).unwrap()
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
        let new = PasswordHasher::new(stronger, 1).unwrap();
        assert!(new.needs_upgrade(&stored));
        assert!(new.needs_upgrade("$argon2i$v=19$m=128,t=1,p=1$c29tZXNhbHQ$aGFzaA"));
    }

    /// The calling thread's scheduling policy, from /proc (Linux).
    #[cfg(target_os = "linux")]
    fn own_policy() -> i64 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        // Fields after "(comm)", counted from 3: the policy is field 41.
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        after_name.split(' ').nth(41 - 3).unwrap().parse().unwrap()
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_runs_below_the_priority_of_request_threads() {
        const SCHED_OTHER: i64 = 0;
        const SCHED_IDLE: i64 = 5;
        let hasher = cheap();
        let hashing = hasher.run_blocking(|| Ok(own_policy())).await.unwrap();
        assert_eq!(own_policy(), SCHED_OTHER, "request threads");
        // SCHED_IDLE ignores the nice value: below nice 19 of SCHED_OTHER.
        assert_eq!(hashing, SCHED_IDLE);
    }

    #[tokio::test]
    async fn no_more_hashes_run_at_once_than_configured() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let hasher = Arc::new(
            PasswordHasher::new(
                PasswordParams {
                    memory_kib: 64,
                    iterations: 1,
                    parallelism: 1,
                },
                2,
            )
            .unwrap(),
        );
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
        let hasher = PasswordHasher::new(
            PasswordParams {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            },
            1,
        )
        .unwrap();
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
