//! Delivery of submissions to the offices' systems by webhook: the configured endpoints per
//! tenant and service, the notifications the portal enqueues with each submission, the worker
//! that sends them from the store's outbox (signed, retried with backoff, at least once), and
//! the view of deliveries and failures for the Postkorb. Format and semantics: docs/delivery.md.
//!
//! The worker talks to the store only through the `Store` traits and to the network only
//! through hyper's HTTP/1 client, over rustls (ring provider) for https; no portal or page type
//! appears here.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use lotse_core::{Clock, SystemClock};
use lotse_store::{
    AnyStore, DeliveryState, Entropy, NewOutboxMessage, OsEntropy, Outbox, OutboxMessage,
    StoreError, Submission, SubmissionId, SubmissionStore, TenantId,
};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::config::{Config, DeliverySettings};
use crate::telemetry::Metrics;

/// The topic of the one event delivered so far.
pub const SUBMISSION_RECEIVED: &str = "submission.received";

/// The header with the signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub const SIGNATURE_HEADER: &str = "Lotse-Signature";
/// The header with the delivery id; the same for every attempt of one delivery.
pub const DELIVERY_HEADER: &str = "Lotse-Delivery";
/// The header with the topic.
pub const EVENT_HEADER: &str = "Lotse-Event";

/// The shortest secret accepted: a shared secret is only as good as its length.
const MIN_SECRET_LEN: usize = 16;
/// The longest answer body read from a receiver; the rest is dropped unread.
const MAX_ANSWER: usize = 64 * 1024;
/// How long a delivery whose receipt file is not written yet waits before the next look.
const RECEIPT_WAIT: Duration = Duration::from_secs(2);
/// After this long without a receipt file (a crash between storing and rendering), the
/// submission is delivered without it.
const RECEIPT_GRACE: time::Duration = time::Duration::minutes(10);
/// How many deliveries one round of the worker claims and sends concurrently.
const BATCH: usize = 16;

/// One configured receiver.
#[derive(Clone)]
pub struct Endpoint {
    /// The tenant slug this endpoint belongs to.
    tenant: String,
    uri: hyper::Uri,
    secret: Arc<[u8]>,
    timeout: Duration,
    /// For https: the TLS client configuration (trusted roots, ALPN http/1.1).
    tls: Option<Arc<rustls::ClientConfig>>,
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
    endpoints: BTreeMap<String, Endpoint>,
    settings: DeliverySettings,
}

