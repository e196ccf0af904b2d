//! Store throughput: draft saves on one thread (against raw sled inserts of the same bytes as
//! the baseline) and durable submissions (one writer, one fsync each, as the baseline; many
//! writers sharing fsyncs through group commit). Figures and commands: docs/BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lotse_store::{
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
                        applicant: None,
                        search_text: String::new(),
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
    use lotse_store::{PgOptions, PgStore, pg_testing};

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

/// The Postkorb of a tenant with 100,000 submissions (and 20,000 of another tenant beside
/// them), every fifth one moved on to "in Bearbeitung": the first page, a status filter, a
/// reference search and one day. Filled on /dev/shm where it exists: the fill's fsyncs are not
/// what is measured.
fn postkorb(c: &mut Criterion) {
    use lotse_store::{Actor, PostkorbQuery, Status, StatusChange, StatusStore};
    let base = std::path::Path::new("/dev/shm");
    let dir = if base.is_dir() {
        tempfile::tempdir_in(base).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    let store = SledStore::open(dir.path().join("postkorb")).unwrap();
    let other = TenantId::new("wegberg", "WEG").unwrap();
    let t0 = datetime!(2026-01-01 08:00 UTC);
    let filled = Instant::now();
    std::thread::scope(|scope| {
        for w in 0..8u64 {
            let store = &store;
            let other = other.clone();
            scope.spawn(move || {
                let mut e = DeterministicEntropy::new(9_000 + w);
                for i in (w..120_000).step_by(8) {
                    let tenant = if i < 100_000 { tenant() } else { other.clone() };
                    let s = store
                        .submit(
                            NewSubmission {
                                id: SubmissionId::generate(&mut e).unwrap(),
                                tenant,
                                idempotency_key: IdempotencyKey::try_from(format!("pk-{i}"))
                                    .unwrap(),
                                draft_id: None,
                                workflow_id: if i % 3 == 0 { "hundesteuer" } else { "parken" }
                                    .into(),
                                workflow_version: "1".into(),
                                data: json!({"answers": {"name": "Erika Mustermann", "i": i}}),
                                applicant: None,
                                search_text: String::new(),
                                notifications: vec![],
                            },
                            t0 + time::Duration::minutes(i as i64 * 5),
                        )
                        .unwrap();
                    if i % 5 == 0 {
                        store
                            .change_status(
                                &s.id,
                                StatusChange {
                                    status: Status::InBearbeitung,
                                    at: t0 + time::Duration::days(400),
                                    actor: Actor::System,
                                    note: None,
                                },
                            )
                            .unwrap();
                    }
                }
            });
        }
    });
    eprintln!(
        "postkorb fill: 120,000 submissions in {:?}",
        filled.elapsed()
    );
    let mut g = c.benchmark_group("postkorb_100k");
    g.sample_size(20);
    let store = &store;
    let page = |q: PostkorbQuery| move || store.postkorb(&tenant(), &q).unwrap();
    let first = page(PostkorbQuery {
        limit: 25,
        ..Default::default()
    });
    assert_eq!(first().total, 100_000);
    g.bench_function("first_page_with_counts", |b| b.iter(&first));
    let status = page(PostkorbQuery {
        status: Some(Status::InBearbeitung),
        limit: 25,
        ..Default::default()
    });
    assert_eq!(status().total, 20_000);
    g.bench_function("status_filter", |b| b.iter(&status));
    let service = page(PostkorbQuery {
        workflow: Some("hundesteuer".into()),
        offset: 25 * 100,
        limit: 25,
        ..Default::default()
    });
    g.bench_function("service_filter_page_101", |b| b.iter(&service));
    let reference = page(PostkorbQuery {
        reference: Some("HEI-2026-004711".into()),
        limit: 25,
        ..Default::default()
    });
    g.bench_function("reference_search", |b| b.iter(&reference));
    let day = page(PostkorbQuery {
        from: Some(t0 + time::Duration::days(100)),
        until: Some(t0 + time::Duration::days(101)),
        limit: 25,
        ..Default::default()
    });
    assert_eq!(day().total, 288);
    g.bench_function("one_day", |b| b.iter(&day));
    g.finish();
}

/// 10,000 submissions received into `store` (ids from `seed`).
fn ten_thousand_submissions(store: &SledStore, seed: u64) -> Vec<SubmissionId> {
    let mut e = DeterministicEntropy::new(seed);
    (0..10_000u64)
        .map(|i| {
            store
                .submit(
                    NewSubmission {
                        id: SubmissionId::generate(&mut e).unwrap(),
                        tenant: tenant(),
                        idempotency_key: IdempotencyKey::try_from(format!("k{i}")).unwrap(),
                        draft_id: None,
                        workflow_id: "hundesteuer".into(),
                        workflow_version: "1".into(),
                        data: state(i),
                        applicant: Some("Erika Mustermann".into()),
                        search_text: "Erika Mustermann".into(),
                        notifications: vec![],
                    },
                    datetime!(2026-11-20 10:00 UTC),
                )
                .unwrap()
                .id
        })
        .collect()
}

/// The office account the benchmarks' reads are by.
fn office() -> lotse_store::Actor {
    lotse_store::Actor::Office {
        account: "0123456789abcdef0123456789abcdef".into(),
    }
}

/// The reads of an export of `ids`, in one batch.
fn export_reads(store: &SledStore, ids: &[SubmissionId]) {
    use lotse_store::{AuditAction, AuditStore, ReadKind};
    let reads = ids
        .iter()
        .map(|id| AuditAction::SubmissionRead {
            submission: *id,
            what: ReadKind::Export,
            sha256: None,
        })
        .collect();
    store
        .append_audits(
            datetime!(2026-12-07 10:00 UTC),
            office(),
            Some(&tenant()),
            reads,
        )
        .unwrap();
}

/// What an export of 10,000 submissions adds to the audit log (one read each, written in one
/// batch and flushed), against what the export reads anyway: the 10,000 submissions by id.
/// On a store on disk, so the flush counts.
fn audit_export(c: &mut Criterion) {
    use lotse_store::{AuditAction, AuditStore, ReadKind};
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path().join("store")).unwrap();
    let ids = ten_thousand_submissions(&store, 7);
    let mut g = c.benchmark_group("audit_export_10k");
    g.sample_size(10);
    g.throughput(Throughput::Elements(ids.len() as u64));
    g.bench_function("baseline_read_10k_submissions", |b| {
        b.iter(|| {
            for id in &ids {
                assert!(store.submission(id).unwrap().is_some());
            }
        })
    });
    g.bench_function("append_audit_one_page_read", |b| {
        let mut n = 0usize;
        b.iter(|| {
            n += 1;
            store
                .append_audit(
                    datetime!(2026-12-07 10:00 UTC),
                    office(),
                    Some(&tenant()),
                    AuditAction::SubmissionRead {
                        submission: ids[n % ids.len()],
                        what: ReadKind::Page,
                        sha256: None,
                    },
                )
                .unwrap();
        })
    });
    g.bench_function("append_audits_10k_reads", |b| {
        b.iter(|| export_reads(&store, &ids))
    });
    g.finish();
}

