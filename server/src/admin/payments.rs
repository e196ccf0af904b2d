//! The online payment and the SEPA mandate of a submission as the Postkorb shows them, read
//! from the submission's own data (docs/payment.md): what was paid (or, with a different amount
//! reported by the platform, that it is *not* paid), and the direct debit mandate the citizen
//! gave with its creditor id.

use lotse_core::Lang;
use lotse_core::payment::{GivenMandate, PaidPayment, PaymentState, format_cents};
use serde::Serialize;
use serde_json::Value;

/// An online payment as the Postkorb shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PaymentLine {
    pub state: String,
    pub state_label: &'static str,
    /// The amount requested (the amount the citizen saw).
    pub amount_cents: i64,
    pub amount: String,
    pub method: String,
    pub transaction_id: String,
    pub kassenzeichen: String,
    /// With state `amount_mismatch`: what the platform reported instead. Not paid: the office
    /// clears it up with the citizen and the platform.
    pub reported_amount_cents: Option<i64>,
    pub reported_amount: Option<String>,
    /// With state `amount_mismatch`: what the case worker should know, in one sentence.
    pub warning: Option<String>,
}

impl PaymentLine {
    pub(super) fn of(data: &Value) -> Option<PaymentLine> {
        let p: PaidPayment = serde_json::from_value(data.get("payment")?.clone()).ok()?;
        let reported = p.reported_amount_cents.map(|c| format_cents(c, Lang::De));
        let requested = format_cents(p.amount_cents, Lang::De);
        let warning = (p.state == PaymentState::AmountMismatch).then(|| {
            format!(
                "Die Zahlungsplattform hat {} statt {requested} gemeldet. Der Antrag gilt nicht als bezahlt: Bitte klären Sie die Zahlung (Kassenzeichen {}) mit der Kasse und der antragstellenden Person.",
                reported.as_deref().unwrap_or("einen anderen Betrag"),
                p.kassenzeichen
            )
        });
        Some(PaymentLine {
            state: p.state.id().to_string(),
            state_label: p.state.label(Lang::De),
            amount_cents: p.amount_cents,
            amount: requested,
            method: p.method.label(Lang::De).to_string(),
            transaction_id: p.transaction_id,
            kassenzeichen: p.kassenzeichen,
            reported_amount_cents: p.reported_amount_cents,
            reported_amount: reported,
            warning,
        })
    }
}

/// The SEPA direct debit mandate given with the application, as recorded in the submission.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MandateLine {
    pub title: String,
    pub creditor: String,
    /// The tenant's Gläubiger-Identifikationsnummer.
    pub creditor_id: Option<String>,
    /// The mandate reference: the submission's reference.
    pub reference: String,
    pub holder: String,
    /// The IBAN, masked.
    pub iban: String,
    /// The mandate's text as the citizen saw it.
    pub text: Vec<String>,
    /// When it was given (Europe/Berlin).
    pub given_at: String,
}

impl MandateLine {
    pub(super) fn of(data: &Value, reference: &str) -> Option<MandateLine> {
        let m: GivenMandate = serde_json::from_value(data.get("sepa_mandate")?.clone()).ok()?;
        Some(MandateLine {
            title: m.title,
            creditor: m.creditor,
            creditor_id: m.creditor_id,
            reference: reference.to_string(),
            holder: m.holder,
            iban: m.iban,
            text: m.text,
            given_at: super::service::when(m.given_at),
        })
    }
}
