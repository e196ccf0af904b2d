//! `lotse check` behaviour on broken definitions: each file in tests/broken/ names on its first
//! line the error it must produce (`# expect: CODE LINE:COLUMN text`), and every kind of input,
//! however broken, yields located problems and never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use lotse_core::load_library;
use lotse_core::script::Sandbox;
use proptest::prelude::*;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn broken_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("engine/core/tests/broken"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_broken_definition_yields_its_located_error() {
    let files = broken_files();
    assert!(
        files.len() >= 15,
        "the corpus needs at least 15 broken definitions"
    );
    let sandbox = Sandbox::default();
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let expect = text
            .lines()
            .next()
            .unwrap()
            .strip_prefix("# expect: ")
            .unwrap();
        let mut parts = expect.splitn(3, ' ');
        let code = parts.next().unwrap();
        let (line, column) = parts.next().unwrap().split_once(':').unwrap();
        let needle = parts.next().unwrap_or("");
        let (_, problems) = load_library(file, &sandbox);
        let found = problems.iter().any(|p| {
            p.code == code
                && p.line.to_string() == line
                && p.column.to_string() == column
                && p.message.contains(needle)
                && p.file == *file
        });
        if !found {
            failures.push(format!(
                "{}: expected {expect}, got {problems:#?}",
                file.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A field whose `$ref` does not resolve has its error; the prefill that names one of its
/// fields gets no second one, which would stand before the cause and hide it.
#[test]
fn an_unresolved_group_is_one_error_not_one_more_per_prefill() {
    let file = repo().join("engine/core/tests/broken/50-prefill-of-an-unresolved-group.yaml");
    let (_, problems) = load_library(&file, &Sandbox::default());
    let codes: Vec<&str> = problems.iter().map(|p| p.code).collect();
    assert_eq!(codes, ["LOT-E013"], "{problems:#?}");
}

/// Every comparison of a field with a value it can never hold is a warning, and nothing else
/// is: the last field's condition and the computed value compare rightly or compare their own
/// variables.
#[test]
fn comparisons_that_never_hold_are_warned_about_one_by_one() {
    let found = problems_of("51-comparisons-that-never-hold.yaml");
    let expected = [
        r#"LOT-E140 56:17 applies_if of step "b": `art` is never "Ja": its options are "ja", "nein"; the comparison is never true"#,
        r#"LOT-E140 58:42 visible_if of field "x1": `stufe` is never "1": its options are 1, 2; the comparison is never true"#,
        r#"LOT-E140 59:42 visible_if of field "x2": `stufe` is never 3: its options are 1, 2; the comparison is never true"#,
        r#"LOT-E140 60:42 visible_if of field "x3": `anzahl` is a number, never "2"; the comparison is never true"#,
        r#"LOT-E140 61:42 visible_if of field "x4": `zustimmung` is true or false, never "ja"; the comparison is never true"#,
        r#"LOT-E140 62:42 visible_if of field "x5": `themen` is true or false, never "laerm"; the comparison is never true"#,
        r#"LOT-E140 63:62 visible_if of field "x6": `count_where`: the entries of `hunde` have no field "kategorei" (their fields: kategorie, gewicht, name), so it counts nothing"#,
        r#"LOT-E140 64:73 visible_if of field "x7": `any_where`: `hunde[…].kategorie` is never "Gefährlich": its options are "normal", "gefaehrlich", so it matches no entry"#,
        r#"LOT-E140 65:42 visible_if of field "x8": `person.anrede` is never "divers": its options are "frau", "herr"; `!=` is always true"#,
        r#"LOT-E140 66:57 visible_if of field "x9": `sum_of`: "name" of `hunde` is not a number, so the sum is 0"#,
        r#"LOT-E140 79:78 visible_if of field "gutachten": `item.grund` is never "Krank": its options are "krank", "sonstiges"; the comparison is never true"#,
    ];
    assert_eq!(found, expected);
}

/// `<`, `<=`, `>` and `>=` between a field and a literal of another type, and comparisons of
/// a literal with a function's result of another type (`age(…) >= "18"`), are warned about;
/// the last field compares rightly and the computed value calls a function of its own.
#[test]
fn orderings_and_calls_that_never_hold_are_warned_about() {
    let found = problems_of("56-orderings-and-calls-that-never-hold.yaml");
    let expected = [
        r#"LOT-E140 32:43 visible_if of field "y1": `age(…)` gives a number; `>=` with "18" is never true"#,
        r#"LOT-E140 33:43 visible_if of field "y2": `anzahl` is a number; `>` with "2" is never true"#,
        r#"LOT-E140 34:50 visible_if of field "y3": `count(…)` gives a number; `<=` with "2" is never true"#,
        r#"LOT-E140 35:43 visible_if of field "y4": `hunde` is a list; `>` with 1 is never true (the number of entries is `count(hunde)`)"#,
        r#"LOT-E140 36:43 visible_if of field "y5": `stufe` is one of 1, 2; `>=` with "1" is never true"#,
        r#"LOT-E140 37:43 visible_if of field "y6": `today()` gives a date (a text such as "2027-01-31"), never 2027; the comparison is never true"#,
        r#"LOT-E140 38:43 visible_if of field "y7": `sicherung.contains(…)` gives true or false, never "ja"; `!=` is always true"#,
        r#"LOT-E140 39:43 visible_if of field "y8": `geburtsdatum` is a date (a text such as "2027-01-31"); `<` with 2000 is never true"#,
    ];
    assert_eq!(found, expected);
}

/// Comparisons with a computed value whose type its `format` gives (or, without one, a value
/// that is one call of a function of a known result) are warned about like fields; a computed
/// value of the default `text` format from another expression or a script, and one whose
/// function the script defines itself, are not.
#[test]
fn comparisons_with_computed_values_that_never_hold_are_warned_about() {
    let found = problems_of("65-computed-values-that-never-compare.yaml");
    let expected = [
        r#"LOT-E140 19:43 visible_if of field "z1": `anzahl_hunde` (`format: number`) is a number, never "2"; the comparison is never true"#,
        r#"LOT-E140 20:43 visible_if of field "z2": `gebuehr` (`format: euro`) is a number; `>` with "100" is never true"#,
        r#"LOT-E140 21:50 visible_if of field "z3": `betrag` (`format: cents`) is a number, never "0"; `!=` is always true"#,
        r#"LOT-E140 22:43 visible_if of field "z4": `frist` (`format: date`) is a date (a text such as "2027-01-31"); `<` with 2027 is never true"#,
        r#"LOT-E140 23:43 visible_if of field "z5": `befreit` (`format: yesno`) is true or false, never "ja"; the comparison is never true"#,
        r#"LOT-E140 24:43 visible_if of field "z6": `anzahl` (its value is `count(…)`) is a number, never "1"; the comparison is never true"#,
    ];
    assert_eq!(found, expected);
}

/// A project in a temporary folder: each file at its path, its folders made.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// Every problem of a corpus file, as `CODE LINE:COLUMN message`.
fn problems_of(name: &str) -> Vec<String> {
    let file = repo().join("engine/core/tests/broken").join(name);
    let (_, problems) = load_library(&file, &Sandbox::default());
    problems
        .iter()
        .map(|p| format!("{} {}:{} {}", p.code, p.line, p.column, p.message))
        .collect()
}

/// Bounds that no answer meets are errors, each pair on its own, in groups too; bounds that
/// meet in one value (`minimum: 5`, `maximum: 5`) are not.
#[test]
fn a_field_no_answer_can_pass_is_an_error_per_contradiction() {
    assert_eq!(
        problems_of("57-no-answer-can-pass.yaml"),
        [
            "LOT-E143 12:17 field \"menge\": `minimum` 10 is above `maximum` 5, so no answer can pass",
            "LOT-E143 15:17 field \"name\": `minLength` 5 is above `maxLength` 2, so no answer can pass",
            "LOT-E143 18:17 field \"betrag\": `exclusiveMinimum` 5 is the same as `exclusiveMaximum` 5, so no answer can pass",
            "LOT-E143 25:17 field \"liste\": `minItems` 3 asks for more boxes than the 2 there are, so no answer can pass",
            "LOT-E143 29:44 field \"plz\": `minLength` 6 is above `maxLength` 5, so no answer can pass",
        ]
    );
}

/// A bound for another type than the field's is a warning per keyword (JSON Schema would
/// ignore it); bounds of the field's own type are not.
#[test]
fn a_bound_for_another_type_is_a_warning() {
    assert_eq!(
        problems_of("61-bounds-that-check-nothing.yaml"),
        [
            "LOT-E146 12:17 field \"plz\": `minimum` applies to numbers, but the field is a text: it checks nothing",
            "LOT-E146 12:17 field \"plz\": `maximum` applies to numbers, but the field is a text: it checks nothing",
            "LOT-E146 15:17 field \"anzahl\": `maxLength` applies to texts, but the field is a number: it checks nothing",
            "LOT-E146 22:17 field \"liste\": `maxLength` applies to texts, but the field is a list: it checks nothing",
        ]
    );
}

/// A choice whose value is empty, null, padded with spaces, a list or a group can never be
/// stored as chosen: an error per choice.
#[test]
fn a_choice_whose_value_is_no_answer_is_an_error() {
    assert_eq!(
        problems_of("62-choice-values-that-are-no-answer.yaml"),
        [
            "LOT-E147 10:13 field \"art\": the value of the choice \"Keine Angabe\" is empty, so choosing it counts as no answer",
            "LOT-E147 10:13 field \"art\": the value of the choice \"Nein\" begins or ends with a space, which an answer never keeps, so choosing it is refused",
            "LOT-E147 17:13 field \"farbe\": the value of the choice \"Keine\" is null, so choosing it counts as no answer",
            "LOT-E147 23:13 field \"z\": the value of the choice \"Liste\" is a list or a group, not one answer",
        ]
    );
}

/// A date widget's schema must check dates: without a date format (or with another format)
/// any text would pass as one. A date widget without a schema gets its format itself.
#[test]
fn a_date_widget_whose_schema_checks_no_date_is_an_error() {
    assert_eq!(
        problems_of("63-date-widget-without-date-format.yaml"),
        [
            "LOT-E017 12:17 date field \"datum\": its schema has no `format`, so any text would pass as a date; write `format: date` (or `date-past`, `date-future`)",
            "LOT-E017 17:17 date field \"termin\": its schema's `format: email` checks no date; write `format: date` (or `date-past`, `date-future`)",
        ]
    );
}

/// A help text of a field that may stay empty, starting with "Freiwillig" (or "Optional" in
/// English), repeats the page's mark: a warning; a required field's help is left alone.
#[test]
fn a_help_saying_optional_again_is_a_warning() {
    assert_eq!(
        problems_of("64-help-says-optional.yaml"),
        [
            "LOT-E148 2:5 7 of the workflow's 8 texts have no English (`en:`), so the English pages show them in German: the title; the title of step \"a\"; the label of \"telefon\"; the help of \"telefon\"; the label of \"fax\"; the label of \"pflicht\", …",
            "LOT-E142 10:13 field \"telefon\": the help \"Freiwillig, für Rückfragen.\" says the field may stay empty, which the page's \"(freiwillig)\" after the label says already; start with what the answer is for",
            "LOT-E142 14:13 field \"fax\": the help \"Optional: for questions.\" says the field may stay empty, which the page's \"(freiwillig)\" after the label says already; start with what the answer is for",
        ]
    );
}

/// The building blocks in forms/ get the same checks, named by JSON pointer: bounds no value
/// meets, bounds for another type, a description that says "Freiwillig" of a property that
/// may stay empty (not of a required one).
#[test]
fn the_blocks_in_forms_get_the_field_checks_by_pointer() {
    let dir = project(&[
        (
            "workflows/a.yaml",
            "id: a\nversion: 1\ntitle: T\noffice: Amt\nsteps:\n  - id: a\n    title: A\n    fields:\n      - { id: name, label: Name }\n",
        ),
        (
            "forms/probe.json",
            r#"{
  "$id": "probe.json",
  "type": "object",
  "properties": {
    "telefon": { "type": "string", "description": "Freiwillig, für Rückfragen." },
    "plz": { "type": "string", "minimum": 10000 },
    "alter": { "type": "integer", "minimum": 10, "maximum": 5, "description": "Freiwillig." }
  },
  "required": ["alter"],
  "$defs": { "x": { "type": "string", "minLength": 3, "maxLength": 2 } }
}"#,
        ),
    ]);
    let (_, problems) = load_library(dir.path(), &Sandbox::default());
    let mut found: Vec<String> = problems
        .iter()
        .map(|p| format!("{} {}", p.code, p.message))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            "LOT-E142 #/properties/telefon: the description \"Freiwillig, für Rückfragen.\" says the field may stay empty, which the page's \"(freiwillig)\" after the label says already; start with what the answer is for",
            "LOT-E143 #/$defs/x: `minLength` 3 is above `maxLength` 2, so no value can pass",
            "LOT-E143 #/properties/alter: `minimum` 10 is above `maximum` 5, so no value can pass",
            "LOT-E146 #/properties/plz: `minimum` applies to numbers, but the schema is a text: it checks nothing",
        ]
    );
}

/// A workflow with English for some texts and not for others is warned about once, naming
/// the first untranslated texts; one in German only, or translated throughout, is not.
#[test]
fn a_workflow_translated_in_part_is_a_warning() {
    let workflow = |title: &str, label: &str| {
        format!(
            "id: a\nversion: 1\ntitle: {title}\noffice: Amt\nsteps:\n  - id: a\n    title: {{ de: Angaben, en: Details }}\n    fields:\n      - {{ id: name, label: {label} }}\n      - id: art\n        label: {{ de: Art, en: Kind }}\n        widget: radio\n        options:\n          - {{ value: ja, label: {{ de: Ja, en: \"Yes\" }} }}\n          - {{ value: nein, label: Nein }}\n"
        )
    };
    let part = project(&[("workflows/a.yaml", &workflow("Antrag", "Name"))]);
    let (lib, problems) = load_library(part.path(), &Sandbox::default());
    assert_eq!(lib.workflows.len(), 1, "a warning only");
    let found: Vec<String> = problems
        .iter()
        .map(|p| format!("{} {}:{} {}", p.code, p.line, p.column, p.message))
        .collect();
    assert_eq!(
        found,
        [
            "LOT-E148 1:5 3 of the workflow's 6 texts have no English (`en:`), so the English pages show them in German: the title; the label of \"name\"; the choice \"Nein\" of \"art\"",
        ]
    );
    let whole = workflow("{ de: Antrag, en: Application }", "{ de: Name, en: Name }")
        .replace("label: Nein", "label: { de: Nein, en: \"No\" }");
    let whole = project(&[("workflows/a.yaml", &whole)]);
    let (_, problems) = load_library(whole.path(), &Sandbox::default());
    assert!(problems.is_empty(), "{problems:#?}");
    let german = "id: a\nversion: 1\ntitle: Antrag\noffice: Amt\nsteps:\n  - id: a\n    title: Angaben\n    fields:\n      - { id: name, label: Name }\n";
    let german = project(&[("workflows/a.yaml", german)]);
    let (_, problems) = load_library(german.path(), &Sandbox::default());
    assert!(problems.is_empty(), "{problems:#?}");
}

/// A value offered twice is an error naming both labels; two values with the same label (in
/// German, or in English where both are translated) are a warning, once per language.
#[test]
fn choices_given_twice_or_reading_the_same_are_named() {
    assert_eq!(
        problems_of("58-choices-given-twice.yaml"),
        [
            "LOT-E144 10:13 field \"art\": the value \"ja\" is offered twice (as \"Ja\" and as \"Nein\"): whichever of them a citizen chooses, \"ja\" is stored",
        ]
    );
    assert_eq!(
        problems_of("59-choices-that-read-the-same.yaml"),
        [
            "LOT-E148 2:5 5 of the workflow's 7 texts have no English (`en:`), so the English pages show them in German: the title; the title of step \"a\"; the label of \"farbe\"; the choice \"Rot \" of \"farbe\"; the choice \"Gelb\" of \"farbe\"",
            "LOT-E145 10:13 field \"farbe\": two choices read \"Rot\" (the values \"rot\" and \"gruen\"); a citizen cannot tell them apart",
            "LOT-E145 10:13 field \"farbe\": two choices read \"Red\" (the values \"rot\" and \"blau\"); a citizen cannot tell them apart",
        ]
    );
}

/// A receipt template's `value_of` with an id the workflow does not have is a warning at the
/// template's line and column (characters, not bytes); a template named with its `.hbs` is
/// told how to name it.
#[test]
fn a_receipt_template_printing_an_unknown_value_and_a_template_named_with_hbs() {
    let workflow = |id: &str, receipt: &str| {
        format!(
            "id: {id}\nversion: 1\ntitle: T\noffice: Amt\nreceipt: {receipt}\nsteps:\n  - id: a\n    title: A\n    fields:\n      - {{ id: plz, label: PLZ }}\n      - {{ id: anzahl, label: Anzahl, widget: number }}\ncomputed:\n  - {{ id: gebuehr, label: Gebühr, script: anzahl * 10 }}\n"
        )
    };
    let dir = project(&[
        (
            "pdf-templates/gebuehr.hbs",
            "letterhead\n# {{texts.title}}\np: {{value_of \"plzz\"}} und {{value_of  \"anzahl\"}}, {{ value_of \"gebuehr\" }}\nkv: Gebühr | {{value_of \"gebuer\"}}\n",
        ),
        ("workflows/a.yaml", &workflow("a", "gebuehr")),
        ("workflows/b.yaml", &workflow("b", "gebuehr.hbs")),
    ]);
    let (lib, problems) = load_library(dir.path(), &Sandbox::default());
    let found: Vec<String> = problems
        .iter()
        .map(|p| {
            format!(
                "{} {} {}:{} {} | {}",
                p.code,
                p.file.file_name().unwrap().to_string_lossy(),
                p.line,
                p.column,
                p.message,
                p.help.as_deref().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            "LOT-E038 gebuehr.hbs 3:16 `value_of \"plzz\"`: workflow \"a\" has no field or computed value \"plzz\", so every receipt would print \"–\" | ",
            "LOT-E038 gebuehr.hbs 4:26 `value_of \"gebuer\"`: workflow \"a\" has no field or computed value \"gebuer\", so every receipt would print \"–\" | ",
            "LOT-E027 b.yaml 5:10 receipt template \"gebuehr.hbs\" does not exist in pdf-templates/ | write `receipt: gebuehr`: a template is named without .hbs",
        ]
    );
    assert_eq!(lib.workflows.len(), 1, "a warns, b fails");
}

/// The same for the partials the template calls, and the partials those call: the warning is
/// at the partial's line and names the template; a partial nobody calls is not read for it.
#[test]
fn a_partial_the_receipt_template_calls_printing_an_unknown_value() {
    let dir = project(&[
        (
            "pdf-templates/gebuehr.hbs",
            "letterhead\n# {{texts.title}}\n{{> kopf}}\np: {{value_of \"plz\"}}\n{{> kopf}}\n",
        ),
        (
            "pdf-templates/partials/kopf.hbs",
            "p: {{value_of \"gebuehr\"}}\n{{~> fuss}}\n",
        ),
        (
            "pdf-templates/partials/fuss.hbs",
            "p: Gebühr {{value_of \"gebuer\"}}\n",
        ),
        (
            "pdf-templates/partials/unbenutzt.hbs",
            "p: {{value_of \"nichts\"}}\n",
        ),
        (
            "workflows/a.yaml",
            "id: a\nversion: 1\ntitle: T\noffice: Amt\nreceipt: gebuehr\nsteps:\n  - id: a\n    title: A\n    fields:\n      - { id: plz, label: PLZ }\n      - { id: anzahl, label: Anzahl, widget: number }\ncomputed:\n  - { id: gebuehr, label: Gebühr, script: anzahl * 10 }\n",
        ),
    ]);
    let (lib, problems) = load_library(dir.path(), &Sandbox::default());
    let found: Vec<String> = problems
        .iter()
        .map(|p| {
            format!(
                "{} {} {}:{} {}",
                p.code,
                p.file.file_name().unwrap().to_string_lossy(),
                p.line,
                p.column,
                p.message,
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            "LOT-E038 fuss.hbs 1:23 `value_of \"gebuer\"`: workflow \"a\" has no field or computed value \"gebuer\", so every receipt would print \"–\" (a partial the receipt template gebuehr.hbs calls)"
        ]
    );
    assert_eq!(lib.workflows.len(), 1);
}

#[test]
fn binary_garbage_huge_and_empty_files_are_clean_errors() {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join("workflows");
    std::fs::create_dir(&wf).unwrap();
    std::fs::write(
        wf.join("garbage.yaml"),
        [0xffu8, 0xfe, 0x00, 0x13, 0x37, 0x80],
    )
    .unwrap();
    std::fs::write(wf.join("huge.yaml"), "a".repeat(2 * 1024 * 1024)).unwrap();
    std::fs::write(wf.join("empty.yaml"), "").unwrap();
    std::fs::write(wf.join("list.yaml"), "- 1\n- 2\n").unwrap();
    let (lib, problems) = load_library(dir.path(), &Sandbox::default());
    assert!(lib.workflows.is_empty());
    let codes: Vec<(&str, String)> = problems
        .iter()
        .map(|p| {
            (
                p.code,
                p.file.file_name().unwrap().to_string_lossy().to_string(),
            )
        })
        .collect();
    assert!(
        codes.contains(&("LOT-E002", "garbage.yaml".into())),
        "{problems:#?}"
    );
    assert!(
        codes.contains(&("LOT-E001", "huge.yaml".into())),
        "{problems:#?}"
    );
    assert!(
        codes.iter().any(|(_, f)| f == "empty.yaml"),
        "{problems:#?}"
    );
    assert!(codes.iter().any(|(_, f)| f == "list.yaml"), "{problems:#?}");
}

#[test]
fn deeply_nested_yaml_is_refused_not_overflowing_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join("workflows");
    std::fs::create_dir(&wf).unwrap();
    std::fs::write(wf.join("deep.yaml"), "[".repeat(100_000)).unwrap();
    std::fs::write(
        wf.join("bomb.yaml"),
        "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n",
    )
    .unwrap();
    let (_, problems) = load_library(dir.path(), &Sandbox::default());
    // Both files are refused (the bomb for its unknown keys, which `lotse check` lists one after
    // the other until the next one no longer reads), and nothing overflows.
    let files: std::collections::BTreeSet<_> = problems
        .iter()
        .filter(|p| p.is_error())
        .map(|p| p.file.clone())
        .collect();
    assert_eq!(files.len(), 2, "{problems:#?}");
    assert!(problems.len() <= 21, "{problems:#?}");
}

fn example() -> String {
    std::fs::read_to_string(repo().join("workflows/hundesteuer/workflow.yaml")).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Every prefix of a real workflow (a truncated file) loads or fails cleanly.
    #[test]
    fn truncated_workflows_never_panic(cut in 0usize..10_000) {
        let text = example();
        let mut cut = cut.min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.yaml");
        std::fs::write(&file, &text[..cut]).unwrap();
        let _ = load_library(&file, &Sandbox::default());
    }

    /// Random bytes flipped in a real workflow load or fail cleanly.
    #[test]
    fn mangled_workflows_never_panic(flips in proptest::collection::vec((0usize..10_000, any::<u8>()), 1..8)) {
        let mut bytes = example().into_bytes();
        for (at, b) in flips {
            let i = at % bytes.len();
            bytes[i] = b;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.yaml");
        std::fs::write(&file, &bytes).unwrap();
        let _ = load_library(&file, &Sandbox::default());
    }
}

/// Broken tenant overrides: each file in tests/broken-overrides/workflows/gebuehr/overrides/
/// names its error on the first line, like the broken workflows; `none` means it loads.
#[test]
fn every_broken_override_yields_its_located_error() {
    let root = repo().join("engine/core/tests/broken-overrides");
    let (mut library, mut problems) = load_library(&root, &Sandbox::default());
    problems.extend(library.check_tenants(&["stadt-a", "stadt-b"]));
    let dir = root.join("workflows/gebuehr/overrides");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 10);
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let expect = text
            .lines()
            .next()
            .unwrap()
            .strip_prefix("# expect: ")
            .unwrap();
        let here: Vec<_> = problems.iter().filter(|p| p.file == *file).collect();
        if expect == "none" {
            if !here.is_empty() {
                failures.push(format!(
                    "{}: expected no problem, got {here:#?}",
                    file.display()
                ));
            }
            continue;
        }
        let mut parts = expect.splitn(3, ' ');
        let code = parts.next().unwrap();
        let (line, column) = parts.next().unwrap().split_once(':').unwrap();
        let needle = parts.next().unwrap_or("");
        let found = here.iter().any(|p| {
            p.code == code
                && p.line.to_string() == line
                && p.column.to_string() == column
                && p.message.contains(needle)
        });
        if !found {
            failures.push(format!(
                "{}: expected {expect}, got {here:#?}",
                file.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // Only the valid override and the one that changes nothing (a warning) are applied.
    let applied: Vec<(&str, &str)> = library
        .overrides()
        .iter()
        .map(|o| {
            (
                o.tenant.as_str(),
                o.file.file_name().unwrap().to_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        applied,
        [
            ("stadt-a", "00-valid.yaml"),
            ("stadt-b", "14-changes-nothing.yaml")
        ]
    );
}

/// Explicit date bounds are accepted and used; a bound that is no date, or a minimum after the
/// maximum, is LOT-E017 (issue 15, item 10).
/// A select list whose choice is longer than a phone shows in the closed list gets a warning
/// that names the choice (in either language) and the remedy; short choices and radio buttons
/// do not.
#[test]
fn a_select_list_with_a_choice_too_long_for_a_phone_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join("workflows/zone");
    std::fs::create_dir_all(&wf).unwrap();
    let write = |widget: &str, label: &str| {
        std::fs::write(
            wf.join("workflow.yaml"),
            format!(
                "id: zone\nversion: 1\ntitle: Zone\noffice: Amt\nsteps:\n  - id: a\n    title: A\n    fields:\n      - id: zone\n        label: Zone\n        widget: {widget}\n        options:\n          - {{ value: a, label: {label} }}\n          - {{ value: b, label: Zone B }}\n"
            ),
        )
        .unwrap();
    };
    let sandbox = Sandbox::default();
    let warnings = |widget: &str, label: &str| {
        write(widget, label);
        let (library, problems) = load_library(dir.path(), &sandbox);
        assert!(library.latest("zone").is_some(), "{problems:#?}");
        assert!(problems.iter().all(|p| !p.is_error()), "{problems:#?}");
        problems
            .into_iter()
            .filter(|p| p.code == "LOT-E139")
            .map(|p| p.message)
            .collect::<Vec<_>>()
    };
    let long = "Zone A – Altstadt (Hochstraße, Apfelstraße, Kirchstraße)";
    let found = warnings("select", &format!("\"{long}\""));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains(long)
            && found[0].contains("56 characters")
            && found[0].contains("widget: radio"),
        "{found:?}"
    );
    // Only the English is too long: warned about as well.
    let found = warnings(
        "select",
        "{ de: Altstadt, en: \"Old town between Hochstraße, Apfelstraße and Kirchstraße\" }",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    // Exactly 40 characters fit; radio buttons wrap their labels.
    assert!(warnings("select", &"x".repeat(40)).is_empty());
    assert!(warnings("radio", &format!("\"{long}\"")).is_empty());
}

#[test]
fn explicit_date_bounds_are_accepted_and_bad_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join("workflows/alt");
    std::fs::create_dir_all(&wf).unwrap();
    let write = |bounds: &str| {
        std::fs::write(
            wf.join("workflow.yaml"),
            format!(
                "id: alt\nversion: 1\ntitle: Alt\noffice: Archiv\nsteps:\n  - id: a\n    title: A\n    fields:\n      - id: geboren\n        label: Geboren am\n        schema: {{ type: string, format: date{bounds} }}\n"
            ),
        )
        .unwrap();
    };
    let sandbox = Sandbox::default();
    write(", formatMinimum: \"1800-01-01\", formatMaximum: \"1950-12-31\"");
    let (library, problems) = load_library(dir.path(), &sandbox);
    assert!(problems.iter().all(|p| !p.is_error()), "{problems:#?}");
    let field = &library.latest("alt").unwrap().steps[0].fields[0];
    assert_eq!(
        field.date_bounds,
        Some((
            time::macros::date!(1800 - 01 - 01),
            time::macros::date!(1950 - 12 - 31)
        ))
    );
    write("");
    let (library, _) = load_library(dir.path(), &sandbox);
    let field = &library.latest("alt").unwrap().steps[0].fields[0];
    assert_eq!(
        field.date_bounds,
        Some((
            time::macros::date!(1900 - 01 - 01),
            time::macros::date!(2100 - 12 - 31)
        ))
    );
    write(", formatMinimum: \"1950-01-01\", formatMaximum: \"1900-01-01\"");
    let (_, problems) = load_library(dir.path(), &sandbox);
    assert!(
        problems
            .iter()
            .any(|p| p.code == "LOT-E017" && p.message.contains("after")),
        "{problems:#?}"
    );
}

#[test]
fn the_applicant_is_named_by_the_declaration_or_by_common_fields() {
    let (lib, problems) = load_library(&repo(), &Sandbox::default());
    assert!(!problems.iter().any(|p| p.is_error()), "{problems:#?}");
    let answers = |v: serde_json::Value| -> std::collections::BTreeMap<String, serde_json::Value> {
        serde_json::from_value(v).unwrap()
    };
    let street = lib.latest("sondernutzung-strasse").unwrap();
    let person = serde_json::json!({"anrede": "Frau", "vorname": "Anna", "nachname": "Müller"});
    assert_eq!(
        street
            .applicant(&answers(
                serde_json::json!({"firma": "Bau GmbH", "person": person})
            ))
            .as_deref(),
        Some("Bau GmbH"),
        "the first alternative that gives a text"
    );
    assert_eq!(
        street
            .applicant(&answers(serde_json::json!({"person": person})))
            .as_deref(),
        Some("Anna Müller")
    );
    // Hundesteuer declares nothing: first and last name in a group are found.
    let dogs = lib.latest("hundesteuer-anmeldung").unwrap();
    assert_eq!(
        dogs.applicant(&answers(serde_json::json!({"halter": person, "hunde": []})))
            .as_deref(),
        Some("Anna Müller")
    );
    assert_eq!(
        dogs.applicant(&answers(serde_json::json!({"firma": "Tierheim e. V."})))
            .as_deref(),
        Some("Tierheim e. V.")
    );
    assert_eq!(
        dogs.applicant(&answers(serde_json::json!({"zahl": 3}))),
        None
    );
    let text = lotse_core::definition::answers_text(&answers(
        serde_json::json!({"halter": person, "hunde": [{"name": "Bello", "alter": 3}]}),
    ));
    for word in ["Anna", "Müller", "Bello", "3"] {
        assert!(text.contains(word), "{text}");
    }
}

#[test]
fn every_misspelt_key_of_a_file_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("workflow.yaml");
    std::fs::write(
        &file,
        "id: probe\nversion: 1\ntilte: Bäume\noffice: Umweltamt\nsteps:\n  - id: baeume\n    title: Bäume\n    hepl: Hilfe\n    fields:\n      - id: anzahl\n        label: Anzahl\n        widgte: number\n        visble_if:\n          true\n",
    )
    .unwrap();
    let (_, problems) = load_library(&file, &Sandbox::default());
    let found: Vec<(String, usize, usize)> = problems
        .iter()
        .map(|p| (p.code.to_string(), p.line, p.column))
        .collect();
    // Every misspelt key in the file, and then what the file still lacks (`title`).
    for (code, line, column) in [
        ("LOT-E004", 3, 1),
        ("LOT-E004", 8, 5),
        ("LOT-E004", 12, 9),
        ("LOT-E004", 13, 9),
    ] {
        assert!(
            found.contains(&(code.to_string(), line, column)),
            "{code} at {line}:{column} in {problems:#?}"
        );
    }
    assert!(
        problems
            .iter()
            .any(|p| p.code == "LOT-E005" && p.message.contains("title")),
        "{problems:#?}"
    );
}

#[test]
fn wrong_values_and_misspelt_keys_of_a_file_are_reported_together() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("workflow.yaml");
    std::fs::write(
        &file,
        "id: probe\nversion: eins\ntitle: Bäume\noffice: Umweltamt\ndraft_expiry_days: viele\nsteps:\n  - id: baeume\n    title: Bäume\n    fields:\n      - id: anzahl\n        label: Anzahl\n        widgte: number\n        repeat: ja\n",
    )
    .unwrap();
    let (_, problems) = load_library(&file, &Sandbox::default());
    let found: Vec<(String, usize, usize)> = problems
        .iter()
        .map(|p| (p.code.to_string(), p.line, p.column))
        .collect();
    // The wrong version, the wrong number of days, the misspelt widget and the wrong `repeat`,
    // in the order of the file; not the "missing field `version`" that taking it out caused.
    assert_eq!(
        found,
        [
            ("LOT-E005".to_string(), 2, 10),
            ("LOT-E005".to_string(), 5, 20),
            ("LOT-E004".to_string(), 12, 9),
            ("LOT-E005".to_string(), 13, 17),
        ],
        "{problems:#?}"
    );
}
