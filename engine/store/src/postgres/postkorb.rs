//! The Postkorb list on PostgreSQL (migration 0005): the page from the `postkorb` table (one
//! row per submission, kept by triggers, an index per filter), the counts from
//! `postkorb_counts` when the filters allow, else with one GROUP BY over the matching rows.
//! The statement is put together from fixed fragments for the filters in use, every value
//! bound, so that the planner sees which index fits. A search reads `postkorb_postings`
//! (migration 0006, module `search`).

use std::collections::BTreeMap;

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{Postgres, Row};
use time::{Date, OffsetDateTime};

use super::{PgStore, db_err};
use crate::error::StoreError;
use crate::ids::{AccountId, Reference, SubmissionId, TenantId, hex};
use crate::model::Status;
use crate::postkorb::{PostkorbEntry, PostkorbPage, PostkorbQuery, ReferenceSearch};

mod search;

fn limit_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A value bound to a statement.
#[derive(Clone)]
enum Arg {
    Text(String),
    Time(OffsetDateTime),
    Int(i64),
    Year(i32),
    Day(Date),
    Texts(Vec<String>),
}

/// The conditions of a query (`p` is the `postkorb` row) and their values.
#[derive(Default)]
struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    fn and(&mut self, fragment: &str, arg: Arg) {
        self.args.push(arg);
        // Every fragment has one `$?`, numbered here.
        self.text.push_str(" AND ");
        self.text
            .push_str(&fragment.replace("$?", &format!("${}", self.args.len())));
    }

    fn bind<'q>(
        &self,
        mut q: Query<'q, Postgres, PgArguments>,
    ) -> Query<'q, Postgres, PgArguments> {
        for a in &self.args {
            q = match a.clone() {
                Arg::Text(v) => q.bind(v),
                Arg::Time(v) => q.bind(v),
                Arg::Int(v) => q.bind(v),
                Arg::Year(v) => q.bind(v),
                Arg::Day(v) => q.bind(v),
                Arg::Texts(v) => q.bind(v),
            };
        }
        q
    }
}

/// The filters other than status and search as SQL conditions; `None` if nothing can match.
fn conditions(tenant: &TenantId, q: &PostkorbQuery) -> Option<Sql> {
    let mut sql = Sql::default();
    sql.text.push_str("p.tenant = $1");
    sql.args.push(Arg::Text(tenant.slug().to_owned()));
    if let Some(w) = &q.workflow {
        sql.and("p.workflow_id = $?", Arg::Text(w.clone()));
    }
    if let Some(from) = q.from {
        sql.and("p.submitted >= $?", Arg::Time(from));
    }
    if let Some(until) = q.until {
        sql.and("p.submitted < $?", Arg::Time(until));
    }
    if let Some(a) = &q.assignee {
        sql.and("p.assignee = $?", Arg::Text(a.to_string()));
    }
    if let Some(due) = q.due_by {
        sql.and(
            "p.follow_up <= $? AND p.follow_up IS NOT NULL \
             AND p.status NOT IN ('abgeschlossen', 'abgelehnt')",
            Arg::Day(due),
        );
    }
    match ReferenceSearch::parse(q.reference.as_deref()) {
        ReferenceSearch::Any => {}
        ReferenceSearch::Nothing => return None,
        ReferenceSearch::Number {
            prefix,
            year,
            number,
        } => {
            if prefix.is_some_and(|p| p != tenant.reference_prefix()) {
                return None;
            }
            sql.and(
                "p.number = $?",
                Arg::Int(i64::try_from(number).unwrap_or(i64::MAX)),
            );
            if let Some(y) = year {
                sql.and("p.year = $?", Arg::Year(y));
            }
        }
    }
    Some(sql)
}

/// What a page shows of a `postkorb` row.
const COLUMNS: &str = "p.submission, p.reference, p.workflow_id, p.workflow_version, \
                       p.submitted, p.status, p.status_at, p.applicant, p.assignee, p.follow_up";

