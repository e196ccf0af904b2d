//! The sled backend. One tree per record kind plus index trees; every JSON record is wrapped in
//! the format envelope. Key layouts are documented in docs/store.md.

use std::borrow::Cow;
use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use sled::transaction::{ConflictableTransactionError, TransactionalTree, abort};
use sled::{IVec, Transactional, Tree};
use time::{Duration, OffsetDateTime};

use super::accounts::{Account, ApiToken, SecretHash, Session};
use super::envelope::{
    RECORD_FORMAT, decode, decode_head, encode, encode_sized, is_packed, pack, packed_expiry,
    unpack,
};
use super::error::{StoreError, show_key};
use super::group_commit::GroupCommit;
use super::ids::{AccountId, ApiTokenId};
use super::ids::{
    CODE_PREFIX_LEN, DraftId, IdempotencyKey, Reference, ResumeCode, SubmissionId, TenantId, hex,
    unhex,
};
use super::model::{
    Actor, AuditAction, AuditEntry, DeliveryState, Draft, Message, NewOutboxMessage, NewSubmission,
    OutboxMessage, Party, Status, StatusChange, Submission,
};
use super::postkorb::{PostkorbEntry, PostkorbPage, PostkorbQuery};
use super::{AccountStore, AuditStore, DraftStore, Outbox, StatusStore, SubmissionStore};

/// The version of the JSON Lines export format. 2: no `draft_expiry` lines (version 1 had them;
/// an import skips them).
pub const EXPORT_FORMAT: u32 = 2;

/// The layout version of the whole store (tree set and key layouts). 2: no `draft_expiry` tree;
/// new drafts have no `draft_codes` entry (their id starts with their code's hash). 3: drafts
/// in the idle tree may be packed (`envelope::pack`).
const STORE_FORMAT: u32 = 3;

/// Drafts not edited for an hour (moved here by [`SledStore::archive_idle_drafts`]).
const DRAFTS: &str = "drafts";
/// New drafts and drafts edited in the last hour or so: a small tree, so the drafts citizens
/// are working on cost what they cost in a small store. Exported and imported as `drafts`.
const DRAFTS_RECENT: &str = "drafts_recent";
/// Resume codes of drafts whose id does not start with the code's hash (drafts of store
/// format 1, imported ones): SHA-256 of the code → draft id.
const DRAFT_CODES: &str = "draft_codes";
/// Store format 1's expiry index; dropped when such a store opens, skipped in imports.
const DRAFT_EXPIRY: &str = "draft_expiry";
const SUBMISSIONS: &str = "submissions";
const SUBMISSION_REFS: &str = "submission_refs";
const COUNTERS: &str = "counters";
const IDEMPOTENCY: &str = "idempotency";
const STATUS: &str = "status";
const MESSAGES: &str = "messages";
const AUDIT: &str = "audit";
const OUTBOX: &str = "outbox";
const ACCOUNTS: &str = "accounts";
const ACCOUNT_LOGINS: &str = "account_logins";
const API_TOKENS: &str = "api_tokens";
/// Not exported: sessions end with a restore.
const SESSIONS: &str = "sessions";
/// Not exported: derived from submissions and status, rebuilt when empty.
const POSTKORB: &str = "postkorb";

/// Every data tree in export order, and whether its values are JSON envelopes.
const TREES: [(&str, bool); 13] = [
    (DRAFTS, true),
    (DRAFT_CODES, false),
    (SUBMISSIONS, true),
    (SUBMISSION_REFS, false),
    (COUNTERS, false),
    (IDEMPOTENCY, false),
    (STATUS, true),
    (MESSAGES, true),
    (AUDIT, true),
    (OUTBOX, true),
    (ACCOUNTS, true),
    (ACCOUNT_LOGINS, false),
    (API_TOKENS, true),
];

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

/// How far an export or import has come, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The tree being read or written.
    pub tree: &'static str,
    /// Records done so far, over all trees.
    pub records: u64,
}

const PROGRESS_EVERY: u64 = 10_000;

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
    outbox: Tree,
    accounts: Tree,
    account_logins: Tree,
    api_tokens: Tree,
    sessions: Tree,
    postkorb: Tree,
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

/// Sorts signed numbers correctly as big-endian bytes.
fn order_i64(v: i64) -> [u8; 8] {
    ((v as u64) ^ (1 << 63)).to_be_bytes()
}

fn order_i32(v: i32) -> [u8; 4] {
    ((v as u32) ^ (1 << 31)).to_be_bytes()
}

pub(crate) fn code_key(code: &ResumeCode) -> [u8; 32] {
    code.digest()
}

pub(crate) fn ref_key(tenant: &TenantId, year: i32, number: u64) -> Vec<u8> {
    let mut k = tenant.key_prefix();
    k.extend_from_slice(&order_i32(year));
    k.extend_from_slice(&number.to_be_bytes());
    k
}

pub(crate) fn counter_key(tenant: &TenantId, year: i32) -> Vec<u8> {
    let mut k = tenant.key_prefix();
    k.extend_from_slice(&order_i32(year));
    k
}

pub(crate) fn idempotency_key(tenant: &TenantId, key: &IdempotencyKey) -> Vec<u8> {
    let mut k = tenant.key_prefix();
    k.extend_from_slice(key.as_str().as_bytes());
    k
}

