//! What a tenant administrator changes in the Verwaltung: which services the tenant offers, its
//! contact data and opening hours, its own parts of catalogue entries, and its rules (an override of a county workflow: fee rates,
//! office, receipt texts). The files stay the designers' source; these settings are laid over
//! them when the definitions load, and can be exported as the same file format.
//!
//! Stored as numbered records in the store's named-record table (`tenant-settings:<slug>:<n>`,
//! the table that holds the CSRF secret): a change writes record n+1 only if nobody wrote it
//! first, so two administrators cannot overwrite each other unseen, and every node of a
//! PostgreSQL cluster finds a change by looking for the next number (every two seconds).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use lotse_core::catalogue::LocalPart;
use lotse_core::portal::{Portal, Services, Tenant};
use lotse_core::{Library, Problem, Text};
use lotse_store::{AnyStore, SecretStore, StoreError};
use serde::{Deserialize, Serialize};

/// One tenant's changes; `None` and an absent rule mean "as in the files".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSettings {
    /// The workflow ids the tenant offers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// Workflow id → the override as text (the format of docs/overrides.md).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rules: BTreeMap<String, String>,
    /// Catalogue entry id → the tenant's own part, replacing the one of its file; an empty
    /// part shows the county's entry as it is.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub catalogue: BTreeMap<String, LocalPart>,
    /// The appointment schedule (offices, hours, services) as the text of
    /// `portal/termine/<tenant>.yaml`, replacing that file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
}

/// The contact data a tenant administrator keeps (German texts).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub office: String,
    pub phone: String,
    pub email: String,
    pub address: Vec<String>,
    pub opening_hours: Vec<String>,
}

/// Every tenant's settings with the number of its newest record.
#[derive(Clone, Debug, Default)]
pub struct Stored {
    pub by_tenant: BTreeMap<String, (u64, TenantSettings)>,
}

fn record(slug: &str, n: u64) -> String {
    format!("tenant-settings:{slug}:{n}")
}

/// The newest settings of `slug` at or after record `from` (0: from the start).
pub fn read_latest(
    store: &AnyStore,
    slug: &str,
    from: u64,
) -> Result<Option<(u64, TenantSettings)>, StoreError> {
    let mut n = from;
    let mut found = None;
    while let Some(bytes) = store.secret(&record(slug, n + 1))? {
        n += 1;
        found = Some(bytes);
    }
    match found {
        Some(bytes) => {
            let s: TenantSettings =
                serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
                    tree: "secrets",
                    key: record(slug, n),
                    reason: e.to_string(),
                })?;
            Ok(Some((n, s)))
        }
        None => Ok(None),
    }
}

/// Every tenant's newest settings.
pub fn read_all(store: &AnyStore, portal: &Portal) -> Result<Stored, StoreError> {
    let mut by_tenant = BTreeMap::new();
    for t in &portal.tenants {
        if let Some(found) = read_latest(store, &t.slug, 0)? {
            by_tenant.insert(t.slug.clone(), found);
        }
    }
    Ok(Stored { by_tenant })
}

/// Why a change was not stored.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("someone else changed the settings in the meantime")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Stores `settings` as record `after + 1`: refused when that record exists already.
pub fn save(
    store: &AnyStore,
    slug: &str,
    after: u64,
    settings: &TenantSettings,
) -> Result<u64, SaveError> {
    let n = after + 1;
    let bytes = serde_json::to_vec(settings).map_err(|e| StoreError::Corrupt {
        tree: "secrets",
        key: record(slug, n),
        reason: e.to_string(),
    })?;
    let stored = store.secret_or_insert(&record(slug, n), &bytes)?;
    if stored == bytes {
        Ok(n)
    } else {
        Err(SaveError::Conflict)
    }
}

/// Lays the stored settings over the portal read from files: a new portal with the changed
/// tenants.
pub fn apply_to_portal(portal: &Portal, stored: &Stored) -> Portal {
    let mut out = portal.clone();
    out.tenants = portal
        .tenants
        .iter()
        .map(|t| match stored.by_tenant.get(&t.slug) {
            Some((_, s)) => Arc::new(apply_to_tenant(t, s)),
            None => t.clone(),
        })
        .collect();
    out
}

/// One tenant with its settings applied.
pub fn apply_to_tenant(t: &Tenant, s: &TenantSettings) -> Tenant {
    let mut t = t.clone();
    if let Some(list) = &s.services {
        t.services = Services::List(list.clone());
    }
    if let Some(c) = &s.contact {
        t.office = Text::de(c.office.clone());
        t.phone = c.phone.clone();
        t.email = c.email.clone();
        t.address = c.address.clone();
        t.opening_hours = c.opening_hours.iter().cloned().map(Text::de).collect();
    }
    for (id, part) in &s.catalogue {
        if part.is_empty() {
            t.catalogue.remove(id);
        } else {
            t.catalogue.insert(id.clone(), part.clone());
        }
    }
    t
}

/// The name a stored rule has in problems and exports.
pub fn rule_path(slug: &str, workflow: &str) -> PathBuf {
    PathBuf::from(format!("verwaltung/{slug}/regeln/{workflow}.yaml"))
}

/// The name a stored appointment schedule has in problems and exports.
pub fn schedule_path(slug: &str) -> PathBuf {
    PathBuf::from(format!("verwaltung/{slug}/termine.yaml"))
}

/// Applies every stored rule to the library. A rule that no longer fits (the county changed
/// the workflow) is left out, and its problems are returned: the tenant then runs the workflow
/// as its files say until an administrator fixes the rule.
pub fn apply_rules(
    library: &mut Library,
    stored: &Stored,
    sandbox: &lotse_core::script::Sandbox,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (slug, (_, s)) in &stored.by_tenant {
        for (workflow, text) in &s.rules {
            if let Err(ps) = library.apply_override_text(&rule_path(slug, workflow), text, sandbox)
            {
                problems.extend(ps);
            }
        }
    }
    problems
}
