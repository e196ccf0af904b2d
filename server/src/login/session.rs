//! The citizen's session, by the Postkorb's standards: a random 256-bit id in an HttpOnly
//! cookie (Secure unless plain http on loopback, SameSite=Lax so that the way back from the
//! identity provider carries it), stored only as its SHA-256, with an expiry, in the store that
//! every node shares.

use axum::http::{HeaderMap, HeaderValue};
use lotse_store::{CitizenSession, LoginStore, SecretHash};

use crate::state::Shared;

/// The session cookie.
pub const SESSION_COOKIE: &str = "lotse_konto";
/// The cookie of a sign-in in progress (bound to its request; path of the consumer service).
pub const PENDING_COOKIE: &str = "lotse_anmeldung";

/// A cookie's value from the request.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    crate::http::extractors::cookie(headers, name)
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_string)
}

/// `Set-Cookie` builders for the citizen's cookies.
pub struct CitizenCookie;

impl CitizenCookie {
    fn flags(secure: bool, cross_site_post: bool) -> &'static str {
        match (secure, cross_site_post) {
            // The provider posts its answer from another site: only SameSite=None carries the
            // cookie there, and browsers take that only with Secure.
            (true, true) => "; HttpOnly; Secure; SameSite=None",
            (true, false) => "; HttpOnly; Secure; SameSite=Lax",
            (false, _) => "; HttpOnly; SameSite=Lax",
        }
    }

    /// The session cookie (or its removal with `None`).
    pub fn session(p: &Shared, secret: Option<&str>) -> Option<HeaderValue> {
        let login = p.login.as_ref()?;
        let (value, age) = match secret {
            Some(s) => (s, i64::from(login.config.session_minutes) * 60),
            None => ("", 0),
        };
        HeaderValue::from_str(&format!(
            "{SESSION_COOKIE}={value}; Path=/; Max-Age={age}{}",
            Self::flags(login.config.cookie_secure, false)
        ))
        .ok()
    }

    /// The cookie of a sign-in in progress (or its removal with `None`).
    pub fn pending(p: &Shared, secret: Option<&str>) -> Option<HeaderValue> {
        let login = p.login.as_ref()?;
        let (value, age) = match secret {
            Some(s) => (s, 900),
            None => ("", 0),
        };
        HeaderValue::from_str(&format!(
            "{PENDING_COOKIE}={value}; Path=/konto; Max-Age={age}{}",
            Self::flags(login.config.cookie_secure, true)
        ))
        .ok()
    }
}

/// The signed-in citizen behind this request: an unexpired session, or `None`.
pub async fn current_session(p: &Shared, headers: &HeaderMap) -> Option<CitizenSession> {
    p.login.as_ref()?;
    let secret = cookie(headers, SESSION_COOKIE)?;
    let p2 = p.clone();
    let found =
        crate::http::run::blocking(move || p2.store.citizen_session(&SecretHash::of(&secret)))
            .await;
    match found {
        Ok(Some(s)) if s.expires > p.now() => Some(s),
        Ok(_) => None,
        Err(e) => {
            tracing::error!(event = "citizen_session_lookup_failed", cause = %e);
            None
        }
    }
}

/// The CSRF token of a signed-in citizen's forms: bound to the session.
pub(crate) fn csrf(p: &Shared, s: &CitizenSession) -> String {
    let hash: String = s
        .hash
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    p.token(&format!("konto:{hash}"))
}
