//! The `lotse` binary: one command with subcommands. It parses arguments and hands over to the
//! engine; all product logic lives in lotse-engine.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "lotse",
    version,
    about = "Lotse: guided application assistants for municipal service portals"
)]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// The built-in demo: walks a citizen through the Hundesteuer assistant in the terminal.
    Demo {
        /// The project folder with the example workflows.
        #[arg(long, default_value = ".")]
        dir: std::path::PathBuf,
    },
    /// Load every workflow, form and template under DIR and report every problem.
    Check {
        /// A project folder (with workflows/, forms/, pdf-templates/) or a workflows folder.
        #[arg(default_value = ".")]
        dir: std::path::PathBuf,
        /// Print problems one per line (file:line:column) instead of with source snippets.
        #[arg(long)]
        short: bool,
    },
    /// Run the scenarios in workflows/<name>/scenarios/ and report what they did not reach.
    Test {
        /// A project folder, a workflows folder or one workflow's folder.
        #[arg(default_value = ".")]
        dir: std::path::PathBuf,
        /// Fail when any step, branch, condition or rule was never reached.
        #[arg(long)]
        require_full_coverage: bool,
    },
    /// Print a workflow's steps and branches as a Mermaid or Graphviz diagram.
    Graph {
        /// A workflow file, or the id of a workflow in the project.
        workflow: String,
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
        /// The project folder to look up a workflow id in.
        #[arg(long, default_value = ".")]
        project: std::path::PathBuf,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum GraphFormat {
    Mermaid,
    Dot,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Cmd::Check { dir, short } => cli::check::run(&dir, short),
        Cmd::Test {
            dir,
            require_full_coverage,
        } => cli::test::run(&dir, require_full_coverage),
        Cmd::Graph {
            workflow,
            format,
            project,
        } => {
            let format = match format {
                GraphFormat::Mermaid => lotse_engine::diagram::DiagramFormat::Mermaid,
                GraphFormat::Dot => lotse_engine::diagram::DiagramFormat::Dot,
            };
            cli::graph::run(&workflow, &project, format)
        }
        Cmd::Demo { dir } => cli::demo::run(&dir),
    }
}
