//! Running one scenario against the real state machine.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;
use time::OffsetDateTime;

use super::coverage::CoverageSet;
use super::format::{Action, Expectations, ExpectedError, Scenario};
use crate::application::{ApplyError, Position, ReviewView, format_value};
use crate::definition::{Library, Workflow};
use crate::form::FieldError;
use crate::problem::Pos;
use crate::script::Sandbox;
use crate::text::Lang;
use crate::{Application, Command, Outcome, Submission};

/// The result of one scenario.
#[derive(Debug)]
pub struct ScenarioResult {
    pub file: PathBuf,
    pub name: String,
    /// `id@version` of the workflow it ran on (and the tenant whose override applied), if it
    /// could be found.
    pub workflow: Option<String>,
    pub failures: Vec<Failure>,
    /// Every message a step of the scenario got when its answers were rejected, in order, as
    /// the citizen reads them (`lotse test --show-messages`), so that designers can copy them
    /// into `expect_errors`.
    pub messages: Vec<StepMessages>,
}

/// The messages of one rejected answer of a scenario.
#[derive(Clone, Debug)]
pub struct StepMessages {
    /// Where the step entry is in the scenario file.
    pub at: Pos,
    pub step: String,
    /// (pointer, message) of each error.
    pub errors: Vec<(String, String)>,
}

impl ScenarioResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// One thing that did not come out as the scenario says.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// Where in the scenario file: the step entry or the expectation.
    pub at: Pos,
    /// What was being checked: `step 3 (step "hunde")`, `expect.computed.jahressteuer`.
    pub context: String,
    pub message: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
}

impl Failure {
    fn new(at: Pos, context: impl Into<String>, message: impl Into<String>) -> Failure {
        Failure {
            at,
            context: context.into(),
            message: message.into(),
            expected: None,
            actual: None,
        }
    }

    fn diff(mut self, expected: impl Into<String>, actual: impl Into<String>) -> Failure {
        self.expected = Some(expected.into());
        self.actual = Some(actual.into());
        self
    }
}

/// Runs one scenario. Stops at the first step that goes wrong (what follows would only report
/// its consequences); the expectations at the end are all checked.
pub fn run(
    library: &Library,
    sandbox: &Sandbox,
    scenario: &Scenario,
    coverage: &mut CoverageSet,
) -> ScenarioResult {
    let mut result = ScenarioResult {
        file: scenario.file.clone(),
        name: scenario.name.clone(),
        workflow: None,
        failures: Vec::new(),
        messages: Vec::new(),
    };
    let wf = match find_workflow(library, scenario) {
        Ok(wf) => wf,
        Err((at, message)) => {
            result.failures.push(Failure::new(at, "workflow", message));
            return result;
        }
    };
    result.workflow = Some(match &wf.tenant {
        Some(t) => format!("{} as {t} runs it", wf.key()),
        None => wf.key(),
    });
    let now = OffsetDateTime::new_utc(scenario.today, time::macros::time!(10:00));
    let mut app = Application::start(&wf, Lang::De, now);
    coverage.observe(&wf, &app, None, None);

    for (n, (at, action)) in scenario.actions.iter().enumerate() {
        let context = format!("step {} ({})", n + 1, action.describe());
        match perform(&wf, sandbox, &app, action, now) {
            Ok((next, outcome, command)) => {
                coverage.observe(&wf, &next, Some(&command), Some(&outcome));
                if let Outcome::Rejected { step, errors } = &outcome {
                    result.messages.push(StepMessages {
                        at: *at,
                        step: step.clone(),
                        errors: errors
                            .iter()
                            .map(|e| (e.pointer.clone(), e.message.clone()))
                            .collect(),
                    });
                }
                let failures = check_action(action, *at, &context, &app, &next, &outcome);
                app = next;
                if !failures.is_empty() {
                    result.failures.extend(failures);
                    return result;
                }
            }
            Err(message) => {
                result.failures.push(Failure::new(*at, context, message));
                return result;
            }
        }
    }

    if let Some((at, expect)) = &scenario.expect {
        result.failures.extend(check_expectations(
            &wf, sandbox, &mut app, *at, expect, now, coverage,
        ));
    }
    result
}

/// The workflow a scenario runs on: the one named (or beside it), as its tenant runs it.
pub fn workflow_of(library: &Library, scenario: &Scenario) -> Result<Arc<Workflow>, String> {
    find_workflow(library, scenario).map_err(|(_, m)| m)
}

