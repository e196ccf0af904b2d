//! The scenario file format: typed, `deny_unknown_fields`, parsed with serde-saphyr like the
//! workflows, with positions so that every failure points at file:line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};
use serde_saphyr::Spanned;
use time::Date;

use crate::definition::files::read_text;
use crate::problem::{Pos, Problem};

/// One scenario: a citizen going through one workflow, and what must come out.
#[derive(Debug)]
pub struct Scenario {
    pub file: PathBuf,
    pub name: String,
    /// The workflow id; `None`: the workflow in the folder above `scenarios/`.
    pub workflow: Option<String>,
    /// The version; `None`: the newest.
    pub version: Option<u32>,
    /// The tenant whose workflow runs (with its override applied); `None`: the workflow as
    /// written.
    pub tenant: Option<(Pos, String)>,
    pub today: Date,
    pub actions: Vec<(Pos, Action)>,
    pub expect: Option<(Pos, Expectations)>,
}

/// One thing the citizen does.
#[derive(Debug)]
pub enum Action {
    /// Answers a step; without `expect_errors` the answers must be accepted.
    Answer {
        step: String,
        answers: Map<String, Value>,
        then_review: bool,
        expect_errors: Option<Vec<(Pos, ExpectedError)>>,
        expect_at: Option<String>,
    },
    Back {
        expect_at: Option<String>,
    },
    Goto {
        step: String,
        expect_at: Option<String>,
    },
    /// Asks for the review page; with `expect_missing` it must be refused for that step.
    Review {
        expect_missing: Option<String>,
    },
}

impl Action {
    /// A short name for messages: `step "hunde"`, `back`.
    pub fn describe(&self) -> String {
        match self {
            Action::Answer { step, .. } => format!("step \"{step}\""),
            Action::Back { .. } => "back".into(),
            Action::Goto { step, .. } => format!("goto \"{step}\""),
            Action::Review { .. } => "review".into(),
        }
    }
}

/// An error the engine must report: at a pointer (`/hunde/0/name`) or a field id, with the
/// exact message if one is given.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedError {
    pub field: String,
    pub message: Option<String>,
}

