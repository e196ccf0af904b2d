//! Mein Konto's list: every application of the signed-in citizen across all tenants, where it
//! stands, and the link that continues it without a code; and the claim of an anonymous
//! draft by its resume code.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use lotse_core::Lang;
use lotse_store::{
    CitizenSession, LoginStore, SecretHash, StoreError, SubmissionId, SubmissionStore,
};
use serde::Serialize;

use super::session;
use crate::http::extractors::{ClientKey, UiLang};
use crate::http::pages::{message_page, tr};
use crate::service::Opened;
use crate::state::Shared;

/// One application in the list.
#[derive(Serialize)]
pub(super) struct ApplicationView {
    pub(super) title: String,
    pub(super) tenant: String,
    pub(super) status: &'static str,
    pub(super) href: String,
    pub(super) action: &'static str,
}

/// The citizen's applications, oldest first (blocking: reads the store).
pub(super) fn applications(p: &Shared, s: &CitizenSession, lang: Lang) -> Vec<ApplicationView> {
    let links = match p.store.citizen_links(&SecretHash::of(&s.subject)) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(event = "citizen_links_failed", cause = %e);
            return Vec::new();
        }
    };
    let defs = p.defs();
    let service = p.service(&defs);
    let now = p.now();
    let mut out = Vec::new();
    for link in links {
        let Some(t) = defs.portal.find(&link.tenant) else {
            continue;
        };
        let title = defs
            .library
            .latest(&link.workflow_id)
            .map(|wf| wf.title.get(lang).to_string())
            .unwrap_or_else(|| link.workflow_id.clone());
        let (status, href, action) = match service.open(t, &link.draft, now) {
            Ok(Some(Opened::Open(open))) => {
                // Only the citizen's own applications are continued from here.
                if open.app.signed_in.as_ref().map(|x| &x.subject) != Some(&s.subject) {
                    continue;
                }
                (
                    tr(lang, "In Bearbeitung", "In progress"),
                    format!("/{}/antrag/{}", t.slug, link.draft),
                    tr(lang, "Fortsetzen", "Continue"),
                )
            }
            Ok(Some(Opened::Submitted(sid))) => {
                // Kept with the link: the list shows it after the draft's expiry too.
                if link.submission.is_none()
                    && let Err(e) =
                        p.store
                            .set_citizen_submission(&link.citizen, &link.draft, &sid.to_string())
                {
                    tracing::warn!(event = "citizen_link_update_failed", cause = %e);
                }
                submitted(t, &sid.to_string(), lang)
            }
            Ok(Some(Opened::Paying(pid))) => (
                tr(lang, "Wartet auf die Zahlung", "Waiting for payment"),
                format!("/{}/zahlung/{pid}", t.slug),
                tr(lang, "Zur Zahlung", "To the payment"),
            ),
            // The draft is gone (expired): a submission it became stays listed.
            Ok(None) => match link.submission.as_deref().map(str::parse::<SubmissionId>) {
                Some(Ok(sid))
                    if p.store
                        .submission(&sid)
                        .ok()
                        .flatten()
                        .is_some_and(|sub| sub.tenant.slug() == t.slug) =>
                {
                    submitted(t, &sid.to_string(), lang)
                }
                _ => continue,
            },
            Err(e) => {
                tracing::warn!(event = "citizen_link_unreadable", cause = %e);
                continue;
            }
        };
        out.push(ApplicationView {
            title,
            tenant: t.name.clone(),
            status,
            href,
            action,
        });
    }
    out
}

/// A submitted application's line: its status page (status, messages, Rückfragen).
fn submitted(
    t: &crate::tenants::Tenant,
    sid: &str,
    lang: Lang,
) -> (&'static str, String, &'static str) {
    (
        tr(lang, "Eingereicht", "Submitted"),
        format!("/{}/eingang/{sid}", t.slug),
        tr(
            lang,
            "Stand, Nachrichten und Rückfragen",
            "Status, messages and questions",
        ),
    )
}

/// `POST /konto/uebernehmen`: an anonymous draft, found by its resume code (the resume
/// limiter counts the attempts), becomes the signed-in citizen's.
pub(super) async fn claim(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    axum::Extension(client): axum::Extension<ClientKey>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let get = |name: &str| {
        pairs
            .iter()
            .find_map(|(k, v)| (k == name).then(|| v.clone()))
            .unwrap_or_default()
    };
    let defs = p.defs();
    let root = defs.portal.root();
    let Some(s) = session::current_session(&p, &headers).await else {
        return Redirect::to("/konto").into_response();
    };
    if get("_csrf") != session::csrf(&p, &s) {
        return message_page(
            &p,
            root,
            lang,
            StatusCode::FORBIDDEN,
            tr(lang, "Mein Konto", "My account"),
            tr(lang, "Bitte noch einmal", "Please try again"),
            tr(
                lang,
                "Das Formular war veraltet. Bitte öffnen Sie Mein Konto erneut.",
                "The form was out of date. Please open My account again.",
            ),
        );
    }
    let code = get("code");
    let p2 = p.clone();
    let now = p.now();
    let claimed = crate::telemetry::spawn_blocking(move || -> Result<bool, StoreError> {
        let d = lotse_store::resume_draft(&p2.store, &*p2.limiter, &client.0, &code, now)?;
        if d.expires <= now {
            return Ok(false);
        }
        // The draft remembers its citizen: the list shows it, prefill stays as it was.
        let mut d = d;
        if let Ok(mut app) = serde_json::from_value::<lotse_core::Application>(d.state.clone())
            && app.signed_in.is_none()
        {
            app.signed_in = Some(lotse_core::login::SignedIn {
                provider: s.provider.clone(),
                trust_level: lotse_core::login::TrustLevel::from_rank(s.trust_level)
                    .unwrap_or(lotse_core::login::TrustLevel::Basic),
                subject: s.subject.clone(),
                prefilled: Vec::new(),
            });
            let revision = d.revision;
            d.state = serde_json::to_value(&app)
                .map_err(|e| StoreError::Storage(format!("encoding the draft: {e}")))?;
            d = lotse_store::DraftStore::save_draft(&p2.store, d, revision)?;
        }
        crate::identity::link_to_account(
            &p2.store,
            &s,
            d.tenant.slug(),
            &d.id.to_string(),
            &d.workflow_id,
            now,
        )?;
        Ok(true)
    })
    .await;
    match claimed {
        Ok(Ok(true)) => Redirect::to("/konto").into_response(),
        Ok(Err(StoreError::RateLimited { .. })) => message_page(
            &p,
            root,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            tr(lang, "Bitte warten", "Please wait"),
            tr(lang, "Zu viele Versuche", "Too many attempts"),
            tr(
                lang,
                "Der Code wurde mehrmals falsch eingegeben. Bitte warten Sie 15 Minuten und versuchen Sie es dann noch einmal.",
                "The code was entered wrongly several times. Please wait 15 minutes and try again.",
            ),
        ),
        Ok(Ok(false)) | Ok(Err(_)) | Err(_) => message_page(
            &p,
            root,
            lang,
            StatusCode::NOT_FOUND,
            tr(lang, "Mein Konto", "My account"),
            tr(lang, "Code nicht gefunden", "Code not found"),
            tr(
                lang,
                "Zu diesem Code gibt es keinen Antrag. Bitte prüfen Sie die Schreibweise.",
                "There is no application with this code. Please check the spelling.",
            ),
        ),
    }
}
