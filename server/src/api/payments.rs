//! Payments of applications that wait for one (`payment:`): the payment resource, its `pay`
//! link (a new payment request, refused once paid) and the payment inside the application's
//! state while it waits. docs/payment.md, docs/api.md.

use super::*;
use crate::service::{PayOutcome, PaymentView};
use lotse_store::PaymentId;

/// The payment as JSON, with its links; `pay_page`: the platform's pay page, when one was
/// just requested.
pub(super) fn payment_json(t: &Tenant, v: &PaymentView, pay_page: Option<&str>) -> Value {
    let base = format!("/api/v1/tenants/{}/payments/{}", t.slug, v.id);
    let mut links = json!({
        "self": base,
        "page": format!("/{}/zahlung/{}", t.slug, v.id),
    });
    if v.method.is_none() && v.submission.is_none() {
        links["pay"] = json!(format!("{base}/pay"));
    }
    if let Some(url) = pay_page {
        links["pay_page"] = json!(url);
    }
    if let Some(sid) = v.submission {
        links["submission"] = json!(format!("/api/v1/tenants/{}/submissions/{sid}", t.slug));
    }
    json!({
        "id": v.id.to_string(),
        "state": v.state,
        "amount_cents": v.amount_cents,
        "currency": "EUR",
        "amount": v.amount,
        "purpose": v.purpose,
        "kassenzeichen": v.kassenzeichen,
        "methods": v.methods,
        "method": v.method,
        "transaction_id": v.transaction_id,
        "links": links,
    })
}

/// The state of an application that waits for its payment.
pub(super) fn paying_state(t: &Tenant, id: &str, v: &PaymentView, pay_page: Option<&str>) -> Value {
    json!({
        "id": id,
        "tenant": t.slug,
        "service": v.workflow_id,
        "position": "payment_pending",
        "payment": payment_json(t, v, pay_page),
        "links": {
            "self": format!("/api/v1/tenants/{}/applications/{id}", t.slug),
            "payment": format!("/api/v1/tenants/{}/payments/{}", t.slug, v.id),
        },
    })
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
    Ok(ok_json(status, paying_state(&t, id, &v, pay_page)))
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
    Ok(ok_json(StatusCode::OK, payment_json(&t, &v, None)))
}

/// `pay`: the open request's pay page again, or a new request after a cancelled or failed
/// one; refused (409, LOT-H020) once paid.
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
            Ok(ok_json(StatusCode::OK, payment_json(&t, &v, Some(&url))))
        }
        PayOutcome::Waiting(v) => Ok(ok_json(StatusCode::OK, payment_json(&t, &v, None))),
        PayOutcome::AlreadyPaid(v) => Err(Problem::new(
            StatusCode::CONFLICT,
            "LOT-H020",
            "Dieser Antrag ist bereits bezahlt; eine zweite Zahlung gibt es nicht.".into(),
            "This application is paid already; there is no second payment.".into(),
        )
        .with("payment", payment_json(&t, &v, None))),
    }
}
