//! The checks of the portal's files: each tenant on its own, then across tenants (unique slugs,
//! prefixes and monograms, a parent that exists), then the services against the workflows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::raw::{RawPortal, RawTenant};
use super::{LogoReader, Portal, Services, Tenant, TenantKind, pos, svg};
use crate::problem::{Pos, Problem};

/// Paths the portal itself uses at the top level: no tenant may take them as its slug.
const RESERVED: &[&str] = &[
    "api",
    "verwaltung",
    "static",
    "sprache",
    "healthz",
    "readyz",
    "metrics",
    "leichte-sprache",
    "gebaerdensprache",
    "suche",
    "konto",
];

/// The smallest contrast of white text on the brand colour (WCAG 2.1, 1.4.3, normal text).
const MIN_CONTRAST: f64 = 4.5;

/// Checks one tenant file; `None` when it cannot be used (the problems say why).
pub(super) fn tenant(
    file: &Path,
    raw: RawTenant,
    logos: &LogoReader<'_>,
    problems: &mut Vec<Problem>,
) -> Option<Tenant> {
    let before = problems.iter().filter(|p| p.is_error()).count();
    let err = |problems: &mut Vec<Problem>, at: Pos, msg: String| {
        problems.push(Problem::error("LOT-E100", file, at, msg));
    };
    let slug = raw.slug.value.clone();
    let slug_ok = (1..=32).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-');
    if !slug_ok {
        err(
            problems,
            pos(&raw.slug),
            format!("slug \"{slug}\" must be 1–32 of a-z, 0-9 and '-', not starting with '-'"),
        );
    } else if RESERVED.contains(&slug.as_str()) {
        err(
            problems,
            pos(&raw.slug),
            format!("slug \"{slug}\" is a path of the portal itself; choose another"),
        );
    }
    let kind = TenantKind::parse(&raw.kind.value);
    if kind.is_none() {
        err(
            problems,
            pos(&raw.kind),
            format!(
                "kind \"{}\" is unknown: use kreis, stadt or gemeinde",
                raw.kind.value
            ),
        );
    }
    let prefix = raw.prefix.value.clone();
    if prefix.len() != 3 || !prefix.bytes().all(|b| b.is_ascii_uppercase()) {
        err(
            problems,
            pos(&raw.prefix),
            format!("prefix \"{prefix}\" must be three capital letters A–Z, e.g. ERK"),
        );
    }
    let colour = raw.colour.value.to_ascii_lowercase();
    match parse_colour(&colour) {
        None => err(
            problems,
            pos(&raw.colour),
            format!(
                "colour \"{}\" must be written #rrggbb, e.g. #00587c",
                raw.colour.value
            ),
        ),
        Some(rgb) => {
            let ratio = contrast_ratio(rgb, (255, 255, 255));
            if ratio < MIN_CONTRAST {
                problems.push(
                    Problem::error(
                        "LOT-E102",
                        file,
                        pos(&raw.colour),
                        format!(
                            "white text on {colour} has a contrast of {ratio:.1}:1; at least 4.5:1 is needed (WCAG 2.1 AA)"
                        ),
                    )
                    .with_help(format!("a darker shade such as {} passes", darker(rgb))),
                );
            }
        }
    }
    if raw.name.value.trim().is_empty() {
        err(problems, pos(&raw.name), "name must not be empty".into());
    }
    if raw.address.value.is_empty() || raw.address.value.iter().any(|l| l.trim().is_empty()) {
        err(
            problems,
            pos(&raw.address),
            "address is a list of lines, e.g. [Johannismarkt 17, 41812 Erkelenz]".into(),
        );
    }
    if !plausible_email(&raw.email.value) {
        err(
            problems,
            pos(&raw.email),
            format!("e-mail \"{}\" is not an address", raw.email.value),
        );
    }
    let services = match raw.services.value.resolve() {
        Ok(s) => Some(s),
        Err(m) => {
            err(problems, pos(&raw.services), m);
            None
        }
    };
    let creditor_id = raw.creditor_id.as_ref().map(|c| c.value.replace(' ', ""));
    if let (Some(c), Some(at)) = (&creditor_id, &raw.creditor_id)
        && !creditor_id_valid(c)
    {
        err(
            problems,
            pos(at),
            format!(
                "creditor_id \"{}\" is not a valid SEPA creditor identifier (e.g. DE98ZZZ09999999999)",
                at.value
            ),
        );
    }
    let logo = match &raw.logo {
        None => None,
        Some(l) => match logos(file, &l.value) {
            Err(mut p) => {
                p.message = format!("logo \"{}\": {}", l.value, p.message);
                problems.push(p);
                None
            }
            Ok((path, text)) => match svg::check(&text) {
                Ok(()) => Some(text),
                Err(e) => {
                    problems.push(Problem::error(
                        "LOT-E103",
                        &path,
                        e.at,
                        format!("the logo is refused: {}", e.message),
                    ));
                    None
                }
            },
        },
    };
    let initials = match &raw.initials {
        Some(i) => {
            let n = i.value.chars().count();
            if !(1..=3).contains(&n) || !i.value.chars().all(char::is_alphabetic) {
                err(
                    problems,
                    pos(i),
                    "initials are one to three letters, e.g. ER".into(),
                );
            }
            i.value.to_uppercase()
        }
        None => String::new(),
    };
    let catalogue = raw.catalogue.map(|c| {
        let at = pos(&c);
        for (id, part) in &c.value {
            for e in part.check() {
                problems.push(Problem::error(
                    "LOT-E099",
                    file,
                    at,
                    format!("catalogue entry \"{id}\": {e}"),
                ));
            }
        }
        c.value
    });
    if problems.iter().filter(|p| p.is_error()).count() > before {
        return None;
    }
    let kind = kind?;
    let name = raw.name.value.trim().to_string();
    let place = raw
        .place
        .map(|p| p.value)
        .unwrap_or_else(|| place_of(&name, kind).to_string());
    Some(Tenant {
        slug,
        name,
        place,
        kind,
        parent: raw.parent.map(|p| p.value),
        prefix,
        colour,
        logo,
        initials,
        address: raw.address.value,
        office: raw.office,
        phone: raw.phone.value,
        email: raw.email.value,
        opening_hours: raw.opening_hours,
        services: services?,
        services_at: pos(&raw.services),
        creditor_id,
        catalogue: catalogue.unwrap_or_default(),
        file: file.to_path_buf(),
    })
}

