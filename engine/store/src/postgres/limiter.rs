//! [`PgResumeLimiter`]: attempts counted in the database, across all nodes.

use std::sync::atomic::Ordering;

use sqlx::Row;
use time::{Duration, OffsetDateTime};

use super::{PgStore, db_err};
use crate::error::StoreError;
use crate::limiter::{AttemptLimiter, AttemptState, LONGEST_KEPT, LimitPolicy};

/// Attempts counted in the database, so the limit holds across all nodes and for parallel
/// requests: each reservation locks the key's row, applies [`LimitPolicy::reserve`] and writes
/// the result in one transaction.
#[derive(Debug, Clone)]
pub struct PgResumeLimiter {
    store: PgStore,
    policy: LimitPolicy,
}

impl PgResumeLimiter {
    /// At most `max_failures` attempts per key within `window`.
    pub fn new(store: PgStore, max_failures: u32, window: Duration) -> Self {
        Self::with_policy(store, LimitPolicy::window(max_failures, window))
    }

    /// Attempts limited by `policy`.
    pub fn with_policy(store: PgStore, policy: LimitPolicy) -> Self {
        Self { store, policy }
    }
}

impl AttemptLimiter for PgResumeLimiter {
    fn reserve(&self, key: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let sweep = self
            .store
            .inner
            .limiter_calls
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(1000);
        let policy = self.policy;
        let decided = self.store.tx(async |tx| {
            // A row to lock, so that parallel reservations of the key wait for each other.
            sqlx::query(
                "INSERT INTO resume_attempts (client, window_start, failures) VALUES ($1, $2, 0) \
                 ON CONFLICT (client) DO NOTHING",
            )
            .bind(key)
            .bind(now)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
            let row = sqlx::query(
                "SELECT window_start, failures, not_before FROM resume_attempts \
                 WHERE client = $1 FOR UPDATE",
            )
            .bind(key)
            .fetch_one(&mut **tx)
            .await
            .map_err(db_err)?;
            let failures: i32 = row.try_get("failures").map_err(db_err)?;
            let state = AttemptState {
                since: row.try_get("window_start").map_err(db_err)?,
                count: u32::try_from(failures).unwrap_or(0),
                not_before: row.try_get("not_before").map_err(db_err)?,
            };
            let state = (state.count > 0 || state.not_before.is_some()).then_some(state);
            let next = match policy.reserve(state, now) {
                Ok(next) => next,
                Err(retry_after) => return Ok(Err(retry_after)),
            };
            sqlx::query(
                "UPDATE resume_attempts SET window_start = $2, failures = $3, not_before = $4 \
                 WHERE client = $1",
            )
            .bind(key)
            .bind(next.since)
            .bind(i32::try_from(next.count).unwrap_or(i32::MAX))
            .bind(next.not_before)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
            Ok(Ok(()))
        })?;
        if sweep {
            // Rows of every policy share the table; none is needed after a day.
            self.store.run(async |pool| {
                sqlx::query(
                    "DELETE FROM resume_attempts WHERE window_start <= $1 \
                     AND (not_before IS NULL OR not_before <= $2)",
                )
                .bind(now - LONGEST_KEPT)
                .bind(now)
                .execute(&mut *pool)
                .await
                .map_err(db_err)?;
                Ok(())
            })?;
        }
        decided.map_err(|retry_after| StoreError::RateLimited { retry_after })
    }

    fn refund(&self, key: &str, _now: OffsetDateTime) -> Result<(), StoreError> {
        self.store.run(async |pool| {
            sqlx::query(
                "UPDATE resume_attempts SET failures = GREATEST(failures - 1, 0) WHERE client = $1",
            )
            .bind(key)
            .execute(&mut *pool)
            .await
            .map_err(db_err)?;
            Ok(())
        })
    }
}
