//! Load check for the draft store: fills a store with N drafts, then (in a fresh process)
//! measures open time, resident memory and per-operation read/save latency on random drafts.
//!
//!     cargo run --release -p lotse-store --example store_load -- fill /tmp/lotse-1k 1000
//!     cargo run --release -p lotse-store --example store_load -- measure /tmp/lotse-1k 1000
//!
//! An optional fourth argument sets sled's cache in MiB (default: `SledOptions::default()`).
//!
//! Two more modes for open-time checks: `open PATH N` only opens the store and reports the time;
//! `saves PATH N` saves 100,000 random drafts (one thread) and exits. With `--close` anywhere in
//! the arguments, `fill` and `saves` end with `SledStore::close` (fresh snapshot) and report its
//! time; without it they only flush, like a process that is killed or exits without closing.
//! `hot PATH N` runs only the hot-set workload, ten times (for `perf record`);
//! `FILL_DATE=2026-11-27T10:00:00Z` makes `fill` date its drafts then (default 2026-05-04), so a
//! store for `lotse serve` can hold drafts that have not expired;
//! `sweep PATH N` times a sweep that deletes nothing and lookups by resume code;
//! `layout PATH N` compares random and time-ordered keys in raw sled (see `layout`);
//! `rawfill PATH N` and `rawopen PATH 0` time sled's recovery after a kill (see `raw_fill`).
//!
//! Results go to stdout as `key: value` lines; docs/BENCHMARKS.md records a run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use lotse_store::{
    DEFAULT_DRAFT_TTL, DeterministicEntropy, Draft, DraftId, DraftStore, ResumeCode, SledOptions,
    SledStore, TenantId,
};
use serde_json::json;
use time::macros::datetime;

/// The allocator `lotse serve` runs with (server/src/main.rs), so the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SEED: u64 = 42;
const SAMPLES: usize = 20_000;

fn tenant() -> TenantId {
    TenantId::new("heinsberg", "HEI").unwrap()
}

/// About 600 bytes of answers: a draft a few steps in.
fn state(i: u64) -> serde_json::Value {
    json!({
        "step": "adresse",
        "path": ["start", "person", "adresse"],
        "answers": {
            "vorname": "Erika", "nachname": "Mustermann", "geburtsdatum": "1980-04-01",
            "strasse": "Hauptstraße", "hausnummer": i, "plz": "52525", "ort": "Heinsberg",
            "bemerkung": "Bitte Rückruf am Vormittag, Telefon 02452 123456, danke. ".repeat(4)
        }
    })
}

fn rss_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Replays the id generation of `fill` (Draft::new draws the resume code, then the id).
fn draft_ids(n: u64) -> Vec<DraftId> {
    let mut e = DeterministicEntropy::new(SEED);
    (0..n)
        .map(|_| {
            let code = ResumeCode::generate(&mut e).unwrap();
            DraftId::for_resume_code(&mut e, &code).unwrap()
        })
        .collect()
}

const SAVES: usize = 100_000;

/// Ends a writing mode: `close` (snapshot) or only a flush, as chosen with `--close`.
fn finish(store: SledStore, close: bool) {
    store.flush().unwrap();
    if close {
        let t = Instant::now();
        let snapshot = store.close().unwrap();
        println!(
            "close_with_snapshot_ms: {:.1}",
            t.elapsed().as_secs_f64() * 1e3
        );
        assert!(snapshot);
    }
}

fn open(path: &str, options: &SledOptions) {
    let start = Instant::now();
    let store = SledStore::open_with(path, options).unwrap();
    println!("open_ms: {:.1}", start.elapsed().as_secs_f64() * 1e3);
    drop(store);
}

