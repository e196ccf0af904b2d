//! The Postkorb index of the sled store, kept in the same transaction as every submission,
//! status change, case change and purge (so a crash never leaves it behind the records):
//!
//! - `postkorb`: one entry per submission, keyed by tenant, time and id, with the current
//!   status in front and what the list shows (reference, service, applicant, assignee,
//!   follow-up date, search terms);
//! - `postkorb_index`: key-only entries that lead to it, newest first within each: by status,
//!   service, assignee, follow-up date (open cases) and search term;
//! - `postkorb_counts`: how many submissions per status, service and assignee.
//!
//! The list walks the index that fits its filters and stops after one page; its counts come
//! from the counters, or (with a date, reference or follow-up filter) from the bounded set of
//! entries that filter selects. A search intersects the search entries of its words (module
//! `search`) and counts up to a limit. Derived from the records: rebuilt after an import and
//! when a store of an older format opens.

use std::collections::BTreeMap;
use std::ops::Bound;

use serde::{Deserialize, Serialize};
use sled::Tree;
use sled::transaction::TransactionalTree;
use time::{Date, OffsetDateTime};

use super::{POSTKORB, POSTKORB_COUNTS, SledStore, TxResult, tx_err};
use crate::envelope::{decode, encode};
use crate::error::{StoreError, show_key};
use crate::ids::{AccountId, Reference, SubmissionId, TenantId};
use crate::keys::{STATUS, SUBMISSIONS, order_i32, order_i64, read_u64, ref_key};
use crate::model::{Status, StatusRecord, Submission};
use crate::postkorb::{PostkorbEntry, PostkorbPage, PostkorbQuery, ReferenceSearch};

mod search;

/// Kinds of `postkorb_index` entries (the byte after the tenant).
const BY_STATUS: u8 = b's';
const BY_WORKFLOW: u8 = b'w';
const BY_ASSIGNEE: u8 = b'a';
const BY_DUE: u8 = b'd';
const BY_TERM: u8 = b't';

/// Time (8 bytes) and id (16 bytes): the end of every index key, the main key after the tenant.
const TAIL: usize = 24;

fn nanos(at: OffsetDateTime) -> i64 {
    at.unix_timestamp_nanos()
        .clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

fn status_byte(status: Status) -> u8 {
    Status::ALL.iter().position(|s| *s == status).unwrap_or(0) as u8
}

/// The index entry: what the list shows besides time and id, which are in the key.
#[derive(Serialize, Deserialize)]
struct PostkorbRecord {
    reference: Reference,
    workflow_id: String,
    workflow_version: String,
    status: Status,
    #[serde(with = "time::serde::rfc3339")]
    status_at: OffsetDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    applicant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    assignee: Option<AccountId>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::model::iso_date::option"
    )]
    follow_up: Option<Date>,
    /// The search terms, space-separated: a search checks its other words here.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    terms: String,
}

/// Everything the index of one submission is made of: the submission and its status record.
pub(super) struct Facts<'a> {
    sub: &'a Submission,
    status: Status,
    status_at: OffsetDateTime,
    assignee: Option<AccountId>,
    follow_up: Option<Date>,
}

