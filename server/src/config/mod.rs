//! One typed configuration: defaults, then a TOML file, then `LOTSE_…` environment variables.
//! Unknown keys are refused; every key is documented in docs/configuration.md. Secrets are never
//! printed: passwords are named by the environment variable that holds them.

pub mod login;
pub mod mail;
pub mod payment;
pub mod proxy;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address of the portal.
    pub listen: SocketAddr,
    /// Folder with workflows/, forms/ and pdf-templates/.
    pub project_dir: PathBuf,
    /// Folder for the store, keys and receipts.
    pub data_dir: PathBuf,
    /// Per tenant (by its slug): signing key and certificate for receipts, webhooks.
    pub tenants: BTreeMap<String, TenantConfig>,
    /// Where drafts and submissions are kept: sled in `data_dir` (one node) or PostgreSQL
    /// (several nodes).
    pub store: StoreConfig,
    /// How webhook deliveries are retried (docs/delivery.md).
    pub delivery: DeliverySettings,
    /// The case workers' Postkorb: sessions and cookies (docs/administration.md).
    pub admin: AdminConfig,
    /// Housekeeping: expired drafts and sign-ins, retention of closed submissions.
    pub maintenance: MaintenanceConfig,
    /// Client connections: how long a request's headers may take, how many connections at once.
    pub connections: ConnectionsConfig,
    /// Who may read /metrics.
    pub metrics: MetricsConfig,
    /// Reverse proxies whose word on the client's address is taken (sign-in limits).
    pub proxy: ProxyConfig,
    /// The citizen JSON API: which other origins may call it from a browser.
    pub api: ApiConfig,
    /// E-mail to citizens (docs/email.md); unset: no mail is sent.
    pub mail: Option<mail::MailConfig>,
    /// Citizen sign-in (docs/login.md); unset: citizens apply anonymously only.
    pub login: Option<login::LoginConfig>,
    /// Online payment: the portal's public address and the reconciliation job (docs/payment.md).
    pub payment: PaymentSettings,
    /// Uploads (Nachweise): the virus scanner (docs/uploads.md).
    pub uploads: UploadsConfig,
    /// The engine in the browser (docs/browser-engine.md).
    pub browser_engine: BrowserEngineConfig,
}

/// `[browser_engine]`: the WebAssembly module step pages run as the citizen answers.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrowserEngineConfig {
    /// The module built by `scripts/wasm/build.sh`. Unset: `target/wasm/lotse_wasm.wasm` in the
    /// project folder when it is there (otherwise the pages run without it); empty: off.
    pub module: Option<PathBuf>,
}

/// `[uploads]`: the virus scanner every tenant's uploads go through.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UploadsConfig {
    /// clamd's address: `127.0.0.1:3310` or `unix:/run/clamav/clamd.ctl`. Unset: no file is
    /// scanned, and each tenant's `unscanned_uploads` decides (by default such files are kept
    /// and marked "nicht geprüft").
    pub clamd: Option<String>,
    /// Seconds clamd may take for one file (default 60).
    pub clamd_timeout_seconds: Option<u64>,
}

impl UploadsConfig {
    /// The scanner to ask, if one is configured.
    pub fn scanner(&self) -> anyhow::Result<Option<crate::uploads::scan::Clamd>> {
        let Some(addr) = &self.clamd else {
            return Ok(None);
        };
        let addr = addr
            .parse()
            .map_err(|e: String| anyhow::anyhow!("[uploads] clamd: {e}"))?;
        Ok(Some(crate::uploads::scan::Clamd {
            addr,
            timeout: std::time::Duration::from_secs(
                self.clamd_timeout_seconds.unwrap_or(60).clamp(1, 600),
            ),
        }))
    }

    /// What a tenant does with a file no scanner looked at: its own setting, else refuse when
    /// a scanner is configured (it is down), accept and mark when none is.
    pub fn unscanned(&self, tenant: Option<&TenantConfig>) -> crate::uploads::intake::Unscanned {
        use crate::uploads::intake::Unscanned;
        tenant
            .and_then(|t| t.unscanned_uploads)
            .unwrap_or(if self.clamd.is_some() {
                Unscanned::Refuse
            } else {
                Unscanned::Accept
            })
    }
}