fn saves(path: &str, n: u64, options: &SledOptions, close: bool) {
    let ids = draft_ids(n);
    let store = SledStore::open_with(path, options).unwrap();
    let now = datetime!(2026-05-06 10:00 UTC);
    let mut rng = Xorshift(0x2545_F491_4F6C_DD1D);
    let start = Instant::now();
    for _ in 0..SAVES {
        let mut d = store.draft(&ids[rng.below(ids.len())]).unwrap().unwrap();
        d.touch(now, DEFAULT_DRAFT_TTL);
        let rev = d.revision;
        store.save_draft(d, rev).unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!("saves: {SAVES}");
    println!("saves_per_second: {:.0}", SAVES as f64 / secs);
    finish(store, close);
}

fn fill(path: &str, n: u64, options: &SledOptions, close: bool) {
    let store = SledStore::open_with(path, options).unwrap();
    let mut e = DeterministicEntropy::new(SEED);
    // FILL_DATE (RFC 3339) fills a store for `lotse serve` whose drafts have not expired yet.
    let now = std::env::var("FILL_DATE").map_or(datetime!(2026-05-04 10:00 UTC), |d| {
        time::OffsetDateTime::parse(&d, &time::format_description::well_known::Rfc3339).unwrap()
    });
    let start = Instant::now();
    for i in 0..n {
        let d = Draft::new(
            &mut e,
            tenant(),
            "wohngeld",
            "3",
            state(i),
            now,
            DEFAULT_DRAFT_TTL,
        )
        .unwrap();
        store.create_draft(&d).unwrap();
        if (i + 1) % 100_000 == 0 {
            eprintln!(
                "{} drafts, {:.0}/s",
                i + 1,
                (i + 1) as f64 / start.elapsed().as_secs_f64()
            );
        }
    }
    store.flush().unwrap();
    let secs = start.elapsed().as_secs_f64();
    println!("filled: {n}");
    println!("fill_seconds: {secs:.1}");
    println!("fill_per_second: {:.0}", n as f64 / secs);
    println!(
        "size_on_disk_mib: {}",
        store.size_on_disk().unwrap() / (1024 * 1024)
    );
    finish(store, close);
}

struct Xorshift(u64);
impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e6
}

fn workload(store: &SledStore, ids: &[DraftId], label: &str, now: time::OffsetDateTime) {
    let mut rng = Xorshift(0x9E37_79B9_7F4A_7C15);
    let mut reads = Vec::with_capacity(SAMPLES);
    let mut saves = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let id = &ids[rng.below(ids.len())];
        let t = Instant::now();
        let mut d = store.draft(id).unwrap().unwrap();
        reads.push(t.elapsed());
        d.touch(now, DEFAULT_DRAFT_TTL);
        let rev = d.revision;
        let t = Instant::now();
        store.save_draft(d, rev).unwrap();
        saves.push(t.elapsed());
    }
    reads.sort();
    saves.sort();
    println!("{label}_read_median_us: {:.1}", percentile(&reads, 0.5));
    println!("{label}_read_p99_us: {:.1}", percentile(&reads, 0.99));
    println!("{label}_save_median_us: {:.1}", percentile(&saves, 0.5));
    println!("{label}_save_p99_us: {:.1}", percentile(&saves, 0.99));
}

fn measure(path: &str, n: u64, options: &SledOptions) {
    let ids = draft_ids(n);
    let rss_before = rss_kib("VmRSS:");
    let start = Instant::now();
    let store = SledStore::open_with(path, options).unwrap();
    let open = start.elapsed();
    println!("open_ms: {:.1}", open.as_secs_f64() * 1e3);
    println!("rss_after_open_mib: {}", rss_kib("VmRSS:") / 1024);
    println!("rss_before_open_mib: {}", rss_before / 1024);

    let now = datetime!(2026-05-05 10:00 UTC);
    // The server's housekeeping has run since the fill (a day ago) and since any earlier
    // `measure`: drafts not edited for an hour left the small tree of recent drafts. Earlier
    // runs saved their drafts with this same fixed `now`, so "before now + 1 minute" stands for
    // "an hour or more ago" for them too, and every run starts from the same state.
    let t = Instant::now();
    let archived = store
        .archive_idle_drafts(now + time::Duration::minutes(1))
        .unwrap();
    println!("archive_ms: {:.1}", t.elapsed().as_secs_f64() * 1e3);
    println!("archived: {archived}");
    // A hot set of 1,000 drafts (citizens working on their applications right now), warmed up
    // by one pass of reads: what a busy portal mostly sees. Each one's first save brings it
    // back into the recent tree.
    let hot = &ids[..ids.len().min(1000)];
    for id in hot {
        store.draft(id).unwrap();
    }
    workload(&store, hot, "hot1000", now);
    println!("recent_drafts: {}", store.recent_draft_count());
    // Uniform over every stored draft: the worst case, most reads miss the cache.
    workload(&store, &ids, "uniform", now);
    // The hot set again, now beside the 20,000 drafts the uniform run just saved (all recent).
    workload(&store, hot, "hot1000_after_uniform", now);
    println!("recent_drafts: {}", store.recent_draft_count());
    println!("rss_after_workload_mib: {}", rss_kib("VmRSS:") / 1024);
    println!("rss_peak_mib: {}", rss_kib("VmHWM:") / 1024);
}

