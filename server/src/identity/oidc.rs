//! The portal as an OpenID Connect client (docs/login.md): authorization code flow with PKCE,
//! `state` and `nonce` bound to the browser's pending sign-in. Discovery, the code exchange and
//! every check of the ID token (signature by a key of the provider's JWKS, `iss`, `aud`, `exp`,
//! `iat`, `nonce`) are the `openidconnect` crate's work; this module maps `acr` to a trust level
//! and claims to identity attributes, and builds the RP-initiated logout address. Its HTTP
//! requests go through the portal's blocking client ([`crate::payment::client`]): everything
//! here runs on the blocking pool.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use chrono::{DateTime, Utc};
use lotse_core::login::TrustLevel;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreJwsSigningAlgorithm,
    CoreProviderMetadata,
};
use openidconnect::{
    AuthenticationContextClass, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, EmptyAdditionalClaims, EndSessionUrl, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IssuerUrl, LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, Scope, TokenResponse,
};

use super::LoginError;
use super::config::{LoginConfig, OidcConfig};

/// How long the provider's discovery document and keys are used before they are read again.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);
/// The most a provider's clock may differ from ours (`iat`, `exp`).
const MAX_SKEW_SECONDS: i64 = 120;
/// Every request to the provider is answered within this or counts as unreachable.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The client as the discovery document makes it: an authorization endpoint, a token and a
/// userinfo endpoint if the document names them, none of the other endpoints.
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The provider's HTTP failure (a short text, nothing of the answer).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

/// One request through the portal's HTTP client (rustls, the system's trust store).
fn http(req: openidconnect::HttpRequest) -> Result<openidconnect::HttpResponse, HttpError> {
    let method = req.method().as_str().to_string();
    let url = req.uri().to_string();
    let headers: Vec<(&str, String)> = req
        .headers()
        .iter()
        .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v.to_string())))
        .collect();
    let answer = crate::payment::client::request(&method, &url, &headers, req.body(), TIMEOUT)
        .map_err(HttpError)?;
    let mut res = openidconnect::http::Response::builder().status(answer.status);
    for (name, value) in &answer.headers {
        res = res.header(name.as_str(), value.as_str());
    }
    res.body(answer.body)
        .map_err(|_| HttpError("the provider's answer is not HTTP".into()))
}

/// What the portal remembers of the provider between requests.
struct Discovered {
    metadata: Arc<ProviderMetadataWithLogout>,
    at: Instant,
}

/// The OpenID provider and the portal as its client, built once at start-up from
/// `[login.oidc]`; the provider itself is asked on the first sign-in (and hourly after).
pub struct Oidc {
    pub(crate) label: String,
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: ClientSecret,
    redirect_url: RedirectUrl,
    post_logout_url: PostLogoutRedirectUrl,
    scopes: Vec<String>,
    subject_claim: String,
    claims: BTreeMap<String, String>,
    acr: BTreeMap<String, TrustLevel>,
    discovered: Mutex<Option<Discovered>>,
}

/// What the browser is sent with, and what the pending sign-in keeps.
pub struct Started {
    pub url: String,
    /// `state`: the pending sign-in's request id.
    pub state: String,
    /// `nonce` and PKCE verifier, space-separated: the pending sign-in's secret.
    pub secret: String,
}

/// What a verified ID token (and the UserInfo answer) says about the citizen.
pub struct OidcIdentity {
    pub subject: String,
    pub level: TrustLevel,
    pub attributes: BTreeMap<String, String>,
    /// The raw ID token, for `id_token_hint` at sign-out.
    pub id_token: String,
}

