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
        reference: None,
        lang: None,
    }
}

/// A confirmed visit.
fn booked<S: Store>(
    s: &S,
    e: &mut DeterministicEntropy,
    start: OffsetDateTime,
    counters: u32,
) -> Visit {
    let v = s.hold_visit(visit(e, start, 30, T0), counters, T0).unwrap();
    s.confirm_visit(&v.id, "Anna".into(), "a@example.org".into(), vec![], T0)
        .unwrap()
}

fn mail(topic: &str, v: &Visit) -> NewOutboxMessage {
    NewOutboxMessage {
        topic: topic.into(),
        target: "mail".into(),
        payload: json!({"visit": v.id.to_string()}),
    }
}

pub(crate) fn a_visit_moves_only_to_a_free_time_and_frees_its_old_one<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(42);
    let monday = datetime!(2026-12-07 08:00 UTC);
    let tuesday = datetime!(2026-12-08 10:00 UTC);
    let v = booked(s, &mut e, monday, 1);
    // Tuesday at ten is taken by someone else: refused, and nothing changes.
    let other = booked(s, &mut e, tuesday, 1);
    let to = |start: OffsetDateTime| VisitTime {
        day: start.date(),
        start,
        end: start + Duration::minutes(30),
    };
    assert!(matches!(
        s.move_visit(
            &v.id,
            to(tuesday),
            1,
            vec![mail("mail.visit_moved", &v)],
            T0
        ),
        Err(StoreError::SlotTaken)
    ));
    assert_eq!(s.visit(&v.id).unwrap().unwrap().start, monday);
    assert_eq!(s.outbox_backlog(T0).unwrap().0, 0);
    // A quarter later on the same day overlaps only itself: allowed.
    let moved = s
        .move_visit(&v.id, to(monday + Duration::minutes(15)), 1, vec![], T0)
        .unwrap();
    assert_eq!(
        (moved.start, moved.moves),
        (monday + Duration::minutes(15), 1)
    );
    // To Tuesday afternoon, with its mail in the same transaction: Monday is free again, the
    // visit is listed under Tuesday and keeps its id, name and address.
    let later = tuesday + Duration::hours(4);
    let moved = s
        .move_visit(&v.id, to(later), 1, vec![mail("mail.visit_moved", &v)], T0)
        .unwrap();
    assert_eq!(
        (moved.day, moved.moves, moved.name.as_deref()),
        (later.date(), 2, Some("Anna"))
    );
    assert_eq!(s.outbox_backlog(T0).unwrap().0, 1);
    assert!(
        !s.visits_on(&tenant(), "buergerbuero", monday.date())
            .unwrap()
            .iter()
            .any(|x| x.id == v.id && x.day == monday.date())
    );
    s.hold_visit(visit(&mut e, monday, 30, T0), 1, T0).unwrap();
    let tuesday_ids: Vec<BookingId> = s
        .visits_on(&tenant(), "buergerbuero", later.date())
        .unwrap()
        .iter()
        .filter(|x| x.is_booked())
        .map(|x| x.id)
        .collect();
    assert_eq!(tuesday_ids, [other.id, v.id]);
    assert!(matches!(
        s.hold_visit(visit(&mut e, later, 30, T0), 1, T0),
        Err(StoreError::SlotTaken)
    ));
    // A cancelled visit does not move.
    s.cancel_visit(&other.id, T0).unwrap();
    assert_eq!(
        s.move_visit(&other.id, to(monday + Duration::hours(2)), 1, vec![], T0)
            .unwrap_err()
            .code(),
        "LOT-S017"
    );
}

pub(crate) fn a_reminder_is_noted_once_with_its_mail<S: Store + Send + Sync>(s: &S) {
    let mut e = DeterministicEntropy::new(43);
    let start = datetime!(2026-12-09 09:00 UTC);
    let v = booked(s, &mut e, start, 2);
    let found = s
        .visits_between(start.date(), start.date())
        .unwrap()
        .into_iter()
        .any(|x| x.id == v.id);
    assert!(found, "listed on its day");
    assert!(
        s.visits_between(
            start.date() + Duration::days(1),
            start.date() + Duration::days(2)
        )
        .unwrap()
        .iter()
        .all(|x| x.id != v.id)
    );
    let ahead = Duration::hours(24);
    let eve = start - Duration::hours(20);
    assert!(v.wants_reminder(eve, ahead));
    assert!(
        !v.wants_reminder(start - Duration::hours(30), ahead),
        "not yet"
    );
    // Eight nodes at once: one notes it, with exactly one mail.
    let noted: Vec<bool> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let v = &v;
                scope.spawn(move || {
                    s.remind_visit(&v.id, vec![mail("mail.visit_reminder", v)], eve)
                        .is_ok()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(noted.iter().filter(|n| **n).count(), 1);
    assert_eq!(s.outbox_backlog(eve).unwrap().0, 1);
    let after = s.visit(&v.id).unwrap().unwrap();
    assert!(!after.wants_reminder(eve, ahead));
    // A move asks again.
    let to = VisitTime {
        day: start.date(),
        start: start + Duration::hours(1),
        end: start + Duration::minutes(90),
    };
    let moved = s
        .move_visit(&v.id, to, 2, vec![], eve - Duration::days(2))
        .unwrap();
    assert!(moved.wants_reminder(eve, ahead));
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
