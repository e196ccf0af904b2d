//! [`BlobStore`] on PostgreSQL: a table per kind; receipts in `receipts` (migration 0001), which
//! go with their submission when it is purged (`ON DELETE CASCADE`).

use super::{PgStore, db_err};
use crate::BlobStore;
use crate::blobs::BlobKey;
use crate::error::StoreError;

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
            .execute(pool)
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

    fn blob(&self, key: &BlobKey) -> Result<Option<Vec<u8>>, StoreError> {
        let BlobKey::Receipt(id) = key;
        self.run(async |pool| {
            sqlx::query_scalar("SELECT pdf FROM receipts WHERE submission = $1")
                .bind(&id.as_bytes()[..])
                .fetch_optional(pool)
                .await
                .map_err(db_err)
        })
    }

    fn has_blob(&self, key: &BlobKey) -> Result<bool, StoreError> {
        let BlobKey::Receipt(id) = key;
        self.run(async |pool| {
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM receipts WHERE submission = $1)")
                .bind(&id.as_bytes()[..])
                .fetch_one(pool)
                .await
                .map_err(db_err)
        })
    }

    fn delete_blob(&self, key: &BlobKey) -> Result<bool, StoreError> {
        let BlobKey::Receipt(id) = key;
        let done = self.run(async |pool| {
            sqlx::query("DELETE FROM receipts WHERE submission = $1")
                .bind(&id.as_bytes()[..])
                .execute(pool)
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
