//! E-mail to citizens: the confirmation of a submission, a new status, a Rückfrage
//! (docs/email.md). A mail is an outbox message written in the same store transaction as its
//! event, and the delivery worker sends it like a webhook: retried with backoff, shown in the
//! Postkorb, with the same `Lotse-Idempotency-Key` on every attempt. The message holds the
//! address and the texts' values; the worker adds the reference and the receipt and renders
//! the tenant's template.
//!
//! Sent through lettre's SMTP client over rustls (STARTTLS or TLS); credentials come from
//! environment variables and never appear in a log.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use lotse_core::{Lang, Workflow};
use lotse_store::{NewOutboxMessage, OutboxMessage, Status, Submission, SubmissionId};
use serde_json::{Value, json};

use crate::tenants::Tenant;

use crate::config::mail as config;
mod templates;
pub mod visit;

pub use config::{MailConfig, TenantMail, TlsMode};
pub use templates::{Event, Rendered, Templates};

/// The header that names one mail event; the same on every attempt, so that a receiver (or a
/// test) can tell a repeated attempt from a second mail.
pub const IDEMPOTENCY_HEADER: &str = "Lotse-Idempotency-Key";

/// What a mail's outbox message holds.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Payload {
    /// The submission (the Postkorb links the delivery to it).
    pub submission: String,
    pub event: String,
    pub to: String,
    pub lang: String,
    pub tenant: String,
    /// The tenant's contact address (the default Reply-To).
    pub reply_to: Option<String>,
    #[serde(default)]
    pub attach_receipt: bool,
    /// The template's values, without the reference (added when sending).
    pub vars: Value,
}

/// The values a mail's texts show, from the tenant and the workflow.
fn vars(
    config: &MailConfig,
    t: &Tenant,
    wf: &Workflow,
    lang: Lang,
    sid: &SubmissionId,
    applicant: Option<String>,
) -> Value {
    let contact = [t.email.as_str(), t.phone.as_str()]
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    json!({
        "tenant": t.name,
        "at_tenant": t.at_phrase(lang),
        "office": t.office.get(lang),
        "contact": contact,
        "service": wf.title.get(lang),
        "status_url": format!("{}/{}/eingang/{sid}", config.public_url.trim_end_matches('/'), t.slug),
        "status": "",
        "applicant": applicant.unwrap_or_default(),
        "receipt_attached": false,
        "colour": t.colour,
        "lang": lang.tag(),
    })
}

/// The outbox message of a mail to the citizen about `sid`, if mail is configured and the
/// workflow names an address the citizen gave.
#[allow(clippy::too_many_arguments)]
pub fn message(
    config: Option<&MailConfig>,
    t: &Tenant,
    wf: &Workflow,
    answers: &BTreeMap<String, Value>,
    lang: Lang,
    sid: &SubmissionId,
    event: Event,
    status: Option<&str>,
) -> Option<NewOutboxMessage> {
    let config = config?;
    let to = wf.email_address(answers)?;
    let mut v = vars(config, t, wf, lang, sid, wf.applicant(answers));
    let attach = event == Event::Received && wf.email.as_ref().is_some_and(|e| e.attach_receipt);
    v["receipt_attached"] = json!(attach);
    if let Some(s) = status {
        v["status"] = json!(s);
    }
    let payload = Payload {
        submission: sid.to_string(),
        event: event.name().into(),
        to,
        lang: lang.tag().into(),
        tenant: t.slug.clone(),
        reply_to: Some(t.email.clone()).filter(|e| !e.trim().is_empty()),
        attach_receipt: attach,
        vars: v,
    };
    Some(NewOutboxMessage {
        topic: event.topic().into(),
        target: event.target().into(),
        payload: serde_json::to_value(payload).ok()?,
    })
}

/// The mail about the new `status` of the stored submission `sub` (a Rückfrage has its own
/// text, which does not repeat the question), if mail is configured and the citizen gave an
/// address.
pub fn status_message(
    config: Option<&MailConfig>,
    library: &lotse_core::Library,
    t: &Tenant,
    sub: &Submission,
    status: Status,
) -> Option<NewOutboxMessage> {
    let config = config?;
    let app: lotse_core::Submission = serde_json::from_value(sub.data.clone()).ok()?;
    let version: u32 = sub.workflow_version.parse().ok()?;
    let wf = library.for_tenant(&t.slug, &sub.workflow_id, version)?;
    let label = match app.lang {
        Lang::En => status.label_en(),
        Lang::De => status.label_de(),
    };
    let event = if status == Status::Rueckfrage {
        Event::Rueckfrage
    } else {
        Event::StatusChanged
    };
    message(
        Some(config),
        t,
        wf,
        &app.answers,
        app.lang,
        &sub.id,
        event,
        Some(label),
    )
}

