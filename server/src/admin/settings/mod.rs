//! The Verwaltung of a municipality's own part, for its tenant administrators: which services it
//! offers, its contact data and opening hours, its rules (fee rates, office, receipt texts: an
//! override of a county workflow, checked exactly as `lotse check` checks an override file, with
//! a preview), the case workers' accounts, and an export in the files' format. Every change is
//! all-or-nothing, in the audit log with before and after, and in effect at once (other nodes:
//! within two seconds).
//!
//! This module holds the settings page and what every part shares (the compare-and-set change
//! with its audit entry); each part has its own file.

mod accounts;
mod catalogue;
mod export;
mod receipt;
mod rules;
mod schedule;

pub(super) use accounts::accounts;
pub(super) use catalogue::{catalogue_entry, catalogue_list, catalogue_save};
pub(super) use export::{export_protocol, export_rule, export_tenant};
pub(super) use receipt::receipt_preview;
pub(super) use rules::rule;
pub(super) use schedule::{export_schedule, schedule};

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lotse_store::{AccountStore, Actor, AuditAction, AuditStore, Role};
use serde::Serialize;
use serde_json::Value;

use super::extractors::TenantAdmin;
use super::views::{AdminLayout, error_page};
use super::{AdminError, Shared, Staff, run};
use crate::http::pages::Page;
use crate::settings::{self, Contact, SaveError, TenantSettings};
use crate::tenants::Tenant;

type Pairs = Vec<(String, String)>;

/// A form field's value; an absent field is empty.
fn field<'a>(pairs: &'a Pairs, name: &str) -> &'a str {
    crate::http::extractors::field(pairs, name).unwrap_or_default()
}

/// The settings page.
#[derive(Serialize)]
pub(super) struct SettingsPage {
    #[serde(flatten)]
    layout: AdminLayout,
    notice: Option<String>,
    services: Vec<ServiceSwitch>,
    contact: Contact,
    rules: Vec<RuleView>,
    /// The appointment schedule (offices, hours, services).
    schedule: schedule::ScheduleView,
    accounts: Vec<AccountView>,
    roles: Vec<RoleOption>,
    /// A password made for a new or reset account: shown once.
    password: Option<NewPassword>,
    errors: Vec<String>,
    /// Why the audit log's download was refused (a reference or day), shown at its form.
    protocol_error: Option<String>,
    /// Stored rules that no longer fit the county's workflows (left out until fixed).
    left_out: Vec<String>,
}

impl Page for SettingsPage {
    const TEMPLATE: &'static str = "settings";
}

#[derive(Serialize)]
struct ServiceSwitch {
    id: String,
    title: String,
    on: bool,
}

#[derive(Serialize, Default)]
struct RuleView {
    id: String,
    title: String,
    /// Where the rule in effect comes from.
    source: &'static str,
    stored: bool,
    text: String,
    errors: Vec<String>,
    preview: Vec<PreviewRow>,
    /// The names of the examples in the preview, to open one's receipt as a Muster.
    examples: Vec<String>,
    checked: bool,
}

#[derive(Serialize)]
struct PreviewRow {
    example: String,
    value: String,
    before: String,
    after: String,
    changed: bool,
}

#[derive(Serialize)]
struct AccountView {
    login: String,
    name: String,
    role: &'static str,
    disabled: bool,
    own: bool,
}

#[derive(Serialize)]
struct RoleOption {
    key: &'static str,
    label: &'static str,
}

#[derive(Serialize)]
struct NewPassword {
    login: String,
    password: String,
}

/// What a page shows beyond the stored state: a message, the checked rule, a new password.
#[derive(Default)]
struct Extra {
    notice: Option<String>,
    rule: Option<RuleView>,
    /// A schedule text that was checked (with its errors, if any).
    schedule: Option<schedule::ScheduleView>,
    password: Option<NewPassword>,
    errors: Vec<String>,
    protocol_error: Option<String>,
}

fn settings_of(p: &Shared, slug: &str) -> (u64, TenantSettings) {
    p.settings
        .read()
        .ok()
        .and_then(|s| s.by_tenant.get(slug).cloned())
        .unwrap_or_default()
}

/// The tenant as the files describe it (without stored settings).
fn file_tenant(p: &Shared, slug: &str) -> Option<std::sync::Arc<Tenant>> {
    crate::tenants::load(&p.project).0.find(slug).cloned()
}

