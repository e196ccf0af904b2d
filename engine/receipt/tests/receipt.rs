//! Receipts end to end: render, sign, and check the result with our verifier and, where
//! installed, poppler's `pdfsig`, `pdftotext` and `pdfdetach`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

use lotse_receipt::{
    Entry, Language, Logo, ReceiptModel, Section, SigningIdentity, TemplateRegistry, TenantInfo,
    check_template, render_receipt, verify_receipt,
};
use time::macros::datetime;

mod structure;

fn model(extra_sections: usize) -> ReceiptModel {
    let mut sections = vec![
        Section {
            title: "Antragstellerin".into(),
            entries: vec![
                Entry::value("Name", "Jörg-Ölaf Müßig-Straße"),
                Entry::value("Anschrift", "Große Bleiche 5\n55116 Mainz"),
                Entry::value("Bemerkung", "<script>alert('x')</script>"),
                Entry::value("Sonderzeichen", "ä ö ü ß ẞ € „Zitat“ – Ende"),
            ],
        },
        Section {
            title: "Hunde".into(),
            entries: vec![
                Entry::group(
                    "Hund 1",
                    vec![
                        Entry::value("Name", "Bello"),
                        Entry::value("Rasse", "Dackel"),
                    ],
                ),
                Entry::group(
                    "Hund 2",
                    vec![
                        Entry::value("Name", "Luna"),
                        Entry::value("Rasse", "Deutscher Schäferhund"),
                    ],
                ),
            ],
        },
    ];
    for i in 0..extra_sections {
        sections.push(Section {
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
            address_lines: vec![
                "Marktplatz 1".into(),
                "12345 Heidestadt".into(),
                "buergerbuero@heidestadt.example".into(),
            ],
            colour_hex: "#1f5fa8".into(),
            logo: Some(Logo::Initials {
                initials: "HS".into(),
            }),
            office: "Bürgerbüro – Steueramt".into(),
        },
        service_title: "Hundesteuer – Anmeldung".into(),
        leika: Some("99107004012000".into()),
        reference: "HEI-2026-000123".into(),
        received_at: datetime!(2026-07-01 08:05:09 UTC),
        sections,
        computed: vec![Entry::value("Jahressteuer", "108,00 €")],
        submission_json: serde_json::json!({
            "name": "Jörg-Ölaf Müßig-Straße",
            "hunde": [{"name": "Bello"}, {"name": "Luna"}],
            "bemerkung": "<script>alert('x')</script>"
        }),
        language: Language::De,
        notes: Vec::new(),
        closing: None,
        specimen: None,
        values: Default::default(),
    }
}

fn identity() -> SigningIdentity {
    SigningIdentity::generate_development("Stadt Heidestadt", datetime!(2026-07-01 08:00 UTC))
        .unwrap()
}

fn registry() -> TemplateRegistry {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../pdf-templates");
    TemplateRegistry::load_dir(&dir).unwrap()
}

/// Writes the PDF under target/receipt-tests/ for poppler and for people to look at.
fn write(name: &str, pdf: &[u8]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/receipt-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, pdf).unwrap();
    path
}

fn tool(name: &str) -> Option<Command> {
    let found = Command::new(name).arg("-v").output().is_ok();
    // CI installs poppler-utils and sets this, so there a missing tool fails instead of skipping.
    if !found && std::env::var_os("LOTSE_REQUIRE_POPPLER").is_some() {
        panic!("{name} is required (LOTSE_REQUIRE_POPPLER is set) but not installed");
    }
    if !found {
        eprintln!("note: {name} is not installed (apt-get install poppler-utils); check skipped");
    }
    found.then(|| Command::new(name))
}

