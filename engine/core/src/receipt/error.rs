//! The one error type of the receipt boundary, with stable codes (docs/errors.md).

use std::fmt;

/// Where a template is wrong: file, 1-based line and column, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateProblem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for TemplateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Everything that can go wrong while rendering, signing or verifying a receipt.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// LOT-R001
    #[error("LOT-R001: receipt template {file} is invalid: {}", list(.problems))]
    TemplateInvalid {
        file: String,
        problems: Vec<TemplateProblem>,
    },
    /// LOT-R002
    #[error("LOT-R002: receipt template {template} failed to render: {message}")]
    TemplateRender { template: String, message: String },
    /// LOT-R003
    #[error(
        "LOT-R003: receipt template {template} produced invalid layout at output line {line}: {message}"
    )]
    Layout {
        template: String,
        line: usize,
        message: String,
    },
    /// LOT-R004
    #[error("LOT-R004: no receipt template named {0} (and no default `receipt`)")]
    TemplateMissing(String),
    /// LOT-R005
    #[error("LOT-R005: cannot read receipt templates from {path}: {source}")]
    TemplateIo {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// LOT-R006
    #[error("LOT-R006: the receipt font could not be loaded: {0}")]
    Font(String),
    /// LOT-R007
    #[error("LOT-R007: tenant colour {0:?} is not of the form #rrggbb")]
    Colour(String),
    /// LOT-R008
    #[error("LOT-R008: the PDF could not be assembled: {0}")]
    Pdf(String),
    /// LOT-R009
    #[error("LOT-R009: signing identity is invalid: {0}")]
    Identity(String),
    /// LOT-R010
    #[error("LOT-R010: signing failed: {0}")]
    Signing(String),
    /// LOT-R011
    #[error("LOT-R011: not a signed receipt: {0}")]
    NotSigned(String),
}

impl ReceiptError {
    /// The stable code, e.g. `LOT-R001`.
    pub fn code(&self) -> &'static str {
        match self {
            ReceiptError::TemplateInvalid { .. } => "LOT-R001",
            ReceiptError::TemplateRender { .. } => "LOT-R002",
            ReceiptError::Layout { .. } => "LOT-R003",
            ReceiptError::TemplateMissing(_) => "LOT-R004",
            ReceiptError::TemplateIo { .. } => "LOT-R005",
            ReceiptError::Font(_) => "LOT-R006",
            ReceiptError::Colour(_) => "LOT-R007",
            ReceiptError::Pdf(_) => "LOT-R008",
            ReceiptError::Identity(_) => "LOT-R009",
            ReceiptError::Signing(_) => "LOT-R010",
            ReceiptError::NotSigned(_) => "LOT-R011",
        }
    }
}

fn list(problems: &[TemplateProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
