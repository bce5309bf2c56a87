//! Keeps sign-ins from starving while hashing runs below the pages.
//!
//! Hashing threads run at a high nice value, so that a sign-in flood leaves
//! the pages their CPU. On a machine busy with other work (other processes, or
//! a page load that fills every core) such a thread gets almost no CPU, and a
//! sign-in waits for seconds. A watchdog looks at each running hash every
//! `CHECK_EVERY`: one that has run `GRACE` or longer and got less than
//! `STARVED_SHARE` of the time it was on the clock is starved, and its thread is raised to nice 0
//! (an ordinary share) until that hash ends. A flood on an otherwise free
//! machine never starves the hashes, so they stay below the pages.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex, Weak,
    },
    time::{Duration, Instant},
};

const CHECK_EVERY: Duration = Duration::from_millis(25);
const GRACE: Duration = Duration::from_millis(75);
/// Below this share of its time on the clock a hash is starved. A flood's own
/// load (other request threads, a load generator on the same machine) leaves
/// a hash more than this; busy processes beside it leave it a few per cent.
const STARVED_SHARE: f64 = 0.2;

/// Whether a hash that ran `wall` and got `cpu` of it was starved.
pub fn starved(cpu: Duration, wall: Duration) -> bool {
    wall >= GRACE && cpu.as_secs_f64() < wall.as_secs_f64() * STARVED_SHARE
}

/// One hashing thread as the watchdog sees it.
#[derive(Debug)]
pub struct HashingThread {
    tid: rustix::process::Pid,
    background_nice: i32,
    /// The running hash: when it started and the thread's CPU time then.
    job: Mutex<Option<(Instant, Duration)>>,
    boosted: AtomicBool,
}

impl HashingThread {
    /// Called on the hashing thread itself, before its first hash.
    pub fn current(background_nice: i32) -> Arc<Self> {
        let thread = Arc::new(Self {
            tid: rustix::thread::gettid(),
            background_nice,
            job: Mutex::new(None),
            boosted: AtomicBool::new(false),
        });
        thread.set_nice(background_nice);
        thread
    }

    /// Runs one hash, watched; afterwards the thread is back at its nice value.
    pub fn run<T>(&self, work: impl FnOnce() -> T) -> T {
        if let (Ok(mut job), Some(cpu)) = (self.job.lock(), self.cpu_time()) {
            *job = Some((Instant::now(), cpu));
        }
        let result = work();
        if let Ok(mut job) = self.job.lock() {
            *job = None;
        }
        if self.boosted.swap(false, Ordering::SeqCst) {
            self.set_nice(self.background_nice);
        }
        result
    }

    fn check(&self) {
        let Ok(job) = self.job.lock() else { return };
        let Some((started, cpu_at_start)) = *job else {
            return;
        };
        let Some(cpu) = self.cpu_time() else { return };
        if !self.boosted.load(Ordering::SeqCst)
            && starved(cpu.saturating_sub(cpu_at_start), started.elapsed())
        {
            self.boosted.store(true, Ordering::SeqCst);
            tracing::debug!("a starved password hash raised to an ordinary share");
            self.set_nice(0);
        }
    }

    /// The thread's CPU time so far (`/proc/self/task/<tid>/schedstat`).
    fn cpu_time(&self) -> Option<Duration> {
        let tid = self.tid.as_raw_nonzero();
        let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).ok()?;
        let nanos: u64 = stat.split_whitespace().next()?.parse().ok()?;
        Some(Duration::from_nanos(nanos))
    }

    fn set_nice(&self, nice: i32) {
        if let Err(error) = rustix::process::setpriority_process(Some(self.tid), nice) {
            tracing::warn!(%error, nice, "cannot set a password-hashing thread's priority");
        }
    }
}

/// Checks `threads` every `CHECK_EVERY` for as long as any of them lives.
pub fn watch(threads: Vec<Weak<HashingThread>>) {
    let spawned = std::thread::Builder::new()
        .name("argon2-watchdog".into())
        .spawn(move || loop {
            std::thread::sleep(CHECK_EVERY);
            let mut alive = false;
            for thread in threads.iter().filter_map(Weak::upgrade) {
                alive = true;
                thread.check();
            }
            if !alive {
                return;
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "no watchdog for the hashing threads: on a busy machine sign-ins may wait");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_starved_when_it_got_under_a_fifth_of_its_time_after_the_grace() {
        let ms = Duration::from_millis;
        assert!(!starved(ms(0), ms(50)), "within the grace");
        assert!(starved(ms(5), ms(100)));
        assert!(starved(ms(19), ms(100)));
        assert!(!starved(ms(30), ms(100)), "a flood's share");
        assert!(!starved(ms(100), ms(100)));
    }
}
