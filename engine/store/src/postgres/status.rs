//! [`StatusStore`] on PostgreSQL: status history and messages.

use sqlx::Row;
use time::OffsetDateTime;

use super::outbox::outbox_record;
use super::{PgStore, db_err, json, record_text, to_u64, v_current, version};
use crate::StatusStore;
use crate::envelope::decode_parts;
use crate::error::StoreError;
use crate::ids::{SubmissionId, TenantId};
use crate::keys::{MESSAGES, STATUS};
use crate::model::{
    Actor, AuditAction, Message, NewOutboxMessage, Party, Status, StatusChange, StatusRecord,
};

impl StatusStore for PgStore {
    fn status_history(&self, id: &SubmissionId) -> Result<Vec<StatusChange>, StoreError> {
        let row = self.run(async |pool| {
            sqlx::query(
                "SELECT v, record::text AS record FROM submission_status WHERE submission = $1",
            )
            .bind(&id.as_bytes()[..])
            .fetch_optional(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        match row {
            Some(r) => decode_parts::<StatusRecord>(
                STATUS,
                &id.to_string(),
                version(&r)?,
                &record_text(&r)?,
            )
            .map(|r| r.history),
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
        self.tx(async |tx| {
            let Some(row) = sqlx::query(
                "SELECT st.v, st.record::text AS record, s.tenant, s.record->'tenant'->>'prefix' AS prefix \
                 FROM submission_status st JOIN submissions s ON s.id = st.submission \
                 WHERE st.submission = $1 FOR UPDATE OF st",
            )
            .bind(&id.as_bytes()[..])
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_err)?
            else {
                return Err(StoreError::NotFound {
                    what: "submission",
                    key: id.to_string(),
                });
            };
            let mut record: StatusRecord =
                decode_parts(STATUS, &id.to_string(), version(&row)?, &record_text(&row)?)?;
            let slug: String = row.try_get("tenant").map_err(db_err)?;
            let prefix: Option<String> = row.try_get("prefix").map_err(db_err)?;
            let tenant = TenantId::new(&slug, prefix.as_deref().unwrap_or("XXX")).ok();
            let from = record.history.last().map_or(Status::Eingegangen, |c| c.status);
            if !from.may_change_to(change.status) {
                return Err(StoreError::InvalidTransition {
                    from: from.code(),
                    to: change.status.code(),
                });
            }
            record.history.push(change.clone());
            sqlx::query(
                "UPDATE submission_status SET current = $2, changed = $3, v = $4, record = $5::jsonb \
                 WHERE submission = $1",
            )
            .bind(&id.as_bytes()[..])
            .bind(change.status.code())
            .bind(change.at)
            .bind(v_current())
            .bind(json(STATUS, &id.to_string(), &record)?)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
            Self::audit_tx(
                tx,
                change.at,
                change.actor.clone(),
                tenant.as_ref(),
                AuditAction::StatusChanged {
                    submission: *id,
                    from,
                    to: change.status,
                },
            )
            .await?;
            for n in &notifications {
                let record = outbox_record(tenant.as_ref(), n.clone(), change.at)?;
                sqlx::query(
                    "INSERT INTO outbox (id, due, finished, v, record) \
                     VALUES (nextval('lotse_ids'), $1, NULL, $2, $3::jsonb)",
                )
                .bind(change.at)
                .bind(v_current())
                .bind(record)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            }
            Ok(())
        })
    }

    fn add_message(
        &self,
        id: &SubmissionId,
        from: Party,
        body: String,
        now: OffsetDateTime,
    ) -> Result<Message, StoreError> {
        let actor = match &from {
            Party::Citizen => Actor::Citizen,
            Party::Office { account } => Actor::Office {
                account: account.clone(),
            },
        };
        let mut message = Message {
            seq: 0,
            submission: *id,
            from,
            at: now,
            body,
        };
        let record = json(MESSAGES, &id.to_string(), &message)?;
        let seq = self.tx(async |tx| {
            // KEY SHARE on the submission: a concurrent purge waits, or this finds nothing.
            let Some(row) = sqlx::query(
                "SELECT tenant, record->'tenant'->>'prefix' AS prefix FROM submissions WHERE id = $1 FOR KEY SHARE",
            )
            .bind(&id.as_bytes()[..])
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_err)?
            else {
                return Err(StoreError::NotFound {
                    what: "submission",
                    key: id.to_string(),
                });
            };
            let slug: String = row.try_get("tenant").map_err(db_err)?;
            let prefix: Option<String> = row.try_get("prefix").map_err(db_err)?;
            let tenant = TenantId::new(&slug, prefix.as_deref().unwrap_or("XXX")).ok();
            let seq: i64 = sqlx::query_scalar(
                "INSERT INTO messages (seq, submission, v, record) \
                 VALUES (nextval('lotse_ids'), $1, $2, $3::jsonb) RETURNING seq",
            )
            .bind(&id.as_bytes()[..])
            .bind(v_current())
            .bind(&record)
            .fetch_one(&mut **tx)
            .await
            .map_err(db_err)?;
            let seq = to_u64(seq);
            Self::audit_tx(
                tx,
                now,
                actor.clone(),
                tenant.as_ref(),
                AuditAction::MessageAdded {
                    submission: *id,
                    message: seq,
                },
            )
            .await?;
            Ok(seq)
        })?;
        message.seq = seq;
        Ok(message)
    }

    fn messages(&self, id: &SubmissionId) -> Result<Vec<Message>, StoreError> {
        let rows = self.run(async |pool| {
            sqlx::query(
                "SELECT seq, v, record::text AS record FROM messages WHERE submission = $1 ORDER BY seq",
            )
            .bind(&id.as_bytes()[..])
            .fetch_all(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        rows.iter()
            .map(|r| {
                let seq: i64 = r.try_get("seq").map_err(db_err)?;
                let mut m: Message =
                    decode_parts(MESSAGES, &seq.to_string(), version(r)?, &record_text(r)?)?;
                m.seq = to_u64(seq);
                Ok(m)
            })
            .collect()
    }
}
