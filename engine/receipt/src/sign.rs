//! Signing identities (ECDSA P-256 key + X.509 chain) and detached CMS signatures in the
//! CAdES form PDF readers expect (`ETSI.CAdES.detached`, ESS signing-certificate-v2).

use std::str::FromStr;
use std::time::Duration;

use cms::builder::{SignedDataBuilder, SignerInfoBuilder};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier};
use p256::ecdsa::{DerSignature, SigningKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::asn1::{SetOfVec, UtcTime};
use x509_cert::der::oid::db::{rfc5911, rfc5912};
use x509_cert::der::{Any, Decode, Encode, EncodePem};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, EncodePublicKey, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};

use super::error::ReceiptError;

/// Marks development certificates in their subject, so no one mistakes them for real ones.
pub const DEVELOPMENT_MARK: &str = "Entwicklungszertifikat – nicht für den Produktivbetrieb";

/// A private key with its certificate chain (signer first).
#[derive(Clone)]
pub struct SigningIdentity {
    key: SigningKey,
    chain: Vec<Certificate>,
    /// Bytes a receipt reserves for the signature: see [`Self::signature_space`].
    space: usize,
}

/// Room above a measured signature: an ECDSA signature in DER varies by a few bytes (72 at
/// most, usually 70–71), and so may the lengths around it.
const SIGNATURE_MARGIN: usize = 32;

impl std::fmt::Debug for SigningIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningIdentity")
            .field("subject", &self.subject())
            .field("key", &"<redacted>")
            .finish()
    }
}

/// A signing identity as PEM text, to store and load again.
#[derive(Clone)]
pub struct IdentityPem {
    /// PKCS#8 `PRIVATE KEY`: secret, store it like a password.
    pub key_pem: String,
    /// The certificate chain, signer first.
    pub certificate_pem: String,
}

impl std::fmt::Debug for IdentityPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityPem")
            .field("key_pem", &"<redacted>")
            .field("certificate_pem", &self.certificate_pem)
            .finish()
    }
}

fn identity_error(e: impl std::fmt::Display) -> ReceiptError {
    ReceiptError::Identity(e.to_string())
}

/// Escapes a value for an RFC 4514 distinguished name string.
fn dn_value(value: &str) -> String {
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (i == 0 && (c == '#' || c == ' '));
        if special {
            out.push('\\');
        }
        if !c.is_control() {
            out.push(c);
        }
    }
    out.trim_end().to_string()
}