impl Webhooks {
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
        for (slug, t) in &config.tenants {
            let Some(tenant) = crate::tenants::find(slug) else {
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
                if !tenant.services.contains(&service.as_str()) {
                    bail!(
                        "LOT-W003: {place}: {} does not offer the service \"{service}\"; its services are: {}",
                        tenant.name,
                        tenant.services.join(", ")
                    );
                }
                endpoints.insert(
                    format!("{slug}/{service}"),
                    endpoint(slug, &place, w, env, &mut roots)?,
                );
            }
        }
        Ok(Webhooks {
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
    fn longest_timeout(&self) -> Duration {
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
struct SystemRoots(Option<Arc<rustls::RootCertStore>>);

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

fn tls_config(
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

fn endpoint(
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

fn hmac_sha256(secret: &[u8], t: i64, body: &[u8]) -> [u8; 32] {
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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

/// The body of a delivery: the stored submission exactly as stored, and its receipt.
#[derive(Serialize)]
struct Envelope<'a> {
    event: &'a str,
    delivery: u64,
    tenant: &'a str,
    reference: String,
    submission: &'a serde_json::value::RawValue,
    receipt: Option<ReceiptPart>,
}

#[derive(Serialize)]
struct ReceiptPart {
    content_type: &'static str,
    file_name: String,
    sha256: String,
    base64: String,
}

/// The submission record as the store holds it (the `d` of its `{"v":1,"d":…}` record).
pub fn submission_json(submission: &Submission) -> Result<String, serde_json::Error> {
    serde_json::to_string(submission)
}

/// What one attempt came to.
enum Attempt {
    Delivered,
    /// Try again (at the time the schedule gives, or at the time given).
    Retry(String, Option<OffsetDateTime>),
    /// Nothing will ever make this deliverable.
    GiveUp(String),
}

/// The delivery worker: a tokio task that sends due deliveries until [`Worker::stop`].
pub struct Worker {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Worker {
    /// Starts the worker on `store`; receipts are read through [`crate::nodes::find_receipt`]
    /// (with sled from `receipts/<submission id>.pdf`, with PostgreSQL from the database).
    /// Must be called inside a tokio runtime.
    pub fn start(store: impl Into<AnyStore>, webhooks: Arc<Webhooks>, receipts: PathBuf) -> Worker {
        Worker::spawn(store.into(), webhooks, receipts, None)
    }

    /// [`Worker::start`], counting attempts and batch sizes in the portal's metrics.
    pub fn start_observed(
        store: AnyStore,
        webhooks: Arc<Webhooks>,
        receipts: PathBuf,
        metrics: Arc<Metrics>,
    ) -> Worker {
        Worker::spawn(store, webhooks, receipts, Some(metrics))
    }

    fn spawn(
        store: AnyStore,
        webhooks: Arc<Webhooks>,
        receipts: PathBuf,
        metrics: Option<Arc<Metrics>>,
    ) -> Worker {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(run(store, webhooks, receipts, metrics, stopped));
        Worker { stop, task }
    }

    /// Stops the worker: attempts in flight get up to five seconds to finish; an attempt cut
    /// off stays claimed until its lease ends and is then sent again (at least once).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn run(
    store: AnyStore,
    webhooks: Arc<Webhooks>,
    receipts: PathBuf,
    metrics: Option<Arc<Metrics>>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let lease = time::Duration::seconds(30)
        + time::Duration::try_from(webhooks.longest_timeout()).unwrap_or(time::Duration::MINUTE);
    let mut last_prune: Option<OffsetDateTime> = None;
    loop {
        if *stopped.borrow() {
            return;
        }
        let now = SystemClock.now();
        if last_prune.is_none_or(|at| now - at > time::Duration::HOUR) {
            last_prune = Some(now);
            let keep = time::Duration::days(i64::from(webhooks.settings.keep_days));
            let s = store.clone();
            if let Ok(Ok(n)) = tokio::task::spawn_blocking(move || s.prune_outbox(now - keep)).await
                && n > 0
            {
                tracing::info!(event = "outbox_pruned", count = n);
            }
        }
        let s = store.clone();
        let claimed = tokio::task::spawn_blocking(move || s.claim(now, lease, BATCH)).await;
        let batch = match claimed {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => {
                tracing::error!(event = "outbox_claim_failed", code = e.code(), cause = %e);
                Vec::new()
            }
            Err(_) => Vec::new(),
        };
        if let Some(m) = &metrics {
            m.delivery_batch(batch.len());
        }
        if batch.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep(webhooks.settings.poll_seconds) => {}
                _ = stopped.changed() => return,
            }
            continue;
        }
        let mut set = tokio::task::JoinSet::new();
        for msg in batch {
            set.spawn(deliver_one(
                store.clone(),
                webhooks.clone(),
                receipts.clone(),
                metrics.clone(),
                msg,
            ));
        }
        let all = async { while set.join_next().await.is_some() {} };
        tokio::pin!(all);
        tokio::select! {
            _ = &mut all => {}
            _ = stopped.changed() => {
                // Shutting down: give the attempts in flight a moment, then cut them off.
                let _ = tokio::time::timeout(Duration::from_secs(5), &mut all).await;
                return;
            }
        }
    }
}

async fn deliver_one(
    store: AnyStore,
    webhooks: Arc<Webhooks>,
    receipts: PathBuf,
    metrics: Option<Arc<Metrics>>,
    msg: OutboxMessage,
) {
    let outcome = attempt(&store, &webhooks, &receipts, &msg).await;
    let now = SystemClock.now();
    let settings = &webhooks.settings;
    let (verdict, error, retry_at) = match outcome {
        Attempt::Delivered => ("delivered", None, None),
        Attempt::GiveUp(e) => ("given_up", Some(e), None),
        Attempt::Retry(e, Some(at)) => ("waiting", Some(e), Some(at)),
        Attempt::Retry(e, None) => {
            let attempts = msg.attempts.saturating_add(1);
            let next = now + backoff(settings, msg.attempts);
            let deadline = msg.created
                + time::Duration::try_from(settings.give_up_after_hours)
                    .unwrap_or(time::Duration::days(3));
            if attempts >= settings.max_attempts || next > deadline {
                (
                    "given_up",
                    Some(format!(
                        "LOT-W017: aufgegeben nach {attempts} Versuchen; zuletzt {e}"
                    )),
                    None,
                )
            } else {
                ("retry", Some(e), Some(next))
            }
        }
    };
    let id = msg.id;
    let e2 = error.clone();
    let marked = tokio::task::spawn_blocking(move || match e2 {
        None => store.mark_delivered(id, now),
        Some(e) => store.mark_failed(id, now, &e, retry_at),
    })
    .await;
    let tenant = msg.tenant.as_ref().map(TenantId::slug).unwrap_or("-");
    let attempt = msg.attempts.saturating_add(1);
    let cause = error.as_deref().unwrap_or("");
    match verdict {
        "given_up" => {
            tracing::error!(event = "webhook_delivery", delivery = id, tenant, target = %msg.target, attempt, outcome = verdict, cause)
        }
        "retry" => {
            tracing::warn!(event = "webhook_delivery", delivery = id, tenant, target = %msg.target, attempt, outcome = verdict, cause)
        }
        _ => {
            tracing::info!(event = "webhook_delivery", delivery = id, tenant, target = %msg.target, attempt, outcome = verdict, cause)
        }
    }
    if let Some(m) = &metrics {
        m.delivery(match verdict {
            "given_up" => "failed",
            "retry" | "waiting" => "retry",
            _ => "delivered",
        });
    }
    if let Ok(Err(e)) = marked {
        tracing::error!(event = "outbox_mark_failed", delivery = id, code = e.code());
    }
}

/// The wait before the next try after `failed_before` failed attempts: the schedule's entry
/// (the last repeats), varied by ±20 % so that many deliveries do not retry in lockstep.
fn backoff(settings: &DeliverySettings, failed_before: u32) -> time::Duration {
    let i = usize::try_from(failed_before).unwrap_or(usize::MAX);
    let base = settings
        .retry_seconds
        .get(i)
        .or(settings.retry_seconds.last())
        .copied()
        .unwrap_or(Duration::from_secs(60));
    let mut b = [0u8; 2];
    let r = match OsEntropy.fill_bytes(&mut b) {
        Ok(()) => f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX),
        Err(_) => 0.5,
    };
    let jittered = base.mul_f64(0.8 + 0.4 * r);
    time::Duration::try_from(jittered).unwrap_or(time::Duration::MINUTE)
}

async fn attempt(
    store: &AnyStore,
    webhooks: &Webhooks,
    receipts: &std::path::Path,
    msg: &OutboxMessage,
) -> Attempt {
    if msg.topic != SUBMISSION_RECEIVED {
        return Attempt::GiveUp(format!("LOT-W016: unbekanntes Ereignis \"{}\"", msg.topic));
    }
    let Some(sid) = msg
        .payload
        .get("submission")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<SubmissionId>().ok())
    else {
        return Attempt::GiveUp("LOT-W016: Auftrag ohne gültige Antrags-Id".into());
    };
    let Some(endpoint) = webhooks.endpoints.get(&msg.target) else {
        return Attempt::GiveUp(format!(
            "LOT-W015: kein Webhook \"{}\" mehr konfiguriert",
            msg.target
        ));
    };
    let s = store.clone();
    let receipts = receipts.to_path_buf();
    let loaded = tokio::task::spawn_blocking(
        move || -> Result<(Option<Submission>, Option<Vec<u8>>), StoreError> {
            let sub = s.submission(&sid)?;
            // Read only once the submission is known, and only its own receipt.
            let pdf = match &sub {
                Some(_) => crate::nodes::find_receipt(&s, &receipts, &sid)
                    .ok()
                    .flatten(),
                None => None,
            };
            Ok((sub, pdf))
        },
    )
    .await;
    let (submission, pdf) = match loaded {
        Ok(Ok((Some(sub), pdf))) => (sub, pdf),
        Ok(Ok((None, _))) => {
            return Attempt::GiveUp(
                "LOT-W014: der Antrag ist nicht mehr gespeichert (gelöscht)".into(),
            );
        }
        Ok(Err(e)) => return Attempt::Retry(format!("{}: Speicher", e.code()), None),
        Err(_) => return Attempt::Retry("LOT-W016: interner Fehler".into(), None),
    };
    // Tenants strictly apart: the message, the submission and the endpoint agree.
    if msg.tenant.as_ref() != Some(&submission.tenant)
        || endpoint.tenant != submission.tenant.slug()
    {
        return Attempt::GiveUp("LOT-W016: Mandant des Auftrags passt nicht".into());
    }
    let now = SystemClock.now();
    if pdf.is_none() && now - submission.submitted < RECEIPT_GRACE {
        return Attempt::Retry(
            "LOT-W013: Eingangsbestätigung noch nicht geschrieben".into(),
            Some(now + time::Duration::try_from(RECEIPT_WAIT).unwrap_or(time::Duration::SECOND)),
        );
    }
    let body = match envelope(msg.id, &submission, pdf.as_deref()) {
        Ok(b) => b,
        Err(_) => return Attempt::GiveUp("LOT-W016: Antrag nicht darstellbar".into()),
    };
    let t = now.unix_timestamp();
    let sig = signature(&endpoint.secret, t, &body);
    match post(endpoint, msg, &sig, body).await {
        Ok(status) if (200..300).contains(&status) => Attempt::Delivered,
        Ok(status) => Attempt::Retry(
            format!("LOT-W012: Empfänger antwortete HTTP {status}"),
            None,
        ),
        Err(e) => Attempt::Retry(e, None),
    }
}

/// The JSON body: see docs/delivery.md. The submission is embedded byte for byte as stored.
fn envelope(
    delivery: u64,
    s: &Submission,
    pdf: Option<&[u8]>,
) -> Result<Vec<u8>, serde_json::Error> {
    let raw = serde_json::value::RawValue::from_string(submission_json(s)?)?;
    let reference = s.reference.to_string();
    let receipt = pdf.map(|pdf| ReceiptPart {
        content_type: "application/pdf",
        file_name: format!("Eingangsbestaetigung-{reference}.pdf"),
        sha256: hex(&Sha256::digest(pdf)),
        base64: base64::engine::general_purpose::STANDARD.encode(pdf),
    });
    serde_json::to_vec(&Envelope {
        event: SUBMISSION_RECEIVED,
        delivery,
        tenant: s.tenant.slug(),
        reference,
        submission: &raw,
        receipt,
    })
}

/// One POST over a fresh HTTP/1.1 connection, within the endpoint's timeout. Returns the
/// status; errors are short texts with a code and no personal data.
async fn post(
    endpoint: &Endpoint,
    msg: &OutboxMessage,
    sig: &str,
    body: Vec<u8>,
) -> Result<u16, String> {
    let timeout = endpoint.timeout;
    match tokio::time::timeout(timeout, post_inner(endpoint, msg, sig, body)).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "LOT-W011: keine Antwort innerhalb von {} s",
            timeout.as_secs()
        )),
    }
}