/// Checks across tenants: unique slugs and prefixes, parents that exist, and the monograms
/// (derived ones are made unique).
pub(super) fn across(
    portal_file: &Path,
    raw: &RawPortal,
    tenants: &mut Vec<Tenant>,
    problems: &mut Vec<Problem>,
) {
    let mut seen_slug: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut seen_prefix: BTreeMap<String, PathBuf> = BTreeMap::new();
    tenants.retain(|t| {
        if let Some(other) = seen_slug.get(&t.slug) {
            problems.push(Problem::error(
                "LOT-E104",
                &t.file,
                Pos::new(1, 1),
                format!("slug \"{}\" is already taken by {}", t.slug, other.display()),
            ));
            return false;
        }
        if let Some(other) = seen_prefix.get(&t.prefix) {
            problems.push(Problem::error(
                "LOT-E104",
                &t.file,
                Pos::new(1, 1),
                format!(
                    "prefix \"{}\" is already used by {}: reference numbers must tell tenants apart",
                    t.prefix,
                    other.display()
                ),
            ));
            return false;
        }
        seen_slug.insert(t.slug.clone(), t.file.clone());
        seen_prefix.insert(t.prefix.clone(), t.file.clone());
        true
    });
    let slugs: BTreeSet<String> = tenants.iter().map(|t| t.slug.clone()).collect();
    for t in tenants.iter_mut() {
        match &t.parent {
            Some(p) if !slugs.contains(p) => {
                problems.push(
                    Problem::error(
                        "LOT-E101",
                        &t.file,
                        Pos::new(1, 1),
                        format!("parent \"{p}\" is not a tenant of this portal"),
                    )
                    .with_help(format!(
                        "the top of the portal is \"{}\" (`root` in {})",
                        raw.root.value,
                        portal_file.display()
                    )),
                );
                t.parent = None;
            }
            None if t.slug != raw.root.value => {
                t.parent = Some(raw.root.value.clone());
            }
            _ => {}
        }
    }
    // A county's shield reads its whole name (Kreis Heinsberg: KH), a municipality's its place.
    let shield_name = |t: &Tenant| match t.kind {
        TenantKind::Kreis => t.name.clone(),
        _ => t.place.clone(),
    };
    let places: Vec<(String, String)> = tenants
        .iter()
        .map(|t| (t.slug.clone(), shield_name(t)))
        .collect();
    for t in tenants.iter_mut() {
        if t.initials.is_empty() {
            t.initials = monogram(&t.slug, &shield_name(t), &places);
        }
    }
}

