//! The portal as a SAML 2.0 service provider (docs/login.md). Every XML signature, the
//! reduction of a response to what is signed (against signature wrapping) and the decryption of
//! assertions are samael's work over the C xmlsec1 library; this module builds the request,
//! pins the provider's key, and adds the checks samael leaves to its caller: the audience must
//! be present, the trust level, the replay cache (by the caller, through the store) and the
//! binding of a response to the browser that asked.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use lotse_core::login::TrustLevel;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use samael::crypto::{CertificateDer, Crypto, CryptoProvider};
use samael::metadata::{EntityDescriptor, KeyDescriptor};
use samael::schema::{Assertion, Response};
use samael::service_provider::{Error as SamlError, ServiceProvider};

use super::LoginError;
use super::config::{LoginConfig, SamlConfig};
use crate::templates::escape as xml_escape;

/// The most a provider's clock may differ from ours (NotBefore, NotOnOrAfter, IssueInstant).
pub const MAX_SKEW_SECONDS: i64 = 120;
/// The largest `SAMLResponse` field taken (base64); BundID's encrypted answers are a few KiB.
pub const MAX_RESPONSE_BYTES: usize = 128 * 1024;

const REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const AKDB: &str = "https://www.akdb.de/request/2018/09";

/// The STORK level BundID is asked for and answers with, per trust level.
pub fn stork(level: TrustLevel) -> &'static str {
    match level {
        TrustLevel::Basic => "STORK-QAA-Level-1",
        TrustLevel::Substantial => "STORK-QAA-Level-3",
        TrustLevel::High => "STORK-QAA-Level-4",
    }
}

/// The trust level of an `AuthnContextClassRef`; `None` for one we do not know.
pub fn level_of(class_ref: &str) -> Option<TrustLevel> {
    match class_ref.trim() {
        "STORK-QAA-Level-1" | "STORK-QAA-Level-2" => Some(TrustLevel::Basic),
        "STORK-QAA-Level-3" => Some(TrustLevel::Substantial),
        "STORK-QAA-Level-4" => Some(TrustLevel::High),
        _ => None,
    }
}

/// One key pair of the portal: the key and its certificate (DER).
struct SpKey {
    key: PKey<Private>,
    cert_der: Vec<u8>,
}

/// The service provider, ready to answer: built once at start-up from `[login.saml]`.
pub struct Saml {
    pub(crate) label: String,
    entity_id: String,
    acs_url: String,
    sso_url: String,
    /// samael's provider with the identity provider's metadata reduced to the pinned key.
    sp: ServiceProvider,
    /// The current key first; during a key change the next one second.
    keys: Vec<SpKey>,
    attributes: BTreeMap<String, String>,
    subject_attribute: Option<String>,
    /// The provider's SingleLogoutService (HTTP-Redirect), when its metadata offers one, and
    /// where it takes LogoutResponses (its ResponseLocation, else the same).
    slo_url: Option<String>,
    slo_response_url: Option<String>,
    /// Where the provider answers a logout (our SingleLogoutService).
    slo_return: String,
    /// The pinned signing certificate (DER): it verifies the provider's redirect signatures.
    idp_cert_der: Vec<u8>,
}

/// What the provider needs to end its session of a citizen (kept with the session).
#[derive(serde::Serialize, serde::Deserialize)]
struct LogoutHint {
    name_id: String,
    format: Option<String>,
    session_index: Option<String>,
}

/// A posted response, decoded but not verified.
pub struct Posted {
    xml: String,
    outer: Response,
}

/// What a verified response says about the citizen.
pub struct Identity {
    /// The provider's stable pseudonym of the citizen (not stored as such).
    pub subject: String,
    pub level: TrustLevel,
    /// Attributes by our name (`family_name`), only those configured.
    pub attributes: BTreeMap<String, String>,
    /// The assertion's id and until when it could be replayed (the replay cache's entry).
    pub assertion_id: String,
    pub replayable_until: DateTime<Utc>,
    /// The provider's name for the citizen (NameID), by which it may end the session.
    pub name_id: Option<String>,
    /// NameID and SessionIndex for a later LogoutRequest (JSON), when the assertion has a
    /// NameID.
    pub logout_hint: Option<String>,
}

fn read(path: &std::path::Path, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        anyhow::anyhow!(
            "LOT-L020 login.saml.{what}: cannot read {}: {e}",
            path.display()
        )
    })
}

