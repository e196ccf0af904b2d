//! The sign-in's HTTP side: the metadata, the start (a redirect to the identity provider), the
//! SAML assertion consumer service and the OpenID return, the one way from a verified identity
//! to a session, Mein Konto and the sign-out. Handlers translate; the checks are in
//! [`super::saml`] and [`super::oidc`], the records in the store.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lotse_core::Lang;
use lotse_core::login::TrustLevel;
use lotse_store::{CitizenSession, LoginStore, PendingSignIn, SecretHash};
use serde::{Deserialize, Serialize};

use super::LoginError;
use super::session::{self, CitizenCookie, PENDING_COOKIE, SESSION_COOKIE};
use crate::http::extractors::{ClientKey, UiLang};
use crate::http::pages::{Layout, MessageLink, Page, message_page, message_page_with_link, tr};
use crate::state::Shared;

/// How long a started sign-in waits for the provider's answer.
const PENDING_MINUTES: i64 = 15;

pub(super) fn chrono_now(p: &Shared) -> chrono::DateTime<chrono::Utc> {
    let now = p.now();
    chrono::DateTime::from_timestamp(now.unix_timestamp(), now.nanosecond()).unwrap_or_default()
}

/// A path of this portal to come back to; anything else becomes Mein Konto.
pub(crate) fn safe_return(path: Option<&str>) -> String {
    match path {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && p.len() <= 512
                && p.chars().all(|c| c.is_ascii_graphic() && c != '\\') =>
        {
            p.to_string()
        }
        _ => "/konto".to_string(),
    }
}

