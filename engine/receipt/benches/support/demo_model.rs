//! The demo receipt of the benchmark and of `examples/receipt_figures.rs`: a Hundesteuer
//! receipt with a letterhead, a group and some number of extra sections.

use lotse_receipt::{Entry, Language, Logo, ReceiptModel, Section, TenantInfo};
use time::macros::datetime;

/// A Hundesteuer receipt with `sections` extra sections of twelve answers each.
pub fn model(sections: usize) -> ReceiptModel {
    let mut all = vec![Section {
        title: "Antragstellerin".into(),
        entries: vec![
            Entry::value("Name", "Jörg Müller"),
            Entry::value("Anschrift", "Große Bleiche 5\n55116 Mainz"),
            Entry::group(
                "Hund 1",
                vec![
                    Entry::value("Name", "Bello"),
                    Entry::value("Rasse", "Dackel"),
                ],
            ),
        ],
    }];
    for i in 0..sections {
        all.push(Section {
            title: format!("Weitere Angaben {}", i + 1),
            entries: (0..12)
                .map(|j| {
                    Entry::value(
                        format!("Frage {}.{}", i + 1, j + 1),
                        "Eine etwas längere Antwort, die über mehrere Zeilen umbrechen kann, \
                         damit die Seite sich wie ein echter Antrag füllt.",
                    )
                })
                .collect(),
        });
    }
    ReceiptModel {
        workflow_id: "hundesteuer".into(),
        tenant: TenantInfo {
            id: "heidestadt".into(),
            name: "Stadt Heidestadt".into(),
            address_lines: vec!["Marktplatz 1".into(), "12345 Heidestadt".into()],
            colour_hex: "#1f5fa8".into(),
            logo: Some(Logo::Initials {
                initials: "HS".into(),
            }),
            office: "Bürgerbüro".into(),
        },
        service_title: "Hundesteuer – Anmeldung".into(),
        leika: Some("99107004012000".into()),
        reference: "HEI-2026-000123".into(),
        received_at: datetime!(2026-07-01 08:05:09 UTC),
        sections: all,
        computed: vec![Entry::value("Jahressteuer", "108,00 €")],
        submission_json: serde_json::json!({"name": "Jörg Müller", "hunde": [{"name": "Bello"}]}),
        language: Language::De,
        notes: Vec::new(),
        closing: None,
        specimen: None,
        values: Default::default(),
    }
}