impl Oidc {
    pub fn from_config(login: &LoginConfig, c: &OidcConfig) -> anyhow::Result<Oidc> {
        let base = login.public_url.trim_end_matches('/');
        let secret = std::fs::read_to_string(&c.client_secret_file).map_err(|e| {
            anyhow::anyhow!(
                "LOT-L020 login.oidc.client_secret_file: cannot read {}: {e}",
                c.client_secret_file.display()
            )
        })?;
        let secret = secret.trim();
        if secret.is_empty() {
            anyhow::bail!("LOT-L020 login.oidc.client_secret_file is empty");
        }
        let mut acr = BTreeMap::new();
        for (value, level) in &c.acr {
            let level = TrustLevel::from_slug(level)
                .ok_or_else(|| anyhow::anyhow!("LOT-L020 login.oidc.acr: {level:?}"))?;
            acr.insert(value.clone(), level);
        }
        let mut scopes: Vec<String> = c.scopes.clone();
        if !scopes.iter().any(|s| s == "openid") {
            scopes.insert(0, "openid".into());
        }
        Ok(Oidc {
            label: c.label.clone(),
            issuer: IssuerUrl::new(c.issuer.clone())
                .map_err(|_| anyhow::anyhow!("LOT-L020 login.oidc.issuer is not a URL"))?,
            client_id: ClientId::new(c.client_id.clone()),
            client_secret: ClientSecret::new(secret.to_string()),
            redirect_url: RedirectUrl::new(format!("{base}/konto/oidc/rueckkehr"))?,
            post_logout_url: PostLogoutRedirectUrl::new(format!("{base}/konto"))?,
            scopes: scopes.into_iter().filter(|s| s != "openid").collect(),
            subject_claim: c.subject_claim.clone(),
            claims: c.claims.clone(),
            acr,
            discovered: Mutex::new(None),
        })
    }

    /// The provider's metadata and keys: cached, read again after an hour. Blocking (HTTP).
    fn metadata(&self) -> Result<Arc<ProviderMetadataWithLogout>, LoginError> {
        if let Ok(guard) = self.discovered.lock()
            && let Some(d) = guard.as_ref()
            && d.at.elapsed() < DISCOVERY_TTL
        {
            return Ok(d.metadata.clone());
        }
        let metadata = ProviderMetadataWithLogout::discover(&self.issuer, &http).map_err(|e| {
            // The library's text names the step (request, parse, issuer mismatch); no content.
            let cause: String = e.to_string().chars().take(200).collect();
            LoginError::Unreachable(cause)
        })?;
        let metadata = Arc::new(metadata);
        if let Ok(mut guard) = self.discovered.lock() {
            *guard = Some(Discovered {
                metadata: metadata.clone(),
                at: Instant::now(),
            });
        }
        Ok(metadata)
    }

    /// The `acr` values at or above `level`, the strongest last.
    fn acr_at_least(&self, level: TrustLevel) -> Vec<String> {
        let mut values: Vec<(&String, &TrustLevel)> =
            self.acr.iter().filter(|(_, l)| **l >= level).collect();
        values.sort_by_key(|(_, l)| **l);
        values.into_iter().map(|(v, _)| v.clone()).collect()
    }

    /// The client for the provider's current discovery document, answering to the portal's
    /// callback address. Blocking (discovery).
    fn client(&self) -> Result<Client, LoginError> {
        let metadata = self.metadata()?;
        Ok(CoreClient::from_provider_metadata(
            core_metadata(&metadata),
            self.client_id.clone(),
            Some(self.client_secret.clone()),
        )
        .set_redirect_uri(self.redirect_url.clone()))
    }

    /// A new sign-in at `level`: the authorization request's address with a fresh `state`,
    /// `nonce` and PKCE challenge. Blocking (discovery).
    pub fn start(&self, level: TrustLevel) -> Result<Started, LoginError> {
        let client = self.client()?;
        let (state, nonce) = (super::saml::fresh_id()?, super::saml::fresh_id()?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                move || Nonce::new(nonce),
            )
            .set_pkce_challenge(challenge);
        for scope in &self.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        for acr in self.acr_at_least(level) {
            request = request.add_auth_context_value(AuthenticationContextClass::new(acr));
        }
        let (url, state, nonce) = request.url();
        Ok(Started {
            url: url.to_string(),
            state: state.secret().clone(),
            secret: format!("{} {}", nonce.secret(), verifier.secret()),
        })
    }

