//! Engine benchmarks: answering one step of 30 fields with 10 rhai conditions (validate,
//! evaluate, choose next), and loading and checking all example workflows.
//!
//! Run: `cargo bench -p lotse-core --bench engine`
//!
//! With the allocator the server runs with (mimalloc, `server/src/main.rs`): the step answer
//! allocates and frees many small values, so the allocator is part of what a citizen waits for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::fmt::Write;
use std::path::Path;

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use lotse_core::problem::Severity;
use lotse_core::script::Sandbox;
use lotse_core::{Application, Command, Lang, load_library};
use serde_json::{Map, Value, json};
use time::macros::datetime;

/// A workflow whose first step has 30 fields, 10 of them with a `visible_if`, and a branch.
fn synthetic_workflow() -> String {
    let mut y = String::from(
        "id: bench\nversion: 1\ntitle: Benchmark\noffice: Amt\nsteps:\n  - id: gross\n    title: Dreißig Felder\n    fields:\n",
    );
    for i in 0..30 {
        let (widget, schema) = match i % 5 {
            0 => ("text", "{ type: string, minLength: 1, maxLength: 100 }"),
            1 => ("number", "{ type: integer, minimum: 0, maximum: 1000 }"),
            2 => ("date", "{ type: string, format: date }"),
            3 => ("text", "{ $ref: \"formats.json#/$defs/plz\" }"),
            _ => ("text", "{ type: string, pattern: \"^[A-Z][a-z]+$\" }"),
        };
        writeln!(y, "      - id: f{i}\n        label: Feld {i}\n        widget: {widget}\n        schema: {schema}").unwrap();
        if i >= 20 {
            // 10 conditions that read earlier answers.
            writeln!(
                y,
                "        visible_if: f{} >= 0 && f0 != \"\"",
                (i - 20) / 5 * 5 + 1
            )
            .unwrap();
        }
    }
    y.push_str("    next:\n      - if: f1 > 500\n        goto: ende\n      - goto: mitte\n");
    y.push_str("  - id: mitte\n    title: Mitte\n  - id: ende\n    title: Ende\n");
    y
}

fn answers() -> Map<String, Value> {
    let mut m = Map::new();
    for i in 0..30 {
        let v = match i % 5 {
            0 => json!("Ein Text"),
            1 => json!(42),
            2 => json!("2026-01-15"),
            3 => json!("52525"),
            _ => json!("Heinsberg"),
        };
        m.insert(format!("f{i}"), v);
    }
    m
}

fn bench_answer(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bench.yaml");
    std::fs::write(&file, synthetic_workflow()).unwrap();
    // Use the repository's forms for the $ref.
    let project = dir.path();
    std::fs::create_dir(project.join("forms")).unwrap();
    let forms = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../forms");
    for e in std::fs::read_dir(forms).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, project.join("forms").join(p.file_name().unwrap())).unwrap();
    }
    let sandbox = Sandbox::default();
    let (lib, problems) = load_library(&file, &sandbox);
    // German-only texts are a warning (LOT-E148), which does not change what is measured.
    assert!(
        problems.iter().all(|p| p.severity == Severity::Warning),
        "{problems:#?}"
    );
    let wf = lib.latest("bench").unwrap().clone();
    let now = datetime!(2026-11-28 10:00 UTC);
    let app = Application::start(&wf, Lang::De, now);
    let values = answers();
    // Check once that the step is accepted, so the benchmark measures the happy path.
    let t = app
        .apply(
            &wf,
            &sandbox,
            Command::Answer {
                step: "gross".into(),
                values: values.clone(),
                then_review: false,
            },
            now,
        )
        .unwrap();
    assert!(
        matches!(t.outcome, lotse_core::Outcome::Moved { .. }),
        "{:?}",
        t.outcome
    );

    // Building the command (a copy of the posted answers) is the caller's work: not timed.
    c.bench_function("answer_step_30_fields_10_conditions", |b| {
        b.iter_batched(
            || Command::Answer {
                step: "gross".into(),
                values: values.clone(),
                then_review: false,
            },
            |cmd| black_box(app.apply(&wf, &sandbox, cmd, now).unwrap()),
            criterion::BatchSize::SmallInput,
        )
    });
}

/// Baseline in the same run: only validating the same 30 answers against one JSON Schema object,
/// no scripts, no state. The engine's answer costs a small multiple of this floor.
fn bench_baseline(c: &mut Criterion) {
    let mut props = Map::new();
    for i in 0..30 {
        let s = match i % 5 {
            0 => json!({"type": "string", "minLength": 1, "maxLength": 100}),
            1 => json!({"type": "integer", "minimum": 0, "maximum": 1000}),
            2 => json!({"type": "string", "format": "date"}),
            3 => json!({"type": "string", "pattern": "^[0-9]{5}$"}),
            _ => json!({"type": "string", "pattern": "^[A-Z][a-z]+$"}),
        };
        props.insert(format!("f{i}"), s);
    }
    let schema = json!({"type": "object", "properties": props});
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let instance = Value::Object(answers());
    assert!(validator.is_valid(&instance));
    c.bench_function("baseline_validate_30_fields_only", |b| {
        b.iter(|| black_box(validator.is_valid(black_box(&instance))))
    });
}

fn bench_load(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let sandbox = Sandbox::default();
    c.bench_function("load_and_check_all_examples", |b| {
        b.iter(|| {
            let (lib, problems) = load_library(&root, &sandbox);
            assert!(problems.iter().all(|p| !p.is_error()));
            black_box(lib)
        })
    });
}

criterion_group!(benches, bench_baseline, bench_answer, bench_load);
criterion_main!(benches);
