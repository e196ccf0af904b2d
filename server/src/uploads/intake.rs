//! The way of one uploaded file into an application: streamed from the request into a spool
//! file (hashed and counted as it arrives, never held whole in memory, cut off past the
//! field's limit), then judged on a blocking thread (size, kind from the bytes, the virus
//! scan or the tenant's rule for files no scanner looked at) and kept in the attachment store
//! under its SHA-256. What comes out is the entry the file field holds, or a refusal in the
//! citizen's language. docs/uploads.md.

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use lotse_core::Lang;
use lotse_core::files::sniff::{HEAD, TAIL, refusal, sniff};
use lotse_core::files::{FileEntry, FileRules, ScanState, display_name};
use lotse_store::{AnyStore, AttachmentHash, AttachmentStore, StoreError};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::scan::{Clamd, Verdict};

/// What a tenant does with a file no virus scanner could look at (`unscanned_uploads` of the
/// tenant's configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unscanned {
    /// The citizen is asked to try again later.
    Refuse,
    /// Kept and marked "nicht geprüft" for the office.
    Accept,
}

/// The folder uploads are streamed into before they are judged. What a crash left there was
/// never acknowledged: at start, files older than an hour (longer than any upload may take)
/// are removed; newer ones may belong to another node sharing the folder.
#[derive(Clone, Debug)]
pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    /// The spool under `data` (`<data>/uploads-spool`), without leftovers.
    pub fn open(data: &Path) -> std::io::Result<Spool> {
        let dir = data.join("uploads-spool");
        std::fs::create_dir_all(&dir)?;
        // Compared with the files' mtimes, which are the file system's wall clock by nature.
        #[allow(clippy::disallowed_methods)]
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < hour_ago);
            if old {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(Spool { dir })
    }

    /// A new spool file for one upload.
    pub fn begin(&self, field: &str, name: &str, limit: u64) -> std::io::Result<Spooling> {
        Ok(Spooling {
            file: tempfile::NamedTempFile::new_in(&self.dir)?,
            field: field.to_string(),
            chosen: !name.trim().is_empty(),
            name: display_name(name),
            hasher: Sha256::new(),
            size: 0,
            limit,
            head: Vec::with_capacity(HEAD),
            tail: Vec::with_capacity(2 * TAIL),
        })
    }
}

/// An upload arriving: each chunk is written to the spool file, hashed and counted; past the
/// limit nothing more is written (the rest of the part is only read and dropped).
pub struct Spooling {
    file: tempfile::NamedTempFile,
    field: String,
    /// Whether the browser named a file (an empty part without a name: none was chosen).
    chosen: bool,
    name: String,
    hasher: Sha256,
    size: u64,
    limit: u64,
    head: Vec<u8>,
    /// The last bytes seen (at most 2 × TAIL, trimmed to TAIL at the end).
    tail: Vec<u8>,
}

impl Spooling {
    /// Takes the next chunk. Blocking writes of at most a chunk to the spool file (the page
    /// cache takes them at once).
    pub fn push(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Ok(());
        }
        self.file.write_all(chunk)?;
        self.hasher.update(chunk);
        if self.head.len() < HEAD {
            let take = (HEAD - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        let keep = &chunk[chunk.len().saturating_sub(TAIL)..];
        self.tail.extend_from_slice(keep);
        if self.tail.len() > 2 * TAIL {
            let cut = self.tail.len() - TAIL;
            self.tail.drain(..cut);
        }
        Ok(())
    }

    /// The upload has arrived; `None` when nothing was sent (no file chosen).
    pub fn finish(self) -> Option<Spooled> {
        if self.size == 0 && !self.chosen {
            return None;
        }
        let tail_start = self.tail.len().saturating_sub(TAIL);
        Some(Spooled {
            field: self.field,
            name: self.name,
            size: self.size,
            over: self.size > self.limit,
            hash: AttachmentHash::from_bytes(self.hasher.finalize().into()),
            head: self.head,
            tail: self.tail[tail_start..].to_vec(),
            file: self.file,
        })
    }
}

/// An upload in the spool, waiting to be judged. The spool file goes when this is dropped.
pub struct Spooled {
    pub field: String,
    pub name: String,
    pub size: u64,
    /// Longer than the field allows (the file was cut off).
    pub over: bool,
    pub hash: AttachmentHash,
    head: Vec<u8>,
    tail: Vec<u8>,
    file: tempfile::NamedTempFile,
}

/// What became of an upload.
#[derive(Debug)]
pub enum Judged {
    Kept {
        field: String,
        entry: FileEntry,
    },
    Refused {
        field: String,
        /// For the citizen.
        message: String,
        /// For the log (a signature name, why the scanner was not asked), never personal data.
        log: Option<String>,
    },
}

/// How uploads are checked: the scanner (if configured) and what the tenant does without one.
#[derive(Clone, Debug)]
pub struct Checks<'a> {
    pub clamd: Option<&'a Clamd>,
    pub unscanned: Unscanned,
    pub lang: Lang,
}

