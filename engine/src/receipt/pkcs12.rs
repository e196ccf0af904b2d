//! Reading a signing identity from a PKCS#12 file (RFC 7292) as `openssl pkcs12 -export`
//! writes it: OpenSSL 3's default PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for the key bag
//! and the certificate bag, an HMAC-SHA-256 (or SHA-1/384/512) integrity MAC, and the
//! unencrypted variants (`-keypbe NONE`, `-certpbe NONE`, `-nomac`). The legacy PKCS#12 PBE
//! schemes (`-legacy`: RC2-40 and 3DES with SHA-1) are refused with a clear message.

use cms::content_info::ContentInfo;
use cms::encrypted_data::EncryptedData;
use hmac::{Mac, SimpleHmac};
use p256::ecdsa::SigningKey;
use pkcs5::pbes2;
use pkcs8::{EncryptedPrivateKeyInfo, ObjectIdentifier, PrivateKeyInfo};
use pkcs12::cert_type::CertBag;
use pkcs12::kdf::Pkcs12KeyType;
use pkcs12::mac_data::MacData;
use pkcs12::pfx::Pfx;
use pkcs12::safe_bag::SafeBag;
use x509_cert::Certificate;
use x509_cert::der::asn1::{BmpString, OctetString};
use x509_cert::der::{Decode, Encode};
use zeroize::Zeroizing;

use super::error::ReceiptError;

/// Said for a wrong password and for a file whose MAC or padding does not check out: the two
/// cannot be told apart.
pub(crate) const WRONG_PASSWORD: &str = "PKCS#12: falsches Passwort oder beschädigte Datei";

/// Said when the bytes are not a PKCS#12 structure at all.
const NOT_PKCS12: &str = "PKCS#12: keine gültige PKCS#12-Datei (DER erwartet, nicht PEM)";

/// More iterations than this (PBKDF2 or the PKCS#12 MAC key derivation) are refused, so a
/// mangled file cannot keep the process busy for minutes. OpenSSL 3 writes 2048; generous
/// exporters use a few hundred thousand.
const MAX_ITERATIONS: u32 = 10_000_000;

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_ENCRYPTED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");
const ID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const ID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
/// `pkcs-12PbeIds` arc: pbeWithSHAAnd128BitRC4 … pbewithSHAAnd40BitRC2-CBC (`-legacy`).
const PKCS12_PBE_ARC: &str = "1.2.840.113549.1.12.1.";

/// Decrypted plaintext (private keys), wiped when dropped.
type Secret = Zeroizing<Vec<u8>>;

fn err(message: impl Into<String>) -> ReceiptError {
    ReceiptError::Identity(message.into())
}

fn not_pkcs12(_: impl std::fmt::Display) -> ReceiptError {
    err(NOT_PKCS12)
}

fn wrong_password(_: impl std::fmt::Display) -> ReceiptError {
    err(WRONG_PASSWORD)
}

/// The key and certificates found in a PKCS#12 file, in file order.
pub(crate) struct Contents {
    pub(crate) key: SigningKey,
    pub(crate) certificates: Vec<Certificate>,
}

/// Reads `der` (a PKCS#12 `PFX`) with `password`.
pub(crate) fn read(der: &[u8], password: &str) -> Result<Contents, ReceiptError> {
    let pfx = Pfx::from_der(der).map_err(not_pkcs12)?;
    if pfx.auth_safe.content_type != ID_DATA {
        return Err(err(
            "PKCS#12: mit öffentlichem Schlüssel geschützte Dateien (signedData) werden nicht \
             unterstützt, nur Passwortschutz",
        ));
    }
    let auth_safe = pfx
        .auth_safe
        .content
        .decode_as::<OctetString>()
        .map_err(not_pkcs12)?;
    let auth_safe = auth_safe.as_bytes();
    if let Some(mac) = &pfx.mac_data {
        verify_mac(mac, auth_safe, password)?;
    }
    let infos = Vec::<ContentInfo>::from_der(auth_safe).map_err(not_pkcs12)?;

    let mut keys = Vec::new();
    let mut certificates = Vec::new();
    for info in &infos {
        let safe_contents = if info.content_type == ID_DATA {
            let data = info
                .content
                .decode_as::<OctetString>()
                .map_err(not_pkcs12)?;
            Zeroizing::new(data.into_bytes())
        } else if info.content_type == ID_ENCRYPTED_DATA {
            let data = info
                .content
                .decode_as::<EncryptedData>()
                .map_err(not_pkcs12)?;
            let alg = data
                .enc_content_info
                .content_enc_alg
                .to_der()
                .map_err(not_pkcs12)?;
            let ciphertext = data
                .enc_content_info
                .encrypted_content
                .as_ref()
                .ok_or_else(|| err(NOT_PKCS12))?;
            decrypt(&alg, ciphertext.as_bytes(), password)?
        } else {
            return Err(err(format!(
                "PKCS#12: Inhaltstyp {} wird nicht unterstützt (nur Passwortschutz)",
                info.content_type
            )));
        };
        let bags = Vec::<SafeBag>::from_der(&safe_contents).map_err(wrong_password)?;
        for bag in bags {
            read_bag(&bag, password, &mut keys, &mut certificates)?;
        }
    }

    let key = match keys.len() {
        0 => return Err(err("PKCS#12: die Datei enthält keinen privaten Schlüssel")),
        1 => keys.remove(0),
        n => {
            return Err(err(format!(
                "PKCS#12: die Datei enthält {n} private Schlüssel, erwartet wird genau einer"
            )));
        }
    };
    Ok(Contents { key, certificates })
}

