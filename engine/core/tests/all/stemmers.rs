//! The hand-written German stemmer against the Snowball German stemmer (rust-stemmers) on
//! realistic citizen queries over the demo catalogue (`tests/data/catalogue-queries.tsv`):
//! hits@1 per query and in total. Run with `--nocapture` to see the table; docs/catalogue.md
//! records it.

use std::path::Path;
use std::sync::OnceLock;

use lotse_core::catalogue::{Catalogue, Entry, Stemmer, default_synonyms, load, stem};

fn snowball(word: &str) -> String {
    static S: OnceLock<rust_stemmers::Stemmer> = OnceLock::new();
    S.get_or_init(|| rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::German))
        .stem(word)
        .into_owned()
}

fn demo_entries() -> Vec<Entry> {
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
                .as_ref()
                .map(|s| s.german().to_string())
                .unwrap_or_default(),
            keywords: l.keywords,
            lebenslagen: l.lebenslagen,
        })
        .collect()
}

fn queries() -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/catalogue-queries.tsv");
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (q, id) = l.split_once('\t').unwrap();
            (q.to_string(), id.to_string())
        })
        .collect()
}

fn first_hits(stemmer: Stemmer) -> Vec<Option<String>> {
    let cat = Catalogue::with_stemmer(demo_entries(), &default_synonyms(), stemmer);
    queries()
        .iter()
        .map(|(q, _)| cat.search(q, 1).into_iter().next().map(|h| h.id))
        .collect()
}

#[test]
fn the_portal_stemmer_finds_at_least_as_many_as_snowball_and_most_queries_first() {
    let queries = queries();
    assert!(queries.len() >= 60);
    let hand = first_hits(stem);
    let snow = first_hits(snowball);
    let mut table =
        String::from("| query | expected | hand-written | Snowball |\n| --- | --- | --- | --- |\n");
    let (mut hand_ok, mut snow_ok) = (0, 0);
    let mark = |got: &Option<String>, want: &str| match got {
        Some(id) if id == want => "✓".to_string(),
        Some(id) => format!("✗ {id}"),
        None => "✗ –".to_string(),
    };
    for (i, (q, want)) in queries.iter().enumerate() {
        hand_ok += usize::from(hand[i].as_deref() == Some(want.as_str()));
        snow_ok += usize::from(snow[i].as_deref() == Some(want.as_str()));
        table.push_str(&format!(
            "| {q} | {want} | {} | {} |\n",
            mark(&hand[i], want),
            mark(&snow[i], want)
        ));
    }
    table.push_str(&format!(
        "| **hits@1** | | **{hand_ok}/{n}** | **{snow_ok}/{n}** |\n",
        n = queries.len()
    ));
    println!("{table}");
    assert!(
        hand_ok >= snow_ok,
        "Snowball finds more: {snow_ok} > {hand_ok}"
    );
    assert!(
        hand_ok * 10 >= queries.len() * 9,
        "hits@1 {hand_ok}/{}",
        queries.len()
    );
}