fn pem_cert(path: &std::path::Path, what: &str) -> anyhow::Result<Vec<u8>> {
    let cert = X509::from_pem(&read(path, what)?).map_err(|_| {
        anyhow::anyhow!(
            "LOT-L020 login.saml.{what}: {} is not a PEM certificate",
            path.display()
        )
    })?;
    Ok(cert.to_der()?)
}

fn pem_key(path: &std::path::Path, what: &str) -> anyhow::Result<PKey<Private>> {
    PKey::private_key_from_pem(&read(path, what)?).map_err(|_| {
        anyhow::anyhow!(
            "LOT-L020 login.saml.{what}: {} is not a PEM private key",
            path.display()
        )
    })
}

impl Saml {
    /// Reads keys, certificates and the provider's metadata; refuses a metadata file that does
    /// not list the pinned certificate for signing.
    pub fn from_config(login: &LoginConfig, c: &SamlConfig) -> anyhow::Result<Saml> {
        let base = login.public_url.trim_end_matches('/');
        let entity_id = c
            .entity_id
            .clone()
            .unwrap_or_else(|| format!("{base}/konto/saml/metadata"));
        let acs_url = format!("{base}/konto/saml/acs");
        let text = String::from_utf8(read(&c.idp_metadata, "idp_metadata")?)
            .map_err(|_| anyhow::anyhow!("LOT-L020 login.saml.idp_metadata is not UTF-8"))?;
        let mut idp: EntityDescriptor = text.parse().map_err(|_| {
            anyhow::anyhow!(
                "LOT-L020 login.saml.idp_metadata: {} is not SAML metadata (an EntityDescriptor)",
                c.idp_metadata.display()
            )
        })?;
        let pinned = pem_cert(&c.idp_certificate, "idp_certificate")?;
        let pinned_b64 = B64.encode(&pinned);
        let mut sso_url = None;
        let mut slo_url = None;
        let mut slo_response_url = None;
        let mut listed = false;
        let descriptors = idp.idp_sso_descriptors.as_mut().ok_or_else(|| {
            anyhow::anyhow!("LOT-L020 login.saml.idp_metadata has no IDPSSODescriptor")
        })?;
        for d in descriptors.iter_mut() {
            for k in &d.key_descriptors {
                let signing = matches!(k.key_use.as_deref(), None | Some("") | Some("signing"));
                let certs = k
                    .key_info
                    .x509_data
                    .iter()
                    .flat_map(|x| x.certificates.iter());
                for cert in certs {
                    let compact: String = cert.chars().filter(|c| !c.is_whitespace()).collect();
                    listed |= signing && compact == pinned_b64;
                }
            }
            // Only the pinned key verifies, whatever else the metadata lists.
            d.key_descriptors = vec![KeyDescriptor {
                key_use: Some("signing".into()),
                key_info: samael::key_info::KeyInfo {
                    id: None,
                    x509_data: Some(samael::key_info::X509Data {
                        certificates: vec![pinned_b64.clone()],
                    }),
                },
                encryption_methods: None,
            }];
            if slo_url.is_none()
                && let Some(s) = d
                    .single_logout_services
                    .iter()
                    .find(|s| s.binding == REDIRECT)
            {
                slo_url = Some(s.location.clone());
                slo_response_url = Some(
                    s.response_location
                        .clone()
                        .unwrap_or_else(|| s.location.clone()),
                );
            }
            if sso_url.is_none() {
                sso_url = d
                    .single_sign_on_services
                    .iter()
                    .find(|s| s.binding == REDIRECT)
                    .map(|s| s.location.clone());
            }
        }
        if !listed {
            anyhow::bail!(
                "LOT-L020 login.saml.idp_certificate is not among the signing certificates of {}",
                c.idp_metadata.display()
            );
        }
        let sso_url = sso_url.ok_or_else(|| {
            anyhow::anyhow!(
                "LOT-L020 login.saml.idp_metadata has no HTTP-Redirect SingleSignOnService"
            )
        })?;
        let mut keys = vec![SpKey {
            key: pem_key(&c.sp_key, "sp_key")?,
            cert_der: pem_cert(&c.sp_certificate, "sp_certificate")?,
        }];
        if let (Some(k), Some(cert)) = (&c.sp_next_key, &c.sp_next_certificate) {
            keys.push(SpKey {
                key: pem_key(k, "sp_next_key")?,
                cert_der: pem_cert(cert, "sp_next_certificate")?,
            });
        }
        let sp = ServiceProvider {
            entity_id: Some(entity_id.clone()),
            key: keys.first().map(|k| k.key.clone()),
            certificate: keys
                .first()
                .map(|k| CertificateDer::from(k.cert_der.clone())),
            metadata_url: Some(entity_id.clone()),
            acs_url: Some(acs_url.clone()),
            slo_url: None,
            idp_metadata: idp,
            allow_idp_initiated: false,
            max_issue_delay: chrono::Duration::seconds(MAX_SKEW_SECONDS + 60),
            max_clock_skew: chrono::Duration::seconds(MAX_SKEW_SECONDS),
            allowed_signature_algorithms: Some(vec![
                samael::crypto::AllowedSignatureAlgorithm::RsaSha256,
                samael::crypto::AllowedSignatureAlgorithm::RsaSha384,
                samael::crypto::AllowedSignatureAlgorithm::RsaSha512,
                samael::crypto::AllowedSignatureAlgorithm::EcdsaSha256,
                samael::crypto::AllowedSignatureAlgorithm::EcdsaSha384,
                samael::crypto::AllowedSignatureAlgorithm::EcdsaSha512,
            ]),
            ..ServiceProvider::default()
        };
        Ok(Saml {
            label: c.label.clone(),
            entity_id,
            acs_url,
            sso_url,
            sp,
            keys,
            attributes: c.attributes.clone(),
            subject_attribute: c.subject_attribute.clone(),
            slo_url,
            slo_response_url,
            slo_return: format!("{base}/konto/saml/slo"),
            idp_cert_der: pinned,
        })
    }

