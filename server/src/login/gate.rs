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

/// What a service page says about signing in, for a workflow with `login:`.
#[derive(serde::Serialize)]
pub struct SignInOffer {
    pub text: String,
    /// The sign-in link; `None` when the citizen is signed in at the level already.
    pub href: Option<String>,
    pub link: &'static str,
}

/// The service page's offer to sign in (`None` for `login: none` or without `[login]`).
pub async fn offer(
    p: &Shared,
    headers: &HeaderMap,
    wf: &Workflow,
    lang: Lang,
    back: &str,
) -> Option<SignInOffer> {
    if wf.login == LoginMode::None {
        return None;
    }
    let label = p.login.as_ref()?.label().to_string();
    let level = if lang == Lang::En {
        wf.trust_level.label_en()
    } else {
        wf.trust_level.label_de()
    };
    let session = super::current_session(p, headers).await;
    let enough = session
        .as_ref()
        .and_then(|s| TrustLevel::from_rank(s.trust_level))
        .is_some_and(|l| l >= wf.trust_level);
    let en = lang == Lang::En;
    let text = match (enough, wf.login, en) {
        (true, _, false) => {
            format!("Sie sind über {label} angemeldet; Ihre Angaben werden übernommen.")
        }
        (true, _, true) => format!("You are signed in with {label}; your details are filled in."),
        (false, LoginMode::Required, false) => format!(
            "Für diesen Antrag melden Sie sich mit {label} an (Vertrauensniveau {level}, zum Beispiel mit ELSTER-Zertifikat oder Online-Ausweis)."
        ),
        (false, LoginMode::Required, true) => format!(
            "This application needs a sign-in with {label} (trust level {level}, for example with an ELSTER certificate or the online ID card)."
        ),
        (false, _, false) => format!(
            "Mit {label} angemeldet (Vertrauensniveau {level}) werden Ihre Angaben übernommen. Sie können auch ohne Anmeldung beantragen."
        ),
        (false, _, true) => format!(
            "Signed in with {label} (trust level {level}), your details are filled in. You can also apply without signing in."
        ),
    };
    Some(SignInOffer {
        text,
        href: (!enough).then(|| sign_in_url(wf.trust_level, back)),
        link: if en { "Sign in" } else { "Anmelden" },
    })
}
