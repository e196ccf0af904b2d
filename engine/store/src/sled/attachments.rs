//! [`AttachmentStore`] on sled: files beside the store, `<data>/attachments/<ab>/<hash>`,
//! named by their SHA-256. Streamed into a temporary file while hashing, synced, checked, then
//! linked into place (a hard link fails if the name exists, so the first of two equal uploads
//! wins without a lock, and a reader never sees half a file).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use std::collections::BTreeSet;

use time::OffsetDateTime;

use super::SledStore;
use crate::AttachmentStore;
use crate::attachments::{AttachmentHash, AttachmentSweep, Hashing, referenced_hashes};
use crate::envelope::decode;
use crate::error::StoreError;
use crate::keys::{DRAFTS, SUBMISSIONS};
use crate::model::{Draft, Submission};

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn io_err(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Storage(format!("{}: {e}", path.display()))
}

impl SledStore {
    fn attachment_dir(&self) -> PathBuf {
        self.inner.blob_root.join("attachments")
    }

    fn attachment_path(&self, hash: &AttachmentHash) -> PathBuf {
        let name = hash.to_string();
        self.attachment_dir().join(&name[..2]).join(name)
    }
}

/// Reads `file` to the end through the hash, at most `limit` bytes; the size.
fn drain(file: &mut dyn Read, hash: &AttachmentHash, limit: u64) -> Result<u64, StoreError> {
    let mut h = Hashing::new(file);
    let n = std::io::copy(
        &mut (&mut h).take(limit.saturating_add(1)),
        &mut std::io::sink(),
    )
    .map_err(|e| StoreError::Storage(format!("reading an attachment: {e}")))?;
    if n > limit {
        return Err(too_long(limit));
    }
    h.check(hash)
}

fn too_long(limit: u64) -> StoreError {
    StoreError::InvalidInput(format!("the attachment is longer than {limit} bytes"))
}

/// Held while a kept file is marked as stored again ([`touch`]) and while the sweep looks at one
/// file's age and deletes it: either the sweep sees the new mark and keeps the file, or the
/// file is gone before the mark, which then fails (the upload is refused, never acknowledged
/// with a file that is gone). One sled store per process, so a process-wide lock.
static KEEPING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn keeping() -> std::sync::MutexGuard<'static, ()> {
    KEEPING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Marks a kept file as stored now (its mtime): the same content uploaded again starts a new
/// grace period before the sweep may take it.
fn touch(path: &Path) -> Result<(), StoreError> {
    let _held = keeping();
    // The mtime is the file system's wall clock by nature; the sweep compares with it.
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now();
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(now))
        .map_err(|e| io_err(path, e))
}

impl SledStore {
    /// Every attachment hash a draft (recent or idle) or a submission references.
    fn attachment_references(&self) -> Result<BTreeSet<AttachmentHash>, StoreError> {
        let i = &self.inner;
        let mut refs = BTreeSet::new();
        for tree in [&i.recent, &i.drafts] {
            for item in tree.iter() {
                let (key, bytes) = item?;
                let draft: Draft = decode(DRAFTS, &key, &bytes)?;
                referenced_hashes(&draft.state, &mut refs);
            }
        }
        for item in i.submissions.iter() {
            let (key, bytes) = item?;
            let sub: Submission = decode(SUBMISSIONS, &key, &bytes)?;
            referenced_hashes(&sub.data, &mut refs);
        }
        Ok(refs)
    }
}

impl AttachmentStore for SledStore {
    fn put_attachment(
        &self,
        hash: &AttachmentHash,
        file: &mut dyn Read,
        limit: u64,
    ) -> Result<bool, StoreError> {
        let path = self.attachment_path(hash);
        if path.is_file() {
            drain(file, hash, limit)?;
            touch(&path)?;
            return Ok(false);
        }
        let dir = path
            .parent()
            .map_or_else(|| self.attachment_dir(), Path::to_path_buf);
        std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
        let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{hash}.{}.{n}.tmp", std::process::id()));
        let written = (|| -> Result<(), StoreError> {
            let mut out = std::fs::File::create(&tmp).map_err(|e| io_err(&tmp, e))?;
            let mut h = Hashing::new(file);
            let copied = std::io::copy(&mut (&mut h).take(limit.saturating_add(1)), &mut out)
                .map_err(|e| io_err(&tmp, e))?;
            if copied > limit {
                return Err(too_long(limit));
            }
            h.check(hash)?;
            out.flush().map_err(|e| io_err(&tmp, e))?;
            out.sync_all().map_err(|e| io_err(&tmp, e))
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                std::fs::File::open(&dir)
                    .and_then(|d| d.sync_all())
                    .map_err(|e| io_err(&dir, e))?;
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                touch(&path)?;
                Ok(false)
            }
            Err(e) => Err(io_err(&path, e)),
        }
    }

    fn read_attachment(
        &self,
        hash: &AttachmentHash,
        out: &mut dyn Write,
    ) -> Result<Option<u64>, StoreError> {
        let path = self.attachment_path(hash);
        let mut f = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&path, e)),
        };
        std::io::copy(&mut f, out)
            .map(Some)
            .map_err(|e| io_err(&path, e))
    }

    fn attachment_size(&self, hash: &AttachmentHash) -> Result<Option<u64>, StoreError> {
        let path = self.attachment_path(hash);
        match std::fs::metadata(&path) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path, e)),
        }
    }

    fn delete_attachment(&self, hash: &AttachmentHash) -> Result<bool, StoreError> {
        let path = self.attachment_path(hash);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_err(&path, e)),
        }
    }

    fn attachment_hashes(&self) -> Result<Vec<AttachmentHash>, StoreError> {
        let root = self.attachment_dir();
        let mut out = Vec::new();
        let shards = match std::fs::read_dir(&root) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(io_err(&root, e)),
        };
        for shard in shards.flatten() {
            let Ok(files) = std::fs::read_dir(shard.path()) else {
                continue;
            };
            for f in files.flatten() {
                if let Some(h) = f
                    .file_name()
                    .to_str()
                    .and_then(|n| n.parse::<AttachmentHash>().ok())
                {
                    out.push(h);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    fn sweep_attachments(
        &self,
        stored_before: OffsetDateTime,
    ) -> Result<AttachmentSweep, StoreError> {
        // The kept files first, then the references: a file stored after the listing is not
        // looked at, and one stored before it is older than the references read after it.
        let kept = self.attachment_hashes()?;
        if kept.is_empty() {
            return Ok(AttachmentSweep::default());
        }
        let refs = self.attachment_references()?;
        let mut sweep = AttachmentSweep::default();
        for hash in kept.iter().filter(|h| !refs.contains(h)) {
            let path = self.attachment_path(hash);
            let _held = keeping();
            let meta = match std::fs::metadata(&path) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_err(&path, e)),
            };
            let stored = meta.modified().map_err(|e| io_err(&path, e))?;
            if OffsetDateTime::from(stored) >= stored_before {
                continue;
            }
            if self.delete_attachment(hash)? {
                sweep.removed += 1;
                sweep.bytes += meta.len();
            }
        }
        Ok(sweep)
    }
}
