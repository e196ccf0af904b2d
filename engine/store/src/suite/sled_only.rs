//! Backend-specific behaviour of sled: format envelope, corruption, export/import, reopening.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

#[test]
fn a_garbage_record_is_named_and_other_records_stay_readable() {
    let (s, _dir) = sled_store();
    let mut e = DeterministicEntropy::new(20);
    let good = new_draft(&mut e, T0);
    let bad = new_draft(&mut e, T0);
    s.create_draft(&good).unwrap();
    s.create_draft(&bad).unwrap();
    s.put_raw("drafts", bad.id.as_bytes(), b"\x00\x13garbage{")
        .unwrap();
    let err = s.draft(&bad.id).unwrap_err();
    assert_eq!(err.code(), "LOT-S006");
    assert!(
        err.to_string().contains(&format!("drafts/{}", bad.id)),
        "{err}"
    );
    assert_eq!(s.draft(&good.id).unwrap().unwrap(), good);
    assert_eq!(s.sweep_expired(T0 + Duration::days(31)).unwrap(), 1);
}

#[test]
fn a_record_from_a_newer_version_is_refused_by_key() {
    let (s, _dir) = sled_store();
    let mut e = DeterministicEntropy::new(21);
    let d = new_draft(&mut e, T0);
    s.create_draft(&d).unwrap();
    s.put_raw("drafts", d.id.as_bytes(), br#"{"v":2,"d":{"new":"shape"}}"#)
        .unwrap();
    let err = s.draft(&d.id).unwrap_err();
    assert_eq!(err.code(), "LOT-S005");
    assert!(err.to_string().contains(&d.id.to_string()));
}

#[test]
fn everything_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = DeterministicEntropy::new(22);
    let d = new_draft(&mut e, T0);
    let sub = {
        let s = SledStore::open(dir.path()).unwrap();
        s.create_draft(&d).unwrap();
        s.submit(new_submission(&mut e, "k"), T0).unwrap()
    };
    let s = SledStore::open(dir.path()).unwrap();
    assert_eq!(s.draft(&d.id).unwrap().unwrap(), d);
    assert_eq!(s.submission(&sub.id).unwrap().unwrap(), sub);
    let next = s.submit(new_submission(&mut e, "k2"), T0).unwrap();
    assert_eq!(next.reference.number(), 2);
}

#[test]
fn close_writes_a_snapshot_only_for_the_last_clone_and_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let snapshots = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with("snap."))
            .collect::<Vec<_>>()
    };
    let mut e = DeterministicEntropy::new(23);
    let d = new_draft(&mut e, T0);
    let s = SledStore::open(dir.path()).unwrap();
    s.create_draft(&d).unwrap();
    let before = snapshots();
    let other = s.clone();
    assert!(!s.close().unwrap(), "a clone is still alive");
    assert!(other.close().unwrap());
    // sled wrote a new snapshot (named by its log position) that covers the draft.
    let after = snapshots();
    assert!(
        after.iter().any(|n| !before.contains(n)),
        "{before:?} {after:?}"
    );
    let s = SledStore::open(dir.path()).unwrap();
    assert_eq!(s.draft(&d.id).unwrap().unwrap(), d);
    assert!(s.close().unwrap());
}