async fn post_inner(
    endpoint: &Endpoint,
    msg: &OutboxMessage,
    sig: &str,
    body: Vec<u8>,
) -> Result<u16, String> {
    let uri = &endpoint.uri;
    let host = uri.host().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri
        .port_u16()
        .unwrap_or(if endpoint.tls.is_some() { 443 } else { 80 });
    let stream = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("LOT-W010: Verbindung fehlgeschlagen ({})", e.kind()))?;
    let _ = stream.set_nodelay(true);
    let Some(tls) = &endpoint.tls else {
        return exchange(
            hyper_util::rt::TokioIo::new(stream),
            endpoint,
            msg,
            sig,
            body,
        )
        .await;
    };
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|_| "LOT-W018: TLS: ungültiger Servername".to_string())?;
    let stream = tokio_rustls::TlsConnector::from(tls.clone())
        .connect(name, stream)
        .await
        .map_err(|e| {
            // rustls names the reason (e.g. "invalid peer certificate: UnknownIssuer"); no
            // personal data can be in it.
            let reason: String = e.to_string().chars().take(200).collect();
            format!("LOT-W018: TLS fehlgeschlagen ({reason})")
        })?;
    exchange(
        hyper_util::rt::TokioIo::new(stream),
        endpoint,
        msg,
        sig,
        body,
    )
    .await
}

