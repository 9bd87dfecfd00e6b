//! At most `max` events per key in a sliding window, in this process only. Used where a per-node
//! budget is good enough (leave-a-message submissions); sign-in limits are kept in the store so
//! that they hold across a cluster (`Parley::login`).

use dashmap::DashMap;
use std::time::{Duration, Instant};

pub struct FailureLimiter {
    max: usize,
    window: Duration,
    failures: DashMap<String, Vec<Instant>>,
}

impl FailureLimiter {
    pub fn new(max: usize, window: Duration) -> Self {
        FailureLimiter {
            max,
            window,
            failures: DashMap::new(),
        }
    }

    /// `Some(seconds)` until the key may try again, or `None` if it may try now.
    pub fn blocked_for(&self, key: &str) -> Option<u64> {
        let now = Instant::now();
        let mut entry = self.failures.get_mut(key)?;
        entry.retain(|t| now.duration_since(*t) < self.window);
        if entry.len() >= self.max {
            let oldest = entry[0];
            Some((self.window - now.duration_since(oldest)).as_secs().max(1))
        } else {
            None
        }
    }

    pub fn record_failure(&self, key: &str) {
        let now = Instant::now();
        let mut e = self.failures.entry(key.to_owned()).or_default();
        e.retain(|t| now.duration_since(*t) < self.window);
        e.push(now);
    }

    pub fn clear(&self, key: &str) {
        self.failures.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_failures_and_clears() {
        let l = FailureLimiter::new(3, Duration::from_secs(60));
        for _ in 0..2 {
            l.record_failure("a");
        }
        assert_eq!(l.blocked_for("a"), None);
        l.record_failure("a");
        assert!(l.blocked_for("a").unwrap() > 0);
        assert_eq!(l.blocked_for("b"), None);
        l.clear("a");
        assert_eq!(l.blocked_for("a"), None);
    }
}
