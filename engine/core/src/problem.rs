//! Problems found while loading definitions: a stable code, a file, a line and column, and a
//! sentence a form designer understands. `lotse check` renders them compiler style.

use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in one file. Lines and columns start at 1; 0 means "the whole file".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub code: &'static str,
    pub severity: Severity,
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub help: Option<String>,
}

impl Problem {
    pub fn error(code: &'static str, file: &Path, at: Pos, message: impl Into<String>) -> Self {
        Problem {
            code,
            severity: Severity::Error,
            file: file.to_path_buf(),
            line: at.line,
            column: at.column,
            message: message.into(),
            help: None,
        }
    }

    pub fn warning(code: &'static str, file: &Path, at: Pos, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(code, file, at, message)
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}:{}: {kind}[{}]: {}",
            self.file.display(),
            self.line,
            self.column,
            self.code,
            self.message
        )?;
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

/// A position in a source file (1-based; 0 when unknown).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    pub const UNKNOWN: Pos = Pos { line: 0, column: 0 };

    pub fn new(line: usize, column: usize) -> Self {
        Pos { line, column }
    }
}

impl From<serde_saphyr::Location> for Pos {
    fn from(loc: serde_saphyr::Location) -> Self {
        Pos {
            line: loc.line() as usize,
            column: loc.column() as usize,
        }
    }
}