/// Only the hot set (for a profiler): warms the 1,000 drafts, then runs their workload ten times.
fn hot(path: &str, n: u64, options: &SledOptions) {
    let ids = draft_ids(n);
    let store = SledStore::open_with(path, options).unwrap();
    let now = datetime!(2026-05-05 10:00 UTC);
    // As in `measure`: the housekeeping has moved every draft out of the recent tree.
    store
        .archive_idle_drafts(now + time::Duration::minutes(1))
        .unwrap();
    let hot = &ids[..ids.len().min(1000)];
    for id in hot {
        store.draft(id).unwrap();
    }
    for round in 0..10 {
        workload(&store, hot, &format!("hot{round}"), now);
    }
}

/// What the background housekeeping and a resume by code cost at this size: times a sweep that
/// finds nothing to delete (every draft read, none expired) and 2,000 `draft_by_resume_code`
/// lookups of random drafts.
fn sweep(path: &str, n: u64, options: &SledOptions) {
    let store = SledStore::open_with(path, options).unwrap();
    println!("rss_before_sweep_mib: {}", rss_kib("VmRSS:") / 1024);
    let t = Instant::now();
    let swept = store
        .sweep_expired(datetime!(2026-05-05 10:00 UTC))
        .unwrap();
    println!("sweep_ms: {:.1}", t.elapsed().as_secs_f64() * 1e3);
    println!("swept: {swept}");
    println!("rss_after_sweep_mib: {}", rss_kib("VmRSS:") / 1024);
    println!("rss_peak_after_sweep_mib: {}", rss_kib("VmHWM:") / 1024);
    let mut e = DeterministicEntropy::new(SEED);
    let codes: Vec<ResumeCode> = (0..n)
        .map(|_| {
            let code = ResumeCode::generate(&mut e).unwrap();
            DraftId::for_resume_code(&mut e, &code).unwrap();
            code
        })
        .collect();
    let mut rng = Xorshift(0x2545_F491_4F6C_DD1D);
    let mut lookups = Vec::with_capacity(2000);
    for _ in 0..2000 {
        let code = &codes[rng.below(codes.len())];
        let t = Instant::now();
        let found = store.draft_by_resume_code(code).unwrap();
        lookups.push(t.elapsed());
        assert!(found.is_some());
    }
    lookups.sort();
    println!("code_lookup_median_us: {:.1}", percentile(&lookups, 0.5));
    println!("code_lookup_p99_us: {:.1}", percentile(&lookups, 0.99));
}

