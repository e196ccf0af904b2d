//! The Postkorb's part of [`super::PgStore`] (migration 0002): staff accounts, sessions and API
//! tokens, the Postkorb list, and the outbox per tenant. Same semantics as the sled store; the
//! shared suite checks both.

use std::collections::BTreeMap;

use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;

use super::super::accounts::{Account, ApiToken, SecretHash, Session};
use super::super::ids::{AccountId, ApiTokenId, Reference, SubmissionId, TenantId};
use super::super::model::{DeliveryState, OutboxMessage, Status};
use super::super::postkorb::{PostkorbEntry, PostkorbPage, PostkorbQuery};
use super::super::{AccountStore, StoreError};
use super::{
    OUTBOX, PgStore, db_err, decode_parts, is_unique_violation, json, outbox_columns, record_text,
    to_i64, v_current, version,
};

pub(super) const ACCOUNTS: &str = "accounts";
pub(super) const API_TOKENS: &str = "api_tokens";
const SESSIONS: &str = "sessions";

fn decode_account(row: &PgRow) -> Result<Account, StoreError> {
    let id: Vec<u8> = row.try_get("id").map_err(db_err)?;
    decode_parts(
        ACCOUNTS,
        &super::hex(&id),
        version(row)?,
        &record_text(row)?,
    )
}

fn decode_token(row: &PgRow) -> Result<ApiToken, StoreError> {
    decode_parts(API_TOKENS, "(hash)", version(row)?, &record_text(row)?)
}

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

impl AccountStore for PgStore {
    fn create_account(&self, account: &Account) -> Result<(), StoreError> {
        let mut account = account.clone();
        account.login = Account::check_login(&account.login)?;
        let record = json(ACCOUNTS, &account.id.to_string(), &account)?;
        let done = self.run(async |pool| {
            sqlx::query(
                "INSERT INTO accounts (id, tenant, login, v, record) VALUES ($1, $2, $3, $4, $5::jsonb)",
            )
            .bind(&account.id.as_bytes()[..])
            .bind(account.tenant.slug())
            .bind(&account.login)
            .bind(v_current())
            .bind(record)
            .execute(pool)
            .await
            .map(|_| None)
            .or_else(|e| {
                if is_unique_violation(&e, "accounts_login") {
                    Ok(Some(account.login.clone()))
                } else if is_unique_violation(&e, "accounts_pkey") {
                    Ok(Some(account.id.to_string()))
                } else {
                    Err(db_err(e))
                }
            })
        })?;
        match done {
            None => Ok(()),
            Some(key) => Err(StoreError::AlreadyExists {
                what: "account",
                key,
            }),
        }
    }

    fn account(&self, id: &AccountId) -> Result<Option<Account>, StoreError> {
        let row = self.run(async |pool| {
            sqlx::query("SELECT id, v, record::text AS record FROM accounts WHERE id = $1")
                .bind(&id.as_bytes()[..])
                .fetch_optional(pool)
                .await
                .map_err(db_err)
        })?;
        row.map(|r| decode_account(&r)).transpose()
    }

    fn account_by_login(
        &self,
        tenant: &TenantId,
        login: &str,
    ) -> Result<Option<Account>, StoreError> {
        let Ok(login) = Account::check_login(login) else {
            return Ok(None);
        };
        let row = self.run(async |pool| {
            sqlx::query(
                "SELECT id, v, record::text AS record FROM accounts WHERE tenant = $1 AND login = $2",
            )
            .bind(tenant.slug())
            .bind(&login)
            .fetch_optional(pool)
            .await
            .map_err(db_err)
        })?;
        Ok(row
            .map(|r| decode_account(&r))
            .transpose()?
            .filter(|a| &a.tenant == tenant && a.login == login))
    }

    fn accounts(&self, tenant: &TenantId) -> Result<Vec<Account>, StoreError> {
        let rows = self.run(async |pool| {
            sqlx::query(
                "SELECT id, v, record::text AS record FROM accounts WHERE tenant = $1 ORDER BY login",
            )
            .bind(tenant.slug())
            .fetch_all(pool)
            .await
            .map_err(db_err)
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let a = decode_account(r)?;
            if &a.tenant == tenant {
                out.push(a);
            }
        }
        Ok(out)
    }

    fn update_account(&self, account: &Account) -> Result<(), StoreError> {
        self.tx(async |tx| {
            let Some(row) = sqlx::query(
                "SELECT id, v, record::text AS record FROM accounts WHERE id = $1 FOR UPDATE",
            )
            .bind(&account.id.as_bytes()[..])
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_err)?
            else {
                return Err(StoreError::NotFound {
                    what: "account",
                    key: account.id.to_string(),
                });
            };
            let stored = decode_account(&row)?;
            // Id, tenant, login and creation time stay.
            let next = Account {
                display_name: account.display_name.clone(),
                role: account.role,
                password_hash: account.password_hash.clone(),
                disabled: account.disabled,
                ..stored
            };
            sqlx::query("UPDATE accounts SET v = $2, record = $3::jsonb WHERE id = $1")
                .bind(&account.id.as_bytes()[..])
                .bind(v_current())
                .bind(json(ACCOUNTS, &account.id.to_string(), &next)?)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            Ok(())
        })
    }

