//! The offices' webhooks: endpoints per tenant and service from the configuration (secrets
//! from the environment), TLS, the notifications enqueued with a submission, and signatures.

#[allow(unused_imports)]
use super::*;

/// One configured receiver.
#[derive(Clone)]
pub struct Endpoint {
    /// The tenant slug this endpoint belongs to.
    pub(super) tenant: String,
    pub(super) uri: hyper::Uri,
    pub(super) secret: Arc<[u8]>,
    pub(super) timeout: Duration,
    /// For https: the TLS client configuration (trusted roots, ALPN http/1.1).
    pub(super) tls: Option<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for Endpoint {
    // The secret never appears in a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("tenant", &self.tenant)
            .field("uri", &self.uri)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Every configured webhook, by target name (`<tenant>/<workflow>`, or `<tenant>/*` for the
/// tenant's default), with the secrets read from the environment, and the retry settings.
#[derive(Clone, Debug, Default)]
pub struct Webhooks {
    pub(super) endpoints: BTreeMap<String, Endpoint>,
    pub(super) settings: DeliverySettings,
    /// Signed download links for the attachments in a delivery (without: none are sent).
    pub(super) links: Option<Arc<crate::uploads::links::AttachmentLinks>>,
}

impl Webhooks {
    /// With signed, expiring download links for the attachments of each delivery.
    pub fn with_links(mut self, links: Arc<crate::uploads::links::AttachmentLinks>) -> Webhooks {
        self.links = Some(links);
        self
    }

    /// The links the deliveries carry, if any.
    pub fn links(&self) -> Option<&Arc<crate::uploads::links::AttachmentLinks>> {
        self.links.as_ref()
    }

    /// Resolves and checks the webhooks of `config`; `env` looks up environment variables.
    /// Errors carry their code (LOT-W001 … LOT-W004) and name tenant, service and key, never
    /// a secret.
    pub fn from_config(
        config: &Config,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Webhooks> {
        let s = &config.delivery;
        if s.retry_seconds.is_empty() {
            bail!("LOT-W003: delivery.retry_seconds needs at least one entry");
        }
        if s.max_attempts == 0 {
            bail!("LOT-W003: delivery.max_attempts must be at least 1");
        }
        if s.poll_seconds.is_zero() {
            bail!("LOT-W003: delivery.poll_seconds must be more than 0");
        }
        let mut endpoints = BTreeMap::new();
        let mut roots = SystemRoots::default();
        let (portal, _) = crate::tenants::load(&config.project_dir);
        for (slug, t) in &config.tenants {
            let Some(tenant) = portal.find(slug) else {
                bail!("the configuration names tenant \"{slug}\", which does not exist");
            };
            if let Some(w) = &t.webhook {
                let place = format!("tenants.{slug}.webhook");
                endpoints.insert(
                    format!("{slug}/*"),
                    endpoint(slug, &place, w, env, &mut roots)?,
                );
            }
            for (service, w) in &t.webhooks {
                let place = format!("tenants.{slug}.webhooks.{service}");
                let offered: Vec<String> = match &tenant.services {
                    lotse_core::portal::Services::List(l) => l.clone(),
                    // Every workflow of the project: read them only for this rare case.
                    lotse_core::portal::Services::All => {
                        let sandbox = lotse_core::script::Sandbox::default();
                        let (library, _) = lotse_core::load_library(&config.project_dir, &sandbox);
                        library.workflows.keys().cloned().collect()
                    }
                };
                if !offered.iter().any(|s| s == service) {
                    let offered = offered.join(", ");
                    bail!(
                        "LOT-W003: {place}: {} does not offer the service \"{service}\"; its services are: {offered}",
                        tenant.name,
                    );
                }
                endpoints.insert(
                    format!("{slug}/{service}"),
                    endpoint(slug, &place, w, env, &mut roots)?,
                );
            }
        }
        Ok(Webhooks {
            links: None,
            endpoints,
            settings: s.clone(),
        })
    }

    /// The target name of the webhook that receives `workflow`'s submissions in `tenant`:
    /// the service's own, else the tenant's default, else none.
    pub fn target(&self, tenant: &str, workflow: &str) -> Option<String> {
        [format!("{tenant}/{workflow}"), format!("{tenant}/*")]
            .into_iter()
            .find(|t| self.endpoints.contains_key(t))
    }

    /// The longest attempt any endpoint allows.
    pub(super) fn longest_timeout(&self) -> Duration {
        self.endpoints
            .values()
            .map(|e| e.timeout)
            .max()
            .unwrap_or(Duration::from_secs(10))
    }

    /// Whether any webhook is configured.
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }
}

/// The system's trust store, read once and only if an https webhook needs it.
#[derive(Default)]
pub(super) struct SystemRoots(Option<Arc<rustls::RootCertStore>>);

impl SystemRoots {
    fn get(&mut self, place: &str) -> anyhow::Result<Arc<rustls::RootCertStore>> {
        if let Some(r) = &self.0 {
            return Ok(r.clone());
        }
        let mut store = rustls::RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        let (added, _ignored) = store.add_parsable_certificates(found.certs);
        if added == 0 {
            bail!(
                "LOT-W004: {place}: no trusted root certificates found on this system (install the ca-certificates package, or name the office's CA in ca_file)"
            );
        }
        let store = Arc::new(store);
        self.0 = Some(store.clone());
        Ok(store)
    }
}

pub(super) fn tls_config(
    place: &str,
    ca_file: Option<&std::path::Path>,
    system: &mut SystemRoots,
) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let roots = match ca_file {
        Some(path) => {
            let shown = path.display();
            let mut store = rustls::RootCertStore::empty();
            let certs = match CertificateDer::pem_file_iter(path) {
                Ok(it) => it,
                Err(e) => bail!("LOT-W004: {place}.ca_file {shown} cannot be read: {e}"),
            };
            for cert in certs {
                let cert = match cert {
                    Ok(c) => c,
                    Err(e) => bail!("LOT-W004: {place}.ca_file {shown} is not valid PEM: {e}"),
                };
                if let Err(e) = store.add(cert) {
                    bail!("LOT-W004: {place}.ca_file {shown}: a certificate is not usable: {e}");
                }
            }
            if store.is_empty() {
                bail!("LOT-W004: {place}.ca_file {shown} holds no certificate");
            }
            Arc::new(store)
        }
        None => system.get(place)?,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = match rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
    {
        Ok(b) => b.with_root_certificates(roots).with_no_client_auth(),
        Err(e) => bail!("LOT-W004: {place}: TLS cannot be set up: {e}"),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

pub(super) fn endpoint(
    tenant: &str,
    place: &str,
    w: &crate::config::Webhook,
    env: &dyn Fn(&str) -> Option<String>,
    roots: &mut SystemRoots,
) -> anyhow::Result<Endpoint> {
    let uri: hyper::Uri = match w.url.parse() {
        Ok(u) => u,
        Err(e) => bail!("LOT-W001: {place}.url \"{}\" is not a URL: {e}", w.url),
    };
    let tls = match uri.scheme_str() {
        Some("https") => Some(tls_config(place, w.ca_file.as_deref(), roots)?),
        Some("http") if w.ca_file.is_some() => {
            bail!("LOT-W004: {place}.ca_file is only used with an https:// URL")
        }
        Some("http") => None,
        _ => bail!(
            "LOT-W001: {place}.url \"{}\" must start with https:// or http://",
            w.url
        ),
    };
    if uri.host().is_none_or(str::is_empty) {
        bail!("LOT-W001: {place}.url \"{}\" has no host", w.url);
    }
    if w.url.contains('@') {
        bail!("LOT-W001: {place}.url must not carry a user or password");
    }
    let secret = match env(&w.secret_env) {
        None => bail!(
            "LOT-W002: {place}: the environment variable {} with the webhook secret is not set",
            w.secret_env
        ),
        Some(s) if s.chars().count() < MIN_SECRET_LEN => bail!(
            "LOT-W002: {place}: the webhook secret in {} is shorter than {MIN_SECRET_LEN} characters",
            w.secret_env
        ),
        Some(s) => s,
    };
    let timeout = w.timeout_seconds.unwrap_or(10);
    if !(1..=120).contains(&timeout) {
        bail!("LOT-W003: {place}.timeout_seconds must be between 1 and 120, not {timeout}");
    }
    Ok(Endpoint {
        tenant: tenant.to_string(),
        uri,
        secret: Arc::from(secret.into_bytes()),
        timeout: Duration::from_secs(timeout),
        tls,
    })
}

/// The outbox messages to store with a new submission of `workflow` in `tenant`: one per
/// configured webhook (so far at most one). The payload names the submission only; the worker
/// loads the stored submission and its receipt when it sends (docs/delivery.md, "Why the
/// outbox holds only the id").
pub fn notifications(
    webhooks: &Webhooks,
    tenant: &str,
    workflow: &str,
    submission: &SubmissionId,
) -> Vec<NewOutboxMessage> {
    webhooks
        .target(tenant, workflow)
        .map(|target| NewOutboxMessage {
            topic: SUBMISSION_RECEIVED.to_string(),
            target,
            payload: json!({ "submission": submission.to_string() }),
        })
        .into_iter()
        .collect()
}

/// The signature header value for `body` at unix time `t`.
///
/// ```
/// let h = lotse_server::delivery::signature(b"0123456789abcdef", 1_700_000_000, b"{}");
/// assert!(h.starts_with("t=1700000000,v1="));
/// assert_eq!(h.len(), "t=1700000000,v1=".len() + 64);
/// ```
pub fn signature(secret: &[u8], t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", hex(&hmac_sha256(secret, t, body)))
}

pub(super) fn hmac_sha256(secret: &[u8], t: i64, body: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; the error branch cannot happen.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return [0; 32];
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// Checks a signature header as a receiver should: the HMAC over `"<t>.<body>"` in constant
/// time, and `t` no further than `tolerance` seconds from `now`.
pub fn verify_signature(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> bool {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.push(v.to_string()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if (now - t).abs() > tolerance {
        return false;
    }
    sigs.iter().any(|s| {
        let Some(bytes) = unhex(s) else { return false };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
            return false;
        };
        mac.update(t.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(&bytes).is_ok()
    })
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}