/// Raw sled, no Lotse code: how much of the hot-set gap is the key layout? Fills one tree with
/// N random 16-byte keys and one with N time-ordered keys (8-byte counter + 8 random bytes, as
/// a UUIDv7-like id would be), 600-byte values each, then reads the 1,000 newest keys (the
/// drafts being edited right now) at random.
fn layout(path: &str, n: u64, options: &SledOptions) {
    for (label, ordered) in [("random", false), ("ordered", true)] {
        let db = sled::Config::new()
            .path(std::path::Path::new(path).join(label))
            .cache_capacity(options.cache_capacity)
            .open()
            .unwrap();
        let mut rng = Xorshift(0x9E37_79B9_7F4A_7C15);
        let value = vec![b'x'; 600];
        let key = |i: u64, r: u64| -> [u8; 16] {
            let mut k = [0u8; 16];
            if ordered {
                k[..8].copy_from_slice(&i.to_be_bytes());
                k[8..].copy_from_slice(&r.to_be_bytes());
            } else {
                k[..8].copy_from_slice(&r.to_be_bytes());
                k[8..].copy_from_slice(&r.rotate_left(29).to_be_bytes());
            }
            k
        };
        let mut hot = Vec::with_capacity(1000);
        for i in 0..n {
            let k = key(i, rng.next());
            db.insert(k, value.as_slice()).unwrap();
            if i + 1000 >= n {
                hot.push(k);
            }
        }
        db.flush().unwrap();
        for k in &hot {
            db.get(k).unwrap().unwrap();
        }
        let mut reads = Vec::with_capacity(SAMPLES);
        for _ in 0..SAMPLES {
            let k = &hot[rng.below(hot.len())];
            let t = Instant::now();
            db.get(k).unwrap().unwrap();
            reads.push(t.elapsed());
        }
        reads.sort();
        println!(
            "{label}_hot1000_get_median_us: {:.2}",
            percentile(&reads, 0.5)
        );
        println!(
            "{label}_hot1000_get_p99_us: {:.2}",
            percentile(&reads, 0.99)
        );
    }
}

const USAGE: &str = "usage: store_load fill|measure|open|saves|sweep|hot|layout|rawfill|rawopen PATH N [CACHE_MIB] [--close]";

/// Raw sled, no Lotse: N random 16-byte keys into `TREES` trees (environment, default 1; the
/// first gets 600-byte values, the others 16 bytes, like a draft and its index entries), one
/// flush, then exit without dropping the database, as a killed process would. `rawopen` then
/// shows how sled's recovery time grows with the writes since its last snapshot.
fn raw_fill(path: &str, n: u64, options: &SledOptions) {
    let trees: usize = std::env::var("TREES").map_or(1, |t| t.parse().unwrap());
    let db = sled::Config::new()
        .path(path)
        .cache_capacity(options.cache_capacity)
        .open()
        .unwrap();
    let handles: Vec<_> = (0..trees)
        .map(|t| db.open_tree(format!("t{t}")).unwrap())
        .collect();
    let mut rng = Xorshift(0x9E37_79B9_7F4A_7C15);
    let value = vec![b'x'; 600];
    let t = Instant::now();
    for _ in 0..n {
        let mut k = [0u8; 16];
        k[..8].copy_from_slice(&rng.next().to_be_bytes());
        k[8..].copy_from_slice(&rng.next().to_be_bytes());
        for (j, tree) in handles.iter().enumerate() {
            let v = if j == 0 { &value[..] } else { &value[..16] };
            tree.insert(k, v).unwrap();
        }
    }
    db.flush().unwrap();
    println!("raw_trees: {trees}");
    println!("raw_fill_seconds: {:.1}", t.elapsed().as_secs_f64());
    std::process::exit(0);
}

fn raw_open(path: &str, options: &SledOptions) {
    let t = Instant::now();
    let db = sled::Config::new()
        .path(path)
        .cache_capacity(options.cache_capacity)
        .open()
        .unwrap();
    println!("raw_open_ms: {:.1}", t.elapsed().as_secs_f64() * 1000.0);
    drop(db);
}

fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    let close = args.iter().any(|a| a == "--close");
    args.retain(|a| a != "--close");
    let (Some(mode), Some(path), Some(n)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("{USAGE}");
        std::process::exit(2);
    };
    let n: u64 = n.parse().unwrap();
    let mut options = SledOptions::default();
    if let Some(mib) = args.get(4) {
        options.cache_capacity = mib.parse::<u64>().unwrap() * 1024 * 1024;
    }
    println!("cache_mib: {}", options.cache_capacity / (1024 * 1024));
    match mode.as_str() {
        "fill" => fill(path, n, &options, close),
        "measure" => measure(path, n, &options),
        "open" => open(path, &options),
        "saves" => saves(path, n, &options, close),
        "layout" => layout(path, n, &options),
        "sweep" => sweep(path, n, &options),
        "hot" => hot(path, n, &options),
        "rawfill" => raw_fill(path, n, &options),
        "rawopen" => raw_open(path, &options),
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}
