//! Signed messages between Lotse and the payment platform: HMAC-SHA256 with the tenant's secret
//! over `"<unix seconds>.<message>"`, sent as `t=<unix seconds>,v1=<hex>` in
//! [`SIGNATURE_HEADER`]. The message is the body of a POST or an answer, and `GET <path>` for a
//! status query.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;

/// The header that carries the signature, both ways.
pub const SIGNATURE_HEADER: &str = "Zahlung-Signatur";

/// How far a signature's time may lie from ours (late notifications are signed when sent).
pub const TOLERANCE_SECONDS: i64 = 300;

fn mac(secret: &[u8], t: i64, message: &[u8]) -> Option<Hmac<Sha256>> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret).ok()?;
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(message);
    Some(m)
}

/// The header value signing `message` at `now`.
pub fn sign(secret: &[u8], now: OffsetDateTime, message: &[u8]) -> String {
    let t = now.unix_timestamp();
    let hex = mac(secret, t, message)
        .map(|m| {
            m.finalize()
                .into_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        })
        .unwrap_or_default();
    format!("t={t},v1={hex}")
}

/// Whether `header` signs `message` with `secret` at a time within the tolerance of `now`.
/// Compared in constant time.
pub fn verify(secret: &[u8], header: Option<&str>, message: &[u8], now: OffsetDateTime) -> bool {
    let Some(header) = header else { return false };
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = unhex(v),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    if (now.unix_timestamp() - t).abs() > TOLERANCE_SECONDS {
        return false;
    }
    mac(secret, t, message).is_some_and(|m| m.verify_slice(&v1).is_ok())
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_signature_verifies_and_any_change_or_an_old_time_breaks_it() {
        let now = datetime!(2026-12-06 12:00 UTC);
        let s = sign(b"geheim-geheim-geheim", now, b"{\"state\":\"paid\"}");
        assert!(verify(
            b"geheim-geheim-geheim",
            Some(&s),
            b"{\"state\":\"paid\"}",
            now
        ));
        assert!(!verify(
            b"geheim-geheim-geheim",
            Some(&s),
            b"{\"state\":\"paid \"}",
            now
        ));
        assert!(!verify(
            b"anderes-geheimnis!!",
            Some(&s),
            b"{\"state\":\"paid\"}",
            now
        ));
        assert!(!verify(
            b"geheim-geheim-geheim",
            None,
            b"{\"state\":\"paid\"}",
            now
        ));
        let later = now + time::Duration::minutes(10);
        assert!(!verify(
            b"geheim-geheim-geheim",
            Some(&s),
            b"{\"state\":\"paid\"}",
            later
        ));
    }
}
