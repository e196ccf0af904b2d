//! The Postkorb as HTML pages (no JavaScript): sign-in, list, detail, status, messages,
//! receipt, exports. Forms carry a token bound to the session (`Staff::csrf`); cross-site
//! posts are refused before they get here (portal `security_headers`).

use axum::Extension;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use lotse_store::{ReadKind, Status};
use std::sync::Arc;

use super::extractors::CaseWorker;
use super::service::{self, EntryView, Filters, SubmissionView};
use super::views::{
    AdminLayout, AssigneeChoice, CountLink, DetailPage, FiltersView, FormProblem, ListPage,
    LoginPage, Pager, ServiceChoice, StatusChoice, error_page, render, unknown_tenant,
};
use super::{AdminError, Shared, Staff, authenticate, run};
use crate::http::extractors::ClientKey;
use crate::tenants::Tenant;

const PAGE_SIZE: usize = 25;

type Pairs = Vec<(String, String)>;

fn field<'a>(pairs: &'a Pairs, name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

fn check_csrf(p: &Shared, staff: &Staff, pairs: &Pairs) -> Result<(), AdminError> {
    if field(pairs, "_csrf") == staff.csrf(p) {
        Ok(())
    } else {
        Err(AdminError::Csrf)
    }
}

fn login_token(p: &Shared, t: &Tenant) -> String {
    p.token(&format!("admin-login:{}", t.slug))
}

fn login_page(p: &Shared, t: &Tenant, error: Option<&AdminError>, login: &str) -> Response {
    let page = LoginPage {
        layout: AdminLayout::new(p, t, "Anmelden", None),
        csrf: login_token(p, t),
        login,
        error: error.map(AdminError::message_de),
    };
    let status = error.map_or(StatusCode::OK, AdminError::status);
    render(p, &page, status)
}

pub(super) async fn login_form(
    State(p): State<Shared>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(t) = p.tenant(&tenant) else {
        return unknown_tenant();
    };
    if authenticate(&p, &headers, &t, false).await.is_ok() {
        return Redirect::to(&format!("/verwaltung/{}", t.slug)).into_response();
    }
    login_page(&p, &t, None, "")
}

