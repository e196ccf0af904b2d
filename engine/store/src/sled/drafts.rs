//! [`DraftStore`] on sled: the recent and the idle draft tree, the archive pass, the sweep.

use std::sync::PoisonError;

use serde::Deserialize;
use sled::IVec;
use time::OffsetDateTime;

use super::SledStore;
use crate::AuditStore;
use crate::envelope::{decode, decode_head, encode, encode_sized, is_packed, pack, packed_expiry};
use crate::error::StoreError;
use crate::ids::{CODE_PREFIX_LEN, DraftId, IdempotencyKey, ResumeCode, SubmissionId, TenantId};
use crate::keys::{DRAFT_CODES, DRAFTS, code_key};
use crate::model::{Actor, AuditAction, Draft};
use crate::{DraftStore, SubmissionStore};

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

    fn draft_with_submission(
        &self,
        id: &DraftId,
    ) -> Result<Option<(Draft, Option<SubmissionId>)>, StoreError> {
        let Some(draft) = self.draft(id)? else {
            return Ok(None);
        };
        // An index lookup that finds nothing unless the draft's submit was stored.
        let key = IdempotencyKey::for_draft(&draft.id, draft.revision);
        let submitted = self
            .submission_by_idempotency_key(&draft.tenant, &key)?
            .map(|s| s.id);
        Ok(Some((draft, submitted)))
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