fn find_workflow(library: &Library, scenario: &Scenario) -> Result<Arc<Workflow>, (Pos, String)> {
    let wf = find_base_workflow(library, scenario).map_err(|m| (Pos::new(1, 1), m))?;
    match &scenario.tenant {
        None => Ok(wf),
        Some((at, tenant)) => {
            if !library.is_known_tenant(tenant) {
                return Err((*at, format!("there is no tenant \"{tenant}\"")));
            }
            library
                .for_tenant(tenant, &wf.id, wf.version)
                .cloned()
                .ok_or_else(|| (*at, format!("tenant \"{tenant}\" has no {}", wf.key())))
        }
    }
}

fn find_base_workflow(library: &Library, scenario: &Scenario) -> Result<Arc<Workflow>, String> {
    let id = match &scenario.workflow {
        Some(id) => id.clone(),
        None => {
            // The workflow in the folder above `scenarios/`.
            let folder = scenario.file.parent().and_then(|p| p.parent());
            let here: Vec<&Arc<Workflow>> = library
                .all()
                .filter(|wf| wf.source.parent() == folder)
                .collect();
            match here.as_slice() {
                [] => {
                    return Err(
                        "no workflow beside this scenarios folder; name it with `workflow:`".into(),
                    );
                }
                [first, rest @ ..] => {
                    if rest.iter().any(|w| w.id != first.id) {
                        return Err(
                            "this folder holds several workflows; name one with `workflow:`".into(),
                        );
                    }
                    first.id.clone()
                }
            }
        }
    };
    let found = match scenario.version {
        Some(v) => library.version(&id, v),
        None => library.latest(&id),
    };
    found.cloned().ok_or_else(|| match scenario.version {
        Some(v) => format!("there is no workflow \"{id}\" version {v}"),
        None => format!("there is no workflow \"{id}\""),
    })
}

fn perform(
    wf: &Workflow,
    sandbox: &Sandbox,
    app: &Application,
    action: &Action,
    now: OffsetDateTime,
) -> Result<(Application, Outcome, Command), String> {
    let command = match action {
        Action::Answer {
            step,
            answers,
            then_review,
            ..
        } => Command::Answer {
            step: step.clone(),
            values: answers.clone(),
            then_review: *then_review,
        },
        Action::Back { .. } => Command::Back,
        Action::Goto { step, .. } => Command::Goto { step: step.clone() },
        Action::Review { .. } => Command::Review,
    };
    let t = app
        .apply(wf, sandbox, command.clone(), now)
        .map_err(|e| format!("the engine refused the command: {e}{}", hint(wf, &e)))?;
    Ok((t.state, t.outcome, command))
}

/// For answers to fields the step does not have: the step that asks each, or the field of the
/// step its name is close to (` (\`datumm\`: did you mean \`datum\`?)`).
#[cfg(not(target_family = "wasm"))]
fn hint(wf: &Workflow, e: &ApplyError) -> String {
    let ApplyError::UnknownFields(step, names) = e else {
        return String::new();
    };
    let names: Vec<&str> = names.split(", ").collect();
    let hints: Vec<String> = wf
        .unknown_field_hints(step, &names)
        .into_iter()
        .map(|h| match h.hint {
            crate::definition::Hint::AskedOn(other) => {
                format!("`{}` is asked on step \"{other}\"", h.field)
            }
            crate::definition::Hint::DidYouMean(close) => {
                format!("`{}`: did you mean `{close}`?", h.field)
            }
        })
        .collect();
    if hints.is_empty() {
        String::new()
    } else {
        format!(" ({})", hints.join("; "))
    }
}

/// The browser runs no scenarios.
#[cfg(target_family = "wasm")]
fn hint(_: &Workflow, _: &ApplyError) -> String {
    String::new()
}

/// `halter`, `review`, `submitted`.
fn position_label(p: &Position) -> String {
    match p {
        Position::Step(s) => s.clone(),
        Position::Review => "review".into(),
        Position::Submitted => "submitted".into(),
    }
}

fn error_lines(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.pointer, e.message))
        .collect::<Vec<_>>()
        .join("\n")
}

