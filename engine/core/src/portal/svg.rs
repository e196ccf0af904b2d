//! The check of a tenant's SVG logo: only drawing elements, no scripts, no event handlers, no
//! references outside the file, no DTD (no entities), and a bounded size. A logo that fails is
//! refused with the place of the first offence; nothing is rewritten.

use xmlparser::{Token, Tokenizer};

use crate::problem::Pos;

/// The largest logo accepted.
pub const MAX_LOGO_BYTES: usize = 64 * 1024;

/// Elements a logo may use: shapes, text, groups, gradients, clipping and internal reuse.
const ELEMENTS: &[&str] = &[
    "svg",
    "g",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "title",
    "desc",
    "defs",
    "linearGradient",
    "radialGradient",
    "stop",
    "clipPath",
    "mask",
    "symbol",
    "use",
    "metadata",
];

/// Why a logo was refused, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvgError {
    pub at: Pos,
    pub message: String,
}

/// Checks `text` as a logo.
pub fn check(text: &str) -> Result<(), SvgError> {
    let fail = |offset: usize, message: String| SvgError {
        at: position(text, offset),
        message,
    };
    if text.len() > MAX_LOGO_BYTES {
        return Err(fail(
            0,
            format!(
                "it has {} bytes; a logo may have at most {MAX_LOGO_BYTES}",
                text.len()
            ),
        ));
    }
    let mut root_seen = false;
    // The open elements, to match each end tag with its start.
    let mut open: Vec<&str> = Vec::new();
    let mut pending: Option<&str> = None;
    for token in Tokenizer::from(text) {
        let token = token.map_err(|e| {
            let p = e.pos();
            SvgError {
                at: Pos::new(p.row as usize, p.col as usize),
                message: format!("it is not well-formed XML ({e})"),
            }
        })?;
        match token {
            Token::DtdStart { span, .. }
            | Token::EmptyDtd { span, .. }
            | Token::EntityDeclaration { span, .. } => {
                return Err(fail(
                    span.start(),
                    "it declares a DTD or entities; a logo needs neither".into(),
                ));
            }
            Token::ProcessingInstruction { span, .. } => {
                return Err(fail(
                    span.start(),
                    "it contains a processing instruction".into(),
                ));
            }
            Token::ElementStart { local, span, .. } => {
                let name = local.as_str();
                if !ELEMENTS.contains(&name) {
                    return Err(fail(
                        span.start(),
                        format!(
                            "element <{name}> is not allowed in a logo (allowed: shapes, text, groups, gradients)"
                        ),
                    ));
                }
                pending = Some(name);
                if open.is_empty() {
                    if root_seen || name != "svg" {
                        return Err(fail(
                            span.start(),
                            "the file must be one <svg> element".into(),
                        ));
                    }
                    root_seen = true;
                }
            }
            Token::Attribute {
                prefix,
                local,
                value,
                span,
            } => {
                let name = local.as_str();
                let lower = name.to_ascii_lowercase();
                if lower.starts_with("on") {
                    return Err(fail(
                        span.start(),
                        format!("attribute {name} would run a script"),
                    ));
                }
                let v = value.as_str().trim();
                if name == "href" && !v.starts_with('#') {
                    let full = if prefix.is_empty() {
                        name.to_string()
                    } else {
                        format!("{}:{name}", prefix.as_str())
                    };
                    return Err(fail(
                        span.start(),
                        format!("{full}=\"{v}\" points outside the file; only #ids are allowed"),
                    ));
                }
                let lv = v.to_ascii_lowercase();
                let external_url = lv.match_indices("url(").any(|(i, _)| {
                    !lv[i + 4..]
                        .trim_start_matches(['\'', '"', ' '])
                        .starts_with('#')
                });
                if external_url || lv.contains("javascript:") || lv.contains("@import") {
                    return Err(fail(
                        span.start(),
                        format!("attribute {name} refers to something outside the file"),
                    ));
                }
            }
            Token::ElementEnd { end, span } => match end {
                xmlparser::ElementEnd::Open => open.extend(pending.take()),
                xmlparser::ElementEnd::Close(_, local) => {
                    if open.pop() != Some(local.as_str()) {
                        return Err(fail(
                            span.start(),
                            format!(
                                "it is not well-formed XML (</{}> closes nothing open)",
                                local.as_str()
                            ),
                        ));
                    }
                }
                xmlparser::ElementEnd::Empty => pending = None,
            },
            Token::Cdata { span, .. } => {
                return Err(fail(span.start(), "it contains a CDATA section".into()));
            }
            _ => {}
        }
    }
    if !root_seen {
        return Err(fail(0, "it contains no <svg> element".into()));
    }
    if let Some(name) = open.last() {
        return Err(fail(
            text.len(),
            format!("it is not well-formed XML (<{name}> is never closed)"),
        ));
    }
    Ok(())
}

fn position(text: &str, offset: usize) -> Pos {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Pos::new(line, column)
}
