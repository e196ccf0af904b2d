//! The tenant's own part of the catalogue entries it offers: office or contact person, fees,
//! processing time, documents, a note, its own online service or PDF form. Checked by
//! `LocalPart::check` (the check `lotse check` runs on a tenant file's `catalogue:`), stored
//! all or nothing with the other settings, shown on the citizen's information page at once;
//! "zurücksetzen" shows the county's entry again.

use std::collections::HashMap;

use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lotse_core::catalogue::{Leistung, LocalError, LocalField, LocalPart};
use serde::Serialize;

use super::{Pairs, change, check_csrf, field, file_tenant};
use crate::admin::extractors::TenantAdmin;
use crate::admin::views::{AdminLayout, error_page, render};
use crate::admin::{AdminError, Shared, Staff, run};
use crate::directory::Provider;
use crate::http::pages::Page;
use crate::tenants::Tenant;

/// The fields of the form in their order, with their names in the form.
const FIELDS: [(LocalField, &str); 9] = [
    (LocalField::Office, "stelle"),
    (LocalField::Phone, "telefon"),
    (LocalField::Email, "email"),
    (LocalField::Fees, "gebuehren"),
    (LocalField::ProcessingTime, "dauer"),
    (LocalField::Documents, "unterlagen"),
    (LocalField::Notes, "hinweis"),
    (LocalField::Online, "online"),
    (LocalField::Form, "formular"),
];

/// The entries the tenant offers, each with whether it keeps its own part.
#[derive(Serialize)]
pub(super) struct CataloguePage {
    #[serde(flatten)]
    layout: AdminLayout,
    entries: Vec<EntryLink>,
}

impl Page for CataloguePage {
    const TEMPLATE: &'static str = "leistungen";
}

#[derive(Serialize)]
struct EntryLink {
    id: String,
    title: String,
    own: bool,
}

/// One entry's form: the values in effect, the county's text beside each, the errors.
#[derive(Serialize)]
pub(super) struct EntryPage {
    #[serde(flatten)]
    layout: AdminLayout,
    id: String,
    title: String,
    /// The citizen's information page of the service.
    citizen: String,
    own: bool,
    fields: Vec<FieldView>,
    errors: Vec<ErrorLink>,
    notice: Option<String>,
}

impl Page for EntryPage {
    const TEMPLATE: &'static str = "leistung";
}

#[derive(Serialize)]
struct FieldView {
    name: &'static str,
    label: &'static str,
    /// The input's type: `text`, `tel`, `email` or `url` (unused for a text area).
    kind: &'static str,
    multiline: bool,
    autocomplete: Option<&'static str>,
    value: String,
    hint: &'static str,
    /// The county's text, or `None` when the county says nothing here.
    county: Option<String>,
    maxlength: usize,
    error: Option<String>,
}

/// An error of the summary, linked to its field.
#[derive(Serialize)]
struct ErrorLink {
    field: &'static str,
    text: String,
}

/// The service of the tenant's portal whose entry is `id`, if the tenant itself offers it.
struct Offered {
    /// The county's entry.
    county: std::sync::Arc<Leistung>,
    /// The service's id on the citizen's pages.
    service: String,
}

fn offered(p: &Shared, t: &Tenant, id: &str) -> Option<Offered> {
    let defs = p.defs();
    let services = defs.directory.tenant(&t.slug)?;
    let service = services
        .services()
        .find(|s| s.provider == Provider::Own && s.leistung.as_ref().is_some_and(|l| l.id == id))?;
    Some(Offered {
        county: defs.directory.entry(id)?.clone(),
        service: service.id.clone(),
    })
}

pub(in crate::admin) async fn catalogue_list(
    State(p): State<Shared>,
    TenantAdmin { tenant: t, staff }: TenantAdmin,
) -> Response {
    let defs = p.defs();
    let mut entries: Vec<EntryLink> = defs
        .directory
        .tenant(&t.slug)
        .into_iter()
        .flat_map(|s| s.services())
        .filter(|s| s.provider == Provider::Own)
        .filter_map(|s| s.leistung.as_ref())
        .map(|l| EntryLink {
            id: l.id.clone(),
            title: l.title.german().to_string(),
            own: t.catalogue.get(&l.id).is_some_and(|part| !part.is_empty()),
        })
        .collect();
    entries.sort_by(|a, b| a.title.cmp(&b.title));
    let page = CataloguePage {
        layout: AdminLayout::new(&p, &t, "Leistungsbeschreibungen", Some(&staff)),
        entries,
    };
    render(&p, &page, StatusCode::OK)
}

