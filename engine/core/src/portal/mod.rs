//! The portal and its tenants as data: a county and its municipalities, each with its kind,
//! reference prefix, colours, logo or monogram, contact data, opening hours and the services it
//! offers. Written by the county in `portal/portal.yaml` and `portal/tenants/<slug>.yaml`,
//! checked here with the file position of every mistake (docs/tenants.md).
//!
//! Reads files only through [`load_portal`]; everything else is pure.

mod check;
mod raw;
pub mod svg;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_saphyr::Spanned;

use crate::definition::files::{files_with_ext, parse_yaml, read_text};
use crate::problem::{Pos, Problem};
use crate::text::{Lang, Text};
use raw::{RawPortal, RawServices, RawTenant};

pub use check::contrast_ratio;

/// The folder in a project that holds the portal's files.
pub const PORTAL_DIR: &str = "portal";
const DOC: &str = "docs/tenants.md";

/// What kind of body a tenant is: it decides how texts name it ("beim Kreis Heinsberg", "bei der
/// Gemeinde Gangelt").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TenantKind {
    Kreis,
    Stadt,
    Gemeinde,
}

impl TenantKind {
    fn parse(s: &str) -> Option<TenantKind> {
        match s {
            "kreis" => Some(TenantKind::Kreis),
            "stadt" => Some(TenantKind::Stadt),
            "gemeinde" => Some(TenantKind::Gemeinde),
            _ => None,
        }
    }

    /// The key in the files: `kreis`, `stadt`, `gemeinde`.
    pub fn key(self) -> &'static str {
        match self {
            TenantKind::Kreis => "kreis",
            TenantKind::Stadt => "stadt",
            TenantKind::Gemeinde => "gemeinde",
        }
    }
}

/// Which workflows a tenant offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Services {
    /// Every workflow of the project.
    All,
    List(Vec<String>),
}

impl Services {
    pub fn offers(&self, workflow: &str) -> bool {
        match self {
            Services::All => true,
            Services::List(l) => l.iter().any(|w| w == workflow),
        }
    }
}

/// One tenant: the county or a municipality.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    pub slug: String,
    /// The official name: `Stadt Erkelenz`.
    pub name: String,
    /// The place: `Erkelenz`.
    pub place: String,
    pub kind: TenantKind,
    /// The slug of the tenant above (the county), `None` for the top.
    pub parent: Option<String>,
    /// Three letters that start every reference number (`ERK-2026-000123`).
    pub prefix: String,
    /// The brand colour, `#rrggbb`; white text on it has a contrast of at least 4.5:1.
    pub colour: String,
    /// The logo as checked SVG markup (no scripts, no external references), if any.
    pub logo: Option<String>,
    /// The letters of the monogram shield (unique in the portal).
    pub initials: String,
    pub address: Vec<String>,
    /// The office citizens turn to (`Bürgerbüro`).
    pub office: Text,
    pub phone: String,
    pub email: String,
    pub opening_hours: Vec<Text>,
    pub services: Services,
    /// Where `services:` is written (for problems about it).
    pub services_at: Pos,
    pub creditor_id: Option<String>,
    /// Its own parts of catalogue entries (entry id → part), laid over the county's entries on
    /// its pages.
    pub catalogue: std::collections::BTreeMap<String, crate::catalogue::LocalPart>,
    /// The file it was read from (for problems and the export).
    pub file: PathBuf,
}

impl Tenant {
    /// "bei der Stadt Erkelenz", "beim Kreis Heinsberg": where something is done.
    pub fn at_phrase(&self, lang: Lang) -> String {
        match (lang, self.kind) {
            (Lang::En, _) => format!("at {}", self.name),
            (Lang::De, TenantKind::Kreis) => format!("beim {}", self.name),
            (Lang::De, _) => format!("bei der {}", self.name),
        }
    }

    /// The address on one line.
    pub fn address_line(&self) -> String {
        self.address.join(", ")
    }
}

