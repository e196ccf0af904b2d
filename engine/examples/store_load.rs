//! Load check for the draft store: fills a store with N drafts, then (in a fresh process)
//! measures open time, resident memory and per-operation read/save latency on random drafts.
//!
//!     cargo run --release -p lotse-engine --example store_load -- fill /tmp/lotse-1k 1000
//!     cargo run --release -p lotse-engine --example store_load -- measure /tmp/lotse-1k 1000
//!
//! An optional fourth argument sets sled's cache in MiB (default: `SledOptions::default()`).
//!
//! Results go to stdout as `key: value` lines; docs/BENCHMARKS.md records a run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use lotse_engine::store::{
    DEFAULT_DRAFT_TTL, DeterministicEntropy, Draft, DraftId, DraftStore, ResumeCode, SledOptions,
    SledStore, TenantId,
};
use serde_json::json;
use time::macros::datetime;

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

/// Replays the id generation of `fill` (Draft::new draws the id, then the resume code).
fn draft_ids(n: u64) -> Vec<DraftId> {
    let mut e = DeterministicEntropy::new(SEED);
    (0..n)
        .map(|_| {
            let id = DraftId::generate(&mut e).unwrap();
            ResumeCode::generate(&mut e).unwrap();
            id
        })
        .collect()
}

fn fill(path: &str, n: u64, options: &SledOptions) {
    let store = SledStore::open_with(path, options).unwrap();
    let mut e = DeterministicEntropy::new(SEED);
    let now = datetime!(2026-05-04 10:00 UTC);
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
}

struct Xorshift(u64);
impl Xorshift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
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
    // Uniform over every stored draft: the worst case, most reads miss the cache.
    workload(&store, &ids, "uniform", now);
    // A hot set of 1,000 drafts (citizens working on their applications right now), warmed up
    // by one pass: what a busy portal mostly sees.
    let hot = &ids[..ids.len().min(1000)];
    for id in hot {
        store.draft(id).unwrap();
    }
    workload(&store, hot, "hot1000", now);
    println!("rss_after_workload_mib: {}", rss_kib("VmRSS:") / 1024);
    println!("rss_peak_mib: {}", rss_kib("VmHWM:") / 1024);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(path), Some(n)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: store_load fill|measure PATH N [CACHE_MIB]");
        std::process::exit(2);
    };
    let n: u64 = n.parse().unwrap();
    let mut options = SledOptions::default();
    if let Some(mib) = args.get(4) {
        options.cache_capacity = mib.parse::<u64>().unwrap() * 1024 * 1024;
    }
    println!("cache_mib: {}", options.cache_capacity / (1024 * 1024));
    match mode.as_str() {
        "fill" => fill(path, n, &options),
        "measure" => measure(path, n, &options),
        _ => {
            eprintln!("usage: store_load fill|measure PATH N [CACHE_MIB]");
            std::process::exit(2);
        }
    }
}
