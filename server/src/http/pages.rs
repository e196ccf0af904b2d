//! The HTML front ends' common pages: the [`Page`] trait that ties a page struct to its template,
//! the strict template registry, the layout every citizen page embeds, message pages, "not
//! found" and the calm error page (the cause goes to the log, never to the page), PDF downloads.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lotse_core::Lang;
use serde::Serialize;
use std::sync::Arc;

use crate::http::texts::{self, Texts};
use crate::service::ServiceError;
use crate::state::{AppState, Shared};
pub(crate) use crate::templates::{Page, strict_registry};
use crate::tenants::Tenant;

/// A text as a page shows it, with its language where that is not the page's: a German text
/// without translation on an English page gets `lang="de"` on its element (WCAG 2.1, 3.1.2
/// language of parts), so that a screen reader reads it in German.
#[derive(Serialize)]
pub struct Shown {
    pub text: String,
    /// `Some("de")` where the text is German on an English page; `None` otherwise.
    pub lang: Option<&'static str>,
}

impl Shown {
    pub fn of(t: &lotse_core::Text, page: Lang) -> Shown {
        Shown::in_lang(t.get(page).to_string(), t.lang_of(page), page)
    }

    /// The `lang` attribute for `t` on a page in `page`: `Some("de")` where it is shown in
    /// German on an English page.
    pub fn lang_attr(t: &lotse_core::Text, page: Lang) -> Option<&'static str> {
        Shown::mark(t.lang_of(page), page)
    }

    /// The `lang` attribute for a text in `lang` on a page in `page`: `None` where they agree.
    pub fn mark(lang: Lang, page: Lang) -> Option<&'static str> {
        (lang != page).then(|| lang.tag())
    }

    /// `text` in `lang`, on a page in `page`.
    pub fn in_lang(text: String, lang: Lang, page: Lang) -> Shown {
        Shown {
            text,
            lang: Shown::mark(lang, page),
        }
    }
}

/// German or English, by the citizen's language.
pub(crate) fn tr(lang: Lang, de: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::En { en } else { de }
}

/// The tenant as the layout shows it.
#[derive(Serialize)]
pub(crate) struct TenantView {
    slug: String,
    name: String,
    colour: String,
    initials: String,
    /// Whether the tenant has a logo (served at /static/logo/<slug>.svg).
    logo: bool,
    address: String,
    phone: String,
    email: String,
}

impl TenantView {
    fn of(t: &Tenant) -> TenantView {
        TenantView {
            slug: t.slug.clone(),
            name: t.name.clone(),
            colour: t.colour.clone(),
            initials: t.initials.clone(),
            logo: t.logo.is_some(),
            address: t.address_line(),
            phone: t.phone.clone(),
            email: t.email.clone(),
        }
    }
}

/// What every page's footer links to: the portal's start page and its legal pages.
#[derive(Serialize)]
pub(crate) struct PortalView {
    name: String,
    imprint: String,
    privacy: String,
    accessibility: String,
}

impl PortalView {
    fn of(p: &lotse_core::portal::Portal, lang: Lang) -> PortalView {
        PortalView {
            name: p.name.get(lang).to_string(),
            imprint: p.links.imprint.clone(),
            privacy: p.links.privacy.clone(),
            accessibility: p.links.accessibility.clone(),
        }
    }
}

/// What the layout of every citizen page reads; each page embeds it (`#[serde(flatten)]`).
#[derive(Serialize)]
pub(crate) struct Layout {
    lang: &'static str,
    t: &'static Texts,
    tenant: TenantView,
    portal: PortalView,
    title: String,
    /// The language the switch in the header offers, and its name in that language.
    other_lang: &'static str,
    other_lang_name: &'static str,
    /// The page's own path, where the language switch returns (the tenant's catalogue when
    /// `None`).
    here: Option<String>,
}

impl Layout {
    /// The layout of a page at `path` (the language switch keeps the citizen there).
    pub(crate) fn at(mut self, path: &str) -> Layout {
        self.here = Some(path.to_string());
        self
    }

