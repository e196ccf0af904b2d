//! Backend-neutral key layouts and tree names: how sled keys its records and indexes, which is
//! also the key format of the JSON Lines export of every backend (docs/store.md, "On-disk
//! layout"). Must not depend on a backend.

use crate::error::{StoreError, show_key};
use crate::ids::{IdempotencyKey, ResumeCode, SubmissionId, TenantId};

/// Drafts (on sled: those not edited for an hour, moved by
/// [`crate::SledStore::archive_idle_drafts`]).
pub(crate) const DRAFTS: &str = "drafts";
/// Resume codes of drafts whose id does not start with the code's hash (drafts of store
/// format 1, imported ones): SHA-256 of the code → draft id.
pub(crate) const DRAFT_CODES: &str = "draft_codes";
/// Store format 1's expiry index; dropped when such a store opens, skipped in imports.
pub(crate) const DRAFT_EXPIRY: &str = "draft_expiry";
pub(crate) const SUBMISSIONS: &str = "submissions";
pub(crate) const SUBMISSION_REFS: &str = "submission_refs";
pub(crate) const COUNTERS: &str = "counters";
pub(crate) const IDEMPOTENCY: &str = "idempotency";
pub(crate) const STATUS: &str = "status";
pub(crate) const MESSAGES: &str = "messages";
/// The office's internal notes: submission id + sequence → note (never shown to citizens).
pub(crate) const NOTES: &str = "notes";
pub(crate) const AUDIT: &str = "audit";
pub(crate) const OUTBOX: &str = "outbox";
pub(crate) const ACCOUNTS: &str = "accounts";
pub(crate) const ACCOUNT_LOGINS: &str = "account_logins";
pub(crate) const API_TOKENS: &str = "api_tokens";
/// Node secrets ([`crate::SecretStore`]): name → bytes. Exported, not counted when an import
/// checks that the store is empty (a server that started once has created its CSRF secret).
pub(crate) const SECRETS: &str = "secrets";
/// Payments applications wait for ([`crate::PaymentStore`]): id → payment. Exported since
/// export format 5, in flight and settled alike.
pub(crate) const PAYMENTS: &str = "payments";
/// Payments by tenant and submit key: `slug 0 key` → payment id (exported raw, as sled keeps
/// it; PostgreSQL derives it from its unique constraint and skips it on import).
pub(crate) const PAYMENT_KEYS: &str = "payment_keys";
/// Not exported: sessions end with a restore.
pub(crate) const SESSIONS: &str = "sessions";
/// Appointments: visit id -> visit; (tenant, office, day) -> the ids of its visits.
pub(crate) const VISITS: &str = "visits";
pub(crate) const VISIT_DAYS: &str = "visit_days";
/// Citizen sign-in: kind byte + SHA-256 → session, sign-in in progress or replay record. Not
/// exported: sessions end with a restore.
pub(crate) const CITIZEN_LOGIN: &str = "citizen_login";
/// Mein Konto: SHA-256 of the pseudonymous id + draft id → link. Not exported yet.
pub(crate) const CITIZEN_LINKS: &str = "citizen_links";

/// Every data tree in export order, and whether its values are JSON envelopes.
pub(crate) const TREES: [(&str, bool); 18] = [
    (DRAFTS, true),
    (DRAFT_CODES, false),
    (SUBMISSIONS, true),
    (SUBMISSION_REFS, false),
    (COUNTERS, false),
    (IDEMPOTENCY, false),
    (STATUS, true),
    (MESSAGES, true),
    (NOTES, true),
    (AUDIT, true),
    (OUTBOX, true),
    (ACCOUNTS, true),
    (ACCOUNT_LOGINS, false),
    (API_TOKENS, true),
    (SECRETS, false),
    (PAYMENTS, true),
    (PAYMENT_KEYS, false),
    (VISITS, true),
];

/// Sorts signed numbers correctly as big-endian bytes.
pub(crate) fn order_i64(v: i64) -> [u8; 8] {
    ((v as u64) ^ (1 << 63)).to_be_bytes()
}

pub(crate) fn order_i32(v: i32) -> [u8; 4] {
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

pub(crate) fn read_u64(tree: &'static str, key: &[u8], bytes: &[u8]) -> Result<u64, StoreError> {
    bytes
        .try_into()
        .map(u64::from_be_bytes)
        .map_err(|_| StoreError::Corrupt {
            tree,
            key: show_key(key),
            reason: "expected an 8-byte number".into(),
        })
}

pub(crate) fn login_key(tenant: &TenantId, login: &str) -> Vec<u8> {
    let mut k = tenant.key_prefix();
    k.extend_from_slice(login.as_bytes());
    k
}