impl SigningIdentity {
    /// A fresh self-signed identity for development and tests, valid from one day before
    /// `now` for two years. Its subject says "nicht für den Produktivbetrieb".
    pub fn generate_development(
        tenant_name: &str,
        now: time::OffsetDateTime,
    ) -> Result<Self, ReceiptError> {
        let key = SigningKey::random(&mut rand_core::OsRng);
        let mut serial = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut serial);
        serial[0] = (serial[0] & 0x7f) | 0x01;
        let serial = SerialNumber::new(&serial).map_err(identity_error)?;
        let subject = Name::from_str(&format!(
            "CN={},OU={},O={}",
            dn_value(&format!("{tenant_name} – Eingangsbestätigungen")),
            dn_value(DEVELOPMENT_MARK),
            dn_value(tenant_name)
        ))
        .map_err(identity_error)?;
        let start = u64::try_from(now.unix_timestamp() - 86_400).map_err(identity_error)?;
        let validity = Validity {
            not_before: Time::UtcTime(
                UtcTime::from_unix_duration(Duration::from_secs(start)).map_err(identity_error)?,
            ),
            not_after: Time::UtcTime(
                UtcTime::from_unix_duration(Duration::from_secs(start + 2 * 365 * 86_400))
                    .map_err(identity_error)?,
            ),
        };
        let spki =
            SubjectPublicKeyInfoOwned::from_key(*key.verifying_key()).map_err(identity_error)?;
        let profile = Profile::Leaf {
            issuer: subject.clone(),
            enable_key_agreement: false,
            enable_key_encipherment: false,
        };
        let builder = CertificateBuilder::new(profile, serial, validity, subject, spki, &key)
            .map_err(identity_error)?;
        let cert = builder.build::<DerSignature>().map_err(identity_error)?;
        Self::new(key, vec![cert])
    }

    /// The identity, with its signature size measured once (one signature of a zero digest).
    fn new(key: SigningKey, chain: Vec<Certificate>) -> Result<Self, ReceiptError> {
        let mut identity = SigningIdentity {
            key,
            chain,
            space: 0,
        };
        identity.space = identity.sign_digest(&[0; 32])?.len() + SIGNATURE_MARGIN;
        Ok(identity)
    }

    /// Bytes to reserve in a receipt for the DER signature (the file holds twice as many hex
    /// digits): the size of this identity's signatures, whose certificates it carries, plus
    /// a small margin. About 1.1 KB for a development identity; more for a long PKI chain.
    pub fn signature_space(&self) -> usize {
        self.space
    }

    /// Loads a PKCS#8 (`PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`) P-256 key and a PEM chain
    /// whose first certificate belongs to that key. For PKCS#12 see [`Self::from_pkcs12`].
    pub fn from_pem(key_pem: &str, cert_pem: &str) -> Result<Self, ReceiptError> {
        let secret = p256::SecretKey::from_pkcs8_pem(key_pem)
            .or_else(|_| p256::SecretKey::from_sec1_pem(key_pem))
            .map_err(|_| {
                ReceiptError::Identity("the key is not a P-256 private key in PEM".into())
            })?;
        let key = SigningKey::from(secret);
        let chain = Certificate::load_pem_chain(cert_pem.as_bytes()).map_err(identity_error)?;
        if chain.is_empty() {
            return Err(ReceiptError::Identity("no certificate in the PEM".into()));
        }
        if position_of_key_certificate(&key, &chain)? != Some(0) {
            return Err(ReceiptError::Identity(
                "the first certificate does not belong to the private key".into(),
            ));
        }
        Self::new(key, chain)
    }

    /// Loads a PKCS#12 file (`.p12`/`.pfx`, DER) as `openssl pkcs12 -export` writes it:
    /// one ECDSA P-256 private key, its certificate and optionally the rest of the chain,
    /// protected with PBES2 (PBKDF2, AES-CBC; OpenSSL 3's default) or not encrypted, with
    /// an HMAC (SHA-1/-256/-384/-512) or none. The signer certificate is the one whose
    /// public key matches the key; the others follow in file order.
    ///
    /// Refused with LOT-R009 and a German message: a wrong password or a damaged file
    /// ("PKCS#12: falsches Passwort oder beschädigte Datei"), RSA or other non-P-256 keys,
    /// the legacy RC2/3DES encryption of `openssl pkcs12 -legacy`, public-key protected
    /// files, no or several keys, no certificate for the key.
    pub fn from_pkcs12(der: &[u8], password: &str) -> Result<Self, ReceiptError> {
        let contents = super::pkcs12::read(der, password)?;
        let key = contents.key;
        let mut certificates = contents.certificates;
        let signer = position_of_key_certificate(&key, &certificates)?.ok_or_else(|| {
            ReceiptError::Identity(
                "PKCS#12: die Datei enthält kein Zertifikat zum privaten Schlüssel".into(),
            )
        })?;
        let first = certificates.remove(signer);
        let mut chain = Vec::with_capacity(certificates.len() + 1);
        chain.push(first);
        chain.extend(certificates);
        Self::new(key, chain)
    }

    /// The key (PKCS#8) and chain as PEM.
    pub fn to_pem(&self) -> Result<IdentityPem, ReceiptError> {
        let key_pem = self
            .key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(identity_error)?
            .to_string();
        let mut certificate_pem = String::new();
        for cert in &self.chain {
            certificate_pem.push_str(&cert.to_pem(LineEnding::LF).map_err(identity_error)?);
        }
        Ok(IdentityPem {
            key_pem,
            certificate_pem,
        })
    }

    /// The signer's subject, e.g. `CN=Stadt Heidestadt – Eingangsbestätigungen,…`.
    pub fn subject(&self) -> String {
        self.chain
            .first()
            .map(|c| c.tbs_certificate.subject.to_string())
            .unwrap_or_default()
    }

    /// SHA-256 of the signer certificate (DER) in lower-case hex, to pin it in
    /// configuration and compare with [`super::Verification::certificate_sha256`].
    pub fn certificate_sha256(&self) -> Option<String> {
        let der = self.chain.first()?.to_der().ok()?;
        Some(hex(&Sha256::digest(der)))
    }

    /// The signer certificate.
    pub fn certificate(&self) -> Option<&Certificate> {
        self.chain.first()
    }

    /// A detached CMS SignedData (DER) over content whose SHA-256 is `digest`.
    pub fn sign_digest(&self, digest: &[u8; 32]) -> Result<Vec<u8>, ReceiptError> {
        let sign_error = |e: &dyn std::fmt::Display| ReceiptError::Signing(e.to_string());
        let cert = self
            .chain
            .first()
            .ok_or_else(|| ReceiptError::Signing("no certificate".into()))?;
        let content = EncapsulatedContentInfo {
            econtent_type: rfc5911::ID_DATA,
            econtent: None,
        };
        let sha256 = AlgorithmIdentifierOwned {
            oid: rfc5912::ID_SHA_256,
            parameters: None,
        };
        let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: cert.tbs_certificate.issuer.clone(),
            serial_number: cert.tbs_certificate.serial_number.clone(),
        });
        let mut signer_info =
            SignerInfoBuilder::new(&self.key, sid, sha256.clone(), &content, Some(digest))
                .map_err(|e| sign_error(&e))?;
        signer_info
            .add_signed_attribute(signing_certificate_v2(cert)?)
            .map_err(|e| sign_error(&e))?;
        let mut signed = SignedDataBuilder::new(&content);
        signed
            .add_digest_algorithm(sha256)
            .map_err(|e| sign_error(&e))?;
        for c in &self.chain {
            signed
                .add_certificate(CertificateChoices::Certificate(c.clone()))
                .map_err(|e| sign_error(&e))?;
        }
        signed
            .add_signer_info::<SigningKey, DerSignature>(signer_info)
            .map_err(|e| sign_error(&e))?;
        let info = signed.build().map_err(|e| sign_error(&e))?;
        info.to_der().map_err(|e| sign_error(&e))
    }
}

