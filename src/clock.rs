//! The server's clock in Unix seconds: the system's, plus an offset that only
//! tests move, so that expiry and throttling tests jump ahead instead of sleeping.

use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc,
};
use time::OffsetDateTime;

/// Copies share one offset: moving one moves the server's.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_secs: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> i64 {
        OffsetDateTime::now_utc().unix_timestamp() + self.offset_secs.load(Ordering::Relaxed)
    }

    /// Moves the clock ahead by `secs`. For tests: a server's clock is never
    /// moved in production.
    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_moves_with_the_original() {
        let clock = Clock::default();
        let copy = clock.clone();
        let before = copy.now();
        clock.advance(3_600);
        assert!((3_600..3_602).contains(&(copy.now() - before)));
    }
}