    /// The provider's answer to the sign-in whose `secret` (nonce and PKCE verifier) the
    /// pending record kept: the code exchanged, the ID token checked, `acr` at `wanted` or
    /// above, the claims read. Blocking (HTTP).
    pub fn finish(
        &self,
        code: &str,
        secret: &str,
        wanted: TrustLevel,
        now: DateTime<Utc>,
    ) -> Result<OidcIdentity, LoginError> {
        let (nonce, verifier) = secret
            .split_once(' ')
            .ok_or_else(|| LoginError::Internal("the pending sign-in has no nonce".into()))?;
        let client = self.client()?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|_| LoginError::Unreachable("the provider has no token endpoint".into()))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_string()))
            .request(&http)
            .map_err(|e| match e {
                openidconnect::RequestTokenError::ServerResponse(_) => LoginError::CodeRefused,
                other => {
                    let cause: String = other.to_string().chars().take(200).collect();
                    LoginError::Unreachable(cause)
                }
            })?;
        let id_token = tokens.id_token().ok_or(LoginError::BadIdToken)?;
        let raw = id_token.to_string();
        let verifier = our_checks(client.id_token_verifier(), now);
        let claims = id_token
            .claims(&verifier, &Nonce::new(nonce.to_string()))
            .map_err(id_token_refusal)?;
        let level = claims
            .auth_context_ref()
            .and_then(|acr| self.acr.get(acr.as_str()).copied())
            .ok_or(LoginError::TooLow(None))?;
        if level < wanted {
            return Err(LoginError::TooLow(None));
        }
        // The verified token's payload (the same bytes the library checked), for claims by
        // any name; then the UserInfo answer for the subject, where the provider has one.
        let mut all = payload(&raw).ok_or(LoginError::BadIdToken)?;
        let info = client
            .user_info(
                tokens.access_token().clone(),
                Some(claims.subject().clone()),
            )
            .ok()
            .map(|req| req.request::<EmptyAdditionalClaims, CoreGenderClaim, _>(&http));
        match info {
            Some(Ok(info)) => {
                if let (Ok(serde_json::Value::Object(more)), serde_json::Value::Object(map)) =
                    (serde_json::to_value(&info), &mut all)
                {
                    for (k, v) in more {
                        map.entry(k).or_insert(v);
                    }
                }
            }
            // The ID token's claims alone then (the library's reason names no content).
            Some(Err(e)) => {
                let cause: String = e.to_string().chars().take(200).collect();
                tracing::warn!(event = "citizen_userinfo_unavailable", cause = %cause);
            }
            None => {}
        }
        let subject = claim(&all, &self.subject_claim)
            .filter(|s| !s.is_empty())
            .ok_or(LoginError::NoSubject)?;
        let mut attributes = BTreeMap::new();
        for (ours, path) in &self.claims {
            if let Some(v) = claim(&all, path) {
                let v = v.trim();
                if !v.is_empty() && v.len() <= 512 {
                    attributes.insert(ours.clone(), v.to_string());
                }
            }
        }
        Ok(OidcIdentity {
            subject: format!("{}|{subject}", self.issuer.as_str()),
            level,
            attributes,
            id_token: raw,
        })
    }

    /// Where the browser goes to end the provider's session too (RP-initiated logout), or
    /// `None` when the provider has no `end_session_endpoint` or cannot be reached. Blocking.
    pub fn logout_url(&self, id_token: &str) -> Option<String> {
        let metadata = self.metadata().ok()?;
        let endpoint: EndSessionUrl = metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()?;
        let hint: openidconnect::core::CoreIdToken = id_token.parse().ok()?;
        Some(
            LogoutRequest::from(endpoint)
                .set_id_token_hint(&hint)
                .set_client_id(self.client_id.clone())
                .set_post_logout_redirect_uri(self.post_logout_url.clone())
                .http_get_url()
                .to_string(),
        )
    }
}