/// Index of the first certificate in `chain` whose public key is `key`'s.
fn position_of_key_certificate(
    key: &SigningKey,
    chain: &[Certificate],
) -> Result<Option<usize>, ReceiptError> {
    let key_spki = key
        .verifying_key()
        .to_public_key_der()
        .map_err(identity_error)?;
    for (i, cert) in chain.iter().enumerate() {
        let cert_spki = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(identity_error)?;
        if key_spki.as_bytes() == cert_spki.as_slice() {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The ESS signing-certificate-v2 attribute (RFC 5035) naming the signer certificate by
/// its SHA-256, the default hash, so `hashAlgorithm` is omitted:
/// `SEQUENCE { certs SEQUENCE OF SEQUENCE { certHash OCTET STRING } }`.
fn signing_certificate_v2(cert: &Certificate) -> Result<Attribute, ReceiptError> {
    let err = |e: x509_cert::der::Error| ReceiptError::Signing(e.to_string());
    let hash = Sha256::digest(cert.to_der().map_err(err)?);
    // All lengths are below 128, so each is one byte.
    let mut der = vec![0x30, 0x26, 0x30, 0x24, 0x30, 0x22, 0x04, 0x20];
    der.extend_from_slice(hash.as_slice());
    let any = Any::from_der(&der).map_err(err)?;
    let mut values = SetOfVec::new();
    values.insert(any).map_err(err)?;
    Ok(Attribute {
        oid: rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2,
        values,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn development_identity_round_trips_through_pem() {
        let id = SigningIdentity::generate_development(
            "Stadt Heidestadt, Bürgerbüro",
            datetime!(2026-11-28 10:00 UTC),
        )
        .unwrap();
        assert!(
            id.subject().contains("nicht für den Produktivbetrieb"),
            "{}",
            id.subject()
        );
        let pem = id.to_pem().unwrap();
        assert!(pem.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let again = SigningIdentity::from_pem(&pem.key_pem, &pem.certificate_pem).unwrap();
        assert_eq!(again.subject(), id.subject());
    }

    #[test]
    fn key_and_certificate_must_match() {
        let now = datetime!(2026-11-28 10:00 UTC);
        let a = SigningIdentity::generate_development("A", now)
            .unwrap()
            .to_pem()
            .unwrap();
        let b = SigningIdentity::generate_development("B", now)
            .unwrap()
            .to_pem()
            .unwrap();
        let err = SigningIdentity::from_pem(&a.key_pem, &b.certificate_pem).unwrap_err();
        assert_eq!(err.code(), "LOT-R009");
    }
}
