//! [`BlobStore`] on sled: files beside the store's directory, `<data>/receipts/<id>.pdf` for
//! receipts, where Lotse has always kept them. Written to a temporary file, synced, then linked
//! into place: a hard link fails if the name exists, so the first put wins without a lock, and a
//! reader never sees half a file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::SledStore;
use crate::blobs::BlobKey;
use crate::error::StoreError;
use crate::model::Draft;
use crate::{BlobStore, DraftStore, SubmissionStore};

/// The folder that holds blobs: the parent of the store's directory (the data folder when the
/// store is `<data>/store`), or the directory itself if it has no parent.
pub(super) fn blob_root(store_dir: &Path) -> PathBuf {
    store_dir
        .parent()
        .map_or_else(|| store_dir.to_path_buf(), Path::to_path_buf)
}

/// Distinguishes the temporary files of concurrent puts in this process.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn io_err(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Storage(format!("{}: {e}", path.display()))
}

impl SledStore {
    fn blob_path(&self, key: &BlobKey) -> PathBuf {
        let dir = self.inner.blob_root.join(key.kind());
        match key {
            BlobKey::Receipt(id) => dir.join(format!("{id}.pdf")),
        }
    }
}

impl BlobStore for SledStore {
    fn put_blob_and_save_draft(
        &self,
        key: &BlobKey,
        bytes: &[u8],
        draft: Draft,
        expected_revision: u64,
    ) -> Result<(bool, bool), StoreError> {
        let new = self.put_blob(key, bytes)?;
        match self.save_draft(draft, expected_revision) {
            Ok(_) => Ok((new, true)),
            Err(StoreError::Conflict { .. } | StoreError::NotFound { .. }) => Ok((new, false)),
            Err(e) => Err(e),
        }
    }

    fn put_blob(&self, key: &BlobKey, bytes: &[u8]) -> Result<bool, StoreError> {
        if self.submission(key.submission())?.is_none() {
            return Err(StoreError::NotFound {
                what: "submission",
                key: key.submission().to_string(),
            });
        }
        let path = self.blob_path(key);
        if path.exists() {
            return Ok(false);
        }
        let dir = path.parent().unwrap_or(&self.inner.blob_root).to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
        let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(
            ".{}.{}.{n}.tmp",
            key.submission(),
            std::process::id()
        ));
        let written = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_err(&tmp, e));
        }
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                // The new name is durable with its directory.
                std::fs::File::open(&dir)
                    .and_then(|d| d.sync_all())
                    .map_err(|e| io_err(&dir, e))?;
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(io_err(&path, e)),
        }
    }

    fn blob(&self, key: &BlobKey) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.blob_path(key);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path, e)),
        }
    }

    fn has_blob(&self, key: &BlobKey) -> Result<bool, StoreError> {
        Ok(self.blob_path(key).is_file())
    }

    fn delete_blob(&self, key: &BlobKey) -> Result<bool, StoreError> {
        let path = self.blob_path(key);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_err(&path, e)),
        }
    }

    fn remove_orphan_blobs(&self) -> Result<u64, StoreError> {
        let dir = self.inner.blob_root.join("receipts");
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(io_err(&dir, e)),
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(id) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".pdf"))
                .and_then(|n| n.parse::<crate::SubmissionId>().ok())
            else {
                continue;
            };
            if self.submission(&id)?.is_none() && std::fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}
