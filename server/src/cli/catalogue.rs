//! `lotse catalogue import FILE`: catalogue entries from a CSV table or a JSON file, checked like
//! `lotse check` checks `portal/leistungen/` (with the entries already there, so that no id is
//! used twice), and written as a YAML file into that folder. Nothing is written when a problem
//! is found; each is reported with the row and column (CSV) or line and column (JSON).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use lotse_core::catalogue::{import, load};
use lotse_core::script::Sandbox;

#[derive(Subcommand)]
pub enum CatalogueCmd {
    /// Import entries from a CSV table (columns as in docs/catalogue.md) or a JSON file, into
    /// DIR/portal/leistungen/<name of the file>.yaml.
    Import {
        /// The table (`.csv`, comma or semicolon separated) or JSON file (`.json`).
        file: PathBuf,
        /// The project folder.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Where to write instead (a `.yaml` file).
        #[arg(long)]
        output: Option<PathBuf>,
        /// Replace the output file if it exists.
        #[arg(long)]
        force: bool,
    },
}

pub fn run(command: CatalogueCmd) -> ExitCode {
    match command {
        CatalogueCmd::Import {
            file,
            dir,
            output,
            force,
        } => import_file(&file, &dir, output, force),
    }
}

fn import_file(file: &Path, dir: &Path, output: Option<PathBuf>, force: bool) -> ExitCode {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return ExitCode::FAILURE;
        }
    };
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let (entries, mut problems) = match ext.as_deref() {
        Some("csv") => import::from_csv(file, &text),
        Some("json") => match import::from_json(file, &text) {
            Ok(e) => (e, Vec::new()),
            Err(p) => (Vec::new(), vec![p]),
        },
        _ => {
            eprintln!("error: {} is neither .csv nor .json", file.display());
            return ExitCode::FAILURE;
        }
    };
    let library = lotse_core::load_library(dir, &Sandbox::default()).0;
    // The entries already in the project come first: an imported id that exists is the
    // duplicate.
    let existing_dir = dir.join(load::DIR);
    let existing = if existing_dir.is_dir() {
        load::read_dir(&existing_dir).0
    } else {
        Vec::new()
    };
    let all: Vec<_> = existing.into_iter().chain(entries).collect();
    let (portal, _) = crate::tenants::for_path(dir);
    let (checked, more) = crate::directory::check_entries(all, &library, &portal);
    problems.extend(more.into_iter().filter(|p| p.file == file));
    problems.sort_by_key(|p| (p.line, p.column));
    for p in &problems {
        eprintln!("{p}");
    }
    let errors = problems.iter().filter(|p| p.is_error()).count();
    if errors > 0 {
        eprintln!("{errors} error(s): nothing written");
        return ExitCode::FAILURE;
    }
    let imported: Vec<_> = checked.into_iter().filter(|e| e.source == file).collect();
    let target = output.unwrap_or_else(|| {
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "import".into());
        existing_dir.join(format!("{stem}.yaml"))
    });
    if target.exists() && !force {
        eprintln!(
            "error: {} exists already (--force replaces it)",
            target.display()
        );
        return ExitCode::FAILURE;
    }
    let yaml = match import::to_yaml(&imported) {
        Ok(y) => y,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let header = format!(
        "# Imported from {} by `lotse catalogue import`; format: docs/catalogue.md\n",
        file.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    let written = target
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&target, format!("{header}{yaml}")));
    if let Err(e) = written {
        eprintln!("error: cannot write {}: {e}", target.display());
        return ExitCode::FAILURE;
    }
    eprintln!(
        "imported {} entr{} into {}",
        imported.len(),
        if imported.len() == 1 { "y" } else { "ies" },
        target.display()
    );
    ExitCode::SUCCESS
}
