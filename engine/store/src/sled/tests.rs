//! Behaviour of the sled backend beyond the shared suite.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::Ordering;

use time::Duration;

use super::*;
use crate::envelope::{is_packed, packed_expiry};
use crate::ids::hex;
use crate::keys::code_key;
use crate::suite::{T0, new_draft, sled_store};
use crate::{DEFAULT_DRAFT_TTL, DeterministicEntropy};
use crate::{Draft, DraftId, DraftStore, ResumeCode, StoreError};

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

/// The store format the store's meta tree names.
fn stored_format(s: &SledStore) -> u32 {
    decode(
        "meta",
        META_STORE_FORMAT,
        &s.inner.meta.get(META_STORE_FORMAT).unwrap().unwrap(),
    )
    .unwrap()
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
    assert_eq!(stored_format(&s), STORE_FORMAT);
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

#[test]
fn a_format_5_store_gets_its_audit_index_on_first_open() {
    use crate::suite::{new_submission, tenant};
    use crate::{Actor, AuditAction, AuditStore, ReadKind, SubmissionStore};
    let dir = tempfile::tempdir().unwrap();
    let mut e = DeterministicEntropy::new(43);
    let sub = {
        let s = SledStore::open(dir.path()).unwrap();
        let sub = s.submit(new_submission(&mut e, "k"), T0).unwrap();
        s.append_audit(
            T0,
            Actor::System,
            Some(&tenant()),
            AuditAction::SubmissionRead {
                submission: sub.id,
                what: ReadKind::Page,
                sha256: None,
            },
        )
        .unwrap();
        assert_eq!(s.submission_audit(&sub.id).unwrap().len(), 2);
        // As a Lotse of format 5 left it: the log without its index.
        s.inner.audit_index.clear().unwrap();
        s.inner
            .meta
            .insert(
                META_STORE_FORMAT,
                encode("meta", META_STORE_FORMAT, &5u32).unwrap(),
            )
            .unwrap();
        s.inner.db.flush().unwrap();
        assert!(s.submission_audit(&sub.id).unwrap().is_empty());
        sub
    };
    let s = SledStore::open(dir.path()).unwrap();
    let about = s.submission_audit(&sub.id).unwrap();
    assert_eq!(about.len(), 2);
    assert!(matches!(
        about[1].action,
        AuditAction::SubmissionRead {
            what: ReadKind::Page,
            ..
        }
    ));
    assert_eq!(stored_format(&s), STORE_FORMAT);
}