/// What Lotse asks of an ID token beyond the library's defaults (issuer, audience, signature
/// by a key of the provider's set, expiry): the signature algorithms allowed, our clock, and
/// no `iat` in the future.
fn our_checks(
    v: openidconnect::core::CoreIdTokenVerifier<'_>,
    now: DateTime<Utc>,
) -> openidconnect::core::CoreIdTokenVerifier<'_> {
    v.set_allowed_algs([
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        CoreJwsSigningAlgorithm::RsaSsaPssSha256,
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    ])
    .set_time_fn(move || now)
    .set_issue_time_verifier_fn(move |iat| {
        if iat > now + chrono::Duration::seconds(MAX_SKEW_SECONDS) {
            Err("issued in the future".into())
        } else {
            Ok(())
        }
    })
}

impl Oidc {
    /// The origins the sign-out may redirect to (the issuer's, and the end-session
    /// endpoint's when the provider was asked already), for Mein Konto's `form-action`. Never
    /// asks the provider.
    pub fn logout_origins(&self) -> String {
        let mut origins = vec![self.issuer.url().origin().ascii_serialization()];
        if let Ok(guard) = self.discovered.lock()
            && let Some(d) = guard.as_ref()
            && let Some(end) = &d.metadata.additional_metadata().end_session_endpoint
        {
            let o = end.url().origin().ascii_serialization();
            if !origins.contains(&o) {
                origins.push(o);
            }
        }
        origins.retain(|o| o != "null");
        origins.join(" ")
    }
}

/// The discovery document without the logout extension, as `CoreClient` takes it.
fn core_metadata(m: &ProviderMetadataWithLogout) -> CoreProviderMetadata {
    CoreProviderMetadata::new(
        m.issuer().clone(),
        m.authorization_endpoint().clone(),
        m.jwks_uri().clone(),
        m.response_types_supported().clone(),
        m.subject_types_supported().clone(),
        m.id_token_signing_alg_values_supported().clone(),
        openidconnect::EmptyAdditionalProviderMetadata {},
    )
    .set_token_endpoint(m.token_endpoint().cloned())
    .set_userinfo_endpoint(m.userinfo_endpoint().cloned())
    .set_jwks(m.jwks().clone())
}

/// A claim by name or by a dotted path into a structured claim (`address.locality`).
fn claim(all: &serde_json::Value, path: &str) -> Option<String> {
    let mut at = all;
    for part in path.split('.') {
        at = at.get(part)?;
    }
    match at {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The JSON payload of a compact JWS (read only after the library verified it).
fn payload(jwt: &str) -> Option<serde_json::Value> {
    let part = jwt.split('.').nth(1)?;
    let bytes = B64URL.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The library's refusal of an ID token as ours.
fn id_token_refusal(e: ClaimsVerificationError) -> LoginError {
    match e {
        ClaimsVerificationError::InvalidNonce(_) => LoginError::WrongNonce,
        ClaimsVerificationError::InvalidAudience(_) => LoginError::WrongAudience,
        ClaimsVerificationError::Expired(_) => LoginError::Expired,
        // Another issuer, a bad or missing signature, an algorithm not allowed, garbage.
        _ => LoginError::BadIdToken,
    }
}

/// Checks a compact ID token with the checks of [`Oidc::finish`], against the key set of the
/// provider (its `jwks_uri` answer): for the tests of what no provider sends on request
/// (another audience, another issuer, another nonce, expired, another key).
#[doc(hidden)]
pub fn check_id_token(
    raw: &str,
    issuer: &str,
    client_id: &str,
    jwks_json: &str,
    nonce: &str,
    now: DateTime<Utc>,
) -> Result<(), LoginError> {
    let jwks: openidconnect::core::CoreJsonWebKeySet =
        serde_json::from_str(jwks_json).map_err(|_| LoginError::BadIdToken)?;
    let issuer = IssuerUrl::new(issuer.to_string()).map_err(|_| LoginError::BadIdToken)?;
    let verifier = our_checks(
        openidconnect::core::CoreIdTokenVerifier::new_confidential_client(
            ClientId::new(client_id.to_string()),
            ClientSecret::new(String::new()),
            issuer,
            jwks,
        ),
        now,
    );
    let token: openidconnect::core::CoreIdToken =
        raw.parse().map_err(|_| LoginError::BadIdToken)?;
    token
        .claims(&verifier, &Nonce::new(nonce.to_string()))
        .map(|_| ())
        .map_err(id_token_refusal)
}
