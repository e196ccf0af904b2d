//! The portal's directory of services: the catalogue entries (`portal/leistungen/`, or the
//! embedded demo when the project has none) merged with the workflows each tenant offers. For
//! every tenant a search index and, per service, who offers it: the tenant itself, the county,
//! or (on the county's portal) the municipalities. Built with the definitions; pure lookups
//! afterwards.
//!
//! This is the one place that reads the tenants for the catalogue: which one is the county
//! ([`is_county`]) and which office is responsible for an entry ([`responsible_office`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lotse_core::catalogue::load::{self, Known};
use lotse_core::catalogue::{Catalogue, Entry, Leistung, Responsible, default_synonyms};
use lotse_core::{Lang, Library, Problem, Text, Workflow};

use crate::tenants::{self, Tenant};
use lotse_core::portal::Portal;

/// Whether `t` is the county (the top of the portal); every other tenant is a municipality.
pub(crate) fn is_county(t: &Tenant) -> bool {
    t.parent.is_none()
}

/// Whether `t` itself offers entry `e`.
fn responsible(e: &Leistung, t: &Tenant) -> bool {
    match &e.responsible {
        Responsible::Kreis => is_county(t),
        Responsible::Gemeinde => !is_county(t),
        Responsible::Tenants(list) => list.contains(&t.slug),
    }
}

/// Reads and checks the project's catalogue entries; the embedded demo when the project has no
/// `portal/leistungen/` (its links to workflows the project does not have are dropped, so that
/// any project serves with the demo catalogue).
pub(crate) fn load_entries(
    project: &Path,
    library: &Library,
    portal: &Portal,
) -> (Vec<Leistung>, Vec<Problem>) {
    let dir = project.join(load::DIR);
    let (entries, mut problems) = if dir.is_dir() {
        load::read_dir(&dir)
    } else if portal.source.is_some() {
        // A county of its own without catalogue entries: its assistants only (the demo's
        // entries name the demo's tenants and offices).
        (Vec::new(), Vec::new())
    } else {
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        for (name, text) in tenants::demo_files("leistungen/") {
            match load::parse(&PathBuf::from(load::DIR).join(name), text) {
                Ok(mut list) => entries.append(&mut list),
                Err(p) => problems.push(p),
            }
        }
        for e in &mut entries {
            if e.workflow
                .as_ref()
                .is_some_and(|w| !library.workflows.contains_key(w))
            {
                e.workflow = None;
            }
        }
        (entries, problems)
    };
    let (entries, more) = check_entries(entries, library, portal);
    problems.extend(more);
    problems.extend(unknown_local_parts(&entries, portal));
    (entries, problems)
}

/// A tenant's part of an entry the catalogue does not have (any more): a warning, the part is
/// not shown.
fn unknown_local_parts(entries: &[Leistung], portal: &Portal) -> Vec<Problem> {
    let ids: BTreeSet<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    portal
        .tenants
        .iter()
        .flat_map(|t| {
            t.catalogue
                .keys()
                .filter(|id| !ids.contains(id.as_str()))
                .map(|id| {
                    Problem::warning(
                        "LOT-E099",
                        &t.file,
                        lotse_core::problem::Pos::UNKNOWN,
                        format!("`catalogue:` names the entry \"{id}\", which the catalogue does not have; it is not shown"),
                    )
                })
        })
        .collect()
}

/// Entry `e` as tenant `t` shows it: with the tenant's own part where it keeps one.
fn local_entry(e: &Arc<Leistung>, t: &Tenant) -> Arc<Leistung> {
    match t.catalogue.get(&e.id) {
        Some(part) if !part.is_empty() => Arc::new(part.apply(e)),
        _ => Arc::clone(e),
    }
}

/// Checks entries against the portal's tenants and the project's workflows.
pub(crate) fn check_entries(
    entries: Vec<Leistung>,
    library: &Library,
    portal: &Portal,
) -> (Vec<Leistung>, Vec<Problem>) {
    let workflows: BTreeSet<String> = library.workflows.keys().cloned().collect();
    let slugs = portal.slugs();
    load::check(
        entries,
        Known {
            tenants: &slugs,
            workflows: &workflows,
        },
    )
}