    /// The portal's metadata: both certificates during a key change, for signing and for
    /// encryption; the assertion consumer service by HTTP-POST.
    pub fn metadata(&self) -> String {
        let mut keys = String::new();
        for k in &self.keys {
            let cert = B64.encode(&k.cert_der);
            for usage in ["signing", "encryption"] {
                keys.push_str(&format!(
                    "<md:KeyDescriptor use=\"{usage}\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
                ));
            }
        }
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"{}\"><md:SPSSODescriptor AuthnRequestsSigned=\"true\" WantAssertionsSigned=\"true\" protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">{keys}<md:SingleLogoutService Binding=\"{REDIRECT}\" Location=\"{}\"/><md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat><md:AssertionConsumerService Binding=\"{POST}\" Location=\"{}\" index=\"0\" isDefault=\"true\"/></md:SPSSODescriptor></md:EntityDescriptor>\n",
            xml_escape(&self.entity_id),
            xml_escape(&self.slo_return),
            xml_escape(&self.acs_url),
        )
    }

    /// The AuthnRequest for `level`, as the address to send the browser to (HTTP-Redirect
    /// binding, signed with the current key).
    pub fn request_url(
        &self,
        request_id: &str,
        level: TrustLevel,
        now: DateTime<Utc>,
    ) -> Result<String, LoginError> {
        let mut wanted = String::new();
        for oid in self.attributes.values() {
            wanted.push_str(&format!(
                "<akdb:RequestedAttribute Name=\"{}\" RequiredAttribute=\"false\"/>",
                xml_escape(oid)
            ));
        }
        let xml = format!(
            "<saml2p:AuthnRequest xmlns:saml2p=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml2=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{at}\" Destination=\"{dest}\" AssertionConsumerServiceURL=\"{acs}\" ProtocolBinding=\"{POST}\"><saml2:Issuer>{issuer}</saml2:Issuer><saml2p:Extensions><akdb:AuthenticationRequest xmlns:akdb=\"{AKDB}\" Version=\"2\"><akdb:RequestedAttributes>{wanted}</akdb:RequestedAttributes></akdb:AuthenticationRequest></saml2p:Extensions><saml2p:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent\" AllowCreate=\"true\"/><saml2p:RequestedAuthnContext Comparison=\"minimum\"><saml2:AuthnContextClassRef>{level}</saml2:AuthnContextClassRef></saml2p:RequestedAuthnContext></saml2p:AuthnRequest>",
            id = xml_escape(request_id),
            at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            dest = xml_escape(&self.sso_url),
            acs = xml_escape(&self.acs_url),
            issuer = xml_escape(&self.entity_id),
            level = stork(level),
        );
        self.redirect(&self.sso_url, "SAMLRequest", &xml)
    }

    /// A message by the HTTP-Redirect binding: deflated, base64, signed with the current key.
    fn redirect(&self, to: &str, param: &str, xml: &str) -> Result<String, LoginError> {
        let mut deflated = Vec::new();
        {
            use std::io::Write as _;
            let mut enc =
                flate2::write::DeflateEncoder::new(&mut deflated, flate2::Compression::default());
            enc.write_all(xml.as_bytes())
                .map_err(|e| LoginError::Internal(e.to_string()))?;
            enc.finish()
                .map_err(|e| LoginError::Internal(e.to_string()))?;
        }
        let mut url: url::Url = to
            .parse()
            .map_err(|_| LoginError::Internal("the provider's address is not a URL".into()))?;
        url.query_pairs_mut()
            .append_pair(param, &B64.encode(&deflated));
        let key = self
            .keys
            .first()
            .ok_or_else(|| LoginError::Internal("no SP key".into()))?;
        samael::crypto::sign_url(url, &key.key)
            .map(|u| u.to_string())
            .map_err(|e| LoginError::Internal(format!("signing the request: {e}")))
    }

    /// The provider's origin, when it offers single logout (for Mein Konto's `form-action`).
    pub fn logout_origin(&self) -> Option<String> {
        let url: url::Url = self.slo_url.as_deref()?.parse().ok()?;
        Some(url.origin().ascii_serialization())
    }

    /// Single logout started here: a signed LogoutRequest (HTTP-Redirect) for the session
    /// whose `hint` the sign-in kept; `None` when the provider offers no single logout.
    pub fn logout_url(&self, hint: &str, now: DateTime<Utc>) -> Option<String> {
        let to = self.slo_url.as_deref()?;
        let hint: LogoutHint = serde_json::from_str(hint).ok()?;
        let id = fresh_id().ok()?;
        let format = hint
            .format
            .as_deref()
            .map(|f| format!(" Format=\"{}\"", xml_escape(f)))
            .unwrap_or_default();
        let index = hint
            .session_index
            .as_deref()
            .map(|i| {
                format!(
                    "<saml2p:SessionIndex>{}</saml2p:SessionIndex>",
                    xml_escape(i)
                )
            })
            .unwrap_or_default();
        let xml = format!(
            "<saml2p:LogoutRequest xmlns:saml2p=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml2=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{at}\" Destination=\"{dest}\"><saml2:Issuer>{issuer}</saml2:Issuer><saml2:NameID{format}>{name}</saml2:NameID>{index}</saml2p:LogoutRequest>",
            id = xml_escape(&id),
            at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            dest = xml_escape(to),
            issuer = xml_escape(&self.entity_id),
            name = xml_escape(&hint.name_id),
        );
        match self.redirect(to, "SAMLRequest", &xml) {
            Ok(u) => Some(u),
            Err(e) => {
                tracing::error!(event = "citizen_logout_request_failed", code = e.code());
                None
            }
        }
    }

    /// A LogoutRequest of the provider (HTTP-Redirect, the raw query string): signed by the
    /// pinned key, for this portal, recent. Returns its id and the NameID it names.
    pub fn logout_request(
        &self,
        raw_query: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, String), LoginError> {
        let url = self.signed_redirect(raw_query, false)?;
        let xml = inflate(&url, "SAMLRequest")?;
        let request: samael::schema::LogoutRequest = xml
            .parse()
            .map_err(|_| LoginError::Garbled("not a LogoutRequest"))?;
        if request.destination.as_deref() != Some(self.slo_return.as_str()) {
            return Err(LoginError::WrongDestination);
        }
        let skew = chrono::Duration::seconds(MAX_SKEW_SECONDS);
        match request.issue_instant {
            Some(at) if at <= now + skew && at + skew + chrono::Duration::minutes(1) >= now => {}
            _ => return Err(LoginError::Expired),
        }
        let id = request.id.ok_or(LoginError::Garbled("no ID"))?;
        let name = request
            .name_id
            .map(|n| n.value.trim().to_string())
            .filter(|n| !n.is_empty())
            .ok_or(LoginError::NoSubject)?;
        Ok((id, name))
    }

    /// The answer to the provider's LogoutRequest `in_response_to`: a signed LogoutResponse
    /// (HTTP-Redirect) with success.
    pub fn logout_response_url(
        &self,
        in_response_to: &str,
        now: DateTime<Utc>,
    ) -> Result<String, LoginError> {
        let to = self
            .slo_response_url
            .as_deref()
            .ok_or(LoginError::NotConfigured)?;
        let xml = format!(
            "<saml2p:LogoutResponse xmlns:saml2p=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml2=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" InResponseTo=\"{irt}\" Version=\"2.0\" IssueInstant=\"{at}\" Destination=\"{dest}\"><saml2:Issuer>{issuer}</saml2:Issuer><saml2p:Status><saml2p:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></saml2p:Status></saml2p:LogoutResponse>",
            id = xml_escape(&fresh_id()?),
            irt = xml_escape(in_response_to),
            at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            dest = xml_escape(to),
            issuer = xml_escape(&self.entity_id),
        );
        self.redirect(to, "SAMLResponse", &xml)
    }

    /// The query of an HTTP-Redirect message, its signature checked with the pinned key
    /// (SHA-256 or stronger).
    fn signed_redirect(&self, raw_query: &str, response: bool) -> Result<url::Url, LoginError> {
        if raw_query.len() > MAX_RESPONSE_BYTES {
            return Err(LoginError::Garbled("too large"));
        }
        let url: url::Url = format!("http://lotse.invalid/?{raw_query}")
            .parse()
            .map_err(|_| LoginError::Garbled("not a query"))?;
        let signed = samael::crypto::UrlVerifier::from_x509(&CertificateDer::from(
            self.idp_cert_der.clone(),
        ))
        .ok()
        .and_then(|v| {
            if response {
                v.verify_signed_response_url(&url).ok()
            } else {
                v.verify_signed_request_url(&url).ok()
            }
        })
        .unwrap_or(false);
        let sig_alg = url
            .query_pairs()
            .find(|(k, _)| k == "SigAlg")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        if !signed || sig_alg.contains("sha1") {
            return Err(LoginError::BadSignature);
        }
        Ok(url)
    }

    /// The provider's LogoutResponse (HTTP-Redirect, the raw query string): signed by the
    /// pinned key, and a success. The local session had ended before; this only tells the
    /// citizen whether the provider's ended too.
    pub fn logout_answer(&self, raw_query: &str) -> Result<(), LoginError> {
        let url = self.signed_redirect(raw_query, true)?;
        let xml = inflate(&url, "SAMLResponse")?;
        let answer: samael::schema::LogoutResponse = xml
            .parse()
            .map_err(|_| LoginError::Garbled("not a LogoutResponse"))?;
        match answer
            .status
            .as_ref()
            .and_then(|s| s.status_code.value.as_deref())
        {
            Some("urn:oasis:names:tc:SAML:2.0:status:Success") => Ok(()),
            _ => Err(LoginError::ProviderRefused),
        }
    }

    /// Decodes a posted `SAMLResponse` (base64) far enough to know it is one: size, base64,
    /// UTF-8, no DOCTYPE, a SAML `Response`. Nothing is trusted yet.
    pub fn decode(&self, posted: &str) -> Result<Posted, LoginError> {
        if posted.len() > MAX_RESPONSE_BYTES {
            return Err(LoginError::Garbled("too large"));
        }
        let compact: String = posted
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let bytes = B64
            .decode(compact.as_bytes())
            .map_err(|_| LoginError::Garbled("not base64"))?;
        let xml = String::from_utf8(bytes).map_err(|_| LoginError::Garbled("not UTF-8"))?;
        // A DOCTYPE has no place in SAML (entity expansion).
        if xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY") {
            return Err(LoginError::Garbled("DOCTYPE"));
        }
        let outer: Response = xml
            .parse()
            .map_err(|_| LoginError::Garbled("not a SAML response"))?;
        Ok(Posted { xml, outer })
    }

    /// Verifies a decoded response against the request `request_id` this browser started and
    /// asked `wanted` for. Blocking (xmlsec).
    pub fn verify(
        &self,
        posted: Posted,
        request_id: &str,
        wanted: TrustLevel,
        now: DateTime<Utc>,
    ) -> Result<Identity, LoginError> {
        let Posted { xml, outer } = posted;
        if let Some(code) = outer
            .status
            .as_ref()
            .and_then(|s| s.status_code.value.as_deref())
            && code != "urn:oasis:names:tc:SAML:2.0:status:Success"
        {
            return Err(LoginError::ProviderRefused);
        }
        if outer.in_response_to.as_deref() != Some(request_id) {
            // Unsolicited, or the answer to another browser's request.
            return Err(LoginError::NotOurRequest);
        }
        // samael slices the cipher text without looking at its length: too short is refused
        // here, before it gets there.
        if let Some(enc) = &outer.encrypted_assertion
            && !cipher_long_enough(enc)
        {
            return Err(LoginError::Undecryptable);
        }
        let ids = [request_id];
        let assertion = match self.sp.parse_xml_response(&xml, Some(&ids)) {
            Ok(a) => a,
            // An unsigned response around an encrypted assertion: the signature is inside.
            Err(SamlError::FailedToValidateSignature)
                if outer.signature.is_none() && outer.encrypted_assertion.is_some() =>
            {
                if outer.destination.as_deref() != Some(self.acs_url.as_str()) {
                    return Err(LoginError::WrongDestination);
                }
                let inner = self.decrypt(&outer)?;
                self.sp
                    .parse_xml_response(&inner, Some(&ids))
                    .map_err(refusal)?
            }
            Err(e) => return Err(refusal(e)),
        };
        self.identity(&assertion, wanted, now)
    }

    /// The assertion inside an `EncryptedAssertion`, as XML, by whichever of our keys opens it.
    fn decrypt(&self, outer: &Response) -> Result<String, LoginError> {
        let enc = outer
            .encrypted_assertion
            .as_ref()
            .ok_or(LoginError::Undecryptable)?;
        let (ekey, kmethod) = enc.encrypted_key_info().ok_or(LoginError::Undecryptable)?;
        let (evalue, vmethod) = enc
            .encrypted_value_info()
            .ok_or(LoginError::Undecryptable)?;
        for k in &self.keys {
            let Ok(session_key) = Crypto::decrypt_assertion_key_info(ekey, kmethod, &k.key) else {
                continue;
            };
            let Ok(plain) = Crypto::decrypt_assertion_value_info(evalue, vmethod, &session_key)
            else {
                continue;
            };
            let text = String::from_utf8_lossy(&plain);
            if let (Some(a), Some(b)) = (text.find('<'), text.rfind('>'))
                && a < b
            {
                return Ok(text[a..=b].to_string());
            }
        }
        Err(LoginError::Undecryptable)
    }

    /// The checks samael leaves to us, then what the assertion says.
    fn identity(
        &self,
        a: &Assertion,
        wanted: TrustLevel,
        now: DateTime<Utc>,
    ) -> Result<Identity, LoginError> {
        let skew = chrono::Duration::seconds(MAX_SKEW_SECONDS);
        // The audience must be named (samael accepts an assertion without a restriction).
        let audiences: Vec<&String> = a
            .conditions
            .iter()
            .flat_map(|c| c.audience_restrictions.iter().flatten())
            .flat_map(|r| r.audience.iter())
            .collect();
        if !audiences.iter().any(|x| **x == self.entity_id) {
            return Err(LoginError::WrongAudience);
        }
        if a.issue_instant > now + skew {
            return Err(LoginError::Expired);
        }
        let until = a
            .conditions
            .as_ref()
            .and_then(|c| c.not_on_or_after)
            .ok_or(LoginError::Expired)?;
        if until + skew <= now {
            return Err(LoginError::Expired);
        }
        let level = a
            .authn_statements
            .iter()
            .flatten()
            .filter_map(|s| s.authn_context.as_ref())
            .filter_map(|c| c.value.as_ref())
            .filter_map(|r| r.value.as_deref())
            .filter_map(level_of)
            .max()
            .ok_or(LoginError::TooLow(None))?;
        if level < wanted {
            return Err(LoginError::TooLow(None));
        }
        let mut attributes = BTreeMap::new();
        for statement in a.attribute_statements.iter().flatten() {
            for attr in &statement.attributes {
                let Some(name) = attr.name.as_deref() else {
                    continue;
                };
                let Some((ours, _)) = self.attributes.iter().find(|(_, oid)| *oid == name) else {
                    continue;
                };
                if let Some(v) = attr.values.iter().find_map(|v| v.value.as_deref()) {
                    let v = v.trim();
                    if !v.is_empty() && v.len() <= 512 {
                        attributes.insert(ours.clone(), v.to_string());
                    }
                }
            }
        }
        let subject = match &self.subject_attribute {
            Some(name) => attributes.remove(name),
            None => None,
        }
        .or_else(|| {
            a.subject
                .as_ref()
                .and_then(|s| s.name_id.as_ref())
                .map(|n| n.value.trim().to_string())
        })
        .filter(|s| !s.is_empty())
        .ok_or(LoginError::NoSubject)?;
        let logout_hint = a
            .subject
            .as_ref()
            .and_then(|s| s.name_id.as_ref())
            .and_then(|n| {
                let session_index = a
                    .authn_statements
                    .iter()
                    .flatten()
                    .find_map(|s| s.session_index.clone());
                serde_json::to_string(&LogoutHint {
                    name_id: n.value.trim().to_string(),
                    format: n.format.clone(),
                    session_index,
                })
                .ok()
            });
        let name_id = a
            .subject
            .as_ref()
            .and_then(|s| s.name_id.as_ref())
            .map(|n| n.value.trim().to_string());
        Ok(Identity {
            name_id,
            logout_hint,
            subject,
            level,
            attributes,
            assertion_id: a.id.clone(),
            replayable_until: until + skew,
        })
    }
}