fn read_bag(
    bag: &SafeBag,
    password: &str,
    keys: &mut Vec<SigningKey>,
    certificates: &mut Vec<Certificate>,
) -> Result<(), ReceiptError> {
    if bag.bag_id == pkcs12::PKCS_12_PKCS8_KEY_BAG_OID {
        let info = EncryptedPrivateKeyInfo::from_der(&bag.bag_value).map_err(not_pkcs12)?;
        let alg = info.encryption_algorithm.to_der().map_err(not_pkcs12)?;
        let plain = decrypt(&alg, info.encrypted_data, password)?;
        keys.push(p256_key(&plain)?);
    } else if bag.bag_id == pkcs12::PKCS_12_KEY_BAG_OID {
        keys.push(p256_key(&bag.bag_value)?);
    } else if bag.bag_id == pkcs12::PKCS_12_CERT_BAG_OID {
        let cert_bag = CertBag::from_der(&bag.bag_value).map_err(not_pkcs12)?;
        if cert_bag.cert_id != pkcs12::PKCS_12_X509_CERT_OID {
            return Err(err(format!(
                "PKCS#12: Zertifikatstyp {} wird nicht unterstützt, nur X.509",
                cert_bag.cert_id
            )));
        }
        let cert = Certificate::from_der(cert_bag.cert_value.as_bytes()).map_err(|e| {
            err(format!(
                "PKCS#12: ein Zertifikat in der Datei ist ungültig: {e}"
            ))
        })?;
        certificates.push(cert);
    } else if bag.bag_id == pkcs12::PKCS_12_SAFE_CONTENTS_BAG_OID {
        return Err(err(
            "PKCS#12: verschachtelte safeContents werden nicht unterstützt",
        ));
    }
    // CRL and secret bags carry nothing a signer needs: skipped.
    Ok(())
}

/// The P-256 key in a PKCS#8 `PrivateKeyInfo`; RSA and other curves are refused by name.
fn p256_key(pkcs8_der: &[u8]) -> Result<SigningKey, ReceiptError> {
    // Anything that does not parse as PKCS#8 here was decrypted with the wrong key (or the
    // file is damaged): padding alone catches only about 255 wrong passwords in 256.
    let info = PrivateKeyInfo::from_der(pkcs8_der).map_err(wrong_password)?;
    let oid = info.algorithm.oid;
    if oid == RSA_ENCRYPTION || oid == RSASSA_PSS {
        return Err(err(
            "PKCS#12: die Datei enthält einen RSA-Schlüssel; unterstützt wird nur ECDSA P-256 \
             (secp256r1/prime256v1)",
        ));
    }
    if oid != ID_EC_PUBLIC_KEY {
        return Err(err(format!(
            "PKCS#12: Schlüsselalgorithmus {oid} wird nicht unterstützt; unterstützt wird nur \
             ECDSA P-256"
        )));
    }
    let curve = info.algorithm.parameters_oid().ok();
    if curve != Some(SECP256R1) {
        let curve = curve.map_or_else(|| "(keine Angabe)".to_string(), |c| c.to_string());
        return Err(err(format!(
            "PKCS#12: EC-Schlüssel auf der Kurve {curve}; unterstützt wird nur P-256 \
             (secp256r1/prime256v1, 1.2.840.10045.3.1.7)"
        )));
    }
    let secret = p256::SecretKey::try_from(info)
        .map_err(|_| err("PKCS#12: der P-256-Schlüssel in der Datei ist ungültig"))?;
    Ok(SigningKey::from(secret))
}

