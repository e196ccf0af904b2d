//! [`crate::SubmissionStore::submit_batch`] on PostgreSQL: one transaction per batch, the
//! references of each tenant reserved with one counter update, every table filled with one
//! statement over arrays (the Postkorb's triggers run per row as for `submit`).

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::audit::audit_record;
use super::outbox::outbox_record;
use super::{PgStore, db_err, is_unique_violation, json, to_u64, v_current};
use crate::error::StoreError;
use crate::ids::Reference;
use crate::keys::{STATUS, SUBMISSIONS};
use crate::model::{Actor, AuditAction, NewSubmission, Status, StatusRecord, Submission};
use crate::postkorb::submission_terms;

impl PgStore {
    pub(super) fn submit_many(
        &self,
        batch: Vec<NewSubmission>,
        now: OffsetDateTime,
    ) -> Result<Vec<Submission>, StoreError> {
        let year = now.year();
        let history = json(STATUS, "(batch)", &StatusRecord::received(now))?;
        let mut by_tenant: BTreeMap<String, Vec<NewSubmission>> = BTreeMap::new();
        for n in batch {
            by_tenant
                .entry(n.tenant.slug().to_owned())
                .or_default()
                .push(n);
        }
        self.tx(async |tx| {
            let mut out = Vec::new();
            for (slug, news) in &by_tenant {
                let count = i64::try_from(news.len()).unwrap_or(i64::MAX);
                let last: i64 = sqlx::query_scalar(
                    "INSERT INTO reference_counters (tenant, year, last) VALUES ($1, $2, $3) \
                     ON CONFLICT (tenant, year) DO UPDATE \
                     SET last = reference_counters.last + EXCLUDED.last RETURNING last",
                )
                .bind(slug)
                .bind(year)
                .bind(count)
                .fetch_one(&mut **tx)
                .await
                .map_err(db_err)?;
                let first = last - count + 1;
                let (mut ids, mut numbers, mut keys, mut records, mut audits, mut deliveries) =
                    (vec![], vec![], vec![], vec![], vec![], vec![]);
                for (i, new) in news.iter().enumerate() {
                    let number = first + i as i64;
                    let reference =
                        Reference::new(new.tenant.reference_prefix(), year, to_u64(number));
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
                        search_terms: submission_terms(new.applicant.as_deref(), &new.search_text),
                    };
                    ids.push(new.id.as_bytes().to_vec());
                    numbers.push(number);
                    keys.push(new.idempotency_key.as_str().to_owned());
                    records.push(json(SUBMISSIONS, &new.id.to_string(), &sub)?);
                    audits.push(audit_record(
                        now,
                        Actor::Citizen,
                        Some(&new.tenant),
                        AuditAction::SubmissionReceived {
                            submission: new.id,
                            reference,
                        },
                    )?);
                    for n in &new.notifications {
                        deliveries.push(outbox_record(Some(&new.tenant), n.clone(), now)?);
                    }
                    out.push(sub);
                }
                let inserted = sqlx::query(
                    "INSERT INTO submissions (id, tenant, year, number, idempotency_key, v, record) \
                     SELECT u.id, $1, $2, u.n, u.k, $3, u.r::jsonb \
                     FROM unnest($4::bytea[], $5::int8[], $6::text[], $7::text[]) AS u (id, n, k, r)",
                )
                .bind(slug)
                .bind(year)
                .bind(v_current())
                .bind(&ids)
                .bind(&numbers)
                .bind(&keys)
                .bind(&records)
                .execute(&mut **tx)
                .await;
                match inserted {
                    Ok(_) => {}
                    Err(e) if is_unique_violation(&e, "submissions_idempotency") => {
                        return Err(StoreError::AlreadyExists {
                            what: "submission with idempotency key",
                            key: "(batch)".into(),
                        });
                    }
                    Err(e) if is_unique_violation(&e, "submissions_pkey") => {
                        return Err(StoreError::AlreadyExists {
                            what: "submission",
                            key: "(batch)".into(),
                        });
                    }
                    Err(e) => return Err(db_err(e)),
                }
                sqlx::query(
                    "INSERT INTO submission_status (submission, current, changed, v, record) \
                     SELECT id, $1, $2, $3, $4::jsonb FROM unnest($5::bytea[]) AS id",
                )
                .bind(Status::Eingegangen.code())
                .bind(now)
                .bind(v_current())
                .bind(&history)
                .bind(&ids)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
                sqlx::query(
                    "INSERT INTO audit (seq, v, record) \
                     SELECT nextval('lotse_ids'), $1, a.r::jsonb \
                     FROM unnest($2::text[]) WITH ORDINALITY AS a (r, i) ORDER BY a.i",
                )
                .bind(v_current())
                .bind(&audits)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
                if !deliveries.is_empty() {
                    sqlx::query(
                        "INSERT INTO outbox (id, due, finished, v, record) \
                         SELECT nextval('lotse_ids'), $1, NULL, $2, d.r::jsonb \
                         FROM unnest($3::text[]) WITH ORDINALITY AS d (r, i) ORDER BY d.i",
                    )
                    .bind(now)
                    .bind(v_current())
                    .bind(&deliveries)
                    .execute(&mut **tx)
                    .await
                    .map_err(db_err)?;
                }
            }
            Ok(out)
        })
    }
}
