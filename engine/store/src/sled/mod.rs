//! The sled backend ([`SledStore`]): one tree per record kind plus index trees; every JSON record
//! is wrapped in the format envelope. One module per store trait; key layouts (shared with the
//! PostgreSQL backend's export) are in `crate::keys`, the export codec in `crate::codec`.
//! Must not depend on the PostgreSQL backend.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sled::Tree;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use crate::envelope::{decode, encode};
use crate::error::{StoreError, show_key};
use crate::group_commit::GroupCommit;
use crate::keys::{
    ACCOUNT_LOGINS, ACCOUNTS, API_TOKENS, AUDIT, COUNTERS, DRAFT_CODES, DRAFT_EXPIRY, DRAFTS,
    IDEMPOTENCY, MESSAGES, NOTES, OUTBOX, PAYMENT_KEYS, PAYMENTS, SECRETS, SESSIONS, STATUS,
    SUBMISSION_REFS, SUBMISSIONS, TREES, VISIT_DAYS, VISITS, read_u64,
};
use crate::model::Submission;
use crate::{AttemptLimiter, Backend, LimitPolicy, Progress, ResumeLimiter};
use blobs::blob_root;

mod accounts;
mod attachments;
mod audit;
mod blobs;
mod cases;
mod drafts;
mod export;
mod login;
mod outbox;
mod payments;
mod postkorb;
mod secrets;
mod status;
mod submissions;
#[cfg(test)]
mod tests;
mod visits;

/// The layout version of the whole store (tree set and key layouts). 2: no `draft_expiry` tree;
/// new drafts have no `draft_codes` entry (their id starts with their code's hash). 3: drafts
/// in the idle tree may be packed (`envelope::pack`). 4: the Postkorb index has its secondary
/// entries and counters (`postkorb_index`, `postkorb_counts`) and the `notes` tree exists; the
/// index of an older store is rebuilt on its first open. 5: the search entries carry the
/// status byte (rebuilt likewise). 6: the audit log has its index by submission
/// (`audit_index`), built from the log on an older store's first open.
const STORE_FORMAT: u32 = 6;

/// New drafts and drafts edited in the last hour or so: a small tree, so the drafts citizens
/// are working on cost what they cost in a small store. Exported and imported as `drafts`.
const DRAFTS_RECENT: &str = "drafts_recent";
/// Not exported: derived from submissions and status, rebuilt when empty.
const POSTKORB: &str = "postkorb";
/// Not exported: the Postkorb's secondary entries (status, service, assignee, follow-up date,
/// search terms), derived like `postkorb`.
const POSTKORB_INDEX: &str = "postkorb_index";
/// Not exported: submissions per tenant, status, service and assignee, derived like `postkorb`.
const POSTKORB_COUNTS: &str = "postkorb_counts";
/// Not exported: the audit entries of each submission, `submission id (16 bytes) + sequence`
/// → nothing; written with the entry, derived from the log on import and on the first open of
/// a store of format 5 or older.
const AUDIT_INDEX: &str = "audit_index";

const META_STORE_FORMAT: &[u8] = b"store_format";
const META_ID_BASE: &[u8] = b"id_base";

/// Tuning of [`SledStore::open_with`].
#[derive(Debug, Clone)]
pub struct SledOptions {
    /// sled's page cache in bytes. Default 8 MiB: sled's real memory is several times what it
    /// accounts for its cache, and it keeps a record of every page it ever loaded (about 1 KB
    /// each, spacejam/sled#1093), so with a million drafts the process stays under 200 MB only
    /// with a small cache. The drafts being worked on cost the same as with 16 or 32 MiB; reads
    /// of long-idle drafts get slower (docs/BENCHMARKS.md).
    pub cache_capacity: u64,
    /// The background flush interval: the most a draft save can lose in a crash. Default 500 ms.
    pub flush_every_ms: u64,
}

impl Default for SledOptions {
    fn default() -> Self {
        Self {
            cache_capacity: 8 * 1024 * 1024,
            flush_every_ms: 500,
        }
    }
}

