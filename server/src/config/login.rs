//! `[login]`: citizen sign-in (docs/login.md). The identity provider's metadata and its pinned
//! signing certificate, the portal's own SAML keys (two during a key change), the attributes
//! asked for and where the portal is reached.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::bail;
use serde::Deserialize;

/// `[login]` in the configuration; unset: nobody signs in, workflows with `login: required`
/// cannot be started.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginConfig {
    /// The portal's address as browsers reach it (`https://service.kreis-heinsberg.example`):
    /// the assertion consumer service and the metadata are under it.
    pub public_url: String,
    /// The cookies of citizen sessions carry `Secure` (default `true`; `false` only for plain
    /// http on loopback, as in tests).
    #[serde(default = "yes")]
    pub cookie_secure: bool,
    /// How long a citizen session lasts without signing in again: 5–480 minutes, default 60.
    #[serde(default = "sixty")]
    pub session_minutes: u32,
    /// The SAML identity provider (BundID).
    pub saml: Option<SamlConfig>,
    /// An OpenID Connect provider (a Land's citizen account); one of `saml` and `oidc`.
    pub oidc: Option<OidcConfig>,
}

/// `[login.oidc]`: an OpenID provider and the portal as its confidential client
/// (authorization code flow with PKCE).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's name citizens read ("Servicekonto").
    #[serde(default = "servicekonto")]
    pub label: String,
    /// The issuer (`https://id.land.example`); its discovery document is read from
    /// `<issuer>/.well-known/openid-configuration` and must name the same issuer.
    pub issuer: String,
    /// The portal's client id at the provider.
    pub client_id: String,
    /// A file holding the client secret (one line; never in the configuration itself).
    pub client_secret_file: PathBuf,
    /// The scopes asked for; `openid` is always added.
    #[serde(default = "oidc_scopes")]
    pub scopes: Vec<String>,
    /// Which claim is the citizen's stable id (default `sub`).
    #[serde(default = "sub")]
    pub subject_claim: String,
    /// Identity attributes by our name (`family_name`) = the claim (`family_name`, or a path
    /// into a structured claim like `address.postal_code`). Read from the ID token and the
    /// UserInfo answer.
    #[serde(default = "oidc_claims")]
    pub claims: BTreeMap<String, String>,
    /// The `acr` values the provider asserts, each with its trust level (`basis`,
    /// `substanziell`, `hoch`). An `acr` not listed counts as no level at all.
    #[serde(default = "eidas_acr")]
    pub acr: BTreeMap<String, String>,
}

/// `[login.saml]`: the SAML 2.0 identity provider and the portal as its service provider.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamlConfig {
    /// The provider's name citizens read ("BundID").
    #[serde(default = "bundid")]
    pub label: String,
    /// The identity provider's metadata (an `EntityDescriptor`), a file.
    pub idp_metadata: PathBuf,
    /// The certificate (PEM) the provider signs with, pinned: only signatures by its key count,
    /// whatever the metadata lists, and it must be listed there.
    pub idp_certificate: PathBuf,
    /// The portal's entity id; default `<public_url>/konto/saml/metadata`.
    pub entity_id: Option<String>,
    /// The portal's private key (PEM, RSA) and certificate: signs requests, decrypts
    /// assertions.
    pub sp_key: PathBuf,
    pub sp_certificate: PathBuf,
    /// During a key change: the next key and certificate, published in the metadata at once
    /// and used to decrypt, so that the provider may switch at any moment.
    pub sp_next_key: Option<PathBuf>,
    pub sp_next_certificate: Option<PathBuf>,
    /// The attributes asked for (akdb `RequestedAttribute`), by our name → the provider's name
    /// (an OID URN). Default: BundID's names, birth date, address, e-mail and pseudonym.
    #[serde(default = "bundid_attributes")]
    pub attributes: BTreeMap<String, String>,
    /// Which attribute holds the stable pseudonym of the citizen; the `NameID` when unset.
    #[serde(default = "pseudonym")]
    pub subject_attribute: Option<String>,
}

fn yes() -> bool {
    true
}