/// Decrypts `ciphertext` with the PBES2 scheme `alg_der` (an `AlgorithmIdentifier`).
fn decrypt(alg_der: &[u8], ciphertext: &[u8], password: &str) -> Result<Secret, ReceiptError> {
    let oid = x509_cert::spki::AlgorithmIdentifierRef::from_der(alg_der)
        .map_err(not_pkcs12)?
        .oid;
    if oid.to_string().starts_with(PKCS12_PBE_ARC) {
        return Err(err(format!(
            "PKCS#12: die veraltete Verschlüsselung {oid} (RC2/3DES, `openssl pkcs12 -legacy`) \
             wird nicht unterstützt; bitte mit OpenSSL 3 ohne -legacy neu exportieren \
             (PBES2, AES-256-CBC)"
        )));
    }
    if oid != pbes2::PBES2_OID {
        return Err(err(format!(
            "PKCS#12: Verschlüsselungsverfahren {oid} wird nicht unterstützt; unterstützt wird \
             PBES2 mit PBKDF2 und AES-CBC"
        )));
    }
    let scheme = pkcs5::EncryptionScheme::try_from(alg_der).map_err(|e| {
        err(format!(
            "PKCS#12: PBES2-Parameter werden nicht unterstützt oder sind ungültig: {e}"
        ))
    })?;
    let params = scheme.pbes2().ok_or_else(|| err(NOT_PKCS12))?;
    let pbkdf2 = params.kdf.pbkdf2().ok_or_else(|| {
        err("PKCS#12: nur PBKDF2 wird als Schlüsselableitung unterstützt (nicht scrypt)")
    })?;
    if pbkdf2.iteration_count > MAX_ITERATIONS {
        return Err(err(format!(
            "PKCS#12: {} PBKDF2-Iterationen sind mehr als die erlaubten {MAX_ITERATIONS}",
            pbkdf2.iteration_count
        )));
    }
    // OpenSSL hands PBES2 the password bytes as typed (UTF-8).
    scheme
        .decrypt(password.as_bytes(), ciphertext)
        .map(Zeroizing::new)
        .map_err(wrong_password)
}

/// Checks the PKCS#12 MAC (RFC 7292 appendix B key derivation over the BMPString password).
fn verify_mac(mac: &MacData, content: &[u8], password: &str) -> Result<(), ReceiptError> {
    let iterations = u32::try_from(mac.iterations).unwrap_or(0);
    if iterations == 0 || iterations > MAX_ITERATIONS {
        return Err(err(format!(
            "PKCS#12: {} MAC-Iterationen liegen nicht zwischen 1 und {MAX_ITERATIONS}",
            mac.iterations
        )));
    }
    let bmp = BmpString::from_utf8(password).map_err(|_| {
        err("PKCS#12: das Passwort enthält Zeichen außerhalb der Basic Multilingual Plane")
    })?;
    let mut with_nul = bmp.into_bytes().to_vec();
    with_nul.extend([0, 0]);
    let mut passwords = vec![Zeroizing::new(with_nul)];
    if password.is_empty() {
        // OpenSSL writes files "without password" with either an empty BMPString or none at
        // all; accept both.
        passwords.push(Zeroizing::new(Vec::new()));
    }
    let salt = mac.mac_salt.as_bytes();
    let expected = mac.mac.digest.as_bytes();
    let alg = mac.mac.algorithm.oid;
    for pass in &passwords {
        let ok = if alg == ID_SHA256 {
            mac_matches::<sha2::Sha256>(pass, salt, iterations, content, expected)
        } else if alg == ID_SHA384 {
            mac_matches::<sha2::Sha384>(pass, salt, iterations, content, expected)
        } else if alg == ID_SHA512 {
            mac_matches::<sha2::Sha512>(pass, salt, iterations, content, expected)
        } else if alg == ID_SHA1 {
            mac_matches::<sha1::Sha1>(pass, salt, iterations, content, expected)
        } else {
            return Err(err(format!(
                "PKCS#12: MAC-Hashverfahren {alg} wird nicht unterstützt (SHA-1/-256/-384/-512)"
            )));
        };
        if ok {
            return Ok(());
        }
    }
    Err(err(WRONG_PASSWORD))
}

fn mac_matches<D>(pass: &[u8], salt: &[u8], iterations: u32, content: &[u8], expected: &[u8]) -> bool
where
    D: sha2::Digest
        + sha2::digest::FixedOutputReset
        + sha2::digest::core_api::BlockSizeUser
        + Clone,
{
    let rounds = i32::try_from(iterations).unwrap_or(i32::MAX);
    let key = Zeroizing::new(pkcs12::kdf::derive_key::<D>(
        pass,
        salt,
        Pkcs12KeyType::Mac,
        rounds,
        <D as sha2::Digest>::output_size(),
    ));
    let Ok(mut hmac) = <SimpleHmac<D> as Mac>::new_from_slice(&key) else {
        return false;
    };
    hmac.update(content);
    hmac.verify_slice(expected).is_ok()
}
