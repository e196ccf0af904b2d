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
