//! Drafts, submissions, status, messages, audit log and outbox: narrow store traits and their
//! sled implementation ([`SledStore`]).
//!
//! Must not depend on axum or tokio: every call is blocking and cheap except those that wait for
//! durability (`submit`, status changes, messages, audit); an async caller runs them through
//! `spawn_blocking`. Time and randomness are inputs. Application state and submitted data are
//! opaque JSON. Durability and format rules: docs/store.md; error codes: docs/errors.md.

mod accounts;
pub mod attachments;
#[macro_use]
mod any;
mod blobs;
mod codec;
mod envelope;
mod error;
mod group_commit;
mod ids;
mod keys;
mod limiter;
mod login;
mod model;
mod payments;
#[cfg(feature = "postgres")]
#[doc(hidden)]
pub mod pg_testing;
#[cfg(feature = "postgres")]
mod postgres;
mod postkorb;
mod request;
mod sled;

#[cfg(test)]
mod suite;
mod visits;

use time::{Duration, OffsetDateTime};

pub use self::sled::{SledOptions, SledStore};
pub use accounts::{Account, ApiToken, Role, SecretHash, Session, new_secret};
pub use any::{AnyStore, Backend};
pub use attachments::{
    AttachmentHash, AttachmentRef, AttachmentSweep, ScanState, attachment_refs, referenced_hashes,
};
pub use blobs::BlobKey;
pub use codec::{EXPORT_FORMAT, Progress};
pub use envelope::RECORD_FORMAT;
pub use error::StoreError;
pub use ids::{
    AccountId, ApiTokenId, BookingId, DeterministicEntropy, DraftId, Entropy, IdempotencyKey,
    OsEntropy, PaymentId, Reference, ResumeCode, SubmissionId, TenantId,
};
pub use limiter::{AttemptLimiter, AttemptState, LONGEST_KEPT, LimitPolicy, ResumeLimiter};
pub use login::{CitizenLink, CitizenSession, LogoutIndex, PendingSignIn};
pub use model::{
    Actor, AuditAction, AuditEntry, CaseFile, DEFAULT_DRAFT_TTL, DeliveryState, Draft, Message,
    NewOutboxMessage, NewSubmission, Note, OutboxMessage, Party, ReadKind, Status, StatusChange,
    Submission,
};
pub use payments::Payment;
#[cfg(feature = "postgres")]
pub use postgres::{PgOptions, PgResumeLimiter, PgStore, redact_url};
pub use postkorb::{PostkorbEntry, PostkorbPage, PostkorbQuery, SEARCH_COUNT_LIMIT, search_terms};
pub use request::with_request_id;
pub use visits::{NewVisit, Visit, VisitState, VisitTime};

