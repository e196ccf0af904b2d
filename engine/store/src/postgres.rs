//! The PostgreSQL backend ([`PgStore`], feature `postgres`): the same store traits and guarantees
//! as [`super::SledStore`], for several Lotse nodes on one database.
//!
//! The traits are blocking; sqlx is async. The store owns a small private tokio runtime for the
//! pool's connections and drives each call's future to completion on the calling thread (with
//! that runtime entered), so it works from any thread: a plain thread, `spawn_blocking`, and even
//! a worker of another runtime (which it then blocks, like any blocking call). It never calls
//! `Runtime::block_on`, which would panic inside another runtime.
//!
//! Every record is kept whole as JSONB beside the columns that queries filter by; `v` holds its
//! format version (the envelope of docs/store.md, split into two columns). "Acknowledged" means
//! "committed": PostgreSQL's COMMIT returns once the WAL is flushed (`synchronous_commit = on`,
//! the default; the store refuses to open if a session has it off).

use std::future::Future;
use std::io::{BufRead, Write};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use serde::Deserialize;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row, SqlSafeStr, Transaction};
use time::{Duration, OffsetDateTime};

use super::accounts::{Account, ApiToken};
use super::envelope::{RECORD_FORMAT, decode, decode_parts, encode};
use super::error::StoreError;
use super::ids::{
    DraftId, IdempotencyKey, Reference, ResumeCode, SubmissionId, TenantId, hex, unhex,
};
use super::limiter::AttemptLimiter;
use super::model::{
    Actor, AuditAction, AuditEntry, DeliveryState, Draft, Message, NewOutboxMessage, NewSubmission,
    OutboxMessage, Party, Status, StatusChange, Submission,
};
use super::postkorb::{PostkorbPage, PostkorbQuery};
use super::sled_store::{
    EXPORT_FORMAT, Progress, StatusRecord, code_key, counter_key, idempotency_key, login_key,
    message_key, new_outbox_message, ref_key,
};
use super::{AuditStore, DraftStore, Outbox, StatusStore, SubmissionStore};

#[path = "postgres_accounts.rs"]
mod accounts_pg;

/// The schema migrations, embedded in the binary. Run on [`PgStore::connect`] and by
/// `lotse migrate`; concurrent nodes serialize on sqlx's advisory lock.
fn migrator() -> Migrator {
    let mut m = Migrator::with_migrations(vec![
        Migration::new(
            1,
            "store".into(),
            MigrationType::Simple,
            include_str!("../migrations/0001_store.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            2,
            "accounts postkorb".into(),
            MigrationType::Simple,
            include_str!("../migrations/0002_accounts_postkorb.sql").into_sql_str(),
            false,
        ),
    ]);
    m.dangerous_set_table_name("lotse_migrations");
    m
}

/// How to reach the database.
#[derive(Clone)]
pub struct PgOptions {
    /// `postgres://user:password@host:port/database`. Never logged (see the `Debug` impl).
    pub url: String,
    /// Connections in this node's pool.
    pub max_connections: u32,
    /// How long a call waits for a free connection before it fails.
    pub acquire_timeout: std::time::Duration,
}

impl PgOptions {
    /// A URL with a pool of 10 connections and a 10 s acquire timeout.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
            acquire_timeout: std::time::Duration::from_secs(10),
        }
    }
}

impl std::fmt::Debug for PgOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgOptions")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

/// The URL with its password replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(not a URL)".into();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or("");
            if user_info.contains(':') {
                format!("{scheme}://{user}:***@{host}{tail}")
            } else {
                format!("{scheme}://{user}@{host}{tail}")
            }
        }
        None => format!("{scheme}://{authority}{tail}"),
    }
}

/// The PostgreSQL store. Cheap to clone; clones share the pool and the runtime.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    runtime: Option<tokio::runtime::Runtime>,
    pool: Option<PgPool>,
    /// Calls since the last sweep of old rate-limit windows.
    limiter_calls: AtomicU64,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            // The pool may spawn tasks while it closes: drop it inside its runtime, then let
            // the runtime go without blocking (the drop may run on an async thread).
            let guard = rt.enter();
            drop(self.pool.take());
            drop(guard);
            rt.shutdown_background();
        }
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Drives `fut` on this thread; the runtime's workers drive the sockets and timers it waits for.
fn block_on<F: Future>(handle: &tokio::runtime::Handle, fut: F) -> F::Output {
    let _entered = handle.enter();
    let mut fut = pin!(fut);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}

fn db_err(e: sqlx::Error) -> StoreError {
    StoreError::Storage(format!("PostgreSQL: {e}"))
}

fn is_unique_violation(e: &sqlx::Error, constraint: &str) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.code().as_deref() == Some("23505") && d.constraint() == Some(constraint)
        }
        _ => false,
    }
}

fn to_i64(what: &str, v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::InvalidInput(format!("{what} {v} is out of range")))
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn version(row: &PgRow) -> Result<u32, StoreError> {
    let v: i32 = row.try_get("v").map_err(db_err)?;
    Ok(u32::try_from(v).unwrap_or(0))
}

fn record_text(row: &PgRow) -> Result<String, StoreError> {
    row.try_get("record").map_err(db_err)
}

fn json<T: serde::Serialize>(
    tree: &'static str,
    key: &str,
    record: &T,
) -> Result<String, StoreError> {
    serde_json::to_string(record).map_err(|e| StoreError::Corrupt {
        tree,
        key: key.to_owned(),
        reason: format!("cannot encode: {e}"),
    })
}

fn v_current() -> i32 {
    i32::try_from(RECORD_FORMAT).unwrap_or(i32::MAX)
}

const DRAFTS: &str = "drafts";
const SUBMISSIONS: &str = "submissions";
const STATUS: &str = "status";
const MESSAGES: &str = "messages";
const AUDIT: &str = "audit";
const OUTBOX: &str = "outbox";

/// What `save_draft` keeps from the stored draft.
#[derive(Deserialize)]
struct KeptHead {
    tenant: TenantId,
    #[serde(with = "time::serde::rfc3339")]
    created: OffsetDateTime,
    resume_code: ResumeCode,
}

type Tx = Transaction<'static, Postgres>;

impl PgStore {
    /// Connects, checks that commits are synchronous, and runs the migrations.
    pub fn connect(options: &PgOptions) -> Result<Self, StoreError> {
        let store = Self::connect_only(options)?;
        store.migrate()?;
        Ok(store)
    }