/// The mailer: the SMTP transport, the sender per tenant and the templates.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    tenants: BTreeMap<String, (Option<Mailbox>, Option<Mailbox>)>,
    templates: Templates,
    timeout: Duration,
}

fn mailbox(what: &str, s: &str) -> anyhow::Result<Mailbox> {
    s.parse::<Mailbox>()
        .with_context(|| format!("{what} = \"{s}\" is not an e-mail address (Name <name@host>)"))
}

/// Why a mail was not sent this time.
pub enum Failure {
    /// Try again later (the server is down, busy, or refused for now).
    Retry(String),
    /// Nothing will make this mail sendable (no valid address, a broken template).
    GiveUp(String),
}

impl Mailer {
    /// The mailer of `config`, or `None` when no `[mail]` is configured. Reads the
    /// credentials from the environment through `env`.
    pub fn from_config(
        config: &crate::config::Config,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Option<Mailer>> {
        let Some(m) = &config.mail else {
            return Ok(None);
        };
        m.validate()?;
        let (host, port) = m.host_port()?;
        let tls = match m.tls {
            TlsMode::None => Tls::None,
            mode => {
                let mut b = TlsParameters::builder(host.clone());
                if let Some(ca) = &m.ca_file {
                    let pem = std::fs::read(ca)
                        .with_context(|| format!("[mail] ca_file {}", ca.display()))?;
                    let cert = Certificate::from_pem(&pem)
                        .with_context(|| format!("[mail] ca_file {}", ca.display()))?;
                    b = b.add_root_certificate(cert);
                }
                let params = b.build_rustls().context("[mail] TLS")?;
                if mode == TlsMode::Tls {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let timeout = Duration::from_secs(m.timeout_seconds.unwrap_or(30));
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .tls(tls)
            .timeout(Some(timeout));
        if let (Some(u), Some(p)) = (&m.username_env, &m.password_env) {
            let user = env(u).with_context(|| format!("[mail] username_env: {u} is not set"))?;
            let pass = env(p).with_context(|| format!("[mail] password_env: {p} is not set"))?;
            b = b.credentials(Credentials::new(user, pass));
        }
        let mut tenants = BTreeMap::new();
        for (slug, t) in &config.tenants {
            if let Some(tm) = &t.mail {
                let from = tm
                    .from
                    .as_deref()
                    .map(|s| mailbox(&format!("[tenants.{slug}.mail] from"), s))
                    .transpose()?;
                let reply = tm
                    .reply_to
                    .as_deref()
                    .map(|s| mailbox(&format!("[tenants.{slug}.mail] reply_to"), s))
                    .transpose()?;
                tenants.insert(slug.clone(), (from, reply));
            }
        }
        Ok(Some(Mailer {
            transport: b.build(),
            from: mailbox("[mail] from", &m.from)?,
            reply_to: m
                .reply_to
                .as_deref()
                .map(|s| mailbox("[mail] reply_to", s))
                .transpose()?,
            tenants,
            templates: Templates::load(&config.project_dir)?,
            timeout,
        }))
    }

    /// The mail of outbox message `msg` about `submission`, with its receipt if it carries
    /// one. Errors name a code and never the address.
    pub fn compose(
        &self,
        msg: &OutboxMessage,
        submission: Option<&Submission>,
        receipt: Option<&[u8]>,
    ) -> Result<Message, Failure> {
        let p: Payload = serde_json::from_value(msg.payload.clone())
            .map_err(|_| Failure::GiveUp("LOT-M002: Auftrag ohne gültige E-Mail-Angaben".into()))?;
        let event = Event::from_name(&p.event).ok_or_else(|| {
            Failure::GiveUp(format!("LOT-M002: unbekannte E-Mail \"{}\"", p.event))
        })?;
        let address = p
            .to
            .parse()
            .map_err(|_| Failure::GiveUp("LOT-M003: die E-Mail-Adresse ist nicht gültig".into()))?;
        let name = p
            .vars
            .get("applicant")
            .and_then(Value::as_str)
            .filter(|n| !n.trim().is_empty())
            .map(str::to_owned);
        let to = Mailbox::new(name, address);
        let reference = submission
            .map(|x| x.reference.to_string())
            .unwrap_or_default();
        let mut vars = p.vars.clone();
        if submission.is_some() {
            vars["reference"] = json!(reference);
        }
        let ics = vars.get("ics").and_then(Value::as_str).map(str::to_owned);
        let rendered = self
            .templates
            .render(&p.tenant, event, &p.lang, &vars)
            .map_err(|e| Failure::GiveUp(format!("LOT-M004: Vorlage: {e}")))?;
        let (own_from, own_reply) = self.tenants.get(&p.tenant).cloned().unwrap_or_default();
        let from = own_from.unwrap_or_else(|| self.from.clone());
        let reply = own_reply
            .or_else(|| self.reply_to.clone())
            .or_else(|| p.reply_to.as_deref().and_then(|r| r.parse().ok()));
        let domain = from.email.domain().to_string();
        let about = vars
            .get("visit")
            .and_then(Value::as_str)
            .unwrap_or(&p.submission)
            .to_string();
        let key = format!("{}-{about}", msg.id);
        let mut b = Message::builder()
            .from(from)
            .to(to)
            .subject(rendered.subject)
            .message_id(Some(format!("<lotse.{key}@{domain}>")))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str(IDEMPOTENCY_HEADER),
                key,
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".into(),
            ));
        if let Some(r) = reply {
            b = b.reply_to(r);
        }
        let body = MultiPart::alternative_plain_html(rendered.text, rendered.html);
        if let Some(ics) = ics {
            let cal = Attachment::new("termin.ics".into()).body(
                ics.into_bytes(),
                ContentType::parse("text/calendar; charset=utf-8; method=PUBLISH")
                    .unwrap_or(ContentType::TEXT_PLAIN),
            );
            return b
                .multipart(MultiPart::mixed().multipart(body).singlepart(cal))
                .map_err(|e| Failure::GiveUp(format!("LOT-M004: E-Mail nicht darstellbar: {e}")));
        }
        let built = match (p.attach_receipt, receipt) {
            (true, Some(pdf)) => b.multipart(MultiPart::mixed().multipart(body).singlepart(
                Attachment::new(format!("Eingangsbestaetigung-{reference}.pdf")).body(
                    pdf.to_vec(),
                    ContentType::parse("application/pdf").unwrap_or(ContentType::TEXT_PLAIN),
                ),
            )),
            _ => b.multipart(body),
        };
        built.map_err(|e| Failure::GiveUp(format!("LOT-M004: E-Mail nicht darstellbar: {e}")))
    }

    /// The longest one attempt may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Whether the message wants the receipt attached.
    pub fn wants_receipt(msg: &OutboxMessage) -> bool {
        msg.payload
            .get("attach_receipt")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// Sends one mail; the SMTP server's refusal of a recipient gives up, anything else is
    /// tried again.
    pub async fn send(&self, mail: Message) -> Result<(), Failure> {
        match tokio::time::timeout(self.timeout, self.transport.send(mail)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.is_permanent() => Err(Failure::GiveUp(format!(
                "LOT-M005: der Mailserver lehnt die E-Mail ab ({})",
                e.status().map(|c| c.to_string()).unwrap_or_default()
            ))),
            Ok(Err(e)) => Err(Failure::Retry(format!(
                "LOT-M001: Mailserver nicht erreichbar ({})",
                short(&e)
            ))),
            Err(_) => Err(Failure::Retry(
                "LOT-M001: Mailserver antwortet nicht rechtzeitig".into(),
            )),
        }
    }
}

/// An SMTP error without anything the server echoed back (it may contain the address).
fn short(e: &lettre::transport::smtp::Error) -> String {
    if e.is_timeout() {
        "Zeitüberschreitung".into()
    } else if e.is_tls() {
        "TLS".into()
    } else if e.is_transient() {
        e.status()
            .map(|c| format!("vorübergehend {c}"))
            .unwrap_or_else(|| "vorübergehend".into())
    } else {
        "Verbindung".into()
    }
}

/// Whether an outbox topic is a mail's.
pub fn is_mail(topic: &str) -> bool {
    topic.starts_with("mail.")
}

/// The project folder's mail templates, checked (for `lotse check`).
pub fn check_templates(project: &Path) -> anyhow::Result<()> {
    Templates::load(project).map(|_| ())
}