/// One submission's audit entries in a log of 110,000 (10,000 submissions received, then ten
/// exports of all of them): through the index by submission, against the walk of the whole log
/// that `lotse admin audit --submission` did before; and building the index again from the log
/// (an older store's first open, which starts from an empty index, costs a little less).
fn audit_by_submission(c: &mut Criterion) {
    use lotse_store::AuditStore;
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path().join("store")).unwrap();
    let ids = ten_thousand_submissions(&store, 8);
    for _ in 0..10 {
        export_reads(&store, &ids);
    }
    let one = ids[4_321];
    let mut g = c.benchmark_group("audit_by_submission_110k");
    g.sample_size(10);
    g.bench_function("baseline_walk_whole_log", |b| {
        b.iter(|| {
            let mut found = 0;
            let mut after = 0;
            loop {
                let page = store.audit_log(after, 1_000).unwrap();
                let Some(last) = page.last() else { break };
                after = last.seq;
                found += page
                    .iter()
                    .filter(|e| e.action.submission() == Some(&one))
                    .count();
            }
            assert_eq!(found, 11);
        })
    });
    g.bench_function("submission_audit_index", |b| {
        b.iter(|| assert_eq!(store.submission_audit(&one).unwrap().len(), 11))
    });
    g.bench_function("rebuild_index_110k_entries", |b| {
        b.iter(|| store.rebuild_audit_index().unwrap())
    });
    g.finish();
}

#[cfg(feature = "postgres")]
criterion_group!(
    benches,
    draft_save,
    submit_durable,
    postkorb,
    audit_export,
    audit_by_submission,
    pg::draft_save,
    pg::submit_durable
);
#[cfg(not(feature = "postgres"))]
criterion_group!(
    benches,
    draft_save,
    submit_durable,
    postkorb,
    audit_export,
    audit_by_submission
);
criterion_main!(benches);
