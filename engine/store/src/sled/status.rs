//! [`StatusStore`] on sled: status history and messages of a submission.

use sled::Transactional;
use sled::transaction::abort;
use time::OffsetDateTime;

use super::postkorb::{Facts, write_index};
use super::{SledStore, tx_err};
use crate::StatusStore;
use crate::envelope::{decode, encode};
use crate::error::StoreError;
use crate::ids::SubmissionId;
use crate::keys::{MESSAGES, OUTBOX, STATUS, message_key};
use crate::model::{
    Actor, AuditAction, Message, NewOutboxMessage, Party, Status, StatusChange, StatusRecord,
    new_outbox_message,
};

impl StatusStore for SledStore {
    fn status_history(&self, id: &SubmissionId) -> Result<Vec<StatusChange>, StoreError> {
        let key = id.as_bytes();
        match self.inner.status.get(key)? {
            Some(bytes) => decode::<StatusRecord>(STATUS, key, &bytes).map(|r| r.history),
            None => Err(StoreError::NotFound {
                what: "submission",
                key: id.to_string(),
            }),
        }
    }

    fn change_status(&self, id: &SubmissionId, change: StatusChange) -> Result<(), StoreError> {
        self.change_status_notifying(id, change, Vec::new())
    }

    fn change_status_notifying(
        &self,
        id: &SubmissionId,
        change: StatusChange,
        notifications: Vec<NewOutboxMessage>,
    ) -> Result<(), StoreError> {
        let i = &self.inner;
        let key = id.as_bytes();
        let sub = self.get_submission(key)?;
        let tenant = sub.as_ref().map(|s| s.tenant.clone());
        (
            &i.status,
            &i.audit,
            &i.audit_index,
            &i.postkorb,
            &i.postkorb_index,
            &i.postkorb_counts,
            &i.outbox,
        )
            .transaction(
                |(status, audit, audit_index, postkorb, index, counts, outbox)| {
                    let Some(bytes) = status.get(key)? else {
                        return abort(StoreError::NotFound {
                            what: "submission",
                            key: id.to_string(),
                        });
                    };
                    let mut record: StatusRecord = decode(STATUS, key, &bytes).map_err(tx_err)?;
                    let from = record
                        .history
                        .last()
                        .map_or(Status::Eingegangen, |c| c.status);
                    if !from.may_change_to(change.status) {
                        return abort(StoreError::InvalidTransition {
                            from: from.code(),
                            to: change.status.code(),
                        });
                    }
                    let before = record.clone();
                    record.history.push(change.clone());
                    status.insert(key, encode(STATUS, key, &record).map_err(tx_err)?)?;
                    if let Some(sub) = &sub {
                        write_index(
                            postkorb,
                            index,
                            counts,
                            Some(&Facts::of(sub, &before)),
                            Some(&Facts::of(sub, &record)),
                        )?;
                    }
                    self.audit_tx(
                        (audit, audit_index),
                        change.at,
                        change.actor.clone(),
                        tenant.as_ref(),
                        AuditAction::StatusChanged {
                            submission: *id,
                            from,
                            to: change.status,
                        },
                    )?;
                    for n in &notifications {
                        let id = self.next_id_tx(outbox)?;
                        let key = id.to_be_bytes();
                        let msg = new_outbox_message(id, tenant.as_ref(), n.clone(), change.at);
                        outbox.insert(&key, encode(OUTBOX, &key, &msg).map_err(tx_err)?)?;
                    }
                    Ok(())
                },
            )?;
        self.flush()
    }

    fn add_message(
        &self,
        id: &SubmissionId,
        from: Party,
        body: String,
        now: OffsetDateTime,
    ) -> Result<Message, StoreError> {
        let i = &self.inner;
        let key = id.as_bytes();
        let tenant = self.get_submission(key)?.map(|s| s.tenant);
        let actor = match &from {
            Party::Citizen => Actor::Citizen,
            Party::Office { account } => Actor::Office {
                account: account.clone(),
            },
        };
        let message = (&i.status, &i.messages, &i.audit, &i.audit_index).transaction(
            |(status, msgs, audit, audit_index)| {
                if status.get(key)?.is_none() {
                    return abort(StoreError::NotFound {
                        what: "submission",
                        key: id.to_string(),
                    });
                }
                let seq = self.next_id_tx(msgs)?;
                let mkey = message_key(id, seq);
                let message = Message {
                    seq,
                    submission: *id,
                    from: from.clone(),
                    at: now,
                    body: body.clone(),
                };
                msgs.insert(
                    mkey.as_slice(),
                    encode(MESSAGES, &mkey, &message).map_err(tx_err)?,
                )?;
                self.audit_tx(
                    (audit, audit_index),
                    now,
                    actor.clone(),
                    tenant.as_ref(),
                    AuditAction::MessageAdded {
                        submission: *id,
                        message: seq,
                    },
                )?;
                Ok(message)
            },
        )?;
        self.flush()?;
        Ok(message)
    }

    fn messages(&self, id: &SubmissionId) -> Result<Vec<Message>, StoreError> {
        self.inner
            .messages
            .scan_prefix(id.as_bytes())
            .map(|item| {
                let (k, v) = item?;
                decode(MESSAGES, &k, &v)
            })
            .collect()
    }
}
