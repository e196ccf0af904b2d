//! Webhook delivery end to end, over real HTTP on loopback: `lotse serve` as a user starts it
//! (with the secret in its environment), citizens submitting through the portal, and an office
//! receiver (axum) that checks signatures and keeps every body. The receiver is down for a
//! while, the server is killed and started again, and the receiver answers 500 at first: every
//! submission still arrives, byte for byte as stored, signed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, Full};
use lotse_server::delivery::{self, DeliveryFilter, DeliveryStatus};
use lotse_store::{SledStore, TenantId};
use serde_json::Value;
use serde_json::value::RawValue;

pub(crate) const SECRET: &str = "test-geheimnis-fuer-den-webhook-0123";

pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One request the office's system received.
#[derive(Clone)]
pub(crate) struct Received {
    pub(crate) delivery: String,
    pub(crate) event: String,
    pub(crate) signature_ok: bool,
    pub(crate) body: Vec<u8>,
}

/// The office's system: keeps what it received (the payment tests reuse it).
#[derive(Clone, Default)]
pub(crate) struct Office {
    pub(crate) received: Arc<Mutex<Vec<Received>>>,
    /// Answer 500 to this many requests first.
    fail_first: Arc<Mutex<u32>>,
}

async fn eingang(State(office): State<Office>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let now = lotse_core::Clock::now(&lotse_core::SystemClock).unix_timestamp();
    let signature_ok = delivery::verify_signature(
        SECRET.as_bytes(),
        &header("lotse-signature"),
        &body,
        now,
        300,
    );
    office.received.lock().unwrap().push(Received {
        delivery: header("lotse-delivery"),
        event: header("lotse-event"),
        signature_ok,
        body: body.to_vec(),
    });
    let mut fail = office.fail_first.lock().unwrap();
    if *fail > 0 {
        *fail -= 1;
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    StatusCode::NO_CONTENT
}

pub(crate) async fn open_office(port: u16, office: Office) -> tokio::task::JoinHandle<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let app = axum::Router::new()
        .route("/eingang", axum::routing::post(eingang))
        .with_state(office);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    })
}

/// `lotse serve` in a child process.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: SocketAddr,
}