/// `[payment]`: what every tenant's payment platform shares (docs/payment.md).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaymentSettings {
    /// The portal's address as browsers and the payment platform reach it
    /// (`https://portal.example.de`): the base of return and notification URLs. Default:
    /// `http://<listen>`.
    pub public_url: Option<String>,
    /// How often the reconciliation job asks the platforms about open payments (seconds).
    pub reconcile_seconds: f64,
    /// A payment is asked about once it has not changed for this long (seconds): the
    /// citizen's return and the notification usually settle it first.
    pub reconcile_after_seconds: f64,
}

impl Default for PaymentSettings {
    fn default() -> Self {
        PaymentSettings {
            public_url: None,
            reconcile_seconds: 30.0,
            reconcile_after_seconds: 60.0,
        }
    }
}

/// `[api]`: the citizen JSON API (/api/v1/tenants/…, docs/api.md).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Origins (`https://antrag.example.de`) whose pages may call the citizen API from a
    /// browser (CORS); none by default. Never with credentials; never `*`.
    pub cors_origins: Vec<String>,
}

impl ApiConfig {
    /// Checks that every entry is an origin: `http` or `https`, a host, an optional port, and
    /// nothing else (no path, no wildcard).
    fn validate(&self) -> anyhow::Result<()> {
        for o in &self.cors_origins {
            let rest = o
                .strip_prefix("https://")
                .or_else(|| o.strip_prefix("http://"));
            let ok = rest.is_some_and(|r| {
                !r.is_empty()
                    && r.chars().all(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')
                    })
            });
            if !ok {
                bail!(
                    "api.cors_origins: {o:?} is not an origin like https://antrag.example.de (scheme, host, optional port; no path, no *)"
                );
            }
        }
        Ok(())
    }
}

/// `[proxy]`: the reverse proxies in front of the portal. A request whose peer is one of them
/// is counted against the client address the proxy names in `client_header`; from any other
/// peer that header is ignored, so that nobody can pick the address they are counted under.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProxyConfig {
    /// Addresses or networks of the trusted proxies (`10.0.0.5`, `10.1.0.0/16`, `::1`); empty
    /// by default: the peer address is the client address.
    pub trusted: Vec<String>,
    /// The header that carries the client address: `X-Forwarded-For` (default; the rightmost
    /// address that is not a trusted proxy counts), `X-Real-IP`, or `Forwarded` (RFC 7239).
    pub client_header: String,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            trusted: Vec::new(),
            client_header: "X-Forwarded-For".into(),
        }
    }
}

/// `[metrics]`: the addresses that may read `/metrics` (others get 404).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// IP addresses of the monitoring hosts; loopback by default.
    pub allow: Vec<std::net::IpAddr>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            allow: vec![
                std::net::IpAddr::from([127, 0, 0, 1]),
                std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            ],
        }
    }
}

/// The store backend.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// sled under `<data_dir>/store`: one process on one machine.
    #[default]
    Sled,
    /// PostgreSQL: several nodes on one database.
    Postgres,
}

/// `[store]`: the backend and, for PostgreSQL, how to reach the database.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    pub backend: Backend,
    /// The database URL (`postgres://user:password@host:5432/lotse`). Prefer `url_env`: a
    /// password in a file is easily copied along.
    pub url: Option<String>,
    /// The name of the environment variable that holds the database URL.
    pub url_env: Option<String>,
    /// Connections of this node's pool.
    pub max_connections: u32,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            backend: Backend::Sled,
            url: None,
            url_env: None,
            max_connections: 10,
        }
    }
}

/// Never prints the URL's password.
impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConfig")
            .field("backend", &self.backend)
            .field("url", &self.url.as_deref().map(lotse_store::redact_url))
            .field("url_env", &self.url_env)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