/// The county's value of `field` in entry `e`, as the form shows it.
fn county_value(e: &Leistung, field: LocalField) -> Option<String> {
    let german = |v: &Option<lotse_core::Text>| v.as_ref().map(|t| t.german().to_string());
    match field {
        LocalField::Office => e.office.as_ref().map(|o| o.name.german().to_string()),
        LocalField::Phone => e.office.as_ref().and_then(|o| o.phone.clone()),
        LocalField::Email => e.office.as_ref().and_then(|o| o.email.clone()),
        LocalField::Fees => german(&e.fees),
        LocalField::ProcessingTime => german(&e.processing_time),
        LocalField::Documents => (!e.documents.is_empty()).then(|| {
            e.documents
                .iter()
                .map(|d| d.german())
                .collect::<Vec<_>>()
                .join("\n")
        }),
        LocalField::Notes => german(&e.notes),
        LocalField::Online => e.online.clone(),
        LocalField::Form => e.form.clone(),
    }
    .filter(|v| !v.is_empty())
}

/// The tenant's own value of `field`, if it keeps one.
fn local_value(part: &LocalPart, field: LocalField) -> Option<String> {
    match field {
        LocalField::Office => part.office.clone(),
        LocalField::Phone => part.phone.clone(),
        LocalField::Email => part.email.clone(),
        LocalField::Fees => part.fees.clone(),
        LocalField::ProcessingTime => part.processing_time.clone(),
        LocalField::Documents => (!part.documents.is_empty()).then(|| part.documents.join("\n")),
        LocalField::Notes => part.notes.clone(),
        LocalField::Online => part.online.clone(),
        LocalField::Form => part.form.clone(),
    }
}

fn kind(field: LocalField) -> &'static str {
    match field {
        LocalField::Phone => "tel",
        LocalField::Email => "email",
        LocalField::Online | LocalField::Form => "url",
        LocalField::Documents | LocalField::Notes | LocalField::Fees => "textarea",
        LocalField::Office | LocalField::ProcessingTime => "text",
    }
}

fn hint(field: LocalField) -> &'static str {
    match field {
        LocalField::Office => {
            "Zum Beispiel „Bürgerbüro, Zimmer 3“ oder „Steueramt, Frau Beispiel“. Angezeigt mit der Anschrift der Kommune."
        }
        LocalField::Documents => "Eine Unterlage je Zeile, höchstens 20 Zeilen.",
        LocalField::Notes => "Was Bürgerinnen und Bürger vor Ort sonst noch wissen sollten.",
        LocalField::Online => "Der eigene Online-Dienst der Kommune, eine Adresse mit https://.",
        LocalField::Form => "Das eigene PDF-Formular der Kommune, eine Adresse mit https://.",
        _ => "",
    }
}

/// The form's fields with the values shown: typed ones after an error, else those in effect.
fn field_views(
    county: &Leistung,
    shown: &dyn Fn(LocalField) -> Option<String>,
    errors: &[LocalError],
) -> Vec<FieldView> {
    FIELDS
        .iter()
        .map(|(f, name)| FieldView {
            name,
            label: f.label_de(),
            kind: kind(*f),
            multiline: kind(*f) == "textarea",
            autocomplete: match f {
                LocalField::Phone => Some("tel"),
                LocalField::Email => Some("email"),
                _ => None,
            },
            value: shown(*f).unwrap_or_default(),
            hint: hint(*f),
            // A list on one line: its lines separated by semicolons.
            county: county_value(county, *f).map(|v| v.replace('\n', "; ")),
            maxlength: if *f == LocalField::Documents {
                LocalField::Documents.max_chars() * lotse_core::catalogue::local::MAX_DOCUMENTS
            } else {
                f.max_chars()
            },
            error: errors
                .iter()
                .find(|e| e.field() == *f)
                .map(LocalError::german),
        })
        .collect()
}

fn entry_page(
    p: &Shared,
    t: &Tenant,
    staff: &Staff,
    found: &Offered,
    fields: Vec<FieldView>,
    errors: &[LocalError],
    notice: Option<String>,
) -> EntryPage {
    let title = found.county.title.german().to_string();
    EntryPage {
        layout: AdminLayout::new(p, t, format!("Leistung: {title}"), Some(staff)),
        id: found.county.id.clone(),
        title,
        citizen: format!("/{}/leistung/{}", t.slug, found.service),
        own: t
            .catalogue
            .get(&found.county.id)
            .is_some_and(|part| !part.is_empty()),
        fields,
        errors: errors
            .iter()
            .map(|e| ErrorLink {
                field: FIELDS
                    .iter()
                    .find(|(f, _)| *f == e.field())
                    .map_or("stelle", |(_, n)| n),
                text: e.german(),
            })
            .collect(),
        notice,
    }
}

