//! The two builds of the engine agree: every step of every scenario of the example workflows,
//! and answers generated for their fields, run through the native core (here) and through the
//! WebAssembly module (in Node, `tests/parity.mjs`); visibility, requirement, errors (field,
//! kind, message), computed values, texts and the next step must be the same, byte for byte.
//!
//! The module is `target/wasm/lotse_wasm.wasm` (built by `scripts/wasm/build.sh`) or
//! `LOTSE_WASM_MODULE`. Without it the test says so and passes, unless `LOTSE_REQUIRE_WASM` is
//! set (as in CI), when a missing module or Node fails it.
// A test: what fails, fails loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use lotse_core::definition::{Field, Widget};
use lotse_core::scenario::{Action, load_scenario, scenario_files, workflow_of};
use lotse_core::script::Sandbox;
use lotse_core::{Application, Command, Lang, Workflow, load_library};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The module and node, or `None` (with the reason printed) when the test cannot run here.
fn module() -> Option<PathBuf> {
    let file = std::env::var_os("LOTSE_WASM_MODULE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/wasm/lotse_wasm.wasm"));
    let node = Process::new("node").arg("--version").output().is_ok();
    let required = std::env::var_os("LOTSE_REQUIRE_WASM").is_some();
    if !file.is_file() || !node {
        let why = if node {
            format!(
                "no module at {} (run scripts/wasm/build.sh)",
                file.display()
            )
        } else {
            "node is not installed".to_string()
        };
        assert!(!required, "LOTSE_REQUIRE_WASM is set, but {why}");
        eprintln!("parity test skipped: {why}");
        return None;
    }
    Some(file)
}

/// Requests for both builds: loads (one per workflow version) and previews.
#[derive(Default)]
struct Cases {
    loads: Vec<String>,
    loaded: BTreeMap<String, ()>,
    previews: Vec<String>,
}

impl Cases {
    fn load(&mut self, wf: &Workflow) {
        if self.loaded.insert(wf.content_hash.clone(), ()).is_none() {
            let sources = wf.sources.parsed().unwrap();
            let req = json!({ "content_hash": wf.content_hash, "sources": sources });
            self.loads.push(req.to_string());
        }
    }

    fn preview(
        &mut self,
        wf: &Workflow,
        app: &Application,
        step: &str,
        values: Value,
        lang: Lang,
        now: OffsetDateTime,
    ) {
        let req = json!({
            "content_hash": wf.content_hash,
            "state": serde_json::to_value(app).unwrap(),
            "step": step,
            "values": values,
            "lang": lang,
            "now": now.format(&time::format_description::well_known::Rfc3339).unwrap(),
        });
        self.previews.push(req.to_string());
    }
}

/// Runs the cases natively and in the module; returns the number of previews compared and
/// every difference.
fn compare(module: &Path, cases: &Cases) -> (usize, Vec<String>) {
    let native_loads: Vec<String> = cases.loads.iter().map(|r| lotse_wasm::load(r)).collect();
    let native: Vec<String> = cases
        .previews
        .iter()
        .map(|r| lotse_wasm::preview(r))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cases.json");
    let body = json!({ "loads": cases.loads, "previews": cases.previews });
    std::fs::write(&file, body.to_string()).unwrap();
    let out = Process::new("node")
        .arg(repo().join("engine/wasm/tests/parity.mjs"))
        .arg(module)
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "node failed: {stderr}");
    eprintln!("WebAssembly: {}", stderr.trim());
    let wasm: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut diffs = Vec::new();
    for (i, n) in native_loads.iter().enumerate() {
        let w = wasm["loads"][i].as_str().unwrap_or_default();
        assert!(!n.contains("\"error\""), "native load failed: {n}");
        if n != w {
            diffs.push(format!("load {i}: native {n} / wasm {w}"));
        }
    }
    for (i, n) in native.iter().enumerate() {
        let w = wasm["previews"][i].as_str().unwrap_or_default();
        if n != w {
            diffs.push(format!(
                "preview {i}:\n  request {}\n  native  {n}\n  wasm    {w}",
                cases.previews[i]
            ));
        }
    }
    (native.len(), diffs)
}

