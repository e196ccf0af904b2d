//! Online payment: what a workflow declares (`payment:`), amounts in integer cents, the methods a
//! payment platform offers, and what a paid submission records. No I/O: the platform is the
//! server's business (docs/payment.md).
//!
//! Amounts are never floating point here. A fee rule may compute a euro amount (`30.70 * 2`);
//! the script function `cents` turns it into whole cents from its exact decimal text, refusing
//! anything finer than a cent, and the payment reads only such a whole number.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::text::{Lang, Text};

/// The highest amount a payment may have: 1,000,000.00 € (a guard against a fee rule gone wrong;
/// municipal fees stay far below it).
pub const MAX_CENTS: i64 = 100_000_000;

/// The placeholder in a payment's purpose text that becomes the payment's Kassenzeichen.
pub const REFERENCE_PLACEHOLDER: &str = "{kassenzeichen}";

/// A workflow's `payment:` as checked at load time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentSpec {
    /// The computed value (format `cents`) that holds the amount in whole cents. `()` or 0:
    /// nothing to pay for this application (another way of paying was chosen).
    pub amount: String,
    /// The purpose (Verwendungszweck), with [`REFERENCE_PLACEHOLDER`] in every language.
    pub purpose: Text,
    pub due: Due,
    /// The methods the tenant's platform offers for this service, in the order shown.
    pub methods: Vec<Method>,
}

/// When a payment is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Due {
    /// Before the submission reaches the office: it is kept as "payment pending" until paid.
    BeforeSubmission,
}

impl Due {
    pub const ALL: [(&'static str, Due); 1] = [("before_submission", Due::BeforeSubmission)];
}

/// A payment method as XBezahldienste platforms name them (our own short names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Giropay,
    Kreditkarte,
    Paypal,
    Lastschrift,
}

impl Method {
    pub const ALL: [Method; 4] = [
        Method::Giropay,
        Method::Kreditkarte,
        Method::Paypal,
        Method::Lastschrift,
    ];

    /// The name in workflow files, on the wire and in the submission.
    pub fn id(self) -> &'static str {
        match self {
            Method::Giropay => "giropay",
            Method::Kreditkarte => "kreditkarte",
            Method::Paypal => "paypal",
            Method::Lastschrift => "lastschrift",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.id() == s)
    }

    /// How a citizen reads it.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Method::Giropay, _) => "giropay",
            (Method::Kreditkarte, Lang::De) => "Kreditkarte",
            (Method::Kreditkarte, Lang::En) => "Credit card",
            (Method::Paypal, _) => "PayPal",
            (Method::Lastschrift, Lang::De) => "SEPA-Lastschrift",
            (Method::Lastschrift, Lang::En) => "SEPA direct debit",
        }
    }
}

/// Why a computed value is not an amount to pay.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("LOT-P001: the amount {0} is not a whole number of cents")]
    NotCents(String),
    #[error("LOT-P002: the amount {0} is negative or above 1,000,000.00 €")]
    OutOfRange(i64),
}

/// The amount in cents that a computed value asks for: `None` when nothing is to be paid
/// (no value, or 0).
pub fn amount_cents(v: Option<&Value>) -> Result<Option<i64>, AmountError> {
    let n = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n,
        Some(other) => return Err(AmountError::NotCents(other.to_string())),
    };
    let cents = n
        .as_i64()
        .ok_or_else(|| AmountError::NotCents(n.to_string()))?;
    if !(0..=MAX_CENTS).contains(&cents) {
        return Err(AmountError::OutOfRange(cents));
    }
    Ok((cents > 0).then_some(cents))
}

/// Whole cents from a euro amount's exact decimal text (`61.4` → 6140): the shortest text that
/// reads back as the same number, so no rounding happens here; more than two decimals
/// (`0.30000000000000004`) is an error, never rounded away.
pub fn euro_text_to_cents(text: &str) -> Result<i64, AmountError> {
    let bad = || AmountError::NotCents(text.to_string());
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > 2 || int.len() > 12 {
        return Err(bad());
    }
    let whole: i64 = int.parse().map_err(|_| bad())?;
    let mut part: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| bad())?
    };
    if frac.len() == 1 {
        part *= 10;
    }
    let cents = whole * 100 + part;
    Ok(if neg { -cents } else { cents })
}

