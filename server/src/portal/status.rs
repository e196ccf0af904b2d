//! The citizen's status page (reached by the secret link from the receipt): the status timeline,
//! the messages between office and citizen, and, while the office waits for an answer
//! (Rückfrage), a form to answer.
//!
//! An answer is stored as a message from the citizen and moves the status back to
//! "In Bearbeitung": Rückfrage means "the office waits for the citizen", so the Postkorb shows
//! answered queries as work to do again, and a citizen answers each query once.

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lotse_core::Lang;
use lotse_receipt::{Language, format_berlin};
use lotse_store::{
    Actor, Message, Party, Status, StatusChange, StatusStore, StoreError, SubmissionId,
    SubmissionStore,
};

use super::views::{
    AnswerForm, AppointmentLink, MessageView, NextView, PaymentLine, ReadView, StatusPage,
    StatusTexts, TimelineEntry,
};
use crate::http::extractors::{PortalTenant, UiLang, field};
use crate::http::pages::{Layout, not_found, server_error, tr};
use crate::http::run::blocking;
use crate::service::reads::{OfficeRead, office_reads};
use crate::state::Shared;
use crate::tenants::Tenant;

/// The longest answer a citizen may send (characters).
pub(crate) const MAX_MESSAGE: usize = 5_000;

fn when(at: time::OffsetDateTime, lang: Lang) -> String {
    format_berlin(
        at,
        if lang == Lang::En {
            Language::En
        } else {
            Language::De
        },
    )
}

fn label(s: Status, lang: Lang) -> &'static str {
    if lang == Lang::En {
        s.label_en()
    } else {
        s.label_de()
    }
}

struct Found {
    reference: String,
    /// The workflow it was sent with (id, version).
    workflow: (String, u32),
    /// The answers sent (for the mandate the application gave, if any).
    answers: serde_json::Value,
    /// The online payment made before the office got it, if any.
    payment: Option<lotse_core::payment::PaidPayment>,
    /// The SEPA mandate as recorded when the application was sent (older submissions have
    /// none: their mandate is shown from the answers).
    mandate: Option<lotse_core::payment::GivenMandate>,
    history: Vec<StatusChange>,
    messages: Vec<Message>,
    /// The office's reads (audit log), oldest first.
    reads: Vec<OfficeRead>,
}

/// The submission of this tenant with its history and messages; another tenant's is `None`.
async fn load(p: &Shared, t: &Tenant, sid: SubmissionId) -> Result<Option<Found>, String> {
    let p2 = p.clone();
    let slug = t.slug.clone();
    blocking(move || -> Result<Option<Found>, StoreError> {
        let Some(s) = p2
            .store
            .submission(&sid)?
            .filter(|s| s.tenant.slug() == slug)
        else {
            return Ok(None);
        };
        Ok(Some(Found {
            reference: s.reference.to_string(),
            workflow: (
                s.workflow_id.clone(),
                s.workflow_version.parse().unwrap_or_default(),
            ),
            answers: s.data.get("answers").cloned().unwrap_or_default(),
            payment: s
                .data
                .get("payment")
                .and_then(|v| serde_json::from_value(v.clone()).ok()),
            mandate: s
                .data
                .get("sepa_mandate")
                .and_then(|v| serde_json::from_value(v.clone()).ok()),
            history: p2.store.status_history(&sid)?,
            messages: p2.store.messages(&sid)?,
            reads: office_reads(&p2.store, &sid)?,
        }))
    })
    .await
}

