//! The Postkorb list on PostgreSQL (migration 0002): counts with one GROUP BY, the page with
//! ORDER BY / OFFSET / LIMIT, in sled's order.

use std::collections::BTreeMap;

use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;

use super::{PgStore, db_err};
use crate::error::StoreError;
use crate::ids::{Reference, SubmissionId, TenantId, hex};
use crate::model::Status;
use crate::postkorb::{PostkorbEntry, PostkorbPage, PostkorbQuery};

fn limit_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn rfc3339(what: &'static str, text: &str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).map_err(|e| {
        StoreError::Corrupt {
            tree: "submissions",
            key: what.into(),
            reason: format!("bad time {text:?}: {e}"),
        }
    })
}

/// The filters of a Postkorb query as SQL over `submissions s JOIN submission_status st`:
/// `$1` tenant, `$2` workflow, `$3` from, `$4` until, `$5` reference part (NULL: no filter).
/// (A macro so that the statements stay static strings.)
macro_rules! postkorb_where {
    () => {
        "s.tenant = $1 \
         AND ($2::text IS NULL OR s.workflow_id = $2) \
         AND ($3::timestamptz IS NULL OR s.submitted >= $3) \
         AND ($4::timestamptz IS NULL OR s.submitted < $4) \
         AND ($5::text IS NULL OR strpos(s.reference, $5) > 0)"
    };
}

impl PgStore {
    /// [`crate::SubmissionStore::postkorb`] in SQL: the counts per status with one
    /// GROUP BY, the page with ORDER BY / OFFSET / LIMIT, newest first (ties by id, as sled).
    pub(super) fn postkorb_page(
        &self,
        tenant: &TenantId,
        query: &PostkorbQuery,
    ) -> Result<PostkorbPage, StoreError> {
        let reference = query
            .reference
            .as_deref()
            .map(|r| r.trim().to_ascii_uppercase())
            .filter(|r| !r.is_empty());
        let status = query.status.map(Status::code);
        let (rows, grouped) = self.run(async |pool| {
            let grouped: Vec<(String, i64)> = sqlx::query_as(concat!(
                "SELECT st.current, count(*) FROM submissions s \
                 JOIN submission_status st ON st.submission = s.id WHERE ",
                postkorb_where!(),
                " GROUP BY st.current"
            ))
            .bind(tenant.slug())
            .bind(query.workflow.as_deref())
            .bind(query.from)
            .bind(query.until)
            .bind(reference.as_deref())
            .fetch_all(pool)
            .await
            .map_err(db_err)?;
            let rows = if query.limit == 0 {
                Vec::new()
            } else {
                sqlx::query(concat!(
                    "SELECT s.id, s.tenant, s.record->>'reference' AS reference, \
                     s.record->>'workflow_id' AS workflow_id, \
                     s.record->>'workflow_version' AS workflow_version, \
                     s.record->>'submitted' AS submitted, st.current, \
                     st.record->'history'->-1->>'at' AS status_at \
                     FROM submissions s JOIN submission_status st ON st.submission = s.id \
                     WHERE ",
                    postkorb_where!(),
                    " AND ($6::text IS NULL OR st.current = $6) \
                     ORDER BY s.submitted DESC, s.id DESC OFFSET $7 LIMIT $8"
                ))
                .bind(tenant.slug())
                .bind(query.workflow.as_deref())
                .bind(query.from)
                .bind(query.until)
                .bind(reference.as_deref())
                .bind(status)
                .bind(limit_i64(query.offset))
                .bind(limit_i64(query.limit))
                .fetch_all(pool)
                .await
                .map_err(db_err)?
            };
            Ok((rows, grouped))
        })?;
        let mut counts: BTreeMap<Status, u64> = Status::ALL.into_iter().map(|s| (s, 0)).collect();
        for (code, n) in grouped {
            if let Some(s) = Status::ALL.into_iter().find(|s| s.code() == code) {
                counts.insert(s, u64::try_from(n).unwrap_or(0));
            }
        }
        let total = match query.status {
            Some(s) => counts.get(&s).copied().unwrap_or(0),
            None => counts.values().sum(),
        };
        let mut entries = Vec::with_capacity(rows.len());
        for r in &rows {
            entries.push(postkorb_entry(r)?);
        }
        Ok(PostkorbPage {
            entries,
            total,
            counts,
        })
    }
}

fn postkorb_entry(r: &PgRow) -> Result<PostkorbEntry, StoreError> {
    let id: Vec<u8> = r.try_get("id").map_err(db_err)?;
    let bad = |reason: &str| StoreError::Corrupt {
        tree: "submissions",
        key: hex(&id),
        reason: reason.into(),
    };
    let get = |name: &str| -> Result<String, StoreError> {
        r.try_get::<Option<String>, _>(name)
            .map_err(db_err)?
            .ok_or_else(|| bad(&format!("no {name}")))
    };
    let reference: Reference = get("reference")?.parse()?;
    let current = get("current")?;
    let status = Status::ALL
        .into_iter()
        .find(|s| s.code() == current)
        .ok_or_else(|| bad("unknown status"))?;
    let submitted = rfc3339("submitted", &get("submitted")?)?;
    let status_at = match r
        .try_get::<Option<String>, _>("status_at")
        .map_err(db_err)?
    {
        Some(at) => rfc3339("status", &at)?,
        None => submitted,
    };
    Ok(PostkorbEntry {
        id: SubmissionId::from_key(&id).ok_or_else(|| bad("expected a 16-byte id"))?,
        reference,
        workflow_id: get("workflow_id")?,
        workflow_version: get("workflow_version")?,
        submitted,
        status,
        status_at,
    })
}
