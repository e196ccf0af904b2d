#![allow(clippy::unwrap_used)]

use super::*;

fn entry(id: &str, title: &str, keywords: &[&str], lagen: &[&str]) -> Entry {
    Entry {
        id: id.into(),
        title: title.into(),
        description: String::new(),
        keywords: keywords.iter().map(|s| s.to_string()).collect(),
        lebenslagen: lagen.iter().map(|s| s.to_string()).collect(),
    }
}

fn catalogue() -> Catalogue {
    let mut syn = BTreeMap::new();
    syn.insert(
        "Umzug".to_string(),
        vec!["Ummeldung".to_string(), "Wohnsitz".to_string()],
    );
    Catalogue::new(
        vec![
            entry(
                "hundesteuer",
                "Hund zur Hundesteuer anmelden",
                &["Hundesteuer", "Hundemarke"],
                &["haustiere"],
            ),
            entry(
                "parken",
                "Bewohnerparkausweis beantragen",
                &["Parkausweis", "Anwohnerparken"],
                &["umzug"],
            ),
            entry(
                "sondernutzung",
                "Sondernutzung von Straßenland",
                &["Container", "Gerüst"],
                &["bauen"],
            ),
            entry(
                "ummeldung",
                "Wohnsitz ummelden",
                &["Meldebescheinigung"],
                &[],
            ),
            entry(
                "gewerbe",
                "Gewerbe anmelden",
                &["Gewerbeanmeldung"],
                &["arbeit"],
            ),
        ],
        &syn,
    )
}

fn ids(hits: Vec<Hit>) -> Vec<String> {
    hits.into_iter().map(|h| h.id).collect()
}

#[test]
fn umlauts_and_case_do_not_matter() {
    let c = catalogue();
    assert_eq!(ids(c.search("strasse", 10)), ["sondernutzung"]);
    assert_eq!(ids(c.search("STRASSENLAND", 10)), ["sondernutzung"]);
    assert_eq!(ids(c.search("gerust", 10)), ["sondernutzung"]);
}

#[test]
fn word_forms_meet() {
    let c = catalogue();
    assert_eq!(ids(c.search("Hunde", 10))[0], "hundesteuer");
    assert_eq!(ids(c.search("Hund", 10))[0], "hundesteuer");
}

#[test]
fn parts_of_compound_words_are_found() {
    let c = catalogue();
    assert_eq!(ids(c.search("Park", 10)), ["parken"]);
}

#[test]
fn one_typo_is_forgiven() {
    let c = catalogue();
    assert_eq!(ids(c.search("Hundsteuer", 10))[0], "hundesteuer");
    assert_eq!(ids(c.search("Gewrbe", 10))[0], "gewerbe");
}

#[test]
fn synonyms_widen_the_query() {
    let c = catalogue();
    let hits = ids(c.search("Umzug", 10));
    assert!(hits.contains(&"ummeldung".to_string()), "{hits:?}");
    assert!(hits.contains(&"parken".to_string()), "{hits:?}");
}

#[test]
fn every_word_must_match_and_titles_rank_first() {
    let c = catalogue();
    assert!(c.search("Hund Container", 10).is_empty());
    assert!(c.search("", 10).is_empty());
    assert!(c.search("   ", 10).is_empty());
    assert_eq!(ids(c.search("anmelden", 10)).len(), 2);
}

#[test]
fn one_edit_covers_insert_delete_substitute_and_swap() {
    assert!(one_edit("hund", "hund"));
    assert!(one_edit("hund", "hunde"));
    assert!(one_edit("hunde", "hund"));
    assert!(one_edit("hund", "hand"));
    assert!(one_edit("hund", "hnud"));
    assert!(!one_edit("hund", "katze"));
    assert!(!one_edit("hund", "hanf"));
}

proptest::proptest! {
    #[test]
    fn search_never_panics(q in "\\PC{0,40}") {
        let c = catalogue();
        let _ = c.search(&q, 10);
    }
}
