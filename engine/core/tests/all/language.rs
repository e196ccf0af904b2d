//! The workflow language's semantics, each shown with a small workflow and a scenario run by
//! the same runner as `lotse test`: a hidden answer decides nothing, and a script that fails at
//! run time stops the step instead of counting as false.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use lotse_core::scenario::{TestRun, run_file};
use lotse_core::script::Sandbox;

/// Writes `workflow` and `scenario` into a project of their own and runs the scenario.
fn probe(workflow: &str, scenario: &str) -> TestRun {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("workflows/probe");
    std::fs::create_dir_all(folder.join("scenarios")).unwrap();
    std::fs::write(folder.join("workflow.yaml"), workflow).unwrap();
    let file = folder.join("scenarios/probe.yaml");
    std::fs::write(&file, scenario).unwrap();
    let run = run_file(&file, &Sandbox::default());
    assert!(
        run.load_problems.iter().all(|p| !p.is_error()),
        "{:#?}",
        run.load_problems
    );
    run
}

fn failures(run: &TestRun) -> Vec<String> {
    run.results
        .iter()
        .flat_map(|r| &r.failures)
        .map(|f| {
            format!(
                "{}:{} {}: {} (expected {:?}, got {:?})",
                f.at.line, f.at.column, f.context, f.message, f.expected, f.actual
            )
        })
        .collect()
}

/// The Labrador of the issue: `gefaehrlich` is asked only for four breeds, the proof of
/// competence only for a dangerous dog. A Labrador sent with `gefaehrlich: true` (a page
/// that still had the box ticked) is accepted, without the proof.
const DOGS: &str = r#"
id: probe
version: 1
title: Hund
office: Steueramt
steps:
  - id: hund
    title: Ihr Hund
    fields:
      - id: rasse
        label: Rasse
        widget: select
        options:
          - { value: labrador, label: Labrador }
          - { value: pitbull, label: Pitbull-Terrier }
          - { value: staffordshire, label: Staffordshire-Bullterrier }
          - { value: bullterrier, label: Bullterrier }
          - { value: american, label: American Staffordshire Terrier }
      - id: gefaehrlich
        label: Wurde der Hund als gefährlich eingestuft?
        widget: checkbox
        visible_if: rasse in ["pitbull", "staffordshire", "bullterrier", "american"]
      - id: sachkunde_nachweis
        label: Sachkundenachweis
        visible_if: gefaehrlich == true
        required: gefaehrlich == true
      - id: halterin_seit
        label: Seit wann halten Sie gefährliche Hunde?
        widget: date
        visible_if: answered(sachkunde_nachweis)
computed:
  - id: zuschlag
    label: Zuschlag
    format: euro
    value: if gefaehrlich == true { 600 } else { 0 }
"#;

#[test]
fn a_hidden_answer_decides_nothing_while_its_step_is_checked() {
    let run = probe(
        DOGS,
        r#"
name: Ein Labrador mit angekreuztem "gefährlich" braucht keinen Sachkundenachweis
steps:
  - step: hund
    answers: { rasse: labrador, gefaehrlich: true }
    expect_at: review
expect:
  answers: { gefaehrlich: null, sachkunde_nachweis: null }
  computed: { zuschlag: 0 }
"#,
    );
    assert!(run.passed(), "{:#?}", failures(&run));
}

#[test]
fn hidden_answers_are_dropped_to_a_fixed_point() {
    // The proof is hidden (the dog is a Labrador, so `gefaehrlich` is hidden and dropped), and
    // with it the date that depends on the proof: three levels, one round each.
    let run = probe(
        DOGS,
        r#"
name: Was nur über versteckte Antworten sichtbar wäre, entfällt mit ihnen
steps:
  - step: hund
    answers: { rasse: labrador, gefaehrlich: true, sachkunde_nachweis: "SK-1", halterin_seit: "2020-01-01" }
    expect_at: review
expect:
  answers: { gefaehrlich: null, sachkunde_nachweis: null, halterin_seit: null }
"#,
    );
    assert!(run.passed(), "{:#?}", failures(&run));
    // A dangerous breed still needs the proof.
    let run = probe(
        DOGS,
        r#"
name: Ein gefährlicher Pitbull braucht den Sachkundenachweis
steps:
  - step: hund
    answers: { rasse: pitbull, gefaehrlich: true }
    expect_errors:
      - { field: sachkunde_nachweis }
"#,
    );
    assert!(run.passed(), "{:#?}", failures(&run));
}

