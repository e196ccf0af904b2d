//! [`SubmissionStore`] on PostgreSQL: submit in one transaction (reference counter row,
//! idempotency by a unique constraint), lookups, purging.

use sqlx::Row;
use sqlx::postgres::PgConnection;
use time::{Duration, OffsetDateTime};

use super::audit::audit_record;
use super::outbox::outbox_record;
use super::{
    PgStore, db_err, decode_submission, is_unique_violation, json, to_i64, to_u64, v_current,
};
use crate::SubmissionStore;
use crate::error::StoreError;
use crate::ids::{IdempotencyKey, Reference, SubmissionId, TenantId};
use crate::keys::{STATUS, SUBMISSIONS};
use crate::model::{Actor, AuditAction, NewSubmission, Status, StatusRecord, Submission};
use crate::postkorb::{PostkorbPage, PostkorbQuery, submission_terms};

/// Marks a submit whose idempotency key is taken (never leaves `submit`).
const LOST_RACE: &str = "idempotency key (concurrent submit)";

fn lost_race() -> StoreError {
    StoreError::AlreadyExists {
        what: LOST_RACE,
        key: String::new(),
    }
}

impl SubmissionStore for PgStore {
    fn submit(&self, new: NewSubmission, now: OffsetDateTime) -> Result<Submission, StoreError> {
        let year = now.year();
        let tenant = new.tenant.clone();
        let key = new.idempotency_key.clone();
        let find_existing =
            async |pool: &mut PgConnection| -> Result<Option<Submission>, StoreError> {
                let row = sqlx::query(
                "SELECT id, v, record::text AS record FROM submissions WHERE tenant = $1 AND idempotency_key = $2",
            )
            .bind(tenant.slug())
            .bind(key.as_str())
            .fetch_optional(&mut *pool)
            .await
            .map_err(db_err)?;
                row.map(|r| decode_submission(&r)).transpose()
            };
        // What does not depend on the reference is encoded before the counter row is locked.
        let history = json(STATUS, &new.id.to_string(), &StatusRecord::received(now))?;
        let terms = submission_terms(new.applicant.as_deref(), &new.search_text);
        let deliveries = new
            .notifications
            .iter()
            .map(|n| outbox_record(Some(&new.tenant), n.clone(), now))
            .collect::<Result<Vec<_>, _>>()?;
        // No lookup of the key first: a repeat is rare (the caller has usually looked already),
        // and the insert below detects it anyway. One statement, so one round trip: its own
        // (implicit) transaction takes the tenant's counter row, inserts every row, and commits
        // synchronously (the WAL flushed before the answer). The reference is made from the
        // counter in the statement itself: the records are encoded here with a placeholder and
        // the statement sets their `reference` (the same text as `Reference`'s `Display`).
        let placeholder = Reference::new(new.tenant.reference_prefix(), year, 0);
        let sub = Submission {
            id: new.id,
            tenant: new.tenant.clone(),
            reference: placeholder.clone(),
            idempotency_key: new.idempotency_key.clone(),
            draft_id: new.draft_id,
            workflow_id: new.workflow_id.clone(),
            workflow_version: new.workflow_version.clone(),
            data: new.data.clone(),
            submitted: now,
            applicant: new.applicant.clone(),
            search_terms: terms,
        };
        let record = json(SUBMISSIONS, &new.id.to_string(), &sub)?;
        let audit = audit_record(
            now,
            Actor::Citizen,
            Some(&new.tenant),
            AuditAction::SubmissionReceived {
                submission: new.id,
                reference: placeholder,
            },
        )?;
        let reference_head = format!("{}-{:04}-", new.tenant.reference_prefix(), year);
        let outcome = self.run(async |conn| {
            // The counter row's lock orders the submitters of one tenant and year on every
            // node until the commit; a statement that fails (a taken key) rolls back and gives
            // its number back. The submission, its status, its audit entry and its deliveries
            // are inserted with it; the other rows are made from the submission's RETURNING.
            let inserted = sqlx::query_scalar::<_, i64>(
                "WITH c AS ( \
                   INSERT INTO reference_counters (tenant, year, last) VALUES ($2, $3, 1) \
                   ON CONFLICT (tenant, year) DO UPDATE SET last = reference_counters.last + 1 \
                   RETURNING last), \
                 r AS ( \
                   SELECT last, jsonb_build_object('reference', $12::text || \
                     CASE WHEN last < 100000 THEN lpad(last::text, 6, '0') ELSE last::text END) \
                     AS reference \
                   FROM c), \
                 s AS ( \
                   INSERT INTO submissions (id, tenant, year, number, idempotency_key, v, record) \
                   SELECT $1, $2, $3, r.last, $4, $5, $6::jsonb || r.reference FROM r \
                   RETURNING id), \
                 st AS ( \
                   INSERT INTO submission_status (submission, current, changed, v, record) \
                   SELECT id, $7, $8, $5, $9::jsonb FROM s), \
                 a AS ( \
                   INSERT INTO audit (seq, v, record) \
                   SELECT nextval('lotse_ids'), $5, $10::jsonb || r.reference FROM s, r), \
                 o AS ( \
                   INSERT INTO outbox (id, due, finished, v, record) \
                   SELECT nextval('lotse_ids'), $8, NULL, $5, d::jsonb \
                   FROM s, unnest($11::text[]) WITH ORDINALITY AS n (d, i) ORDER BY n.i) \
                 SELECT last FROM r",
            )
            .bind(&new.id.as_bytes()[..])
            .bind(new.tenant.slug())
            .bind(year)
            .bind(new.idempotency_key.as_str())
            .bind(v_current())
            .bind(&record)
            .bind(Status::Eingegangen.code())
            .bind(now)
            .bind(&history)
            .bind(&audit)
            .bind(&deliveries)
            .bind(&reference_head)
            .fetch_one(&mut *conn)
            .await;
            match inserted {
                Ok(number) => Ok(to_u64(number)),
                // The key is taken (a repeat, or a concurrent call committed first): rolled
                // back (the number is given back); the caller returns that submission.
                Err(e) if is_unique_violation(&e, "submissions_idempotency") => Err(lost_race()),
                Err(e) if is_unique_violation(&e, "submissions_pkey") => {
                    Err(StoreError::AlreadyExists {
                        what: "submission",
                        key: new.id.to_string(),
                    })
                }
                Err(e) => Err(db_err(e)),
            }
        });
        let outcome = outcome.map(|number| Submission {
            reference: Reference::new(new.tenant.reference_prefix(), year, number),
            ..sub
        });
        match outcome {
            Ok(sub) => Ok(sub),
            // Rolled back; the first submission with this key is committed and visible.
            Err(StoreError::AlreadyExists {
                what: LOST_RACE, ..
            }) => self
                .run(async |pool| find_existing(&mut *pool).await)?
                .ok_or_else(|| StoreError::Storage("a concurrent submit vanished".into())),
            Err(e) => Err(e),
        }
    }

