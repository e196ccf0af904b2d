//! The portal's tenants: read from the project's `portal/` folder (docs/tenants.md), or, when a
//! project has none, the built-in demo (Kreis Heinsberg and its ten municipalities) compiled in
//! from this repository's own `portal/` files, so that `lotse serve` runs without configuration.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lotse_core::portal::{self, Portal, PortalFile};
use lotse_core::problem::Pos;
use lotse_core::{Lang, Problem};
use lotse_receipt::{Logo, TenantInfo};

pub use lotse_core::portal::Tenant;

// The demo's files, compiled in by build.rs from this repository's `portal/` folder.
include!(concat!(env!("OUT_DIR"), "/demo_portal.rs"));

/// The compiled-in demo files below `portal/<prefix>` (for example `leistungen/`): (file name
/// below the prefix, text).
pub fn demo_files(prefix: &str) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
    DEMO_FILES
        .iter()
        .filter_map(move |(name, text)| name.strip_prefix(prefix).map(|n| (n, *text)))
}

/// The portal of `project`: its `portal/` folder, or the built-in demo when there is none.
/// Without a usable portal the built-in demo serves, and the problems say why.
pub fn load(project: &Path) -> (Arc<Portal>, Vec<Problem>) {
    match portal::load_portal(project) {
        Some((Some(p), problems)) => (Arc::new(p), problems),
        Some((None, mut problems)) => {
            let (demo, _) = builtin();
            problems.push(Problem::error(
                "LOT-E101",
                &project.join(portal::PORTAL_DIR).join("portal.yaml"),
                Pos::UNKNOWN,
                "the portal could not be read; the built-in demo portal serves until it is fixed",
            ));
            (demo, problems)
        }
        None => builtin(),
    }
}

/// The portal that a path of a project belongs to: the nearest `portal/` folder at or above
/// `path` (a workflow file or folder), else the built-in demo. For `lotse check` and `lotse test`.
pub fn for_path(path: &Path) -> (Arc<Portal>, Vec<Problem>) {
    let start = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    match start
        .ancestors()
        .find(|dir| dir.join(portal::PORTAL_DIR).join("portal.yaml").is_file())
    {
        Some(project) => load(project),
        None => builtin(),
    }
}

/// The built-in demo portal.
pub fn builtin() -> (Arc<Portal>, Vec<Problem>) {
    let file = |name: &str| {
        DEMO_FILES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, text)| PortalFile {
                path: PathBuf::from("portal").join(n),
                text: (*text).to_string(),
            })
    };
    let tenants: Vec<PortalFile> = DEMO_FILES
        .iter()
        .filter(|(n, _)| n.starts_with("tenants/"))
        .filter_map(|(n, _)| file(n))
        .collect();
    let logos = |tenant_file: &Path, logo: &str| {
        let wanted = tenant_file
            .parent()
            .unwrap_or(Path::new("portal"))
            .join(logo);
        let wanted = normalise(&wanted);
        DEMO_FILES
            .iter()
            .find(|(n, _)| normalise(&Path::new("portal").join(n)) == wanted)
            .map(|(n, text)| (PathBuf::from("portal").join(n), (*text).to_string()))
            .ok_or_else(|| {
                Problem::error(
                    "LOT-E001",
                    &wanted,
                    Pos::UNKNOWN,
                    "cannot read the file: not part of the built-in demo",
                )
            })
    };
    let Some(main) = file("portal.yaml") else {
        return (Arc::new(empty_portal()), Vec::new());
    };
    match portal::parse(&main, &tenants, &logos) {
        (Some(p), problems) => (Arc::new(p), problems),
        (None, problems) => (Arc::new(empty_portal()), problems),
    }
}

