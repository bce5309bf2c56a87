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

    /// `now` as a date and time.
    pub fn now_utc(&self) -> OffsetDateTime {
        utc(self.now())
    }

    /// Moves the clock ahead by `secs`. For tests: a server's clock is never
    /// moved in production.
    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::Relaxed);
    }
}

/// The instant `seconds` after the Unix epoch (the epoch itself for a value
/// out of range).
pub fn utc(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
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