pub(crate) fn message_key(id: &SubmissionId, seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(24);
    k.extend_from_slice(id.as_bytes());
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// Postkorb index key: tenant, submission time (nanoseconds, sortable), submission id. The
/// list reads it backwards: newest first.
fn postkorb_key(tenant: &TenantId, submitted: OffsetDateTime, id: &SubmissionId) -> Vec<u8> {
    let mut k = tenant.key_prefix();
    k.extend_from_slice(&order_i64(nanos(submitted)));
    k.extend_from_slice(id.as_bytes());
    k
}

fn nanos(at: OffsetDateTime) -> i64 {
    at.unix_timestamp_nanos()
        .clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// The index entry: what the list shows besides time and id, which are in the key.
#[derive(serde::Serialize, Deserialize)]
struct PostkorbRecord {
    reference: Reference,
    workflow_id: String,
    workflow_version: String,
    status: Status,
    #[serde(with = "time::serde::rfc3339")]
    status_at: OffsetDateTime,
}

/// The fields filters look at: filtering decodes no more than this.
#[derive(Deserialize)]
struct PostkorbHead {
    reference: String,
    workflow_id: String,
}

/// The value: one byte with the status (its position in [`Status::ALL`]), so counting needs
/// no decoding, then the enveloped [`PostkorbRecord`].
fn postkorb_value(
    sub: &Submission,
    status: Status,
    at: OffsetDateTime,
) -> Result<Vec<u8>, StoreError> {
    let key = sub.id.as_bytes();
    let record = PostkorbRecord {
        reference: sub.reference.clone(),
        workflow_id: sub.workflow_id.clone(),
        workflow_version: sub.workflow_version.clone(),
        status,
        status_at: at,
    };
    let mut v = vec![status_byte(status)];
    v.extend_from_slice(&encode(POSTKORB, key, &record)?);
    Ok(v)
}

fn postkorb_entry(prefix: &[u8], key: &[u8], record: &[u8]) -> Result<PostkorbEntry, StoreError> {
    let bad = || StoreError::Corrupt {
        tree: POSTKORB,
        key: show_key(key),
        reason: "expected tenant, time and id".into(),
    };
    let rest = key.get(prefix.len()..).ok_or_else(bad)?;
    let (time, id) = rest.split_at_checked(8).ok_or_else(bad)?;
    let id = SubmissionId::from_key(id).ok_or_else(bad)?;
    let time = i64::from_be_bytes(time.try_into().map_err(|_| bad())?) ^ i64::MIN;
    let submitted =
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(time)).map_err(|_| bad())?;
    let r: PostkorbRecord = decode(POSTKORB, key, record)?;
    Ok(PostkorbEntry {
        id,
        reference: r.reference,
        workflow_id: r.workflow_id,
        workflow_version: r.workflow_version,
        submitted,
        status: r.status,
        status_at: r.status_at,
    })
}

fn status_byte(status: Status) -> u8 {
    Status::ALL.iter().position(|s| *s == status).unwrap_or(0) as u8
}

fn read_u64(tree: &'static str, key: &[u8], bytes: &[u8]) -> Result<u64, StoreError> {
    bytes
        .try_into()
        .map(u64::from_be_bytes)
        .map_err(|_| StoreError::Corrupt {
            tree,
            key: show_key(key),
            reason: "expected an 8-byte number".into(),
        })
}

/// The parts of a stored draft that a save or sweep needs, decoded without the state.
#[derive(Deserialize)]
struct DraftHead {
    tenant: TenantId,
    revision: u64,
    #[serde(with = "time::serde::rfc3339")]
    created: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    expires: OffsetDateTime,
    resume_code: ResumeCode,
}

fn draft_head(key: &[u8], bytes: &[u8]) -> Result<DraftHead, StoreError> {
    decode_head::<DraftHead, Draft>(DRAFTS, key, bytes, |d| DraftHead {
        tenant: d.tenant,
        revision: d.revision,
        created: d.created,
        updated: d.updated,
        expires: d.expires,
        resume_code: d.resume_code,
    })
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub(crate) struct StatusRecord {
    pub(crate) history: Vec<StatusChange>,
}

/// Both draft trees in key order, as one: the recent copy wins over an idle one with the same
/// key (a leftover of an interrupted move). Exports stay independent of where drafts are.
struct MergedDrafts {
    recent: std::iter::Peekable<sled::Iter>,
    idle: std::iter::Peekable<sled::Iter>,
}

impl MergedDrafts {
    fn new(recent: &Tree, idle: &Tree) -> Self {
        Self {
            recent: recent.iter().peekable(),
            idle: idle.iter().peekable(),
        }
    }
}

impl Iterator for MergedDrafts {
    type Item = sled::Result<(IVec, IVec)>;

    fn next(&mut self) -> Option<Self::Item> {
        use std::cmp::Ordering as O;
        let order = match (self.recent.peek(), self.idle.peek()) {
            (None, None) => return None,
            (Some(_), None) | (Some(Err(_)), _) => O::Less,
            (None, Some(_)) | (_, Some(Err(_))) => O::Greater,
            (Some(Ok((r, _))), Some(Ok((i, _)))) => r.cmp(i),
        };
        match order {
            O::Less => self.recent.next(),
            O::Greater => self.idle.next(),
            O::Equal => {
                self.idle.next();
                self.recent.next()
            }
        }
    }
}

#[derive(Deserialize)]
struct ImportLine<'a> {
    tree: String,
    key: String,
    #[serde(borrow)]
    value: Option<&'a RawValue>,
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
        // The number goes up so that an older Lotse refuses the store instead of failing on
        // its first packed draft.
        if format < STORE_FORMAT {
            meta.insert(
                META_STORE_FORMAT,
                encode("meta", META_STORE_FORMAT, &STORE_FORMAT)?,
            )?;
        }
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
            outbox: db.open_tree(OUTBOX)?,
            accounts: db.open_tree(ACCOUNTS)?,
            account_logins: db.open_tree(ACCOUNT_LOGINS)?,
            api_tokens: db.open_tree(API_TOKENS)?,
            sessions: db.open_tree(SESSIONS)?,
            postkorb: db.open_tree(POSTKORB)?,
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
        // Stores written before the Postkorb index existed get it now.
        if store.inner.postkorb.is_empty() && !store.inner.submissions.is_empty() {
            store.rebuild_postkorb()?;
        }
        Ok(store)
    }

    /// Builds the Postkorb index from the submissions and their status (after an import, or on
    /// the first open of a store that predates the index).
    fn rebuild_postkorb(&self) -> Result<(), StoreError> {
        let i = &self.inner;
        i.postkorb.clear()?;
        for item in i.submissions.iter() {
            let (key, bytes) = item?;
            // An unreadable submission stays out of the list; it is still exported.
            let Ok(sub) = decode::<Submission>(SUBMISSIONS, &key, &bytes) else {
                continue;
            };
            let last = match i.status.get(&key)? {
                Some(b) => decode::<StatusRecord>(STATUS, &key, &b)?
                    .history
                    .last()
                    .cloned(),
                None => None,
            };
            let (status, at) =
                last.map_or((Status::Eingegangen, sub.submitted), |c| (c.status, c.at));
            i.postkorb.insert(
                postkorb_key(&sub.tenant, sub.submitted, &sub.id),
                postkorb_value(&sub, status, at)?,
            )?;
        }
        Ok(())
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
            AUDIT => &i.audit,
            OUTBOX => &i.outbox,
            ACCOUNTS => &i.accounts,
            ACCOUNT_LOGINS => &i.account_logins,
            API_TOKENS => &i.api_tokens,
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
                .all(|(name, _)| self.tree(name).is_none_or(Tree::is_empty))
    }

    /// Writes every record as JSON Lines: a header line, one line per record
    /// (`{"tree":..,"key":<hex>,"value":<record>}`, or `"raw":<hex>` for binary values and for
    /// records that are not valid JSON, so nothing is lost), and a trailer with the count.
    /// Streams tree by tree in key order: memory stays constant. Calls `progress` every
    /// 10,000 records and at the end. Returns the number of records.
    ///
    /// Writes are not paused: records written during the export may or may not appear.
    pub fn export_jsonl(
        &self,
        out: &mut impl Write,
        mut progress: impl FnMut(Progress),
    ) -> Result<u64, StoreError> {
        writeln!(
            out,
            "{{\"lotse_export\":{EXPORT_FORMAT},\"record_format\":{RECORD_FORMAT}}}"
        )
        .map_err(StoreError::Stream)?;
        let mut records = 0u64;
        for (name, json) in TREES {
            let Some(tree) = self.tree(name) else {
                continue;
            };
            let records_of: Box<dyn Iterator<Item = sled::Result<(IVec, IVec)>>> = if name == DRAFTS
            {
                Box::new(MergedDrafts::new(&self.inner.recent, tree))
            } else {
                Box::new(tree.iter())
            };
            for item in records_of {
                let (key, value) = item?;
                // Idle drafts are packed in the store, never in an export. One that does not
                // inflate goes out as it is, as "raw", so nothing is lost.
                let value = if name == DRAFTS {
                    unpack(DRAFTS, &key, &value).unwrap_or(Cow::Borrowed(&value[..]))
                } else {
                    Cow::Borrowed(&value[..])
                };
                write!(out, "{{\"tree\":\"{name}\",\"key\":\"{}\",", hex(&key))
                    .map_err(StoreError::Stream)?;
                let embeddable = json
                    && !value.contains(&b'\n')
                    && serde_json::from_slice::<IgnoredAny>(&value).is_ok();
                if embeddable {
                    out.write_all(b"\"value\":").map_err(StoreError::Stream)?;
                    out.write_all(&value).map_err(StoreError::Stream)?;
                    out.write_all(b"}\n").map_err(StoreError::Stream)?;
                } else {
                    writeln!(out, "\"raw\":\"{}\"}}", hex(&value)).map_err(StoreError::Stream)?;
                }
                records += 1;
                if records.is_multiple_of(PROGRESS_EVERY) {
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

    /// Reads an export of [`SledStore::export_jsonl`] into this store, which must be empty
    /// (`ImportIntoNonEmpty` otherwise). Streams line by line; flushes at the end. A file
    /// without its trailer line is refused as truncated. On an error the store holds a part of
    /// the records: import into a fresh directory and delete it after a failure.
    pub fn import_jsonl(
        &self,
        input: &mut impl BufRead,
        mut progress: impl FnMut(Progress),
    ) -> Result<u64, StoreError> {
        if !self.is_empty() {
            return Err(StoreError::ImportIntoNonEmpty);
        }
        let mut line = String::new();
        let mut line_no = 0u64;
        let bad = |line: u64, reason: String| StoreError::ImportFormat { line, reason };

        line_no += 1;
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

        let mut records = 0u64;
        let mut max_id = 0u64;
        let mut batch = sled::Batch::default();
        let mut batch_len = 0usize;
        let mut batch_tree: Option<&'static str> = None;
        let mut ended = false;
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
            let Some(&(name, _)) = TREES.iter().find(|(n, _)| *n == rec.tree) else {
                if header.lotse_export == 1 && rec.tree == DRAFT_EXPIRY {
                    // Format 1's expiry index: the sweep reads the drafts now.
                    records += 1;
                    continue;
                }
                return Err(bad(line_no, format!("unknown tree {:?}", rec.tree)));
            };
            let key = unhex(&rec.key).ok_or_else(|| bad(line_no, "key is not hex".into()))?;
            let value: Vec<u8> = match (rec.value, rec.raw) {
                (Some(v), None) => v.get().as_bytes().to_vec(),
                (None, Some(raw)) => {
                    unhex(&raw).ok_or_else(|| bad(line_no, "raw value is not hex".into()))?
                }
                _ => return Err(bad(line_no, "expected exactly one of value, raw".into())),
            };
            // Generated ids end the keys of these trees; new ones must stay above them.
            if matches!(name, MESSAGES | AUDIT | OUTBOX) && key.len() >= 8 {
                let tail = read_u64(name, &key, &key[key.len() - 8..])?;
                max_id = max_id.max(tail);
            }
            if batch_tree != Some(name) || batch_len >= 10_000 {
                if let Some(prev) = batch_tree.and_then(|t| self.tree(t)) {
                    prev.apply_batch(std::mem::take(&mut batch))?;
                }
                batch_tree = Some(name);
                batch_len = 0;
            }
            batch.insert(key, value);
            batch_len += 1;
            records += 1;
            if records.is_multiple_of(PROGRESS_EVERY) {
                progress(Progress {
                    tree: name,
                    records,
                });
            }
        }
        if let Some(prev) = batch_tree.and_then(|t| self.tree(t)) {
            prev.apply_batch(batch)?;
        }
        if !ended {
            return Err(bad(
                line_no,
                "no trailer line: the export is truncated".into(),
            ));
        }
        let base = max_id;
        self.inner.meta.insert(META_ID_BASE, &base.to_be_bytes())?;
        self.inner.id_base.store(base, Ordering::Release);
        self.rebuild_postkorb()?;
        self.flush()?;
        progress(Progress {
            tree: batch_tree.unwrap_or(DRAFTS),
            records,
        });
        Ok(records)
    }

    fn audit_tx(
        &self,
        tx: &TransactionalTree,
        at: OffsetDateTime,
        actor: Actor,
        tenant: Option<&TenantId>,
        action: AuditAction,
    ) -> TxResult<u64> {
        let seq = self.next_id_tx(tx)?;
        let key = seq.to_be_bytes();
        let entry = AuditEntry {
            seq,
            at,
            actor,
            tenant: tenant.map(|t| t.slug().to_owned()),
            action,
        };
        tx.insert(&key, encode(AUDIT, &key, &entry).map_err(tx_err)?)?;
        Ok(seq)
    }

    fn update_outbox(
        &self,
        id: u64,
        change: impl Fn(&mut OutboxMessage),
    ) -> Result<(), StoreError> {
        let key = id.to_be_bytes();
        loop {
            let Some(old) = self.inner.outbox.get(key)? else {
                return Err(StoreError::NotFound {
                    what: "outbox message",
                    key: id.to_string(),
                });
            };
            let mut msg: OutboxMessage = decode(OUTBOX, &key, &old)?;
            change(&mut msg);
            let new = encode(OUTBOX, &key, &msg)?;
            if self
                .inner
                .outbox
                .compare_and_swap(key, Some(old), Some(new))?
                .is_ok()
            {
                return Ok(());
            }
        }
    }
}

impl SledStore {
    /// A draft's record and whether it is in the recent tree. Looks in the recent tree, then
    /// in the idle one, then once more in the recent tree: a save that moves a draft back
    /// writes the recent copy before it removes the idle one, and the archive pass writes the
    /// idle copy before it removes the recent one, so a draft is always found in one of the
    /// three reads.
    fn draft_record(&self, key: &[u8]) -> Result<Option<(bool, IVec)>, StoreError> {
        let i = &self.inner;
        if let Some(bytes) = i.recent.get(key)? {
            return Ok(Some((true, bytes)));
        }
        if let Some(bytes) = i.drafts.get(key)? {
            return Ok(Some((false, bytes)));
        }
        Ok(i.recent.get(key)?.map(|bytes| (true, bytes)))
    }

    /// Moves drafts not edited since `before` from the recent tree to the idle one, packed
    /// (`envelope::pack`: deflated, with the expiry in front), and returns how many. Keeps the recent tree small, so the drafts citizens are working on cost what
    /// they cost in a small store (docs/store.md, "Recent and idle drafts"). The server runs
    /// it in its housekeeping with `before` an hour ago.
    pub fn archive_idle_drafts(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let i = &self.inner;
        let _serial = i
            .draft_housekeeping
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut moved = 0u64;
        for item in i.recent.iter() {
            let (key, bytes) = item?;
            // An unreadable draft stays where it is, for an operator to look at.
            let Ok(head) = draft_head(&key, &bytes) else {
                continue;
            };
            if head.updated >= before {
                continue;
            }
            // Packed: idle drafts take less memory and disk, and the sweep reads their expiry
            // without inflating them.
            let idle: IVec = if is_packed(&bytes) {
                bytes.clone()
            } else {
                pack(&bytes, head.expires.unix_timestamp()).into()
            };
            // The idle copy first: a crash in between leaves two copies, and the recent one
            // wins everywhere (reads, saves, export, sweep).
            i.drafts.insert(&key, idle.clone())?;
            if i.recent
                .compare_and_swap(&key, Some(&bytes), None::<IVec>)?
                .is_ok()
            {
                moved += 1;
            } else {
                // Saved in the meantime: it stays recent; drop the copy unless it changed.
                let _ = i.drafts.compare_and_swap(&key, Some(idle), None::<IVec>)?;
            }
        }
        Ok(moved)
    }

    /// How many drafts are in the recent tree (walks it).
    pub fn recent_draft_count(&self) -> usize {
        self.inner.recent.len()
    }
}

impl DraftStore for SledStore {
    fn create_draft(&self, draft: &Draft) -> Result<(), StoreError> {
        let i = &self.inner;
        let key = draft.id.as_bytes();
        let exists = || StoreError::AlreadyExists {
            what: "draft",
            key: draft.id.to_string(),
        };
        if i.drafts.contains_key(key)? {
            return Err(exists());
        }
        let bytes = encode(DRAFTS, key, draft)?;
        // A draft made by `Draft::new` is found by its code through its own key: one record.
        // Any other id gets a code index entry, a hint checked against the draft, so it goes
        // first and needs no transaction: a crash before the draft leaves only a stale hint.
        if !draft.id.carries_code(&draft.resume_code) {
            i.draft_codes.insert(code_key(&draft.resume_code), key)?;
        }
        match i.recent.compare_and_swap(key, None::<&[u8]>, Some(bytes))? {
            Ok(()) => Ok(()),
            Err(_) => Err(exists()),
        }
    }

    fn draft(&self, id: &DraftId) -> Result<Option<Draft>, StoreError> {
        let key = id.as_bytes();
        match self.draft_record(key)? {
            Some((_, bytes)) => decode(DRAFTS, key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    fn draft_by_resume_code(&self, code: &ResumeCode) -> Result<Option<Draft>, StoreError> {
        let i = &self.inner;
        let digest = code.digest();
        // Drafts whose id starts with the code's hash prefix: usually exactly one, another
        // draft only once in 2^32 per stored draft. The draft itself must carry the code.
        for (recent, tree) in [(true, &i.recent), (false, &i.drafts)] {
            for item in tree.scan_prefix(&digest[..CODE_PREFIX_LEN]) {
                let (key, bytes) = item?;
                // An unreadable neighbour must not hide the draft asked for.
                if draft_head(&key, &bytes).is_ok_and(|head| &head.resume_code == code) {
                    if recent {
                        return decode(DRAFTS, &key, &bytes).map(Some);
                    }
                    // The idle copy may be an older duplicate of a recent one.
                    return match self.draft_record(&key)? {
                        Some((_, bytes)) => decode(DRAFTS, &key, &bytes).map(Some),
                        None => Ok(None),
                    };
                }
            }
        }
        // Drafts of store format 1 and imported ones with other ids: the code index.
        let Some(id) = i.draft_codes.get(digest)? else {
            return Ok(None);
        };
        let Some(id) = DraftId::from_key(&id) else {
            return Err(StoreError::Corrupt {
                tree: DRAFT_CODES,
                key: "(resume code)".into(),
                reason: "expected a 16-byte draft id".into(),
            });
        };
        Ok(self.draft(&id)?.filter(|d| &d.resume_code == code))
    }

    fn save_draft(&self, mut draft: Draft, expected_revision: u64) -> Result<Draft, StoreError> {
        let i = &self.inner;
        let key = *draft.id.as_bytes();
        let not_found = |id: &DraftId| StoreError::NotFound {
            what: "draft",
            key: id.to_string(),
        };
        // More than one round only if the archive pass moved the draft in between.
        for _ in 0..4 {
            let Some((recent, current)) = self.draft_record(&key)? else {
                return Err(not_found(&draft.id));
            };
            let head = draft_head(&key, &current)?;
            if head.revision != expected_revision {
                return Err(StoreError::Conflict {
                    current: Box::new(decode(DRAFTS, &key, &current)?),
                    expected: expected_revision,
                });
            }
            draft.tenant = head.tenant;
            draft.created = head.created;
            draft.resume_code = head.resume_code;
            draft.revision = expected_revision + 1;
            let bytes = encode_sized(DRAFTS, &key, &draft, current.len() + 128)?;
            // One record in the recent tree; a draft coming back from the idle tree also
            // drops its idle copy, after the recent one is written.
            let expected = if recent { Some(&current) } else { None };
            match i.recent.compare_and_swap(key, expected, Some(bytes))? {
                Ok(()) => {
                    if !recent {
                        let _ = i
                            .drafts
                            .compare_and_swap(key, Some(current), None::<IVec>)?;
                    }
                    return Ok(draft);
                }
                Err(lost) => match lost.current {
                    Some(now_stored) => {
                        return Err(StoreError::Conflict {
                            current: Box::new(decode(DRAFTS, &key, &now_stored)?),
                            expected: expected_revision,
                        });
                    }
                    None => continue, // archived in the meantime: read it again
                },
            }
        }
        Err(StoreError::Conflict {
            current: Box::new(self.draft(&draft.id)?.ok_or_else(|| not_found(&draft.id))?),
            expected: expected_revision,
        })
    }

    fn delete_draft(&self, id: &DraftId) -> Result<bool, StoreError> {
        let i = &self.inner;
        let key = id.as_bytes();
        let recent = i.recent.remove(key)?;
        let idle = i.drafts.remove(key)?;
        let Some(current) = recent.or(idle) else {
            return Ok(false);
        };
        // The code index entry, if the draft has one, goes after the draft: a crash in between
        // leaves a stale hint, which readers check against the draft. An unreadable draft is
        // deleted all the same, and its entry (if any) becomes such a hint.
        if let Ok(head) = draft_head(key, &current)
            && !id.carries_code(&head.resume_code)
        {
            i.draft_codes.remove(code_key(&head.resume_code))?;
        }
        Ok(true)
    }

    fn sweep_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let i = &self.inner;
        let _serial = i
            .draft_housekeeping
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut count = 0u64;
        // Reads every draft's head (not its answers). With a million drafts this takes a few
        // seconds (docs/BENCHMARKS.md); it runs in the background every maintenance interval.
        for (recent, tree) in [(true, &i.recent), (false, &i.drafts)] {
            for item in tree.iter() {
                let (key, current) = item?;
                // An idle copy beside a recent one is a leftover of an interrupted move (the
                // archive pass, which makes such pairs for a moment, waits for the sweep).
                let leftover = !recent && i.recent.contains_key(&key)?;
                // A packed idle draft says when it expires in front: most are skipped without
                // inflating them. (The seconds are rounded down, so "after now" is certain.)
                if !leftover && packed_expiry(&current).is_some_and(|s| s > now.unix_timestamp()) {
                    continue;
                }
                // An unreadable draft stays for an operator to look at.
                let Ok(head) = draft_head(&key, &current) else {
                    continue;
                };
                if head.expires > now && !leftover {
                    continue;
                }
                // Only if nobody saved it in the meantime: a save extends the expiry.
                let deleted = tree
                    .compare_and_swap(&key, Some(current), None::<IVec>)?
                    .is_ok();
                if deleted && !leftover {
                    if recent {
                        // With the idle copy an interrupted move may have left, so that it is
                        // not counted a second time below.
                        i.drafts.remove(&key)?;
                    }
                    if DraftId::from_key(&key).is_none_or(|id| !id.carries_code(&head.resume_code))
                    {
                        i.draft_codes.remove(code_key(&head.resume_code))?;
                    }
                    count += 1;
                }
            }
        }
        if count > 0 {
            self.append_audit(
                now,
                Actor::System,
                None,
                AuditAction::DraftsExpired { count },
            )?;
        }
        Ok(count)
    }
}

enum Submitted {
    New(Submission),
    Existing(Submission),
}

impl SubmissionStore for SledStore {
    fn submit(&self, new: NewSubmission, now: OffsetDateTime) -> Result<Submission, StoreError> {
        let i = &self.inner;
        let year = now.year();
        let idem_key = idempotency_key(&new.tenant, &new.idempotency_key);
        let ctr_key = counter_key(&new.tenant, year);
        let sub_key = *new.id.as_bytes();
        let serial = i.submit_lock.lock().unwrap_or_else(PoisonError::into_inner);
        let outcome = (
            &i.submissions,
            &i.submission_refs,
            &i.counters,
            &i.idempotency,
            &i.status,
            &i.audit,
            &i.outbox,
            &i.postkorb,
        )
            .transaction(
                |(subs, refs, ctrs, idem, status, audit, outbox, postkorb)| {
                    if let Some(existing) = idem.get(&idem_key)? {
                        let Some(bytes) = subs.get(&existing)? else {
                            return abort(StoreError::Corrupt {
                                tree: IDEMPOTENCY,
                                key: show_key(&idem_key),
                                reason: "points to a missing submission".into(),
                            });
                        };
                        let sub = decode(SUBMISSIONS, &existing, &bytes).map_err(tx_err)?;
                        return Ok(Submitted::Existing(sub));
                    }
                    if subs.get(sub_key)?.is_some() {
                        return abort(StoreError::AlreadyExists {
                            what: "submission",
                            key: new.id.to_string(),
                        });
                    }
                    let number = match ctrs.get(&ctr_key)? {
                        Some(b) => read_u64(COUNTERS, &ctr_key, &b).map_err(tx_err)? + 1,
                        None => 1,
                    };
                    ctrs.insert(ctr_key.as_slice(), &number.to_be_bytes())?;
                    let reference = Reference::new(new.tenant.reference_prefix(), year, number);
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
                    subs.insert(
                        &sub_key,
                        encode(SUBMISSIONS, &sub_key, &sub).map_err(tx_err)?,
                    )?;
                    refs.insert(ref_key(&new.tenant, year, number), &sub_key)?;
                    idem.insert(idem_key.as_slice(), &sub_key)?;
                    let history = StatusRecord {
                        history: vec![StatusChange {
                            status: Status::Eingegangen,
                            at: now,
                            actor: Actor::Citizen,
                            note: None,
                        }],
                    };
                    status.insert(
                        &sub_key,
                        encode(STATUS, &sub_key, &history).map_err(tx_err)?,
                    )?;
                    postkorb.insert(
                        postkorb_key(&sub.tenant, now, &sub.id),
                        postkorb_value(&sub, Status::Eingegangen, now).map_err(tx_err)?,
                    )?;
                    self.audit_tx(
                        audit,
                        now,
                        Actor::Citizen,
                        Some(&new.tenant),
                        AuditAction::SubmissionReceived {
                            submission: new.id,
                            reference,
                        },
                    )?;
                    for n in &new.notifications {
                        let id = self.next_id_tx(outbox)?;
                        let key = id.to_be_bytes();
                        let msg = new_outbox_message(id, Some(&new.tenant), n.clone(), now);
                        outbox.insert(&key, encode(OUTBOX, &key, &msg).map_err(tx_err)?)?;
                    }
                    Ok(Submitted::New(sub))
                },
            )?;
        drop(serial);
        // An existing submission may have been committed by a concurrent call that has not
        // flushed yet: wait for durability in both cases.
        self.flush()?;
        Ok(match outcome {
            Submitted::New(s) | Submitted::Existing(s) => s,
        })
    }

    fn submission(&self, id: &SubmissionId) -> Result<Option<Submission>, StoreError> {
        self.get_submission(id.as_bytes())
    }

    fn submission_by_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &IdempotencyKey,
    ) -> Result<Option<Submission>, StoreError> {
        match self.inner.idempotency.get(idempotency_key(tenant, key))? {
            Some(id) => self.get_submission(&id),
            None => Ok(None),
        }
    }

    fn submission_by_reference(
        &self,
        tenant: &TenantId,
        reference: &Reference,
    ) -> Result<Option<Submission>, StoreError> {
        if reference.prefix() != tenant.reference_prefix() {
            return Ok(None);
        }
        let key = ref_key(tenant, reference.year(), reference.number());
        match self.inner.submission_refs.get(&key)? {
            Some(id) => self.get_submission(&id),
            None => Ok(None),
        }
    }

    fn submissions(
        &self,
        tenant: &TenantId,
        after: Option<&Reference>,
        limit: usize,
    ) -> Result<Vec<Submission>, StoreError> {
        let prefix = tenant.key_prefix();
        let mut end = prefix.clone();
        end.extend_from_slice(&[0xff; 12]);
        let start = match after {
            Some(r) => {
                let mut k = ref_key(tenant, r.year(), r.number());
                k.push(0); // strictly after
                k
            }
            None => prefix,
        };
        let mut out = Vec::new();
        for item in self.inner.submission_refs.range(start..=end) {
            if out.len() >= limit {
                break;
            }
            let (_, id) = item?;
            if let Some(s) = self.get_submission(&id)? {
                out.push(s);
            }
        }
        Ok(out)
    }

    fn postkorb(
        &self,
        tenant: &TenantId,
        query: &PostkorbQuery,
    ) -> Result<PostkorbPage, StoreError> {
        let prefix = tenant.key_prefix();
        let bound = |at: Option<OffsetDateTime>, fill: u8| {
            let mut k = prefix.clone();
            match at {
                Some(at) => k.extend_from_slice(&order_i64(nanos(at))),
                None => k.extend_from_slice(&[fill; 8]),
            }
            k
        };
        // [from, until): the key's time part is compared without the id.
        let start = bound(query.from, 0x00);
        let end = bound(query.until, 0xff);
        let end = if query.until.is_some() {
            std::ops::Bound::Excluded(end)
        } else {
            let mut e = end;
            e.extend_from_slice(&[0xff; 16]);
            std::ops::Bound::Included(e)
        };
        let details = query.workflow.is_some()
            || query
                .reference
                .as_deref()
                .is_some_and(|r| !r.trim().is_empty());
        let mut page = PostkorbPage::default();
        let mut counts = [0u64; Status::ALL.len()];
        for item in self
            .inner
            .postkorb
            .range((std::ops::Bound::Included(start), end))
            .rev()
        {
            let (key, value) = item?;
            let Some((&byte, record)) = value.split_first() else {
                continue;
            };
            let status = Status::ALL.get(usize::from(byte)).copied();
            if details {
                let head =
                    decode_head::<PostkorbHead, PostkorbRecord>(POSTKORB, &key, record, |r| {
                        PostkorbHead {
                            reference: r.reference.to_string(),
                            workflow_id: r.workflow_id,
                        }
                    })?;
                if !query.matches_details(&head.workflow_id, &head.reference) {
                    continue;
                }
            }
            if let Some(slot) = counts.get_mut(usize::from(byte)) {
                *slot += 1;
            }
            if query.status.is_some() && query.status != status {
                continue;
            }
            page.total += 1;
            if page.total as usize > query.offset && page.entries.len() < query.limit {
                page.entries.push(postkorb_entry(&prefix, &key, record)?);
            }
        }
        page.counts = Status::ALL.into_iter().zip(counts).collect();
        Ok(page)
    }

    fn purge_closed(
        &self,
        tenant: &TenantId,
        older_than: Duration,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let i = &self.inner;
        let cutoff = now - older_than;
        let mut purged = 0u64;
        for item in i.submission_refs.scan_prefix(tenant.key_prefix()) {
            let (rkey, id) = item?;
            let Some(status_bytes) = i.status.get(&id)? else {
                continue;
            };
            let record: StatusRecord = decode(STATUS, &id, &status_bytes)?;
            let closed_long_ago = record
                .history
                .last()
                .is_some_and(|c| c.status.is_closed() && c.at <= cutoff);
            if !closed_long_ago {
                continue;
            }
            let Some(sub) = self.get_submission(&id)? else {
                continue;
            };
            let idem = idempotency_key(tenant, &sub.idempotency_key);
            let message_keys: Vec<IVec> = i
                .messages
                .scan_prefix(&id)
                .keys()
                .collect::<Result<_, _>>()?;
            (
                &i.submissions,
                &i.submission_refs,
                &i.idempotency,
                &i.status,
                &i.messages,
                &i.audit,
                &i.postkorb,
            )
                .transaction(
                    |(subs, refs, idems, status, msgs, audit, postkorb)| {
                        subs.remove(&id)?;
                        postkorb.remove(postkorb_key(tenant, sub.submitted, &sub.id))?;
                        refs.remove(&rkey)?;
                        idems.remove(idem.as_slice())?;
                        status.remove(&id)?;
                        for k in &message_keys {
                            msgs.remove(k)?;
                        }
                        self.audit_tx(
                            audit,
                            now,
                            Actor::System,
                            Some(tenant),
                            AuditAction::SubmissionPurged {
                                submission: sub.id,
                                reference: sub.reference.clone(),
                            },
                        )?;
                        Ok(())
                    },
                )?;
            // Messages added between the scan and the transaction; none can follow, the
            // status record is gone.
            for k in i.messages.scan_prefix(&id).keys() {
                i.messages.remove(k?)?;
            }
            purged += 1;
        }
        if purged > 0 {
            self.flush()?;
        }
        Ok(purged)
    }
}

pub(crate) fn new_outbox_message(
    id: u64,
    tenant: Option<&TenantId>,
    m: NewOutboxMessage,
    now: OffsetDateTime,
) -> OutboxMessage {
    OutboxMessage {
        id,
        tenant: tenant.cloned(),
        topic: m.topic,
        target: m.target,
        payload: m.payload,
        created: now,
        next_attempt: now,
        attempts: 0,
        last_error: None,
        state: DeliveryState::Pending,
    }
}

impl StatusStore for SledStore {
    fn status_history(&self, id: &SubmissionId) -> Result<Vec<StatusChange>, StoreError> {
        let key = id.as_bytes();
        match self.inner.status.get(key)? {
            Some(bytes) => decode::<StatusRecord>(STATUS, key, &bytes).map(|r| r.history),
            None => Err(StoreError::NotFound {
                what: "submission",
                key: id.to_string(),
            }),
        }
    }

    fn change_status(&self, id: &SubmissionId, change: StatusChange) -> Result<(), StoreError> {
        let i = &self.inner;
        let key = id.as_bytes();
        let sub = self.get_submission(key)?;
        let tenant = sub.as_ref().map(|s| s.tenant.clone());
        (&i.status, &i.audit, &i.postkorb).transaction(|(status, audit, postkorb)| {
            let Some(bytes) = status.get(key)? else {
                return abort(StoreError::NotFound {
                    what: "submission",
                    key: id.to_string(),
                });
            };
            let mut record: StatusRecord = decode(STATUS, key, &bytes).map_err(tx_err)?;
            let from = record
                .history
                .last()
                .map_or(Status::Eingegangen, |c| c.status);
            if !from.may_change_to(change.status) {
                return abort(StoreError::InvalidTransition {
                    from: from.code(),
                    to: change.status.code(),
                });
            }
            record.history.push(change.clone());
            status.insert(key, encode(STATUS, key, &record).map_err(tx_err)?)?;
            if let Some(sub) = &sub {
                postkorb.insert(
                    postkorb_key(&sub.tenant, sub.submitted, &sub.id),
                    postkorb_value(sub, change.status, change.at).map_err(tx_err)?,
                )?;
            }
            self.audit_tx(
                audit,
                change.at,
                change.actor.clone(),
                tenant.as_ref(),
                AuditAction::StatusChanged {
                    submission: *id,
                    from,
                    to: change.status,
                },
            )?;
            Ok(())
        })?;
        self.flush()
    }

    fn add_message(
        &self,
        id: &SubmissionId,
        from: Party,
        body: String,
        now: OffsetDateTime,
    ) -> Result<Message, StoreError> {
        let i = &self.inner;
        let key = id.as_bytes();
        let tenant = self.get_submission(key)?.map(|s| s.tenant);
        let actor = match &from {
            Party::Citizen => Actor::Citizen,
            Party::Office { account } => Actor::Office {
                account: account.clone(),
            },
        };
        let message = (&i.status, &i.messages, &i.audit).transaction(|(status, msgs, audit)| {
            if status.get(key)?.is_none() {
                return abort(StoreError::NotFound {
                    what: "submission",
                    key: id.to_string(),
                });
            }
            let seq = self.next_id_tx(msgs)?;
            let mkey = message_key(id, seq);
            let message = Message {
                seq,
                submission: *id,
                from: from.clone(),
                at: now,
                body: body.clone(),
            };
            msgs.insert(
                mkey.as_slice(),
                encode(MESSAGES, &mkey, &message).map_err(tx_err)?,
            )?;
            self.audit_tx(
                audit,
                now,
                actor.clone(),
                tenant.as_ref(),
                AuditAction::MessageAdded {
                    submission: *id,
                    message: seq,
                },
            )?;
            Ok(message)
        })?;
        self.flush()?;
        Ok(message)
    }

    fn messages(&self, id: &SubmissionId) -> Result<Vec<Message>, StoreError> {
        self.inner
            .messages
            .scan_prefix(id.as_bytes())
            .map(|item| {
                let (k, v) = item?;
                decode(MESSAGES, &k, &v)
            })
            .collect()
    }
}

impl AuditStore for SledStore {
    fn append_audit(
        &self,
        at: OffsetDateTime,
        actor: Actor,
        tenant: Option<&TenantId>,
        action: AuditAction,
    ) -> Result<u64, StoreError> {
        let seq = self.next_id()?;
        let key = seq.to_be_bytes();
        let entry = AuditEntry {
            seq,
            at,
            actor,
            tenant: tenant.map(|t| t.slug().to_owned()),
            action,
        };
        self.inner.audit.insert(key, encode(AUDIT, &key, &entry)?)?;
        self.flush()?;
        Ok(seq)
    }

    fn audit_log(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let start = after.saturating_add(1).to_be_bytes();
        self.inner
            .audit
            .range(start..)
            .take(limit)
            .map(|item| {
                let (k, v) = item?;
                decode(AUDIT, &k, &v)
            })
            .collect()
    }
}

impl Outbox for SledStore {
    fn enqueue(
        &self,
        tenant: Option<&TenantId>,
        message: NewOutboxMessage,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let id = self.next_id()?;
        let key = id.to_be_bytes();
        let msg = new_outbox_message(id, tenant, message, now);
        self.inner.outbox.insert(key, encode(OUTBOX, &key, &msg)?)?;
        Ok(id)
    }

    fn claim(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let mut claimed = Vec::new();
        for item in self.inner.outbox.iter() {
            if claimed.len() >= limit {
                break;
            }
            let (key, old) = item?;
            let Ok(mut msg) = decode::<OutboxMessage>(OUTBOX, &key, &old) else {
                continue; // an unreadable entry must not block the others
            };
            let due = match msg.state {
                DeliveryState::Pending => msg.next_attempt <= now,
                DeliveryState::Claimed { lease_until } => lease_until <= now,
                DeliveryState::Delivered { .. } | DeliveryState::Failed { .. } => false,
            };
            if !due {
                continue;
            }
            msg.state = DeliveryState::Claimed {
                lease_until: now + lease,
            };
            let new = encode(OUTBOX, &key, &msg)?;
            // Lost race: another worker claimed it first.
            if self
                .inner
                .outbox
                .compare_and_swap(&key, Some(old), Some(new))?
                .is_ok()
            {
                claimed.push(msg);
            }
        }
        Ok(claimed)
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
            m.last_error = Some(error.clone());
            match retry_at {
                Some(at) => {
                    m.next_attempt = at;
                    m.state = DeliveryState::Pending;
                }
                None => m.state = DeliveryState::Failed { at: now },
            }
        })
    }

    fn prune_outbox(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let mut pruned = 0;
        for item in self.inner.outbox.iter() {
            let (key, value) = item?;
            let Ok(msg) = decode::<OutboxMessage>(OUTBOX, &key, &value) else {
                continue;
            };
            let finished = match msg.state {
                DeliveryState::Delivered { at } | DeliveryState::Failed { at } => at <= before,
                DeliveryState::Pending | DeliveryState::Claimed { .. } => false,
            };
            if finished
                && self
                    .inner
                    .outbox
                    .compare_and_swap(&key, Some(value), None::<IVec>)?
                    .is_ok()
            {
                pruned += 1;
            }
        }
        Ok(pruned)
    }

    fn requeue(&self, id: u64, now: OffsetDateTime) -> Result<bool, StoreError> {
        let key = id.to_be_bytes();
        loop {
            let Some(old) = self.inner.outbox.get(key)? else {
                return Err(StoreError::NotFound {
                    what: "outbox message",
                    key: id.to_string(),
                });
            };
            let mut msg: OutboxMessage = decode(OUTBOX, &key, &old)?;
            if !matches!(msg.state, DeliveryState::Failed { .. }) {
                return Ok(false);
            }
            msg.state = DeliveryState::Pending;
            msg.next_attempt = now;
            let new = encode(OUTBOX, &key, &msg)?;
            if self
                .inner
                .outbox
                .compare_and_swap(key, Some(old), Some(new))?
                .is_ok()
            {
                return Ok(true);
            }
        }
    }

    fn tenant_outbox(
        &self,
        tenant: &TenantId,
        before: Option<u64>,
        limit: usize,
        keep: &dyn Fn(&OutboxMessage) -> bool,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let mut found = Vec::new();
        if limit == 0 {
            return Ok(found);
        }
        let range = match before {
            Some(id) => self.inner.outbox.range(..id.to_be_bytes()),
            None => self.inner.outbox.range::<&[u8], _>(..),
        };
        for item in range.rev() {
            let (key, value) = item?;
            let Ok(msg) = decode::<OutboxMessage>(OUTBOX, &key, &value) else {
                continue; // an unreadable entry must not hide the others
            };
            if msg.tenant.as_ref() == Some(tenant) && keep(&msg) {
                found.push(msg);
                if found.len() >= limit {
                    break;
                }
            }
        }
        Ok(found)
    }

    fn outbox_message(&self, id: u64) -> Result<Option<OutboxMessage>, StoreError> {
        let key = id.to_be_bytes();
        match self.inner.outbox.get(key)? {
            Some(v) => decode(OUTBOX, &key, &v).map(Some),
            None => Ok(None),
        }
    }
}

pub(crate) fn login_key(tenant: &TenantId, login: &str) -> Vec<u8> {
    let mut k = tenant.key_prefix();
    k.extend_from_slice(login.as_bytes());
    k
}

impl AccountStore for SledStore {
    fn create_account(&self, account: &Account) -> Result<(), StoreError> {
        let i = &self.inner;
        let login = Account::check_login(&account.login)?;
        let mut account = account.clone();
        account.login = login;
        let key = *account.id.as_bytes();
        let lkey = login_key(&account.tenant, &account.login);
        let bytes = encode(ACCOUNTS, &key, &account)?;
        (&i.accounts, &i.account_logins).transaction(|(accounts, logins)| {
            if logins.get(lkey.as_slice())?.is_some() {
                return abort(StoreError::AlreadyExists {
                    what: "account",
                    key: account.login.clone(),
                });
            }
            if accounts.get(key)?.is_some() {
                return abort(StoreError::AlreadyExists {
                    what: "account",
                    key: account.id.to_string(),
                });
            }
            accounts.insert(&key, bytes.as_slice())?;
            logins.insert(lkey.as_slice(), &key)?;
            Ok(())
        })?;
        self.flush()
    }

    fn account(&self, id: &AccountId) -> Result<Option<Account>, StoreError> {
        let key = id.as_bytes();
        match self.inner.accounts.get(key)? {
            Some(b) => decode(ACCOUNTS, key, &b).map(Some),
            None => Ok(None),
        }
    }

    fn account_by_login(
        &self,
        tenant: &TenantId,
        login: &str,
    ) -> Result<Option<Account>, StoreError> {
        let Ok(login) = Account::check_login(login) else {
            return Ok(None);
        };
        let Some(id) = self.inner.account_logins.get(login_key(tenant, &login))? else {
            return Ok(None);
        };
        let Some(id) = AccountId::from_key(&id) else {
            return Err(StoreError::Corrupt {
                tree: ACCOUNT_LOGINS,
                key: login,
                reason: "expected a 16-byte account id".into(),
            });
        };
        // The index is checked against the account it points to.
        Ok(self
            .account(&id)?
            .filter(|a| &a.tenant == tenant && a.login == login))
    }

    fn accounts(&self, tenant: &TenantId) -> Result<Vec<Account>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.account_logins.scan_prefix(tenant.key_prefix()) {
            let (_, id) = item?;
            if let Some(a) = AccountId::from_key(&id)
                .map(|id| self.account(&id))
                .transpose()?
                .flatten()
                .filter(|a| &a.tenant == tenant)
            {
                out.push(a);
            }
        }
        Ok(out)
    }

    fn update_account(&self, account: &Account) -> Result<(), StoreError> {
        let key = *account.id.as_bytes();
        loop {
            let Some(old) = self.inner.accounts.get(key)? else {
                return Err(StoreError::NotFound {
                    what: "account",
                    key: account.id.to_string(),
                });
            };
            let stored: Account = decode(ACCOUNTS, &key, &old)?;
            let next = Account {
                display_name: account.display_name.clone(),
                role: account.role,
                password_hash: account.password_hash.clone(),
                disabled: account.disabled,
                ..stored
            };
            let new = encode(ACCOUNTS, &key, &next)?;
            if self
                .inner
                .accounts
                .compare_and_swap(key, Some(old), Some(new))?
                .is_ok()
            {
                return self.flush();
            }
        }
    }

    fn create_session(&self, session: &Session) -> Result<(), StoreError> {
        let key = session.hash.as_bytes();
        let bytes = encode(SESSIONS, key, session)?;
        match self
            .inner
            .sessions
            .compare_and_swap(key, None::<&[u8]>, Some(bytes))?
        {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::AlreadyExists {
                what: "session",
                key: "(secret)".into(),
            }),
        }
    }

    fn session(&self, hash: &SecretHash) -> Result<Option<Session>, StoreError> {
        let key = hash.as_bytes();
        match self.inner.sessions.get(key)? {
            Some(b) => decode(SESSIONS, key, &b).map(Some),
            None => Ok(None),
        }
    }

    fn delete_session(&self, hash: &SecretHash) -> Result<bool, StoreError> {
        Ok(self.inner.sessions.remove(hash.as_bytes())?.is_some())
    }

    fn delete_sessions_of(&self, account: &AccountId) -> Result<u64, StoreError> {
        let mut n = 0;
        for item in self.inner.sessions.iter() {
            let (key, value) = item?;
            let mine =
                decode::<Session>(SESSIONS, &key, &value).is_ok_and(|s| &s.account == account);
            if mine && self.inner.sessions.remove(&key)?.is_some() {
                n += 1;
            }
        }
        if n > 0 {
            self.flush()?;
        }
        Ok(n)
    }

    fn sweep_sessions(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut n = 0;
        for item in self.inner.sessions.iter() {
            let (key, value) = item?;
            // An unreadable session can never be used: it goes too.
            let expired = decode::<Session>(SESSIONS, &key, &value)
                .ok()
                .is_none_or(|s| s.expires <= now);
            if expired && self.inner.sessions.remove(&key)?.is_some() {
                n += 1;
            }
        }
        Ok(n)
    }

    fn create_api_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        let key = token.hash.as_bytes();
        if self
            .api_tokens(&token.tenant)?
            .iter()
            .any(|t| t.id == token.id)
        {
            return Err(StoreError::AlreadyExists {
                what: "API token",
                key: token.id.to_string(),
            });
        }
        let bytes = encode(API_TOKENS, key, token)?;
        match self
            .inner
            .api_tokens
            .compare_and_swap(key, None::<&[u8]>, Some(bytes))?
        {
            Ok(()) => self.flush(),
            Err(_) => Err(StoreError::AlreadyExists {
                what: "API token",
                key: token.id.to_string(),
            }),
        }
    }

    fn api_token(&self, hash: &SecretHash) -> Result<Option<ApiToken>, StoreError> {
        let key = hash.as_bytes();
        match self.inner.api_tokens.get(key)? {
            Some(b) => decode(API_TOKENS, key, &b).map(Some),
            None => Ok(None),
        }
    }

    fn api_tokens(&self, tenant: &TenantId) -> Result<Vec<ApiToken>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.api_tokens.iter() {
            let (key, value) = item?;
            let t: ApiToken = decode(API_TOKENS, &key, &value)?;
            if &t.tenant == tenant {
                out.push(t);
            }
        }
        out.sort_by_key(|t| t.created);
        Ok(out)
    }

    fn revoke_api_token(&self, tenant: &TenantId, id: &ApiTokenId) -> Result<bool, StoreError> {
        for item in self.inner.api_tokens.iter() {
            let (key, value) = item?;
            let mut t: ApiToken = decode(API_TOKENS, &key, &value)?;
            if &t.id != id || &t.tenant != tenant {
                continue;
            }
            if t.revoked {
                return Ok(true);
            }
            t.revoked = true;
            let new = encode(API_TOKENS, &key, &t)?;
            // A concurrent revocation wins just as well.
            let _ = self
                .inner
                .api_tokens
                .compare_and_swap(&key, Some(value), Some(new))?;
            self.flush()?;
            return Ok(true);
        }
        Ok(false)
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::suite::{T0, new_draft, sled_store};
    use crate::{DEFAULT_DRAFT_TTL, DeterministicEntropy};

    #[test]
    fn a_store_in_use_by_another_handle_is_refused_with_a_clear_message() {
        let dir = tempfile::tempdir().unwrap();
        let _first = SledStore::open(dir.path()).unwrap();
        // sled's lock is per open file description, so a second open in this process meets it
        // just as another process would.
        let err = SledStore::open(dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("is in use by another process"),
            "{err}"
        );
    }

    /// A draft as store format 1 made them: a plain random id, found through `draft_codes`.
    fn old_style_draft(e: &mut DeterministicEntropy) -> Draft {
        let mut d = new_draft(e, T0);
        d.id = DraftId::generate(e).unwrap();
        assert!(!d.id.carries_code(&d.resume_code));
        d
    }

    #[test]
    fn a_new_draft_is_one_record_and_found_by_its_code() {
        let (s, _dir) = sled_store();
        let mut e = DeterministicEntropy::new(40);
        let d = new_draft(&mut e, T0);
        s.create_draft(&d).unwrap();
        let counts = (
            s.inner.recent.len(),
            s.inner.drafts.len(),
            s.inner.draft_codes.len(),
        );
        assert_eq!(counts, (1, 0, 0));
        assert_eq!(s.draft_by_resume_code(&d.resume_code).unwrap(), Some(d));
    }

    fn export(s: &SledStore) -> String {
        let mut out = Vec::new();
        s.export_jsonl(&mut out, |_| {}).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn idle_drafts_are_packed_and_the_sweep_reads_their_expiry_in_front() {
        let (s, _dir) = sled_store();
        let mut e = DeterministicEntropy::new(45);
        let d = new_draft(&mut e, T0);
        s.create_draft(&d).unwrap();
        let before = export(&s);
        let json = s.inner.recent.get(d.id.as_bytes()).unwrap().unwrap();
        assert_eq!(s.archive_idle_drafts(T0 + Duration::hours(2)).unwrap(), 1);
        let packed = s.inner.drafts.get(d.id.as_bytes()).unwrap().unwrap();
        assert!(is_packed(&packed));
        assert!(
            packed.len() < json.len(),
            "{} vs {}",
            packed.len(),
            json.len()
        );
        assert_eq!(
            packed_expiry(&packed),
            Some(d.expires.unix_timestamp()),
            "the expiry in front is the draft's"
        );
        // Exports carry the JSON, never the packed bytes; an import of it reads back the same.
        assert_eq!(export(&s), before);
        let (s2, _dir2) = sled_store();
        s2.import_jsonl(&mut before.as_bytes(), |_| {}).unwrap();
        assert_eq!(s2.draft(&d.id).unwrap(), Some(d.clone()));
        // Not expired a second before its expiry, gone a second after.
        assert_eq!(
            s.sweep_expired(d.expires - Duration::seconds(1)).unwrap(),
            0
        );
        assert_eq!(s.draft(&d.id).unwrap(), Some(d.clone()));
        assert_eq!(
            s.sweep_expired(d.expires + Duration::seconds(1)).unwrap(),
            1
        );
        assert_eq!(s.draft(&d.id).unwrap(), None);
    }

    #[test]
    fn a_damaged_packed_draft_is_named_exported_raw_and_left_by_the_sweep() {
        let (s, _dir) = sled_store();
        let mut e = DeterministicEntropy::new(46);
        let d = new_draft(&mut e, T0);
        s.create_draft(&d).unwrap();
        s.archive_idle_drafts(T0 + Duration::hours(2)).unwrap();
        let key = d.id.as_bytes();
        let mut damaged = s.inner.drafts.get(key).unwrap().unwrap().to_vec();
        let n = damaged.len();
        damaged.truncate(n - 8);
        s.inner.drafts.insert(key, damaged.clone()).unwrap();
        let err = s.draft(&d.id).unwrap_err();
        assert_eq!(err.code(), "LOT-S006", "{err}");
        assert!(err.to_string().contains(&d.id.to_string()), "{err}");
        // Nothing is lost: the export keeps the bytes as they are.
        let out = export(&s);
        assert!(
            out.contains(&format!("\"raw\":\"{}\"", hex(&damaged))),
            "{out}"
        );
        // An unreadable draft stays for an operator, also past its expiry.
        assert_eq!(s.sweep_expired(d.expires + Duration::days(1)).unwrap(), 0);
        assert!(s.inner.drafts.contains_key(key).unwrap());
    }

    #[test]
    fn idle_drafts_move_out_of_the_recent_tree_and_back_on_their_next_save() {
        let (s, _dir) = sled_store();
        let mut e = DeterministicEntropy::new(44);
        let old = new_draft(&mut e, T0);
        let fresh = new_draft(&mut e, T0 + Duration::hours(3));
        s.create_draft(&old).unwrap();
        s.create_draft(&fresh).unwrap();
        let before = export(&s);
        assert_eq!(s.archive_idle_drafts(T0 + Duration::hours(2)).unwrap(), 1);
        assert_eq!((s.inner.recent.len(), s.inner.drafts.len()), (1, 1));
        // Where a draft lives changes nothing a caller or an export sees.
        assert_eq!(export(&s), before);
        assert_eq!(s.draft(&old.id).unwrap(), Some(old.clone()));
        assert_eq!(
            s.draft_by_resume_code(&old.resume_code).unwrap(),
            Some(old.clone())
        );
        assert_eq!(s.archive_idle_drafts(T0 + Duration::hours(2)).unwrap(), 0);
        // A stale revision is still a conflict, also in the idle tree.
        let err = s.save_draft(old.clone(), 7).unwrap_err();
        assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
        // The next save brings it back and leaves no idle copy.
        let mut edited = old.clone();
        edited.touch(T0 + Duration::hours(4), DEFAULT_DRAFT_TTL);
        let saved = s.save_draft(edited, 0).unwrap();
        assert_eq!(saved.revision, 1);
        assert_eq!((s.inner.recent.len(), s.inner.drafts.len()), (2, 0));
        assert_eq!(s.draft(&old.id).unwrap(), Some(saved));
        // Expiry and deletion find drafts in both trees.
        s.archive_idle_drafts(T0 + Duration::days(1)).unwrap();
        assert_eq!(s.inner.recent.len(), 0);
        assert!(s.delete_draft(&fresh.id).unwrap());
        assert_eq!(s.sweep_expired(T0 + Duration::days(40)).unwrap(), 1);
        assert_eq!(s.draft_count(), 0);
    }

    #[test]
    fn a_move_cut_short_by_a_crash_leaves_the_recent_copy_in_charge() {
        let (s, _dir) = sled_store();
        let mut e = DeterministicEntropy::new(45);
        let d = new_draft(&mut e, T0);
        s.create_draft(&d).unwrap();
        let mut edited = d.clone();
        edited.touch(T0 + Duration::hours(1), DEFAULT_DRAFT_TTL);
        let saved = s.save_draft(edited, 0).unwrap();
        let before = export(&s);
        // As if a move had written the idle copy of revision 0 and stopped there.
        let key = d.id.as_bytes();
        s.inner
            .drafts
            .insert(key, encode(DRAFTS, key, &d).unwrap())
            .unwrap();
        assert_eq!(s.draft(&d.id).unwrap(), Some(saved.clone()));
        assert_eq!(
            s.draft_by_resume_code(&d.resume_code).unwrap(),
            Some(saved.clone())
        );
        assert_eq!(export(&s), before, "the export holds the draft once");
        // The sweep removes the leftover and counts nothing.
        assert_eq!(s.sweep_expired(T0 + Duration::days(1)).unwrap(), 0);
        assert_eq!(s.inner.drafts.len(), 0);
        assert_eq!(s.draft(&d.id).unwrap(), Some(saved));
        // A draft that expires with such a leftover beside it is counted once.
        s.inner
            .drafts
            .insert(key, encode(DRAFTS, key, &d).unwrap())
            .unwrap();
        assert_eq!(s.sweep_expired(T0 + Duration::days(60)).unwrap(), 1);
        assert_eq!(s.draft_count(), 0);
    }

    #[test]
    fn saves_racing_the_archive_pass_lose_no_update() {
        let (s, _dir) = sled_store();
        let mut e = DeterministicEntropy::new(46);
        let drafts: Vec<Draft> = (0..8).map(|_| new_draft(&mut e, T0)).collect();
        for d in &drafts {
            s.create_draft(d).unwrap();
        }
        let stop = std::sync::atomic::AtomicBool::new(false);
        let saves = std::thread::scope(|scope| {
            let archiver = scope.spawn(|| {
                let mut moved = 0;
                while !stop.load(Ordering::Relaxed) {
                    // Everything counts as idle: every draft moves as often as possible.
                    moved += s.archive_idle_drafts(T0 + Duration::days(365)).unwrap();
                }
                moved
            });
            let savers: Vec<_> = drafts
                .chunks(2)
                .map(|mine| {
                    let s = &s;
                    scope.spawn(move || {
                        let mut done = 0u64;
                        for round in 0..300u64 {
                            let d = &mine[usize::from(round % 2 == 1)];
                            let current = s.draft(&d.id).unwrap().unwrap();
                            let rev = current.revision;
                            s.save_draft(current, rev).unwrap();
                            done += 1;
                        }
                        done
                    })
                })
                .collect();
            let saves: u64 = savers.into_iter().map(|h| h.join().unwrap()).sum();
            stop.store(true, Ordering::Relaxed);
            assert!(archiver.join().unwrap() > 0);
            saves
        });
        // Each draft was saved 150 times, each save on the one before.
        assert_eq!(saves, 1200);
        for d in &drafts {
            assert_eq!(s.draft(&d.id).unwrap().unwrap().revision, 150);
        }
        assert_eq!(s.draft_count(), 8, "no draft twice, none lost");
    }

    #[test]
    fn drafts_sharing_a_code_prefix_are_told_apart_by_the_code() {
        let (s, _dir) = sled_store();
        let mut e = DeterministicEntropy::new(41);
        let a = new_draft(&mut e, T0);
        // b's id starts with a's code prefix but b has its own code: b needs the code index.
        let mut b = new_draft(&mut e, T0);
        let mut id = *a.id.as_bytes();
        id[15] ^= 0xff;
        b.id = DraftId::from_key(&id).unwrap();
        // c shares the prefix too, and its record is unreadable.
        id[14] ^= 0xff;
        let c = DraftId::from_key(&id).unwrap();
        s.create_draft(&b).unwrap();
        s.put_raw(DRAFTS, c.as_bytes(), b"\x00garbage").unwrap();
        s.create_draft(&a).unwrap();
        assert_eq!(s.inner.draft_codes.len(), 1);
        assert_eq!(s.draft_by_resume_code(&a.resume_code).unwrap(), Some(a));
        assert_eq!(
            s.draft_by_resume_code(&b.resume_code).unwrap(),
            Some(b.clone())
        );
        let unknown = ResumeCode::generate(&mut e).unwrap();
        assert_eq!(s.draft_by_resume_code(&unknown).unwrap(), None);
        // Deleting b removes its index entry; its code then finds nothing.
        assert!(s.delete_draft(&b.id).unwrap());
        assert!(s.inner.draft_codes.is_empty());
        assert_eq!(s.draft_by_resume_code(&b.resume_code).unwrap(), None);
    }

    #[test]
    fn a_format_1_store_opens_migrated_and_its_drafts_resume_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let mut e = DeterministicEntropy::new(42);
        let old = old_style_draft(&mut e);
        {
            // Format 1 as an earlier Lotse left it: code and expiry index beside each draft.
            let db = sled::open(dir.path()).unwrap();
            let meta = db.open_tree("meta").unwrap();
            meta.insert(
                META_STORE_FORMAT,
                encode("meta", META_STORE_FORMAT, &1u32).unwrap(),
            )
            .unwrap();
            let key = old.id.as_bytes();
            let drafts = db.open_tree(DRAFTS).unwrap();
            drafts
                .insert(key, encode(DRAFTS, key, &old).unwrap())
                .unwrap();
            let codes = db.open_tree(DRAFT_CODES).unwrap();
            codes.insert(code_key(&old.resume_code), key).unwrap();
            let mut expiry = old.expires.unix_timestamp().to_be_bytes().to_vec();
            expiry.extend_from_slice(key);
            db.open_tree(DRAFT_EXPIRY)
                .unwrap()
                .insert(expiry, &[])
                .unwrap();
            db.flush().unwrap();
        }
        let s = SledStore::open(dir.path()).unwrap();
        let format: u32 = decode(
            "meta",
            META_STORE_FORMAT,
            &s.inner.meta.get(META_STORE_FORMAT).unwrap().unwrap(),
        )
        .unwrap();
        assert_eq!(format, STORE_FORMAT);
        let trees = s.inner.db.tree_names();
        assert!(!trees.iter().any(|t| t.as_ref() == DRAFT_EXPIRY.as_bytes()));
        assert_eq!(
            s.draft_by_resume_code(&old.resume_code).unwrap(),
            Some(old.clone())
        );
        let new = new_draft(&mut e, T0 + Duration::days(5));
        s.create_draft(&new).unwrap();
        assert_eq!(
            s.inner.draft_codes.len(),
            1,
            "only the old draft has an entry"
        );
        // The sweep finds the old draft without its index and takes its code entry along.
        assert_eq!(s.sweep_expired(T0 + Duration::days(31)).unwrap(), 1);
        assert!(s.inner.draft_codes.is_empty());
        assert_eq!(s.draft_by_resume_code(&old.resume_code).unwrap(), None);
        assert_eq!(s.draft(&new.id).unwrap(), Some(new));
    }

    #[test]
    fn an_export_of_format_1_imports_without_its_expiry_index() {
        let mut e = DeterministicEntropy::new(43);
        let old = old_style_draft(&mut e);
        let key = hex(old.id.as_bytes());
        let record = String::from_utf8(encode(DRAFTS, old.id.as_bytes(), &old).unwrap()).unwrap();
        let export = format!(
            "{{\"lotse_export\":1,\"record_format\":1}}\n\
             {{\"tree\":\"drafts\",\"key\":\"{key}\",\"value\":{record}}}\n\
             {{\"tree\":\"draft_codes\",\"key\":\"{}\",\"raw\":\"{key}\"}}\n\
             {{\"tree\":\"draft_expiry\",\"key\":\"80000000000051f1{key}\",\"raw\":\"\"}}\n\
             {{\"end\":3}}\n",
            hex(&code_key(&old.resume_code)),
        );
        let (s, _dir) = sled_store();
        assert_eq!(s.import_jsonl(&mut export.as_bytes(), |_| {}).unwrap(), 3);
        assert_eq!(s.draft_by_resume_code(&old.resume_code).unwrap(), Some(old));
        // The same tree in a format 2 export is unknown: format 2 never writes it.
        let (s2, _dir2) = sled_store();
        let v2 = export.replace("\"lotse_export\":1", "\"lotse_export\":2");
        let err = s2.import_jsonl(&mut v2.as_bytes(), |_| {}).unwrap_err();
        assert!(
            err.to_string().contains("unknown tree \"draft_expiry\""),
            "{err}"
        );
    }
}
