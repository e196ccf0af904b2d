//! [`DraftStore`] on PostgreSQL: one row per draft, optimistic concurrency in one UPDATE.
//!
//! Draft writes commit asynchronously (see [`draft_write!`]): they are visible at once, on every
//! node, and reach the disk with PostgreSQL's WAL writer a moment later, which is sled's promise
//! for drafts (docs/store.md). Each is a single statement, so one round trip.

use serde::Deserialize;
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;

use super::{PgStore, db_err, json, record_text, to_i64, v_current, version};
use crate::DraftStore;
use crate::envelope::decode_parts;
use crate::error::StoreError;
use crate::ids::{DraftId, ResumeCode, SubmissionId, TenantId, hex};
use crate::keys::{DRAFTS, code_key};
use crate::model::{Actor, AuditAction, Draft};

/// What `save_draft` keeps from the stored draft.
#[derive(Deserialize)]
struct KeptHead {
    tenant: TenantId,
    #[serde(with = "time::serde::rfc3339")]
    created: OffsetDateTime,
    resume_code: ResumeCode,
}

/// A draft write as one statement that commits asynchronously: the CTE sets
/// `synchronous_commit = off` for this statement's own (implicit) transaction only, so COMMIT
/// does not wait for the WAL flush. The WAL writer flushes within `3 × wal_writer_delay`
/// (600 ms by default); a crash of the database in that window may lose the write, never
/// reorder it: a later synchronous commit (a submission) flushes every earlier write with it.
/// The statement must name `async_commit` (in `FROM` or `USING`) so that the CTE is run.
macro_rules! draft_write {
    ($sql:literal) => {
        concat!(
            "WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true)) ",
            $sql
        )
    };
}

fn decode_draft(row: &PgRow, id: &DraftId) -> Result<Draft, StoreError> {
    decode_parts(DRAFTS, &id.to_string(), version(row)?, &record_text(row)?)
}

impl DraftStore for PgStore {
    fn create_draft(&self, draft: &Draft) -> Result<(), StoreError> {
        let record = json(DRAFTS, &draft.id.to_string(), draft)?;
        let revision = to_i64("revision", draft.revision)?;
        let inserted = self.run(async |pool| {
            sqlx::query(draft_write!(
                "INSERT INTO drafts (id, tenant, revision, expires, code_hash, v, record) \
                     SELECT $1, $2, $3, $4, $5, $6, $7::jsonb FROM async_commit \
                     ON CONFLICT (id) DO NOTHING"
            ))
            .bind(&draft.id.as_bytes()[..])
            .bind(draft.tenant.slug())
            .bind(revision)
            .bind(draft.expires)
            .bind(&code_key(&draft.resume_code)[..])
            .bind(v_current())
            .bind(record)
            .execute(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::AlreadyExists {
                what: "draft",
                key: draft.id.to_string(),
            });
        }
        Ok(())
    }

    fn draft(&self, id: &DraftId) -> Result<Option<Draft>, StoreError> {
        let row = self.run(async |pool| {
            sqlx::query("SELECT v, record::text AS record FROM drafts WHERE id = $1")
                .bind(&id.as_bytes()[..])
                .fetch_optional(&mut *pool)
                .await
                .map_err(db_err)
        })?;
        row.map(|r| decode_draft(&r, id)).transpose()
    }

    fn draft_with_submission(
        &self,
        id: &DraftId,
    ) -> Result<Option<(Draft, Option<SubmissionId>)>, StoreError> {
        // The submit key as `IdempotencyKey::for_draft` writes it (ids in lowercase hex).
        let row = self.run(async |conn| {
            sqlx::query(
                "SELECT d.v, d.record::text AS record, s.id AS submitted FROM drafts d \
                 LEFT JOIN submissions s ON s.tenant = d.tenant \
                   AND s.idempotency_key = 'draft:' || encode(d.id, 'hex') || ':' || d.revision \
                 WHERE d.id = $1",
            )
            .bind(&id.as_bytes()[..])
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)
        })?;
        let Some(row) = row else { return Ok(None) };
        let submitted: Option<Vec<u8>> = row.try_get("submitted").map_err(db_err)?;
        Ok(Some((
            decode_draft(&row, id)?,
            submitted.as_deref().and_then(SubmissionId::from_key),
        )))
    }

