//! Scenario tests for workflow designers: YAML files in `workflows/<name>/scenarios/` that walk
//! an application through a workflow and state what must come out (route, computed values,
//! errors, the review text). [`run`] drives the real state machine and returns structured
//! results; [`Coverage`] records which steps, branches, conditions and rules the scenarios
//! reached. Printing is the caller's business (`lotse test`).
//!
//! Depends on [`crate::definition`] and [`crate::application`]; does no output.

mod coverage;
mod format;
mod run;

use std::path::{Path, PathBuf};

#[cfg(feature = "coverage")]
pub use coverage::script_gaps;
pub use coverage::{Coverage, CoverageSet, Gap, ScriptGap, never_skippable, redundant_conditions};
pub use format::{Action, Expectations, ExpectedError, Scenario, load_scenario};
pub use run::{
    Failure, ScenarioResult, StepMessages, run, sample_submission, sample_submission_for,
    sample_submission_on, workflow_of,
};

use crate::definition::{Library, load_library};
use crate::problem::{Pos, Problem};
use crate::script::Sandbox;

/// The day a scenario runs on when it names none: 28 November 2026.
pub const DEFAULT_TODAY: time::Date = time::macros::date!(2026 - 11 - 28);

/// Every scenario file beside the library's workflows: `<workflow folder>/scenarios/*.yaml`,
/// sorted by path.
pub fn scenario_files(library: &Library) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = library
        .all()
        .filter_map(|wf| wf.source.parent().map(|p| p.join("scenarios")))
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    folders.dedup();
    let mut files = Vec::new();
    for folder in folders {
        let Ok(rd) = std::fs::read_dir(&folder) else {
            continue;
        };
        let mut here: Vec<PathBuf> = rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.is_file()
                    && p.extension()
                        .and_then(|x| x.to_str())
                        .is_some_and(|x| matches!(x, "yaml" | "yml"))
            })
            .collect();
        here.sort();
        files.extend(here);
    }
    files
}

/// The outcome of running every scenario under a folder.
#[derive(Debug, Default)]
pub struct TestRun {
    /// The workflows the scenarios ran on (empty for a single scenario file).
    pub library: Library,
    /// Problems loading the workflows (errors only).
    pub load_problems: Vec<Problem>,
    /// Scenario files that could not be read or parsed.
    pub scenario_problems: Vec<Problem>,
    pub results: Vec<ScenarioResult>,
    pub coverage: CoverageSet,
}

impl TestRun {
    pub fn passed(&self) -> bool {
        self.load_problems.is_empty()
            && self.scenario_problems.is_empty()
            && self.results.iter().all(ScenarioResult::passed)
    }
}

/// Runs one scenario file against the project around it: the nearest folder above it with a
/// `workflows/` folder (or the current folder). Coverage is kept for its workflow only.
pub fn run_file(file: &Path, sandbox: &Sandbox) -> TestRun {
    run_file_with(file, sandbox, None)
}

/// [`run_file`], with the tenants that exist: overrides and scenarios for any other tenant fail.
pub fn run_file_with(file: &Path, sandbox: &Sandbox, tenants: Option<&[&str]>) -> TestRun {
    let root = file
        .ancestors()
        .skip(1)
        .find(|a| a.join("workflows").is_dir())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let (mut library, mut problems) = load_library(&root, sandbox);
    if let Some(known) = tenants {
        problems.extend(library.check_tenants(known));
    }
    let mut out = TestRun {
        load_problems: problems.into_iter().filter(Problem::is_error).collect(),
        ..TestRun::default()
    };
    match load_scenario(file) {
        Ok(scenario) => {
            let result = run(&library, sandbox, &scenario, &mut out.coverage);
            out.results.push(result);
        }
        Err(p) => out.scenario_problems.push(p),
    }
    out
}

/// Loads the project at `dir`, runs every scenario file and records coverage of every workflow
/// (also those without scenarios, which then reach nothing).
pub fn run_all(dir: &Path, sandbox: &Sandbox) -> TestRun {
    run_all_with(dir, sandbox, None)
}

/// [`run_all`], with the tenants that exist: overrides and scenarios for any other tenant fail.
pub fn run_all_with(dir: &Path, sandbox: &Sandbox, tenants: Option<&[&str]>) -> TestRun {
    // `dir` is a project, a workflows folder or one workflow's folder, as for `lotse check`.
    let (mut library, mut problems) = load_library(dir, sandbox);
    if let Some(known) = tenants {
        problems.extend(library.check_tenants(known));
    }
    let mut out = TestRun {
        load_problems: problems.into_iter().filter(Problem::is_error).collect(),
        coverage: CoverageSet::new(&library),
        ..TestRun::default()
    };
    if library.workflows.is_empty() && out.load_problems.is_empty() {
        out.load_problems.push(Problem::error(
            "LOT-E060",
            dir,
            Pos::UNKNOWN,
            "no workflows found here",
        ));
    }
    for path in scenario_files(&library) {
        match load_scenario(&path) {
            Ok(scenario) => {
                let result = run(&library, sandbox, &scenario, &mut out.coverage);
                out.results.push(result);
            }
            Err(p) => out.scenario_problems.push(p),
        }
    }
    out.library = library;
    out
}
