//! [`AuditStore`] on sled.

use sled::transaction::TransactionalTree;
use time::OffsetDateTime;

use super::{SledStore, TxResult, tx_err};
use crate::AuditStore;
use crate::envelope::{decode, encode};
use crate::error::StoreError;
use crate::ids::TenantId;
use crate::keys::AUDIT;
use crate::model::{Actor, AuditAction, AuditEntry};

impl SledStore {
    /// Appends an audit entry inside a transaction that holds the audit tree.
    pub(super) fn audit_tx(
        &self,
        tx: &TransactionalTree,
        at: OffsetDateTime,
        actor: Actor,
        tenant: Option<&TenantId>,
        action: AuditAction,
    ) -> TxResult<u64> {
        let seq = self.next_id_tx(tx)?;
        let key = seq.to_be_bytes();
        let entry = AuditEntry::new(seq, at, actor, tenant, action);
        tx.insert(&key, encode(AUDIT, &key, &entry).map_err(tx_err)?)?;
        Ok(seq)
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
        for action in actions {
            let seq = self.next_id()?;
            let key = seq.to_be_bytes();
            let entry = AuditEntry::new(seq, at, actor.clone(), tenant, action);
            batch.insert(&key, encode(AUDIT, &key, &entry)?);
        }
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
}