/// One request and its answer over an established connection (plain or TLS).
async fn exchange<I>(
    io: I,
    endpoint: &Endpoint,
    msg: &OutboxMessage,
    sig: &str,
    body: Vec<u8>,
) -> Result<u16, String>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let uri = &endpoint.uri;
    let host = uri.host().unwrap_or_default();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|_| "LOT-W010: Verbindung fehlgeschlagen (HTTP)".to_string())?;
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let authority = uri.authority().map_or(host, |a| a.as_str());
    let req = hyper::Request::post(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(
            hyper::header::USER_AGENT,
            concat!("lotse/", env!("CARGO_PKG_VERSION")),
        )
        .header(SIGNATURE_HEADER, sig)
        .header(DELIVERY_HEADER, msg.id.to_string())
        .header(EVENT_HEADER, msg.topic.as_str())
        .body(Full::new(Bytes::from(body)))
        .map_err(|_| "LOT-W016: Anfrage nicht baubar".to_string())?;
    let result = async {
        let res = sender
            .send_request(req)
            .await
            .map_err(|_| "LOT-W010: Verbindung abgebrochen".to_string())?;
        let status = res.status().as_u16();
        // Read (and drop) a bounded answer, so the receiver is not cut off mid-write.
        let mut body = res.into_body();
        let mut read = 0usize;
        while read < MAX_ANSWER {
            match body.frame().await {
                Some(Ok(f)) => read += f.data_ref().map_or(0, Bytes::len),
                _ => break,
            }
        }
        Ok(status)
    }
    .await;
    driver.abort();
    result
}