    /// Connects without migrating (for `lotse migrate`, which migrates explicitly).
    pub fn connect_only(options: &PgOptions) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("lotse-pg")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Storage(format!("cannot start the database runtime: {e}")))?;
        let connect: PgConnectOptions = options.url.parse().map_err(|e| {
            StoreError::Storage(format!(
                "bad database URL {}: {e}",
                redact_url(&options.url)
            ))
        })?;
        let pool = block_on(
            runtime.handle(),
            PgPoolOptions::new()
                .max_connections(options.max_connections.max(1))
                .acquire_timeout(options.acquire_timeout)
                .connect_with(connect),
        )
        .map_err(|e| {
            StoreError::Storage(format!(
                "cannot connect to {}: {e}",
                redact_url(&options.url)
            ))
        })?;
        let store = Self {
            inner: Arc::new(Inner {
                runtime: Some(runtime),
                pool: Some(pool),
                limiter_calls: AtomicU64::new(0),
            }),
        };
        let sync: String = store.run(async |pool| {
            sqlx::query_scalar("SHOW synchronous_commit")
                .fetch_one(pool)
                .await
                .map_err(db_err)
        })?;
        if sync == "off" {
            return Err(StoreError::Storage(
                "synchronous_commit is off: acknowledged submissions could be lost in a crash; \
                 turn it on for the Lotse database"
                    .into(),
            ));
        }
        Ok(store)
    }

    /// Runs the schema migrations that are not applied yet; returns how many exist in all.
    pub fn migrate(&self) -> Result<usize, StoreError> {
        let m = migrator();
        self.run(async |pool| {
            m.run(pool)
                .await
                .map_err(|e| StoreError::Storage(format!("migration failed: {e}")))
        })?;
        Ok(m.migrations.len())
    }

    fn run<T>(
        &self,
        f: impl AsyncFnOnce(&PgPool) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let (Some(rt), Some(pool)) = (&self.inner.runtime, &self.inner.pool) else {
            return Err(StoreError::Storage("the store is closed".into()));
        };
        block_on(rt.handle(), f(pool))
    }

    /// Runs `f` in a transaction and commits; any error rolls back.
    fn tx<T>(
        &self,
        f: impl AsyncFnOnce(&mut Tx) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.run(async |pool| {
            let mut tx = pool.begin().await.map_err(db_err)?;
            let out = f(&mut tx).await?;
            tx.commit().await.map_err(db_err)?;
            Ok(out)
        })
    }

    /// A secret that every node of the installation shares (the CSRF key, a development signing
    /// key): the stored value, or `fresh` if there was none yet. Race-free: when two nodes start
    /// together, both get the value the first one stored.
    pub fn shared_secret(&self, name: &str, fresh: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.run(async |pool| {
            sqlx::query("INSERT INTO node_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .bind(fresh)
                .execute(pool)
                .await
                .map_err(db_err)?;
            sqlx::query_scalar("SELECT value FROM node_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(pool)
                .await
                .map_err(db_err)
        })
    }

    /// The shared secret `name`, if one was stored.
    pub fn stored_secret(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.run(async |pool| {
            sqlx::query_scalar("SELECT value FROM node_secrets WHERE name = $1")
                .bind(name)
                .fetch_optional(pool)
                .await
                .map_err(db_err)
        })
    }

    /// Keeps the receipt (a PDF) of a submission, so any node can serve it. Idempotent.
    pub fn put_receipt(&self, id: &SubmissionId, pdf: &[u8]) -> Result<(), StoreError> {
        self.run(async |pool| {
            sqlx::query("INSERT INTO receipts (submission, pdf) VALUES ($1, $2) ON CONFLICT (submission) DO UPDATE SET pdf = EXCLUDED.pdf")
                .bind(&id.as_bytes()[..])
                .bind(pdf)
                .execute(pool)
                .await
                .map_err(db_err)?;
            Ok(())
        })
    }

    /// The receipt of a submission, if one was kept.
    pub fn receipt(&self, id: &SubmissionId) -> Result<Option<Vec<u8>>, StoreError> {
        self.run(async |pool| {
            sqlx::query_scalar("SELECT pdf FROM receipts WHERE submission = $1")
                .bind(&id.as_bytes()[..])
                .fetch_optional(pool)
                .await
                .map_err(db_err)
        })
    }

    /// How many drafts are stored.
    pub fn draft_count(&self) -> Result<u64, StoreError> {
        self.run(async |pool| {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM drafts")
                .fetch_one(pool)
                .await
                .map_err(db_err)?;
            Ok(to_u64(n))
        })
    }

    /// Nothing to do: every acknowledged write is committed already. For symmetry with sled.
    pub fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Closes the pool's connections. Other clones keep working until they are dropped.
    pub fn close(self) -> Result<bool, StoreError> {
        let pool = self.inner.pool.clone();
        if let Some(pool) = pool {
            self.run(async |_| {
                pool.close().await;
                Ok(())
            })?;
        }
        Ok(true)
    }

    async fn audit_tx(
        tx: &mut Tx,
        at: OffsetDateTime,
        actor: Actor,
        tenant: Option<&TenantId>,
        action: AuditAction,
    ) -> Result<u64, StoreError> {
        let entry = AuditEntry {
            seq: 0,
            at,
            actor,
            tenant: tenant.map(|t| t.slug().to_owned()),
            action,
        };
        let record = json(AUDIT, "(new)", &entry)?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO audit (seq, v, record) VALUES (nextval('lotse_ids'), $1, $2::jsonb) RETURNING seq",
        )
        .bind(v_current())
        .bind(record)
        .fetch_one(&mut **tx)
        .await
        .map_err(db_err)?;
        Ok(to_u64(seq))
    }

    async fn enqueue_tx(
        tx: &mut Tx,
        tenant: Option<&TenantId>,
        message: NewOutboxMessage,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let msg = new_outbox_message(0, tenant, message, now);
        let record = json(OUTBOX, "(new)", &msg)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO outbox (id, due, finished, v, record) VALUES (nextval('lotse_ids'), $1, NULL, $2, $3::jsonb) RETURNING id",
        )
        .bind(now)
        .bind(v_current())
        .bind(record)
        .fetch_one(&mut **tx)
        .await
        .map_err(db_err)?;
        Ok(to_u64(id))
    }

    fn update_outbox(
        &self,
        id: u64,
        change: impl FnOnce(&mut OutboxMessage),
    ) -> Result<(), StoreError> {
        let key = to_i64("outbox id", id)?;
        self.tx(async |tx| {
            let Some(row) = sqlx::query("SELECT v, record::text AS record FROM outbox WHERE id = $1 FOR UPDATE")
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
            change(&mut msg);
            let (due, finished) = outbox_columns(&msg);
            sqlx::query("UPDATE outbox SET due = $2, finished = $3, v = $4, record = $5::jsonb WHERE id = $1")
                .bind(key)
                .bind(due)
                .bind(finished)
                .bind(v_current())
                .bind(json(OUTBOX, &id.to_string(), &msg)?)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            Ok(())
        })
    }

    fn is_empty(&self) -> Result<bool, StoreError> {
        self.run(async |pool| {
            let any: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM drafts) OR EXISTS (SELECT 1 FROM submissions) \
                 OR EXISTS (SELECT 1 FROM reference_counters) OR EXISTS (SELECT 1 FROM audit) \
                 OR EXISTS (SELECT 1 FROM outbox) OR EXISTS (SELECT 1 FROM accounts) \
                 OR EXISTS (SELECT 1 FROM api_tokens)",
            )
            .fetch_one(pool)
            .await
            .map_err(db_err)?;
            Ok(!any)
        })
    }
}

