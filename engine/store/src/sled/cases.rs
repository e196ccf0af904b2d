//! [`CaseStore`] on sled: assignment and follow-up date live in the status record (one
//! transaction with the Postkorb index and the audit entry); notes in their own tree.

use sled::Transactional;
use sled::transaction::abort;
use time::{Date, OffsetDateTime};

use super::postkorb::{Facts, write_index};
use super::{SledStore, tx_err};
use crate::CaseStore;
use crate::envelope::{decode, encode};
use crate::error::StoreError;
use crate::ids::{AccountId, SubmissionId};
use crate::keys::{NOTES, STATUS, message_key};
use crate::model::{Actor, AuditAction, CaseFile, Note, StatusRecord};

impl SledStore {
    /// Changes the case data in the status record with `change`, keeps the index in step and
    /// writes `action` to the audit log, in one transaction; durable on return.
    fn change_case(
        &self,
        id: &SubmissionId,
        by: Actor,
        now: OffsetDateTime,
        change: impl Fn(&mut StatusRecord),
        action: AuditAction,
    ) -> Result<(), StoreError> {
        let i = &self.inner;
        let key = id.as_bytes();
        let Some(sub) = self.get_submission(key)? else {
            return Err(not_found(id));
        };
        (
            &i.status,
            &i.audit,
            &i.audit_index,
            &i.postkorb,
            &i.postkorb_index,
            &i.postkorb_counts,
        )
            .transaction(|(status, audit, audit_index, postkorb, index, counts)| {
                let Some(bytes) = status.get(key)? else {
                    return abort(not_found(id));
                };
                let before: StatusRecord = decode(STATUS, key, &bytes).map_err(tx_err)?;
                let mut after = before.clone();
                change(&mut after);
                status.insert(key, encode(STATUS, key, &after).map_err(tx_err)?)?;
                write_index(
                    postkorb,
                    index,
                    counts,
                    Some(&Facts::of(&sub, &before)),
                    Some(&Facts::of(&sub, &after)),
                )?;
                self.audit_tx(
                    (audit, audit_index),
                    now,
                    by.clone(),
                    Some(&sub.tenant),
                    action.clone(),
                )?;
                Ok(())
            })?;
        self.flush()
    }
}

fn not_found(id: &SubmissionId) -> StoreError {
    StoreError::NotFound {
        what: "submission",
        key: id.to_string(),
    }
}

impl CaseStore for SledStore {
    fn case_file(&self, id: &SubmissionId) -> Result<CaseFile, StoreError> {
        let key = id.as_bytes();
        match self.inner.status.get(key)? {
            Some(bytes) => Ok(decode::<StatusRecord>(STATUS, key, &bytes)?.case_file()),
            None => Err(not_found(id)),
        }
    }

    fn assign(
        &self,
        id: &SubmissionId,
        to: Option<AccountId>,
        by: Actor,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.change_case(
            id,
            by,
            now,
            |r| r.assignee = to,
            AuditAction::CaseAssigned {
                submission: *id,
                to: to.map(|a| a.to_string()),
            },
        )
    }

    fn set_follow_up(
        &self,
        id: &SubmissionId,
        on: Option<Date>,
        by: Actor,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.change_case(
            id,
            by,
            now,
            |r| r.follow_up = on,
            AuditAction::FollowUpSet {
                submission: *id,
                on,
            },
        )
    }

    fn add_note(
        &self,
        id: &SubmissionId,
        by: Actor,
        body: String,
        now: OffsetDateTime,
    ) -> Result<Note, StoreError> {
        let i = &self.inner;
        let key = id.as_bytes();
        let tenant = self.get_submission(key)?.map(|s| s.tenant);
        let note = (&i.status, &i.notes, &i.audit, &i.audit_index).transaction(
            |(status, notes, audit, audit_index)| {
                if status.get(key)?.is_none() {
                    return abort(not_found(id));
                }
                let seq = self.next_id_tx(notes)?;
                let nkey = message_key(id, seq);
                let note = Note {
                    seq,
                    submission: *id,
                    author: by.clone(),
                    at: now,
                    body: body.clone(),
                };
                notes.insert(
                    nkey.as_slice(),
                    encode(NOTES, &nkey, &note).map_err(tx_err)?,
                )?;
                self.audit_tx(
                    (audit, audit_index),
                    now,
                    by.clone(),
                    tenant.as_ref(),
                    AuditAction::NoteAdded {
                        submission: *id,
                        note: seq,
                    },
                )?;
                Ok(note)
            },
        )?;
        self.flush()?;
        Ok(note)
    }

    fn notes(&self, id: &SubmissionId) -> Result<Vec<Note>, StoreError> {
        self.inner
            .notes
            .scan_prefix(id.as_bytes())
            .map(|item| {
                let (k, v) = item?;
                decode(NOTES, &k, &v)
            })
            .collect()
    }
}
