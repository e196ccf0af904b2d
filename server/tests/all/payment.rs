//! Online payment end to end, over real HTTP on both store backends: Lotse on a port of its
//! own, the payment platform simulator on another, a citizen using the JSON API and the portal's
//! pages, the platform's pay page and its notifications. What must hold: a confirmed payment is
//! never lost (notification, return or reconciliation all lead to the office), nothing is
//! charged twice, an unpaid application never reaches the office, the amount charged is the
//! amount shown and printed, and a tampered notification is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use lotse_server::Portal;
use lotse_server::payment::client::{Answer, request};
use lotse_server::payment::sim::{self, RunningSim};
use lotse_server::payment::{HttpPlatform, signature};
use lotse_store::{SubmissionStore, TenantId};
use serde_json::{Value, json};

const SECRET: &[u8] = b"ein-geheimnis-nur-fuer-tests-0001";
const CASE_WORKER_PASSWORD: &str = "ein-langes-passwort-fuer-die-kasse";
const TENANT: &str = "heinsberg";
const WF: &str = "bewohnerparkausweis";

struct PayApp {
    base: String,
    sim: Option<RunningSim>,
    portal: Arc<Portal>,
    server: tokio::task::JoinHandle<()>,
    /// The delivery worker, when the office's webhook is connected.
    worker: Option<lotse_server::delivery::Worker>,
    /// Where the store is: the data folder (sled), or the PostgreSQL database's URL.
    data_dir: std::path::PathBuf,
    pg_url: Option<String>,
    _dir: tempfile::TempDir,
}

#[derive(Clone, Copy, Debug)]
enum Backend {
    Sled,
    Postgres,
}

/// What a [`PayApp`] starts with besides Lotse and the simulator.
#[derive(Default)]
struct Options {
    /// Heinsberg's webhook goes to this office's receiver (a live HTTP server on loopback, the
    /// one of the delivery tests), and the delivery worker runs.
    office: Option<crate::delivery::Office>,
    /// A file of `lotse export`'s JSON Lines, imported with `lotse import` into the new store
    /// before Lotse starts.
    import: Option<std::path::PathBuf>,
    /// The platform (simulator) to use, when the payments were made at one already.
    sim: Option<RunningSim>,
}

/// The name of the webhook secret's variable, read through `Portal::build_with_env`.
const WEBHOOK_SECRET_ENV: &str = "LOTSE_PAY_TEST_WEBHOOK";

impl PayApp {
    /// Lotse and the simulator, each on its own loopback port; `None`: PostgreSQL is not
    /// available here (and not required).
    async fn spawn(backend: Backend) -> Option<PayApp> {
        PayApp::spawn_with(backend, Options::default()).await
    }

    async fn spawn_with(backend: Backend, options: Options) -> Option<PayApp> {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = lotse_server::config::Config {
            listen: addr,
            project_dir: crate::portal::project_root().to_path_buf(),
            data_dir: dir.path().join("data"),
            ..Default::default()
        };
        if let Backend::Postgres = backend {
            let url = tokio::task::spawn_blocking(lotse_store::pg_testing::test_database)
                .await
                .unwrap()
                .unwrap()?;
            config.store.backend = lotse_server::config::Backend::Postgres;
            config.store.url = Some(url);
        }
        if let Some(file) = options.import {
            let out = lotse_cli(
                &["import", file.to_str().unwrap()],
                &config.data_dir,
                config.store.url.as_deref(),
            )
            .await;
            assert!(out.contains("Import: "), "{out}");
        }
        let with_office = options.office.is_some();
        if let Some(office) = options.office {
            let port = crate::delivery::free_port();
            crate::delivery::open_office(port, office).await;
            config.tenants.insert(
                TENANT.into(),
                lotse_server::config::TenantConfig {
                    webhook: Some(lotse_server::config::Webhook {
                        url: format!("http://127.0.0.1:{port}/eingang"),
                        secret_env: WEBHOOK_SECRET_ENV.into(),
                        timeout_seconds: Some(5),
                        ca_file: None,
                    }),
                    ..Default::default()
                },
            );
            config.delivery.retry_seconds = vec![Duration::from_millis(200)];
            config.delivery.poll_seconds = Duration::from_millis(50);
        }
        let sim = match options.sim {
            Some(sim) => sim,
            None => sim::spawn(SocketAddr::from(([127, 0, 0, 1], 0)), SECRET.to_vec())
                .await
                .unwrap(),
        };
        let (data_dir, pg_url) = (config.data_dir.clone(), config.store.url.clone());
        let built = tokio::task::spawn_blocking(move || {
            Portal::build_with_env(&config, false, Arc::new(lotse_core::SystemClock), &|k| {
                (k == WEBHOOK_SECRET_ENV).then(|| crate::delivery::SECRET.to_string())
            })
        })
        .await
        .unwrap()
        .unwrap();
        let portal = Arc::new(built);
        let worker = with_office.then(|| portal.start_delivery());
        portal.state().set_payment_platform(
            TENANT,
            Arc::new(HttpPlatform::new(
                &sim.base,
                "HEI-TEST",
                SECRET.to_vec(),
                Duration::from_secs(5),
            )),
        );
        let base = format!("http://{addr}");
        portal.state().set_public_url(&base);
        let app = lotse_server::router(portal.clone())
            .into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Some(PayApp {
            base,
            sim: Some(sim),
            portal,
            server,
            worker,
            data_dir,
            pg_url,
            _dir: dir,
        })
    }

    fn sim_base(&self) -> String {
        self.sim.as_ref().unwrap().base.clone()
    }

    async fn call(&self, method: &str, url: &str, body: Option<Value>) -> (u16, Value, Answer) {
        let url = if url.starts_with("http") {
            url.to_string()
        } else {
            format!("{}{url}", self.base)
        };
        let method = method.to_string();
        let (headers, bytes) = match &body {
            Some(b) => (
                vec![("Content-Type", "application/json".to_string())],
                serde_json::to_vec(b).unwrap(),
            ),
            None => (vec![], vec![]),
        };
        let a = tokio::task::spawn_blocking(move || {
            request(&method, &url, &headers, &bytes, Duration::from_secs(20))
        })
        .await
        .unwrap()
        .unwrap();
        let v = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
        (a.status, v, a)
    }

