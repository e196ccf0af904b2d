//! Single logout (docs/login.md): where sign-out sends the browser after the local session
//! has ended (the OpenID provider's end-session endpoint, the SAML IdP's SingleLogoutService),
//! the IdP's answer to that, and a LogoutRequest started by the IdP. The protocol work is in
//! [`super::saml`] and [`super::oidc`].

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lotse_core::Lang;
use lotse_store::{CitizenSession, LoginStore};
use serde::Deserialize;

use super::LoginError;
use super::pages::{chrono_now, logout_index_hash, refused};
use crate::http::extractors::UiLang;
use crate::http::pages::{message_page, tr};
use crate::state::Shared;

/// The provider's logout address for this (already ended) session, if it has one.
pub(super) async fn provider_logout(p: &Shared, s: &CitizenSession) -> Option<String> {
    let hint = s.logout_hint.clone()?;
    let (p2, now) = (p.clone(), chrono_now(p));
    crate::telemetry::spawn_blocking(move || {
        let login = p2.login.as_ref()?;
        match (&login.saml, &login.oidc) {
            (Some(saml), _) => saml.logout_url(&hint, now),
            (None, Some(oidc)) => oidc.logout_url(&hint),
            (None, None) => None,
        }
    })
    .await
    .ok()
    .flatten()
}

#[derive(Deserialize)]
pub(super) struct SloQuery {
    #[serde(rename = "SAMLResponse")]
    response: Option<String>,
    #[serde(rename = "SAMLRequest")]
    request: Option<String>,
}

/// `GET /konto/saml/slo?SAMLResponse=…`: the identity provider's answer to a single logout
/// started at sign-out (HTTP-Redirect, signed). The local session ended before; a valid answer
/// leads to Mein Konto, anything else to a calm page that says the portal's sign-out held.
pub(super) async fn slo(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    uri: axum::http::Uri,
    Query(q): Query<SloQuery>,
) -> Response {
    if p.login.as_ref().and_then(|l| l.saml.as_ref()).is_none() {
        return refused(&p, lang, &LoginError::NotConfigured);
    }
    let raw = uri.query().unwrap_or_default().to_string();
    if q.request.is_some() {
        return provider_logout_request(&p, lang, raw).await;
    }
    if q.response.is_none() {
        return refused(&p, lang, &LoginError::Garbled("no SAMLResponse"));
    }
    let p2 = p.clone();
    let checked = crate::telemetry::spawn_blocking(move || {
        p2.login
            .as_ref()
            .and_then(|l| l.saml.as_ref())
            .ok_or(LoginError::NotConfigured)?
            .logout_answer(&raw)
    })
    .await;
    match checked {
        Ok(Ok(())) => {
            tracing::info!(event = "citizen_signed_out_at_provider");
            (StatusCode::SEE_OTHER, [(header::LOCATION, "/konto")]).into_response()
        }
        Ok(Err(e)) => {
            tracing::warn!(event = "citizen_logout_answer_refused", code = e.code());
            let defs = p.defs();
            let text = format!(
                "{} ({})",
                tr(
                    lang,
                    "Sie sind bei uns abgemeldet. Ob auch der Anmeldedienst Sie abgemeldet hat, konnten wir nicht feststellen; schließen Sie im Zweifel den Browser.",
                    "You are signed out here. Whether the sign-in service signed you out too could not be confirmed; if in doubt, close the browser.",
                ),
                e.code()
            );
            message_page(
                &p,
                defs.portal.root(),
                lang,
                StatusCode::BAD_REQUEST,
                tr(lang, "Abgemeldet", "Signed out"),
                tr(lang, "Sie sind abgemeldet", "You are signed out"),
                &text,
            )
        }
        Err(e) => refused(&p, lang, &LoginError::Internal(e.to_string())),
    }
}

/// Single logout started by the identity provider: its signed LogoutRequest ends the session
/// it names (on every node: the session is deleted in the store), and the provider gets a
/// signed LogoutResponse. The browser carries no session of ours here (the provider's page
/// sent it), so the session is found by the provider's name for the citizen.
async fn provider_logout_request(p: &Shared, lang: Lang, raw: String) -> Response {
    let (p2, now) = (p.clone(), chrono_now(p));
    let done = crate::telemetry::spawn_blocking(move || {
        let saml = p2
            .login
            .as_ref()
            .and_then(|l| l.saml.as_ref())
            .ok_or(LoginError::NotConfigured)?;
        let (id, name) = saml.logout_request(&raw, now)?;
        let internal = |e: lotse_store::StoreError| LoginError::Internal(e.to_string());
        if let Some(index) = p2
            .store
            .take_logout_index(&logout_index_hash(&name))
            .map_err(internal)?
        {
            p2.store
                .delete_citizen_session(&index.session)
                .map_err(internal)?;
        }
        saml.logout_response_url(&id, now)
    })
    .await;
    match done {
        Ok(Ok(to)) => {
            tracing::info!(event = "citizen_signed_out_by_provider");
            (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
        }
        Ok(Err(e)) => refused(p, lang, &e),
        Err(e) => refused(p, lang, &LoginError::Internal(e.to_string())),
    }
}
