//! [`AttachmentStore`] on PostgreSQL: a row per content (`attachments`, by SHA-256) and its bytes
//! in chunks of 1 MiB (`attachment_chunks`), written in one transaction while hashing and read
//! back chunk by chunk. Two equal uploads at once: the second waits for the first's row and
//! keeps nothing of its own.

use std::io::{Read, Write};

use sqlx::Row;
use time::OffsetDateTime;

use super::{PgStore, db_err};
use crate::AttachmentStore;
use crate::attachments::{AttachmentHash, AttachmentSweep, Hashing};
use crate::error::StoreError;

/// The size of one stored chunk.
const CHUNK: usize = 1024 * 1024;

fn too_long(limit: u64) -> StoreError {
    StoreError::InvalidInput(format!("the attachment is longer than {limit} bytes"))
}

/// Fills `buf` from `r` as far as it goes; the number of bytes read.
fn fill(r: &mut dyn Read, buf: &mut [u8]) -> Result<usize, StoreError> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(StoreError::Storage(format!("reading an attachment: {e}"))),
        }
    }
    Ok(n)
}

/// What [`crate::referenced_hashes`] finds, as a JSON path: objects at any depth with a
/// numeric `size` and a string `sha256` (a string that is no hash matches no attachment). In
/// strict mode a member that is missing makes the filter unknown, so such an object is skipped.
const REFERENCE_PATH: &str =
    r#"strict $.** ? (@.size.type() == "number" && @.sha256.type() == "string").sha256"#;

impl AttachmentStore for PgStore {
    fn put_attachment(
        &self,
        hash: &AttachmentHash,
        file: &mut dyn Read,
        limit: u64,
    ) -> Result<bool, StoreError> {
        let key = hash.as_bytes().to_vec();
        self.tx(async |tx| {
            let mut h = Hashing::new(file);
            // A repeated put stores the content again: `created` restarts the sweep's grace
            // period. The row lock this takes keeps a sweep running now from deleting the row
            // under this put (the sweep's `created` check is evaluated again after the lock).
            let fresh: bool = sqlx::query_scalar(
                "INSERT INTO attachments (hash, size) VALUES ($1, 0) \
                 ON CONFLICT (hash) DO UPDATE SET created = now() RETURNING (xmax = 0)",
            )
            .bind(&key)
            .fetch_one(&mut **tx)
            .await
            .map_err(db_err)?;
            let mut buf = vec![0u8; CHUNK];
            let mut n: i32 = 0;
            loop {
                let got = fill(&mut h, &mut buf)?;
                if h.size > limit {
                    return Err(too_long(limit));
                }
                if got == 0 {
                    break;
                }
                if fresh {
                    sqlx::query(
                        "INSERT INTO attachment_chunks (hash, n, bytes) VALUES ($1, $2, $3)",
                    )
                    .bind(&key)
                    .bind(n)
                    .bind(&buf[..got])
                    .execute(&mut **tx)
                    .await
                    .map_err(db_err)?;
                }
                n += 1;
            }
            // A different content than the hash says: the transaction rolls back.
            let size = h.check(hash)?;
            if fresh {
                sqlx::query("UPDATE attachments SET size = $2 WHERE hash = $1")
                    .bind(&key)
                    .bind(i64::try_from(size).map_err(|_| too_long(limit))?)
                    .execute(&mut **tx)
                    .await
                    .map_err(db_err)?;
            }
            Ok(fresh)
        })
    }

    fn read_attachment(
        &self,
        hash: &AttachmentHash,
        out: &mut dyn Write,
    ) -> Result<Option<u64>, StoreError> {
        let key = hash.as_bytes().to_vec();
        let Some(size) = self.attachment_size(hash)? else {
            return Ok(None);
        };
        let mut written = 0u64;
        let mut n: i32 = 0;
        while written < size {
            let chunk: Option<Vec<u8>> = self.run(async |pool| {
                sqlx::query_scalar("SELECT bytes FROM attachment_chunks WHERE hash = $1 AND n = $2")
                    .bind(&key)
                    .bind(n)
                    .fetch_optional(&mut *pool)
                    .await
                    .map_err(db_err)
            })?;
            let Some(chunk) = chunk else {
                return Err(StoreError::Storage(format!(
                    "attachment {hash}: chunk {n} is missing"
                )));
            };
            out.write_all(&chunk)
                .map_err(|e| StoreError::Storage(format!("writing an attachment: {e}")))?;
            written += chunk.len() as u64;
            n += 1;
        }
        Ok(Some(size))
    }

    fn attachment_size(&self, hash: &AttachmentHash) -> Result<Option<u64>, StoreError> {
        let key = hash.as_bytes().to_vec();
        let size: Option<i64> = self.run(async |pool| {
            sqlx::query_scalar("SELECT size FROM attachments WHERE hash = $1")
                .bind(&key)
                .fetch_optional(&mut *pool)
                .await
                .map_err(db_err)
        })?;
        Ok(size.map(|s| u64::try_from(s).unwrap_or_default()))
    }

    fn delete_attachment(&self, hash: &AttachmentHash) -> Result<bool, StoreError> {
        let key = hash.as_bytes().to_vec();
        self.run(async |pool| {
            sqlx::query("DELETE FROM attachments WHERE hash = $1")
                .bind(&key)
                .execute(&mut *pool)
                .await
                .map(|r| r.rows_affected() == 1)
                .map_err(db_err)
        })
    }

    fn attachment_hashes(&self) -> Result<Vec<AttachmentHash>, StoreError> {
        let rows = self.run(async |pool| {
            sqlx::query("SELECT hash FROM attachments ORDER BY hash")
                .fetch_all(&mut *pool)
                .await
                .map_err(db_err)
        })?;
        rows.iter()
            .map(|r| {
                let b: Vec<u8> = r.try_get("hash").map_err(db_err)?;
                let a: [u8; 32] = b.try_into().map_err(|_| StoreError::Corrupt {
                    tree: "attachments",
                    key: "hash".into(),
                    reason: "not 32 bytes".into(),
                })?;
                Ok(AttachmentHash::from_bytes(a))
            })
            .collect()
    }

    fn sweep_attachments(
        &self,
        stored_before: OffsetDateTime,
    ) -> Result<AttachmentSweep, StoreError> {
        // One statement: the references are read in the same snapshot as the rows deleted. A
        // draft saved since refers to an upload stored within the grace period.
        let (removed, bytes): (i64, Option<i64>) = self.run(async |pool| {
            sqlx::query_as(
                "WITH refs AS ( \
                   SELECT lower(h #>> '{}') AS h FROM drafts, \
                     jsonb_path_query(record -> 'state', $2::jsonpath) AS h \
                   UNION \
                   SELECT lower(h #>> '{}') FROM submissions, \
                     jsonb_path_query(record -> 'data', $2::jsonpath) AS h \
                 ), gone AS ( \
                   DELETE FROM attachments a WHERE a.created < $1 \
                   AND NOT EXISTS (SELECT 1 FROM refs WHERE refs.h = encode(a.hash, 'hex')) \
                   RETURNING a.size \
                 ) SELECT count(*), sum(size)::bigint FROM gone",
            )
            .bind(stored_before)
            .bind(REFERENCE_PATH)
            .fetch_one(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        Ok(AttachmentSweep {
            removed: u64::try_from(removed).unwrap_or_default(),
            bytes: bytes
                .and_then(|b| u64::try_from(b).ok())
                .unwrap_or_default(),
        })
    }
}
