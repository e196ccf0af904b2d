//! The Postkorb as HTML pages (no JavaScript): sign-in, list, detail, status, messages,
//! receipt, exports. Forms carry a token bound to the session (`Staff::csrf`); cross-site
//! posts are refused before they get here (portal `security_headers`).

use axum::Extension;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use lotse_store::{Role, Status};
use serde_json::{Value, json};

use super::service::{self, Filters};
use super::{AdminError, Shared, Staff, authenticate, run};
use crate::http::extractors::ClientKey;
use crate::tenants::{self, Tenant};

const PAGE_SIZE: usize = 25;

type Pairs = Vec<(String, String)>;

fn field<'a>(pairs: &'a Pairs, name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

fn base(t: &Tenant, title: &str, staff: Option<&Staff>, p: &Shared) -> Value {
    json!({
        "title": title,
        "tenant": {"slug": t.slug, "name": t.name, "colour": t.colour},
        "staff": staff.map(|s| json!({
            "name": s.account.display_name, "role": s.account.role.label_de(),
            "csrf": s.csrf(p),
        })),
    })
}

fn render(p: &Shared, name: &str, v: &Value, status: StatusCode) -> Response {
    match p.admin.pages.render(name, v) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(event = "admin_page_render_failed", page = name, cause = %e);
            (StatusCode::INTERNAL_SERVER_ERROR, "Interner Fehler").into_response()
        }
    }
}

/// An error as a page; "not signed in" leads to the sign-in form.
fn error_page(p: &Shared, t: &Tenant, staff: Option<&Staff>, e: AdminError) -> Response {
    if matches!(e, AdminError::NotSignedIn) {
        return Redirect::to(&format!("/verwaltung/{}/anmelden", t.slug)).into_response();
    }
    let request_id = e.log();
    let mut v = base(t, "Hinweis", staff, p);
    v["heading"] = json!(match e {
        AdminError::NotFound => "Nicht gefunden",
        AdminError::Internal(_) => "Das hat leider nicht geklappt",
        _ => "Nicht möglich",
    });
    v["text"] = json!(e.message_de());
    v["code"] = json!(e.code());
    v["request_id"] = json!(request_id);
    v["back"] = json!(staff.map(|_| format!("/verwaltung/{}", t.slug)));
    render(p, "message", &v, e.status())
}

fn unknown_tenant() -> Response {
    (StatusCode::NOT_FOUND, "Diese Kommune gibt es nicht.").into_response()
}

/// The signed-in staff member of this tenant who may work on submissions.
async fn caseworker(p: &Shared, headers: &HeaderMap, t: &Tenant) -> Result<Staff, Response> {
    let staff = authenticate(p, headers, t, false)
        .await
        .map_err(|e| error_page(p, t, None, e))?;
    staff
        .require(Role::may_work_submissions)
        .map_err(|e| error_page(p, t, Some(&staff), e))?;
    Ok(staff)
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
    let mut v = base(t, "Anmelden", None, p);
    v["csrf"] = json!(login_token(p, t));
    v["login"] = json!(login);
    v["error"] = json!(error.map(AdminError::message_de));
    let status = error.map_or(StatusCode::OK, AdminError::status);
    render(p, "login", &v, status)
}

pub(super) async fn login_form(
    State(p): State<Shared>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(t) = tenants::find(&tenant) else {
        return unknown_tenant();
    };
    if authenticate(&p, &headers, t, false).await.is_ok() {
        return Redirect::to(&format!("/verwaltung/{}", t.slug)).into_response();
    }
    login_page(&p, t, None, "")
}

