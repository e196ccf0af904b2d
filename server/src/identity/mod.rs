//! Citizen identity (docs/login.md) below the sign-in's pages: the identity providers as
//! configured (SAML 2.0 for BundID in `saml`, OpenID Connect in `oidc`), why a sign-in did not
//! happen, the answers an identity prefills (`prefill`), and the link of a signed-in citizen's
//! draft to Mein Konto. The state holds a [`Login`]; the pages in `crate::login` use it.

pub mod oidc;
pub mod prefill;
pub mod saml;

use lotse_store::LoginStore;
use thiserror::Error;

/// The `[login]` section.
pub use crate::config::login as config;
pub use config::LoginConfig;

/// Why a sign-in did not happen. Each has a stable code (docs/errors.md, "Citizen sign-in").
#[derive(Debug, Error)]
pub enum LoginError {
    /// The response is not base64, not UTF-8, not a SAML response, or too large.
    #[error("LOT-L001 the response is unusable ({0})")]
    Garbled(&'static str),
    /// No valid signature by the pinned key over the assertion used (also: wrapping, another
    /// issuer).
    #[error("LOT-L002 no valid signature of the identity provider over the assertion")]
    BadSignature,
    /// The assertion is not for this portal.
    #[error("LOT-L003 the assertion names another audience, or none")]
    WrongAudience,
    /// Destination or Recipient is not this portal's assertion consumer service.
    #[error("LOT-L004 the response was sent to another address")]
    WrongDestination,
    /// Unsolicited, for another browser's request, or the browser has no sign-in in progress.
    #[error("LOT-L005 the response answers no sign-in this browser started")]
    NotOurRequest,
    /// Outside NotBefore/NotOnOrAfter (2 minutes' skew), or issued too long ago.
    #[error("LOT-L006 the response is expired or not yet valid")]
    Expired,
    /// The assertion was used already.
    #[error("LOT-L007 the assertion was used before (replay)")]
    Replayed,
    /// The asserted trust level is below the one asked for, or unknown; with the sign-in
    /// that asks again (level and way back), when known.
    #[error("LOT-L008 the trust level is lower than required")]
    TooLow(Option<String>),
    /// The provider answered with a status other than success (the citizen cancelled).
    #[error("LOT-L009 the identity provider did not sign the citizen in")]
    ProviderRefused,
    /// The assertion names no subject (pseudonym or NameID).
    #[error("LOT-L010 the assertion names no citizen")]
    NoSubject,
    /// No key of ours decrypts the assertion.
    #[error("LOT-L011 the encrypted assertion cannot be decrypted with the portal's keys")]
    Undecryptable,
    /// Signing in is not configured on this portal.
    #[error("LOT-L012 citizen sign-in is not configured")]
    NotConfigured,
    /// Store or signing failed (the cause goes to the log only).
    #[error("LOT-L013 internal error: {0}")]
    Internal(String),
    /// This client started very many sign-ins in a short time (each one is stored until it
    /// expires).
    #[error("LOT-L014 too many sign-ins started from this client")]
    TooMany,
    /// The OpenID provider could not be reached or its discovery document is unusable (the
    /// cause, without content, goes to the log only).
    #[error("LOT-L015 the OpenID provider is unreachable: {0}")]
    Unreachable(String),
    /// The provider's token endpoint refused the code (used before, another client's, or the
    /// PKCE verifier does not match).
    #[error("LOT-L016 the provider refused the authorization code")]
    CodeRefused,
    /// No ID token, or not one signed by the provider's keys for this issuer.
    #[error("LOT-L017 the ID token is missing or not validly signed by the provider")]
    BadIdToken,
    /// The ID token's nonce is not the one of the sign-in this browser started.
    #[error("LOT-L018 the ID token answers another sign-in (nonce)")]
    WrongNonce,
}

impl LoginError {
    /// The stable code (`LOT-L001`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Garbled(_) => "LOT-L001",
            Self::BadSignature => "LOT-L002",
            Self::WrongAudience => "LOT-L003",
            Self::WrongDestination => "LOT-L004",
            Self::NotOurRequest => "LOT-L005",
            Self::Expired => "LOT-L006",
            Self::Replayed => "LOT-L007",
            Self::TooLow(_) => "LOT-L008",
            Self::ProviderRefused => "LOT-L009",
            Self::NoSubject => "LOT-L010",
            Self::Undecryptable => "LOT-L011",
            Self::NotConfigured => "LOT-L012",
            Self::Internal(_) => "LOT-L013",
            Self::TooMany => "LOT-L014",
            Self::Unreachable(_) => "LOT-L015",
            Self::CodeRefused => "LOT-L016",
            Self::BadIdToken => "LOT-L017",
            Self::WrongNonce => "LOT-L018",
        }
    }
}

/// Sign-in as configured: built at start-up, `None` in the state without `[login]`.
pub struct Login {
    pub(crate) config: LoginConfig,
    pub(crate) saml: Option<saml::Saml>,
    pub(crate) oidc: Option<oidc::Oidc>,
}

/// Sign-ins one client may start in ten minutes: each one is stored until it expires, so the
/// store must not fill up from one address.
pub const STARTS_PER_CLIENT: lotse_store::LimitPolicy = lotse_store::LimitPolicy::Window {
    max: 30,
    window: time::Duration::minutes(10),
};

impl Login {
    /// Reads keys, certificates and metadata; `None` without `[login]`.
    pub fn from_config(config: &crate::config::Config) -> anyhow::Result<Option<Login>> {
        let Some(c) = &config.login else {
            return Ok(None);
        };
        c.validate(config.listen.ip().is_loopback())?;
        let saml = match &c.saml {
            Some(s) => Some(saml::Saml::from_config(c, s)?),
            None => None,
        };
        let oidc = match &c.oidc {
            Some(o) => Some(oidc::Oidc::from_config(c, o)?),
            None => None,
        };
        Ok(Some(Login {
            config: c.clone(),
            saml,
            oidc,
        }))
    }

    /// The provider's name citizens read ("BundID", "Servicekonto").
    pub fn label(&self) -> &str {
        match (&self.saml, &self.oidc) {
            (Some(s), _) => &s.label,
            (None, Some(o)) => &o.label,
            (None, None) => "",
        }
    }
}

/// Links a new draft of a signed-in citizen to Mein Konto.
pub fn link_to_account(
    store: &lotse_store::AnyStore,
    s: &lotse_store::CitizenSession,
    tenant: &str,
    draft: &str,
    workflow_id: &str,
    now: time::OffsetDateTime,
) -> Result<(), lotse_store::StoreError> {
    store.link_citizen(&lotse_store::CitizenLink {
        citizen: lotse_store::SecretHash::of(&s.subject),
        tenant: tenant.to_string(),
        draft: draft.to_string(),
        workflow_id: workflow_id.to_string(),
        submission: None,
        created: now,
    })
}
