//! `lotse test [DIR]`: runs every scenario beside the workflows, prints a readable diff for each
//! failure (with the scenario's file:line) and what no scenario reached.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use lotse_core::scenario::{Failure, ScenarioResult, TestRun, run_all_with, run_file_with};
use lotse_core::script::Sandbox;

pub fn run(dir: &Path, require_full_coverage: bool, show_messages: bool) -> ExitCode {
    // Traced: which ways through the scripts' `if`s the scenarios took.
    let (sandbox, trace) = Sandbox::traced(lotse_core::script::Limits::default());
    let single = dir.is_file();
    // Overrides and scenarios may name only the portal's tenants.
    let (portal, _) = crate::tenants::for_path(dir);
    let tenants = portal.slugs();
    let outcome = if single {
        run_file_with(dir, &sandbox, Some(&tenants))
    } else {
        run_all_with(dir, &sandbox, Some(&tenants))
    };
    let mut out = report(&outcome);
    if show_messages {
        out.push_str(&messages(&outcome));
    }
    let mut complete = true;
    if !single {
        out.push_str("\ncoverage:\n");
    }
    for wf in outcome.library.all() {
        let Some(cov) = outcome.coverage.get(&wf.key()) else {
            continue;
        };
        let (reached, total) = cov.figures(wf);
        let gaps = cov.gaps(wf);
        complete &= gaps.is_empty();
        out.push_str(&format!(
            "  {}: {reached} of {total} reached ({})\n",
            wf.key(),
            percent(reached, total)
        ));
        for step in lotse_core::scenario::redundant_conditions(wf) {
            out.push_str(&format!(
                "    note: the applies_if of step \"{step}\" repeats the condition of every branch into it, so the step is never skipped; not counted\n"
            ));
        }
        for g in gaps {
            out.push_str(&format!("    {}: {g}\n", wf.id));
        }
        let (script_gaps, ways) = lotse_core::scenario::script_gaps(wf, &trace);
        if ways > 0 {
            out.push_str(&format!(
                "    script branches (not counted above): {} of {ways} taken\n",
                ways - script_gaps.len()
            ));
            for g in script_gaps {
                out.push_str(&format!("    {}: {g}\n", wf.id));
            }
        }
    }
    let failed = outcome.results.iter().filter(|r| !r.passed()).count();
    out.push_str(&format!(
        "\n{} scenario(s): {} passed, {} failed, {} file(s) unreadable\n",
        outcome.results.len(),
        outcome.results.len() - failed,
        failed,
        outcome.scenario_problems.len()
    ));
    // A closed pipe (`lotse test | head`) is not an error worth a panic.
    let _ = std::io::stdout().write_all(out.as_bytes());
    if !outcome.passed() {
        return ExitCode::FAILURE;
    }
    if require_full_coverage && (single || !complete) {
        if single {
            eprintln!(
                "--require-full-coverage needs a folder: coverage is measured over all scenarios"
            );
            return ExitCode::FAILURE;
        }
        eprintln!(
            "--require-full-coverage: some steps, branches, conditions or rules were never reached"
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn percent(reached: usize, total: usize) -> String {
    match (reached * 100).checked_div(total) {
        Some(p) => format!("{p}%"),
        None => "nothing to reach".into(),
    }
}

/// Everything but the coverage, as text (also used by the tests).
pub fn report(outcome: &TestRun) -> String {
    let mut out = String::new();
    for p in &outcome.load_problems {
        out.push_str(&format!("{p}\n"));
    }
    for p in &outcome.scenario_problems {
        out.push_str(&format!("{p}\n"));
    }
    for r in &outcome.results {
        out.push_str(&result(r));
    }
    out
}

/// Every message of every rejected step, by scenario, as YAML a designer can paste under
/// `expect_errors:`.
pub fn messages(outcome: &TestRun) -> String {
    let mut out = String::new();
    for r in outcome.results.iter().filter(|r| !r.messages.is_empty()) {
        out.push_str(&format!("\nmessages of {}:\n", r.file.display()));
        for m in &r.messages {
            out.push_str(&format!(
                "  line {}, step {}:\n    expect_errors:\n",
                m.at.line, m.step
            ));
            for (pointer, message) in &m.errors {
                let quoted = message.replace('\\', "\\\\").replace('"', "\\\"");
                out.push_str(&format!(
                    "      - {{ field: {pointer}, message: \"{quoted}\" }}\n"
                ));
            }
        }
    }
    out
}

fn result(r: &ScenarioResult) -> String {
    let file = r.file.display();
    let workflow = r.workflow.as_deref().unwrap_or("?");
    if r.passed() {
        return format!("ok    {file}: {} [{workflow}]\n", r.name);
    }
    let mut out = format!("FAIL  {file}: {} [{workflow}]\n", r.name);
    for f in &r.failures {
        out.push_str(&failure(&file.to_string(), f));
    }
    out
}

fn failure(file: &str, f: &Failure) -> String {
    let mut out = format!(
        "  --> {file}:{}:{}  {}\n",
        f.at.line, f.at.column, f.context
    );
    out.push_str(&format!("      {}\n", f.message));
    if let (Some(e), Some(a)) = (&f.expected, &f.actual) {
        out.push_str(&indent("      - expected: ", e));
        out.push_str(&indent("      + actual:   ", a));
    }
    out
}

/// The first line after `head`, the others aligned under it.
fn indent(head: &str, text: &str) -> String {
    let pad = " ".repeat(head.chars().count());
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        out.push_str(if i == 0 { head } else { &pad });
        out.push_str(line);
        out.push('\n');
    }
    if text.is_empty() {
        out.push_str(head);
        out.push_str("(nothing)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_failing_scenario_prints_file_line_and_a_diff() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../engine/core/tests/scenarios-broken/wrong-fee.yaml");
        let outcome = lotse_core::scenario::run_file(&file, &Sandbox::default());
        assert!(!outcome.passed());
        let text = report(&outcome);
        assert!(text.contains("FAIL  "), "{text}");
        assert!(
            text.contains("wrong-fee.yaml:22:19  expect.computed.jahressteuer"),
            "{text}"
        );
        assert!(
            text.contains("      - expected: 95\n      + actual:   96 (96,00 €)\n"),
            "{text}"
        );
    }
}

#[cfg(test)]
mod show_messages {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_rejected_steps_messages_are_printed_ready_to_paste() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../workflows/faellgenehmigung/scenarios/02-vollmacht-zwei-baeume-ausgleich.yaml",
        );
        let outcome = lotse_core::scenario::run_file(&file, &Sandbox::default());
        assert!(outcome.passed());
        let text = messages(&outcome);
        assert!(text.contains("  line 27, step baeume:\n    expect_errors:\n      - { field: /baeume/1/begruendung, message: \"Bitte füllen Sie das Feld „Ihre Begründung“ aus.\" }\n"), "{text}");
        assert!(text.contains("  line 34, step baeume:\n    expect_errors:\n      - { field: /baeume/1/begruendung, message: \"Bitte begründen Sie die Fällung dieses Baums in wenigstens 20 Zeichen.\" }\n"), "{text}");
    }
}