// The store traits. `store_traits!` (any.rs) declares them as written and implements each of
// them for `AnyStore` by calling the backend it holds: a new method needs code in the backends
// only, never forwarding code.
store_traits! {
    /// Drafts: applications in progress, saved with optimistic concurrency.
    pub trait DraftStore {
        /// Stores a new draft (normally revision 0 from [`Draft::new`]).
        /// `AlreadyExists` if the id is taken.
        fn create_draft(&self, draft: &Draft) -> Result<(), StoreError>;

        /// The draft with this id, or `None`.
        fn draft(&self, id: &DraftId) -> Result<Option<Draft>, StoreError>;

        /// The draft with this id, and the id of the submission stored under its submit key
        /// ([`IdempotencyKey::for_draft`] of the draft at its revision, in the draft's tenant),
        /// if there is one: a submit whose draft mark was lost in a crash. One read on
        /// PostgreSQL.
        fn draft_with_submission(
            &self,
            id: &DraftId,
        ) -> Result<Option<(Draft, Option<SubmissionId>)>, StoreError>;

        /// The draft this resume code belongs to, or `None`. Callers facing the public guard this
        /// with a [`ResumeLimiter`] (see [`resume_draft`]).
        fn draft_by_resume_code(&self, code: &ResumeCode) -> Result<Option<Draft>, StoreError>;

        /// Replaces the stored draft if its revision is still `expected_revision`, and returns the
        /// stored draft, whose revision is `expected_revision + 1`. A stale revision gives
        /// `Conflict` with the current draft. The id, tenant, creation time and resume code of the
        /// stored draft are kept.
        fn save_draft(&self, draft: Draft, expected_revision: u64) -> Result<Draft, StoreError>;

        /// Deletes a draft (for example after its submission). `false` if it did not exist.
        fn delete_draft(&self, id: &DraftId) -> Result<bool, StoreError>;

        /// Deletes every draft whose `expires` is at or before `now`; returns how many.
        fn sweep_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
    }

    /// Submissions: immutable, append-only, per tenant, with references that are never reused.
    pub trait SubmissionStore {
        /// Stores a submission with the next reference of its tenant and year (`now.year()` in the
        /// offset of `now`), its first status `Eingegangen`, an audit entry and its
        /// notifications, atomically, and returns once it is durable. A repeated call with the same
        /// idempotency key returns the first submission and writes nothing.
        fn submit(&self, new: NewSubmission, now: OffsetDateTime) -> Result<Submission, StoreError>;

        /// Many new submissions at once, all at `now`, durable on return: for imports from
        /// other systems and load tests (seeding a million submissions one `submit` at a time
        /// waits for a million commits). Each gets everything [`SubmissionStore::submit`]
        /// writes. Idempotency keys must be new: a key that is taken is `AlreadyExists`
        /// (PostgreSQL: the whole batch is rolled back; sled: the ones before it stay).
        fn submit_batch(
            &self,
            batch: Vec<NewSubmission>,
            now: OffsetDateTime,
        ) -> Result<Vec<Submission>, StoreError>;

        /// The submission with this id, or `None`.
        fn submission(&self, id: &SubmissionId) -> Result<Option<Submission>, StoreError>;

        /// The submission a [`SubmissionStore::submit`] with this tenant and idempotency key
        /// stored, or `None`. Durable with the submission itself: this is how a draft whose
        /// "submitted" mark was lost in a crash is still known as submitted.
        fn submission_by_idempotency_key(
            &self,
            tenant: &TenantId,
            key: &IdempotencyKey,
        ) -> Result<Option<Submission>, StoreError>;

        /// The submission of this tenant with this reference, or `None`.
        fn submission_by_reference(
            &self,
            tenant: &TenantId,
            reference: &Reference,
        ) -> Result<Option<Submission>, StoreError>;

        /// Up to `limit` submissions of a tenant in reference order, starting after `after`.
        fn submissions(
            &self,
            tenant: &TenantId,
            after: Option<&Reference>,
            limit: usize,
        ) -> Result<Vec<Submission>, StoreError>;

        /// The Postkorb: the tenant's submissions matching `query`, newest first, one page of
        /// them, with the total and the counts per status (see [`PostkorbQuery`]).
        fn postkorb(
            &self,
            tenant: &TenantId,
            query: &PostkorbQuery,
        ) -> Result<PostkorbPage, StoreError>;

        /// Deletes the tenant's closed submissions (with status history and messages) whose
        /// closing lies more than `older_than` before `now`; records each purge in the audit log.
        /// References stay used. Returns how many were purged.
        fn purge_closed(
            &self,
            tenant: &TenantId,
            older_than: Duration,
            now: OffsetDateTime,
        ) -> Result<u64, StoreError>;
    }

    /// Status history and messages of a submission.
    pub trait StatusStore {
        /// The full status history, oldest first. `NotFound` for an unknown submission.
        fn status_history(&self, id: &SubmissionId) -> Result<Vec<StatusChange>, StoreError>;

        /// Appends a status change if the status model allows it ([`Status::may_change_to`]),
        /// with an audit entry; durable on return.
        fn change_status(&self, id: &SubmissionId, change: StatusChange) -> Result<(), StoreError>;

        /// [`StatusStore::change_status`], and the messages to send about it (e-mail to the
        /// citizen) enqueued in the outbox in the same transaction: a change is never stored
        /// without its messages, nor a message without its change.
        fn change_status_notifying(
            &self,
            id: &SubmissionId,
            change: StatusChange,
            notifications: Vec<NewOutboxMessage>,
        ) -> Result<(), StoreError>;

        /// Appends a message, with an audit entry (without its text); durable on return.
        fn add_message(
            &self,
            id: &SubmissionId,
            from: Party,
            body: String,
            now: OffsetDateTime,
        ) -> Result<Message, StoreError>;

        /// All messages of a submission, oldest first.
        fn messages(&self, id: &SubmissionId) -> Result<Vec<Message>, StoreError>;
    }

    /// The office's case work on a submission: assignment, follow-up date (Wiedervorlage) and
    /// internal notes. None of it reaches the citizen (pages, API, receipts, webhooks). Every
    /// change is in the audit log (ids and dates, no note text) and in the Postkorb's indexes,
    /// in the same transaction; durable on return.
    pub trait CaseStore {
        /// Who works on the case and when it is due again. `NotFound` for an unknown
        /// submission.
        fn case_file(&self, id: &SubmissionId) -> Result<CaseFile, StoreError>;

        /// Assigns the case to a staff member (`None`: to nobody). The caller checks that the
        /// account belongs to the submission's tenant. A change to the same assignee is
        /// stored and audited all the same (the case worker said so).
        fn assign(
            &self,
            id: &SubmissionId,
            to: Option<AccountId>,
            by: Actor,
            now: OffsetDateTime,
        ) -> Result<(), StoreError>;

        /// Sets the follow-up date (`None`: removes it).
        fn set_follow_up(
            &self,
            id: &SubmissionId,
            on: Option<time::Date>,
            by: Actor,
            now: OffsetDateTime,
        ) -> Result<(), StoreError>;

        /// Appends an internal note, with an audit entry (without its text).
        fn add_note(
            &self,
            id: &SubmissionId,
            by: Actor,
            body: String,
            now: OffsetDateTime,
        ) -> Result<Note, StoreError>;

        /// The notes of a submission, oldest first.
        fn notes(&self, id: &SubmissionId) -> Result<Vec<Note>, StoreError>;
    }

    /// The audit log: who did what when, without personal data.
    pub trait AuditStore {
        /// Appends an entry and returns its sequence number; durable on return.
        fn append_audit(
            &self,
            at: OffsetDateTime,
            actor: Actor,
            tenant: Option<&TenantId>,
            action: AuditAction,
        ) -> Result<u64, StoreError>;

        /// Appends one entry per action, all by `actor` at `at`, in their order: all or none,
        /// durable on return (one write and one flush, for an export's thousands of reads).
        fn append_audits(
            &self,
            at: OffsetDateTime,
            actor: Actor,
            tenant: Option<&TenantId>,
            actions: Vec<AuditAction>,
        ) -> Result<(), StoreError>;

        /// Up to `limit` entries with a sequence number greater than `after`, oldest first.
        fn audit_log(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;

        /// The entries about one submission (received, read, changed, purged), oldest first,
        /// from an index: as fast in a log of millions as in a small one.
        fn submission_audit(
            &self,
            submission: &SubmissionId,
        ) -> Result<Vec<AuditEntry>, StoreError>;
    }

    /// Appointments: a visit is held, then confirmed; an office never has more visits at one
    /// time than it has counters, on every node (docs/store.md, "Appointments").
    pub trait VisitStore {
        /// Holds `new` if fewer than `counters` visits of its office take a counter at any
        /// moment of its time (confirmed, or held and not expired at `now`); `SlotTaken`
        /// otherwise. Durable on return.
        fn hold_visit(
            &self,
            new: NewVisit,
            counters: u32,
            now: OffsetDateTime,
        ) -> Result<Visit, StoreError>;

        /// Confirms a hold that has not expired, with the citizen's name and address, and
        /// enqueues `notifications` (the confirmation mail) in the same transaction;
        /// `VisitGone` for an expired hold or a visit that is not held.
        fn confirm_visit(
            &self,
            id: &BookingId,
            name: String,
            email: String,
            notifications: Vec<NewOutboxMessage>,
            now: OffsetDateTime,
        ) -> Result<Visit, StoreError>;

        /// Cancels a held or confirmed visit: its counter is free at once.
        fn cancel_visit(&self, id: &BookingId, now: OffsetDateTime) -> Result<Visit, StoreError>;

        /// Marks a booked visit as attended (`true`) or missed; may be corrected either way.
        /// `VisitGone` for a visit that is not booked.
        fn mark_visit(
            &self,
            id: &BookingId,
            attended: bool,
            now: OffsetDateTime,
        ) -> Result<Visit, StoreError>;

        /// Moves a confirmed visit to another time of its office if fewer than `counters`
        /// other visits take a counter then, and enqueues `notifications` in the same
        /// transaction; `SlotTaken` if the time is full, `VisitGone` for a visit that is not
        /// confirmed. Durable on return.
        fn move_visit(
            &self,
            id: &BookingId,
            to: VisitTime,
            counters: u32,
            notifications: Vec<NewOutboxMessage>,
            now: OffsetDateTime,
        ) -> Result<Visit, StoreError>;

        /// Notes that the reminder of a confirmed visit is sent, with the reminder mail in the
        /// same transaction; `VisitGone` when it was noted already (by this node or another).
        fn remind_visit(
            &self,
            id: &BookingId,
            notifications: Vec<NewOutboxMessage>,
            now: OffsetDateTime,
        ) -> Result<Visit, StoreError>;

        /// The visits of every tenant and office from day `from` to day `to` (local dates,
        /// both included), in no particular order; cancelled and expired ones may be listed.
        fn visits_between(
            &self,
            from: time::Date,
            to: time::Date,
        ) -> Result<Vec<Visit>, StoreError>;

        /// A visit by its id.
        fn visit(&self, id: &BookingId) -> Result<Option<Visit>, StoreError>;

        /// The visits of `tenant`'s `office` on `day` (its local date), by start time: at least
        /// every booked one and every hold not yet expired (callers ask [`Visit::occupies`] or
        /// [`Visit::is_booked`]); cancelled and expired ones may be listed too.
        fn visits_on(
            &self,
            tenant: &TenantId,
            office: &str,
            day: time::Date,
        ) -> Result<Vec<Visit>, StoreError>;
    }

    /// Webhook deliveries to be made later, at least once.
    pub trait Outbox {
        /// Enqueues a delivery, due at `now`; returns its id.
        fn enqueue(
            &self,
            tenant: Option<&TenantId>,
            message: NewOutboxMessage,
            now: OffsetDateTime,
        ) -> Result<u64, StoreError>;

        /// Claims up to `limit` due deliveries (pending and due, or claimed with an expired
        /// lease) for `lease`; a claimed delivery is not handed out again before the lease ends.
        fn claim(
            &self,
            now: OffsetDateTime,
            lease: Duration,
            limit: usize,
        ) -> Result<Vec<OutboxMessage>, StoreError>;

        /// Marks a delivery done.
        fn mark_delivered(&self, id: u64, now: OffsetDateTime) -> Result<(), StoreError>;

        /// Counts a failed attempt. With `retry_at` the delivery is due again then; without, it is
        /// given up (`Failed`).
        fn mark_failed(
            &self,
            id: u64,
            now: OffsetDateTime,
            error: &str,
            retry_at: Option<OffsetDateTime>,
        ) -> Result<(), StoreError>;

        /// One delivery by id.
        fn outbox_message(&self, id: u64) -> Result<Option<OutboxMessage>, StoreError>;

        /// Makes a given-up delivery due again at `now` (e.g. a case worker's "send again" after
        /// the receiver was fixed); attempts and last error are kept. `false` if the delivery is
        /// not given up (pending, claimed or delivered); `NotFound` if it does not exist.
        fn requeue(&self, id: u64, now: OffsetDateTime) -> Result<bool, StoreError>;

        /// How many deliveries are still to be made: `(due, waiting)`, due at `now` (including
        /// claimed ones whose lease ended) and waiting for a later attempt or a running lease.
        fn outbox_backlog(&self, now: OffsetDateTime) -> Result<(u64, u64), StoreError>;

        /// Deletes deliveries that were delivered or given up at or before `before`, so `claim`
        /// stays fast; returns how many.
        fn prune_outbox(&self, before: OffsetDateTime) -> Result<u64, StoreError>;

        /// Up to `limit` deliveries of `tenant` that `keep` accepts, newest (highest id) first,
        /// with ids below `before` when given (the last id of the previous page). Deliveries of
        /// other tenants and without a tenant are never returned. For the Postkorb's list of
        /// deliveries and failures; it scans the outbox, which `prune_outbox` keeps short.
        fn tenant_outbox(
            &self,
            tenant: &TenantId,
            before: Option<u64>,
            limit: usize,
            keep: &dyn Fn(&OutboxMessage) -> bool,
        ) -> Result<Vec<OutboxMessage>, StoreError>;
    }

    /// Staff accounts, their sessions and API tokens. Secrets are stored only as hashes.
    pub trait AccountStore {
        /// Stores a new account. `AlreadyExists` if its tenant has an account with this login.
        fn create_account(&self, account: &Account) -> Result<(), StoreError>;

        /// The account with this id, or `None`.
        fn account(&self, id: &AccountId) -> Result<Option<Account>, StoreError>;

        /// The tenant's account with this login (normalised with [`Account::check_login`]).
        fn account_by_login(
            &self,
            tenant: &TenantId,
            login: &str,
        ) -> Result<Option<Account>, StoreError>;

        /// Every account of the tenant, by login.
        fn accounts(&self, tenant: &TenantId) -> Result<Vec<Account>, StoreError>;

        /// Replaces an account's display name, role, password hash and disabled flag; id, tenant,
        /// login and creation time stay. `NotFound` for an unknown account.
        fn update_account(&self, account: &Account) -> Result<(), StoreError>;

        /// Stores a session (after a successful sign-in).
        fn create_session(&self, session: &Session) -> Result<(), StoreError>;

        /// The session with this hash, or `None` (expired ones too: the caller checks `expires`).
        fn session(&self, hash: &SecretHash) -> Result<Option<Session>, StoreError>;

        /// Ends a session; `false` if it did not exist.
        fn delete_session(&self, hash: &SecretHash) -> Result<bool, StoreError>;

        /// Ends every session of an account (on disabling, a new password, a new role).
        fn delete_sessions_of(&self, account: &AccountId) -> Result<u64, StoreError>;

        /// Deletes sessions that expired at or before `now`; returns how many.
        fn sweep_sessions(&self, now: time::OffsetDateTime) -> Result<u64, StoreError>;

        /// Stores an API token (only its hash). `AlreadyExists` for a known id or hash.
        fn create_api_token(&self, token: &ApiToken) -> Result<(), StoreError>;

        /// The token with this hash, or `None` (revoked ones too: the caller checks `revoked`).
        fn api_token(&self, hash: &SecretHash) -> Result<Option<ApiToken>, StoreError>;

        /// Every token of the tenant, revoked ones too, oldest first.
        fn api_tokens(&self, tenant: &TenantId) -> Result<Vec<ApiToken>, StoreError>;

        /// Revokes the tenant's token with this id; `false` if the tenant has no such token.
        fn revoke_api_token(&self, tenant: &TenantId, id: &ApiTokenId) -> Result<bool, StoreError>;
    }

    /// Blobs: larger bytes that belong to a record, such as receipts (attachments later), kept
    /// durably and reachable from every node. Written once: the first put under a key wins.
    pub trait BlobStore {
        /// Keeps `bytes` under `key` and returns `true`, once they are durable; if something is
        /// kept under `key` already it stays and this returns `false` (a repeated submit renders
        /// its receipt again, and the first one is the one the citizen got). A receipt of an
        /// unknown submission is `NotFound`.
        fn put_blob(&self, key: &BlobKey, bytes: &[u8]) -> Result<bool, StoreError>;

        /// [`BlobStore::put_blob`], then [`DraftStore::save_draft`] of `draft` at
        /// `expected_revision`, in one step where the backend can (PostgreSQL: one statement,
        /// one synchronous commit; sled: the two calls). Returns whether the blob is new and
        /// whether the draft was saved: a draft that moved on or is gone is not saved and is no
        /// error (for a submission's receipt and its draft's mark, which a concurrent repeat may
        /// have written first). The blob is durable on return; the draft as a draft save is.
        fn put_blob_and_save_draft(
            &self,
            key: &BlobKey,
            bytes: &[u8],
            draft: Draft,
            expected_revision: u64,
        ) -> Result<(bool, bool), StoreError>;

        /// The bytes kept under `key`, or `None`.
        fn blob(&self, key: &BlobKey) -> Result<Option<Vec<u8>>, StoreError>;

        /// Whether something is kept under `key` (without reading it).
        fn has_blob(&self, key: &BlobKey) -> Result<bool, StoreError>;

        /// Deletes the blob under `key`; `false` if there was none.
        fn delete_blob(&self, key: &BlobKey) -> Result<bool, StoreError>;

        /// Deletes blobs whose submission is gone (purged) and returns how many. A blob is
        /// written only after its submission is durable, so one being written always has its
        /// submission. PostgreSQL deletes them with the submission and finds none.
        fn remove_orphan_blobs(&self) -> Result<u64, StoreError>;
    }

    /// Attachments (Nachweise), kept once per content under their SHA-256 (docs/uploads.md).
    /// Streams in and out; durable on return.
    pub trait AttachmentStore {
        /// Reads `file` to its end and keeps it as the attachment `hash`; `true` if it is new,
        /// `false` if the same content was kept already (the bytes are read and checked all
        /// the same). Bytes whose SHA-256 is not `hash` are refused (`InvalidInput`) and
        /// nothing is kept. At most `limit` bytes: a longer file is refused.
        fn put_attachment(
            &self,
            hash: &AttachmentHash,
            file: &mut dyn std::io::Read,
            limit: u64,
        ) -> Result<bool, StoreError>;

        /// Writes the attachment `hash` into `out`; its size, or `None` if there is none.
        fn read_attachment(
            &self,
            hash: &AttachmentHash,
            out: &mut dyn std::io::Write,
        ) -> Result<Option<u64>, StoreError>;

        /// The attachment's size in bytes, or `None` if there is none.
        fn attachment_size(&self, hash: &AttachmentHash) -> Result<Option<u64>, StoreError>;

        /// Deletes the attachment; `false` if there was none.
        fn delete_attachment(&self, hash: &AttachmentHash) -> Result<bool, StoreError>;

        /// Every attachment kept (for the housekeeping that removes unreferenced ones).
        fn attachment_hashes(&self) -> Result<Vec<AttachmentHash>, StoreError>;

        /// Deletes every attachment that no draft and no submission references
        /// ([`referenced_hashes`] over drafts' states and submissions' data) and that was last
        /// stored before `stored_before` (the housekeeping passes now minus a grace period, so
        /// an upload whose draft is not saved yet stays). A put of content that is kept
        /// already counts as storing it again. "Stored" is the wall clock of the store (the
        /// file's mtime on sled, the database's `now()` on PostgreSQL). Returns what it
        /// removed.
        fn sweep_attachments(
            &self,
            stored_before: OffsetDateTime,
        ) -> Result<AttachmentSweep, StoreError>;
    }

    /// Secrets every node of an installation must agree on: the CSRF key, development signing
    /// keys. Named by a short string (`csrf`, `signing-dev:<tenant>`); the bytes are opaque.
    pub trait SecretStore {
        /// The secret `name`, or `None` if none was stored yet.
        fn secret(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;

        /// The secret `name`: the stored one, or else `fresh`, stored now (durably). Atomic:
        /// when several nodes or threads ask at once, all of them get the value stored first.
        fn secret_or_insert(&self, name: &str, fresh: &[u8]) -> Result<Vec<u8>, StoreError>;
    }

    /// Citizen sign-in (docs/login.md): sessions, sign-ins in progress and the replay cache of
    /// identity assertions, each known by a hash only. Every write is durable on return and
    /// seen by every node.
    pub trait LoginStore {
        /// Stores a citizen session; `AlreadyExists` if its hash is taken.
        fn create_citizen_session(&self, session: &CitizenSession) -> Result<(), StoreError>;

        /// The session with this hash, or `None` (expired ones too: the caller checks
        /// `expires`).
        fn citizen_session(&self, hash: &SecretHash) -> Result<Option<CitizenSession>, StoreError>;

        /// Ends a session; `false` if it did not exist.
        fn delete_citizen_session(&self, hash: &SecretHash) -> Result<bool, StoreError>;

        /// Stores a sign-in a browser started; `AlreadyExists` if its hash is taken.
        fn put_pending_sign_in(&self, pending: &PendingSignIn) -> Result<(), StoreError>;

        /// Removes and returns the sign-in with this hash: of two nodes answering the same
        /// provider response, one gets it.
        fn take_pending_sign_in(
            &self,
            hash: &SecretHash,
        ) -> Result<Option<PendingSignIn>, StoreError>;

        /// Notes the session a provider's name for the citizen belongs to (single logout
        /// started by the provider); replaces an earlier note under the same hash.
        fn put_logout_index(&self, index: &LogoutIndex) -> Result<(), StoreError>;

        /// Removes and returns the note with this hash: a provider's LogoutRequest ends the
        /// session once.
        fn take_logout_index(&self, hash: &SecretHash) -> Result<Option<LogoutIndex>, StoreError>;

        /// Records an assertion id until `expires`: `true` the first time, `false` when it was
        /// recorded already (a replay), also when two nodes race.
        fn first_use(&self, hash: &SecretHash, expires: OffsetDateTime) -> Result<bool, StoreError>;

        /// Deletes the records of every kind that expired at or before `now`; returns how many.
        fn sweep_login(&self, now: OffsetDateTime) -> Result<u64, StoreError>;

        /// Links a draft to a citizen (Mein Konto); linking the same draft again changes
        /// nothing.
        fn link_citizen(&self, link: &CitizenLink) -> Result<(), StoreError>;

        /// The citizen's linked drafts, oldest first.
        fn citizen_links(&self, citizen: &SecretHash) -> Result<Vec<CitizenLink>, StoreError>;

        /// Deletes every Mein Konto link whose draft and submission are both gone (the draft
        /// expired unsent, or the submission was purged): nothing of a citizen outlives their
        /// application. Returns how many.
        fn sweep_citizen_links(&self) -> Result<u64, StoreError>;

        /// Notes the submission a linked draft became; `false` if there is no such link.
        fn set_citizen_submission(
            &self,
            citizen: &SecretHash,
            draft: &str,
            submission: &str,
        ) -> Result<bool, StoreError>;
    }

    /// Payments applications wait for (docs/payment.md). Every write is durable on return.
    pub trait PaymentStore {
        /// Stores a new payment, unless its tenant has one with the same submit key already:
        /// then that first one is returned and nothing is written (a double click, a repeat
        /// after a crash). The returned payment is the one that counts.
        fn create_payment(&self, payment: &Payment) -> Result<Payment, StoreError>;

        /// The payment with this id, or `None`.
        fn payment(&self, id: &PaymentId) -> Result<Option<Payment>, StoreError>;

        /// The tenant's payment for this submit key, or `None`.
        fn payment_by_key(
            &self,
            tenant: &TenantId,
            key: &IdempotencyKey,
        ) -> Result<Option<Payment>, StoreError>;

        /// Replaces the payment's `open`, `data` and `updated` if its revision is still
        /// `expected_revision`: `Ok(Ok(saved))` with the revision bumped, or `Ok(Err(current))`
        /// when another writer got there first. Id, tenant, key and creation stay.
        /// `NotFound` for an unknown payment.
        fn save_payment(
            &self,
            payment: Payment,
            expected_revision: u64,
        ) -> Result<Result<Payment, Payment>, StoreError>;

        /// Up to `limit` open payments last changed at or before `before`, oldest change
        /// first: what the reconciliation job asks the platform about.
        fn open_payments(
            &self,
            before: OffsetDateTime,
            limit: usize,
        ) -> Result<Vec<Payment>, StoreError>;
    }
}

/// Everything a backend provides.
pub trait Store:
    DraftStore
    + SubmissionStore
    + StatusStore
    + CaseStore
    + AuditStore
    + Outbox
    + AccountStore
    + BlobStore
    + AttachmentStore
    + SecretStore
    + VisitStore
    + PaymentStore
    + LoginStore
{
}
impl<T> Store for T where
    T: DraftStore
        + SubmissionStore
        + StatusStore
        + CaseStore
        + AuditStore
        + Outbox
        + AccountStore
        + BlobStore
        + AttachmentStore
        + SecretStore
        + VisitStore
        + PaymentStore
        + LoginStore
{
}

/// Resumes a draft by the code a citizen typed, counting attempts per `client` (e.g. the
/// client address) in `limiter`: the attempt is reserved before the code is looked up, so
/// parallel guesses cannot pass the limit, and a right code gives back only its own attempt
/// (the wrong ones before it stay counted). `RateLimited` once the client has used up its
/// attempts; `NotFound` for a wrong or malformed code.
pub fn resume_draft(
    store: &(impl DraftStore + ?Sized),
    limiter: &(impl AttemptLimiter + ?Sized),
    client: &str,
    typed_code: &str,
    now: OffsetDateTime,
) -> Result<Draft, StoreError> {
    limiter.reserve(client, now)?;
    let found = match typed_code.parse::<ResumeCode>() {
        Ok(code) => store.draft_by_resume_code(&code)?,
        Err(_) => None,
    };
    match found {
        Some(draft) if draft.expires > now => {
            limiter.refund(client, now)?;
            Ok(draft)
        }
        _ => Err(StoreError::NotFound {
            what: "draft",
            key: "resume code".into(),
        }),
    }
}
