//! The receipt layout language: what a template renders to, and what the renderer lays out.
//!
//! One directive per line (see docs/receipts.md). Values inserted by `{{…}}` are escaped by
//! [`escape`] so that user text can never start a directive, split a `kv:` row or end a
//! group: newlines, `|`, `#`, `:` and `\` become backslash sequences that [`parse`] turns
//! back into text.

/// One laid-out element.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Coloured band with emblem, tenant name, office and address.
    Letterhead,
    /// `# text`
    Title(String),
    /// `## text`
    Heading(String),
    /// `### text`
    Subheading(String),
    /// `p: text`
    Paragraph(String),
    /// `small: text`
    Small(String),
    /// `note: text`
    Note(String),
    /// `kv: label | value`
    KeyValue(String, String),
    /// `group: title`
    GroupStart(String),
    /// `end`
    GroupEnd,
    /// `list: text`
    ListItem(String),
    /// `space` or `space: mm`
    Space(f32),
    /// `rule`
    Rule,
    /// `pagebreak`
    PageBreak,
}

/// Directives that take text after a colon.
pub const TEXT_DIRECTIVES: &[&str] = &["p", "small", "note", "kv", "group", "list", "space"];
/// Directives that stand alone on their line.
pub const BARE_DIRECTIVES: &[&str] = &["letterhead", "end", "rule", "pagebreak", "space"];

/// A layout line that could not be understood: 1-based line of the generated layout.
#[derive(Debug, Clone, PartialEq)]
pub struct LayoutProblem {
    pub line: usize,
    pub message: String,
}

/// Handlebars escape function for the layout language.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '#' => out.push_str("\\#"),
            ':' => out.push_str("\\:"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' | '\u{2028}' | '\u{2029}' => out.push_str("\\n"),
            '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Turns escape sequences back into text; `\n` becomes a line break.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits at the first unescaped `|`.
fn split_pipe(text: &str) -> Option<(&str, &str)> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'|' => return Some((&text[..i], &text[i + 1..])),
            _ => i += 1,
        }
    }
    None
}

/// Parses rendered layout text into blocks. Blank lines and `//` comments are skipped.
pub fn parse(source: &str) -> Result<Vec<Block>, LayoutProblem> {
    let mut blocks = Vec::new();
    let mut depth = 0usize;
    for (index, raw) in source.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let problem = |message: String| LayoutProblem {
            line: line_no,
            message,
        };
        let block = if let Some(rest) = line.strip_prefix("### ") {
            Block::Subheading(unescape(rest.trim()))
        } else if let Some(rest) = line.strip_prefix("## ") {
            Block::Heading(unescape(rest.trim()))
        } else if let Some(rest) = line.strip_prefix("# ") {
            Block::Title(unescape(rest.trim()))
        } else if BARE_DIRECTIVES.contains(&line) {
            match line {
                "letterhead" => Block::Letterhead,
                "end" => {
                    if depth == 0 {
                        return Err(problem("`end` without an open `group:`".into()));
                    }
                    depth -= 1;
                    Block::GroupEnd
                }
                "rule" => Block::Rule,
                "pagebreak" => Block::PageBreak,
                _ => Block::Space(4.0),
            }
        } else if let Some((name, rest)) = line.split_once(':') {
            let name = name.trim();
            let rest = rest.trim();
            match name {
                "p" => Block::Paragraph(unescape(rest)),
                "small" => Block::Small(unescape(rest)),
                "note" => Block::Note(unescape(rest)),
                "list" => Block::ListItem(unescape(rest)),
                "group" => {
                    depth += 1;
                    if depth > 8 {
                        return Err(problem("groups are nested more than 8 deep".into()));
                    }
                    Block::GroupStart(unescape(rest))
                }
                "kv" => match split_pipe(rest) {
                    Some((label, value)) => {
                        Block::KeyValue(unescape(label.trim()), unescape(value.trim()))
                    }
                    None => {
                        return Err(problem(
                            "`kv:` needs a label and a value separated by `|`".into(),
                        ));
                    }
                },
                "space" => match rest.parse::<f32>() {
                    Ok(mm) if (0.0..=100.0).contains(&mm) => Block::Space(mm),
                    _ => {
                        return Err(problem(format!(
                            "`space:` takes millimetres between 0 and 100, not {rest:?}"
                        )));
                    }
                },
                other => return Err(problem(unknown(other))),
            }
        } else {
            return Err(problem(unknown(line)));
        };
        blocks.push(block);
    }
    if depth > 0 {
        return Err(LayoutProblem {
            line: source.lines().count(),
            message: format!("{depth} `group:` not closed with `end`"),
        });
    }
    Ok(blocks)
}

fn unknown(text: &str) -> String {
    let shown: String = text.chars().take(40).collect();
    format!(
        "unknown layout directive in {shown:?}; a line starts with #, ##, ###, p:, small:, \
         note:, kv:, group:, list:, space, rule, end, pagebreak or letterhead"
    )
}

/// True if a template source line (handlebars tags removed) starts like a directive.
pub fn starts_with_directive(line: &str) -> bool {
    if line.starts_with("# ") || line.starts_with("## ") || line.starts_with("### ") {
        return true;
    }
    if line.starts_with("//") {
        return true;
    }
    let word: String = line
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let rest = line[word.len()..].trim_start();
    (TEXT_DIRECTIVES.contains(&word.as_str()) && rest.starts_with(':'))
        || (BARE_DIRECTIVES.contains(&word.as_str()) && rest.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_values_cannot_inject_directives() {
        let evil = "x\npagebreak\n# Titel | kv: a | b\\";
        let line = format!("kv: Name | {}", escape(evil));
        assert_eq!(line.lines().count(), 1);
        let blocks = parse(&line).ok();
        assert_eq!(
            blocks,
            Some(vec![Block::KeyValue("Name".into(), evil.into())])
        );
    }

    #[test]
    fn script_tags_stay_text() {
        let text = "<script>alert('x')</script>";
        let blocks = parse(&format!("p: {}", escape(text))).ok();
        assert_eq!(blocks, Some(vec![Block::Paragraph(text.into())]));
    }

    #[test]
    fn groups_must_be_balanced() {
        assert!(parse("group: Hund 1\nkv: Name | Bello").is_err());
        assert!(parse("end").is_err());
        assert_eq!(
            parse("group: Hund 1\nkv: Name | Bello\nend").map(|b| b.len()),
            Ok(3)
        );
    }

    #[test]
    fn unknown_directive_names_its_line() {
        let err = parse("p: a\n\nfoo: b").err();
        assert_eq!(err.map(|e| e.line), Some(3));
    }

    #[test]
    fn space_takes_millimetres() {
        assert_eq!(parse("space: 2.5"), Ok(vec![Block::Space(2.5)]));
        assert!(parse("space: -1").is_err());
    }
}
