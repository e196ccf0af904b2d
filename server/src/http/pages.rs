//! The HTML front ends' common pages: the base model of a page, message pages, "not found" and
//! the calm error page (the cause goes to the log, never to the page), PDF downloads.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lotse_core::Lang;
use serde_json::{Value, json};

use crate::service::ServiceError;
use crate::state::{AppState, Shared};
use crate::tenants::{self, Tenant};

/// German or English, by the citizen's language.
pub(crate) fn tr(lang: Lang, de: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::En { en } else { de }
}

pub(crate) fn tenant_view(t: &Tenant) -> Value {
    json!({
        "slug": t.slug, "name": t.name, "colour": t.colour, "initials": t.initials(),
        "address": format!("{}, {}", t.address[0], t.address[1]), "phone": t.phone,
    })
}

pub(crate) fn base(t: &Tenant, title: &str, lang: Lang) -> Value {
    let other = if lang == Lang::En {
        ("de", "Deutsch")
    } else {
        ("en", "English")
    };
    json!({
        "lang": lang.tag(), "t": crate::http::texts::texts(lang == Lang::En), "tenant": tenant_view(t), "title": title,
        "other_lang": other.0, "other_lang_name": other.1,
    })
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
    let mut v = base(t, title, lang);
    v["heading"] = json!(heading);
    v["text"] = json!(text);
    let mut r = p.render("message", &v);
    *r.status_mut() = status;
    r
}

pub(crate) fn not_found(p: &AppState, t: Option<&Tenant>, lang: Lang) -> Response {
    message_page(
        p,
        t.unwrap_or(&tenants::DEMO[0]),
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
    t: &'static Tenant,
    lang: Lang,
    error: PageError,
}

/// The context of one citizen page: turns errors into [`Failure`]s.
#[derive(Clone)]
pub(crate) struct PageContext {
    pub(crate) p: Shared,
    pub(crate) t: &'static Tenant,
    pub(crate) lang: Lang,
}

impl PageContext {
    pub(crate) fn new(p: &Shared, t: &'static Tenant, lang: Lang) -> PageContext {
        PageContext {
            p: p.clone(),
            t,
            lang,
        }
    }

    pub(crate) fn fail(&self, error: impl Into<PageError>) -> Failure {
        Failure {
            p: self.p.clone(),
            t: self.t,
            lang: self.lang,
            error: error.into(),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self.error {
            PageError::NotFound => not_found(&self.p, Some(self.t), self.lang),
            PageError::Forbidden => (
                StatusCode::FORBIDDEN,
                tr(
                    self.lang,
                    "Sicherheitsprüfung fehlgeschlagen. Bitte laden Sie die Seite neu.",
                    "Security check failed. Please reload the page.",
                ),
            )
                .into_response(),
            PageError::Service(e) => service_error(&self.p, self.t, &e, self.lang),
        }
    }
}

/// A citizen page's answer.
pub(crate) type PageResult = Result<Response, Failure>;
