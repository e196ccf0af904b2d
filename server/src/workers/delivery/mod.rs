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
use crate::mail::{Failure as MailFailure, Mailer};
use crate::telemetry::Metrics;

mod views;
mod webhooks;

pub use views::*;
pub use webhooks::*;

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

/// The body of a delivery: the stored submission exactly as stored, and its receipt.
#[derive(Serialize)]
struct Envelope<'a> {
    event: &'a str,
    delivery: u64,
    tenant: &'a str,
    reference: String,
    submission: &'a serde_json::value::RawValue,
    receipt: Option<ReceiptPart>,
    /// The files the answers name (docs/uploads.md), each with a signed download link.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<AttachmentPart>,
}

/// One file of a delivery: what the answers say of it, and where to fetch it.
#[derive(Serialize)]
struct AttachmentPart {
    /// The field whose answer lists it.
    field: String,
    name: String,
    #[serde(rename = "type")]
    content_type: String,
    size: u64,
    sha256: String,
    /// `clean`, or `unchecked` when the virus scanner could not be asked.
    scan: lotse_store::ScanState,
    /// A GET of it answers with the file until `url_expires` (no sign-in; keep it secret).
    url: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    url_expires: Option<OffsetDateTime>,
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

/// Where the worker sends: the offices' webhooks, and the citizens' mail (if configured).
pub struct Senders {
    pub webhooks: Arc<Webhooks>,
    pub mail: Option<Arc<Mailer>>,
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
        Worker::start_with_mail(store, webhooks, None, receipts)
    }

    /// [`Worker::start`], sending mails (outbox topics `mail.…`) through `mail` as well.
    pub fn start_with_mail(
        store: impl Into<AnyStore>,
        webhooks: Arc<Webhooks>,
        mail: Option<Arc<Mailer>>,
        receipts: PathBuf,
    ) -> Worker {
        Worker::spawn(
            store.into(),
            Arc::new(Senders { webhooks, mail }),
            receipts,
            None,
            Arc::new(SystemClock),
        )
    }

    /// [`Worker::start_with_mail`], counting attempts and batch sizes in the portal's metrics.
    pub fn start_observed(
        store: AnyStore,
        senders: Senders,
        receipts: PathBuf,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
    ) -> Worker {
        Worker::spawn(store, Arc::new(senders), receipts, Some(metrics), clock)
    }

