//! Nachweise (file uploads, docs/uploads.md) as the engine sees them: which kinds of file a
//! field accepts and how big they may be ([`FileRules`], from the workflow's `files:`), what
//! an uploaded file is from its bytes ([`sniff`]), and the answer a file field holds: a list of
//! [`FileEntry`]s, each naming a stored file by its SHA-256. The bytes themselves never enter
//! the engine; the server streams them to the attachment store and hands the entry over.

pub mod sniff;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::text::Lang;
pub use sniff::{Kind, Sniffed};

/// The most megabytes a designer may allow per file (`files.max_mb`).
pub const MAX_MB_LIMIT: u32 = 50;
/// The most files a designer may allow per field (`files.max_files`).
pub const MAX_FILES_LIMIT: u32 = 20;

/// What a file field accepts (`files:` in the workflow).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileRules {
    /// The kinds accepted, judged from the bytes.
    pub accept: Vec<Kind>,
    /// The most bytes per file (`max_mb` × 1,000,000).
    pub max_bytes: u64,
    /// The most files in the field.
    pub max_files: u32,
}

impl Default for FileRules {
    fn default() -> Self {
        Self {
            accept: Kind::ALL.to_vec(),
            max_bytes: 10_000_000,
            max_files: 1,
        }
    }
}

impl FileRules {
    /// The `accept` attribute of the file input (types and endings, a hint for the picker only).
    pub fn accept_attribute(&self) -> String {
        let mut parts = Vec::new();
        for k in &self.accept {
            parts.push(k.mime().to_string());
            for e in k.endings() {
                parts.push(format!(".{e}"));
            }
        }
        parts.join(",")
    }

    /// The kinds as a citizen reads them ("PDF, JPEG-Bild").
    pub fn kinds_label(&self, lang: Lang) -> String {
        self.accept
            .iter()
            .map(|k| k.label_in(lang))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The JSON Schema of the field's answer: a list of entries naming stored files.
    pub fn schema(&self) -> Value {
        let types: Vec<&str> = self.accept.iter().map(|k| k.mime()).collect();
        json!({
            "type": "array",
            "maxItems": self.max_files,
            "items": {
                "type": "object",
                "required": ["name", "type", "size", "sha256", "scan"],
                "additionalProperties": false,
                "properties": {
                    "name": { "type": "string", "minLength": 1, "maxLength": 255 },
                    "type": { "enum": types },
                    "size": { "type": "integer", "minimum": 1, "maximum": self.max_bytes },
                    "sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$" },
                    "scan": { "enum": ["clean", "unchecked"] }
                }
            }
        })
    }

    /// The refusal for a file of `size` bytes, or `None` when it may be kept.
    pub fn size_refusal(&self, size: u64, lang: Lang) -> Option<String> {
        if size == 0 {
            return Some(match lang {
                Lang::De => "Diese Datei ist leer. Bitte wählen Sie die richtige Datei aus.".into(),
                Lang::En => "This file is empty. Please choose the right file.".into(),
            });
        }
        (size > self.max_bytes).then(|| {
            let limit = human_size(self.max_bytes, lang);
            match lang {
                Lang::De => format!(
                    "Diese Datei ist größer als {limit}. Bitte verkleinern Sie sie (zum Beispiel mit geringerer Auflösung scannen) und laden Sie sie erneut hoch."
                ),
                Lang::En => format!(
                    "This file is larger than {limit}. Please make it smaller (for example, scan it at a lower resolution) and upload it again."
                ),
            }
        })
    }
}

/// Whether the virus scanner looked at a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanState {
    /// clamd found nothing.
    Clean,
    /// No scanner could be asked and the tenant accepts such files: the office sees
    /// "nicht geprüft".
    Unchecked,
}

/// One uploaded file in a file field's answer. The stored form is exactly this object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// The name the citizen's file had, cleaned for display ([`display_name`]).
    pub name: String,
    /// The media type judged from the bytes.
    #[serde(rename = "type")]
    pub media_type: String,
    pub size: u64,
    /// The SHA-256 of the bytes, 64 lowercase hex digits: the attachment's key.
    pub sha256: String,
    pub scan: ScanState,
}

