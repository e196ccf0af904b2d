//! Limits on attempts that guess a secret (resume codes, passwords). An attempt is *reserved*
//! before the secret is checked, in one atomic step with the check of the limit, so that
//! parallel attempts cannot all pass the check before any of them is counted. A reserved
//! attempt stays counted as a failure; one that turned out right is *refunded* (the count goes
//! down by one), so a correct secret never wipes out the wrong ones before it. Time is an input.
//!
//! Two policies ([`LimitPolicy`]): a hard limit per fixed window, and a slowdown whose delay
//! grows with every failure but stays short, so that a third party cannot lock somebody out
//! for long. [`ResumeLimiter`] keeps the counts in memory (one process); `PgResumeLimiter`
//! (feature `postgres`) in the shared database, with the same [`LimitPolicy::reserve`].

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

use super::error::StoreError;

/// How attempts per key are limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitPolicy {
    /// At most `max` attempts per key within a fixed `window` that starts with the first one;
    /// then none until the window ends.
    Window { max: u32, window: Duration },
    /// `free` attempts at once; the attempt that uses the last of them and every one after it
    /// make the next wait: `base`, doubling with each further attempt, at most `cap`. After
    /// `idle` without an attempt the key starts afresh. Guessing stays slow, and nobody is
    /// locked out for longer than `cap` by someone else's wrong attempts.
    Slowdown {
        free: u32,
        base: Duration,
        cap: Duration,
        idle: Duration,
    },
}

/// What is counted for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptState {
    /// `Window`: when the window began. `Slowdown`: the last attempt.
    pub since: OffsetDateTime,
    /// Attempts reserved and not refunded.
    pub count: u32,
    /// `Slowdown`: no attempt before this.
    pub not_before: Option<OffsetDateTime>,
}

/// No policy keeps a key longer than this (the sweep of the shared table relies on it).
pub const LONGEST_KEPT: Duration = Duration::days(1);

impl LimitPolicy {
    /// A hard limit: `max` attempts per `window`.
    pub fn window(max: u32, window: Duration) -> Self {
        LimitPolicy::Window { max, window }
    }

    /// The state after reserving one attempt, or how long to wait when none is left. `state`
    /// is what was counted for the key so far (`None`: nothing).
    pub fn reserve(
        &self,
        state: Option<AttemptState>,
        now: OffsetDateTime,
    ) -> Result<AttemptState, Duration> {
        match *self {
            LimitPolicy::Window { max, window } => match state {
                Some(s) if now < s.since + window && now >= s.since => {
                    if s.count >= max {
                        Err(s.since + window - now)
                    } else {
                        Ok(AttemptState {
                            count: s.count + 1,
                            ..s
                        })
                    }
                }
                _ => Ok(AttemptState {
                    since: now,
                    count: 1,
                    not_before: None,
                }),
            },
            LimitPolicy::Slowdown {
                free,
                base,
                cap,
                idle,
            } => {
                let s = match state {
                    Some(s) if now < s.since + idle => s,
                    _ => AttemptState {
                        since: now,
                        count: 0,
                        not_before: None,
                    },
                };
                if let Some(nb) = s.not_before
                    && now < nb
                {
                    return Err(nb - now);
                }
                let count = s.count.saturating_add(1);
                let not_before = (count >= free.max(1)).then(|| {
                    let doublings = (count - free.max(1)).min(30);
                    now + (base * 2i32.pow(doublings)).min(cap)
                });
                Ok(AttemptState {
                    since: now,
                    count,
                    not_before,
                })
            }
        }
    }

    /// The state after giving back one reserved attempt that turned out right.
    pub fn refund(&self, state: AttemptState) -> AttemptState {
        AttemptState {
            count: state.count.saturating_sub(1),
            ..state
        }
    }