impl<'a> Facts<'a> {
    pub(super) fn of(sub: &'a Submission, record: &StatusRecord) -> Facts<'a> {
        let (status, status_at) = record.current(sub.submitted);
        Facts {
            sub,
            status,
            status_at,
            assignee: record.assignee,
            follow_up: record.follow_up,
        }
    }

    /// Time and id, as every key of this submission ends.
    fn tail(&self) -> Vec<u8> {
        let mut t = Vec::with_capacity(TAIL);
        t.extend_from_slice(&order_i64(nanos(self.sub.submitted)));
        t.extend_from_slice(self.sub.id.as_bytes());
        t
    }

    fn main_key(&self) -> Vec<u8> {
        let mut k = self.sub.tenant.key_prefix();
        k.extend_from_slice(&self.tail());
        k
    }

    fn main_value(&self) -> Result<Vec<u8>, StoreError> {
        let record = PostkorbRecord {
            reference: self.sub.reference.clone(),
            workflow_id: self.sub.workflow_id.clone(),
            workflow_version: self.sub.workflow_version.clone(),
            status: self.status,
            status_at: self.status_at,
            applicant: self.sub.applicant.clone(),
            assignee: self.assignee,
            follow_up: self.follow_up,
            terms: self.sub.search_terms.clone(),
        };
        let mut v = vec![status_byte(self.status)];
        v.extend_from_slice(&encode(POSTKORB, self.sub.id.as_bytes(), &record)?);
        Ok(v)
    }

    fn index_keys(&self) -> Vec<Vec<u8>> {
        let prefix = self.sub.tenant.key_prefix();
        let tail = self.tail();
        let key = |kind: u8, middle: &[u8]| {
            let mut k = Vec::with_capacity(prefix.len() + 1 + middle.len() + TAIL);
            k.extend_from_slice(&prefix);
            k.push(kind);
            k.extend_from_slice(middle);
            k.extend_from_slice(&tail);
            k
        };
        let mut keys = vec![
            key(BY_STATUS, &[status_byte(self.status)]),
            key(BY_WORKFLOW, &with_end(self.sub.workflow_id.as_bytes())),
        ];
        if let Some(a) = &self.assignee {
            keys.push(key(BY_ASSIGNEE, a.as_bytes()));
        }
        keys
    }

    /// The search entries; their value is the status byte, so a search counts without reading
    /// the entries (rewritten when the status changes).
    fn term_keys(&self) -> Vec<Vec<u8>> {
        let prefix = self.sub.tenant.key_prefix();
        let tail = self.tail();
        self.sub
            .search_terms
            .split(' ')
            .filter(|t| !t.is_empty())
            .map(|term| {
                let mut k = prefix.clone();
                k.push(BY_TERM);
                k.extend_from_slice(&with_end(term.as_bytes()));
                k.extend_from_slice(&tail);
                k
            })
            .collect()
    }

    fn due_key(&self) -> Option<Vec<u8>> {
        let d = self.follow_up.filter(|_| !self.status.is_closed())?;
        let mut k = self.sub.tenant.key_prefix();
        k.push(BY_DUE);
        k.extend_from_slice(&order_i32(d.to_julian_day()));
        k.extend_from_slice(&self.tail());
        Some(k)
    }

    fn count_key(&self) -> Vec<u8> {
        count_key(
            &self.sub.tenant.key_prefix(),
            self.status,
            &self.sub.workflow_id,
            self.assignee.as_ref(),
        )
    }
}

/// A variable-length part of a key, ended by a 0 byte (workflow ids and terms have none).
fn with_end(bytes: &[u8]) -> Vec<u8> {
    let mut v = bytes.to_vec();
    v.push(0);
    v
}

/// Counter key: tenant, status byte, workflow id, 0, the assignee's 16 bytes (or none).
fn count_key(
    prefix: &[u8],
    status: Status,
    workflow: &str,
    assignee: Option<&AccountId>,
) -> Vec<u8> {
    let mut k = prefix.to_vec();
    k.push(status_byte(status));
    k.extend_from_slice(&with_end(workflow.as_bytes()));
    if let Some(a) = assignee {
        k.extend_from_slice(a.as_bytes());
    }
    k
}

/// Replaces the index of a submission as it was (`old`, `None`: not indexed yet) by its
/// index as it is now (`new`, `None`: purged), inside the caller's transaction.
pub(super) fn write_index(
    main: &TransactionalTree,
    index: &TransactionalTree,
    counts: &TransactionalTree,
    old: Option<&Facts<'_>>,
    new: Option<&Facts<'_>>,
) -> TxResult<()> {
    let old_keys = old.map(Facts::index_keys).unwrap_or_default();
    let new_keys = new.map(Facts::index_keys).unwrap_or_default();
    for k in old_keys.iter().filter(|k| !new_keys.contains(k)) {
        index.remove(k.as_slice())?;
    }
    for k in new_keys.iter().filter(|k| !old_keys.contains(k)) {
        index.insert(k.as_slice(), &[])?;
    }
    // Entries that carry the status byte: written when new or when the status changed.
    let carried = |f: &Facts<'_>| {
        let mut keys = f.term_keys();
        keys.extend(f.due_key());
        keys
    };
    let old_carried = old.map(carried).unwrap_or_default();
    let new_carried = new.map(carried).unwrap_or_default();
    for k in old_carried.iter().filter(|k| !new_carried.contains(k)) {
        index.remove(k.as_slice())?;
    }
    if let Some(n) = new {
        let same_status = old.is_some_and(|o| o.status == n.status);
        for k in &new_carried {
            if !same_status || !old_carried.contains(k) {
                index.insert(k.as_slice(), &[status_byte(n.status)])?;
            }
        }
    }
    match new {
        Some(n) => {
            main.insert(n.main_key(), n.main_value().map_err(tx_err)?)?;
        }
        None => {
            if let Some(o) = old {
                main.remove(o.main_key())?;
            }
        }
    }
    let old_count = old.map(Facts::count_key);
    let new_count = new.map(Facts::count_key);
    if old_count != new_count {
        if let Some(k) = old_count {
            add_count(counts, &k, -1)?;
        }
        if let Some(k) = new_count {
            add_count(counts, &k, 1)?;
        }
    }
    Ok(())
}

