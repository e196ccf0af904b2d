//! Payments of applications that wait for one (`payment:`): the payment resource, its `pay`
//! link (a new payment request, refused once paid) and the payment inside the application's
//! state while it waits. docs/payment.md, docs/api.md.

use super::*;
use crate::service::{PayOutcome, PaymentView};
use lotse_store::PaymentId;

/// A payment of an application (docs/payment.md): what it is for, where it stands, and how to
/// pay. Amounts are whole cents, never floating point.
#[derive(Serialize, ToSchema)]
pub(super) struct PaymentOut {
    #[schema(pattern = "^[0-9a-f]{32}$")]
    id: String,
    /// `open` (not paid yet), `pending` (the platform has not decided), `paid`, `cancelled`
    /// (nothing charged; pay again), `failed`, `amount_mismatch` (the platform reported
    /// another amount: not paid, the office clears it up; no second payment).
    #[schema(value_type = lotse_core::payment::PaymentState)]
    state: lotse_core::payment::PaymentState,
    /// The amount in whole cents (6140 = 61,40 €).
    amount_cents: i64,
    /// With `amount_mismatch`: the amount the platform reported instead, in whole cents.
    #[serde(skip_serializing_if = "Option::is_none")]
    reported_amount_cents: Option<i64>,
    /// Always EUR.
    currency: &'static str,
    /// The amount as the citizen reads it, e.g. `61,40 €`.
    amount: String,
    /// The Verwendungszweck, with the Kassenzeichen.
    purpose: String,
    /// The office matches the money with it.
    kassenzeichen: String,
    /// The methods the tenant's platform offers for this service.
    methods: Vec<lotse_core::payment::Method>,
    /// Paid: how.
    method: Option<lotse_core::payment::Method>,
    /// Paid: the platform's transaction id.
    transaction_id: Option<String>,
    links: PaymentLinks,
}

/// The links of a payment.
#[derive(Serialize, ToSchema)]
pub(super) struct PaymentLinks {
    /// The payment resource.
    #[serde(rename = "self")]
    this: String,
    /// The citizen's payment page in the portal (HTML).
    page: String,
    /// `POST` here to (re)start paying: while not paid and not handed to the office.
    #[serde(skip_serializing_if = "Option::is_none")]
    pay: Option<String>,
    /// The platform's pay page to send the citizen to, when a payment request was just made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pay_page: Option<String>,
    /// The submission it became, once paid.
    #[serde(skip_serializing_if = "Option::is_none")]
    submission: Option<String>,
}

/// The payment with its links; `pay_page`: the platform's pay page, when one was just
/// requested.
pub(super) fn payment_out(t: &Tenant, v: &PaymentView, pay_page: Option<&str>) -> PaymentOut {
    let base = format!("/api/v1/tenants/{}/payments/{}", t.slug, v.id);
    PaymentOut {
        id: v.id.to_string(),
        state: v.state,
        amount_cents: v.amount_cents,
        reported_amount_cents: v.reported_amount_cents,
        currency: "EUR",
        amount: v.amount.clone(),
        purpose: v.purpose.clone(),
        kassenzeichen: v.kassenzeichen.clone(),
        methods: v.methods.clone(),
        method: v.method,
        transaction_id: v.transaction_id.clone(),
        links: PaymentLinks {
            this: base.clone(),
            page: format!("/{}/zahlung/{}", t.slug, v.id),
            pay: (v.method.is_none() && v.submission.is_none()).then(|| format!("{base}/pay")),
            pay_page: pay_page.map(str::to_owned),
            submission: v
                .submission
                .map(|sid| format!("/api/v1/tenants/{}/submissions/{sid}", t.slug)),
        },
    }
}

/// An application that was sent and waits for its payment (the submit's 202).
#[derive(Serialize, ToSchema)]
pub(super) struct PayingState {
    #[schema(pattern = "^[0-9a-f]{32}$")]
    id: String,
    tenant: String,
    service: String,
    /// Always `payment_pending`: sent, kept durably, handed to the office once paid.
    position: &'static str,
    payment: PaymentOut,
    links: PayingLinks,
}

/// The links of an application waiting for its payment.
#[derive(Serialize, ToSchema)]
pub(super) struct PayingLinks {
    /// The application.
    #[serde(rename = "self")]
    this: String,
    /// Its payment.
    payment: String,
}