fn pdftotext(path: &PathBuf) -> Option<String> {
    let out = tool("pdftotext")?.arg(path).arg("-").output().unwrap();
    assert!(out.status.success());
    // Wrapped lines and column gaps become single spaces; the words themselves stay exact.
    let text = String::from_utf8(out.stdout).unwrap();
    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[test]
fn receipt_signature_is_valid_for_us_and_for_pdfsig() {
    let id = identity();
    let pdf = render_receipt(&model(0), &registry(), &id).unwrap();
    let v = verify_receipt(&pdf).unwrap();
    assert!(v.valid, "{:?}", v.problem);
    assert_eq!(v.certificate_sha256, id.certificate_sha256());
    assert!(v.covers_whole_file);
    assert!(v.signer.unwrap().contains("Stadt Heidestadt"));
    assert_eq!(v.signing_time, Some(datetime!(2026-07-01 08:05:09 UTC)));
    let path = write("valid.pdf", &pdf);
    if let Some(mut pdfsig) = tool("pdfsig") {
        let out = pdfsig.arg(&path).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Signature is Valid."), "{text}");
        assert!(text.contains("Total document signed"), "{text}");
    }
}

#[test]
fn a_changed_byte_invalidates_the_receipt() {
    let pdf = render_receipt(&model(0), &registry(), &identity()).unwrap();
    // Change one byte of page content far from the signature value.
    let mut tampered = pdf.clone();
    let at = tampered.len() / 3;
    tampered[at] ^= 0x01;
    let v = verify_receipt(&tampered).unwrap();
    assert!(!v.valid);
    let path = write("tampered.pdf", &tampered);
    if let Some(mut pdfsig) = tool("pdfsig") {
        let out = pdfsig.arg(&path).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("Signature is Valid."), "{text}");
    }
}

#[test]
fn every_byte_of_the_signature_value_counts() {
    let pdf = render_receipt(&model(0), &registry(), &identity()).unwrap();
    let text = String::from_utf8_lossy(&pdf);
    let at = text.rfind("/ByteRange").unwrap();
    let open = at + text[at..].find('[').unwrap();
    let close = at + text[at..].find(']').unwrap();
    let numbers: Vec<usize> = text[open + 1..close]
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let (start, end) = (numbers[1], numbers[2]);
    // The DER signature, then zero padding, written as hex between '<' and '>'. Every digit
    // of the CMS header is changed, then every 13th digit, then samples of the padding
    // (each check parses the whole file, which is slow in debug builds).
    // The DER starts `30 82 hh ll`: a SEQUENCE of 0xhhll bytes after its 4-byte header.
    let hex = std::str::from_utf8(&pdf[start + 1..start + 9]).unwrap();
    assert!(hex.starts_with("3082"), "{hex}");
    let der_len = 4 + usize::from_str_radix(&hex[4..8], 16).unwrap();
    let der_end = start + 1 + 2 * der_len;
    // The space reserved fits the signature with a small margin, not kilobytes of zeros.
    assert!(der_end < end - 1, "the signature fills its space");
    assert!(
        end - 1 - der_end <= 2 * 64,
        "{} hex digits of padding",
        end - 1 - der_end
    );
    let positions = (start + 1..start + 120)
        .chain((start + 120..der_end).step_by(13))
        .chain((der_end..end - 1).step_by(7));
    for at in positions {
        let mut tampered = pdf.clone();
        tampered[at] = if tampered[at] == b'0' { b'1' } else { b'0' };
        let v = verify_receipt(&tampered).unwrap();
        assert!(
            !v.valid,
            "hex digit at {at} (DER byte {}) changed but still valid",
            (at - start - 1) / 2
        );
    }
}

#[test]
fn every_sampled_byte_counts() {
    let pdf = render_receipt(&model(0), &registry(), &identity()).unwrap();
    let step = pdf.len() / 97;
    for at in (0..pdf.len()).step_by(step.max(1)) {
        let mut tampered = pdf.clone();
        tampered[at] = tampered[at].wrapping_add(1);
        let valid = verify_receipt(&tampered).map(|v| v.valid && v.covers_whole_file);
        assert!(
            !matches!(valid, Ok(true)),
            "byte {at} changed but still valid"
        );
    }
}

#[test]
fn text_comes_out_exactly_as_entered() {
    let pdf = render_receipt(&model(0), &registry(), &identity()).unwrap();
    let path = write("text.pdf", &pdf);
    let Some(text) = pdftotext(&path) else { return };
    for expected in [
        "Jörg-Ölaf Müßig-Straße",
        "<script>alert('x')</script>",
        "ä ö ü ß ẞ € „Zitat“ – Ende",
        "HEI-2026-000123",
        "01.07.2026, 10:05 Uhr (MESZ)",
        "108,00 €",
        "Gebühren und Beträge",
        "99107004012000",
        "Hund 2",
        "Diese Bestätigung dokumentiert den Eingang Ihres Antrags.",
        "Sie ist keine Entscheidung über den Antrag.",
        "Seite 1 von 1",
    ] {
        assert!(text.contains(expected), "{expected:?} missing in:\n{text}");
    }
}