/// The `due` and `finished` columns of an outbox row, from its state.
fn outbox_columns(m: &OutboxMessage) -> (Option<OffsetDateTime>, Option<OffsetDateTime>) {
    match m.state {
        DeliveryState::Pending => (Some(m.next_attempt), None),
        DeliveryState::Claimed { lease_until } => (Some(lease_until), None),
        DeliveryState::Delivered { at } | DeliveryState::Failed { at } => (None, Some(at)),
    }
}

fn decode_draft(row: &PgRow, id: &DraftId) -> Result<Draft, StoreError> {
    decode_parts(DRAFTS, &id.to_string(), version(row)?, &record_text(row)?)
}

fn decode_submission(row: &PgRow) -> Result<Submission, StoreError> {
    let id: Vec<u8> = row.try_get("id").map_err(db_err)?;
    decode_parts(SUBMISSIONS, &hex(&id), version(row)?, &record_text(row)?)
}

impl DraftStore for PgStore {
    fn create_draft(&self, draft: &Draft) -> Result<(), StoreError> {
        let record = json(DRAFTS, &draft.id.to_string(), draft)?;
        let revision = to_i64("revision", draft.revision)?;
        let inserted = self.run(async |pool| {
            sqlx::query(
                "INSERT INTO drafts (id, tenant, revision, expires, code_hash, v, record) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&draft.id.as_bytes()[..])
            .bind(draft.tenant.slug())
            .bind(revision)
            .bind(draft.expires)
            .bind(&code_key(&draft.resume_code)[..])
            .bind(v_current())
            .bind(record)
            .execute(pool)
            .await
            .map_err(db_err)
        })?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::AlreadyExists {
                what: "draft",
                key: draft.id.to_string(),
            });
        }
        Ok(())
    }

    fn draft(&self, id: &DraftId) -> Result<Option<Draft>, StoreError> {
        let row = self.run(async |pool| {
            sqlx::query("SELECT v, record::text AS record FROM drafts WHERE id = $1")
                .bind(&id.as_bytes()[..])
                .fetch_optional(pool)
                .await
                .map_err(db_err)
        })?;
        row.map(|r| decode_draft(&r, id)).transpose()
    }

    fn draft_by_resume_code(&self, code: &ResumeCode) -> Result<Option<Draft>, StoreError> {
        let row = self.run(async |pool| {
            sqlx::query("SELECT id, v, record::text AS record FROM drafts WHERE code_hash = $1")
                .bind(&code_key(code)[..])
                .fetch_optional(pool)
                .await
                .map_err(db_err)
        })?;
        let Some(row) = row else { return Ok(None) };
        let id: Vec<u8> = row.try_get("id").map_err(db_err)?;
        let draft: Draft = decode_parts(DRAFTS, &hex(&id), version(&row)?, &record_text(&row)?)?;
        Ok(Some(draft).filter(|d| &d.resume_code == code))
    }

    fn save_draft(&self, mut draft: Draft, expected_revision: u64) -> Result<Draft, StoreError> {
        let expected = to_i64("revision", expected_revision)?;
        let next = to_i64("revision", expected_revision + 1)?;
        draft.revision = expected_revision + 1;
        let record = json(DRAFTS, &draft.id.to_string(), &draft)?;
        let id = draft.id;
        // One statement: the revision check is in the WHERE, and the stored tenant, creation
        // time and resume code win over the caller's.
        let kept: Option<String> = self.run(async |pool| {
            sqlx::query_scalar(
                "UPDATE drafts SET revision = $3, expires = $4, v = $5, \
                   record = $6::jsonb || jsonb_build_object('tenant', record->'tenant', \
                     'created', record->'created', 'resume_code', record->'resume_code') \
                 WHERE id = $1 AND revision = $2 \
                 RETURNING jsonb_build_object('tenant', record->'tenant', \
                     'created', record->'created', 'resume_code', record->'resume_code')::text",
            )
            .bind(&id.as_bytes()[..])
            .bind(expected)
            .bind(next)
            .bind(draft.expires)
            .bind(v_current())
            .bind(record)
            .fetch_optional(pool)
            .await
            .map_err(db_err)
        })?;
        match kept {
            Some(text) => {
                let head: KeptHead =
                    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
                        tree: DRAFTS,
                        key: id.to_string(),
                        reason: e.to_string(),
                    })?;
                draft.tenant = head.tenant;
                draft.created = head.created;
                draft.resume_code = head.resume_code;
                Ok(draft)
            }
            None => match self.draft(&id)? {
                Some(current) => Err(StoreError::Conflict {
                    current: Box::new(current),
                    expected: expected_revision,
                }),
                None => Err(StoreError::NotFound {
                    what: "draft",
                    key: id.to_string(),
                }),
            },
        }
    }

    fn delete_draft(&self, id: &DraftId) -> Result<bool, StoreError> {
        let done = self.run(async |pool| {
            sqlx::query("DELETE FROM drafts WHERE id = $1")
                .bind(&id.as_bytes()[..])
                .execute(pool)
                .await
                .map_err(db_err)
        })?;
        Ok(done.rows_affected() > 0)
    }

    fn sweep_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.tx(async |tx| {
            let count = sqlx::query("DELETE FROM drafts WHERE expires <= $1")
                .bind(now)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?
                .rows_affected();
            if count > 0 {
                Self::audit_tx(
                    tx,
                    now,
                    Actor::System,
                    None,
                    AuditAction::DraftsExpired { count },
                )
                .await?;
            }
            Ok(count)
        })
    }
}

