//! [`PgResumeLimiter`]: wrong attempts counted in the database, across all nodes.

use std::sync::atomic::Ordering;

use sqlx::Row;
use time::{Duration, OffsetDateTime};

use super::{PgStore, db_err};
use crate::error::StoreError;
use crate::limiter::AttemptLimiter;

/// Wrong resume codes counted in the database, so the limit holds across all nodes: at most
/// `max_failures` per client key within a fixed window.
#[derive(Debug, Clone)]
pub struct PgResumeLimiter {
    store: PgStore,
    max_failures: u32,
    window: Duration,
}

impl PgResumeLimiter {
    /// At most `max_failures` wrong codes per client key within `window`.
    pub fn new(store: PgStore, max_failures: u32, window: Duration) -> Self {
        Self {
            store,
            max_failures,
            window,
        }
    }
}

impl AttemptLimiter for PgResumeLimiter {
    fn check(&self, key: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let row = self.store.run(async |pool| {
            sqlx::query("SELECT window_start, failures FROM resume_attempts WHERE client = $1")
                .bind(key)
                .fetch_optional(pool)
                .await
                .map_err(db_err)
        })?;
        if let Some(row) = row {
            let start: OffsetDateTime = row.try_get("window_start").map_err(db_err)?;
            let failures: i32 = row.try_get("failures").map_err(db_err)?;
            let max = i32::try_from(self.max_failures).unwrap_or(i32::MAX);
            if now < start + self.window && failures >= max {
                return Err(StoreError::RateLimited {
                    retry_after: start + self.window - now,
                });
            }
        }
        Ok(())
    }

    fn record_failure(&self, key: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let expired_before = now - self.window;
        let sweep = self
            .store
            .inner
            .limiter_calls
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(1000);
        self.store.run(async |pool| {
            // One statement: concurrent failures on several nodes all count.
            sqlx::query(
                "INSERT INTO resume_attempts (client, window_start, failures) VALUES ($1, $2, 1) \
                 ON CONFLICT (client) DO UPDATE SET \
                   window_start = CASE WHEN resume_attempts.window_start <= $3 THEN $2 \
                                       ELSE resume_attempts.window_start END, \
                   failures = CASE WHEN resume_attempts.window_start <= $3 THEN 1 \
                                   ELSE resume_attempts.failures + 1 END",
            )
            .bind(key)
            .bind(now)
            .bind(expired_before)
            .execute(pool)
            .await
            .map_err(db_err)?;
            if sweep {
                sqlx::query("DELETE FROM resume_attempts WHERE window_start <= $1")
                    .bind(expired_before)
                    .execute(pool)
                    .await
                    .map_err(db_err)?;
            }
            Ok(())
        })
    }

    fn record_success(&self, key: &str) -> Result<(), StoreError> {
        self.store.run(async |pool| {
            sqlx::query("DELETE FROM resume_attempts WHERE client = $1")
                .bind(key)
                .execute(pool)
                .await
                .map_err(db_err)?;
            Ok(())
        })
    }
}