/// Judges `s` by `rules` and keeps it in the store: its size, then the virus scan (a virus is
/// named as such whatever the file claims to be), then its kind from the bytes. Blocking (the
/// scan and the store).
pub fn judge(
    store: &AnyStore,
    checks: &Checks<'_>,
    rules: &FileRules,
    mut s: Spooled,
) -> Result<Judged, StoreError> {
    let lang = checks.lang;
    let refuse = |s: &Spooled, message: String, log: Option<String>| Judged::Refused {
        field: s.field.clone(),
        message,
        log,
    };
    let size_refusal = if s.over {
        rules.size_refusal(rules.max_bytes + 1, lang)
    } else {
        rules.size_refusal(s.size, lang)
    };
    if let Some(message) = size_refusal {
        return Ok(refuse(&s, message, None));
    }
    let io = |e: std::io::Error| StoreError::Storage(format!("the upload spool: {e}"));
    let scan = match checks.clamd {
        Some(clamd) => {
            s.file.seek(SeekFrom::Start(0)).map_err(io)?;
            clamd.scan(s.file.as_file_mut())
        }
        None => Verdict::Unavailable("no virus scanner is configured".into()),
    };
    let scan = match scan {
        Verdict::Clean => ScanState::Clean,
        Verdict::Found(signature) => {
            return Ok(refuse(
                &s,
                infected(lang),
                Some(format!("LOT-U102: the virus scanner found {signature}")),
            ));
        }
        Verdict::Unavailable(why) => match checks.unscanned {
            Unscanned::Accept => ScanState::Unchecked,
            Unscanned::Refuse => {
                return Ok(refuse(
                    &s,
                    scanner_down(lang),
                    Some(format!(
                        "LOT-U103: the virus scanner could not be asked: {why}"
                    )),
                ));
            }
        },
    };
    let sniffed = sniff(&s.head, &s.tail);
    if let Some(message) = refusal(sniffed, &rules.accept, lang) {
        return Ok(refuse(&s, message, None));
    }
    let media_type = match sniffed {
        lotse_core::files::Sniffed::Ok(k) => k.mime().to_string(),
        _ => return Ok(refuse(&s, unknown(lang), None)),
    };
    s.file.seek(SeekFrom::Start(0)).map_err(io)?;
    store.put_attachment(&s.hash, s.file.as_file_mut(), rules.max_bytes)?;
    Ok(Judged::Kept {
        field: s.field.clone(),
        entry: FileEntry {
            name: s.name.clone(),
            media_type,
            size: s.size,
            sha256: s.hash.to_string(),
            scan,
        },
    })
}

fn unknown(lang: Lang) -> String {
    match lang {
        Lang::De => "Diese Datei können wir nicht annehmen.".into(),
        Lang::En => "We cannot accept this file.".into(),
    }
}

fn infected(lang: Lang) -> String {
    match lang {
        Lang::De => "Unser Virenscanner hat in dieser Datei Schadsoftware gefunden, deshalb können wir sie nicht annehmen. Bitte prüfen Sie die Datei oder laden Sie eine andere Kopie hoch.".into(),
        Lang::En => "Our virus scanner found malware in this file, so we cannot accept it. Please check the file or upload another copy.".into(),
    }
}

fn scanner_down(lang: Lang) -> String {
    match lang {
        Lang::De => "Wir können Dateien gerade nicht auf Viren prüfen und nehmen sie deshalb im Moment nicht an. Ihre anderen Angaben sind gespeichert; bitte versuchen Sie es in einigen Minuten noch einmal.".into(),
        Lang::En => "We cannot check files for viruses right now, so we cannot accept them at the moment. Your other answers are saved; please try again in a few minutes.".into(),
    }
}

/// The entries of a file field after this post: those kept before (minus the one removed),
/// then the new ones, without a second copy of the same file, at most as many as the field
/// allows (the engine refuses more with its message).
pub fn merged(
    before: &[FileEntry],
    removed: Option<&str>,
    added: Vec<FileEntry>,
) -> Vec<FileEntry> {
    let mut out: Vec<FileEntry> = before
        .iter()
        .filter(|e| Some(e.sha256.as_str()) != removed)
        .cloned()
        .collect();
    for e in added {
        if !out.iter().any(|o| o.sha256 == e.sha256) {
            out.push(e);
        }
    }
    out
}