/// Who offers a service, as a tenant's portal says it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Provider {
    /// The tenant whose portal this is.
    Own,
    /// Other tenants: (slug, name, the service's id on their portal).
    Others(Vec<(String, String, String)>),
}

/// One service as a tenant's portal shows it.
#[derive(Clone, Debug)]
pub(crate) struct Service {
    /// Its id in the tenant's URLs: the workflow's id where the tenant runs the assistant,
    /// else the entry's id.
    pub(crate) id: String,
    pub(crate) title: Text,
    pub(crate) summary: Option<Text>,
    pub(crate) lebenslagen: Vec<String>,
    /// What the search also finds it by: the workflow's keywords and the entry's.
    pub(crate) keywords: Vec<String>,
    /// The catalogue entry, if there is one.
    pub(crate) leistung: Option<Arc<Leistung>>,
    /// Whether this tenant runs the online assistant (the workflow `id`).
    pub(crate) assistant: bool,
    pub(crate) provider: Provider,
}

/// What one tenant's portal offers and finds.
#[derive(Debug)]
pub(crate) struct TenantServices {
    pub(crate) index: Catalogue,
    services: HashMap<String, Service>,
    /// How many online assistants the tenant runs.
    pub(crate) assistants: usize,
}

impl TenantServices {
    pub(crate) fn service(&self, id: &str) -> Option<&Service> {
        self.services.get(id)
    }

    /// Every service of the tenant's portal.
    pub(crate) fn services(&self) -> impl Iterator<Item = &Service> {
        self.services.values()
    }
}

/// Every tenant's services.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    tenants: HashMap<String, TenantServices>,
    /// The catalogue's entries as the county wrote them (without any tenant's own part).
    entries: HashMap<String, Arc<Leistung>>,
}

impl Directory {
    /// Merges the entries with the workflows each tenant offers (every workflow in the
    /// designers' preview).
    pub(crate) fn build(
        library: &Library,
        portal: &Portal,
        entries: Vec<Leistung>,
        dev: bool,
    ) -> Directory {
        let entries: Vec<Arc<Leistung>> = entries.into_iter().map(Arc::new).collect();
        let by_workflow: HashMap<&str, &Arc<Leistung>> = entries
            .iter()
            .filter_map(|e| e.workflow.as_deref().map(|w| (w, e)))
            .collect();
        let offers = |t: &Tenant| -> Vec<Arc<Workflow>> {
            let ids: Vec<&str> = library
                .workflows
                .keys()
                .map(String::as_str)
                .filter(|id| dev || t.services.offers(id))
                .collect();
            ids.into_iter()
                .filter_map(|id| crate::tenants::tenant_workflow(library, t, id, None))
                .collect()
        };
        let offered: HashMap<&str, BTreeSet<String>> = portal
            .tenants
            .iter()
            .map(|t| {
                (
                    t.slug.as_str(),
                    offers(t).iter().map(|w| w.id.clone()).collect(),
                )
            })
            .collect();
        // The id of entry `e` on tenant `t`'s portal.
        let id_on = |e: &Leistung, t: &Tenant| -> String {
            match &e.workflow {
                Some(w) if offered.get(t.slug.as_str()).is_some_and(|o| o.contains(w)) => w.clone(),
                _ => e.id.clone(),
            }
        };
        let synonyms = default_synonyms();
        let mut tenants_services = HashMap::new();
        for t in &portal.tenants {
            let mut services: BTreeMap<String, Service> = BTreeMap::new();
            let workflows = offers(t);
            for wf in &workflows {
                let leistung = by_workflow.get(wf.id.as_str()).map(|e| local_entry(e, t));
                let mut lebenslagen = wf.lebenslagen.clone();
                let mut keywords = wf.keywords.clone();
                if let Some(l) = &leistung {
                    lebenslagen.extend(
                        l.lebenslagen
                            .iter()
                            .filter(|k| !wf.lebenslagen.contains(k))
                            .cloned(),
                    );
                    keywords.extend(l.keywords.iter().cloned());
                    // The entry's title too, where the assistant is called otherwise.
                    if l.title != wf.title {
                        keywords.push(l.title.german().to_string());
                    }
                }
                services.insert(
                    wf.id.clone(),
                    Service {
                        id: wf.id.clone(),
                        title: wf.title.clone(),
                        summary: leistung
                            .as_ref()
                            .and_then(|l| l.summary.clone())
                            .or_else(|| wf.description.clone()),
                        lebenslagen,
                        keywords,
                        leistung,
                        assistant: true,
                        provider: Provider::Own,
                    },
                );
            }
            for e in &entries {
                if e.workflow
                    .as_ref()
                    .is_some_and(|w| services.contains_key(w))
                {
                    continue;
                }
                let (provider, leistung) = if responsible(e, t) {
                    (Provider::Own, local_entry(e, t))
                } else {
                    let others: Vec<_> = portal
                        .tenants
                        .iter()
                        .filter(|o| o.slug != t.slug && responsible(e, o))
                        // A municipality points to the county; the county to everyone.
                        .filter(|o| is_county(t) || is_county(o))
                        .map(|o| (o.slug.clone(), o.name.clone(), id_on(e, o)))
                        .collect();
                    if others.is_empty() {
                        continue;
                    }
                    (Provider::Others(others), Arc::clone(e))
                };
                services.insert(
                    e.id.clone(),
                    Service {
                        id: e.id.clone(),
                        title: e.title.clone(),
                        summary: e.summary.clone(),
                        lebenslagen: e.lebenslagen.clone(),
                        keywords: e.keywords.clone(),
                        leistung: Some(leistung),
                        assistant: false,
                        provider,
                    },
                );
            }
            let index = Catalogue::new(services.values().map(index_entry).collect(), &synonyms);
            tenants_services.insert(
                t.slug.clone(),
                TenantServices {
                    index,
                    services: services.into_iter().collect(),
                    assistants: workflows.len(),
                },
            );
        }
        Directory {
            tenants: tenants_services,
            entries: entries
                .iter()
                .map(|e| (e.id.clone(), Arc::clone(e)))
                .collect(),
        }
    }

