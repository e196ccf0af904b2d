//! `lotse export` and `lotse import`: every stored record as JSON Lines, streamed in constant
//! memory, with a running count on a terminal. Export → import into an empty store is lossless.

use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::Path;

use anyhow::Context;
use lotse_store::{AnyStore, PgOptions, PgStore, Progress, redact_url};

/// Where `export` reads and `import` writes: the sled store of a data folder (`DATA/store`,
/// as `lotse serve` keeps it) or a PostgreSQL database.
#[derive(Debug)]
pub enum Target {
    /// The portal's data folder (not the store folder inside it).
    Sled(std::path::PathBuf),
    /// The name of the environment variable that holds the database URL.
    Postgres { url_env: String },
}

impl Target {
    /// PostgreSQL if a URL variable is named, else the sled folder.
    pub fn new(data: std::path::PathBuf, database_url_env: Option<String>) -> Self {
        match database_url_env {
            Some(url_env) => Target::Postgres { url_env },
            None => Target::Sled(data),
        }
    }

    /// Opens the store; `create` makes a new one in a data folder that has none (import),
    /// otherwise such a folder is an error.
    fn open(&self, create: bool) -> anyhow::Result<AnyStore> {
        match self {
            Target::Sled(data) if create => Ok(crate::nodes::open_or_create_sled(data)?.0.into()),
            Target::Sled(data) => Ok(crate::nodes::open_existing_sled(data)?.into()),
            Target::Postgres { url_env } => {
                let url = std::env::var(url_env)
                    .with_context(|| format!("the environment variable {url_env} is not set"))?;
                Ok(PgStore::connect(&PgOptions::new(url.clone()))
                    .with_context(|| {
                        format!("opening the PostgreSQL store at {}", redact_url(&url))
                    })?
                    .into())
            }
        }
    }
}

/// `lotse init`: an empty store in a new data folder, for the set-up before the portal's first
/// start (`lotse admin create-admin` needs a store to write to). A folder that has a store
/// already keeps it.
pub fn init(data: &Path) -> anyhow::Result<()> {
    let (store, created) = crate::nodes::open_or_create_sled(data)?;
    store.close()?;
    if created {
        eprintln!(
            "Leerer Datenspeicher angelegt: {}",
            data.join("store").display()
        );
    } else {
        eprintln!(
            "{} hat bereits einen Datenspeicher; nichts geändert.",
            data.display()
        );
    }
    Ok(())
}

/// `lotse migrate`: runs the PostgreSQL migrations of the configured store.
pub fn migrate(config: Option<&Path>) -> anyhow::Result<()> {
    let config = crate::config::Config::load(config)?;
    if config.store.backend != crate::config::Backend::Postgres {
        anyhow::bail!("the configured store is sled, which needs no migration ([store] backend)");
    }
    let store = crate::nodes::connect(&config, false)?;
    let n = store.migrate()?;
    eprintln!("Datenbank auf dem neuesten Stand ({n} Migration(en)).");
    Ok(())
}

fn progress(verb: &'static str) -> impl FnMut(Progress) {
    let tty = std::io::stderr().is_terminal();
    let mut last = 0u64;
    move |p: Progress| {
        if tty && (p.records >= last + 1000 || p.records < last) {
            last = p.records;
            eprint!("\r{verb}: {} Datensätze ({})      ", p.records, p.tree);
        }
    }
}

pub fn export(target: &Target, output: Option<&Path>) -> anyhow::Result<()> {
    let store = target.open(false)?;
    let count = match output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            let mut w = BufWriter::new(file);
            let n = store.export_jsonl(&mut w, progress("Export"))?;
            w.flush()?;
            w.into_inner()
                .map_err(|e| e.into_error())?
                .sync_all()
                .with_context(|| format!("writing {}", path.display()))?;
            n
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = BufWriter::new(stdout.lock());
            let n = store.export_jsonl(&mut w, progress("Export"))?;
            w.flush()?;
            n
        }
    };
    eprintln!("\rExport: {count} Datensätze.                    ");
    Ok(())
}

/// Restores an export into an empty store: into a data folder without a store (one is
/// created) or with an empty one, or into an empty PostgreSQL database.
pub fn import(target: &Target, input: Option<&Path>) -> anyhow::Result<()> {
    let store = target.open(true)?;
    let mut reader: Box<dyn BufRead> = match input {
        Some(path) => Box::new(BufReader::new(
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
        )),
        None => Box::new(BufReader::new(std::io::stdin().lock())),
    };
    let count = store
        .import_jsonl(&mut reader, progress("Import"))
        .context(
            "importing (the target store must be empty; remove it and retry after a failure)",
        )?;
    store.flush()?;
    eprintln!("\rImport: {count} Datensätze.                    ");
    Ok(())
}
