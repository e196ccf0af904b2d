//! The case workers' day view of the appointments (docs/appointments.md): per office and day
//! the booked visits (time, service, the application a pickup is for, name, e-mail address,
//! state), marking each "erschienen" or
//! "nicht erschienen", and the day as CSV. Only the signed-in staff member's own tenant, like
//! the Postkorb: a visit of another tenant is "not found".

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use lotse_core::Lang;
use lotse_store::{BookingId, Visit, VisitState, VisitStore};
use serde::{Deserialize, Serialize};
use time::Date;

use super::extractors::CaseWorker;
use super::views::{AdminLayout, error_page, render};
use super::{AdminError, Shared, run};
use crate::http::pages::Page;
use crate::tenants::Tenant;

#[derive(Deserialize)]
pub(super) struct DayQuery {
    buero: Option<String>,
    tag: Option<String>,
}

#[derive(Serialize)]
struct OfficeLink {
    name: String,
    href: String,
    current: bool,
}

#[derive(Serialize)]
struct VisitRow {
    id: String,
    time: String,
    service: String,
    name: String,
    email: String,
    state: &'static str,
    /// The application it belongs to ("Termin zur Abholung").
    reference: String,
    /// Booked, so it can be marked.
    markable: bool,
}

#[derive(Serialize)]
struct DayPage {
    #[serde(flatten)]
    layout: AdminLayout,
    offices: Vec<OfficeLink>,
    office: String,
    day: String,
    previous: String,
    next: String,
    csv: String,
    rows: Vec<VisitRow>,
    action: String,
    back: String,
}

impl Page for DayPage {
    const TEMPLATE: &'static str = "termine";
}

fn state_label(s: VisitState) -> &'static str {
    match s {
        VisitState::Held => "reserviert",
        VisitState::Confirmed => "gebucht",
        VisitState::Cancelled => "abgesagt",
        VisitState::Attended => "erschienen",
        VisitState::Missed => "nicht erschienen",
    }
}