impl PgStore {
    /// What is due: every match read once with time and status only (the follow-up index
    /// holds both: an index-only scan), counted, sorted and paged here; then the page's rows
    /// by id.
    fn due_page(&self, query: &PostkorbQuery, cond: Sql) -> Result<PostkorbPage, StoreError> {
        let matches_sql = Sql {
            text: format!(
                "SELECT p.submission, p.submitted, p.status FROM postkorb p WHERE {}",
                cond.text
            ),
            args: cond.args,
        };
        let (matches, rows) = self.run(async |pool| {
            let found = matches_sql
                .bind(sqlx::query(sqlx::AssertSqlSafe(matches_sql.text.clone())))
                .fetch_all(&mut *pool)
                .await
                .map_err(db_err)?;
            let mut matches: Vec<(OffsetDateTime, Vec<u8>, String)> = found
                .iter()
                .map(|r| Ok((r.try_get(1)?, r.try_get(0)?, r.try_get(2)?)))
                .collect::<Result<_, sqlx::Error>>()
                .map_err(db_err)?;
            matches.sort_unstable_by(|a, b| (&b.0, &b.1).cmp(&(&a.0, &a.1)));
            let ids: Vec<Vec<u8>> = matches
                .iter()
                .filter(|m| query.status.is_none_or(|s| s.code() == m.2))
                .skip(query.offset)
                .take(query.limit)
                .map(|m| m.1.clone())
                .collect();
            let rows = if ids.is_empty() {
                Vec::new()
            } else {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM postkorb p WHERE p.submission = ANY($1) \
                     ORDER BY p.submitted DESC, p.submission DESC"
                )))
                .bind(&ids)
                .fetch_all(&mut *pool)
                .await
                .map_err(db_err)?
            };
            Ok((matches, rows))
        })?;
        let mut counts: BTreeMap<Status, u64> = Status::ALL.into_iter().map(|s| (s, 0)).collect();
        for (_, _, code) in &matches {
            if let Some(s) = Status::from_code(code)
                && let Some(n) = counts.get_mut(&s)
            {
                *n += 1;
            }
        }
        let total = match query.status {
            Some(s) => counts.get(&s).copied().unwrap_or(0),
            None => counts.values().sum(),
        };
        let entries = rows.iter().map(postkorb_entry).collect::<Result<_, _>>()?;
        Ok(PostkorbPage {
            entries,
            total,
            counts,
            truncated: false,
        })
    }

    /// [`crate::SubmissionStore::postkorb`] in SQL, newest first (ties by id, as sled).
    pub(super) fn postkorb_page(
        &self,
        tenant: &TenantId,
        query: &PostkorbQuery,
    ) -> Result<PostkorbPage, StoreError> {
        let Some(cond) = conditions(tenant, query) else {
            return Ok(PostkorbPage {
                counts: Status::ALL.into_iter().map(|s| (s, 0)).collect(),
                ..PostkorbPage::default()
            });
        };
        let by_counters = query.counted_by_counters();
        let searching = !query.terms().is_empty();
        // The counts: from the counters, or over the matching rows (a search at most
        // SEARCH_LIMIT of them).
        let count_sql = if by_counters {
            let mut c = Sql::default();
            c.text.push_str(
                "SELECT status, sum(n)::bigint FROM postkorb_counts p WHERE p.tenant = $1",
            );
            c.args.push(Arg::Text(tenant.slug().to_owned()));
            if let Some(w) = &query.workflow {
                c.and("p.workflow_id = $?", Arg::Text(w.clone()));
            }
            if let Some(a) = &query.assignee {
                c.and("p.assignee = $?", Arg::Text(a.to_string()));
            }
            c.text.push_str(" GROUP BY status");
            c
        } else {
            Sql {
                text: format!(
                    "SELECT p.status, count(*) FROM postkorb p WHERE {} GROUP BY p.status",
                    cond.text
                ),
                args: cond.args.clone(),
            }
        };
        if searching {
            return self.text_search_page(query, cond, &query.terms());
        }
        if query.due_by.is_some() {
            return self.due_page(query, cond);
        }
        let mut page_sql = Sql {
            text: format!("SELECT {COLUMNS} FROM postkorb p WHERE {}", cond.text),
            args: cond.args,
        };
        if let Some(s) = query.status {
            page_sql.and("p.status = $?", Arg::Text(s.code().to_owned()));
        }
        page_sql.text.push_str(&format!(
            " ORDER BY p.submitted DESC, p.submission DESC OFFSET {} LIMIT {}",
            limit_i64(query.offset),
            limit_i64(query.limit)
        ));
        let (rows, grouped) = self.run(async |pool| {
            let grouped: Vec<(String, i64)> = {
                let q = count_sql.bind(sqlx::query(sqlx::AssertSqlSafe(count_sql.text.clone())));
                q.fetch_all(&mut *pool)
                    .await
                    .map_err(db_err)?
                    .iter()
                    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                    .collect::<Result<_, sqlx::Error>>()
                    .map_err(db_err)?
            };
            let rows = if query.limit == 0 {
                Vec::new()
            } else {
                page_sql
                    .bind(sqlx::query(sqlx::AssertSqlSafe(page_sql.text.clone())))
                    .fetch_all(&mut *pool)
                    .await
                    .map_err(db_err)?
            };
            Ok((rows, grouped))
        })?;
        let mut counts: BTreeMap<Status, u64> = Status::ALL.into_iter().map(|s| (s, 0)).collect();
        for (code, n) in grouped {
            if let Some(s) = Status::from_code(&code) {
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
            truncated: false,
        })
    }
}

fn postkorb_entry(r: &PgRow) -> Result<PostkorbEntry, StoreError> {
    let id: Vec<u8> = r.try_get("submission").map_err(db_err)?;
    let bad = |reason: &str| StoreError::Corrupt {
        tree: "postkorb",
        key: hex(&id),
        reason: reason.into(),
    };
    let reference: Reference = r
        .try_get::<String, _>("reference")
        .map_err(db_err)?
        .parse()?;
    let current: String = r.try_get("status").map_err(db_err)?;
    let status = Status::from_code(&current).ok_or_else(|| bad("unknown status"))?;
    let assignee: String = r.try_get("assignee").map_err(db_err)?;
    let assignee = if assignee.is_empty() {
        None
    } else {
        Some(
            assignee
                .parse::<AccountId>()
                .map_err(|_| bad("bad assignee"))?,
        )
    };
    Ok(PostkorbEntry {
        id: SubmissionId::from_key(&id).ok_or_else(|| bad("expected a 16-byte id"))?,
        reference,
        workflow_id: r.try_get("workflow_id").map_err(db_err)?,
        workflow_version: r.try_get("workflow_version").map_err(db_err)?,
        submitted: r.try_get("submitted").map_err(db_err)?,
        status,
        status_at: r.try_get("status_at").map_err(db_err)?,
        applicant: r.try_get("applicant").map_err(db_err)?,
        assignee,
        follow_up: r.try_get("follow_up").map_err(db_err)?,
    })
}
