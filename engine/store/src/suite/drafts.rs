//! Shared cases: drafts, resume codes, expiry.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

pub(crate) fn draft_round_trips_and_saves_bump_the_revision<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(1);
    let d = new_draft(&mut e, T0);
    s.create_draft(&d).unwrap();
    assert_eq!(s.draft(&d.id).unwrap().unwrap(), d);
    let mut edit = d.clone();
    edit.state = json!({"step": "adresse"});
    edit.touch(T0 + Duration::hours(1), DEFAULT_DRAFT_TTL);
    let saved = s.save_draft(edit, 0).unwrap();
    assert_eq!(saved.revision, 1);
    let stored = s.draft(&d.id).unwrap().unwrap();
    assert_eq!(stored, saved);
    assert_eq!(stored.expires, T0 + Duration::hours(1) + DEFAULT_DRAFT_TTL);
    assert_eq!(s.create_draft(&d).unwrap_err().code(), "LOT-S004");
}

pub(crate) fn stale_revision_is_a_conflict_with_the_current_draft<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(2);
    let d = new_draft(&mut e, T0);
    s.create_draft(&d).unwrap();
    s.save_draft(d.clone(), 0).unwrap();
    match s.save_draft(d.clone(), 0) {
        Err(StoreError::Conflict { current, expected }) => {
            assert_eq!(current.revision, 1);
            assert_eq!(expected, 0);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let missing = new_draft(&mut e, T0);
    assert_eq!(s.save_draft(missing, 0).unwrap_err().code(), "LOT-S002");
}

pub(crate) fn concurrent_saves_of_one_revision_let_exactly_one_win<S: Store + Send + Sync>(s: &S) {
    let mut e = DeterministicEntropy::new(3);
    let d = new_draft(&mut e, T0);
    s.create_draft(&d).unwrap();
    let wins = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let d = d.clone();
                scope.spawn(move || s.save_draft(d, 0).is_ok())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|won| *won)
            .count()
    });
    assert_eq!(wins, 1);
}

pub(crate) fn resume_code_finds_the_draft_and_wrong_codes_are_limited<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(4);
    let d = new_draft(&mut e, T0);
    s.create_draft(&d).unwrap();
    let found = s.draft_by_resume_code(&d.resume_code).unwrap().unwrap();
    assert_eq!(found.id, d.id);
    let typed = d.resume_code.to_string().to_lowercase();
    let limiter = ResumeLimiter::new(2, Duration::minutes(10), 100);
    assert_eq!(
        resume_draft(s, &limiter, "c1", &typed, T0).unwrap().id,
        d.id
    );
    for _ in 0..2 {
        let err = resume_draft(s, &limiter, "c2", "ABCD-EFGH-JKMN-PQRS", T0).unwrap_err();
        assert_eq!(err.code(), "LOT-S002");
    }
    let err = resume_draft(s, &limiter, "c2", &typed, T0).unwrap_err();
    assert_eq!(err.code(), "LOT-S014");
}

pub(crate) fn sweep_deletes_only_expired_drafts<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(5);
    let old = new_draft(&mut e, T0);
    let mut kept = new_draft(&mut e, T0);
    s.create_draft(&old).unwrap();
    s.create_draft(&kept).unwrap();
    kept.touch(T0 + Duration::days(20), DEFAULT_DRAFT_TTL);
    s.save_draft(kept.clone(), 0).unwrap();
    assert_eq!(s.sweep_expired(T0 + Duration::days(29)).unwrap(), 0);
    assert_eq!(s.sweep_expired(T0 + Duration::days(31)).unwrap(), 1);
    assert!(s.draft(&old.id).unwrap().is_none());
    assert!(s.draft_by_resume_code(&old.resume_code).unwrap().is_none());
    assert!(s.draft(&kept.id).unwrap().is_some());
    assert_eq!(s.sweep_expired(T0 + Duration::days(60)).unwrap(), 1);
    assert!(s.delete_draft(&kept.id).is_ok());
}

pub(crate) fn a_draft_is_read_with_the_submission_of_its_submit_key<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(9);
    let d = new_draft(&mut e, T0);
    s.create_draft(&d).unwrap();
    let (read, none) = s.draft_with_submission(&d.id).unwrap().unwrap();
    assert_eq!((read, none), (d.clone(), None));
    // A submission of another revision's key, and one of this key in another tenant: not it.
    let mut other_rev = new_submission(&mut e, "x");
    other_rev.idempotency_key = IdempotencyKey::for_draft(&d.id, d.revision + 1);
    s.submit(other_rev, T0).unwrap();
    let mut other_tenant = new_submission(&mut e, "x");
    other_tenant.tenant = TenantId::new("erkelenz", "ERK").unwrap();
    other_tenant.idempotency_key = IdempotencyKey::for_draft(&d.id, d.revision);
    s.submit(other_tenant, T0).unwrap();
    assert_eq!(s.draft_with_submission(&d.id).unwrap().unwrap().1, None);
    // The draft's own submit key in its tenant: found.
    let mut own = new_submission(&mut e, "x");
    own.idempotency_key = IdempotencyKey::for_draft(&d.id, d.revision);
    let stored = s.submit(own, T0).unwrap();
    let (read, found) = s.draft_with_submission(&d.id).unwrap().unwrap();
    assert_eq!((read, found), (d.clone(), Some(stored.id)));
    // An unknown draft is none.
    let unknown = new_draft(&mut e, T0);
    assert_eq!(s.draft_with_submission(&unknown.id).unwrap(), None);
}
