//! Store throughput: draft saves on one thread (against raw sled inserts of the same bytes as
//! the baseline) and durable submissions (one writer, one fsync each, as the baseline; many
//! writers sharing fsyncs through group commit). Figures and commands: docs/BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lotse_engine::store::{
    DEFAULT_DRAFT_TTL, DeterministicEntropy, Draft, DraftStore, IdempotencyKey, NewSubmission,
    SledStore, SubmissionId, SubmissionStore, TenantId,
};
use serde_json::json;
use time::macros::datetime;

fn tenant() -> TenantId {
    TenantId::new("heinsberg", "HEI").unwrap()
}

/// A realistic application state: about 1 KB of answers.
fn state(i: u64) -> serde_json::Value {
    json!({
        "step": "einkommen",
        "path": ["start", "person", "adresse", "haushalt", "einkommen"],
        "answers": {
            "vorname": "Erika", "nachname": "Mustermann", "geburtsdatum": "1980-04-01",
            "strasse": "Hauptstraße", "hausnummer": "12a", "plz": "52525", "ort": "Heinsberg",
            "haushalt": [{"name": "Max", "alter": 12}, {"name": "Lena", "alter": 9}],
            "einkommen": {"brutto": 2450.5 + i as f64, "netto": 1820.75, "arbeitgeber": "Stadtwerke"},
            "miete": 780, "heizkosten": 95, "wohnflaeche": 78.5,
            "bemerkung": "Bitte Rückruf am Vormittag, Telefon 02452 123456, danke. ".repeat(4)
        }
    })
}

fn draft_save(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path().join("drafts")).unwrap();
    let mut entropy = DeterministicEntropy::new(1);
    let now = datetime!(2026-05-04 10:00 UTC);
    let mut drafts: Vec<Option<Draft>> = (0..1000)
        .map(|i| {
            let d = Draft::new(
                &mut entropy,
                tenant(),
                "wohngeld",
                "3",
                state(i),
                now,
                DEFAULT_DRAFT_TTL,
            )
            .unwrap();
            store.create_draft(&d).unwrap();
            Some(d)
        })
        .collect();
    let bytes = serde_json::to_vec(&drafts[0]).unwrap();
    // The draft moves into save_draft and the stored one comes back: no clone in the loop.
    eprintln!("draft record: {} bytes", bytes.len());

    let mut g = c.benchmark_group("draft_save");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(5));
    let mut n = 0usize;
    g.bench_function("save_draft_1_thread", |b| {
        b.iter(|| {
            let i = n % drafts.len();
            n += 1;
            let mut d = drafts[i].take().unwrap();
            d.touch(now + time::Duration::seconds(n as i64), DEFAULT_DRAFT_TTL);
            let rev = d.revision;
            drafts[i] = Some(store.save_draft(d, rev).unwrap());
        })
    });
    // Baseline: sled insert of a record of the same size, no revision check, no index.
    let raw = dir.path().join("raw");
    let db = sled::open(raw).unwrap();
    let mut k = 0u64;
    g.bench_function("baseline_raw_sled_insert", |b| {
        b.iter(|| {
            k += 1;
            db.insert((k % 1000).to_be_bytes(), bytes.as_slice())
                .unwrap();
        })
    });
    g.finish();
}

fn submit_with(
    store: &(impl SubmissionStore + Sync),
    threads: u64,
    iters: u64,
    round: u64,
) -> Duration {
    submit_on(&[store], threads, 1, iters, round)
}

/// Spreads `threads` writers over `nodes` (writer t uses node t mod n) and `tenants` tenants
/// (writer t submits for tenant t mod tenants; 1: all for heinsberg).
fn submit_on<S: SubmissionStore + Sync>(
    nodes: &[&S],
    threads: u64,
    tenants: u64,
    iters: u64,
    round: u64,
) -> Duration {
    let per_thread = iters.div_ceil(threads);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let store = nodes[(t as usize) % nodes.len()];
            let tenant = if tenants <= 1 {
                tenant()
            } else {
                TenantId::new(&format!("gemeinde-{}", t % tenants), "GEM").unwrap()
            };
            scope.spawn(move || {
                let mut entropy = DeterministicEntropy::new(round * 1000 + t);
                for i in 0..per_thread {
                    let new = NewSubmission {
                        id: SubmissionId::generate(&mut entropy).unwrap(),
                        tenant: tenant.clone(),
                        idempotency_key: IdempotencyKey::try_from(format!("b{round}-{t}-{i}"))
                            .unwrap(),
                        draft_id: None,
                        workflow_id: "wohngeld".into(),
                        workflow_version: "3".into(),
                        data: state(i),
                        notifications: vec![],
                    };
                    store.submit(new, datetime!(2026-05-04 10:00 UTC)).unwrap();
                }
            });
        }
    });
    // Report per requested iteration, though threads may have done a few more.
    start
        .elapsed()
        .mul_f64(iters as f64 / (per_thread * threads) as f64)
}