fn add_count(counts: &TransactionalTree, key: &[u8], delta: i64) -> TxResult<()> {
    let now = match counts.get(key)? {
        Some(b) => read_u64(POSTKORB_COUNTS, key, &b).map_err(tx_err)?,
        None => 0,
    };
    let next = now.saturating_add_signed(delta);
    if next == 0 {
        counts.remove(key)?;
    } else {
        counts.insert(key, &next.to_be_bytes())?;
    }
    Ok(())
}

/// An entry of `postkorb`, read: its time and id from the key, the rest from the value.
struct Found {
    key: Vec<u8>,
    record: PostkorbRecord,
}

impl Found {
    fn submitted(&self) -> Option<OffsetDateTime> {
        let tail = self.key.get(self.key.len().checked_sub(TAIL)?..)?;
        let time = i64::from_be_bytes(tail.get(..8)?.try_into().ok()?) ^ i64::MIN;
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(time)).ok()
    }

    fn entry(self) -> Result<PostkorbEntry, StoreError> {
        let bad = || StoreError::Corrupt {
            tree: POSTKORB,
            key: show_key(&self.key),
            reason: "expected tenant, time and id".into(),
        };
        let submitted = self.submitted().ok_or_else(bad)?;
        let id = self
            .key
            .len()
            .checked_sub(16)
            .and_then(|at| SubmissionId::from_key(&self.key[at..]))
            .ok_or_else(bad)?;
        let r = self.record;
        Ok(PostkorbEntry {
            id,
            reference: r.reference,
            workflow_id: r.workflow_id,
            workflow_version: r.workflow_version,
            submitted,
            status: r.status,
            status_at: r.status_at,
            applicant: r.applicant,
            assignee: r.assignee,
            follow_up: r.follow_up,
        })
    }
}

/// The filters of a query, read once.
struct Filter<'q> {
    q: &'q PostkorbQuery,
    reference: ReferenceSearch,
    terms: Vec<String>,
}

impl Filter<'_> {
    /// Every filter except the status (the counts are per status).
    fn matches(&self, f: &Found) -> bool {
        let r = &f.record;
        if self
            .q
            .workflow
            .as_ref()
            .is_some_and(|w| *w != r.workflow_id)
        {
            return false;
        }
        if self.q.assignee.is_some() && self.q.assignee != r.assignee {
            return false;
        }
        if let Some(due) = self.q.due_by
            && (r.status.is_closed() || r.follow_up.is_none_or(|d| d > due))
        {
            return false;
        }
        if self.q.from.is_some() || self.q.until.is_some() {
            let Some(at) = f.submitted() else {
                return false;
            };
            if self.q.from.is_some_and(|from| at < from) || self.q.until.is_some_and(|u| at >= u) {
                return false;
            }
        }
        if !self.reference.matches(&r.reference) {
            return false;
        }
        self.terms
            .iter()
            .all(|t| r.terms.split(' ').any(|w| w.starts_with(t.as_str())))
    }
}

impl SledStore {
    fn found(&self, key: &[u8]) -> Result<Option<Found>, StoreError> {
        let Some(value) = self.inner.postkorb.get(key)? else {
            return Ok(None);
        };
        let record = decode(POSTKORB, key, value.get(1..).unwrap_or_default())?;
        Ok(Some(Found {
            key: key.to_vec(),
            record,
        }))
    }