fn sixty() -> u32 {
    60
}

fn bundid() -> String {
    "BundID".into()
}

fn servicekonto() -> String {
    "Servicekonto".into()
}

fn sub() -> String {
    "sub".into()
}

fn oidc_scopes() -> Vec<String> {
    ["openid", "profile", "email", "address"]
        .map(String::from)
        .to_vec()
}

/// The standard claims of OpenID Connect Core (section 5.1) for the prefill's attributes.
pub fn oidc_claims() -> BTreeMap<String, String> {
    [
        ("given_name", "given_name"),
        ("family_name", "family_name"),
        ("birth_date", "birthdate"),
        ("street", "address.street_address"),
        ("postal_code", "address.postal_code"),
        ("city", "address.locality"),
        ("email", "email"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The eIDAS levels of assurance as `acr` values.
pub fn eidas_acr() -> BTreeMap<String, String> {
    [
        ("http://eidas.europa.eu/LoA/low", "basis"),
        ("http://eidas.europa.eu/LoA/substantial", "substanziell"),
        ("http://eidas.europa.eu/LoA/high", "hoch"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn pseudonym() -> Option<String> {
    Some("pseudonym".into())
}

/// BundID's attribute names (OIDs of the public integration guide).
pub fn bundid_attributes() -> BTreeMap<String, String> {
    [
        ("pseudonym", "urn:oid:1.3.6.1.4.1.25484.494450.3"),
        ("given_name", "urn:oid:2.5.4.42"),
        ("family_name", "urn:oid:2.5.4.4"),
        ("birth_date", "urn:oid:1.2.40.0.10.2.1.1.55"),
        ("street", "urn:oid:2.5.4.16"),
        ("postal_code", "urn:oid:2.5.4.17"),
        ("city", "urn:oid:2.5.4.7"),
        ("email", "urn:oid:0.9.2342.19200300.100.1.3"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

impl LoginConfig {
    pub fn validate(&self, listen_is_loopback: bool) -> anyhow::Result<()> {
        let url = self.public_url.trim_end_matches('/');
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.contains('?') {
            bail!(
                "login.public_url must be the portal's address like https://service.example, not {:?}",
                self.public_url
            );
        }
        if !self.cookie_secure && !listen_is_loopback {
            bail!("login.cookie_secure = false is only allowed when listen is a loopback address");
        }
        if !(5..=480).contains(&self.session_minutes) {
            bail!("login.session_minutes must be between 5 and 480");
        }
        match (&self.saml, &self.oidc) {
            (Some(_), Some(_)) => bail!(
                "login: either [login.saml] or [login.oidc], not both (one provider per installation)"
            ),
            (None, None) => bail!("login: [login.saml] or [login.oidc] is missing"),
            _ => {}
        }
        if let Some(o) = &self.oidc {
            if !(o.issuer.starts_with("https://") || o.issuer.starts_with("http://")) {
                bail!(
                    "login.oidc.issuer must be an https:// address, not {:?}",
                    o.issuer
                );
            }
            if o.issuer.starts_with("http://") && !self.public_url.starts_with("http://") {
                bail!("login.oidc.issuer: http:// only beside a plain-http portal (tests)");
            }
            if o.client_id.trim().is_empty() {
                bail!("login.oidc.client_id is empty");
            }
            for (acr, level) in &o.acr {
                if lotse_core::login::TrustLevel::from_slug(level).is_none() {
                    bail!(
                        "login.oidc.acr: {acr:?} = {level:?} is no trust level (basis, substanziell, hoch)"
                    );
                }
            }
            if o.acr.is_empty() {
                bail!("login.oidc.acr is empty: no answer could carry a trust level");
            }
        }
        if let Some(s) = &self.saml {
            if s.sp_next_key.is_some() != s.sp_next_certificate.is_some() {
                bail!("login.saml: sp_next_key and sp_next_certificate go together");
            }
            if let Some(a) = &s.subject_attribute
                && !s.attributes.contains_key(a)
            {
                bail!("login.saml.subject_attribute {a:?} is not one of login.saml.attributes");
            }
        }
        Ok(())
    }
}