    /// Whether a key's state can be forgotten: it no longer limits anything.
    pub fn expired(&self, state: &AttemptState, now: OffsetDateTime) -> bool {
        let quiet = match *self {
            LimitPolicy::Window { window, .. } => now >= state.since + window,
            LimitPolicy::Slowdown { idle, .. } => now >= state.since + idle,
        };
        quiet && state.not_before.is_none_or(|nb| now >= nb)
    }

    /// Refuses policies the store cannot keep: nothing to count, or kept beyond
    /// [`LONGEST_KEPT`].
    pub fn checked(self) -> Result<Self, StoreError> {
        let ok = match self {
            LimitPolicy::Window { max, window } => {
                max >= 1 && window > Duration::ZERO && window <= LONGEST_KEPT
            }
            LimitPolicy::Slowdown {
                free,
                base,
                cap,
                idle,
            } => {
                free >= 1
                    && base > Duration::ZERO
                    && cap >= base
                    && cap < idle
                    && idle <= LONGEST_KEPT
            }
        };
        if ok {
            Ok(self)
        } else {
            Err(StoreError::InvalidInput(format!(
                "attempt limit {self:?}: counts from 1, durations positive, a slowdown's cap below its idle time, nothing kept beyond a day"
            )))
        }
    }
}

/// Where attempts are counted: in this process ([`ResumeLimiter`]) or, for several nodes, in
/// their shared database (`PgResumeLimiter`, feature `postgres`).
pub trait AttemptLimiter {
    /// Reserves one attempt for `key` before the secret is checked: `Err(RateLimited)` (and
    /// nothing counted) if the key has none left. A reserved attempt counts as a failure until
    /// it is refunded.
    fn reserve(&self, key: &str, now: OffsetDateTime) -> Result<(), StoreError>;
    /// Gives back the attempt reserved for `key` after the secret turned out right. Earlier
    /// failures stay counted.
    fn refund(&self, key: &str, now: OffsetDateTime) -> Result<(), StoreError>;
}

/// Counts attempts per key in memory. Memory is bounded: beyond `max_keys` tracked keys,
/// expired ones are dropped, and if that is not enough the oldest go.
#[derive(Debug)]
pub struct ResumeLimiter {
    policy: LimitPolicy,
    max_keys: usize,
    states: Mutex<HashMap<String, AttemptState>>,
}

impl Default for ResumeLimiter {
    /// 10 attempts per 15 minutes, up to 100,000 tracked keys.
    fn default() -> Self {
        Self::new(10, Duration::minutes(15), 100_000)
    }
}

impl ResumeLimiter {
    /// At most `max_failures` attempts per key within `window`, tracking at most `max_keys`.
    pub fn new(max_failures: u32, window: Duration, max_keys: usize) -> Self {
        Self::with_policy(LimitPolicy::window(max_failures, window), max_keys)
    }

