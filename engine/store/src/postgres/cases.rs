//! [`CaseStore`] on PostgreSQL: assignment and follow-up date in the status record (the
//! trigger of migration 0005 carries them into the Postkorb's row and counters in the same
//! transaction), notes in their own table.

use sqlx::Row;
use time::{Date, OffsetDateTime};

use super::{PgStore, db_err, json, record_text, to_u64, v_current, version};
use crate::CaseStore;
use crate::envelope::decode_parts;
use crate::error::StoreError;
use crate::ids::{AccountId, SubmissionId, TenantId};
use crate::keys::{NOTES, STATUS};
use crate::model::{Actor, AuditAction, CaseFile, Note, StatusRecord};

fn not_found(id: &SubmissionId) -> StoreError {
    StoreError::NotFound {
        what: "submission",
        key: id.to_string(),
    }
}

impl PgStore {
    /// Changes the case data in the status record with `change` and writes `action` to the
    /// audit log, in one transaction (the row lock orders it with status changes).
    fn change_case(
        &self,
        id: &SubmissionId,
        by: Actor,
        now: OffsetDateTime,
        change: impl Fn(&mut StatusRecord),
        action: AuditAction,
    ) -> Result<(), StoreError> {
        self.tx(async |tx| {
            let Some(row) = sqlx::query(
                "SELECT st.v, st.record::text AS record, s.tenant, \
                 s.record->'tenant'->>'prefix' AS prefix \
                 FROM submission_status st JOIN submissions s ON s.id = st.submission \
                 WHERE st.submission = $1 FOR UPDATE OF st",
            )
            .bind(&id.as_bytes()[..])
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_err)?
            else {
                return Err(not_found(id));
            };
            let mut record: StatusRecord =
                decode_parts(STATUS, &id.to_string(), version(&row)?, &record_text(&row)?)?;
            let slug: String = row.try_get("tenant").map_err(db_err)?;
            let prefix: Option<String> = row.try_get("prefix").map_err(db_err)?;
            let tenant = TenantId::new(&slug, prefix.as_deref().unwrap_or("XXX")).ok();
            change(&mut record);
            sqlx::query(
                "UPDATE submission_status SET v = $2, record = $3::jsonb WHERE submission = $1",
            )
            .bind(&id.as_bytes()[..])
            .bind(v_current())
            .bind(json(STATUS, &id.to_string(), &record)?)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
            Self::audit_tx(tx, now, by.clone(), tenant.as_ref(), action.clone()).await?;
            Ok(())
        })
    }
}

impl CaseStore for PgStore {
    fn case_file(&self, id: &SubmissionId) -> Result<CaseFile, StoreError> {
        let row = self.run(async |pool| {
            sqlx::query(
                "SELECT v, record::text AS record FROM submission_status WHERE submission = $1",
            )
            .bind(&id.as_bytes()[..])
            .fetch_optional(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        let Some(r) = row else {
            return Err(not_found(id));
        };
        let record: StatusRecord =
            decode_parts(STATUS, &id.to_string(), version(&r)?, &record_text(&r)?)?;
        Ok(record.case_file())
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
        let mut note = Note {
            seq: 0,
            submission: *id,
            author: by.clone(),
            at: now,
            body,
        };
        let record = json(NOTES, &id.to_string(), &note)?;
        let seq = self.tx(async |tx| {
            // KEY SHARE on the submission: a concurrent purge waits, or this finds nothing.
            let Some(row) = sqlx::query(
                "SELECT tenant, record->'tenant'->>'prefix' AS prefix FROM submissions \
                 WHERE id = $1 FOR KEY SHARE",
            )
            .bind(&id.as_bytes()[..])
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_err)?
            else {
                return Err(not_found(id));
            };
            let slug: String = row.try_get("tenant").map_err(db_err)?;
            let prefix: Option<String> = row.try_get("prefix").map_err(db_err)?;
            let tenant = TenantId::new(&slug, prefix.as_deref().unwrap_or("XXX")).ok();
            let seq: i64 = sqlx::query_scalar(
                "INSERT INTO notes (seq, submission, v, record) \
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
                by.clone(),
                tenant.as_ref(),
                AuditAction::NoteAdded {
                    submission: *id,
                    note: seq,
                },
            )
            .await?;
            Ok(seq)
        })?;
        note.seq = seq;
        Ok(note)
    }

    fn notes(&self, id: &SubmissionId) -> Result<Vec<Note>, StoreError> {
        let rows = self.run(async |pool| {
            sqlx::query(
                "SELECT seq, v, record::text AS record FROM notes WHERE submission = $1 ORDER BY seq",
            )
            .bind(&id.as_bytes()[..])
            .fetch_all(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        rows.iter()
            .map(|r| {
                let seq: i64 = r.try_get("seq").map_err(db_err)?;
                let mut n: Note =
                    decode_parts(NOTES, &seq.to_string(), version(r)?, &record_text(r)?)?;
                n.seq = to_u64(seq);
                Ok(n)
            })
            .collect()
    }
}
