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
}

fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Cmd::Check { dir, short } => cli::check::run(&dir, short),
        Cmd::Demo { dir } => cli::demo::run(&dir),
    }
}