#[test]
fn twenty_page_receipt_numbers_its_pages() {
    let pdf = render_receipt(&model(22), &registry(), &identity()).unwrap();
    let path = write("long.pdf", &pdf);
    assert!(verify_receipt(&pdf).unwrap().valid);
    let Some(text) = pdftotext(&path) else { return };
    assert!(text.contains("Seite 1 von 20"), "{text}");
    assert!(text.contains("Seite 20 von 20"), "{text}");
}

#[test]
fn a_long_group_continues_on_the_next_page() {
    let mut m = model(0);
    m.sections.push(Section {
        title: "Viele Hunde".into(),
        entries: vec![Entry::group(
            "Hund 3",
            (0..90)
                .map(|i| Entry::value(format!("Merkmal {}", i + 1), "gefleckt"))
                .collect(),
        )],
    });
    let pdf = render_receipt(&m, &registry(), &identity()).unwrap();
    let path = write("group.pdf", &pdf);
    let Some(text) = pdftotext(&path) else { return };
    assert!(text.contains("Hund 3 (Fortsetzung)"), "{text}");
    assert!(text.contains("Merkmal 90 gefleckt"), "{text}");
}

#[test]
fn submission_json_round_trips_as_attachment() {
    let m = model(0);
    let pdf = render_receipt(&m, &registry(), &identity()).unwrap();
    let v = verify_receipt(&pdf).unwrap();
    assert_eq!(v.embedded_json.as_ref(), Some(&m.submission_json));
    let path = write("attachment.pdf", &pdf);
    if let Some(mut detach) = tool("pdfdetach") {
        let out = detach.arg("-list").arg(&path).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("antrag.json"), "{text}");
    }
}

#[test]
fn metadata_names_title_author_language_and_date() {
    let pdf = render_receipt(&model(0), &registry(), &identity()).unwrap();
    let path = write("meta.pdf", &pdf);
    let Some(mut info) = tool("pdfinfo") else {
        return;
    };
    let out = info.arg("-isodates").arg(&path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Eingangsbestätigung HEI-2026-000123"),
        "{text}"
    );
    assert!(text.contains("Author:          Stadt Heidestadt"), "{text}");
    assert!(text.contains("2026-07-01T08:05:09"), "{text}");
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let lang = doc
        .catalog()
        .unwrap()
        .get(b"Lang")
        .unwrap()
        .as_str()
        .unwrap();
    assert_eq!(lang, b"de-DE");
}

#[test]
fn english_receipts_say_page_n_of_m() {
    let mut m = model(0);
    m.language = Language::En;
    let pdf = render_receipt(&m, &registry(), &identity()).unwrap();
    let path = write("english.pdf", &pdf);
    let Some(text) = pdftotext(&path) else { return };
    assert!(text.contains("Page 1 of 1"), "{text}");
    assert!(text.contains("Fees and amounts"), "{text}");
    assert!(
        text.contains("It is not a decision on the application."),
        "{text}"
    );
}

#[test]
fn two_page_receipt_stays_small() {
    let pdf = render_receipt(&model(1), &registry(), &identity()).unwrap();
    let path = write("two-pages.pdf", &pdf);
    assert!(pdf.len() <= 40 * 1024, "{} bytes", pdf.len());
    if let Some(mut info) = tool("pdfinfo") {
        let out = info.arg(&path).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Pages:           2"), "{text}");
    }
}

