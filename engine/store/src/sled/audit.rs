//! [`AuditStore`] on sled: the log keyed by sequence number, and its index by submission
//! (`audit_index`: submission id + sequence number → nothing), written with each entry.

use sled::transaction::TransactionalTree;
use time::OffsetDateTime;

use super::{SledStore, TxResult, tx_err};
use crate::AuditStore;
use crate::envelope::{decode, encode};
use crate::error::StoreError;
use crate::ids::{SubmissionId, TenantId};
use crate::keys::AUDIT;
use crate::model::{Actor, AuditAction, AuditEntry};

/// The index key of entry `seq` about `submission`.
fn index_key(submission: &SubmissionId, seq: u64) -> [u8; 24] {
    let mut key = [0u8; 24];
    key[..16].copy_from_slice(submission.as_bytes());
    key[16..].copy_from_slice(&seq.to_be_bytes());
    key
}

impl SledStore {
    /// Appends an audit entry inside a transaction that holds the audit tree and its index.
    pub(super) fn audit_tx(
        &self,
        (tx, index): (&TransactionalTree, &TransactionalTree),
        at: OffsetDateTime,
        actor: Actor,
        tenant: Option<&TenantId>,
        action: AuditAction,
    ) -> TxResult<u64> {
        let seq = self.next_id_tx(tx)?;
        let key = seq.to_be_bytes();
        if let Some(submission) = action.submission() {
            index.insert(&index_key(submission, seq), &[])?;
        }
        let entry = AuditEntry::new(seq, at, actor, tenant, action);
        tx.insert(&key, encode(AUDIT, &key, &entry).map_err(tx_err)?)?;
        Ok(seq)
    }

    /// Builds the index by submission from the log: on an older store's first open and after
    /// an import (and for measuring that; docs/BENCHMARKS.md). Not while others write. Reads
    /// only each entry's `submission`, and inserts the keys in their order, a million at a time.
    pub fn rebuild_audit_index(&self) -> Result<(), StoreError> {
        /// An entry as far as the index needs it.
        #[derive(serde::Deserialize)]
        struct About {
            #[serde(default)]
            submission: Option<SubmissionId>,
        }
        let i = &self.inner;
        i.audit_index.clear()?;
        let mut keys: Vec<[u8; 24]> = Vec::new();
        let write = |keys: &mut Vec<[u8; 24]>| -> Result<(), StoreError> {
            keys.sort_unstable();
            for key in keys.drain(..) {
                i.audit_index.insert(key, &[])?;
            }
            Ok(())
        };
        for item in i.audit.iter() {
            let (key, bytes) = item?;
            // An unreadable entry stays out of the index; the log and its export keep it.
            let (Ok(about), Ok(seq)) = (
                decode::<About>(AUDIT, &key, &bytes),
                <[u8; 8]>::try_from(&key[..]),
            ) else {
                continue;
            };
            if let Some(submission) = about.submission {
                keys.push(index_key(&submission, u64::from_be_bytes(seq)));
            }
            if keys.len() >= 1_000_000 {
                write(&mut keys)?;
            }
        }
        write(&mut keys)
    }
}

impl AuditStore for SledStore {
    fn append_audit(
        &self,
        at: OffsetDateTime,
        actor: Actor,
        tenant: Option<&TenantId>,
        action: AuditAction,
    ) -> Result<u64, StoreError> {
        let seq = self.next_id()?;
        let key = seq.to_be_bytes();
        // The index first: after a crash in between it names an entry that is not there, which
        // a lookup skips; never an entry that the index misses.
        if let Some(submission) = action.submission() {
            self.inner
                .audit_index
                .insert(index_key(submission, seq), &[])?;
        }
        let entry = AuditEntry::new(seq, at, actor, tenant, action);
        self.inner.audit.insert(key, encode(AUDIT, &key, &entry)?)?;
        self.flush()?;
        Ok(seq)
    }

    fn append_audits(
        &self,
        at: OffsetDateTime,
        actor: Actor,
        tenant: Option<&TenantId>,
        actions: Vec<AuditAction>,
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        let mut index = sled::Batch::default();
        for action in actions {
            let seq = self.next_id()?;
            let key = seq.to_be_bytes();
            if let Some(submission) = action.submission() {
                index.insert(&index_key(submission, seq), &[]);
            }
            let entry = AuditEntry::new(seq, at, actor.clone(), tenant, action);
            batch.insert(&key, encode(AUDIT, &key, &entry)?);
        }
        // The index first, as in `append_audit`.
        self.inner.audit_index.apply_batch(index)?;
        self.inner.audit.apply_batch(batch)?;
        self.flush()?;
        Ok(())
    }

    fn audit_log(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let start = after.saturating_add(1).to_be_bytes();
        self.inner
            .audit
            .range(start..)
            .take(limit)
            .map(|item| {
                let (k, v) = item?;
                decode(AUDIT, &k, &v)
            })
            .collect()
    }

    fn submission_audit(&self, submission: &SubmissionId) -> Result<Vec<AuditEntry>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.audit_index.scan_prefix(submission.as_bytes()) {
            let (key, _) = item?;
            let seq = &key[key.len().saturating_sub(8)..];
            if let Some(bytes) = self.inner.audit.get(seq)? {
                out.push(decode(AUDIT, seq, &bytes)?);
            }
        }
        Ok(out)
    }
}