fn check_action(
    action: &Action,
    at: Pos,
    context: &str,
    before: &Application,
    after: &Application,
    outcome: &Outcome,
) -> Vec<Failure> {
    let mut out = Vec::new();
    let expect_at = match action {
        Action::Answer {
            expect_errors: Some(expected),
            ..
        } => {
            match outcome {
                Outcome::Rejected { errors, .. } => {
                    if !errors_match(expected, errors) {
                        let exp = expected
                            .iter()
                            .map(|(_, e)| match &e.message {
                                Some(m) => format!("{}: {m}", e.field),
                                None => format!("{}: (any message)", e.field),
                            })
                            .collect::<Vec<_>>()
                            .join("\n");
                        let first = expected.first().map(|(p, _)| *p).unwrap_or(at);
                        out.push(
                            Failure::new(
                                first,
                                context,
                                "the answers were rejected with other errors",
                            )
                            .diff(exp, error_lines(errors)),
                        );
                    }
                    if before.answers != after.answers || before.position != after.position {
                        out.push(Failure::new(
                            at,
                            context,
                            "a rejected answer changed the application",
                        ));
                    }
                }
                other => out.push(
                    Failure::new(
                        at,
                        context,
                        "the answers were accepted, but errors were expected",
                    )
                    .diff("rejected", describe_outcome(other)),
                ),
            }
            return out;
        }
        Action::Answer { expect_at, .. } => {
            if let Outcome::Rejected { errors, .. } = outcome {
                out.push(
                    Failure::new(at, context, "the answers were rejected")
                        .diff("accepted", error_lines(errors)),
                );
                return out;
            }
            expect_at
        }
        Action::Back { expect_at } | Action::Goto { expect_at, .. } => expect_at,
        Action::Review { expect_missing } => {
            match (expect_missing, outcome) {
                (
                    None,
                    Outcome::Moved {
                        to: Position::Review,
                    },
                ) => {}
                (Some(m), Outcome::Incomplete { missing }) if m == missing => {}
                (None, other) => out.push(
                    Failure::new(at, context, "the review page was refused")
                        .diff("review", describe_outcome(other)),
                ),
                (Some(m), other) => out.push(
                    Failure::new(at, context, "the review page should have been refused")
                        .diff(format!("missing \"{m}\""), describe_outcome(other)),
                ),
            }
            return out;
        }
    };
    if let Some(want) = expect_at {
        let got = position_label(&after.position);
        if &got != want {
            out.push(
                Failure::new(at, context, "the assistant is somewhere else")
                    .diff(want.clone(), got),
            );
        }
    }
    out
}

fn describe_outcome(o: &Outcome) -> String {
    match o {
        Outcome::Moved { to } => format!("moved to {}", position_label(to)),
        Outcome::Rejected { errors, .. } => format!("rejected:\n{}", error_lines(errors)),
        Outcome::Incomplete { missing } => {
            format!("incomplete: \"{missing}\" must be answered first")
        }
        Outcome::Submitted { .. } => "submitted".into(),
    }
}

/// Every expected error is reported, and nothing else.
fn errors_match(expected: &[(Pos, ExpectedError)], actual: &[FieldError]) -> bool {
    if expected.len() != actual.len() {
        return false;
    }
    let mut used = vec![false; actual.len()];
    expected.iter().all(|(_, e)| {
        let found = actual.iter().enumerate().position(|(i, a)| {
            !used[i]
                && (if e.field.starts_with('/') {
                    a.pointer == e.field
                } else {
                    a.field == e.field && a.pointer == format!("/{}", e.field)
                })
                && e.message.as_ref().is_none_or(|m| m == &a.message)
        });
        match found {
            Some(i) => {
                used[i] = true;
                true
            }
            None => false,
        }
    })
}

