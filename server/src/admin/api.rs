//! The Postkorb as JSON under `/api/v1/verwaltung/{tenant}/…`, for `Authorization: Bearer`
//! tokens and for the signed-in browser (session cookie). Errors are problem+json with
//! `LOT-V…` codes. A write with the session cookie must be JSON: a cross-site form cannot send
//! that without the browser asking first, and the cookie is `SameSite=Strict` besides.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::extractors::{ApiCaseWorker, ApiStaff};
use super::service::{self, EntryView, Filters, SubmissionView};
use super::{AdminError, Shared, run};

const PAGE_SIZE: usize = 50;

fn filters(q: Result<Query<Filters>, QueryRejection>) -> Result<Filters, AdminError> {
    q.map(|Query(f)| f)
        .map_err(|e| AdminError::Invalid(format!("Filter: {e}")))
}

pub(super) async fn me(ApiStaff { staff, .. }: ApiStaff) -> Result<Response, AdminError> {
    let a = &staff.account;
    Ok(Json(json!({
        "id": a.id, "login": a.login, "name": a.display_name, "tenant": a.tenant.slug(),
        "role": a.role.code(), "role_label": a.role.label_de(),
        "may_work_submissions": a.role.may_work_submissions(),
        "may_manage_accounts": a.role.may_manage_accounts(),
    }))
    .into_response())
}

pub(super) async fn list(
    State(p): State<Shared>,
    ApiCaseWorker { tenant: t, .. }: ApiCaseWorker,
    q: Result<Query<Filters>, QueryRejection>,
) -> Result<Response, AdminError> {
    let query = filters(q)?.query(PAGE_SIZE)?;
    let p2 = p.clone();
    let q2 = query.clone();
    let page = run(move || service::list(&p2, &super::tenant_id(&t)?, &q2)).await?;
    Ok(Json(json!({
        "total": page.total,
        "offset": query.offset,
        "limit": query.limit,
        "counts": page.counts.iter().map(|(s, n)| (s.code().to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "items": page.entries.iter().map(|e| EntryView::of(&p, e)).collect::<Vec<_>>(),
    }))
    .into_response())
}

pub(super) async fn detail(
    State(p): State<Shared>,
    ApiCaseWorker { tenant: t, .. }: ApiCaseWorker,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    let p2 = p.clone();
    let v = run(move || {
        let d = service::detail(&p2, &t, &service::parse_id(&id)?)?;
        Ok(SubmissionView::of(&p2, &t, &d))
    })
    .await?;
    Ok(Json(v).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StatusBody {
    status: String,
    #[serde(default)]
    comment: String,
}

pub(super) async fn change_status(
    State(p): State<Shared>,
    ApiCaseWorker { tenant: t, staff }: ApiCaseWorker,
    Path((_, id)): Path<(String, String)>,
    body: Result<Json<StatusBody>, JsonRejection>,
) -> Result<Response, AdminError> {
    let Json(body) = body.map_err(|e| AdminError::Invalid(e.body_text()))?;
    let p2 = p.clone();
    let v = run(move || {
        let sid = service::parse_id(&id)?;
        service::change_status(&p2, &t, &staff.account, &sid, &body.status, &body.comment)?;
        let d = service::detail(&p2, &t, &sid)?;
        Ok(SubmissionView::of(&p2, &t, &d))
    })
    .await?;
    Ok(Json(v).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MessageBody {
    text: String,
}

pub(super) async fn message(
    State(p): State<Shared>,
    ApiCaseWorker { tenant: t, staff }: ApiCaseWorker,
    Path((_, id)): Path<(String, String)>,
    body: Result<Json<MessageBody>, JsonRejection>,
) -> Result<Response, AdminError> {
    let Json(body) = body.map_err(|e| AdminError::Invalid(e.body_text()))?;
    let p2 = p.clone();
    let m = run(move || {
        service::add_message(
            &p2,
            &t,
            &staff.account,
            &service::parse_id(&id)?,
            &body.text,
        )
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"seq": m.seq, "from": "office", "body": m.body})),
    )
        .into_response())
}

pub(super) async fn receipt(
    State(p): State<Shared>,
    ApiCaseWorker { tenant: t, .. }: ApiCaseWorker,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    let p2 = p.clone();
    let (reference, pdf) = run(move || service::receipt(&p2, &t, &service::parse_id(&id)?)).await?;
    Ok(super::pdf_response(&reference, pdf))
}

pub(super) async fn export_jsonl(
    State(p): State<Shared>,
    ApiCaseWorker { tenant: t, staff }: ApiCaseWorker,
    q: Result<Query<Filters>, QueryRejection>,
) -> Result<Response, AdminError> {
    super::export_body(&p, t, &staff, &filters(q)?, false).await
}

pub(super) async fn export_csv(
    State(p): State<Shared>,
    ApiCaseWorker { tenant: t, staff }: ApiCaseWorker,
    q: Result<Query<Filters>, QueryRejection>,
) -> Result<Response, AdminError> {
    super::export_body(&p, t, &staff, &filters(q)?, true).await
}
