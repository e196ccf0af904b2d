//! Shared cases: the outbox.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

pub(crate) fn outbox_claims_once_and_counts_attempts<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(12);
    let mut n = new_submission(&mut e, "k");
    n.notifications.push(NewOutboxMessage {
        topic: "submission.received".into(),
        target: "fachverfahren".into(),
        payload: json!({"reference": "HEI-2026-000001"}),
    });
    s.submit(n, T0).unwrap();
    assert_eq!(s.outbox_backlog(T0).unwrap(), (1, 0));
    let lease = Duration::minutes(5);
    let claimed = s.claim(T0, lease, 10).unwrap();
    assert_eq!(claimed.len(), 1);
    let id = claimed[0].id;
    // Claimed: waiting for its lease; due again when the lease ends.
    assert_eq!(s.outbox_backlog(T0).unwrap(), (0, 1));
    assert_eq!(s.outbox_backlog(T0 + lease).unwrap(), (1, 0));
    assert!(
        s.claim(T0 + Duration::minutes(1), lease, 10)
            .unwrap()
            .is_empty()
    );
    s.mark_failed(id, T0, "HTTP 503", Some(T0 + Duration::minutes(10)))
        .unwrap();
    assert!(
        s.claim(T0 + Duration::minutes(9), lease, 10)
            .unwrap()
            .is_empty()
    );
    let again = s.claim(T0 + Duration::minutes(10), lease, 10).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1);
    s.mark_delivered(id, T0 + Duration::minutes(11)).unwrap();
    assert_eq!(
        s.outbox_backlog(T0 + Duration::minutes(11)).unwrap(),
        (0, 0)
    );
    let done = s.outbox_message(id).unwrap().unwrap();
    assert_eq!(done.attempts, 2);
    assert!(matches!(done.state, DeliveryState::Delivered { .. }));
    assert!(
        s.claim(T0 + Duration::days(1), lease, 10)
            .unwrap()
            .is_empty()
    );

    let other = s
        .enqueue(
            None,
            NewOutboxMessage {
                topic: "t".into(),
                target: "x".into(),
                payload: json!(null),
            },
            T0,
        )
        .unwrap();
    s.mark_failed(other, T0, "gone", None).unwrap();
    assert_eq!(
        s.outbox_backlog(T0).unwrap(),
        (0, 0),
        "given up is not queued"
    );
    assert!(matches!(
        s.outbox_message(other).unwrap().unwrap().state,
        DeliveryState::Failed { .. }
    ));
    assert!(
        s.claim(T0 + Duration::days(1), lease, 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.mark_delivered(999_999_999, T0).unwrap_err().code(),
        "LOT-S002"
    );
    let pending = s
        .enqueue(
            None,
            NewOutboxMessage {
                topic: "t".into(),
                target: "x".into(),
                payload: json!(1),
            },
            T0 + Duration::days(2),
        )
        .unwrap();
    assert_eq!(s.prune_outbox(T0 + Duration::days(3)).unwrap(), 2);
    assert!(s.outbox_message(id).unwrap().is_none());
    assert!(s.outbox_message(pending).unwrap().is_some());
}

pub(crate) fn tenant_outbox_lists_only_that_tenants_deliveries_newest_first<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(14);
    let other = TenantId::new("wegberg", "WEG").unwrap();
    let note = |n: u32| NewOutboxMessage {
        topic: "submission.received".into(),
        target: "heinsberg/hundesteuer-anmeldung".into(),
        payload: json!({ "n": n }),
    };
    let mut ids = Vec::new();
    for n in 0..5 {
        let mut sub = new_submission(&mut e, &format!("k{n}"));
        sub.notifications.push(note(n));
        s.submit(sub, T0).unwrap();
    }
    let mut foreign = new_submission(&mut e, "w");
    foreign.tenant = other.clone();
    foreign.notifications.push(note(99));
    s.submit(foreign, T0).unwrap();
    s.enqueue(None, note(100), T0).unwrap();
    for m in s.claim(T0, Duration::minutes(1), 100).unwrap() {
        ids.push(m.id);
    }
    assert_eq!(ids.len(), 7);

    let all = s.tenant_outbox(&tenant(), None, 100, &|_| true).unwrap();
    let ns: Vec<_> = all
        .iter()
        .map(|m| m.payload["n"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ns,
        [4, 3, 2, 1, 0],
        "newest first, no other tenant, no tenantless entry"
    );

    // Paging: two at a time, each page below the last id of the one before.
    let first = s.tenant_outbox(&tenant(), None, 2, &|_| true).unwrap();
    let second = s
        .tenant_outbox(&tenant(), Some(first[1].id), 2, &|_| true)
        .unwrap();
    assert_eq!(second[0].payload["n"], 2);
    assert_eq!(second.len(), 2);

    // A filter: only the failed ones.
    s.mark_failed(all[1].id, T0, "HTTP 500", None).unwrap();
    let failed = s
        .tenant_outbox(&tenant(), None, 100, &|m| {
            matches!(m.state, DeliveryState::Failed { .. })
        })
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].last_error.as_deref(), Some("HTTP 500"));
    assert_eq!(
        s.tenant_outbox(&other, None, 100, &|_| true).unwrap().len(),
        1
    );
    assert!(
        s.tenant_outbox(&tenant(), None, 0, &|_| true)
            .unwrap()
            .is_empty()
    );

    // Sending a given-up delivery again: due at once, its history kept.
    let later = T0 + Duration::hours(1);
    assert!(s.requeue(all[1].id, later).unwrap());
    let again = s.outbox_message(all[1].id).unwrap().unwrap();
    assert_eq!(again.state, DeliveryState::Pending);
    assert_eq!((again.next_attempt, again.attempts), (later, 1));
    assert_eq!(again.last_error.as_deref(), Some("HTTP 500"));
    assert!(!s.requeue(all[1].id, later).unwrap(), "pending already");
    assert!(
        !s.requeue(all[0].id, later).unwrap(),
        "claimed, not given up"
    );
    assert_eq!(
        s.requeue(999_999_999, later).unwrap_err().code(),
        "LOT-S002"
    );
    assert!(
        s.claim(later, Duration::minutes(1), 100)
            .unwrap()
            .iter()
            .any(|m| m.id == all[1].id)
    );
}