    async fn form(&self, url: &str, pairs: &[(&str, &str)]) -> Answer {
        let body = serde_urlencoded::to_string(pairs).unwrap().into_bytes();
        let url = url.to_string();
        tokio::task::spawn_blocking(move || {
            request(
                "POST",
                &url,
                &[
                    (
                        "Content-Type",
                        "application/x-www-form-urlencoded".to_string(),
                    ),
                    ("Sec-Fetch-Site", "same-origin".to_string()),
                ],
                &body,
                Duration::from_secs(20),
            )
        })
        .await
        .unwrap()
        .unwrap()
    }

    async fn page(&self, path: &str) -> Answer {
        let (_, _, a) = self.call("GET", path, None).await;
        a
    }

    /// A Bewohnerparkausweis for `jahre` years, paid online, through the JSON API up to
    /// "Absenden und bezahlen": the 202 answer's payment.
    async fn apply_and_send(&self, jahre: i64) -> (String, Value) {
        let api = format!("/api/v1/tenants/{TENANT}");
        let (s, v, _) = self
            .call(
                "POST",
                &format!("{api}/services/{WF}/applications"),
                Some(json!({})),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_str().unwrap().to_string();
        let mut rev = v["revision"].as_u64().unwrap();
        let today = self.portal.state().now().date();
        let beginn = format!(
            "{:04}-{:02}-{:02}",
            today.year(),
            u8::from(today.month()),
            today.day()
        );
        let steps = [
            (
                "antragsteller",
                json!({
                    "person": {"anrede": "Herr", "vorname": "Jan", "nachname": "Hermanns", "geburtsdatum": "1979-08-23"},
                    "meldeadresse": {"strasse": "Hochstraße", "hausnummer": "112", "plz": "52525", "ort": "Heinsberg"},
                    "kontakt": {"email": "jan.hermanns@example.org"},
                    "zone": "A",
                    "wohnt_in_zone": true
                }),
            ),
            (
                "fahrzeug",
                json!({"fahrzeug": {"kennzeichen": "HS-JH 112", "hersteller": "Volkswagen", "modell": "Golf", "fahrzeugart": "Pkw", "halter_art": "privat"}, "auf_sie_zugelassen": "ja"}),
            ),
            ("gueltigkeit", json!({"jahre": jahre, "beginn": beginn})),
            ("zahlung", json!({"zahlungsart": "online"})),
        ];
        for (step, values) in steps {
            let (s, v, _) = self
                .call(
                    "PUT",
                    &format!("{api}/applications/{id}/steps/{step}"),
                    Some(json!({"revision": rev, "values": values})),
                )
                .await;
            assert_eq!(s, 200, "{step}: {v}");
            rev = v["revision"].as_u64().unwrap();
        }
        // The review: what the citizen sees before sending.
        let (s, review, _) = self
            .call(
                "POST",
                &format!("{api}/applications/{id}/review"),
                Some(json!({"revision": rev})),
            )
            .await;
        assert_eq!(s, 200, "{review}");
        rev = review["revision"].as_u64().unwrap();
        let (s, v, _) = self
            .call(
                "POST",
                &format!("{api}/applications/{id}/submit"),
                Some(json!({"revision": rev, "declaration": ["richtig", "rueckgabe"]})),
            )
            .await;
        assert_eq!(s, 202, "{v}");
        assert_eq!(v["position"], "payment_pending", "{v}");
        // The amount charged is the amount the review showed: the fee in euros as listed, and
        // the computed amount in whole cents.
        let payment = v["payment"].clone();
        assert_eq!(
            review["computed"]["zu_zahlen"], payment["amount_cents"],
            "{review}"
        );
        let fee = review["review"]["computed"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["field"] == "gebuehr")
            .unwrap_or_else(|| panic!("no fee on the review: {review}"));
        assert!(
            fee.to_string()
                .contains(payment["amount"].as_str().unwrap()),
            "the review shows {fee}, the payment is {}",
            payment["amount"]
        );
        (id, payment)
    }

    /// The citizen at the pay page: chooses `outcome` and how the platform notifies; returns
    /// where the platform sends the browser back to.
    async fn pay_at_platform(&self, pay_page: &str, outcome: &str, notify: &str) -> String {
        let page = self.page(pay_page).await;
        assert_eq!(page.status, 200);
        let a = self
            .form(
                pay_page,
                &[
                    ("methode", "giropay"),
                    ("ergebnis", outcome),
                    ("benachrichtigung", notify),
                ],
            )
            .await;
        assert_eq!(a.status, 303);
        a.header("location").unwrap().to_string()
    }

    fn tenant(&self) -> TenantId {
        TenantId::new(TENANT, "HEI").unwrap()
    }

    /// The tenant's submissions, as the office's Postkorb has them.
    async fn submissions(&self) -> Vec<lotse_store::Submission> {
        let p = self.portal.clone();
        let t = self.tenant();
        tokio::task::spawn_blocking(move || p.store().submissions(&t, None, 100).unwrap())
            .await
            .unwrap()
    }

    async fn wait_for_submissions(&self, n: usize) -> Vec<lotse_store::Submission> {
        for _ in 0..100 {
            let s = self.submissions().await;
            if s.len() >= n {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no submission arrived")
    }

    async fn platform_overview(&self) -> Vec<Value> {
        let (_, v, _) = self
            .call(
                "GET",
                &format!("{}/api/v1/uebersicht", self.sim_base()),
                None,
            )
            .await;
        v.as_array().unwrap().clone()
    }

    async fn reconcile(&self) -> usize {
        let state = self.portal.state().clone();
        tokio::task::spawn_blocking(move || {
            lotse_server::workers::payments::round(&state, Duration::ZERO)
        })
        .await
        .unwrap()
    }

    async fn stop(mut self) {
        if let Some(s) = self.sim.take() {
            s.stop().await;
        }
        self.stop_lotse().await;
    }

    /// Stops Lotse, keeps the platform running: its simulator.
    async fn stop_lotse(mut self) -> Option<RunningSim> {
        if let Some(w) = self.worker.take() {
            w.stop().await;
        }
        self.server.abort();
        let _ = (&mut self.server).await;
        self.sim.take()
    }

    /// `lotse export` of this Lotse's store into a file in `dir`, after Lotse stopped and let
    /// go of its store (sled is one process's at a time). Keeps the platform running: returns
    /// its simulator.
    async fn export_after_stop(
        mut self,
        dir: &std::path::Path,
    ) -> (std::path::PathBuf, Option<RunningSim>) {
        let (data, url) = (self.data_dir.clone(), self.pg_url.clone());
        if let Some(w) = self.worker.take() {
            w.stop().await;
        }
        self.server.abort();
        let _ = (&mut self.server).await;
        let sim = self.sim.take();
        let PayApp {
            portal, _dir: keep, ..
        } = self;
        // Connections end after each request (`Connection: close`): the last handle on the
        // portal comes back to this test, and dropping it closes the store.
        for _ in 0..100 {
            if Arc::strong_count(&portal) == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let portal = Arc::try_unwrap(portal)
            .ok()
            .expect("the portal is still in use");
        tokio::task::spawn_blocking(move || drop(portal))
            .await
            .unwrap();
        let file = dir.join("export.jsonl");
        let out = lotse_cli(
            &["export", "-o", file.to_str().unwrap()],
            &data,
            url.as_deref(),
        )
        .await;
        assert!(out.contains("Export: "), "{out}");
        drop(keep);
        (file, sim)
    }

    /// The text of a submission's receipt (pdftotext), once it is kept: the submission is
    /// stored a moment before its receipt. `None` without poppler (not in CI).
    async fn receipt_text(&self, sid: &str) -> Option<String> {
        for _ in 0..100 {
            let (s, _, pdf) = self
                .call(
                    "GET",
                    &format!("/{TENANT}/eingang/{sid}/quittung.pdf"),
                    None,
                )
                .await;
            if s == 200 {
                return pdftotext(&pdf.body);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no receipt for {sid}")
    }

    /// The citizen at the pay page with the form's fields as given (another amount, …).
    async fn pay_at_platform_with(&self, pay_page: &str, fields: &[(&str, &str)]) -> String {
        let a = self.form(pay_page, fields).await;
        assert_eq!(a.status, 303, "{}", String::from_utf8_lossy(&a.body));
        a.header("location").unwrap().to_string()
    }

    /// A case worker of Heinsberg with an API token for the Postkorb API, and a signed-in
    /// session cookie for its pages.
    async fn case_worker(&self) -> (String, String) {
        let p = self.portal.clone();
        let token = tokio::task::spawn_blocking(move || {
            let tenant = TenantId::new(TENANT, "HEI").unwrap();
            let now = lotse_core::Clock::now(&lotse_core::SystemClock);
            let a = lotse_server::admin::accounts::create_account(
                p.store(),
                &tenant,
                lotse_server::admin::accounts::NewAccount {
                    login: "kasse",
                    display_name: "Karla Kasse",
                    role: lotse_store::Role::CaseWorker,
                    password: CASE_WORKER_PASSWORD,
                },
                argon2::Params::new(8, 1, 1, None).unwrap(),
                now,
            )
            .unwrap();
            lotse_server::admin::accounts::create_token(p.store(), &a, "Fachverfahren", now)
                .unwrap()
                .1
        })
        .await
        .unwrap();
        let login = format!("{}/verwaltung/{TENANT}/anmelden", self.base);
        let form = self.page(&login).await;
        let html = String::from_utf8_lossy(&form.body).to_string();
        let csrf = crate::delivery::hidden(&html, "_csrf");
        let a = self
            .form(
                &login,
                &[
                    ("_csrf", &csrf),
                    ("benutzername", "kasse"),
                    ("passwort", CASE_WORKER_PASSWORD),
                ],
            )
            .await;
        assert_eq!(a.status, 303, "{}", String::from_utf8_lossy(&a.body));
        let cookie = a
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.clone())
            .find(|c| c.starts_with("lotse_verwaltung="))
            .expect("a session cookie");
        let cookie = cookie.split(';').next().unwrap().to_string();
        (token, cookie)
    }

    /// The Postkorb's view of a submission: the API's JSON and the case worker's page.
    async fn postkorb(&self, token: &str, cookie: &str, sid: &str) -> (Value, String) {
        let api = format!("{}/api/v1/verwaltung/{TENANT}/antraege/{sid}", self.base);
        let page = format!("{}/verwaltung/{TENANT}/antrag/{sid}", self.base);
        let (token, cookie) = (token.to_string(), cookie.to_string());
        tokio::task::spawn_blocking(move || {
            let json = request(
                "GET",
                &api,
                &[("Authorization", format!("Bearer {token}"))],
                &[],
                Duration::from_secs(20),
            )
            .unwrap();
            assert_eq!(json.status, 200, "{}", String::from_utf8_lossy(&json.body));
            let html = request(
                "GET",
                &page,
                &[("Cookie", cookie)],
                &[],
                Duration::from_secs(20),
            )
            .unwrap();
            assert_eq!(html.status, 200, "{}", String::from_utf8_lossy(&html.body));
            (
                serde_json::from_slice(&json.body).unwrap(),
                String::from_utf8_lossy(&html.body).to_string(),
            )
        })
        .await
        .unwrap()
    }
}

fn pay_page(payment: &Value) -> String {
    payment["links"]["pay_page"].as_str().unwrap().to_string()
}

fn paid_of(s: &lotse_store::Submission) -> &Value {
    &s.data["payment"]
}

async fn a_paid_application_reaches_the_office_once_with_amount_method_and_transaction(
    app: PayApp,
) {
    let (draft, payment) = app.apply_and_send(2).await;
    assert_eq!(payment["amount_cents"], 6140);
    assert_eq!(payment["amount"], "61,40 €");
    assert!(
        payment["purpose"]
            .as_str()
            .unwrap()
            .starts_with("Bewohnerparkausweis HEI-Z-")
    );
    // Sent, but not in the Postkorb: payment pending.
    assert!(app.submissions().await.is_empty());
    let pid = payment["id"].as_str().unwrap().to_string();
    let page = app.page(&format!("/{TENANT}/zahlung/{pid}")).await;
    let html = String::from_utf8_lossy(&page.body).to_string();
    assert!(html.contains("<strong>offen</strong>"), "{html}");
    assert!(html.contains("61,40 €"), "{html}");
    // The draft leads to the payment now.
    let (s, v, _) = app
        .call(
            "GET",
            &format!("/api/v1/tenants/{TENANT}/applications/{draft}"),
            None,
        )
        .await;
    assert_eq!((s, v["position"].as_str()), (200, Some("payment_pending")));
    // At the platform: the amount the citizen saw.
    let back = app
        .pay_at_platform(&pay_page(&payment), "paid", "twice")
        .await;
    assert_eq!(back, format!("{}/{TENANT}/zahlung/{pid}/zurueck", app.base));
    let ret = app.page(&back).await;
    assert_eq!(ret.status, 303);
    let page = app.page(&format!("/{TENANT}/zahlung/{pid}")).await;
    let html = String::from_utf8_lossy(&page.body).to_string();
    assert!(html.contains("<strong>bezahlt</strong>"), "{html}");
    let subs = app.wait_for_submissions(1).await;
    // Reloading the return URL and the repeated notification change nothing.
    app.page(&back).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let subs2 = app.submissions().await;
    assert_eq!(subs2.len(), 1);
    assert_eq!(subs2[0].id, subs[0].id);
    let platform = app.platform_overview().await;
    assert_eq!(platform.len(), 1);
    assert_eq!(platform[0]["charges"], 1);
    assert_eq!(platform[0]["request"]["amount_cents"], 6140);
    let paid = paid_of(&subs[0]);
    assert!(
        subs[0].data.get("sepa_mandate").is_none(),
        "paid online: no mandate"
    );
    assert_eq!(paid["state"], "paid");
    assert_eq!(paid["amount_cents"], 6140);
    assert_eq!(paid["method"], "giropay");
    assert_eq!(paid["transaction_id"], platform[0]["transaction_id"]);
    assert!(html.contains(paid["transaction_id"].as_str().unwrap()));
    // The webhook delivers the stored submission as it is (the body's `submission`): with
    // its payment.
    let body = lotse_server::delivery::submission_json(&subs[0]).unwrap();
    let delivered: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(delivered["data"]["payment"], *paid);
    // The citizen's status page shows the payment too.
    let status = app.page(&format!("/{TENANT}/eingang/{}", subs[0].id)).await;
    let status = String::from_utf8_lossy(&status.body).to_string();
    assert!(
        status.contains("Transaktionsnummer")
            && status.contains(paid["transaction_id"].as_str().unwrap())
            && status.contains("61,40 €"),
        "{status}"
    );
    // A second payment request for the paid application is refused.
    let (s, v, _) = app
        .call(
            "POST",
            &format!("/api/v1/tenants/{TENANT}/payments/{pid}/pay"),
            None,
        )
        .await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(v["code"], "LOT-H020");
    // The receipt carries amount, method and transaction id.
    let (s, _, pdf) = app
        .call(
            "GET",
            &format!("/{TENANT}/eingang/{}/quittung.pdf", subs[0].id),
            None,
        )
        .await;
    assert_eq!(s, 200);
    if let Some(text) = pdftotext(&pdf.body) {
        for want in [
            "61,40 €",
            "giropay",
            paid["transaction_id"].as_str().unwrap(),
            "Transaktionsnummer",
        ] {
            assert!(text.contains(want), "{want} not in the receipt: {text}");
        }
    }
    app.stop().await;
}

/// The receipt's text, when poppler's pdftotext is installed (required in CI).
fn pdftotext(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("q.pdf");
    std::fs::write(&file, pdf).unwrap();
    match std::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
    {
        Ok(o) => Some(String::from_utf8_lossy(&o.stdout).to_string()),
        Err(_) if std::env::var("LOTSE_REQUIRE_POPPLER").is_err() => None,
        Err(e) => panic!("pdftotext is required: {e}"),
    }
}

async fn a_citizen_who_closes_the_browser_on_the_pay_page_still_reaches_the_office(app: PayApp) {
    let (_, payment) = app.apply_and_send(1).await;
    // Paid; the browser never comes back: the notification alone carries it.
    app.pay_at_platform(&pay_page(&payment), "paid", "now")
        .await;
    let subs = app.wait_for_submissions(1).await;
    assert_eq!(paid_of(&subs[0])["amount_cents"], 3070);
    app.stop().await;
}

async fn without_return_or_notification_the_reconciliation_job_finds_the_payment(app: PayApp) {
    let (_, payment) = app.apply_and_send(1).await;
    app.pay_at_platform(&pay_page(&payment), "paid", "never")
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(app.submissions().await.is_empty());
    assert!(app.reconcile().await >= 1);
    let subs = app.wait_for_submissions(1).await;
    assert_eq!(paid_of(&subs[0])["state"], "paid");
    // Settled: nothing open is left to ask about, and another round changes nothing.
    assert_eq!(app.reconcile().await, 0);
    assert_eq!(app.submissions().await.len(), 1);
    app.stop().await;
}

async fn cancelled_and_failed_payments_never_reach_the_office_and_can_be_tried_again(app: PayApp) {
    let (_, payment) = app.apply_and_send(2).await;
    let pid = payment["id"].as_str().unwrap().to_string();
    let back = app
        .pay_at_platform(&pay_page(&payment), "cancelled", "now")
        .await;
    app.page(&back).await;
    let html = String::from_utf8_lossy(&app.page(&format!("/{TENANT}/zahlung/{pid}")).await.body)
        .to_string();
    assert!(html.contains("<strong>abgebrochen</strong>"), "{html}");
    assert!(html.contains("Erneut versuchen"), "{html}");
    // Try again: a new request at the platform.
    let (s, v, _) = app
        .call(
            "POST",
            &format!("/api/v1/tenants/{TENANT}/payments/{pid}/pay"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let second = v["links"]["pay_page"].as_str().unwrap().to_string();
    assert_ne!(second, pay_page(&payment));
    // Asking again while it is open gives the same request, not a third one.
    let (_, again, _) = app
        .call(
            "POST",
            &format!("/api/v1/tenants/{TENANT}/payments/{pid}/pay"),
            None,
        )
        .await;
    assert_eq!(again["links"]["pay_page"], second.as_str());
    let back = app.pay_at_platform(&second, "failed", "now").await;
    app.page(&back).await;
    let html = String::from_utf8_lossy(&app.page(&format!("/{TENANT}/zahlung/{pid}")).await.body)
        .to_string();
    assert!(html.contains("<strong>fehlgeschlagen</strong>"), "{html}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        app.submissions().await.is_empty(),
        "unpaid reached the office"
    );
    // A third request, paid: one submission, one charge over all three requests.
    let (_, third, _) = app
        .call(
            "POST",
            &format!("/api/v1/tenants/{TENANT}/payments/{pid}/pay"),
            None,
        )
        .await;
    let back = app
        .pay_at_platform(third["links"]["pay_page"].as_str().unwrap(), "paid", "now")
        .await;
    app.page(&back).await;
    let subs = app.wait_for_submissions(1).await;
    assert_eq!(subs.len(), 1);
    let platform = app.platform_overview().await;
    assert_eq!(platform.len(), 3);
    let charges: u64 = platform
        .iter()
        .map(|p| p["charges"].as_u64().unwrap())
        .sum();
    assert_eq!(charges, 1);
    app.stop().await;
}

async fn a_tampered_or_unsigned_notification_is_refused(app: PayApp) {
    let (_, payment) = app.apply_and_send(1).await;
    let pid = payment["id"].as_str().unwrap().to_string();
    let platform = app.platform_overview().await;
    let body = serde_json::to_vec(&json!({
        "id": platform[0]["id"],
        "reference": platform[0]["request"]["reference"],
        "merchant_id": "HEI-TEST",
        "state": "paid",
        "amount_cents": 3070,
        "method": "giropay",
        "transaction_id": "TX-GEFAELSCHT"
    }))
    .unwrap();
    let url = format!("{}/{TENANT}/zahlung/{pid}/benachrichtigung", app.base);
    let now = app.portal.state().now();
    for sig in [
        None,
        Some(signature::sign(b"falsches-geheimnis-0000000", now, &body)),
        // Signed right, but for another body.
        Some(signature::sign(SECRET, now, b"{}")),
    ] {
        let (url, body, sig) = (url.clone(), body.clone(), sig.clone());
        let a = tokio::task::spawn_blocking(move || {
            let mut h = vec![("Content-Type", "application/json".to_string())];
            if let Some(s) = sig {
                h.push((signature::SIGNATURE_HEADER, s));
            }
            request("POST", &url, &h, &body, Duration::from_secs(10)).unwrap()
        })
        .await
        .unwrap();
        assert_eq!(a.status, 401);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(app.submissions().await.is_empty());
    let (_, v, _) = app
        .call(
            "GET",
            &format!("/api/v1/tenants/{TENANT}/payments/{pid}"),
            None,
        )
        .await;
    assert_eq!(v["state"], "open");
    app.stop().await;
}

async fn late_and_out_of_order_notifications_change_nothing_once_paid(app: PayApp) {
    let (_, payment) = app.apply_and_send(1).await;
    let pid = payment["id"].as_str().unwrap().to_string();
    app.pay_at_platform(&pay_page(&payment), "paid", "out_of_order")
        .await;
    app.wait_for_submissions(1).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (_, v, _) = app
        .call(
            "GET",
            &format!("/api/v1/tenants/{TENANT}/payments/{pid}"),
            None,
        )
        .await;
    assert_eq!(v["state"], "paid", "{v}");
    assert_eq!(app.submissions().await.len(), 1);
    let platform = app.platform_overview().await;
    assert_eq!(platform[0]["notifications_sent"], 2);
    app.stop().await;
}

async fn a_double_click_on_send_makes_one_payment_request(app: PayApp) {
    let (id, payment) = app.apply_and_send(1).await;
    // The same submit again (a double click, a retry): the same payment, no second request.
    let (s, v, _) = app
        .call(
            "POST",
            &format!("/api/v1/tenants/{TENANT}/applications/{id}/submit"),
            Some(json!({"revision": 4, "declaration": ["richtig", "rueckgabe"]})),
        )
        .await;
    assert!(s == 409 || s == 202, "{s} {v}");
    let (_, state, _) = app
        .call(
            "GET",
            &format!("/api/v1/tenants/{TENANT}/applications/{id}"),
            None,
        )
        .await;
    assert_eq!(state["payment"]["id"], payment["id"]);
    assert_eq!(app.platform_overview().await.len(), 1);
    app.stop().await;
}

/// Runs the `lotse` command with `args` on the store of a data folder, or on a PostgreSQL
/// database whose URL it reads from a variable (`--database-url-env`); its output.
async fn lotse_cli(args: &[&str], data: &std::path::Path, pg_url: Option<&str>) -> String {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_lotse"));
    cmd.args(args);
    match pg_url {
        Some(url) => {
            cmd.args(["--database-url-env", "LOTSE_PAY_TEST_DB"])
                .env("LOTSE_PAY_TEST_DB", url);
        }
        None => {
            cmd.arg("--data").arg(data);
        }
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "lotse {args:?}: {text}");
    text
}

/// The log lines of this test binary (JSON, as `lotse serve` writes them), captured from the
/// first call on: the coded lines a case needs are found by its payment id.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf: Arc<Mutex<Vec<u8>>> = Arc::default();
        {
            use tracing_subscriber::layer::SubscriberExt;
            use tracing_subscriber::util::SubscriberInitExt;
            tracing_subscriber::registry()
                .with(lotse_server::telemetry::lines::JsonLines::new(buf.clone()))
                .try_init()
                .expect("no other logger in the test binary");
        }
        buf
    })
    .clone()
}

fn log_lines_with(needle: &str) -> Vec<Value> {
    let logs = captured_logs();
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
    text.lines()
        .filter(|l| l.contains(needle))
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The platform reports the payment paid, but with another amount than requested: never
/// taken as paid. The application reaches the office marked so (the Postkorb's API and page
/// say "nicht bezahlt" with both amounts), the citizen's page says calmly what happens and
/// offers no second payment (the API refuses one, LOT-H023), the receipt prints both
/// amounts, and the coded line `payment_amount_mismatch` (LOT-P005) is logged once.
async fn an_amount_the_platform_reports_differently_is_never_taken_as_paid(app: PayApp) {
    captured_logs();
    let (_, payment) = app.apply_and_send(2).await;
    let pid = payment["id"].as_str().unwrap().to_string();
    assert_eq!(payment["amount_cents"], 6140);
    let back = app
        .pay_at_platform_with(
            &pay_page(&payment),
            &[
                ("methode", "giropay"),
                ("ergebnis", "paid"),
                ("benachrichtigung", "twice"),
                ("betrag_cents", "6000"),
            ],
        )
        .await;
    app.page(&back).await;
    let subs = app.wait_for_submissions(1).await;
    // The notifications (twice, then once more), and the return again, change nothing more.
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.page(&back).await;
    let platform_id = app.platform_overview().await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _, _) = app
        .call(
            "POST",
            &format!(
                "{}/api/v1/zahlungen/{platform_id}/benachrichtigen",
                app.sim_base()
            ),
            None,
        )
        .await;
    assert!(s < 300, "{s}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.reconcile().await, 0, "nothing open is left");
    let subs2 = app.submissions().await;
    assert_eq!(subs2.len(), 1);
    let recorded = paid_of(&subs[0]);
    assert_eq!(recorded["state"], "amount_mismatch", "{recorded}");
    assert_eq!(recorded["amount_cents"], 6140);
    assert_eq!(recorded["reported_amount_cents"], 6000);
    // The payment resource: not paid, and no second payment.
    let (_, v, _) = app
        .call(
            "GET",
            &format!("/api/v1/tenants/{TENANT}/payments/{pid}"),
            None,
        )
        .await;
    assert_eq!(v["state"], "amount_mismatch", "{v}");
    assert_eq!(v["reported_amount_cents"], 6000, "{v}");
    let (s, v, _) = app
        .call(
            "POST",
            &format!("/api/v1/tenants/{TENANT}/payments/{pid}/pay"),
            None,
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (409, Some("LOT-H023")), "{v}");
    let platform = app.platform_overview().await;
    assert_eq!(platform.len(), 1, "no second request at the platform");
    assert_eq!(platform[0]["charges"], 1);
    // The citizen's page: calm, precise, German; no "bezahlt", no button to pay again.
    let html = String::from_utf8_lossy(&app.page(&format!("/{TENANT}/zahlung/{pid}")).await.body)
        .to_string();
    for want in [
        "Wir klären Ihre Zahlung",
        "<strong>Betrag abweichend, nicht bezahlt</strong>",
        "Ihr Antrag ist trotzdem beim Amt angekommen",
        "Bitte bezahlen Sie nicht noch einmal",
        "61,40 €",
        "60,00 €",
    ] {
        assert!(html.contains(want), "{want} not on the page: {html}");
    }
    assert!(!html.contains("<strong>bezahlt</strong>") && !html.contains("Erneut versuchen"));
    // The Postkorb: the state, both amounts and what to do.
    let (token, cookie) = app.case_worker().await;
    let sid = subs[0].id.to_string();
    let (json, page) = app.postkorb(&token, &cookie, &sid).await;
    assert_eq!(json["payment"]["state"], "amount_mismatch", "{json}");
    assert_eq!(json["payment"]["reported_amount_cents"], 6000);
    let warning = json["payment"]["warning"].as_str().unwrap();
    assert!(
        warning.contains("60,00 € statt 61,40 €") && warning.contains("nicht als bezahlt"),
        "{warning}"
    );
    assert!(
        page.contains("Nicht bezahlt:")
            && page.contains("Betrag abweichend, nicht bezahlt")
            && page.contains("60,00 €"),
        "{page}"
    );
    // The receipt prints both amounts and the state.
    if let Some(text) = app.receipt_text(&sid).await {
        for want in ["Betrag abweichend, nicht bezahlt", "61,40 €", "60,00 €"] {
            assert!(text.contains(want), "{want} not in the receipt: {text}");
        }
    }
    // One coded error line for this payment, with both amounts and without personal data.
    let lines: Vec<Value> = log_lines_with(&pid)
        .into_iter()
        .filter(|l| l["event"] == "payment_amount_mismatch")
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["code"], "LOT-P005");
    assert_eq!(lines[0]["level"], "ERROR");
    assert_eq!(lines[0]["expected"], 6140);
    assert_eq!(lines[0]["reported"], 6000);
    assert!(!lines[0].to_string().contains("Hermanns"));
    app.stop().await;
}

/// The office's webhook, at a live HTTP receiver: the delivered submission carries the
/// payment's state, amount, method and transaction id (and the receipt), signed.
async fn the_webhook_delivers_the_payment_to_the_office(backend: Backend) {
    let office = crate::delivery::Office::default();
    let Some(app) = PayApp::spawn_with(
        backend,
        Options {
            office: Some(office.clone()),
            ..Options::default()
        },
    )
    .await
    else {
        return;
    };
    let (_, payment) = app.apply_and_send(2).await;
    app.pay_at_platform(&pay_page(&payment), "paid", "now")
        .await;
    let subs = app.wait_for_submissions(1).await;
    crate::delivery::wait_for("the webhook", Duration::from_secs(30), || {
        !office.received.lock().unwrap().is_empty()
    })
    .await;
    let platform = app.platform_overview().await;
    let got = office.received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert!(got[0].signature_ok, "signed with the tenant's secret");
    assert_eq!(got[0].event, "submission.received");
    let body: Value = serde_json::from_slice(&got[0].body).unwrap();
    let delivered = &body["submission"];
    assert_eq!(delivered["id"], subs[0].id.to_string());
    let paid = &delivered["data"]["payment"];
    assert_eq!(paid["state"], "paid", "{body}");
    assert_eq!(paid["amount_cents"], 6140);
    assert_eq!(paid["currency"], "EUR");
    assert_eq!(paid["method"], "giropay");
    assert_eq!(paid["transaction_id"], platform[0]["transaction_id"]);
    assert_eq!(paid["kassenzeichen"], payment["kassenzeichen"]);
    assert_eq!(*paid, *paid_of(&subs[0]), "as stored");
    app.stop().await;
}

/// A tenant administrator changes the fee rule (an override stored in the settings): the
/// next application is charged exactly the new amount, in cents, over fees that do not add
/// up in binary floating point. For each: the amount of the review (what the citizen sees),
/// the payment's amount, what the platform was asked for, the submission and the receipt.
async fn a_fee_rule_the_tenant_changes_is_the_amount_charged_to_the_cent(app: PayApp) {
    let store = app.portal.store().clone();
    let state = app.portal.state().clone();
    let mut charged = 0;
    for (fee, per_year) in [
        ("10.55", 1055),
        ("0.07", 7),
        ("33.33", 3333),
        ("19.99", 1999),
        ("0.10", 10),
        ("1234.56", 123456),
    ] {
        let rule = format!(
            "tenant: {TENANT}\nworkflow: {WF}\ncomputed:\n  - id: gebuehr_pro_jahr\n    value: \"{fee}\"\n"
        );
        let (store, state) = (store.clone(), state.clone());
        tokio::task::spawn_blocking(move || {
            let (n, mut settings) = lotse_server::settings::read_latest(&store, TENANT, 0)
                .unwrap()
                .unwrap_or_default();
            settings.rules.insert(WF.into(), rule);
            lotse_server::settings::save(&store, TENANT, n, &settings).unwrap();
            assert!(state.poll_settings().unwrap());
        })
        .await
        .unwrap();
        for jahre in [1i64, 2] {
            let want = per_year * jahre;
            let text = lotse_core::payment::format_cents(want, lotse_core::Lang::De);
            let (_, payment) = app.apply_and_send(jahre).await;
            assert_eq!(payment["amount_cents"], want, "{fee} × {jahre}");
            assert_eq!(payment["amount"], text.as_str());
            let pid = payment["id"].as_str().unwrap().to_string();
            let page = app.page(&format!("/{TENANT}/zahlung/{pid}")).await;
            assert!(String::from_utf8_lossy(&page.body).contains(&text));
            app.pay_at_platform(&pay_page(&payment), "paid", "now")
                .await;
            charged += 1;
            let subs = app.wait_for_submissions(charged).await;
            let platform = app.platform_overview().await;
            let asked = platform
                .iter()
                .find(|p| p["request"]["amount_cents"] == want && p["charges"] == 1)
                .unwrap_or_else(|| panic!("{want} not asked for: {platform:?}"));
            assert!(
                asked["request"]["purpose"]
                    .as_str()
                    .unwrap()
                    .contains(payment["kassenzeichen"].as_str().unwrap())
            );
            let sub = subs
                .iter()
                .find(|s| s.data["payment"]["kassenzeichen"] == payment["kassenzeichen"])
                .unwrap();
            assert_eq!(sub.data["payment"]["amount_cents"], want);
            assert_eq!(
                sub.data["computed"]["zu_zahlen"], want,
                "the computed amount"
            );
            if let Some(t) = app.receipt_text(&sub.id.to_string()).await {
                assert!(t.contains(&text), "{text} not in the receipt: {t}");
            }
        }
    }
    app.stop().await;
}

/// A Bewohnerparkausweis paid by SEPA direct debit: the review shows the full mandate text
/// with the tenant's creditor id; the mandate is recorded in the submission (creditor,
/// creditor id, holder, masked IBAN, text, time), printed on the receipt and shown in the
/// Postkorb (API and page); the webhook body carries it with the submission's data.
async fn a_direct_debit_mandate_is_shown_recorded_printed_and_in_the_postkorb(app: PayApp) {
    let api = format!("/api/v1/tenants/{TENANT}");
    let (s, v, _) = app
        .call(
            "POST",
            &format!("{api}/services/{WF}/applications"),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let mut rev = v["revision"].as_u64().unwrap();
    let today = app.portal.state().now().date();
    let beginn = format!(
        "{:04}-{:02}-{:02}",
        today.year(),
        u8::from(today.month()),
        today.day()
    );
    for (step, values) in [
        (
            "antragsteller",
            json!({
                "person": {"anrede": "Frau", "vorname": "Lena", "nachname": "Schmitz", "geburtsdatum": "1985-02-11"},
                "meldeadresse": {"strasse": "Apfelstraße", "hausnummer": "3", "plz": "52525", "ort": "Heinsberg"},
                "kontakt": {"email": "lena.schmitz@example.org"},
                "zone": "A",
                "wohnt_in_zone": true
            }),
        ),
        (
            "fahrzeug",
            json!({"fahrzeug": {"kennzeichen": "HS-LS 3", "hersteller": "Opel", "modell": "Corsa", "fahrzeugart": "Pkw", "halter_art": "privat"}, "auf_sie_zugelassen": "ja"}),
        ),
        ("gueltigkeit", json!({"jahre": 1, "beginn": beginn})),
        (
            "zahlung",
            json!({"zahlungsart": "lastschrift", "konto": {"kontoinhaber": "Lena Schmitz", "iban": "DE89370400440532013000"}}),
        ),
    ] {
        let (s, v, _) = app
            .call(
                "PUT",
                &format!("{api}/applications/{id}/steps/{step}"),
                Some(json!({"revision": rev, "values": values})),
            )
            .await;
        assert_eq!(s, 200, "{step}: {v}");
        rev = v["revision"].as_u64().unwrap();
    }
    // The review shows the full mandate text with the creditor id, before sending.
    let mandate_text = "Ich ermächtige Stadt Heinsberg, Zahlungen von meinem Konto mittels Lastschrift einzuziehen.";
    let (s, review, _) = app
        .call(
            "POST",
            &format!("{api}/applications/{id}/review"),
            Some(json!({"revision": rev})),
        )
        .await;
    assert_eq!(s, 200, "{review}");
    let shown = &review["sepa_mandate"];
    assert_eq!(shown["creditor_id"], "DE98ZZZ09999999999", "{review}");
    assert_eq!(shown["title"], "SEPA-Lastschriftmandat");
    assert!(
        shown["paragraphs"][0]
            .as_str()
            .unwrap()
            .starts_with(mandate_text)
    );
    assert!(
        shown["paragraphs"][1]
            .as_str()
            .unwrap()
            .starts_with("Hinweis: Ich kann innerhalb von acht Wochen")
    );
    rev = review["revision"].as_u64().unwrap_or(rev);
    let (s, v, _) = app
        .call(
            "POST",
            &format!("{api}/applications/{id}/submit"),
            Some(json!({"revision": rev, "declaration": ["richtig", "rueckgabe"]})),
        )
        .await;
    assert_eq!(s, 201, "no online payment with a direct debit: {v}");
    let subs = app.wait_for_submissions(1).await;
    let sub = &subs[0];
    assert!(sub.data.get("payment").is_none(), "nothing paid online");
    let m = &sub.data["sepa_mandate"];
    assert_eq!(m["title"], "SEPA-Lastschriftmandat", "{m}");
    assert_eq!(m["creditor"], "Stadt Heinsberg");
    assert_eq!(m["creditor_id"], "DE98ZZZ09999999999");
    assert_eq!(m["holder"], "Lena Schmitz");
    assert_eq!(m["iban"], "DE89 …3000");
    assert!(
        m["text"][0].as_str().unwrap().starts_with(mandate_text),
        "{m}"
    );
    assert!(m["text"][1].as_str().unwrap().contains("acht Wochen"));
    assert!(m["given_at"].is_string());
    let reference = sub.reference.to_string();
    // The receipt.
    let sid = sub.id.to_string();
    if let Some(t) = app.receipt_text(&sid).await {
        let flat = t.split_whitespace().collect::<Vec<_>>().join(" ");
        for want in [
            "SEPA-Lastschriftmandat",
            "DE98ZZZ09999999999",
            "Mandatsreferenz",
            reference.as_str(),
            "DE89 …3000",
            "Ich ermächtige Stadt Heinsberg",
        ] {
            assert!(flat.contains(want), "{want} not in the receipt: {flat}");
        }
    }
    // The Postkorb.
    let (token, cookie) = app.case_worker().await;
    let (json, page) = app.postkorb(&token, &cookie, &sid).await;
    assert_eq!(
        json["mandate"]["creditor_id"], "DE98ZZZ09999999999",
        "{json}"
    );
    assert_eq!(json["mandate"]["reference"], reference.as_str());
    assert_eq!(json["mandate"]["iban"], "DE89 …3000");
    for want in [
        "SEPA-Lastschriftmandat",
        "Gläubiger-Identifikationsnummer",
        "DE98ZZZ09999999999",
        "Mandatsreferenz",
        mandate_text,
    ] {
        assert!(page.contains(want), "{want} not in the Postkorb: {page}");
    }
    // The webhook body is the stored submission: the mandate comes with it.
    let body = lotse_server::delivery::submission_json(sub).unwrap();
    let delivered: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(delivered["data"]["sepa_mandate"], *m);
    app.stop().await;
}

/// `lotse export` on one backend and `lotse import` on the other carry payments: a settled one
/// (still paid, its submission still linked, never requested again) and one in flight (paid
/// at the platform while Lotse was moving: the reconciliation job of the new Lotse finds it and
/// hands it to the office). One charge per application over it all.
async fn payments_move_with_export_and_import(from: Backend, to: Backend) {
    let Some(app) = PayApp::spawn(from).await else {
        return;
    };
    let (_, settled) = app.apply_and_send(1).await;
    app.pay_at_platform(&pay_page(&settled), "paid", "now")
        .await;
    app.wait_for_submissions(1).await;
    let (_, in_flight) = app.apply_and_send(2).await;
    let files = tempfile::tempdir().unwrap();
    let (export, sim) = app.export_after_stop(files.path()).await;
    let text = std::fs::read_to_string(&export).unwrap();
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("{\"tree\":\"payments\""))
            .count(),
        2,
        "both payments are in the export"
    );
    let Some(moved) = PayApp::spawn_with(
        to,
        Options {
            import: Some(export),
            sim,
            ..Options::default()
        },
    )
    .await
    else {
        return;
    };
    assert_eq!(moved.submissions().await.len(), 1);
    // The settled payment: paid, linked to its submission, no second payment.
    let sid = settled["id"].as_str().unwrap();
    let (s, v, _) = moved
        .call(
            "GET",
            &format!("/api/v1/tenants/{TENANT}/payments/{sid}"),
            None,
        )
        .await;
    assert_eq!((s, v["state"].as_str()), (200, Some("paid")), "{v}");
    let (s, v, _) = moved
        .call(
            "POST",
            &format!("/api/v1/tenants/{TENANT}/payments/{sid}/pay"),
            None,
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (409, Some("LOT-H020")), "{v}");
    // The payment in flight: its pay page still works; the notification goes to the old
    // address (never arrives); the reconciliation job delivers it.
    let fid = in_flight["id"].as_str().unwrap();
    let (_, v, _) = moved
        .call(
            "GET",
            &format!("/api/v1/tenants/{TENANT}/payments/{fid}"),
            None,
        )
        .await;
    assert_eq!(v["state"], "open", "{v}");
    assert_eq!(v["amount_cents"], 6140);
    moved
        .pay_at_platform(&pay_page(&in_flight), "paid", "never")
        .await;
    assert!(moved.reconcile().await >= 1);
    let subs = moved.wait_for_submissions(2).await;
    assert!(
        subs.iter()
            .any(|s| s.data["payment"]["amount_cents"] == 6140
                && s.data["payment"]["state"] == "paid")
    );
    let charges: u64 = moved
        .platform_overview()
        .await
        .iter()
        .map(|p| p["charges"].as_u64().unwrap())
        .sum();
    assert_eq!(charges, 2);
    moved.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_move_from_sled_to_postgres_with_export_and_import() {
    payments_move_with_export_and_import(Backend::Sled, Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_move_from_postgres_to_sled_with_export_and_import() {
    payments_move_with_export_and_import(Backend::Postgres, Backend::Sled).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_delivers_the_payment_to_the_office_on_sled() {
    the_webhook_delivers_the_payment_to_the_office(Backend::Sled).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_delivers_the_payment_to_the_office_on_postgres() {
    the_webhook_delivers_the_payment_to_the_office(Backend::Postgres).await;
}

macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sled {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let app = super::PayApp::spawn(super::Backend::Sled).await.unwrap();
                    super::$case(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(app) = super::PayApp::spawn(super::Backend::Postgres).await else {
                        return;
                    };
                    super::$case(app).await;
                }
            )*
        }
    };
}

on_both_backends!(
    a_paid_application_reaches_the_office_once_with_amount_method_and_transaction,
    a_citizen_who_closes_the_browser_on_the_pay_page_still_reaches_the_office,
    without_return_or_notification_the_reconciliation_job_finds_the_payment,
    cancelled_and_failed_payments_never_reach_the_office_and_can_be_tried_again,
    a_tampered_or_unsigned_notification_is_refused,
    late_and_out_of_order_notifications_change_nothing_once_paid,
    a_double_click_on_send_makes_one_payment_request,
    an_amount_the_platform_reports_differently_is_never_taken_as_paid,
    a_fee_rule_the_tenant_changes_is_the_amount_charged_to_the_cent,
    a_direct_debit_mandate_is_shown_recorded_printed_and_in_the_postkorb,
);