pub(super) async fn login(
    State(p): State<Shared>,
    Path(tenant): Path<String>,
    client: Option<Extension<ClientKey>>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let Some(t) = tenants::find(&tenant) else {
        return unknown_tenant();
    };
    let login = field(&pairs, "benutzername").trim().to_string();
    if field(&pairs, "_csrf") != login_token(&p, t) {
        return login_page(&p, t, Some(&AdminError::Csrf), &login);
    }
    let client = client.map_or_else(|| "unbekannt".to_string(), |Extension(c)| c.0);
    let credentials = super::Credentials {
        login: &login,
        password: field(&pairs, "passwort"),
        code: field(&pairs, "code"),
    };
    match super::sign_in(&p, t, &client, credentials).await {
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
            let mut r = login_page(&p, t, Some(&e), &login);
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
    let Some(t) = tenants::find(&tenant) else {
        return unknown_tenant();
    };
    if let Ok(staff) = authenticate(&p, &headers, t, false).await {
        if let Err(e) = check_csrf(&p, &staff, &pairs) {
            return error_page(&p, t, Some(&staff), e);
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
    Path(tenant): Path<String>,
    headers: HeaderMap,
    filters: Result<Query<Filters>, QueryRejection>,
) -> Response {
    let Some(t) = tenants::find(&tenant) else {
        return unknown_tenant();
    };
    let staff = match caseworker(&p, &headers, t).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(Query(filters)) = filters else {
        return error_page(
            &p,
            t,
            Some(&staff),
            AdminError::Invalid("Die Filter sind ungültig.".into()),
        );
    };
    let query = match filters.query(PAGE_SIZE) {
        Ok(q) => q,
        Err(e) => return error_page(&p, t, Some(&staff), e),
    };
    let p2 = p.clone();
    let q2 = query.clone();
    let page = match run(move || {
        let tenant = super::tenant_id(t)?;
        service::list(&p2, &tenant, &q2)
    })
    .await
    {
        Ok(page) => page,
        Err(e) => return error_page(&p, t, Some(&staff), e),
    };
    let qs = filters.query_string();
    let size = query.limit.max(1);
    let current = query.offset / size + 1;
    let pages = (page.total as usize).div_ceil(size).max(1);
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
    let mut v = base(t, "Postkorb", Some(&staff), &p);
    v["filters"] = json!({
        "statuses": Status::ALL.iter().map(|s| json!({"code": s.code(), "label": s.label_de(), "selected": s.code() == chosen_status})).collect::<Vec<_>>(),
        "services": service::services(&p, t).into_iter().map(|(id, title)| json!({"id": id, "title": title, "selected": id == chosen_service})).collect::<Vec<_>>(),
        "von": filters.von, "bis": filters.bis, "aktenzeichen": filters.aktenzeichen,
    });
    let base_link = |status: &str| {
        let mut f = filters.clone();
        f.status = Some(status.to_string());
        format!("/verwaltung/{}?{}", t.slug, f.query_string())
    };
    v["counts"] = json!(
        page.counts
            .iter()
            .map(|(s, n)| json!({"label": s.label_de(), "count": n, "href": base_link(s.code())}))
            .collect::<Vec<_>>()
    );
    v["entries"] = json!(
        page.entries
            .iter()
            .map(|e| service::entry_json(&p, e))
            .collect::<Vec<_>>()
    );
    v["total"] = json!(page.total);
    v["pager"] = json!({
        "current": current, "pages": pages,
        "prev": (current > 1).then(|| link(current - 1)),
        "next": (current < pages).then(|| link(current + 1)),
    });
    let export = if qs.is_empty() {
        String::new()
    } else {
        format!("?{qs}")
    };
    v["export_jsonl"] = json!(format!("/verwaltung/{}/export.jsonl{export}", t.slug));
    v["export_csv"] = json!(format!("/verwaltung/{}/export.csv{export}", t.slug));
    render(&p, "list", &v, StatusCode::OK)
}

pub(super) async fn detail(
    State(p): State<Shared>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(t) = tenants::find(&tenant) else {
        return unknown_tenant();
    };
    let staff = match caseworker(&p, &headers, t).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    detail_page(&p, t, &staff, &id, None).await
}

async fn detail_page(
    p: &Shared,
    t: &'static Tenant,
    staff: &Staff,
    id: &str,
    problem: Option<(AdminError, &str)>,
) -> Response {
    let sid = match service::parse_id(id) {
        Ok(s) => s,
        Err(e) => return error_page(p, t, Some(staff), e),
    };
    let p2 = p.clone();
    let d = match run(move || {
        let d = service::detail(&p2, t, &sid)?;
        Ok((service::detail_json(&p2, t, &d), d.next_statuses()))
    })
    .await
    {
        Ok(d) => d,
        Err(e) => return error_page(p, t, Some(staff), e),
    };
    let (mut detail, next) = d;
    detail["receipt"]["url"] = json!(format!("/verwaltung/{}/antrag/{}/quittung.pdf", t.slug, id));
    let mut v = base(
        t,
        &format!(
            "Antrag {}",
            detail["reference"].as_str().unwrap_or_default()
        ),
        Some(staff),
        p,
    );
    v["next_statuses"] = json!(
        next.iter()
            .map(|s| json!({"code": s.code(), "label": s.label_de()}))
            .collect::<Vec<_>>()
    );
    v["d"] = detail;
    let status = match problem {
        Some((e, form)) => {
            v["problem"] = json!({"text": e.message_de(), "form": form});
            e.status()
        }
        None => StatusCode::OK,
    };
    render(p, "detail", &v, status)
}

/// What every form on a submission's page checks first: the tenant, the case worker's
/// sign-in for it, the form's CSRF token and the submission id. Any failure is the page to show.
async fn signed_form(
    p: &Shared,
    tenant: &str,
    headers: &HeaderMap,
    pairs: &Pairs,
    id: &str,
) -> Result<(&'static Tenant, Staff, lotse_store::SubmissionId), Response> {
    let Some(t) = tenants::find(tenant) else {
        return Err(unknown_tenant());
    };
    let staff = caseworker(p, headers, t).await?;
    if let Err(e) = check_csrf(p, &staff, pairs) {
        return Err(error_page(p, t, Some(&staff), e));
    }
    match service::parse_id(id) {
        Ok(sid) => Ok((t, staff, sid)),
        Err(e) => Err(error_page(p, t, Some(&staff), e)),
    }
}

pub(super) async fn change_status(
    State(p): State<Shared>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
    Form(pairs): Form<Pairs>,
) -> Response {
    let (t, staff, sid) = match signed_form(&p, &tenant, &headers, &pairs, &id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (p2, account) = (p.clone(), staff.account.clone());
    let (to, comment) = (
        field(&pairs, "status").to_string(),
        field(&pairs, "kommentar").to_string(),
    );
    match run(move || service::change_status(&p2, t, &account, &sid, &to, &comment)).await {
        Ok(()) => Redirect::to(&format!("/verwaltung/{}/antrag/{id}", t.slug)).into_response(),
        Err(e @ (AdminError::Invalid(_) | AdminError::Transition { .. })) => {
            detail_page(&p, t, &staff, &id, Some((e, "status"))).await
        }
        Err(e) => error_page(&p, t, Some(&staff), e),
    }
}

pub(super) async fn message(
    State(p): State<Shared>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
    Form(pairs): Form<Pairs>,
) -> Response {
    let (t, staff, sid) = match signed_form(&p, &tenant, &headers, &pairs, &id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (p2, account) = (p.clone(), staff.account.clone());
    let body = field(&pairs, "nachricht").to_string();
    match run(move || service::add_message(&p2, t, &account, &sid, &body)).await {
        Ok(_) => {
            Redirect::to(&format!("/verwaltung/{}/antrag/{id}#nachrichten", t.slug)).into_response()
        }
        Err(e @ AdminError::Invalid(_)) => {
            detail_page(&p, t, &staff, &id, Some((e, "nachricht"))).await
        }
        Err(e) => error_page(&p, t, Some(&staff), e),
    }
}

pub(super) async fn receipt(
    State(p): State<Shared>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(t) = tenants::find(&tenant) else {
        return unknown_tenant();
    };
    let staff = match caseworker(&p, &headers, t).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let p2 = p.clone();
    let found = run(move || service::receipt(&p2, t, &service::parse_id(&id)?)).await;
    match found {
        Ok((reference, pdf)) => super::pdf_response(&reference, pdf),
        Err(e) => error_page(&p, t, Some(&staff), e),
    }
}

pub(super) async fn export_jsonl(
    State(p): State<Shared>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    filters: Result<Query<Filters>, QueryRejection>,
) -> Response {
    export(p, tenant, headers, filters, false).await
}

pub(super) async fn export_csv(
    State(p): State<Shared>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    filters: Result<Query<Filters>, QueryRejection>,
) -> Response {
    export(p, tenant, headers, filters, true).await
}

async fn export(
    p: Shared,
    tenant: String,
    headers: HeaderMap,
    filters: Result<Query<Filters>, QueryRejection>,
    csv: bool,
) -> Response {
    let Some(t) = tenants::find(&tenant) else {
        return unknown_tenant();
    };
    let staff = match caseworker(&p, &headers, t).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(Query(filters)) = filters else {
        return error_page(
            &p,
            t,
            Some(&staff),
            AdminError::Invalid("Die Filter sind ungültig.".into()),
        );
    };
    match super::export_body(&p, t, &staff, &filters, csv).await {
        Ok(r) => r,
        Err(e) => error_page(&p, t, Some(&staff), e),
    }
}