pub(in crate::admin) async fn catalogue_entry(
    State(p): State<Shared>,
    TenantAdmin { tenant: t, staff }: TenantAdmin,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(found) = offered(&p, &t, &id) else {
        return error_page(&p, &t, Some(&staff), AdminError::NotFound);
    };
    let part = t.catalogue.get(&id).cloned().unwrap_or_default();
    let shown = |f| local_value(&part, f).or_else(|| county_value(&found.county, f));
    let fields = field_views(&found.county, &shown, &[]);
    let notice = match query.get("gespeichert").map(String::as_str) {
        Some("zurueckgesetzt") => Some(
            "Die Angaben des Kreises gelten wieder; die Informationsseite zeigt sie sofort.".into(),
        ),
        Some(_) => Some("Gespeichert. Die Informationsseite zeigt die Angaben sofort.".into()),
        None => None,
    };
    let page = entry_page(&p, &t, &staff, &found, fields, &[], notice);
    render(&p, &page, StatusCode::OK)
}

/// What the form says, as a part: a value that is empty or the county's own is not kept, so
/// that a later change of the county's entry shows.
fn part_from(pairs: &Pairs, county: &Leistung) -> LocalPart {
    let value = |f: LocalField| -> Option<String> {
        let name = FIELDS.iter().find(|(g, _)| *g == f).map_or("", |(_, n)| n);
        let raw = field(pairs, name).replace("\r\n", "\n");
        let v = if f == LocalField::Documents {
            raw.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            raw.trim().to_string()
        };
        (!v.is_empty() && Some(&v) != county_value(county, f).as_ref()).then_some(v)
    };
    LocalPart {
        office: value(LocalField::Office),
        phone: value(LocalField::Phone),
        email: value(LocalField::Email),
        fees: value(LocalField::Fees),
        processing_time: value(LocalField::ProcessingTime),
        documents: value(LocalField::Documents)
            .map(|d| d.lines().map(str::to_string).collect())
            .unwrap_or_default(),
        notes: value(LocalField::Notes),
        online: value(LocalField::Online),
        form: value(LocalField::Form),
    }
}

pub(in crate::admin) async fn catalogue_save(
    State(p): State<Shared>,
    TenantAdmin { tenant: t, staff }: TenantAdmin,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Pairs>,
) -> Response {
    if let Err(e) = check_csrf(&p, &staff, &pairs) {
        return error_page(&p, &t, Some(&staff), e);
    }
    let Some(found) = offered(&p, &t, &id) else {
        return error_page(&p, &t, Some(&staff), AdminError::NotFound);
    };
    let reset = field(&pairs, "aktion") == "zuruecksetzen";
    let part = if reset {
        LocalPart::default()
    } else {
        part_from(&pairs, &found.county)
    };
    // Shown as typed after an error, so that nothing has to be typed again.
    let typed = |f: LocalField| {
        FIELDS
            .iter()
            .find(|(g, _)| *g == f)
            .map(|(_, n)| field(&pairs, n).replace("\r\n", "\n"))
    };
    let errors = part.check();
    if !errors.is_empty() {
        let fields = field_views(&found.county, &typed, &errors);
        let page = entry_page(&p, &t, &staff, &found, fields, &errors, None);
        return render(&p, &page, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // In the file too: an empty part is kept, so that the county's text shows.
    let in_file = file_tenant(&p, &t.slug).is_some_and(|f| f.catalogue.contains_key(&id));
    let (p2, t2, s2, id2) = (p.clone(), t.clone(), staff.clone(), id.clone());
    let r = run(move || {
        change(
            &p2,
            &t2,
            &s2,
            &format!("catalogue:{id2}"),
            |s| {
                if part.is_empty() && !in_file {
                    s.catalogue.remove(&id2);
                } else {
                    s.catalogue.insert(id2.clone(), part);
                }
            },
            |s| serde_json::json!(s.catalogue.get(&id2)),
        )
    })
    .await;
    match r {
        Ok(_) => Redirect::to(&format!(
            "/verwaltung/{}/einstellungen/leistungen/{id}?gespeichert={}",
            t.slug,
            if reset { "zurueckgesetzt" } else { "ja" }
        ))
        .into_response(),
        Err(AdminError::Invalid(m)) => {
            // Someone else saved first: the form again as typed, nothing stored.
            let fields = field_views(&found.county, &typed, &[]);
            let page = EntryPage {
                errors: vec![ErrorLink {
                    field: "stelle",
                    text: m,
                }],
                ..entry_page(&p, &t, &staff, &found, fields, &[], None)
            };
            render(&p, &page, StatusCode::CONFLICT)
        }
        Err(e) => error_page(&p, &t, Some(&staff), e),
    }
}