/// The links every page's footer carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Links {
    pub imprint: String,
    pub privacy: String,
    pub accessibility: String,
}

/// The portal's general contact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    pub phone: String,
    pub email: String,
    pub behoerdennummer_115: bool,
}

/// The portal: its name, links, the explanations BITV 2.0 asks for, and its tenants.
#[derive(Clone, Debug)]
pub struct Portal {
    pub name: Text,
    pub contact: Contact,
    pub links: Links,
    /// Paragraphs of the explanation in Leichte Sprache.
    pub leichte_sprache: Vec<String>,
    pub sign_language_video: String,
    pub sign_language_description: Text,
    /// The tenants, the top (county) first, then in the order of their slugs.
    pub tenants: Vec<Arc<Tenant>>,
    /// Where the files were read from (`None`: the built-in demo).
    pub source: Option<PathBuf>,
}

impl Portal {
    pub fn find(&self, slug: &str) -> Option<&Arc<Tenant>> {
        self.tenants.iter().find(|t| t.slug == slug)
    }

    /// The tenant at the top of the hierarchy (the county).
    pub fn root(&self) -> &Arc<Tenant> {
        // `parse` never returns a portal without tenants: the root must exist.
        &self.tenants[0]
    }

    pub fn slugs(&self) -> Vec<&str> {
        self.tenants.iter().map(|t| t.slug.as_str()).collect()
    }

    /// The tenants below `slug` (the municipalities of the county).
    pub fn children<'a>(&'a self, slug: &'a str) -> impl Iterator<Item = &'a Arc<Tenant>> + 'a {
        self.tenants
            .iter()
            .filter(move |t| t.parent.as_deref() == Some(slug))
    }
}

/// One file of the portal: its path and text.
pub struct PortalFile {
    pub path: PathBuf,
    pub text: String,
}

/// Reads `<project>/portal/`: `None` when the project has no `portal/portal.yaml` (the caller
/// then uses its built-in default). Problems carry file, line and column.
pub fn load_portal(project: &Path) -> Option<(Option<Portal>, Vec<Problem>)> {
    let dir = project.join(PORTAL_DIR);
    let main = dir.join("portal.yaml");
    if !main.is_file() {
        return None;
    }
    let mut problems = Vec::new();
    let mut read = |path: &Path| match read_text(path) {
        Ok(text) => Some(PortalFile {
            path: path.to_path_buf(),
            text,
        }),
        Err(p) => {
            problems.push(p);
            None
        }
    };
    let portal = read(&main);
    let tenants: Vec<PortalFile> = files_with_ext(&dir.join("tenants"), &["yaml", "yml"])
        .iter()
        .filter_map(|p| read(p))
        .collect();
    let Some(portal) = portal else {
        return Some((None, problems));
    };
    let logos = |tenant_file: &Path, logo: &str| {
        let path = tenant_file.parent().unwrap_or(&dir).join(logo);
        read_text(&path).map(|text| (path, text))
    };
    let (parsed, more) = parse(&portal, &tenants, &logos);
    problems.extend(more);
    Some((
        parsed.map(|mut p| {
            p.source = Some(dir.clone());
            p
        }),
        problems,
    ))
}

/// Where a logo file named in a tenant file is read from: (path, text) or a problem.
pub type LogoReader<'a> = dyn Fn(&Path, &str) -> Result<(PathBuf, String), Problem> + 'a;