/// The sled store. Cheap to clone; clones share the database.
#[derive(Clone)]
pub struct SledStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: sled::Db,
    /// The directory and options, to reopen the database in [`SledStore::close`].
    path: std::path::PathBuf,
    options: SledOptions,
    meta: Tree,
    drafts: Tree,
    recent: Tree,
    draft_codes: Tree,
    submissions: Tree,
    submission_refs: Tree,
    counters: Tree,
    idempotency: Tree,
    status: Tree,
    messages: Tree,
    audit: Tree,
    audit_index: Tree,
    outbox: Tree,
    accounts: Tree,
    account_logins: Tree,
    api_tokens: Tree,
    sessions: Tree,
    postkorb: Tree,
    postkorb_index: Tree,
    postkorb_counts: Tree,
    notes: Tree,
    secrets: Tree,
    visits: Tree,
    citizen_login: Tree,
    citizen_links: Tree,
    visit_days: Tree,
    /// Serializes holds, confirmations and cancellations: they count an office's day.
    visit_lock: Mutex<()>,
    payments: Tree,
    payment_keys: Tree,
    /// Where blobs are kept as files: the folder that holds the store's directory (the data
    /// folder), `receipts/<id>.pdf` for receipts.
    blob_root: std::path::PathBuf,
    /// Added to sled's generated ids, so ids stay above those of imported records.
    id_base: AtomicU64,
    group: GroupCommit,
    /// Serializes submit transactions: they all touch the tenant's counter, and sled resolves
    /// conflicts by retrying (spinning), which costs more than waiting.
    submit_lock: Mutex<()>,
    /// Serializes the expiry sweep and the archive pass: the sweep takes an idle copy beside a
    /// recent one for the leftover of an interrupted move, which it must not do while the
    /// archive pass is between its two steps.
    draft_housekeeping: Mutex<()>,
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore").finish_non_exhaustive()
    }
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

fn tx_err(e: StoreError) -> ConflictableTransactionError<StoreError> {
    ConflictableTransactionError::Abort(e)
}

fn sled_config(path: &Path, options: &SledOptions) -> sled::Config {
    sled::Config::new()
        .path(path)
        .cache_capacity(options.cache_capacity)
        .flush_every_ms(Some(options.flush_every_ms.max(1)))
}

