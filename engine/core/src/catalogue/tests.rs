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
fn every_word_must_match_where_an_entry_matches_them_all() {
    let c = catalogue();
    assert_eq!(ids(c.search("Hund anmelden", 10)), ["hundesteuer"]);
    assert!(c.search("", 10).is_empty());
    assert!(c.search("   ", 10).is_empty());
    assert_eq!(ids(c.search("anmelden", 10)).len(), 2);
    // No entry has both words: those with one of them, rather than nothing.
    let either = ids(c.search("Hund Container", 10));
    assert_eq!(either.len(), 2, "{either:?}");
    // A word the catalogue does not know does not empty the result.
    assert_eq!(ids(c.search("neuer Hund", 10))[0], "hundesteuer");
    assert!(c.search("Zeppelinlandeplatz", 10).is_empty());
}

#[test]
fn compound_queries_find_their_parts() {
    let c = catalogue();
    assert_eq!(ids(c.search("Hundesteuerbescheid", 10))[0], "hundesteuer");
    assert_eq!(ids(c.search("Gewerbeanmeldungen", 10))[0], "gewerbe");
}

#[test]
fn the_stemmer_meets_plurals_umlauts_and_verbal_nouns() {
    for (a, b) in [
        ("hund", "hunde"),
        ("hund", "hunden"),
        ("ausweis", "ausweise"),
        ("ausweis", "ausweises"),
        ("zeugnis", "zeugnisse"),
        ("reisepass", "reisepaesse"),
        ("anmeldung", "anmelden"),
        ("anmeldung", "anmeldungen"),
        ("auto", "autos"),
    ] {
        assert_eq!(stem(a), stem(b), "{a} / {b}");
    }
    assert_ne!(stem("bus"), stem("bu"));
    assert_eq!(stem("ausweis"), "ausweis");
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

mod entries {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    use crate::catalogue::import;
    use crate::catalogue::leistung::Responsible;
    use crate::catalogue::load::{self, Known};

    const TENANTS: &[&str] = &[
        "kreis-heinsberg",
        "erkelenz",
        "gangelt",
        "geilenkirchen",
        "heinsberg",
        "hueckelhoven",
        "selfkant",
        "uebach-palenberg",
        "waldfeucht",
        "wassenberg",
        "wegberg",
    ];

    fn workflows() -> BTreeSet<String> {
        [
            "hundesteuer-anmeldung",
            "bewohnerparkausweis",
            "sondernutzung-strasse",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn demo_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../portal/leistungen")
    }

    fn codes(problems: &[crate::Problem]) -> Vec<(&'static str, usize, usize)> {
        problems
            .iter()
            .map(|p| (p.code, p.line, p.column))
            .collect()
    }

    #[test]
    fn the_demo_catalogue_has_at_least_150_services_and_no_problem() {
        let (entries, problems) = load::read_dir(&demo_dir());
        assert!(problems.is_empty(), "{problems:#?}");
        let wf = workflows();
        let (entries, problems) = load::check(
            entries,
            Known {
                tenants: TENANTS,
                workflows: &wf,
            },
        );
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(entries.len() >= 150, "{}", entries.len());
        // Every Lebenslage of the vocabulary has a service.
        for l in crate::catalogue::LEBENSLAGEN {
            assert!(
                entries
                    .iter()
                    .any(|e| e.lebenslagen.iter().any(|k| k == l.key)),
                "no service for {}",
                l.key
            );
        }
        let kfz = entries.iter().find(|e| e.id == "kfz-zulassung").unwrap();
        assert_eq!(kfz.responsible, Responsible::Kreis);
        let hund = entries.iter().find(|e| e.id == "hundesteuer").unwrap();
        assert_eq!(hund.responsible, Responsible::Gemeinde);
        assert_eq!(hund.workflow.as_deref(), Some("hundesteuer-anmeldung"));
    }

    #[test]
    fn every_mistake_is_reported_with_its_place() {
        let text = "\
leistungen:
  - id: Personalausweis
    title: Personalausweis
    leika: \"12345\"
    lebenslagen: [ausweise, raumfahrt]
    responsible: [gangelt, atlantis]
    workflow: gibt-es-nicht
    online: \"www.example.org\"
  - id: doppelt
    title: \"  \"
    responsible: kreis
  - id: doppelt
    title: Zweiter
    responsible: gemeinde
    form: javascript:alert(1)
";
        let path = Path::new("leistungen/test.yaml");
        let entries = load::parse(path, text).unwrap();
        let wf = workflows();
        let (good, problems) = load::check(
            entries,
            Known {
                tenants: TENANTS,
                workflows: &wf,
            },
        );
        assert!(good.is_empty(), "{good:#?}");
        assert_eq!(
            codes(&problems),
            [
                ("LOT-E090", 2, 9),
                ("LOT-E093", 4, 12),
                ("LOT-E094", 5, 29),
                ("LOT-E095", 6, 18),
                ("LOT-E097", 7, 15),
                ("LOT-E096", 8, 13),
                ("LOT-E092", 10, 12),
                ("LOT-E091", 12, 9),
                ("LOT-E096", 15, 11),
            ]
        );
    }

    #[test]
    fn a_missing_title_or_an_unknown_key_is_refused_where_it_stands() {
        let path = Path::new("x.yaml");
        let missing = load::parse(path, "leistungen:\n  - id: a\n    responsible: kreis\n");
        let p = missing.unwrap_err();
        assert_eq!(p.code, "LOT-E005");
        assert!(p.message.contains("title"), "{p}");
        let unknown = load::parse(
            path,
            "leistungen:\n  - id: a\n    title: A\n    responsible: kreis\n    gebuehr: 5\n",
        );
        let p = unknown.unwrap_err();
        assert_eq!((p.code, p.line), ("LOT-E004", 5));
    }

    #[test]
    fn a_csv_table_imports_with_positions_and_round_trips_through_yaml() {
        let csv = "\
id;title;title_en;lebenslagen;responsible;documents;visit;fees;office_name;office_hours
reisepass;Reisepass beantragen;Apply for a passport;ausweise;gemeinde;\"Passbild | alter Pass\";ja;70,00 €;Bürgerbüro;Mo–Fr 8–12 | Do 14–18
kfz;\"Fahrzeug \"\"zulassen\"\"\";;mobilitaet;kreis;;nein;;;
bad;Falsch;;ausweise;gemeinde;;vielleicht;;;
";
        let path = Path::new("import.csv");
        let (entries, problems) = import::from_csv(path, csv);
        assert_eq!(codes(&problems), [("LOT-E098", 4, 32)]);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].documents.len(), 2);
        assert_eq!(
            entries[0].title.get(crate::Lang::En),
            "Apply for a passport"
        );
        assert_eq!(entries[0].visit, Some(true));
        assert_eq!(entries[0].office.as_ref().map(|o| o.hours.len()), Some(2));
        assert_eq!(entries[1].title.german(), "Fahrzeug \"zulassen\"");
        let yaml = import::to_yaml(&entries).unwrap();
        let again = load::parse(Path::new("out.yaml"), &yaml).unwrap();
        assert_eq!(again.len(), 2);
        assert_eq!(again[0].documents, entries[0].documents);
        assert_eq!(again[1].title, entries[1].title);
        assert_eq!(again[0].office, entries[0].office);
    }

    #[test]
    fn a_csv_table_with_an_unknown_column_or_an_open_quote_is_refused() {
        let path = Path::new("import.csv");
        let (_, problems) = import::from_csv(path, "id,title,responsible,gebuehr\na,A,kreis,5\n");
        assert_eq!(codes(&problems), [("LOT-E098", 1, 22)]);
        let (_, problems) = import::from_csv(path, "id,title,responsible\na,\"A,kreis\n");
        assert_eq!(codes(&problems), [("LOT-E098", 2, 3)]);
    }
}
