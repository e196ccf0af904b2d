//! `lotse export` and `lotse import`: every stored record as JSON Lines, streamed in constant
//! memory, with a running count on a terminal. Export → import into an empty store is lossless.

use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::Path;

use anyhow::Context;
use lotse_engine::store::{Progress, SledStore};

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

pub fn export(data: &Path, output: Option<&Path>) -> anyhow::Result<()> {
    let store = SledStore::open(data)
        .with_context(|| format!("opening the store in {}", data.display()))?;
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

pub fn import(data: &Path, input: Option<&Path>) -> anyhow::Result<()> {
    let store = SledStore::open(data)
        .with_context(|| format!("opening the store in {}", data.display()))?;
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
