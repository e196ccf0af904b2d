//! Catalogue search on the demo catalogue (portal/leistungen/, 194 services) and on that
//! catalogue as a county of ten municipalities would have it (every service once per
//! municipality, with the place in its title: 1,940 entries). The target is at most 1 ms per
//! query at 1,000 services.
//!
//! Run: `cargo bench -p lotse-core --bench catalogue`
#![allow(clippy::unwrap_used)]

use std::path::Path;

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use lotse_core::catalogue::{Catalogue, Entry, default_synonyms, load};

const PLACES: &[&str] = &[
    "Erkelenz",
    "Gangelt",
    "Geilenkirchen",
    "Heinsberg",
    "Hückelhoven",
    "Selfkant",
    "Übach-Palenberg",
    "Waldfeucht",
    "Wassenberg",
    "Wegberg",
];

fn demo() -> Vec<Entry> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../portal/leistungen");
    let (entries, problems) = load::read_dir(&dir);
    assert!(problems.is_empty(), "{problems:?}");
    entries
        .into_iter()
        .map(|l| Entry {
            id: l.id,
            title: l.title.german().to_string(),
            description: l
                .summary
                .map(|s| s.german().to_string())
                .unwrap_or_default(),
            keywords: l.keywords,
            lebenslagen: l.lebenslagen,
        })
        .collect()
}

fn county(entries: &[Entry]) -> Vec<Entry> {
    PLACES
        .iter()
        .flat_map(|place| {
            entries.iter().map(move |e| Entry {
                id: format!("{}-{}", e.id, place.to_lowercase()),
                title: format!("{} ({place})", e.title),
                ..e.clone()
            })
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let synonyms = default_synonyms();
    let demo = demo();
    let county = county(&demo);
    let n_demo = demo.len();
    let n_county = county.len();
    for (label, cat) in [
        (format!("demo_{n_demo}"), Catalogue::new(demo, &synonyms)),
        (
            format!("county_{n_county}"),
            Catalogue::new(county, &synonyms),
        ),
    ] {
        for (name, q) in [
            ("exact", "Hundesteuer"),
            ("typo", "Hundsteur"),
            ("compound_part", "Park"),
            ("two_words", "Personalausweis beantragen"),
            ("synonym", "Umzug"),
            ("compound_query", "Wohngeldantrag"),
            ("no_hit", "Zeppelinlandeplatz"),
        ] {
            c.bench_function(&format!("search_{label}_{name}"), |b| {
                b.iter(|| black_box(cat.search(black_box(q), 20)))
            });
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
