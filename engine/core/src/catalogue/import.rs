//! Importing catalogue entries from a CSV table (one row per service, the columns named in
//! docs/catalogue.md) or a JSON file, and writing them as a YAML file for `portal/leistungen/`.
//! Problems point to the row and column of the CSV (or the line and column of the JSON), and
//! the imported entries go through the same checks as `lotse check`'s.

use std::path::Path;

use super::leistung::{Leistung, Office, Positions, RawFile, RawLeistung, Responsible};
use super::load;
use crate::definition::files::parse_yaml;
use crate::problem::{Pos, Problem};
use crate::text::{Localized, Text};

/// The columns a CSV table may have. `<column>_en` beside a text column is its English text.
pub const COLUMNS: &[&str] = &[
    "id",
    "title",
    "leika",
    "lebenslagen",
    "responsible",
    "workflow",
    "keywords",
    "summary",
    "description",
    "eligibility",
    "documents",
    "fees",
    "processing_time",
    "deadline",
    "legal_basis",
    "visit",
    "online",
    "form",
    "office_name",
    "office_address",
    "office_phone",
    "office_email",
    "office_hours",
    "notes",
];

/// Columns with a text a citizen reads, which may have an English twin (`title_en`).
const TEXT_COLUMNS: &[&str] = &[
    "title",
    "summary",
    "description",
    "eligibility",
    "documents",
    "fees",
    "processing_time",
    "deadline",
    "legal_basis",
    "office_name",
    "office_hours",
    "notes",
];

/// A cell with where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Cell {
    text: String,
    at: Pos,
}

/// Splits a CSV text (RFC 4180: quotes, doubled quotes, line breaks inside quotes) into rows of
/// cells. The delimiter is `;` when the header has one and no comma (as spreadsheets in German
/// write it), else `,`.
fn rows(path: &Path, text: &str) -> Result<Vec<Vec<Cell>>, Problem> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let header = text.lines().next().unwrap_or_default();
    let delimiter = if header.contains(';') && !header.contains(',') {
        ';'
    } else {
        ','
    };
    let mut out = Vec::new();
    let mut row: Vec<Cell> = Vec::new();
    let mut cell = String::new();
    let (mut line, mut column) = (1usize, 1usize);
    let mut start = Pos::new(1, 1);
    let mut quoted = false;
    let mut quote_at = Pos::UNKNOWN;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let here = Pos::new(line, column);
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    column += 1;
                    cell.push('"');
                }
                '"' => quoted = false,
                '\r' if chars.peek() == Some(&'\n') => {}
                c => cell.push(c),
            }
            continue;
        }
        match c {
            '"' if cell.is_empty() => {
                quoted = true;
                quote_at = here;
            }
            c if c == delimiter => {
                row.push(Cell {
                    text: std::mem::take(&mut cell),
                    at: start,
                });
                start = Pos::new(line, column);
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                row.push(Cell {
                    text: std::mem::take(&mut cell),
                    at: start,
                });
                out.push(std::mem::take(&mut row));
                start = Pos::new(line, column);
            }
            c => cell.push(c),
        }
    }
    if quoted {
        return Err(Problem::error(
            "LOT-E098",
            path,
            quote_at,
            "a quote opened here is never closed",
        ));
    }
    if !cell.is_empty() || !row.is_empty() {
        row.push(Cell {
            text: cell,
            at: start,
        });
        out.push(row);
    }
    // Empty lines are no rows.
    out.retain(|r| r.iter().any(|c| !c.text.trim().is_empty()));
    Ok(out)
}

/// Reads a CSV table of entries. Rows with a problem are left out; the problems say where.
pub fn from_csv(path: &Path, text: &str) -> (Vec<Leistung>, Vec<Problem>) {
    let mut problems = Vec::new();
    let table = match rows(path, text) {
        Ok(t) => t,
        Err(p) => return (Vec::new(), vec![p]),
    };
    let Some((header, body)) = table.split_first() else {
        return (
            Vec::new(),
            vec![Problem::error(
                "LOT-E098",
                path,
                Pos::UNKNOWN,
                "the table is empty",
            )],
        );
    };
    let names: Vec<String> = header.iter().map(|c| c.text.trim().to_string()).collect();
    for (name, cell) in names.iter().zip(header) {
        let base = name.strip_suffix("_en").unwrap_or(name);
        let known = if name.ends_with("_en") {
            TEXT_COLUMNS.contains(&base)
        } else {
            COLUMNS.contains(&name.as_str())
        };
        if !known {
            problems.push(
                Problem::error(
                    "LOT-E098",
                    path,
                    cell.at,
                    format!("unknown column \"{name}\""),
                )
                .with_help(format!("columns: {}", COLUMNS.join(", "))),
            );
        }
    }
    for required in ["id", "title", "responsible"] {
        if !names.iter().any(|n| n == required) {
            problems.push(Problem::error(
                "LOT-E098",
                path,
                Pos::new(1, 1),
                format!("the table has no column \"{required}\""),
            ));
        }
    }
    if problems.iter().any(Problem::is_error) {
        return (Vec::new(), problems);
    }
    let mut entries = Vec::new();
    for row in body {
        if row.len() > names.len() {
            problems.push(Problem::error(
                "LOT-E098",
                path,
                row[names.len()].at,
                format!(
                    "the row has {} cells; the header names {} columns",
                    row.len(),
                    names.len()
                ),
            ));
            continue;
        }
        match entry(path, &names, row) {
            Ok(e) => entries.push(e),
            Err(p) => problems.push(p),
        }
    }
    (entries, problems)
}

