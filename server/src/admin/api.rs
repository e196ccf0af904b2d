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
use super::{AdminError, Shared, cases, run};

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
    ApiCaseWorker { tenant: t, staff }: ApiCaseWorker,
    q: Result<Query<Filters>, QueryRejection>,
) -> Result<Response, AdminError> {
    let mut f = filters(q)?;
    f.me = Some(staff.account.id);
    f.today = Some(cases::today(&p));
    let query = f.query(PAGE_SIZE)?;
    let p2 = p.clone();
    let q2 = query.clone();
    let (page, cx) = run(move || {
        let tenant = super::tenant_id(&t)?;
        Ok((
            service::list(&p2, &tenant, &q2)?,
            service::ListContext::of(&p2, &tenant)?,
        ))
    })
    .await?;
    Ok(Json(json!({
        "total": page.total,
        "offset": query.offset,
        "limit": query.limit,
        "truncated": page.truncated,
        "counts": page.counts.iter().map(|(s, n)| (s.code().to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "items": page.entries.iter().map(|e| EntryView::of(&p, &cx, e)).collect::<Vec<_>>(),
    }))
    .into_response())
}

pub(super) async fn detail(
    State(p): State<Shared>,
    ApiCaseWorker { tenant: t, staff }: ApiCaseWorker,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    let p2 = p.clone();
    let v = run(move || {
        let d = service::detail(&p2, &t, &staff.account, &service::parse_id(&id)?)?;
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
        let d = service::detail(&p2, &t, &staff.account, &sid)?;
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AssignBody {
    /// An account id of the tenant's staff, `"mir"`, or null for nobody.
    assignee: Option<String>,
}

/// Assigns the case; answers with the submission as the detail does.
pub(super) async fn assign(
    State(p): State<Shared>,
    ApiCaseWorker { tenant: t, staff }: ApiCaseWorker,
    Path((_, id)): Path<(String, String)>,
    body: Result<Json<AssignBody>, JsonRejection>,
) -> Result<Response, AdminError> {
    let Json(body) = body.map_err(|e| AdminError::Invalid(e.body_text()))?;
    let p2 = p.clone();
    let v = run(move || {
        let sid = service::parse_id(&id)?;
        let to = body.assignee.unwrap_or_default();
        cases::assign(&p2, &t, &staff.account, &sid, &to)?;
        let d = service::detail(&p2, &t, &staff.account, &sid)?;
        Ok(SubmissionView::of(&p2, &t, &d))
    })
    .await?;
    Ok(Json(v).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FollowUpBody {
    /// `YYYY-MM-DD`, or null to remove the Wiedervorlage.
    date: Option<String>,
}

pub(super) async fn follow_up(
    State(p): State<Shared>,
    ApiCaseWorker { tenant: t, staff }: ApiCaseWorker,
    Path((_, id)): Path<(String, String)>,
    body: Result<Json<FollowUpBody>, JsonRejection>,
) -> Result<Response, AdminError> {
    let Json(body) = body.map_err(|e| AdminError::Invalid(e.body_text()))?;
    let p2 = p.clone();
    let v = run(move || {
        let sid = service::parse_id(&id)?;
        let date = body.date.unwrap_or_default();
        cases::set_follow_up(&p2, &t, &staff.account, &sid, &date)?;
        let d = service::detail(&p2, &t, &staff.account, &sid)?;
        Ok(SubmissionView::of(&p2, &t, &d))
    })
    .await?;
    Ok(Json(v).into_response())
}

/// An internal note; 201 with the note.
pub(super) async fn note(
    State(p): State<Shared>,
    ApiCaseWorker { tenant: t, staff }: ApiCaseWorker,
    Path((_, id)): Path<(String, String)>,
    body: Result<Json<MessageBody>, JsonRejection>,
) -> Result<Response, AdminError> {
    let Json(body) = body.map_err(|e| AdminError::Invalid(e.body_text()))?;
    let p2 = p.clone();
    let n = run(move || {
        cases::add_note(
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
        Json(json!({"seq": n.seq, "body": n.body})),
    )
        .into_response())
}