    pub(crate) fn tenant(&self, slug: &str) -> Option<&TenantServices> {
        self.tenants.get(slug)
    }

    /// Entry `id` as the county wrote it.
    pub(crate) fn entry(&self, id: &str) -> Option<&Arc<Leistung>> {
        self.entries.get(id)
    }
}

/// What the search index knows of a service: German title, summary, keywords, Lebenslagen.
fn index_entry(s: &Service) -> Entry {
    Entry {
        id: s.id.clone(),
        title: s.title.german().to_string(),
        description: s
            .summary
            .as_ref()
            .map(|d| d.german().to_string())
            .unwrap_or_default(),
        keywords: s.keywords.clone(),
        lebenslagen: s.lebenslagen.clone(),
    }
}

/// How many municipalities the county has (every tenant but the county).
pub(crate) fn municipalities(portal: &Portal) -> usize {
    portal.tenants.iter().filter(|t| !is_county(t)).count()
}

/// An office as a page shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub(crate) struct OfficeView {
    pub(crate) name: String,
    pub(crate) address: Vec<String>,
    pub(crate) phone: Option<String>,
    /// The phone number as a `tel:` link takes it: digits and a leading `+`.
    pub(crate) phone_href: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) hours: Vec<String>,
}

impl OfficeView {
    fn new(
        name: String,
        address: Vec<String>,
        phone: Option<String>,
        email: Option<String>,
        hours: Vec<String>,
    ) -> OfficeView {
        let phone_href = phone.as_ref().map(|p| {
            p.chars()
                .enumerate()
                .filter(|(i, c)| c.is_ascii_digit() || (*i == 0 && *c == '+'))
                .map(|(_, c)| c)
                .collect()
        });
        OfficeView {
            name,
            address,
            phone,
            phone_href,
            email,
            hours,
        }
    }
}

