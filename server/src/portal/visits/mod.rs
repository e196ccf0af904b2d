//! Online-Terminvereinbarung, the citizen's pages (docs/appointments.md): the services one
//! books a visit for, the free times of a day, holding one while name and e-mail address are
//! entered, the confirmed visit with its calendar file, and cancelling it. Works without
//! JavaScript: days are links, times are radio buttons in a form. The visit's id is its secret
//! link; every form carries a CSRF token bound to the tenant or the visit.

use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use lotse_core::Lang;
use lotse_core::appointments::{Schedule, VisitService};
use lotse_receipt::{Language, format_berlin, to_berlin};
use lotse_store::{
    BookingId, NewVisit, OsEntropy, StoreError, Visit, VisitState, VisitStore, VisitTime,
};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

use crate::http::extractors::{ClientKey, PortalTenant, UiLang, field};
use crate::http::pages::{Layout, Page, not_found, server_error, tr};
use crate::mail::Event;
use crate::mail::visit::{self, VisitMail, day_text, time_text};
use crate::state::Shared;
use crate::tenants::Tenant;

/// How long a chosen time is held while the citizen enters name and address.
const HOLD: Duration = Duration::minutes(10);
/// How far ahead times are offered.
const DAYS_AHEAD: i64 = 21;
/// The earliest time offered: this long from now.
const LEAD: Duration = Duration::hours(2);

fn schedule(p: &Shared, t: &Tenant) -> Option<Arc<Schedule>> {
    p.defs().schedules.get(&t.slug).cloned()
}

mod book;
mod manage;

pub(crate) use book::{hold, service, services};
pub(crate) use manage::{act, calendar, move_page, move_to, show};

fn language(lang: Lang) -> Language {
    if lang == Lang::En {
        Language::En
    } else {
        Language::De
    }
}

#[derive(Serialize)]
struct ServiceLink {
    href: String,
    title: String,
    office: String,
    minutes: u32,
}

#[derive(Serialize)]
struct DayLink {
    href: String,
    text: String,
    current: bool,
}

#[derive(Serialize)]
struct TimeOption {
    value: i64,
    text: String,
    free: String,
    id: String,
}

/// The services list, or one service's days and times.
#[derive(Serialize)]
struct VisitsPage {
    #[serde(flatten)]
    layout: Layout,
    heading: String,
    intro: String,
    services: Vec<ServiceLink>,
    /// One service: what to bring, where, the days and the chosen day's times.
    service: Option<ServiceView>,
    error: Option<String>,
    has_error: bool,
    csrf: String,
    labels: Labels,
    back: String,
}

#[derive(Serialize)]
struct ServiceView {
    action: String,
    /// The application a "Termin zur Abholung" belongs to (a hidden field of the form).
    reference: Option<String>,
    bring: Vec<String>,
    office: String,
    address: String,
    minutes: u32,
    days: Vec<DayLink>,
    day: Option<String>,
    times: Vec<TimeOption>,
}

/// The page's fixed words, in the citizen's language.
#[derive(Serialize)]
struct Labels {
    bring: &'static str,
    place: &'static str,
    duration: &'static str,
    choose_day: &'static str,
    choose_time: &'static str,
    none: &'static str,
    submit: &'static str,
    back: &'static str,
    name: &'static str,
    email: &'static str,
    email_hint: &'static str,
    confirm: &'static str,
    cancel: &'static str,
    move_it: &'static str,
    calendar: &'static str,
    problem: &'static str,
}