/// A place in a scenario: the state before a step was answered, and the answers given there.
struct Stop {
    wf: std::sync::Arc<Workflow>,
    app: Application,
    step: String,
    answers: Map<String, Value>,
    now: OffsetDateTime,
}

/// Every scenario of the example workflows, replayed natively: the stops before each answer.
fn scenario_stops() -> Vec<Stop> {
    let sandbox = Sandbox::default();
    let (library, problems) = load_library(&repo(), &sandbox);
    assert!(
        problems.iter().all(|p| !p.is_error()),
        "the examples have errors: {problems:?}"
    );
    let mut stops = Vec::new();
    for file in scenario_files(&library) {
        let scenario = load_scenario(&file).unwrap();
        let wf = workflow_of(&library, &scenario).unwrap();
        let now = OffsetDateTime::new_utc(scenario.today, time::macros::time!(10:00));
        let mut app = Application::start(&wf, Lang::De, now);
        for (_, action) in &scenario.actions {
            let command = match action {
                Action::Answer {
                    step,
                    answers,
                    then_review,
                    ..
                } => {
                    stops.push(Stop {
                        wf: wf.clone(),
                        app: app.clone(),
                        step: step.clone(),
                        answers: answers.clone(),
                        now,
                    });
                    Command::Answer {
                        step: step.clone(),
                        values: answers.clone(),
                        then_review: *then_review,
                    }
                }
                Action::Back { .. } => Command::Back,
                Action::Goto { step, .. } => Command::Goto { step: step.clone() },
                Action::Review { .. } => Command::Review,
            };
            if let Ok(t) = app.apply(&wf, &sandbox, command, now) {
                app = t.state;
            }
        }
    }
    stops
}

#[test]
fn every_scenario_step_gives_the_same_preview_in_both_builds() {
    let Some(module) = module() else { return };
    let stops = scenario_stops();
    let mut cases = Cases::default();
    for s in &stops {
        cases.load(&s.wf);
        for lang in [Lang::De, Lang::En] {
            let values = Value::Object(s.answers.clone());
            cases.preview(&s.wf, &s.app, &s.step, values, lang, s.now);
        }
    }
    let (n, diffs) = compare(&module, &cases);
    eprintln!("{n} previews of {} scenario steps compared", stops.len());
    assert!(n >= 100, "too few steps compared: {n}");
    // The comparison must see the engine's judgments, not only empty answers.
    let rejected = lotse_previews(&cases)
        .filter(|p| p["errors"].as_array().is_some_and(|e| !e.is_empty()))
        .count();
    assert!(
        rejected >= 10,
        "too few refused steps among the cases: {rejected}"
    );
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

fn lotse_previews(cases: &Cases) -> impl Iterator<Item = Value> + '_ {
    cases
        .previews
        .iter()
        .map(|r| serde_json::from_str(&lotse_wasm::preview(r)).unwrap())
}

