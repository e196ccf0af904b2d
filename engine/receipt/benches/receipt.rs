//! Receipt render + sign benchmark (2 and 20 pages), with WeasyPrint on the same content as a
//! baseline when `python3 -c 'import weasyprint'` works. See docs/BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use lotse_receipt::{ReceiptModel, SigningIdentity, TemplateRegistry, render_receipt};
use time::macros::datetime;

#[path = "support/demo_model.rs"]
mod demo_model;
use demo_model::model;

fn pages(pdf: &[u8]) -> usize {
    lopdf::Document::load_mem(pdf)
        .map(|d| d.get_pages().len())
        .unwrap_or(0)
}

fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/receipt-bench")
}

/// (label, sections) chosen so the receipts have 2 and 20 pages.
const CASES: [(&str, usize); 2] = [("2 pages", 1), ("20 pages", 22)];

fn bench(c: &mut Criterion) {
    let templates = TemplateRegistry::builtin().unwrap();
    let identity =
        SigningIdentity::generate_development("Stadt Heidestadt", datetime!(2026-07-01 08:00 UTC))
            .unwrap();
    std::fs::create_dir_all(target_dir()).unwrap();
    let mut group = c.benchmark_group("receipt render+sign");
    for (label, sections) in CASES {
        let m = model(sections);
        let pdf = render_receipt(&m, &templates, &identity).unwrap();
        println!("{label}: {} pages, {} bytes", pages(&pdf), pdf.len());
        std::fs::write(target_dir().join(format!("{sections}.pdf")), &pdf).unwrap();
        group.bench_function(label, |b| {
            b.iter(|| render_receipt(&m, &templates, &identity).unwrap())
        });
    }
    group.finish();
}

/// Median of our own render+sign over `runs`, for the ratio printed next to WeasyPrint's.
fn own_median_ms(m: &ReceiptModel, runs: usize) -> f64 {
    let templates = TemplateRegistry::builtin().unwrap();
    let identity =
        SigningIdentity::generate_development("Stadt Heidestadt", datetime!(2026-07-01 08:00 UTC))
            .unwrap();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            render_receipt(m, &templates, &identity).unwrap();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2].as_secs_f64() * 1000.0
}

fn weasyprint_comparison() {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/receipt_weasyprint.py");
    for (label, sections) in CASES {
        let m = model(sections);
        let path = target_dir().join(format!("model-{sections}.json"));
        std::fs::write(&path, serde_json::to_vec(&m).unwrap()).unwrap();
        let out = Command::new("python3")
            .arg(&script)
            .arg(&path)
            .arg("10")
            .output();
        match out {
            Ok(out) if out.status.success() => {
                let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
                let theirs: f64 = line
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix("median_ms="))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(f64::NAN);
                let ours = own_median_ms(&m, 30);
                println!(
                    "{label}: lotse median {ours:.2} ms (signed), {line}; WeasyPrint/lotse = {:.1}x",
                    theirs / ours
                );
            }
            _ => println!("note: WeasyPrint comparison skipped (pip install weasyprint)"),
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(6));
    targets = bench
}

fn main() {
    benches();
    weasyprint_comparison();
    Criterion::default().configure_from_args().final_summary();
}
