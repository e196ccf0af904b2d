//! Shared cases: what the nodes of an installation share, blobs (receipts) and node secrets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

pub(crate) fn a_blob_keeps_its_first_bytes_until_it_is_deleted<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(60);
    let sub = s.submit(new_submission(&mut e, "blob"), T0).unwrap();
    let key = BlobKey::Receipt(sub.id);
    assert!(!s.has_blob(&key).unwrap());
    assert_eq!(s.blob(&key).unwrap(), None);
    assert!(s.put_blob(&key, b"%PDF-1.7 first").unwrap());
    // A repeated put (a repeated submit renders the receipt again) keeps the first.
    assert!(!s.put_blob(&key, b"%PDF-1.7 second").unwrap());
    assert!(s.has_blob(&key).unwrap());
    assert_eq!(s.blob(&key).unwrap().unwrap(), b"%PDF-1.7 first");
    // Other submissions have none.
    let other = BlobKey::Receipt(s.submit(new_submission(&mut e, "o"), T0).unwrap().id);
    assert_eq!(s.blob(&other).unwrap(), None);
    assert!(s.delete_blob(&key).unwrap());
    assert!(!s.delete_blob(&key).unwrap());
    assert!(!s.has_blob(&key).unwrap());
    assert_eq!(s.blob(&key).unwrap(), None);
    // Empty bytes are bytes too.
    assert!(s.put_blob(&other, b"").unwrap());
    assert_eq!(s.blob(&other).unwrap().unwrap(), b"");
}

pub(crate) fn a_receipt_needs_its_submission<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(61);
    let unknown = BlobKey::Receipt(SubmissionId::generate(&mut e).unwrap());
    let err = s.put_blob(&unknown, b"%PDF").unwrap_err();
    assert_eq!(err.code(), "LOT-S002", "{err}");
    assert!(!s.has_blob(&unknown).unwrap());
}

pub(crate) fn a_receipt_and_a_draft_mark_are_kept_in_one_call<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(63);
    let d = new_draft(&mut e, T0);
    s.create_draft(&d).unwrap();
    let sub = s.submit(new_submission(&mut e, "mark"), T0).unwrap();
    let key = BlobKey::Receipt(sub.id);
    let mut mark = d.clone();
    mark.state = json!({"submitted": sub.id.to_string()});
    // The stored tenant, creation time and resume code win over the caller's, as in save_draft.
    mark.created = T0 + Duration::hours(5);
    assert_eq!(
        s.put_blob_and_save_draft(&key, b"%PDF first", mark.clone(), 0)
            .unwrap(),
        (true, true)
    );
    assert_eq!(s.blob(&key).unwrap().unwrap(), b"%PDF first");
    let stored = s.draft(&d.id).unwrap().unwrap();
    assert_eq!(stored.revision, 1);
    assert_eq!(stored.state, mark.state);
    assert_eq!(stored.created, d.created);
    // A repeat: the first receipt stays, the draft moved on (no error).
    assert_eq!(
        s.put_blob_and_save_draft(&key, b"%PDF second", mark.clone(), 0)
            .unwrap(),
        (false, false)
    );
    assert_eq!(s.blob(&key).unwrap().unwrap(), b"%PDF first");
    assert_eq!(s.draft(&d.id).unwrap().unwrap().revision, 1);
    // A draft that is gone is not saved; the receipt is kept all the same.
    let other = BlobKey::Receipt(s.submit(new_submission(&mut e, "gone"), T0).unwrap().id);
    let gone = new_draft(&mut e, T0);
    assert_eq!(
        s.put_blob_and_save_draft(&other, b"%PDF", gone, 0).unwrap(),
        (true, false)
    );
    assert!(s.has_blob(&other).unwrap());
    // A receipt needs its submission: nothing is saved then.
    let unknown = BlobKey::Receipt(SubmissionId::generate(&mut e).unwrap());
    let err = s
        .put_blob_and_save_draft(&unknown, b"%PDF", stored.clone(), 1)
        .unwrap_err();
    assert_eq!(err.code(), "LOT-S002", "{err}");
    assert_eq!(s.draft(&d.id).unwrap().unwrap().revision, 1);
}

pub(crate) fn concurrent_puts_of_one_blob_keep_exactly_one<S: Store + Send + Sync>(s: &S) {
    let mut e = DeterministicEntropy::new(62);
    let key = BlobKey::Receipt(s.submit(new_submission(&mut e, "race"), T0).unwrap().id);
    let wins: Vec<u8> = std::thread::scope(|scope| {
        let hs: Vec<_> = (0..8u8)
            .map(|i| scope.spawn(move || (i, s.put_blob(&key, &[i; 64]).unwrap())))
            .collect();
        hs.into_iter()
            .map(|h| h.join().unwrap())
            .filter(|(_, won)| *won)
            .map(|(i, _)| i)
            .collect()
    });
    assert_eq!(wins.len(), 1, "{wins:?}");
    assert_eq!(s.blob(&key).unwrap().unwrap(), vec![wins[0]; 64]);
}

pub(crate) fn a_secret_is_the_first_one_stored_even_when_callers_race<S: Store + Send + Sync>(
    s: &S,
) {
    assert_eq!(s.secret("csrf").unwrap(), None);
    let got: HashSet<Vec<u8>> = std::thread::scope(|scope| {
        let hs: Vec<_> = (0..8u8)
            .map(|i| scope.spawn(move || s.secret_or_insert("csrf", &[i; 32]).unwrap()))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(got.len(), 1, "everyone got the same secret");
    let first = got.into_iter().next().unwrap();
    assert_eq!(s.secret("csrf").unwrap(), Some(first.clone()));
    assert_eq!(s.secret_or_insert("csrf", b"later").unwrap(), first);
    // Names are separate.
    assert_eq!(s.secret("signing-dev:heinsberg").unwrap(), None);
    assert_eq!(
        s.secret_or_insert("signing-dev:heinsberg", b"{}").unwrap(),
        b"{}"
    );
}
