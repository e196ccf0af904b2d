//! Export and import of the PostgreSQL store through the shared JSON Lines codec
//! (`crate::codec`).

use std::io::{BufRead, Write};

use sqlx::{Connection, Row};

use super::outbox::outbox_columns;
use super::{
    PgStore, Tx, db_err, decode_submission, json, record_text, to_i64, to_u64, v_current, version,
};
use crate::AttachmentStore;
use crate::accounts::{Account, ApiToken};
use crate::codec::{ExportWriter, Progress, bad_line, read_export};
use crate::envelope::{decode, decode_parts, encode};
use crate::error::StoreError;
use crate::ids::{SubmissionId, TenantId, hex};
use crate::keys::{
    ACCOUNTS, API_TOKENS, AUDIT, DRAFTS, MESSAGES, NOTES, OUTBOX, PAYMENT_KEYS, PAYMENTS, SECRETS,
    STATUS, SUBMISSIONS, VISITS, code_key, counter_key, idempotency_key, login_key, message_key,
    ref_key,
};
use crate::model::{
    AuditEntry, Draft, Message, Note, OutboxMessage, Status, StatusRecord, Submission,
};
use crate::payments::{Payment, payment_key};
use crate::visits::Visit;

// Export and import: the same JSON Lines as the sled store (docs/store.md), so `lotse export`
// from one backend and `lotse import` into the other is the migration path. Index trees are
// derived from the records on export and rebuilt from them on import.

/// A value of an export line: an envelope (`"value"`) or bytes (`"raw"`, hex).
enum ExportValue {
    Json(Vec<u8>),
    Raw(Vec<u8>),
}

impl PgStore {
    fn is_empty(&self) -> Result<bool, StoreError> {
        self.run(async |pool| {
            let any: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM drafts) OR EXISTS (SELECT 1 FROM submissions) \
                 OR EXISTS (SELECT 1 FROM reference_counters) OR EXISTS (SELECT 1 FROM audit) \
                 OR EXISTS (SELECT 1 FROM outbox) OR EXISTS (SELECT 1 FROM accounts) \
                 OR EXISTS (SELECT 1 FROM api_tokens) OR EXISTS (SELECT 1 FROM payments) \
                 OR EXISTS (SELECT 1 FROM visits)",
            )
            .fetch_one(&mut *pool)
            .await
            .map_err(db_err)?;
            Ok(!any)
        })
    }

    /// Writes every record as the JSON Lines of [`crate::SledStore::export_jsonl`]: the same
    /// trees, keys and envelopes, so either backend imports it. Reads one consistent snapshot
    /// (a REPEATABLE READ transaction). Records of one kind are sorted in memory by their key.
    pub fn export_jsonl(
        &self,
        out: &mut impl Write,
        progress: impl FnMut(Progress),
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
        let mut writer = ExportWriter::start(out, progress)?;
        for (name, mut entries) in trees {
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            for (key, value) in entries {
                match value {
                    ExportValue::Json(v) => writer.record(name, &key, &v, true)?,
                    ExportValue::Raw(v) => writer.record(name, &key, &v, false)?,
                }
            }
            writer.end_tree(name);
        }
        // The files, chunk by chunk, after the snapshot of the records (one deleted since is
        // left out).
        for hash in self.attachment_hashes()? {
            writer.attachment(&hash, |out| self.read_attachment(&hash, out))?;
        }
        writer.finish()
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
        // Parse everything first (decoding checks every record), then write in one transaction.
        // Attachments are stored as they stream in, each in its own transaction: one that
        // stays after a failed import is unreferenced, and the housekeeping removes it.
        let mut rows: Vec<ImportRow> = Vec::new();
        let summary = read_export(
            input,
            &mut progress,
            |rec| {
                let row = import_row(rec.tree, &rec.key, &rec.value)
                    .map_err(|e| bad_line(rec.line, e.to_string()))?;
                rows.extend(row);
                Ok(())
            },
            |hash, bytes| self.put_attachment(hash, bytes, u64::MAX).map(drop),
        )?;
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
            tree: summary.last_tree,
            records: summary.records,
        });
        Ok(summary.records)
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