/// `a/b/../c` → `a/c` (paths of the compiled-in files).
fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// A portal with one placeholder tenant: only reached when the compiled-in demo itself fails,
/// which its tests rule out.
fn empty_portal() -> Portal {
    let tenant = Tenant {
        slug: "portal".into(),
        name: "Serviceportal".into(),
        place: "Serviceportal".into(),
        kind: lotse_core::portal::TenantKind::Kreis,
        parent: None,
        prefix: "POR".into(),
        colour: "#00587c".into(),
        logo: None,
        initials: "SP".into(),
        address: vec![String::new()],
        office: lotse_core::Text::de("Verwaltung"),
        phone: String::new(),
        email: String::new(),
        opening_hours: Vec::new(),
        services: lotse_core::portal::Services::List(Vec::new()),
        services_at: Pos::UNKNOWN,
        creditor_id: None,
        catalogue: Default::default(),
        file: PathBuf::new(),
    };
    Portal {
        name: lotse_core::Text::de("Serviceportal"),
        contact: lotse_core::portal::Contact {
            phone: String::new(),
            email: String::new(),
            behoerdennummer_115: false,
        },
        links: lotse_core::portal::Links {
            imprint: "/".into(),
            privacy: "/".into(),
            accessibility: "/".into(),
        },
        leichte_sprache: Vec::new(),
        sign_language_video: "/".into(),
        sign_language_description: lotse_core::Text::de(""),
        tenants: vec![Arc::new(tenant)],
        source: None,
    }
}

/// The tenant that shows off `workflow` best in a demo: one that adapts it with an override,
/// else a municipality that offers it, else the top of the portal.
pub fn showcase(portal: &Portal, library: &lotse_core::Library, workflow: &str) -> Arc<Tenant> {
    let adapted = library
        .overrides()
        .iter()
        .filter(|o| o.workflow == workflow)
        .find_map(|o| portal.find(&o.tenant));
    let offering = || {
        portal
            .tenants
            .iter()
            .skip(1)
            .find(|t| t.services.offers(workflow))
    };
    adapted
        .or_else(offering)
        .unwrap_or_else(|| portal.root())
        .clone()
}

/// A workflow's text as one tenant shows it: `{bei_kommune}` becomes "bei der Gemeinde
/// Gangelt" (or "beim Kreis Heinsberg"), `{kommune}` the tenant's name (docs/tenants.md).
pub fn localise(text: &str, t: &Tenant, lang: Lang) -> String {
    if !text.contains('{') {
        return text.to_string();
    }
    text.replace("{bei_kommune}", &t.at_phrase(lang))
        .replace("{kommune}", &t.name)
}

/// What the receipt shows of the tenant.
pub fn receipt_info(t: &Tenant, office: &str) -> TenantInfo {
    TenantInfo {
        id: t.slug.clone(),
        name: t.name.clone(),
        address_lines: t.address.clone(),
        colour_hex: t.colour.clone(),
        logo: Some(Logo::Initials {
            initials: t.initials.clone(),
        }),
        office: office.to_string(),
    }
}

/// The office of `t` in `lang`.
pub fn office(t: &Tenant, lang: Lang) -> &str {
    t.office.get(lang)
}

/// The workflow tenant `t` runs: the county's workflow with the tenant's override (fee, office,
/// receipt texts) applied, or as written when the tenant overrides nothing. `None` is the newest
/// version. Every place that picks a workflow for a tenant goes through here; the derived
/// workflows are built when the definitions load.
pub(crate) fn tenant_workflow(
    library: &lotse_core::Library,
    t: &Tenant,
    id: &str,
    version: Option<u32>,
) -> Option<Arc<lotse_core::Workflow>> {
    match version {
        Some(v) => library.for_tenant(&t.slug, id, v),
        None => library.latest_for_tenant(&t.slug, id),
    }
    .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_demo_is_the_repository_s_portal_folder() {
        let (demo, problems) = builtin();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(demo.tenants.len(), 11);
        assert!(
            demo.root().logo.is_some(),
            "the county's logo is compiled in"
        );
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let (on_disk, problems) = load(&root);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(on_disk.slugs(), demo.slugs());
        // Every file of the folder is compiled in.
        let count = |dir: &str| {
            std::fs::read_dir(root.join("portal").join(dir))
                .map(|d| d.count())
                .unwrap_or(0)
        };
        let compiled = |dir: &str| {
            DEMO_FILES
                .iter()
                .filter(|(n, _)| n.starts_with(dir))
                .count()
        };
        assert_eq!(count("tenants"), compiled("tenants/"));
        assert_eq!(count("logos"), compiled("logos/"));
    }

    #[test]
    fn a_folder_without_portal_files_gets_the_demo() {
        let dir = tempfile::tempdir().unwrap();
        let (p, problems) = load(dir.path());
        assert!(problems.is_empty());
        assert_eq!(p.root().slug, "kreis-heinsberg");
    }
}
