//! The JSON Lines export format, one codec for every backend: a header line, one line per record
//! (`{"tree":..,"key":<hex>,"value":<envelope>}`, or `"raw":<hex>` for binary values and for
//! records that are not valid JSON), and a trailer with the count (docs/store.md, "Export and
//! import"). The backends decide which records to write and where imported ones go; the lines
//! themselves are written and checked only here. Must not depend on a backend.

use std::io::{BufRead, Write};

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use super::envelope::RECORD_FORMAT;
use super::error::StoreError;
use super::ids::{hex, unhex};
use super::keys::{DRAFT_EXPIRY, DRAFTS, TREES};

/// The version of the JSON Lines export format. 2: no `draft_expiry` lines (version 1 had them;
/// an import skips them). 3: `secrets` lines (node secrets, [`crate::SecretStore`]); an older
/// Lotse refuses such an export as newer instead of failing on an unknown tree. 4: `notes`
/// lines (the office's internal notes, [`crate::CaseStore`]); status records may carry the
/// case's assignee and follow-up date. 5: `payments` and `payment_keys` lines (payments in
/// flight and settled, [`crate::PaymentStore`]) and `visits` lines (appointments,
/// [`crate::VisitStore`]; the offices' day lists are rebuilt from them).
pub const EXPORT_FORMAT: u32 = 5;

/// How far an export or import has come, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The tree being read or written.
    pub tree: &'static str,
    /// Records done so far, over all trees.
    pub records: u64,
}

const PROGRESS_EVERY: u64 = 10_000;

#[derive(Deserialize)]
struct ImportLine<'a> {
    tree: String,
    key: String,
    #[serde(borrow)]
    value: Option<&'a RawValue>,
    raw: Option<String>,
}

#[derive(Deserialize)]
struct ExportHeader {
    lotse_export: u32,
    record_format: u32,
}

#[derive(Deserialize)]
struct ExportTrailer {
    end: u64,
}

/// Writes one export: the header on [`ExportWriter::start`], then records tree by tree in key
/// order, then the trailer on [`ExportWriter::finish`]. Streams: nothing is buffered here.
pub(crate) struct ExportWriter<'a, W: Write, P: FnMut(Progress)> {
    out: &'a mut W,
    progress: P,
    records: u64,
}

impl<'a, W: Write, P: FnMut(Progress)> ExportWriter<'a, W, P> {
    /// Writes the header line.
    pub(crate) fn start(out: &'a mut W, progress: P) -> Result<Self, StoreError> {
        writeln!(
            out,
            "{{\"lotse_export\":{EXPORT_FORMAT},\"record_format\":{RECORD_FORMAT}}}"
        )
        .map_err(StoreError::Stream)?;
        Ok(Self {
            out,
            progress,
            records: 0,
        })
    }

    /// Writes one record. With `json` (the tree holds envelopes) a value that is valid JSON on
    /// one line is embedded as `"value"`; anything else goes out as `"raw"` hex, so nothing is
    /// lost, not even a corrupt record. Reports progress every 10,000 records.
    pub(crate) fn record(
        &mut self,
        tree: &'static str,
        key: &[u8],
        value: &[u8],
        json: bool,
    ) -> Result<(), StoreError> {
        let out = &mut *self.out;
        write!(out, "{{\"tree\":\"{tree}\",\"key\":\"{}\",", hex(key))
            .map_err(StoreError::Stream)?;
        let embeddable =
            json && !value.contains(&b'\n') && serde_json::from_slice::<IgnoredAny>(value).is_ok();
        if embeddable {
            out.write_all(b"\"value\":").map_err(StoreError::Stream)?;
            out.write_all(value).map_err(StoreError::Stream)?;
            out.write_all(b"}\n").map_err(StoreError::Stream)?;
        } else {
            writeln!(out, "\"raw\":\"{}\"}}", hex(value)).map_err(StoreError::Stream)?;
        }
        self.records += 1;
        if self.records.is_multiple_of(PROGRESS_EVERY) {
            (self.progress)(Progress {
                tree,
                records: self.records,
            });
        }
        Ok(())
    }

    /// Reports the end of a tree to the progress callback.
    pub(crate) fn end_tree(&mut self, tree: &'static str) {
        (self.progress)(Progress {
            tree,
            records: self.records,
        });
    }

