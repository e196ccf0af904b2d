//! Signed, expiring download links for attachments, for the office's system that receives a
//! submission by webhook (docs/delivery.md): whoever holds the link may fetch that one file of
//! that one submission until the link expires, without a sign-in. The key is derived from the
//! node secret every node shares (the CSRF secret), so any node serves a link another made.

use hmac::{Hmac, Mac};
use lotse_store::{AttachmentHash, SubmissionId};
use sha2::Sha256;
use time::OffsetDateTime;

/// The path of the route that serves signed links.
pub const LINK_PREFIX: &str = "/nachweise";

/// Makes and checks the links.
pub struct AttachmentLinks {
    key: [u8; 32],
    base: std::sync::RwLock<String>,
    ttl: time::Duration,
}

impl std::fmt::Debug for AttachmentLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachmentLinks")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// A link and when it stops working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub url: String,
    pub expires: OffsetDateTime,
}

impl AttachmentLinks {
    /// Links under `base_url` (the portal's public address) that work for `ttl`, signed with
    /// a key derived from `node_secret`.
    pub fn new(node_secret: &[u8; 32], base_url: &str, ttl: time::Duration) -> AttachmentLinks {
        // HMAC takes keys of any length, so the derivation cannot fail.
        let key = Hmac::<Sha256>::new_from_slice(node_secret).map_or(*node_secret, |mut mac| {
            mac.update(b"lotse attachment links v1");
            mac.finalize().into_bytes().into()
        });
        AttachmentLinks {
            key,
            base: std::sync::RwLock::new(base_url.trim_end_matches('/').to_string()),
            ttl,
        }
    }

    /// The portal's address changed (tests on port 0 learn it after binding).
    pub fn set_base(&self, base_url: &str) {
        if let Ok(mut b) = self.base.write() {
            *b = base_url.trim_end_matches('/').to_string();
        }
    }

    /// The link to the file `hash` of `tenant`'s submission `sub`, made at `now`.
    pub fn link(
        &self,
        tenant: &str,
        sub: &SubmissionId,
        hash: &AttachmentHash,
        now: OffsetDateTime,
    ) -> Link {
        let expires = now + self.ttl;
        let bis = expires.unix_timestamp();
        let base = self.base.read().map(|b| b.clone()).unwrap_or_default();
        Link {
            url: format!(
                "{base}{LINK_PREFIX}/{tenant}/{sub}/{hash}?bis={bis}&sig={}",
                self.sign(tenant, &sub.to_string(), &hash.to_string(), bis)
            ),
            expires,
        }
    }

    /// Whether `sig` is this node's signature of the link's parts and `bis` is not past `now`
    /// (constant-time comparison).
    pub fn check(
        &self,
        tenant: &str,
        sub: &str,
        hash: &str,
        bis: i64,
        sig: &str,
        now: OffsetDateTime,
    ) -> bool {
        if bis <= now.unix_timestamp() {
            return false;
        }
        let Some(sig) = unhex(sig) else {
            return false;
        };
        self.mac(tenant, sub, hash, bis)
            .is_some_and(|m| m.verify_slice(&sig).is_ok())
    }

    fn mac(&self, tenant: &str, sub: &str, hash: &str, bis: i64) -> Option<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).ok()?;
        mac.update(format!("{tenant}\n{sub}\n{hash}\n{bis}").as_bytes());
        Some(mac)
    }

    fn sign(&self, tenant: &str, sub: &str, hash: &str, bis: i64) -> String {
        self.mac(tenant, sub, hash, bis)
            .map(|m| m.finalize().into_bytes())
            .iter()
            .flatten()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 {
        return None;
    }
    (0..32)
        .map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_link_checks_until_it_expires_and_only_unchanged() {
        let links =
            AttachmentLinks::new(&[7; 32], "https://portal.example/", time::Duration::days(7));
        let sub = SubmissionId::generate(&mut lotse_store::DeterministicEntropy::new(1)).unwrap();
        let hash = AttachmentHash::of(b"x");
        let now = datetime!(2026-12-01 10:00 UTC);
        let link = links.link("heinsberg", &sub, &hash, now);
        assert!(link.url.starts_with(&format!(
            "https://portal.example/nachweise/heinsberg/{sub}/{hash}?bis="
        )));
        assert_eq!(link.expires, now + time::Duration::days(7));
        let bis = link.expires.unix_timestamp();
        let sig = link.url.rsplit("sig=").next().unwrap();
        let (s, h) = (sub.to_string(), hash.to_string());
        assert!(links.check("heinsberg", &s, &h, bis, sig, now));
        assert!(!links.check("heinsberg", &s, &h, bis, sig, link.expires));
        assert!(!links.check("erkelenz", &s, &h, bis, sig, now));
        assert!(!links.check("heinsberg", &s, &h, bis + 86_400, sig, now));
        let other =
            AttachmentLinks::new(&[8; 32], "https://portal.example", time::Duration::days(7));
        assert!(!other.check("heinsberg", &s, &h, bis, sig, now));
    }
}
