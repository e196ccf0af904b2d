//! Reading definition files, shared by workflows, forms, templates, overrides and scenarios:
//! size and encoding checks, the files of a folder, and YAML parsing with located problems.
//! Knows nothing of what a file defines.

use std::path::{Path, PathBuf};

use crate::problem::{Pos, Problem};

/// Files larger than this are refused before parsing.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Reads a text file, refusing huge files and anything that is not UTF-8.
pub(crate) fn read_text(path: &Path) -> Result<String, Problem> {
    let meta = std::fs::metadata(path).map_err(|e| {
        Problem::error(
            "LOT-E001",
            path,
            Pos::UNKNOWN,
            format!("cannot read the file: {e}"),
        )
    })?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(Problem::error(
            "LOT-E001",
            path,
            Pos::UNKNOWN,
            format!(
                "the file is {} bytes; definition files may be at most {MAX_FILE_BYTES} bytes",
                meta.len()
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        Problem::error(
            "LOT-E001",
            path,
            Pos::UNKNOWN,
            format!("cannot read the file: {e}"),
        )
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        Problem::error(
            "LOT-E002",
            path,
            Pos::new(line, column),
            format!("the file is not UTF-8 text (invalid byte at offset {at})"),
        )
        .with_help("save the file as UTF-8")
    })
}

pub(crate) fn files_with_ext(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.is_file()
                        && p.extension()
                            .and_then(|e| e.to_str())
                            .is_some_and(|e| exts.contains(&e))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Parses a definition file (a workflow or an override) into its typed raw form, or a located
/// problem. `doc` names the page that lists every key.
pub(crate) fn parse_yaml<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
    doc: &str,
) -> Result<T, Problem> {
    let options = serde_saphyr::Options::default();
    serde_saphyr::from_str_with_options::<T>(text, options).map_err(|e| {
        let pos = e.location().map(Pos::from).unwrap_or_default();
        let full = e.without_snippet().to_string();
        // The message may repeat the position; keep the first line only.
        let message = full.lines().next().unwrap_or_default().to_string();
        let message = strip_position(&message);
        let message = if message.contains("untagged enum Text") {
            not_a_text(text, pos)
        } else if message.starts_with("invalid u32") || message.starts_with("invalid u64") {
            "expected a whole number".to_string()
        } else if message.contains("expected a JSON number") {
            "expected a number, e.g. 40 or 12.5".to_string()
        } else if message.starts_with("expected mapping start") {
            "expected a map: keys indented under this one, or `{ key: value }`".to_string()
        } else if message.starts_with("expected sequence start") {
            "expected a list: entries on their own lines starting with `- `, or `[a, b]`"
                .to_string()
        } else if message.contains("untagged enum RawRequired") {
            "`required` is true, false or a condition in quotes".to_string()
        } else {
            message
        };
        let code = if message.contains("unknown field") {
            "LOT-E004"
        } else if message.contains("missing field")
            || message.contains("invalid type")
            || message.contains("invalid value")
            || message.contains("unknown variant")
            || message.contains("did not match")
            || message.starts_with("expected ")
        {
            "LOT-E005"
        } else {
            "LOT-E003"
        };
        let mut p = Problem::error(code, path, pos, message);
        if code == "LOT-E004" {
            p = p.with_help(format!("check the spelling; {doc} lists every key"));
        }
        p
    })
}

/// A definition file that was parsed already (the browser's engine gets workflow files and
/// overrides as JSON from the server, so that it needs no YAML parser: docs/browser-engine.md)
/// into its typed raw form; no positions (the server reported them when it loaded the file).
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    value: &serde_json::Value,
    doc: &str,
) -> Result<T, Problem> {
    T::deserialize(value).map_err(|e| {
        Problem::error("LOT-E005", path, Pos::UNKNOWN, e.to_string())
            .with_help(format!("{doc} lists every key"))
    })
}

/// As [`parse_yaml`], but past an unknown key or a wrong value: a misspelt key, or a key whose
/// value on its own line has the wrong type, is taken out (with the lines indented under it, so
/// that every other line keeps its number) and the file is read again, so that `lotse check`
/// reports every such problem of a file at once, and the first problem of another kind after
/// them (a key that is missing because it was taken out is not reported). At most 20 problems.
pub(crate) fn parse_yaml_all<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
    doc: &str,
) -> Result<T, Vec<Problem>> {
    let mut problems: Vec<Problem> = Vec::new();
    let mut current = text.to_string();
    // Keys taken out after a wrong value: their "missing field" is no problem of its own.
    let mut taken: Vec<String> = Vec::new();
    loop {
        match parse_yaml::<T>(path, &current, doc) {
            Ok(v) if problems.is_empty() => return Ok(v),
            Ok(_) => return Err(problems),
            Err(p) => {
                let again = problems
                    .iter()
                    .any(|q| q.line == p.line && q.column == p.column && q.message == p.message);
                let consequence = taken
                    .iter()
                    .any(|k| p.message.contains(&format!("missing field `{k}`")));
                if again || (consequence && !problems.is_empty()) {
                    return Err(problems);
                }
                let next = if problems.len() >= 20 {
                    None
                } else if p.code == "LOT-E004" {
                    without_key_at(&current, p.line, p.column)
                } else if p.code == "LOT-E005" && !p.message.contains("missing field") {
                    // A wrong value after its key on the same line (`version: eins`): the key
                    // is taken out like a misspelt one, and reading goes on.
                    key_before(&current, p.line, p.column).and_then(|(key, column)| {
                        taken.push(key);
                        without_key_at(&current, p.line, column)
                    })
                } else {
                    None
                };
                problems.push(p);
                match next {
                    Some(text) => current = text,
                    None => return Err(problems),
                }
            }
        }
    }
}