/// `6140` → `61,40 €` (German) or `€61.40` (English): integer arithmetic only.
pub fn format_cents(cents: i64, lang: Lang) -> String {
    let (thousands, decimal) = match lang {
        Lang::De => ('.', ','),
        Lang::En => (',', '.'),
    };
    let abs = cents.unsigned_abs();
    let (euros, rest) = (abs / 100, abs % 100);
    let digits = euros.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(thousands);
        }
        grouped.push(c);
    }
    let sign = if cents < 0 { "-" } else { "" };
    match lang {
        Lang::De => format!("{sign}{grouped}{decimal}{rest:02} €"),
        Lang::En => format!("{sign}€{grouped}{decimal}{rest:02}"),
    }
}

/// The purpose text for one payment: the declared text with the Kassenzeichen filled in.
pub fn purpose(spec: &PaymentSpec, kassenzeichen: &str, lang: Lang) -> String {
    spec.purpose
        .get(lang)
        .replace(REFERENCE_PLACEHOLDER, kassenzeichen)
}

/// Where a payment stands, as the platform reported it last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    /// Requested at the platform; the citizen has not finished at the pay page.
    Open,
    /// The platform waits for the money (a direct debit, a bank transfer being checked).
    Pending,
    Paid,
    Cancelled,
    Failed,
    /// The platform reported the payment paid, but with another amount than the one requested
    /// (LOT-P005). Never taken as paid: the application reaches the office marked so, and the
    /// office clears it up. Set by Lotse only; a platform reporting this state is refused.
    AmountMismatch,
}

impl PaymentState {
    pub fn id(self) -> &'static str {
        match self {
            PaymentState::Open => "open",
            PaymentState::Pending => "pending",
            PaymentState::Paid => "paid",
            PaymentState::Cancelled => "cancelled",
            PaymentState::Failed => "failed",
            PaymentState::AmountMismatch => "amount_mismatch",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentState> {
        [
            PaymentState::Open,
            PaymentState::Pending,
            PaymentState::Paid,
            PaymentState::Cancelled,
            PaymentState::Failed,
            PaymentState::AmountMismatch,
        ]
        .into_iter()
        .find(|p| p.id() == s)
    }

    /// Final at the platform: paid, cancelled or failed (or paid with another amount). A final
    /// state is never left again for the same platform request, whatever a late or repeated
    /// message says.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            PaymentState::Paid
                | PaymentState::Cancelled
                | PaymentState::Failed
                | PaymentState::AmountMismatch
        )
    }

    /// In plain words for citizens and case workers.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (PaymentState::Open, Lang::De) => "offen",
            (PaymentState::Open, Lang::En) => "open",
            (PaymentState::Pending, Lang::De) => "in Bearbeitung",
            (PaymentState::Pending, Lang::En) => "being processed",
            (PaymentState::Paid, Lang::De) => "bezahlt",
            (PaymentState::Paid, Lang::En) => "paid",
            (PaymentState::Cancelled, Lang::De) => "abgebrochen",
            (PaymentState::Cancelled, Lang::En) => "cancelled",
            (PaymentState::Failed, Lang::De) => "fehlgeschlagen",
            (PaymentState::Failed, Lang::En) => "failed",
            (PaymentState::AmountMismatch, Lang::De) => "Betrag abweichend, nicht bezahlt",
            (PaymentState::AmountMismatch, Lang::En) => "amount differs, not paid",
        }
    }
}

impl fmt::Display for PaymentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The payment a submission carries (in its data, so the Postkorb, the receipt and the
/// webhook all read the same): paid before the office got it, or (`state` `amount_mismatch`)
/// reported paid with another amount than requested, which is not paid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaidPayment {
    pub state: PaymentState,
    /// The amount requested: the amount the citizen saw.
    pub amount_cents: i64,
    /// With `amount_mismatch` only: the amount the platform reported instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_amount_cents: Option<i64>,
    pub currency: String,
    pub purpose: String,
    pub kassenzeichen: String,
    pub method: Method,
    /// The platform's transaction id.
    pub transaction_id: String,
    /// The platform's name for the tenant's account (merchant id).
    pub merchant_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub paid_at: time::OffsetDateTime,
}