impl SledStore {
    /// Opens (or creates) the store in directory `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, &SledOptions::default())
    }

    /// Opens (or creates) the store in directory `path`.
    pub fn open_with(path: impl AsRef<Path>, options: &SledOptions) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let db = open_waiting(&path, options)?;
        let meta = db.open_tree("meta")?;
        let format = match meta.get(META_STORE_FORMAT)? {
            Some(bytes) => decode::<u32>("meta", META_STORE_FORMAT, &bytes)?,
            None => {
                meta.insert(
                    META_STORE_FORMAT,
                    encode("meta", META_STORE_FORMAT, &STORE_FORMAT)?,
                )?;
                STORE_FORMAT
            }
        };
        if format > STORE_FORMAT {
            return Err(StoreError::NewerFormat {
                tree: "meta",
                key: show_key(META_STORE_FORMAT),
                found: format,
                supported: STORE_FORMAT,
            });
        }
        if format < 2 {
            // Format 1 kept an expiry index; the sweep reads the drafts now. Dropping the tree
            // first makes a crash in between harmless: the next open drops nothing and moves on.
            db.drop_tree(DRAFT_EXPIRY)?;
        }
        // Format 3 packs idle drafts; the unpacked ones of format 2 stay valid as they are.
        // The number goes up (below, after the Postkorb index of format 4 is built) so that
        // an older Lotse refuses the store instead of failing on its first packed draft.
        let id_base = match meta.get(META_ID_BASE)? {
            Some(bytes) => read_u64("meta", META_ID_BASE, &bytes)?,
            None => 0,
        };
        let inner = Inner {
            drafts: db.open_tree(DRAFTS)?,
            recent: db.open_tree(DRAFTS_RECENT)?,
            draft_codes: db.open_tree(DRAFT_CODES)?,
            submissions: db.open_tree(SUBMISSIONS)?,
            submission_refs: db.open_tree(SUBMISSION_REFS)?,
            counters: db.open_tree(COUNTERS)?,
            idempotency: db.open_tree(IDEMPOTENCY)?,
            status: db.open_tree(STATUS)?,
            messages: db.open_tree(MESSAGES)?,
            audit: db.open_tree(AUDIT)?,
            audit_index: db.open_tree(AUDIT_INDEX)?,
            outbox: db.open_tree(OUTBOX)?,
            accounts: db.open_tree(ACCOUNTS)?,
            account_logins: db.open_tree(ACCOUNT_LOGINS)?,
            api_tokens: db.open_tree(API_TOKENS)?,
            sessions: db.open_tree(SESSIONS)?,
            secrets: db.open_tree(SECRETS)?,
            payments: db.open_tree(PAYMENTS)?,
            payment_keys: db.open_tree(PAYMENT_KEYS)?,
            blob_root: blob_root(&path),
            postkorb: db.open_tree(POSTKORB)?,
            postkorb_index: db.open_tree(POSTKORB_INDEX)?,
            postkorb_counts: db.open_tree(POSTKORB_COUNTS)?,
            notes: db.open_tree(NOTES)?,
            visits: db.open_tree(VISITS)?,
            citizen_login: db.open_tree(crate::keys::CITIZEN_LOGIN)?,
            citizen_links: db.open_tree(crate::keys::CITIZEN_LINKS)?,
            visit_days: db.open_tree(VISIT_DAYS)?,
            visit_lock: Mutex::new(()),
            meta,
            db,
            path,
            options: options.clone(),
            id_base: AtomicU64::new(id_base),
            group: GroupCommit::default(),
            submit_lock: Mutex::new(()),
            draft_housekeeping: Mutex::new(()),
        };
        let store = Self {
            inner: Arc::new(inner),
        };
        // Stores written before the Postkorb index (or its format 4 entries) existed get it
        // now. The format is marked only after the rebuild, so a crash repeats it.
        if (format < 5 || store.inner.postkorb.is_empty()) && !store.inner.submissions.is_empty() {
            store.rebuild_postkorb()?;
        }
        if format < 6 {
            store.rebuild_audit_index()?;
        }
        if format < STORE_FORMAT {
            store.inner.meta.insert(
                META_STORE_FORMAT,
                encode("meta", META_STORE_FORMAT, &STORE_FORMAT)?,
            )?;
            store.inner.db.flush()?;
        }
        Ok(store)
    }

    /// Closes the store and leaves a fresh sled snapshot behind, so that the next open does
    /// not replay the log written since the last open (docs/store.md, "Open time and `close`").
    ///
    /// sled 0.34 writes its snapshot only while opening a database, after replaying the log
    /// (`Config::snapshot_after_ops` is a no-op in 0.34). `close` therefore flushes, closes the
    /// database, opens it once more (paying the replay now, at shutdown, instead of at the next
    /// start) and closes it again. Blocking: the replay took 1–2 s after a million writes.
    ///
    /// Returns `Ok(false)` without the snapshot step if other clones of this store are still
    /// alive or the reopen failed (the data is flushed either way), `Ok(true)` when the snapshot
    /// was written.
    pub fn close(self) -> Result<bool, StoreError> {
        self.flush()?;
        let inner = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner,
            Err(_) => return Ok(false),
        };
        let (path, options) = (inner.path.clone(), inner.options.clone());
        // Drops every tree and the Db: the file lock is free again, once sled's own flusher
        // thread has let go of its handle, which may take a moment on a busy machine.
        drop(inner);
        // Everything is flushed already: the reopen only moves the log replay from the next
        // start to now. If it cannot happen (the lock is still held on a very busy machine),
        // the store is closed all the same and the next start replays the log.
        match open_waiting(&path, &options) {
            Ok(db) => {
                db.flush()?;
                drop(db);
                Ok(true)
            }
            Err(_) => Ok(false),
        }
    }

    /// Makes everything written so far durable. Concurrent callers share one fsync.
    /// Blocking: call it from a blocking thread.
    pub fn flush(&self) -> Result<(), StoreError> {
        let db = &self.inner.db;
        self.inner
            .group
            .wait_durable(|| db.flush().map(|_| ()).map_err(StoreError::from))
    }

    /// How many durable writes (submissions, status changes, ...) waited for a flush so far.
    pub fn commit_count(&self) -> u64 {
        self.inner.group.counts().0
    }

    /// How many flushes (fsyncs) group commit ran so far; `commit_count() / flush_count()` is
    /// the number of writes that shared one fsync.
    pub fn flush_count(&self) -> u64 {
        self.inner.group.counts().1
    }

    /// Bytes the database takes on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.inner.db.size_on_disk()?)
    }

    /// How many drafts are stored (walks the tree: O(n)).
    pub fn draft_count(&self) -> usize {
        self.inner.drafts.len() + self.inner.recent.len()
    }

    fn tree(&self, name: &str) -> Option<&Tree> {
        let i = &self.inner;
        Some(match name {
            DRAFTS => &i.drafts,
            DRAFT_CODES => &i.draft_codes,
            SUBMISSIONS => &i.submissions,
            SUBMISSION_REFS => &i.submission_refs,
            COUNTERS => &i.counters,
            IDEMPOTENCY => &i.idempotency,
            STATUS => &i.status,
            MESSAGES => &i.messages,
            NOTES => &i.notes,
            AUDIT => &i.audit,
            OUTBOX => &i.outbox,
            ACCOUNTS => &i.accounts,
            ACCOUNT_LOGINS => &i.account_logins,
            API_TOKENS => &i.api_tokens,
            SECRETS => &i.secrets,
            PAYMENTS => &i.payments,
            PAYMENT_KEYS => &i.payment_keys,
            VISITS => &i.visits,
            _ => return None,
        })
    }

    /// Sequence numbers of audit entries, messages and outbox entries: unique, ascending,
    /// starting at 1 (so "after 0" means "from the start").
    fn next_id(&self) -> Result<u64, StoreError> {
        Ok(self.inner.id_base.load(Ordering::Acquire) + self.inner.db.generate_id()? + 1)
    }

    fn next_id_tx(&self, tx: &TransactionalTree) -> TxResult<u64> {
        Ok(self.inner.id_base.load(Ordering::Acquire) + tx.generate_id()? + 1)
    }

    fn get_submission(&self, id: &[u8]) -> Result<Option<Submission>, StoreError> {
        match self.inner.submissions.get(id)? {
            Some(bytes) => decode(SUBMISSIONS, id, &bytes).map(Some),
            None => Ok(None),
        }
    }

    fn is_empty(&self) -> bool {
        self.inner.recent.is_empty()
            && TREES
                .iter()
                .filter(|(name, _)| *name != SECRETS)
                .all(|(name, _)| self.tree(name).is_none_or(Tree::is_empty))
    }
}