/// Values a citizen might type into `f`: nothing, empty, the scenario's own answer, text of
/// every kind, numbers, dates in both notations, IBANs right and wrong, the field's options
/// (for checkboxes also lists of them).
fn value_of(f: &Field, sample: Option<&Value>) -> BoxedStrategy<Option<Value>> {
    if f.files.is_some() {
        return Just(None).boxed();
    }
    if f.widget == Widget::Group {
        let subs: Vec<BoxedStrategy<Option<Value>>> = f
            .subfields
            .iter()
            .map(|sf| {
                value_of(
                    sf,
                    sample.and_then(|s| {
                        s.get(&sf.id)
                            .or_else(|| s.get(0).and_then(|e| e.get(&sf.id)))
                    }),
                )
            })
            .collect();
        let ids: Vec<String> = f.subfields.iter().map(|sf| sf.id.clone()).collect();
        let entry = subs.prop_map(move |vals| {
            let mut m = Map::new();
            for (id, v) in ids.iter().zip(vals) {
                if let Some(v) = v {
                    m.insert(id.clone(), v);
                }
            }
            Value::Object(m)
        });
        return if f.repeat.is_some() {
            prop::collection::vec(entry, 0..3)
                .prop_map(|v| Some(Value::Array(v)))
                .boxed()
        } else {
            prop_oneof![1 => Just(None), 6 => entry.prop_map(Some)].boxed()
        };
    }
    let mut kinds: Vec<BoxedStrategy<Option<Value>>> = vec![
        Just(None).boxed(),
        Just(Some(json!(""))).boxed(),
        "[a-zA-ZäöüßÄ0-9 .,/@+-]{0,14}"
            .prop_map(|s| Some(json!(s)))
            .boxed(),
        (-5i64..200).prop_map(|n| Some(json!(n))).boxed(),
        (-5i64..200)
            .prop_map(|n| Some(json!(n.to_string())))
            .boxed(),
        any::<bool>().prop_map(|b| Some(json!(b))).boxed(),
        (2020i32..2030, 1u8..13, 1u8..32)
            .prop_map(|(y, m, d)| Some(json!(format!("{y}-{m:02}-{d:02}"))))
            .boxed(),
        (1u8..32, 1u8..13, 1970i32..2030)
            .prop_map(|(d, m, y)| Some(json!(format!("{d:02}.{m:02}.{y}"))))
            .boxed(),
        prop::sample::select(vec![
            "DE89 3704 0044 0532 0130 00",
            "DE89370400440532013001",
            "DE00123",
            "52525",
            "HS-AB 123",
            "jan@example.org",
        ])
        .prop_map(|s| Some(json!(s)))
        .boxed(),
    ];
    if let Some(s) = sample {
        kinds.push(Just(Some(s.clone())).boxed());
        kinds.push(Just(Some(s.clone())).boxed());
    }
    // Checkboxes: lists of the options' values and their texts, repeated, with a stranger.
    if f.widget == Widget::Checkboxes {
        let mut pool: Vec<Value> = f.options.iter().map(|o| o.value.clone()).collect();
        pool.extend(f.options.iter().map(|o| match &o.value {
            Value::String(s) => json!(format!(" {s}")),
            other => json!(other.to_string()),
        }));
        pool.push(json!("fremd"));
        let lists = prop::collection::vec(prop::sample::select(pool), 0..5)
            .prop_map(|v| Some(Value::Array(v)))
            .boxed();
        kinds.push(lists.clone());
        kinds.push(lists);
    }
    if !f.options.is_empty() {
        let opts: Vec<Value> = f.options.iter().map(|o| o.value.clone()).collect();
        let texts: Vec<Value> = opts
            .iter()
            .map(|v| match v {
                Value::String(s) => json!(s),
                other => json!(other.to_string()),
            })
            .collect();
        kinds.push(prop::sample::select(opts).prop_map(Some).boxed());
        kinds.push(prop::sample::select(texts).prop_map(Some).boxed());
    }
    prop::strategy::Union::new(kinds).boxed()
}

#[test]
fn generated_answers_give_the_same_preview_in_both_builds() {
    let Some(module) = module() else { return };
    let stops = scenario_stops();
    let cases = RefCell::new(Cases::default());
    // One stop per workflow version and step: the first state that reached it.
    let mut seen = BTreeMap::new();
    let mut generated = 0;
    for s in &stops {
        if seen
            .insert((s.wf.content_hash.clone(), s.step.clone()), ())
            .is_some()
        {
            continue;
        }
        let Some(step) = s.wf.step(&s.step) else {
            continue;
        };
        cases.borrow_mut().load(&s.wf);
        let strategy: Vec<BoxedStrategy<Option<Value>>> = step
            .fields
            .iter()
            .map(|f| value_of(f, s.answers.get(&f.id)))
            .collect();
        let ids: Vec<String> = step.fields.iter().map(|f| f.id.clone()).collect();
        let mut runner = TestRunner::new_with_rng(
            Config {
                cases: 40,
                failure_persistence: None,
                ..Config::default()
            },
            TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
        );
        runner
            .run(&strategy, |vals| {
                let mut values = Map::new();
                for (id, v) in ids.iter().zip(vals) {
                    if let Some(v) = v {
                        values.insert(id.clone(), v);
                    }
                }
                cases.borrow_mut().preview(
                    &s.wf,
                    &s.app,
                    &s.step,
                    Value::Object(values),
                    Lang::De,
                    s.now,
                );
                Ok(())
            })
            .unwrap();
        generated += 40;
    }
    let cases = cases.into_inner();
    let (n, diffs) = compare(&module, &cases);
    eprintln!("{n} generated previews compared ({generated} generated)");
    assert!(n >= 400, "too few generated cases: {n}");
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}
