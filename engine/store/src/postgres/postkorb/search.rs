//! The free-text search of the PostgreSQL Postkorb (migration 0006): each typed word becomes
//! the indexed words it begins (read from `postkorb_postings` by one index descent per word),
//! and the statement joins their postings, each an index scan newest first, so that the
//! planner merges them and stops after what it was asked for: the newest
//! [`SEARCH_COUNT_LIMIT`] + 1 matches with their status (the counts), then, only if the page
//! lies beyond those, the page itself. A typed word that begins one indexed word is a join; one
//! that begins several is a semi-join (`EXISTS`); one that begins very many is checked in the
//! row's `terms`.
//!
//! [`SEARCH_COUNT_LIMIT`]: crate::postkorb::SEARCH_COUNT_LIMIT

use sqlx::Row;

use super::{Arg, COLUMNS, Sql, limit_i64, postkorb_entry};
use crate::error::StoreError;
use crate::model::Status;
use crate::postgres::{PgStore, db_err};
use crate::postkorb::{PostkorbPage, PostkorbQuery, SEARCH_COUNT_LIMIT, SearchTally};

/// A typed word that begins more indexed words than this is checked in `terms` instead.
const MAX_WORDS: usize = 128;

/// The indexed words a typed word begins, one index descent each (a loose index scan).
const WORDS_SQL: &str = "WITH RECURSIVE w(term) AS ( \
       (SELECT term FROM postkorb_postings WHERE tenant = $1 AND term >= $2 \
        ORDER BY term LIMIT 1) \
     UNION ALL \
       SELECT (SELECT x.term FROM postkorb_postings x WHERE x.tenant = $1 AND x.term > w.term \
               ORDER BY x.term LIMIT 1) \
       FROM w WHERE starts_with(w.term, $2)) \
     SELECT term FROM w WHERE starts_with(term, $2) LIMIT $3";