    /// Writes the trailer with the count, flushes, and returns the count.
    pub(crate) fn finish(self) -> Result<u64, StoreError> {
        let records = self.records;
        writeln!(self.out, "{{\"end\":{records}}}").map_err(StoreError::Stream)?;
        self.out.flush().map_err(StoreError::Stream)?;
        Ok(records)
    }
}

/// One record of an import, as the export line carried it.
pub(crate) struct ImportRecord {
    /// The line number, for messages (PostgreSQL decodes each record while it reads).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) line: u64,
    /// One of the exported trees (`crate::keys::TREES`).
    pub(crate) tree: &'static str,
    pub(crate) key: Vec<u8>,
    /// The envelope's JSON text, or the raw bytes.
    pub(crate) value: Vec<u8>,
}

/// What an import read.
pub(crate) struct ImportSummary {
    /// Records read, the trailer's count.
    pub(crate) records: u64,
    /// The tree of the last record (for the final progress report).
    pub(crate) last_tree: &'static str,
}

/// The error of a malformed line.
pub(crate) fn bad_line(line: u64, reason: String) -> StoreError {
    StoreError::ImportFormat { line, reason }
}

/// Reads an export line by line and hands every record to `each`, in file order: checks the
/// header (a newer format is refused), known trees, hex, and the trailer (a file without it, or
/// with a wrong count, is refused as truncated; `each` has seen the records by then).
/// `draft_expiry` lines of format 1 are counted and skipped. Reports progress every 10,000
/// records; the final report is the caller's, after its own last step.
pub(crate) fn read_export(
    input: &mut impl BufRead,
    progress: &mut impl FnMut(Progress),
    mut each: impl FnMut(ImportRecord) -> Result<(), StoreError>,
) -> Result<ImportSummary, StoreError> {
    let bad = bad_line;
    let mut line = String::new();
    let mut line_no = 1u64;
    if input.read_line(&mut line).map_err(StoreError::Stream)? == 0 {
        return Err(bad(line_no, "empty input".into()));
    }
    let header: ExportHeader =
        serde_json::from_str(&line).map_err(|e| bad(line_no, format!("bad header: {e}")))?;
    if header.lotse_export > EXPORT_FORMAT || header.record_format > RECORD_FORMAT {
        return Err(bad(
            line_no,
            format!(
                "export format {} / record format {} is newer than this build ({EXPORT_FORMAT} / {RECORD_FORMAT})",
                header.lotse_export, header.record_format
            ),
        ));
    }
    let mut records = 0u64;
    let mut last_tree = None;
    let mut ended = false;
    loop {
        line.clear();
        line_no += 1;
        if input.read_line(&mut line).map_err(StoreError::Stream)? == 0 {
            break;
        }
        if ended {
            return Err(bad(line_no, "data after the trailer line".into()));
        }
        if let Ok(trailer) = serde_json::from_str::<ExportTrailer>(&line) {
            if trailer.end != records {
                return Err(bad(
                    line_no,
                    format!("trailer counts {} records, read {records}", trailer.end),
                ));
            }
            ended = true;
            continue;
        }
        let rec: ImportLine<'_> =
            serde_json::from_str(&line).map_err(|e| bad(line_no, e.to_string()))?;
        let Some(&(tree, _)) = TREES.iter().find(|(n, _)| *n == rec.tree) else {
            if header.lotse_export == 1 && rec.tree == DRAFT_EXPIRY {
                // Format 1's expiry index: the sweep reads the drafts now.
                records += 1;
                continue;
            }
            return Err(bad(line_no, format!("unknown tree {:?}", rec.tree)));
        };
        let key = unhex(&rec.key).ok_or_else(|| bad(line_no, "key is not hex".into()))?;
        let value: Vec<u8> = match (rec.value, rec.raw) {
            (Some(v), None) => v.get().as_bytes().to_vec(),
            (None, Some(raw)) => {
                unhex(&raw).ok_or_else(|| bad(line_no, "raw value is not hex".into()))?
            }
            _ => return Err(bad(line_no, "expected exactly one of value, raw".into())),
        };
        each(ImportRecord {
            line: line_no,
            tree,
            key,
            value,
        })?;
        last_tree = Some(tree);
        records += 1;
        if records.is_multiple_of(PROGRESS_EVERY) {
            progress(Progress { tree, records });
        }
    }
    if !ended {
        return Err(bad(
            line_no,
            "no trailer line: the export is truncated".into(),
        ));
    }
    Ok(ImportSummary {
        records,
        last_tree: last_tree.unwrap_or(DRAFTS),
    })
}