const LENGTH: &str = r#"
id: probe
version: 1
title: Bäume
office: Umweltamt
steps:
  - id: baeume
    title: Bäume
    fields:
      - id: anzahl
        label: Anzahl
        widget: number
        schema: { type: integer, minimum: 1 }
    next:
      - if: viele
        goto: viele
      - goto: review
  - id: viele
    title: Viele Bäume
    fields:
      - id: grund
        label: Grund
computed:
  - id: viele
    label: Viele
    value: len(anzahl) > 3
"#;

#[test]
fn a_script_that_fails_at_run_time_stops_the_step_with_its_place() {
    let run = probe(
        LENGTH,
        r#"
name: len() auf einer Zahl
steps:
  - step: baeume
    answers: { anzahl: 5 }
    expect_at: viele
"#,
    );
    let found = failures(&run);
    assert_eq!(found.len(), 1, "{found:#?}");
    // At the step of the scenario (line 4), naming the computed value and where its script
    // is in the workflow file (line 26, column 12).
    assert!(found[0].starts_with("4:"), "{found:#?}");
    for part in [
        "LOT-A005",
        "computed value \"viele\"",
        "line 26, column 12",
        "len",
    ] {
        assert!(found[0].contains(part), "{part} in {found:#?}");
    }
}

#[test]
fn a_computed_value_whose_inputs_are_missing_is_empty_not_an_error() {
    // Before `anzahl` is answered, `viele` cannot be computed: that is no error.
    let run = probe(
        LENGTH,
        r#"
name: Noch nichts beantwortet
steps:
  - step: baeume
    answers: {}
    expect_errors:
      - { field: anzahl }
"#,
    );
    assert!(run.passed(), "{:#?}", failures(&run));
}

#[test]
fn an_explanation_shows_the_computed_value_the_condition_saw() {
    // `anzahl` is a computed value of 0: the explanation of the skipped step says 0, not `null`.
    let workflow = r#"
id: probe
version: 1
title: Bäume
office: Umweltamt
steps:
  - id: baeume
    title: Bäume
    fields:
      - id: baeume
        label: Bäume
        repeat: { min: 0, max: 5, item_label: Baum, add_label: Weiteren Baum hinzufügen }
        fields:
          - id: art
            label: Baumart
  - id: gruende
    title: Gründe
    applies_if: anzahl > 0
    fields:
      - id: grund
        label: Grund
computed:
  - id: anzahl
    label: Anzahl der Bäume
    value: count(baeume)
"#;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("workflow.yaml");
    std::fs::write(&file, workflow).unwrap();
    let sandbox = Sandbox::default();
    let (library, problems) = lotse_core::load_library(&file, &sandbox);
    assert!(problems.iter().all(|p| !p.is_error()), "{problems:#?}");
    let wf = library.latest("probe").unwrap();
    let now = time::macros::datetime!(2026-11-28 10:00 UTC);
    let app = lotse_core::Application::start(wf, lotse_core::Lang::De, now);
    let mut values = serde_json::Map::new();
    values.insert("baeume".into(), serde_json::json!([]));
    let t = app
        .apply(
            wf,
            &sandbox,
            lotse_core::Command::Answer {
                step: "baeume".into(),
                values,
                then_review: false,
            },
            now,
        )
        .unwrap();
    let shown = serde_json::to_string(&t.state.explanations).unwrap();
    assert!(shown.contains("\"anzahl\":0"), "{shown}");
}

