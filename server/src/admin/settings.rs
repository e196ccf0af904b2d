//! The Verwaltung of a municipality's own part, for its tenant administrators: which services it
//! offers, its contact data and opening hours, its rules (fee rates, office, receipt texts: an
//! override of a county workflow, checked exactly as `lotse check` checks an override file, with
//! a preview), the case workers' accounts, and an export in the files' format. Every change is
//! all-or-nothing, in the audit log with before and after, and in effect at once (other nodes:
//! within two seconds).

use std::collections::BTreeMap;

use axum::extract::{Form, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use lotse_core::Lang;
use lotse_core::application::format_value;
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
    accounts: Vec<AccountView>,
    roles: Vec<RoleOption>,
    /// A password made for a new or reset account: shown once.
    password: Option<NewPassword>,
    errors: Vec<String>,
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
    password: Option<NewPassword>,
    errors: Vec<String>,
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
        accounts,
        roles: Role::ALL
            .iter()
            .filter(|r| **r != Role::FormDesigner)
            .map(|r| RoleOption {
                key: role_key(*r),
                label: r.label_de(),
            })
            .collect(),
        password: extra.password,
        errors: extra.errors,
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

/// Checks a rule as `lotse check` checks an override file and previews it on the workflow's
/// scenarios: the computed values before and after.
fn check_rule(p: &Shared, t: &Tenant, workflow: &str, text: &str) -> RuleView {
    let defs = p.defs();
    let mut view = RuleView {
        id: workflow.to_string(),
        title: defs
            .library
            .latest(workflow)
            .map(|wf| wf.title.german().to_string())
            .unwrap_or_default(),
        text: text.to_string(),
        checked: true,
        ..RuleView::default()
    };
    let path = settings::rule_path(&t.slug, workflow);
    match defs.library.check_override_text(&path, text, &p.sandbox) {
        Err(problems) => {
            view.errors = problems
                .iter()
                .map(|pr| format!("Zeile {}, Spalte {}: {}", pr.line, pr.column, pr.message))
                .collect();
        }
        Ok((info, applied)) => {
            if info.tenant != t.slug {
                view.errors.push(format!("`tenant:` muss {} sein.", t.slug));
            }
            if info.workflow != workflow {
                view.errors
                    .push(format!("`workflow:` muss {workflow} sein."));
            }
            if view.errors.is_empty() {
                view.preview = preview(p, t, workflow, &applied);
            }
        }
    }
    view
}

fn preview(
    p: &Shared,
    t: &Tenant,
    workflow: &str,
    applied: &[std::sync::Arc<lotse_core::Workflow>],
) -> Vec<PreviewRow> {
    let defs = p.defs();
    let mut rows = Vec::new();
    for file in lotse_core::scenario::scenario_files(&defs.library) {
        let Ok(scenario) = lotse_core::scenario::load_scenario(&file) else {
            continue;
        };
        let Some((wf, before)) = lotse_core::scenario::sample_submission_for(
            &defs.library,
            &p.sandbox,
            &scenario,
            &t.slug,
        ) else {
            continue;
        };
        if wf.id != workflow {
            continue;
        }
        let Some(candidate) = applied.iter().find(|w| w.version == wf.version) else {
            continue;
        };
        let Some((cwf, after)) =
            lotse_core::scenario::sample_submission_on(candidate.clone(), &p.sandbox, &scenario)
        else {
            continue;
        };
        for c in &cwf.computed {
            let show = |m: &BTreeMap<String, Value>| {
                m.get(&c.id)
                    .map(|v| format_value(v, c.format, Lang::De))
                    .unwrap_or_else(|| "–".into())
            };
            let (b, a) = (show(&before.computed), show(&after.computed));
            rows.push(PreviewRow {
                example: scenario.name.clone(),
                value: c.label.german().to_string(),
                changed: a != b,
                before: b,
                after: a,
            });
        }
        if rows.len() > 60 {
            break;
        }
    }
    rows
}

pub(super) async fn rule(
    State(p): State<Shared>,
    TenantAdmin { tenant: t, staff }: TenantAdmin,
    Path((_, workflow)): Path<(String, String)>,
    Form(pairs): Form<Pairs>,
) -> Response {
    if let Err(e) = check_csrf(&p, &staff, &pairs) {
        return error_page(&p, &t, Some(&staff), e);
    }
    if !p.defs().library.workflows.contains_key(&workflow) || !t.services.offers(&workflow) {
        return error_page(&p, &t, Some(&staff), AdminError::NotFound);
    }
    let text = field(&pairs, "regel").replace("\r\n", "\n");
    let action = field(&pairs, "aktion").to_string();
    if action == "zuruecksetzen" {
        let (p2, t2, s2, w2) = (p.clone(), t.clone(), staff.clone(), workflow.clone());
        let r = run(move || {
            Ok(change(
                &p2,
                &t2,
                &s2,
                &format!("rules:{w2}"),
                |s| {
                    s.rules.remove(&w2);
                },
                |s| serde_json::json!(s.rules.get(&w2)),
            ))
        })
        .await;
        let outcome = finish(&t, r, &format!("regel-{workflow}"));
        return answer(&p, &t, &staff, outcome).await;
    }
    if text.len() > 64 * 1024 {
        let extra = Extra {
            errors: vec!["Die Regel ist zu lang (höchstens 64 KB).".into()],
            ..Extra::default()
        };
        return show(&p, &t, &staff, extra, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let (p2, t2, w2, text2) = (p.clone(), t.clone(), workflow.clone(), text.clone());
    let checked = match run(move || Ok(check_rule(&p2, &t2, &w2, &text2))).await {
        Ok(v) => v,
        Err(e) => return error_page(&p, &t, Some(&staff), e),
    };
    if !checked.errors.is_empty() || action != "speichern" {
        let status = if checked.errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let extra = Extra {
            notice: checked.errors.is_empty().then(|| {
                format!("Die Regel für „{}“ ist in Ordnung. Die Vorschau zeigt, was sie ändert; gespeichert ist noch nichts.", checked.title)
            }),
            errors: if checked.errors.is_empty() {
                Vec::new()
            } else {
                vec![format!("Die Regel für „{}“ enthält Fehler; nichts wurde geändert.", checked.title)]
            },
            rule: Some(checked),
            ..Extra::default()
        };
        return show(&p, &t, &staff, extra, status).await;
    }
    let (p2, t2, s2, w2) = (p.clone(), t.clone(), staff.clone(), workflow.clone());
    let r = run(move || {
        Ok(change(
            &p2,
            &t2,
            &s2,
            &format!("rules:{w2}"),
            |s| {
                s.rules.insert(w2.clone(), text);
            },
            |s| serde_json::json!(s.rules.get(&w2)),
        ))
    })
    .await;
    let outcome = finish(&t, r, &format!("regel-{workflow}"));
    answer(&p, &t, &staff, outcome).await
}

/// The role's key in forms (as `lotse admin add --role` takes it).
fn role_key(r: Role) -> &'static str {
    match r {
        Role::CaseWorker => "case_worker",
        Role::TenantAdmin => "tenant_admin",
        Role::FormDesigner => "form_designer",
    }
}

/// A password for a new or reset account: 20 characters from an unambiguous alphabet.
fn new_password() -> Result<String, AdminError> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    lotse_store::Entropy::fill_bytes(&mut lotse_store::OsEntropy, &mut bytes)?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect())
}

