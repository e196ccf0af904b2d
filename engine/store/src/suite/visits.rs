//! Shared cases: appointments.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

/// A visit held for ten minutes from `now`.
fn visit(
    e: &mut DeterministicEntropy,
    start: OffsetDateTime,
    minutes: i64,
    now: OffsetDateTime,
) -> NewVisit {
    NewVisit {
        id: BookingId::generate(e).unwrap(),
        tenant: tenant(),
        office: "buergerbuero".into(),
        service: "personalausweis".into(),
        day: start.date(),
        start,
        end: start + Duration::minutes(minutes),
        held_until: now + Duration::minutes(10),
    }
}

pub(crate) fn fifty_clients_racing_for_the_last_counter_get_exactly_one_visit<
    S: Store + Send + Sync,
>(
    s: &S,
) {
    let at = datetime!(2026-12-07 08:00 UTC);
    let mut e = DeterministicEntropy::new(40);
    // Two counters; one is taken already, one is left for fifty clients at once.
    s.hold_visit(visit(&mut e, at, 30, T0), 2, T0).unwrap();
    let won: Vec<bool> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..50u64)
            .map(|t| {
                scope.spawn(move || {
                    let mut e = DeterministicEntropy::new(1000 + t);
                    match s.hold_visit(visit(&mut e, at, 30, T0), 2, T0) {
                        Ok(_) => true,
                        Err(StoreError::SlotTaken) => false,
                        Err(other) => panic!("{other}"),
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        won.iter().filter(|w| **w).count(),
        1,
        "exactly one of fifty"
    );
    // A visit overlapping half of the full time is refused too; one after it is not.
    let half = s.hold_visit(visit(&mut e, at + Duration::minutes(15), 30, T0), 2, T0);
    assert!(matches!(half, Err(StoreError::SlotTaken)), "{half:?}");
    s.hold_visit(visit(&mut e, at + Duration::minutes(30), 30, T0), 2, T0)
        .unwrap();
}

pub(crate) fn a_hold_frees_itself_and_a_confirmed_visit_keeps_its_counter<S: Store>(s: &S) {
    let at = datetime!(2026-12-07 09:00 UTC);
    let mut e = DeterministicEntropy::new(41);
    let held = s.hold_visit(visit(&mut e, at, 15, T0), 1, T0).unwrap();
    assert_eq!(held.state, VisitState::Held);
    assert!(matches!(
        s.hold_visit(visit(&mut e, at, 15, T0), 1, T0 + Duration::minutes(9)),
        Err(StoreError::SlotTaken)
    ));
    // Ten minutes later the hold is over: the counter is free, and the old hold cannot be
    // confirmed any more.
    let later = T0 + Duration::minutes(10);
    let second = s
        .hold_visit(visit(&mut e, at, 15, later), 1, later)
        .unwrap();
    let gone = s.confirm_visit(
        &held.id,
        "Anna".into(),
        "a@example.org".into(),
        vec![],
        later,
    );
    assert_eq!(gone.unwrap_err().code(), "LOT-S017");
    // Confirmed, with its mail in the outbox in the same transaction.
    let mail = NewOutboxMessage {
        topic: "mail.visit_confirmed".into(),
        target: "mail".into(),
        payload: json!({"visit": second.id.to_string()}),
    };
    let confirmed = s
        .confirm_visit(
            &second.id,
            "Berta".into(),
            "b@example.org".into(),
            vec![mail],
            later,
        )
        .unwrap();
    assert_eq!(confirmed.state, VisitState::Confirmed);
    assert_eq!(s.outbox_backlog(later).unwrap().0, 1);
    // Long after its hold time it still takes its counter.
    assert!(matches!(
        s.hold_visit(
            visit(&mut e, at, 15, T0 + Duration::days(1)),
            1,
            T0 + Duration::days(1)
        ),
        Err(StoreError::SlotTaken)
    ));
    let day: Vec<Visit> = s
        .visits_on(&tenant(), "buergerbuero", at.date())
        .unwrap()
        .into_iter()
        .filter(Visit::is_booked)
        .collect();
    assert_eq!(day.iter().map(|v| v.id).collect::<Vec<_>>(), [second.id]);
    assert_eq!(day[0].name.as_deref(), Some("Berta"));
    // Cancelled: free at once, gone from the day, and not cancelled twice.
    s.cancel_visit(&second.id, later).unwrap();
    assert!(
        !s.visits_on(&tenant(), "buergerbuero", at.date())
            .unwrap()
            .iter()
            .any(Visit::is_booked)
    );
    assert_eq!(
        s.cancel_visit(&second.id, later).unwrap_err().code(),
        "LOT-S017"
    );
    s.hold_visit(visit(&mut e, at, 15, later), 1, later)
        .unwrap();
    // Another tenant's office of the same name is another office.
    let mut other = visit(&mut e, at, 15, later);
    other.tenant = TenantId::new("erkelenz", "ERK").unwrap();
    s.hold_visit(other, 1, later).unwrap();
    assert_eq!(
        s.visit(&second.id).unwrap().unwrap().state,
        VisitState::Cancelled
    );
}