    fn create_session(&self, session: &Session) -> Result<(), StoreError> {
        let record = json(SESSIONS, "(secret)", session)?;
        let done = self.run(async |pool| {
            sqlx::query(
                "INSERT INTO sessions (hash, account, expires, v, record) \
                 VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (hash) DO NOTHING",
            )
            .bind(&session.hash.as_bytes()[..])
            .bind(&session.account.as_bytes()[..])
            .bind(session.expires)
            .bind(v_current())
            .bind(record)
            .execute(pool)
            .await
            .map_err(db_err)
        })?;
        if done.rows_affected() == 0 {
            return Err(StoreError::AlreadyExists {
                what: "session",
                key: "(secret)".into(),
            });
        }
        Ok(())
    }

    fn session(&self, hash: &SecretHash) -> Result<Option<Session>, StoreError> {
        let row = self.run(async |pool| {
            sqlx::query("SELECT v, record::text AS record FROM sessions WHERE hash = $1")
                .bind(&hash.as_bytes()[..])
                .fetch_optional(pool)
                .await
                .map_err(db_err)
        })?;
        row.map(|r| decode_parts(SESSIONS, "(secret)", version(&r)?, &record_text(&r)?))
            .transpose()
    }

    fn delete_session(&self, hash: &SecretHash) -> Result<bool, StoreError> {
        let done = self.run(async |pool| {
            sqlx::query("DELETE FROM sessions WHERE hash = $1")
                .bind(&hash.as_bytes()[..])
                .execute(pool)
                .await
                .map_err(db_err)
        })?;
        Ok(done.rows_affected() > 0)
    }

    fn delete_sessions_of(&self, account: &AccountId) -> Result<u64, StoreError> {
        let done = self.run(async |pool| {
            sqlx::query("DELETE FROM sessions WHERE account = $1")
                .bind(&account.as_bytes()[..])
                .execute(pool)
                .await
                .map_err(db_err)
        })?;
        Ok(done.rows_affected())
    }

    fn sweep_sessions(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let done = self.run(async |pool| {
            sqlx::query("DELETE FROM sessions WHERE expires <= $1")
                .bind(now)
                .execute(pool)
                .await
                .map_err(db_err)
        })?;
        Ok(done.rows_affected())
    }

