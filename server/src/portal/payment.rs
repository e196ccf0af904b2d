//! The citizen's payment pages (`payment:` in a workflow): the payment's own page (amount,
//! purpose, Kassenzeichen, where it stands, what to do next: pay, try again, wait), the return
//! from the platform's pay page, and the platform's signed notification. Works without
//! JavaScript; the platform's pay page is reached by a link (a form may only post to the portal
//! itself, `form-action 'self'`).

use axum::body::Bytes;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use lotse_core::Lang;
use lotse_core::payment::PaymentState;
use lotse_store::PaymentId;
use serde::Serialize;

use crate::http::extractors::{PortalTenant, UiLang, field};
use crate::http::pages::{Layout, Page, not_found, server_error, tr};
use crate::http::run::blocking;
use crate::payment::signature::SIGNATURE_HEADER;
use crate::service::{PayOutcome, PaymentView};
use crate::state::Shared;
use crate::tenants::Tenant;

#[derive(Serialize)]
struct PaymentPage {
    #[serde(flatten)]
    layout: Layout,
    heading: &'static str,
    lead: &'static str,
    state: &'static str,
    state_label: &'static str,
    state_title: &'static str,
    amount_label: &'static str,
    amount: String,
    /// With a different amount reported by the platform: that amount.
    reported_label: &'static str,
    reported_amount: Option<String>,
    purpose_label: &'static str,
    purpose: String,
    kassenzeichen_label: &'static str,
    kassenzeichen: String,
    method_label: &'static str,
    method: Option<&'static str>,
    transaction_label: &'static str,
    transaction_id: Option<String>,
    /// The platform's pay page of the open request.
    pay_url: Option<String>,
    pay_link: &'static str,
    /// A new request (first, or again): a form with its CSRF token.
    action: Option<PayAction>,
    /// Paid and handed to the office: the confirmation and the receipt.
    confirmation: Option<String>,
    confirmation_link: &'static str,
    receipt_link: &'static str,
    bookmark: &'static str,
}

#[derive(Serialize)]
struct PayAction {
    url: String,
    csrf: String,
    button: &'static str,
}

impl Page for PaymentPage {
    const TEMPLATE: &'static str = "payment";
}

fn csrf_scope(pid: &PaymentId) -> String {
    format!("payment:{pid}")
}

