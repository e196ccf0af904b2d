//! `lotse graph WORKFLOW`: the step graph of one workflow as Mermaid or Graphviz DOT.

use std::path::Path;
use std::process::ExitCode;

use lotse_core::diagram::{DiagramFormat, render};
use lotse_core::script::Sandbox;

/// `workflow` is a workflow file, or the id of a workflow in the project at `project`.
pub fn run(workflow: &str, project: &Path, format: DiagramFormat) -> ExitCode {
    let sandbox = Sandbox::default();
    let as_path = Path::new(workflow);
    let from_file = as_path.is_file();
    let (library, problems) = if from_file {
        lotse_core::load_library(as_path, &sandbox)
    } else {
        lotse_core::load_library(project, &sandbox)
    };
    let found = if from_file {
        library.all().next().cloned()
    } else {
        library.latest(workflow).cloned()
    };
    let Some(wf) = found else {
        for p in problems.iter().filter(|p| p.is_error()) {
            eprintln!("{p}");
        }
        if from_file {
            eprintln!("{workflow} could not be loaded; run `lotse check {workflow}`");
        } else {
            let known: Vec<&str> = library.workflows.keys().map(String::as_str).collect();
            eprintln!(
                "there is no workflow \"{workflow}\" in {} (known: {})",
                project.display(),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            );
        }
        return ExitCode::FAILURE;
    };
    print!("{}", render(&wf, format));
    ExitCode::SUCCESS
}
