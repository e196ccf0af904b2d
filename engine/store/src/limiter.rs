//! A small limiter against guessing resume codes: at most `max_failures` wrong codes per client
//! key (e.g. the client address) within a fixed window. Time is an input.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

use super::error::StoreError;

#[derive(Debug, Clone, Copy)]
struct Window {
    start: OffsetDateTime,
    failures: u32,
}

/// Where wrong resume codes are counted: in this process ([`ResumeLimiter`]) or, for several
/// nodes, in their shared database (`PgResumeLimiter`, feature `postgres`).
pub trait AttemptLimiter {
    /// `Err(RateLimited)` if `key` has used up its wrong attempts in the current window.
    fn check(&self, key: &str, now: OffsetDateTime) -> Result<(), StoreError>;
    /// Counts one wrong code for `key`.
    fn record_failure(&self, key: &str, now: OffsetDateTime) -> Result<(), StoreError>;
    /// Forgets the failures of `key` after a correct code.
    fn record_success(&self, key: &str) -> Result<(), StoreError>;
}

impl AttemptLimiter for ResumeLimiter {
    fn check(&self, key: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        ResumeLimiter::check(self, key, now)
    }
    fn record_failure(&self, key: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        ResumeLimiter::record_failure(self, key, now);
        Ok(())
    }
    fn record_success(&self, key: &str) -> Result<(), StoreError> {
        ResumeLimiter::record_success(self, key);
        Ok(())
    }
}

/// Counts wrong resume codes per client key. Memory is bounded: beyond `max_keys` tracked
/// clients, expired windows are dropped, and if that is not enough the oldest windows go.
#[derive(Debug)]
pub struct ResumeLimiter {
    max_failures: u32,
    window: Duration,
    max_keys: usize,
    windows: Mutex<HashMap<String, Window>>,
}

impl Default for ResumeLimiter {
    /// 10 wrong codes per 15 minutes, up to 100,000 tracked clients.
    fn default() -> Self {
        Self::new(10, Duration::minutes(15), 100_000)
    }
}

impl ResumeLimiter {
    /// At most `max_failures` wrong codes per client key within `window`, tracking at most
    /// `max_keys` clients.
    pub fn new(max_failures: u32, window: Duration, max_keys: usize) -> Self {
        Self {
            max_failures,
            window,
            max_keys: max_keys.max(1),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(RateLimited)` if `key` has used up its wrong attempts in the current window.
    pub fn check(&self, key: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        match windows.get(key) {
            Some(w) if now < w.start + self.window && w.failures >= self.max_failures => {
                Err(StoreError::RateLimited {
                    retry_after: w.start + self.window - now,
                })
            }
            _ => Ok(()),
        }
    }

    /// Counts one wrong code for `key`.
    pub fn record_failure(&self, key: &str, now: OffsetDateTime) {
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if windows.len() >= self.max_keys && !windows.contains_key(key) {
            let window = self.window;
            windows.retain(|_, w| now < w.start + window);
            while windows.len() >= self.max_keys {
                let oldest = windows
                    .iter()
                    .min_by_key(|(_, w)| w.start)
                    .map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => windows.remove(&k),
                    None => break,
                };
            }
        }
        let w = windows.entry(key.to_owned()).or_insert(Window {
            start: now,
            failures: 0,
        });
        if now >= w.start + self.window {
            *w = Window {
                start: now,
                failures: 0,
            };
        }
        w.failures = w.failures.saturating_add(1);
    }

    /// Forgets the failures of `key` after a correct code.
    pub fn record_success(&self, key: &str) {
        self.windows
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::datetime;

    #[test]
    fn blocks_after_too_many_failures_and_forgives_after_the_window() {
        let l = ResumeLimiter::new(3, Duration::minutes(10), 100);
        let t0 = datetime!(2026-03-01 10:00 UTC);
        for _ in 0..3 {
            l.check("1.2.3.4", t0).unwrap();
            l.record_failure("1.2.3.4", t0);
        }
        let err = l.check("1.2.3.4", t0 + Duration::minutes(1)).unwrap_err();
        assert_eq!(err.code(), "LOT-S014");
        l.check("5.6.7.8", t0).unwrap();
        l.check("1.2.3.4", t0 + Duration::minutes(10)).unwrap();
    }

    #[test]
    fn memory_stays_bounded() {
        let l = ResumeLimiter::new(3, Duration::minutes(10), 10);
        let t0 = datetime!(2026-03-01 10:00 UTC);
        for i in 0..100 {
            l.record_failure(&format!("client-{i}"), t0 + Duration::seconds(i));
        }
        assert!(l.windows.lock().unwrap().len() <= 10);
    }
}
