//! Shared cases: attachments.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;

use super::*;

/// `n` bytes that differ from one position to the next.
fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

pub(crate) fn an_attachment_is_kept_once_checked_by_its_hash_and_streamed_back<S: Store>(s: &S) {
    // Larger than a chunk on either backend.
    let lease = bytes(3 * 1024 * 1024 + 17, 1);
    let hash = AttachmentHash::of(&lease);
    assert!(
        s.put_attachment(&hash, &mut lease.as_slice(), 10 << 20)
            .unwrap()
    );
    // The same content again: kept once.
    assert!(
        !s.put_attachment(&hash, &mut lease.as_slice(), 10 << 20)
            .unwrap()
    );
    let mut back = Vec::new();
    assert_eq!(
        s.read_attachment(&hash, &mut back).unwrap(),
        Some(lease.len() as u64)
    );
    assert!(back == lease, "the bytes come back as they went in");
    assert_eq!(s.attachment_size(&hash).unwrap(), Some(lease.len() as u64));
    // Bytes that are not what the hash says, and a file over the limit: refused, nothing kept.
    let other = bytes(1000, 2);
    let claimed = AttachmentHash::of(b"something else");
    assert_eq!(
        s.put_attachment(&claimed, &mut other.as_slice(), 1 << 20)
            .unwrap_err()
            .code(),
        "LOT-S015"
    );
    assert_eq!(s.attachment_size(&claimed).unwrap(), None);
    let big = bytes(2000, 3);
    let big_hash = AttachmentHash::of(&big);
    assert!(
        s.put_attachment(&big_hash, &mut big.as_slice(), 1999)
            .is_err()
    );
    assert_eq!(s.attachment_size(&big_hash).unwrap(), None);
    // A stream of 12 MB that is never held whole here either.
    let mut stream = std::io::repeat(7).take(12 << 20);
    let mut h = std::io::repeat(7).take(12 << 20);
    let mut all = Vec::new();
    h.read_to_end(&mut all).unwrap();
    let stream_hash = AttachmentHash::of(&all);
    drop(all);
    assert!(
        s.put_attachment(&stream_hash, &mut stream, 20 << 20)
            .unwrap()
    );
    let mut counted = CountingSink(0);
    assert_eq!(
        s.read_attachment(&stream_hash, &mut counted).unwrap(),
        Some(12 << 20)
    );
    assert_eq!(counted.0, 12 << 20);
    assert_eq!(s.attachment_hashes().unwrap(), {
        let mut v = vec![hash, stream_hash];
        v.sort();
        v
    });
    assert!(s.delete_attachment(&hash).unwrap());
    assert!(!s.delete_attachment(&hash).unwrap());
    assert_eq!(s.read_attachment(&hash, &mut Vec::new()).unwrap(), None);
}

struct CountingSink(u64);

