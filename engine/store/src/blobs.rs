//! [`BlobKey`]: what a blob of the [`crate::BlobStore`] is and whose. Backend-neutral.

use std::fmt;

use super::ids::SubmissionId;

/// The key of a blob: its kind and the record it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BlobKey {
    /// The signed receipt (PDF) of a submission.
    Receipt(SubmissionId),
}

impl BlobKey {
    /// The kind, as a name: `receipts` (sled's folder, PostgreSQL's table).
    pub fn kind(&self) -> &'static str {
        match self {
            BlobKey::Receipt(_) => "receipts",
        }
    }

    /// The submission this blob belongs to.
    pub fn submission(&self) -> &SubmissionId {
        match self {
            BlobKey::Receipt(id) => id,
        }
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlobKey::Receipt(id) => write!(f, "receipt of {id}"),
        }
    }
}