async fn export_trees(tx: &mut Tx<'_>) -> Result<TreeDump, StoreError> {
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
    let mut notes = Vec::new();
    for r in sqlx::query("SELECT seq, v, record::text AS record FROM notes")
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?
    {
        let seq: i64 = r.try_get("seq").map_err(db_err)?;
        let mut n: Note = decode_parts(NOTES, &seq.to_string(), version(&r)?, &record_text(&r)?)?;
        n.seq = to_u64(seq);
        let key = message_key(&n.submission, n.seq);
        notes.push((key.clone(), env_bytes(NOTES, &key, &n)?));
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
        let a: Account = decode_parts(ACCOUNTS, &hex(&id), version(&r)?, &record_text(&r)?)?;
        logins.push((login_key(&a.tenant, &a.login), ExportValue::Raw(id.clone())));
        accounts.push((id.clone(), env_bytes(ACCOUNTS, &id, &a)?));
    }
    let mut tokens = Vec::new();
    for r in sqlx::query("SELECT hash, v, record::text AS record FROM api_tokens")
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?
    {
        let hash: Vec<u8> = r.try_get("hash").map_err(db_err)?;
        let t: ApiToken = decode_parts(API_TOKENS, "(hash)", version(&r)?, &record_text(&r)?)?;
        tokens.push((hash.clone(), env_bytes(API_TOKENS, &hash, &t)?));
    }
    // Node secrets as sled keeps them: the name as key, the bytes raw.
    let mut secrets = Vec::new();
    for r in sqlx::query("SELECT name, value FROM node_secrets")
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?
    {
        let name: String = r.try_get("name").map_err(db_err)?;
        let value: Vec<u8> = r.try_get("value").map_err(db_err)?;
        secrets.push((name.into_bytes(), ExportValue::Raw(value)));
    }
    // Payments with their index by tenant and submit key, as sled keeps them: in flight and
    // settled alike (an in-flight one is settled after the import like before it).
    let mut payments = Vec::new();
    let mut payment_keys = Vec::new();
    for r in sqlx::query("SELECT id, v, record::text AS record FROM payments")
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?
    {
        let id: Vec<u8> = r.try_get("id").map_err(db_err)?;
        let p: Payment = decode_parts(PAYMENTS, &hex(&id), version(&r)?, &record_text(&r)?)?;
        payment_keys.push((payment_key(&p.tenant, &p.key), ExportValue::Raw(id.clone())));
        payments.push((id.clone(), env_bytes(PAYMENTS, &id, &p)?));
    }
    // Appointments: each visit by its id; the day rows are only locks, made on first use.
    let mut visits = Vec::new();
    for r in sqlx::query("SELECT id, v, record::text AS record FROM visits")
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?
    {
        let id: Vec<u8> = r.try_get("id").map_err(db_err)?;
        let visit: Visit = decode_parts(VISITS, &hex(&id), version(&r)?, &record_text(&r)?)?;
        visits.push((id.clone(), env_bytes(VISITS, &id, &visit)?));
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
        (NOTES, notes),
        (AUDIT, audit),
        (OUTBOX, outbox),
        (ACCOUNTS, accounts),
        ("account_logins", logins),
        (API_TOKENS, tokens),
        (SECRETS, secrets),
        (PAYMENTS, payments),
        (PAYMENT_KEYS, payment_keys),
        (VISITS, visits),
    ])
}