/// The label/value rows a reader should meet, in order: the fixed ones of the default
/// template, every answer (groups flattened), the computed values.
fn expected_rows(m: &ReceiptModel) -> Vec<(String, String)> {
    fn flatten(entries: &[Entry], rows: &mut Vec<(String, String)>) {
        for e in entries {
            match e {
                Entry::Group { entries, .. } => flatten(entries, rows),
                Entry::Value { label, value } => {
                    rows.push((label.clone(), value.replace('\n', " ")))
                }
            }
        }
    }
    let mut rows: Vec<(String, String)> = [
        ("Aktenzeichen", m.reference.as_str()),
        ("Eingegangen am", "01.07.2026, 10:05 Uhr (MESZ)"),
        ("Leistung", m.service_title.as_str()),
        ("LeiKa-Schlüssel", m.leika.as_deref().unwrap_or_default()),
        ("Zuständige Stelle", m.tenant.office.as_str()),
    ]
    .iter()
    .map(|(l, v)| (l.to_string(), v.to_string()))
    .collect();
    for section in &m.sections {
        flatten(&section.entries, &mut rows);
    }
    flatten(&m.computed, &mut rows);
    rows
}

/// (label, value) of each table row in the tree, in reading order.
fn rows_of(tree: &structure::Tree) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    for pair in tree.nodes.windows(3) {
        if let [tr, th, td] = pair
            && tr.role == "TR"
        {
            assert_eq!((th.role.as_str(), td.role.as_str()), ("TH", "TD"));
            assert_eq!(th.scope.as_deref(), Some("Row"), "{th:?}");
            rows.push((th.text.clone(), td.text.clone()));
        }
    }
    rows
}

#[test]
fn the_structure_tree_reads_headings_and_every_answer_in_order() {
    let m = model(0);
    let pdf = render_receipt(&m, &registry(), &identity()).unwrap();
    let path = write("tagged.pdf", &pdf);
    let tree = structure::read(&pdf);
    assert!(tree.unclaimed.is_empty(), "{:?}", tree.unclaimed);
    assert_eq!(tree.nodes[0].role, "Document");
    let headings: Vec<(&str, &str)> = tree
        .nodes
        .iter()
        .filter(|n| n.role.len() == 2 && n.role.starts_with('H'))
        .map(|n| (n.role.as_str(), n.text.as_str()))
        .collect();
    assert_eq!(
        headings,
        [
            ("H1", "Eingangsbestätigung"),
            ("H2", "Antragstellerin"),
            ("H2", "Hunde"),
            ("H3", "Hund 1"),
            ("H3", "Hund 2"),
            ("H2", "Gebühren und Beträge"),
        ]
    );
    assert_eq!(rows_of(&tree), expected_rows(&m));
    // The groups are sections holding their heading and their table.
    let hund = tree.nodes.iter().position(|n| n.text == "Hund 2").unwrap();
    assert_eq!(tree.nodes[hund - 1].role, "Sect");
    assert_eq!(tree.nodes[hund + 1].role, "Table");
    // The emblem is a figure with alternative text; the closing note and the signature
    // sentence are paragraphs after the last table.
    let figure = tree.nodes.iter().find(|n| n.role == "Figure").unwrap();
    assert!(
        figure.alt.as_deref().unwrap().contains("Stadt Heidestadt"),
        "{figure:?}"
    );
    let last = tree.nodes.iter().rev().find(|n| n.role == "P").unwrap();
    assert!(
        last.text
            .starts_with("Dieses Dokument ist elektronisch signiert.")
    );
    // Running header and footer are artifacts, not content.
    assert!(
        tree.artifacts.iter().any(|a| a == "Seite 1 von 1"),
        "{:?}",
        tree.artifacts
    );
    assert!(tree.nodes.iter().all(|n| !n.text.contains("Seite 1 von")));
    if let Some(mut info) = tool("pdfinfo") {
        let out = info.arg(&path).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Tagged:          yes"), "{text}");
    }
}

