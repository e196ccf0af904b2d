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
//! the default; the store refuses to open if a session has it off). Draft writes are the one
//! exception, as on sled: they commit asynchronously and reach the disk a moment later (see
//! `drafts.rs`); [`PgStore::flush`] makes every earlier write durable.
//!
//! One module per store trait; key layouts, record structs and the export codec are shared with
//! the sled backend through backend-neutral modules. Must not depend on the sled backend.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgRow};
use sqlx::{Connection, Postgres, Row, SqlSafeStr, Transaction};
use tokio::sync::Semaphore;

use crate::envelope::{RECORD_FORMAT, decode_parts};
use crate::error::StoreError;
use crate::ids::hex;
use crate::keys::SUBMISSIONS;
use crate::model::Submission;

mod accounts;
mod attachments;
mod audit;
mod batch;
mod blobs;
mod cases;
mod drafts;
mod export;
mod limiter;
mod login;
mod outbox;
mod payments;
mod postkorb;
mod secrets;
mod status;
mod submissions;
mod visits;

pub use limiter::PgResumeLimiter;

/// The schema migrations, embedded in the binary. Run on [`PgStore::connect`] and by
/// `lotse migrate`; concurrent nodes serialize on sqlx's advisory lock.
fn migrator() -> Migrator {
    let mut m = Migrator::with_migrations(vec![
        Migration::new(
            1,
            "store".into(),
            MigrationType::Simple,
            include_str!("../../migrations/0001_store.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            2,
            "accounts postkorb".into(),
            MigrationType::Simple,
            include_str!("../../migrations/0002_accounts_postkorb.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            3,
            "receipts uncompressed".into(),
            MigrationType::Simple,
            include_str!("../../migrations/0003_receipts_uncompressed.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            4,
            "attempt slowdown".into(),
            MigrationType::Simple,
            include_str!("../../migrations/0004_attempt_slowdown.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            5,
            "postkorb index".into(),
            MigrationType::Simple,
            include_str!("../../migrations/0005_postkorb_index.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            6,
            "postkorb postings".into(),
            MigrationType::Simple,
            include_str!("../../migrations/0006_postkorb_postings.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            7,
            "payments".into(),
            MigrationType::Simple,
            include_str!("../../migrations/0007_payments.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            8,
            "visits".into(),
            MigrationType::Simple,
            include_str!("../../migrations/0008_visits.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            9,
            "citizen login".into(),
            MigrationType::Simple,
            include_str!("../../migrations/0009_citizen_login.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            10,
            "attachments".into(),
            MigrationType::Simple,
            include_str!("../../migrations/0010_attachments.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            11,
            "audit by submission".into(),
            MigrationType::Simple,
            include_str!("../../migrations/0011_audit_by_submission.sql").into_sql_str(),
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
    pool: Option<Conns>,
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

type Tx<'c> = Transaction<'c, Postgres>;

/// How long a pooled connection may sit idle before it is pinged on its way out of the pool.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(5);

/// How long a connection is used before it is closed and replaced (as sqlx's pool does by
/// default): the database session's caches do not grow for ever.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

fn closed() -> StoreError {
    StoreError::Storage("the store is closed".into())
}

/// The node's connections to the database: at most `permits` at once, idle ones kept for the
/// next call. Not sqlx's `PgPool`, which pings every connection when it goes back to the pool
/// (a second round trip per call, unconditionally in sqlx 0.9: about a third of the database's
/// wake-ups under load). Here a connection goes back as it is; one that sat idle for
/// [`IDLE_BEFORE_PING`] is pinged before it is used again, and one whose call failed is pinged
/// before it goes back (a broken one is dropped with every idle one, and a rollback left queued
/// by a dropped transaction is sent). Calls are never cancelled halfway ([`block_on`] drives each to its
/// end), so a connection never goes back in the middle of a statement.
struct Conns {
    connect: PgConnectOptions,
    /// Most recently used last.
    idle: Mutex<Vec<Idle>>,
    permits: Semaphore,
    acquire_timeout: Duration,
}

/// A connection that waits for its next call.
struct Idle {
    conn: PgConnection,
    opened: Instant,
    since: Instant,
}

impl Conns {
    /// Runs `f` on a connection of its own.
    async fn with<T>(
        &self,
        f: impl AsyncFnOnce(&mut PgConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _permit = match tokio::time::timeout(self.acquire_timeout, self.permits.acquire()).await
        {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(closed()),
            Err(_) => {
                return Err(StoreError::Storage(
                    "PostgreSQL: timed out waiting for a free connection".into(),
                ));
            }
        };
        let (mut conn, opened) = self.take().await?;
        let out = f(&mut conn).await;
        if out.is_err() && conn.ping().await.is_err() {
            // Broken: dropped, a new one is opened when needed. The idle ones most likely broke
            // with it (the database restarted): they go too, rather than fail a call each.
            drop(std::mem::take(
                &mut *self.idle.lock().unwrap_or_else(PoisonError::into_inner),
            ));
            return out;
        }
        if opened.elapsed() >= MAX_LIFETIME {
            let _ = conn.close().await;
            return out;
        }
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Idle {
                conn,
                opened,
                since: Instant::now(),
            });
        out
    }

    /// An idle connection (pinged if it sat idle for a while), or a new one; with the time it
    /// was opened.
    async fn take(&self) -> Result<(PgConnection, Instant), StoreError> {
        loop {
            let idle = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            match idle {
                Some(i) if i.since.elapsed() < IDLE_BEFORE_PING => return Ok((i.conn, i.opened)),
                Some(mut i) => {
                    if i.conn.ping().await.is_ok() {
                        return Ok((i.conn, i.opened));
                    }
                }
                None => {
                    let conn = PgConnection::connect_with(&self.connect)
                        .await
                        .map_err(db_err)?;
                    return Ok((conn, Instant::now()));
                }
            }
        }
    }

    /// Refuses further calls and closes the idle connections.
    async fn close(&self) {
        self.permits.close();
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(PoisonError::into_inner));
        for i in idle {
            let _ = i.conn.close().await;
        }
    }
}

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
        let pool = Conns {
            connect,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(
                usize::try_from(options.max_connections.max(1)).unwrap_or(usize::MAX),
            ),
            acquire_timeout: options.acquire_timeout,
        };
        let store = Self {
            inner: Arc::new(Inner {
                runtime: Some(runtime),
                pool: Some(pool),
                limiter_calls: AtomicU64::new(0),
            }),
        };
        let sync: String = store
            .run(async |conn| {
                sqlx::query_scalar("SHOW synchronous_commit")
                    .fetch_one(conn)
                    .await
                    .map_err(db_err)
            })
            .map_err(|e| {
                StoreError::Storage(format!(
                    "cannot connect to {}: {e}",
                    redact_url(&options.url)
                ))
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
            m.run(&mut *pool)
                .await
                .map_err(|e| StoreError::Storage(format!("migration failed: {e}")))
        })?;
        Ok(m.migrations.len())
    }

    /// Runs the migrations up to `version` only: a database as an older release left it.
    #[cfg(test)]
    pub(crate) fn migrate_to(&self, version: i64) -> Result<(), StoreError> {
        let all = migrator();
        let mut m = Migrator::with_migrations(
            all.migrations
                .iter()
                .filter(|m| m.version <= version)
                .cloned()
                .collect(),
        );
        m.dangerous_set_table_name("lotse_migrations");
        self.run(async |pool| {
            m.run(&mut *pool)
                .await
                .map_err(|e| StoreError::Storage(format!("migration failed: {e}")))
        })
    }

    fn run<T>(
        &self,
        f: impl AsyncFnOnce(&mut PgConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let (Some(rt), Some(pool)) = (&self.inner.runtime, &self.inner.pool) else {
            return Err(closed());
        };
        block_on(rt.handle(), pool.with(f))
    }

    /// Runs `f` in a transaction and commits; any error rolls back.
    fn tx<T>(
        &self,
        f: impl AsyncFnOnce(&mut Tx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.run(async |conn| {
            let mut tx = conn.begin().await.map_err(db_err)?;
            let out = f(&mut tx).await?;
            tx.commit().await.map_err(db_err)?;
            Ok(out)
        })
    }

    /// How many drafts are stored.
    pub fn draft_count(&self) -> Result<u64, StoreError> {
        self.run(async |pool| {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM drafts")
                .fetch_one(&mut *pool)
                .await
                .map_err(db_err)?;
            Ok(to_u64(n))
        })
    }

    /// Makes every write committed before it durable, draft writes included (which commit
    /// asynchronously): a tiny transaction that writes to the WAL and commits synchronously,
    /// which flushes the WAL up to its own commit, so over every earlier commit of any session.
    /// The record is a logical decoding message, which no table keeps; any role may write it.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.run(async |pool| {
            sqlx::query("SELECT pg_logical_emit_message(true, 'lotse', 'flush')")
                .execute(&mut *pool)
                .await
                .map_err(db_err)?;
            Ok(())
        })
    }

    /// Flushes (see [`PgStore::flush`]) and closes the pool's connections. Other clones keep
    /// working until they are dropped.
    pub fn close(self) -> Result<bool, StoreError> {
        // Best effort: a node stopping while the database is away must still stop, and the
        // database flushes the last draft writes itself unless it crashes too.
        let _ = self.flush();
        if let (Some(rt), Some(pool)) = (&self.inner.runtime, &self.inner.pool) {
            block_on(rt.handle(), pool.close());
        }
        Ok(true)
    }
}

fn decode_submission(row: &PgRow) -> Result<Submission, StoreError> {
    let id: Vec<u8> = row.try_get("id").map_err(db_err)?;
    decode_parts(SUBMISSIONS, &hex(&id), version(row)?, &record_text(row)?)
}

impl crate::Backend for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn draft_calls_block(&self) -> bool {
        // Every draft read or save is a round trip to the database.
        true
    }

    fn archive_idle_drafts(&self, _before: time::OffsetDateTime) -> Result<u64, StoreError> {
        // One table with its own indexes: nothing to move.
        Ok(0)
    }

    fn attempt_limiter(
        &self,
        policy: crate::LimitPolicy,
    ) -> Box<dyn crate::AttemptLimiter + Send + Sync> {
        // A table, so that all nodes count together.
        Box::new(PgResumeLimiter::with_policy(self.clone(), policy))
    }

    fn export_to(
        &self,
        mut out: &mut dyn std::io::Write,
        progress: &mut dyn FnMut(crate::Progress),
    ) -> Result<u64, StoreError> {
        self.export_jsonl(&mut out, progress)
    }

    fn import_from(
        &self,
        mut input: &mut dyn std::io::BufRead,
        progress: &mut dyn FnMut(crate::Progress),
    ) -> Result<u64, StoreError> {
        self.import_jsonl(&mut input, progress)
    }

    fn flush(&self) -> Result<(), StoreError> {
        PgStore::flush(self)
    }

    fn close(self: Box<Self>) -> Result<bool, StoreError> {
        PgStore::close(*self)
    }

    fn clone_backend(&self) -> Box<dyn crate::Backend> {
        Box::new(self.clone())
    }
}