/// A SEPA direct debit mandate as the citizen gave it with the application (`sepa_mandate:`),
/// recorded in the submission: the text shown before sending, the creditor with its creditor
/// identifier (Gläubiger-ID), the account holder and the account (masked). Its mandate
/// reference is the submission's reference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GivenMandate {
    /// `SEPA-Lastschriftmandat` (in the application's language).
    pub title: String,
    /// The creditor (Zahlungsempfänger): the tenant.
    pub creditor: String,
    /// The tenant's Gläubiger-Identifikationsnummer.
    pub creditor_id: Option<String>,
    pub holder: String,
    /// The IBAN with all but country, check digits and the last four digits hidden.
    pub iban: String,
    /// The mandate's text as shown, paragraph by paragraph.
    pub text: Vec<String>,
    pub lang: Lang,
    #[serde(with = "time::serde::rfc3339")]
    pub given_at: time::OffsetDateTime,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn euro_texts_become_exact_cents_and_finer_amounts_are_refused() {
        for (t, c) in [
            ("61.4", 6140),
            ("30.7", 3070),
            ("0.3", 30),
            ("0.05", 5),
            ("12", 1200),
            ("1234567.89", 123456789),
            ("30.70", 3070),
            ("-1.5", -150),
        ] {
            assert_eq!(euro_text_to_cents(t), Ok(c), "{t}");
        }
        for t in [
            "0.30000000000000004",
            "1.005",
            "",
            ".5",
            "1e3",
            "NaN",
            "inf",
            "1,5",
        ] {
            assert!(euro_text_to_cents(t).is_err(), "{t}");
        }
    }

    #[test]
    fn a_different_amount_is_final_never_paid_and_older_records_still_read() {
        let m = PaymentState::AmountMismatch;
        assert!(m.is_final() && m != PaymentState::Paid);
        assert_eq!(PaymentState::parse(m.id()), Some(m));
        assert_eq!(serde_json::to_value(m).unwrap(), json!("amount_mismatch"));
        assert_eq!(m.label(Lang::De), "Betrag abweichend, nicht bezahlt");
        // A payment recorded before `reported_amount_cents` existed reads as it was, and a paid
        // one writes no such key.
        let older = json!({"state": "paid", "amount_cents": 6140, "currency": "EUR",
            "purpose": "Bewohnerparkausweis HEI-Z-1", "kassenzeichen": "HEI-Z-1",
            "method": "giropay", "transaction_id": "TX-1", "merchant_id": "HEI",
            "paid_at": "2026-12-06T10:00:00Z"});
        let p: PaidPayment = serde_json::from_value(older.clone()).unwrap();
        assert_eq!(p.reported_amount_cents, None);
        assert_eq!(serde_json::to_value(&p).unwrap(), older);
    }

    #[test]
    fn every_cent_amount_formats_back_to_itself() {
        // Integer formatting: parse the German text back and compare, over a wide sweep.
        for cents in (0..200_000).chain([99_999_999, 100_000_000, 123_456_789]) {
            let de = format_cents(cents, Lang::De);
            let back: String = de
                .trim_end_matches(" €")
                .chars()
                .filter(|c| *c != '.')
                .map(|c| if c == ',' { '.' } else { c })
                .collect();
            assert_eq!(euro_text_to_cents(&back), Ok(cents), "{de}");
        }
        assert_eq!(format_cents(123_456_789, Lang::De), "1.234.567,89 €");
        assert_eq!(format_cents(5, Lang::En), "€0.05");
    }

    #[test]
    fn only_whole_cents_in_range_are_amounts() {
        assert_eq!(amount_cents(Some(&json!(6140))), Ok(Some(6140)));
        assert_eq!(amount_cents(Some(&json!(0))), Ok(None));
        assert_eq!(amount_cents(None), Ok(None));
        assert_eq!(amount_cents(Some(&Value::Null)), Ok(None));
        assert!(amount_cents(Some(&json!(61.4))).is_err());
        assert!(amount_cents(Some(&json!("6140"))).is_err());
        assert!(amount_cents(Some(&json!(-1))).is_err());
        assert!(amount_cents(Some(&json!(MAX_CENTS + 1))).is_err());
    }
}