impl StoreConfig {
    /// The database URL: `url`, else the variable named by `url_env`.
    pub fn database_url(&self) -> anyhow::Result<String> {
        if let Some(url) = &self.url {
            return Ok(url.clone());
        }
        match &self.url_env {
            Some(var) => std::env::var(var).with_context(|| {
                format!("[store] url_env: the environment variable {var} is not set")
            }),
            None => bail!("[store] backend = \"postgres\" needs url_env (or url)"),
        }
    }
}

/// Sign-in settings of the Postkorb.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Send the session cookie with `Secure`. Browsers accept `Secure` cookies from
    /// `http://127.0.0.1` and `http://localhost` too, so this stays on except for tools that
    /// do not; `false` is refused unless `listen` is a loopback address.
    pub cookie_secure: bool,
    /// How long a sign-in lasts, in hours (1–24).
    pub session_hours: u32,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            cookie_secure: true,
            session_hours: 8,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            project_dir: PathBuf::from("."),
            data_dir: PathBuf::from("data"),
            tenants: BTreeMap::new(),
            store: StoreConfig::default(),
            delivery: DeliverySettings::default(),
            admin: AdminConfig::default(),
            maintenance: MaintenanceConfig::default(),
            connections: ConnectionsConfig::default(),
            metrics: MetricsConfig::default(),
            proxy: ProxyConfig::default(),
            api: ApiConfig::default(),
            mail: None,
            login: None,
            payment: PaymentSettings::default(),
            uploads: UploadsConfig::default(),
            browser_engine: BrowserEngineConfig::default(),
        }
    }
}

/// `[connections]`: limits that keep slow or idle clients from taking the portal down.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectionsConfig {
    /// Seconds a client has to send a request's headers, and that an idle keep-alive
    /// connection is kept open waiting for the next one (1–300).
    pub header_timeout_seconds: u32,
    /// Connections served at once (1–100000); beyond it new connections are closed at once,
    /// counted in /metrics and logged. Keep it well below the process's file limit.
    pub max: u32,
}

impl Default for ConnectionsConfig {
    fn default() -> Self {
        ConnectionsConfig {
            header_timeout_seconds: 10,
            max: 768,
        }
    }
}

/// How often `lotse serve` tidies up (see `crate::maintenance`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MaintenanceConfig {
    /// Minutes between two runs (1–1440); the first run is at start.
    pub interval_minutes: u32,
    /// Minutes an uploaded file that no draft or submission names is kept before the
    /// housekeeping deletes it (1–10,080): the time between an upload and the save of its
    /// draft.
    pub attachment_grace_minutes: u32,
}