fn labels(lang: Lang) -> Labels {
    Labels {
        bring: tr(lang, "Bitte mitbringen", "Please bring"),
        place: tr(lang, "Ort", "Place"),
        duration: tr(lang, "Dauer", "Duration"),
        choose_day: tr(lang, "Tag wählen", "Choose a day"),
        choose_time: tr(lang, "Uhrzeit wählen", "Choose a time"),
        none: tr(
            lang,
            "An diesem Tag ist leider keine Zeit mehr frei. Bitte wählen Sie einen anderen Tag.",
            "Sorry, no time is free on this day. Please choose another day.",
        ),
        submit: tr(lang, "Diese Uhrzeit reservieren", "Reserve this time"),
        back: tr(
            lang,
            "Zur Übersicht der Termine",
            "Back to the appointments",
        ),
        name: tr(lang, "Ihr Name", "Your name"),
        email: tr(lang, "Ihre E-Mail-Adresse", "Your e-mail address"),
        email_hint: tr(
            lang,
            "Wir schicken Ihnen die Bestätigung mit einem Link, über den Sie den Termin absagen können.",
            "We send you the confirmation with a link to cancel the appointment.",
        ),
        confirm: tr(lang, "Termin verbindlich buchen", "Book the appointment"),
        cancel: tr(lang, "Termin absagen", "Cancel the appointment"),
        move_it: tr(lang, "Termin verschieben", "Move the appointment"),
        calendar: tr(
            lang,
            "In den Kalender übernehmen (.ics)",
            "Add to your calendar (.ics)",
        ),
        problem: tr(lang, "Es gibt ein Problem", "There is a problem"),
    }
}

impl Page for VisitsPage {
    const TEMPLATE: &'static str = "visits";
}

/// One visit: held (the form to book it), booked, or over.
#[derive(Serialize)]
struct VisitPage {
    #[serde(flatten)]
    layout: Layout,
    heading: String,
    lines: Vec<String>,
    bring: Vec<String>,
    /// Held: the form to book it.
    book: bool,
    /// Booked: the calendar link and the cancel form.
    booked: bool,
    action: String,
    calendar: String,
    /// Booked: the page to move it.
    move_link: String,
    restart: String,
    csrf: String,
    name: String,
    email: String,
    errors: Vec<ErrorView>,
    has_errors: bool,
    name_error: Option<String>,
    email_error: Option<String>,
    labels: Labels,
}

impl Page for VisitPage {
    const TEMPLATE: &'static str = "visit";
}

#[derive(Deserialize)]
pub(crate) struct DayQuery {
    tag: Option<String>,
    /// The application a "Termin zur Abholung" belongs to.
    vorgang: Option<String>,
}

impl DayQuery {
    fn day(&self) -> Option<Date> {
        self.tag.as_deref().and_then(|d| {
            Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).ok()
        })
    }
}

/// Where a service's days and times are shown: the page's path (its form posts there, its day
/// links lead there) and the application a "Termin zur Abholung" is for.
struct Target<'a> {
    path: &'a str,
    reference: Option<&'a str>,
}

/// The open days ahead with at least one free time, and the chosen day's times.
async fn service_view(
    p: &Shared,
    t: &Tenant,
    s: &Schedule,
    v: &VisitService,
    day: Option<Date>,
    target: &Target<'_>,
    lang: Lang,
) -> Result<ServiceView, StoreError> {
    let office = s.office(&v.office);
    let now = p.now();
    let earliest = now + LEAD;
    let today = to_berlin(now).date();
    let open: Vec<Date> = (0..DAYS_AHEAD)
        .filter_map(|i| today.checked_add(Duration::days(i)))
        .filter(|d| office.is_some_and(|o| Schedule::open_on(o, *d)))
        .collect();
    let (chosen, times) = match day.filter(|d| open.contains(d)) {
        Some(d) => (Some(d), free_times(p, t, s, v, d, earliest, now).await?),
        // Without a day asked for: the first open day that still has a free time (later in
        // the day, today's may all be gone), else the first open day with its note.
        None => {
            let mut first = (open.first().copied(), Vec::new());
            for d in &open {
                let times = free_times(p, t, s, v, *d, earliest, now).await?;
                if !times.is_empty() {
                    first = (Some(*d), times);
                    break;
                }
            }
            first
        }
    };
    Ok(ServiceView {
        action: target.path.to_string(),
        reference: target.reference.map(str::to_owned),
        bring: v.bring.iter().map(|b| b.get(lang).to_string()).collect(),
        office: office
            .map(|o| o.name.get(lang).to_string())
            .unwrap_or_default(),
        address: office.map(|o| o.address.join(", ")).unwrap_or_default(),
        minutes: v.minutes,
        days: open
            .iter()
            .map(|d| DayLink {
                href: match target.reference {
                    Some(r) => format!("{}?tag={d}&vorgang={r}", target.path),
                    None => format!("{}?tag={d}", target.path),
                },
                text: day_text(*d, lang),
                current: Some(*d) == chosen,
            })
            .collect(),
        day: chosen.map(|d| day_text(d, lang)),
        times: times
            .into_iter()
            .map(|(start, free)| TimeOption {
                value: start.unix_timestamp(),
                text: time_text(start, lang),
                free: match (lang, free) {
                    (Lang::En, 1) => "1 place free".into(),
                    (Lang::En, n) => format!("{n} places free"),
                    (_, 1) => "1 Platz frei".into(),
                    (_, n) => format!("{n} Plätze frei"),
                },
                id: format!("zeit-{}", start.unix_timestamp()),
            })
            .collect(),
    })
}

