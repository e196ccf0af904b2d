//! The Postkorb index of the sled store: one entry per submission, keyed by tenant and time,
//! with the current status in front so that counting needs no decoding.

use serde::Deserialize;
use time::OffsetDateTime;

use super::{POSTKORB, SledStore};
use crate::envelope::{decode, decode_head, encode};
use crate::error::{StoreError, show_key};
use crate::ids::{Reference, SubmissionId, TenantId};
use crate::keys::{STATUS, SUBMISSIONS, order_i64};
use crate::model::{Status, StatusRecord, Submission};
use crate::postkorb::{PostkorbEntry, PostkorbPage, PostkorbQuery};

/// Postkorb index key: tenant, submission time (nanoseconds, sortable), submission id. The
/// list reads it backwards: newest first.
pub(super) fn postkorb_key(
    tenant: &TenantId,
    submitted: OffsetDateTime,
    id: &SubmissionId,
) -> Vec<u8> {
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
pub(super) fn postkorb_value(
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

impl SledStore {
    /// Builds the Postkorb index from the submissions and their status (after an import, or on
    /// the first open of a store that predates the index).
    pub(super) fn rebuild_postkorb(&self) -> Result<(), StoreError> {
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

    /// The Postkorb list: the index read backwards over the time range, filtered, counted.
    pub(super) fn postkorb_page(
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
}