/// The calm page of a refused or impossible sign-in.
pub(super) fn refused(p: &Shared, lang: Lang, e: &LoginError) -> Response {
    // One coded line; nothing the provider sent.
    match e {
        LoginError::Internal(cause) | LoginError::Unreachable(cause) => {
            tracing::error!(event = "citizen_sign_in_failed", code = e.code(), cause = %cause)
        }
        _ => tracing::warn!(event = "citizen_sign_in_refused", code = e.code()),
    }
    let defs = p.defs();
    let (status, heading, text) = match e {
        LoginError::NotConfigured => (
            StatusCode::NOT_FOUND,
            tr(lang, "Anmeldung nicht verfügbar", "Sign-in not available"),
            tr(
                lang,
                "Dieses Portal bietet keine Anmeldung mit einem Nutzerkonto an. Sie können Ihre Anträge ohne Anmeldung stellen.",
                "This portal does not offer signing in with an account. You can apply without signing in.",
            ),
        ),
        LoginError::TooLow(_) => (
            StatusCode::FORBIDDEN,
            tr(
                lang,
                "Höheres Vertrauensniveau nötig",
                "A higher trust level is needed",
            ),
            tr(
                lang,
                "Ihre Anmeldung reicht für diesen Antrag nicht aus. Bitte melden Sie sich erneut an, zum Beispiel mit Ihrem Online-Ausweis oder Ihrem ELSTER-Zertifikat.",
                "Your sign-in is not sufficient for this application. Please sign in again, for example with your online ID card or your ELSTER certificate.",
            ),
        ),
        LoginError::ProviderRefused => (
            StatusCode::BAD_REQUEST,
            tr(lang, "Anmeldung abgebrochen", "Sign-in cancelled"),
            tr(
                lang,
                "Die Anmeldung wurde nicht abgeschlossen. Sie können es noch einmal versuchen.",
                "The sign-in was not completed. You can try again.",
            ),
        ),
        LoginError::TooMany => (
            StatusCode::TOO_MANY_REQUESTS,
            tr(lang, "Bitte etwas Geduld", "Please wait a little"),
            tr(
                lang,
                "Von Ihrem Anschluss wurde die Anmeldung in kurzer Zeit sehr oft begonnen. Bitte versuchen Sie es in einigen Minuten noch einmal.",
                "Sign-in was started very often from your connection in a short time. Please try again in a few minutes.",
            ),
        ),
        LoginError::Unreachable(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            tr(
                lang,
                "Anmeldedienst nicht erreichbar",
                "Sign-in service not reachable",
            ),
            tr(
                lang,
                "Der Anmeldedienst antwortet gerade nicht. Bitte versuchen Sie es später noch einmal. Ohne Anmeldung können Sie viele Anträge trotzdem stellen.",
                "The sign-in service is not answering right now. Please try again later. Many applications can be made without signing in.",
            ),
        ),
        LoginError::Internal(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            tr(
                lang,
                "Anmeldung gerade nicht möglich",
                "Sign-in not possible right now",
            ),
            tr(
                lang,
                "Bei der Anmeldung ist bei uns ein Fehler aufgetreten. Bitte versuchen Sie es später noch einmal.",
                "An error occurred on our side. Please try again later.",
            ),
        ),
        _ => (
            StatusCode::BAD_REQUEST,
            tr(lang, "Anmeldung nicht möglich", "Sign-in not possible"),
            tr(
                lang,
                "Die Antwort des Anmeldedienstes konnte nicht angenommen werden. Sie sind nicht angemeldet. Bitte starten Sie die Anmeldung noch einmal.",
                "The answer of the sign-in service could not be accepted. You are not signed in. Please start the sign-in again.",
            ),
        ),
    };
    let link = match e {
        LoginError::TooLow(Some(href)) => Some(MessageLink {
            href: href.clone(),
            text: tr(lang, "Erneut anmelden", "Sign in again").to_string(),
        }),
        _ => None,
    };
    let mut r = message_page_with_link(
        p,
        defs.portal.root(),
        lang,
        status,
        (heading, heading, &format!("{text} ({})", e.code())),
        link,
    );
    if let Some(c) = CitizenCookie::pending(p, None) {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

/// `GET /konto/saml/metadata`: the portal's SAML metadata for the identity provider.
pub(super) async fn metadata(State(p): State<Shared>, UiLang(lang): UiLang) -> Response {
    match p.login.as_ref().and_then(|l| l.saml.as_ref()) {
        Some(saml) => (
            [(header::CONTENT_TYPE, "application/samlmetadata+xml")],
            saml.metadata(),
        )
            .into_response(),
        None => refused(&p, lang, &LoginError::NotConfigured),
    }
}

#[derive(Deserialize)]
pub(super) struct StartQuery {
    ebene: Option<String>,
    zurueck: Option<String>,
}

/// `GET /konto/anmelden?ebene=substanziell&zurueck=/…`: a new sign-in, bound to this browser
/// by a cookie, and the way to the identity provider.
pub(super) async fn start(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    axum::Extension(client): axum::Extension<ClientKey>,
    Query(q): Query<StartQuery>,
) -> Response {
    let Some(login) = p.login.as_ref() else {
        return refused(&p, lang, &LoginError::NotConfigured);
    };
    if login.saml.is_none() && login.oidc.is_none() {
        return refused(&p, lang, &LoginError::NotConfigured);
    }
    let (p2, now) = (p.clone(), p.now());
    match crate::telemetry::spawn_blocking(move || p2.sign_in_starts.reserve(&client.0, now)).await
    {
        Ok(Ok(())) => {}
        Ok(Err(lotse_store::StoreError::RateLimited { .. })) => {
            return refused(&p, lang, &LoginError::TooMany);
        }
        Ok(Err(e)) => return refused(&p, lang, &LoginError::Internal(e.to_string())),
        Err(e) => return refused(&p, lang, &LoginError::Internal(e.to_string())),
    }
    let level = q
        .ebene
        .as_deref()
        .and_then(TrustLevel::from_slug)
        .unwrap_or(TrustLevel::Basic);
    let browser = match super::saml::fresh_id() {
        Ok(b) => b,
        Err(e) => return refused(&p, lang, &e),
    };
    let begun = match &login.saml {
        Some(saml) => super::saml::fresh_id().and_then(|request_id| {
            let url = saml.request_url(&request_id, level, chrono_now(&p))?;
            Ok((url, request_id, "saml", None))
        }),
        None => {
            let p2 = p.clone();
            match crate::telemetry::spawn_blocking(move || {
                let oidc = p2
                    .login
                    .as_ref()
                    .and_then(|l| l.oidc.as_ref())
                    .ok_or(LoginError::NotConfigured)?;
                oidc.start(level)
            })
            .await
            {
                Ok(Ok(s)) => Ok((s.url, s.state, "oidc", Some(s.secret))),
                Ok(Err(e)) => Err(e),
                Err(e) => Err(LoginError::Internal(e.to_string())),
            }
        }
    };
    let (url, request_id, provider, secret) = match begun {
        Ok(b) => b,
        Err(e) => return refused(&p, lang, &e),
    };
    let pending = PendingSignIn {
        hash: SecretHash::of(&browser),
        request_id,
        provider: provider.into(),
        trust_level: level.rank(),
        return_to: safe_return(q.zurueck.as_deref()),
        secret,
        expires: p.now() + time::Duration::minutes(PENDING_MINUTES),
    };
    let p2 = p.clone();
    if let Err(e) = crate::http::run::blocking(move || p2.store.put_pending_sign_in(&pending)).await
    {
        return refused(&p, lang, &LoginError::Internal(e));
    }
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, url)]).into_response();
    if let Some(c) = CitizenCookie::pending(&p, Some(&browser)) {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

/// `POST /konto/saml/acs`: the provider's answer (HTTP-POST binding). A session only when
/// every check holds.
pub(super) async fn acs(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some(login) = p.login.as_ref() else {
        return refused(&p, lang, &LoginError::NotConfigured);
    };
    if login.saml.is_none() {
        return refused(&p, lang, &LoginError::NotConfigured);
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let Some(posted) = pairs
        .into_iter()
        .find_map(|(k, v)| (k == "SAMLResponse").then_some(v))
    else {
        return refused(&p, lang, &LoginError::Garbled("no SAMLResponse"));
    };
    let Some(browser) = session::cookie(&headers, PENDING_COOKIE) else {
        return refused(&p, lang, &LoginError::NotOurRequest);
    };
    let old_session = session::cookie(&headers, SESSION_COOKIE);
    let secret = match super::saml::fresh_id() {
        Ok(s) => s,
        Err(e) => return refused(&p, lang, &e),
    };
    let now_chrono = chrono_now(&p);
    let p2 = p.clone();
    let secret2 = secret.clone();
    let outcome = crate::telemetry::spawn_blocking(move || {
        finish(&p2, &browser, &posted, old_session, &secret2, now_chrono)
    })
    .await;
    match outcome {
        Ok(Ok(to)) => signed_in(&p, &secret, to),
        Ok(Err(e)) => refused(&p, lang, &e),
        Err(e) => refused(&p, lang, &LoginError::Internal(e.to_string())),
    }
}

/// The answer after a sign-in of either kind: the session cookie, the pending one removed,
/// and the way back.
fn signed_in(p: &Shared, secret: &str, return_to: String) -> Response {
    tracing::info!(event = "citizen_signed_in");
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, return_to)]).into_response();
    for c in [
        CitizenCookie::session(p, Some(secret)),
        CitizenCookie::pending(p, None),
    ]
    .into_iter()
    .flatten()
    {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

#[derive(Deserialize)]
pub(super) struct ReturnQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /konto/oidc/rueckkehr?code=…&state=…`: the OpenID provider's answer (the redirect
/// URI). A session only when every check holds.
pub(super) async fn oidc_return(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    headers: HeaderMap,
    Query(q): Query<ReturnQuery>,
) -> Response {
    if p.login.as_ref().and_then(|l| l.oidc.as_ref()).is_none() {
        return refused(&p, lang, &LoginError::NotConfigured);
    }
    let Some(browser) = session::cookie(&headers, PENDING_COOKIE) else {
        return refused(&p, lang, &LoginError::NotOurRequest);
    };
    let old_session = session::cookie(&headers, SESSION_COOKIE);
    let secret = match super::saml::fresh_id() {
        Ok(s) => s,
        Err(e) => return refused(&p, lang, &e),
    };
    let now_chrono = chrono_now(&p);
    let (p2, secret2) = (p.clone(), secret.clone());
    let outcome = crate::telemetry::spawn_blocking(move || {
        finish_oidc(&p2, &browser, q, old_session, &secret2, now_chrono)
    })
    .await;
    match outcome {
        Ok(Ok(to)) => signed_in(&p, &secret, to),
        Ok(Err(e)) => refused(&p, lang, &e),
        Err(e) => refused(&p, lang, &LoginError::Internal(e.to_string())),
    }
}

/// The blocking part of the OpenID return: the sign-in this browser started (taken, so it is
/// answered once), its `state`, the code exchanged and the ID token checked, the new session.
fn finish_oidc(
    p: &Shared,
    browser: &str,
    q: ReturnQuery,
    old_session: Option<String>,
    secret: &str,
    now_chrono: chrono::DateTime<chrono::Utc>,
) -> Result<String, LoginError> {
    let oidc = p
        .login
        .as_ref()
        .and_then(|l| l.oidc.as_ref())
        .ok_or(LoginError::NotConfigured)?;
    let pending = p
        .store
        .take_pending_sign_in(&SecretHash::of(browser))
        .map_err(|e| LoginError::Internal(e.to_string()))?
        .ok_or(LoginError::NotOurRequest)?;
    if pending.expires <= p.now() {
        return Err(LoginError::Expired);
    }
    // The state must be the one this browser's sign-in sent (compared as hashes: no early
    // exit on the first differing byte).
    let state = q.state.as_deref().unwrap_or_default();
    if pending.provider != "oidc" || SecretHash::of(state) != SecretHash::of(&pending.request_id) {
        return Err(LoginError::NotOurRequest);
    }
    if q.error.is_some() {
        return Err(LoginError::ProviderRefused);
    }
    let code = q
        .code
        .filter(|c| !c.is_empty() && c.len() <= 2048)
        .ok_or(LoginError::Garbled("no code"))?;
    let wanted = TrustLevel::from_rank(pending.trust_level).unwrap_or(TrustLevel::High);
    let kept = pending.secret.as_deref().unwrap_or_default();
    let identity = match oidc.finish(&code, kept, wanted, now_chrono) {
        Err(LoginError::TooLow(None)) => {
            return Err(LoginError::TooLow(Some(super::sign_in_url(
                wanted,
                &pending.return_to,
            ))));
        }
        other => other?,
    };
    open_session(
        p,
        SignedIn {
            subject: format!("oidc:{}", identity.subject),
            label: oidc.label.clone(),
            level: identity.level,
            attributes: identity.attributes,
            logout_hint: Some(identity.id_token),
        },
        old_session,
        secret,
    )?;
    Ok(pending.return_to)
}

/// A citizen as a provider of either kind vouched for them.
struct SignedIn {
    /// The provider's stable id of the citizen, with its kind (`saml:…`, `oidc:…`).
    subject: String,
    label: String,
    level: TrustLevel,
    attributes: std::collections::BTreeMap<String, String>,
    logout_hint: Option<String>,
}

/// The logout index's key of a provider's name for a citizen.
pub(super) fn logout_index_hash(name_id: &str) -> SecretHash {
    SecretHash::of(&format!("saml-slo:{name_id}"))
}

/// The session after a sign-in of either kind (returns its expiry); an old session of this
/// browser ends (no fixation).
fn open_session(
    p: &Shared,
    who: SignedIn,
    old_session: Option<String>,
    secret: &str,
) -> Result<time::OffsetDateTime, LoginError> {
    let internal = |e: lotse_store::StoreError| LoginError::Internal(e.to_string());
    let now = p.now();
    if let Some(old) = old_session {
        p.store
            .delete_citizen_session(&SecretHash::of(&old))
            .map_err(internal)?;
    }
    let minutes = p
        .login
        .as_ref()
        .map(|l| i64::from(l.config.session_minutes))
        .unwrap_or(60);
    let session = CitizenSession {
        hash: SecretHash::of(secret),
        // Stable per citizen and installation, and not the provider's pseudonym itself.
        subject: p.token(&format!("citizen:{}", who.subject))[..32].to_string(),
        provider: who.label,
        trust_level: who.level.rank(),
        attributes: who.attributes,
        logout_hint: who.logout_hint,
        created: now,
        expires: now + time::Duration::minutes(minutes),
    };
    p.store.create_citizen_session(&session).map_err(internal)?;
    Ok(session.expires)
}

/// The blocking part of the consumer service: the sign-in this browser started (taken, so
/// it is answered once), the response's checks, the replay cache, the new session.
fn finish(
    p: &Shared,
    browser: &str,
    posted: &str,
    old_session: Option<String>,
    secret: &str,
    now_chrono: chrono::DateTime<chrono::Utc>,
) -> Result<String, LoginError> {
    let internal = |e: lotse_store::StoreError| LoginError::Internal(e.to_string());
    let saml = p
        .login
        .as_ref()
        .and_then(|l| l.saml.as_ref())
        .ok_or(LoginError::NotConfigured)?;
    let posted = saml.decode(posted)?;
    let now = p.now();
    let pending = p
        .store
        .take_pending_sign_in(&SecretHash::of(browser))
        .map_err(internal)?
        .ok_or(LoginError::NotOurRequest)?;
    if pending.expires <= now {
        return Err(LoginError::Expired);
    }
    let wanted = TrustLevel::from_rank(pending.trust_level).unwrap_or(TrustLevel::High);
    let identity = match saml.verify(posted, &pending.request_id, wanted, now_chrono) {
        // The way to sign in again at the level asked for, back to where the citizen was.
        Err(LoginError::TooLow(None)) => {
            return Err(LoginError::TooLow(Some(super::sign_in_url(
                wanted,
                &pending.return_to,
            ))));
        }
        other => other?,
    };
    let until = time::OffsetDateTime::from_unix_timestamp(identity.replayable_until.timestamp())
        .unwrap_or(now + time::Duration::hours(1))
        .max(now + time::Duration::minutes(5));
    let seen = SecretHash::of(&format!("saml:{}", identity.assertion_id));
    if !p.store.first_use(&seen, until).map_err(internal)? {
        return Err(LoginError::Replayed);
    }
    let name_id = identity.name_id.clone();
    let expires = open_session(
        p,
        SignedIn {
            subject: format!("saml:{}", identity.subject),
            label: saml.label.clone(),
            level: identity.level,
            attributes: identity.attributes,
            logout_hint: identity.logout_hint,
        },
        old_session,
        secret,
    )?;
    // The provider may end this session by its name for the citizen (single logout).
    if let Some(name) = name_id {
        p.store
            .put_logout_index(&lotse_store::LogoutIndex {
                hash: logout_index_hash(&name),
                session: SecretHash::of(secret),
                expires,
            })
            .map_err(internal)?;
    }
    Ok(pending.return_to)
}

/// Mein Konto.
#[derive(Serialize)]
struct KontoPage {
    #[serde(flatten)]
    layout: Layout,
    heading: &'static str,
    signed_in: bool,
    intro: String,
    sign_in: &'static str,
    sign_in_url: &'static str,
    sign_out: &'static str,
    csrf: String,
    applications: Vec<super::konto::ApplicationView>,
    applications_heading: &'static str,
    none_yet: &'static str,
    claim_heading: &'static str,
    claim_hint: &'static str,
    claim_label: &'static str,
    claim_button: &'static str,
}

impl Page for KontoPage {
    const TEMPLATE: &'static str = "konto";
}

/// `GET /konto`: who is signed in, and (signed out) the way to sign in.
pub(super) async fn konto(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    headers: HeaderMap,
) -> Response {
    let Some(login) = p.login.as_ref() else {
        return refused(&p, lang, &LoginError::NotConfigured);
    };
    let label = login.label().to_string();
    let current = session::current_session(&p, &headers).await;
    let defs = p.defs();
    let heading = tr(lang, "Mein Konto", "My account");
    let (intro, csrf) = match &current {
        Some(s) => {
            let level = TrustLevel::from_rank(s.trust_level).unwrap_or(TrustLevel::Basic);
            let level = if lang == Lang::En {
                level.label_en()
            } else {
                level.label_de()
            };
            (
                if lang == Lang::En {
                    format!(
                        "You are signed in with {}, trust level {level}.",
                        s.provider
                    )
                } else {
                    format!(
                        "Sie sind über {} angemeldet, Vertrauensniveau {level}.",
                        s.provider
                    )
                },
                session::csrf(&p, s),
            )
        }
        None => (
            if lang == Lang::En {
                format!(
                    "Sign in with {label} to see all your applications in one place and to continue them without a code."
                )
            } else {
                format!(
                    "Melden Sie sich mit {label} an, um alle Ihre Anträge an einem Ort zu sehen und ohne Code fortzusetzen."
                )
            },
            String::new(),
        ),
    };
    let applications = match &current {
        Some(s) => {
            let (p2, s2) = (p.clone(), s.clone());
            crate::telemetry::spawn_blocking(move || super::konto::applications(&p2, &s2, lang))
                .await
                .unwrap_or_default()
        }
        None => Vec::new(),
    };
    let page = KontoPage {
        layout: Layout::new(&defs.portal, defs.portal.root(), heading, lang).at("/konto"),
        heading,
        signed_in: current.is_some(),
        intro,
        sign_in: tr(lang, "Anmelden", "Sign in"),
        sign_in_url: "/konto/anmelden?zurueck=/konto",
        sign_out: tr(lang, "Abmelden", "Sign out"),
        csrf,
        applications,
        applications_heading: tr(lang, "Ihre Anträge", "Your applications"),
        none_yet: tr(
            lang,
            "Sie haben noch keinen Antrag mit diesem Konto gestellt.",
            "You have not applied with this account yet.",
        ),
        claim_heading: tr(lang, "Antrag übernehmen", "Add an application"),
        claim_hint: tr(
            lang,
            "Haben Sie einen Antrag ohne Anmeldung begonnen? Mit seinem Fortsetzungscode übernehmen Sie ihn in Ihr Konto.",
            "Did you start an application without signing in? Add it to your account with its resume code.",
        ),
        claim_label: tr(lang, "Fortsetzungscode", "Resume code"),
        claim_button: tr(lang, "Übernehmen", "Add"),
    };
    let mut r = p.render(&page);
    // Sign-out may end at the OpenID provider's logout page: the form may lead there.
    let origins = match (&login.saml, &login.oidc) {
        (Some(saml), _) => saml.logout_origin(),
        (None, Some(oidc)) => Some(oidc.logout_origins()),
        (None, None) => None,
    };
    if let Some(s) = &current
        && s.logout_hint.is_some()
        && let Some(csp) = origins
            .as_deref()
            .and_then(crate::http::middleware::csp_with_form_target)
    {
        r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    r
}

/// `POST /konto/abmelden`: ends the session (with the session's CSRF token).
pub(super) async fn sign_out(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let token = pairs
        .iter()
        .find_map(|(k, v)| (k == "_csrf").then_some(v.as_str()));
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, "/konto")]).into_response();
    if let Some(s) = session::current_session(&p, &headers).await {
        if token != Some(session::csrf(&p, &s).as_str()) {
            let defs = p.defs();
            return message_page(
                &p,
                defs.portal.root(),
                lang,
                StatusCode::FORBIDDEN,
                tr(lang, "Abmelden", "Sign out"),
                tr(lang, "Bitte noch einmal", "Please try again"),
                tr(
                    lang,
                    "Das Formular war veraltet. Bitte öffnen Sie Mein Konto und melden Sie sich dort ab.",
                    "The form was out of date. Please open My account and sign out there.",
                ),
            );
        }
        let p2 = p.clone();
        let hash = s.hash;
        if let Err(e) =
            crate::http::run::blocking(move || p2.store.delete_citizen_session(&hash)).await
        {
            return refused(&p, lang, &LoginError::Internal(e));
        }
        tracing::info!(event = "citizen_signed_out");
        // The local session has ended; then the provider's, where it offers that (single
        // logout). Unreachable or without an end-session endpoint: Mein Konto as before.
        if let Some(to) = super::logout::provider_logout(&p, &s).await {
            r = (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response();
        }
    }
    if let Some(c) = CitizenCookie::session(&p, None) {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
