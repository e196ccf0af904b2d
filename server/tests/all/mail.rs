//! E-mail end to end: `lotse serve` sends through a real SMTP server on loopback (aiosmtpd from
//! Debian's python3-aiosmtpd, which writes what arrives into a maildir), and Python's own
//! `email` package, not lettre, reads what arrived: headers with umlauts (RFC 2047), both
//! parts, the receipt, the link. A case worker's status change and Rückfrage send their mails;
//! the SMTP server down and the portal killed in between lose no mail and send none twice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::delivery::{Server, free_port, hidden, repo, wait_for};

/// Debian's interpreter: python3-aiosmtpd is installed for it (a `python3` earlier on the PATH
/// may be another one).
pub(crate) const PYTHON: &str = "/usr/bin/python3";

/// Reads a maildir with Python's `email` package and prints one JSON object per message.
const READ_MAILDIR: &str = r#"
import sys, json, mailbox, email, email.policy, hashlib
out = []
md = mailbox.Maildir(sys.argv[1], factory=None, create=False)
for key in sorted(md.keys()):
    raw = md.get_bytes(key)
    m = email.message_from_bytes(raw, policy=email.policy.default)
    text = m.get_body(preferencelist=("plain",))
    html = m.get_body(preferencelist=("html",))
    att = [{"name": p.get_filename(), "type": p.get_content_type(),
            "sha256": hashlib.sha256(p.get_payload(decode=True)).hexdigest()}
           for p in m.iter_attachments()]
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("ascii", "replace")
    out.append({"subject": str(m["subject"]), "from": str(m["from"]), "to": str(m["to"]),
                "reply_to": str(m.get("reply-to", "")),
                "key": str(m.get("lotse-idempotency-key", "")),
                "message_id": str(m["message-id"]),
                "text": text.get_content() if text else None,
                "html": html.get_content() if html else None,
                "attachments": att, "head": head})
print(json.dumps(out))
"#;

/// aiosmtpd on a loopback port, writing into a maildir; stopped on drop.
pub(crate) struct Smtp {
    child: Child,
    pub(crate) port: u16,
    maildir: PathBuf,
}

impl Smtp {
    pub(crate) fn start(maildir: &Path, port: u16) -> Smtp {
        Smtp::start_with(maildir, port, &[])
    }

