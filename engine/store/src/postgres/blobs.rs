//! [`BlobStore`] on PostgreSQL: a table per kind; receipts in `receipts` (migration 0001), which
//! go with their submission when it is purged (`ON DELETE CASCADE`).

use super::{PgStore, db_err, json, to_i64, v_current};
use crate::BlobStore;
use crate::blobs::BlobKey;
use crate::error::StoreError;
use crate::keys::DRAFTS;
use crate::model::Draft;

/// A receipt for a submission that does not exist.
fn foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("23503"))
}

impl BlobStore for PgStore {
    fn put_blob(&self, key: &BlobKey, bytes: &[u8]) -> Result<bool, StoreError> {
        let BlobKey::Receipt(id) = key;
        let done = self.run(async |pool| {
            sqlx::query(
                "INSERT INTO receipts (submission, pdf) VALUES ($1, $2) \
                 ON CONFLICT (submission) DO NOTHING",
            )
            .bind(&id.as_bytes()[..])
            .bind(bytes)
            .execute(&mut *pool)
            .await
            .map_err(|e| {
                if foreign_key_violation(&e) {
                    StoreError::NotFound {
                        what: "submission",
                        key: id.to_string(),
                    }
                } else {
                    db_err(e)
                }
            })
        })?;
        Ok(done.rows_affected() > 0)
    }

    fn put_blob_and_save_draft(
        &self,
        key: &BlobKey,
        bytes: &[u8],
        mut draft: Draft,
        expected_revision: u64,
    ) -> Result<(bool, bool), StoreError> {
        let BlobKey::Receipt(id) = key;
        let expected = to_i64("revision", expected_revision)?;
        let next = to_i64("revision", expected_revision + 1)?;
        draft.revision = expected_revision + 1;
        let record = json(DRAFTS, &draft.id.to_string(), &draft)?;
        // One statement, one synchronous commit: the blob as `put_blob`, the draft as
        // `save_draft` (the stored tenant, creation time and resume code win).
        let (new, saved): (i64, i64) = self.run(async |conn| {
            sqlx::query_as(
                "WITH b AS ( \
                   INSERT INTO receipts (submission, pdf) VALUES ($1, $2) \
                   ON CONFLICT (submission) DO NOTHING RETURNING 1), \
                 d AS ( \
                   UPDATE drafts SET revision = $5, expires = $6, v = $7, \
                     record = $8::jsonb || jsonb_build_object('tenant', drafts.record->'tenant', \
                       'created', drafts.record->'created', \
                       'resume_code', drafts.record->'resume_code') \
                   WHERE drafts.id = $3 AND drafts.revision = $4 RETURNING 1) \
                 SELECT (SELECT count(*) FROM b), (SELECT count(*) FROM d)",
            )
            .bind(&id.as_bytes()[..])
            .bind(bytes)
            .bind(&draft.id.as_bytes()[..])
            .bind(expected)
            .bind(next)
            .bind(draft.expires)
            .bind(v_current())
            .bind(record)
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| {
                if foreign_key_violation(&e) {
                    StoreError::NotFound {
                        what: "submission",
                        key: id.to_string(),
                    }
                } else {
                    db_err(e)
                }
            })
        })?;
        Ok((new > 0, saved > 0))
    }

    fn blob(&self, key: &BlobKey) -> Result<Option<Vec<u8>>, StoreError> {
        let BlobKey::Receipt(id) = key;
        self.run(async |pool| {
            sqlx::query_scalar("SELECT pdf FROM receipts WHERE submission = $1")
                .bind(&id.as_bytes()[..])
                .fetch_optional(&mut *pool)
                .await
                .map_err(db_err)
        })
    }

    fn has_blob(&self, key: &BlobKey) -> Result<bool, StoreError> {
        let BlobKey::Receipt(id) = key;
        self.run(async |pool| {
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM receipts WHERE submission = $1)")
                .bind(&id.as_bytes()[..])
                .fetch_one(&mut *pool)
                .await
                .map_err(db_err)
        })
    }

    fn delete_blob(&self, key: &BlobKey) -> Result<bool, StoreError> {
        let BlobKey::Receipt(id) = key;
        let done = self.run(async |pool| {
            sqlx::query("DELETE FROM receipts WHERE submission = $1")
                .bind(&id.as_bytes()[..])
                .execute(&mut *pool)
                .await
                .map_err(db_err)
        })?;
        Ok(done.rows_affected() > 0)
    }

    fn remove_orphan_blobs(&self) -> Result<u64, StoreError> {
        // `receipts.submission` references the submission with ON DELETE CASCADE.
        Ok(0)
    }
}