pub(super) async fn accounts(
    State(p): State<Shared>,
    TenantAdmin { tenant: t, staff }: TenantAdmin,
    Form(pairs): Form<Pairs>,
) -> Response {
    if let Err(e) = check_csrf(&p, &staff, &pairs) {
        return error_page(&p, &t, Some(&staff), e);
    }
    let action = field(&pairs, "aktion").to_string();
    let login = field(&pairs, "benutzername").trim().to_lowercase();
    let name = field(&pairs, "name").trim().to_string();
    let role = field(&pairs, "rolle").to_string();
    let (p2, t2, s2) = (p.clone(), t.clone(), staff.clone());
    let done = run(move || -> Result<Extra, AdminError> {
        let tenant = super::tenant_id(&t2)?;
        let code = match action.as_str() {
            "anlegen" => {
                let role: Role = role
                    .parse()
                    .ok()
                    .filter(|r| *r != Role::FormDesigner)
                    .ok_or_else(|| AdminError::Invalid("Bitte wählen Sie eine Rolle.".into()))?;
                let password = new_password()?;
                let created = super::accounts::create_account(
                    &p2.store,
                    &tenant,
                    super::accounts::NewAccount {
                        login: &login,
                        display_name: &name,
                        role,
                        password: &password,
                    },
                    super::accounts::default_params(),
                    p2.now(),
                )?;
                audit_account(&p2, &s2, &tenant, "admin.account_created")?;
                return Ok(Extra {
                    notice: Some(format!("Das Konto {} ist angelegt.", created.login)),
                    password: Some(NewPassword {
                        login: created.login,
                        password,
                    }),
                    ..Extra::default()
                });
            }
            "sperren" | "entsperren" | "zuruecksetzen" => {
                let mut a = super::accounts::find(&p2.store, &tenant, &login)?;
                if a.id == s2.account.id && action == "sperren" {
                    return Err(AdminError::Invalid("Ihr eigenes Konto können Sie nicht sperren.".into()));
                }
                match action.as_str() {
                    "sperren" => a.disabled = true,
                    "entsperren" => a.disabled = false,
                    _ => {
                        let password = new_password()?;
                        a.password_hash =
                            super::accounts::hash_password(&password, super::accounts::default_params())?;
                        super::accounts::update(&p2.store, &a)?;
                        audit_account(&p2, &s2, &tenant, "admin.account_reset")?;
                        return Ok(Extra {
                            notice: Some(format!("Das Passwort von {} ist zurückgesetzt; alle Sitzungen des Kontos sind beendet.", a.login)),
                            password: Some(NewPassword {
                                login: a.login,
                                password,
                            }),
                            ..Extra::default()
                        });
                    }
                }
                super::accounts::update(&p2.store, &a)?;
                if a.disabled {
                    "admin.account_disabled"
                } else {
                    "admin.account_enabled"
                }
            }
            _ => return Err(AdminError::Invalid("Unbekannte Aktion.".into())),
        };
        audit_account(&p2, &s2, &tenant, code)?;
        Ok(Extra {
            notice: Some(if code == "admin.account_disabled" {
                format!("Das Konto {login} ist gesperrt; seine Sitzungen sind beendet.")
            } else {
                format!("Das Konto {login} ist wieder freigegeben.")
            }),
            ..Extra::default()
        })
    })
    .await;
    match done {
        Ok(extra) => show(&p, &t, &staff, extra, StatusCode::OK).await,
        Err(AdminError::Invalid(m)) => {
            let extra = Extra {
                errors: vec![m],
                ..Extra::default()
            };
            show(&p, &t, &staff, extra, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => error_page(&p, &t, Some(&staff), e),
    }
}

fn audit_account(
    p: &Shared,
    staff: &Staff,
    tenant: &lotse_store::TenantId,
    code: &str,
) -> Result<(), AdminError> {
    p.store.append_audit(
        p.now(),
        Actor::Office {
            account: staff.account.id.to_string(),
        },
        Some(tenant),
        AuditAction::Other { code: code.into() },
    )?;
    Ok(())
}

/// The tenant's file as it is now (files and stored settings together), in the format of
/// docs/tenants.md: what a county keeps in git.
pub(super) async fn export_tenant(
    State(p): State<Shared>,
    TenantAdmin { tenant: t, staff }: TenantAdmin,
) -> Response {
    let text = tenant_yaml(&t);
    super::audit(&p, &staff.account, "admin.settings_export").await;
    yaml_response(&format!("{}.yaml", t.slug), text)
}

/// A stored or file rule in the format of docs/overrides.md.
pub(super) async fn export_rule(
    State(p): State<Shared>,
    TenantAdmin { tenant: t, staff }: TenantAdmin,
    Path((_, file)): Path<(String, String)>,
) -> Response {
    let workflow = file.strip_suffix(".yaml").unwrap_or(&file).to_string();
    if !p.defs().library.workflows.contains_key(&workflow) {
        return error_page(&p, &t, Some(&staff), AdminError::NotFound);
    }
    let (_, stored) = settings_of(&p, &t.slug);
    let (_, text) = rule_text(&p, &t, &workflow, &stored);
    yaml_response(&format!("{}.yaml", t.slug), text)
}

fn yaml_response(name: &str, text: String) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/yaml; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        text,
    )
        .into_response()
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// `portal/tenants/<slug>.yaml` for this tenant (JSON strings are valid YAML scalars).
pub(crate) fn tenant_yaml(t: &Tenant) -> String {
    let mut out = format!(
        "# {} – exportiert aus der Verwaltung (Format: docs/tenants.md)\nslug: {}\nname: {}\nkind: {}\n",
        t.name,
        t.slug,
        quoted(&t.name),
        t.kind.key()
    );
    if let Some(parent) = &t.parent {
        out.push_str(&format!("parent: {parent}\n"));
    }
    out.push_str(&format!(
        "prefix: {}\ncolour: {}\n",
        t.prefix,
        quoted(&t.colour)
    ));
    if t.logo.is_some()
        && let Some(name) = t.file.parent().map(|_| format!("../logos/{}.svg", t.slug))
    {
        out.push_str(&format!("logo: {name}\n"));
    }
    out.push_str(&format!("initials: {}\naddress:\n", quoted(&t.initials)));
    for line in &t.address {
        out.push_str(&format!("  - {}\n", quoted(line)));
    }
    let english = t.office.get(Lang::En);
    let office = if english == t.office.german() {
        quoted(t.office.german())
    } else {
        format!(
            "{{de: {}, en: {}}}",
            quoted(t.office.german()),
            quoted(english)
        )
    };
    out.push_str(&format!(
        "office: {office}\nphone: {}\nemail: {}\n",
        quoted(&t.phone),
        quoted(&t.email)
    ));
    if !t.opening_hours.is_empty() {
        out.push_str("opening_hours:\n");
        for h in &t.opening_hours {
            out.push_str(&format!("  - {}\n", quoted(h.german())));
        }
    }
    match &t.services {
        lotse_core::portal::Services::All => out.push_str("services: all\n"),
        lotse_core::portal::Services::List(l) if l.is_empty() => out.push_str("services: []\n"),
        lotse_core::portal::Services::List(l) => {
            out.push_str("services:\n");
            for s in l {
                out.push_str(&format!("  - {s}\n"));
            }
        }
    }
    if let Some(c) = &t.creditor_id {
        out.push_str(&format!("creditor_id: {c}\n"));
    }
    out
}