/// One record of an import, decoded (older formats migrated) and ready to insert.
enum ImportRow {
    Draft(Draft),
    Submission(Submission),
    Counter { slug: String, year: i32, last: i64 },
    Status(Vec<u8>, StatusRecord),
    Message(Message),
    Note(Note),
    Audit(AuditEntry),
    Outbox(OutboxMessage),
    Account(Account),
    ApiToken(ApiToken),
    Secret { name: String, value: Vec<u8> },
    Payment(Payment),
    Visit(Visit),
}

impl ImportRow {
    /// Inserts the row; returns its generated id (audit, message, outbox) or 0.
    async fn insert(&self, tx: &mut Tx<'_>) -> Result<i64, StoreError> {
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
            Self::Note(n) => sqlx::query(
                "INSERT INTO notes (seq, submission, v, record) VALUES ($1, $2, $3, $4::jsonb)",
            )
            .bind(to_i64("note", n.seq)?)
            .bind(n.submission.as_bytes().to_vec())
            .bind(v)
            .bind(json(NOTES, &n.seq.to_string(), n)?),
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
            .bind(json(ACCOUNTS, &a.id.to_string(), a)?),
            Self::ApiToken(t) => sqlx::query(
                "INSERT INTO api_tokens (hash, id, tenant, created, v, record) \
                 VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
            )
            .bind(t.hash.as_bytes().to_vec())
            .bind(t.id.as_bytes().to_vec())
            .bind(t.tenant.slug().to_owned())
            .bind(t.created)
            .bind(v)
            .bind(json(API_TOKENS, &t.id.to_string(), t)?),
            // The import wins over a secret a node created before it (the store is otherwise
            // empty, so nothing depends on that one yet).
            Self::Secret { name, value } => sqlx::query(
                "INSERT INTO node_secrets (name, value) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
            )
            .bind(name.clone())
            .bind(value.clone()),
            Self::Payment(p) => sqlx::query(
                "INSERT INTO payments (id, tenant, key, revision, open, updated, v, record) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)",
            )
            .bind(p.id.as_bytes().to_vec())
            .bind(p.tenant.slug().to_owned())
            .bind(p.key.as_str().to_owned())
            .bind(to_i64("revision", p.revision)?)
            .bind(p.open)
            .bind(p.updated)
            .bind(v)
            .bind(json(PAYMENTS, &p.id.to_string(), p)?),
            Self::Visit(x) => sqlx::query(
                "INSERT INTO visits (id, tenant, office, day, v, record) \
                 VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
            )
            .bind(x.id.as_bytes().to_vec())
            .bind(x.tenant.slug().to_owned())
            .bind(x.office.clone())
            .bind(x.day)
            .bind(v)
            .bind(json(VISITS, &x.id.to_string(), x)?),
        };
        q.execute(&mut **tx).await.map_err(db_err)?;
        Ok(match self {
            Self::Message(m) => to_i64("message", m.seq)?,
            Self::Note(n) => to_i64("note", n.seq)?,
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
        "notes" => ImportRow::Note(decode(NOTES, key, value)?),
        "audit" => ImportRow::Audit(decode(AUDIT, key, value)?),
        "outbox" => ImportRow::Outbox(decode(OUTBOX, key, value)?),
        "accounts" => ImportRow::Account(decode(ACCOUNTS, key, value)?),
        "api_tokens" => ImportRow::ApiToken(decode(API_TOKENS, key, value)?),
        "payments" => ImportRow::Payment(decode(PAYMENTS, key, value)?),
        "visits" => ImportRow::Visit(decode(VISITS, key, value)?),
        "secrets" => ImportRow::Secret {
            name: String::from_utf8(key.to_vec())
                .map_err(|_| StoreError::InvalidInput("secret name is not UTF-8".into()))?,
            value: value.to_vec(),
        },
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
        "draft_codes" | "draft_expiry" | "submission_refs" | "idempotency" | "account_logins"
        | "payment_keys" | "visit_days" => {
            return Ok(None);
        }
        other => return Err(StoreError::InvalidInput(format!("unknown tree {other:?}"))),
    }))
}