    /// Builds the Postkorb index from the submissions and their status (after an import, or on
    /// the first open of a store whose index is older or missing).
    pub(super) fn rebuild_postkorb(&self) -> Result<(), StoreError> {
        let i = &self.inner;
        i.postkorb.clear()?;
        i.postkorb_index.clear()?;
        i.postkorb_counts.clear()?;
        let mut counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        for item in i.submissions.iter() {
            let (key, bytes) = item?;
            // An unreadable submission stays out of the list; it is still exported.
            let Ok(sub) = decode::<Submission>(SUBMISSIONS, &key, &bytes) else {
                continue;
            };
            let record = match i.status.get(&key)? {
                Some(b) => decode::<StatusRecord>(STATUS, &key, &b)?,
                None => StatusRecord::received(sub.submitted),
            };
            let facts = Facts::of(&sub, &record);
            i.postkorb.insert(facts.main_key(), facts.main_value()?)?;
            for k in facts.index_keys() {
                i.postkorb_index.insert(k, &[])?;
            }
            for k in facts.term_keys().into_iter().chain(facts.due_key()) {
                i.postkorb_index.insert(k, &[status_byte(facts.status)])?;
            }
            *counts.entry(facts.count_key()).or_default() += 1;
        }
        for (k, n) in counts {
            i.postkorb_counts.insert(k, &n.to_be_bytes())?;
        }
        Ok(())
    }

    /// The counts per status under the service and assignee filters, from the counters.
    fn counted(
        &self,
        prefix: &[u8],
        q: &PostkorbQuery,
    ) -> Result<[u64; Status::ALL.len()], StoreError> {
        let mut counts = [0u64; Status::ALL.len()];
        for item in self.inner.postkorb_counts.scan_prefix(prefix) {
            let (key, value) = item?;
            let rest = &key[prefix.len()..];
            let Some((&status, rest)) = rest.split_first() else {
                continue;
            };
            let Some(end) = rest.iter().position(|b| *b == 0) else {
                continue;
            };
            let (workflow, assignee) = (&rest[..end], &rest[end + 1..]);
            if q.workflow
                .as_ref()
                .is_some_and(|w| w.as_bytes() != workflow)
            {
                continue;
            }
            if q.assignee.is_some_and(|a| a.as_bytes()[..] != *assignee) {
                continue;
            }
            if let Some(slot) = counts.get_mut(usize::from(status)) {
                *slot += read_u64(POSTKORB_COUNTS, &key, &value)?;
            }
        }
        Ok(counts)
    }

    /// The Postkorb list (docs/store.md, "The Postkorb index").
    pub(super) fn postkorb_page(
        &self,
        tenant: &TenantId,
        q: &PostkorbQuery,
    ) -> Result<PostkorbPage, StoreError> {
        let prefix = tenant.key_prefix();
        let filter = Filter {
            q,
            reference: ReferenceSearch::parse(q.reference.as_deref()),
            terms: q.terms(),
        };
        if filter.reference == ReferenceSearch::Nothing {
            return Ok(page_of(PostkorbPage::default(), [0; Status::ALL.len()]));
        }
        if !filter.terms.is_empty() {
            return self.search_page(&prefix, &filter);
        }
        // A bounded set of candidates: the matches of a reference, what is due.
        let candidates = if let ReferenceSearch::Number { .. } = filter.reference {
            Some(self.reference_candidates(tenant, &filter.reference)?)
        } else if let Some(due) = q.due_by {
            let mut start = prefix.clone();
            start.push(BY_DUE);
            let mut end = start.clone();
            end.extend_from_slice(&order_i32(due.to_julian_day()));
            end.extend_from_slice(&[0xff; TAIL]);
            let range = self.inner.postkorb_index.range(start..=end);
            if q.counted_by_counters_besides_due() {
                return self.due_page(&prefix, q, range);
            }
            Some(self.tails(&prefix, range)?)
        } else {
            None
        };
        if let Some(mut keys) = candidates {
            keys.sort_unstable_by(|a, b| b.cmp(a));
            keys.dedup();
            return self.walk_keys(keys.into_iter().map(Ok), &filter, None);
        }
        if q.counted_by_counters() {
            return self.page_by_counters(&prefix, &filter);
        }
        // A date range (with or without status, service, assignee): the walk over the range.
        let bound = |at: Option<OffsetDateTime>, fill: u8| {
            let mut k = prefix.clone();
            match at {
                Some(at) => k.extend_from_slice(&order_i64(nanos(at))),
                None => k.extend_from_slice(&[fill; 8]),
            }
            k
        };
        let start = bound(q.from, 0x00);
        let end = bound(q.until, 0xff);
        let end = if q.until.is_some() {
            Bound::Excluded(end)
        } else {
            let mut e = end;
            e.extend_from_slice(&[0xff; 16]);
            Bound::Included(e)
        };
        let range = self
            .inner
            .postkorb
            .range((Bound::Included(start), end))
            .rev();
        // The range is the filter unless a service or assignee is chosen too: then each entry
        // is read; else the status byte counts it and only the page is read.
        let read_each = q.workflow.is_some() || q.assignee.is_some();
        let mut counts = [0u64; Status::ALL.len()];
        let mut page = PostkorbPage::default();
        for item in range {
            let (key, value) = item?;
            let Some((&byte, record)) = value.split_first() else {
                continue;
            };
            let mut found = None;
            if read_each {
                let f = Found {
                    key: key.to_vec(),
                    record: decode(POSTKORB, &key, record)?,
                };
                if !filter.matches(&f) {
                    continue;
                }
                found = Some(f);
            }
            if let Some(slot) = counts.get_mut(usize::from(byte)) {
                *slot += 1;
            }
            if q.status.is_some_and(|s| status_byte(s) != byte) {
                continue;
            }
            page.total += 1;
            if page.total as usize > q.offset && page.entries.len() < q.limit {
                let f = match found {
                    Some(f) => f,
                    None => Found {
                        key: key.to_vec(),
                        record: decode(POSTKORB, &key, record)?,
                    },
                };
                page.entries.push(f.entry()?);
            }
        }
        Ok(page_of(page, counts))
    }

