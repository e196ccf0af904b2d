//! The Postkorb as JSON under `/api/v1/verwaltung/{tenant}/…`, for `Authorization: Bearer`
//! tokens and for the signed-in browser (session cookie). Errors are problem+json with
//! `LOT-V…` codes. A write with the session cookie must be JSON: a cross-site form cannot send
//! that without the browser asking first, and the cookie is `SameSite=Strict` besides.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lotse_store::ReadKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extractors::{ApiCaseWorker, ApiStaff};
use super::service::{self, EntryView, Filters, SubmissionView};
use super::{AdminError, Shared, cases, run};

const PAGE_SIZE: usize = 50;

fn filters(q: Result<Query<Filters>, QueryRejection>) -> Result<Filters, AdminError> {
    q.map(|Query(f)| f)
        .map_err(|e| AdminError::Invalid(format!("Filter: {e}")))
}

/// Who is asking, with role and permissions.
#[derive(Serialize, ToSchema)]
pub(super) struct StaffMember<'a> {
    id: String,
    login: &'a str,
    name: &'a str,
    tenant: &'a str,
    #[schema(schema_with = roles)]
    role: &'static str,
    role_label: &'static str,
    may_work_submissions: bool,
    may_manage_accounts: bool,
}

/// The codes of the staff roles.
fn roles() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(lotse_store::Role::ALL.iter().map(|r| r.code())))
        .build()
}

pub(super) async fn me(ApiStaff { staff, .. }: ApiStaff) -> Result<Response, AdminError> {
    let a = &staff.account;
    Ok(Json(StaffMember {
        id: a.id.to_string(),
        login: &a.login,
        name: &a.display_name,
        tenant: a.tenant.slug(),
        role: a.role.code(),
        role_label: a.role.label_de(),
        may_work_submissions: a.role.may_work_submissions(),
        may_manage_accounts: a.role.may_manage_accounts(),
    })
    .into_response())
}

/// One page of the Postkorb.
#[derive(Serialize, ToSchema)]
pub(super) struct PostkorbPage {
    total: u64,
    offset: usize,
    limit: usize,
    /// A search matched more than 1,000 submissions (SEARCH_COUNT_LIMIT): total and counts
    /// cover the newest 1,000, so the total is a lower bound. Paging with offset still reaches
    /// every match.
    truncated: bool,
    /// Submissions per status code.
    counts: std::collections::BTreeMap<String, u64>,
    items: Vec<EntryView>,
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
    Ok(Json(PostkorbPage {
        total: page.total,
        offset: query.offset,
        limit: query.limit,
        truncated: page.truncated,
        counts: page
            .counts
            .iter()
            .map(|(s, n)| (s.code().to_string(), *n))
            .collect(),
        items: page
            .entries
            .iter()
            .map(|e| EntryView::of(&p, &cx, e))
            .collect(),
    })
    .into_response())
}

pub(super) async fn detail(
    State(p): State<Shared>,
    ApiCaseWorker { tenant: t, staff }: ApiCaseWorker,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    let p2 = p.clone();
    let v = run(move || {
        let sid = service::parse_id(&id)?;
        let d = service::detail(&p2, &t, &staff.account, &sid)?;
        service::audit_read(
            &p2,
            &t,
            service::office(&staff.account),
            &sid,
            ReadKind::Api,
            None,
        )?;
        Ok(SubmissionView::of(&p2, &t, &d))
    })
    .await?;
    Ok(Json(v).into_response())
}

/// A status change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = StatusChangeBody)]
pub(super) struct StatusBody {
    /// The new status code, one of the submission's `next_statuses`.
    #[schema(examples("in_bearbeitung"))]
    status: String,
    /// For a Rückfrage: the question the citizen sees.
    #[serde(default)]
    #[schema(max_length = 5000)]
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

/// A message to the citizen, or an internal note.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = StaffMessageBody)]
pub(super) struct MessageBody {
    #[schema(min_length = 1, max_length = 5000)]
    text: String,
}

/// A message to the citizen as stored.
#[derive(Serialize, ToSchema)]
pub(super) struct StaffMessage {
    seq: u64,
    #[schema(schema_with = office)]
    from: &'static str,
    body: String,
}

fn office() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["office"]))
        .build()
}

/// An internal note as stored.
#[derive(Serialize, ToSchema)]
pub(super) struct StaffNote {
    seq: u64,
    body: String,
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
        Json(StaffMessage {
            seq: m.seq,
            from: "office",
            body: m.body,
        }),
    )
        .into_response())
}

pub(super) async fn receipt(
    State(p): State<Shared>,
    ApiCaseWorker { tenant: t, staff }: ApiCaseWorker,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    let p2 = p.clone();
    let (reference, pdf) =
        run(move || service::receipt(&p2, &t, &staff.account, &service::parse_id(&id)?)).await?;
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

/// An assignment.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = StaffAssignBody)]
pub(super) struct AssignBody {
    /// `mir`, the account id of a colleague of the same tenant, or null for nobody.
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

/// A follow-up date (Wiedervorlage).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = StaffFollowUpBody)]
pub(super) struct FollowUpBody {
    /// Today or later (Berlin time); null removes it.
    #[schema(format = Date)]
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
        Json(StaffNote {
            seq: n.seq,
            body: n.body,
        }),
    )
        .into_response())
}