impl Server {
    pub(crate) async fn start(config: &Path, addr: SocketAddr) -> Server {
        let child = Command::new(env!("CARGO_BIN_EXE_lotse"))
            .args(["serve", "--config"])
            .arg(config)
            .env("LOTSE_TEST_WEBHOOK_SECRET", SECRET)
            .current_dir(repo())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server { child, addr };
        let start = Instant::now();
        loop {
            if let Ok(r) = server.request("GET", "/healthz", None).await
                && r.0 == 200
            {
                return server;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "lotse serve did not come up"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the server the hard way: no shutdown, no flush beyond what it acknowledged.
    pub(crate) fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Stops the server as systemd does (SIGTERM) and waits for its clean exit.
    pub(crate) fn terminate(mut self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "lotse serve exited with {status}");
    }

    /// (status, location, body)
    async fn request(
        &self,
        method: &str,
        path: &str,
        form: Option<&[(&str, &str)]>,
    ) -> Result<(u16, Option<String>, String), String> {
        let stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .map_err(|e| e.to_string())?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let body = form
            .map(|f| {
                f.iter()
                    .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                    .collect::<Vec<_>>()
                    .join("&")
            })
            .unwrap_or_default();
        let req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.addr.to_string())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let res = sender.send_request(req).await.map_err(|e| e.to_string())?;
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Ok((
            status,
            location,
            String::from_utf8_lossy(&bytes).to_string(),
        ))
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, Option<String>, String) {
        self.request("GET", path, None).await.unwrap()
    }

    pub(crate) async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (u16, Option<String>, String) {
        self.request("POST", path, Some(form)).await.unwrap()
    }

    async fn step(&self, url: &str, action: &str, answers: &[(&str, &str)]) -> u16 {
        // The draft's link leads to the page of the step where the application stands.
        let (status, to, mut page) = self.get(url).await;
        if status == 303 {
            page = self.get(&to.unwrap()).await.2;
        }
        let csrf = hidden(&page, "_csrf");
        let rev = hidden(&page, "_rev");
        let mut form = vec![
            ("_csrf", csrf.as_str()),
            ("_rev", rev.as_str()),
            ("_action", action),
        ];
        form.extend_from_slice(answers);
        self.post(url, &form).await.0
    }

    /// A citizen applies for dog tax in Heinsberg; returns the submission id.
    pub(crate) async fn apply(&self, name: &str) -> String {
        let service = "/heinsberg/leistung/hundesteuer-anmeldung";
        let page = self.get(service).await.2;
        let csrf = hidden(&page, "_csrf");
        let (status, url, _) = self.post(service, &[("_csrf", &csrf)]).await;
        assert_eq!(status, 303);
        let url = url.unwrap();
        let halter = [
            ("halter.anrede", "Frau"),
            ("halter.vorname", name),
            ("halter.nachname", "Schmitz"),
            ("halter.geburtsdatum", "12.04.1985"),
            ("anschrift.strasse", "Valkenburger Straße"),
            ("anschrift.hausnummer", "45"),
            ("anschrift.plz", "52525"),
            ("anschrift.ort", "Heinsberg"),
            ("kontakt.email", "anna@example.org"),
        ];
        assert_eq!(self.step(&url, "weiter", &halter).await, 303);
        let dogs = [
            ("hunde.0.name", "Bello"),
            ("hunde.0.rasse", "Labrador"),
            ("hunde.0.geburtsdatum", "2022-03-01"),
            ("hunde.0.kategorie", "normal"),
        ];
        assert_eq!(self.step(&url, "weiter", &dogs).await, 303);
        for answers in [
            &[("haltungsbeginn", "2026-11-01"), ("zuzug", "nein")][..],
            &[("ermaessigung", "nein")],
            &[("lastschrift", "nein")],
        ] {
            assert_eq!(self.step(&url, "weiter", answers).await, 303);
        }
        let page = self.get(&format!("{url}/pruefen")).await.2;
        assert!(page.contains("Bitte prüfen Sie Ihre Angaben"), "{page}");
        let csrf = hidden(&page, "_csrf");
        let rev = hidden(&page, "_rev");
        let (status, done, body) = self
            .post(
                &url,
                &[
                    ("_csrf", &csrf),
                    ("_rev", &rev),
                    ("_declare", "richtig"),
                    ("_action", "absenden"),
                ],
            )
            .await;
        assert_eq!(status, 303, "{body}");
        done.unwrap().rsplit('/').next().unwrap().to_string()
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(crate) fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        + marker.len();
    let end = page[start..].find('"').unwrap() + start;
    page[start..end].to_string()
}

fn write_config(dir: &Path, listen: SocketAddr, office_port: u16) -> PathBuf {
    let file = dir.join("lotse.toml");
    let text = format!(
        "listen = \"{listen}\"\n\
         project_dir = \"{}\"\n\
         data_dir = \"{}\"\n\n\
         [delivery]\n\
         retry_seconds = [0.2, 0.4, 0.8]\n\
         poll_seconds = 0.1\n\
         max_attempts = 1000\n\n\
         [tenants.heinsberg.webhook]\n\
         url = \"http://127.0.0.1:{office_port}/eingang\"\n\
         secret_env = \"LOTSE_TEST_WEBHOOK_SECRET\"\n\
         timeout_seconds = 5\n",
        repo().display(),
        dir.join("data").display(),
    );
    std::fs::write(&file, text).unwrap();
    file
}

/// The submissions exactly as the store holds them: the `d` of each `{"v":1,"d":…}` record,
/// read from `lotse export`'s JSON Lines after the server stopped.
fn stored_submissions(data: &Path) -> BTreeMap<String, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_lotse"))
        .args(["export", "--data"])
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    #[derive(serde::Deserialize)]
    struct Line<'a> {
        tree: Option<String>,
        #[serde(borrow)]
        value: Option<&'a RawValue>,
    }
    #[derive(serde::Deserialize)]
    struct Record<'a> {
        #[serde(borrow)]
        d: &'a RawValue,
    }
    let text = String::from_utf8(out.stdout).unwrap();
    let mut found = BTreeMap::new();
    for line in text.lines() {
        let l: Line = serde_json::from_str(line).unwrap();
        if l.tree.as_deref() == Some("submissions") {
            let r: Record = serde_json::from_str(l.value.unwrap().get()).unwrap();
            let id = serde_json::from_str::<Value>(r.d.get()).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string();
            found.insert(id, r.d.get().to_string());
        }
    }
    found
}