/// The status page; `error` is a message about a rejected answer.
pub(super) async fn page(
    p: &Shared,
    t: &Tenant,
    id: &str,
    lang: Lang,
    error: Option<(&str, &str)>,
) -> Response {
    let Ok(sid) = id.parse::<SubmissionId>() else {
        return not_found(p, Some(t), lang);
    };
    let found = match load(p, t, sid).await {
        Ok(Some(f)) => f,
        Ok(None) => return not_found(p, Some(t), lang),
        Err(e) => return server_error(p, t, &e, lang),
    };
    let current = found
        .history
        .last()
        .map_or(Status::Eingegangen, |c| c.status);
    let st = StatusTexts::of(lang);
    let defs = p.defs();
    let after = defs
        .library
        .for_tenant(&t.slug, &found.workflow.0, found.workflow.1)
        .and_then(|wf| wf.after_submission.as_ref())
        .map(|a| NextView {
            processing_time: a.processing_time.as_ref().map(|x| x.get(lang).to_string()),
            steps: a
                .next_steps
                .iter()
                .map(|x| x.get(lang).to_string())
                .collect(),
        });
    let mandate = match &found.mandate {
        Some(given) => Some(crate::mandate::of_given(given, &found.reference)),
        None => defs
            .library
            .for_tenant(&t.slug, &found.workflow.0, found.workflow.1)
            .and_then(|wf| {
                let answer = |id: &str| found.answers.get(id).cloned();
                crate::mandate::of(wf, &answer, t, Some(&found.reference), lang)
            }),
    };
    let payment = found.payment.as_ref().map(|paid| PaymentLine {
        heading: tr(lang, "Zahlung", "Payment"),
        state_label: tr(lang, "Stand", "Status"),
        state: paid.state.label(lang),
        amount_label: tr(lang, "Betrag", "Amount"),
        amount: lotse_core::payment::format_cents(paid.amount_cents, lang),
        reported_label: tr(
            lang,
            "Von der Zahlungsplattform gemeldet",
            "Reported by the payment platform",
        ),
        reported: paid
            .reported_amount_cents
            .map(|c| lotse_core::payment::format_cents(c, lang)),
        method_label: tr(lang, "Zahlart", "Method"),
        method: paid.method.label(lang),
        transaction_label: tr(lang, "Transaktionsnummer", "Transaction id"),
        transaction_id: paid.transaction_id.clone(),
        kassenzeichen_label: tr(lang, "Kassenzeichen", "Payment reference"),
        kassenzeichen: paid.kassenzeichen.clone(),
    });
    // The service must be in the tenant's schedule; a tenant without one shows no offer.
    let appointment = defs
        .library
        .for_tenant(&t.slug, &found.workflow.0, found.workflow.1)
        .and_then(|wf| wf.after_submission.as_ref()?.appointment.as_ref())
        .and_then(|offer| {
            let service = defs
                .schedules
                .get(&t.slug)?
                .service(&offer.service)?
                .clone();
            Some(AppointmentLink {
                heading: tr(lang, "Termin vereinbaren", "Book an appointment"),
                text: offer
                    .text
                    .as_ref()
                    .map(|x| x.get(lang).to_string())
                    .unwrap_or_default(),
                href: format!(
                    "/{}/termine/{}?vorgang={}",
                    t.slug, service.id, found.reference
                ),
                label: format!(
                    "{}: {}",
                    tr(lang, "Termin wählen", "Choose a time"),
                    service.title.get(lang)
                ),
            })
        });
    // The question of the open Rückfrage, shown where the citizen answers it.
    let question = found
        .history
        .iter()
        .rev()
        .find(|c| c.status == Status::Rueckfrage)
        .and_then(|c| c.note.clone());
    let (heading, intro) = headline(current, lang);
    // "Wie geht es weiter?" describes the way to a decision: once there is one, it is past.
    let closed = matches!(current, Status::Abgeschlossen | Status::Abgelehnt);
    let after = after.filter(|_| !closed);
    let page = StatusPage {
        heading,
        intro,
        appointment,
        mandate,
        payment,
        next: after,
        layout: Layout::new(&p.defs().portal, t, heading, lang),
        st,
        reference: found.reference,
        status: label(current, lang),
        submission: id,
        timeline: found
            .history
            .iter()
            .rev()
            .map(|c| TimelineEntry {
                when: when(c.at, lang),
                status: label(c.status, lang),
                note: c.note.clone(),
            })
            .collect(),
        messages: found
            .messages
            .into_iter()
            .map(|m| MessageView {
                when: when(m.at, lang),
                from: match m.from {
                    Party::Citizen => st.from_you,
                    Party::Office { .. } => st.from_office,
                },
                body: m.body,
            })
            .collect(),
        reads: reads(&found.reads, lang),
        answer: (current == Status::Rueckfrage).then(|| AnswerForm {
            csrf: p.token(&format!("answer:{sid}")),
            question,
            error: error.map(|e| e.0),
            value: error.map(|e| e.1),
        }),
    };
    let mut r = p.render(&page);
    if error.is_some() {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    r
}

/// The page's heading and first sentence for the current status: the confirmation right after
/// sending, and what stands now when the citizen comes back later.
fn headline(current: Status, lang: Lang) -> (&'static str, &'static str) {
    match current {
        Status::Eingegangen => (
            tr(lang, "Antrag eingegangen", "Application received"),
            tr(
                lang,
                "Wir haben Ihren Antrag erhalten. Diese Bestätigung dokumentiert den Eingang, sie ist keine Entscheidung.",
                "We have received your application. This confirms receipt, not a decision.",
            ),
        ),
        Status::InBearbeitung => (
            tr(
                lang,
                "Ihr Antrag wird bearbeitet",
                "Your application is being processed",
            ),
            tr(
                lang,
                "Die Verwaltung bearbeitet Ihren Antrag. Was bisher geschah, sehen Sie im Verlauf unten.",
                "The office is processing your application. The progress below shows what has happened so far.",
            ),
        ),
        Status::Rueckfrage => (
            tr(
                lang,
                "Die Verwaltung hat eine Frage",
                "The office has a question",
            ),
            tr(
                lang,
                "Bitte beantworten Sie die Frage der Verwaltung unten, damit sie Ihren Antrag weiter bearbeiten kann.",
                "Please answer the office's question below so that it can continue with your application.",
            ),
        ),
        Status::Abgeschlossen => (
            tr(
                lang,
                "Ihr Antrag ist abgeschlossen",
                "Your application is complete",
            ),
            tr(
                lang,
                "Die Verwaltung hat Ihren Antrag abschließend bearbeitet. Was sie dazu schreibt, steht im Verlauf unten.",
                "The office has finished processing your application. What it wrote about it is in the progress below.",
            ),
        ),
        Status::Abgelehnt => (
            tr(
                lang,
                "Ihr Antrag wurde abgelehnt",
                "Your application was refused",
            ),
            tr(
                lang,
                "Die Verwaltung hat Ihren Antrag abgelehnt. Was sie dazu schreibt, steht im Verlauf unten.",
                "The office has refused your application. What it wrote about it is in the progress below.",
            ),
        ),
    }
}

/// The reads as the page lists them, newest first: accesses of the same kind by the same
/// person (or system) within an hour of the first are one line with their number.
fn reads(all: &[OfficeRead], lang: Lang) -> Vec<ReadView> {
    let mut groups: Vec<(&OfficeRead, u32)> = Vec::new();
    for read in all {
        match groups.last_mut() {
            Some((first, n))
                if first.what == read.what
                    && first.by == read.by
                    && read.at - first.at < time::Duration::HOUR =>
            {
                *n += 1;
            }
            _ => groups.push((read, 1)),
        }
    }
    groups
        .into_iter()
        .rev()
        .map(|(first, n)| ReadView {
            when: when(first.at, lang),
            what: crate::service::reads::label(first.what, lang),
            times: (n > 1).then(|| {
                if lang == Lang::En {
                    format!("{n} times")
                } else {
                    format!("{n}-mal")
                }
            }),
        })
        .collect()
}

/// The citizen answers a Rückfrage: a message from the citizen, and the status back to
/// "In Bearbeitung". Without an open Rückfrage nothing is stored.
pub(super) async fn answer(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let Ok(sid) = id.parse::<SubmissionId>() else {
        return not_found(&p, Some(&t), lang);
    };
    if field(&pairs, "_csrf") != Some(p.token(&format!("answer:{sid}")).as_str()) {
        return (
            StatusCode::FORBIDDEN,
            "Sicherheitsprüfung fehlgeschlagen. Bitte laden Sie die Seite neu.",
        )
            .into_response();
    }
    let text = field(&pairs, "antwort").unwrap_or("").trim().to_string();
    if text.is_empty() {
        let msg = tr(
            lang,
            "Bitte schreiben Sie Ihre Antwort.",
            "Please write your answer.",
        );
        return page(&p, &t, &id, lang, Some((msg, ""))).await;
    }
    if text.chars().count() > MAX_MESSAGE {
        let msg = tr(
            lang,
            "Ihre Antwort ist zu lang (höchstens 5000 Zeichen).",
            "Your answer is too long (at most 5000 characters).",
        );
        return page(&p, &t, &id, lang, Some((msg, &text))).await;
    }
    if lotse_core::form::forbidden_character(&text, true).is_some() {
        let msg = tr(
            lang,
            "Ihre Antwort enthält unsichtbare Steuer- oder Richtungszeichen, die hier nicht erlaubt sind. Bitte entfernen Sie sie, zum Beispiel indem Sie den Text neu eintippen.",
            "Your answer contains invisible control or text-direction characters that are not allowed here. Please remove them, for example by typing the text again.",
        );
        return page(&p, &t, &id, lang, Some((msg, ""))).await;
    }
    let text = lotse_core::form::nfc(&text).into_owned();
    let p2 = p.clone();
    let slug = t.slug.clone();
    let stored = blocking(move || -> Result<bool, StoreError> {
        let Some(_) = p2
            .store
            .submission(&sid)?
            .filter(|s| s.tenant.slug() == slug)
        else {
            return Ok(false);
        };
        let open = p2
            .store
            .status_history(&sid)?
            .last()
            .is_some_and(|c| c.status == Status::Rueckfrage);
        if open {
            let now = p2.now();
            p2.store.add_message(&sid, Party::Citizen, text, now)?;
            let back = p2.store.change_status(
                &sid,
                StatusChange {
                    status: Status::InBearbeitung,
                    at: now,
                    actor: Actor::Citizen,
                    note: None,
                },
            );
            // A second answer sent at the same moment finds the status changed already.
            match back {
                Ok(()) | Err(StoreError::InvalidTransition { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    })
    .await;
    match stored {
        Ok(true) => Redirect::to(&format!("/{}/eingang/{sid}", t.slug)).into_response(),
        Ok(false) => not_found(&p, Some(&t), lang),
        Err(e) => server_error(&p, &t, &e, lang),
    }
}
