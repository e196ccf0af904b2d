//! The portal's own extractor: the open application of a step page's route.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};

use crate::http::extractors::{PortalTenant, UiLang, route_param};
use crate::http::pages::{PageContext, PageError};
use crate::http::run::open_draft;
use crate::service::{OpenDraft, Opened};
use crate::state::Shared;

/// The application the route's `{draft}` names, opened for the route's tenant through the
/// application service (one store read; tenant and expiry checked), for the HTML portal. One
/// that was sent already leads to its confirmation; one of another tenant, expired or never
/// issued is the portal's "not found" ([`PageError::NotFound`]); a failing store is the calm
/// error page.
pub(crate) struct PortalDraft(pub(crate) Box<OpenDraft>);

impl<S> FromRequestParts<S> for PortalDraft
where
    S: Send + Sync,
    Shared: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let PortalTenant(t) = PortalTenant::from_request_parts(parts, state).await?;
        let Ok(UiLang(lang)) = UiLang::from_request_parts(parts, state).await;
        let p = Shared::from_ref(state);
        let page = PageContext::new(&p, t.clone(), lang);
        let Some(id) = route_param(parts, state, "draft").await else {
            return Err(page.fail(PageError::NotFound).into_response());
        };
        match open_draft(&p, t.clone(), &id).await {
            Ok(Some(Opened::Open(open))) => {
                // `login: required`: only a signed-in citizen at the workflow's level; a GET
                // comes back to its own page, a post to the application's current page.
                let back = if parts.method == axum::http::Method::GET {
                    parts.uri.path().to_string()
                } else {
                    format!("/{}/antrag/{}", t.slug, open.draft.id)
                };
                crate::login::gate(&p, &parts.headers, &open.wf, lang, &back).await?;
                Ok(PortalDraft(open))
            }
            // Sent already (a double click, the back button): the confirmation again.
            Ok(Some(Opened::Submitted(sid))) => {
                Err(Redirect::to(&format!("/{}/eingang/{sid}", t.slug)).into_response())
            }
            // Sent and waiting for its payment: the payment's page.
            Ok(Some(Opened::Paying(pid))) => {
                Err(Redirect::to(&format!("/{}/zahlung/{pid}", t.slug)).into_response())
            }
            Ok(None) => Err(page.fail(PageError::NotFound).into_response()),
            Err(e) => Err(page.fail(e).into_response()),
        }
    }
}