impl Default for MaintenanceConfig {
    fn default() -> Self {
        MaintenanceConfig {
            interval_minutes: 60,
            attachment_grace_minutes: 60,
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    pub signing: Option<Signing>,
    /// The webhook for every service of the tenant that has none of its own.
    pub webhook: Option<Webhook>,
    /// Webhooks per service (workflow id); each replaces `webhook` for its service.
    #[serde(default)]
    pub webhooks: BTreeMap<String, Webhook>,
    /// Days a closed submission (abgeschlossen, abgelehnt) is kept after closing, then purged
    /// with its history, messages and receipt (1–36,500). Unset: kept until deleted by hand.
    pub retention_days: Option<u32>,
    /// The tenant's own sender and reply address for mails to citizens.
    pub mail: Option<mail::TenantMail>,
    /// The tenant's payment platform (docs/payment.md).
    pub payment: Option<payment::PaymentConfig>,
    /// What happens to an upload no virus scanner could look at: `refuse` (the citizen tries
    /// again later) or `accept` (kept, marked "nicht geprüft" for the office). Unset: refuse
    /// when `[uploads] clamd` is configured, accept when it is not (docs/uploads.md).
    pub unscanned_uploads: Option<crate::uploads::intake::Unscanned>,
}

/// Where a tenant's office receives submissions (docs/delivery.md). The HMAC secret is named by
/// the environment variable that holds it, so it never stands in the file or a log.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// `https://host[:port]/path`, or `http://…` (for a receiver on the same machine or
    /// network segment).
    pub url: String,
    /// The environment variable holding the shared secret (at least 16 characters).
    pub secret_env: String,
    /// Seconds one attempt may take, connect to answer: 1–120, default 10.
    pub timeout_seconds: Option<u64>,
    /// For https: trust only the CA certificates in this PEM file (an office's own PKI)
    /// instead of the system's trust store.
    pub ca_file: Option<PathBuf>,
}

/// The retry schedule of webhook deliveries. Durations are seconds in the file; tests set
/// them in milliseconds through the struct.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliverySettings {
    /// Wait before the 1st, 2nd, … retry; the last entry repeats. Each wait is varied by ±20 %.
    #[serde(deserialize_with = "seconds_list")]
    pub retry_seconds: Vec<std::time::Duration>,
    /// Attempts in all (the first one included) before a delivery is given up.
    pub max_attempts: u32,
    /// A delivery is given up once its next attempt would fall later than this after the
    /// submission.
    #[serde(deserialize_with = "hours")]
    pub give_up_after_hours: std::time::Duration,
    /// How often the worker looks for due deliveries when it has nothing to do.
    #[serde(deserialize_with = "seconds")]
    pub poll_seconds: std::time::Duration,
    /// Delivered and given-up deliveries are shown this long, then pruned.
    pub keep_days: u32,
    /// Days a delivery's signed download link of an attachment works (1–90).
    pub attachment_link_days: u32,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        let s = std::time::Duration::from_secs;
        DeliverySettings {
            retry_seconds: vec![s(10), s(30), s(120), s(600), s(1800), s(3600), s(7200)],
            max_attempts: 40,
            give_up_after_hours: s(72 * 3600),
            poll_seconds: s(1),
            keep_days: 30,
            attachment_link_days: 7,
        }
    }
}

fn seconds_value<E: serde::de::Error>(v: f64) -> Result<std::time::Duration, E> {
    if !v.is_finite() || !(0.0..=31_536_000.0).contains(&v) {
        return Err(E::custom(format!(
            "{v} is not a number of seconds between 0 and one year"
        )));
    }
    Ok(std::time::Duration::from_secs_f64(v))
}

fn seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<std::time::Duration, D::Error> {
    seconds_value(f64::deserialize(d)?)
}

fn hours<'de, D: serde::Deserializer<'de>>(d: D) -> Result<std::time::Duration, D::Error> {
    seconds_value(f64::deserialize(d)? * 3600.0)
}

fn seconds_list<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<std::time::Duration>, D::Error> {
    Vec::<f64>::deserialize(d)?
        .into_iter()
        .map(seconds_value)
        .collect()
}

/// A production signing identity: PEM files, or a PKCS#12 file whose password is in an
/// environment variable.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, untagged)]
pub enum Signing {
    Pem {
        key_file: PathBuf,
        certificate_file: PathBuf,
    },
    Pkcs12 {
        pkcs12_file: PathBuf,
        password_env: String,
    },
}