/// Marks a submit that lost the race for its idempotency key (never leaves `submit`).
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
        let find_existing = async |pool: &PgPool| -> Result<Option<Submission>, StoreError> {
            let row = sqlx::query(
                "SELECT id, v, record::text AS record FROM submissions WHERE tenant = $1 AND idempotency_key = $2",
            )
            .bind(tenant.slug())
            .bind(key.as_str())
            .fetch_optional(pool)
            .await
            .map_err(db_err)?;
            row.map(|r| decode_submission(&r)).transpose()
        };
        if let Some(existing) = self.run(async |pool| find_existing(pool).await)? {
            return Ok(existing);
        }
        let outcome = self.tx(async |tx| {
            // The counter row's lock orders the submitters of one tenant and year on every node;
            // a rolled-back transaction gives its number back.
            let number: i64 = sqlx::query_scalar(
                "INSERT INTO reference_counters (tenant, year, last) VALUES ($1, $2, 1) \
                 ON CONFLICT (tenant, year) DO UPDATE SET last = reference_counters.last + 1 \
                 RETURNING last",
            )
            .bind(new.tenant.slug())
            .bind(year)
            .fetch_one(&mut **tx)
            .await
            .map_err(db_err)?;
            let reference = Reference::new(new.tenant.reference_prefix(), year, to_u64(number));
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
            };
            let inserted = sqlx::query(
                "INSERT INTO submissions (id, tenant, year, number, idempotency_key, v, record) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) \
                 ON CONFLICT ON CONSTRAINT submissions_idempotency DO NOTHING",
            )
            .bind(&new.id.as_bytes()[..])
            .bind(new.tenant.slug())
            .bind(year)
            .bind(number)
            .bind(new.idempotency_key.as_str())
            .bind(v_current())
            .bind(json(SUBMISSIONS, &new.id.to_string(), &sub)?)
            .execute(&mut **tx)
            .await;
            match inserted {
                Ok(r) if r.rows_affected() == 0 => {
                    // A concurrent call with the same key committed first: an error rolls the
                    // transaction back (the number is given back); the caller returns that one.
                    return Err(lost_race());
                }
                Ok(_) => {}
                Err(e) if is_unique_violation(&e, "submissions_pkey") => {
                    return Err(StoreError::AlreadyExists {
                        what: "submission",
                        key: new.id.to_string(),
                    });
                }
                Err(e) => return Err(db_err(e)),
            }
            let history = StatusRecord {
                history: vec![StatusChange {
                    status: Status::Eingegangen,
                    at: now,
                    actor: Actor::Citizen,
                    note: None,
                }],
            };
            sqlx::query(
                "INSERT INTO submission_status (submission, current, changed, v, record) \
                 VALUES ($1, $2, $3, $4, $5::jsonb)",
            )
            .bind(&new.id.as_bytes()[..])
            .bind(Status::Eingegangen.code())
            .bind(now)
            .bind(v_current())
            .bind(json(STATUS, &new.id.to_string(), &history)?)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
            Self::audit_tx(
                tx,
                now,
                Actor::Citizen,
                Some(&new.tenant),
                AuditAction::SubmissionReceived {
                    submission: new.id,
                    reference,
                },
            )
            .await?;
            for n in &new.notifications {
                Self::enqueue_tx(tx, Some(&new.tenant), n.clone(), now).await?;
            }
            Ok(sub)
        });
        match outcome {
            Ok(sub) => Ok(sub),
            // Rolled back; the winner is committed and visible.
            Err(StoreError::AlreadyExists {
                what: LOST_RACE, ..
            }) => self
                .run(async |pool| find_existing(pool).await)?
                .ok_or_else(|| StoreError::Storage("a concurrent submit vanished".into())),
            Err(e) => Err(e),
        }
    }

    fn submission(&self, id: &SubmissionId) -> Result<Option<Submission>, StoreError> {
        let row = self.run(async |pool| {
            sqlx::query("SELECT id, v, record::text AS record FROM submissions WHERE id = $1")
                .bind(&id.as_bytes()[..])
                .fetch_optional(pool)
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
            .fetch_optional(pool)
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
            .fetch_optional(pool)
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
            .fetch_all(pool)
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

impl StatusStore for PgStore {
    fn status_history(&self, id: &SubmissionId) -> Result<Vec<StatusChange>, StoreError> {
        let row = self.run(async |pool| {
            sqlx::query(
                "SELECT v, record::text AS record FROM submission_status WHERE submission = $1",
            )
            .bind(&id.as_bytes()[..])
            .fetch_optional(pool)
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
            .fetch_all(pool)
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

impl AuditStore for PgStore {
    fn append_audit(
        &self,
        at: OffsetDateTime,
        actor: Actor,
        tenant: Option<&TenantId>,
        action: AuditAction,
    ) -> Result<u64, StoreError> {
        self.tx(async |tx| Self::audit_tx(tx, at, actor, tenant, action).await)
    }

    fn audit_log(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.run(async |pool| {
            sqlx::query(
                "SELECT seq, v, record::text AS record FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(db_err)
        })?;
        rows.iter()
            .map(|r| {
                let seq: i64 = r.try_get("seq").map_err(db_err)?;
                let mut e: AuditEntry =
                    decode_parts(AUDIT, &seq.to_string(), version(r)?, &record_text(r)?)?;
                e.seq = to_u64(seq);
                Ok(e)
            })
            .collect()
    }
}

impl Outbox for PgStore {
    fn enqueue(
        &self,
        tenant: Option<&TenantId>,
        message: NewOutboxMessage,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.tx(async |tx| Self::enqueue_tx(tx, tenant, message, now).await)
    }

    fn claim(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let lease_until = now + lease;
        self.tx(async |tx| {
            // SKIP LOCKED: nodes claiming at the same time get disjoint rows.
            let rows = sqlx::query(
                "SELECT id, v, record::text AS record FROM outbox WHERE due <= $1 \
                 ORDER BY due, id LIMIT $2 FOR UPDATE SKIP LOCKED",
            )
            .bind(now)
            .bind(limit)
            .fetch_all(&mut **tx)
            .await
            .map_err(db_err)?;
            let mut claimed = Vec::with_capacity(rows.len());
            let (mut ids, mut records) = (Vec::new(), Vec::new());
            for r in &rows {
                let id: i64 = r.try_get("id").map_err(db_err)?;
                // An unreadable entry must not block the others.
                let Ok(mut msg) = decode_parts::<OutboxMessage>(
                    OUTBOX,
                    &id.to_string(),
                    version(r)?,
                    &record_text(r)?,
                ) else {
                    continue;
                };
                msg.id = to_u64(id);
                msg.state = DeliveryState::Claimed { lease_until };
                ids.push(id);
                records.push(json(OUTBOX, &id.to_string(), &msg)?);
                claimed.push(msg);
            }
            if !ids.is_empty() {
                sqlx::query(
                    "UPDATE outbox SET due = $1, v = $2, record = u.record::jsonb \
                     FROM UNNEST($3::bigint[], $4::text[]) AS u(id, record) WHERE outbox.id = u.id",
                )
                .bind(lease_until)
                .bind(v_current())
                .bind(ids)
                .bind(records)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            }
            Ok(claimed)
        })
    }

    fn mark_delivered(&self, id: u64, now: OffsetDateTime) -> Result<(), StoreError> {
        self.update_outbox(id, |m| {
            m.attempts = m.attempts.saturating_add(1);
            m.state = DeliveryState::Delivered { at: now };
        })
    }

    fn mark_failed(
        &self,
        id: u64,
        now: OffsetDateTime,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        let error: String = error.chars().take(500).collect();
        self.update_outbox(id, |m| {
            m.attempts = m.attempts.saturating_add(1);
            m.last_error = Some(error);
            match retry_at {
                Some(at) => {
                    m.next_attempt = at;
                    m.state = DeliveryState::Pending;
                }
                None => m.state = DeliveryState::Failed { at: now },
            }
        })
    }

    fn outbox_message(&self, id: u64) -> Result<Option<OutboxMessage>, StoreError> {
        let Ok(key) = i64::try_from(id) else {
            return Ok(None);
        };
        let row = self.run(async |pool| {
            sqlx::query("SELECT v, record::text AS record FROM outbox WHERE id = $1")
                .bind(key)
                .fetch_optional(pool)
                .await
                .map_err(db_err)
        })?;
        row.map(|r| {
            let mut m: OutboxMessage =
                decode_parts(OUTBOX, &id.to_string(), version(&r)?, &record_text(&r)?)?;
            m.id = id;
            Ok(m)
        })
        .transpose()
    }

    fn prune_outbox(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let done = self.run(async |pool| {
            sqlx::query("DELETE FROM outbox WHERE finished <= $1")
                .bind(before)
                .execute(pool)
                .await
                .map_err(db_err)
        })?;
        Ok(done.rows_affected())
    }

    fn requeue(&self, id: u64, now: OffsetDateTime) -> Result<bool, StoreError> {
        self.requeue_delivery(id, now)
    }

    fn tenant_outbox(
        &self,
        tenant: &TenantId,
        before: Option<u64>,
        limit: usize,
        keep: &dyn Fn(&OutboxMessage) -> bool,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        self.outbox_of_tenant(tenant, before, limit, keep)
    }
}

/// Wrong resume codes counted in the database, so the limit holds across all nodes: at most
/// `max_failures` per client key within a fixed window.
#[derive(Debug, Clone)]
pub struct PgResumeLimiter {
    store: PgStore,
    max_failures: u32,
    window: Duration,
}

impl PgResumeLimiter {
    /// At most `max_failures` wrong codes per client key within `window`.
    pub fn new(store: PgStore, max_failures: u32, window: Duration) -> Self {
        Self {
            store,
            max_failures,
            window,
        }
    }
}

impl AttemptLimiter for PgResumeLimiter {
    fn check(&self, key: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let row = self.store.run(async |pool| {
            sqlx::query("SELECT window_start, failures FROM resume_attempts WHERE client = $1")
                .bind(key)
                .fetch_optional(pool)
                .await
                .map_err(db_err)
        })?;
        if let Some(row) = row {
            let start: OffsetDateTime = row.try_get("window_start").map_err(db_err)?;
            let failures: i32 = row.try_get("failures").map_err(db_err)?;
            let max = i32::try_from(self.max_failures).unwrap_or(i32::MAX);
            if now < start + self.window && failures >= max {
                return Err(StoreError::RateLimited {
                    retry_after: start + self.window - now,
                });
            }
        }
        Ok(())
    }

    fn record_failure(&self, key: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let expired_before = now - self.window;
        let sweep = self
            .store
            .inner
            .limiter_calls
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(1000);
        self.store.run(async |pool| {
            // One statement: concurrent failures on several nodes all count.
            sqlx::query(
                "INSERT INTO resume_attempts (client, window_start, failures) VALUES ($1, $2, 1) \
                 ON CONFLICT (client) DO UPDATE SET \
                   window_start = CASE WHEN resume_attempts.window_start <= $3 THEN $2 \
                                       ELSE resume_attempts.window_start END, \
                   failures = CASE WHEN resume_attempts.window_start <= $3 THEN 1 \
                                   ELSE resume_attempts.failures + 1 END",
            )
            .bind(key)
            .bind(now)
            .bind(expired_before)
            .execute(pool)
            .await
            .map_err(db_err)?;
            if sweep {
                sqlx::query("DELETE FROM resume_attempts WHERE window_start <= $1")
                    .bind(expired_before)
                    .execute(pool)
                    .await
                    .map_err(db_err)?;
            }
            Ok(())
        })
    }

    fn record_success(&self, key: &str) -> Result<(), StoreError> {
        self.store.run(async |pool| {
            sqlx::query("DELETE FROM resume_attempts WHERE client = $1")
                .bind(key)
                .execute(pool)
                .await
                .map_err(db_err)?;
            Ok(())
        })
    }
}

// Export and import: the same JSON Lines as the sled store (docs/store.md), so `lotse export`
// from one backend and `lotse import` into the other is the migration path. Index trees are
// derived from the records on export and rebuilt from them on import.

#[derive(Deserialize)]
struct ImportLine<'a> {
    tree: String,
    key: String,
    #[serde(borrow)]
    value: Option<&'a serde_json::value::RawValue>,
    raw: Option<String>,
}

#[derive(Deserialize)]
struct ExportHeader {
    lotse_export: u32,
    record_format: u32,
}

#[derive(Deserialize)]
struct ExportTrailer {
    end: u64,
}

/// A value of an export line: an envelope (`"value"`) or bytes (`"raw"`, hex).
enum ExportValue {
    Json(Vec<u8>),
    Raw(Vec<u8>),
}

impl PgStore {
    /// Writes every record as the JSON Lines of [`super::SledStore::export_jsonl`]: the same
    /// trees, keys and envelopes, so either backend imports it. Reads one consistent snapshot
    /// (a REPEATABLE READ transaction). Records of one kind are sorted in memory by their key.
    pub fn export_jsonl(
        &self,
        out: &mut impl Write,
        mut progress: impl FnMut(Progress),
    ) -> Result<u64, StoreError> {
        let trees = self.run(async |pool| {
            let mut tx = pool.begin().await.map_err(db_err)?;
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            let trees = export_trees(&mut tx).await?;
            tx.commit().await.map_err(db_err)?;
            Ok(trees)
        })?;
        writeln!(
            out,
            "{{\"lotse_export\":{EXPORT_FORMAT},\"record_format\":{RECORD_FORMAT}}}"
        )
        .map_err(StoreError::Stream)?;
        let mut records = 0u64;
        for (name, mut entries) in trees {
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            for (key, value) in entries {
                write!(out, "{{\"tree\":\"{name}\",\"key\":\"{}\",", hex(&key))
                    .map_err(StoreError::Stream)?;
                match value {
                    ExportValue::Json(v) => {
                        out.write_all(b"\"value\":").map_err(StoreError::Stream)?;
                        out.write_all(&v).map_err(StoreError::Stream)?;
                        out.write_all(b"}\n").map_err(StoreError::Stream)?;
                    }
                    ExportValue::Raw(v) => {
                        writeln!(out, "\"raw\":\"{}\"}}", hex(&v)).map_err(StoreError::Stream)?;
                    }
                }
                records += 1;
                if records.is_multiple_of(10_000) {
                    progress(Progress {
                        tree: name,
                        records,
                    });
                }
            }
            progress(Progress {
                tree: name,
                records,
            });
        }
        writeln!(out, "{{\"end\":{records}}}").map_err(StoreError::Stream)?;
        out.flush().map_err(StoreError::Stream)?;
        Ok(records)
    }

    /// Reads an export (of either backend) into this database, which must hold no records
    /// (`ImportIntoNonEmpty` otherwise). One transaction: a failed import leaves nothing behind.
    pub fn import_jsonl(
        &self,
        input: &mut impl BufRead,
        mut progress: impl FnMut(Progress),
    ) -> Result<u64, StoreError> {
        if !self.is_empty()? {
            return Err(StoreError::ImportIntoNonEmpty);
        }
        let bad = |line: u64, reason: String| StoreError::ImportFormat { line, reason };
        let mut line = String::new();
        let mut line_no = 1u64;
        if input.read_line(&mut line).map_err(StoreError::Stream)? == 0 {
            return Err(bad(line_no, "empty input".into()));
        }
        let header: ExportHeader =
            serde_json::from_str(&line).map_err(|e| bad(line_no, format!("bad header: {e}")))?;
        if header.lotse_export > EXPORT_FORMAT || header.record_format > RECORD_FORMAT {
            return Err(bad(
                line_no,
                format!(
                    "export format {} / record format {} is newer than this build ({EXPORT_FORMAT} / {RECORD_FORMAT})",
                    header.lotse_export, header.record_format
                ),
            ));
        }
        // Parse everything first (decoding checks every record), then write in one transaction.
        let mut rows: Vec<ImportRow> = Vec::new();
        let mut records = 0u64;
        let mut ended = false;
        let mut last_tree = DRAFTS;
        loop {
            line.clear();
            line_no += 1;
            if input.read_line(&mut line).map_err(StoreError::Stream)? == 0 {
                break;
            }
            if ended {
                return Err(bad(line_no, "data after the trailer line".into()));
            }
            if let Ok(trailer) = serde_json::from_str::<ExportTrailer>(&line) {
                if trailer.end != records {
                    return Err(bad(
                        line_no,
                        format!("trailer counts {} records, read {records}", trailer.end),
                    ));
                }
                ended = true;
                continue;
            }
            let rec: ImportLine<'_> =
                serde_json::from_str(&line).map_err(|e| bad(line_no, e.to_string()))?;
            let key = unhex(&rec.key).ok_or_else(|| bad(line_no, "key is not hex".into()))?;
            let value: Vec<u8> = match (rec.value, rec.raw) {
                (Some(v), None) => v.get().as_bytes().to_vec(),
                (None, Some(raw)) => {
                    unhex(&raw).ok_or_else(|| bad(line_no, "raw value is not hex".into()))?
                }
                _ => return Err(bad(line_no, "expected exactly one of value, raw".into())),
            };
            let row =
                import_row(&rec.tree, &key, &value).map_err(|e| bad(line_no, e.to_string()))?;
            last_tree = row.as_ref().map_or(last_tree, ImportRow::tree);
            rows.extend(row);
            records += 1;
            if records.is_multiple_of(10_000) {
                progress(Progress {
                    tree: last_tree,
                    records,
                });
            }
        }
        if !ended {
            return Err(bad(
                line_no,
                "no trailer line: the export is truncated".into(),
            ));
        }
        self.tx(async |tx| {
            let mut max_id = 0i64;
            for row in &rows {
                max_id = max_id.max(row.insert(tx).await?);
            }
            if max_id > 0 {
                sqlx::query("SELECT setval('lotse_ids', $1)")
                    .bind(max_id)
                    .execute(&mut **tx)
                    .await
                    .map_err(db_err)?;
            }
            Ok(())
        })?;
        progress(Progress {
            tree: last_tree,
            records,
        });
        Ok(records)
    }
}

type TreeDump = Vec<(&'static str, Vec<(Vec<u8>, ExportValue)>)>;

fn env_bytes<T: serde::Serialize>(
    tree: &'static str,
    key: &[u8],
    r: &T,
) -> Result<ExportValue, StoreError> {
    encode(tree, key, r).map(ExportValue::Json)
}

async fn export_trees(tx: &mut Tx) -> Result<TreeDump, StoreError> {
    let mut drafts = Vec::new();
    let mut codes = Vec::new();
    for r in sqlx::query("SELECT id, v, record::text AS record FROM drafts")
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?
    {
        let id: Vec<u8> = r.try_get("id").map_err(db_err)?;
        let d: Draft = decode_parts(DRAFTS, &hex(&id), version(&r)?, &record_text(&r)?)?;
        // As sled keeps it: a code index entry only for ids that do not carry their code.
        if !d.id.carries_code(&d.resume_code) {
            codes.push((
                code_key(&d.resume_code).to_vec(),
                ExportValue::Raw(id.clone()),
            ));
        }
        drafts.push((id.clone(), env_bytes(DRAFTS, &id, &d)?));
    }
    let mut subs = Vec::new();
    let mut refs = Vec::new();
    let mut idem = Vec::new();
    for r in sqlx::query("SELECT id, v, record::text AS record FROM submissions")
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?
    {
        let s = decode_submission(&r)?;
        let id = s.id.as_bytes().to_vec();
        refs.push((
            ref_key(&s.tenant, s.reference.year(), s.reference.number()),
            ExportValue::Raw(id.clone()),
        ));
        idem.push((
            idempotency_key(&s.tenant, &s.idempotency_key),
            ExportValue::Raw(id.clone()),
        ));
        subs.push((id.clone(), env_bytes(SUBMISSIONS, &id, &s)?));
    }
    let mut counters = Vec::new();
    for r in sqlx::query("SELECT tenant, year, last FROM reference_counters")
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?
    {
        let slug: String = r.try_get("tenant").map_err(db_err)?;
        let year: i32 = r.try_get("year").map_err(db_err)?;
        let last: i64 = r.try_get("last").map_err(db_err)?;
        // The counter key needs only the slug; the prefix is a placeholder.
        let tenant = TenantId::new(&slug, "XXX")?;
        counters.push((
            counter_key(&tenant, year),
            ExportValue::Raw(to_u64(last).to_be_bytes().to_vec()),
        ));
    }
    let mut status = Vec::new();
    for r in
        sqlx::query("SELECT submission AS id, v, record::text AS record FROM submission_status")
            .fetch_all(&mut **tx)
            .await
            .map_err(db_err)?
    {
        let id: Vec<u8> = r.try_get("id").map_err(db_err)?;
        let s: StatusRecord = decode_parts(STATUS, &hex(&id), version(&r)?, &record_text(&r)?)?;
        status.push((id.clone(), env_bytes(STATUS, &id, &s)?));
    }
    let mut messages = Vec::new();
    for r in sqlx::query("SELECT seq, v, record::text AS record FROM messages")
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?
    {
        let seq: i64 = r.try_get("seq").map_err(db_err)?;
        let mut m: Message =
            decode_parts(MESSAGES, &seq.to_string(), version(&r)?, &record_text(&r)?)?;
        m.seq = to_u64(seq);
        let key = message_key(&m.submission, m.seq);
        messages.push((key.clone(), env_bytes(MESSAGES, &key, &m)?));
    }
    let mut audit = Vec::new();
    for r in sqlx::query("SELECT seq, v, record::text AS record FROM audit")
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?
    {
        let seq: i64 = r.try_get("seq").map_err(db_err)?;
        let mut e: AuditEntry =
            decode_parts(AUDIT, &seq.to_string(), version(&r)?, &record_text(&r)?)?;
        e.seq = to_u64(seq);
        let key = e.seq.to_be_bytes().to_vec();
        audit.push((key.clone(), env_bytes(AUDIT, &key, &e)?));
    }
    let mut outbox = Vec::new();
    for r in sqlx::query("SELECT id, v, record::text AS record FROM outbox")
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?
    {
        let id: i64 = r.try_get("id").map_err(db_err)?;
        let mut m: OutboxMessage =
            decode_parts(OUTBOX, &id.to_string(), version(&r)?, &record_text(&r)?)?;
        m.id = to_u64(id);
        let key = m.id.to_be_bytes().to_vec();
        outbox.push((key.clone(), env_bytes(OUTBOX, &key, &m)?));
    }
    // Accounts with their login index (as sled keeps it), API tokens by hash; sessions are not
    // exported (on sled neither): after a move staff sign in again.
    let mut accounts = Vec::new();
    let mut logins = Vec::new();
    for r in sqlx::query("SELECT id, v, record::text AS record FROM accounts")
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?
    {
        let id: Vec<u8> = r.try_get("id").map_err(db_err)?;
        let a: Account = decode_parts(
            accounts_pg::ACCOUNTS,
            &hex(&id),
            version(&r)?,
            &record_text(&r)?,
        )?;
        logins.push((login_key(&a.tenant, &a.login), ExportValue::Raw(id.clone())));
        accounts.push((id.clone(), env_bytes(accounts_pg::ACCOUNTS, &id, &a)?));
    }
    let mut tokens = Vec::new();
    for r in sqlx::query("SELECT hash, v, record::text AS record FROM api_tokens")
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?
    {
        let hash: Vec<u8> = r.try_get("hash").map_err(db_err)?;
        let t: ApiToken = decode_parts(
            accounts_pg::API_TOKENS,
            "(hash)",
            version(&r)?,
            &record_text(&r)?,
        )?;
        tokens.push((hash.clone(), env_bytes(accounts_pg::API_TOKENS, &hash, &t)?));
    }
    Ok(vec![
        (DRAFTS, drafts),
        ("draft_codes", codes),
        (SUBMISSIONS, subs),
        ("submission_refs", refs),
        ("counters", counters),
        ("idempotency", idem),
        (STATUS, status),
        (MESSAGES, messages),
        (AUDIT, audit),
        (OUTBOX, outbox),
        (accounts_pg::ACCOUNTS, accounts),
        ("account_logins", logins),
        (accounts_pg::API_TOKENS, tokens),
    ])
}

/// One record of an import, decoded (older formats migrated) and ready to insert.
enum ImportRow {
    Draft(Draft),
    Submission(Submission),
    Counter { slug: String, year: i32, last: i64 },
    Status(Vec<u8>, StatusRecord),
    Message(Message),
    Audit(AuditEntry),
    Outbox(OutboxMessage),
    Account(Account),
    ApiToken(ApiToken),
}

impl ImportRow {
    fn tree(&self) -> &'static str {
        match self {
            Self::Draft(_) => DRAFTS,
            Self::Submission(_) => SUBMISSIONS,
            Self::Counter { .. } => "counters",
            Self::Status(..) => STATUS,
            Self::Message(_) => MESSAGES,
            Self::Audit(_) => AUDIT,
            Self::Outbox(_) => OUTBOX,
            Self::Account(_) => accounts_pg::ACCOUNTS,
            Self::ApiToken(_) => accounts_pg::API_TOKENS,
        }
    }

    /// Inserts the row; returns its generated id (audit, message, outbox) or 0.
    async fn insert(&self, tx: &mut Tx) -> Result<i64, StoreError> {
        let v = v_current();
        let q = match self {
            Self::Draft(d) => sqlx::query(
                "INSERT INTO drafts (id, tenant, revision, expires, code_hash, v, record) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)",
            )
            .bind(d.id.as_bytes().to_vec())
            .bind(d.tenant.slug().to_owned())
            .bind(to_i64("revision", d.revision)?)
            .bind(d.expires)
            .bind(code_key(&d.resume_code).to_vec())
            .bind(v)
            .bind(json(DRAFTS, &d.id.to_string(), d)?),
            Self::Submission(s) => sqlx::query(
                "INSERT INTO submissions (id, tenant, year, number, idempotency_key, v, record) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)",
            )
            .bind(s.id.as_bytes().to_vec())
            .bind(s.tenant.slug().to_owned())
            .bind(s.reference.year())
            .bind(to_i64("reference number", s.reference.number())?)
            .bind(s.idempotency_key.as_str().to_owned())
            .bind(v)
            .bind(json(SUBMISSIONS, &s.id.to_string(), s)?),
            Self::Counter { slug, year, last } => sqlx::query(
                "INSERT INTO reference_counters (tenant, year, last) VALUES ($1, $2, $3)",
            )
            .bind(slug.clone())
            .bind(*year)
            .bind(*last),
            Self::Status(id, r) => {
                let last = r.history.last();
                sqlx::query(
                    "INSERT INTO submission_status (submission, current, changed, v, record) \
                     VALUES ($1, $2, $3, $4, $5::jsonb)",
                )
                .bind(id.clone())
                .bind(last.map_or(Status::Eingegangen, |c| c.status).code())
                .bind(last.map(|c| c.at))
                .bind(v)
                .bind(json(STATUS, &hex(id), r)?)
            }
            Self::Message(m) => sqlx::query(
                "INSERT INTO messages (seq, submission, v, record) VALUES ($1, $2, $3, $4::jsonb)",
            )
            .bind(to_i64("message", m.seq)?)
            .bind(m.submission.as_bytes().to_vec())
            .bind(v)
            .bind(json(MESSAGES, &m.seq.to_string(), m)?),
            Self::Audit(e) => {
                sqlx::query("INSERT INTO audit (seq, v, record) VALUES ($1, $2, $3::jsonb)")
                    .bind(to_i64("audit entry", e.seq)?)
                    .bind(v)
                    .bind(json(AUDIT, &e.seq.to_string(), e)?)
            }
            Self::Outbox(m) => {
                let (due, finished) = outbox_columns(m);
                sqlx::query(
                    "INSERT INTO outbox (id, due, finished, v, record) VALUES ($1, $2, $3, $4, $5::jsonb)",
                )
                .bind(to_i64("outbox id", m.id)?)
                .bind(due)
                .bind(finished)
                .bind(v)
                .bind(json(OUTBOX, &m.id.to_string(), m)?)
            }
            Self::Account(a) => sqlx::query(
                "INSERT INTO accounts (id, tenant, login, v, record) VALUES ($1, $2, $3, $4, $5::jsonb)",
            )
            .bind(a.id.as_bytes().to_vec())
            .bind(a.tenant.slug().to_owned())
            .bind(a.login.clone())
            .bind(v)
            .bind(json(accounts_pg::ACCOUNTS, &a.id.to_string(), a)?),
            Self::ApiToken(t) => sqlx::query(
                "INSERT INTO api_tokens (hash, id, tenant, created, v, record) \
                 VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
            )
            .bind(t.hash.as_bytes().to_vec())
            .bind(t.id.as_bytes().to_vec())
            .bind(t.tenant.slug().to_owned())
            .bind(t.created)
            .bind(v)
            .bind(json(accounts_pg::API_TOKENS, &t.id.to_string(), t)?),
        };
        q.execute(&mut **tx).await.map_err(db_err)?;
        Ok(match self {
            Self::Message(m) => to_i64("message", m.seq)?,
            Self::Audit(e) => to_i64("audit entry", e.seq)?,
            Self::Outbox(m) => to_i64("outbox id", m.id)?,
            _ => 0,
        })
    }
}

/// Decodes one export line into a row; `None` for index trees, which are rebuilt from records.
fn import_row(tree: &str, key: &[u8], value: &[u8]) -> Result<Option<ImportRow>, StoreError> {
    Ok(Some(match tree {
        "drafts" => ImportRow::Draft(decode(DRAFTS, key, value)?),
        "submissions" => ImportRow::Submission(decode(SUBMISSIONS, key, value)?),
        "status" => {
            if SubmissionId::from_key(key).is_none() {
                return Err(StoreError::InvalidInput(
                    "status key is not a submission id".into(),
                ));
            }
            ImportRow::Status(key.to_vec(), decode(STATUS, key, value)?)
        }
        "messages" => ImportRow::Message(decode(MESSAGES, key, value)?),
        "audit" => ImportRow::Audit(decode(AUDIT, key, value)?),
        "outbox" => ImportRow::Outbox(decode(OUTBOX, key, value)?),
        "accounts" => ImportRow::Account(decode(accounts_pg::ACCOUNTS, key, value)?),
        "api_tokens" => ImportRow::ApiToken(decode(accounts_pg::API_TOKENS, key, value)?),
        "counters" => {
            // slug, a 0 byte, the year (sign bit flipped, big-endian); the value is a u64.
            let split = key
                .iter()
                .position(|b| *b == 0)
                .ok_or_else(|| StoreError::InvalidInput("counter key without tenant".into()))?;
            let slug = std::str::from_utf8(&key[..split])
                .map_err(|_| StoreError::InvalidInput("counter tenant is not UTF-8".into()))?;
            let year: [u8; 4] = key[split + 1..]
                .try_into()
                .map_err(|_| StoreError::InvalidInput("counter key has no year".into()))?;
            let year = (u32::from_be_bytes(year) ^ (1 << 31)) as i32;
            let last: [u8; 8] = value
                .try_into()
                .map_err(|_| StoreError::InvalidInput("counter is not 8 bytes".into()))?;
            ImportRow::Counter {
                slug: slug.to_owned(),
                year,
                last: to_i64("counter", u64::from_be_bytes(last))?,
            }
        }
        "draft_codes" | "draft_expiry" | "submission_refs" | "idempotency" | "account_logins" => {
            return Ok(None);
        }
        other => return Err(StoreError::InvalidInput(format!("unknown tree {other:?}"))),
    }))
}
