//! Independent verification of a receipt: recomputes SHA-256 over `/ByteRange`, checks the CMS
//! message digest and the ECDSA signature against the certificate carried in the CMS, and
//! extracts the embedded submission.

use cms::content_info::CmsVersion;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use lopdf::{Document, Object};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{DerSignature, VerifyingKey};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::der::oid::db::{rfc5911, rfc5912};
use x509_cert::der::{Encode, Reader, SliceReader};

use super::error::ReceiptError;
use super::pdf::ATTACHMENT_NAME;

/// What [`verify_receipt`] found. Trust a receipt only if `valid && covers_whole_file`, and
/// check `signer` against the certificate you expect: the chain is not validated here.
#[derive(Debug, Clone)]
pub struct Verification {
    /// Subject of the signing certificate, e.g. `CN=…,OU=…,O=Stadt Heidestadt`.
    pub signer: Option<String>,
    /// SHA-256 of the signer certificate (DER), lower-case hex: compare it with
    /// [`super::SigningIdentity::certificate_sha256`] of the identity you expect.
    pub certificate_sha256: Option<String>,
    /// `/M` of the signature dictionary.
    pub signing_time: Option<time::OffsetDateTime>,
    /// The digest over `/ByteRange` matches and the signature verifies with the certificate.
    pub valid: bool,
    /// `/ByteRange` covers every byte of the file except the signature value.
    pub covers_whole_file: bool,
    /// The embedded `antrag.json`, if present and readable.
    pub embedded_json: Option<serde_json::Value>,
    /// Why `valid` is false, for logs and `lotse verify`.
    pub problem: Option<String>,
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() > haystack.len() {
        return None;
    }
    (0..=haystack.len() - needle.len())
        .rev()
        .find(|&i| &haystack[i..i + needle.len()] == needle)
}

/// Reads `[a b c d]` after the last `/ByteRange`.
fn byte_range(pdf: &[u8]) -> Option<[usize; 4]> {
    let at = rfind(pdf, b"/ByteRange")?;
    let rest = &pdf[at + b"/ByteRange".len()..];
    let open = rest.iter().position(|&b| b == b'[')?;
    let close = rest.iter().position(|&b| b == b']')?;
    if open > 8 || close < open {
        return None;
    }
    let text = std::str::from_utf8(&rest[open + 1..close]).ok()?;
    let numbers: Vec<usize> = text
        .split_ascii_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    numbers.try_into().ok()
}

/// Strict: only hex digits, so no byte of the signature value can change unnoticed.
fn hex_decode(hex: &[u8]) -> Option<Vec<u8>> {
    let value = |d: u8| (d as char).to_digit(16).map(|v| v as u8);
    hex.chunks(2)
        .map(|pair| match pair {
            [h, l] => Some(value(*h)? << 4 | value(*l)?),
            [h] => Some(value(*h)? << 4),
            _ => None,
        })
        .collect()
}

/// Verifies a receipt produced by [`super::render_receipt`] (or any PDF with one CMS
/// signature). Returns `Err` only if the file carries no signature at all; a damaged or
/// altered file gives `Ok` with `valid == false`.
pub fn verify_receipt(pdf: &[u8]) -> Result<Verification, ReceiptError> {
    let [a, b, c, d] =
        byte_range(pdf).ok_or_else(|| ReceiptError::NotSigned("no readable /ByteRange".into()))?;
    let mut result = Verification {
        signer: None,
        certificate_sha256: None,
        signing_time: signing_time(pdf),
        valid: false,
        covers_whole_file: false,
        embedded_json: embedded_json(pdf),
        problem: None,
    };
    let in_bounds = a == 0 && b < c && c.checked_add(d).is_some_and(|end| end <= pdf.len());
    if !in_bounds {
        result.problem = Some("/ByteRange does not fit the file".into());
        return Ok(result);
    }
    result.covers_whole_file = c + d == pdf.len();
    let gap = &pdf[b..c];
    let (Some(b'<'), Some(b'>')) = (gap.first(), gap.last()) else {
        result.problem = Some("/ByteRange leaves out more than the signature value".into());
        return Ok(result);
    };
    let Some(der) = hex_decode(&gap[1..gap.len() - 1]) else {
        result.problem = Some("/Contents is not hexadecimal".into());
        return Ok(result);
    };
    let mut hasher = Sha256::new();
    hasher.update(&pdf[..b]);
    hasher.update(&pdf[c..c + d]);
    let digest = hasher.finalize();
    match check_cms(&der, digest.as_slice()) {
        Ok((signer, fingerprint)) => {
            result.signer = Some(signer);
            result.certificate_sha256 = Some(fingerprint);
            result.valid = true;
        }
        Err((signer, problem)) => {
            result.signer = signer;
            result.problem = Some(problem);
        }
    }
    Ok(result)
}