const TREES: &str = r#"
id: probe
version: 1
title: Fällgenehmigung
office: Umweltamt
steps:
  - id: baum
    title: Ihr Baum
    fields:
      - id: art
        label: Baumart
        widget: radio
        options:
          - { value: obstbaum, label: Obstbaum }
          - { value: eiche, label: Eiche }
    next:
      - if: art == "obstbaum"
        goto: frei
  - id: grund
    title: Grund
    fields:
      - id: grund
        label: Grund
  - id: frei
    title: Keine Genehmigung erforderlich
    help: Obstbäume schützt die Satzung nicht.
    end: true
    links:
      - { label: Baumschutzsatzung, href: "https://www.example.org/satzung.pdf" }
      - { label: Andere Dienstleistungen, href: /heinsberg }
"#;

#[test]
fn an_end_page_ends_the_assistant_without_a_submission() {
    let run = probe(
        TREES,
        r#"
name: Ein Obstbaum braucht keine Genehmigung
steps:
  - step: baum
    answers: { art: obstbaum }
    expect_at: frei
  - review: true
    expect_missing: frei
  - back: true
    expect_at: baum
  - step: baum
    answers: { art: eiche }
    expect_at: grund
  - step: grund
    answers: { grund: Sturmschaden }
    expect_at: review
expect:
  path: [baum, grund]
  submitted: true
"#,
    );
    assert!(run.passed(), "{:#?}", failures(&run));
    let run = probe(
        TREES,
        r#"
name: Von einer Endseite aus wird nichts gesendet
steps:
  - step: baum
    answers: { art: obstbaum }
    expect_at: frei
expect:
  path: [baum, frei]
  at: frei
  submitted: false
"#,
    );
    assert!(run.passed(), "{:#?}", failures(&run));
}

#[test]
fn an_end_page_is_an_end_in_the_graph_and_not_the_default_of_the_step_before() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("workflow.yaml");
    std::fs::write(&file, TREES).unwrap();
    let sandbox = Sandbox::default();
    let (library, problems) = lotse_core::load_library(&file, &sandbox);
    assert!(problems.iter().all(|p| !p.is_error()), "{problems:#?}");
    let wf = library.latest("probe").unwrap();
    // `grund` is the last step before the end page in the file: it goes to the review.
    let grund = wf.steps.iter().find(|s| s.id == "grund").unwrap();
    assert_eq!(grund.default_next, lotse_core::definition::Target::Review);
    let dot = lotse_core::diagram::render(wf, lotse_core::diagram::DiagramFormat::Dot);
    assert!(dot.contains("\"frei\" [label=\"Keine Genehmigung erforderlich\\n(frei)\\nEnde\", style=\"rounded\", shape=octagon]"), "{dot}");
    assert!(
        !dot.contains("\"frei\" ->"),
        "nothing follows an end page: {dot}"
    );
    let mermaid = lotse_core::diagram::render(wf, lotse_core::diagram::DiagramFormat::Mermaid);
    assert!(mermaid.contains("s_frei([\""), "{mermaid}");
    // Nothing can be answered on it.
    let now = time::macros::datetime!(2026-11-28 10:00 UTC);
    let app = lotse_core::Application::start(wf, lotse_core::Lang::De, now);
    let mut values = serde_json::Map::new();
    values.insert("art".into(), serde_json::json!("obstbaum"));
    let answer = |step: &str, values| lotse_core::Command::Answer {
        step: step.into(),
        values,
        then_review: false,
    };
    let t = app
        .apply(wf, &sandbox, answer("baum", values), now)
        .unwrap();
    assert_eq!(t.state.at_end(wf).map(|s| s.id.as_str()), Some("frei"));
    let refused = t
        .state
        .apply(wf, &sandbox, answer("frei", serde_json::Map::new()), now)
        .unwrap_err();
    assert_eq!(refused.code(), "LOT-A010");
}