    pub(crate) fn new(
        portal: &lotse_core::portal::Portal,
        t: &Tenant,
        title: impl Into<String>,
        lang: Lang,
    ) -> Layout {
        let (other_lang, other_lang_name) = if lang == Lang::En {
            ("de", "Deutsch")
        } else {
            ("en", "English")
        };
        Layout {
            lang: lang.tag(),
            t: texts::texts(lang == Lang::En),
            tenant: TenantView::of(t),
            portal: PortalView::of(portal, lang),
            title: title.into(),
            other_lang,
            other_lang_name,
            here: None,
        }
    }
}

/// The calm message page: a heading and one paragraph.
#[derive(Serialize)]
pub(crate) struct MessagePage<'a> {
    #[serde(flatten)]
    layout: Layout,
    heading: &'a str,
    text: &'a str,
    /// A way on from here (sign in again at a higher level), if any.
    link: Option<MessageLink>,
}

/// A button-like link under a message.
#[derive(Serialize)]
pub(crate) struct MessageLink {
    pub(crate) href: String,
    pub(crate) text: String,
}

impl Page for MessagePage<'_> {
    const TEMPLATE: &'static str = "message";
}

/// The designers' preview while the definitions have errors: each with its place.
#[derive(Serialize)]
pub(crate) struct ProblemsPage {
    #[serde(flatten)]
    pub(crate) layout: Layout,
    pub(crate) problems: Vec<ProblemView>,
}

impl Page for ProblemsPage {
    const TEMPLATE: &'static str = "problems";
}

/// One error of the definitions.
#[derive(Serialize)]
pub(crate) struct ProblemView {
    file: String,
    line: usize,
    column: usize,
    code: &'static str,
    message: String,
    help: Option<String>,
}

impl From<&lotse_core::Problem> for ProblemView {
    fn from(p: &lotse_core::Problem) -> Self {
        ProblemView {
            file: p.file.display().to_string(),
            line: p.line,
            column: p.column,
            code: p.code,
            message: p.message.clone(),
            help: p.help.clone(),
        }
    }
}

/// The calm message page: a title, a heading, one paragraph, and the status code it answers with.
pub(crate) fn message_page(
    p: &AppState,
    t: &Tenant,
    lang: Lang,
    status: StatusCode,
    title: &str,
    heading: &str,
    text: &str,
) -> Response {
    message_page_with_link(p, t, lang, status, (title, heading, text), None)
}

/// [`message_page`] with a link under the text.
pub(crate) fn message_page_with_link(
    p: &AppState,
    t: &Tenant,
    lang: Lang,
    status: StatusCode,
    (title, heading, text): (&str, &str, &str),
    link: Option<MessageLink>,
) -> Response {
    let page = MessagePage {
        layout: Layout::new(&p.defs().portal, t, title, lang),
        heading,
        text,
        link,
    };
    let mut r = p.render(&page);
    *r.status_mut() = status;
    r
}

pub(crate) fn not_found(p: &AppState, t: Option<&Tenant>, lang: Lang) -> Response {
    let defs = p.defs();
    message_page(
        p,
        t.unwrap_or_else(|| defs.portal.root()),
        lang,
        StatusCode::NOT_FOUND,
        tr(lang, "Nicht gefunden", "Not found"),
        tr(lang, "Seite nicht gefunden", "Page not found"),
        tr(
            lang,
            "Diese Seite gibt es nicht (mehr). Vielleicht ist der Link unvollständig oder Ihr Antrag ist abgelaufen.",
            "This page does not exist (any more). The link may be incomplete, or your application has expired.",
        ),
    )
}

