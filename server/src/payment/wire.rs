//! The messages exchanged with a payment platform, modelled on XBezahldienste (FITKO): a
//! payment request, its answer with the pay page, the platform's report (the status query's
//! answer and the notification's body). JSON, amounts in whole cents. docs/payment.md.

use lotse_core::payment::{Method, PaymentState};
use serde::{Deserialize, Serialize};

/// `POST <platform>/api/v1/zahlungen`: a new payment request.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    pub merchant_id: String,
    /// Our reference of this attempt: the Kassenzeichen and the attempt's number.
    pub reference: String,
    pub amount_cents: i64,
    pub currency: String,
    /// The Verwendungszweck.
    pub purpose: String,
    pub methods: Vec<Method>,
    /// Where the pay page sends the citizen back to.
    pub return_url: String,
    /// Where the platform reports the result, server to server.
    pub notify_url: String,
    /// `de` or `en`: the pay page's language.
    pub lang: String,
}

/// The answer to a payment request (201).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Created {
    /// The platform's id of the payment.
    pub id: String,
    /// The pay page the citizen is sent to.
    pub pay_url: String,
}

/// Where a payment stands at the platform: the answer to a status query
/// (`GET <platform>/api/v1/zahlungen/<id>`) and the body of a notification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub id: String,
    pub reference: String,
    pub merchant_id: String,
    pub state: PaymentState,
    pub amount_cents: i64,
    #[serde(default)]
    pub method: Option<Method>,
    #[serde(default)]
    pub transaction_id: Option<String>,
}
