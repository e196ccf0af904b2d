//! Shared cases: payments (one per application, compare-and-set saves, the open list).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

pub(crate) fn new_payment(e: &mut DeterministicEntropy, key: &str, now: OffsetDateTime) -> Payment {
    Payment {
        id: PaymentId::generate(e).unwrap(),
        tenant: tenant(),
        key: IdempotencyKey::try_from(key.to_owned()).unwrap(),
        revision: 0,
        open: true,
        data: json!({"state": "open", "amount_cents": 6140}),
        created: now,
        updated: now,
    }
}

pub(crate) fn one_payment_per_application_and_the_first_one_counts<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(71);
    let first = new_payment(&mut e, "draft-a:7", T0);
    assert_eq!(s.create_payment(&first).unwrap(), first);
    // A double click: another id, the same application: the first payment comes back.
    let second = new_payment(&mut e, "draft-a:7", T0 + Duration::seconds(1));
    assert_eq!(s.create_payment(&second).unwrap(), first);
    assert_eq!(s.payment(&second.id).unwrap(), None);
    assert_eq!(s.payment(&first.id).unwrap().unwrap(), first);
    assert_eq!(
        s.payment_by_key(&tenant(), &first.key).unwrap().unwrap(),
        first
    );
    // Another tenant's application with the same key is another payment.
    let other_tenant = Payment {
        tenant: TenantId::new("wegberg", "WEG").unwrap(),
        ..new_payment(&mut e, "draft-a:7", T0)
    };
    assert_eq!(s.create_payment(&other_tenant).unwrap(), other_tenant);
    let other_key = IdempotencyKey::try_from("draft-b:1".to_owned()).unwrap();
    assert_eq!(s.payment_by_key(&tenant(), &other_key).unwrap(), None);
}

pub(crate) fn payment_saves_compare_revisions_and_only_one_concurrent_save_wins<
    S: Store + Send + Sync,
>(
    s: &S,
) {
    let mut e = DeterministicEntropy::new(72);
    let p = s
        .create_payment(&new_payment(&mut e, "draft-c:1", T0))
        .unwrap();
    let mut paid = p.clone();
    paid.data = json!({"state": "paid"});
    paid.updated = T0 + Duration::minutes(1);
    let saved = s.save_payment(paid.clone(), 0).unwrap().unwrap();
    assert_eq!(saved.revision, 1);
    assert_eq!(s.payment(&p.id).unwrap().unwrap(), saved);
    // A stale writer gets the current payment back, and nothing changes.
    let stale = s.save_payment(p.clone(), 0).unwrap().unwrap_err();
    assert_eq!(stale, saved);
    // Repeated notifications racing: exactly one save of a revision wins.
    let wins = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let mut next = saved.clone();
                next.data = json!({"state": "paid", "by": i});
                scope.spawn(move || s.save_payment(next, 1).unwrap().is_ok())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|w| *w)
            .count()
    });
    assert_eq!(wins, 1);
    assert_eq!(s.payment(&p.id).unwrap().unwrap().revision, 2);
    let unknown = new_payment(&mut e, "draft-d:1", T0);
    assert_eq!(s.save_payment(unknown, 0).unwrap_err().code(), "LOT-S002");
}

pub(crate) fn open_payments_are_listed_oldest_first_until_they_are_closed<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(73);
    let a = s
        .create_payment(&new_payment(&mut e, "draft-e:1", T0 + Duration::minutes(2)))
        .unwrap();
    let b = s
        .create_payment(&new_payment(&mut e, "draft-f:1", T0))
        .unwrap();
    let c = s
        .create_payment(&new_payment(&mut e, "draft-g:1", T0 + Duration::hours(1)))
        .unwrap();
    let ids = |v: Vec<Payment>| v.into_iter().map(|p| p.id).collect::<Vec<_>>();
    let before = T0 + Duration::minutes(5);
    assert_eq!(ids(s.open_payments(before, 10).unwrap()), vec![b.id, a.id]);
    assert_eq!(ids(s.open_payments(before, 1).unwrap()), vec![b.id]);
    let mut closed = b.clone();
    closed.open = false;
    closed.updated = T0 + Duration::minutes(3);
    s.save_payment(closed, 0).unwrap().unwrap();
    assert_eq!(ids(s.open_payments(before, 10).unwrap()), vec![a.id]);
    assert_eq!(
        ids(s.open_payments(T0 + Duration::days(1), 10).unwrap()),
        vec![a.id, c.id]
    );
}