#[test]
fn a_tagged_receipt_over_many_pages_keeps_its_reading_order() {
    let mut m = model(3);
    m.sections.push(Section {
        title: "Viele Hunde".into(),
        entries: vec![Entry::group(
            "Hund 3",
            (0..90)
                .map(|i| Entry::value(format!("Merkmal {}", i + 1), "gefleckt"))
                .collect(),
        )],
    });
    m.language = Language::En;
    let pdf = render_receipt(&m, &registry(), &identity()).unwrap();
    let tree = structure::read(&pdf);
    assert!(tree.unclaimed.is_empty(), "{:?}", tree.unclaimed);
    let mut expected = expected_rows(&m);
    // The English template's fixed labels.
    for (row, label) in expected.iter_mut().zip([
        "Reference",
        "Received on",
        "Service",
        "LeiKa key",
        "Responsible office",
    ]) {
        row.0 = label.into();
    }
    expected[1].1 = "01/07/2026, 10:05 (CEST)".into();
    let rows = rows_of(&tree);
    assert_eq!(rows[5..], expected[5..]);
    assert_eq!(rows.len(), expected.len());
    // A group carried over to the next page repeats its title as an artifact only.
    assert!(
        tree.artifacts.iter().any(|a| a == "Hund 3 (continued)"),
        "{:?}",
        tree.artifacts
    );
    assert_eq!(tree.nodes.iter().filter(|n| n.text == "Hund 3").count(), 1);
    assert!(
        tree.nodes
            .iter()
            .any(|n| n.role == "H2" && n.text == "Fees and amounts")
    );
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let lang = doc
        .catalog()
        .unwrap()
        .get(b"Lang")
        .unwrap()
        .as_str()
        .unwrap();
    assert_eq!(lang, b"en-GB");
}

#[test]
fn identity_survives_pem_and_still_signs() {
    let pem = identity().to_pem().unwrap();
    let again = SigningIdentity::from_pem(&pem.key_pem, &pem.certificate_pem).unwrap();
    let pdf = render_receipt(&model(0), &registry(), &again).unwrap();
    assert!(verify_receipt(&pdf).unwrap().valid);
}

#[test]
fn templates_with_triple_braces_or_unknown_variables_are_refused() {
    let problems = check_template("pdf-templates/x.hbs", "# {{{reference}}}\n").unwrap_err();
    assert_eq!((problems[0].line, problems[0].column), (1, 3));
    let problems = check_template("pdf-templates/x.hbs", "p: ok\np: {{referenz}}\n").unwrap_err();
    assert_eq!(problems[0].line, 2);
    assert!(
        check_template(
            "pdf-templates/receipt.hbs",
            include_str!("../../../pdf-templates/receipt.hbs")
        )
        .is_ok()
    );
}

#[test]
fn a_workflow_template_overrides_the_default() {
    let mut templates = registry();
    templates
        .add_template(
            "hundesteuer",
            "pdf-templates/hundesteuer.hbs",
            "letterhead\n# Hundesteuer-Quittung {{reference}}\n",
        )
        .unwrap();
    let pdf = render_receipt(&model(0), &templates, &identity()).unwrap();
    let path = write("override.pdf", &pdf);
    let Some(text) = pdftotext(&path) else { return };
    assert!(
        text.contains("Hundesteuer-Quittung HEI-2026-000123"),
        "{text}"
    );
}

#[test]
fn letterhead_copes_with_long_names_and_no_logo() {
    let mut m = model(0);
    m.tenant.name = "Verbandsgemeindeverwaltung Bernkastel-Kues an der Mosel".into();
    m.tenant.office =
        "Fachbereich Bürgerdienste, Ordnung und Soziales – Steuern und Abgaben".into();
    m.tenant.logo = None;
    m.tenant.colour_hex = "#7a1f3d".into();
    let pdf = render_receipt(&m, &registry(), &identity()).unwrap();
    let path = write("long-name.pdf", &pdf);
    let Some(text) = pdftotext(&path) else { return };
    assert!(
        text.contains("Verbandsgemeindeverwaltung Bernkastel-Kues an der Mosel"),
        "{text}"
    );
}

#[test]
fn every_directive_renders() {
    let mut templates = registry();
    let source = "letterhead\n# Alle Bausteine\n## Abschnitt\n### Unterabschnitt\np: Absatz mit \\| Pipe\n\
                  small: Kleingedrucktes\nnote: Hinweis\nkv: Preis \\| netto | {{reference}}\n\
                  group: Gruppe\ngroup: Untergruppe\nkv: a | b\nend\nend\nlist: Erster Punkt\n\
                  list: {{service_title}}\nspace: 10\nrule\nspace\npagebreak\np: Zweite Seite\n";
    templates
        .add_template("alle", "pdf-templates/alle.hbs", source)
        .unwrap();
    let mut m = model(0);
    m.workflow_id = "alle".into();
    let pdf = render_receipt(&m, &templates, &identity()).unwrap();
    let path = write("directives.pdf", &pdf);
    let Some(text) = pdftotext(&path) else { return };
    for expected in [
        "Absatz mit | Pipe",
        "Preis | netto HEI-2026-000123",
        "Untergruppe",
        "Hundesteuer – Anmeldung",
        "Zweite Seite",
        "Seite 2 von 2",
    ] {
        assert!(text.contains(expected), "{expected:?} missing in:\n{text}");
    }
}