/// Checks the portal file's own values.
pub(super) fn portal(file: &Path, raw: &RawPortal, problems: &mut Vec<Problem>) {
    for link in [
        &raw.links.imprint,
        &raw.links.privacy,
        &raw.links.accessibility,
        &raw.gebaerdensprache.video,
    ] {
        if !(link.value.starts_with("https://") || link.value.starts_with('/')) {
            problems.push(Problem::error(
                "LOT-E105",
                file,
                pos(link),
                format!(
                    "link \"{}\" must start with https:// or / (a page of this portal)",
                    link.value
                ),
            ));
        }
    }
    if !plausible_email(&raw.contact.email.value) {
        problems.push(Problem::error(
            "LOT-E100",
            file,
            pos(&raw.contact.email),
            format!("e-mail \"{}\" is not an address", raw.contact.email.value),
        ));
    }
    if raw.leichte_sprache.value.trim().is_empty() {
        problems.push(Problem::error(
            "LOT-E100",
            file,
            pos(&raw.leichte_sprache),
            "the explanation in Leichte Sprache must not be empty (BITV 2.0 asks for it)",
        ));
    }
}

/// Every workflow id a tenant names must exist; a workflow no tenant offers is a warning.
pub(super) fn services(portal: &Portal, workflows: &BTreeSet<String>) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut offered: BTreeSet<&str> = BTreeSet::new();
    for t in &portal.tenants {
        match &t.services {
            Services::All => offered.extend(workflows.iter().map(String::as_str)),
            Services::List(list) => {
                for id in list {
                    if workflows.contains(id) {
                        offered.insert(id);
                    } else if portal.source.is_some() {
                        let known: Vec<&str> = workflows.iter().map(String::as_str).collect();
                        problems.push(
                            Problem::error(
                                "LOT-E106",
                                &t.file,
                                t.services_at,
                                format!("service \"{id}\" is not a workflow of this project"),
                            )
                            .with_help(format!("workflows: {}", known.join(", "))),
                        );
                    }
                }
            }
        }
    }
    for id in workflows {
        if !offered.contains(id.as_str()) {
            let (dir, help) = match &portal.source {
                Some(d) => (
                    d.join("tenants"),
                    format!(
                        "add \"{id}\" to `services:` of the tenants that offer it (or write `services: all`)"
                    ),
                ),
                None => (
                    PathBuf::from("portal/tenants"),
                    "this project has no portal/portal.yaml, so the built-in demo portal serves it, \
                     whose tenants do not offer this workflow: write portal/ as docs/tenants.md shows, \
                     or preview it with `lotse serve --dev`, which offers every workflow everywhere"
                        .to_string(),
                ),
            };
            problems.push(
                Problem::warning(
                    "LOT-E107",
                    &dir,
                    Pos::UNKNOWN,
                    format!("workflow \"{id}\" is offered by no tenant: citizens cannot find it"),
                )
                .with_help(help),
            );
        }
    }
    problems
}

