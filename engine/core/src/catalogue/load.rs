//! Reading catalogue entries from `portal/leistungen/` (every `.yaml`, `.yml` or `.json` file in
//! it) or from given texts (the portal's embedded demo), and the checks `lotse check` runs on
//! them: ids, titles, LeiKa keys, Lebenslagen, who is responsible, workflows, links. Every
//! problem is collected; an entry with an error is left out of what loads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::lebenslagen;
use super::leistung::{Leistung, RawFile, Responsible};
use crate::definition::files::{files_with_ext, parse_yaml, read_text};
use crate::problem::{Pos, Problem};

/// The catalogue's folder in a project.
pub const DIR: &str = "portal/leistungen";

/// What entries are checked against.
#[derive(Clone, Copy)]
pub struct Known<'a> {
    /// Every tenant's slug.
    pub tenants: &'a [&'a str],
    /// Every workflow id of the project.
    pub workflows: &'a BTreeSet<String>,
}

/// Reads every entry file in `dir` (not checked yet: see [`check`]).
pub fn read_dir(dir: &Path) -> (Vec<Leistung>, Vec<Problem>) {
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for file in files_with_ext(dir, &["yaml", "yml", "json"]) {
        match read_text(&file).and_then(|text| parse(&file, &text)) {
            Ok(mut list) => entries.append(&mut list),
            Err(p) => problems.push(p),
        }
    }
    (entries, problems)
}

/// Parses one entry file (YAML or JSON) named `path`.
pub fn parse(path: &Path, text: &str) -> Result<Vec<Leistung>, Problem> {
    let raw: RawFile = parse_yaml(path, text, "docs/catalogue.md")?;
    Ok(raw
        .leistungen
        .into_iter()
        .map(|r| r.into_leistung(path.to_path_buf()))
        .collect())
}

/// Checks entries against each other and against `known`; returns the entries without an
/// error, and every problem.
pub fn check(entries: Vec<Leistung>, known: Known<'_>) -> (Vec<Leistung>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut ids: BTreeMap<String, (PathBuf, Pos)> = BTreeMap::new();
    let mut workflows: BTreeMap<String, (PathBuf, Pos)> = BTreeMap::new();
    let mut good = Vec::new();
    for e in entries {
        let before = problems.len();
        check_one(&e, known, &mut problems);
        if let Some((file, pos)) = ids.get(&e.id) {
            problems.push(
                Problem::error(
                    "LOT-E091",
                    &e.source,
                    e.at.id,
                    format!("the catalogue id \"{}\" is used twice", e.id),
                )
                .with_help(format!(
                    "the first is at {}:{}:{}",
                    file.display(),
                    pos.line,
                    pos.column
                )),
            );
        } else {
            ids.insert(e.id.clone(), (e.source.clone(), e.at.id));
        }
        if let Some(w) = &e.workflow {
            if let Some((file, pos)) = workflows.get(w) {
                problems.push(
                    Problem::error(
                        "LOT-E097",
                        &e.source,
                        e.at.workflow,
                        format!("the workflow \"{w}\" is named by two catalogue entries"),
                    )
                    .with_help(format!(
                        "the other is at {}:{}:{}",
                        file.display(),
                        pos.line,
                        pos.column
                    )),
                );
            } else {
                workflows.insert(w.clone(), (e.source.clone(), e.at.workflow));
            }
        }
        if problems[before..].iter().all(|p| !p.is_error()) {
            good.push(e);
        }
    }
    problems.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    (good, problems)
}