/// The state of an application that waits for its payment.
pub(super) fn paying_state(
    t: &Tenant,
    id: &str,
    v: &PaymentView,
    pay_page: Option<&str>,
) -> PayingState {
    PayingState {
        id: id.to_string(),
        tenant: t.slug.clone(),
        service: v.workflow_id.clone(),
        position: "payment_pending",
        payment: payment_out(t, v, pay_page),
        links: PayingLinks {
            this: format!("/api/v1/tenants/{}/applications/{id}", t.slug),
            payment: format!("/api/v1/tenants/{}/payments/{}", t.slug, v.id),
        },
    }
}

async fn view(p: &Shared, t: Arc<Tenant>, pid: PaymentId) -> Result<PaymentView, Problem> {
    let p2 = p.clone();
    blocking(move || p2.service(&p2.defs()).payment_view(&t, &pid))
        .await
        .map_err(|e| Problem::internal(&e))?
        .ok_or_else(|| Problem::not_found("Diese Zahlung", "This payment"))
}

pub(super) async fn paying_application(
    p: &Shared,
    t: Arc<Tenant>,
    id: &str,
    pid: PaymentId,
    pay_page: Option<&str>,
    status: StatusCode,
) -> ApiResult {
    let v = view(p, t.clone(), pid).await?;
    Ok(ok_typed(status, &paying_state(&t, id, &v, pay_page)))
}

pub(super) async fn read_payment(
    State(p): State<Shared>,
    ApiTenant(t): ApiTenant,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult {
    let pid: PaymentId = id
        .parse()
        .map_err(|_| Problem::not_found("Diese Zahlung", "This payment"))?;
    let v = view(&p, t.clone(), pid).await?;
    Ok(ok_typed(StatusCode::OK, &payment_out(&t, &v, None)))
}

/// `pay`: the open request's pay page again, or a new request after a cancelled or failed
/// one; refused (409, LOT-H020) once paid, and (409, LOT-H023) once the platform reported
/// another amount.
pub(super) async fn pay(
    State(p): State<Shared>,
    ApiTenant(t): ApiTenant,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult {
    let pid: PaymentId = id
        .parse()
        .map_err(|_| Problem::not_found("Diese Zahlung", "This payment"))?;
    view(&p, t.clone(), pid).await?;
    let (p2, t2, now) = (p.clone(), t.clone(), p.now());
    let outcome = blocking(move || p2.service(&p2.defs()).pay(&t2, &pid, now))
        .await
        .map_err(|e| {
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "LOT-H021",
                "Die Zahlungsplattform ist gerade nicht erreichbar. Der Antrag bleibt gespeichert; bitte später erneut versuchen.".into(),
                format!("The payment platform cannot be reached now ({e}). The application stays saved; try again later."),
            )
        })?;
    match outcome {
        PayOutcome::PayPage(url) => {
            let v = view(&p, t.clone(), pid).await?;
            Ok(ok_typed(StatusCode::OK, &payment_out(&t, &v, Some(&url))))
        }
        PayOutcome::Waiting(v) => Ok(ok_typed(StatusCode::OK, &payment_out(&t, &v, None))),
        PayOutcome::AlreadyPaid(v) if v.state == lotse_core::payment::PaymentState::AmountMismatch => Err(Problem::new(
            StatusCode::CONFLICT,
            "LOT-H023",
            "Die Zahlungsplattform hat für diesen Antrag einen anderen Betrag gemeldet; das Amt klärt die Zahlung. Bitte nicht noch einmal bezahlen.".into(),
            "The payment platform reported a different amount for this application; the office clears up the payment. Please do not pay again.".into(),
        )
        .with(
            "payment",
            serde_json::to_value(payment_out(&t, &v, None)).unwrap_or_default(),
        )),
        PayOutcome::AlreadyPaid(v) => Err(Problem::new(
            StatusCode::CONFLICT,
            "LOT-H020",
            "Dieser Antrag ist bereits bezahlt; eine zweite Zahlung gibt es nicht.".into(),
            "This application is paid already; there is no second payment.".into(),
        )
        .with(
            "payment",
            serde_json::to_value(payment_out(&t, &v, None)).unwrap_or_default(),
        )),
    }
}