    /// With `--tlscert`/`--tlskey`: the server offers STARTTLS and refuses mail without it.
    fn start_with(maildir: &Path, port: u16, extra: &[&str]) -> Smtp {
        let mut child = Command::new(PYTHON)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(extra)
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3-aiosmtpd (Debian) must be installed: .ci/run installs it");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "aiosmtpd did not come up"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // The port answers: ours, unless another process took the port in between (then
        // aiosmtpd could not bind it and has ended, and the mails would go elsewhere).
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            matches!(child.try_wait(), Ok(None)),
            "aiosmtpd ended: port {port} was taken by another process"
        );
        Smtp {
            child,
            port,
            maildir: maildir.to_path_buf(),
        }
    }

    pub(crate) fn mails(&self) -> Vec<Value> {
        read_maildir(&self.maildir)
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_maildir(dir: &Path) -> Vec<Value> {
    if !dir.join("new").is_dir() {
        return Vec::new();
    }
    let out = Command::new(PYTHON)
        .args(["-c", READ_MAILDIR])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn lotse(args: &[&str], password: Option<&str>) -> String {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lotse"));
    c.args(args).current_dir(repo());
    if let Some(p) = password {
        c.env("LOTSE_ADMIN_PASSWORD", p);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "lotse {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub(crate) fn write_config(dir: &Path, listen: SocketAddr, smtp_port: u16) -> PathBuf {
    write_config_tls(dir, listen, smtp_port, "none", None)
}

fn write_config_tls(
    dir: &Path,
    listen: SocketAddr,
    smtp_port: u16,
    tls: &str,
    ca: Option<&Path>,
) -> PathBuf {
    let file = dir.join("lotse.toml");
    let ca = ca
        .map(|p| format!("ca_file = \"{}\"\n", p.display()))
        .unwrap_or_default();
    let text = format!(
        "listen = \"{listen}\"\n\
         project_dir = \"{}\"\n\
         data_dir = \"{}\"\n\n\
         [delivery]\n\
         retry_seconds = [0.2, 0.4, 0.8]\n\
         poll_seconds = 0.1\n\
         max_attempts = 1000\n\n\
         [mail]\n\
         smtp = \"127.0.0.1:{smtp_port}\"\n\
         tls = \"{tls}\"\n\
         {ca}\
         from = \"Serviceportal Kreis Heinsberg <noreply@kreis-heinsberg.example>\"\n\
         public_url = \"http://{listen}\"\n\
         timeout_seconds = 5\n\n\
         [tenants.heinsberg.mail]\n\
         from = \"Stadt Heinsberg – Bürgerbüro <buergerbuero@heinsberg.example>\"\n",
        repo().display(),
        dir.join("data").display(),
    );
    std::fs::write(&file, text).unwrap();
    file
}

/// A POST of the staff API with a bearer token, by curl; returns the HTTP status.
fn staff_post(addr: SocketAddr, token: &str, path: &str, body: &str) -> String {
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["-H", "Content-Type: application/json", "--data", body])
        .arg(format!("http://{addr}{path}"))
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// A GET of the staff API with a bearer token, by curl; the JSON answer.
fn staff_get(addr: SocketAddr, token: &str, path: &str) -> Value {
    let out = Command::new("curl")
        .args(["-sf", "-H", &format!("Authorization: Bearer {token}")])
        .arg(format!("http://{addr}{path}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "GET {path}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn fetch_bytes(url: &str) -> Vec<u8> {
    let out = Command::new("curl").args(["-sf", url]).output().unwrap();
    assert!(out.status.success(), "GET {url}");
    out.stdout
}

fn reference_of(page: &str) -> String {
    let at = page.find("HEI-").expect("a reference on the status page");
    page[at..at + "HEI-2026-000001".len()].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_citizen_gets_one_confirmation_with_the_receipt_and_news_of_status_and_rueckfrage() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(&dir.path().join("maildir"), free_port());
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();
    lotse(&["init", "--data", data_s], None);
    lotse(
        &[
            "admin",
            "--data",
            data_s,
            "add",
            "--tenant",
            "heinsberg",
            "--login",
            "sb",
            "--role",
            "case_worker",
            "--name",
            "Sabine Beispiel",
        ],
        Some("richtig-langes-passwort"),
    );
    let token = lotse(
        &[
            "admin",
            "--data",
            data_s,
            "token-create",
            "--tenant",
            "heinsberg",
            "--login",
            "sb",
            "--label",
            "Test",
        ],
        None,
    )
    .trim()
    .to_string();
    let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let server = Server::start(&write_config(dir.path(), listen, smtp.port), listen).await;

    let sid = server.apply("Jürgen").await;
    wait_for("the confirmation", Duration::from_secs(30), || {
        smtp.mails().len() == 1
    })
    .await;
    let status_path = format!("/heinsberg/eingang/{sid}");
    let (code, _, page) = server.get(&status_path).await;
    assert_eq!(code, 200);
    let reference = reference_of(&page);
    let m = &smtp.mails()[0];
    assert_eq!(
        m["subject"],
        format!("Ihr Antrag {reference} ist eingegangen")
    );
    // Names with umlauts are encoded words in the header, and decode to what was typed.
    assert_eq!(
        m["from"],
        "Stadt Heinsberg – Bürgerbüro <buergerbuero@heinsberg.example>"
    );
    assert_eq!(m["to"], "Jürgen Schmitz <anna@example.org>");
    let head = m["head"].as_str().unwrap();
    assert!(head.contains("=?utf-8?"), "RFC 2047 encoded words: {head}");
    assert!(
        !head.contains("Jürgen"),
        "no raw 8-bit text in headers: {head}"
    );
    assert!(
        m["reply_to"]
            .as_str()
            .unwrap()
            .contains("@heinsberg.example"),
        "the tenant's contact address: {}",
        m["reply_to"]
    );
    assert!(!m["key"].as_str().unwrap().is_empty());
    let link = format!("http://{listen}{status_path}");
    let text = m["text"].as_str().unwrap();
    assert!(text.contains(&link), "{text}");
    assert!(text.contains("Guten Tag Jürgen Schmitz,"), "{text}");
    assert!(text.contains("Hundesteuer"), "{text}");
    let html = m["html"].as_str().unwrap();
    assert!(html.contains(&format!("<a href=\"{link}\">")), "{html}");
    // The link works, and the attachment is the signed receipt the status page offers.
    let linked = String::from_utf8(fetch_bytes(&link)).unwrap();
    assert!(linked.contains(&reference));
    let pdf = fetch_bytes(&format!("{link}/quittung.pdf"));
    let att = m["attachments"].as_array().unwrap();
    assert_eq!(att.len(), 1, "{att:?}");
    assert_eq!(att[0]["type"], "application/pdf");
    assert_eq!(
        att[0]["name"],
        format!("Eingangsbestaetigung-{reference}.pdf")
    );
    assert_eq!(att[0]["sha256"], format!("{:x}", Sha256::digest(&pdf)));

    // The case worker takes the case up: the citizen hears of the new status.
    let api = format!("/api/v1/verwaltung/heinsberg/antraege/{sid}/status");
    assert_eq!(
        staff_post(listen, &token, &api, r#"{"status":"in_bearbeitung"}"#),
        "200"
    );
    wait_for("the status mail", Duration::from_secs(30), || {
        smtp.mails().len() == 2
    })
    .await;
    // A Rückfrage: the mail says there is one; the question stays in the portal.
    let question = "Bitte reichen Sie den Impfpass von Bello nach.";
    assert_eq!(
        staff_post(
            listen,
            &token,
            &api,
            &format!(r#"{{"status":"rueckfrage","comment":"{question}"}}"#)
        ),
        "200"
    );
    wait_for("the Rückfrage mail", Duration::from_secs(30), || {
        smtp.mails().len() == 3
    })
    .await;
    let mails = smtp.mails();
    let subject = |s: &str| {
        mails
            .iter()
            .find(|m| m["subject"] == s)
            .unwrap_or_else(|| panic!("no mail \"{s}\" in {mails:?}"))
    };
    let news = subject(&format!(
        "Neuer Stand zu Ihrem Antrag {reference}: In Bearbeitung"
    ));
    assert!(news["attachments"].as_array().unwrap().is_empty());
    assert!(news["text"].as_str().unwrap().contains(&link));
    let rq = subject(&format!("Rückfrage zu Ihrem Antrag {reference}"));
    let rq_head = rq["head"].as_str().unwrap();
    assert!(
        rq_head.contains("Subject: =?utf-8?"),
        "the subject's umlaut is an encoded word: {rq_head}"
    );
    assert!(!rq["text"].as_str().unwrap().contains("Impfpass"));
    assert!(!rq["html"].as_str().unwrap().contains("Impfpass"));
    let keys: std::collections::BTreeSet<_> =
        mails.iter().map(|m| m["key"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), 3, "one key per event");
    // The Postkorb lists the three mails of this submission, each sent once.
    let detail = staff_get(
        listen,
        &token,
        &format!("/api/v1/verwaltung/heinsberg/antraege/{sid}"),
    );
    let lines: Vec<(String, String, u64)> = detail["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["target"].as_str().unwrap().to_string(),
                d["status"].as_str().unwrap().to_string(),
                d["attempts"].as_u64().unwrap(),
            )
        })
        .collect();
    for target in [
        "E-Mail: Eingangsbestätigung",
        "E-Mail: neuer Stand",
        "E-Mail: Rückfrage",
    ] {
        // Delivered; the confirmation may have waited one round for its receipt (LOT-W013).
        assert!(
            lines
                .iter()
                .any(|(t, s, n)| t == target && s == "zugestellt" && *n >= 1),
            "{target} in {lines:?}"
        );
    }
    server.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_mail_server_down_and_the_portal_killed_the_confirmation_arrives_once() {
    let dir = tempfile::tempdir().unwrap();
    let smtp_port = free_port();
    let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let config = write_config(dir.path(), listen, smtp_port);
    let server = Server::start(&config, listen).await;
    // Nobody listens on the SMTP port: the mails wait in the outbox.
    let a = server.apply("Anna").await;
    let b = server.apply("Berta").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.kill();
    let maildir = dir.path().join("maildir");
    let smtp = Smtp::start(&maildir, smtp_port);
    let server = Server::start(&config, listen).await;
    // A mail whose attempt the kill cut off stays claimed until its lease ends (30 s beyond the
    // mail's 5 s timeout), so the wait outlasts that lease.
    wait_for("both confirmations", Duration::from_secs(60), || {
        smtp.mails().len() >= 2
    })
    .await;
    // Killed again after sending, and started once more: nothing is sent twice. (A kill in
    // the instant between the SMTP server's acceptance and the outbox's mark would send the
    // mail again with the same Lotse-Idempotency-Key: docs/email.md.)
    tokio::time::sleep(Duration::from_secs(1)).await;
    server.kill();
    let server = Server::start(&config, listen).await;
    let c = server.apply("Clara").await;
    wait_for("the third confirmation", Duration::from_secs(30), || {
        smtp.mails().len() >= 3
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mails = smtp.mails();
    assert_eq!(mails.len(), 3, "exactly one mail per submission");
    for (sid, name) in [(&a, "Anna"), (&b, "Berta"), (&c, "Clara")] {
        let to_it: Vec<_> = mails
            .iter()
            .filter(|m| m["text"].as_str().unwrap().contains(sid.as_str()))
            .collect();
        assert_eq!(to_it.len(), 1, "{name}: {to_it:?}");
        assert!(to_it[0]["to"].as_str().unwrap().starts_with(name));
    }
    server.terminate();
}

/// A CA and a certificate for 127.0.0.1 signed by it, as PEM files in `dir`: (ca, cert, key).
fn smtp_pki(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name.push(rcgen::DnType::CommonName, name);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &ca_cert, &ca_key)
        .unwrap();
    let paths = (
        dir.join(format!("{name}-ca.pem")),
        dir.join(format!("{name}-cert.pem")),
        dir.join(format!("{name}-key.pem")),
    );
    std::fs::write(&paths.0, ca_cert.pem()).unwrap();
    std::fs::write(&paths.1, leaf.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_goes_over_starttls_to_a_trusted_server_only() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = smtp_pki(dir.path(), "amt");
    let (other_ca, _, _) = smtp_pki(dir.path(), "fremd");
    let smtp = Smtp::start_with(
        &dir.path().join("maildir"),
        free_port(),
        &[
            "--tlscert",
            cert.to_str().unwrap(),
            "--tlskey",
            key.to_str().unwrap(),
        ],
    );
    // Trusting another CA: the mail waits in the outbox (TLS refused), nothing goes out plain.
    let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let config = write_config_tls(dir.path(), listen, smtp.port, "starttls", Some(&other_ca));
    let server = Server::start(&config, listen).await;
    let sid = server.apply("Anna").await;
    // The first attempt may wait for the receipt (LOT-W013, again after 2 s); the next ones
    // meet the untrusted certificate.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(smtp.mails().is_empty(), "an untrusted server gets nothing");
    server.terminate();
    let store = lotse_store::SledStore::open(dir.path().join("data").join("store")).unwrap();
    let tenant = lotse_store::TenantId::new("heinsberg", "HEI").unwrap();
    let lines = lotse_server::delivery::deliveries(
        &store,
        &tenant,
        lotse_server::delivery::DeliveryFilter::All,
        None,
        10,
    )
    .unwrap();
    let mail = lines
        .iter()
        .find(|d| d.submission.as_deref() == Some(sid.as_str()))
        .unwrap();
    assert_eq!(mail.target, "E-Mail: Eingangsbestätigung");
    assert_eq!(mail.status, lotse_server::delivery::DeliveryStatus::Offen);
    let error = mail.last_error.clone().unwrap_or_default();
    assert!(error.starts_with("LOT-M001"), "{error}");
    assert!(!error.contains("anna@"), "{error}");
    drop(store);
    // Trusting the server's CA: the waiting mail goes out over STARTTLS.
    let config = write_config_tls(dir.path(), listen, smtp.port, "starttls", Some(&ca));
    let server = Server::start(&config, listen).await;
    wait_for("the mail over STARTTLS", Duration::from_secs(60), || {
        smtp.mails().len() == 1
    })
    .await;
    assert!(smtp.mails()[0]["text"].as_str().unwrap().contains(&sid));
    server.terminate();
}

/// Reads an .ics file with Python's icalendar (Debian's python3-icalendar): the first event's
/// start and end in UTC, and its texts.
/// The first event of a calendar file, as Python's icalendar reads it (see [`READ_ICS`]).
pub(crate) fn read_ics(dir: &Path, ics: &[u8]) -> Value {
    let file = dir.join("termin.ics");
    std::fs::write(&file, ics).unwrap();
    let out = Command::new(PYTHON)
        .args(["-c", READ_ICS])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python3-icalendar must be installed (.ci/run installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

pub(crate) const READ_ICS: &str = r#"
import sys, json, datetime, icalendar
cal = icalendar.Calendar.from_ical(open(sys.argv[1], "rb").read())
ev = next(c for c in cal.walk() if c.name == "VEVENT")
utc = datetime.timezone.utc
print(json.dumps({
    "start": ev.decoded("dtstart").astimezone(utc).isoformat(),
    "end": ev.decoded("dtend").astimezone(utc).isoformat(),
    "summary": str(ev.get("summary")),
    "location": str(ev.get("location")),
    "description": str(ev.get("description")),
    "url": str(ev.get("url")),
    "uid": str(ev.get("uid")),
}))
"#;

#[test]
fn a_visit_in_the_calendar_file_is_read_right_by_an_independent_library() {
    use lotse_core::appointments::ics::{CalendarVisit, calendar};
    use time::macros::datetime;
    let dir = tempfile::tempdir().unwrap();
    // Visits in winter, on the first office day of summer time, and in summer.
    for (local, utc) in [
        (datetime!(2027-03-25 08:00), "2027-03-25T07:00:00+00:00"),
        (datetime!(2027-03-30 08:00), "2027-03-30T06:00:00+00:00"),
        (datetime!(2027-10-29 16:45), "2027-10-29T14:45:00+00:00"),
        (datetime!(2027-11-02 08:00), "2027-11-02T07:00:00+00:00"),
    ] {
        let file = dir.path().join("termin.ics");
        let ics = calendar(&CalendarVisit {
            uid: "0123456789abcdef0123456789abcdef@portal.example".into(),
            summary: "Personalausweis beantragen – Bürgerbüro Heinsberg",
            location: "Bürgerbüro, Apfelstraße 23; 52525 Heinsberg",
            description: "Bitte mitbringen:\n- Biometrisches Passfoto\n- Bisheriger Ausweis\n\nAbsagen oder verschieben: https://portal.example/heinsberg/termin/0123",
            url: "https://portal.example/heinsberg/termin/0123",
            start: local,
            end: local + time::Duration::minutes(30),
            stamp: datetime!(2026-12-06 12:00 UTC),
            sequence: 0,
        });
        std::fs::write(&file, &ics).unwrap();
        let out = Command::new(PYTHON)
            .args(["-c", READ_ICS])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "python3-icalendar must be installed (.ci/run installs it): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ev: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(ev["start"], utc, "{local}");
        assert_eq!(
            ev["summary"],
            "Personalausweis beantragen – Bürgerbüro Heinsberg"
        );
        assert_eq!(
            ev["location"],
            "Bürgerbüro, Apfelstraße 23; 52525 Heinsberg"
        );
        assert!(
            ev["description"]
                .as_str()
                .unwrap()
                .starts_with("Bitte mitbringen:\n- Biometrisches Passfoto\n")
        );
        assert_eq!(ev["url"], "https://portal.example/heinsberg/termin/0123");
    }
}

/// The first time offered on the page: (radio value, its label).
pub(crate) fn first_time(page: &str) -> (String, String) {
    let marker = "name=\"zeit\" value=\"";
    let at = page.find(marker).expect("a time on the page") + marker.len();
    let value = page[at..at + page[at..].find('"').unwrap()].to_string();
    let label_at = page[at..].find("<label").unwrap() + at;
    let text_at = page[label_at..].find('>').unwrap() + label_at + 1;
    let text = page[text_at..text_at + page[text_at..].find(" Uhr").unwrap()].to_string();
    (value, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_books_a_visit_gets_the_calendar_file_by_mail_and_cancels_it() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(&dir.path().join("maildir"), free_port());
    let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let server = Server::start(&write_config(dir.path(), listen, smtp.port), listen).await;
    let service = "/heinsberg/termine/personalausweis";
    let (code, _, page) = server.get(service).await;
    assert_eq!(code, 200);
    assert!(page.contains("3 Plätze frei"), "{page}");
    let (zeit, time) = first_time(&page);
    let csrf = hidden(&page, "_csrf");
    // A time the page does not offer is refused; a forged form too.
    let (code, _, _) = server
        .post(service, &[("_csrf", &csrf), ("zeit", "12345")])
        .await;
    assert_eq!(code, 409);
    let (code, _, _) = server
        .post(service, &[("_csrf", "x"), ("zeit", &zeit)])
        .await;
    assert_eq!(code, 403);
    let (code, to, _) = server
        .post(service, &[("_csrf", &csrf), ("zeit", &zeit)])
        .await;
    assert_eq!(code, 303);
    let visit = to.unwrap();
    let (code, _, page) = server.get(&visit).await;
    assert_eq!(code, 200);
    assert!(
        page.contains("Wir halten diese Uhrzeit für Sie bis"),
        "{page}"
    );
    // While it is held, the time has one place less.
    let (_, _, again) = server.get(service).await;
    assert!(
        again.contains(&format!("{time} Uhr <span class=\"hint\">(2 Plätze frei)")),
        "{again}"
    );
    let vcsrf = hidden(&page, "_csrf");
    let (code, _, wrong) = server
        .post(
            &visit,
            &[
                ("_csrf", &vcsrf),
                ("_action", "buchen"),
                ("name", ""),
                ("email", "kein"),
            ],
        )
        .await;
    assert_eq!(code, 422);
    assert!(wrong.contains("Bitte geben Sie Ihren Namen an."));
    let (code, _, _) = server
        .post(
            &visit,
            &[
                ("_csrf", &vcsrf),
                ("_action", "buchen"),
                ("name", "Jürgen Schmitz"),
                ("email", "juergen@example.org"),
            ],
        )
        .await;
    assert_eq!(code, 303);
    let (_, _, booked) = server.get(&visit).await;
    assert!(booked.contains("Ihr Termin ist gebucht"), "{booked}");
    // The confirmation arrives with the calendar file, which an independent library reads.
    wait_for("the visit's mail", Duration::from_secs(30), || {
        smtp.mails().len() == 1
    })
    .await;
    let m = &smtp.mails()[0];
    assert!(
        m["subject"]
            .as_str()
            .unwrap()
            .starts_with("Ihr Termin: Personalausweis beantragen am ")
    );
    assert_eq!(m["to"], "Jürgen Schmitz <juergen@example.org>");
    let link = format!("http://{listen}{visit}");
    assert!(m["text"].as_str().unwrap().contains(&link));
    let att = m["attachments"].as_array().unwrap();
    assert_eq!(att.len(), 1);
    assert_eq!(att[0]["type"], "text/calendar");
    let ics = fetch_bytes(&format!("{link}/termin.ics"));
    let ev = read_ics(dir.path(), &ics);
    assert_eq!(ev["start"].as_str().unwrap(), {
        let t = time::OffsetDateTime::from_unix_timestamp(zeit.parse().unwrap()).unwrap();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:00+00:00",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        )
    });
    assert!(ev["location"].as_str().unwrap().starts_with("Bürgerbüro"));
    assert_eq!(ev["url"], link);
    // Cancelled through the link: the time is free again.
    let (_, _, page) = server.get(&visit).await;
    let vcsrf = hidden(&page, "_csrf");
    let (code, _, _) = server
        .post(&visit, &[("_csrf", &vcsrf), ("_action", "absagen")])
        .await;
    assert_eq!(code, 303);
    let (_, _, gone) = server.get(&visit).await;
    assert!(gone.contains("Der Termin ist abgesagt"));
    let (_, _, free) = server.get(service).await;
    assert!(
        free.contains(&format!("{time} Uhr <span class=\"hint\">(3 Plätze frei)")),
        "{free}"
    );
    assert_eq!(server.get(&format!("{visit}/termin.ics")).await.0, 404);
    // Another tenant does not know the visit.
    assert_eq!(
        server
            .get(&visit.replace("/heinsberg/", "/erkelenz/"))
            .await
            .0,
        404
    );
    server.terminate();
}