fn parse_day(s: Option<&str>) -> Option<Date> {
    Date::parse(
        s?,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// The office and day asked for (the first office, today in Berlin by default), and its
/// visits that are or were booked, by time.
async fn day_visits(
    p: &Shared,
    t: &Tenant,
    q: &DayQuery,
) -> Result<(String, Date, Vec<Visit>), AdminError> {
    let schedule = p
        .defs()
        .schedules
        .get(&t.slug)
        .cloned()
        .ok_or(AdminError::NotFound)?;
    let office = match &q.buero {
        Some(o) => schedule.office(o).ok_or(AdminError::NotFound)?,
        None => schedule.offices.first().ok_or(AdminError::NotFound)?,
    }
    .id
    .clone();
    let day =
        parse_day(q.tag.as_deref()).unwrap_or_else(|| lotse_receipt::to_berlin(p.now()).date());
    let tenant = super::tenant_id(t)?;
    let p2 = p.clone();
    let o2 = office.clone();
    let visits = run(move || Ok(p2.store.visits_on(&tenant, &o2, day)?)).await?;
    let visits = visits
        .into_iter()
        .filter(|v| v.is_booked() || v.state == VisitState::Cancelled)
        .collect();
    Ok((office, day, visits))
}

/// `GET /verwaltung/{tenant}/termine?buero=…&tag=YYYY-MM-DD`.
pub(super) async fn day(
    State(p): State<Shared>,
    CaseWorker { tenant: t, staff }: CaseWorker,
    Query(q): Query<DayQuery>,
) -> Response {
    let (office, day, visits) = match day_visits(&p, &t, &q).await {
        Ok(x) => x,
        Err(e) => return error_page(&p, &t, Some(&staff), e),
    };
    let defs = p.defs();
    let Some(schedule) = defs.schedules.get(&t.slug) else {
        return error_page(&p, &t, Some(&staff), AdminError::NotFound);
    };
    let base = format!("/verwaltung/{}/termine", t.slug);
    let at = |d: Date| format!("{base}?buero={office}&tag={d}");
    let rows = visits
        .iter()
        .map(|v| VisitRow {
            id: v.id.to_string(),
            time: {
                let b = lotse_receipt::to_berlin(v.start);
                format!("{:02}:{:02}", b.hour(), b.minute())
            },
            service: schedule
                .service(&v.service)
                .map(|s| s.title.get(Lang::De).to_string())
                .unwrap_or_else(|| v.service.clone()),
            name: v.name.clone().unwrap_or_default(),
            email: v.email.clone().unwrap_or_default(),
            state: state_label(v.state),
            reference: v.reference.clone().unwrap_or_default(),
            markable: v.is_booked(),
        })
        .collect();
    let office_name = schedule
        .office(&office)
        .map(|o| o.name.get(Lang::De).to_string())
        .unwrap_or_default();
    let page = DayPage {
        layout: AdminLayout::new(
            &p,
            &t,
            format!("Termine {office_name} am {day}"),
            Some(&staff),
        ),
        offices: schedule
            .offices
            .iter()
            .map(|o| OfficeLink {
                name: o.name.get(Lang::De).to_string(),
                href: format!("{base}?buero={}&tag={day}", o.id),
                current: o.id == office,
            })
            .collect(),
        office: office_name,
        day: format!(
            "{:02}.{:02}.{}",
            day.day(),
            u8::from(day.month()),
            day.year()
        ),
        previous: day.previous_day().map(at).unwrap_or_default(),
        next: day.next_day().map(at).unwrap_or_default(),
        csv: format!("{base}/export.csv?buero={office}&tag={day}"),
        rows,
        action: base.clone(),
        back: at(day),
    };
    render(&p, &page, StatusCode::OK)
}

/// `POST /verwaltung/{tenant}/termine/{id}` with `_action=erschienen|nicht_erschienen`.
pub(super) async fn mark(
    State(p): State<Shared>,
    CaseWorker { tenant: t, staff }: CaseWorker,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let field = |n: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == n)
            .map_or("", |(_, v)| v.as_str())
    };
    if field("_csrf") != staff.csrf(&p) {
        return error_page(&p, &t, Some(&staff), AdminError::Csrf);
    }
    let Ok(id) = id.parse::<BookingId>() else {
        return error_page(&p, &t, Some(&staff), AdminError::NotFound);
    };
    let attended = match field("_action") {
        "erschienen" => Some(true),
        "nicht_erschienen" => Some(false),
        _ => None,
    };
    let p2 = p.clone();
    let slug = t.slug.clone();
    let now = p.now();
    let done = run(move || {
        // Another tenant's visit is not found, like another tenant's submission.
        match p2.store.visit(&id)? {
            Some(v) if v.tenant.slug() == slug => {
                let attended =
                    attended.ok_or_else(|| AdminError::Invalid("Unbekannte Aktion.".into()))?;
                Ok(p2.store.mark_visit(&id, attended, now)?)
            }
            _ => Err(AdminError::NotFound),
        }
    })
    .await;
    match done {
        Ok(v) => {
            let back = field("_back");
            let to = if back.starts_with(&format!("/verwaltung/{}/termine", t.slug)) {
                back.to_string()
            } else {
                format!(
                    "/verwaltung/{}/termine?buero={}&tag={}",
                    t.slug, v.office, v.day
                )
            };
            Redirect::to(&to).into_response()
        }
        Err(e) => error_page(&p, &t, Some(&staff), e),
    }
}

/// `GET /verwaltung/{tenant}/termine/export.csv?buero=…&tag=…`: the day as CSV.
pub(super) async fn export(
    State(p): State<Shared>,
    CaseWorker { tenant: t, staff }: CaseWorker,
    Query(q): Query<DayQuery>,
) -> Response {
    let (office, day, visits) = match day_visits(&p, &t, &q).await {
        Ok(x) => x,
        Err(e) => return error_page(&p, &t, Some(&staff), e),
    };
    let cell = super::exports::csv_cell;
    let mut out = String::from("Uhrzeit;Anliegen;Vorgang;Name;E-Mail;Stand\r\n");
    for v in &visits {
        let b = lotse_receipt::to_berlin(v.start);
        out.push_str(&format!(
            "{};{};{};{};{};{}\r\n",
            cell(&format!("{:02}:{:02}", b.hour(), b.minute())),
            cell(&v.service),
            cell(v.reference.as_deref().unwrap_or("")),
            cell(v.name.as_deref().unwrap_or("")),
            cell(v.email.as_deref().unwrap_or("")),
            cell(state_label(v.state)),
        ));
    }
    let mut r = out.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"termine-{office}-{day}.csv\""
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}