impl Config {
    /// Defaults, then `file` (if given, or `lotse.toml` if it exists), then the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let path = match file {
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from("lotse.toml")).filter(|p| p.is_file()),
        };
        let mut config = match &path {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading the configuration {}", p.display()))?;
                toml::from_str::<Config>(&text)
                    .with_context(|| format!("in the configuration {}", p.display()))?
            }
            None => Config::default(),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        config.validate()?;
        Ok(config)
    }

    fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        if let Some(v) = get("LOTSE_LISTEN") {
            self.listen = v.parse().with_context(|| {
                format!("LOTSE_LISTEN={v} is not an address like 127.0.0.1:8080")
            })?;
        }
        if let Some(v) = get("LOTSE_BROWSER_ENGINE") {
            self.browser_engine.module = Some(PathBuf::from(v));
        }
        if let Some(v) = get("LOTSE_PROJECT_DIR") {
            self.project_dir = PathBuf::from(v);
        }
        if let Some(v) = get("LOTSE_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("LOTSE_STORE_BACKEND") {
            self.store.backend = match v.as_str() {
                "sled" => Backend::Sled,
                "postgres" => Backend::Postgres,
                _ => bail!("LOTSE_STORE_BACKEND={v}: expected sled or postgres"),
            };
        }
        if let Some(v) = get("LOTSE_STORE_URL_ENV") {
            self.store.url_env = Some(v);
        }
        if let Some(v) = get("LOTSE_STORE_MAX_CONNECTIONS") {
            self.store.max_connections = v
                .parse()
                .with_context(|| format!("LOTSE_STORE_MAX_CONNECTIONS={v} is not a number"))?;
        }
        if let Some(v) = get("LOTSE_ADMIN_COOKIE_SECURE") {
            self.admin.cookie_secure = match v.as_str() {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => bail!("LOTSE_ADMIN_COOKIE_SECURE={v} is not true or false"),
            };
        }
        if let Some(v) = get("LOTSE_HEADER_TIMEOUT_SECONDS") {
            self.connections.header_timeout_seconds = v.parse().with_context(|| {
                format!("LOTSE_HEADER_TIMEOUT_SECONDS={v} is not a number of seconds")
            })?;
        }
        if let Some(v) = get("LOTSE_METRICS_ALLOW") {
            self.metrics.allow = v
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(|a| {
                    a.parse()
                        .with_context(|| format!("LOTSE_METRICS_ALLOW: {a} is not an IP address"))
                })
                .collect::<anyhow::Result<_>>()?;
        }
        if let Some(v) = get("LOTSE_TRUSTED_PROXIES") {
            self.proxy.trusted = v
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_string)
                .collect();
        }
        if let Some(v) = get("LOTSE_API_CORS_ORIGINS") {
            self.api.cors_origins = v
                .split(',')
                .map(|o| o.trim().to_string())
                .filter(|o| !o.is_empty())
                .collect();
        }
        if let Some(v) = get("LOTSE_CLIENT_IP_HEADER") {
            self.proxy.client_header = v;
        }
        if let Some(v) = get("LOTSE_MAX_CONNECTIONS") {
            self.connections.max = v
                .parse()
                .with_context(|| format!("LOTSE_MAX_CONNECTIONS={v} is not a number"))?;
        }
        if let Some(v) = get("LOTSE_MAINTENANCE_INTERVAL_MINUTES") {
            self.maintenance.interval_minutes = v.parse().with_context(|| {
                format!("LOTSE_MAINTENANCE_INTERVAL_MINUTES={v} is not a number of minutes")
            })?;
        }
        if let Some(v) = get("LOTSE_ATTACHMENT_GRACE_MINUTES") {
            self.maintenance.attachment_grace_minutes = v.parse().with_context(|| {
                format!("LOTSE_ATTACHMENT_GRACE_MINUTES={v} is not a number of minutes")
            })?;
        }
        if let Some(v) = get("LOTSE_ADMIN_SESSION_HOURS") {
            self.admin.session_hours = v.parse().with_context(|| {
                format!("LOTSE_ADMIN_SESSION_HOURS={v} is not a number of hours")
            })?;
        }
        mail::MailConfig::apply_env(&mut self.mail, &get)?;
        Ok(())
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.api.validate()?;
        if let Some(m) = &self.mail {
            m.validate()?;
        }
        if !(1..=300).contains(&self.connections.header_timeout_seconds) {
            bail!(
                "connections.header_timeout_seconds must be between 1 and 300, not {}",
                self.connections.header_timeout_seconds
            );
        }
        if !(1..=100_000).contains(&self.connections.max) {
            bail!(
                "connections.max must be between 1 and 100000, not {}",
                self.connections.max
            );
        }
        proxy::TrustedProxies::from_config(&self.proxy)?;
        if self.store.backend == Backend::Postgres {
            self.store.database_url()?;
            if self.store.max_connections == 0 {
                bail!("[store] max_connections must be at least 1");
            }
        }
        if !self.admin.cookie_secure && !self.listen.ip().is_loopback() {
            bail!(
                "admin.cookie_secure = false is only allowed when listen is a loopback address (plain http on this machine); {} is not",
                self.listen
            );
        }
        if !(1..=24).contains(&self.admin.session_hours) {
            bail!("admin.session_hours must be between 1 and 24");
        }
        if !(1..=1440).contains(&self.maintenance.interval_minutes) {
            bail!("maintenance.interval_minutes must be between 1 and 1440");
        }
        if !(1..=90).contains(&self.delivery.attachment_link_days) {
            bail!("delivery.attachment_link_days must be between 1 and 90");
        }
        if !(1..=10_080).contains(&self.maintenance.attachment_grace_minutes) {
            bail!("maintenance.attachment_grace_minutes must be between 1 and 10080");
        }
        let (portal, _) = crate::tenants::load(&self.project_dir);
        for (slug, t) in &self.tenants {
            if portal.find(slug).is_none() {
                bail!(
                    "the configuration names tenant \"{slug}\", which does not exist; tenants: {}",
                    portal.slugs().join(", ")
                );
            }
            if let Some(days) = t.retention_days
                && !(1..=36_500).contains(&days)
            {
                bail!("tenant {slug}: retention_days must be between 1 and 36500, not {days}");
            }
            match &t.signing {
                Some(Signing::Pem {
                    key_file,
                    certificate_file,
                }) => {
                    for f in [key_file, certificate_file] {
                        if !f.is_file() {
                            bail!("tenant {slug}: signing file {} does not exist", f.display());
                        }
                    }
                }
                Some(Signing::Pkcs12 {
                    pkcs12_file,
                    password_env,
                }) => {
                    if !pkcs12_file.is_file() {
                        bail!(
                            "tenant {slug}: PKCS#12 file {} does not exist",
                            pkcs12_file.display()
                        );
                    }
                    if std::env::var_os(password_env).is_none() {
                        bail!(
                            "tenant {slug}: the environment variable {password_env} with the PKCS#12 password is not set"
                        );
                    }
                }
                None => {}
            }
        }
        crate::delivery::Webhooks::from_config(self, &|k| std::env::var(k).ok())?;
        Ok(())
    }

    pub fn signing(&self, tenant: &str) -> Option<&Signing> {
        self.tenants.get(tenant).and_then(|t| t.signing.as_ref())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn defaults_need_no_file() {
        let c = Config::default();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("data"));
    }

    #[test]
    fn unknown_keys_and_unknown_tenants_are_refused() {
        assert!(toml::from_str::<Config>("lisen = \"127.0.0.1:1\"").is_err());
        let c: Config = toml::from_str("[tenants.nirgendwo]\n").unwrap();
        assert!(c.validate().is_err());
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let mut c: Config =
            toml::from_str("listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/a\"").unwrap();
        c.apply_env(|k| (k == "LOTSE_DATA_DIR").then(|| "/srv/b".to_string()))
            .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.data_dir, PathBuf::from("/srv/b"));
        assert!(
            c.apply_env(|k| (k == "LOTSE_LISTEN").then(|| "kaputt".to_string()))
                .is_err()
        );
    }

    #[test]
    fn cors_origins_are_none_by_default_and_must_be_origins() {
        assert!(Config::default().api.cors_origins.is_empty());
        let mut c: Config =
            toml::from_str("[api]\ncors_origins = [\"https://antrag.example.de\"]").unwrap();
        assert!(c.api.validate().is_ok());
        c.apply_env(|k| {
            (k == "LOTSE_API_CORS_ORIGINS")
                .then(|| "http://127.0.0.1:8081, https://a.example:8443".to_string())
        })
        .unwrap();
        assert_eq!(
            c.api.cors_origins,
            ["http://127.0.0.1:8081", "https://a.example:8443"]
        );
        assert!(c.api.validate().is_ok());
        for wrong in [
            "*",
            "https://a.example/pfad",
            "antrag.example.de",
            "https://",
        ] {
            c.api.cors_origins = vec![wrong.to_string()];
            assert!(c.api.validate().is_err(), "{wrong}");
        }
    }

    #[test]
    fn housekeeping_interval_and_retention_are_checked() {
        let c = Config::default();
        assert_eq!(c.maintenance.interval_minutes, 60);
        c.validate().unwrap();
        let zero: Config = toml::from_str("[maintenance]\ninterval_minutes = 0\n").unwrap();
        assert!(zero.validate().is_err());
        assert_eq!(c.maintenance.attachment_grace_minutes, 60);
        let no_grace: Config =
            toml::from_str("[maintenance]\nattachment_grace_minutes = 0\n").unwrap();
        assert!(no_grace.validate().is_err());
        let c: Config = toml::from_str("[tenants.heinsberg]\nretention_days = 730\n").unwrap();
        c.validate().unwrap();
        assert_eq!(c.tenants["heinsberg"].retention_days, Some(730));
        let none: Config = toml::from_str("[tenants.heinsberg]\nretention_days = 0\n").unwrap();
        let err = none.validate().unwrap_err().to_string();
        assert!(err.contains("retention_days"), "{err}");
        assert!(toml::from_str::<Config>("[maintenance]\nintervall = 5\n").is_err());
        let mut c = Config::default();
        c.apply_env(|k| (k == "LOTSE_MAINTENANCE_INTERVAL_MINUTES").then(|| "15".to_string()))
            .unwrap();
        assert_eq!(c.maintenance.interval_minutes, 15);
    }

    #[test]
    fn the_store_is_sled_unless_postgres_is_configured_and_the_password_is_never_shown() {
        assert_eq!(Config::default().store.backend, Backend::Sled);
        let c: Config = toml::from_str(
            "[store]\nbackend = \"postgres\"\nurl = \"postgres://lotse:geheim@db:5432/lotse\"\nmax_connections = 4\n",
        )
        .unwrap();
        assert_eq!(c.store.backend, Backend::Postgres);
        c.validate().unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("geheim"), "{shown}");
        assert!(shown.contains("db:5432"));
        assert!(toml::from_str::<Config>("[store]\nbackend = \"mysql\"\n").is_err());
        let mut c: Config = toml::from_str("[store]\nbackend = \"postgres\"\n").unwrap();
        assert!(c.validate().is_err(), "no URL");
        c.apply_env(|k| match k {
            "LOTSE_STORE_URL_ENV" => Some("LOTSE_TEST_SURELY_UNSET_URL".into()),
            _ => None,
        })
        .unwrap();
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("LOTSE_TEST_SURELY_UNSET_URL"), "{err}");
        c.apply_env(|k| (k == "LOTSE_STORE_BACKEND").then(|| "sled".into()))
            .unwrap();
        c.validate().unwrap();
    }

    #[test]
    fn insecure_cookies_only_on_loopback() {
        let mut c: Config = toml::from_str("[admin]\ncookie_secure = false\n").unwrap();
        assert!(
            c.validate().is_ok(),
            "the default listen address is loopback"
        );
        c.listen = "0.0.0.0:8080".parse().unwrap();
        assert!(c.validate().is_err());
        c.apply_env(|k| (k == "LOTSE_ADMIN_COOKIE_SECURE").then(|| "true".to_string()))
            .unwrap();
        assert!(c.validate().is_ok());
        assert!(
            toml::from_str::<Config>("[admin]\nsession_hours = 0\n")
                .unwrap()
                .validate()
                .is_err()
        );
    }

    #[test]
    fn signing_files_are_pem_or_pkcs12() {
        let c: Config = toml::from_str(
            "[tenants.heinsberg.signing]\nkey_file = \"k.pem\"\ncertificate_file = \"c.pem\"\n[tenants.wegberg.signing]\npkcs12_file = \"w.p12\"\npassword_env = \"WEGBERG_P12\"\n",
        )
        .unwrap();
        assert!(matches!(c.signing("heinsberg"), Some(Signing::Pem { .. })));
        assert!(matches!(c.signing("wegberg"), Some(Signing::Pkcs12 { .. })));
        assert!(c.validate().is_err(), "the files do not exist");
    }
}
