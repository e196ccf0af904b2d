//! What every compile pass shares: the file being compiled, what it is checked against, and the
//! problems found so far. Compiling a script goes through here so that its syntax errors point
//! into the file.

use std::path::Path;

use serde_saphyr::Spanned;

use crate::form::{FormSet, SchemaCompiler};
use crate::problem::{Pos, Problem};
use crate::script::{Expr, Names, Sandbox, ScriptError};

pub(in crate::definition) struct Ctx<'a> {
    pub(in crate::definition) path: &'a Path,
    pub(in crate::definition) source: &'a str,
    pub(in crate::definition) forms: &'a FormSet,
    pub(in crate::definition) compiler: &'a SchemaCompiler,
    pub(in crate::definition) sandbox: &'a Sandbox,
    pub(in crate::definition) problems: Vec<Problem>,
    /// Every compiled script with where it came from, for a trial run at the end.
    pub(in crate::definition) compiled: Vec<(Pos, String, Expr)>,
}

impl Ctx<'_> {
    pub(in crate::definition) fn error(
        &mut self,
        code: &'static str,
        at: Pos,
        message: impl Into<String>,
    ) {
        self.problems
            .push(Problem::error(code, self.path, at, message));
    }

    pub(in crate::definition) fn error_help(
        &mut self,
        code: &'static str,
        at: Pos,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.problems
            .push(Problem::error(code, self.path, at, message).with_help(help));
    }

    pub(super) fn warn(&mut self, code: &'static str, at: Pos, message: impl Into<String>) {
        self.problems
            .push(Problem::warning(code, self.path, at, message));
    }

    /// Whether an error was found since `before` problems were recorded.
    pub(super) fn errors_since(&self, before: usize) -> bool {
        self.problems[before..].iter().any(Problem::is_error)
    }

    /// Compiles an expression, mapping a syntax error's position into the file.
    pub(in crate::definition) fn expr(
        &mut self,
        what: &str,
        src: &Spanned<String>,
        names: &Names,
        script: bool,
    ) -> Option<Expr> {
        let result = if script {
            self.sandbox.compile_script(&src.value, names)
        } else {
            self.sandbox.compile_expression(&src.value, names)
        };
        match result {
            Ok(e) => {
                let at = pos(src);
                let e = e.placed(at.line, at.column);
                self.compiled.push((at, what.to_string(), e.clone()));
                Some(e)
            }
            Err(ScriptError::Syntax {
                message,
                line,
                column,
            }) => {
                let at = script_pos(self.source, pos(src), line, column);
                let help = if message.contains("Undefined variable")
                    || message.contains("Variable not found")
                    || message.starts_with("unknown function")
                {
                    Some("a script can use the fields and computed values of this workflow; see docs/workflow-language.md for the library".to_string())
                } else {
                    None
                };
                let msg = format!("{what}: {}", friendly_script_message(&message));
                match help {
                    Some(h) => self.error_help("LOT-E030", at, msg, h),
                    None => self.error("LOT-E030", at, msg),
                }
                None
            }
            Err(other) => {
                self.error(other.code(), pos(src), format!("{what}: {other}"));
                None
            }
        }
    }
}

fn friendly_script_message(m: &str) -> String {
    // rhai says "Undefined variable: x"; say what it means for a designer.
    for prefix in ["Undefined variable: ", "Variable not found: "] {
        if let Some(name) = m.strip_prefix(prefix) {
            return format!(
                "unknown name `{name}`: no field or computed value of this workflow is called so (a computed value sees only those defined before it)"
            );
        }
    }
    m.to_string()
}

pub(in crate::definition) fn pos<T>(s: &Spanned<T>) -> Pos {
    Pos::from(s.referenced)
}

/// Maps a position inside a script to the file: the scalar may be quoted or a block scalar.
pub(super) fn script_pos(source: &str, at: Pos, line: usize, column: usize) -> Pos {
    let Some(text_line) = source.lines().nth(at.line.saturating_sub(1)) else {
        return at;
    };
    let first: Option<char> = text_line.chars().nth(at.column.saturating_sub(1));
    let indent = |line: usize| {
        source
            .lines()
            .nth(line.saturating_sub(1))
            .map(|l| l.chars().take_while(|c| *c == ' ').count())
            .unwrap_or(0)
    };
    match first {
        // Block scalar marker: the script starts on the next line, indented.
        Some('|') | Some('>') => {
            let l = at.line + line;
            Pos::new(l, indent(l) + column)
        }
        Some('"') | Some('\'') if line == 1 => Pos::new(at.line, at.column + column),
        _ if line == 1 => Pos::new(at.line, at.column + column - 1),
        _ => {
            let l = at.line + line - 1;
            Pos::new(l, indent(l) + column)
        }
    }
}
