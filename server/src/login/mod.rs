//! Citizen sign-in (docs/login.md): the portal as a SAML 2.0 service provider of BundID or as
//! the client of an OpenID provider, the citizen's session (one for both kinds), single logout,
//! and "Mein Konto". The protocol work is in [`saml`] and [`oidc`]; here are the routes, the
//! cookies and the refusals. A refusal is a calm page in German and one log line with its
//! code; nothing the identity provider sent is logged.

/// The `[login]` section (defined with the configuration, below this room).
pub use crate::config::login as config;
pub use crate::identity::{
    Login, LoginError, STARTS_PER_CLIENT, link_to_account, oidc, prefill, saml,
};
mod gate;
pub mod konto;
mod logout;
mod pages;
mod session;

use axum::Router;
use axum::routing::{get, post};

pub use config::LoginConfig;
pub use gate::{SignInOffer, gate, offer, sign_in_url};
pub use session::{CitizenCookie, current_session};

use crate::state::Shared;

/// The sign-in routes: metadata, start, the assertion consumer service, Mein Konto, sign-out.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Shared: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/konto", get(pages::konto))
        .route("/konto/anmelden", get(pages::start))
        .route("/konto/abmelden", post(pages::sign_out))
        .route("/konto/uebernehmen", post(konto::claim))
        .route("/konto/saml/metadata", get(pages::metadata))
        .route("/konto/saml/acs", post(pages::acs))
        .route("/konto/saml/slo", get(logout::slo))
        .route("/konto/oidc/rueckkehr", get(pages::oidc_return))
}