pub(super) async fn login(
    State(p): State<Shared>,
    Path(tenant): Path<String>,
    client: Option<Extension<ClientKey>>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let Some(t) = p.tenant(&tenant) else {
        return unknown_tenant();
    };
    let login = field(&pairs, "benutzername").trim().to_string();
    if field(&pairs, "_csrf") != login_token(&p, &t) {
        return login_page(&p, &t, Some(&AdminError::Csrf), &login);
    }
    let client = client.map_or_else(|| "unbekannt".to_string(), |Extension(c)| c.0);
    let credentials = super::Credentials {
        login: &login,
        password: field(&pairs, "passwort"),
        code: field(&pairs, "code"),
    };
    match super::sign_in(&p, &t, &client, credentials).await {
        Ok((account, secret)) => {
            super::audit(&p, &account, "admin.login").await;
            let mut r = Redirect::to(&format!("/verwaltung/{}", t.slug)).into_response();
            for c in super::session_cookies(&p, Some(&secret)) {
                r.headers_mut().append(header::SET_COOKIE, c);
            }
            r
        }
        Err(e) => {
            tracing::info!(
                event = "admin_login_failed",
                tenant = t.slug,
                code = e.code()
            );
            let mut r = login_page(&p, &t, Some(&e), &login);
            if let AdminError::Throttled(s) = e
                && let Ok(v) = s.max(1).to_string().parse()
            {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
    }
}

pub(super) async fn logout(
    State(p): State<Shared>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Form(pairs): Form<Pairs>,
) -> Response {
    let Some(t) = p.tenant(&tenant) else {
        return unknown_tenant();
    };
    if let Ok(staff) = authenticate(&p, &headers, &t, false).await {
        if let Err(e) = check_csrf(&p, &staff, &pairs) {
            return error_page(&p, &t, Some(&staff), e);
        }
        super::end_session(&p, &headers).await;
        super::audit(&p, &staff.account, "admin.logout").await;
    }
    let mut r = Redirect::to(&format!("/verwaltung/{}/anmelden", t.slug)).into_response();
    for c in super::session_cookies(&p, None) {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

pub(super) async fn list(
    State(p): State<Shared>,
    CaseWorker { tenant: t, staff }: CaseWorker,
    filters: Result<Query<Filters>, QueryRejection>,
) -> Response {
    let Ok(Query(mut filters)) = filters else {
        return error_page(
            &p,
            &t,
            Some(&staff),
            AdminError::Invalid("Die Filter sind ungültig.".into()),
        );
    };
    filters.me = Some(staff.account.id);
    filters.today = Some(super::cases::today(&p));
    let query = match filters.query(PAGE_SIZE) {
        Ok(q) => q,
        Err(e) => return error_page(&p, &t, Some(&staff), e),
    };
    let p2 = p.clone();
    let q2 = query.clone();
    let tc = t.clone();
    let (page, cx, colleagues) = match run(move || {
        let tenant = super::tenant_id(&tc)?;
        Ok((
            service::list(&p2, &tenant, &q2)?,
            service::ListContext::of(&p2, &tenant)?,
            super::cases::colleagues(&p2, &tenant)?,
        ))
    })
    .await
    {
        Ok(page) => page,
        Err(e) => return error_page(&p, &t, Some(&staff), e),
    };
    let chosen_assignee = filters.zustaendig.clone().unwrap_or_default();
    let qs = filters.query_string();
    let size = query.limit.max(1);
    let current = query.offset / size + 1;
    let pages = (page.total as usize).div_ceil(size).max(1);
    // A search that counted only its newest matches has more: the next page while this one
    // is full, and at least as many pages as it has been paged through.
    let more = page.truncated && page.entries.len() == size;
    let pages = if page.truncated {
        pages.max(current)
    } else {
        pages
    };
    let link = |n: usize| {
        let mut s = format!("/verwaltung/{}?", t.slug);
        if !qs.is_empty() {
            s.push_str(&qs);
            s.push('&');
        }
        s.push_str(&format!("seite={n}"));
        s
    };
    let chosen_status = filters.status.clone().unwrap_or_default();
    let chosen_service = filters.leistung.clone().unwrap_or_default();
    let base_link = |status: &str| {
        let mut f = filters.clone();
        f.status = Some(status.to_string());
        format!("/verwaltung/{}?{}", t.slug, f.query_string())
    };
    let export = if qs.is_empty() {
        String::new()
    } else {
        format!("?{qs}")
    };
    let view = ListPage {
        layout: AdminLayout::new(&p, &t, "Postkorb", Some(&staff)),
        filters: FiltersView {
            statuses: Status::ALL
                .iter()
                .map(|s| StatusChoice {
                    code: s.code(),
                    label: s.label_de(),
                    selected: s.code() == chosen_status,
                })
                .collect(),
            services: service::services(&p, &t)
                .into_iter()
                .map(|(id, title)| ServiceChoice {
                    selected: id == chosen_service,
                    id,
                    title,
                })
                .collect(),
            von: filters.von.clone(),
            bis: filters.bis.clone(),
            aktenzeichen: filters.aktenzeichen.clone(),
            suche: filters.suche.clone(),
            faellig: filters
                .faellig
                .as_deref()
                .is_some_and(|f| !f.is_empty() && f != "0"),
            assignees: std::iter::once(AssigneeChoice {
                value: "mir".into(),
                label: "Meine Anträge".into(),
                selected: chosen_assignee == "mir",
            })
            .chain(
                colleagues
                    .iter()
                    .filter(|a| a.id != staff.account.id)
                    .map(|a| AssigneeChoice {
                        value: a.id.to_string(),
                        label: a.display_name.clone(),
                        selected: chosen_assignee == a.id.to_string(),
                    }),
            )
            .collect(),
        },
        truncated: page.truncated,
        search_count_limit: german_number(lotse_store::SEARCH_COUNT_LIMIT),
        total_prefix: match (page.truncated, query.status.is_some()) {
            (false, _) => "",
            // Without a status filter, the total is the limit itself, and there are more.
            (true, false) => "Mehr als ",
            (true, true) => "Mindestens ",
        },
        mine_link: format!("/verwaltung/{}?zustaendig=mir", t.slug),
        due_link: format!("/verwaltung/{}?faellig=1", t.slug),
        counts: page
            .counts
            .iter()
            .map(|(s, n)| CountLink {
                label: s.label_de(),
                count: *n,
                href: base_link(s.code()),
            })
            .collect(),
        entries: page
            .entries
            .iter()
            .map(|e| EntryView::of(&p, &cx, e))
            .collect(),
        total: page.total,
        pager: Pager {
            current,
            pages,
            more,
            prev: (current > 1).then(|| link(current - 1)),
            next: (current < pages || more).then(|| link(current + 1)),
        },
        export_jsonl: format!("/verwaltung/{}/export.jsonl{export}", t.slug),
        export_csv: format!("/verwaltung/{}/export.csv{export}", t.slug),
    };
    render(&p, &view, StatusCode::OK)
}

pub(super) async fn detail(
    State(p): State<Shared>,
    CaseWorker { tenant: t, staff }: CaseWorker,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    detail_page(&p, t.clone(), &staff, &id, None).await
}

async fn detail_page(
    p: &Shared,
    t: Arc<Tenant>,
    staff: &Staff,
    id: &str,
    problem: Option<(AdminError, &str)>,
) -> Response {
    // Opening the page is a read of the submission for the audit log; showing it again with
    // a form's problem (after a POST) is not another one.
    let opened = problem.is_none();
    let sid = match service::parse_id(id) {
        Ok(s) => s,
        Err(e) => return error_page(p, &t, Some(staff), e),
    };
    let (p2, me) = (p.clone(), staff.account.clone());
    let tc = t.clone();
    let mut d = match run(move || {
        let d = service::detail(&p2, &tc, &me, &sid)?;
        if opened {
            service::audit_read(&p2, &tc, service::office(&me), &sid, ReadKind::Page, None)?;
        }
        Ok(SubmissionView::of(&p2, &tc, &d))
    })
    .await
    {
        Ok(d) => d,
        Err(e) => return error_page(p, &t, Some(staff), e),
    };
    d.receipt.url = format!("/verwaltung/{}/antrag/{}/quittung.pdf", t.slug, id);
    let status = problem.as_ref().map_or(StatusCode::OK, |(e, _)| e.status());
    let page = DetailPage {
        layout: AdminLayout::new(p, &t, format!("Antrag {}", d.reference), Some(staff)),
        problem: problem.map(|(e, form)| FormProblem {
            text: e.message_de(),
            form,
        }),
        d,
    };
    render(p, &page, status)
}

/// What every form on a submission's page checks after the sign-in: the form's CSRF token and
/// the submission id.
fn signed_form(
    p: &Shared,
    staff: &Staff,
    pairs: &Pairs,
    id: &str,
) -> Result<lotse_store::SubmissionId, AdminError> {
    check_csrf(p, staff, pairs)?;
    service::parse_id(id)
}

pub(super) async fn change_status(
    State(p): State<Shared>,
    CaseWorker { tenant: t, staff }: CaseWorker,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let sid = match signed_form(&p, &staff, &pairs, &id) {
        Ok(sid) => sid,
        Err(e) => return error_page(&p, &t, Some(&staff), e),
    };
    let (p2, account) = (p.clone(), staff.account.clone());
    let (to, comment) = (
        field(&pairs, "status").to_string(),
        field(&pairs, "kommentar").to_string(),
    );
    let tc = t.clone();
    match run(move || service::change_status(&p2, &tc, &account, &sid, &to, &comment)).await {
        Ok(()) => Redirect::to(&format!("/verwaltung/{}/antrag/{id}", t.slug)).into_response(),
        Err(e @ (AdminError::Invalid(_) | AdminError::Transition { .. })) => {
            detail_page(&p, t.clone(), &staff, &id, Some((e, "status"))).await
        }
        Err(e) => error_page(&p, &t, Some(&staff), e),
    }
}

pub(super) async fn message(
    State(p): State<Shared>,
    CaseWorker { tenant: t, staff }: CaseWorker,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let sid = match signed_form(&p, &staff, &pairs, &id) {
        Ok(sid) => sid,
        Err(e) => return error_page(&p, &t, Some(&staff), e),
    };
    let (p2, account) = (p.clone(), staff.account.clone());
    let body = field(&pairs, "nachricht").to_string();
    let tc = t.clone();
    match run(move || service::add_message(&p2, &tc, &account, &sid, &body)).await {
        Ok(_) => {
            Redirect::to(&format!("/verwaltung/{}/antrag/{id}#nachrichten", t.slug)).into_response()
        }
        Err(e @ AdminError::Invalid(_)) => {
            detail_page(&p, t.clone(), &staff, &id, Some((e, "nachricht"))).await
        }
        Err(e) => error_page(&p, &t, Some(&staff), e),
    }
}

/// The case forms (assignment, note, Wiedervorlage): checked like every form of the page,
/// run, and answered with the page again (with the problem) or a redirect to the part of the
/// page the form belongs to.
async fn case_form(
    p: Shared,
    CaseWorker { tenant: t, staff }: CaseWorker,
    id: String,
    pairs: Pairs,
    form: &'static str,
    action: fn(
        &crate::state::AppState,
        &Tenant,
        &lotse_store::Account,
        &lotse_store::SubmissionId,
        &str,
    ) -> Result<(), AdminError>,
) -> Response {
    let sid = match signed_form(&p, &staff, &pairs, &id) {
        Ok(sid) => sid,
        Err(e) => return error_page(&p, &t, Some(&staff), e),
    };
    let (p2, account) = (p.clone(), staff.account.clone());
    let value = field(&pairs, form).to_string();
    let tc = t.clone();
    match run(move || action(&p2, &tc, &account, &sid, &value)).await {
        Ok(()) => {
            Redirect::to(&format!("/verwaltung/{}/antrag/{id}#{form}", t.slug)).into_response()
        }
        Err(e @ AdminError::Invalid(_)) => detail_page(&p, t, &staff, &id, Some((e, form))).await,
        Err(e) => error_page(&p, &t, Some(&staff), e),
    }
}

pub(super) async fn assign(
    State(p): State<Shared>,
    worker: CaseWorker,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Pairs>,
) -> Response {
    case_form(p, worker, id, pairs, "zustaendig", super::cases::assign).await
}

pub(super) async fn note(
    State(p): State<Shared>,
    worker: CaseWorker,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Pairs>,
) -> Response {
    case_form(p, worker, id, pairs, "notiz", |p, t, by, sid, body| {
        super::cases::add_note(p, t, by, sid, body).map(|_| ())
    })
    .await
}

pub(super) async fn follow_up(
    State(p): State<Shared>,
    worker: CaseWorker,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Pairs>,
) -> Response {
    case_form(
        p,
        worker,
        id,
        pairs,
        "wiedervorlage",
        super::cases::set_follow_up,
    )
    .await
}

pub(super) async fn receipt(
    State(p): State<Shared>,
    CaseWorker { tenant: t, staff }: CaseWorker,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    let p2 = p.clone();
    let tc = t.clone();
    let me = staff.account.clone();
    let found = run(move || service::receipt(&p2, &tc, &me, &service::parse_id(&id)?)).await;
    match found {
        Ok((reference, pdf)) => super::pdf_response(&reference, pdf),
        Err(e) => error_page(&p, &t, Some(&staff), e),
    }
}

pub(super) async fn export_jsonl(
    State(p): State<Shared>,
    worker: CaseWorker,
    filters: Result<Query<Filters>, QueryRejection>,
) -> Response {
    export(p, worker, filters, false).await
}

pub(super) async fn export_csv(
    State(p): State<Shared>,
    worker: CaseWorker,
    filters: Result<Query<Filters>, QueryRejection>,
) -> Response {
    export(p, worker, filters, true).await
}

async fn export(
    p: Shared,
    CaseWorker { tenant: t, staff }: CaseWorker,
    filters: Result<Query<Filters>, QueryRejection>,
    csv: bool,
) -> Response {
    let Ok(Query(filters)) = filters else {
        return error_page(
            &p,
            &t,
            Some(&staff),
            AdminError::Invalid("Die Filter sind ungültig.".into()),
        );
    };
    match super::export_body(&p, t.clone(), &staff, &filters, csv).await {
        Ok(r) => r,
        Err(e) => error_page(&p, &t, Some(&staff), e),
    }
}

/// A number with German thousands separators: `1000` → "1.000".
fn german_number(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::german_number;

    #[test]
    fn numbers_are_grouped_as_german_writes_them() {
        assert_eq!(german_number(7), "7");
        assert_eq!(german_number(1_000), "1.000");
        assert_eq!(german_number(1_234_567), "1.234.567");
    }
}