/// What the page says for each state, in plain words.
fn texts(v: &PaymentView, lang: Lang) -> (&'static str, &'static str) {
    let t = |de, en| tr(lang, de, en);
    match (v.state, v.submission.is_some(), v.requested) {
        (PaymentState::Paid, true, _) => (
            t("Vielen Dank – bezahlt", "Thank you – paid"),
            t(
                "Ihre Zahlung ist eingegangen und Ihr Antrag ist beim Amt angekommen. Die Eingangsbestätigung und die Quittung mit den Angaben zur Zahlung finden Sie unten.",
                "Your payment has been received and your application has reached the office. The confirmation and the receipt with the payment details are below.",
            ),
        ),
        (PaymentState::Paid, false, _) => (
            t("Vielen Dank – bezahlt", "Thank you – paid"),
            t(
                "Ihre Zahlung ist eingegangen. Ihr Antrag wird gerade an das Amt übermittelt; laden Sie diese Seite gleich noch einmal, dann finden Sie hier Ihre Eingangsbestätigung.",
                "Your payment has been received. Your application is being passed to the office; reload this page in a moment to find your confirmation here.",
            ),
        ),
        (PaymentState::AmountMismatch, delivered, _) => (
            t(
                "Wir klären Ihre Zahlung",
                "We are looking into your payment",
            ),
            if delivered {
                t(
                    "Die Zahlungsplattform hat uns einen anderen Betrag gemeldet als den, den Sie bezahlen sollten. Deshalb gilt die Gebühr noch nicht als bezahlt. Ihr Antrag ist trotzdem beim Amt angekommen. Das Amt klärt die Zahlung mit der Zahlungsplattform und meldet sich bei Ihnen, wenn es etwas von Ihnen braucht. Bitte bezahlen Sie nicht noch einmal.",
                    "The payment platform reported a different amount from the one you were to pay. So the fee does not count as paid yet. Your application has reached the office all the same. The office clears up the payment with the payment platform and contacts you if it needs anything from you. Please do not pay again.",
                )
            } else {
                t(
                    "Die Zahlungsplattform hat uns einen anderen Betrag gemeldet als den, den Sie bezahlen sollten. Deshalb gilt die Gebühr noch nicht als bezahlt. Ihr Antrag wird trotzdem an das Amt übermittelt; das Amt klärt die Zahlung und meldet sich bei Ihnen, wenn es etwas von Ihnen braucht. Bitte bezahlen Sie nicht noch einmal.",
                    "The payment platform reported a different amount from the one you were to pay. So the fee does not count as paid yet. Your application is being passed to the office all the same; the office clears up the payment and contacts you if it needs anything from you. Please do not pay again.",
                )
            },
        ),
        (PaymentState::Cancelled, ..) => (
            t("Zahlung abgebrochen", "Payment cancelled"),
            t(
                "Sie haben die Zahlung abgebrochen. Es wurde nichts abgebucht. Ihr Antrag ist gespeichert, aber noch nicht beim Amt. Sie können es jetzt erneut versuchen oder später bezahlen.",
                "You cancelled the payment. Nothing was charged. Your application is saved but has not reached the office yet. You can try again now or pay later.",
            ),
        ),
        (PaymentState::Failed, ..) => (
            t("Zahlung fehlgeschlagen", "Payment failed"),
            t(
                "Die Zahlung hat nicht geklappt. Es wurde nichts abgebucht. Ihr Antrag ist gespeichert, aber noch nicht beim Amt. Versuchen Sie es erneut, gern mit einer anderen Zahlart, oder bezahlen Sie später.",
                "The payment did not go through. Nothing was charged. Your application is saved but has not reached the office yet. Try again, perhaps with another payment method, or pay later.",
            ),
        ),
        (PaymentState::Pending, ..) => (
            t("Ihre Zahlung wird geprüft", "Your payment is being checked"),
            t(
                "Die Zahlungsplattform hat Ihre Zahlung noch nicht bestätigt. Sobald sie bestätigt ist, geht Ihr Antrag an das Amt. Sie müssen nichts weiter tun.",
                "The payment platform has not confirmed your payment yet. As soon as it does, your application goes to the office. You need not do anything else.",
            ),
        ),
        (PaymentState::Open, _, true) => (
            t("Bitte bezahlen Sie die Gebühr", "Please pay the fee"),
            t(
                "Ihr Antrag ist gespeichert. Er geht an das Amt, sobald die Gebühr bezahlt ist.",
                "Your application is saved. It goes to the office as soon as the fee is paid.",
            ),
        ),
        (PaymentState::Open, _, false) => (
            t("Bitte bezahlen Sie die Gebühr", "Please pay the fee"),
            t(
                "Ihr Antrag ist gespeichert. Er geht an das Amt, sobald die Gebühr bezahlt ist. Die Zahlungsplattform war eben nicht erreichbar; bitte versuchen Sie es jetzt oder später.",
                "Your application is saved. It goes to the office as soon as the fee is paid. The payment platform could not be reached just now; please try now or later.",
            ),
        ),
    }
}

async fn view(p: &Shared, t: &Tenant, pid: PaymentId) -> Result<Option<PaymentView>, String> {
    let (p2, t2) = (p.clone(), t.clone());
    blocking(move || p2.service(&p2.defs()).payment_view(&t2, &pid)).await
}

/// The open request's pay page, read from the service (never from the request).
async fn open_pay_url(p: &Shared, t: &Tenant, pid: PaymentId) -> Option<String> {
    let (p2, t2, now) = (p.clone(), t.clone(), p.now());
    blocking(move || p2.service(&p2.defs()).pay_page_if_open(&t2, &pid, now))
        .await
        .unwrap_or_default()
}

pub(super) async fn show(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    let Ok(pid) = id.parse::<PaymentId>() else {
        return not_found(&p, Some(&t), lang);
    };
    let v = match view(&p, &t, pid).await {
        Ok(Some(v)) => v,
        Ok(None) => return not_found(&p, Some(&t), lang),
        Err(e) => return server_error(&p, &t, &e, lang),
    };
    let (heading, lead) = texts(&v, lang);
    let pay_url = if v.state == PaymentState::Open && v.requested {
        open_pay_url(&p, &t, pid).await
    } else {
        None
    };
    let may_request = v.submission.is_none()
        && v.method.is_none()
        && (matches!(v.state, PaymentState::Cancelled | PaymentState::Failed)
            || (v.state == PaymentState::Open && pay_url.is_none()));
    let page = PaymentPage {
        layout: Layout::new(&p.defs().portal, &t, heading, lang),
        heading,
        lead,
        state: v.state.id(),
        state_label: v.state.label(lang),
        state_title: tr(lang, "Stand der Zahlung:", "Payment status:"),
        amount_label: tr(lang, "Betrag", "Amount"),
        amount: lotse_core::payment::format_cents(v.amount_cents, lang),
        reported_label: tr(
            lang,
            "Von der Zahlungsplattform gemeldet",
            "Reported by the payment platform",
        ),
        reported_amount: v
            .reported_amount_cents
            .map(|c| lotse_core::payment::format_cents(c, lang)),
        purpose_label: tr(lang, "Verwendungszweck", "Purpose"),
        purpose: v.purpose.clone(),
        kassenzeichen_label: tr(lang, "Kassenzeichen", "Payment reference"),
        kassenzeichen: v.kassenzeichen.clone(),
        method_label: tr(lang, "Zahlart", "Method"),
        method: v.method.map(|m| m.label(lang)),
        transaction_label: tr(lang, "Transaktionsnummer", "Transaction id"),
        transaction_id: v.transaction_id.clone(),
        pay_url,
        pay_link: tr(lang, "Weiter zur Bezahlung", "Go to payment"),
        action: may_request.then(|| PayAction {
            url: format!("/{}/zahlung/{pid}", t.slug),
            csrf: p.token(&csrf_scope(&pid)),
            button: if v.requested {
                tr(lang, "Erneut versuchen", "Try again")
            } else {
                tr(lang, "Jetzt bezahlen", "Pay now")
            },
        }),
        confirmation: v.submission.map(|sid| format!("/{}/eingang/{sid}", t.slug)),
        confirmation_link: tr(lang, "Zur Eingangsbestätigung", "To the confirmation"),
        receipt_link: tr(
            lang,
            "Quittung herunterladen (PDF)",
            "Download the receipt (PDF)",
        ),
        bookmark: tr(
            lang,
            "Sie können diese Seite als Lesezeichen speichern und später wiederkommen, um zu bezahlen oder den Stand zu sehen.",
            "You can bookmark this page and come back later to pay or to see where things stand.",
        ),
    };
    p.render(&page)
}

