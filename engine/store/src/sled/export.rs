//! Export and import of the sled store, through the shared JSON Lines codec (`crate::codec`).

use std::borrow::Cow;
use std::io::{BufRead, Write};
use std::sync::atomic::Ordering;

use sled::{IVec, Tree};

use super::{META_ID_BASE, SledStore};
use crate::AttachmentStore;
use crate::codec::{ExportWriter, Progress, read_export};
use crate::envelope::unpack;
use crate::error::StoreError;
use crate::keys::{AUDIT, DRAFTS, MESSAGES, OUTBOX, TREES, read_u64};

/// Both draft trees in key order, as one: the recent copy wins over an idle one with the same
/// key (a leftover of an interrupted move). Exports stay independent of where drafts are.
struct MergedDrafts {
    recent: std::iter::Peekable<sled::Iter>,
    idle: std::iter::Peekable<sled::Iter>,
}

impl MergedDrafts {
    fn new(recent: &Tree, idle: &Tree) -> Self {
        Self {
            recent: recent.iter().peekable(),
            idle: idle.iter().peekable(),
        }
    }
}

impl Iterator for MergedDrafts {
    type Item = sled::Result<(IVec, IVec)>;

    fn next(&mut self) -> Option<Self::Item> {
        use std::cmp::Ordering as O;
        let order = match (self.recent.peek(), self.idle.peek()) {
            (None, None) => return None,
            (Some(_), None) | (Some(Err(_)), _) => O::Less,
            (None, Some(_)) | (_, Some(Err(_))) => O::Greater,
            (Some(Ok((r, _))), Some(Ok((i, _)))) => r.cmp(i),
        };
        match order {
            O::Less => self.recent.next(),
            O::Greater => self.idle.next(),
            O::Equal => {
                self.idle.next();
                self.recent.next()
            }
        }
    }
}

impl SledStore {
    /// Writes every record as JSON Lines (`crate::codec`): a header line, one line per record,
    /// and a trailer with the count. Streams tree by tree in key order: memory stays constant.
    /// Calls `progress` every 10,000 records and at the end of each tree. Returns the number of
    /// records.
    ///
    /// Writes are not paused: records written during the export may or may not appear.
    pub fn export_jsonl(
        &self,
        out: &mut impl Write,
        progress: impl FnMut(Progress),
    ) -> Result<u64, StoreError> {
        let mut writer = ExportWriter::start(out, progress)?;
        for (name, json) in TREES {
            let Some(tree) = self.tree(name) else {
                continue;
            };
            let records_of: Box<dyn Iterator<Item = sled::Result<(IVec, IVec)>>> = if name == DRAFTS
            {
                Box::new(MergedDrafts::new(&self.inner.recent, tree))
            } else {
                Box::new(tree.iter())
            };
            for item in records_of {
                let (key, value) = item?;
                // Idle drafts are packed in the store, never in an export. One that does not
                // inflate goes out as it is, as "raw", so nothing is lost.
                let value = if name == DRAFTS {
                    unpack(DRAFTS, &key, &value).unwrap_or(Cow::Borrowed(&value[..]))
                } else {
                    Cow::Borrowed(&value[..])
                };
                writer.record(name, &key, &value, json)?;
            }
            writer.end_tree(name);
        }
        for hash in self.attachment_hashes()? {
            writer.attachment(&hash, |out| self.read_attachment(&hash, out))?;
        }
        writer.finish()
    }

    /// Reads an export of either backend into this store, which must be empty
    /// (`ImportIntoNonEmpty` otherwise). Streams line by line; flushes at the end. A file
    /// without its trailer line is refused as truncated. On an error the store holds a part of
    /// the records: import into a fresh directory and delete it after a failure.
    pub fn import_jsonl(
        &self,
        input: &mut impl BufRead,
        mut progress: impl FnMut(Progress),
    ) -> Result<u64, StoreError> {
        if !self.is_empty() {
            return Err(StoreError::ImportIntoNonEmpty);
        }
        let mut max_id = 0u64;
        let mut batch = sled::Batch::default();
        let mut batch_len = 0usize;
        let mut batch_tree: Option<&'static str> = None;
        let summary = read_export(
            input,
            &mut progress,
            |rec| {
                let name = rec.tree;
                let key = rec.key;
                // Generated ids end the keys of these trees; new ones must stay above them.
                if matches!(name, MESSAGES | AUDIT | OUTBOX) && key.len() >= 8 {
                    let tail = read_u64(name, &key, &key[key.len() - 8..])?;
                    max_id = max_id.max(tail);
                }
                if batch_tree != Some(name) || batch_len >= 10_000 {
                    if let Some(prev) = batch_tree.and_then(|t| self.tree(t)) {
                        prev.apply_batch(std::mem::take(&mut batch))?;
                    }
                    batch_tree = Some(name);
                    batch_len = 0;
                }
                batch.insert(key, rec.value);
                batch_len += 1;
                Ok(())
            },
            |hash, bytes| {
                // Files beside the store, checked against their hash while they are written.
                self.put_attachment(hash, bytes, u64::MAX).map(drop)
            },
        );
        // What was read before an error is written all the same, as before the codec was shared.
        if let Some(prev) = batch_tree.and_then(|t| self.tree(t)) {
            prev.apply_batch(batch)?;
        }
        let summary = summary?;
        let base = max_id;
        self.inner.meta.insert(META_ID_BASE, &base.to_be_bytes())?;
        self.inner.id_base.store(base, Ordering::Release);
        self.rebuild_postkorb()?;
        self.rebuild_visit_days()?;
        self.rebuild_audit_index()?;
        self.flush()?;
        progress(Progress {
            tree: summary.last_tree,
            records: summary.records,
        });
        Ok(summary.records)
    }
}
