//! Online payment through the tenant's payment platform (docs/payment.md): the provider
//! interface modelled on XBezahldienste (payment request → pay page, return by redirect,
//! signed notification, status query), its HTTP implementation, the configuration per tenant,
//! and the platform simulator the tests, `.ci/run` and `lotse serve --dev` start.
//!
//! What a payment means for an application (kept as "payment pending", handed to the office
//! once paid) is the application service's business (`service::payment`); nothing here knows
//! the store.

pub mod client;
pub mod signature;
pub mod sim;
mod sim_page;
pub mod wire;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use time::OffsetDateTime;

pub use wire::{CreateRequest, Created, Report};

/// Why the platform could not be asked or its answer not be used. Never holds personal data.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("LOT-P010: the payment platform cannot be reached: {0}")]
    Unreachable(String),
    #[error("LOT-P011: the payment platform refused the request: HTTP {0}")]
    Refused(u16),
    #[error("LOT-P012: the payment platform's answer is not signed with the tenant's secret")]
    BadSignature,
    #[error("LOT-P013: the payment platform's answer cannot be read: {0}")]
    Malformed(String),
}

/// A payment platform as Lotse uses it. Blocking: the application service calls it on the
/// blocking pool.
pub trait PaymentProvider: Send + Sync {
    /// The tenant's account at the platform.
    fn merchant_id(&self) -> &str;
    /// Creates a payment request; the answer names the pay page.
    fn create(
        &self,
        request: &CreateRequest,
        now: OffsetDateTime,
    ) -> Result<Created, PlatformError>;
    /// Asks where a payment stands (the return by redirect and the reconciliation job do).
    fn status(&self, platform_id: &str, now: OffsetDateTime) -> Result<Report, PlatformError>;
    /// Reads a notification: only one signed with the tenant's secret is believed.
    fn notification(
        &self,
        signature: Option<&str>,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<Report, PlatformError>;
}

pub use crate::config::payment::PaymentConfig;

/// The platform speaking the wire format of [`wire`] over HTTP(S), signed both ways.
pub struct HttpPlatform {
    base: String,
    merchant_id: String,
    secret: Vec<u8>,
    timeout: Duration,
}

impl HttpPlatform {
    pub fn new(base: &str, merchant_id: &str, secret: Vec<u8>, timeout: Duration) -> Self {
        HttpPlatform {
            base: base.trim_end_matches('/').to_string(),
            merchant_id: merchant_id.to_string(),
            secret,
            timeout,
        }
    }

    fn signed_report(
        &self,
        answer: &client::Answer,
        now: OffsetDateTime,
    ) -> Result<Report, PlatformError> {
        if answer.status != 200 {
            return Err(PlatformError::Refused(answer.status));
        }
        if !signature::verify(
            &self.secret,
            answer.header(&signature::SIGNATURE_HEADER.to_ascii_lowercase()),
            &answer.body,
            now,
        ) {
            return Err(PlatformError::BadSignature);
        }
        self.report(&answer.body)
    }

    fn report(&self, body: &[u8]) -> Result<Report, PlatformError> {
        let r: Report =
            serde_json::from_slice(body).map_err(|e| PlatformError::Malformed(e.to_string()))?;
        if r.merchant_id != self.merchant_id {
            return Err(PlatformError::Malformed(
                "another merchant's payment".into(),
            ));
        }
        Ok(r)
    }
}

impl PaymentProvider for HttpPlatform {
    fn merchant_id(&self) -> &str {
        &self.merchant_id
    }

    fn create(
        &self,
        request: &CreateRequest,
        now: OffsetDateTime,
    ) -> Result<Created, PlatformError> {
        let body =
            serde_json::to_vec(request).map_err(|e| PlatformError::Malformed(e.to_string()))?;
        let answer = client::request(
            "POST",
            &format!("{}/api/v1/zahlungen", self.base),
            &[
                ("Content-Type", "application/json".into()),
                (
                    signature::SIGNATURE_HEADER,
                    signature::sign(&self.secret, now, &body),
                ),
            ],
            &body,
            self.timeout,
        )
        .map_err(PlatformError::Unreachable)?;
        if answer.status != 201 {
            return Err(PlatformError::Refused(answer.status));
        }
        serde_json::from_slice(&answer.body).map_err(|e| PlatformError::Malformed(e.to_string()))
    }