type CmsFailure = (Option<String>, String);

/// On success: the signer's subject and the certificate's SHA-256 in hex.
fn check_cms(der: &[u8], digest: &[u8]) -> Result<(String, String), CmsFailure> {
    let fail = |signer: Option<String>, m: &str| (signer, m.to_string());
    // The value is zero-padded to the reserved space: decode one element, ignore the rest.
    let mut reader = SliceReader::new(der).map_err(|_| fail(None, "empty signature"))?;
    let info: ContentInfo = reader
        .decode()
        .map_err(|_| fail(None, "signature is not a CMS ContentInfo"))?;
    // The padding after the signature must be zeros: then every byte of the file counts.
    let used = der.len() - usize::try_from(reader.remaining_len()).unwrap_or(0);
    if der[used..].iter().any(|&b| b != 0) {
        return Err(fail(None, "bytes after the signature value were changed"));
    }
    if info.content_type != rfc5911::ID_SIGNED_DATA {
        return Err(fail(None, "CMS content is not SignedData"));
    }
    let signed: SignedData = info
        .content
        .decode_as()
        .map_err(|_| fail(None, "CMS SignedData is malformed"))?;
    let signer_info = signed
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or_else(|| fail(None, "CMS has no signer"))?;
    let certificates: Vec<Certificate> = signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            cms::cert::CertificateChoices::Certificate(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    let cert = certificates
        .iter()
        .find(|c| match &signer_info.sid {
            SignerIdentifier::IssuerAndSerialNumber(isn) => {
                c.tbs_certificate.issuer == isn.issuer
                    && c.tbs_certificate.serial_number == isn.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(_) => certificates.len() == 1,
        })
        .ok_or_else(|| fail(None, "the signer certificate is not in the CMS"))?;
    let signer = Some(cert.tbs_certificate.subject.to_string());
    // Fields outside the signed attributes are pinned to what a receipt writes, so a change
    // there cannot pass unnoticed either.
    let sha256_only = signed.digest_algorithms.len() == 1
        && signed
            .digest_algorithms
            .iter()
            .all(|a| a.oid == rfc5912::ID_SHA_256 && a.parameters.is_none());
    if !sha256_only
        || signer_info.digest_alg.oid != rfc5912::ID_SHA_256
        || signer_info.digest_alg.parameters.is_some()
    {
        return Err(fail(signer, "digest algorithm is not SHA-256"));
    }
    if signer_info.signature_algorithm.oid != rfc5912::ECDSA_WITH_SHA_256
        || signer_info.signature_algorithm.parameters.is_some()
    {
        return Err(fail(
            signer,
            "signature algorithm is not ECDSA with SHA-256",
        ));
    }
    if signed.version != CmsVersion::V1
        || signer_info.version != CmsVersion::V1
        || signed.encap_content_info.econtent_type != rfc5911::ID_DATA
        || signed.encap_content_info.econtent.is_some()
        || signer_info.unsigned_attrs.is_some()
        || signed.crls.is_some()
    {
        return Err(fail(
            signer,
            "the CMS structure is not a detached receipt signature",
        ));
    }
    let attrs = signer_info
        .signed_attrs
        .as_ref()
        .ok_or_else(|| fail(signer.clone(), "CMS has no signed attributes"))?;
    let message_digest = attrs
        .iter()
        .find(|attr| attr.oid == rfc5911::ID_MESSAGE_DIGEST)
        .and_then(|attr| attr.values.iter().next())
        .map(|value| value.value().to_vec())
        .ok_or_else(|| fail(signer.clone(), "CMS has no message digest"))?;
    if message_digest != digest {
        return Err(fail(signer, "the document was changed after signing"));
    }
    // ESS signing-certificate-v2 binds the certificate to the signature (CAdES).
    let cert_der = cert
        .to_der()
        .map_err(|_| fail(signer.clone(), "certificate cannot be encoded"))?;
    let cert_hash = Sha256::digest(&cert_der);
    let bound = attrs
        .iter()
        .find(|attr| attr.oid == rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2)
        .and_then(|attr| attr.values.iter().next())
        .map(|value| {
            // SEQUENCE { SEQUENCE OF { SEQUENCE { [hashAlgorithm] certHash } } }: a receipt
            // writes the default hash (SHA-256) and the 32-byte hash last in the first entry.
            let bytes = value.value();
            bytes.len() >= 34
                && bytes
                    .windows(34)
                    .any(|w| w[0] == 0x04 && w[1] == 0x20 && w[2..] == cert_hash[..])
        })
        .unwrap_or(false);
    if !bound {
        return Err(fail(
            signer,
            "the signing-certificate attribute does not match the certificate",
        ));
    }
    let key_bytes = cert
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    let key = VerifyingKey::from_sec1_bytes(key_bytes)
        .map_err(|_| fail(signer.clone(), "certificate key is not P-256"))?;
    let signature = DerSignature::try_from(signer_info.signature.as_bytes())
        .map_err(|_| fail(signer.clone(), "signature value is malformed"))?;
    let signed_attrs = attrs
        .to_der()
        .map_err(|_| fail(signer.clone(), "signed attributes cannot be encoded"))?;
    key.verify(&signed_attrs, &signature).map_err(|_| {
        fail(
            signer.clone(),
            "the signature does not match the certificate",
        )
    })?;
    Ok((
        cert.tbs_certificate.subject.to_string(),
        super::sign::hex(&cert_hash),
    ))
}

/// `/M (D:20261128115100Z)` of the last signature dictionary.
fn signing_time(pdf: &[u8]) -> Option<time::OffsetDateTime> {
    let at = rfind(pdf, b"/M(D:").or_else(|| rfind(pdf, b"/M (D:"))?;
    let start = at + pdf[at..].iter().position(|&b| b == b':')? + 1;
    let digits = pdf.get(start..start + 14)?;
    let text = std::str::from_utf8(digits).ok()?;
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<u32>().ok();
    let date = time::Date::from_calendar_date(
        i32::try_from(num(0..4)?).ok()?,
        time::Month::try_from(u8::try_from(num(4..6)?).ok()?).ok()?,
        u8::try_from(num(6..8)?).ok()?,
    )
    .ok()?;
    let clock = time::Time::from_hms(
        u8::try_from(num(8..10)?).ok()?,
        u8::try_from(num(10..12)?).ok()?,
        u8::try_from(num(12..14)?).ok()?,
    )
    .ok()?;
    // Receipts write UTC ("Z"); other offsets are not interpreted.
    Some(time::PrimitiveDateTime::new(date, clock).assume_utc())
}

/// The embedded `antrag.json`, parsed.
pub fn embedded_json(pdf: &[u8]) -> Option<serde_json::Value> {
    let doc = Document::load_mem(pdf).ok()?;
    let names = doc.catalog().ok()?.get(b"Names").ok()?;
    let names = resolve(&doc, names)?.as_dict().ok()?;
    let files = resolve(&doc, names.get(b"EmbeddedFiles").ok()?)?
        .as_dict()
        .ok()?;
    let list = resolve(&doc, files.get(b"Names").ok()?)?.as_array().ok()?;
    let spec = list.chunks(2).find_map(|pair| match pair {
        [Object::String(key, _), spec] if key.as_slice() == ATTACHMENT_NAME.as_bytes() => {
            Some(spec)
        }
        _ => None,
    })?;
    let spec = resolve(&doc, spec)?.as_dict().ok()?;
    let ef = resolve(&doc, spec.get(b"EF").ok()?)?.as_dict().ok()?;
    let stream = resolve(&doc, ef.get(b"F").ok()?)?.as_stream().ok()?;
    let content = if stream.dict.get(b"Filter").is_ok() {
        stream.decompressed_content().ok()?
    } else {
        stream.content.clone()
    };
    serde_json::from_slice(&content).ok()
}

fn resolve<'a>(doc: &'a Document, object: &'a Object) -> Option<&'a Object> {
    doc.dereference(object).ok().map(|(_, o)| o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_range_is_read_from_the_last_signature() {
        let pdf = b"%PDF /ByteRange [0 10 20 30   ] x";
        assert_eq!(byte_range(pdf), Some([0, 10, 20, 30]));
    }

    #[test]
    fn a_file_without_signature_is_not_signed() {
        let err = verify_receipt(b"%PDF-1.7 nothing here").err();
        assert_eq!(err.map(|e| e.code()), Some("LOT-R011"));
    }

    #[test]
    fn hex_decoding_refuses_anything_but_digits() {
        assert_eq!(hex_decode(b"0aF01"), Some(vec![0x0a, 0xf0, 0x10]));
        assert_eq!(hex_decode(b"0a F0"), None);
    }
}
