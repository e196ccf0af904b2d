//! Attachments (Nachweise): files a citizen uploads, kept once per content. The key is the
//! file's SHA-256, checked while the bytes are stored, so two citizens uploading the same lease
//! share one copy and a stored file always has the hash its records name. Stored and read as
//! streams: a 20 MB file is never held whole in memory. Backend-neutral.

use std::fmt;
use std::io::Read;

use sha2::{Digest, Sha256};

use crate::error::StoreError;

/// The SHA-256 of an attachment's bytes: its key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttachmentHash([u8; 32]);

impl AttachmentHash {
    pub fn from_bytes(b: [u8; 32]) -> Self {
        Self(b)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The hash of `bytes` (for small files and tests; uploads hash while they stream).
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }
}

impl fmt::Display for AttachmentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for AttachmentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AttachmentHash({self})")
    }
}

impl std::str::FromStr for AttachmentHash {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || StoreError::InvalidInput("an attachment hash is 64 hex digits".into());
        if s.len() != 64 {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(s.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16)
                .map_err(|_| bad())?;
        }
        Ok(Self(out))
    }
}

/// Reads through to `inner` while hashing and counting what passed.
pub(crate) struct Hashing<'a> {
    inner: &'a mut dyn Read,
    hasher: Sha256,
    pub(crate) size: u64,
}

impl<'a> Hashing<'a> {
    pub(crate) fn new(inner: &'a mut dyn Read) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    /// The hash of everything read, refused unless it is `expected`.
    pub(crate) fn check(self, expected: &AttachmentHash) -> Result<u64, StoreError> {
        let got = AttachmentHash(self.hasher.finalize().into());
        if got == *expected {
            Ok(self.size)
        } else {
            Err(StoreError::InvalidInput(format!(
                "the attachment's bytes have the SHA-256 {got}, not {expected}"
            )))
        }
    }
}

impl Read for Hashing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}

impl serde::Serialize for AttachmentHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for AttachmentHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Whether the virus scanner looked at a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanState {
    /// clamd found nothing.
    Clean,
    /// clamd could not be asked and the tenant accepts unscanned files: the office sees
    /// "nicht geprüft".
    Unchecked,
}

/// One uploaded file as a `widget: file` field's answer lists it: the answer is a JSON array of
/// these, in a draft's state and in a submission's data, anywhere in the answers.
///
/// ```json
/// {"name": "Mietvertrag.pdf", "type": "application/pdf", "size": 123456,
///  "sha256": "<64 lowercase hex digits>", "scan": "clean"}
/// ```
///
/// The bytes are in the [`crate::AttachmentStore`] under `sha256`. What makes an object a
/// reference for the housekeeping is less: see [`referenced_hashes`].
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AttachmentRef {
    /// The file name the citizen's browser sent (shown, never used as a path).
    pub name: String,
    /// The content type the upload found from the bytes (e.g. `application/pdf`).
    #[serde(rename = "type")]
    pub content_type: String,
    pub size: u64,
    pub sha256: AttachmentHash,
    pub scan: ScanState,
}

impl fmt::Debug for AttachmentRef {
    // The file name may name the citizen: not in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttachmentRef")
            .field("type", &self.content_type)
            .field("size", &self.size)
            .field("sha256", &self.sha256)
            .field("scan", &self.scan)
            .finish_non_exhaustive()
    }
}

/// The hash an object names if it is an attachment reference: a `sha256` string of 64 hex
/// digits beside a numeric `size`. Deliberately looser than [`AttachmentRef`], so that a
/// reference with a missing name or an older scan field still keeps its file.
fn reference_in(map: &serde_json::Map<String, serde_json::Value>) -> Option<AttachmentHash> {
    if !map.get("size").is_some_and(serde_json::Value::is_number) {
        return None;
    }
    map.get("sha256")?.as_str()?.parse().ok()
}

/// Adds every attachment hash `value` references, at any depth, to `into` (see
/// [`reference_in`] for what counts). The housekeeping keeps exactly these.
pub fn referenced_hashes(
    value: &serde_json::Value,
    into: &mut std::collections::BTreeSet<AttachmentHash>,
) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(h) = reference_in(map) {
                    into.insert(h);
                }
                stack.extend(map.values());
            }
            serde_json::Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
}

/// Every well-formed [`AttachmentRef`] in `value`, with the key of the object member it is
/// listed under (the field's name: `{"mietvertrag": [ref, ref]}` gives `"mietvertrag"` twice),
/// in document order. For the Postkorb's list of attachments and the webhook.
pub fn attachment_refs(value: &serde_json::Value) -> Vec<(String, AttachmentRef)> {
    fn walk(v: &serde_json::Value, field: &str, out: &mut Vec<(String, AttachmentRef)>) {
        match v {
            serde_json::Value::Object(map) => {
                if reference_in(map).is_some()
                    && let Ok(r) = serde_json::from_value::<AttachmentRef>(v.clone())
                {
                    out.push((field.to_owned(), r));
                    return;
                }
                for (k, child) in map {
                    walk(child, k, out);
                }
            }
            serde_json::Value::Array(items) => {
                for child in items {
                    walk(child, field, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, "", &mut out);
    out
}

/// What [`crate::AttachmentStore::sweep_attachments`] removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AttachmentSweep {
    /// Attachments deleted.
    pub removed: u64,
    /// Their bytes.
    pub bytes: u64,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeSet;

    use serde_json::json;

    use super::*;

    const H1: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const H2: &str = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

    #[test]
    fn references_are_found_at_any_depth_and_only_with_a_numeric_size() {
        let answers = json!({
            "step": "nachweise",
            "answers": {
                "mietvertrag": [{"name": "Mietvertrag.pdf", "type": "application/pdf",
                                 "size": 12, "sha256": H1, "scan": "clean"}],
                "deep": {"list": [[{"sha256": H2, "size": 3}]]},
                "no_size": {"sha256": "a".repeat(64)},
                "text_size": {"sha256": "b".repeat(64), "size": "12"},
                "short": {"sha256": "abc", "size": 1},
                "not_hex": {"sha256": "z".repeat(64), "size": 1},
            }
        });
        let mut found = BTreeSet::new();
        referenced_hashes(&answers, &mut found);
        let want: BTreeSet<AttachmentHash> = [H1.parse().unwrap(), H2.parse().unwrap()].into();
        assert_eq!(found, want);
    }

    #[test]
    fn attachment_refs_name_their_field_and_round_trip() {
        let r = json!({"name": "Lageplan.png", "type": "image/png", "size": 5,
                       "sha256": H2, "scan": "unchecked"});
        let data = json!({"lageplan": [r.clone()], "other": {"x": 1}});
        let refs = attachment_refs(&data);
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].0, "lageplan");
        assert_eq!(refs[0].1.scan, ScanState::Unchecked);
        assert_eq!(refs[0].1.content_type, "image/png");
        assert_eq!(serde_json::to_value(&refs[0].1).unwrap(), r);
        assert!(!format!("{:?}", refs[0].1).contains("Lageplan"));
    }
}