fn check_one(e: &Leistung, known: Known<'_>, problems: &mut Vec<Problem>) {
    let file = e.source.as_path();
    if !is_id(&e.id) {
        problems.push(
            Problem::error(
                "LOT-E090",
                file,
                e.at.id,
                format!("\"{}\" is not a catalogue id", e.id),
            )
            .with_help("lower-case letters, digits and `-`, starting with a letter, e.g. `personalausweis-beantragen`"),
        );
    }
    if e.title.german().trim().is_empty() {
        problems.push(Problem::error(
            "LOT-E092",
            file,
            e.at.title,
            "the entry has an empty title",
        ));
    }
    if let Some(k) = &e.leika
        && !is_leika(k)
    {
        problems.push(
            Problem::error(
                "LOT-E093",
                file,
                e.at.leika,
                format!("\"{k}\" is not a LeiKa key"),
            )
            .with_help(
                "a Leistungsschlüssel has 14 digits, e.g. \"99108001001000\"; write it in quotes",
            ),
        );
    }
    for (i, l) in e.lebenslagen.iter().enumerate() {
        if lebenslagen::lebenslage(l).is_none() {
            let pos = e.at.lebenslagen.get(i).copied().unwrap_or(e.at.entry);
            problems.push(unknown_lebenslage(file, pos, l));
        }
    }
    match &e.responsible {
        Responsible::Kreis | Responsible::Gemeinde => {}
        Responsible::Tenants(list) if list.is_empty() => problems.push(
            Problem::error(
                "LOT-E095",
                file,
                e.at.responsible,
                "`responsible` names no tenant",
            )
            .with_help("`kreis`, `gemeinde`, or a list of tenant slugs"),
        ),
        Responsible::Tenants(list) => {
            for slug in list.iter().filter(|s| !known.tenants.contains(&s.as_str())) {
                problems.push(
                    Problem::error(
                        "LOT-E095",
                        file,
                        e.at.responsible,
                        format!("`responsible` names \"{slug}\", which is neither `kreis`, `gemeinde` nor a tenant"),
                    )
                    .with_help(format!("tenants: {}", known.tenants.join(", "))),
                );
            }
        }
    }
    if let Some(w) = &e.workflow
        && !known.workflows.contains(w)
    {
        problems.push(
            Problem::error(
                "LOT-E097",
                file,
                e.at.workflow,
                format!("the workflow \"{w}\" does not exist"),
            )
            .with_help(
                known
                    .workflows
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        );
    }
    for (key, link, pos) in [
        ("online", &e.online, e.at.online),
        ("form", &e.form, e.at.form),
    ] {
        let Some(link) = link else { continue };
        match link_kind(link) {
            Link::Secure => {}
            Link::Plain => problems.push(
                Problem::warning(
                    "LOT-E096",
                    file,
                    pos,
                    format!("`{key}` is a plain http:// address"),
                )
                .with_help("use https:// where the site offers it"),
            ),
            Link::Broken => problems.push(
                Problem::error(
                    "LOT-E096",
                    file,
                    pos,
                    format!("`{key}` is not a web address: \"{link}\""),
                )
                .with_help("an address like https://www.example.org/antrag.pdf, or a path on the portal starting with /"),
            ),
        }
    }
}

/// An unknown Lebenslage (also used for the Lebenslagen of workflows).
pub fn unknown_lebenslage(file: &Path, pos: Pos, key: &str) -> Problem {
    Problem::error(
        "LOT-E094",
        file,
        pos,
        format!("\"{key}\" is not a Lebenslage"),
    )
    .with_help(format!(
        "docs/catalogue.md lists them: {}",
        lebenslagen::keys()
    ))
}

/// A catalogue id: `a-z0-9-`, starting with a letter, at most 80 characters.
fn is_id(id: &str) -> bool {
    id.len() <= 80
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A LeiKa key: 14 digits.
pub fn is_leika(key: &str) -> bool {
    key.len() == 14 && key.bytes().all(|b| b.is_ascii_digit())
}

/// What kind of address a link is.
#[derive(Debug, PartialEq, Eq)]
pub enum Link {
    /// `https://…` with a plausible host, or a path on the portal.
    Secure,
    /// `http://…`: works, but a warning.
    Plain,
    /// Anything else: not usable as a link.
    Broken,
}

/// Whether a link is an absolute web address (https, or plain http) or a path on the portal.
pub fn link_kind(link: &str) -> Link {
    // Nothing a browser would drop or read differently: whitespace, quotes, angle brackets,
    // backslashes, control characters.
    let clean = !link.is_empty()
        && link.chars().all(|c| {
            c.is_ascii_graphic() && !"\"'<>\\`{}|^".contains(c)
                || (!c.is_ascii() && !c.is_control() && !c.is_whitespace())
        });
    if !clean {
        return Link::Broken;
    }
    let (rest, kind) = if let Some(r) = link.strip_prefix("https://") {
        (r, Link::Secure)
    } else if let Some(r) = link.strip_prefix("http://") {
        (r, Link::Plain)
    } else if link.starts_with('/') && !link.starts_with("//") {
        return Link::Secure;
    } else {
        return Link::Broken;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let name = host.split(':').next().unwrap_or_default();
    let host_ok = name.contains('.')
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    let port_ok = host
        .split_once(':')
        .is_none_or(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if host_ok && port_ok {
        kind
    } else {
        Link::Broken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_web_addresses_or_portal_paths() {
        assert_eq!(link_kind("https://www.example.org/a.pdf"), Link::Secure);
        assert_eq!(
            link_kind("https://formulare.kreis-heinsberg.de:8443/x?y=1"),
            Link::Secure
        );
        assert_eq!(link_kind("/static/formulare/a.pdf"), Link::Secure);
        assert_eq!(link_kind("http://www.example.org"), Link::Plain);
        for broken in [
            "www.example.org",
            "https://",
            "https://localhost",
            "https:// www.example.org",
            "javascript:alert(1)",
            "//evil.example.org",
            "https://exa mple.org",
            "https://example..org",
            "https://example.org:abc/",
            "",
        ] {
            assert_eq!(link_kind(broken), Link::Broken, "{broken}");
        }
    }

    #[test]
    fn leika_keys_have_fourteen_digits() {
        assert!(is_leika("99108001001000"));
        assert!(!is_leika("9910800100100"));
        assert!(!is_leika("99108001001000 "));
        assert!(!is_leika("9910800100100x"));
    }
}