pub(crate) fn filled_store() -> (SledStore, tempfile::TempDir) {
    let (s, dir) = sled_store();
    let mut e = DeterministicEntropy::new(23);
    for i in 0..30 {
        let mut d = new_draft(&mut e, T0);
        d.state = json!({"i": i, "f": 0.1 + f64::from(i), "text": "Straße \"7\"\n"});
        s.create_draft(&d).unwrap();
    }
    for i in 0..5 {
        let mut n = new_submission(&mut e, &format!("k{i}"));
        n.notifications.push(NewOutboxMessage {
            topic: "submission.received".into(),
            target: "fv".into(),
            payload: json!({"i": i}),
        });
        let sub = s.submit(n, T0).unwrap();
        s.add_message(&sub.id, Party::Citizen, format!("m{i}"), T0)
            .unwrap();
    }
    // A node secret travels with the export.
    s.secret_or_insert("csrf", &[7; 32]).unwrap();
    // Payments travel too: one in flight (open: the reconciliation job asks about it) and one
    // settled (paid and handed to the office).
    let mut e = DeterministicEntropy::new(24);
    s.create_payment(&new_payment(&mut e, "zahlung-offen:3", T0))
        .unwrap();
    let settled = s
        .create_payment(&new_payment(&mut e, "zahlung-bezahlt:5", T0))
        .unwrap();
    s.save_payment(
        Payment {
            open: false,
            data: json!({"state": "paid", "amount_cents": 6140, "transaction_id": "TX-1"}),
            updated: T0 + Duration::minutes(3),
            ..settled
        },
        0,
    )
    .unwrap()
    .unwrap();
    // A booked visit travels, and its office's day counts it after the import.
    let v = s.hold_visit(visit_at(&mut e, VISIT_AT), 1, T0).unwrap();
    s.confirm_visit(&v.id, "Anna".into(), "a@example.org".into(), vec![], T0)
        .unwrap();
    // Attachments travel with their bytes: one over several part lines, one small, one empty.
    for file in filled_attachments() {
        s.put_attachment(&AttachmentHash::of(&file), &mut file.as_slice(), 1 << 20)
            .unwrap();
    }
    (s, dir)
}

/// The files in [`filled_store`].
pub(crate) fn filled_attachments() -> Vec<Vec<u8>> {
    vec![
        (0..200_000u32).map(|i| (i % 251) as u8).collect(),
        b"%PDF-1.7 Mietvertrag".to_vec(),
        Vec::new(),
    ]
}

/// `s` holds the files of [`filled_store`], byte for byte, and no other.
pub(crate) fn assert_attachments_as_in_filled_store(s: &impl AttachmentStore) {
    let mut want: Vec<AttachmentHash> = filled_attachments()
        .iter()
        .map(|f| AttachmentHash::of(f))
        .collect();
    want.sort();
    assert_eq!(s.attachment_hashes().unwrap(), want);
    for file in filled_attachments() {
        let mut back = Vec::new();
        s.read_attachment(&AttachmentHash::of(&file), &mut back)
            .unwrap();
        assert!(
            back == file,
            "an attachment of {} bytes differs",
            file.len()
        );
    }
}