fn submit_durable(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let mut g = c.benchmark_group("submit_durable");
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    let mut round = 0;
    for threads in [1u64, 4, 16, 64] {
        let (flushes_before, submits_before) = (store.flush_count(), store.commit_count());
        g.bench_function(format!("{threads}_writers"), |b| {
            b.iter_custom(|iters| {
                round += 1;
                submit_with(&store, threads, iters, round)
            })
        });
        let flushes = store.flush_count() - flushes_before;
        let submits = store.commit_count() - submits_before;
        eprintln!(
            "{threads} writers: {submits} durable writes, {flushes} fsyncs, {:.1} writes per fsync",
            submits as f64 / flushes.max(1) as f64
        );
    }
    g.finish();
}

/// The same workloads on PostgreSQL (`--features postgres`): a throwaway local cluster from
/// `pg_testing` (or `LOTSE_TEST_PG`), default settings (`synchronous_commit = on`, fsync on).
#[cfg(feature = "postgres")]
mod pg {
    use super::*;
    use lotse_engine::store::{PgOptions, PgStore, pg_testing};

    fn connect() -> Option<(PgStore, String)> {
        let url = pg_testing::test_database().unwrap()?;
        let mut options = PgOptions::new(url.clone());
        options.max_connections = 32;
        Some((PgStore::connect(&options).unwrap(), url))
    }

    pub fn draft_save(c: &mut Criterion) {
        let Some((store, _)) = connect() else { return };
        let mut entropy = DeterministicEntropy::new(1);
        let now = datetime!(2026-05-04 10:00 UTC);
        let mut drafts: Vec<Option<Draft>> = (0..1000)
            .map(|i| {
                let d = Draft::new(
                    &mut entropy,
                    tenant(),
                    "wohngeld",
                    "3",
                    state(i),
                    now,
                    DEFAULT_DRAFT_TTL,
                )
                .unwrap();
                store.create_draft(&d).unwrap();
                Some(d)
            })
            .collect();
        let mut g = c.benchmark_group("pg_draft_save");
        g.throughput(Throughput::Elements(1));
        g.measurement_time(Duration::from_secs(8));
        let mut n = 0usize;
        g.bench_function("save_draft_1_thread", |b| {
            b.iter(|| {
                let i = n % drafts.len();
                n += 1;
                let mut d = drafts[i].take().unwrap();
                d.touch(now + time::Duration::seconds(n as i64), DEFAULT_DRAFT_TTL);
                let rev = d.revision;
                drafts[i] = Some(store.save_draft(d, rev).unwrap());
            })
        });
        // 16 threads saving their own drafts: PostgreSQL's group commit shares WAL flushes.
        let shared: Vec<std::sync::Mutex<Draft>> = drafts
            .into_iter()
            .map(|d| std::sync::Mutex::new(d.unwrap()))
            .collect();
        g.bench_function("save_draft_16_threads", |b| {
            b.iter_custom(|iters| {
                let per = iters.div_ceil(16);
                let start = Instant::now();
                std::thread::scope(|scope| {
                    for t in 0..16u64 {
                        let (store, shared) = (&store, &shared);
                        scope.spawn(move || {
                            for i in 0..per {
                                let slot = &shared[((t * 60 + i % 60) as usize) % shared.len()];
                                let mut d = slot.lock().unwrap();
                                let mut next = d.clone();
                                next.touch(
                                    now + time::Duration::seconds(i as i64),
                                    DEFAULT_DRAFT_TTL,
                                );
                                let rev = next.revision;
                                *d = store.save_draft(next, rev).unwrap();
                            }
                        });
                    }
                });
                start.elapsed().mul_f64(iters as f64 / (per * 16) as f64)
            })
        });
        g.finish();
    }

    pub fn submit_durable(c: &mut Criterion) {
        let Some((a, url)) = connect() else { return };
        let mut options = PgOptions::new(url);
        options.max_connections = 32;
        let b = PgStore::connect(&options).unwrap();
        let mut g = c.benchmark_group("pg_submit_durable");
        g.throughput(Throughput::Elements(1));
        g.sample_size(10);
        g.measurement_time(Duration::from_secs(8));
        let mut round = 10_000;
        for threads in [1u64, 4, 16, 64] {
            g.bench_function(format!("1_node_{threads}_writers"), |bench| {
                bench.iter_custom(|iters| {
                    round += 1;
                    submit_on(&[&a], threads, 1, iters, round)
                })
            });
        }
        // The counter row of a tenant and year is locked until its submit commits, so one
        // tenant's submissions are serial; different tenants' are not.
        g.bench_function("1_node_16_writers_16_tenants", |bench| {
            bench.iter_custom(|iters| {
                round += 1;
                submit_on(&[&a], 16, 16, iters, round)
            })
        });
        // Two nodes: two stores with their own runtime and pool on one database, the writers
        // split between them.
        for threads in [16u64, 64] {
            g.bench_function(format!("2_nodes_{threads}_writers"), |bench| {
                bench.iter_custom(|iters| {
                    round += 1;
                    submit_on(&[&a, &b], threads, 1, iters, round)
                })
            });
        }
        g.bench_function("2_nodes_16_writers_16_tenants", |bench| {
            bench.iter_custom(|iters| {
                round += 1;
                submit_on(&[&a, &b], 16, 16, iters, round)
            })
        });
        g.finish();
    }
}

#[cfg(feature = "postgres")]
criterion_group!(
    benches,
    draft_save,
    submit_durable,
    pg::draft_save,
    pg::submit_durable
);
#[cfg(not(feature = "postgres"))]
criterion_group!(benches, draft_save, submit_durable);
criterion_main!(benches);