/// One row as an entry.
fn entry(path: &Path, names: &[String], row: &[Cell]) -> Result<Leistung, Problem> {
    let row_at = row.first().map(|c| c.at).unwrap_or_default();
    let cell = |name: &str| -> Option<&Cell> {
        names
            .iter()
            .position(|n| n == name)
            .and_then(|i| row.get(i))
            .filter(|c| !c.text.trim().is_empty())
    };
    let plain = |name: &str| cell(name).map(|c| c.text.trim().to_string());
    // Where a column's cell stands, empty or not.
    let pos = |name: &str| {
        names
            .iter()
            .position(|n| n == name)
            .and_then(|i| row.get(i))
            .map_or(row_at, |c| c.at)
    };
    let list = |name: &str| -> Vec<String> {
        plain(name)
            .map(|s| {
                s.split('|')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    let text = |name: &str| -> Option<Text> {
        let de = plain(name)?;
        Some(match plain(&format!("{name}_en")) {
            Some(en) => Text::Localized(Localized { de, en: Some(en) }),
            None => Text::Plain(de),
        })
    };
    let texts = |name: &str| -> Vec<Text> {
        let de = list(name);
        let en = list(&format!("{name}_en"));
        de.into_iter()
            .enumerate()
            .map(|(i, de)| match en.get(i) {
                Some(en) => Text::Localized(Localized {
                    de,
                    en: Some(en.clone()),
                }),
                None => Text::Plain(de),
            })
            .collect()
    };
    let visit = match plain("visit").map(|v| v.to_lowercase()).as_deref() {
        None => None,
        Some("ja" | "yes" | "true" | "1") => Some(true),
        Some("nein" | "no" | "false" | "0") => Some(false),
        Some(other) => {
            return Err(Problem::error(
                "LOT-E098",
                path,
                pos("visit"),
                format!("`visit` is \"{other}\"; write ja or nein"),
            ));
        }
    };
    let responsible = match plain("responsible").as_deref() {
        Some("kreis") => Responsible::Kreis,
        Some("gemeinde") => Responsible::Gemeinde,
        _ => Responsible::Tenants(list("responsible")),
    };
    let office = text("office_name").map(|name| Office {
        name,
        address: list("office_address"),
        phone: plain("office_phone"),
        email: plain("office_email"),
        hours: texts("office_hours"),
    });
    let lebenslagen = list("lebenslagen");
    Ok(Leistung {
        id: plain("id").unwrap_or_default(),
        title: text("title").unwrap_or_else(|| Text::de("")),
        leika: plain("leika"),
        at: Positions {
            entry: row_at,
            id: pos("id"),
            title: pos("title"),
            leika: pos("leika"),
            lebenslagen: vec![pos("lebenslagen"); lebenslagen.len()],
            responsible: pos("responsible"),
            workflow: pos("workflow"),
            online: pos("online"),
            form: pos("form"),
        },
        lebenslagen,
        responsible,
        workflow: plain("workflow"),
        keywords: list("keywords"),
        summary: text("summary"),
        description: text("description"),
        eligibility: text("eligibility"),
        documents: texts("documents"),
        fees: text("fees"),
        processing_time: text("processing_time"),
        deadline: text("deadline"),
        legal_basis: texts("legal_basis"),
        visit,
        online: plain("online"),
        form: plain("form"),
        office,
        notes: text("notes"),
        source: path.to_path_buf(),
    })
}

/// Reads a JSON file of entries: `{"leistungen": [...]}` or the list alone.
pub fn from_json(path: &Path, text: &str) -> Result<Vec<Leistung>, Problem> {
    if text.trim_start().starts_with('[') {
        let list: Vec<RawLeistung> = parse_yaml(path, text, "docs/catalogue.md")?;
        Ok(list
            .into_iter()
            .map(|r| r.into_leistung(path.to_path_buf()))
            .collect())
    } else {
        load::parse(path, text)
    }
}

/// The entries as a file for `portal/leistungen/`.
pub fn to_yaml(entries: &[Leistung]) -> Result<String, String> {
    let file = RawFile {
        leistungen: entries.iter().map(RawLeistung::from).collect(),
    };
    serde_saphyr::to_string(&file).map_err(|e| e.to_string())
}