#[derive(serde::Deserialize)]
struct Envelope<'a> {
    event: String,
    delivery: u64,
    tenant: String,
    reference: String,
    #[serde(borrow)]
    submission: &'a RawValue,
    receipt: Option<ReceiptPart>,
}

#[derive(serde::Deserialize)]
struct ReceiptPart {
    content_type: String,
    file_name: String,
    sha256: String,
    base64: String,
}

pub(crate) async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn delivered_submissions(office: &Office) -> BTreeSet<String> {
    office
        .received
        .lock()
        .unwrap()
        .iter()
        .filter_map(|r| {
            let v: Value = serde_json::from_slice(&r.body).ok()?;
            Some(v["submission"]["id"].as_str()?.to_string())
        })
        .collect()
}

/// The sum of `lotse_delivery_queue` over its states in the server's metrics.
fn queued(server: &Server) -> Option<u64> {
    let addr = server.addr;
    let text = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).ok()?;
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        Some(out)
    })
    .join()
    .ok()??;
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("lotse_delivery_queue{"))
        .collect();
    if lines.len() != 2 {
        return None;
    }
    lines
        .iter()
        .map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<Option<f64>>()
        .map(|n| n as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_submission_reaches_the_office_as_stored_though_it_was_down_and_the_server_crashed() {
    let dir = tempfile::tempdir().unwrap();
    let office_port = free_port();
    let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let config = write_config(dir.path(), listen, office_port);
    let data = dir.path().join("data");

    // The office's system is down: the port is closed.
    let server = Server::start(&config, listen).await;
    let mut submitted = BTreeSet::new();
    for name in ["Anna", "Bernd", "Cem"] {
        submitted.insert(server.apply(name).await);
    }
    // Some attempts fail (connection refused) …
    tokio::time::sleep(Duration::from_millis(800)).await;
    // … then the server crashes, and a fourth citizen submits after its restart.
    server.kill();
    let server = Server::start(&config, listen).await;
    submitted.insert(server.apply("Dörte").await);
    // The metrics show the four deliveries queued (due or waiting for a retry).
    wait_for(
        "the queue length in the metrics",
        Duration::from_secs(20),
        || queued(&server) == Some(4),
    )
    .await;

    // The office comes up, answering 500 to its first two requests.
    let office = Office::default();
    *office.fail_first.lock().unwrap() = 2;
    let receiver = open_office(office_port, office.clone()).await;
    // A delivery claimed at the moment of the crash waits for its lease (5 s timeout + 30 s).
    wait_for("all four submissions", Duration::from_secs(60), || {
        delivered_submissions(&office) == submitted
            && office.received.lock().unwrap().len() >= submitted.len() + 2
    })
    .await;
    wait_for(
        "an empty queue in the metrics",
        Duration::from_secs(20),
        || queued(&server) == Some(0),
    )
    .await;
    server.terminate();
    receiver.abort();

    let stored = stored_submissions(&data);
    assert_eq!(stored.keys().cloned().collect::<BTreeSet<_>>(), submitted);
    let received = office.received.lock().unwrap().clone();
    let mut per_delivery: BTreeMap<String, u32> = BTreeMap::new();
    for r in &received {
        assert!(r.signature_ok, "a body with a wrong signature arrived");
        assert_eq!(r.event, "submission.received");
        let env: Envelope = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            env.delivery.to_string(),
            r.delivery,
            "Lotse-Delivery names the delivery"
        );
        assert_eq!(env.event, "submission.received");
        assert_eq!(env.tenant, "heinsberg");
        assert!(env.reference.starts_with("HEI-"));
        let id = serde_json::from_str::<Value>(env.submission.get()).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        // Byte for byte the stored record.
        assert_eq!(env.submission.get(), stored[&id]);
        // The receipt is the one the citizen downloads, and its signature holds.
        let receipt = env.receipt.expect("the receipt is delivered");
        assert_eq!(receipt.content_type, "application/pdf");
        assert_eq!(
            receipt.file_name,
            format!("Eingangsbestaetigung-{}.pdf", env.reference)
        );
        use base64::Engine as _;
        let pdf = base64::engine::general_purpose::STANDARD
            .decode(&receipt.base64)
            .unwrap();
        assert_eq!(
            pdf,
            std::fs::read(data.join("receipts").join(format!("{id}.pdf"))).unwrap()
        );
        use sha2::Digest as _;
        let sha: String = sha2::Sha256::digest(&pdf)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(receipt.sha256, sha);
        let check = lotse_receipt::verify_receipt(&pdf).unwrap();
        assert!(check.valid && check.covers_whole_file);
        *per_delivery.entry(r.delivery.clone()).or_default() += 1;
    }
    let largest = received.iter().map(|r| r.body.len()).max().unwrap();
    eprintln!("{} requests, largest body {largest} bytes", received.len());
    // One delivery per submission; the ones answered with 500 came again with the same id.
    assert_eq!(per_delivery.len(), submitted.len());
    assert!(per_delivery.values().any(|&n| n >= 2), "{per_delivery:?}");

    // The Postkorb's view: all delivered, with the failed attempts counted and no foreign entry.
    let store = SledStore::open(data.join("store")).unwrap();
    let heinsberg = TenantId::new("heinsberg", "HEI").unwrap();
    let views = delivery::deliveries(&store, &heinsberg, DeliveryFilter::All, None, 100).unwrap();
    assert_eq!(views.len(), submitted.len());
    assert!(
        views
            .iter()
            .all(|v| v.status == DeliveryStatus::Zugestellt && v.delivered_at.is_some())
    );
    assert!(
        views
            .iter()
            .any(|v| v.attempts > 1 && v.last_error.is_some())
    );
    assert!(
        views
            .iter()
            .filter_map(|v| v.last_error.as_deref())
            .all(|e| e.starts_with("LOT-W01") && !e.contains("Anna")),
        "{views:?}"
    );
    assert!(
        delivery::deliveries(&store, &heinsberg, DeliveryFilter::Failed, None, 100)
            .unwrap()
            .is_empty()
    );
    let wegberg = TenantId::new("wegberg", "WEG").unwrap();
    assert!(
        delivery::deliveries(&store, &wegberg, DeliveryFilter::All, None, 100)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_missing_secret_stops_the_start_with_its_code_and_without_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "127.0.0.1:1".parse().unwrap(), free_port());
    let out = Command::new(env!("CARGO_BIN_EXE_lotse"))
        .args(["serve", "--config"])
        .arg(&config)
        .env_remove("LOTSE_TEST_WEBHOOK_SECRET")
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("LOT-W002") && err.contains("LOTSE_TEST_WEBHOOK_SECRET"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_lotse"))
        .args(["serve", "--config"])
        .arg(&config)
        .env("LOTSE_TEST_WEBHOOK_SECRET", "zu-kurz")
        .current_dir(repo())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("LOT-W002") && !err.contains("zu-kurz"),
        "{err}"
    );
}