fn build_page(
    p: &Shared,
    t: &Tenant,
    staff: &Staff,
    extra: Extra,
) -> Result<SettingsPage, AdminError> {
    let defs = p.defs();
    let (_, stored) = settings_of(p, &t.slug);
    let services = defs
        .library
        .workflows
        .iter()
        .filter_map(|(id, versions)| versions.last().map(|wf| (id, wf)))
        .map(|(id, wf)| ServiceSwitch {
            id: id.clone(),
            title: wf.title.german().to_string(),
            on: t.services.offers(id),
        })
        .collect();
    let contact = Contact {
        office: t.office.german().to_string(),
        phone: t.phone.clone(),
        email: t.email.clone(),
        address: t.address.clone(),
        opening_hours: t
            .opening_hours
            .iter()
            .map(|h| h.german().to_string())
            .collect(),
    };
    let mut rules: Vec<RuleView> = defs
        .library
        .workflows
        .iter()
        .filter(|(id, _)| t.services.offers(id))
        .filter_map(|(id, versions)| versions.last().map(|wf| (id, wf)))
        .map(|(id, wf)| {
            let (source, text) = rule_text(p, t, id, &stored);
            RuleView {
                id: id.clone(),
                title: wf.title.german().to_string(),
                source,
                stored: stored.rules.contains_key(id),
                text,
                ..RuleView::default()
            }
        })
        .collect();
    if let Some(checked) = extra.rule {
        match rules.iter_mut().find(|r| r.id == checked.id) {
            Some(r) => {
                r.text = checked.text;
                r.errors = checked.errors;
                r.preview = checked.preview;
                r.examples = checked.examples;
                r.checked = checked.checked;
            }
            None => rules.push(checked),
        }
    }
    let tenant = super::tenant_id(t)?;
    let accounts = p
        .store
        .accounts(&tenant)?
        .into_iter()
        .map(|a| AccountView {
            own: a.id == staff.account.id,
            login: a.login,
            name: a.display_name,
            role: a.role.label_de(),
            disabled: a.disabled,
        })
        .collect();
    Ok(SettingsPage {
        layout: AdminLayout::new(p, t, "Einstellungen", Some(staff)),
        notice: extra.notice,
        services,
        contact,
        rules,
        schedule: extra
            .schedule
            .unwrap_or_else(|| schedule::view(p, t, &stored)),
        accounts,
        roles: Role::ALL
            .iter()
            .filter(|r| **r != Role::FormDesigner)
            .map(|r| RoleOption {
                key: accounts::role_key(*r),
                label: r.label_de(),
            })
            .collect(),
        password: extra.password,
        errors: extra.errors,
        protocol_error: extra.protocol_error,
        left_out: defs
            .settings_problems
            .iter()
            .filter(|pr| pr.file.starts_with(format!("verwaltung/{}/", t.slug)))
            .map(|pr| format!("{}: {}", pr.file.display(), pr.message))
            .collect(),
    })
}

/// The rule in effect for `workflow` and where it comes from: stored in the Verwaltung, an
/// override file, or none (a starting point to edit).
fn rule_text(
    p: &Shared,
    t: &Tenant,
    workflow: &str,
    stored: &TenantSettings,
) -> (&'static str, String) {
    if let Some(text) = stored.rules.get(workflow) {
        return ("in der Verwaltung geändert", text.clone());
    }
    let defs = p.defs();
    let file = defs
        .library
        .overrides()
        .iter()
        .find(|o| o.tenant == t.slug && o.workflow == workflow)
        .map(|o| o.file.clone());
    if let Some(text) = file.and_then(|f| std::fs::read_to_string(f).ok()) {
        return ("aus der Datei des Kreises", text);
    }
    let first = defs
        .library
        .latest(workflow)
        .and_then(|wf| wf.computed.first().map(|c| c.id.clone()))
        .unwrap_or_else(|| "gebuehr".into());
    (
        "wie der Kreis (keine eigene Regel)",
        format!(
            "tenant: {}\nworkflow: {workflow}\n# Was bei {} anders ist, zum Beispiel:\n# office: Bürgerbüro {}\n# computed:\n#   - id: {first}\n#     fixed: 40\n",
            t.slug, t.name, t.place
        ),
    )
}

async fn show(p: &Shared, t: &Tenant, staff: &Staff, extra: Extra, status: StatusCode) -> Response {
    let (p2, t2, staff2) = (p.clone(), t.clone(), staff.clone());
    match run(move || build_page(&p2, &t2, &staff2, extra)).await {
        Ok(page) => super::views::render(p, &page, status),
        Err(e) => error_page(p, t, Some(staff), e),
    }
}

pub(super) async fn page(
    State(p): State<Shared>,
    TenantAdmin { tenant: t, staff }: TenantAdmin,
) -> Response {
    show(&p, &t, &staff, Extra::default(), StatusCode::OK).await
}

fn check_csrf(p: &Shared, staff: &Staff, pairs: &Pairs) -> Result<(), AdminError> {
    if field(pairs, "_csrf") == staff.csrf(p) {
        Ok(())
    } else {
        Err(AdminError::Csrf)
    }
}

