//! Catalogue search over 1,000 services: the target is at most 1 ms per query.
//!
//! Run: `cargo bench -p lotse-core --bench catalogue`
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use lotse_core::catalogue::{Catalogue, Entry};

const WORDS: &[&str] = &[
    "Antrag",
    "Bescheinigung",
    "Genehmigung",
    "Erlaubnis",
    "Anmeldung",
    "Abmeldung",
    "Ummeldung",
    "Ausweis",
    "Steuer",
    "Gebühr",
    "Zuschuss",
    "Förderung",
    "Baum",
    "Straße",
    "Gewerbe",
    "Hund",
    "Fahrzeug",
    "Parken",
    "Wohnung",
    "Schule",
    "Kita",
    "Sport",
    "Friedhof",
    "Wasser",
    "Abfall",
    "Müll",
    "Lärm",
    "Veranstaltung",
    "Markt",
    "Fischerei",
    "Jagd",
    "Waffen",
    "Führerschein",
    "Reisepass",
    "Personalausweis",
    "Geburt",
    "Ehe",
    "Sterbefall",
    "Rente",
    "Wohngeld",
];

fn entries() -> Vec<Entry> {
    (0..1000)
        .map(|i| {
            let w = |k: usize| WORDS[(i * 7 + k * 13) % WORDS.len()];
            Entry {
                id: format!("s{i}"),
                title: format!("{}{} {} beantragen", w(0), w(1).to_lowercase(), w(2)),
                description: format!(
                    "Hier können Sie {} und {} online erledigen, auch für {}.",
                    w(3),
                    w(4),
                    w(5)
                ),
                keywords: vec![w(6).to_string(), format!("{}{}", w(7), w(8).to_lowercase())],
                lebenslagen: vec![["umzug", "bauen", "haustiere", "geburt"][i % 4].to_string()],
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut syn = BTreeMap::new();
    syn.insert(
        "Umzug".to_string(),
        vec!["Ummeldung".into(), "Wohnung".into()],
    );
    let cat = Catalogue::new(entries(), &syn);
    for (name, q) in [
        ("exact", "Hundesteuer"),
        ("typo", "Hundsteur"),
        ("compound_part", "Park"),
        ("two_words", "Straße Genehmigung"),
        ("synonym", "Umzug"),
    ] {
        c.bench_function(&format!("search_1000_services_{name}"), |b| {
            b.iter(|| black_box(cat.search(black_box(q), 20)))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