/// Numbers compare by value (`96` equals `96.0`); a string may also match the value as the
/// citizen reads it (`"96,00 €"`).
fn value_matches(expected: &Value, actual: &Value, shown: Option<&str>) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::String(s), _) if shown == Some(s.as_str()) => true,
        _ => expected == actual,
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[allow(clippy::too_many_arguments)]
fn check_expectations(
    wf: &Workflow,
    sandbox: &Sandbox,
    app: &mut Application,
    at: Pos,
    expect: &Expectations,
    now: OffsetDateTime,
    coverage: &mut CoverageSet,
) -> Vec<Failure> {
    let mut out = Vec::new();
    let mut submission: Option<Submission> = None;
    if let Some((p, want)) = expect.submitted {
        // A citizen who sends ticks the whole declaration, unless the scenario says otherwise.
        let declared = match &expect.declare {
            Some((_, ids)) => ids.clone(),
            None => wf.declaration.iter().map(|s| s.id.clone()).collect(),
        };
        let submit = Command::Submit { declared };
        match app.apply(wf, sandbox, submit.clone(), now) {
            Ok(t) => {
                coverage.observe(wf, &t.state, Some(&submit), Some(&t.outcome));
                match (&t.outcome, want) {
                    (Outcome::Submitted { submission: s }, true) => {
                        submission = Some((**s).clone())
                    }
                    (Outcome::Submitted { .. }, false) => out.push(
                        Failure::new(p, "expect.submitted", "the application could be submitted")
                            .diff("not submitted", "submitted"),
                    ),
                    (other, true) => out.push(
                        Failure::new(
                            p,
                            "expect.submitted",
                            "the application could not be submitted",
                        )
                        .diff("submitted", describe_outcome(other)),
                    ),
                    (_, false) => {}
                }
                if want {
                    *app = t.state;
                }
            }
            Err(e) => {
                if want {
                    out.push(
                        Failure::new(p, "expect.submitted", "the engine refused to submit")
                            .diff("submitted", e.to_string()),
                    );
                }
            }
        }
    }
    let (path, answers, computed) = match &submission {
        Some(s) => (s.path.clone(), s.answers.clone(), s.computed.clone()),
        None => {
            let computed = match app.computed(wf, sandbox, now.date()) {
                Ok(c) => c,
                Err(e) => {
                    out.push(Failure::new(
                        at,
                        "expect",
                        format!("computed values failed: {e}"),
                    ));
                    BTreeMap::new()
                }
            };
            (app.route.clone(), app.answers.clone(), computed)
        }
    };
    if let Some((p, want)) = &expect.path
        && want != &path
    {
        out.push(
            Failure::new(*p, "expect.path", "the route differs")
                .diff(want.join(" → "), path.join(" → ")),
        );
    }
    if let Some((p, want)) = &expect.at {
        let got = position_label(&app.position);
        if &got != want {
            out.push(
                Failure::new(*p, "expect.at", "the assistant is somewhere else")
                    .diff(want.clone(), got),
            );
        }
    }
    for (p, key, want) in &expect.answers {
        let context = format!("expect.answers.{key}");
        match answers.get(key) {
            Some(got) if value_matches(want, got, None) => {}
            Some(got) => out
                .push(Failure::new(*p, context, "the answer differs").diff(show(want), show(got))),
            None if want.is_null() => {}
            None => out.push(
                Failure::new(
                    *p,
                    context,
                    "there is no such answer (not asked, hidden or dropped)",
                )
                .diff(show(want), "(none)"),
            ),
        }
    }
    for (p, key, want) in &expect.computed {
        let context = format!("expect.computed.{key}");
        let Some(def) = wf.computed.iter().find(|c| &c.id == key) else {
            out.push(Failure::new(
                *p,
                context,
                format!("the workflow has no computed value \"{key}\""),
            ));
            continue;
        };
        let got = computed.get(key).cloned().unwrap_or(Value::Null);
        let shown = format_value(&got, def.format, Lang::De);
        if !value_matches(want, &got, Some(&shown)) {
            out.push(
                Failure::new(*p, context, "the computed value differs")
                    .diff(show(want), format!("{} ({shown})", show(&got))),
            );
        }
    }
    if !expect.receipt_contains.is_empty() {
        // After a submit, the receipt's own text (the template rendered into the layout
        // language); before it, the review page.
        let text = match &submission {
            Some(s) => match receipt_text(wf, s, now) {
                Ok(t) => t,
                Err(e) => {
                    out.push(Failure::new(at, "expect.receipt_contains", e));
                    String::new()
                }
            },
            None => review_text(wf, &path, &answers, &computed),
        };
        for (p, want) in &expect.receipt_contains {
            if !text.contains(want.as_str()) {
                out.push(
                    Failure::new(
                        *p,
                        "expect.receipt_contains",
                        "the receipt (or, before submitting, the review page) does not contain this",
                    )
                    .diff(want.clone(), text.clone()),
                );
            }
        }
    }
    out
}

/// The receipt's text for a submission, as its template lays it out, issued by a sample office.
fn receipt_text(wf: &Workflow, s: &Submission, now: OffsetDateTime) -> Result<String, String> {
    use crate::receipt::{Logo, TemplateRegistry, TenantInfo, render_layout};
    let templates = match wf
        .source
        .ancestors()
        .map(|a| a.join("pdf-templates"))
        .find(|p| p.is_dir())
    {
        Some(dir) => TemplateRegistry::load_dir(&dir),
        None => TemplateRegistry::builtin(),
    }
    .map_err(|e| format!("receipt templates: {e}"))?;
    let tenant = TenantInfo {
        id: "vorschau".into(),
        name: "Musterstadt".into(),
        address_lines: vec!["Rathausplatz 1".into(), "12345 Musterstadt".into()],
        colour_hex: "#00587c".into(),
        logo: Some(Logo::Initials {
            initials: "MS".into(),
        }),
        office: wf.office.get(s.lang).to_string(),
    };
    let model = crate::application::receipt_model(wf, s, tenant, "VORSCHAU-2026-000001", now);
    let layout =
        render_layout(&model, &templates).map_err(|e| format!("rendering the receipt: {e}"))?;
    Ok(readable(&layout))
}