/// The deflated, base64 message `param` of an HTTP-Redirect query, as XML text (no DOCTYPE).
fn inflate(url: &url::Url, param: &str) -> Result<String, LoginError> {
    let posted = url
        .query_pairs()
        .find(|(k, _)| k == param)
        .map(|(_, v)| v.into_owned())
        .ok_or(LoginError::Garbled("no message"))?;
    let deflated = B64
        .decode(posted.as_bytes())
        .map_err(|_| LoginError::Garbled("not base64"))?;
    let mut xml = String::new();
    {
        use std::io::Read as _;
        flate2::read::DeflateDecoder::new(&deflated[..])
            .take(MAX_RESPONSE_BYTES as u64)
            .read_to_string(&mut xml)
            .map_err(|_| LoginError::Garbled("not deflated UTF-8"))?;
    }
    if xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY") {
        return Err(LoginError::Garbled("DOCTYPE"));
    }
    Ok(xml)
}

/// Whether the encrypted value holds at least an IV (or nonce) and a tag or block.
fn cipher_long_enough(enc: &samael::schema::EncryptedAssertion) -> bool {
    enc.encrypted_value_info().is_some_and(|(v, _)| {
        let compact: String = v
            .value
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        B64.decode(compact.as_bytes())
            .is_ok_and(|bytes| bytes.len() >= 32)
    })
}

