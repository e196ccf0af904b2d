//! [`AuditStore`] on PostgreSQL: entries numbered by the `lotse_ids` sequence.

use sqlx::{PgExecutor, Row};
use time::OffsetDateTime;

use super::{PgStore, Tx, db_err, json, record_text, to_u64, v_current, version};
use crate::AuditStore;
use crate::envelope::decode_parts;
use crate::error::StoreError;
use crate::ids::{SubmissionId, TenantId};
use crate::keys::AUDIT;
use crate::model::{Actor, AuditAction, AuditEntry};

/// The stored record of a new audit entry (its `seq` comes from the row).
pub(super) fn audit_record(
    at: OffsetDateTime,
    actor: Actor,
    tenant: Option<&TenantId>,
    action: AuditAction,
) -> Result<String, StoreError> {
    let entry = AuditEntry::new(0, at, actor, tenant, action);
    json(AUDIT, "(new)", &entry)
}

/// Appends an audit entry with one statement, in a transaction or on its own.
async fn insert_audit<'c>(
    ex: impl PgExecutor<'c>,
    at: OffsetDateTime,
    actor: Actor,
    tenant: Option<&TenantId>,
    action: AuditAction,
) -> Result<u64, StoreError> {
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO audit (seq, v, record) VALUES (nextval('lotse_ids'), $1, $2::jsonb) RETURNING seq",
    )
    .bind(v_current())
    .bind(audit_record(at, actor, tenant, action)?)
    .fetch_one(ex)
    .await
    .map_err(db_err)?;
    Ok(to_u64(seq))
}

impl PgStore {
    /// Appends an audit entry inside a transaction.
    pub(super) async fn audit_tx(
        tx: &mut Tx<'_>,
        at: OffsetDateTime,
        actor: Actor,
        tenant: Option<&TenantId>,
        action: AuditAction,
    ) -> Result<u64, StoreError> {
        insert_audit(&mut **tx, at, actor, tenant, action).await
    }
}

impl AuditStore for PgStore {
    fn append_audit(
        &self,
        at: OffsetDateTime,
        actor: Actor,
        tenant: Option<&TenantId>,
        action: AuditAction,
    ) -> Result<u64, StoreError> {
        // One statement: its own transaction, committed synchronously.
        self.run(async |pool| insert_audit(pool, at, actor, tenant, action).await)
    }

    fn append_audits(
        &self,
        at: OffsetDateTime,
        actor: Actor,
        tenant: Option<&TenantId>,
        actions: Vec<AuditAction>,
    ) -> Result<(), StoreError> {
        let records = actions
            .into_iter()
            .map(|a| audit_record(at, actor.clone(), tenant, a))
            .collect::<Result<Vec<_>, _>>()?;
        // One statement: all rows or none, committed synchronously, numbered in order.
        self.run(async |pool| {
            sqlx::query(
                "INSERT INTO audit (seq, v, record) \
                 SELECT nextval('lotse_ids'), $1, r.record::jsonb \
                 FROM unnest($2::text[]) WITH ORDINALITY AS r(record, n) ORDER BY r.n",
            )
            .bind(v_current())
            .bind(&records)
            .execute(&mut *pool)
            .await
            .map_err(db_err)?;
            Ok(())
        })
    }

    fn audit_log(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.run(async |pool| {
            sqlx::query(
                "SELECT seq, v, record::text AS record FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        rows.iter().map(entry).collect()
    }

    fn submission_audit(&self, submission: &SubmissionId) -> Result<Vec<AuditEntry>, StoreError> {
        let id = submission.to_string();
        let rows = self.run(async |pool| {
            // The condition of the partial index (migration 0011) is repeated so that it is used.
            sqlx::query(
                "SELECT seq, v, record::text AS record FROM audit \
                 WHERE record ? 'submission' AND record->>'submission' = $1 ORDER BY seq",
            )
            .bind(&id)
            .fetch_all(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        rows.iter().map(entry).collect()
    }
}

/// An entry read from its row.
fn entry(r: &sqlx::postgres::PgRow) -> Result<AuditEntry, StoreError> {
    let seq: i64 = r.try_get("seq").map_err(db_err)?;
    let mut e: AuditEntry = decode_parts(AUDIT, &seq.to_string(), version(r)?, &record_text(r)?)?;
    e.seq = to_u64(seq);
    Ok(e)
}
