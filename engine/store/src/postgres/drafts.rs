//! [`DraftStore`] on PostgreSQL: one row per draft, optimistic concurrency in one UPDATE.

use serde::Deserialize;
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;

use super::{PgStore, db_err, json, record_text, to_i64, v_current, version};
use crate::DraftStore;
use crate::envelope::decode_parts;
use crate::error::StoreError;
use crate::ids::{DraftId, ResumeCode, TenantId, hex};
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

fn decode_draft(row: &PgRow, id: &DraftId) -> Result<Draft, StoreError> {
    decode_parts(DRAFTS, &id.to_string(), version(row)?, &record_text(row)?)
}

impl DraftStore for PgStore {
    fn create_draft(&self, draft: &Draft) -> Result<(), StoreError> {
        let record = json(DRAFTS, &draft.id.to_string(), draft)?;
        let revision = to_i64("revision", draft.revision)?;
        let inserted = self.run(async |pool| {
            sqlx::query(
                "INSERT INTO drafts (id, tenant, revision, expires, code_hash, v, record) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&draft.id.as_bytes()[..])
            .bind(draft.tenant.slug())
            .bind(revision)
            .bind(draft.expires)
            .bind(&code_key(&draft.resume_code)[..])
            .bind(v_current())
            .bind(record)
            .execute(pool)
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
                .fetch_optional(pool)
                .await
                .map_err(db_err)
        })?;
        row.map(|r| decode_draft(&r, id)).transpose()
    }

    fn draft_by_resume_code(&self, code: &ResumeCode) -> Result<Option<Draft>, StoreError> {
        let row = self.run(async |pool| {
            sqlx::query("SELECT id, v, record::text AS record FROM drafts WHERE code_hash = $1")
                .bind(&code_key(code)[..])
                .fetch_optional(pool)
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
        // time and resume code win over the caller's.
        let kept: Option<String> = self.run(async |pool| {
            sqlx::query_scalar(
                "UPDATE drafts SET revision = $3, expires = $4, v = $5, \
                   record = $6::jsonb || jsonb_build_object('tenant', record->'tenant', \
                     'created', record->'created', 'resume_code', record->'resume_code') \
                 WHERE id = $1 AND revision = $2 \
                 RETURNING jsonb_build_object('tenant', record->'tenant', \
                     'created', record->'created', 'resume_code', record->'resume_code')::text",
            )
            .bind(&id.as_bytes()[..])
            .bind(expected)
            .bind(next)
            .bind(draft.expires)
            .bind(v_current())
            .bind(record)
            .fetch_optional(pool)
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
            sqlx::query("DELETE FROM drafts WHERE id = $1")
                .bind(&id.as_bytes()[..])
                .execute(pool)
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