/// An office that answers 404 to everything, and counts what it got.
async fn refusing_office() -> (u16, Arc<Mutex<Vec<Vec<u8>>>>) {
    let got: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let g = got.clone();
    let app = axum::Router::new().route(
        "/eingang",
        axum::routing::post(move |body: Bytes| {
            let g = g.clone();
            async move {
                g.lock().unwrap().push(body.to_vec());
                StatusCode::NOT_FOUND
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (port, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hopeless_deliveries_are_given_up_with_their_cause_and_never_cross_tenants() {
    use lotse_server::config::{Config, TenantConfig, Webhook};
    use lotse_store::{
        IdempotencyKey, NewOutboxMessage, NewSubmission, OsEntropy, Outbox, SubmissionId,
        SubmissionStore,
    };

    let (port, got) = refusing_office().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    let t = TenantConfig {
        webhook: Some(Webhook {
            url: format!("http://127.0.0.1:{port}/eingang"),
            secret_env: "SECRET".into(),
            timeout_seconds: Some(2),
            ca_file: None,
        }),
        ..TenantConfig::default()
    };
    config.tenants.insert("heinsberg".into(), t);
    config.delivery.retry_seconds = vec![Duration::from_millis(100)];
    config.delivery.max_attempts = 3;
    config.delivery.poll_seconds = Duration::from_millis(50);
    let webhooks = delivery::Webhooks::from_config(&config, &|_| Some(SECRET.to_string())).unwrap();

    let store = SledStore::open(dir.path().join("store")).unwrap();
    let receipts = dir.path().join("receipts");
    std::fs::create_dir_all(&receipts).unwrap();
    let heinsberg = TenantId::new("heinsberg", "HEI").unwrap();
    let wegberg = TenantId::new("wegberg", "WEG").unwrap();
    let now = lotse_core::Clock::now(&lotse_core::SystemClock);
    let submit = |tenant: &TenantId, key: &str, target: Option<&str>| {
        let id = SubmissionId::generate(&mut OsEntropy).unwrap();
        let mut notifications =
            delivery::notifications(&webhooks, tenant.slug(), "hundesteuer-anmeldung", &id);
        if let Some(target) = target {
            notifications = vec![NewOutboxMessage {
                topic: delivery::SUBMISSION_RECEIVED.into(),
                target: target.into(),
                payload: serde_json::json!({ "submission": id.to_string() }),
            }];
        }
        let s = store
            .submit(
                NewSubmission {
                    id,
                    tenant: tenant.clone(),
                    idempotency_key: IdempotencyKey::try_from(key.to_string()).unwrap(),
                    draft_id: None,
                    workflow_id: "hundesteuer-anmeldung".into(),
                    workflow_version: "1".into(),
                    data: serde_json::json!({ "answers": { "name": "Erika" } }),
                    applicant: None,
                    search_text: String::new(),
                    notifications,
                },
                now,
            )
            .unwrap();
        std::fs::write(receipts.join(format!("{}.pdf", s.id)), b"%PDF-1.7 test").unwrap();
        s
    };
    // Wegberg has no webhook: nothing is enqueued for it.
    submit(&wegberg, "w1", None);
    assert!(
        delivery::deliveries(&store, &wegberg, DeliveryFilter::All, None, 10)
            .unwrap()
            .is_empty()
    );
    submit(&heinsberg, "h1", None);
    submit(&heinsberg, "h2", Some("heinsberg/bewohnerparkausweis"));
    // A Wegberg submission aimed at Heinsberg's webhook (a damaged or forged entry).
    submit(&wegberg, "w2", Some("heinsberg/*"));

    let webhooks = Arc::new(webhooks);
    let worker = delivery::Worker::start(store.clone(), webhooks.clone(), receipts.clone());
    wait_for("three given-up deliveries", Duration::from_secs(20), || {
        delivery::deliveries(&store, &heinsberg, DeliveryFilter::Failed, None, 10)
            .unwrap()
            .len()
            == 2
            && delivery::deliveries(&store, &wegberg, DeliveryFilter::Failed, None, 10)
                .unwrap()
                .len()
                == 1
    })
    .await;
    worker.stop().await;

    let failed =
        delivery::deliveries(&store, &heinsberg, DeliveryFilter::Failed, None, 10).unwrap();
    let refused = failed.iter().find(|v| v.target == "heinsberg/*").unwrap();
    let e = refused.last_error.as_deref().unwrap();
    assert!(e.starts_with("LOT-W017") && e.contains("HTTP 404"), "{e}");
    assert_eq!(refused.attempts, 3);
    assert!(refused.failed_at.is_some() && refused.next_attempt.is_none());
    let gone = failed
        .iter()
        .find(|v| v.target == "heinsberg/bewohnerparkausweis")
        .unwrap();
    assert!(gone.last_error.as_deref().unwrap().starts_with("LOT-W015"));
    assert_eq!(gone.attempts, 1);
    let foreign = delivery::deliveries(&store, &wegberg, DeliveryFilter::Failed, None, 10).unwrap();
    assert!(
        foreign[0]
            .last_error
            .as_deref()
            .unwrap()
            .starts_with("LOT-W016")
    );
    // The office saw only Heinsberg's one deliverable submission, three times.
    let bodies = got.lock().unwrap().clone();
    assert_eq!(bodies.len(), 3);
    assert!(bodies.iter().all(|b| {
        let v: Value = serde_json::from_slice(b).unwrap();
        v["tenant"] == "heinsberg" && v["submission"]["tenant"]["slug"].as_str() != Some("wegberg")
    }));
    assert!(store.outbox_message(refused.id).unwrap().is_some());

    // "Erneut senden" from the Postkorb: never for another tenant, once for its own.
    let now = lotse_core::Clock::now(&lotse_core::SystemClock);
    assert!(!delivery::redeliver(&store, &wegberg, refused.id, now).unwrap());
    assert!(delivery::redeliver(&store, &heinsberg, refused.id, now).unwrap());
    let open = delivery::deliveries(&store, &heinsberg, DeliveryFilter::Open, None, 10).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].id, refused.id);
    let worker = delivery::Worker::start(store.clone(), webhooks.clone(), receipts.clone());
    wait_for("the repeated attempt", Duration::from_secs(20), || {
        delivery::deliveries(&store, &heinsberg, DeliveryFilter::Open, None, 10)
            .unwrap()
            .is_empty()
    })
    .await;
    worker.stop().await;
    let again = store.outbox_message(refused.id).unwrap().unwrap();
    assert_eq!(again.attempts, 4, "one more attempt, then given up again");
    assert!(matches!(
        again.state,
        lotse_store::DeliveryState::Failed { .. }
    ));
}

/// A test CA and a certificate for 127.0.0.1 signed by it: (CA PEM, server TLS configuration).
fn test_pki(ca_name: &str) -> (String, Arc<rustls::ServerConfig>) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, ca_name);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &ca_cert, &ca_key)
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), ca_cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    (ca_cert.pem(), Arc::new(server))
}

