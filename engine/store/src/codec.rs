//! The JSON Lines export format, one codec for every backend: a header line, one line per record
//! (`{"tree":..,"key":<hex>,"value":<envelope>}`, or `"raw":<hex>` for binary values and for
//! records that are not valid JSON), and a trailer with the count (docs/store.md, "Export and
//! import"). The backends decide which records to write and where imported ones go; the lines
//! themselves are written and checked only here. Must not depend on a backend.
//!
//! Attachments (format 6) follow the records, each as a header line, its bytes in lines of
//! base64 and an end line with its size, so a 20 MB file streams through without being held.

use std::io::{BufRead, Read, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use super::attachments::AttachmentHash;
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
/// [`crate::VisitStore`]; the offices' day lists are rebuilt from them). 6: attachments
/// ([`crate::AttachmentStore`]) after the records: `{"attachment":"<sha256>"}`, then
/// `{"part":"<base64>"}` lines of at most 48 KiB each, then `{"attachment_end":<size>}`; the
/// trailer counts them (`"attachments"`), and an import checks every file's hash.
pub const EXPORT_FORMAT: u32 = 6;

/// Bytes of an attachment per `part` line (64 KiB of base64).
const PART: usize = 48 * 1024;

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
    /// Attachments written (format 6; none before).
    #[serde(default)]
    attachments: u64,
}

#[derive(Deserialize)]
struct AttachmentHeader {
    attachment: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
enum AttachmentLine {
    #[serde(rename = "part")]
    Part(String),
    #[serde(rename = "attachment_end")]
    End(u64),
}

/// Writes one export: the header on [`ExportWriter::start`], then records tree by tree in key
/// order, then the trailer on [`ExportWriter::finish`]. Streams: nothing is buffered here.
pub(crate) struct ExportWriter<'a, W: Write, P: FnMut(Progress)> {
    out: &'a mut W,
    progress: P,
    records: u64,
    attachments: u64,
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
            attachments: 0,
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

    /// Writes one attachment after the records: `read` writes its bytes into the writer it
    /// is given and returns the size, or `None` if the attachment is gone by now (deleted
    /// since it was listed), which writes nothing.
    pub(crate) fn attachment(
        &mut self,
        hash: &AttachmentHash,
        read: impl FnOnce(&mut dyn Write) -> Result<Option<u64>, StoreError>,
    ) -> Result<(), StoreError> {
        let mut parts = PartWriter {
            out: &mut *self.out,
            hash,
            started: false,
            buf: Vec::with_capacity(PART),
            size: 0,
        };
        let Some(size) = read(&mut parts)? else {
            if parts.started {
                return Err(StoreError::Storage(format!(
                    "attachment {hash} vanished while it was exported"
                )));
            }
            return Ok(());
        };
        parts.start().map_err(StoreError::Stream)?;
        parts.emit().map_err(StoreError::Stream)?;
        if size != parts.size {
            return Err(StoreError::Storage(format!(
                "attachment {hash}: {} bytes read, {size} reported",
                parts.size
            )));
        }
        writeln!(self.out, "{{\"attachment_end\":{size}}}").map_err(StoreError::Stream)?;
        self.attachments += 1;
        Ok(())
    }

    /// Writes the trailer with the count, flushes, and returns the count of records.
    pub(crate) fn finish(self) -> Result<u64, StoreError> {
        let records = self.records;
        if self.attachments > 0 {
            writeln!(
                self.out,
                "{{\"end\":{records},\"attachments\":{}}}",
                self.attachments
            )
        } else {
            writeln!(self.out, "{{\"end\":{records}}}")
        }
        .map_err(StoreError::Stream)?;
        self.out.flush().map_err(StoreError::Stream)?;
        Ok(records)
    }
}

/// The lines of one attachment being exported: its header before its first byte, then a
/// `part` line per 48 KiB.
struct PartWriter<'a, W: Write> {
    out: &'a mut W,
    hash: &'a AttachmentHash,
    started: bool,
    buf: Vec<u8>,
    size: u64,
}

