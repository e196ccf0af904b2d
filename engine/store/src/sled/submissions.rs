//! [`SubmissionStore`] on sled: submit in one transaction with references, idempotency, first
//! status, Postkorb entry, audit entry and notifications; lookups; purging.

use std::sync::PoisonError;

use sled::IVec;
use sled::Transactional;
use sled::transaction::abort;
use time::{Duration, OffsetDateTime};

use super::postkorb::{Facts, write_index};
use super::{SledStore, tx_err};
use crate::SubmissionStore;
use crate::envelope::{decode, encode};
use crate::error::{StoreError, show_key};
use crate::ids::{IdempotencyKey, Reference, SubmissionId, TenantId};
use crate::keys::{
    COUNTERS, IDEMPOTENCY, OUTBOX, STATUS, SUBMISSIONS, counter_key, idempotency_key, read_u64,
    ref_key,
};
use crate::model::{
    Actor, AuditAction, NewSubmission, StatusRecord, Submission, new_outbox_message,
};
use crate::postkorb::{PostkorbPage, PostkorbQuery, submission_terms};

enum Submitted {
    New(Submission),
    Existing(Submission),
}

impl SledStore {
    /// One submit's transaction, not yet durable.
    fn submit_unflushed(
        &self,
        new: NewSubmission,
        now: OffsetDateTime,
    ) -> Result<Submission, StoreError> {
        let i = &self.inner;
        let year = now.year();
        let idem_key = idempotency_key(&new.tenant, &new.idempotency_key);
        let ctr_key = counter_key(&new.tenant, year);
        let sub_key = *new.id.as_bytes();
        let terms = submission_terms(new.applicant.as_deref(), &new.search_text);
        let serial = i.submit_lock.lock().unwrap_or_else(PoisonError::into_inner);
        let outcome = (
            &i.submissions,
            &i.submission_refs,
            &i.counters,
            &i.idempotency,
            &i.status,
            &i.audit,
            &i.audit_index,
            &i.outbox,
            &i.postkorb,
            &i.postkorb_index,
            &i.postkorb_counts,
        )
            .transaction(
                |(
                    subs,
                    refs,
                    ctrs,
                    idem,
                    status,
                    audit,
                    audit_index,
                    outbox,
                    postkorb,
                    index,
                    counts,
                )| {
                    if let Some(existing) = idem.get(&idem_key)? {
                        let Some(bytes) = subs.get(&existing)? else {
                            return abort(StoreError::Corrupt {
                                tree: IDEMPOTENCY,
                                key: show_key(&idem_key),
                                reason: "points to a missing submission".into(),
                            });
                        };
                        let sub = decode(SUBMISSIONS, &existing, &bytes).map_err(tx_err)?;
                        return Ok(Submitted::Existing(sub));
                    }
                    if subs.get(sub_key)?.is_some() {
                        return abort(StoreError::AlreadyExists {
                            what: "submission",
                            key: new.id.to_string(),
                        });
                    }
                    let number = match ctrs.get(&ctr_key)? {
                        Some(b) => read_u64(COUNTERS, &ctr_key, &b).map_err(tx_err)? + 1,
                        None => 1,
                    };
                    ctrs.insert(ctr_key.as_slice(), &number.to_be_bytes())?;
                    let reference = Reference::new(new.tenant.reference_prefix(), year, number);
                    let sub = Submission {
                        id: new.id,
                        tenant: new.tenant.clone(),
                        reference: reference.clone(),
                        idempotency_key: new.idempotency_key.clone(),
                        draft_id: new.draft_id,
                        workflow_id: new.workflow_id.clone(),
                        workflow_version: new.workflow_version.clone(),
                        data: new.data.clone(),
                        submitted: now,
                        applicant: new.applicant.clone(),
                        search_terms: terms.clone(),
                    };
                    subs.insert(
                        &sub_key,
                        encode(SUBMISSIONS, &sub_key, &sub).map_err(tx_err)?,
                    )?;
                    refs.insert(ref_key(&new.tenant, year, number), &sub_key)?;
                    idem.insert(idem_key.as_slice(), &sub_key)?;
                    let history = StatusRecord::received(now);
                    status.insert(
                        &sub_key,
                        encode(STATUS, &sub_key, &history).map_err(tx_err)?,
                    )?;
                    write_index(
                        postkorb,
                        index,
                        counts,
                        None,
                        Some(&Facts::of(&sub, &history)),
                    )?;
                    self.audit_tx(
                        (audit, audit_index),
                        now,
                        Actor::Citizen,
                        Some(&new.tenant),
                        AuditAction::SubmissionReceived {
                            submission: new.id,
                            reference,
                        },
                    )?;
                    for n in &new.notifications {
                        let id = self.next_id_tx(outbox)?;
                        let key = id.to_be_bytes();
                        let msg = new_outbox_message(id, Some(&new.tenant), n.clone(), now);
                        outbox.insert(&key, encode(OUTBOX, &key, &msg).map_err(tx_err)?)?;
                    }
                    Ok(Submitted::New(sub))
                },
            )?;
        drop(serial);
        Ok(match outcome {
            Submitted::New(s) | Submitted::Existing(s) => s,
        })
    }
}

impl SubmissionStore for SledStore {
    fn submit(&self, new: NewSubmission, now: OffsetDateTime) -> Result<Submission, StoreError> {
        let sub = self.submit_unflushed(new, now)?;
        // An existing submission may have been committed by a concurrent call that has not
        // flushed yet: wait for durability in both cases.
        self.flush()?;
        Ok(sub)
    }