/// A delivery's state as the Postkorb shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt.
    Offen,
    /// An attempt is under way.
    Laeuft,
    Zugestellt,
    /// Given up; the office must fetch the submission otherwise.
    Fehlgeschlagen,
}

impl DeliveryStatus {
    pub fn label_de(self) -> &'static str {
        match self {
            DeliveryStatus::Offen => "offen",
            DeliveryStatus::Laeuft => "wird zugestellt",
            DeliveryStatus::Zugestellt => "zugestellt",
            DeliveryStatus::Fehlgeschlagen => "fehlgeschlagen",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            DeliveryStatus::Offen => "pending",
            DeliveryStatus::Laeuft => "in progress",
            DeliveryStatus::Zugestellt => "delivered",
            DeliveryStatus::Fehlgeschlagen => "failed",
        }
    }
}

/// Which deliveries to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeliveryFilter {
    #[default]
    All,
    /// Not delivered yet, still being tried.
    Open,
    Delivered,
    Failed,
}

/// One delivery for the Postkorb: no personal data, only ids, states, times and error codes.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryView {
    pub id: u64,
    /// The submission delivered (its id, for a link to the detail view).
    pub submission: Option<String>,
    /// The webhook: `<tenant>/<workflow>` or `<tenant>/*`.
    pub target: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// When the next attempt is due (open deliveries only).
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub delivered_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub failed_at: Option<OffsetDateTime>,
}

impl From<&OutboxMessage> for DeliveryView {
    fn from(m: &OutboxMessage) -> Self {
        let (status, next_attempt, delivered_at, failed_at) = match m.state {
            DeliveryState::Pending => (DeliveryStatus::Offen, Some(m.next_attempt), None, None),
            DeliveryState::Claimed { .. } => (DeliveryStatus::Laeuft, None, None, None),
            DeliveryState::Delivered { at } => (DeliveryStatus::Zugestellt, None, Some(at), None),
            DeliveryState::Failed { at } => (DeliveryStatus::Fehlgeschlagen, None, None, Some(at)),
        };
        DeliveryView {
            id: m.id,
            submission: m
                .payload
                .get("submission")
                .and_then(Value::as_str)
                .map(str::to_string),
            target: m.target.clone(),
            status,
            attempts: m.attempts,
            last_error: m.last_error.clone(),
            created: m.created,
            next_attempt,
            delivered_at,
            failed_at,
        }
    }
}