/// Changes one part of the tenant's settings: stored as the next record, audited with before
/// and after, then loaded here at once.
fn change(
    p: &Shared,
    t: &Tenant,
    staff: &Staff,
    part: &str,
    edit: impl FnOnce(&mut TenantSettings),
    describe: impl Fn(&TenantSettings) -> Value,
) -> Result<bool, AdminError> {
    // The newest state in the store, not only this node's copy.
    let (n, before) = settings::read_latest(&p.store, &t.slug, 0)?.unwrap_or_default();
    let mut after = before.clone();
    edit(&mut after);
    if after == before {
        return Ok(false);
    }
    match settings::save(&p.store, &t.slug, n, &after) {
        Ok(_) => {}
        Err(SaveError::Conflict) => {
            return Err(AdminError::Invalid(
                "Jemand anderes hat die Einstellungen gerade geändert. Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.".into(),
            ));
        }
        Err(SaveError::Store(e)) => return Err(e.into()),
    }
    p.store.append_audit(
        p.now(),
        Actor::Office {
            account: staff.account.id.to_string(),
        },
        Some(&super::tenant_id(t)?),
        AuditAction::TenantSettingsChanged {
            part: part.to_string(),
            before: describe(&before),
            after: describe(&after),
        },
    )?;
    p.poll_settings()?;
    Ok(true)
}

fn finish(
    t: &Tenant,
    result: Result<Result<bool, AdminError>, AdminError>,
    anchor: &str,
) -> Result<Response, AdminError> {
    result.and_then(|r| r).map(|_| {
        Redirect::to(&format!(
            "/verwaltung/{}/einstellungen?gespeichert={anchor}#{anchor}",
            t.slug
        ))
        .into_response()
    })
}

async fn answer(
    p: &Shared,
    t: &Tenant,
    staff: &Staff,
    outcome: Result<Response, AdminError>,
) -> Response {
    match outcome {
        Ok(r) => r,
        Err(AdminError::Invalid(m)) => {
            let extra = Extra {
                errors: vec![m],
                ..Extra::default()
            };
            show(p, t, staff, extra, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => error_page(p, t, Some(staff), e),
    }
}

pub(super) async fn services(
    State(p): State<Shared>,
    TenantAdmin { tenant: t, staff }: TenantAdmin,
    Form(pairs): Form<Pairs>,
) -> Response {
    if let Err(e) = check_csrf(&p, &staff, &pairs) {
        return error_page(&p, &t, Some(&staff), e);
    }
    let known: Vec<String> = p.defs().library.workflows.keys().cloned().collect();
    let chosen: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| k == "dienst" && known.contains(v))
        .map(|(_, v)| v.clone())
        .collect();
    let (p2, t2, s2) = (p.clone(), t.clone(), staff.clone());
    let file_services = file_tenant(&p, &t.slug).map(|f| f.services.clone());
    let r = run(move || {
        Ok(change(
            &p2,
            &t2,
            &s2,
            "services",
            |s| {
                // Back to what the file says: nothing stored.
                let same_as_file = file_services
                    .as_ref()
                    .is_some_and(|f| known.iter().all(|id| f.offers(id) == chosen.contains(id)));
                s.services = if same_as_file { None } else { Some(chosen) };
            },
            |s| serde_json::json!(s.services),
        ))
    })
    .await;
    let outcome = finish(&t, r, "dienste");
    answer(&p, &t, &staff, outcome).await
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

pub(super) async fn contact(
    State(p): State<Shared>,
    TenantAdmin { tenant: t, staff }: TenantAdmin,
    Form(pairs): Form<Pairs>,
) -> Response {
    if let Err(e) = check_csrf(&p, &staff, &pairs) {
        return error_page(&p, &t, Some(&staff), e);
    }
    let c = Contact {
        office: field(&pairs, "amt").trim().to_string(),
        phone: field(&pairs, "telefon").trim().to_string(),
        email: field(&pairs, "email").trim().to_string(),
        address: lines(field(&pairs, "anschrift")),
        opening_hours: lines(field(&pairs, "zeiten")),
    };
    let mut errors = Vec::new();
    if c.office.is_empty() || c.office.chars().count() > 120 {
        errors.push("Bitte geben Sie das Amt an (höchstens 120 Zeichen).".to_string());
    }
    if c.phone.is_empty() || c.phone.chars().count() > 40 {
        errors.push("Bitte geben Sie eine Telefonnummer an.".to_string());
    }
    let at = c.email.split_once('@');
    if !at.is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
        || c.email.contains(char::is_whitespace)
    {
        errors.push(
            "Bitte geben Sie eine E-Mail-Adresse wie buergerbuero@stadt.example an.".to_string(),
        );
    }
    if c.address.is_empty() || c.address.len() > 4 {
        errors.push("Die Anschrift hat eine bis vier Zeilen.".to_string());
    }
    if c.opening_hours.len() > 12 || c.opening_hours.iter().any(|h| h.chars().count() > 120) {
        errors.push(
            "Höchstens zwölf Zeilen Öffnungszeiten mit je höchstens 120 Zeichen.".to_string(),
        );
    }
    if !errors.is_empty() {
        let extra = Extra {
            errors,
            ..Extra::default()
        };
        return show(&p, &t, &staff, extra, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let (p2, t2, s2) = (p.clone(), t.clone(), staff.clone());
    let r = run(move || {
        Ok(change(
            &p2,
            &t2,
            &s2,
            "contact",
            |s| s.contact = Some(c),
            |s| serde_json::json!(s.contact),
        ))
    })
    .await;
    let outcome = finish(&t, r, "kontakt");
    answer(&p, &t, &staff, outcome).await
}