/// The block-mapping key on `line` whose value starts at `column` (`  version: eins`), and the
/// key's column; `None` when the value is not on the key's line.
fn key_before(text: &str, line: usize, column: usize) -> Option<(String, usize)> {
    let this = text.split('\n').nth(line.checked_sub(1)?)?;
    let before: String = this.chars().take(column.saturating_sub(1)).collect();
    let (key_part, rest) = before.rsplit_once(':')?;
    if !rest.trim().is_empty() {
        return None;
    }
    let indent = key_part.chars().take_while(|c| *c == ' ').count();
    let key = key_part.trim();
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    plain.then(|| (key.to_string(), indent + 1))
}

/// `text` with the block-mapping key at `line`:`column` (1-based) blanked, and the lines
/// indented deeper under it; `None` when the key is not the first thing on its line (a key in
/// a `{ … }` mapping), where taking the line out would take other keys with it.
fn without_key_at(text: &str, line: usize, column: usize) -> Option<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let at = line.checked_sub(1)?;
    let this = lines.get(at)?;
    let before: String = this.chars().take(column.saturating_sub(1)).collect();
    if !before.chars().all(|c| c == ' ' || c == '-') {
        return None;
    }
    // The first key of a list entry (`- tilte: x`): taking it out would change the list.
    if before.contains('-') {
        return None;
    }
    let indent = before.chars().count();
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    out[at].clear();
    for l in out.iter_mut().skip(at + 1) {
        let deeper = l.chars().take_while(|c| *c == ' ').count() > indent;
        if l.trim().is_empty() || deeper {
            l.clear();
        } else {
            break;
        }
    }
    Some(out.join("\n"))
}

fn strip_position(message: &str) -> String {
    // serde-saphyr appends " at line X column Y"; the position is shown separately.
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Words YAML reads as yes-or-no rather than as text.
const YES_NO: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
    "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
];

/// A scalar that YAML reads as something other than text.
fn read_otherwise(word: &str) -> bool {
    YES_NO.contains(&word) || (!word.is_empty() && word.parse::<f64>().is_ok())
}

/// Why a text at `pos` is not one: YAML reads some words as yes-or-no (`No`, `Y`, `on`) and
/// digits as numbers, which only quotes keep as text; in a map `{de: …, en: …}` the first
/// such word is named.
fn not_a_text(text: &str, pos: Pos) -> String {
    match misread_word(text, pos) {
        Some(word) if YES_NO.contains(&word) => format!(
            "expected a text, but YAML reads `{word}` as yes-or-no (true or false): put it in quotes, \"{word}\""
        ),
        Some(word) => format!(
            "expected a text, but YAML reads `{word}` as a number: put it in quotes, \"{word}\""
        ),
        None => "expected a text: a plain string (German) or a map `{de: ..., en: ...}`; inside `{ }` put texts that contain commas in quotes".to_string(),
    }
}

/// The word at `pos` that YAML does not read as text: the plain scalar there, or a value of
/// the map there (a flow map on its line, or a block map on the lines indented like it).
fn misread_word(text: &str, pos: Pos) -> Option<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let line = *lines.get(pos.line.saturating_sub(1))?;
    let start = line
        .char_indices()
        .nth(pos.column.saturating_sub(1))
        .map_or(line.len(), |(i, _)| i);
    let rest = &line[start..];
    if !rest.trim_start().starts_with('{') && !rest.contains(": ") {
        let end = rest.find([',', '}', ']', '#']).unwrap_or(rest.len());
        let word = rest[..end].trim();
        return read_otherwise(word).then_some(word);
    }
    let indent = |l: &str| l.len() - l.trim_start().len();
    let block = lines
        .iter()
        .skip(pos.line)
        .take_while(|l| indent(l) >= start && !l.trim().is_empty());
    std::iter::once(rest)
        .chain(block.copied())
        .flat_map(|l| l.split([',', '{', '}']))
        .filter_map(|entry| entry.split_once(':').map(|(_, v)| v.trim()))
        .find(|v| read_otherwise(v))
}