impl std::io::Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub(crate) fn concurrent_puts_of_one_attachment_keep_exactly_one<S: Store + Send + Sync>(s: &S) {
    let file = bytes(1_500_000, 9);
    let hash = AttachmentHash::of(&file);
    let fresh: Vec<bool> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let file = &file;
                scope.spawn(move || {
                    s.put_attachment(&hash, &mut file.as_slice(), 2 << 20)
                        .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(fresh.iter().filter(|f| **f).count(), 1);
    let mut back = Vec::new();
    s.read_attachment(&hash, &mut back).unwrap();
    assert!(back == file);
}

/// The wall clock, which is what the store's "stored" times are (mtime, `now()`).
#[allow(clippy::disallowed_methods)]
fn wall_clock() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A file field's answer naming `file`.
fn answer(name: &str, file: &[u8]) -> serde_json::Value {
    json!([{"name": name, "type": "application/pdf", "size": file.len(),
            "sha256": AttachmentHash::of(file).to_string(), "scan": "clean"}])
}

fn kept<S: Store>(s: &S, file: &[u8]) -> bool {
    s.attachment_size(&AttachmentHash::of(file))
        .unwrap()
        .is_some()
}

pub(crate) fn unreferenced_attachments_are_swept_after_their_grace_period<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(71);
    let (shared, filed, loose, old) = (
        bytes(3000, 1),
        bytes(2000, 2),
        bytes(1000, 3),
        bytes(500, 4),
    );
    for f in [&shared, &filed, &loose, &old] {
        s.put_attachment(&AttachmentHash::of(f), &mut f.as_slice(), 1 << 20)
            .unwrap();
    }
    // The same lease in two drafts, deep in their answers; another file in a submission.
    let mut first = new_draft(&mut e, T0);
    first.state =
        json!({"answers": {"nachweise": {"mietvertrag": answer("Mietvertrag.pdf", &shared)}}});
    s.create_draft(&first).unwrap();
    let mut second = new_draft(&mut e, T0 + Duration::days(10));
    second.state = json!({"answers": {"mietvertrag": answer("Vertrag.pdf", &shared)}});
    s.create_draft(&second).unwrap();
    let mut sub = new_submission(&mut e, "att");
    sub.data = json!({"lageplan": answer("Lageplan.pdf", &filed)});
    let sub = s.submit(sub, T0).unwrap();

    // Within the grace period nothing goes, not even the file nobody references yet.
    let before_puts = wall_clock() - Duration::hours(1);
    assert_eq!(
        s.sweep_attachments(before_puts).unwrap(),
        AttachmentSweep::default()
    );
    assert!(kept(s, &loose));

    // Past it, only the unreferenced files go, with their sizes counted.
    let later = wall_clock() + Duration::hours(1);
    assert_eq!(
        s.sweep_attachments(later).unwrap(),
        AttachmentSweep {
            removed: 2,
            bytes: 1500
        }
    );
    assert!(!kept(s, &loose) && !kept(s, &old));
    assert!(kept(s, &shared) && kept(s, &filed));

    // The first draft expires: the second one still holds the shared lease.
    assert_eq!(s.sweep_expired(first.expires).unwrap(), 1);
    assert_eq!(s.sweep_attachments(later).unwrap().removed, 0);
    assert!(kept(s, &shared));
    // The second one expires too: its file goes at the next sweep.
    assert_eq!(s.sweep_expired(second.expires).unwrap(), 1);
    assert_eq!(
        s.sweep_attachments(later).unwrap(),
        AttachmentSweep {
            removed: 1,
            bytes: 3000
        }
    );
    assert!(!kept(s, &shared) && kept(s, &filed));

    // The submission is closed and purged: its file goes too.
    s.change_status(&sub.id, change(Status::Abgeschlossen, T0))
        .unwrap();
    assert_eq!(
        s.purge_closed(&tenant(), Duration::days(30), T0 + Duration::days(31))
            .unwrap(),
        1
    );
    assert_eq!(s.sweep_attachments(later).unwrap().removed, 1);
    assert!(s.attachment_hashes().unwrap().is_empty());
}

pub(crate) fn storing_an_attachment_again_starts_a_new_grace_period<S: Store>(s: &S) {
    let file = bytes(4000, 5);
    let hash = AttachmentHash::of(&file);
    s.put_attachment(&hash, &mut file.as_slice(), 1 << 20)
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(50));
    let between = wall_clock();
    std::thread::sleep(std::time::Duration::from_millis(50));
    // Uploaded again (another citizen's draft is about to name it): not swept as old.
    assert!(
        !s.put_attachment(&hash, &mut file.as_slice(), 1 << 20)
            .unwrap()
    );
    assert_eq!(s.sweep_attachments(between).unwrap().removed, 0);
    assert!(kept(s, &file));
    assert_eq!(
        s.sweep_attachments(wall_clock() + Duration::seconds(1))
            .unwrap()
            .removed,
        1
    );
}