/// The export of `s` with one byte of the first attachment's first part changed (in base64,
/// so the line stays well-formed and only the hash can tell).
pub(crate) fn tampered_export(export: &[u8]) -> String {
    let text = String::from_utf8(export.to_vec()).unwrap();
    let mut done = false;
    text.lines()
        .map(|l| {
            if !done && l.starts_with("{\"part\":\"") {
                done = true;
                let mut b = l.as_bytes().to_vec();
                b[10] = if b[10] == b'A' { b'B' } else { b'A' };
                format!("{}\n", String::from_utf8(b).unwrap())
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

/// When the filled store's visit is (one counter: no other visit fits then).
pub(crate) const VISIT_AT: OffsetDateTime = time::macros::datetime!(2026-03-09 08:00 UTC);

/// A visit at the Bürgerbüro at `start`, held for ten minutes from `T0`.
pub(crate) fn visit_at(e: &mut DeterministicEntropy, start: OffsetDateTime) -> NewVisit {
    NewVisit {
        id: BookingId::generate(e).unwrap(),
        tenant: tenant(),
        office: "buergerbuero".into(),
        service: "personalausweis".into(),
        day: start.date(),
        start,
        end: start + Duration::minutes(15),
        held_until: T0 + Duration::minutes(10),
        reference: None,
        lang: None,
    }
}

/// The payments of [`filled_store`] as `store` holds them now: found by id and by submit key,
/// the open one listed for the reconciliation job and the settled one not.
pub(crate) fn assert_payments_as_in_filled_store<S: Store>(source: &SledStore, store: &S) {
    let mut e = DeterministicEntropy::new(24);
    let open = new_payment(&mut e, "zahlung-offen:3", T0);
    let settled = new_payment(&mut e, "zahlung-bezahlt:5", T0);
    for p in [&open, &settled] {
        let there = source.payment(&p.id).unwrap().unwrap();
        assert_eq!(store.payment(&p.id).unwrap().unwrap(), there);
        assert_eq!(
            store.payment_by_key(&tenant(), &p.key).unwrap().unwrap(),
            there
        );
    }
    let listed: Vec<_> = store
        .open_payments(T0 + Duration::days(1), 10)
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(listed, vec![open.id]);
    // A double click after the move finds the payment that came along, not a new one.
    let again = new_payment(&mut e, "zahlung-offen:3", T0 + Duration::hours(1));
    assert_eq!(
        store.create_payment(&again).unwrap(),
        source.payment(&open.id).unwrap().unwrap()
    );
    // And the settled one is saved on from its imported revision.
    let s = store.payment(&settled.id).unwrap().unwrap();
    assert!(store.save_payment(s.clone(), s.revision).unwrap().is_ok());
}

#[test]
fn an_export_carries_attachments_in_parts_and_an_import_checks_their_hashes() {
    let (s, _dir) = filled_store();
    let mut out = Vec::new();
    s.export_jsonl(&mut out, |_| {}).unwrap();
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(text.starts_with(&format!("{{\"lotse_export\":{EXPORT_FORMAT},")));
    assert_eq!(EXPORT_FORMAT, 6);
    assert!(
        text.ends_with(",\"attachments\":3}\n"),
        "the trailer counts them"
    );
    // 200,000 bytes in five part lines of at most 48 KiB, the small file in one, the empty
    // one in none; no line holds a whole file.
    assert_eq!(
        text.lines().filter(|l| l.starts_with("{\"part\"")).count(),
        6
    );
    assert!(text.lines().all(|l| l.len() < 70_000));

    // One changed byte: the file's hash differs, the import is refused and keeps no such file.
    let (target, _d2) = sled_store();
    let err = target
        .import_jsonl(&mut tampered_export(&out).as_bytes(), |_| {})
        .unwrap_err();
    assert_eq!(err.code(), "LOT-S011", "{err}");
    assert!(err.to_string().contains("SHA-256"), "{err}");
    assert!(target.attachment_hashes().unwrap().len() < 3);

    // A part missing: refused too (the end line's size does not match).
    let cut: String = text
        .lines()
        .enumerate()
        .filter(|(i, l)| {
            !(l.starts_with("{\"part\"")
                && text
                    .lines()
                    .nth(i - 1)
                    .is_some_and(|p| p.starts_with("{\"part\"")))
        })
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let (target, _d3) = sled_store();
    assert_eq!(
        target
            .import_jsonl(&mut cut.as_bytes(), |_| {})
            .unwrap_err()
            .code(),
        "LOT-S011"
    );

    // An export of format 5 (no attachments, no count in the trailer) still imports.
    let old: String = text
        .lines()
        .take_while(|l| !l.starts_with("{\"attachment\""))
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        .replacen("\"lotse_export\":6", "\"lotse_export\":5", 1);
    let records = s.export_jsonl(&mut Vec::new(), |_| {}).unwrap();
    let old = format!("{old}{{\"end\":{records}}}\n");
    let (target, _d4) = sled_store();
    assert_eq!(
        target.import_jsonl(&mut old.as_bytes(), |_| {}).unwrap(),
        records
    );
    assert!(target.attachment_hashes().unwrap().is_empty());
}

#[test]
fn export_import_export_gives_identical_bytes() {
    let (s, _dir) = filled_store();
    // A corrupt record travels too, as raw bytes.
    s.put_raw("drafts", &[0xff; 16], b"\x00garbage").unwrap();
    let mut first = Vec::new();
    let mut calls = 0;
    let n = s.export_jsonl(&mut first, |_| calls += 1).unwrap();
    assert!(n > 50);
    assert!(calls > 0);

    let (target, _dir2) = sled_store();
    // A secret made by a server start does not make the store count as in use; the import's
    // secret wins.
    target.secret_or_insert("csrf", &[1; 32]).unwrap();
    let imported = target.import_jsonl(&mut first.as_slice(), |_| {}).unwrap();
    assert_eq!(target.secret("csrf").unwrap(), Some(vec![7; 32]));
    assert_eq!(imported, n);
    let mut second = Vec::new();
    target.export_jsonl(&mut second, |_| {}).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&first),
        String::from_utf8_lossy(&second)
    );
    assert_attachments_as_in_filled_store(&target);

    // The offices' day lists are not exported; the import rebuilds them: the visit's time is
    // taken.
    let mut e = DeterministicEntropy::new(99);
    assert!(matches!(
        target.hold_visit(visit_at(&mut e, VISIT_AT), 1, T0),
        Err(StoreError::SlotTaken)
    ));

    // The Postkorb index is not exported; the import rebuilds it.
    let all = PostkorbQuery {
        limit: usize::MAX,
        ..Default::default()
    };
    let listed = s.postkorb(&tenant(), &all).unwrap();
    assert!(listed.total > 0);
    assert_eq!(target.postkorb(&tenant(), &all).unwrap(), listed);
    assert!(String::from_utf8_lossy(&first).contains("\"tree\":\"payments\""));
    assert_payments_as_in_filled_store(&s, &target);

    // The audit log's index by submission is not exported; the import rebuilds it.
    for sub in s.postkorb(&tenant(), &all).unwrap().entries {
        assert_eq!(
            target.submission_audit(&sub.id).unwrap(),
            s.submission_audit(&sub.id).unwrap()
        );
    }

    // New ids after the import never collide with imported ones.
    let before = target.audit_log(0, 1000).unwrap().len();
    target
        .append_audit(
            T0,
            Actor::System,
            None,
            AuditAction::Other { code: "x".into() },
        )
        .unwrap();
    assert_eq!(target.audit_log(0, 1000).unwrap().len(), before + 1);
}

#[test]
fn export_streams_while_it_reports_progress() {
    use std::cell::Cell;
    use std::rc::Rc;

    struct Counting(Rc<Cell<usize>>);
    impl std::io::Write for Counting {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.set(self.0.get() + buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let (s, _dir) = sled_store();
    let mut e = DeterministicEntropy::new(24);
    // One record per draft: no index entries.
    for _ in 0..12_000 {
        s.create_draft(&new_draft(&mut e, T0)).unwrap();
    }
    let written = Rc::new(Cell::new(0));
    let mut seen = Vec::new();
    let n = s
        .export_jsonl(&mut Counting(written.clone()), |p| {
            seen.push((p.records, written.get()))
        })
        .unwrap();
    assert_eq!(n, 12_000);
    let (records, bytes) = seen[0];
    assert_eq!(records, 10_000); // inside the drafts tree
    // Output was written before the export ended: it streams.
    assert!(bytes > 0 && bytes < written.get(), "not streamed: {seen:?}");
    assert!(seen.iter().any(|(r, _)| *r == 12_000));
}

#[test]
fn import_refuses_a_non_empty_store_and_a_truncated_file() {
    let (s, _dir) = filled_store();
    let mut out = Vec::new();
    s.export_jsonl(&mut out, |_| {}).unwrap();
    let err = s.import_jsonl(&mut out.as_slice(), |_| {}).unwrap_err();
    assert_eq!(err.code(), "LOT-S010");

    let text = String::from_utf8(out).unwrap();
    let truncated: String = text.lines().take(10).map(|l| format!("{l}\n")).collect();
    let (target, _dir2) = sled_store();
    let err = target
        .import_jsonl(&mut truncated.as_bytes(), |_| {})
        .unwrap_err();
    assert_eq!(err.code(), "LOT-S011");
}

#[test]
fn shared_stores_work_across_threads() {
    let (s, _dir) = sled_store();
    let s: Arc<dyn Store + Send + Sync> = Arc::new(s);
    let t = {
        let s = s.clone();
        std::thread::spawn(move || {
            let mut e = DeterministicEntropy::new(30);
            s.submit(new_submission(&mut e, "x"), T0).unwrap()
        })
    };
    let sub = t.join().unwrap();
    assert!(s.submission(&sub.id).unwrap().is_some());
}