/// The layout language as a reader sees the page: `kv: Name | Bello` reads `Name: Bello`,
/// headings and paragraphs lose their directive, escapes are undone.
fn readable(layout: &str) -> String {
    let unescape = |t: &str| {
        let mut out = String::with_capacity(t.len());
        let mut chars = t.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else {
                out.push(c);
            }
        }
        out
    };
    layout
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            if let Some(kv) = line.strip_prefix("kv:") {
                // Split at the first unescaped " | ".
                let bytes: Vec<char> = kv.chars().collect();
                let mut i = 0;
                while i + 2 < bytes.len() {
                    if bytes[i] == ' ' && bytes[i + 1] == '|' && (i == 0 || bytes[i - 1] != '\\') {
                        let label: String = bytes[..i].iter().collect();
                        let value: String = bytes[i + 2..].iter().collect();
                        return Some(format!(
                            "{}: {}",
                            unescape(label.trim()),
                            unescape(value.trim())
                        ));
                    }
                    i += 1;
                }
                return Some(unescape(kv.trim()));
            }
            for prefix in ["group:", "p:", "small:", "note:", "list:"] {
                if let Some(rest) = line.strip_prefix(prefix) {
                    return Some(unescape(rest.trim()));
                }
            }
            if line.starts_with('#') {
                return Some(unescape(line.trim_start_matches('#').trim()));
            }
            None
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The review page as plain text, one line per entry: what `receipt_contains` searches before
/// the application is submitted.
pub(crate) fn review_text(
    wf: &Workflow,
    path: &[String],
    answers: &BTreeMap<String, Value>,
    computed: &BTreeMap<String, Value>,
) -> String {
    let view = ReviewView::build(wf, path, answers, computed, Lang::De);
    let mut lines = vec![wf.title.get(Lang::De).to_string()];
    for step in &view.steps {
        lines.push(step.title.clone());
        for e in &step.entries {
            lines.push(format!("  {}: {}", e.label, e.value.flat()));
        }
    }
    for e in &view.computed {
        lines.push(format!("{}: {}", e.label, e.value.flat()));
    }
    lines.join("\n")
}

/// The submission a scenario leads to (its actions, then a submit), for previews such as the
/// receipt preview of `lotse serve --dev`. `None` when the scenario does not end in a submission.
pub fn sample_submission(
    library: &Library,
    sandbox: &Sandbox,
    scenario: &Scenario,
) -> Option<(Arc<Workflow>, Submission)> {
    let wf = find_workflow(library, scenario).ok()?;
    sample_on(wf, sandbox, scenario)
}

/// [`sample_submission`] on the workflow as `tenant` runs it (with its override applied),
/// whatever tenant the scenario names.
pub fn sample_submission_for(
    library: &Library,
    sandbox: &Sandbox,
    scenario: &Scenario,
    tenant: &str,
) -> Option<(Arc<Workflow>, Submission)> {
    let base = find_base_workflow(library, scenario).ok()?;
    let wf = library.for_tenant(tenant, &base.id, base.version)?.clone();
    sample_on(wf, sandbox, scenario)
}

/// [`sample_submission_for`] on a given workflow (a tenant's rule before it is stored), when
/// the scenario is for the same workflow id and version.
pub fn sample_submission_on(
    wf: Arc<Workflow>,
    sandbox: &Sandbox,
    scenario: &Scenario,
) -> Option<(Arc<Workflow>, Submission)> {
    sample_on(wf, sandbox, scenario)
}

fn sample_on(
    wf: Arc<Workflow>,
    sandbox: &Sandbox,
    scenario: &Scenario,
) -> Option<(Arc<Workflow>, Submission)> {
    let now = OffsetDateTime::new_utc(scenario.today, time::macros::time!(10:00));
    let mut app = Application::start(&wf, Lang::De, now);
    for (_, action) in &scenario.actions {
        let (next, _, _) = perform(&wf, sandbox, &app, action, now).ok()?;
        app = next;
    }
    let declared = wf.declaration.iter().map(|s| s.id.clone()).collect();
    match app
        .apply(&wf, sandbox, Command::Submit { declared }, now)
        .ok()?
        .outcome
    {
        Outcome::Submitted { submission } => Some((wf, *submission)),
        _ => None,
    }
}