#[test]
fn answers_that_mimic_the_signature_placeholders_change_nothing() {
    let mut m = model(0);
    let fake = format!(
        "/ByteRange [0 9999999999 9999999999 9999999999] /Contents <{}>",
        "0".repeat(200)
    );
    m.submission_json = serde_json::json!({ "bemerkung": fake });
    m.sections[0]
        .entries
        .push(Entry::value("Bemerkung 2", fake.clone()));
    let pdf = render_receipt(&m, &registry(), &identity()).unwrap();
    let v = verify_receipt(&pdf).unwrap();
    assert!(v.valid && v.covers_whole_file, "{:?}", v.problem);
    assert_eq!(v.embedded_json, Some(m.submission_json));
}

fn pdffonts(path: &PathBuf) -> Option<String> {
    let out = tool("pdffonts")?.arg(path).output().unwrap();
    assert!(out.status.success());
    Some(String::from_utf8(out.stdout).unwrap())
}

/// Font names in `pdffonts` output that carry a subset tag: six capitals and `+`.
fn subset_names(fonts: &str) -> Vec<&str> {
    fonts
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| {
            let b = n.as_bytes();
            b.len() > 7 && b[6] == b'+' && b[..6].iter().all(u8::is_ascii_uppercase)
        })
        .collect()
}

#[test]
fn latin_receipts_embed_cuts_of_the_fonts_tagged_by_their_glyphs() {
    let pdf = render_receipt(&model(0), &registry(), &identity()).unwrap();
    let path = write("latin-cut.pdf", &pdf);
    assert!(verify_receipt(&pdf).is_ok());
    let Some(fonts) = pdffonts(&path) else { return };
    let names = subset_names(&fonts);
    assert!(names.iter().any(|n| n.ends_with("+DejaVuSans")), "{fonts}");
    assert!(
        names.iter().any(|n| n.ends_with("+DejaVuSans-Bold")),
        "{fonts}"
    );
    // Another glyph set is another cut, with another tag.
    let mut m = model(0);
    m.sections[0].entries.push(Entry::value("Zusatz", "Qvxyz"));
    let other = render_receipt(&m, &registry(), &identity()).unwrap();
    let other_path = write("latin-cut-other.pdf", &other);
    let Some(other_fonts) = pdffonts(&other_path) else {
        return;
    };
    let regular = |names: Vec<&str>| {
        names
            .into_iter()
            .find(|n| n.ends_with("+DejaVuSans"))
            .unwrap()
            .to_string()
    };
    assert_ne!(regular(subset_names(&other_fonts)), regular(names));
}

#[test]
fn names_beyond_latin_fall_back_to_the_whole_font() {
    let mut m = model(0);
    m.sections[0].entries[0] = Entry::value("Name", "Алексей Иванов");
    m.sections[0]
        .entries
        .push(Entry::value("Geburtsname", "Nguyễn Thị Ánh Ωmega"));
    let pdf = render_receipt(&m, &registry(), &identity()).unwrap();
    let path = write("beyond-latin.pdf", &pdf);
    assert!(verify_receipt(&pdf).is_ok());
    let Some(text) = pdftotext(&path) else { return };
    for expected in [
        "Алексей Иванов",
        "Nguyễn Thị Ánh Ωmega",
        "ä ö ü ß ẞ € „Zitat“ – Ende",
    ] {
        assert!(text.contains(expected), "{expected:?} missing in:\n{text}");
    }
    let Some(fonts) = pdffonts(&path) else { return };
    assert_eq!(subset_names(&fonts).len(), 2, "{fonts}");
}

// ---------------------------------------------------------------------------------------------
// Fuzzing `lotse verify`'s parsing: mutations of a real signed receipt, and arbitrary bytes,
// into `verify_receipt` and `embedded_json`. Nothing may panic, and nothing but the receipt
// as signed may verify as valid and covering the whole file. Cases: LOTSE_FUZZ_CASES (default
// 192, a few seconds in a debug build); e.g. `LOTSE_FUZZ_CASES=20000 cargo test --release -p
// lotse-receipt --test receipt fuzz_` for a longer run.

