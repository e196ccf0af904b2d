//! Shared cases: submit, references, idempotency, purging, the Postkorb.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

pub(crate) fn submissions_get_consecutive_references_per_tenant_and_year<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(6);
    let a = s.submit(new_submission(&mut e, "a"), T0).unwrap();
    let b = s.submit(new_submission(&mut e, "b"), T0).unwrap();
    assert_eq!(a.reference.to_string(), "HEI-2026-000001");
    assert_eq!(b.reference.to_string(), "HEI-2026-000002");
    let next_year = s
        .submit(new_submission(&mut e, "c"), datetime!(2027-01-01 00:00 UTC))
        .unwrap();
    assert_eq!(next_year.reference.to_string(), "HEI-2027-000001");
    let other = TenantId::new("aachen", "AAC").unwrap();
    let mut n = new_submission(&mut e, "a");
    n.tenant = other.clone();
    assert_eq!(
        s.submit(n, T0).unwrap().reference.to_string(),
        "AAC-2026-000001"
    );
    assert_eq!(
        s.submission_by_reference(&tenant(), &b.reference)
            .unwrap()
            .unwrap(),
        b
    );
    assert_eq!(s.submission(&a.id).unwrap().unwrap(), a);
    let all = s.submissions(&tenant(), None, 10).unwrap();
    assert_eq!(all.len(), 3);
    let after = s.submissions(&tenant(), Some(&a.reference), 1).unwrap();
    assert_eq!(after, vec![b]);
    assert_eq!(s.submissions(&other, None, 10).unwrap().len(), 1);
}

pub(crate) fn repeated_submit_returns_the_first_submission<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(7);
    let first = s.submit(new_submission(&mut e, "draft:x:3"), T0).unwrap();
    let again = s
        .submit(
            new_submission(&mut e, "draft:x:3"),
            T0 + Duration::minutes(1),
        )
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(s.submissions(&tenant(), None, 10).unwrap().len(), 1);
}

pub(crate) fn a_submission_is_found_by_its_idempotency_key_in_its_tenant_only<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(8);
    let key = IdempotencyKey::try_from("draft:y:4".to_owned()).unwrap();
    assert_eq!(
        s.submission_by_idempotency_key(&tenant(), &key).unwrap(),
        None
    );
    let stored = s.submit(new_submission(&mut e, "draft:y:4"), T0).unwrap();
    assert_eq!(
        s.submission_by_idempotency_key(&tenant(), &key).unwrap(),
        Some(stored)
    );
    let other = TenantId::new("gangelt", "GAN").unwrap();
    assert_eq!(s.submission_by_idempotency_key(&other, &key).unwrap(), None);
    let unknown = IdempotencyKey::try_from("draft:y:5".to_owned()).unwrap();
    assert_eq!(
        s.submission_by_idempotency_key(&tenant(), &unknown)
            .unwrap(),
        None
    );
}