    fn draft_by_resume_code(&self, code: &ResumeCode) -> Result<Option<Draft>, StoreError> {
        let row = self.run(async |pool| {
            sqlx::query("SELECT id, v, record::text AS record FROM drafts WHERE code_hash = $1")
                .bind(&code_key(code)[..])
                .fetch_optional(&mut *pool)
                .await
                .map_err(db_err)
        })?;
        let Some(row) = row else { return Ok(None) };
        let id: Vec<u8> = row.try_get("id").map_err(db_err)?;
        let draft: Draft = decode_parts(DRAFTS, &hex(&id), version(&row)?, &record_text(&row)?)?;
        Ok(Some(draft).filter(|d| &d.resume_code == code))
    }

    fn save_draft(&self, mut draft: Draft, expected_revision: u64) -> Result<Draft, StoreError> {
        let expected = to_i64("revision", expected_revision)?;
        let next = to_i64("revision", expected_revision + 1)?;
        draft.revision = expected_revision + 1;
        let record = json(DRAFTS, &draft.id.to_string(), &draft)?;
        let id = draft.id;
        // One statement: the revision check is in the WHERE, and the stored tenant, creation
        // time and resume code win over the caller's. Concurrent saves of one revision queue on
        // the row lock; the first commits, the others find the revision moved on (no row).
        let kept: Option<String> = self.run(async |pool| {
            sqlx::query_scalar(draft_write!(
                "UPDATE drafts SET revision = $3, expires = $4, v = $5, \
                   record = $6::jsonb || jsonb_build_object('tenant', drafts.record->'tenant', \
                     'created', drafts.record->'created', \
                     'resume_code', drafts.record->'resume_code') \
                 FROM async_commit \
                 WHERE drafts.id = $1 AND drafts.revision = $2 \
                 RETURNING jsonb_build_object('tenant', drafts.record->'tenant', \
                     'created', drafts.record->'created', \
                     'resume_code', drafts.record->'resume_code')::text"
            ))
            .bind(&id.as_bytes()[..])
            .bind(expected)
            .bind(next)
            .bind(draft.expires)
            .bind(v_current())
            .bind(record)
            .fetch_optional(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        match kept {
            Some(text) => {
                let head: KeptHead =
                    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
                        tree: DRAFTS,
                        key: id.to_string(),
                        reason: e.to_string(),
                    })?;
                draft.tenant = head.tenant;
                draft.created = head.created;
                draft.resume_code = head.resume_code;
                Ok(draft)
            }
            None => match self.draft(&id)? {
                Some(current) => Err(StoreError::Conflict {
                    current: Box::new(current),
                    expected: expected_revision,
                }),
                None => Err(StoreError::NotFound {
                    what: "draft",
                    key: id.to_string(),
                }),
            },
        }
    }

    fn delete_draft(&self, id: &DraftId) -> Result<bool, StoreError> {
        let done = self.run(async |pool| {
            sqlx::query(draft_write!(
                "DELETE FROM drafts USING async_commit WHERE drafts.id = $1"
            ))
            .bind(&id.as_bytes()[..])
            .execute(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        Ok(done.rows_affected() > 0)
    }

    fn sweep_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.tx(async |tx| {
            let count = sqlx::query("DELETE FROM drafts WHERE expires <= $1")
                .bind(now)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?
                .rows_affected();
            if count > 0 {
                Self::audit_tx(
                    tx,
                    now,
                    Actor::System,
                    None,
                    AuditAction::DraftsExpired { count },
                )
                .await?;
            }
            Ok(count)
        })
    }
}
