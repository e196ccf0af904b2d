//! The one error type of the store boundary. Every variant has a stable code (`LOT-S…`) that is
//! listed in docs/errors.md; codes are never reused for a different meaning.

use time::Duration;

use super::model::Draft;

/// Everything that can go wrong in a store call.
///
/// Messages name records by tree and key (ids, never personal data), so they are safe to log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The storage engine itself failed (I/O, disk full, sled internal error).
    #[error("LOT-S001: storage failure: {0}")]
    Storage(String),

    /// A record that the call needs does not exist.
    #[error("LOT-S002: {what} not found: {key}")]
    NotFound { what: &'static str, key: String },

    /// Optimistic concurrency: the draft was changed since the caller read it.
    /// `current` is the stored draft, so the caller can merge or show it.
    #[error("LOT-S003: draft {} was changed concurrently (stored revision {}, expected {expected})", current.id, current.revision)]
    Conflict { current: Box<Draft>, expected: u64 },

    /// A record with this id exists already.
    #[error("LOT-S004: {what} already exists: {key}")]
    AlreadyExists { what: &'static str, key: String },

    /// A record was written by a newer Lotse version; this binary cannot read it.
    #[error(
        "LOT-S005: record {tree}/{key} has format version {found}, this build reads up to {supported}; upgrade Lotse"
    )]
    NewerFormat {
        tree: &'static str,
        key: String,
        found: u32,
        supported: u32,
    },

    /// A record could not be decoded. Other records stay readable.
    #[error("LOT-S006: record {tree}/{key} is unreadable: {reason}")]
    Corrupt {
        tree: &'static str,
        key: String,
        reason: String,
    },

    /// A record has an older format version that no migration covers.
    #[error("LOT-S007: record {tree}/{key} has format version {found} and cannot be migrated")]
    NoMigration {
        tree: &'static str,
        key: String,
        found: u32,
    },

    /// Text that should be an id, reference, code or slug is malformed.
    #[error("LOT-S008: invalid {kind}: {reason}")]
    InvalidId { kind: &'static str, reason: String },

    /// A status change that the status model does not allow.
    #[error("LOT-S009: status change from {from} to {to} is not allowed")]
    InvalidTransition {
        from: &'static str,
        to: &'static str,
    },

    /// `import_jsonl` only writes into an empty store.
    #[error("LOT-S010: import refused: the target store is not empty")]
    ImportIntoNonEmpty,

    /// A line of an import file is malformed.
    #[error("LOT-S011: import line {line}: {reason}")]
    ImportFormat { line: u64, reason: String },

    /// Reading or writing an export stream failed.
    #[error("LOT-S012: export/import stream failed: {0}")]
    Stream(#[source] std::io::Error),

    /// The operating system gave no randomness.
    #[error("LOT-S013: no randomness available: {0}")]
    Entropy(String),

    /// Too many wrong resume codes from one client.
    #[error("LOT-S014: too many wrong resume codes, retry in {} s", retry_after.whole_seconds())]
    RateLimited { retry_after: Duration },

    /// A value is outside what the store accepts (too long, out of range).
    #[error("LOT-S015: invalid input: {0}")]
    InvalidInput(String),
    /// Every counter of the office is taken at that time (by confirmed visits or holds).
    #[error("LOT-S016: the time is fully booked")]
    SlotTaken,
    /// A hold that was not confirmed in time, or a visit no longer in the state asked for.
    #[error("LOT-S017: the visit is {0}")]
    VisitGone(&'static str),
}

impl StoreError {
    /// The stable code, e.g. `"LOT-S003"`, for logs, problem+json and the documentation.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Storage(_) => "LOT-S001",
            Self::NotFound { .. } => "LOT-S002",
            Self::Conflict { .. } => "LOT-S003",
            Self::AlreadyExists { .. } => "LOT-S004",
            Self::NewerFormat { .. } => "LOT-S005",
            Self::Corrupt { .. } => "LOT-S006",
            Self::NoMigration { .. } => "LOT-S007",
            Self::InvalidId { .. } => "LOT-S008",
            Self::InvalidTransition { .. } => "LOT-S009",
            Self::ImportIntoNonEmpty => "LOT-S010",
            Self::ImportFormat { .. } => "LOT-S011",
            Self::Stream(_) => "LOT-S012",
            Self::Entropy(_) => "LOT-S013",
            Self::RateLimited { .. } => "LOT-S014",
            Self::InvalidInput(_) => "LOT-S015",
            Self::SlotTaken => "LOT-S016",
            Self::VisitGone(_) => "LOT-S017",
        }
    }
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        Self::Storage(e.to_string())
    }
}

impl From<sled::transaction::TransactionError<StoreError>> for StoreError {
    fn from(e: sled::transaction::TransactionError<StoreError>) -> Self {
        match e {
            sled::transaction::TransactionError::Abort(inner) => inner,
            sled::transaction::TransactionError::Storage(s) => s.into(),
        }
    }
}

/// Renders a key for error messages: printable ASCII as is, anything else as hex.
pub(crate) fn show_key(key: &[u8]) -> String {
    if !key.is_empty() && key.iter().all(|b| b.is_ascii_graphic()) {
        String::from_utf8_lossy(key).into_owned()
    } else {
        super::ids::hex(key)
    }
}
