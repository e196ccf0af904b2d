//! Appointment bookings per second on both backends: a booking is a hold (the office's day
//! locked, its visits counted) and a confirmation with its mail in the outbox, each durable.
//! The baseline in the same run is the hold alone. One thread, and eight threads booking at
//! eight offices at once. Figures and commands: docs/BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lotse_store::{
    BookingId, DeterministicEntropy, NewOutboxMessage, NewVisit, SledStore, TenantId, VisitStore,
};
use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-12-01 08:00 UTC);

/// Visit number `i` of office `office`: 40 quarter hours a day, then the next day; never the
/// same time twice, so a hold is never refused.
fn visit(e: &mut DeterministicEntropy, office: u64, i: u64) -> NewVisit {
    let day = datetime!(2027-01-04 07:00 UTC) + time::Duration::days((i / 40) as i64);
    let start = day + time::Duration::minutes(15 * (i % 40) as i64);
    NewVisit {
        id: BookingId::generate(e).unwrap(),
        tenant: TenantId::new("heinsberg", "HEI").unwrap(),
        office: format!("buero-{office}"),
        service: "personalausweis".into(),
        day: start.date(),
        start,
        end: start + time::Duration::minutes(15),
        held_until: NOW + time::Duration::minutes(10),
        reference: None,
        lang: Some("de".into()),
    }
}

fn mail(id: &BookingId) -> NewOutboxMessage {
    NewOutboxMessage {
        topic: "mail.visit_confirmed".into(),
        target: "E-Mail: Terminbestätigung".into(),
        payload: json!({"visit": id.to_string(), "to": "juergen@example.org", "vars": {"ics": "BEGIN:VCALENDAR".repeat(40)}}),
    }
}

fn book<S: VisitStore>(s: &S, v: NewVisit) {
    let held = s.hold_visit(v, 1, NOW).unwrap();
    s.confirm_visit(
        &held.id,
        "Jürgen Schmitz".into(),
        "juergen@example.org".into(),
        vec![mail(&held.id)],
        NOW,
    )
    .unwrap();
}

fn bookings<S: VisitStore + Sync>(c: &mut Criterion, name: &str, s: &S) {
    let mut g = c.benchmark_group(format!("{name}_bookings"));
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    let mut e = DeterministicEntropy::new(7);
    let mut n = 0u64;
    g.bench_function("baseline_hold_1_thread", |b| {
        b.iter(|| {
            n += 1;
            s.hold_visit(visit(&mut e, 0, n), 1, NOW).unwrap();
        })
    });
    let mut n = 0u64;
    g.bench_function("book_1_thread", |b| {
        b.iter(|| {
            n += 1;
            book(s, visit(&mut e, 1, n));
        })
    });
    let next = AtomicU64::new(0);
    g.bench_function("book_8_threads_8_offices", |b| {
        b.iter_custom(|iters| {
            let per = iters.div_ceil(8);
            // Fresh ids in every round: the seeds follow the visits booked so far.
            let round = next.load(Ordering::Relaxed);
            let start = Instant::now();
            std::thread::scope(|scope| {
                for t in 0..8u64 {
                    let next = &next;
                    scope.spawn(move || {
                        let mut e = DeterministicEntropy::new(1_000 + round * 8 + t);
                        for _ in 0..per {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            book(s, visit(&mut e, 10 + t, i));
                        }
                    });
                }
            });
            start.elapsed().mul_f64(iters as f64 / (per * 8) as f64)
        })
    });
    g.finish();
}

fn sled_bookings(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path().join("store")).unwrap();
    bookings(c, "sled", &store);
}

#[cfg(feature = "postgres")]
fn pg_bookings(c: &mut Criterion) {
    use lotse_store::{PgOptions, PgStore, pg_testing};
    let Some(url) = pg_testing::test_database().unwrap() else {
        return;
    };
    let mut options = PgOptions::new(url);
    options.max_connections = 16;
    let store = PgStore::connect(&options).unwrap();
    bookings(c, "pg", &store);
}

#[cfg(feature = "postgres")]
criterion_group!(benches, sled_bookings, pg_bookings);
#[cfg(not(feature = "postgres"))]
criterion_group!(benches, sled_bookings);
criterion_main!(benches);
