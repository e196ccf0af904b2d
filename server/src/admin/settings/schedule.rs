//! The tenant's appointment schedule (docs/appointments.md): offices with opening hours,
//! counters and closed days, and the services one books a visit for. The tenant administrator
//! edits the text of `portal/termine/<tenant>.yaml`; it is checked exactly as `lotse check`
//! checks the file, and stored all or nothing. Visits already booked keep their time.

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::Response;
use lotse_core::appointments::Schedule;

use super::export::yaml_response;
use super::{Extra, Pairs, answer, change, check_csrf, field, finish, show};
use crate::admin::extractors::TenantAdmin;
use crate::admin::views::error_page;
use crate::admin::{self, Shared, run};
use crate::settings::{self, TenantSettings};
use crate::tenants::Tenant;

/// The schedule on the settings page: the text in effect and where it comes from.
#[derive(serde::Serialize, Default)]
pub(super) struct ScheduleView {
    source: &'static str,
    text: String,
    stored: bool,
    errors: Vec<String>,
}

/// The schedule in effect: stored in the Verwaltung, the county's file, or a starting point.
pub(super) fn view(p: &Shared, t: &Tenant, stored: &TenantSettings) -> ScheduleView {
    let (source, text) = schedule_text(p, t, stored);
    ScheduleView {
        source,
        text,
        stored: stored.schedule.is_some(),
        errors: Vec::new(),
    }
}

fn schedule_text(p: &Shared, t: &Tenant, stored: &TenantSettings) -> (&'static str, String) {
    if let Some(text) = &stored.schedule {
        return ("in der Verwaltung geändert", text.clone());
    }
    if let Ok(text) = std::fs::read_to_string(crate::state::schedule_file(&p.project, &t.slug)) {
        return ("aus der Datei des Kreises", text);
    }
    (
        "noch keine (Bürgerinnen und Bürger können keinen Termin buchen)",
        "offices:\n  - id: buergerbuero\n    name: { de: Bürgerbüro, en: Citizens' office }\n    address: [Straße 1, 12345 Ort]\n    counters: 2\n    slot_minutes: 15\n    hours:\n      mo: [\"08:00-12:00\"]\nservices: []\n".into(),
    )
}

/// The problems of a schedule text, as `lotse check` reports them for the file.
fn check(t: &Tenant, text: &str) -> Vec<String> {
    match Schedule::parse(&settings::schedule_path(&t.slug), text) {
        Ok(_) => Vec::new(),
        Err(problems) => problems
            .iter()
            .map(|pr| format!("Zeile {}, Spalte {}: {}", pr.line, pr.column, pr.message))
            .collect(),
    }
}

/// `POST /verwaltung/{tenant}/einstellungen/termine`: check, store or reset the schedule.
pub(in crate::admin) async fn schedule(
    State(p): State<Shared>,
    TenantAdmin { tenant: t, staff }: TenantAdmin,
    Form(pairs): Form<Pairs>,
) -> Response {
    if let Err(e) = check_csrf(&p, &staff, &pairs) {
        return error_page(&p, &t, Some(&staff), e);
    }
    let action = field(&pairs, "aktion").to_string();
    let (p2, t2, s2) = (p.clone(), t.clone(), staff.clone());
    if action == "zuruecksetzen" {
        let r = run(move || {
            Ok(change(
                &p2,
                &t2,
                &s2,
                "schedule",
                |s| s.schedule = None,
                |s| serde_json::json!(s.schedule.is_some()),
            ))
        })
        .await;
        return answer(&p, &t, &staff, finish(&t, r, "termine")).await;
    }
    let text = field(&pairs, "plan").replace("\r\n", "\n");
    let mut errors = if text.len() > 64 * 1024 {
        vec!["Der Terminplan ist zu lang (höchstens 64 KB).".to_string()]
    } else {
        check(&t, &text)
    };
    if errors.is_empty() && action != "speichern" {
        let extra = Extra {
            notice: Some("Der Terminplan ist in Ordnung; gespeichert ist noch nichts.".to_string()),
            schedule: Some(ScheduleView {
                source: "geprüft, nicht gespeichert",
                text,
                stored: false,
                errors: Vec::new(),
            }),
            ..Extra::default()
        };
        return show(&p, &t, &staff, extra, StatusCode::OK).await;
    }
    if !errors.is_empty() {
        errors.insert(
            0,
            "Der Terminplan enthält Fehler; nichts wurde geändert.".into(),
        );
        let extra = Extra {
            errors: vec![errors[0].clone()],
            schedule: Some(ScheduleView {
                source: "geprüft, nicht gespeichert",
                text,
                stored: false,
                errors: errors.split_off(1),
            }),
            ..Extra::default()
        };
        return show(&p, &t, &staff, extra, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    // Describes the change in the audit log by size, not by content (addresses of offices are
    // not personal data, but the log stays short).
    let r = run(move || {
        Ok(change(
            &p2,
            &t2,
            &s2,
            "schedule",
            |s| s.schedule = Some(text),
            |s| serde_json::json!(s.schedule.as_ref().map(String::len)),
        ))
    })
    .await;
    answer(&p, &t, &staff, finish(&t, r, "termine")).await
}

/// The schedule in effect in the file format: what a county keeps in git.
pub(in crate::admin) async fn export_schedule(
    State(p): State<Shared>,
    TenantAdmin { tenant: t, staff }: TenantAdmin,
) -> Response {
    let (_, stored) = super::settings_of(&p, &t.slug);
    let (_, text) = schedule_text(&p, &t, &stored);
    admin::audit(&p, &staff.account, "admin.settings_export").await;
    yaml_response(&format!("{}.yaml", t.slug), text)
}