/// Opens the sled database, waiting up to 3 s while the file lock is still held: after a store
/// of this process was dropped, sled's flusher thread lets go of the lock only at its next tick
/// (every 500 ms, later on a busy machine). Another process holding the lock gives a clear error
/// after the wait.
fn open_waiting(path: &Path, options: &SledOptions) -> Result<sled::Db, StoreError> {
    let mut tries = 0;
    loop {
        match sled_config(path, options).open() {
            Err(sled::Error::Io(e)) if lock_is_busy(&e) => {
                if tries == 150 {
                    return Err(StoreError::Storage(format!(
                        "the store in {} is in use by another process (is `lotse serve` running?)",
                        path.display()
                    )));
                }
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return Ok(other?),
        }
    }
}

/// Whether opening failed because another handle holds the directory's file lock: a store
/// dropped a moment ago whose flusher thread has not let go yet (or another process). sled
/// 0.34.7 reports it as `ErrorKind::Other` with the OS error in the message.
fn lock_is_busy(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::WouldBlock || e.to_string().contains("could not acquire lock")
}

#[cfg(test)]
impl SledStore {
    /// Writes raw bytes under a key, for corruption tests.
    /// A draft's bytes go to the tree that holds it (the recent one for new drafts).
    pub(crate) fn put_raw(&self, tree: &str, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        if tree == DRAFTS && !self.inner.drafts.contains_key(key)? {
            self.inner.recent.insert(key, value)?;
        } else if let Some(t) = self.tree(tree) {
            t.insert(key, value)?;
        }
        Ok(())
    }
}

/// How many clients an in-memory attempt limiter tracks at most (bounded memory).
const LIMITER_CLIENTS: usize = 100_000;

impl Backend for SledStore {
    fn backend(&self) -> &'static str {
        "sled"
    }

    fn draft_calls_block(&self) -> bool {
        false
    }

    fn archive_idle_drafts(&self, before: time::OffsetDateTime) -> Result<u64, StoreError> {
        SledStore::archive_idle_drafts(self, before)
    }

    fn attempt_limiter(&self, policy: LimitPolicy) -> Box<dyn AttemptLimiter + Send + Sync> {
        // One process: memory is where every attempt is seen.
        Box::new(ResumeLimiter::with_policy(policy, LIMITER_CLIENTS))
    }

    fn export_to(
        &self,
        mut out: &mut dyn std::io::Write,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<u64, StoreError> {
        self.export_jsonl(&mut out, progress)
    }

    fn import_from(
        &self,
        mut input: &mut dyn std::io::BufRead,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<u64, StoreError> {
        self.import_jsonl(&mut input, progress)
    }

    fn flush(&self) -> Result<(), StoreError> {
        SledStore::flush(self)
    }

    fn close(self: Box<Self>) -> Result<bool, StoreError> {
        SledStore::close(*self)
    }

    fn clone_backend(&self) -> Box<dyn Backend> {
        Box::new(self.clone())
    }
}