    /// What is due, under no filter but the status: counted from the follow-up entries'
    /// status bytes, only the page read.
    fn due_page(
        &self,
        prefix: &[u8],
        q: &PostkorbQuery,
        range: sled::Iter,
    ) -> Result<PostkorbPage, StoreError> {
        let mut counts = [0u64; Status::ALL.len()];
        let mut keys = Vec::new();
        for item in range {
            let (k, v) = item?;
            let byte = v.first().copied().unwrap_or(0);
            if let Some(slot) = counts.get_mut(usize::from(byte)) {
                *slot += 1;
            }
            if q.status.is_none_or(|s| status_byte(s) == byte) {
                keys.push(main_key_of(prefix, &k));
            }
        }
        keys.sort_unstable_by(|a, b| b.cmp(a));
        let mut page = PostkorbPage::default();
        for key in keys.iter().skip(q.offset).take(q.limit) {
            if let Some(found) = self.found(key)? {
                page.entries.push(found.entry()?);
            }
        }
        let mut page = page_of(page, counts);
        page.total = total_of(q, &page);
        Ok(page)
    }

    /// Main keys from index keys (the tenant's prefix and the index key's tail).
    fn tails(
        &self,
        prefix: &[u8],
        range: impl Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut keys = Vec::new();
        for item in range {
            let (k, _) = item?;
            keys.push(main_key_of(prefix, &k));
        }
        Ok(keys)
    }

    /// Main keys of the tenant's submissions with the searched reference number.
    fn reference_candidates(
        &self,
        tenant: &TenantId,
        search: &ReferenceSearch,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let ReferenceSearch::Number {
            prefix,
            year,
            number,
        } = search
        else {
            return Ok(Vec::new());
        };
        if prefix
            .as_deref()
            .is_some_and(|p| p != tenant.reference_prefix())
        {
            return Ok(Vec::new());
        }
        // The years the tenant has references in: its counters.
        let years: Vec<i32> = match year {
            Some(y) => vec![*y],
            None => {
                let tp = tenant.key_prefix();
                let mut ys = Vec::new();
                for k in self.inner.counters.scan_prefix(&tp).keys() {
                    let k = k?;
                    if let Some(b) = k.get(tp.len()..tp.len() + 4)
                        && let Ok(b) = <[u8; 4]>::try_from(b)
                    {
                        ys.push((u32::from_be_bytes(b) ^ (1 << 31)) as i32);
                    }
                }
                ys
            }
        };
        let mut keys = Vec::new();
        for y in years {
            let Some(id) = self
                .inner
                .submission_refs
                .get(ref_key(tenant, y, *number))?
            else {
                continue;
            };
            if let Some(sub) = self.get_submission(&id)? {
                let mut k = tenant.key_prefix();
                k.extend_from_slice(&order_i64(nanos(sub.submitted)));
                k.extend_from_slice(sub.id.as_bytes());
                keys.push(k);
            }
        }
        Ok(keys)
    }