const PER_TREE: &str = r#"
id: probe
version: 1
title: Fällgenehmigung
office: Umweltamt
steps:
  - id: baeume
    title: Ihre Bäume
    fields:
      - id: baeume
        label: Bäume
        repeat: { min: 1, max: 20, item_label: Baum, add_label: Weiteren Baum hinzufügen }
        fields:
          - id: umfang
            label: Stammumfang in cm
            widget: number
          - id: grund
            label: Grund
            widget: radio
            options:
              - { value: krank, label: Der Baum ist krank }
              - { value: sonstiges, label: Ein anderer Grund }
          - id: begruendung
            label: Begründung
            required: item.grund == "sonstiges"
          - id: gutachten
            label: Gutachten liegt vor
            widget: checkbox
            visible_if: item.grund == "krank"
rules:
  - field: baeume.begruendung
    check: item.grund != "sonstiges" || item.begruendung.len() >= 10
    message: Bitte begründen Sie die Fällung in wenigstens zehn Zeichen.
"#;

#[test]
fn each_entry_of_a_repeated_group_decides_its_own_requirements_and_rules() {
    let run = probe(
        PER_TREE,
        r#"
name: Die Begründung ist nur für den Baum mit "anderer Grund" nötig
steps:
  - step: baeume
    answers:
      baeume:
        - { umfang: 120, grund: krank, gutachten: true }
        - { umfang: 95, grund: sonstiges }
    expect_errors:
      - { field: /baeume/1/begruendung, message: "Bitte füllen Sie das Feld „Begründung“ aus." }
  - step: baeume
    answers:
      baeume:
        - { umfang: 120, grund: krank, gutachten: true }
        - { umfang: 95, grund: sonstiges, begruendung: zu nah }
    expect_errors:
      - { field: /baeume/1/begruendung, message: Bitte begründen Sie die Fällung in wenigstens zehn Zeichen. }
  - step: baeume
    answers:
      baeume:
        - { umfang: 120, grund: krank, gutachten: true }
        - { umfang: 95, grund: sonstiges, begruendung: Steht zu nah am Haus, gutachten: true }
    expect_at: review
expect:
  answers:
    baeume:
      - { umfang: 120, grund: krank, gutachten: true }
      - { umfang: 95, grund: sonstiges, begruendung: Steht zu nah am Haus }
"#,
    );
    assert!(run.passed(), "{:#?}", failures(&run));
}

#[test]
fn coverage_counts_the_conditions_of_sub_fields_per_entry() {
    // Accepted at once: the reason was never required, the report never hidden.
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("workflows/probe");
    std::fs::create_dir_all(folder.join("scenarios")).unwrap();
    std::fs::write(folder.join("workflow.yaml"), PER_TREE).unwrap();
    std::fs::write(
        folder.join("scenarios/krank.yaml"),
        "name: Ein kranker Baum\nsteps:\n  - step: baeume\n    answers:\n      baeume:\n        - { umfang: 120, grund: krank, gutachten: true }\n",
    )
    .unwrap();
    let run = lotse_core::scenario::run_all(dir.path(), &Sandbox::default());
    assert!(run.passed(), "{:#?}", failures(&run));
    let wf = run.library.latest("probe").unwrap();
    let gaps: Vec<String> = run
        .coverage
        .get(&wf.key())
        .unwrap()
        .gaps(wf)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        gaps.contains(
            &"field \"baeume.begruendung\" never required (its condition never held)".to_string()
        ),
        "{gaps:#?}"
    );
    assert!(
        gaps.contains(&"field \"baeume.gutachten\" never hidden".to_string()),
        "{gaps:#?}"
    );
    assert!(
        !gaps
            .iter()
            .any(|g| g.contains("baeume.gutachten\" never shown")),
        "{gaps:#?}"
    );
    assert!(
        !gaps.iter().any(|g| g.contains("never left out")),
        "{gaps:#?}"
    );
}