/// The free start times of `v` on `day`: (instant, counters free).
async fn free_times(
    p: &Shared,
    t: &Tenant,
    s: &Schedule,
    v: &VisitService,
    day: Date,
    earliest: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Vec<(OffsetDateTime, u32)>, StoreError> {
    let p2 = p.clone();
    let tenant = lotse_store::TenantId::new(&t.slug, &t.prefix)?;
    let office = v.office.clone();
    let booked =
        crate::telemetry::spawn_blocking(move || p2.store.visits_on(&tenant, &office, day))
            .await
            .map_err(|e| StoreError::InvalidInput(e.to_string()))??;
    let minutes = Duration::minutes(i64::from(v.minutes));
    let taken = |start: OffsetDateTime| {
        let n = booked
            .iter()
            .filter(|b| b.occupies(now) && b.overlaps(start, start + minutes))
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    };
    Ok(s.slots(&v.id, day, earliest, &taken)
        .into_iter()
        .map(|slot| (slot.start, slot.free))
        .collect())
}

/// "This time has just been taken."
fn taken_text(lang: Lang) -> &'static str {
    tr(
        lang,
        "Diese Uhrzeit ist gerade vergeben worden. Bitte wählen Sie eine andere.",
        "This time has just been taken. Please choose another one.",
    )
}

/// The time the form chose (`zeit`, seconds since 1970), if the page offers it for `v`: on the
/// grid, in the hours, not past, not on a closed day. Else the day to show again and why.
fn chosen_time(
    s: &Schedule,
    v: &VisitService,
    pairs: &[(String, String)],
    now: OffsetDateTime,
    lang: Lang,
) -> Result<VisitTime, (Option<Date>, &'static str)> {
    let start = field(pairs, "zeit")
        .and_then(|z| z.parse::<i64>().ok())
        .and_then(|z| OffsetDateTime::from_unix_timestamp(z).ok());
    let Some(start) = start else {
        return Err((
            None,
            tr(
                lang,
                "Bitte wählen Sie eine Uhrzeit.",
                "Please choose a time.",
            ),
        ));
    };
    let day = to_berlin(start).date();
    let offered = s
        .slots(&v.id, day, now + LEAD, &|_| 0)
        .iter()
        .any(|slot| slot.start == start);
    if !offered {
        return Err((
            Some(day),
            tr(
                lang,
                "Diese Uhrzeit kann nicht gebucht werden. Bitte wählen Sie eine der angebotenen.",
                "This time cannot be booked. Please choose one of those offered.",
            ),
        ));
    }
    Ok(VisitTime {
        day,
        start,
        end: start + Duration::minutes(i64::from(v.minutes)),
    })
}

/// The portal's public address for links that leave the portal (mail, calendar file); empty
/// without `[mail]`, so the links stay relative to the portal.
fn public_base(p: &Shared) -> String {
    p.config
        .mail
        .as_ref()
        .map(|m| m.public_url.trim_end_matches('/').to_string())
        .unwrap_or_default()
}

fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        "Sicherheitsprüfung fehlgeschlagen. Bitte laden Sie die Seite neu.",
    )
        .into_response()
}