    /// A page from main keys in list order: every entry read and filtered, counted per status.
    fn walk_keys(
        &self,
        keys: impl Iterator<Item = Result<Vec<u8>, StoreError>>,
        filter: &Filter<'_>,
        counted: Option<[u64; Status::ALL.len()]>,
    ) -> Result<PostkorbPage, StoreError> {
        let q = filter.q;
        let mut counts = [0u64; Status::ALL.len()];
        let mut page = PostkorbPage::default();
        for key in keys {
            let Some(found) = self.found(&key?)? else {
                continue;
            };
            if !filter.matches(&found) {
                continue;
            }
            if let Some(slot) = counts.get_mut(status_byte(found.record.status) as usize) {
                *slot += 1;
            }
            if q.status.is_some_and(|s| s != found.record.status) {
                continue;
            }
            page.total += 1;
            if page.total as usize > q.offset && page.entries.len() < q.limit {
                page.entries.push(found.entry()?);
            } else if counted.is_some() && page.entries.len() >= q.limit {
                break;
            }
        }
        match counted {
            Some(c) => {
                let mut page = page_of(page, c);
                page.total = total_of(q, &page);
                Ok(page)
            }
            None => Ok(page_of(page, counts)),
        }
    }

    /// Filters of status, service and assignee only: counts from the counters, the page from
    /// the narrowest index, newest first, read no further than the page.
    fn page_by_counters(
        &self,
        prefix: &[u8],
        filter: &Filter<'_>,
    ) -> Result<PostkorbPage, StoreError> {
        let q = filter.q;
        let counts = self.counted(prefix, q)?;
        let (tree, start): (&Tree, Vec<u8>) = {
            let mut k = prefix.to_vec();
            if let Some(a) = &q.assignee {
                k.push(BY_ASSIGNEE);
                k.extend_from_slice(a.as_bytes());
                (&self.inner.postkorb_index, k)
            } else if let Some(s) = q.status {
                k.push(BY_STATUS);
                k.push(status_byte(s));
                (&self.inner.postkorb_index, k)
            } else if let Some(w) = &q.workflow {
                k.push(BY_WORKFLOW);
                k.extend_from_slice(&with_end(w.as_bytes()));
                (&self.inner.postkorb_index, k)
            } else {
                (&self.inner.postkorb, k)
            }
        };
        let exact = match () {
            _ if q.assignee.is_some() => q.status.is_none() && q.workflow.is_none(),
            _ if q.status.is_some() => q.workflow.is_none(),
            _ => true,
        };
        let mut end = start.clone();
        end.extend_from_slice(&[0xff; TAIL + 1]);
        let keys = tree.range(start..end).rev().map(|item| {
            item.map_err(StoreError::from)
                .map(|(k, _)| main_key_of(prefix, &k))
        });
        if exact {
            // The index holds exactly the matches: skip to the page by key, read only it.
            let mut page = PostkorbPage::default();
            for key in keys.skip(q.offset).take(q.limit) {
                if let Some(found) = self.found(&key?)? {
                    page.entries.push(found.entry()?);
                }
            }
            let mut page = page_of(page, counts);
            page.total = total_of(q, &page);
            return Ok(page);
        }
        self.walk_keys(keys, filter, Some(counts))
    }
}

fn main_key_of(prefix: &[u8], index_key: &[u8]) -> Vec<u8> {
    let mut k = prefix.to_vec();
    k.extend_from_slice(&index_key[index_key.len().saturating_sub(TAIL)..]);
    k
}

fn page_of(mut page: PostkorbPage, counts: [u64; Status::ALL.len()]) -> PostkorbPage {
    page.counts = Status::ALL.into_iter().zip(counts).collect();
    page
}

fn total_of(q: &PostkorbQuery, page: &PostkorbPage) -> u64 {
    match q.status {
        Some(s) => page.counts.get(&s).copied().unwrap_or(0),
        None => page.counts.values().sum(),
    }
}