    fn spawn(
        store: AnyStore,
        senders: Arc<Senders>,
        receipts: PathBuf,
        metrics: Option<Arc<Metrics>>,
        clock: Arc<dyn Clock>,
    ) -> Worker {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(run(store, senders, receipts, metrics, clock, stopped));
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
    senders: Arc<Senders>,
    receipts: PathBuf,
    metrics: Option<Arc<Metrics>>,
    clock: Arc<dyn Clock>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let webhooks = senders.webhooks.clone();
    // A claim outlives the longest attempt (a webhook's or a mail's timeout) by 30 s.
    let longest = senders
        .mail
        .as_ref()
        .map_or(webhooks.longest_timeout(), |m| {
            m.timeout().max(webhooks.longest_timeout())
        });
    let lease = time::Duration::seconds(30)
        + time::Duration::try_from(longest).unwrap_or(time::Duration::MINUTE);
    let mut last_prune: Option<OffsetDateTime> = None;
    loop {
        if *stopped.borrow() {
            return;
        }
        let now = clock.now();
        if last_prune.is_none_or(|at| now - at > time::Duration::HOUR) {
            last_prune = Some(now);
            let keep = time::Duration::days(i64::from(webhooks.settings.keep_days));
            let s = store.clone();
            if let Ok(Ok(n)) =
                crate::telemetry::spawn_blocking(move || s.prune_outbox(now - keep)).await
                && n > 0
            {
                tracing::info!(event = "outbox_pruned", count = n);
            }
        }
        let s = store.clone();
        let claimed = crate::telemetry::spawn_blocking(move || s.claim(now, lease, BATCH)).await;
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
            let s = store.clone();
            if let Ok(Ok((due, waiting))) =
                crate::telemetry::spawn_blocking(move || s.outbox_backlog(now)).await
            {
                m.delivery_queue(due, waiting);
            }
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
                senders.clone(),
                receipts.clone(),
                metrics.clone(),
                clock.clone(),
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
    senders: Arc<Senders>,
    receipts: PathBuf,
    metrics: Option<Arc<Metrics>>,
    clock: Arc<dyn Clock>,
    msg: OutboxMessage,
) {
    let outcome = if crate::mail::is_mail(&msg.topic) {
        send_mail(&store, senders.mail.as_deref(), &receipts, &msg, &*clock).await
    } else {
        attempt(&store, &senders.webhooks, &receipts, &msg, &*clock).await
    };
    let now = clock.now();
    let settings = &senders.webhooks.settings;
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
    let marked = crate::telemetry::spawn_blocking(move || match e2 {
        None => store.mark_delivered(id, now),
        Some(e) => store.mark_failed(id, now, &e, retry_at),
    })
    .await;
    let tenant = msg.tenant.as_ref().map(TenantId::slug).unwrap_or("-");
    let attempt = msg.attempts.saturating_add(1);
    let cause = error.as_deref().unwrap_or("");
    let event = if crate::mail::is_mail(&msg.topic) {
        "mail_delivery"
    } else {
        "webhook_delivery"
    };
    match verdict {
        "given_up" => {
            tracing::error!(event, delivery = id, tenant, target = %msg.target, attempt, outcome = verdict, cause)
        }
        "retry" => {
            tracing::warn!(event, delivery = id, tenant, target = %msg.target, attempt, outcome = verdict, cause)
        }
        _ => {
            tracing::info!(event, delivery = id, tenant, target = %msg.target, attempt, outcome = verdict, cause)
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

/// The submission a message names, with its receipt once it is written: `Err` is what this
/// attempt comes to instead (gone, not this tenant's, the receipt still being written).
async fn load(
    store: &AnyStore,
    receipts: &std::path::Path,
    msg: &OutboxMessage,
    clock: &dyn Clock,
    needs_receipt: bool,
) -> Result<(Submission, Option<Vec<u8>>), Attempt> {
    let Some(sid) = msg
        .payload
        .get("submission")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<SubmissionId>().ok())
    else {
        return Err(Attempt::GiveUp(
            "LOT-W016: Auftrag ohne gültige Antrags-Id".into(),
        ));
    };
    let s = store.clone();
    let receipts = receipts.to_path_buf();
    let loaded = crate::telemetry::spawn_blocking(
        move || -> Result<(Option<Submission>, Option<Vec<u8>>), StoreError> {
            let sub = s.submission(&sid)?;
            // Read only once the submission is known, and only its own receipt.
            let pdf = match &sub {
                Some(_) if needs_receipt => crate::nodes::find_receipt(&s, &receipts, &sid)
                    .ok()
                    .flatten(),
                _ => None,
            };
            Ok((sub, pdf))
        },
    )
    .await;
    let (submission, pdf) = match loaded {
        Ok(Ok((Some(sub), pdf))) => (sub, pdf),
        Ok(Ok((None, _))) => {
            return Err(Attempt::GiveUp(
                "LOT-W014: der Antrag ist nicht mehr gespeichert (gelöscht)".into(),
            ));
        }
        Ok(Err(e)) => return Err(Attempt::Retry(format!("{}: Speicher", e.code()), None)),
        Err(_) => return Err(Attempt::Retry("LOT-W016: interner Fehler".into(), None)),
    };
    // Tenants strictly apart: the message and the submission agree.
    if msg.tenant.as_ref() != Some(&submission.tenant) {
        return Err(Attempt::GiveUp(
            "LOT-W016: Mandant des Auftrags passt nicht".into(),
        ));
    }
    let now = clock.now();
    if needs_receipt && pdf.is_none() && now - submission.submitted < RECEIPT_GRACE {
        return Err(Attempt::Retry(
            "LOT-W013: Eingangsbestätigung noch nicht geschrieben".into(),
            Some(now + time::Duration::try_from(RECEIPT_WAIT).unwrap_or(time::Duration::SECOND)),
        ));
    }
    Ok((submission, pdf))
}

async fn attempt(
    store: &AnyStore,
    webhooks: &Webhooks,
    receipts: &std::path::Path,
    msg: &OutboxMessage,
    clock: &dyn Clock,
) -> Attempt {
    if msg.topic != SUBMISSION_RECEIVED {
        return Attempt::GiveUp(format!("LOT-W016: unbekanntes Ereignis \"{}\"", msg.topic));
    }
    let Some(endpoint) = webhooks.endpoints.get(&msg.target) else {
        return Attempt::GiveUp(format!(
            "LOT-W015: kein Webhook \"{}\" mehr konfiguriert",
            msg.target
        ));
    };
    let (submission, pdf) = match load(store, receipts, msg, clock, true).await {
        Ok(found) => found,
        Err(a) => return a,
    };
    if endpoint.tenant != submission.tenant.slug() {
        return Attempt::GiveUp("LOT-W016: Mandant des Auftrags passt nicht".into());
    }
    let links = webhooks.links.as_deref();
    let body = match envelope(msg.id, &submission, pdf.as_deref(), links, clock.now()) {
        Ok(b) => b,
        Err(_) => return Attempt::GiveUp("LOT-W016: Antrag nicht darstellbar".into()),
    };
    let t = clock.now().unix_timestamp();
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

/// One attempt of a mail to a citizen (docs/email.md).
async fn send_mail(
    store: &AnyStore,
    mailer: Option<&Mailer>,
    receipts: &std::path::Path,
    msg: &OutboxMessage,
    clock: &dyn Clock,
) -> Attempt {
    let Some(mailer) = mailer else {
        return Attempt::Retry(
            "LOT-M001: kein Mailserver konfiguriert ([mail] fehlt)".into(),
            None,
        );
    };
    // A visit's mail carries what it says; a submission's is completed from the stored one.
    let is_visit = msg
        .payload
        .get("event")
        .and_then(Value::as_str)
        .and_then(crate::mail::Event::from_name)
        .is_some_and(crate::mail::Event::is_visit);
    let (submission, pdf) = if is_visit {
        (None, None)
    } else {
        match load(store, receipts, msg, clock, Mailer::wants_receipt(msg)).await {
            Ok((s, pdf)) => (Some(s), pdf),
            Err(a) => return a,
        }
    };
    let mail = match mailer.compose(msg, submission.as_ref(), pdf.as_deref()) {
        Ok(m) => m,
        Err(MailFailure::GiveUp(e)) => return Attempt::GiveUp(e),
        Err(MailFailure::Retry(e)) => return Attempt::Retry(e, None),
    };
    match mailer.send(mail).await {
        Ok(()) => Attempt::Delivered,
        Err(MailFailure::GiveUp(e)) => Attempt::GiveUp(e),
        Err(MailFailure::Retry(e)) => Attempt::Retry(e, None),
    }
}

/// The JSON body: see docs/delivery.md. The submission is embedded byte for byte as stored.
fn envelope(
    delivery: u64,
    s: &Submission,
    pdf: Option<&[u8]>,
    links: Option<&crate::uploads::links::AttachmentLinks>,
    now: OffsetDateTime,
) -> Result<Vec<u8>, serde_json::Error> {
    let attachments = lotse_store::attachment_refs(&s.data)
        .into_iter()
        .map(|(field, r)| {
            let link = links.map(|l| l.link(s.tenant.slug(), &s.id, &r.sha256, now));
            AttachmentPart {
                field,
                name: crate::uploads::download::safe_file_name(&r.name),
                content_type: r.content_type,
                size: r.size,
                sha256: r.sha256.to_string(),
                scan: r.scan,
                url_expires: link.as_ref().map(|l| l.expires),
                url: link.map(|l| l.url),
            }
        })
        .collect();
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
        attachments,
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
        let mut c = Config {
            project_dir: repo(),
            ..Config::default()
        };
        c.tenants.insert("heinsberg".into(), t);
        c
    }

    /// The repository: its portal and workflows are the demo's.
    fn repo() -> std::path::PathBuf {
        std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
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
        let mut c: Config = toml::from_str(
            "[delivery]\nretry_seconds = [0.5, 2]\nmax_attempts = 3\n\n\
             [tenants.heinsberg.webhook]\nurl = \"http://127.0.0.1:9000/eingang\"\nsecret_env = \"HOOK_SECRET\"\n\n\
             [tenants.heinsberg.webhooks.hundesteuer-anmeldung]\nurl = \"http://127.0.0.1:9001/\"\nsecret_env = \"HOOK_SECRET\"\ntimeout_seconds = 5\n",
        )
        .unwrap();
        assert_eq!(c.delivery.retry_seconds[0], Duration::from_millis(500));
        c.project_dir = repo();
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