/// The form blocks' English (`x-title-en`, `x-description-en`, `x-enum-titles-en`) reaches the
/// compiled fields; a `title` beside a `$ref` keeps its own English, not the target's.
#[test]
fn the_form_blocks_speak_english_on_english_pages() {
    use lotse_core::Lang;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (library, problems) = lotse_core::definition::load_library(&root, &Sandbox::default());
    assert!(problems.iter().all(|p| !p.is_error()), "{problems:#?}");
    let wf = library
        .all()
        .find(|w| w.id == "hundesteuer-anmeldung")
        .unwrap();
    let halter = wf.steps[0]
        .fields
        .iter()
        .find(|f| f.id == "halter")
        .unwrap();
    let sub = |id: &str| halter.subfields.iter().find(|f| f.id == id).unwrap();
    assert_eq!(sub("vorname").label.get(Lang::En), "First names");
    assert_eq!(sub("vorname").label.get(Lang::De), "Vorname");
    assert_eq!(
        sub("vorname").help.as_ref().unwrap().get(Lang::En),
        "All first names as in your identity card."
    );
    // Beside its $ref (a date in the past): its own title, in both languages.
    assert_eq!(sub("geburtsdatum").label.get(Lang::En), "Date of birth");
    assert_eq!(sub("geburtsdatum").label.get(Lang::De), "Geburtsdatum");
    // The choices: English labels, the German values.
    let anrede = sub("anrede");
    let labels: Vec<&str> = anrede
        .options
        .iter()
        .map(|o| o.label.get(Lang::En))
        .collect();
    assert_eq!(labels, ["Ms", "Mr", "Not specified"]);
    assert_eq!(anrede.options[0].value, serde_json::json!("Frau"));
}

/// Checkboxes: several of the options, kept as a list of their values.
const SEVERAL: &str = r#"
id: probe
version: 1
title: Sondernutzung
office: Ordnungsamt
steps:
  - id: aufbau
    title: Aufbau
    fields:
      - id: stufen
        label: Welche Stufen?
        widget: checkboxes
        options:
          - { value: 1, label: Stufe eins }
          - { value: 2, label: Stufe zwei }
          - { value: 3, label: Stufe drei }
      - id: sicherung
        label: Sicherung
        widget: checkboxes
        required: false
        schema: { type: array, maxItems: 2 }
        options:
          - { value: schranke, label: Schranke }
          - { value: leuchte, label: Leuchte }
          - { value: schild, label: Schild }
      - id: umleitung
        label: Wohin wird umgeleitet?
        visible_if: stufen.contains(3)
  - id: ende
    title: Ende
    fields:
      - { id: notiz, label: Notiz, required: false }
"#;

#[test]
fn checkboxes_answer_with_a_list_of_their_options_values() {
    let run = probe(
        SEVERAL,
        r#"
name: Mehrere Antworten
steps:
  - step: aufbau
    answers: { stufen: [], sicherung: [schranke, leuchte, schild] }
    expect_errors:
      - { field: /stufen, message: "Bitte wählen Sie bei „Welche Stufen?“ mindestens eine Angabe aus." }
      - { field: /sicherung, message: "Bitte wählen Sie bei „Sicherung“ höchstens 2 Angaben aus." }
  - step: aufbau
    answers: { stufen: ["3", "1", "3", " "], sicherung: [leuchte, schranke] }
    expect_errors:
      - { field: /umleitung, message: "Bitte füllen Sie das Feld „Wohin wird umgeleitet?“ aus." }
  - step: aufbau
    answers: { stufen: ["2"], sicherung: [], umleitung: Nebenstraße }
    expect_at: ende
  - back: true
    expect_at: aufbau
  - step: aufbau
    answers: { stufen: ["3", "1"], sicherung: [leuchte, schranke], umleitung: Nebenstraße }
    expect_at: ende
  - step: ende
    answers: {}
    expect_at: review
expect:
  answers: { stufen: [1, 3], sicherung: [schranke, leuchte], umleitung: Nebenstraße }
  receipt_contains: ["Stufe eins, Stufe drei", "Schranke, Leuchte"]
"#,
    );
    assert!(run.passed(), "{:#?}", failures(&run));
}