/// The visit of this tenant with this id, if any.
async fn load(p: &Shared, t: &Tenant, id: &str) -> Result<Option<Visit>, String> {
    let Ok(id) = id.parse::<BookingId>() else {
        return Ok(None);
    };
    let p2 = p.clone();
    let slug = t.slug.clone();
    match crate::telemetry::spawn_blocking(move || p2.store.visit(&id)).await {
        Ok(Ok(v)) => Ok(v.filter(|v| v.tenant.slug() == slug)),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

fn visit_page(
    p: &Shared,
    t: &Tenant,
    v: &Visit,
    lang: Lang,
    name: &str,
    email: &str,
    errors: Vec<(String, String)>,
) -> Response {
    let s = schedule(p, t);
    let service = s.as_ref().and_then(|s| s.service(&v.service));
    let office = s.as_ref().and_then(|s| s.office(&v.office));
    let now = p.now();
    let title = service
        .map(|x| x.title.get(lang).to_string())
        .unwrap_or_default();
    let when = format!("{}, {}", day_text(v.day, lang), time_text(v.start, lang));
    let place = office
        .map(|o| format!("{}, {}", o.name.get(lang), o.address.join(", ")))
        .unwrap_or_default();
    let (heading, mut lines, book, booked) = match v.state {
        VisitState::Held if v.held_until > now => (
            tr(lang, "Termin reservieren", "Reserve the appointment").to_string(),
            vec![format!(
                "{} {}",
                tr(
                    lang,
                    "Wir halten diese Uhrzeit für Sie bis",
                    "We hold this time for you until"
                ),
                format_berlin(v.held_until, language(lang))
            )],
            true,
            false,
        ),
        VisitState::Held => (
            tr(lang, "Die Reservierung ist abgelaufen", "The reservation has expired").to_string(),
            vec![tr(
                lang,
                "Die Uhrzeit wurde nicht rechtzeitig gebucht und ist wieder frei. Bitte wählen Sie erneut.",
                "The time was not booked in time and is free again. Please choose again.",
            )
            .to_string()],
            false,
            false,
        ),
        VisitState::Confirmed | VisitState::Attended | VisitState::Missed => (
            tr(lang, "Ihr Termin ist gebucht", "Your appointment is booked").to_string(),
            vec![tr(
                lang,
                "Bewahren Sie den Link zu dieser Seite auf: Hier können Sie den Termin verschieben oder absagen.",
                "Keep the link to this page: you can move or cancel the appointment here.",
            )
            .to_string()],
            false,
            true,
        ),
        VisitState::Cancelled => (
            tr(lang, "Der Termin ist abgesagt", "The appointment is cancelled").to_string(),
            vec![tr(
                lang,
                "Die Uhrzeit ist wieder frei. Sie können jederzeit einen neuen Termin vereinbaren.",
                "The time is free again. You can book a new appointment at any time.",
            )
            .to_string()],
            false,
            false,
        ),
    };
    lines.insert(0, format!("{title}: {when}, {place}"));
    if let Some(r) = &v.reference {
        lines.insert(
            1,
            format!(
                "{} {r}",
                tr(lang, "Zu Ihrem Antrag", "For your application")
            ),
        );
    }
    let page_title = if errors.is_empty() {
        heading.clone()
    } else {
        format!("{}: {heading}", tr(lang, "Fehler", "Error"))
    };
    let page = VisitPage {
        layout: Layout::new(&p.defs().portal, t, page_title, lang)
            .at(&format!("/{}/termin/{}", t.slug, v.id)),
        heading,
        lines,
        bring: service
            .map(|x| x.bring.iter().map(|b| b.get(lang).to_string()).collect())
            .unwrap_or_default(),
        book,
        booked,
        action: format!("/{}/termin/{}", t.slug, v.id),
        calendar: format!("/{}/termin/{}/termin.ics", t.slug, v.id),
        move_link: format!("/{}/termin/{}/verschieben", t.slug, v.id),
        restart: format!("/{}/termine/{}", t.slug, v.service),
        csrf: p.token(&format!("termin:{}", v.id)),
        name: name.to_string(),
        email: email.to_string(),
        has_errors: !errors.is_empty(),
        name_error: errors
            .iter()
            .find(|(f, _)| f == "name")
            .map(|(_, t)| t.clone()),
        email_error: errors
            .iter()
            .find(|(f, _)| f == "email")
            .map(|(_, t)| t.clone()),
        errors: errors
            .into_iter()
            .map(|(field, text)| ErrorView { field, text })
            .collect(),
        labels: labels(lang),
    };
    let mut r = p.render(&page);
    if page.has_errors {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    r
}

#[derive(Serialize)]
struct ErrorView {
    field: String,
    text: String,
}
