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

use sqlx::{Connection, Row};

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
                    .fetch_all(&mut *pool)
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
        // The postings: the driver `t0` (a word of its own if there is one, else the typed
        // word of fewest words, merged), joined with the other words' postings.
        words.sort_by_key(Vec::len);
        let p_where = cond.text;
        let mut args = cond.args;
        let mut post_from = String::new();
        let mut post_where: Vec<String> = Vec::new();
        let mut distinct = "";
        if let Some((first, rest)) = words.split_first() {
            if let [one] = first.as_slice() {
                args.push(Arg::Text(one.clone()));
                post_from.push_str("postkorb_postings t0");
                post_where.push(format!("t0.tenant = $1 AND t0.term = ${}", args.len()));
            } else {
                // Several words: their postings merged newest first, each submission once.
                distinct = "DISTINCT ON (t0.submitted, t0.submission) ";
                let mut union = Vec::new();
                for w in first {
                    args.push(Arg::Text(w.clone()));
                    union.push(format!(
                        "SELECT submitted, submission FROM postkorb_postings \
                         WHERE tenant = $1 AND term = ${}",
                        args.len()
                    ));
                }
                post_from.push_str(&format!("({}) t0", union.join(" UNION ALL ")));
            }
            for (i, ws) in rest.iter().enumerate() {
                let t = format!("t{}", i + 1);
                if let [one] = ws.as_slice() {
                    args.push(Arg::Text(one.clone()));
                    post_from.push_str(&format!(
                        " JOIN postkorb_postings {t} ON {t}.tenant = $1 AND {t}.term = ${} \
                         AND {t}.submitted = t0.submitted AND {t}.submission = t0.submission",
                        args.len()
                    ));
                } else {
                    args.push(Arg::Texts(ws.clone()));
                    post_where.push(format!(
                        "EXISTS (SELECT 1 FROM postkorb_postings {t} WHERE {t}.tenant = $1 \
                         AND {t}.term = ANY(${}) AND {t}.submitted = t0.submitted \
                         AND {t}.submission = t0.submission)",
                        args.len()
                    ));
                }
            }
        }
        if post_where.is_empty() {
            post_where.push("TRUE".into());
        }
        let post_where = post_where.join(" AND ");
        let mut paged_args = args.clone();
        let status = match query.status {
            Some(s) => {
                paged_args.push(Arg::Text(s.code().to_owned()));
                format!(" AND p.status = ${}", paged_args.len())
            }
            None => String::new(),
        };
        let count_tail = format!("LIMIT {}", SEARCH_COUNT_LIMIT + 1);
        let page_tail = format!(
            "OFFSET {} LIMIT {}",
            limit_i64(query.offset),
            limit_i64(query.limit)
        );
        // The postings alone decide (no filter but the status): the newest matches first,
        // then their status from the list index (an index-only probe each).
        let by_postings = |tail: &str| {
            format!(
                "SELECT p.submission, p.submitted, p.status FROM (SELECT {distinct}t0.submitted, \
                 t0.submission FROM {post_from} WHERE {post_where} \
                 ORDER BY t0.submitted DESC, t0.submission DESC {tail}) m \
                 JOIN postkorb p ON p.tenant = $1 AND p.submitted = m.submitted \
                 AND p.submission = m.submission ORDER BY m.submitted DESC, m.submission DESC"
            )
        };
        // Other filters: each match's row is checked on the way.
        let filtered = |status: &str, tail: &str| {
            if post_from.is_empty() {
                // Every typed word is broad: the list itself, each row's terms checked.
                format!(
                    "SELECT p.submission, p.submitted, p.status FROM postkorb p \
                     WHERE {p_where}{status} ORDER BY p.submitted DESC, p.submission DESC {tail}"
                )
            } else {
                format!(
                    "SELECT {distinct}p.submission, p.submitted, p.status FROM {post_from} \
                     JOIN postkorb p ON p.tenant = $1 AND p.submitted = t0.submitted \
                     AND p.submission = t0.submission WHERE {p_where} AND {post_where}{status} \
                     ORDER BY t0.submitted DESC, t0.submission DESC {tail}"
                )
            }
        };
        let only_postings =
            broad.is_empty() && !post_from.is_empty() && query.counted_by_counters_besides_search();
        let counted = Sql {
            text: if only_postings {
                by_postings(&count_tail)
            } else {
                filtered("", &count_tail)
            },
            args,
        };
        let paged = Sql {
            text: if only_postings && query.status.is_none() {
                by_postings(&page_tail)
            } else {
                filtered(&status, &page_tail)
            },
            args: if query.status.is_some() {
                paged_args
            } else {
                counted.args.clone()
            },
        };
        let (mut page, rows) = self.run(async |pool| {
            // One small ordered read: the planner's parallel workers cost more to start than
            // the read itself (a sort of a few thousand postings on two busy cores).
            let mut tx = pool.begin().await.map_err(db_err)?;
            sqlx::query("SET LOCAL max_parallel_workers_per_gather = 0")
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            // Not kept prepared: planned with the words each time (a generic plan would not
            // know which word is common).
            let found = counted
                .bind(sqlx::query(sqlx::AssertSqlSafe(counted.text.clone())).persistent(false))
                .fetch_all(&mut *tx)
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
                    .bind(sqlx::query(sqlx::AssertSqlSafe(paged.text.clone())).persistent(false))
                    .fetch_all(&mut *tx)
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
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?
            };
            tx.commit().await.map_err(db_err)?;
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