/// The office responsible for entry `e` at tenant `t`: the entry's own office where it names
/// one with an address (the county's offices, outside bodies); otherwise the tenant's
/// (the office the entry names, or the tenant's general one) at the tenant's address and phone.
pub(crate) fn responsible_office(e: Option<&Leistung>, t: &Tenant, lang: Lang) -> OfficeView {
    let own = e.and_then(|e| e.office.as_ref());
    // A tenant's own part may name a phone or e-mail but no office: the tenant's general one.
    let named = own.filter(|o| !o.name.get(lang).is_empty());
    let texts = |list: &[Text]| list.iter().map(|h| h.get(lang).to_string()).collect();
    match own {
        Some(o) if !o.address.is_empty() => OfficeView::new(
            o.name.get(lang).to_string(),
            o.address.clone(),
            o.phone.clone(),
            o.email.clone(),
            texts(&o.hours),
        ),
        _ => OfficeView::new(
            format!(
                "{}, {}",
                named.map_or(t.office.get(lang), |o| o.name.get(lang)),
                t.name
            ),
            t.address.iter().map(|s| s.to_string()).collect(),
            own.and_then(|o| o.phone.clone())
                .or_else(|| Some(t.phone.to_string())),
            own.and_then(|o| o.email.clone()),
            match own.map(|o| &o.hours) {
                Some(h) if !h.is_empty() => texts(h),
                _ => texts(&t.opening_hours),
            },
        ),
    }
}

/// The county's name, for "beim Kreis …".
pub(crate) fn county_name(portal: &Portal) -> &str {
    &portal.root().name
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_project_without_a_catalogue_serves_the_embedded_demo() {
        let empty = tempfile::tempdir().unwrap();
        let library = Library::default();
        let (portal, _) = tenants::builtin();
        let (entries, problems) = load_entries(empty.path(), &library, &portal);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(entries.len() >= 150, "{}", entries.len());
        // Without the demo workflows, the entries do not point to them.
        assert!(entries.iter().all(|e| e.workflow.is_none()));
        let directory = Directory::build(&library, &portal, entries, false);
        let county = directory.tenant("kreis-heinsberg").unwrap();
        let hund = county.service("hundesteuer").unwrap();
        match &hund.provider {
            Provider::Others(list) => assert_eq!(list.len(), portal.tenants.len() - 1),
            Provider::Own => panic!("the county does not collect the dog tax"),
        }
        let gangelt = directory.tenant("gangelt").unwrap();
        assert!(matches!(
            gangelt.service("kfz-zulassung").map(|s| &s.provider),
            Some(Provider::Others(l)) if l[0].0 == "kreis-heinsberg"
        ));
        assert!(
            gangelt.service("buecherei").is_none(),
            "Gangelt has no library"
        );
        assert_eq!(
            gangelt.index.search("Personalausweis", 1)[0].id,
            "personalausweis"
        );
    }

    #[test]
    fn the_office_is_the_entrys_where_it_has_an_address_else_the_tenants() {
        let empty = tempfile::tempdir().unwrap();
        let (portal, _) = tenants::builtin();
        let (entries, _) = load_entries(empty.path(), &Library::default(), &portal);
        let find = |id: &str| entries.iter().find(|e| e.id == id).unwrap();
        let erkelenz = portal.find("erkelenz").unwrap();
        let pass = responsible_office(Some(find("personalausweis")), erkelenz, Lang::De);
        // The tenant's own opening hours (portal/tenants/erkelenz.yaml).
        assert!(
            pass.hours.iter().any(|h| h.contains("Montag bis Freitag")),
            "{pass:?}"
        );
        assert_eq!(pass.name, "Bürgerbüro, Stadt Erkelenz");
        assert_eq!(pass.address, ["Johannismarkt 17", "41812 Erkelenz"]);
        assert_eq!(pass.phone_href.as_deref(), Some("02431850"));
        let kfz = responsible_office(Some(find("kfz-zulassung")), erkelenz, Lang::De);
        assert!(kfz.name.contains("Zulassungsstelle"), "{kfz:?}");
        assert!(!kfz.hours.is_empty());
    }

    #[test]
    fn every_file_of_the_demo_catalogue_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(load::DIR);
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let embedded: Vec<String> = tenants::demo_files("leistungen/")
            .map(|(n, _)| n.to_string())
            .collect();
        assert_eq!(files, embedded);
    }
}