/// "Jetzt bezahlen" / "Erneut versuchen": a payment request (never a second one once paid),
/// then back to the page, which links to the pay page.
pub(super) async fn request(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let Ok(pid) = id.parse::<PaymentId>() else {
        return not_found(&p, Some(&t), lang);
    };
    if field(&pairs, "_csrf") != Some(p.token(&csrf_scope(&pid)).as_str()) {
        return (
            StatusCode::FORBIDDEN,
            "Sicherheitsprüfung fehlgeschlagen. Bitte laden Sie die Seite neu.",
        )
            .into_response();
    }
    match view(&p, &t, pid).await {
        Ok(Some(_)) => {}
        Ok(None) => return not_found(&p, Some(&t), lang),
        Err(e) => return server_error(&p, &t, &e, lang),
    }
    let (p2, t2, now) = (p.clone(), t.clone(), p.now());
    let outcome = blocking(move || p2.service(&p2.defs()).pay(&t2, &pid, now)).await;
    if let Err(e) = &outcome {
        tracing::warn!(event = "payment_request_failed", tenant = %t.slug, payment = %pid, cause = %e);
    }
    let _: Option<PayOutcome> = outcome.ok();
    Redirect::to(&format!("/{}/zahlung/{pid}", t.slug)).into_response()
}

/// The return from the platform's pay page: the platform is asked where the payment stands
/// (the redirect itself proves nothing), then the page says it. A reload changes nothing.
pub(super) async fn returned(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    let Ok(pid) = id.parse::<PaymentId>() else {
        return not_found(&p, Some(&t), lang);
    };
    let (p2, t2, now) = (p.clone(), t.clone(), p.now());
    match blocking(move || p2.service(&p2.defs()).payment_returned(&t2, &pid, now)).await {
        Ok(Some(_)) => Redirect::to(&format!("/{}/zahlung/{pid}", t.slug)).into_response(),
        Ok(None) => not_found(&p, Some(&t), lang),
        Err(e) => server_error(&p, &t, &e, lang),
    }
}

/// The platform's notification, server to server: 204 once settled, 401 for a message not
/// signed with the tenant's secret (nothing changes), 404 for an unknown payment.
pub(super) async fn notified(
    State(p): State<Shared>,
    PortalTenant(t): PortalTenant,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(pid) = id.parse::<PaymentId>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (p2, t2, now) = (p.clone(), t.clone(), p.now());
    let done = crate::telemetry::spawn_blocking(move || {
        p2.service(&p2.defs())
            .payment_notified(&t2, &pid, signature.as_deref(), &body, now)
    })
    .await;
    match done {
        Ok(Ok(Some(_))) => StatusCode::NO_CONTENT.into_response(),
        Ok(Ok(None)) => StatusCode::NOT_FOUND.into_response(),
        Ok(Err(e)) if e.is_bad_signature() => {
            tracing::warn!(event = "payment_notification_refused", tenant = %t.slug, payment = %pid, cause = %e);
            (StatusCode::UNAUTHORIZED, "signature refused").into_response()
        }
        Ok(Err(e)) => {
            tracing::error!(event = "payment_notification_failed", tenant = %t.slug, payment = %pid, cause = %e);
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(e) => {
            tracing::error!(event = "payment_notification_failed", tenant = %t.slug, payment = %pid, cause = %e);
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
