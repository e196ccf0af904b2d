//! [`AnyStore`]: the backend chosen in the configuration, behind the same store traits, plus the
//! few calls that differ per backend (export, import, flush, close).

use std::io::{BufRead, Write};

use time::{Duration, OffsetDateTime};

use super::accounts::{Account, ApiToken, SecretHash, Session};
use super::codec::Progress;
use super::error::StoreError;
use super::ids::{
    AccountId, ApiTokenId, DraftId, IdempotencyKey, Reference, ResumeCode, SubmissionId, TenantId,
};
use super::model::{
    Actor, AuditAction, AuditEntry, Draft, Message, NewOutboxMessage, NewSubmission, OutboxMessage,
    Party, StatusChange, Submission,
};
#[cfg(feature = "postgres")]
use super::postgres::PgStore;
use super::postkorb::{PostkorbPage, PostkorbQuery};
use super::sled::SledStore;
use super::{AccountStore, AuditStore, DraftStore, Outbox, StatusStore, SubmissionStore};

/// One store of either backend. Cheap to clone (both backends share their database).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum AnyStore {
    /// One process on one machine (the default).
    Sled(SledStore),
    /// Several nodes on one PostgreSQL database.
    #[cfg(feature = "postgres")]
    Postgres(PgStore),
}

impl From<SledStore> for AnyStore {
    fn from(s: SledStore) -> Self {
        Self::Sled(s)
    }
}

#[cfg(feature = "postgres")]
impl From<PgStore> for AnyStore {
    fn from(s: PgStore) -> Self {
        Self::Postgres(s)
    }
}

/// Calls the same method on whichever backend this is.
macro_rules! each {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            AnyStore::Sled($s) => $call,
            #[cfg(feature = "postgres")]
            AnyStore::Postgres($s) => $call,
        }
    };
}

impl AnyStore {
    /// The backend's name as in the configuration: `sled` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            AnyStore::Sled(_) => "sled",
            #[cfg(feature = "postgres")]
            AnyStore::Postgres(_) => "postgres",
        }
    }

    /// Moves drafts not edited since `before` out of the small tree of recent drafts (sled,
    /// [`SledStore::archive_idle_drafts`]); returns how many. PostgreSQL keeps one table with
    /// its own indexes and moves nothing (0).
    pub fn archive_idle_drafts(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        match self {
            AnyStore::Sled(s) => s.archive_idle_drafts(before),
            #[cfg(feature = "postgres")]
            AnyStore::Postgres(_) => Ok(0),
        }
    }

    /// Writes every record as JSON Lines (the format of [`SledStore::export_jsonl`], the same
    /// for both backends).
    pub fn export_jsonl(
        &self,
        out: &mut impl Write,
        progress: impl FnMut(Progress),
    ) -> Result<u64, StoreError> {
        each!(self, s => s.export_jsonl(out, progress))
    }

    /// Reads an export of either backend into this (empty) store.
    pub fn import_jsonl(
        &self,
        input: &mut impl BufRead,
        progress: impl FnMut(Progress),
    ) -> Result<u64, StoreError> {
        each!(self, s => s.import_jsonl(input, progress))
    }

    /// Makes everything written so far durable (sled: an fsync; PostgreSQL: nothing to do,
    /// every acknowledged write is committed). Blocking.
    pub fn flush(&self) -> Result<(), StoreError> {
        each!(self, s => s.flush())
    }

    /// Closes the store at shutdown (sled: flush and snapshot; PostgreSQL: close the pool).
    /// Blocking.
    pub fn close(self) -> Result<bool, StoreError> {
        each!(self, s => s.close())
    }
}

impl DraftStore for AnyStore {
    fn create_draft(&self, draft: &Draft) -> Result<(), StoreError> {
        each!(self, s => s.create_draft(draft))
    }
    fn draft(&self, id: &DraftId) -> Result<Option<Draft>, StoreError> {
        each!(self, s => s.draft(id))
    }
    fn draft_by_resume_code(&self, code: &ResumeCode) -> Result<Option<Draft>, StoreError> {
        each!(self, s => s.draft_by_resume_code(code))
    }
    fn save_draft(&self, draft: Draft, expected_revision: u64) -> Result<Draft, StoreError> {
        each!(self, s => s.save_draft(draft, expected_revision))
    }
    fn delete_draft(&self, id: &DraftId) -> Result<bool, StoreError> {
        each!(self, s => s.delete_draft(id))
    }
    fn sweep_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        each!(self, s => s.sweep_expired(now))
    }
}

impl SubmissionStore for AnyStore {
    fn submit(&self, new: NewSubmission, now: OffsetDateTime) -> Result<Submission, StoreError> {
        each!(self, s => s.submit(new, now))
    }
    fn submission(&self, id: &SubmissionId) -> Result<Option<Submission>, StoreError> {
        each!(self, s => s.submission(id))
    }
    fn submission_by_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &IdempotencyKey,
    ) -> Result<Option<Submission>, StoreError> {
        each!(self, s => s.submission_by_idempotency_key(tenant, key))
    }
    fn submission_by_reference(
        &self,
        tenant: &TenantId,
        reference: &Reference,
    ) -> Result<Option<Submission>, StoreError> {
        each!(self, s => s.submission_by_reference(tenant, reference))
    }
    fn submissions(
        &self,
        tenant: &TenantId,
        after: Option<&Reference>,
        limit: usize,
    ) -> Result<Vec<Submission>, StoreError> {
        each!(self, s => s.submissions(tenant, after, limit))
    }
    fn postkorb(
        &self,
        tenant: &TenantId,
        query: &PostkorbQuery,
    ) -> Result<PostkorbPage, StoreError> {
        each!(self, s => s.postkorb(tenant, query))
    }
    fn purge_closed(
        &self,
        tenant: &TenantId,
        older_than: Duration,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        each!(self, s => s.purge_closed(tenant, older_than, now))
    }
}