    fn submit_batch(
        &self,
        batch: Vec<NewSubmission>,
        now: OffsetDateTime,
    ) -> Result<Vec<Submission>, StoreError> {
        self.submit_many(batch, now)
    }

    fn submission(&self, id: &SubmissionId) -> Result<Option<Submission>, StoreError> {
        let row = self.run(async |pool| {
            sqlx::query("SELECT id, v, record::text AS record FROM submissions WHERE id = $1")
                .bind(&id.as_bytes()[..])
                .fetch_optional(&mut *pool)
                .await
                .map_err(db_err)
        })?;
        row.map(|r| decode_submission(&r)).transpose()
    }

    fn submission_by_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &IdempotencyKey,
    ) -> Result<Option<Submission>, StoreError> {
        let row = self.run(async |pool| {
            sqlx::query(
                "SELECT id, v, record::text AS record FROM submissions \
                 WHERE tenant = $1 AND idempotency_key = $2",
            )
            .bind(tenant.slug())
            .bind(key.as_str())
            .fetch_optional(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        row.map(|r| decode_submission(&r)).transpose()
    }

    fn submission_by_reference(
        &self,
        tenant: &TenantId,
        reference: &Reference,
    ) -> Result<Option<Submission>, StoreError> {
        if reference.prefix() != tenant.reference_prefix() {
            return Ok(None);
        }
        let number = to_i64("reference number", reference.number())?;
        let row = self.run(async |pool| {
            sqlx::query(
                "SELECT id, v, record::text AS record FROM submissions \
                 WHERE tenant = $1 AND year = $2 AND number = $3",
            )
            .bind(tenant.slug())
            .bind(reference.year())
            .bind(number)
            .fetch_optional(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        row.map(|r| decode_submission(&r)).transpose()
    }

    fn submissions(
        &self,
        tenant: &TenantId,
        after: Option<&Reference>,
        limit: usize,
    ) -> Result<Vec<Submission>, StoreError> {
        let (year, number) = match after {
            Some(r) => (r.year(), to_i64("reference number", r.number())?),
            None => (i32::MIN, i64::MIN),
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.run(async |pool| {
            sqlx::query(
                "SELECT id, v, record::text AS record FROM submissions \
                 WHERE tenant = $1 AND (year, number) > ($2, $3) \
                 ORDER BY year, number LIMIT $4",
            )
            .bind(tenant.slug())
            .bind(year)
            .bind(number)
            .bind(limit)
            .fetch_all(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        rows.iter().map(decode_submission).collect()
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
        let cutoff = now - older_than;
        self.tx(async |tx| {
            // Messages, status and receipts go with the submission (ON DELETE CASCADE); the
            // counter row stays, so references stay used.
            let purged = sqlx::query(
                "DELETE FROM submissions s USING submission_status st \
                 WHERE st.submission = s.id AND s.tenant = $1 \
                   AND st.current IN ('abgeschlossen', 'abgelehnt') AND st.changed <= $2 \
                 RETURNING s.id, s.year, s.number",
            )
            .bind(tenant.slug())
            .bind(cutoff)
            .fetch_all(&mut **tx)
            .await
            .map_err(db_err)?;
            for row in &purged {
                let id: Vec<u8> = row.try_get("id").map_err(db_err)?;
                let year: i32 = row.try_get("year").map_err(db_err)?;
                let number: i64 = row.try_get("number").map_err(db_err)?;
                let Some(submission) = SubmissionId::from_key(&id) else {
                    continue;
                };
                Self::audit_tx(
                    tx,
                    now,
                    Actor::System,
                    Some(tenant),
                    AuditAction::SubmissionPurged {
                        submission,
                        reference: Reference::new(tenant.reference_prefix(), year, to_u64(number)),
                    },
                )
                .await?;
            }
            Ok(purged.len() as u64)
        })
    }
}