pub(crate) fn concurrent_repeats_of_one_submit_yield_one_submission<S: Store + Send + Sync>(s: &S) {
    let refs: HashSet<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4u64)
            .map(|t| {
                scope.spawn(move || {
                    let mut e = DeterministicEntropy::new(200 + t);
                    let n = new_submission(&mut e, "draft:same:1");
                    s.submit(n, T0).unwrap().reference.to_string()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(refs.len(), 1);
    assert_eq!(s.submissions(&tenant(), None, 10).unwrap().len(), 1);
}

pub(crate) fn concurrent_submitters_never_share_a_reference<S: Store + Send + Sync>(s: &S) {
    let refs: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4u64)
            .map(|t| {
                scope.spawn(move || {
                    let mut e = DeterministicEntropy::new(100 + t);
                    (0..25)
                        .map(|i| {
                            let n = new_submission(&mut e, &format!("t{t}-{i}"));
                            s.submit(n, T0).unwrap().reference.to_string()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let unique: HashSet<_> = refs.iter().collect();
    assert_eq!(unique.len(), 100);
    assert!(unique.contains(&"HEI-2026-000100".to_string()));
}

pub(crate) fn purge_removes_only_long_closed_submissions_and_keeps_references_used<S: Store>(
    s: &S,
) {
    let mut e = DeterministicEntropy::new(13);
    let closed = s.submit(new_submission(&mut e, "a"), T0).unwrap();
    let open = s.submit(new_submission(&mut e, "b"), T0).unwrap();
    let recent = s.submit(new_submission(&mut e, "c"), T0).unwrap();
    s.add_message(&closed.id, Party::Citizen, "x".into(), T0)
        .unwrap();
    s.change_status(&closed.id, change(Status::Abgelehnt, T0))
        .unwrap();
    s.change_status(
        &recent.id,
        change(Status::Abgeschlossen, T0 + Duration::days(300)),
    )
    .unwrap();
    let now = T0 + Duration::days(400);
    assert_eq!(
        s.purge_closed(&tenant(), Duration::days(365), now).unwrap(),
        1
    );
    assert!(s.submission(&closed.id).unwrap().is_none());
    assert!(s.messages(&closed.id).unwrap().is_empty());
    assert_eq!(s.status_history(&closed.id).unwrap_err().code(), "LOT-S002");
    assert!(s.submission(&open.id).unwrap().is_some());
    assert!(s.submission(&recent.id).unwrap().is_some());
    let log = s.audit_log(0, 100).unwrap();
    assert!(matches!(
        log.last().unwrap().action,
        AuditAction::SubmissionPurged { .. }
    ));
    let next = s.submit(new_submission(&mut e, "d"), T0).unwrap();
    assert_eq!(next.reference.to_string(), "HEI-2026-000004");
}

pub(crate) fn postkorb_filters_pages_and_counts_per_status<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(33);
    let other = TenantId::new("wegberg", "WEG").unwrap();
    let mut subs = Vec::new();
    for i in 0..12i64 {
        let mut n = new_submission(&mut e, &format!("p{i}"));
        if i % 3 == 0 {
            n.workflow_id = "hundesteuer".into();
        }
        subs.push(s.submit(n, T0 + Duration::hours(i)).unwrap());
    }
    let mut foreign = new_submission(&mut e, "p0");
    foreign.tenant = other.clone();
    let foreign = s.submit(foreign, T0).unwrap();
    s.change_status(
        &subs[0].id,
        change(Status::InBearbeitung, T0 + Duration::days(1)),
    )
    .unwrap();
    s.change_status(
        &subs[1].id,
        change(Status::Rueckfrage, T0 + Duration::days(1)),
    )
    .unwrap();
    s.change_status(
        &subs[1].id,
        change(Status::Abgeschlossen, T0 + Duration::days(2)),
    )
    .unwrap();

    let all = s
        .postkorb(
            &tenant(),
            &PostkorbQuery {
                limit: 5,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(all.total, 12);
    assert_eq!(all.entries.len(), 5);
    assert_eq!(all.entries[0].id, subs[11].id, "newest first");
    assert_eq!(all.counts[&Status::Eingegangen], 10);
    assert_eq!(all.counts[&Status::InBearbeitung], 1);
    assert_eq!(all.counts[&Status::Abgeschlossen], 1);
    assert_eq!(all.counts[&Status::Rueckfrage], 0);
    assert!(all.entries.iter().all(|x| x.id != foreign.id));

    let page3 = s
        .postkorb(
            &tenant(),
            &PostkorbQuery {
                offset: 10,
                limit: 5,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(page3.entries.len(), 2);
    assert_eq!(page3.entries[1].id, subs[0].id);
    assert_eq!(page3.entries[1].status, Status::InBearbeitung);
    assert_eq!(page3.entries[1].status_at, T0 + Duration::days(1));
    assert_eq!(page3.entries[1].submitted, T0);

    let closed = s
        .postkorb(
            &tenant(),
            &PostkorbQuery {
                status: Some(Status::Abgeschlossen),
                limit: 50,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(closed.total, 1);
    assert_eq!(closed.entries[0].reference, subs[1].reference);
    assert_eq!(
        closed.counts[&Status::Eingegangen],
        10,
        "counts ignore the status filter"
    );

    let dogs = s
        .postkorb(
            &tenant(),
            &PostkorbQuery {
                workflow: Some("hundesteuer".into()),
                limit: 50,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(dogs.total, 4);
    assert!(dogs.entries.iter().all(|x| x.workflow_id == "hundesteuer"));

    let window = s
        .postkorb(
            &tenant(),
            &PostkorbQuery {
                from: Some(T0 + Duration::hours(2)),
                until: Some(T0 + Duration::hours(5)),
                limit: 50,
                ..Default::default()
            },
        )
        .unwrap();
    let got: Vec<_> = window.entries.iter().map(|x| x.id).collect();
    assert_eq!(
        got,
        vec![subs[4].id, subs[3].id, subs[2].id],
        "[from, until)"
    );

    let by_ref = s
        .postkorb(
            &tenant(),
            &PostkorbQuery {
                reference: Some("hei-2026-000007".into()),
                limit: 50,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(by_ref.total, 1);
    assert_eq!(by_ref.entries[0].id, subs[6].id);

    let theirs = s
        .postkorb(
            &other,
            &PostkorbQuery {
                limit: 50,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(theirs.total, 1);
    assert_eq!(theirs.entries[0].id, foreign.id);

    // Purged submissions leave the list.
    assert_eq!(
        s.purge_closed(&tenant(), Duration::days(1), T0 + Duration::days(30))
            .unwrap(),
        1
    );
    let after = s
        .postkorb(
            &tenant(),
            &PostkorbQuery {
                limit: 50,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(after.total, 11);
}
