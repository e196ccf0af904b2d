//! The scenario runner over the repository's workflows, and over deliberately wrong scenarios.

use std::path::PathBuf;

use lotse_core::scenario::{CoverageSet, load_scenario, run, run_all};
use lotse_tests::*;

fn broken(name: &str) -> PathBuf {
    repo_root()
        .join("engine/core/tests/scenarios-broken")
        .join(name)
}

#[test]
fn every_scenario_of_the_example_workflows_passes_and_covers_everything() {
    let outcome = run_all(&repo_root().join("workflows"), sandbox());
    assert!(
        outcome.load_problems.is_empty(),
        "{:#?}",
        outcome.load_problems
    );
    assert!(
        outcome.scenario_problems.is_empty(),
        "{:#?}",
        outcome.scenario_problems
    );
    assert!(outcome.results.len() >= 3, "every example has scenarios");
    for r in &outcome.results {
        assert!(r.passed(), "{} failed: {:#?}", r.file.display(), r.failures);
    }
    for wf in library().all() {
        let coverage = outcome
            .coverage
            .get(&wf.key())
            .expect("every workflow has coverage");
        let gaps: Vec<String> = coverage.gaps(wf).iter().map(ToString::to_string).collect();
        assert!(
            gaps.is_empty(),
            "{} is not fully covered: {gaps:#?}",
            wf.key()
        );
        let (reached, total) = coverage.figures(wf);
        assert_eq!(reached, total);
    }
}

#[test]
fn one_workflow_folder_runs_its_own_scenarios_with_the_project_forms() {
    let outcome = run_all(&repo_root().join("workflows/hundesteuer"), sandbox());
    assert!(
        outcome.passed(),
        "{:#?} {:#?}",
        outcome.load_problems,
        outcome.results
    );
    let ids: Vec<&String> = outcome.library.workflows.keys().collect();
    assert_eq!(ids, ["hundesteuer-anmeldung"]);
    // Seven of the workflow as written, one as Stadt Heinsberg runs it (overrides/heinsberg.yaml).
    assert_eq!(outcome.results.len(), 8);
}

#[test]
fn a_step_guarded_like_the_only_branch_into_it_is_not_counted_as_never_skipped() {
    let wf = library().latest("hundesteuer-anmeldung").unwrap();
    assert_eq!(
        lotse_core::scenario::redundant_conditions(wf),
        ["gefaehrlich"]
    );
}

#[test]
fn a_wrong_scenario_fails_at_the_lines_of_its_wrong_expectations() {
    let scenario = load_scenario(&broken("wrong-fee.yaml")).unwrap();
    let mut coverage = CoverageSet::new(library());
    let result = run(library(), sandbox(), &scenario, &mut coverage);
    assert!(!result.passed());
    let lines: Vec<usize> = result.failures.iter().map(|f| f.at.line).collect();
    assert_eq!(lines, [20, 22, 24], "{:#?}", result.failures);
    let fee = &result.failures[1];
    assert_eq!(fee.context, "expect.computed.jahressteuer");
    assert_eq!(fee.expected.as_deref(), Some("95"));
    assert_eq!(fee.actual.as_deref(), Some("96 (96,00 €)"));
    let path = &result.failures[0];
    assert_eq!(
        path.actual.as_deref(),
        Some("halter → hunde → beginn → ermaessigung → zahlung")
    );
}

#[test]
fn other_errors_than_expected_fail_with_both_lists() {
    let scenario = load_scenario(&broken("wrong-errors.yaml")).unwrap();
    let mut coverage = CoverageSet::new(library());
    let result = run(library(), sandbox(), &scenario, &mut coverage);
    assert_eq!(
        result.failures.len(),
        1,
        "the run stops at the first wrong step: {:#?}",
        result.failures
    );
    let f = &result.failures[0];
    assert_eq!(
        (f.at.line, f.context.as_str()),
        (10, "step 1 (step \"halter\")")
    );
    assert_eq!(
        f.expected.as_deref(),
        Some("halter: Die Halterin muss volljährig sein.")
    );
    assert_eq!(
        f.actual.as_deref(),
        Some("/halter: Die Halterin oder der Halter muss mindestens 18 Jahre alt sein.")
    );
}

/// Answers for fields the step does not have name the field meant, or the step that asks it.
#[test]
fn answers_to_fields_the_step_lacks_name_the_field_meant_or_its_step() {
    let scenario = load_scenario(&broken("wrong-fields.yaml")).unwrap();
    let mut coverage = CoverageSet::new(library());
    let result = run(library(), sandbox(), &scenario, &mut coverage);
    assert_eq!(result.failures.len(), 1, "{:#?}", result.failures);
    let f = &result.failures[0];
    assert_eq!(
        (f.at.line, f.context.as_str()),
        (5, "step 1 (step \"halter\")")
    );
    assert_eq!(
        f.message,
        "the engine refused the command: LOT-A006: step \"halter\" got answers for unknown fields: haltr, hunde (`haltr`: did you mean `halter`?; `hunde` is asked on step \"hunde\")"
    );
}

#[test]
fn a_typo_in_a_scenario_file_is_reported_with_its_line() {
    let problem = load_scenario(&broken("unknown-key.yaml")).unwrap_err();
    assert_eq!(problem.code, "LOT-E060");
    assert_eq!(problem.line, 5);
    assert!(
        problem.message.contains("unknown field `answer`"),
        "{}",
        problem.message
    );
}