#[test]
fn a_form_post_of_checkboxes_is_a_list_and_none_ticked_clears_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("workflows")).unwrap();
    std::fs::write(dir.path().join("workflows/probe.yaml"), SEVERAL).unwrap();
    let (lib, problems) = lotse_core::load_library(dir.path(), &Sandbox::default());
    assert!(problems.is_empty(), "{problems:#?}");
    let wf = lib.latest("probe").unwrap();
    let step = wf.step("aufbau").unwrap();
    let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let answers = lotse_core::form::answers_from_pairs(
        step,
        &pairs(&[("stufen", "1"), ("sicherung", "leuchte"), ("stufen", "3")]),
    );
    assert_eq!(answers["stufen"], serde_json::json!(["1", "3"]));
    assert_eq!(answers["sicherung"], serde_json::json!(["leuchte"]));
    // Nothing ticked sends nothing: the answer is an empty list, which clears the one before.
    let answers = lotse_core::form::answers_from_pairs(step, &pairs(&[]));
    assert_eq!(answers["stufen"], serde_json::json!([]));
}

/// A browser posts a text area's line breaks as CR LF; they are kept as one LF each, and a limit
/// on the length counts them so (eight characters here, not ten).
#[test]
fn a_text_areas_line_breaks_are_one_character_each() {
    let run = probe(
        r#"
id: probe
version: 1
title: Notiz
office: Amt
steps:
  - id: a
    title: A
    fields:
      - id: notiz
        label: Notiz
        widget: textarea
        schema: { type: string, maxLength: 8 }
"#,
        r#"
name: Zeilenumbrüche
steps:
  - step: a
    answers: { notiz: "ab\r\ncd\r\nef" }
    expect_at: review
expect:
  answers: { notiz: "ab\ncd\nef" }
"#,
    );
    assert!(run.passed(), "{:#?}", failures(&run));
}

/// Checkboxes inside a group and inside each entry of a repeated group: the posted boxes of
/// one entry collect into its own list, and the review lists their labels per entry.
#[test]
fn checkboxes_in_groups_answer_per_group_and_per_entry() {
    const WF: &str = r#"
id: probe
version: 1
title: Bäume
office: Umweltamt
steps:
  - id: a
    title: A
    fields:
      - id: antrag
        label: Antrag
        fields:
          - id: gruende
            label: Gründe
            widget: checkboxes
            options: [{ value: krank, label: Krank }, { value: sturm, label: Sturmschaden }]
      - id: baeume
        label: Bäume
        repeat: { min: 1, max: 3, item_label: Baum }
        fields:
          - { id: art, label: Art }
          - id: schaeden
            label: Schäden
            widget: checkboxes
            required: false
            options: [{ value: rinde, label: Rinde }, { value: krone, label: Krone }]
"#;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("workflows")).unwrap();
    std::fs::write(dir.path().join("workflows/probe.yaml"), WF).unwrap();
    let (lib, problems) = lotse_core::load_library(dir.path(), &Sandbox::default());
    assert!(problems.is_empty(), "{problems:#?}");
    let step = lib.latest("probe").unwrap().step("a").unwrap();
    let pairs: Vec<(String, String)> = [
        ("antrag.gruende", "sturm"),
        ("antrag.gruende", "krank"),
        ("baeume.0.art", "Eiche"),
        ("baeume.0.schaeden", "krone"),
        ("baeume.1.art", "Buche"),
        ("baeume.0.schaeden", "rinde"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let answers = lotse_core::form::answers_from_pairs(step, &pairs);
    assert_eq!(
        answers["antrag"],
        serde_json::json!({"gruende": ["sturm", "krank"]})
    );
    assert_eq!(
        answers["baeume"],
        serde_json::json!([{"art": "Eiche", "schaeden": ["krone", "rinde"]}, {"art": "Buche"}])
    );
    let run = probe(
        WF,
        r#"
name: Gründe und Schäden je Baum
steps:
  - step: a
    answers:
      antrag: { gruende: [sturm, krank] }
      baeume: [{ art: Eiche, schaeden: [krone, rinde] }, { art: Buche, schaeden: [] }]
    expect_at: review
expect:
  answers:
    antrag: { gruende: [krank, sturm] }
    baeume: [{ art: Eiche, schaeden: [rinde, krone] }, { art: Buche }]
  receipt_contains: ["Krank, Sturmschaden", "Rinde, Krone"]
"#,
    );
    assert!(run.passed(), "{:#?}", failures(&run));
}