    fn status(&self, platform_id: &str, now: OffsetDateTime) -> Result<Report, PlatformError> {
        if !platform_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(PlatformError::Malformed(
                "a platform id with odd characters".into(),
            ));
        }
        let path = format!("/api/v1/zahlungen/{platform_id}");
        let message = format!("GET {path}");
        let answer = client::request(
            "GET",
            &format!("{}{path}", self.base),
            &[(
                signature::SIGNATURE_HEADER,
                signature::sign(&self.secret, now, message.as_bytes()),
            )],
            &[],
            self.timeout,
        )
        .map_err(PlatformError::Unreachable)?;
        self.signed_report(&answer, now)
    }

    fn notification(
        &self,
        signature: Option<&str>,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<Report, PlatformError> {
        if !signature::verify(&self.secret, signature, body, now) {
            return Err(PlatformError::BadSignature);
        }
        self.report(body)
    }
}

/// The shortest secret accepted.
const MIN_SECRET_LEN: usize = 16;

/// Every tenant's platform, built at start from the configuration.
#[derive(Clone, Default)]
pub struct Platforms {
    by_tenant: BTreeMap<String, Arc<dyn PaymentProvider>>,
}

impl std::fmt::Debug for Platforms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.by_tenant.keys()).finish()
    }
}

impl Platforms {
    /// The platforms of the configured tenants; a secret is read from its variable through
    /// `env`. Errors carry their code and name the tenant and key, never a secret.
    pub fn from_config(
        tenants: &BTreeMap<String, crate::config::TenantConfig>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Platforms> {
        let mut by_tenant: BTreeMap<String, Arc<dyn PaymentProvider>> = BTreeMap::new();
        for (slug, t) in tenants {
            let Some(c) = &t.payment else { continue };
            let place = format!("tenants.{slug}.payment");
            let url = &c.platform_url;
            if !(url.starts_with("https://") || url.starts_with("http://")) || url.contains('@') {
                bail!(
                    "LOT-P020: {place}.platform_url must be https://host[:port]/path or http://… without a user"
                );
            }
            if c.merchant_id.trim().is_empty() {
                bail!("LOT-P020: {place}.merchant_id is empty");
            }
            let secret = match env(&c.secret_env) {
                Some(s) if s.len() >= MIN_SECRET_LEN => s,
                Some(_) => bail!(
                    "LOT-P021: {place}.secret_env: the variable {} holds fewer than {MIN_SECRET_LEN} characters",
                    c.secret_env
                ),
                None => bail!(
                    "LOT-P021: {place}.secret_env: the variable {} is not set",
                    c.secret_env
                ),
            };
            let timeout = c.timeout_seconds.unwrap_or(10);
            if !(1..=60).contains(&timeout) {
                bail!("LOT-P020: {place}.timeout_seconds must be 1–60");
            }
            by_tenant.insert(
                slug.clone(),
                Arc::new(HttpPlatform::new(
                    url,
                    &c.merchant_id,
                    secret.into_bytes(),
                    Duration::from_secs(timeout),
                )),
            );
        }
        Ok(Platforms { by_tenant })
    }

    /// Adds (or replaces) a tenant's platform: `lotse serve --dev` and tests wire the
    /// simulator in this way.
    pub fn insert(&mut self, tenant: &str, provider: Arc<dyn PaymentProvider>) {
        self.by_tenant.insert(tenant.to_string(), provider);
    }

    pub fn get(&self, tenant: &str) -> Option<Arc<dyn PaymentProvider>> {
        self.by_tenant.get(tenant).cloned()
    }

    pub fn tenants(&self) -> impl Iterator<Item = &String> {
        self.by_tenant.keys()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn tenants(url: &str, env: &str) -> BTreeMap<String, crate::config::TenantConfig> {
        let toml = format!(
            "[heinsberg.payment]\nplatform_url = \"{url}\"\nmerchant_id = \"HEI-01\"\nsecret_env = \"{env}\"\n"
        );
        toml::from_str(&toml).unwrap()
    }

    #[test]
    fn bad_urls_and_missing_or_short_secrets_are_refused_without_showing_them() {
        let env = |k: &str| match k {
            "PAY_OK" => Some("ein-langes-geheimnis".to_string()),
            "PAY_SHORT" => Some("kurz".to_string()),
            _ => None,
        };
        assert!(Platforms::from_config(&tenants("https://pay.example/x", "PAY_OK"), &env).is_ok());
        let e = Platforms::from_config(&tenants("ftp://pay.example", "PAY_OK"), &env)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.starts_with("LOT-P020") && e.contains("tenants.heinsberg"),
            "{e}"
        );
        let e = Platforms::from_config(&tenants("https://pay.example", "PAY_SHORT"), &env)
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with("LOT-P021") && !e.contains("kurz"), "{e}");
        let e = Platforms::from_config(&tenants("https://pay.example", "PAY_NONE"), &env)
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with("LOT-P021") && e.contains("PAY_NONE"), "{e}");
    }
}