/// What must hold at the end.
#[derive(Debug, Default)]
pub struct Expectations {
    pub path: Option<(Pos, Vec<String>)>,
    pub at: Option<(Pos, String)>,
    pub answers: Vec<(Pos, String, Value)>,
    pub computed: Vec<(Pos, String, Value)>,
    pub submitted: Option<(Pos, bool)>,
    /// The statements of the declaration ticked when sending; `None`: all of them.
    pub declare: Option<(Pos, Vec<String>)>,
    pub receipt_contains: Vec<(Pos, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    workflow: Option<String>,
    version: Option<u32>,
    tenant: Option<Spanned<String>>,
    today: Option<Spanned<String>>,
    steps: Vec<Spanned<RawAction>>,
    expect: Option<Spanned<RawExpect>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAction {
    step: Option<String>,
    answers: Option<Map<String, Value>>,
    #[serde(default)]
    then_review: bool,
    expect_errors: Option<Vec<Spanned<RawError>>>,
    expect_at: Option<String>,
    back: Option<bool>,
    goto: Option<String>,
    review: Option<bool>,
    expect_missing: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawError {
    field: String,
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    path: Option<Spanned<Vec<String>>>,
    at: Option<Spanned<String>>,
    answers: Option<BTreeMap<String, Spanned<Value>>>,
    computed: Option<BTreeMap<String, Spanned<Value>>>,
    submitted: Option<Spanned<bool>>,
    declare: Option<Spanned<Vec<String>>>,
    receipt_contains: Option<Vec<Spanned<String>>>,
}

fn pos<T>(s: &Spanned<T>) -> Pos {
    Pos::from(s.referenced)
}

/// Reads and checks one scenario file. Problems carry the code `LOT-E060`.
/// Turns `{file: fixtures/mietvertrag.pdf}` (or a list of them) in a scenario's answers into
/// the entry a file field holds, as the server would after the upload: the file is read
/// (relative to the scenario file), judged from its bytes and hashed. A kind Lotse does not
/// know gets the type `application/octet-stream`, which every file field refuses, so a
/// scenario can expect that error.
fn attach_fixtures(scenario: &Path, v: &mut Value) -> Result<(), String> {
    let fixture = |o: &Map<String, Value>| -> Option<String> {
        (o.len() == 1)
            .then(|| o.get("file").and_then(Value::as_str).map(str::to_string))
            .flatten()
    };
    match v {
        Value::Object(o) if fixture(o).is_some() => {
            let rel = fixture(o).unwrap_or_default();
            *v = Value::Array(vec![fixture_entry(scenario, &rel)?]);
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                if let Value::Object(o) = item
                    && let Some(rel) = fixture(o)
                {
                    *item = fixture_entry(scenario, &rel)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// The most bytes a scenario fixture may have (they are read whole).
const FIXTURE_MAX: u64 = 8 * 1024 * 1024;

fn fixture_entry(scenario: &Path, rel: &str) -> Result<Value, String> {
    use sha2::{Digest, Sha256};
    let dir = scenario.parent().unwrap_or(Path::new("."));
    let file = dir.join(rel);
    let meta = std::fs::metadata(&file)
        .map_err(|e| format!("the fixture file {} cannot be read: {e}", file.display()))?;
    if meta.len() > FIXTURE_MAX {
        return Err(format!(
            "the fixture file {} has {} bytes; fixtures may have at most {FIXTURE_MAX}",
            file.display(),
            meta.len()
        ));
    }
    let bytes = std::fs::read(&file)
        .map_err(|e| format!("the fixture file {} cannot be read: {e}", file.display()))?;
    let head = &bytes[..bytes.len().min(crate::files::sniff::HEAD)];
    let tail = &bytes[bytes.len().saturating_sub(crate::files::sniff::TAIL)..];
    let media_type = match crate::files::sniff::sniff(head, tail) {
        crate::files::Sniffed::Ok(k) => k.mime(),
        _ => "application/octet-stream",
    };
    let hash: [u8; 32] = Sha256::digest(&bytes).into();
    let sha256: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    let name = file
        .file_name()
        .map(|n| crate::files::display_name(&n.to_string_lossy()))
        .unwrap_or_else(|| "Datei".into());
    Ok(serde_json::json!({
        "name": name, "type": media_type, "size": bytes.len(), "sha256": sha256, "scan": "clean"
    }))
}

pub fn load_scenario(path: &Path) -> Result<Scenario, Problem> {
    let text = read_text(path)?;
    parse_scenario(path, &text)
}

pub(crate) fn parse_scenario(path: &Path, text: &str) -> Result<Scenario, Problem> {
    // Answers are what a form would send: `no` stays the text "no", a postcode `01067` stays
    // text instead of becoming the number 1067.
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.leading_zero_numbers_as_strings = true;
    let raw: RawScenario = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let at = e.location().map(Pos::from).unwrap_or_default();
        let full = e.without_snippet().to_string();
        let first = full.lines().next().unwrap_or_default();
        let message = match first.find(" at line ") {
            Some(i) => &first[..i],
            None => first,
        };
        Problem::error("LOT-E060", path, at, format!("scenario: {message}"))
            .with_help("docs/scenarios.md lists every key of a scenario file")
    })?;
    let problem = |at: Pos, message: String| Problem::error("LOT-E060", path, at, message);

    let today = match &raw.today {
        Some(t) => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            Date::parse(t.value.trim(), &format).map_err(|_| {
                problem(
                    pos(t),
                    format!(
                        "`today` must be a date like 2026-11-28, not \"{}\"",
                        t.value
                    ),
                )
            })?
        }
        None => super::DEFAULT_TODAY,
    };

    let mut actions = Vec::new();
    for a in raw.steps {
        let at = pos(&a);
        let r = a.value;
        let kinds = [
            r.step.is_some(),
            r.back.is_some(),
            r.goto.is_some(),
            r.review.is_some(),
        ]
        .iter()
        .filter(|k| **k)
        .count();
        if kinds != 1 {
            return Err(problem(
                at,
                "each entry of `steps` is one of `step: <id>` (with `answers`), `back: true`, `goto: <id>` or `review: true`".into(),
            ));
        }
        let has_missing = r.expect_missing.is_some();
        let only_answer = r.answers.is_some() || r.then_review || r.expect_errors.is_some();
        let action = if let Some(step) = r.step {
            if r.expect_missing.is_some() {
                return Err(problem(
                    at,
                    "`expect_missing` belongs to `review: true`".into(),
                ));
            }
            let mut answers = r.answers.unwrap_or_default();
            for v in answers.values_mut() {
                attach_fixtures(path, v).map_err(|m| problem(at, m))?;
            }
            Action::Answer {
                step,
                answers,
                then_review: r.then_review,
                // `expect_errors: []` means no errors: the answers must be accepted.
                expect_errors: r.expect_errors.filter(|e| !e.is_empty()).map(|errs| {
                    errs.into_iter()
                        .map(|e| {
                            (
                                pos(&e),
                                ExpectedError {
                                    field: e.value.field,
                                    message: e.value.message,
                                },
                            )
                        })
                        .collect()
                }),
                expect_at: r.expect_at,
            }
        } else if only_answer {
            return Err(problem(
                at,
                "`answers`, `then_review` and `expect_errors` belong to `step: <id>`".into(),
            ));
        } else if let Some(back) = r.back {
            if !back {
                return Err(problem(
                    at,
                    "write `back: true` or leave the entry out".into(),
                ));
            }
            Action::Back {
                expect_at: r.expect_at,
            }
        } else if let Some(step) = r.goto {
            Action::Goto {
                step,
                expect_at: r.expect_at,
            }
        } else {
            if r.review != Some(true) {
                return Err(problem(
                    at,
                    "write `review: true` or leave the entry out".into(),
                ));
            }
            if r.expect_at.is_some() {
                return Err(problem(
                    at,
                    "`review: true` leads to the review page; use `expect_missing: <step>` when it must not".into(),
                ));
            }
            Action::Review {
                expect_missing: r.expect_missing,
            }
        };
        if !matches!(action, Action::Review { .. }) && has_missing {
            return Err(problem(
                at,
                "`expect_missing` belongs to `review: true`".into(),
            ));
        }
        actions.push((at, action));
    }

    let expect = raw.expect.map(|e| {
        let at = pos(&e);
        let r = e.value;
        let spanned_map = |m: Option<BTreeMap<String, Spanned<Value>>>| {
            m.unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (pos(&v), k, v.value))
                .collect()
        };
        (
            at,
            Expectations {
                path: r.path.map(|p| (pos(&p), p.value)),
                at: r.at.map(|p| (pos(&p), p.value)),
                answers: spanned_map(r.answers),
                computed: spanned_map(r.computed),
                submitted: r.submitted.map(|s| (pos(&s), s.value)),
                declare: r.declare.map(|d| (pos(&d), d.value)),
                receipt_contains: r
                    .receipt_contains
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| (pos(&s), s.value))
                    .collect(),
            },
        )
    });

    Ok(Scenario {
        file: path.to_path_buf(),
        name: raw.name,
        workflow: raw.workflow,
        version: raw.version,
        tenant: raw.tenant.map(|t| (pos(&t), t.value)),
        today,
        actions,
        expect,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn parse(text: &str) -> Result<Scenario, Problem> {
        parse_scenario(Path::new("s.yaml"), text)
    }

    #[test]
    fn every_kind_of_entry_parses_with_its_line() {
        let s = parse(
            "name: x\nsteps:\n  - step: a\n    answers: { n: 1, t: nein, d: \"2026-11-01\" }\n  - back: true\n  - goto: a\n  - review: true\n    expect_missing: b\n",
        )
        .unwrap();
        assert_eq!(s.today, crate::scenario::DEFAULT_TODAY);
        let lines: Vec<usize> = s.actions.iter().map(|(p, _)| p.line).collect();
        assert_eq!(lines, [3, 5, 6, 7]);
        let Action::Answer { answers, .. } = &s.actions[0].1 else {
            panic!("not an answer")
        };
        assert_eq!(answers["n"], serde_json::json!(1));
        assert_eq!(answers["t"], serde_json::json!("nein"));
        assert_eq!(answers["d"], serde_json::json!("2026-11-01"));
        assert!(matches!(&s.actions[3].1, Action::Review { expect_missing: Some(m) } if m == "b"));
    }

    #[test]
    fn an_entry_with_two_kinds_is_refused_at_its_line() {
        let p = parse("name: x\nsteps:\n  - step: a\n    back: true\n").unwrap_err();
        assert_eq!((p.code, p.line), ("LOT-E060", 3));
    }

    #[test]
    fn a_wrong_day_is_refused() {
        let p = parse("name: x\ntoday: 28.11.2026\nsteps: []\n").unwrap_err();
        assert_eq!(p.line, 2);
        assert!(p.message.contains("2026-11-28"), "{}", p.message);
    }

    #[test]
    fn yaml_1_1_words_and_postcodes_stay_text() {
        let s = parse(
            "name: x\nsteps:\n  - step: a\n    answers: { a: no, b: on, plz: 01067, ok: true }\n",
        )
        .unwrap();
        let Action::Answer { answers, .. } = &s.actions[0].1 else {
            panic!("not an answer")
        };
        assert_eq!(answers["a"], serde_json::json!("no"));
        assert_eq!(answers["b"], serde_json::json!("on"));
        assert_eq!(answers["plz"], serde_json::json!("01067"));
        assert_eq!(answers["ok"], serde_json::json!(true));
    }
}