    fn submit_batch(
        &self,
        batch: Vec<NewSubmission>,
        now: OffsetDateTime,
    ) -> Result<Vec<Submission>, StoreError> {
        let mut out = Vec::with_capacity(batch.len());
        for new in batch {
            let key = new.idempotency_key.clone();
            let id = new.id;
            let sub = self.submit_unflushed(new, now)?;
            if sub.id != id {
                self.flush()?;
                return Err(StoreError::AlreadyExists {
                    what: "submission with idempotency key",
                    key: key.as_str().to_owned(),
                });
            }
            out.push(sub);
        }
        self.flush()?;
        Ok(out)
    }

    fn submission(&self, id: &SubmissionId) -> Result<Option<Submission>, StoreError> {
        self.get_submission(id.as_bytes())
    }

    fn submission_by_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &IdempotencyKey,
    ) -> Result<Option<Submission>, StoreError> {
        match self.inner.idempotency.get(idempotency_key(tenant, key))? {
            Some(id) => self.get_submission(&id),
            None => Ok(None),
        }
    }

    fn submission_by_reference(
        &self,
        tenant: &TenantId,
        reference: &Reference,
    ) -> Result<Option<Submission>, StoreError> {
        if reference.prefix() != tenant.reference_prefix() {
            return Ok(None);
        }
        let key = ref_key(tenant, reference.year(), reference.number());
        match self.inner.submission_refs.get(&key)? {
            Some(id) => self.get_submission(&id),
            None => Ok(None),
        }
    }

    fn submissions(
        &self,
        tenant: &TenantId,
        after: Option<&Reference>,
        limit: usize,
    ) -> Result<Vec<Submission>, StoreError> {
        let prefix = tenant.key_prefix();
        let mut end = prefix.clone();
        end.extend_from_slice(&[0xff; 12]);
        let start = match after {
            Some(r) => {
                let mut k = ref_key(tenant, r.year(), r.number());
                k.push(0); // strictly after
                k
            }
            None => prefix,
        };
        let mut out = Vec::new();
        for item in self.inner.submission_refs.range(start..=end) {
            if out.len() >= limit {
                break;
            }
            let (_, id) = item?;
            if let Some(s) = self.get_submission(&id)? {
                out.push(s);
            }
        }
        Ok(out)
    }

    fn postkorb(
        &self,
        tenant: &TenantId,
        query: &PostkorbQuery,
    ) -> Result<PostkorbPage, StoreError> {
        self.postkorb_page(tenant, query)
    }

    fn purge_closed(
        &self,
        tenant: &TenantId,
        older_than: Duration,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let i = &self.inner;
        let cutoff = now - older_than;
        let mut purged = 0u64;
        for item in i.submission_refs.scan_prefix(tenant.key_prefix()) {
            let (rkey, id) = item?;
            let Some(status_bytes) = i.status.get(&id)? else {
                continue;
            };
            let record: StatusRecord = decode(STATUS, &id, &status_bytes)?;
            let closed_long_ago = record
                .history
                .last()
                .is_some_and(|c| c.status.is_closed() && c.at <= cutoff);
            if !closed_long_ago {
                continue;
            }
            let Some(sub) = self.get_submission(&id)? else {
                continue;
            };
            let idem = idempotency_key(tenant, &sub.idempotency_key);
            let message_keys: Vec<IVec> = i
                .messages
                .scan_prefix(&id)
                .keys()
                .chain(i.notes.scan_prefix(&id).keys())
                .collect::<Result<_, _>>()?;
            (
                &i.submissions,
                &i.submission_refs,
                &i.idempotency,
                &i.status,
                &i.messages,
                &i.audit,
                &i.audit_index,
                &i.postkorb,
                &i.postkorb_index,
                &i.postkorb_counts,
                &i.notes,
            )
                .transaction(
                    |(
                        subs,
                        refs,
                        idems,
                        status,
                        msgs,
                        audit,
                        audit_index,
                        postkorb,
                        index,
                        counts,
                        notes,
                    )| {
                        subs.remove(&id)?;
                        if let Some(current) = status.get(&id)? {
                            let current: StatusRecord =
                                decode(STATUS, &id, &current).map_err(tx_err)?;
                            write_index(
                                postkorb,
                                index,
                                counts,
                                Some(&Facts::of(&sub, &current)),
                                None,
                            )?;
                        }
                        refs.remove(&rkey)?;
                        idems.remove(idem.as_slice())?;
                        status.remove(&id)?;
                        for k in &message_keys {
                            msgs.remove(k)?;
                            notes.remove(k)?;
                        }
                        self.audit_tx(
                            (audit, audit_index),
                            now,
                            Actor::System,
                            Some(tenant),
                            AuditAction::SubmissionPurged {
                                submission: sub.id,
                                reference: sub.reference.clone(),
                            },
                        )?;
                        Ok(())
                    },
                )?;
            // Messages added between the scan and the transaction; none can follow, the
            // status record is gone.
            for k in i.messages.scan_prefix(&id).keys() {
                i.messages.remove(k?)?;
            }
            for k in i.notes.scan_prefix(&id).keys() {
                i.notes.remove(k?)?;
            }
            purged += 1;
        }
        if purged > 0 {
            self.flush()?;
        }
        Ok(purged)
    }
}
