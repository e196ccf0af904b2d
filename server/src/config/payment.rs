//! `[tenants.<slug>.payment]`: a tenant's payment platform (docs/payment.md); the platform
//! itself is `crate::payment`.

use serde::Deserialize;

/// `[tenants.<slug>.payment]`: the tenant's payment platform.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentConfig {
    /// The platform's API base, `https://…` (or `http://` on the same machine).
    pub platform_url: String,
    /// The tenant's account (Mandant, Bewirtschafter) at the platform.
    pub merchant_id: String,
    /// The environment variable holding the shared secret (at least 16 characters).
    pub secret_env: String,
    /// Seconds a call to the platform may take: 1–60, default 10.
    pub timeout_seconds: Option<u64>,
}