impl PgStore {
    /// A page of a search. `cond` holds the other filters on `p` (its first argument is the
    /// tenant), `terms` the typed words.
    pub(super) fn text_search_page(
        &self,
        query: &PostkorbQuery,
        mut cond: Sql,
        terms: &[String],
    ) -> Result<PostkorbPage, StoreError> {
        let tenant = match cond.args.first() {
            Some(Arg::Text(t)) => t.clone(),
            _ => return Err(StoreError::Storage("a search without its tenant".into())),
        };
        let mut words: Vec<Vec<String>> = Vec::new();
        let mut broad: Vec<&String> = Vec::new();
        for term in terms {
            let found: Vec<String> = self.run(async |pool| {
                sqlx::query_scalar(WORDS_SQL)
                    .bind(&tenant)
                    .bind(term)
                    .bind(limit_i64(MAX_WORDS + 1))
                    .fetch_all(pool)
                    .await
                    .map_err(db_err)
            })?;
            if found.is_empty() {
                return Ok(empty());
            }
            if found.len() > MAX_WORDS {
                broad.push(term);
            } else {
                words.push(found);
            }
        }
        if !broad.is_empty() {
            // Terms are letters and digits only (`search_terms`): nothing a tsquery would parse.
            let tsquery = broad
                .iter()
                .map(|t| format!("{t}:*"))
                .collect::<Vec<_>>()
                .join(" & ");
            cond.and("p.terms @@ to_tsquery('simple', $?)", Arg::Text(tsquery));
        }
        // The driver: a word of its own if there is one, else the typed word of fewest words.
        words.sort_by_key(Vec::len);
        let mut from = String::new();
        let mut order = "p.submitted DESC, p.submission DESC";
        let mut distinct = false;
        let mut rest = words.as_slice();
        if let Some((first, others)) = words.split_first() {
            rest = others;
            order = "t0.submitted DESC, t0.submission DESC";
            if let [one] = first.as_slice() {
                from.push_str("postkorb_postings t0");
                cond.and("t0.tenant = $1 AND t0.term = $?", Arg::Text(one.clone()));
            } else {
                // Several words: their postings merged newest first, each submission once.
                distinct = true;
                let mut union = Vec::new();
                for w in first {
                    cond.args.push(Arg::Text(w.clone()));
                    union.push(format!(
                        "SELECT submitted, submission FROM postkorb_postings \
                         WHERE tenant = $1 AND term = ${}",
                        cond.args.len()
                    ));
                }
                from.push_str(&format!("({}) t0", union.join(" UNION ALL ")));
            }
            from.push_str(" JOIN postkorb p ON p.submission = t0.submission");
        } else {
            from.push_str("postkorb p");
        }
        for (i, ws) in rest.iter().enumerate() {
            let t = format!("t{}", i + 1);
            if let [one] = ws.as_slice() {
                cond.args.push(Arg::Text(one.clone()));
                from.push_str(&format!(
                    " JOIN postkorb_postings {t} ON {t}.tenant = $1 AND {t}.term = ${} \
                     AND {t}.submitted = t0.submitted AND {t}.submission = t0.submission",
                    cond.args.len()
                ));
            } else {
                cond.and(
                    &format!(
                        "EXISTS (SELECT 1 FROM postkorb_postings {t} WHERE {t}.tenant = $1 \
                         AND {t}.term = ANY($?) AND {t}.submitted = t0.submitted \
                         AND {t}.submission = t0.submission)"
                    ),
                    Arg::Texts(ws.clone()),
                );
            }
        }
        let select = if distinct {
            "SELECT DISTINCT ON (t0.submitted, t0.submission) p.submission, p.submitted, p.status"
        } else {
            "SELECT p.submission, p.submitted, p.status"
        };
        let counted = Sql {
            text: format!(
                "{select} FROM {from} WHERE {} ORDER BY {order} LIMIT {}",
                cond.text,
                SEARCH_COUNT_LIMIT + 1
            ),
            args: cond.args.clone(),
        };
        let mut paged = Sql {
            text: String::new(),
            args: cond.args,
        };
        if let Some(s) = query.status {
            paged.args.push(Arg::Text(s.code().to_owned()));
            paged.text = format!(
                "{select} FROM {from} WHERE {} AND p.status = ${} ORDER BY {order} \
                 OFFSET {} LIMIT {}",
                cond.text,
                paged.args.len(),
                limit_i64(query.offset),
                limit_i64(query.limit)
            );
        } else {
            paged.text = format!(
                "{select} FROM {from} WHERE {} ORDER BY {order} OFFSET {} LIMIT {}",
                cond.text,
                limit_i64(query.offset),
                limit_i64(query.limit)
            );
        }
        let (mut page, rows) = self.run(async |pool| {
            let found = counted
                .bind(sqlx::query(sqlx::AssertSqlSafe(counted.text.clone())))
                .fetch_all(pool)
                .await
                .map_err(db_err)?;
            let mut tally = SearchTally::new(query);
            let mut more = true;
            for r in &found {
                let id: Vec<u8> = r.try_get(0).map_err(db_err)?;
                let code: String = r.try_get(2).map_err(db_err)?;
                let status = Status::from_code(&code).unwrap_or(Status::Eingegangen);
                if !tally.add(id, status) {
                    more = false;
                    break;
                }
            }
            let exhausted = found.len() <= SEARCH_COUNT_LIMIT;
            let (mut ids, mut page) = tally.finish();
            if more && !exhausted {
                // The page lies beyond the counted matches: asked for by itself.
                let beyond = paged
                    .bind(sqlx::query(sqlx::AssertSqlSafe(paged.text.clone())))
                    .fetch_all(pool)
                    .await
                    .map_err(db_err)?;
                ids = beyond
                    .iter()
                    .map(|r| r.try_get::<Vec<u8>, _>(0))
                    .collect::<Result<_, sqlx::Error>>()
                    .map_err(db_err)?;
                page.total = page
                    .total
                    .max(u64::try_from(query.offset.saturating_add(ids.len())).unwrap_or(0));
            }
            let rows = if ids.is_empty() {
                Vec::new()
            } else {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM postkorb p WHERE p.submission = ANY($1) \
                     ORDER BY p.submitted DESC, p.submission DESC"
                )))
                .bind(&ids)
                .fetch_all(pool)
                .await
                .map_err(db_err)?
            };
            Ok((page, rows))
        })?;
        page.entries = rows.iter().map(postkorb_entry).collect::<Result<_, _>>()?;
        Ok(page)
    }
}

fn empty() -> PostkorbPage {
    PostkorbPage {
        counts: Status::ALL.into_iter().map(|s| (s, 0)).collect(),
        ..PostkorbPage::default()
    }
}