pub(crate) fn server_error(
    p: &AppState,
    t: &Tenant,
    cause: &dyn std::fmt::Display,
    lang: Lang,
) -> Response {
    // The cause goes to the log, never to the page; no answers are in it.
    tracing::error!(event = "request_failed", tenant = t.slug, cause = %cause);
    message_page(
        p,
        t,
        lang,
        StatusCode::INTERNAL_SERVER_ERROR,
        tr(lang, "Fehler", "Error"),
        tr(
            lang,
            "Das hat leider nicht geklappt",
            "Sorry, that did not work",
        ),
        tr(
            lang,
            "Ein technischer Fehler ist aufgetreten. Ihre bisherigen Angaben sind gespeichert. Bitte versuchen Sie es in einigen Minuten noch einmal.",
            "A technical error occurred. Your answers so far are saved. Please try again in a few minutes.",
        ),
    )
}

/// The calm page for a service error; a script failure is logged with its code first.
pub(crate) fn service_error(p: &AppState, t: &Tenant, e: &ServiceError, lang: Lang) -> Response {
    if let ServiceError::Apply(a @ lotse_core::application::ApplyError::Script { .. }) = e {
        tracing::error!(event = "script_failed", code = a.code(), tenant = t.slug, cause = %a);
    }
    server_error(p, t, e, lang)
}

/// A receipt as a download named after its reference.
pub(crate) fn pdf_download(reference: &str, pdf: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"Eingangsbestaetigung-{reference}.pdf\""),
            ),
        ],
        pdf,
    )
        .into_response()
}

/// What can go wrong on a citizen page: the HTML portal's one error type, answered as a page of
/// the portal in the citizen's language (see [`Failure`]).
#[derive(Debug)]
pub(crate) enum PageError {
    /// Unknown here: another tenant's, expired or never issued.
    NotFound,
    /// The form's security token does not match (a stale or forged form).
    Forbidden,
    /// The application service failed; the cause goes to the log, a calm page to the citizen.
    Service(ServiceError),
}

impl From<ServiceError> for PageError {
    fn from(e: ServiceError) -> Self {
        PageError::Service(e)
    }
}

/// A [`PageError`] with what it takes to render it.
pub(crate) struct Failure {
    p: Shared,
    t: Arc<Tenant>,
    lang: Lang,
    error: PageError,
}

/// The context of one citizen page: turns errors into [`Failure`]s.
#[derive(Clone)]
pub(crate) struct PageContext {
    pub(crate) p: Shared,
    pub(crate) t: Arc<Tenant>,
    pub(crate) lang: Lang,
}

impl PageContext {
    pub(crate) fn new(p: &Shared, t: Arc<Tenant>, lang: Lang) -> PageContext {
        PageContext {
            p: p.clone(),
            t,
            lang,
        }
    }

    pub(crate) fn fail(&self, error: impl Into<PageError>) -> Failure {
        Failure {
            p: self.p.clone(),
            t: self.t.clone(),
            lang: self.lang,
            error: error.into(),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self.error {
            PageError::NotFound => not_found(&self.p, Some(&self.t), self.lang),
            PageError::Forbidden => (
                StatusCode::FORBIDDEN,
                tr(
                    self.lang,
                    "Sicherheitsprüfung fehlgeschlagen. Bitte laden Sie die Seite neu.",
                    "Security check failed. Please reload the page.",
                ),
            )
                .into_response(),
            PageError::Service(e) => service_error(&self.p, &self.t, &e, self.lang),
        }
    }
}

/// A citizen page's answer.
pub(crate) type PageResult = Result<Response, Failure>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_field_fails_to_render_in_if_and_unless_too_while_null_is_false() {
        let hb = strict_registry();
        let data = serde_json::json!({"present": null, "list": []});
        let render = |src: &str| hb.render_template(src, &data);
        assert_eq!(render("{{#if present}}a{{else}}b{{/if}}").unwrap(), "b");
        assert_eq!(render("{{#unless present}}a{{/unless}}").unwrap(), "a");
        assert_eq!(render("{{#each list}}a{{/each}}").unwrap(), "");
        for src in [
            "{{absent}}",
            "{{#if absent}}a{{/if}}",
            "{{#unless absent}}a{{/unless}}",
            "{{#each absent}}a{{/each}}",
        ] {
            assert!(render(src).is_err(), "{src} rendered");
        }
    }
}