mod fuzz {
    use std::sync::OnceLock;

    use proptest::prelude::*;
    use proptest::sample::Index;
    use proptest::test_runner::{Config, TestRunner};

    use super::*;

    pub(super) fn cases(default: u32) -> u32 {
        std::env::var("LOTSE_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    /// One receipt, rendered and signed once for all cases.
    fn original() -> &'static [u8] {
        static PDF: OnceLock<Vec<u8>> = OnceLock::new();
        PDF.get_or_init(|| render_receipt(&model(0), &registry(), &identity()).unwrap())
    }

    /// Where the parsers turn: a mutation near one of these reaches their less common paths.
    const LANDMARKS: &[&[u8]] = &[
        b"/ByteRange",
        b"/Contents",
        b"xref",
        b"trailer",
        b"startxref",
        b"stream",
        b"endobj",
        b"/EmbeddedFiles",
        b"/Filter",
        b"/Length",
        b"/M(D:",
        b"/M (D:",
        b"%%EOF",
    ];

    fn landmarks(pdf: &[u8]) -> Vec<usize> {
        let mut at = Vec::new();
        for mark in LANDMARKS {
            at.extend(
                pdf.windows(mark.len())
                    .enumerate()
                    .filter(|(_, w)| w == mark)
                    .map(|(i, _)| i),
            );
        }
        at.sort_unstable();
        at
    }

    #[derive(Debug, Clone)]
    enum Mutation {
        /// XOR one byte (never with 0).
        Flip(Index, u8),
        /// A byte near a landmark set to a value.
        NearLandmark(Index, u8, u8),
        /// Digits near a landmark replaced by other digits (offsets, lengths, dates).
        Digits(Index, u8, String),
        Truncate(Index),
        Insert(Index, Vec<u8>),
        Remove(Index, u16),
        /// A copy of one region written over another (shifted objects, repeated keys).
        Copy(Index, u16, Index),
        /// Deep nesting, for stack depth in the parser.
        Nest(Index, u8, u16),
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        prop_oneof![
            (any::<Index>(), 1..=255u8).prop_map(|(i, m)| Mutation::Flip(i, m)),
            (any::<Index>(), 0..48u8, any::<u8>())
                .prop_map(|(i, d, b)| Mutation::NearLandmark(i, d, b)),
            (any::<Index>(), 0..24u8, "[0-9 -]{1,12}")
                .prop_map(|(i, d, s)| Mutation::Digits(i, d, s)),
            any::<Index>().prop_map(Mutation::Truncate),
            (
                any::<Index>(),
                proptest::collection::vec(any::<u8>(), 1..64)
            )
                .prop_map(|(i, b)| Mutation::Insert(i, b)),
            (any::<Index>(), 1..4096u16).prop_map(|(i, n)| Mutation::Remove(i, n)),
            (any::<Index>(), 1..2048u16, any::<Index>())
                .prop_map(|(a, n, b)| Mutation::Copy(a, n, b)),
            (
                any::<Index>(),
                prop::sample::select(vec![b'[', b'<', b'(']),
                1..20_000u16
            )
                .prop_map(|(i, c, n)| Mutation::Nest(i, c, n)),
        ]
    }

    fn apply(pdf: &mut Vec<u8>, m: &Mutation, marks: &[usize]) {
        if pdf.is_empty() {
            return;
        }
        let near = |i: &Index, d: u8, len: usize| {
            let base = marks.get(i.index(marks.len().max(1))).copied().unwrap_or(0);
            (base + usize::from(d)).min(len - 1)
        };
        match m {
            Mutation::Flip(i, mask) => {
                let at = i.index(pdf.len());
                pdf[at] ^= mask;
            }
            Mutation::NearLandmark(i, d, b) => {
                let at = near(i, *d, pdf.len());
                pdf[at] = *b;
            }
            Mutation::Digits(i, d, s) => {
                let at = near(i, *d, pdf.len());
                let end = (at + s.len()).min(pdf.len());
                pdf[at..end].copy_from_slice(&s.as_bytes()[..end - at]);
            }
            Mutation::Truncate(i) => pdf.truncate(i.index(pdf.len())),
            Mutation::Insert(i, bytes) => {
                let at = i.index(pdf.len() + 1);
                pdf.splice(at..at, bytes.iter().copied());
            }
            Mutation::Remove(i, n) => {
                let at = i.index(pdf.len());
                let end = (at + usize::from(*n)).min(pdf.len());
                pdf.drain(at..end);
            }
            Mutation::Copy(from, n, to) => {
                let a = from.index(pdf.len());
                let b = to.index(pdf.len());
                let n = usize::from(*n).min(pdf.len() - a).min(pdf.len() - b);
                let chunk = pdf[a..a + n].to_vec();
                pdf[b..b + n].copy_from_slice(&chunk);
            }
            Mutation::Nest(i, c, n) => {
                let at = i.index(pdf.len() + 1);
                let open: Vec<u8> = match c {
                    b'<' => b"<<".repeat(usize::from(*n)),
                    other => vec![*other; usize::from(*n)],
                };
                pdf.splice(at..at, open);
            }
        }
    }

    /// The bytes of the original receipt's signature value (`<` … `>` of `/Contents`).
    fn signature_gap(pdf: &[u8]) -> std::ops::Range<usize> {
        let text = String::from_utf8_lossy(pdf);
        let at = text.rfind("/ByteRange").unwrap();
        let open = at + text[at..].find('[').unwrap();
        let close = at + text[at..].find(']').unwrap();
        let n: Vec<usize> = text[open + 1..close]
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        n[1]..n[2]
    }

    /// Runs the verifier and the attachment reader on `pdf`; a receipt that verifies as valid
    /// and whole must be the original, up to the case of a hex digit of the signature value
    /// (the same bytes, outside the signed ranges by design).
    fn check(pdf: &[u8]) -> Result<(), TestCaseError> {
        let original = original();
        let _ = lotse_receipt::embedded_json(pdf);
        let Ok(v) = verify_receipt(pdf) else {
            return Ok(());
        };
        if let Some(t) = v.signing_time {
            let _ = lotse_receipt::format_berlin(t, Language::De);
        }
        if v.valid && v.covers_whole_file {
            prop_assert_eq!(
                pdf.len(),
                original.len(),
                "a longer or shorter file verified"
            );
            let gap = signature_gap(original);
            for (at, (a, b)) in original.iter().zip(pdf).enumerate() {
                if a != b {
                    prop_assert!(
                        gap.contains(&at) && a.is_ascii_hexdigit() && a.eq_ignore_ascii_case(b),
                        "byte {at} changed ({a:#04x} -> {b:#04x}) and the receipt still verifies"
                    );
                }
            }
        }
        Ok(())
    }

    #[test]
    fn fuzz_mutated_receipts_never_panic_and_never_verify() {
        let original = original();
        let marks = landmarks(original);
        let mut runner = TestRunner::new(Config {
            cases: cases(192),
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&proptest::collection::vec(mutation(), 1..5), |ms| {
                let mut pdf = original.to_vec();
                for m in &ms {
                    apply(&mut pdf, m, &marks);
                }
                check(&pdf)
            })
            .unwrap();
    }

    #[test]
    fn fuzz_arbitrary_bytes_are_no_receipt() {
        let mut runner = TestRunner::new(Config {
            cases: cases(512),
            failure_persistence: None,
            ..Config::default()
        });
        let bytes = proptest::collection::vec(any::<u8>(), 0..2048);
        let ranges = "(/ByteRange ?\\[[0-9 ]{0,40}\\] ?/Contents ?<[0-9a-fA-F ]{0,64}>? ?)";
        let strategy = (bytes, proptest::option::of(ranges), any::<Index>());
        runner
            .run(&strategy, |(mut bytes, ranges, at)| {
                if let Some(r) = ranges {
                    let i = at.index(bytes.len() + 1);
                    bytes.splice(i..i, r.into_bytes());
                }
                bytes.splice(0..0, b"%PDF-1.7\n".iter().copied());
                let _ = lotse_receipt::embedded_json(&bytes);
                if let Ok(v) = verify_receipt(&bytes) {
                    prop_assert!(!v.valid, "random bytes verified as a receipt");
                }
                Ok(())
            })
            .unwrap();
    }
}