    fn create_api_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        let record = json(API_TOKENS, &token.id.to_string(), token)?;
        let done = self.run(async |pool| {
            sqlx::query(
                "INSERT INTO api_tokens (hash, id, tenant, created, v, record) \
                 VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
            )
            .bind(&token.hash.as_bytes()[..])
            .bind(&token.id.as_bytes()[..])
            .bind(token.tenant.slug())
            .bind(token.created)
            .bind(v_current())
            .bind(record)
            .execute(pool)
            .await
            .map(|_| true)
            .or_else(|e| {
                if is_unique_violation(&e, "api_tokens_pkey")
                    || is_unique_violation(&e, "api_tokens_id")
                {
                    Ok(false)
                } else {
                    Err(db_err(e))
                }
            })
        })?;
        if !done {
            return Err(StoreError::AlreadyExists {
                what: "API token",
                key: token.id.to_string(),
            });
        }
        Ok(())
    }

    fn api_token(&self, hash: &SecretHash) -> Result<Option<ApiToken>, StoreError> {
        let row = self.run(async |pool| {
            sqlx::query("SELECT v, record::text AS record FROM api_tokens WHERE hash = $1")
                .bind(&hash.as_bytes()[..])
                .fetch_optional(pool)
                .await
                .map_err(db_err)
        })?;
        row.map(|r| decode_token(&r)).transpose()
    }

    fn api_tokens(&self, tenant: &TenantId) -> Result<Vec<ApiToken>, StoreError> {
        let rows = self.run(async |pool| {
            sqlx::query(
                "SELECT v, record::text AS record FROM api_tokens WHERE tenant = $1 \
                 ORDER BY created, id",
            )
            .bind(tenant.slug())
            .fetch_all(pool)
            .await
            .map_err(db_err)
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let t = decode_token(r)?;
            if &t.tenant == tenant {
                out.push(t);
            }
        }
        out.sort_by_key(|t| t.created);
        Ok(out)
    }

    fn revoke_api_token(&self, tenant: &TenantId, id: &ApiTokenId) -> Result<bool, StoreError> {
        self.tx(async |tx| {
            let Some(row) = sqlx::query(
                "SELECT hash, v, record::text AS record FROM api_tokens \
                 WHERE id = $1 AND tenant = $2 FOR UPDATE",
            )
            .bind(&id.as_bytes()[..])
            .bind(tenant.slug())
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_err)?
            else {
                return Ok(false);
            };
            let mut token = decode_token(&row)?;
            if &token.tenant != tenant {
                return Ok(false);
            }
            token.revoked = true;
            let hash: Vec<u8> = row.try_get("hash").map_err(db_err)?;
            sqlx::query("UPDATE api_tokens SET v = $2, record = $3::jsonb WHERE hash = $1")
                .bind(hash)
                .bind(v_current())
                .bind(json(API_TOKENS, &id.to_string(), &token)?)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            Ok(true)
        })
    }
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
    /// [`super::super::SubmissionStore::postkorb`] in SQL: the counts per status with one
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

    /// [`super::super::Outbox::requeue`]: a given-up delivery becomes due at `now`.
    pub(super) fn requeue_delivery(
        &self,
        id: u64,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let key = to_i64("outbox id", id)?;
        self.tx(async |tx| {
            let Some(row) = sqlx::query(
                "SELECT v, record::text AS record FROM outbox WHERE id = $1 FOR UPDATE",
            )
            .bind(key)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_err)?
            else {
                return Err(StoreError::NotFound {
                    what: "outbox message",
                    key: id.to_string(),
                });
            };
            let mut msg: OutboxMessage =
                decode_parts(OUTBOX, &id.to_string(), version(&row)?, &record_text(&row)?)?;
            msg.id = id;
            if !matches!(msg.state, DeliveryState::Failed { .. }) {
                return Ok(false);
            }
            msg.state = DeliveryState::Pending;
            msg.next_attempt = now;
            let (due, finished) = outbox_columns(&msg);
            sqlx::query(
                "UPDATE outbox SET due = $2, finished = $3, v = $4, record = $5::jsonb WHERE id = $1",
            )
            .bind(key)
            .bind(due)
            .bind(finished)
            .bind(v_current())
            .bind(json(OUTBOX, &id.to_string(), &msg)?)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
            Ok(true)
        })
    }

    /// [`super::super::Outbox::tenant_outbox`]: the tenant's deliveries newest first, read in
    /// batches below `before` until `limit` pass `keep`.
    pub(super) fn outbox_of_tenant(
        &self,
        tenant: &TenantId,
        before: Option<u64>,
        limit: usize,
        keep: &dyn Fn(&OutboxMessage) -> bool,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        const BATCH: i64 = 200;
        let mut found = Vec::new();
        if limit == 0 {
            return Ok(found);
        }
        let mut below = match before {
            Some(id) => i64::try_from(id).unwrap_or(i64::MAX),
            None => i64::MAX,
        };
        loop {
            let rows = self.run(async |pool| {
                sqlx::query(
                    "SELECT id, v, record::text AS record FROM outbox \
                     WHERE record->'tenant'->>'slug' = $1 AND id < $2 \
                     ORDER BY id DESC LIMIT $3",
                )
                .bind(tenant.slug())
                .bind(below)
                .bind(BATCH)
                .fetch_all(pool)
                .await
                .map_err(db_err)
            })?;
            let last = rows.len() < BATCH as usize;
            for r in &rows {
                let id: i64 = r.try_get("id").map_err(db_err)?;
                below = id;
                // An unreadable entry must not hide the others.
                let Ok(mut msg) = decode_parts::<OutboxMessage>(
                    OUTBOX,
                    &id.to_string(),
                    version(r)?,
                    &record_text(r)?,
                ) else {
                    continue;
                };
                msg.id = u64::try_from(id).unwrap_or(0);
                if msg.tenant.as_ref() == Some(tenant) && keep(&msg) {
                    found.push(msg);
                    if found.len() >= limit {
                        return Ok(found);
                    }
                }
            }
            if last {
                return Ok(found);
            }
        }
    }
}

fn postkorb_entry(r: &PgRow) -> Result<PostkorbEntry, StoreError> {
    let id: Vec<u8> = r.try_get("id").map_err(db_err)?;
    let bad = |reason: &str| StoreError::Corrupt {
        tree: "submissions",
        key: super::hex(&id),
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
