//! The Postkorb's page structs, one per template in server/templates/admin/, the layout they
//! embed, and how a page (or an error as a page) is answered.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Serialize;

use super::service::{EntryView, SubmissionView};
use super::{AdminError, Shared, Staff};
use crate::http::pages::Page;
use crate::tenants::Tenant;

/// What the layout of every Postkorb page reads; each page embeds it (`#[serde(flatten)]`).
#[derive(Serialize)]
pub(super) struct AdminLayout {
    title: String,
    tenant: TenantView,
    /// The signed-in staff member (with the sign-out form's token), if any.
    staff: Option<StaffView>,
}

#[derive(Serialize)]
struct TenantView {
    slug: String,
    name: String,
    colour: String,
}

#[derive(Serialize)]
struct StaffView {
    name: String,
    role: &'static str,
    csrf: String,
    /// Whether the header links to the tenant's settings.
    admin: bool,
}

impl AdminLayout {
    pub(super) fn new(
        p: &Shared,
        t: &Tenant,
        title: impl Into<String>,
        staff: Option<&Staff>,
    ) -> AdminLayout {
        AdminLayout {
            title: title.into(),
            tenant: TenantView {
                slug: t.slug.clone(),
                name: t.name.clone(),
                colour: t.colour.clone(),
            },
            staff: staff.map(|s| StaffView {
                name: s.account.display_name.clone(),
                role: s.account.role.label_de(),
                csrf: s.csrf(p),
                admin: s.account.role.may_manage_accounts(),
            }),
        }
    }
}

/// The sign-in form, with the reason the last attempt failed.
#[derive(Serialize)]
pub(super) struct LoginPage<'a> {
    #[serde(flatten)]
    pub(super) layout: AdminLayout,
    pub(super) csrf: String,
    /// The login typed last, shown again.
    pub(super) login: &'a str,
    pub(super) error: Option<String>,
}

impl Page for LoginPage<'_> {
    const TEMPLATE: &'static str = "login";
}

/// The Postkorb: counts per status, the filters, one page of submissions, exports.
#[derive(Serialize)]
pub(super) struct ListPage {
    #[serde(flatten)]
    pub(super) layout: AdminLayout,
    pub(super) filters: FiltersView,
    pub(super) counts: Vec<CountLink>,
    pub(super) entries: Vec<EntryView>,
    pub(super) total: u64,
    /// "Mehr als " or "Mindestens " when a search counted only its newest matches.
    pub(super) total_prefix: &'static str,
    pub(super) pager: Pager,
    /// A search counted its newest matches only (`lotse_store::SEARCH_COUNT_LIMIT`); every
    /// match is still on the pages.
    pub(super) truncated: bool,
    /// `SEARCH_COUNT_LIMIT` as German writes it ("1.000").
    pub(super) search_count_limit: String,
    pub(super) mine_link: String,
    pub(super) due_link: String,
    pub(super) export_jsonl: String,
    pub(super) export_csv: String,
}

impl Page for ListPage {
    const TEMPLATE: &'static str = "list";
}

/// The filter form as chosen.
#[derive(Serialize)]
pub(super) struct FiltersView {
    pub(super) statuses: Vec<StatusChoice>,
    pub(super) services: Vec<ServiceChoice>,
    pub(super) von: Option<String>,
    pub(super) bis: Option<String>,
    pub(super) aktenzeichen: Option<String>,
    pub(super) suche: Option<String>,
    pub(super) faellig: bool,
    pub(super) assignees: Vec<AssigneeChoice>,
}

/// "Meine Anträge" or a colleague, for the filter by assignee.
#[derive(Serialize)]
pub(super) struct AssigneeChoice {
    pub(super) value: String,
    pub(super) label: String,
    pub(super) selected: bool,
}

#[derive(Serialize)]
pub(super) struct StatusChoice {
    pub(super) code: &'static str,
    pub(super) label: &'static str,
    pub(super) selected: bool,
}

#[derive(Serialize)]
pub(super) struct ServiceChoice {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) selected: bool,
}

/// How many submissions are in one status, linked to the list filtered by it.
#[derive(Serialize)]
pub(super) struct CountLink {
    pub(super) label: &'static str,
    pub(super) count: u64,
    pub(super) href: String,
}

#[derive(Serialize)]
pub(super) struct Pager {
    pub(super) current: usize,
    pub(super) pages: usize,
    /// There may be more pages than `pages` (a search counted only its newest matches).
    pub(super) more: bool,
    pub(super) prev: Option<String>,
    pub(super) next: Option<String>,
}

/// One submission: its answers, receipt, deliveries, messages and history, the forms to change
/// its status and to write to the citizen.
#[derive(Serialize)]
pub(super) struct DetailPage<'a> {
    #[serde(flatten)]
    pub(super) layout: AdminLayout,
    pub(super) d: SubmissionView,
    /// Why the last form was not saved, and which form it was.
    pub(super) problem: Option<FormProblem<'a>>,
}

impl Page for DetailPage<'_> {
    const TEMPLATE: &'static str = "detail";
}

#[derive(Serialize)]
pub(super) struct FormProblem<'a> {
    pub(super) text: String,
    pub(super) form: &'a str,
}

/// An error as a page: what happened, its code, the request id of a server error.
#[derive(Serialize)]
pub(super) struct MessagePage {
    #[serde(flatten)]
    layout: AdminLayout,
    heading: &'static str,
    text: String,
    code: &'static str,
    request_id: Option<String>,
    /// The way back to the Postkorb (signed in), else the sign-in form is offered.
    back: Option<String>,
}

impl Page for MessagePage {
    const TEMPLATE: &'static str = "message";
}

/// A Postkorb page with `status`; one that does not render is logged and answered with 500.
pub(super) fn render<P: Page>(p: &Shared, page: &P, status: StatusCode) -> Response {
    match p.admin.pages.render(P::TEMPLATE, page) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(event = "admin_page_render_failed", page = P::TEMPLATE, cause = %e);
            (StatusCode::INTERNAL_SERVER_ERROR, "Interner Fehler").into_response()
        }
    }
}

/// An error as a page; "not signed in" leads to the sign-in form.
pub(super) fn error_page(p: &Shared, t: &Tenant, staff: Option<&Staff>, e: AdminError) -> Response {
    if matches!(e, AdminError::NotSignedIn) {
        return Redirect::to(&format!("/verwaltung/{}/anmelden", t.slug)).into_response();
    }
    let page = MessagePage {
        layout: AdminLayout::new(p, t, "Hinweis", staff),
        heading: match e {
            AdminError::NotFound => "Nicht gefunden",
            AdminError::Internal(_) => "Das hat leider nicht geklappt",
            _ => "Nicht möglich",
        },
        text: e.message_de(),
        code: e.code(),
        request_id: e.log(),
        back: staff.map(|_| format!("/verwaltung/{}", t.slug)),
    };
    render(p, &page, e.status())
}

/// The answer for a tenant that does not exist.
pub(super) fn unknown_tenant() -> Response {
    (StatusCode::NOT_FOUND, "Diese Kommune gibt es nicht.").into_response()
}