type Got = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// An office receiving over HTTPS (rustls server, hyper): keeps signature header and body.
async fn tls_office(config: Arc<rustls::ServerConfig>) -> (u16, Got) {
    let got: Got = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let g = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, g) = (acceptor.clone(), g.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let g = g.clone();
                        async move {
                            let sig = req
                                .headers()
                                .get("lotse-signature")
                                .map(|v| v.to_str().unwrap().to_string())
                                .unwrap_or_default();
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            g.lock().unwrap().push((sig, body.to_vec()));
                            Ok::<_, std::convert::Infallible>(
                                hyper::Response::builder()
                                    .status(204)
                                    .body(Full::new(Bytes::new()))
                                    .unwrap(),
                            )
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    (port, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_receivers_get_deliveries_and_an_untrusted_certificate_is_refused() {
    use lotse_server::config::{Config, TenantConfig, Webhook};
    use lotse_store::{IdempotencyKey, NewSubmission, OsEntropy, SubmissionId, SubmissionStore};

    let (ca_pem, server) = test_pki("Test-CA Kreis Heinsberg");
    let (port, got) = tls_office(server).await;
    // Another CA nobody told Lotse about: its server must be refused.
    let (_, stranger) = test_pki("Test-CA Fremd");
    let (stranger_port, stranger_got) = tls_office(stranger).await;

    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let hook = |port: u16| TenantConfig {
        webhook: Some(Webhook {
            url: format!("https://127.0.0.1:{port}/eingang"),
            secret_env: "SECRET".into(),
            timeout_seconds: Some(5),
            ca_file: Some(ca_file.clone()),
        }),
        ..TenantConfig::default()
    };
    let mut config = Config::default();
    config.tenants.insert("heinsberg".into(), hook(port));
    config.tenants.insert("wegberg".into(), hook(stranger_port));
    config.delivery.max_attempts = 1;
    config.delivery.poll_seconds = Duration::from_millis(50);
    let webhooks = delivery::Webhooks::from_config(&config, &|_| Some(SECRET.to_string())).unwrap();

    let store = SledStore::open(dir.path().join("store")).unwrap();
    let receipts = dir.path().join("receipts");
    std::fs::create_dir_all(&receipts).unwrap();
    let now = lotse_core::Clock::now(&lotse_core::SystemClock);
    for (tenant, key) in [
        (TenantId::new("heinsberg", "HEI").unwrap(), "h"),
        (TenantId::new("wegberg", "WEG").unwrap(), "w"),
    ] {
        let id = SubmissionId::generate(&mut OsEntropy).unwrap();
        let notifications =
            delivery::notifications(&webhooks, tenant.slug(), "hundesteuer-anmeldung", &id);
        assert_eq!(notifications.len(), 1);
        let s = store
            .submit(
                NewSubmission {
                    id,
                    tenant,
                    idempotency_key: IdempotencyKey::try_from(key.to_string()).unwrap(),
                    draft_id: None,
                    workflow_id: "hundesteuer-anmeldung".into(),
                    workflow_version: "1".into(),
                    data: serde_json::json!({ "answers": { "name": "Erika" } }),
                    applicant: None,
                    search_text: String::new(),
                    notifications,
                },
                now,
            )
            .unwrap();
        std::fs::write(receipts.join(format!("{}.pdf", s.id)), b"%PDF-1.7 test").unwrap();
    }

    let worker = delivery::Worker::start(store.clone(), Arc::new(webhooks), receipts);
    let wegberg = TenantId::new("wegberg", "WEG").unwrap();
    wait_for(
        "the https delivery and the refusal",
        Duration::from_secs(20),
        || {
            !got.lock().unwrap().is_empty()
                && !delivery::deliveries(&store, &wegberg, DeliveryFilter::Failed, None, 10)
                    .unwrap()
                    .is_empty()
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    worker.stop().await;

    let got = got.lock().unwrap();
    assert_eq!(got.len(), 1);
    let now = lotse_core::Clock::now(&lotse_core::SystemClock).unix_timestamp();
    assert!(delivery::verify_signature(
        SECRET.as_bytes(),
        &got[0].0,
        &got[0].1,
        now,
        300
    ));
    let heinsberg = TenantId::new("heinsberg", "HEI").unwrap();
    let done = delivery::deliveries(&store, &heinsberg, DeliveryFilter::All, None, 10).unwrap();
    assert_eq!(done[0].status, DeliveryStatus::Zugestellt);
    // The stranger's server never got a request: the handshake failed on its certificate.
    assert!(stranger_got.lock().unwrap().is_empty());
    let refused = delivery::deliveries(&store, &wegberg, DeliveryFilter::Failed, None, 10).unwrap();
    let e = refused[0].last_error.as_deref().unwrap();
    assert!(
        e.contains("LOT-W018") && e.contains("invalid peer certificate: UnknownIssuer"),
        "{e}"
    );
}