/// samael's refusal as ours (nothing of the response in it).
fn refusal(e: SamlError) -> LoginError {
    use SamlError as E;
    match e {
        E::FailedToValidateSignature | E::CryptoXmlError(_) => LoginError::BadSignature,
        E::AssertionConditionAudienceRestrictionFailed { .. } => LoginError::WrongAudience,
        E::DestinationValidationError { .. } | E::AssertionRecipientMismatch { .. } => {
            LoginError::WrongDestination
        }
        E::AssertionInResponseToInvalid { .. } | E::ResponseInResponseToInvalid { .. } => {
            LoginError::NotOurRequest
        }
        E::AssertionExpired { .. }
        | E::AssertionSubjectConfirmationExpired { .. }
        | E::AssertionSubjectConfirmationExpiredBefore { .. }
        | E::AssertionConditionExpired { .. }
        | E::AssertionConditionExpiredBefore { .. }
        | E::ResponseExpired { .. } => LoginError::Expired,
        E::AssertionIssuerMismatch { .. } | E::ResponseIssuerMismatch { .. } => {
            LoginError::BadSignature
        }
        E::ResponseBadStatusCode { .. } => LoginError::ProviderRefused,
        E::MissingEncryptedKeyInfo
        | E::MissingEncryptedValueInfo
        | E::EncryptedAssertionKeyMethodUnsupported { .. }
        | E::EncryptedAssertionValueMethodUnsupported { .. }
        | E::EncryptedAssertionInvalid
        | E::FailedToDecryptAssertion
        | E::MissingPrivateKeySP => LoginError::Undecryptable,
        E::AssertionBearerSubjectConfirmationMissing | E::AssertionSubjectConfirmationMissing => {
            LoginError::WrongDestination
        }
        _ => LoginError::Garbled("unusable response"),
    }
}

/// A fresh id for a request or a cookie: 32 random bytes as hex (`_` first: an XML id).
pub fn fresh_id() -> Result<String, LoginError> {
    lotse_store::new_secret(&mut lotse_store::OsEntropy, "_")
        .map_err(|e| LoginError::Internal(e.to_string()))
}
