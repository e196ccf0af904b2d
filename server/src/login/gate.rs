//! What a workflow's `login:` asks of a request: anonymous as before (`none`), a session if
//! there is one (`optional`), or a session at the workflow's `trust_level` (`required`). A
//! citizen without it is sent to sign in at that level and comes back to the same page.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lotse_core::Lang;
use lotse_core::Workflow;
use lotse_core::login::{LoginMode, TrustLevel};
use lotse_store::CitizenSession;

use super::LoginError;
use crate::state::Shared;

/// The sign-in link for `level` that returns to `back`.
pub fn sign_in_url(level: TrustLevel, back: &str) -> String {
    let back: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
    format!("/konto/anmelden?ebene={}&zurueck={back}", level.slug())
}

/// The session this workflow may use: `Ok(None)` anonymous, `Ok(Some)` signed in at the
/// workflow's level, `Err` the answer to send instead (a way to sign in, or a calm page when
/// the portal has no sign-in).
pub async fn gate(
    p: &Shared,
    headers: &HeaderMap,
    wf: &Workflow,
    lang: Lang,
    back: &str,
) -> Result<Option<CitizenSession>, Response> {
    if wf.login == LoginMode::None {
        return Ok(None);
    }
    if p.login.is_none() {
        return match wf.login {
            LoginMode::Required => Err(super::pages::refused(p, lang, &LoginError::NotConfigured)),
            _ => Ok(None),
        };
    }
    let session = super::current_session(p, headers).await;
    let enough = |s: &CitizenSession| {
        TrustLevel::from_rank(s.trust_level).is_some_and(|l| l >= wf.trust_level)
    };
    match (wf.login, session) {
        (_, Some(s)) if enough(&s) => Ok(Some(s)),
        (LoginMode::Required, _) => Err((
            StatusCode::SEE_OTHER,
            [(header::LOCATION, sign_in_url(wf.trust_level, back))],
        )
            .into_response()),
        // Optional: a session below the level is not used (no prefill); anonymous works.
        _ => Ok(None),
    }
}