impl StatusStore for AnyStore {
    fn status_history(&self, id: &SubmissionId) -> Result<Vec<StatusChange>, StoreError> {
        each!(self, s => s.status_history(id))
    }
    fn change_status(&self, id: &SubmissionId, change: StatusChange) -> Result<(), StoreError> {
        each!(self, s => s.change_status(id, change))
    }
    fn add_message(
        &self,
        id: &SubmissionId,
        from: Party,
        body: String,
        now: OffsetDateTime,
    ) -> Result<Message, StoreError> {
        each!(self, s => s.add_message(id, from, body, now))
    }
    fn messages(&self, id: &SubmissionId) -> Result<Vec<Message>, StoreError> {
        each!(self, s => s.messages(id))
    }
}

impl AuditStore for AnyStore {
    fn append_audit(
        &self,
        at: OffsetDateTime,
        actor: Actor,
        tenant: Option<&TenantId>,
        action: AuditAction,
    ) -> Result<u64, StoreError> {
        each!(self, s => s.append_audit(at, actor, tenant, action))
    }
    fn audit_log(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        each!(self, s => s.audit_log(after, limit))
    }
}

impl Outbox for AnyStore {
    fn enqueue(
        &self,
        tenant: Option<&TenantId>,
        message: NewOutboxMessage,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        each!(self, s => s.enqueue(tenant, message, now))
    }
    fn claim(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        each!(self, s => s.claim(now, lease, limit))
    }
    fn mark_delivered(&self, id: u64, now: OffsetDateTime) -> Result<(), StoreError> {
        each!(self, s => s.mark_delivered(id, now))
    }
    fn mark_failed(
        &self,
        id: u64,
        now: OffsetDateTime,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        each!(self, s => s.mark_failed(id, now, error, retry_at))
    }
    fn outbox_message(&self, id: u64) -> Result<Option<OutboxMessage>, StoreError> {
        each!(self, s => s.outbox_message(id))
    }
    fn prune_outbox(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        each!(self, s => s.prune_outbox(before))
    }
    fn requeue(&self, id: u64, now: OffsetDateTime) -> Result<bool, StoreError> {
        each!(self, s => s.requeue(id, now))
    }
    fn tenant_outbox(
        &self,
        tenant: &TenantId,
        before: Option<u64>,
        limit: usize,
        keep: &dyn Fn(&OutboxMessage) -> bool,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        each!(self, s => s.tenant_outbox(tenant, before, limit, keep))
    }
}

impl AccountStore for AnyStore {
    fn create_account(&self, account: &Account) -> Result<(), StoreError> {
        each!(self, s => s.create_account(account))
    }
    fn account(&self, id: &AccountId) -> Result<Option<Account>, StoreError> {
        each!(self, s => s.account(id))
    }
    fn account_by_login(
        &self,
        tenant: &TenantId,
        login: &str,
    ) -> Result<Option<Account>, StoreError> {
        each!(self, s => s.account_by_login(tenant, login))
    }
    fn accounts(&self, tenant: &TenantId) -> Result<Vec<Account>, StoreError> {
        each!(self, s => s.accounts(tenant))
    }
    fn update_account(&self, account: &Account) -> Result<(), StoreError> {
        each!(self, s => s.update_account(account))
    }
    fn create_session(&self, session: &Session) -> Result<(), StoreError> {
        each!(self, s => s.create_session(session))
    }
    fn session(&self, hash: &SecretHash) -> Result<Option<Session>, StoreError> {
        each!(self, s => s.session(hash))
    }
    fn delete_session(&self, hash: &SecretHash) -> Result<bool, StoreError> {
        each!(self, s => s.delete_session(hash))
    }
    fn delete_sessions_of(&self, account: &AccountId) -> Result<u64, StoreError> {
        each!(self, s => s.delete_sessions_of(account))
    }
    fn sweep_sessions(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        each!(self, s => s.sweep_sessions(now))
    }
    fn create_api_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        each!(self, s => s.create_api_token(token))
    }
    fn api_token(&self, hash: &SecretHash) -> Result<Option<ApiToken>, StoreError> {
        each!(self, s => s.api_token(hash))
    }
    fn api_tokens(&self, tenant: &TenantId) -> Result<Vec<ApiToken>, StoreError> {
        each!(self, s => s.api_tokens(tenant))
    }
    fn revoke_api_token(&self, tenant: &TenantId, id: &ApiTokenId) -> Result<bool, StoreError> {
        each!(self, s => s.revoke_api_token(tenant, id))
    }
}