impl FileEntry {
    /// The entries of a file field's answer (nothing when it is not a list of entries).
    pub fn list(v: &Value) -> Vec<FileEntry> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| FileEntry::deserialize(e).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The kind, from the stored media type.
    pub fn kind(&self) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.mime() == self.media_type)
    }

    /// "Mietvertrag.pdf (PDF, 1,2 MB)".
    pub fn summary(&self, lang: Lang) -> String {
        let kind = self.kind().map_or("?", |k| k.label_in(lang));
        format!("{} ({kind}, {})", self.name, human_size(self.size, lang))
    }
}

/// A file name fit to show and to offer for download: the last path part, no control or
/// text-direction characters, no quotes or separators, at most 120 characters, never empty.
pub fn display_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = crate::form::nfc(last)
        .chars()
        .filter(|c| crate::form::forbidden_character(c.encode_utf8(&mut [0; 4]), false).is_none())
        .map(|c| match c {
            '"' | '\'' | '<' | '>' | ':' | '*' | '?' | '|' | ';' => '_',
            c => c,
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    let mut out: String = trimmed.chars().take(120).collect();
    if out.is_empty() {
        out = "Datei".into();
    }
    out
}

/// A size as a citizen reads it, in decimal units with at most one decimal: "830 Byte",
/// "12,4 kB", "1,2 MB", "10 MB" (English: "830 bytes", "1.2 MB").
pub fn human_size(bytes: u64, lang: Lang) -> String {
    let sep = match lang {
        Lang::De => ',',
        Lang::En => '.',
    };
    let tenths = |unit: u64, name: &str| {
        // Rounded to a tenth without floating point.
        let t = (bytes * 10 + unit / 2) / unit;
        if t.is_multiple_of(10) {
            format!("{} {name}", t / 10)
        } else {
            format!("{}{sep}{} {name}", t / 10, t % 10)
        }
    };
    match bytes {
        0..1_000 => match lang {
            Lang::De => format!("{bytes} Byte"),
            Lang::En => format!("{bytes} bytes"),
        },
        1_000..999_950 => tenths(1_000, "kB"),
        _ => tenths(1_000_000, "MB"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn names_are_cleaned_for_display_and_download() {
        assert_eq!(
            display_name("C:\\Users\\x\\Mietvertrag.pdf"),
            "Mietvertrag.pdf"
        );
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(display_name("a\u{202E}fdp.exe"), "afdp.exe");
        assert_eq!(display_name("\"x\";<b>.pdf"), "_x___b_.pdf");
        assert_eq!(display_name("..."), "Datei");
        assert_eq!(display_name(&"ä".repeat(300)).chars().count(), 120);
    }

    #[test]
    fn sizes_read_like_a_person_says_them() {
        assert_eq!(human_size(512, Lang::De), "512 Byte");
        assert_eq!(human_size(512, Lang::En), "512 bytes");
        assert_eq!(human_size(12_449, Lang::De), "12,4 kB");
        assert_eq!(human_size(850_000, Lang::De), "850 kB");
        assert_eq!(human_size(999_960, Lang::De), "1 MB");
        assert_eq!(human_size(1_234_567, Lang::De), "1,2 MB");
        assert_eq!(human_size(1_234_567, Lang::En), "1.2 MB");
        assert_eq!(human_size(10_000_000, Lang::De), "10 MB");
    }

    #[test]
    fn an_entry_is_read_back_from_its_stored_form() {
        let v = json!([{"name": "a.pdf", "type": "application/pdf", "size": 10,
            "sha256": "ab".repeat(32), "scan": "unchecked"}, {"junk": 1}]);
        let list = FileEntry::list(&v);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].scan, ScanState::Unchecked);
        assert_eq!(list[0].summary(Lang::De), "a.pdf (PDF, 10 Byte)");
        let rules = FileRules::default();
        assert!(rules.size_refusal(0, Lang::De).is_some());
        assert!(
            rules
                .size_refusal(11 * 1024 * 1024, Lang::De)
                .unwrap()
                .contains("10 MB")
        );
        assert_eq!(rules.size_refusal(5, Lang::De), None);
    }
}