/// The contrast ratio of two colours (WCAG 2.1 relative luminance).
pub fn contrast_ratio(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

fn luminance((r, g, b): (u8, u8, u8)) -> f64 {
    let ch = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b)
}

fn parse_colour(s: &str) -> Option<(u8, u8, u8)> {
    let hex = s.strip_prefix('#')?;
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some((byte(0)?, byte(2)?, byte(4)?))
}

/// The same hue, darkened until white text on it reaches 4.5:1.
fn darker((r, g, b): (u8, u8, u8)) -> String {
    let mut f = 1.0_f64;
    loop {
        f -= 0.02;
        let scale = |c: u8| (f64::from(c) * f).round().clamp(0.0, 255.0) as u8;
        let c = (scale(r), scale(g), scale(b));
        if contrast_ratio(c, (255, 255, 255)) >= MIN_CONTRAST || f <= 0.0 {
            return format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2);
        }
    }
}

fn plausible_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(|c| c.is_whitespace() || c == '<' || c == '>')
        }
        None => false,
    }
}

/// A SEPA creditor identifier: country, two check digits, a three-character business code
/// (not part of the check) and the national identifier; checked with ISO 7064 MOD 97-10.
fn creditor_id_valid(id: &str) -> bool {
    let id = id.to_ascii_uppercase();
    if !(8..=35).contains(&id.len()) || !id.is_ascii() {
        return false;
    }
    let (country, rest) = id.split_at(2);
    let (check, rest) = rest.split_at(2);
    let national = &rest[3.min(rest.len())..];
    if !country.bytes().all(|b| b.is_ascii_uppercase())
        || !check.bytes().all(|b| b.is_ascii_digit())
        || national.is_empty()
        || !national.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return false;
    }
    if country == "DE" && id.len() != 18 {
        return false;
    }
    let moved = format!("{national}{country}{check}");
    let mut rem: u32 = 0;
    for c in moved.chars() {
        let v = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        let digits = if v >= 10 { 100 } else { 10 };
        rem = (rem * digits + v) % 97;
    }
    rem == 1
}

/// A municipality's place: its name without the kind (`Stadt Erkelenz` → `Erkelenz`).
fn place_of(name: &str, kind: TenantKind) -> &str {
    let word = match kind {
        TenantKind::Kreis => "Kreis ",
        TenantKind::Stadt => "Stadt ",
        TenantKind::Gemeinde => "Gemeinde ",
    };
    name.strip_prefix(word).unwrap_or(name)
}

/// The initials of a place of several words (`Übach-Palenberg` → `ÜP`), else its first two
/// letters; where two places share them (Waldfeucht, Wassenberg), the first letter and the first
/// one where the names part (WL, WS).
pub(super) fn monogram(slug: &str, place: &str, all: &[(String, String)]) -> String {
    let mine = two_letters(place);
    let twin = all
        .iter()
        .filter(|(s, _)| s != slug)
        .map(|(_, p)| p.as_str())
        .find(|o| two_letters(o) == mine);
    let Some(twin) = twin else {
        return mine;
    };
    let differs = place
        .chars()
        .zip(twin.chars().chain(std::iter::repeat(' ')))
        .find(|(a, b)| a != b)
        .map(|(a, _)| a);
    match (place.chars().next(), differs) {
        (Some(first), Some(d)) => format!("{first}{d}").to_uppercase(),
        _ => mine,
    }
}

fn two_letters(place: &str) -> String {
    let parts: Vec<char> = place
        .split([' ', '-'])
        .filter_map(|w| w.chars().next())
        .collect();
    if parts.len() >= 2 {
        parts.iter().take(2).collect::<String>().to_uppercase()
    } else {
        place.chars().take(2).collect::<String>().to_uppercase()
    }
}

#[cfg(test)]
pub(super) fn creditor_id_valid_for_tests(id: &str) -> bool {
    creditor_id_valid(id)
}