/// Parses and checks the portal from its files. `None` when the portal file itself is unusable
/// or has no usable root; otherwise the tenants that passed their checks.
pub fn parse(
    portal: &PortalFile,
    tenant_files: &[PortalFile],
    logos: &LogoReader<'_>,
) -> (Option<Portal>, Vec<Problem>) {
    let mut problems = Vec::new();
    let raw: RawPortal = match parse_yaml(&portal.path, &portal.text, DOC) {
        Ok(r) => r,
        Err(p) => return (None, vec![p]),
    };
    let mut tenants: Vec<Tenant> = Vec::new();
    for f in tenant_files {
        let raw_t: RawTenant = match parse_yaml(&f.path, &f.text, DOC) {
            Ok(r) => r,
            Err(p) => {
                problems.push(p);
                continue;
            }
        };
        if let Some(t) = check::tenant(&f.path, raw_t, logos, &mut problems) {
            tenants.push(t);
        }
    }
    check::across(&portal.path, &raw, &mut tenants, &mut problems);
    check::portal(&portal.path, &raw, &mut problems);
    let root = raw.root.value.clone();
    let Some(at) = tenants.iter().position(|t| t.slug == root) else {
        let known: Vec<&str> = tenants.iter().map(|t| t.slug.as_str()).collect();
        problems.push(
            Problem::error(
                "LOT-E101",
                &portal.path,
                pos(&raw.root),
                format!(
                    "`root` names tenant \"{root}\", but no file in portal/tenants/ has this slug"
                ),
            )
            .with_help(if known.is_empty() {
                "write one file per tenant into portal/tenants/ (docs/tenants.md)".to_string()
            } else {
                format!("tenants: {}", known.join(", "))
            }),
        );
        return (None, problems);
    };
    let top = tenants.remove(at);
    tenants.sort_by(|a, b| a.slug.cmp(&b.slug));
    tenants.insert(0, top);
    let portal = Portal {
        name: raw.name,
        contact: Contact {
            phone: raw.contact.phone.value,
            email: raw.contact.email.value,
            behoerdennummer_115: raw.contact.behoerdennummer_115,
        },
        links: Links {
            imprint: raw.links.imprint.value,
            privacy: raw.links.privacy.value,
            accessibility: raw.links.accessibility.value,
        },
        leichte_sprache: paragraphs(&raw.leichte_sprache.value),
        sign_language_video: raw.gebaerdensprache.video.value,
        sign_language_description: raw.gebaerdensprache.description,
        tenants: tenants.into_iter().map(Arc::new).collect(),
        source: None,
    };
    (Some(portal), problems)
}

/// Checks what the tenants offer against the workflows of the project: an unknown workflow id is
/// an error; a workflow that no tenant offers is a warning (it would be invisible in the portal).
/// Nothing is reported while a workflow file has errors of its own (its id may be the one that
/// failed), and the built-in demo's services are not held against a project without them.
pub fn check_services(
    portal: &Portal,
    workflows: &BTreeSet<String>,
    workflows_failed: bool,
) -> Vec<Problem> {
    if workflows_failed {
        return Vec::new();
    }
    check::services(portal, workflows)
}

/// A tenant that offers a workflow with a SEPA mandate needs its creditor identifier: without
/// it the mandate the citizen gives names no creditor id (a warning, LOT-E108).
pub fn check_mandates(portal: &Portal, library: &crate::Library) -> Vec<Problem> {
    let mut problems = Vec::new();
    for t in &portal.tenants {
        if t.creditor_id.is_some() {
            continue;
        }
        for (id, versions) in &library.workflows {
            let asks = versions.last().is_some_and(|w| w.sepa_mandate.is_some());
            if asks && t.services.offers(id) {
                problems.push(
                    Problem::warning(
                        "LOT-E108",
                        &t.file,
                        t.services_at,
                        format!(
                            "{} offers \"{id}\", which takes a SEPA direct debit mandate, but has no `creditor_id`",
                            t.name
                        ),
                    )
                    .with_help("add the tenant's Gläubiger-Identifikationsnummer as `creditor_id`"),
                );
            }
        }
    }
    problems
}

fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

fn pos<T>(s: &Spanned<T>) -> Pos {
    Pos::from(s.referenced)
}

impl RawServices {
    fn resolve(&self) -> Result<Services, String> {
        match self {
            RawServices::Keyword(k) if k == "all" => Ok(Services::All),
            RawServices::Keyword(k) => Err(format!(
                "`services` is `all` or a list of workflow ids, not \"{k}\""
            )),
            RawServices::List(l) => Ok(Services::List(l.clone())),
        }
    }
}