impl<W: Write> PartWriter<'_, W> {
    fn start(&mut self) -> std::io::Result<()> {
        if !self.started {
            writeln!(self.out, "{{\"attachment\":\"{}\"}}", self.hash)?;
            self.started = true;
        }
        Ok(())
    }

    fn emit(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.start()?;
        self.out.write_all(b"{\"part\":\"")?;
        self.out.write_all(BASE64.encode(&self.buf).as_bytes())?;
        self.out.write_all(b"\"}\n")?;
        self.buf.clear();
        Ok(())
    }
}

impl<W: Write> Write for PartWriter<'_, W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let n = data.len().min(PART - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        self.size += n as u64;
        if self.buf.len() == PART {
            self.emit()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The bytes of one attachment of an import, decoded from its `part` lines as they are read;
/// ends at its `attachment_end` line, whose size it checks.
pub(crate) struct PartReader<'a, R: BufRead> {
    input: &'a mut R,
    line_no: &'a mut u64,
    line: String,
    buf: Vec<u8>,
    pos: usize,
    size: u64,
    done: bool,
}

impl<R: BufRead> PartReader<'_, R> {
    fn bad(&self, reason: String) -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("import line {}: {reason}", self.line_no),
        )
    }
}

impl<R: BufRead> Read for PartReader<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.buf.len() {
            if self.done {
                return Ok(0);
            }
            self.line.clear();
            *self.line_no += 1;
            if self.input.read_line(&mut self.line)? == 0 {
                return Err(self.bad("the export ends inside an attachment".into()));
            }
            match serde_json::from_str::<AttachmentLine>(&self.line) {
                Ok(AttachmentLine::Part(b64)) => {
                    self.buf = BASE64
                        .decode(b64.as_bytes())
                        .map_err(|e| self.bad(format!("part is not base64: {e}")))?;
                    self.pos = 0;
                    self.size += self.buf.len() as u64;
                }
                Ok(AttachmentLine::End(size)) if size == self.size => self.done = true,
                Ok(AttachmentLine::End(size)) => {
                    return Err(self.bad(format!(
                        "attachment of {size} bytes ends after {}",
                        self.size
                    )));
                }
                Err(e) => return Err(self.bad(format!("expected a part of an attachment: {e}"))),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
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
/// `draft_expiry` lines of format 1 are counted and skipped. Each attachment (format 6) goes
/// to `each_attachment` as a stream of its bytes, which the backend stores checking the hash
/// (the stream must be read to its end). Reports progress every 10,000 records; the final
/// report is the caller's, after its own last step.
pub(crate) fn read_export<R: BufRead>(
    input: &mut R,
    progress: &mut impl FnMut(Progress),
    mut each: impl FnMut(ImportRecord) -> Result<(), StoreError>,
    mut each_attachment: impl FnMut(&AttachmentHash, &mut PartReader<'_, R>) -> Result<(), StoreError>,
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
    let mut attachments = 0u64;
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
            if trailer.end != records || trailer.attachments != attachments {
                return Err(bad(
                    line_no,
                    format!(
                        "trailer counts {} records and {} attachments, read {records} and \
                         {attachments}",
                        trailer.end, trailer.attachments
                    ),
                ));
            }
            ended = true;
            continue;
        }
        if line.starts_with("{\"attachment\":") {
            let header: AttachmentHeader =
                serde_json::from_str(&line).map_err(|e| bad(line_no, e.to_string()))?;
            let hash: AttachmentHash = header
                .attachment
                .parse()
                .map_err(|e: StoreError| bad(line_no, e.to_string()))?;
            let first = line_no;
            let mut parts = PartReader {
                input: &mut *input,
                line_no: &mut line_no,
                line: String::new(),
                buf: Vec::new(),
                pos: 0,
                size: 0,
                done: false,
            };
            each_attachment(&hash, &mut parts).map_err(|e| {
                bad(
                    first,
                    format!("attachment {hash}: {}", e.to_string().trim()),
                )
            })?;
            if !parts.done {
                return Err(bad(first, format!("attachment {hash} was not read whole")));
            }
            attachments += 1;
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
