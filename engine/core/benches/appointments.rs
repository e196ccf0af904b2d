//! The slot search of the Online-Terminvereinbarung: every free start time of a service for a
//! month (31 days) of Stadt Heinsberg's demo schedule, with a third of the times taken.
//! Target: ≤ 5 ms (docs/BENCHMARKS.md).
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use lotse_core::appointments::Schedule;
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

fn bench(c: &mut Criterion) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../portal/termine/heinsberg.yaml");
    let text = std::fs::read_to_string(&file).expect("the demo schedule");
    let schedule = Schedule::parse(&file, &text).expect("a valid schedule");
    let earliest = datetime!(2027-03-01 00:00 UTC);
    // Every third quarter hour is fully booked, the others have one visit.
    let taken = |t: OffsetDateTime| {
        if (t.unix_timestamp() / 900) % 3 == 0 {
            3
        } else {
            1
        }
    };
    c.bench_function("slots_of_a_month_personalausweis", |b| {
        b.iter(|| {
            let mut n = 0;
            for i in 0..31 {
                let day = date!(2027 - 03 - 01) + Duration::days(i);
                n += schedule
                    .slots("personalausweis", day, earliest, &taken)
                    .len();
            }
            black_box(n)
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
