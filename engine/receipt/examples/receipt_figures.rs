//! Size and render time of the demo receipts (the benchmark's model), without criterion:
//! renders the 2- and 20-page receipts, writes them to a folder, and prints pages, bytes and
//! the median of render + sign over many runs. For before/after comparisons of one change.
//!
//! `cargo run --release -p lotse-receipt --example receipt_figures -- [FOLDER] [RUNS] [2|20]`
//! (the last argument renders only that case, for a profiler).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Instant;

use lotse_receipt::{SigningIdentity, TemplateRegistry, render_receipt};
use time::macros::datetime;

#[path = "../benches/support/demo_model.rs"]
mod demo_model;

fn main() {
    let mut args = std::env::args().skip(1);
    let folder = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "target/receipt-figures".into()),
    );
    let runs: usize = args
        .next()
        .map_or(300, |r| r.parse().expect("RUNS is a number"));
    let only: Option<usize> = args.next().map(|p| p.parse().expect("2 or 20"));
    std::fs::create_dir_all(&folder).unwrap();
    let templates = TemplateRegistry::builtin().unwrap();
    let identity =
        SigningIdentity::generate_development("Stadt Heidestadt", datetime!(2026-07-01 08:00 UTC))
            .unwrap();
    let start = Instant::now();
    lotse_receipt::prepare().unwrap();
    println!(
        "prepare (fonts, once per process): {:.1} ms",
        start.elapsed().as_secs_f64() * 1000.0
    );
    let cases = [(2, 1, runs), (20, 22, runs / 5)];
    for (_, sections, runs) in cases.into_iter().filter(|c| only.is_none_or(|p| p == c.0)) {
        let model = demo_model::model(sections);
        let pdf = render_receipt(&model, &templates, &identity).unwrap();
        let pages = lopdf::Document::load_mem(&pdf).unwrap().get_pages().len();
        let path = folder.join(format!("demo-{pages}-pages.pdf"));
        std::fs::write(&path, &pdf).unwrap();
        let mut times: Vec<f64> = (0..runs.max(1))
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(render_receipt(&model, &templates, &identity).unwrap());
                start.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "{pages} pages: {} bytes, median {:.3} ms (p10 {:.3}, p90 {:.3}) over {} runs -> {}",
            pdf.len(),
            times[times.len() / 2],
            times[times.len() / 10],
            times[times.len() * 9 / 10],
            times.len(),
            path.display()
        );
    }
}