/// Up to `limit` deliveries of `tenant` matching `filter`, newest first; `before` is the id of
/// the last entry of the previous page. Only this tenant's deliveries, ever. Blocking.
pub fn deliveries(
    store: &impl Outbox,
    tenant: &TenantId,
    filter: DeliveryFilter,
    before: Option<u64>,
    limit: usize,
) -> Result<Vec<DeliveryView>, StoreError> {
    let keep = move |m: &OutboxMessage| match filter {
        DeliveryFilter::All => true,
        DeliveryFilter::Open => matches!(
            m.state,
            DeliveryState::Pending | DeliveryState::Claimed { .. }
        ),
        DeliveryFilter::Delivered => matches!(m.state, DeliveryState::Delivered { .. }),
        DeliveryFilter::Failed => matches!(m.state, DeliveryState::Failed { .. }),
    };
    Ok(store
        .tenant_outbox(tenant, before, limit, &keep)?
        .iter()
        .map(DeliveryView::from)
        .collect())
}

/// Sends a given-up delivery of `tenant` again (the Postkorb's "Erneut senden"): it is due at
/// once and gets one more attempt; a failure gives it up again at once, since its attempts and
/// age are already past the schedule. `Ok(false)` if the delivery is not given up or belongs to
/// another tenant (which learns nothing about it). Blocking. The caller records who did it in
/// the audit log.
pub fn redeliver(
    store: &impl Outbox,
    tenant: &TenantId,
    id: u64,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    match store.outbox_message(id)? {
        Some(m) if m.tenant.as_ref() == Some(tenant) => store.requeue(id, now),
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::{TenantConfig, Webhook};

    fn config(url: &str, service: Option<&str>) -> Config {
        let hook = Webhook {
            url: url.into(),
            secret_env: "HOOK_SECRET".into(),
            timeout_seconds: None,
            ca_file: None,
        };
        let mut t = TenantConfig::default();
        match service {
            Some(s) => {
                t.webhooks.insert(s.into(), hook);
            }
            None => t.webhook = Some(hook),
        }
        let mut c = Config::default();
        c.tenants.insert("heinsberg".into(), t);
        c
    }

    fn env(k: &str) -> Option<String> {
        (k == "HOOK_SECRET").then(|| "ein-langes-geheimnis-0123".to_string())
    }

    fn err(c: &Config, env: &dyn Fn(&str) -> Option<String>) -> String {
        Webhooks::from_config(c, env).unwrap_err().to_string()
    }

    #[test]
    fn a_service_webhook_wins_over_the_tenant_default() {
        let mut c = config("http://127.0.0.1:9000/eingang", None);
        let own = Webhook {
            url: "http://127.0.0.1:9001/hunde".into(),
            secret_env: "HOOK_SECRET".into(),
            timeout_seconds: Some(3),
            ca_file: None,
        };
        c.tenants
            .get_mut("heinsberg")
            .unwrap()
            .webhooks
            .insert("hundesteuer-anmeldung".into(), own);
        let w = Webhooks::from_config(&c, &env).unwrap();
        assert_eq!(
            w.target("heinsberg", "hundesteuer-anmeldung").unwrap(),
            "heinsberg/hundesteuer-anmeldung"
        );
        assert_eq!(
            w.target("heinsberg", "bewohnerparkausweis").unwrap(),
            "heinsberg/*"
        );
        assert!(w.target("wegberg", "hundesteuer-anmeldung").is_none());
        let sid = SubmissionId::generate(&mut OsEntropy).unwrap();
        let n = notifications(&w, "heinsberg", "hundesteuer-anmeldung", &sid);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].payload["submission"], sid.to_string());
        assert!(notifications(&w, "erkelenz", "hundesteuer-anmeldung", &sid).is_empty());
    }

    #[test]
    fn bad_urls_missing_secrets_and_unknown_services_are_refused_precisely() {
        let e = err(&config("ftp://x/y", None), &env);
        assert!(
            e.starts_with("LOT-W001") && e.contains("tenants.heinsberg.webhook.url"),
            "{e}"
        );
        let mut c = config("https://amt.example/in", None);
        let hook = c
            .tenants
            .get_mut("heinsberg")
            .unwrap()
            .webhook
            .as_mut()
            .unwrap();
        hook.ca_file = Some("/nirgendwo/ca.pem".into());
        let e = err(&c, &env);
        assert!(
            e.starts_with("LOT-W004") && e.contains("/nirgendwo/ca.pem"),
            "{e}"
        );
        let mut c = config("http://127.0.0.1:9000/", None);
        let hook = c
            .tenants
            .get_mut("heinsberg")
            .unwrap()
            .webhook
            .as_mut()
            .unwrap();
        hook.ca_file = Some("/etc/ssl/ca.pem".into());
        assert!(err(&c, &env).starts_with("LOT-W004"));
        let e = err(&config("nicht eine url", None), &env);
        assert!(e.starts_with("LOT-W001"), "{e}");
        let e = err(&config("http://user:pw@host/x", None), &env);
        assert!(e.starts_with("LOT-W001"), "{e}");

        let c = config("http://127.0.0.1:9000/", None);
        let e = err(&c, &|_| None);
        assert!(
            e.starts_with("LOT-W002") && e.contains("HOOK_SECRET"),
            "{e}"
        );
        let e = err(&c, &|_| Some("kurz".into()));
        assert!(e.starts_with("LOT-W002") && !e.contains("kurz"), "{e}");

        let e = err(&config("http://127.0.0.1:9000/", Some("wohngeld")), &env);
        assert!(e.starts_with("LOT-W003") && e.contains("wohngeld"), "{e}");

        let mut c = config("http://127.0.0.1:9000/", None);
        c.tenants
            .get_mut("heinsberg")
            .unwrap()
            .webhook
            .as_mut()
            .unwrap()
            .timeout_seconds = Some(0);
        assert!(err(&c, &env).starts_with("LOT-W003"));
    }

    #[test]
    fn the_toml_form_reads_as_documented() {
        let c: Config = toml::from_str(
            "[delivery]\nretry_seconds = [0.5, 2]\nmax_attempts = 3\n\n\
             [tenants.heinsberg.webhook]\nurl = \"http://127.0.0.1:9000/eingang\"\nsecret_env = \"HOOK_SECRET\"\n\n\
             [tenants.heinsberg.webhooks.hundesteuer-anmeldung]\nurl = \"http://127.0.0.1:9001/\"\nsecret_env = \"HOOK_SECRET\"\ntimeout_seconds = 5\n",
        )
        .unwrap();
        assert_eq!(c.delivery.retry_seconds[0], Duration::from_millis(500));
        let w = Webhooks::from_config(&c, &env).unwrap();
        assert_eq!(w.endpoints.len(), 2);
        assert!(
            toml::from_str::<Config>(
                "[tenants.heinsberg.webhook]\nurl = \"http://x/\"\nsecret = \"x\"\n"
            )
            .is_err()
        );
        assert!(toml::from_str::<Config>("[delivery]\nretry_seconds = [-1]\n").is_err());
    }

    #[test]
    fn a_signature_verifies_and_any_change_breaks_it() {
        let key = b"0123456789abcdef0123";
        let h = signature(key, 1_700_000_000, b"{\"a\":1}");
        assert!(verify_signature(key, &h, b"{\"a\":1}", 1_700_000_100, 300));
        assert!(!verify_signature(key, &h, b"{\"a\":2}", 1_700_000_100, 300));
        assert!(!verify_signature(
            b"another-key-000000",
            &h,
            b"{\"a\":1}",
            1_700_000_100,
            300
        ));
        assert!(
            !verify_signature(key, &h, b"{\"a\":1}", 1_700_001_000, 300),
            "too old"
        );
        assert!(!verify_signature(key, "t=x,v1=zz", b"", 0, 300));
        // The published test vector of docs/delivery.md.
        assert_eq!(
            signature(b"geheim-geheim-geheim", 1_767_225_600, b"{}"),
            "t=1767225600,v1=5f37e188dc08d5ac8d950cb975d5b10b16a73596eecf65cee207829dcdb3cb16"
        );
    }

    #[test]
    fn backoff_follows_the_schedule_within_the_jitter_and_repeats_the_last() {
        let s = DeliverySettings::default();
        for (failed, base) in [
            (0u32, 10.0),
            (1, 30.0),
            (2, 120.0),
            (6, 7200.0),
            (30, 7200.0),
        ] {
            let d = backoff(&s, failed).as_seconds_f64();
            assert!(
                d >= base * 0.8 - 0.001 && d <= base * 1.2 + 0.001,
                "{failed}: {d}"
            );
        }
    }
}