    /// Attempts limited by `policy`, tracking at most `max_keys` keys.
    pub fn with_policy(policy: LimitPolicy, max_keys: usize) -> Self {
        Self {
            policy,
            max_keys: max_keys.max(1),
            states: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(RateLimited)` if `key` has no attempt left now (nothing is counted).
    pub fn check(&self, key: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let states = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        match self.policy.reserve(states.get(key).copied(), now) {
            Ok(_) => Ok(()),
            Err(retry_after) => Err(StoreError::RateLimited { retry_after }),
        }
    }
}

impl AttemptLimiter for ResumeLimiter {
    fn reserve(&self, key: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut states = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        let next = self
            .policy
            .reserve(states.get(key).copied(), now)
            .map_err(|retry_after| StoreError::RateLimited { retry_after })?;
        if states.len() >= self.max_keys && !states.contains_key(key) {
            let policy = self.policy;
            states.retain(|_, s| !policy.expired(s, now));
            while states.len() >= self.max_keys {
                let oldest = states
                    .iter()
                    .min_by_key(|(_, s)| s.since)
                    .map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => states.remove(&k),
                    None => break,
                };
            }
        }
        states.insert(key.to_owned(), next);
        Ok(())
    }

    fn refund(&self, key: &str, _now: OffsetDateTime) -> Result<(), StoreError> {
        let mut states = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = states.get_mut(key) {
            *s = self.policy.refund(*s);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-01 10:00 UTC);

    #[test]
    fn blocks_after_too_many_attempts_and_forgives_after_the_window() {
        let l = ResumeLimiter::new(3, Duration::minutes(10), 100);
        for _ in 0..3 {
            l.reserve("1.2.3.4", T0).unwrap();
        }
        let err = l.reserve("1.2.3.4", T0 + Duration::minutes(1)).unwrap_err();
        assert_eq!(err.code(), "LOT-S014");
        l.reserve("5.6.7.8", T0).unwrap();
        l.reserve("1.2.3.4", T0 + Duration::minutes(10)).unwrap();
    }

    #[test]
    fn a_right_attempt_is_refunded_but_wipes_out_no_wrong_one() {
        let l = ResumeLimiter::new(3, Duration::minutes(10), 100);
        // wrong, right, wrong, right, wrong: three wrong ones, and the limit is reached.
        for i in 0..5 {
            l.reserve("c", T0).unwrap();
            if i % 2 == 1 {
                l.refund("c", T0).unwrap();
            }
        }
        assert_eq!(l.reserve("c", T0).unwrap_err().code(), "LOT-S014");
    }

    #[test]
    fn parallel_attempts_reserve_no_more_than_the_limit() {
        let l = std::sync::Arc::new(ResumeLimiter::new(5, Duration::minutes(15), 100));
        let granted: usize = std::thread::scope(|s| {
            let hs: Vec<_> = (0..40)
                .map(|_| {
                    let l = l.clone();
                    s.spawn(move || l.reserve("acct", T0).is_ok())
                })
                .collect();
            hs.into_iter().map(|h| usize::from(h.join().unwrap())).sum()
        });
        assert_eq!(granted, 5);
    }

    #[test]
    fn a_slowdown_makes_wait_a_little_more_each_time_but_never_long() {
        let p = LimitPolicy::Slowdown {
            free: 3,
            base: Duration::seconds(2),
            cap: Duration::seconds(30),
            idle: Duration::minutes(15),
        };
        let l = ResumeLimiter::with_policy(p.checked().unwrap(), 100);
        let mut now = T0;
        for _ in 0..3 {
            l.reserve("a", now).unwrap();
        }
        // The third used the last free one: 2 s wait, then 4, 8, 16, 30, 30.
        for wait in [2, 4, 8, 16, 30, 30] {
            let err = l.reserve("a", now).unwrap_err();
            match err {
                StoreError::RateLimited { retry_after } => {
                    assert_eq!(retry_after, Duration::seconds(wait));
                }
                other => panic!("{other}"),
            }
            now += Duration::seconds(wait);
            l.reserve("a", now).unwrap();
        }
        // Another key is not slowed down; after a quiet quarter hour the key starts afresh.
        l.reserve("b", now).unwrap();
        now += Duration::minutes(15);
        for _ in 0..3 {
            l.reserve("a", now).unwrap();
        }
        assert!(l.reserve("a", now).is_err());
    }

    #[test]
    fn policies_that_cannot_be_kept_are_refused() {
        assert!(
            LimitPolicy::window(0, Duration::minutes(1))
                .checked()
                .is_err()
        );
        assert!(LimitPolicy::window(5, Duration::days(2)).checked().is_err());
        let long_cap = LimitPolicy::Slowdown {
            free: 5,
            base: Duration::seconds(1),
            cap: Duration::hours(1),
            idle: Duration::minutes(15),
        };
        assert!(long_cap.checked().is_err());
    }

    #[test]
    fn memory_stays_bounded() {
        let l = ResumeLimiter::new(3, Duration::minutes(10), 10);
        for i in 0..100 {
            l.reserve(&format!("client-{i}"), T0 + Duration::seconds(i))
                .unwrap();
        }
        assert!(l.states.lock().unwrap().len() <= 10);
    }
}
